// `ddsp train`: trains the DDSP autoencoder on a dataset made by scripts/make-dataset.sh, with
// checkpoints, resume, validation and a test-split report (nn/train.h has the method).
#include "cli/commands.h"
#include "cli/common.h"
#include "nn/checkpoint.h"
#include "nn/train.h"
#include "util/file.h"
#include "util/json.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

namespace ddsp::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string hms(double s) {
    const int t = int(std::max(0.0, s));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
    return buf;
}

std::string metrics_json(const nn::EvalMetrics& m) {
    using util::json_number;
    return "{\"clips\": " + std::to_string(m.clips) + ", \"mrstft\": " + json_number(m.mrstft) +
           ", \"f0_l1_cents\": " + json_number(m.f0_l1_cents) + ", \"loudness_l1_db\": " + json_number(m.loudness_l1_db) +
           ", \"kl\": " + json_number(m.kl) + "}";
}

std::vector<const nn::TrainClip*> of_split(const std::vector<nn::TrainClip>& clips, const std::string& split,
                                           int max_clips) {
    std::vector<const nn::TrainClip*> all;
    for (const nn::TrainClip& c : clips)
        if (c.split == split) all.push_back(&c);
    if (max_clips <= 0 || size_t(max_clips) >= all.size()) return all;
    std::vector<const nn::TrainClip*> kept;  // spread over the file order: every instrument
    for (size_t i = 0; i < size_t(max_clips); ++i) kept.push_back(all[i * all.size() / size_t(max_clips)]);
    return kept;
}

}  // namespace

int cmd_train(int argc, char** argv) {
    static const CommandSpec spec = {
        "train",
        "train [--model ddsp-ae|ks-ae] [--variant meta|tracker|sup] --data DIR -o OUT [--steps N] [--batch B]\n"
        "                   [--seed K] [--resume] [model options]",
        "Trains the DDSP autoencoder (MFCC encoder with a Gaussian latent, f0/loudness/z decoder driving\n"
        "harmonic + filtered-noise + reverb synthesis) on a dataset from scripts/make-dataset.sh, with Adam on\n"
        "MR-STFT + kl_weight * KL. Writes OUT/checkpoint.safetensors (weights and optimiser state, every\n"
        "--checkpoint-every steps and on stop), OUT/log.jsonl (training and validation losses), and at the end\n"
        "OUT/model.safetensors (weights, config and the latent space of the training clips) and\n"
        "OUT/report.json (test-split MR-STFT, f0 L1 in cents and loudness L1 in dB, overall and per\n"
        "instrument). --resume continues from OUT/checkpoint.safetensors with its config; the same seed gives\n"
        "the same run whether or not it was interrupted. Progress goes to stderr.\n"
        "--model ks-ae trains DiffKS's autoencoder instead (nn/ks_autoencoder.h: an encoder predicts the\n"
        "Karplus-Strong string's controls, the differentiable string decodes) on a plucked-string set\n"
        "(scripts/make-dataset.sh --set plucks, or --set ks-synthetic for --variant sup): --variant meta (f0 from\n"
        "the note, spectral loss), tracker (f0 from YIN) or sup (parameter loss on synthetic strings). Its\n"
        "report.json scores the test split: MR-STFT, parameter error, f0 error.",
        {
            {"--model", nullptr, true, "ddsp-ae (default) or ks-ae", "M"},
            {"--variant", nullptr, true, "ks-ae: meta (default), tracker or sup", "V"},
            {"--seconds", nullptr, true, "ks-ae: clip length the model reads and renders (default 2)", "S"},
            {"--data", nullptr, true, "dataset directory (metadata.jsonl, wav/; default build/dataset)", "DIR"},
            {"--output", "-o", true, "output directory", "OUT"},
            {"--steps", nullptr, true, "optimisation steps (default 20000)", "N"},
            {"--batch", nullptr, true, "clips per step (default 4)", "B"},
            {"--lr", nullptr, true, "initial learning rate (default 1e-3, decaying to a tenth at --steps)", "LR"},
            {"--seed", nullptr, true, "seed for weights, batches and latent noise (default 1)", "K"},
            {"--resume", nullptr, false, "continue from OUT/checkpoint.safetensors"},
            {"--time-budget", nullptr, true, "stop (with a checkpoint) after this many seconds", "SEC"},
            {"--stop-after", nullptr, true, "stop (with a checkpoint) after N steps of this run", "N"},
            {"--z-dims", nullptr, true, "latent dimensions (default 8)", "N"},
            {"--kl-weight", nullptr, true, "weight of the KL term (default 0.01)", "W"},
            {"--no-noise", nullptr, false, "harmonic synthesis only (no filtered noise)"},
            {"--no-reverb", nullptr, false, "no trainable reverb"},
            {"--centroid", nullptr, false, "condition the decoder on the spectral centroid as well"},
            {"--checkpoint-every", nullptr, true, "steps between checkpoints (default 500)", "N"},
            {"--validate-every", nullptr, true, "steps between validation runs (default 1000)", "N"},
            {"--valid-clips", nullptr, true, "validation clips used (default 24; 0: all)", "N"},
            {"--test-clips", nullptr, true, "test clips in the final report (default 0: all)", "N"},
        }};
    const char* cmd = "train";
    Args args;
    int code = 0;
    if (!parse_command(spec, argc, argv, args, code)) return code;
    const std::string model_name = args.str("--model", "ddsp-ae");
    if (model_name == "ks-ae") return train_ks_autoencoder(cmd, args);
    if (model_name != "ddsp-ae") return fail(cmd, "--model: unknown model '" + model_name + "' (ddsp-ae, ks-ae)", kExitUsage);
    if (args.has("--variant") || args.has("--seconds")) return fail(cmd, "--variant and --seconds are ks-ae options", kExitUsage);

    std::string error;
    nn::TrainOptions opt;
    nn::AutoencoderConfig config;
    config.decoder.use_reverb = true;
    int checkpoint_every = 500, validate_every = 1000, valid_clips = 24, test_clips = 0;
    double time_budget_s = 0;
    int stop_after = 0;
    if (!args.require("--output", error) || !args.get_int("--steps", opt.steps, 1, 10000000, error) ||
        !args.get_int("--batch", opt.batch, 1, 256, error) ||
        !args.get_double("--lr", opt.learning_rate, 1e-7, 1, error) || !args.get_u64("--seed", opt.seed, error) ||
        !args.get_double("--time-budget", time_budget_s, 1, 1e7, error) ||
        !args.get_int("--stop-after", stop_after, 1, 10000000, error) ||
        !args.get_int("--z-dims", config.decoder.z_dims, 1, 64, error) ||
        !args.get_double("--kl-weight", config.kl_weight, 0, 100, error) ||
        !args.get_int("--checkpoint-every", checkpoint_every, 1, 10000000, error) ||
        !args.get_int("--validate-every", validate_every, 1, 10000000, error) ||
        !args.get_int("--valid-clips", valid_clips, 0, 100000, error) ||
        !args.get_int("--test-clips", test_clips, 0, 100000, error))
        return fail(cmd, error, kExitUsage);
    opt.final_learning_rate = opt.learning_rate / 10;
    config.decoder.use_noise = !args.has("--no-noise");
    config.decoder.use_reverb = !args.has("--no-reverb");
    config.decoder.use_centroid = args.has("--centroid");
    const std::string out_dir = args.str("--output");
    const std::string data_dir = args.str("--data", "build/dataset");
    const std::string checkpoint_path = out_dir + "/checkpoint.safetensors";

    nn::TensorFile resume_file;
    if (args.has("--resume")) {
        if (!nn::safetensors_read_file(checkpoint_path, resume_file, error)) return fail(cmd, error);
        if (!nn::read_autoencoder_config(resume_file, config, error)) return fail(cmd, checkpoint_path + ": " + error);
        uint64_t seed = 0;
        bool have_seed = false;
        if (!nn::checkpoint_seed(resume_file, seed, have_seed, error)) return fail(cmd, checkpoint_path + ": " + error);
        if (have_seed && !args.has("--seed")) opt.seed = seed;
    }
    if (!util::make_dir(out_dir, error)) return fail(cmd, error);
    remove_stale_temporaries(out_dir);  // left by a run killed while writing

    const auto t_load = Clock::now();
    std::vector<nn::TrainClip> clips;
    const double sr = config.decoder.sample_rate_hz;
    if (!nn::load_dataset(data_dir, sr, config.conditioning, clips, error)) return fail(cmd, error);
    const std::vector<const nn::TrainClip*> valid = of_split(clips, "valid", valid_clips),
                                            test = of_split(clips, "test", test_clips),
                                            train_ptrs = of_split(clips, "train", 0);
    std::vector<nn::TrainClip> train;
    for (const nn::TrainClip* c : train_ptrs) train.push_back(*c);
    if (train.empty()) return fail(cmd, data_dir + ": no training clips");
    std::fprintf(stderr, "train: %zu training, %zu validation, %zu test clips from %s (analysed in %.1f s)\n",
                 train.size(), valid.size(), test.size(), data_dir.c_str(), seconds_since(t_load));

    nn::Trainer trainer(config, opt);
    if (!resume_file.tensors.empty()) {
        if (!trainer.restore(resume_file, error)) return fail(cmd, checkpoint_path + ": " + error);
        std::fprintf(stderr, "train: resumed at step %d from %s\n", trainer.step_count(), checkpoint_path.c_str());
    }
    std::fprintf(stderr, "train: %lld weights; config %s\n", trainer.model().num_values(),
                 nn::autoencoder_config_json(config).c_str());

    const std::string log_path = out_dir + "/log.jsonl";
    if (!trim_training_log(log_path, trainer.step_count(), error)) return fail(cmd, error);
    auto log_line = [&](const std::string& line) {
        std::string e;
        if (!util::append_text_file(log_path, line + "\n", e)) std::fprintf(stderr, "\ntrain: %s\n", e.c_str());
    };
    std::map<std::string, std::string> meta = {{"seed", std::to_string(opt.seed)}, {"data", data_dir}};
    auto save_checkpoint = [&]() {
        std::string e;
        if (!nn::safetensors_write_file(checkpoint_path, trainer.checkpoint(meta), e)) std::fprintf(stderr, "\ntrain: %s\n", e.c_str());
    };
    const bool tty = isatty(fileno(stderr));
    const auto t0 = Clock::now();
    const int first_step = trainer.step_count();
    double loss_avg = 0, rec_avg = 0, kl_avg = 0;
    int avg_n = 0, skipped = 0;
    bool stopped_early = false;
    while (trainer.step_count() < opt.steps) {
        const nn::StepResult r = trainer.step(train);
        if (!r.applied) {
            ++skipped;
            if (skipped > 50) return fail(cmd, "training diverged (more than 50 non-finite gradients)");
            continue;
        }
        loss_avg += r.loss;
        rec_avg += r.reconstruction;
        kl_avg += r.kl;
        ++avg_n;
        const int step = trainer.step_count();
        const double elapsed = seconds_since(t0);
        const double per_step = elapsed / std::max(1, step - first_step);
        if (tty || step % 100 == 0) {
            const int width = 30, filled = int(width * double(step) / opt.steps);
            std::fprintf(stderr, "%s[%s%s] %d/%d loss %.3f (mrstft %.3f, kl %.2f) %.0f ms/step, eta %s%s",
                         tty ? "\r" : "", std::string(size_t(filled), '#').c_str(),
                         std::string(size_t(width - filled), '.').c_str(), step, opt.steps, loss_avg / avg_n,
                         rec_avg / avg_n, kl_avg / avg_n, 1000 * per_step,
                         hms(per_step * (opt.steps - step)).c_str(), tty ? "   " : "\n");
        }
        if (step % 100 == 0) {
            log_line("{\"step\": " + std::to_string(step) + ", \"time_s\": " + util::json_number(elapsed) +
                     ", \"loss\": " + util::json_number(loss_avg / avg_n) +
                     ", \"mrstft\": " + util::json_number(rec_avg / avg_n) +
                     ", \"kl\": " + util::json_number(kl_avg / avg_n) +
                     ", \"lr\": " + util::json_number(trainer.learning_rate()) + "}");
            loss_avg = rec_avg = kl_avg = 0;
            avg_n = 0;
        }
        if (step % checkpoint_every == 0) save_checkpoint();
        if (step % validate_every == 0 && !valid.empty()) {
            const nn::EvalMetrics m = nn::evaluate(trainer.model(), valid);
            std::fprintf(stderr, "%svalid @ %d: mrstft %.3f, f0 L1 %.1f cents, loudness L1 %.2f dB, kl %.2f\n",
                         tty ? "\n" : "", step, m.mrstft, m.f0_l1_cents, m.loudness_l1_db, m.kl);
            log_line("{\"step\": " + std::to_string(step) + ", \"valid\": " + metrics_json(m) + "}");
        }
        if ((time_budget_s > 0 && elapsed > time_budget_s) || (stop_after > 0 && step - first_step >= stop_after)) {
            stopped_early = true;
            break;
        }
    }
    if (tty) std::fprintf(stderr, "\n");
    save_checkpoint();
    if (stopped_early) {
        std::fprintf(stderr, "train: stopped at step %d (--time-budget / --stop-after); continue with --resume\n",
                     trainer.step_count());
        return kExitOk;
    }

    // The final model: weights, config, latent space of the training clips, provenance.
    std::vector<const nn::TrainClip*> train_for_latent;
    for (const nn::TrainClip& c : train) train_for_latent.push_back(&c);
    meta["latent_space"] = nn::latent_space_json(trainer.model(), train_for_latent);
    meta["steps"] = std::to_string(trainer.step_count());
    meta["batch"] = std::to_string(opt.batch);
    meta["licence"] = "trained on notes rendered from fluid-soundfont-gm (MIT)";
    if (!nn::safetensors_write_file(out_dir + "/model.safetensors", trainer.model().to_file(meta), error)) return fail(cmd, error);

    const nn::EvalMetrics overall = nn::evaluate(trainer.model(), test);
    std::map<std::string, std::vector<const nn::TrainClip*>> by_instrument;
    for (const nn::TrainClip* c : test) by_instrument[c->instrument].push_back(c);
    std::string per = "{";
    for (const auto& kv : by_instrument)
        per += std::string(per.size() > 1 ? ", " : "") + util::json_quote(kv.first) + ": " +
               metrics_json(nn::evaluate(trainer.model(), kv.second));
    per += "}";
    const std::string report = "{\"config\": " + nn::autoencoder_config_json(config) +
                               ", \"steps\": " + std::to_string(trainer.step_count()) +
                               ", \"batch\": " + std::to_string(opt.batch) + ", \"seed\": " + std::to_string(opt.seed) +
                               ", \"weights\": " + std::to_string(trainer.model().num_values()) +
                               ", \"train_seconds_this_run\": " + util::json_number(seconds_since(t0)) +
                               ", \"test\": " + metrics_json(overall) + ", \"test_by_instrument\": " + per + "}\n";
    if (!util::write_text_file(out_dir + "/report.json", report, error)) return fail(cmd, error);
    std::fprintf(stderr, "test (%d clips): mrstft %.3f, f0 L1 %.1f cents, loudness L1 %.2f dB\n", overall.clips,
                 overall.mrstft, overall.f0_l1_cents, overall.loudness_l1_db);
    return kExitOk;
}

}  // namespace ddsp::cli
