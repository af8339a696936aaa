// Parameter files (see params_json.h).
#include "match/params_json.h"

#include "util/file.h"
#include "util/text.h"

#include <algorithm>

namespace ddsp::match {

using util::JsonValue;
using util::json_number;
using util::json_parse;
using util::json_quote;
using util::json_type_name;
using util::read_text_file;
using util::write_text_file;

// [SECTION] parameter files

bool params_parse(const std::string& text, ParamFile& out, std::string& error) {
    out = ParamFile();
    JsonValue root;
    if (!json_parse(text, root, error)) return false;
    if (root.type != JsonValue::Type::object) {
        error = "parameter file: the top level must be an object, not " + std::string(json_type_name(root.type));
        return false;
    }
    bool have_params = false;
    for (const auto& [key, v] : root.object) {
        if (key == "synth") {
            if (v.type != JsonValue::Type::string || v.string.empty()) {
                error = "parameter file: \"synth\" must be a non-empty string";
                return false;
            }
            out.synth = v.string;
        } else if (key == "sample_rate" || key == "seconds") {
            if (v.type != JsonValue::Type::number || !(v.number > 0)) {
                error = "parameter file: \"" + key + "\" must be a positive number";
                return false;
            }
            (key == "seconds" ? out.seconds : out.sample_rate_hz) = v.number;
        } else if (key == "params") {
            if (v.type != JsonValue::Type::object) {
                error = "parameter file: \"params\" must be an object, not " + std::string(json_type_name(v.type));
                return false;
            }
            have_params = true;
            for (const auto& [name, pv] : v.object) {
                std::vector<double>& vals = out.values[name];
                if (pv.type == JsonValue::Type::number) {
                    vals.push_back(pv.number);
                    out.scalar_names.insert(name);
                    continue;
                }
                bool ok = pv.type == JsonValue::Type::array && !pv.array.empty();
                for (const JsonValue& e : pv.array) {
                    ok = ok && e.type == JsonValue::Type::number;
                    if (ok) vals.push_back(e.number);
                }
                if (!ok) {
                    error = "parameter file: parameter " + util::quote_input(name) + " must be a number or a non-empty array of numbers";
                    return false;
                }
            }
        } else if (key == "options") {
            if (v.type != JsonValue::Type::object) {
                error = "parameter file: \"options\" must be an object, not " + std::string(json_type_name(v.type));
                return false;
            }
            for (const auto& [name, ov] : v.object) {
                if (ov.type != JsonValue::Type::number) {
                    error = "parameter file: option " + util::quote_input(name) + " must be a number";
                    return false;
                }
                out.options[name] = ov.number;
            }
        } else {
            error = "parameter file: unknown key " + util::quote_input(key) + " (expected synth, sample_rate, seconds, options, params)";
            return false;
        }
    }
    if (out.synth.empty()) {
        error = "parameter file: missing \"synth\"";
        return false;
    }
    if (!have_params) {
        error = "parameter file: missing \"params\"";
        return false;
    }
    return true;
}

bool params_read_file(const std::string& path, ParamFile& out, std::string& error) {
    std::string text;
    if (!read_text_file(path, text, error)) return false;
    if (!params_parse(text, out, error)) {
        error = path + ": " + error;
        return false;
    }
    return true;
}

bool params_validate(const ParamFile& file, const std::string& synth_name, const std::vector<synth::ParamSpec>& table,
                     Vec& u, std::string& error) {
    if (file.synth != synth_name) {
        error = "the parameters are for synth " + util::quote_input(file.synth) + ", not " + util::quote_input(synth_name);
        return false;
    }
    return synth::to_unconstrained(table, file.values, u, error);
}

std::string params_to_json(const std::string& synth_name, double sample_rate_hz, double seconds,
                           const synth::ParamValues& values, const std::vector<synth::ParamSpec>& table,
                           const synth::SynthOptions* options) {
    std::string out = "{\n  \"synth\": " + json_quote(synth_name) + ",\n";
    if (sample_rate_hz > 0) out += "  \"sample_rate\": " + json_number(sample_rate_hz) + ",\n";
    if (seconds > 0) out += "  \"seconds\": " + json_number(seconds) + ",\n";
    if (options && !options->empty()) {
        out += "  \"options\": {";
        bool first_option = true;
        for (const auto& [name, v] : *options) {
            out += (first_option ? "" : ", ") + json_quote(name) + ": " + json_number(v);
            first_option = false;
        }
        out += "},\n";
    }
    out += "  \"params\": {";
    bool first = true;
    for (const synth::ParamSpec& p : table) {
        auto it = values.find(p.name);
        if (it == values.end()) continue;
        out += first ? "\n    " : ",\n    ";
        first = false;
        out += json_quote(p.name) + ": ";
        const std::vector<double>& v = it->second;
        const auto num = [&](double x) { return json_number(std::clamp(x, p.min_value, p.max_value)); };
        if (p.size == 1 && v.size() == 1) {
            out += num(v[0]);
            continue;
        }
        out += "[";
        for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + num(v[i]);
        out += "]";
    }
    out += first ? "}\n}\n" : "\n  }\n}\n";
    return out;
}

bool params_write_file(const std::string& path, const std::string& synth_name, double sample_rate_hz, double seconds,
                       const synth::ParamValues& values, const std::vector<synth::ParamSpec>& table,
                       std::string& error, const synth::SynthOptions* options) {
    return write_text_file(path, params_to_json(synth_name, sample_rate_hz, seconds, values, table, options), error);
}

}  // namespace ddsp::match
