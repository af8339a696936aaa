// `ddsp loss`: the matching loss of a parameter file against a target recording, and optionally
// its gradient with respect to the values as written in the file.
//
// The synth is built on a tape from u (the unconstrained vector), so the tape gives d loss / d u.
// A value x written in the file maps to u by x = bounded(u), hence d loss / d x = (d loss / d u) /
// (d x / d u) (synth::physical_derivative). A single number written for a vector parameter fills
// every element, so its gradient is the sum over the elements. The result can be checked by
// central differences of `ddsp loss` itself on edited copies of the file.
#include "cli/commands.h"
#include "cli/common.h"

#include <cmath>
#include <cstdio>

namespace ddsp::cli {

int cmd_loss(int argc, char** argv) {
    static const CommandSpec spec = {
        "loss",
        "loss --synth S --params P.json --target T.wav [--grad] [--seed K] [--loss mrstft|linear|diffks] [--sr HZ]",
        "Prints {\"loss\": x} as JSON, with --grad {\"loss\": x, \"grad\": {name: value or [values]}}: the gradient\n"
        "with respect to the values written in P.json (same names and shapes; parameters the file leaves\n"
        "out are at their defaults and listed with their table size). The target is read, downmixed,\n"
        "cut to --max-seconds (default max(synth default, 4 s)) and resampled to the synth's rate (--sr,\n"
        "else P.json's sample_rate, else the synth's default); the synth renders the target's length.\n"
        "Synths that analyse recordings (ks, ddsp) analyse the target first, exactly as ddsp match does.",
        {
            {"--synth", nullptr, true, "synth name; optional if P.json names one", "S"},
            {"--params", nullptr, true, "parameter file (JSON, physical units)", "P.json"},
            {"--target", nullptr, true, "target recording (WAV)", "T.wav"},
            {"--grad", nullptr, false, "also print the gradient"},
            {"--seed", nullptr, true, "seed of the synth's noise sources (default 0)", "K"},
            {"--loss", nullptr, true, "mrstft (default), linear, diffks or timbre (808 paper features)", "L"},
            {"--sr", nullptr, true, "synth sample rate in Hz", "HZ"},
            {"--max-seconds", nullptr, true, "use at most this much of the target", "T"},
        }};
    const char* cmd = "loss";
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;

    std::string error;
    int sr_check = 0;
    uint64_t seed = 0;
    double max_check = 0;
    match::LossKind kind;
    if (!args.get_int("--sr", sr_check, 1000, 384000, error) || !args.get_u64("--seed", seed, error) ||
        !args.get_double("--max-seconds", max_check, 0.01, 600, error) || !choose_loss(args, kind, error) ||
        !args.require("--params", error) || !args.require("--target", error))
        return fail(cmd, error, kExitUsage);

    SynthChoice choice;
    if (!choose_synth(args, "--params", choice, error)) return fail(cmd, error);
    int sr = 0;
    double max_seconds = 0;
    if (!choose_sample_rate(args, choice, sr, error) || !choose_max_seconds(args, *choice.synth, max_seconds, error))
        return fail(cmd, error);
    Vec target;
    if (!load_target(cmd, args.str("--target"), sr, max_seconds, target, error)) return fail(cmd, error);

    synth::SynthConfig cfg;
    cfg.sample_rate_hz = sr;
    cfg.num_samples = int(target.size());
    cfg.seed = seed;
    if (!choice.synth->analyse_target(target, cfg, error)) return fail(cmd, args.str("--target") + ": " + error);
    const std::vector<synth::ParamSpec> table = choice.synth->param_table(cfg);
    Vec u0;
    if (!match::params_validate(choice.file, choice.name, table, u0, error))
        return fail(cmd, args.str("--params") + ": " + error);

    const bool want_grad = args.has("--grad");
    ad::Tape tape(want_grad ? ad::Tape::Mode::gradient : ad::Tape::Mode::forward_only);
    const ad::Var u = want_grad ? tape.variable(u0) : tape.constant(u0);
    const ad::Var audio = choice.synth->build(u, cfg);
    const std::unique_ptr<match::TargetLoss> loss = match::make_loss(kind, audio, target, sr);
    const double value = double(loss->loss().item());
    if (!std::isfinite(value)) return fail(cmd, "the loss is not finite (the synth produced NaN or Inf)");

    std::string out = "{\"loss\": " + fmt("%.9g", value);
    if (want_grad) {
        tape.backward(loss->loss());
        const Vec grad_u = tape.grad(u.id).col(0);
        const Vec dx_du = synth::physical_derivative(table, u0);
        const std::vector<int> offsets = synth::table_offsets(table);
        out += ", \"grad\": {";
        for (size_t i = 0; i < table.size(); ++i) {
            const synth::ParamSpec& p = table[i];
            std::vector<double> g(size_t(p.size));
            for (int k = 0; k < p.size; ++k) {
                const int at = offsets[i] + k;
                // At a saturated u (a value on its range's end) d x / d u underflows: report 0.
                g[size_t(k)] = double(dx_du[at]) > 0 ? double(grad_u[at]) / double(dx_du[at]) : 0.0;
            }
            out += std::string(i ? ", " : "") + util::json_quote(p.name) + ": ";
            const bool scalar_in_file = choice.file.scalar_names.count(p.name) != 0;
            if (p.size == 1 || scalar_in_file) {
                double sum = 0;
                for (double v : g) sum += v;
                out += util::json_number(sum);
            } else {
                out += "[";
                for (size_t k = 0; k < g.size(); ++k) out += (k ? ", " : "") + util::json_number(g[k]);
                out += "]";
            }
        }
        out += "}";
    }
    out += "}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace ddsp::cli
