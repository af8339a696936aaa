// `ddsp remap-train` and `ddsp remap`: timbre remapping (nn/remap.h). A drum performance trains a
// small network that maps each hit's first milliseconds to modulations of an 808 preset; `remap`
// then plays a performance on the 808 with the audio thread's drum kernel (synth/stream.h).
#include "cli/commands.h"
#include "cli/common.h"

#include "dsp/wav.h"
#include "match/params_json.h"
#include "nn/remap.h"
#include "synth/drum808.h"
#include "util/file.h"
#include "util/json.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace ddsp::cli {

namespace {

constexpr double kMaxPerformanceS = 600;

// The preset: --params (a drum808 parameter file) or --preset NAME (drum808_presets()); as values
// and as the parameter-file JSON kept in the model.
bool choose_preset(const Args& args, synth::ParamValues& values, std::string& json, std::string& error) {
    if (args.has("--params") == args.has("--preset")) {
        error = args.has("--params") ? "give --params or --preset, not both" : "give --params P.json or --preset NAME";
        return false;
    }
    if (args.has("--preset")) {
        if (nn::remap_preset(args.str("--preset"), values, json, error)) return true;
        error = "--preset: " + error;
        return false;
    }
    std::string text;
    if (!util::read_text_file(args.str("--params"), text, error)) return false;
    if (text.find('{') == std::string::npos || !nn::remap_preset(text, values, json, error)) {
        if (text.find('{') == std::string::npos) error = "not a parameter file (no JSON object)";
        error = args.str("--params") + ": " + error;
        return false;
    }
    return true;
}

std::string features_json(const std::array<double, nn::kHitFeatures>& e) {
    std::string s = "{";
    for (int j = 0; j < nn::kHitFeatures; ++j)
        s += std::string(j ? ", " : "") + util::json_quote(nn::kHitFeatureNames[j]) + ": " + util::json_number(e[size_t(j)]);
    return s + "}";
}

}  // namespace

int cmd_remap_train(int argc, char** argv) {
    static const CommandSpec spec = {
        "remap-train",
        "remap-train (--params PRESET.json | --preset NAME) --input PERFORMANCE.wav|DIR [--model M] [--steps N]\n"
        "                   [--seed K] [--resume DIR/checkpoint.safetensors] -o DIR",
        "Trains a timbre-remapping network (Shier et al., NIME 2024): the performance's hits (onsets) give\n"
        "onset features (RMS, centroid, flatness of the first 5.8 ms) and hit features (loudness, centroid,\n"
        "flatness, temporal centroid); the network learns to modulate the 808 preset so that each hit's\n"
        "feature change from the preset follows the hit's difference from the performance's mean, through\n"
        "the differentiable 808. Every 4th hit is held out. Writes DIR/model.safetensors (the chosen model),\n"
        "DIR/checkpoint.safetensors (the same with Adam's state: --resume continues it exactly to --steps),\n"
        "and DIR/report.json: held-out mean feature errors of linear, mlp and mlp-large, of no modulation and\n"
        "of direct optimisation per hit (the non-real-time upper bound).",
        {
            {"--params", nullptr, true, "drum808 parameter file (the preset)", "P.json"},
            {"--preset", nullptr, true, "a named drum808 preset (snare_1, snare_2, snare_3, open_snare, noisy_snare, tom)", "NAME"},
            {"--input", nullptr, true, "the performance: a WAV file, or a folder of them", "PERF"},
            {"--model", nullptr, true, "linear, mlp (default) or mlp-large", "M"},
            {"--steps", nullptr, true, "training steps per model (1..100000, default 300)", "N"},
            {"--seed", nullptr, true, "seed (default 0)", "K"},
            {"--resume", nullptr, true, "continue the chosen model from a checkpoint of this command", "CKPT"},
            {"--output", "-o", true, "output directory", "DIR"},
        }};
    const char* cmd = "remap-train";
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;
    std::string error;
    int steps = 300;
    uint64_t seed = 0;
    nn::RemapModelKind kind = nn::RemapModelKind::mlp;
    if (!args.require("--input", error) || !args.require("--output", error) ||
        !args.get_int("--steps", steps, 1, 100000, error) || !args.get_u64("--seed", seed, error) ||
        (args.has("--model") && !nn::remap_model_kind(args.str("--model"), kind, error)))
        return fail(cmd, error, kExitUsage);
    synth::ParamValues preset;
    std::string preset_json;
    if (!choose_preset(args, preset, preset_json, error)) return fail(cmd, error);

    nn::RemapParams params;
    std::vector<std::string> files;
    if (!wav_files(args.str("--input"), files, error)) return fail(cmd, error);
    std::vector<nn::Hit> hits;
    for (const std::string& f : files) {
        Vec x;
        std::vector<nn::Hit> h;
        if (!load_target(cmd, f, int(params.sample_rate_hz), kMaxPerformanceS, x, error) ||
            !nn::analyse_hits(x, params, h, error))
            return fail(cmd, f + ": " + error);
        hits.insert(hits.end(), h.begin(), h.end());
    }
    if (hits.size() < 4)
        return fail(cmd, "the performance has " + std::to_string(hits.size()) + (hits.size() == 1 ? " hit" : " hits") +
                             ": at least 4 are needed (every 4th is held out)");
    std::vector<int> train, held;
    for (int i = 0; i < int(hits.size()); ++i) (i % 4 == 3 ? held : train).push_back(i);
    nn::RemapProblem problem;
    if (!problem.init(preset, hits, params, error)) return fail(cmd, error);

    std::string report = "{\"hits\": " + std::to_string(hits.size()) + ", \"train_hits\": " + std::to_string(train.size()) +
                         ", \"held_out_hits\": " + std::to_string(held.size()) + ", \"steps\": " + std::to_string(steps) +
                         ", \"seed\": " + std::to_string(seed) + ", \"held_out_error\": {";
    report += "\"none\": " + features_json(nn::remap_errors(problem, held, nullptr));
    report += ", \"direct\": " + features_json(nn::remap_direct_errors(problem, held, 200, 0.05));
    std::unique_ptr<ad::Tape> kept_tape;
    std::unique_ptr<nn::RemapNet> kept;
    std::string timings;
    nn::TensorFile checkpoint;
    for (nn::RemapModelKind k : {nn::RemapModelKind::linear, nn::RemapModelKind::mlp, nn::RemapModelKind::mlp_large}) {
        auto tape = std::make_unique<ad::Tape>();
        auto net = std::make_unique<nn::RemapNet>(*tape, k, problem.num_params(), params.max_modulation, seed + 1);
        nn::RemapTrainOptions opt;
        opt.kind = k;
        opt.steps = steps;
        opt.seed = seed;
        nn::RemapTrainer trainer(problem, train, opt, *net);
        if (k == kind && args.has("--resume")) {
            // Continue the chosen model from its checkpoint, to `steps` in all.
            nn::TensorFile ckpt;
            if (!nn::safetensors_read_file(args.str("--resume"), ckpt, error) || !trainer.restore(ckpt, error))
                return fail(cmd, args.str("--resume") + ": " + error);
            if (trainer.steps() > steps)
                return fail(cmd, args.str("--resume") + ": the checkpoint is at step " + std::to_string(trainer.steps()) +
                                     ", past --steps " + std::to_string(steps), kExitUsage);
        }
        const auto t0 = std::chrono::steady_clock::now();
        while (trainer.steps() < steps) trainer.step();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        report += ", " + util::json_quote(nn::remap_model_name(k)) + ": " + features_json(nn::remap_errors(problem, held, net.get()));
        timings += std::string(timings.empty() ? "" : ", ") + util::json_quote(nn::remap_model_name(k)) + ": " +
                   util::json_number(seconds);
        if (k == kind) {
            checkpoint = trainer.checkpoint(preset_json);
            kept_tape = std::move(tape);
            kept = std::move(net);
        }
    }
    report += "}, \"train_seconds\": {" + timings + "}, \"model\": " + util::json_quote(nn::remap_model_name(kind)) + "}\n";
    const std::string dir = args.str("--output");
    if (!util::make_dir(dir, error)) return fail(cmd, error);
    if (!nn::safetensors_write_file(dir + "/model.safetensors", nn::remap_to_file(*kept, preset_json, params), error) ||
        !nn::safetensors_write_file(dir + "/checkpoint.safetensors", checkpoint, error) ||
        !util::write_text_file(dir + "/report.json", report, error))
        return fail(cmd, error);
    std::fputs(report.c_str(), stdout);
    return kExitOk;
}

int cmd_remap(int argc, char** argv) {
    static const CommandSpec spec = {
        "remap",
        "remap --model DIR/model.safetensors --input PERFORMANCE.wav -o out.wav",
        "Plays a drum performance on the 808 through a model from `ddsp remap-train`: at every onset, the\n"
        "hit's first 5.8 ms go through the network and the 808 preset, modulated, plays a hit (the studio's\n"
        "audio-thread drum kernel). Writes a float32 WAV at the model's rate; prints JSON (hits).",
        {
            {"--model", nullptr, true, "remap model (safetensors from remap-train)", "M"},
            {"--input", nullptr, true, "the performance (WAV)", "PERF.wav"},
            {"--output", "-o", true, "output WAV", "out.wav"},
        }};
    const char* cmd = "remap";
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;
    std::string error;
    if (!args.require("--model", error) || !args.require("--input", error) || !args.require("--output", error))
        return fail(cmd, error, kExitUsage);
    nn::TensorFile tf;
    nn::RemapModelFile model;
    if (!nn::safetensors_read_file(args.str("--model"), tf, error) || !nn::remap_from_file(tf, model, error))
        return fail(cmd, args.str("--model") + ": " + error);
    match::ParamFile preset_file;
    if (!match::params_parse(model.preset_json, preset_file, error) || preset_file.synth != "drum808")
        return fail(cmd, args.str("--model") + ": its preset is not a drum808 parameter file");
    const double sr = model.params.sample_rate_hz;
    Vec x;
    if (!load_target(cmd, args.str("--input"), int(sr), kMaxPerformanceS, x, error)) return fail(cmd, error);
    std::vector<nn::Hit> hits;
    if (!nn::analyse_hits(x, model.params, hits, error)) return fail(cmd, args.str("--input") + ": " + error);

    Vec out;
    if (!nn::remap_render(model, preset_file.values, x, hits, out, error)) return fail(cmd, args.str("--model") + ": " + error);
    dsp::WavWriteOptions wopt;
    wopt.format = dsp::WavSampleFormat::float32;
    if (!dsp::wav_write_file(args.str("--output"), out, int(sr), error, wopt)) return fail(cmd, error);
    std::printf("{\"hits\": %zu, \"sample_rate\": %d, \"model\": %s}\n", hits.size(), int(sr),
                util::json_quote(nn::remap_model_name(model.kind)).c_str());
    return kExitOk;
}

}  // namespace ddsp::cli
