// `ddsp landscape`: the loss over a grid of two parameters, the others fixed. The grid itself is
// computed by match::Landscape (src/match/landscape.h), which the studio's worker uses too; this
// file reads the options and writes the CSV, PNG and JSON.
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/plot.h"

#include "match/landscape.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ddsp::cli {

namespace {

// An axis by name, its range from `range_option` (LO:HI inside the parameter's range) or the
// whole range, and its grid.
bool make_axis(const std::string& text, const std::vector<synth::ParamSpec>& table, const Args& args,
               const std::string& range_option, int steps, match::LandscapeAxis& axis, std::string& error) {
    if (!match::landscape_axis(text, table, axis, error)) return false;
    const synth::ParamSpec& p = table[size_t(axis.param)];
    double lo = p.min_value, hi = p.max_value;
    if (args.has(range_option)) {
        const std::string r = args.str(range_option);
        const std::size_t sep = r.find(':', 1);
        if (sep == std::string::npos || !parse_double(r.substr(0, sep), lo) || !parse_double(r.substr(sep + 1), hi) ||
            !(lo < hi) || lo < p.min_value || hi > p.max_value) {
            error = range_option + ": '" + r + "' is not LO:HI with " + fmt("%g", p.min_value) + " <= LO < HI <= " +
                    fmt("%g", p.max_value);
            return false;
        }
    }
    match::landscape_axis_grid(axis, table, steps, lo, hi);
    return true;
}

}  // namespace

int cmd_landscape(int argc, char** argv) {
    static const CommandSpec spec = {
        "landscape",
        "landscape --synth S --x NAME[:INDEX] --y NAME[:INDEX] (--target T.wav | --target-params P2.json)\n"
        "                  [--params P.json] [--steps N] [--loss L] -o DIR",
        "Evaluates the loss over an N x N grid of two parameters (the others fixed at P.json's values, or the\n"
        "synth's initial guess) and writes DIR/landscape.csv (x,y,loss, one row per grid point, y outer),\n"
        "DIR/landscape.png (heatmap of log loss; white cross: grid minimum; red ring: the target's values\n"
        "when --target-params gives them) and DIR/landscape.json (axes, minimum). Grid points are spaced\n"
        "per each parameter's scale (geometric for log parameters) over its range or --x-range/--y-range.\n"
        "NAME alone on a vector parameter moves all its values together; NAME:INDEX moves one. A target\n"
        "from --target-params is rendered by the same synth (without analysis) for --seconds (default:\n"
        "P2.json's seconds, else the synth's default).",
        {
            {"--synth", nullptr, true, "synth name; optional if a parameter file names one", "S"},
            {"--x", nullptr, true, "parameter on the horizontal axis", "NAME[:INDEX]"},
            {"--y", nullptr, true, "parameter on the vertical axis", "NAME[:INDEX]"},
            {"--target", nullptr, true, "target recording (WAV)", "T.wav"},
            {"--target-params", nullptr, true, "render the target from these parameters instead", "P2.json"},
            {"--params", nullptr, true, "values of the other parameters", "P.json"},
            {"--steps", nullptr, true, "grid points per axis (default 41, 2..401)", "N"},
            {"--x-range", nullptr, true, "x range inside the parameter's range", "LO:HI"},
            {"--y-range", nullptr, true, "y range inside the parameter's range", "LO:HI"},
            {"--loss", nullptr, true, "mrstft (default), linear, diffks or timbre (808 paper features)", "L"},
            {"--seed", nullptr, true, "seed of the synth's noise sources (default 0)", "K"},
            {"--sr", nullptr, true, "synth sample rate in Hz", "HZ"},
            {"--seconds", nullptr, true, "duration of a --target-params target (0.01..60)", "T"},
            {"--max-seconds", nullptr, true, "use at most this much of a --target recording", "T"},
            {"--threads", nullptr, true, "threads (default: every core)", "N"},
            {"--output", "-o", true, "output directory (created if needed)", "DIR"},
        }};
    const char* cmd = "landscape";
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;

    std::string error;
    int steps = 41, sr_check = 0, threads = 0;
    uint64_t seed = 0;
    double seconds = 0, max_check = 0;
    match::LossKind kind;
    if (!args.get_int("--steps", steps, 2, 401, error) || !args.get_int("--sr", sr_check, 1000, 384000, error) ||
        !args.get_int("--threads", threads, 1, 256, error) || !args.get_u64("--seed", seed, error) ||
        !args.get_double("--seconds", seconds, 0.01, 60, error) ||
        !args.get_double("--max-seconds", max_check, 0.01, 600, error) || !choose_loss(args, kind, error) ||
        !args.require("--x", error) || !args.require("--y", error) || !args.require("--output", error))
        return fail(cmd, error, kExitUsage);
    if (args.has("--target") == args.has("--target-params"))
        return fail(cmd, "give one of --target and --target-params", kExitUsage);

    // The synth: from --synth, --params or --target-params (which must agree).
    match::ParamFile target_file;
    const bool from_params = args.has("--target-params");
    if (from_params && !match::params_read_file(args.str("--target-params"), target_file, error)) return fail(cmd, error);
    SynthChoice choice;
    if (!args.has("--synth") && !args.has("--params") && from_params) {
        choice.name = target_file.synth;
        choice.synth = synth::make_synth(choice.name);
        if (!choice.synth) return fail(cmd, "unknown synth '" + choice.name + "'");
    } else if (!choose_synth(args, "--params", choice, error)) {
        return fail(cmd, error);
    }
    if (from_params && target_file.synth != choice.name)
        return fail(cmd, "'" + args.str("--target-params") + "' holds parameters for synth '" + target_file.synth +
                             "', not '" + choice.name + "'");
    int sr = 0;
    if (!choice.have_file && from_params && target_file.sample_rate_hz > 0 && !args.has("--sr")) {
        choice.file.sample_rate_hz = target_file.sample_rate_hz;  // the rate the target was made for
        choice.have_file = true;
        choice.file.synth = choice.name;
    }
    if (!choose_sample_rate(args, choice, sr, error)) return fail(cmd, error);

    // The target.
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = sr;
    cfg.seed = seed;
    Vec target;
    if (from_params) {
        if (!args.has("--seconds"))
            seconds = target_file.seconds > 0 ? target_file.seconds : choice.synth->default_seconds();
        if (!(seconds > 0 && seconds <= 60)) return fail(cmd, "duration " + fmt("%g", seconds) + " s is outside (0, 60]");
        cfg.num_samples = std::max(64, int(std::lround(seconds * sr)));
        auto renderer = synth::make_synth(choice.name);
        if (!synth::render(*renderer, target_file.values, cfg, target, error))
            return fail(cmd, args.str("--target-params") + ": " + error);
    } else {
        double max_seconds = 0;
        if (!choose_max_seconds(args, *choice.synth, max_seconds, error)) return fail(cmd, error);
        if (!load_target(cmd, args.str("--target"), sr, max_seconds, target, error)) return fail(cmd, error);
        cfg.num_samples = int(target.size());
        if (!choice.synth->analyse_target(target, cfg, error)) return fail(cmd, args.str("--target") + ": " + error);
    }
    const std::vector<synth::ParamSpec> table = choice.synth->param_table(cfg);

    // The fixed parameters and the axes.
    Vec u0;
    if (args.has("--params")) {
        if (!match::params_validate(choice.file, choice.name, table, u0, error))
            return fail(cmd, args.str("--params") + ": " + error);
    } else if (!synth::to_unconstrained(table, choice.synth->initial_values(cfg), u0, error)) {
        return fail(cmd, error);
    }
    match::LandscapeAxis ax, ay;
    if (!make_axis(args.str("--x"), table, args, "--x-range", steps, ax, error) ||
        !make_axis(args.str("--y"), table, args, "--y-range", steps, ay, error))
        return fail(cmd, error);
    for (int d : ax.dims)
        if (std::find(ay.dims.begin(), ay.dims.end(), d) != ay.dims.end())
            return fail(cmd, "--x and --y overlap (" + ax.label + ", " + ay.label + ")");

    // Evaluate (rows split over threads; every point's loss is independent of the thread count).
    match::LandscapeSetup setup;
    setup.synth_name = choice.name;
    setup.cfg = cfg;
    setup.target = target;
    setup.analyse = !from_params;
    setup.loss = kind;
    setup.u0 = u0;
    match::Landscape landscape;
    if (!landscape.init(setup, ax, ay, error)) return fail(cmd, error);
    landscape.run(threads);
    const std::vector<double>& loss = landscape.loss();

    // Outputs.
    const std::string dir = args.str("--output");
    if (!util::make_dir(dir, error)) return fail(cmd, error);
    std::string csv = "x,y,loss\n";
    size_t best = 0;
    for (int yi = 0; yi < steps; ++yi)
        for (int xi = 0; xi < steps; ++xi) {
            const size_t k = size_t(yi) * size_t(steps) + size_t(xi);
            if (loss[k] < loss[best]) best = k;
            csv += util::json_number(ax.values[size_t(xi)]) + "," + util::json_number(ay.values[size_t(yi)]) + "," +
                   (std::isfinite(loss[k]) ? fmt("%.9g", loss[k]) : std::string("inf")) + "\n";
        }
    if (!util::write_text_file(dir + "/landscape.csv", csv, error)) return fail(cmd, error);

    LandscapeData ld;
    ld.x_name = ax.label;
    ld.y_name = ay.label;
    ld.xs = ax.values;
    ld.ys = ay.values;
    ld.x_log = ax.log;
    ld.y_log = ay.log;
    ld.loss = loss;
    ld.title = "ddsp landscape: " + choice.name + ", " + match::loss_name(kind) + " loss";
    if (from_params) {
        // The target's own values on the two axes (missing names are defaults; a vector axis
        // without an index is marked only if all its values are equal).
        auto value_of = [&](const match::LandscapeAxis& a, double& v) {
            const synth::ParamSpec& p = table[size_t(a.param)];
            const int offset = synth::table_offsets(table)[size_t(a.param)];
            auto it = target_file.values.find(p.name);
            if (it == target_file.values.end() || it->second.empty()) {
                v = p.default_value;
                return true;
            }
            const std::vector<double>& vals = it->second;
            const auto at = [&](int d) { return vals.size() == 1 ? vals[0] : vals[size_t(d - offset)]; };
            v = at(a.dims[0]);
            for (int d : a.dims)
                if (at(d) != v) return false;
            return true;
        };
        ld.has_target = value_of(ax, ld.target_x) && value_of(ay, ld.target_y);
    }
    if (!plot_landscape(dir + "/landscape.png", ld, error)) return fail(cmd, error);

    const double bx = ax.values[best % size_t(steps)], by = ay.values[best / size_t(steps)];
    std::string meta = "{\n  \"synth\": " + util::json_quote(choice.name) + ",\n  \"loss_kind\": " +
                       util::json_quote(match::loss_name(kind)) + ",\n  \"sample_rate\": " + std::to_string(sr) +
                       ",\n  \"samples\": " + std::to_string(cfg.num_samples) + ",\n  \"x\": " + util::json_quote(ax.label) +
                       ",\n  \"y\": " + util::json_quote(ay.label) + ",\n  \"steps\": " + std::to_string(steps) +
                       ",\n  \"minimum\": {\"x\": " + util::json_number(bx) + ", \"y\": " + util::json_number(by) +
                       ", \"loss\": " + util::json_number(loss[best]) + "}";
    if (ld.has_target)
        meta += ",\n  \"target\": {\"x\": " + util::json_number(ld.target_x) + ", \"y\": " +
                util::json_number(ld.target_y) + "}";
    meta += "\n}\n";
    if (!util::write_text_file(dir + "/landscape.json", meta, error)) return fail(cmd, error);
    note(cmd, std::to_string(steps) + " x " + std::to_string(steps) + " grid; minimum loss " + fmt("%.5g", loss[best]) +
                  " at " + ax.label + " = " + fmt("%.6g", bx) + ", " + ay.label + " = " + fmt("%.6g", by) + "; wrote " +
                  dir + "/landscape.{csv,png,json}");
    return kExitOk;
}

}  // namespace ddsp::cli
