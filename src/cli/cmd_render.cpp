// `ddsp render`: a synth rendered once (forward only) from a parameter file, to a WAV file.
#include "cli/commands.h"
#include "cli/common.h"

#include "dsp/wav.h"
#include "synth/ddsp_synth.h"

#include <cmath>

namespace ddsp::cli {

int cmd_render(int argc, char** argv) {
    static const CommandSpec spec = {
        "render",
        "render --synth S [--params P.json] [--target T.wav] [--seconds T] [--sr HZ] [--seed K] [--f0 HZ] [--format F]\n"
        "                   -o out.wav",
        "Renders a synth from a parameter file (missing parameters take their defaults) to a mono WAV file.\n"
        "The output is what the synth makes: no normalisation. float32 (the default) keeps every sample as\n"
        "is, so a rendered target reads back exactly; pcm16 clips samples beyond +-1 (a note says how many).\n"
        "Duration and rate: --seconds/--sr, else the parameter file's seconds/sample_rate, else the synth's\n"
        "defaults. --f0 sets the pitch of synths that take it as conditioning rather than as a parameter\n"
        "(ddsp); other synths have a pitch parameter in their table. --target gives the recording a preset\n"
        "was matched to: synths that analyse it (ks's residual excitation, ddsp's f0 and loudness) then\n"
        "render exactly as `match` did (its recon.wav), for the target's duration unless --seconds says.",
        {
            {"--synth", nullptr, true, "synth name (see ddsp synths); optional if --params names one", "S"},
            {"--params", nullptr, true, "parameter file (JSON, physical units)", "P.json"},
            {"--target", nullptr, true, "the recording the parameters were matched to (WAV)", "T.wav"},
            {"--seconds", nullptr, true, "duration in seconds (0.001..60)", "T"},
            {"--sr", nullptr, true, "sample rate in Hz (integer, 1000..384000)", "HZ"},
            {"--seed", nullptr, true, "seed of the synth's noise sources (default 0)", "K"},
            {"--f0", nullptr, true, "pitch conditioning in Hz (ddsp synth)", "HZ"},
            {"--format", nullptr, true, "WAV sample format: float32 (default) or pcm16", "F"},
            {"--output", "-o", true, "output WAV file", "out.wav"},
        }};
    const char* cmd = "render";
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;

    std::string error;
    double seconds = 0, f0_hz = 0;
    int sr_check = 0;
    uint64_t seed = 0;
    if (!args.get_double("--seconds", seconds, 0.001, 60, error) || !args.get_int("--sr", sr_check, 1000, 384000, error) ||
        !args.get_u64("--seed", seed, error) || !args.get_double("--f0", f0_hz, 1, 100000, error) ||
        !args.require("--output", error))
        return fail(cmd, error, kExitUsage);
    dsp::WavWriteOptions wopt;
    wopt.format = dsp::WavSampleFormat::float32;
    const std::string format = args.str("--format", "float32");
    if (format == "pcm16") {
        wopt.format = dsp::WavSampleFormat::pcm16;
    } else if (format != "float32") {
        return fail(cmd, "--format: '" + format + "' is not float32 or pcm16", kExitUsage);
    }

    SynthChoice choice;
    if (!choose_synth(args, "--params", choice, error)) return fail(cmd, error);
    int sr = 0;
    if (!choose_sample_rate(args, choice, sr, error)) return fail(cmd, error);
    if (!args.has("--seconds"))
        seconds = choice.have_file && choice.file.seconds > 0 ? choice.file.seconds : choice.synth->default_seconds();
    if (!(seconds > 0 && seconds <= 60)) return fail(cmd, "duration " + fmt("%g", seconds) + " s is outside (0, 60]");

    synth::SynthConfig cfg;
    cfg.sample_rate_hz = sr;
    cfg.num_samples = std::max(1, int(std::lround(seconds * sr)));
    cfg.seed = seed;
    if (args.has("--f0")) {
        auto* d = dynamic_cast<synth::DdspSynth*>(choice.synth.get());
        if (!d) return fail(cmd, "--f0 applies to synths with pitch conditioning (ddsp); set the pitch parameter of '" +
                                     choice.name + "' in --params instead");
        d->set_f0_hz(f0_hz);
    }
    if (args.has("--target")) {
        double max_seconds = 0;
        Vec target;
        if (!choose_max_seconds(args, *choice.synth, max_seconds, error) ||
            !load_target(cmd, args.str("--target"), sr, max_seconds, target, error))
            return fail(cmd, error);
        if (!args.has("--seconds")) cfg.num_samples = int(target.size());
        if (target.size() != cfg.num_samples) {
            Vec fitted = Vec::Zero(cfg.num_samples);
            const Eigen::Index n = std::min<Eigen::Index>(target.size(), cfg.num_samples);
            fitted.head(n) = target.head(n);
            target = fitted;
        }
        if (!choice.synth->analyse_target(target, cfg, error)) return fail(cmd, args.str("--target") + ": " + error);
    }
    const synth::ParamValues values = choice.have_file ? choice.file.values : synth::ParamValues{};
    Vec audio;
    if (!synth::render(*choice.synth, values, cfg, audio, error)) {
        if (choice.have_file) error = args.str("--params") + ": " + error;
        return fail(cmd, error);
    }
    dsp::WavWriteReport report;
    if (!dsp::wav_write_file(args.str("--output"), audio, sr, error, wopt, &report)) return fail(cmd, error);
    if (report.out_of_range > 0)
        note(cmd, "note: " + std::to_string(report.out_of_range) + " samples beyond +-1 (peak " +
                      fmt("%.3f", double(audio.abs().maxCoeff())) + ")" +
                      (wopt.format == dsp::WavSampleFormat::pcm16 ? ", clipped in pcm16" : ", kept in float32"));
    return kExitOk;
}

}  // namespace ddsp::cli
