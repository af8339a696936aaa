// `ddsp synths`: every registered synth and its parameter table in its default configuration.
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/synth_job.h"

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

    const std::string out = engine::synths_json();  // the same JSON the worker hands to the page
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace ddsp::cli
