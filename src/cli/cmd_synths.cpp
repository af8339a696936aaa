// `ddsp synths`: every registered synth and its parameter table in its default configuration.
#include "cli/commands.h"
#include "cli/common.h"

#include <cmath>
#include <cstdio>

namespace ddsp::cli {

int cmd_synths(int argc, char** argv) {
    static const CommandSpec spec = {
        "synths", "synths",
        "Prints a JSON array with every synth: name, description, default sample rate and duration, and its parameter\n"
        "table (name, unit, min, max, default, scale, size, global, description) for that configuration.\n"
        "Parameter files (render, loss, match) use these names and physical units.",
        {}};
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;

    std::string out = "[";
    bool first = true;
    for (const std::string& name : synth::synth_names()) {
        auto s = synth::make_synth(name);
        if (!s) return fail("synths", "synth '" + name + "' is registered but cannot be made");
        synth::SynthConfig cfg;
        cfg.sample_rate_hz = s->default_sample_rate_hz();
        cfg.num_samples = int(std::lround(s->default_seconds() * cfg.sample_rate_hz));
        out += first ? "\n  " : ",\n  ";
        first = false;
        out += "{\"name\": " + match::json_quote(name) + ", \"description\": " + match::json_quote(s->description()) +
               ", \"sample_rate\": " + match::json_number(cfg.sample_rate_hz) +
               ", \"seconds\": " + match::json_number(s->default_seconds()) + ", \"params\": [";
        const auto table = s->param_table(cfg);
        for (size_t i = 0; i < table.size(); ++i) {
            const synth::ParamSpec& p = table[i];
            out += std::string(i ? "," : "") + "\n    {\"name\": " + match::json_quote(p.name) +
                   ", \"unit\": " + match::json_quote(p.unit) + ", \"min\": " + match::json_number(p.min_value) +
                   ", \"max\": " + match::json_number(p.max_value) +
                   ", \"default\": " + match::json_number(p.default_value) +
                   ", \"scale\": " + (p.scale == ad::Scale::log ? "\"log\"" : "\"linear\"") +
                   ", \"size\": " + std::to_string(p.size) + ", \"global\": " + (p.global ? "true" : "false") +
                   ", \"description\": " + match::json_quote(p.description) + "}";
        }
        out += "\n  ]}";
    }
    out += "\n]\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace ddsp::cli
