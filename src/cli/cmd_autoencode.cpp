// `ddsp autoencode`: resynthesises a recording through a trained DDSP autoencoder (its own latent,
// or another one: timbre transfer), as the studio's latent panel does.
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/plot.h"
#include "dsp/wav.h"
#include "match/loss.h"
#include "util/json.h"
#include "nn/train.h"

#include <cstdio>
#include <filesystem>

namespace ddsp::cli {

int cmd_autoencode(int argc, char** argv) {
    static const CommandSpec spec = {
        "autoencode",
        "autoencode --model M.safetensors --target T.wav [--z V1,V2,...] [--z-from U.wav] [--transpose ST] [--png P.png] -o out.wav",
        "Runs a recording through a DDSP autoencoder from `ddsp train`: its f0 (YIN), A-weighted loudness\n"
        "and MFCCs go in, audio comes out. By default the decoder gets the recording's own latent (the\n"
        "encoder's mean); --z gives the latent by hand and --z-from takes it from another recording, so the\n"
        "first recording's melody and dynamics play with the second one's timbre. --transpose shifts f0 by\n"
        "semitones. Prints JSON: the latent used and the MR-STFT distance to the input. --png draws the input\n"
        "and the output (waveforms and spectrograms) as match's compare.png does.",
        {
            {"--model", nullptr, true, "model file (safetensors from ddsp train)", "M.safetensors"},
            {"--target", nullptr, true, "the recording to resynthesise (WAV)", "T.wav"},
            {"--z", nullptr, true, "latent, comma-separated (z_dims values)", "V1,V2,..."},
            {"--z-from", nullptr, true, "take the latent from this recording's encoding", "U.wav"},
            {"--transpose", nullptr, true, "f0 shift in semitones (-48..48; default 0)", "ST"},
            {"--max-seconds", nullptr, true, "use at most the first T seconds (default 30)", "T"},
            {"--png", nullptr, true, "also draw input and output (waveforms, spectrograms)", "P.png"},
            {"--output", "-o", true, "output WAV", "out.wav"},
        }};
    const char* cmd = "autoencode";
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;
    std::string error;
    double transpose = 0, max_seconds = 30;
    if (!args.require("--model", error) || !args.require("--target", error) || !args.require("--output", error) ||
        !args.get_double("--transpose", transpose, -48, 48, error) ||
        !args.get_double("--max-seconds", max_seconds, 0.1, 600, error))
        return fail(cmd, error, kExitUsage);
    if (args.has("--z") && args.has("--z-from")) return fail(cmd, "give --z or --z-from, not both", kExitUsage);

    nn::TensorFile file;
    if (!nn::safetensors_read_file(args.str("--model"), file, error)) return fail(cmd, error);
    ad::Tape tape(ad::Tape::Mode::forward_only);
    std::unique_ptr<nn::Autoencoder> model = nn::load_autoencoder(tape, file, error);
    if (!model) return fail(cmd, args.str("--model") + ": " + error);
    const int sr = int(model->config().decoder.sample_rate_hz);

    Vec x;
    if (!load_target(cmd, args.str("--target"), sr, max_seconds, x, error)) return fail(cmd, error);
    nn::Conditioning c;
    if (!nn::analyse_conditioning(x, sr, model->config().conditioning, c, error))
        return fail(cmd, args.str("--target") + ": " + error);

    Arr z = model->encode_mean(c);
    if (args.has("--z")) {
        if (!parse_latent_option(args, model->z_dims(), z, error)) return fail(cmd, error, kExitUsage);
    } else if (args.has("--z-from")) {
        Vec u;
        nn::Conditioning cu;
        if (!load_target(cmd, args.str("--z-from"), sr, max_seconds, u, error)) return fail(cmd, error);
        if (!nn::analyse_conditioning(u, sr, model->config().conditioning, cu, error))
            return fail(cmd, args.str("--z-from") + ": " + error);
        z = model->encode_mean(cu);
    }
    if (transpose != 0) c.f0_hz *= Real(std::pow(2.0, transpose / 12));

    const nn::Autoencoder::Output o = model->forward(tape, c, nullptr, tape.constant(z));
    Vec y = o.audio.value().col(0);
    const double distance = match::mrstft_distance(y, x, match::MrStftParams::ddsp());
    if (!y.allFinite()) return fail(cmd, "internal error: the model produced non-finite samples");
    const Real peak = y.abs().maxCoeff();
    if (peak > Real(0.999)) y *= Real(0.999) / peak;  // never clip the file
    if (!dsp::wav_write_file(args.str("--output"), y, sr, error)) return fail(cmd, error);
    if (args.has("--png")) {
        CompareData cd;
        cd.target = x;
        cd.recon = y;
        cd.sample_rate_hz = sr;
        const auto base = [](const std::string& path) { return std::filesystem::path(path).filename().string(); };
        cd.title = "ddsp autoencode: " + base(args.str("--target")) +
                   (args.has("--z-from") ? " with the timbre of " + base(args.str("--z-from")) : "");
        cd.note = "one pass through the autoencoder, no optimisation: MR-STFT distance to the input " +
                  fmt("%.3f", distance);
        if (!plot_compare(args.str("--png"), cd, error)) return fail(cmd, error);
    }
    std::string zs = "[";
    for (int i = 0; i < model->z_dims(); ++i) zs += (i ? ", " : "") + util::json_number(z(0, i));
    std::printf("{\"z\": %s], \"mrstft\": %s, \"peak\": %s}\n", zs.c_str(), util::json_number(distance).c_str(),
                util::json_number(peak).c_str());
    return kExitOk;
}

}  // namespace ddsp::cli
