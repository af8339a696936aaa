// The remap panel's engine (embind, in ddsp_engine next to MatchRunner and LatentRunner): timbre
// remapping (nn/remap.h) trained in the worker, in slices run by worker.js, and a performance
// played on the 808 offline with the audio thread's drum kernel.
//
//   const r = new ddsp.RemapRunner();      (one per worker)
//   r.presets()                            -> ["snare_1", ...] (the drum808 presets)
//   r.setPerformance(float32Array, rate)   -> {hits, seconds, sampleRate} or {error}: cut to its first
//                                             120 s, resampled to 44.1 kHz and analysed (onsets,
//                                             onset and hit features)
//   r.trainStart(preset, model, steps, seed) -> {ok, hits, trainHits, heldOutHits} or {error}: preset is a
//                                             drum808 preset's name or a drum808 parameter file's JSON
//                                             text; model 'linear' | 'mlp' | 'mlp-large'; every 4th hit
//                                             is held out (at least 4 hits); replaces any earlier run
//   r.trainRunFor(ms)                      -> {step, steps, loss, done, history: [losses since the last
//                                             call], heldOut: {none, model} (mean feature errors, when
//                                             done)} or {error}; at least one step a call, none with ms <= 0
//   r.trainStop()                          -> {ok} (the weights so far become the model)
//   r.loadModel(uint8Array)                -> {ok} or {error} (the previous model stays)
//   r.info()                               -> null or {model, preset (parameter file JSON), sampleRate,
//                                             trained, steps, performance: {hits, seconds} or null}
//   r.exportModel()                        -> Uint8Array safetensors (`ddsp remap-train`'s model file)
//                                             or {error}
//   r.render(float32Array, rate)           -> {samples: Float32Array at info().sampleRate, hits} or {error}:
//                                             the performance played on the 808 (`ddsp remap`)
// Every error is one line, in {error} (js_bridge.h); no NaN or infinity leaves.
#include "dsp/recording_check.h"
#include "engine/target.h"
#include "nn/remap.h"
#include "synth/drum808.h"
#include "util/json.h"
#include "wasm/js_bridge.h"

#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

using namespace ddsp;
using namespace ddsp::wasm;

namespace {

// A performance longer than this is cut (the CLI takes 600 s; the page keeps its memory small).
constexpr double kMaxPerformanceS = 120;

std::string features_json(const std::array<double, nn::kHitFeatures>& e) {
    std::string s = "{";
    for (int j = 0; j < nn::kHitFeatures; ++j)
        s += std::string(j ? ", " : "") + util::json_quote(nn::kHitFeatureNames[j]) + ": " +
             util::json_number(std::isfinite(e[size_t(j)]) ? e[size_t(j)] : 0.0);
    return s + "}";
}

class RemapRunner {
public:
    val presets() const {
        std::string s = "[";
        for (const auto& [name, values] : synth::drum808_presets()) s += (s.size() > 1 ? ", " : "") + util::json_quote(name);
        return from_json(s + "]");
    }

    val setPerformance(const val& samples, double rate_hz) {
        std::string error;
        Vec x;
        std::vector<nn::Hit> hits;
        if (!read_performance(samples, rate_hz, x, hits, error)) return error_object(error);
        performance_ = std::move(x);
        hits_ = std::move(hits);
        return from_json(performance_json());
    }

    val trainStart(const std::string& preset, const std::string& model, int steps, double seed) {
        return status(train_start(preset, model, steps, seed));
    }
    val trainRunFor(double ms) { return from_json(train_run_for(ms)); }
    val trainStop() {
        if (trainer_) done_ = true;
        return ok_object();
    }

    val loadModel(const val& bytes) {
        if (!bytes.instanceof(val::global("Uint8Array"))) return error_object("loadModel: the model must be a Uint8Array");
        const std::vector<uint8_t> data = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
        if (data.empty()) return error_object("the remap model file is empty");
        nn::TensorFile file;
        nn::RemapModelFile model;
        std::string error;
        if (!nn::safetensors_read_memory(data.data(), data.size(), file, error) || !nn::remap_from_file(file, model, error))
            return error_object("remap model file: " + error);
        synth::ParamValues values;
        std::string json;
        if (!nn::remap_preset(model.preset_json, values, json, error)) return error_object("remap model file: preset: " + error);
        // Checks the weights against the architecture before anything is replaced.
        ad::Tape tape(ad::Tape::Mode::forward_only);
        if (!nn::make_remap_net(tape, model, num_params(), error))
            return error_object("remap model file: " + error);
        stop_training();
        model_ = std::move(model);
        model_values_ = std::move(values);
        have_model_ = true;
        trained_ = false;
        model_steps_ = 0;
        return ok_object();
    }

    val info() const {
        if (!have_model_ && !trainer_) return val::null();
        std::string s = "{\"model\": " + util::json_quote(nn::remap_model_name(have_model_ ? model_.kind : kind_));
        s += ", \"preset\": " + (have_model_ ? model_.preset_json : preset_json_);
        s += ", \"sampleRate\": " + util::json_number(params_.sample_rate_hz);
        s += std::string(", \"trained\": ") + (trained_ ? "true" : "false");
        s += ", \"steps\": " + std::to_string(trainer_ ? trainer_->steps() : model_steps_);
        s += ", \"performance\": " + (performance_.size() ? performance_json() : std::string("null"));
        return from_json(s + "}");
    }

    val exportModel() {
        if (!have_model_) return error_object("no remap model: train one or load one first");
        nn::TensorFile file;
        std::string error;
        ad::Tape tape(ad::Tape::Mode::forward_only);
        auto net = nn::make_remap_net(tape, model_, num_params(), error);
        if (!net) return error_object(error);
        std::vector<uint8_t> bytes;
        if (!nn::safetensors_encode(nn::remap_to_file(*net, model_.preset_json, model_.params), bytes, error))
            return error_object(error);
        return val::global("Uint8Array").new_(emscripten::typed_memory_view(bytes.size(), bytes.data()));
    }

    val render(const val& samples, double rate_hz) {
        if (!have_model_) return error_object("no remap model: train one or load one first");
        std::string error;
        Vec x;
        std::vector<nn::Hit> hits;
        if (!read_performance(samples, rate_hz, x, hits, error)) return error_object(error);
        Vec out;
        if (!nn::remap_render(model_, model_values_, x, hits, out, error)) return error_object(error);
        if (!out.allFinite()) return error_object("the 808 produced non-finite samples");
        val r = val::object();
        r.set("samples", to_float32_array(out));
        r.set("hits", int(hits.size()));
        return r;
    }

private:
    static val status(const std::string& error) { return error.empty() ? ok_object() : error_object(error); }

    nn::RemapParams params_;  // the defaults: 44.1 kHz, 250 ms hits, a 5.8 ms onset window
    Vec performance_;
    std::vector<nn::Hit> hits_;

    // The training run.
    std::unique_ptr<nn::RemapProblem> problem_;
    std::unique_ptr<ad::Tape> tape_;
    std::unique_ptr<nn::RemapNet> net_;
    std::unique_ptr<nn::RemapTrainer> trainer_;
    std::vector<int> train_, held_;
    nn::RemapModelKind kind_ = nn::RemapModelKind::mlp;
    std::string preset_json_ = "null";
    synth::ParamValues preset_values_;
    int steps_ = 0;
    bool done_ = false, reported_ = false;
    std::vector<double> history_;

    // The model that renders and exports: the last trained (when its run ends) or loaded.
    bool have_model_ = false, trained_ = false;
    int model_steps_ = 0;
    nn::RemapModelFile model_;
    synth::ParamValues model_values_;

    // The 808's unconstrained parameter count (the networks' outputs).
    static int num_params() {
        synth::SynthConfig cfg;
        cfg.sample_rate_hz = 44100;
        Vec u;
        std::string error;
        synth::to_unconstrained(synth::make_synth("drum808")->param_table(cfg), synth::drum808_presets().front().second, u,
                                error);
        return int(u.size());
    }

    std::string performance_json() const {
        return "{\"hits\": " + std::to_string(hits_.size()) +
               ", \"seconds\": " + util::json_number(double(performance_.size()) / params_.sample_rate_hz) +
               ", \"sampleRate\": " + util::json_number(params_.sample_rate_hz) + "}";
    }

    bool read_performance(const val& samples, double rate_hz, Vec& x, std::vector<nn::Hit>& hits, std::string& error) {
        if (!samples.instanceof(val::global("Float32Array"))) {
            error = "the performance must be a Float32Array";
            return false;
        }
        if (!(std::isfinite(rate_hz) && rate_hz >= 1000 && rate_hz <= 384000)) {
            error = "the performance's sample rate is outside 1000..384000 Hz";
            return false;
        }
        const Vec raw = to_vec(samples);
        if (!dsp::check_recording(raw, error)) {
            error = "the performance " + error;
            return false;
        }
        if (!engine::prepare_target(raw, rate_hz, int(params_.sample_rate_hz), kMaxPerformanceS, x, error) ||
            !nn::analyse_hits(x, params_, hits, error)) {
            error = one_line(error);
            return false;
        }
        return true;
    }

    std::string train_start(const std::string& preset, const std::string& model, int steps, double seed) {
        std::string error;
        nn::RemapModelKind kind;
        if (!nn::remap_model_kind(model, kind, error)) return error;
        if (steps < 1 || steps > 100000) return "steps must be within 1..100000";
        if (!(std::isfinite(seed) && seed >= 0 && seed < 9e15)) return "seed must be a whole number >= 0";
        synth::ParamValues values;
        std::string json;
        if (!nn::remap_preset(preset, values, json, error)) return one_line("preset: " + error);
        if (performance_.size() == 0) return "no performance: load or record one first";
        if (hits_.size() < 4)
            return "the performance has " + std::to_string(hits_.size()) + (hits_.size() == 1 ? " hit" : " hits") +
                   ": at least 4 are needed (every 4th is held out)";
        std::vector<int> train, held;
        for (int i = 0; i < int(hits_.size()); ++i) (i % 4 == 3 ? held : train).push_back(i);
        auto problem = std::make_unique<nn::RemapProblem>();
        if (!problem->init(values, hits_, params_, error)) return one_line(error);
        stop_training();
        problem_ = std::move(problem);
        train_ = std::move(train);
        held_ = std::move(held);
        kind_ = kind;
        preset_json_ = json;
        preset_values_ = values;
        steps_ = steps;
        tape_ = std::make_unique<ad::Tape>();
        net_ = std::make_unique<nn::RemapNet>(*tape_, kind, problem_->num_params(), params_.max_modulation,
                                              uint64_t(seed) + 1);  // as remap-train seeds its nets
        nn::RemapTrainOptions opt;
        opt.kind = kind;
        opt.steps = steps;
        opt.seed = uint64_t(seed);
        trainer_ = std::make_unique<nn::RemapTrainer>(*problem_, train_, opt, *net_);
        done_ = reported_ = false;
        history_.clear();
        return "";
    }

    std::string train_run_for(double ms) {
        if (!trainer_) return "{\"error\": \"no training has been started\"}";
        const auto t0 = std::chrono::steady_clock::now();
        const double budget_s = std::isfinite(ms) ? std::max(0.0, ms) / 1000 : 0;
        while (!done_ && trainer_->steps() < steps_ && budget_s > 0) {
            const double loss = trainer_->step();
            if (std::isfinite(loss)) history_.push_back(loss);
            if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= budget_s) break;
        }
        if (trainer_->steps() >= steps_) done_ = true;
        std::string s = "{\"step\": " + std::to_string(trainer_->steps()) + ", \"steps\": " + std::to_string(steps_);
        s += ", \"loss\": " + util::json_number(history_.empty() ? 0.0 : history_.back());
        s += std::string(", \"done\": ") + (done_ ? "true" : "false");
        s += ", \"history\": [";
        for (size_t i = 0; i < history_.size(); ++i) s += (i ? ", " : "") + util::json_number(history_[i]);
        s += "]";
        history_.clear();
        if (done_ && !reported_) {
            // The run's model becomes the one that renders, exports and plays live.
            std::string error;
            if (!adopt_trained(error)) return "{\"error\": " + util::json_quote(one_line(error)) + "}";
            s += ", \"heldOut\": {\"none\": " + features_json(nn::remap_errors(*problem_, held_, nullptr)) +
                 ", \"model\": " + features_json(nn::remap_errors(*problem_, held_, net_.get())) + "}";
            reported_ = true;
        }
        return s + "}";
    }

    bool adopt_trained(std::string& error) {
        nn::RemapModelFile model;
        if (!nn::remap_from_file(nn::remap_to_file(*net_, preset_json_, params_), model, error)) return false;
        model_ = std::move(model);
        model_values_ = preset_values_;
        have_model_ = trained_ = true;
        model_steps_ = trainer_->steps();
        return true;
    }

    void stop_training() {
        trainer_.reset();
        net_.reset();
        tape_.reset();
        problem_.reset();
    }
};

}  // namespace

EMSCRIPTEN_BINDINGS(ddsp_remap) {
    emscripten::class_<RemapRunner>("RemapRunner")
        .constructor<>()
        .function("presets", &RemapRunner::presets)
        .function("setPerformance", &RemapRunner::setPerformance)
        .function("trainStart", &RemapRunner::trainStart)
        .function("trainRunFor", &RemapRunner::trainRunFor)
        .function("trainStop", &RemapRunner::trainStop)
        .function("loadModel", &RemapRunner::loadModel)
        .function("info", &RemapRunner::info)
        .function("exportModel", &RemapRunner::exportModel)
        .function("render", &RemapRunner::render);
}
