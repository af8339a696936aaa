#include "cli/args.h"

#include "util/json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ddsp::cli {

bool parse_double(const std::string& text, double& out) { return util::parse_real(text, out); }

bool parse_int(const std::string& text, long long& out) { return util::parse_integer(text, out); }

namespace {

const OptionSpec* find_option(const CommandSpec& spec, const std::string& arg) {
    for (const OptionSpec& o : spec.options)
        if (arg == o.name || (o.alias && arg == o.alias)) return &o;
    return nullptr;
}

std::string clip(const std::string& s) { return s.size() > 60 ? s.substr(0, 60) + "..." : s; }

}  // namespace

bool Args::parse(const CommandSpec& spec, int argc, char** argv, std::string& error) {
    values_.clear();
    positional_.clear();
    help = false;
    for (int i = 0; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            help = true;
            return true;
        }
        // --name=value
        std::string inline_value;
        bool has_inline = false;
        if (arg.rfind("--", 0) == 0) {
            const std::size_t eq = arg.find('=');
            if (eq != std::string::npos) {
                inline_value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
                has_inline = true;
            }
        }
        const OptionSpec* o = find_option(spec, arg);
        if (!o && !arg.empty() && arg[0] != '-' && int(positional_.size()) < spec.positionals) {
            positional_.push_back(arg);
            continue;
        }
        if (!o) {
            error = (arg.size() > 1 && arg[0] == '-' ? "unknown option '" : "unexpected argument '") + clip(arg) +
                    "' (see ddsp " + spec.name + " --help)";
            return false;
        }
        if (values_.count(o->name)) {
            error = std::string("option ") + o->name + " given twice";
            return false;
        }
        if (!o->takes_value) {
            if (has_inline) {
                error = std::string("option ") + o->name + " takes no value";
                return false;
            }
            values_[o->name] = "1";
            continue;
        }
        if (has_inline) {
            values_[o->name] = inline_value;
        } else {
            // "--seconds -o x.wav": the next token is another option, not this one's value.
            if (i + 1 >= argc || (argv[i + 1][0] == '-' && find_option(spec, argv[i + 1]))) {
                error = std::string("option ") + o->name + " needs a value";
                return false;
            }
            values_[o->name] = argv[++i];
        }
        if (values_[o->name].empty()) {
            error = std::string("option ") + o->name + " needs a non-empty value";
            return false;
        }
    }
    return true;
}

std::string Args::str(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

bool Args::require(const std::string& name, std::string& error) const {
    if (has(name)) return true;
    error = "missing " + name;
    return false;
}

bool Args::get_double(const std::string& name, double& out, double lo, double hi, std::string& error) const {
    auto it = values_.find(name);
    if (it == values_.end()) return true;
    double v;
    if (!parse_double(it->second, v)) {
        error = name + ": '" + clip(it->second) + "' is not a number";
        return false;
    }
    if (v < lo || v > hi) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%s: %g is outside [%g, %g]", name.c_str(), v, lo, hi);
        error = buf;
        return false;
    }
    out = v;
    return true;
}

bool Args::get_int(const std::string& name, int& out, long long lo, long long hi, std::string& error) const {
    auto it = values_.find(name);
    if (it == values_.end()) return true;
    long long v;
    if (!parse_int(it->second, v)) {
        error = name + ": '" + clip(it->second) + "' is not an integer";
        return false;
    }
    if (v < lo || v > hi) {
        error = name + ": " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
        return false;
    }
    out = int(v);
    return true;
}

bool Args::get_u64(const std::string& name, uint64_t& out, std::string& error) const {
    auto it = values_.find(name);
    if (it == values_.end()) return true;
    const std::string& s = it->second;
    bool ok = !s.empty() && s.size() <= 20;
    for (char c : s) ok = ok && c >= '0' && c <= '9';
    errno = 0;
    const unsigned long long v = ok ? std::strtoull(s.c_str(), nullptr, 10) : 0;
    if (!ok || errno == ERANGE) {
        error = name + ": '" + clip(s) + "' is not a non-negative integer";
        return false;
    }
    out = uint64_t(v);
    return true;
}

void print_help(const CommandSpec& spec) {
    std::printf("usage: ddsp %s\n\n%s\n\noptions:\n", spec.usage, spec.summary);
    for (const OptionSpec& o : spec.options) {
        std::string left = std::string(o.alias ? std::string(o.alias) + ", " : "") + o.name;
        if (o.takes_value) left += std::string(" ") + (o.value_name[0] ? o.value_name : "X");
        std::printf("  %-28s %s\n", left.c_str(), o.help);
    }
    std::printf("  %-28s %s\n", "-h, --help", "show this help");
}

}  // namespace ddsp::cli
