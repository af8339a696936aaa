// Command-line options for the `ddsp` command: a declared set of --flags per command, parsed
// strictly (unknown flags, missing values, repeated flags, stray arguments and malformed numbers
// are usage errors: exit code 2 with one line on stderr).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ddsp::cli {

enum ExitCode { kExitOk = 0, kExitFailure = 1, kExitUsage = 2 };

struct OptionSpec {
    const char* name;   // "--synth" (and an optional short alias below)
    const char* alias;  // "-o" or nullptr
    bool takes_value;
    const char* help;   // one line for --help; the value's placeholder is in the name column
    const char* value_name = "";
};

struct CommandSpec {
    const char* name;
    const char* usage;    // one line after "usage: ddsp "
    const char* summary;  // a paragraph for --help
    std::vector<OptionSpec> options;
    int positionals = 0;  // plain arguments accepted (e.g. `kad DIR_A DIR_B`: 2), in order
};

class Args {
public:
    // Returns false with a one-line error on a usage error. `help` is set for --help / -h.
    bool parse(const CommandSpec& spec, int argc, char** argv, std::string& error);
    bool help = false;

    bool has(const std::string& name) const { return values_.count(name) != 0; }
    const std::vector<std::string>& positional() const { return positional_; }
    std::string str(const std::string& name, const std::string& fallback = "") const;

    // Typed getters: false with a one-line error if present but malformed or out of range. Absent
    // options leave `out` untouched and succeed.
    bool get_double(const std::string& name, double& out, double lo, double hi, std::string& error) const;
    bool get_int(const std::string& name, int& out, long long lo, long long hi, std::string& error) const;
    bool get_u64(const std::string& name, uint64_t& out, std::string& error) const;
    // Fails with "missing --name" if absent.
    bool require(const std::string& name, std::string& error) const;

private:
    std::map<std::string, std::string> values_;
    std::vector<std::string> positional_;
};

void print_help(const CommandSpec& spec);

// Strict number parsing (whole string, finite).
bool parse_double(const std::string& text, double& out);
bool parse_int(const std::string& text, long long& out);

}  // namespace ddsp::cli
