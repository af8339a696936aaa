// `ddsp train --model ks-ae`: DiffKS's autoencoder (nn/ks_autoencoder.h) on a plucked-string set,
// with the DDSP autoencoder's conventions: OUT/checkpoint.safetensors (every --checkpoint-every
// steps and on stop; --resume continues it exactly), OUT/log.jsonl, and at the end
// OUT/model.safetensors and OUT/report.json (the test split's scores).
#include "cli/commands.h"
#include "cli/common.h"
#include "nn/checkpoint.h"
#include "nn/ks_autoencoder.h"
#include "util/file.h"
#include "util/json.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace ddsp::cli {

namespace {

std::string ks_metrics_json(const nn::KsEvalMetrics& m) {
    using util::json_number;
    return "{\"clips\": " + std::to_string(m.clips) + ", \"mrstft\": " + json_number(m.mrstft) +
           ", \"param_mse\": " + (m.param_clips ? json_number(m.param_mse) : std::string("null")) +
           ", \"f0_cents\": " + (m.f0_clips ? json_number(m.f0_cents) : std::string("null")) +
           ", \"f0_clips\": " + std::to_string(m.f0_clips) + "}";
}

std::vector<const nn::KsClip*> ks_split(const std::vector<nn::KsClip>& clips, const std::string& split, int max_clips) {
    std::vector<const nn::KsClip*> all;
    for (const nn::KsClip& c : clips)
        if (c.split == split) all.push_back(&c);
    if (max_clips <= 0 || size_t(max_clips) >= all.size()) return all;
    std::vector<const nn::KsClip*> kept;  // spread over the file order
    for (size_t i = 0; i < size_t(max_clips); ++i) kept.push_back(all[i * all.size() / size_t(max_clips)]);
    return kept;
}

}  // namespace

int train_ks_autoencoder(const char* cmd, const Args& args) {
    std::string error;
    for (const char* ddsp_only : {"--z-dims", "--kl-weight", "--no-noise", "--no-reverb", "--centroid"})
        if (args.has(ddsp_only)) return fail(cmd, std::string(ddsp_only) + " is a ddsp-ae option", kExitUsage);
    nn::KsAutoencoderConfig config;
    nn::KsTrainOptions opt;
    int checkpoint_every = 200, validate_every = 200, valid_clips = 32, test_clips = 0, stop_after = 0;
    double time_budget_s = 0;
    if (!args.require("--output", error) || !args.get_int("--steps", opt.steps, 1, 10000000, error) ||
        !args.get_int("--batch", opt.batch, 1, 256, error) ||
        !args.get_double("--lr", opt.learning_rate, 1e-7, 1, error) || !args.get_u64("--seed", opt.seed, error) ||
        !args.get_double("--seconds", config.seconds, 0.1, 10, error) ||
        !args.get_double("--time-budget", time_budget_s, 1, 1e7, error) ||
        !args.get_int("--stop-after", stop_after, 1, 10000000, error) ||
        !args.get_int("--checkpoint-every", checkpoint_every, 1, 10000000, error) ||
        !args.get_int("--validate-every", validate_every, 1, 10000000, error) ||
        !args.get_int("--valid-clips", valid_clips, 0, 100000, error) ||
        !args.get_int("--test-clips", test_clips, 0, 100000, error) ||
        (args.has("--variant") && !nn::ks_variant(args.str("--variant"), config.variant, error)))
        return fail(cmd, error, kExitUsage);
    if (!args.has("--steps")) opt.steps = 2000;
    opt.final_learning_rate = opt.learning_rate / 10;
    const std::string out_dir = args.str("--output");
    const std::string data_dir = args.str("--data", config.variant == nn::KsVariant::sup ? "build/dataset-ks" : "build/dataset-plucks");
    const std::string checkpoint_path = out_dir + "/checkpoint.safetensors";

    nn::TensorFile resume_file;
    if (args.has("--resume")) {
        if (!nn::safetensors_read_file(checkpoint_path, resume_file, error)) return fail(cmd, error);
        const auto c = resume_file.metadata.find("config");
        if (c == resume_file.metadata.end() || !nn::parse_ks_autoencoder_config(c->second, config, error))
            return fail(cmd, checkpoint_path + ": not a ks-ae checkpoint" + (error.empty() ? "" : " (" + error + ")"));
        uint64_t seed = 0;
        bool have_seed = false;
        if (!nn::checkpoint_seed(resume_file, seed, have_seed, error)) return fail(cmd, checkpoint_path + ": " + error);
        if (have_seed && !args.has("--seed")) opt.seed = seed;
    }
    if (!util::make_dir(out_dir, error)) return fail(cmd, error);
    remove_stale_temporaries(out_dir);  // left by a run killed while writing

    nn::KsTrainer trainer(config, opt);
    const auto t_load = std::chrono::steady_clock::now();
    std::vector<nn::KsClip> clips;
    int yin_missed = 0;
    if (!nn::load_ks_dataset(data_dir, trainer.model(), clips, yin_missed, error)) return fail(cmd, error);
    const auto valid = ks_split(clips, "valid", valid_clips), test = ks_split(clips, "test", test_clips);
    std::vector<nn::KsClip> train;
    for (const nn::KsClip* c : ks_split(clips, "train", 0)) train.push_back(*c);
    if (train.empty()) return fail(cmd, data_dir + ": no training clips");
    std::fprintf(stderr, "train: ks-ae (%s): %zu training, %zu validation, %zu test clips from %s (%.1f s)%s\n",
                 nn::ks_variant_name(config.variant), train.size(), valid.size(), test.size(), data_dir.c_str(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count(),
                 yin_missed ? (" ; YIN found no note in " + std::to_string(yin_missed) + " (they keep the note's f0)").c_str()
                            : "");
    if (!resume_file.tensors.empty()) {
        if (!trainer.restore(resume_file, error)) return fail(cmd, checkpoint_path + ": " + error);
        std::fprintf(stderr, "train: resumed at step %d\n", trainer.step_count());
    }

    const std::string log_path = out_dir + "/log.jsonl";
    if (!trim_training_log(log_path, trainer.step_count(), error)) return fail(cmd, error);
    auto log_line = [&](const std::string& line) {
        std::string e;
        if (!util::append_text_file(log_path, line + "\n", e)) std::fprintf(stderr, "train: %s\n", e.c_str());
    };
    std::map<std::string, std::string> meta = {{"seed", std::to_string(opt.seed)}, {"data", data_dir}};
    auto save_checkpoint = [&]() {
        std::string e;
        if (!nn::safetensors_write_file(checkpoint_path, trainer.checkpoint(meta), e)) std::fprintf(stderr, "train: %s\n", e.c_str());
    };
    const auto t0 = std::chrono::steady_clock::now();
    const int first_step = trainer.step_count();
    double loss_sum = 0;
    int loss_n = 0;
    bool stopped_early = false;
    while (trainer.step_count() < opt.steps) {
        const double loss = trainer.step(train);
        loss_sum += loss;
        ++loss_n;
        const int step = trainer.step_count();
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (step % 50 == 0 || step == opt.steps) {
            std::fprintf(stderr, "step %d/%d loss %.4f, %.0f ms/step\n", step, opt.steps, loss_sum / loss_n,
                         1000 * elapsed / std::max(1, step - first_step));
            log_line("{\"step\": " + std::to_string(step) + ", \"time_s\": " + util::json_number(elapsed) +
                     ", \"loss\": " + util::json_number(loss_sum / loss_n) + "}");
            loss_sum = 0;
            loss_n = 0;
        }
        if (step % checkpoint_every == 0) save_checkpoint();
        if (step % validate_every == 0 && !valid.empty()) {
            const double v = trainer.evaluate(valid);
            std::fprintf(stderr, "valid @ %d: loss %.4f\n", step, v);
            log_line("{\"step\": " + std::to_string(step) + ", \"valid_loss\": " + util::json_number(v) + "}");
        }
        if ((time_budget_s > 0 && elapsed > time_budget_s) || (stop_after > 0 && step - first_step >= stop_after)) {
            stopped_early = true;
            break;
        }
    }
    save_checkpoint();
    if (stopped_early) {
        std::fprintf(stderr, "train: stopped at step %d (--time-budget / --stop-after); continue with --resume\n",
                     trainer.step_count());
        return kExitOk;
    }
    meta["steps"] = std::to_string(trainer.step_count());
    meta["licence"] = config.variant == nn::KsVariant::sup ? "trained on synthetic strings (ddsp ks renders)"
                                                           : "trained on plucks rendered from fluid-soundfont-gm (MIT)";
    if (!nn::safetensors_write_file(out_dir + "/model.safetensors", trainer.model().to_file(meta), error))
        return fail(cmd, error);
    const nn::KsEvalMetrics m = nn::evaluate_ks(trainer.model(), test);
    const std::string report = "{\"model\": \"ks-ae\", \"config\": " + nn::ks_autoencoder_config_json(config) +
                               ", \"steps\": " + std::to_string(trainer.step_count()) + ", \"batch\": " +
                               std::to_string(opt.batch) + ", \"seed\": " + std::to_string(opt.seed) +
                               ", \"weights\": " + std::to_string(trainer.model().store().num_values()) +
                               ", \"test\": " + ks_metrics_json(m) + "}\n";
    if (!util::write_text_file(out_dir + "/report.json", report, error)) return fail(cmd, error);
    std::fprintf(stderr, "test (%d clips): mrstft %.3f%s\n", m.clips, m.mrstft,
                 m.param_clips ? (", parameter MSE " + util::json_number(m.param_mse)).c_str() : "");
    return kExitOk;
}

}  // namespace ddsp::cli
