// `ddsp kad DIR_A DIR_B`: the kernel audio distance (dsp/kad.h) between two sets of recordings,
// on MFCC statistics or on the DDSP autoencoder's encoder (the posterior mean of each clip).
#include "cli/commands.h"
#include "cli/common.h"

#include "dsp/kad.h"
#include "nn/autoencoder.h"
#include "nn/safetensors.h"
#include "util/json.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace ddsp::cli {

namespace {

constexpr double kMaxClipS = 30;  // longer clips are cut: an embedding describes a note or a hit

// One embedding per WAV file of `dir` (rows of out).
bool embed_folder(const char* cmd, const std::string& dir, const std::string& embedding, const nn::Autoencoder* model,
                  Mat& out, std::string& error) {
    std::vector<std::string> files;
    if (!wav_files(dir, files, error)) return false;
    std::vector<Vec> rows;
    for (const std::string& f : files) {
        Vec e;
        if (embedding == "mfcc") {
            Vec x;
            if (!load_target(cmd, f, 16000, kMaxClipS, x, error)) return false;  // the error names the file
            if (!dsp::mfcc_embedding(x, 16000, e, error)) {
                error = f + ": " + error;
                return false;
            }
        } else {
            const double sr = model->config().decoder.sample_rate_hz;
            Vec x;
            nn::Conditioning c;
            if (!load_target(cmd, f, int(sr), kMaxClipS, x, error)) return false;
            if (!nn::analyse_conditioning(x, sr, model->config().conditioning, c, error)) {
                error = f + ": " + error;
                return false;
            }
            const Arr z = model->encode_mean(c);
            e = Vec(z.row(0).transpose());
            if (!e.allFinite()) {
                error = f + ": the encoder gives a non-finite latent";
                return false;
            }
        }
        rows.push_back(e);
    }
    out.resize(Eigen::Index(rows.size()), rows.empty() ? 0 : rows[0].size());
    for (size_t i = 0; i < rows.size(); ++i) out.row(Eigen::Index(i)) = rows[i].transpose();
    return true;
}

}  // namespace

int cmd_kad(int argc, char** argv) {
    static const CommandSpec spec = {
        "kad",
        "kad DIR_A DIR_B [--embedding mfcc|encoder] [--model M.safetensors] [--bandwidth S]",
        "The kernel audio distance (Chung et al. 2025) between the WAV files of two folders: the unbiased\n"
        "maximum mean discrepancy of their embeddings under a Gaussian kernel whose width is the median\n"
        "pairwise distance within DIR_A (the reference), times 1000. 0 in expectation for two sets from one\n"
        "distribution (it can be slightly negative), larger as they part. Embeddings: mfcc (the mean and\n"
        "deviation over frames of MFCCs 1-20 at 16 kHz) or encoder (the DDSP autoencoder's posterior mean;\n"
        "--model, default assets/models/ddsp_gm8.safetensors). The paper's PANNs, VGGish, CLAP and CDPAM\n"
        "embeddings are not available here. Prints JSON.",
        {
            {"--embedding", nullptr, true, "mfcc (default) or encoder", "E"},
            {"--model", nullptr, true, "the autoencoder for --embedding encoder (default: the shipped ddsp_gm8)", "M"},
            {"--bandwidth", nullptr, true, "the kernel's width (default: the median distance within DIR_A)", "S"},
        },
        2};
    const char* cmd = "kad";
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;
    std::string error;
    if (args.positional().size() != 2) return fail(cmd, "give two folders (or files): ddsp kad DIR_A DIR_B", kExitUsage);
    const std::string embedding = args.str("--embedding", "mfcc");
    if (embedding != "mfcc" && embedding != "encoder")
        return fail(cmd, "--embedding: unknown embedding '" + embedding + "' (mfcc, encoder)", kExitUsage);
    double bandwidth = 0;
    if (!args.get_double("--bandwidth", bandwidth, 1e-9, 1e9, error)) return fail(cmd, error, kExitUsage);
    ad::Tape tape(ad::Tape::Mode::forward_only);
    std::unique_ptr<nn::Autoencoder> model;
    if (embedding == "encoder") {
        const std::string path = args.has("--model") ? args.str("--model") : shipped_model("ddsp_gm8.safetensors");
        if (path.empty()) return fail(cmd, "--embedding encoder needs --model (an autoencoder file)", kExitUsage);
        nn::TensorFile file;
        if (!nn::safetensors_read_file(path, file, error) || !(model = nn::load_autoencoder(tape, file, error)))
            return fail(cmd, path + ": " + error);
    } else if (args.has("--model")) {
        return fail(cmd, "--model is the encoder embedding's (--embedding encoder)", kExitUsage);
    }
    Mat a, b;
    if (!embed_folder(cmd, args.positional()[0], embedding, model.get(), a, error) ||
        !embed_folder(cmd, args.positional()[1], embedding, model.get(), b, error))
        return fail(cmd, error);
    dsp::KadResult r;
    if (!dsp::kad(a, b, bandwidth, r, error)) return fail(cmd, error);
    std::printf("{\"kad\": %s, \"mmd2\": %s, \"bandwidth\": %s, \"embedding\": %s, \"a\": %d, \"b\": %d}\n",
                util::json_number(r.kad).c_str(), util::json_number(r.mmd2).c_str(), util::json_number(r.bandwidth).c_str(),
                util::json_quote(embedding).c_str(), int(a.rows()), int(b.rows()));
    return kExitOk;
}

}  // namespace ddsp::cli
