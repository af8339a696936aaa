// `ddsp render`: a synth rendered once (forward only) from a parameter file, to a WAV file.
#include "cli/commands.h"
#include "cli/common.h"

#include "dsp/wav.h"

#include <cmath>

namespace ddsp::cli {

int cmd_render(int argc, char** argv) {
    static const CommandSpec spec = {
        "render",
        "render --synth S [--params P.json] [--synth-options K=V,...] [--target T.wav] [--seconds T] [--sr HZ] [--seed K]\n"
        "                   [--f0 HZ] [--format F] -o out.wav",
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
            {"--synth-options", nullptr, true, "build-time synth options over P.json's, e.g. loop_order=3 (ks)", "K=V,..."},
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
    if (!choose_sample_rate(args, choice, choice.sample_rate_hz, error)) return fail(cmd, error);
    const int sr = choice.sample_rate_hz;
    engine::RenderOptions ro;
    ro.seconds = args.has("--seconds") ? seconds : 0;
    ro.seed = seed;
    if (args.has("--f0")) {
        if (!choice.synth->pitch_is_conditioning())
            return fail(cmd, "--f0 applies to synths with pitch conditioning (ddsp); set the pitch parameter of '" +
                                 choice.name + "' in --params instead");
        ro.f0_hz = f0_hz;
    }
    // --target: the synth analyses the recording as matching does (engine::render), so a match's
    // params.json renders its recon.wav.
    engine::Target target;
    if (args.has("--target")) {
        if (!choose_max_seconds(args, *choice.synth, ro.max_target_seconds, error) ||
            !load_recording(cmd, args.str("--target"), ro.max_target_seconds, target, error))
            return fail(cmd, error);
        if (!target.at(*choice.synth, sr, ro.max_target_seconds, error))
            return fail(cmd, args.str("--target") + ": " + error);
    }
    Vec audio;
    if (choice.have_file) ro.params_label = args.str("--params");
    if (!engine::render(choice, ro, args.has("--target") ? &target : nullptr, audio, error)) return fail(cmd, error);
    dsp::WavWriteReport report;
    if (!dsp::wav_write_file(args.str("--output"), audio, sr, error, wopt, &report)) return fail(cmd, error);
    if (report.out_of_range > 0)
        note(cmd, "note: " + std::to_string(report.out_of_range) + " samples beyond +-1 (peak " +
                      fmt("%.3f", double(audio.abs().maxCoeff())) + ")" +
                      (wopt.format == dsp::WavSampleFormat::pcm16 ? ", clipped in pcm16" : ", kept in float32"));
    return kExitOk;
}

}  // namespace ddsp::cli
