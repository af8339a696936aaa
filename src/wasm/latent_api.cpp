// The latent panel's engine (embind, in ddsp_engine next to MatchRunner): a DDSP autoencoder from a
// safetensors file (nn/autoencoder.h), timbre transfer of the current recording, notes played by the
// decoder, and fine-tuning on the recording (nn/train.h's FineTuner), run in slices by worker.js.
//
//   const l = new ddsp.LatentRunner();    (one per worker)
//   l.loadModel(uint8Array)               -> {ok: true} or {error} (the previous model stays)
//   l.info()                              -> null or {config, zDims, sampleRate, latentSpace (null if
//                                             absent or not valid JSON), tuned, recording}
//   l.setRecording(float32Array, rate)    -> {ok} or {error}: kept as given; with a model, cut to its first
//                                             4 s, resampled to the model's rate, analysed and encoded
//                                             (also redone when a model loads later)
//   l.recordingLatent()                   -> Float32Array z (empty without a recording and a model)
//   l.setWeights('base'|'tuned')          -> {ok} or {error}: the weights the render* calls use
//   l.renderTransfer(z, transposeSemitones) -> Float32Array or {error}: the recording's f0 (shifted) and
//                                             loudness with latent z; the samples of
//                                             `ddsp autoencode --z z --transpose ST --max-seconds 4`
//   l.renderNote(z, f0Hz, seconds, velocity) -> Float32Array or {error}: a held note (constant f0, an
//                                             attack / decay / sustain / release loudness envelope)
//   l.fineTuneStart(steps, learningRate)  -> {ok} or {error}: a FineTuner on the recording (z starts at its
//                                             encoding); replaces any earlier fine-tuning
//   l.fineTuneRunFor(ms)                  -> {step, steps, loss, initialLoss, done, z, history: [losses
//                                             since the last call]} or {error}; at least one step a call
//                                             (a step cannot be split), none with ms <= 0
//   l.fineTuneRender()                    -> Float32Array (the recording through the tuned model) or {error}
//   l.fineTuneStop()                      -> {ok} (the tuned weights so far stay usable)
//   l.exportWeights()                     -> Uint8Array safetensors (the tuned model, or the loaded one,
//                                             with metadata "recording_z") or {error}
// Every error is one line, in {error} (js_bridge.h); no NaN or infinity leaves (a non-finite render is an error).
#include "dsp/features.h"
#include "dsp/recording_check.h"
#include "engine/target.h"
#include "nn/train.h"
#include "util/json.h"
#include "wasm/js_bridge.h"

#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

using namespace ddsp;
using namespace ddsp::wasm;

namespace {

constexpr double kMaxRecordingSeconds = 4;  // as the FineTuner's default: keeps a step under a second

// Loudness of a keyboard note (A-weighted dB, the decoder's input). From the training set
// (build/dataset/metadata.jsonl): median loudness_max_db is -35.4 / -26.2 / -20.7 dB at MIDI
// velocities 50 / 80 / 110, so peak = -46 + 29 * velocity (0..1) fits within 1 dB; held notes sit
// about 9 dB below their peak (loudness_held_mean_db).
constexpr double kPeakDbAtZero = -46, kPeakDbPerVelocity = 29;
constexpr double kSustainBelowPeakDb = 9;
constexpr double kFloorDb = -100;  // silence before the attack and after the release
constexpr double kAttackS = 0.01, kDecayS = 0.3, kReleaseS = 0.25;

std::string json_vector(const Arr& z) {
    std::string s = "[";
    for (Eigen::Index i = 0; i < z.size(); ++i) s += (i ? ", " : "") + util::json_number(double(z(0, i)));
    return s + "]";
}

// A forward-only copy of a model for rendering: its own tape, the graph rebuilt per render on top
// of the weights (truncated back to `mark` first).
struct RenderModel {
    std::unique_ptr<ad::Tape> tape;
    std::unique_ptr<nn::Autoencoder> model;
    int mark = 0;

    bool init(const nn::TensorFile& file, std::string& error) {
        auto t = std::make_unique<ad::Tape>(ad::Tape::Mode::forward_only);
        auto m = nn::load_autoencoder(*t, file, error);
        if (!m) return false;
        tape = std::move(t);
        model = std::move(m);
        mark = tape->num_nodes();
        return true;
    }

    bool render(const nn::Conditioning& c, const Arr& z, Vec& out, std::string& error) {
        tape->truncate(mark);
        const nn::Autoencoder::Output o = model->forward(*tape, c, nullptr, tape->constant(z));
        out = o.audio.value().col(0);
        tape->truncate(mark);
        if (!out.allFinite()) {
            error = "the model produced non-finite samples";
            return false;
        }
        return true;
    }
};

class LatentRunner {
public:
    // The JS API (js_bridge.h's convention): a value, {ok: true}, or {error}.
    val loadModel(const val& bytes) { return status(load_model(bytes)); }
    val info() const { return from_json(info_json()); }
    val setRecording(const val& samples, double rate_hz) { return status(set_recording(samples, rate_hz)); }
    val setWeights(const std::string& which) { return status(set_weights(which)); }
    val fineTuneStart(int steps, double learning_rate) { return status(fine_tune_start(steps, learning_rate)); }
    val fineTuneRunFor(double ms) { return from_json(fine_tune_run_for(ms)); }
    val fineTuneStop() { return status(fine_tune_stop()); }

    // The implementations: "" or a one-line error (JSON text for info and progress).
    std::string load_model(const val& bytes) {
        if (!bytes.instanceof(val::global("Uint8Array"))) return "loadModel: the model must be a Uint8Array";
        const std::vector<uint8_t> data = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
        nn::TensorFile file;
        std::string error;
        if (data.empty()) return "the model file is empty";
        if (!nn::safetensors_read_memory(data.data(), data.size(), file, error)) return one_line("model file: " + error);
        RenderModel base;
        if (!base.init(file, error)) return one_line("model file: " + error);
        // All checks passed: replace the previous model (and everything derived from it).
        file_ = std::move(file);
        base_ = std::move(base);
        tuned_ = RenderModel();
        tuner_.reset();
        use_tuned_ = false;
        latent_space_ = "null";
        const auto ls = file_.metadata.find("latent_space");
        util::JsonValue parsed;
        if (ls != file_.metadata.end() && util::json_parse(ls->second, parsed, error) &&
            parsed.type == util::JsonValue::Type::object)
            latent_space_ = ls->second;
        prepare_recording(error);  // a recording that does not suit this model is simply absent
        return "";
    }

    std::string info_json() const {
        if (!base_.model) return "null";
        const nn::AutoencoderConfig& c = base_.model->config();
        std::string s = "{\"config\": " + nn::autoencoder_config_json(c);
        s += ", \"zDims\": " + std::to_string(c.decoder.z_dims);
        s += ", \"sampleRate\": " + util::json_number(c.decoder.sample_rate_hz);
        s += ", \"latentSpace\": " + latent_space_;
        s += std::string(", \"tuned\": ") + (tuned_.model ? "true" : "false");
        s += ", \"recording\": " + (have_recording_ ? "{\"seconds\": " + util::json_number(double(rec_.size()) / rate()) +
                                                          ", \"z\": " + json_vector(rec_z_) + "}"
                                                    : std::string("null"));
        return s + "}";
    }

    std::string set_recording(const val& samples, double sample_rate_hz) {
        if (!samples.instanceof(val::global("Float32Array"))) return "the recording must be a Float32Array";
        if (!(std::isfinite(sample_rate_hz) && sample_rate_hz >= 1000 && sample_rate_hz <= 384000))
            return "the recording's sample rate is outside 1000..384000 Hz";
        Vec x = to_vec(samples);
        std::string check_error;
        if (!dsp::check_recording(x, check_error)) return "the recording " + check_error;
        raw_ = std::move(x);
        raw_rate_hz_ = sample_rate_hz;
        std::string error;
        if (base_.model && !prepare_recording(error)) return one_line(error);
        return "";
    }

    val recordingLatent() const { return to_float32_array(have_recording_ ? Vec(rec_z_.row(0).transpose()) : Vec()); }

    std::string set_weights(const std::string& which) {
        if (which == "base") use_tuned_ = false;
        else if (which == "tuned") {
            if (!tuner_ && !tuned_.model) return "there are no fine-tuned weights yet";
            use_tuned_ = true;
        } else {
            return "weights must be 'base' or 'tuned'";
        }
        return "";
    }

    val renderTransfer(const val& z_in, double transpose) {
        std::string error;
        Arr z;
        if (!read_z(z_in, z, error)) return error_object(error);
        if (!have_recording_) return error_object("no recording: load one first (the model encodes it)");
        if (!(std::isfinite(transpose) && std::fabs(transpose) <= 48)) return error_object("transpose must be within -48..48");
        nn::Conditioning c = rec_cond_;
        if (transpose != 0) c.f0_hz *= Real(std::pow(2.0, transpose / 12));
        return render(c, z);
    }

    val renderNote(const val& z_in, double f0_hz, double seconds, double velocity) {
        std::string error;
        Arr z;
        if (!read_z(z_in, z, error)) return error_object(error);
        if (!(std::isfinite(f0_hz) && f0_hz >= 20 && f0_hz <= 0.45 * rate()))
            return error_object("f0Hz must be within 20 Hz .. 0.45 x the model's rate");
        if (!(std::isfinite(seconds) && seconds >= 0.05 && seconds <= 10)) return error_object("seconds must be within 0.05..10");
        if (!(std::isfinite(velocity) && velocity > 0 && velocity <= 1)) return error_object("velocity must be within (0, 1]");
        nn::Conditioning c;
        c.sample_rate_hz = rate();
        c.num_samples = int(std::lround(seconds * rate()));
        c.hop = base_.model->decoder().hop();
        const int frames = c.num_samples / c.hop + 1;
        c.f0_hz = Vec::Constant(frames, Real(f0_hz));
        c.centroid_hz = Vec::Constant(frames, Real(std::min(4 * f0_hz, 0.45 * rate())));  // only models with use_centroid read it
        c.loudness_db = note_envelope_db(frames, c.hop / rate(), seconds, velocity);
        c.voiced_fraction = 1;
        return render(c, z);
    }

    std::string fine_tune_start(int steps, double learning_rate) {
        if (!base_.model) return "no model loaded";
        if (!have_recording_) return "no recording to fine-tune on: load one first";
        if (steps < 1 || steps > 100000) return "steps must be within 1..100000";
        if (!(std::isfinite(learning_rate) && learning_rate > 0 && learning_rate <= 0.1))
            return "learningRate must be within (0, 0.1]";
        nn::FineTuneOptions opt;
        opt.learning_rate = learning_rate;
        opt.max_seconds = kMaxRecordingSeconds;
        std::string error;
        auto t = nn::FineTuner::create(file_, rec_, opt, error);
        if (!t) return one_line("fine-tuning: " + error);
        const double loss = t->loss();
        if (!std::isfinite(loss)) return "fine-tuning: the model's loss on this recording is not finite";
        tuner_ = std::move(t);
        tuned_ = RenderModel();
        ft_steps_ = steps;
        ft_initial_loss_ = loss;
        ft_history_.clear();
        ft_done_ = false;
        return "";
    }

    std::string fine_tune_run_for(double ms) {
        if (!tuner_) return "{\"error\": \"no fine-tuning has been started\"}";
        const auto t0 = std::chrono::steady_clock::now();
        const double budget_s = std::isfinite(ms) ? std::max(0.0, ms) / 1000 : 0;
        while (!ft_done_ && tuner_->steps() < ft_steps_ && budget_s > 0) {  // ms <= 0: progress only
            const double before = tuner_->step();
            if (std::isfinite(before)) ft_history_.push_back(before);
            tuned_dirty_ = true;
            if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= budget_s) break;
        }
        if (tuner_->steps() >= ft_steps_) ft_done_ = true;
        if (!tuner_->z().allFinite()) {
            ft_done_ = true;
            return "{\"error\": \"fine-tuning diverged (the latent is no longer finite): try a lower learning rate\"}";
        }
        return progress_json();
    }

    std::string fine_tune_stop() {
        if (tuner_) ft_done_ = true;
        return "";
    }

    val fineTuneRender() {
        if (!tuner_) return error_object("no fine-tuning has been started");
        const Vec y = tuner_->render();
        if (!y.allFinite()) return error_object("the fine-tuned model produced non-finite samples");
        return to_float32_array(y);
    }

    val exportWeights() {
        if (!base_.model) return error_object("no model loaded");
        std::map<std::string, std::string> meta = file_.metadata;
        meta.erase("format");
        meta.erase("config");
        nn::TensorFile out;
        if (tuner_) {
            meta["recording_z"] = json_vector(tuner_->z());
            meta["fine_tune_steps"] = std::to_string(tuner_->steps());
            out = tuner_->weights(meta);
        } else {
            if (have_recording_) meta["recording_z"] = json_vector(rec_z_);
            out = base_.model->to_file(meta);
        }
        std::vector<uint8_t> bytes;
        std::string error;
        if (!nn::safetensors_encode(out, bytes, error)) return error_object(error);
        return val::global("Uint8Array").new_(emscripten::typed_memory_view(bytes.size(), bytes.data()));
    }

private:
    static val status(const std::string& error) { return error.empty() ? ok_object() : error_object(error); }

    nn::TensorFile file_;
    RenderModel base_, tuned_;
    std::string latent_space_ = "null";
    bool use_tuned_ = false, tuned_dirty_ = false;

    Vec raw_;  // the recording as given
    double raw_rate_hz_ = 0;
    bool have_recording_ = false;
    Vec rec_;  // at the model's rate, at most kMaxRecordingSeconds
    nn::Conditioning rec_cond_;
    Arr rec_z_;

    std::unique_ptr<nn::FineTuner> tuner_;
    int ft_steps_ = 0;
    double ft_initial_loss_ = 0;
    std::vector<double> ft_history_;
    bool ft_done_ = false;

    double rate() const { return base_.model ? base_.model->config().decoder.sample_rate_hz : 16000; }

    // As `ddsp autoencode --max-seconds 4` loads its target: cut, then resample.
    bool prepare_recording(std::string& error) {
        have_recording_ = false;
        if (raw_.size() == 0 || !base_.model) return false;
        Vec x;
        if (!engine::prepare_target(raw_, raw_rate_hz_, int(rate()), kMaxRecordingSeconds, x, error)) return false;
        if (x.size() < 1024) {
            error = "the recording is too short for the model (needs 1024 samples at its rate)";
            return false;
        }
        nn::Conditioning c;
        if (!nn::analyse_conditioning(x, rate(), base_.model->config().conditioning, c, error)) return false;
        const Arr z = base_.model->encode_mean(c);
        if (!z.allFinite()) {
            error = "the encoder produced a non-finite latent for this recording";
            return false;
        }
        rec_ = std::move(x);
        rec_cond_ = std::move(c);
        rec_z_ = z;
        have_recording_ = true;
        return true;
    }

    bool read_z(const val& z_in, Arr& z, std::string& error) const {
        if (!base_.model) {
            error = "no model loaded";
            return false;
        }
        if (!(z_in.isArray() || z_in.instanceof(val::global("Float32Array")) || z_in.instanceof(val::global("Float64Array")))) {
            error = "z must be an array of numbers";
            return false;
        }
        const std::vector<double> v = emscripten::convertJSArrayToNumberVector<double>(z_in);
        const int d = base_.model->z_dims();
        if (int(v.size()) != d) {
            error = "z needs " + std::to_string(d) + " values, got " + std::to_string(v.size());
            return false;
        }
        z.resize(1, d);
        for (int i = 0; i < d; ++i) {
            if (!std::isfinite(v[size_t(i)]) || std::fabs(v[size_t(i)]) > 100) {
                error = "z[" + std::to_string(i) + "] is not a number within -100..100";
                return false;
            }
            z(0, i) = Real(v[size_t(i)]);
        }
        return true;
    }

    Vec note_envelope_db(int frames, double frame_s, double seconds, double velocity) const {
        const double peak = kPeakDbAtZero + kPeakDbPerVelocity * velocity;
        const double sustain = peak - kSustainBelowPeakDb;
        const double release_s = std::min(kReleaseS, 0.3 * seconds);
        const double release_at = seconds - release_s;
        Vec db(frames);
        for (int f = 0; f < frames; ++f) {
            const double t = f * frame_s;
            double v;
            if (t < kAttackS) v = kFloorDb + (peak - kFloorDb) * t / kAttackS;
            else if (t < kAttackS + kDecayS) v = peak + (sustain - peak) * (t - kAttackS) / kDecayS;
            else v = sustain;
            if (t >= release_at) {
                // From wherever the envelope is when the key is released down to the floor.
                const double u = std::min(1.0, (t - release_at) / release_s);
                v = v + (kFloorDb - v) * u;
            }
            db[f] = Real(v);
        }
        return db;
    }

    val render(const nn::Conditioning& c, const Arr& z) {
        std::string error;
        RenderModel* m = &base_;
        if (use_tuned_ && tuner_) {
            if (!tuned_.model || tuned_dirty_) {
                // The tuner's tape holds its training graph: render from a forward-only copy.
                if (!tuned_.model && !tuned_.init(file_, error)) return error_object(error);
                if (!tuned_.model->load(tuner_->model().state(), error)) return error_object(error);
                tuned_dirty_ = false;
            }
            m = &tuned_;
        }
        Vec y;
        if (!m->render(c, z, y, error)) return error_object(error);
        return to_float32_array(y);
    }

    std::string progress_json() {
        std::string s = "{\"step\": " + std::to_string(tuner_->steps()) + ", \"steps\": " + std::to_string(ft_steps_);
        const double loss = tuner_->loss();
        s += ", \"loss\": " + util::json_number(std::isfinite(loss) ? loss : ft_initial_loss_);
        s += ", \"initialLoss\": " + util::json_number(ft_initial_loss_);
        s += std::string(", \"done\": ") + (ft_done_ ? "true" : "false");
        s += ", \"z\": " + json_vector(tuner_->z());
        s += ", \"history\": [";
        for (size_t i = 0; i < ft_history_.size(); ++i) s += (i ? ", " : "") + util::json_number(ft_history_[i]);
        ft_history_.clear();
        return s + "]}";
    }
};

}  // namespace

EMSCRIPTEN_BINDINGS(ddsp_latent) {
    emscripten::class_<LatentRunner>("LatentRunner")
        .constructor<>()
        .function("loadModel", &LatentRunner::loadModel)
        .function("info", &LatentRunner::info)
        .function("setRecording", &LatentRunner::setRecording)
        .function("recordingLatent", &LatentRunner::recordingLatent)
        .function("setWeights", &LatentRunner::setWeights)
        .function("renderTransfer", &LatentRunner::renderTransfer)
        .function("renderNote", &LatentRunner::renderNote)
        .function("fineTuneStart", &LatentRunner::fineTuneStart)
        .function("fineTuneRunFor", &LatentRunner::fineTuneRunFor)
        .function("fineTuneStop", &LatentRunner::fineTuneStop)
        .function("fineTuneRender", &LatentRunner::fineTuneRender)
        .function("exportWeights", &LatentRunner::exportWeights);
}
