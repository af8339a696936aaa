// The engine's JavaScript API (embind), loaded by the browser pages and their worker. A thin
// adapter: every policy (which synth, which rate, how the target is cut, resampled and checked,
// rendering with overrides, the synth table, the defaults) lives in src/engine; this file only
// marshals (js_bridge.h).
//
//   const ddsp = await createDdspEngine();
//   ddsp.decodeWav(uint8Array)            -> {samples: Float32Array, sampleRate, channels, bits, format,
//                                             truncated} or {error: "one line"}
//   ddsp.decodeWavLimited(uint8Array, maxSeconds) -> the same, refusing audio longer than maxSeconds (the
//                                             page's duration limit) before any sample is decoded
//   ddsp.debugTrap(kind)                  -> never returns: 'trap' executes unreachable, 'abort' calls
//                                             abort() (the worker's crash test, behind a test-only flag)
//   ddsp.resample(float32Array, fromHz, toHz) -> Float32Array (empty on bad arguments)
//   ddsp.mrstftDistance(a, b)             -> number (DDSP multi-resolution STFT distance; NaN if lengths differ)
//   ddsp.synths()                         -> JSON string: every synth and its parameter table, exactly
//                                             `ddsp synths` (engine::synths_json)
//   ddsp.defaults()                       -> JSON string: every match default (engine::defaults_json)
//   ddsp.version()                        -> string
//
//   const r = new ddsp.MatchRunner();     (one per worker; r.delete() frees it)
//   r.setTarget(float32Array, sampleRate) -> {seconds, sampleRate, samples} or {error}
//       mono samples as decoded; each synth gets them prepared by engine::Target (its first
//       max(default duration, 4 s), resampled to its rate, checked), as `ddsp match` loads a file.
//   r.targetTable(synth, paramsJson)      -> {sampleRate, samples, params: [{name, unit, min, max, default,
//                                             scale, size, global, description}], initial: parameter-file
//                                             JSON} or {error}:
//       the synth's parameter table for the loaded target as matching sees it (ks narrows its f0 range
//       around the recorded note) and the values a match would start from. The UI shows this table
//       instead of analysing the target itself.
//   r.loadKsModel(uint8Array)             -> {ok} or {error}: the string autoencoder (ddsp train --model ks-ae)
//                                            for the methods amortised and amortised+gradient (ks only; hybrid
//                                            on ks starts from its prediction too once it is loaded)
//   r.start({synth, method, loss, steps, timeBudgetS, learningRate, seed, population, params})
//                                         -> {initialLoss, sampleRate, samples, values, stepLimit} or {error}
//       params: a parameter-file JSON string to start from ('' or absent: the synth's initial guess);
//       its sample_rate, if given, is the rate matched at (else the synth's default), as in the CLI.
//   r.runFor(ms)                          -> progress {iteration, loss, bestLoss, initialLoss, evaluations,
//                                             elapsedS, itersPerS, stepLimit, timeBudgetS, done, reason,
//                                             improved, sampleRate}; improved: the best changed since the
//                                             last bestParamsJson()/bestAudio()
//   r.progress()                          -> the same without running
//   r.takeHistory()                       -> Float32Array: each iteration's loss since the last call
//   r.stop(); r.resume(steps)             -> progress (steps <= 0: the rest of the step limit, or as many
//                                             again); a time budget restarts from the resume
//   r.bestParamsJson()                    -> parameter-file JSON of the best parameters (physical units)
//   r.bestAudio()                         -> Float32Array (their rendering) or {error}
//   r.streamPreset(synth, paramsJson, {seed, useTarget}) -> {params, head, f0, sampleRate, seconds,
//       pitchHz}: what the worklet's live engine plays (engine::make_stream_preset)
//   r.render(synth, paramsJson, {seconds, sampleRate, seed, f0Hz, useTarget})
//                                         -> {samples, sampleRate, seconds} or {error}
//       engine::render: exactly `ddsp render --synth S --params P [--seconds] [--sr] [--seed]
//       [--target]`; f0Hz plays at that pitch (Synth::set_pitch_hz: ks f0_hz, sine frequency_hz,
//       drum808 osc1 with osc2 at its ratio, ddsp its conditioning, with useTarget the target's f0
//       track scaled so its median is f0Hz); useTarget: the synth uses its analysis of the target, as
//       matching does, so the best parameters render the session's reconstruction.
//   r.landscapeStart(synth, paramsJson, x, y, steps, {loss, seed, xRange: [lo, hi], yRange})
//                                         -> {steps} or {error}; the grid of `ddsp landscape --target`
//                                             on the current target (engine::LandscapeJob)
//   r.landscapeRun(ms)                    -> {done, pointsDone, steps}
//   r.landscapeResult()                   -> {steps, x, y, xLog, yLog, xValues, yValues, loss (Float32Array,
//                                             y outer), invalid, minimum: {x, y, loss}, current: {x, y}} or {error}
//   r.landscape(synth, paramsJson, x, y, steps, options) -> landscapeResult() in one call
// Every error is a one-line message in {error}; nothing aborts. No NaN or infinity leaves the
// module: losses of iterations or grid points whose audio was non-finite are reported as the best
// loss so far (history) or the grid's largest finite loss (landscape, counted in `invalid`).
#include "dsp/resample.h"
#include "dsp/wav.h"
#include "engine/amortised.h"
#include "engine/landscape_job.h"
#include "engine/match_job.h"
#include "engine/live.h"
#include "engine/synth_job.h"
#include "engine/target.h"
#include "match/loss.h"
#include "wasm/js_bridge.h"

#include <cmath>
#include <cstdlib>

using namespace ddsp;
using namespace ddsp::wasm;

namespace {

val decode_wav_limited(const val& bytes, double max_seconds) {
    const std::vector<uint8_t> data = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
    dsp::Audio audio;
    std::string error;
    dsp::WavReadOptions opt;
    if (max_seconds > 0) opt.max_duration_s = max_seconds;
    if (!dsp::wav_read_memory(data.data(), data.size(), audio, error, opt)) return error_object(error);
    val out = val::object();
    out.set("samples", to_float32_array(audio.samples));
    out.set("sampleRate", audio.sample_rate_hz);
    out.set("channels", audio.channels);
    out.set("bits", audio.bits_per_sample);
    out.set("format", audio.format);
    out.set("truncated", audio.data_truncated);
    return out;
}

val decode_wav(const val& bytes) { return decode_wav_limited(bytes, 0); }

// The worker's crash test (web/worker.js accepts it only from a page opened with its test flag).
void debug_trap(const std::string& kind) {
    if (kind == "abort") std::abort();
    __builtin_trap();
}

val resample(const val& samples, double from_hz, double to_hz) {
    return to_float32_array(dsp::resample(to_vec(samples), from_hz, to_hz));
}

double mrstft_distance(const val& a, const val& b) {
    const Vec x = to_vec(a), y = to_vec(b);
    if (x.size() != y.size() || x.size() == 0) return std::nan("");
    return match::mrstft_distance(x, y);
}

std::string version() { return "ddsp.cpp 0.1.0"; }

val progress_object(const engine::MatchProgress& p) {
    val out = val::object();
    out.set("iteration", p.iteration);
    out.set("loss", p.loss);
    out.set("bestLoss", p.best_loss);
    out.set("initialLoss", p.initial_loss);
    out.set("evaluations", p.evaluations);
    out.set("elapsedS", p.elapsed_s);
    out.set("itersPerS", p.iters_per_s);
    out.set("stepLimit", p.step_limit);
    out.set("timeBudgetS", p.time_budget_s);
    out.set("done", p.done);
    out.set("reason", p.reason);
    out.set("improved", p.improved);
    out.set("sampleRate", p.sample_rate_hz);
    return out;
}

// [SECTION] MatchRunner

class MatchRunner {
public:
    val setTarget(const val& samples, double sample_rate_hz) {
        if (!samples.instanceof(val::global("Float32Array")))
            return error_object("the target must be a Float32Array of mono samples");
        std::string error;
        Vec x = to_vec(samples);
        const Eigen::Index n = x.size();
        if (!target_.set(std::move(x), sample_rate_hz, error)) return error_object(error);
        val out = val::object();
        out.set("seconds", double(n) / sample_rate_hz);
        out.set("sampleRate", sample_rate_hz);
        out.set("samples", int(n));
        return out;
    }

    val targetTable(const std::string& synth_name, const std::string& params_text) {
        std::string error;
        engine::SynthJob job;
        engine::TargetFit fit;
        if (!engine::prepare_synth_text(synth_name, params_text, 0, job, error) ||
            !engine::fit_target(job, target_, 0, fit, error))
            return error_object(error);
        const synth::SynthConfig& cfg = fit.cfg;
        const std::vector<synth::ParamSpec> table = job.synth->param_table(cfg);
        val out = val::object();
        out.set("sampleRate", job.sample_rate_hz);
        out.set("samples", cfg.num_samples);
        out.set("params", from_json(engine::param_table_json(table)));
        out.set("initial", match::params_to_json(job.name, cfg.sample_rate_hz, cfg.num_samples / cfg.sample_rate_hz,
                                                 job.synth->initial_values(cfg), table));
        return out;
    }

    // A failed start leaves the current match (if any) as it was.
    val start(const val& settings) {
        std::string error, method = "gradient", loss = "mrstft", synth_options;
        engine::MatchRequest req;
        match::MatchParams& mp = req.settings;
        double steps = mp.max_steps, seed = 0, population = mp.population;
        if (!read_string(settings, "synth", req.synth, error) || !read_string(settings, "method", method, error) ||
            !read_string(settings, "loss", loss, error) || !read_string(settings, "params", req.params_text, error) ||
            !read_string(settings, "synthOptions", synth_options, error) ||
            !read_number(settings, "steps", 1, 10000000, steps, error) ||
            !read_number(settings, "timeBudgetS", 0, 1e7, req.time_budget_s, error) ||
            !read_number(settings, "learningRate", 1e-9, 100, mp.learning_rate, error) ||
            !read_number(settings, "seed", 0, 9007199254740991.0, seed, error) ||
            !read_number(settings, "population", 3, 10000, population, error))
            return error_object(error);
        // amortised: the string autoencoder's one-pass prediction; amortised+gradient: gradient
        // descent from it; hybrid starts from it too when the model is loaded (loadKsModel).
        const bool amortised = method == "amortised" || method == "amortised+gradient";
        if (amortised) mp.method = match::Method::gradient;
        else if (!match::parse_method(method, mp.method))
            return error_object("unknown method '" + method + "' (methods: " + engine::method_names() +
                                ", amortised, amortised+gradient)");
        engine::AmortisedPrediction pred;
        if (amortised || (mp.method == match::Method::hybrid && ks_model_ && req.synth == "ks" && req.params_text.empty())) {
            if (!ks_model_) return error_object(method + " needs the string model: loadKsModel first");
            if (req.synth != "ks") return error_object(method + " predicts the ks string, not '" + req.synth + "'");
            if (!engine::amortised_prediction(*ks_model_, target_, 0, 0, 0, method != "amortised", pred, error)) return error_object(error);
            req.params_text = pred.params_json;
        }
        if (!synth_options.empty() && !engine::parse_synth_options(synth_options, req.synth_options, error))
            return error_object(error);
        if (!match::parse_loss(loss, mp.loss))
            return error_object("unknown loss '" + loss + "' (losses: " + engine::loss_names() + ")");
        mp.max_steps = int(steps);
        mp.seed = uint64_t(seed);
        mp.population = int(population);
        mp.parents = std::max(1, mp.population / 2);
        if (!job_.start(req, target_, error)) return error_object(error);
        if (method == "amortised") job_.stop("amortised");  // the prediction is the result
        val out = val::object();
        out.set("initialLoss", job_.session().initial_loss());
        if (pred.f0_hz > 0) {
            out.set("amortisedMs", pred.encoder_ms);
            out.set("amortisedF0Hz", pred.f0_hz);
        }
        out.set("sampleRate", job_.sample_rate_hz());
        out.set("samples", int(job_.target().size()));
        out.set("seconds", double(job_.target().size()) / job_.sample_rate_hz());
        out.set("values", synth::table_size(job_.session().table()));
        out.set("stepLimit", mp.max_steps);
        return out;
    }

    // The string autoencoder (`ddsp train --model ks-ae`, safetensors bytes) for the amortised
    // methods. {ok} or {error}; a bad file leaves the previous model.
    val loadKsModel(const val& bytes) {
        if (!bytes.instanceof(val::global("Uint8Array"))) return error_object("loadKsModel: the model must be a Uint8Array");
        const std::vector<uint8_t> data = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
        nn::TensorFile file;
        std::string error;
        if (data.empty() || !nn::safetensors_read_memory(data.data(), data.size(), file, error))
            return error_object("string model: " + (data.empty() ? std::string("the file is empty") : error));
        auto tape = std::make_unique<ad::Tape>(ad::Tape::Mode::forward_only);
        auto model = nn::load_ks_autoencoder(*tape, file, error);
        if (!model) return error_object("string model: " + error);
        ks_model_ = std::move(model);
        ks_tape_ = std::move(tape);
        return ok_object();
    }
    bool hasKsModel() const { return ks_model_ != nullptr; }

    val runFor(double ms) {
        if (!job_.started()) return error_object("no match has been started");
        job_.run_for(std::isfinite(ms) ? ms / 1000 : 0);
        return progress();
    }

    val progress() const {
        if (!job_.started()) return error_object("no match has been started");
        return progress_object(job_.progress());
    }

    val takeHistory() { return to_float32_array(job_.take_history()); }

    void stop() { job_.stop(); }

    val resume(int steps) {
        if (!job_.started()) return error_object("no match has been started");
        job_.resume(steps);
        return progress();
    }

    std::string bestParamsJson() { return job_.best_params_json(); }

    val bestAudio() {
        Vec audio;
        std::string error;
        if (!job_.best_audio(audio, error)) return error_object(error);
        return to_float32_array(audio);
    }

    val render(const std::string& synth_name, const std::string& params_text, const val& options) {
        std::string error;
        double rate = 0, seed = 0;
        engine::RenderOptions ro;
        bool use_target = false;
        if (!read_number(options, "seconds", 0.001, 60, ro.seconds, error) ||
            !read_number(options, "sampleRate", 1000, 384000, rate, error) ||
            !read_number(options, "seed", 0, 9007199254740991.0, seed, error) ||
            !read_number(options, "f0Hz", 1, 100000, ro.f0_hz, error))
            return error_object(error);
        read_bool(options, "useTarget", use_target);
        ro.seed = uint64_t(seed);
        engine::SynthJob job;
        if (!engine::prepare_synth_text(synth_name, params_text, rate, job, error)) return error_object(error);
        if (job.have_file || ro.f0_hz > 0) ro.params_label = "params";
        Vec audio;
        if (!engine::render(job, ro, use_target ? &target_ : nullptr, audio, error)) return error_object(error);
        val out = val::object();
        out.set("samples", to_float32_array(audio));
        out.set("sampleRate", job.sample_rate_hz);
        out.set("seconds", double(audio.size()) / job.sample_rate_hz);
        return out;
    }

    // The live engine's preset for these parameters (engine::make_stream_preset): the parameter
    // file resolved as the worklet will play it, plus what the synth takes from the target (ks: the
    // recording's first samples, ddsp: its f0 track) with useTarget. -> {params, head, f0, sampleRate,
    // seconds, pitchHz}.
    val streamPreset(const std::string& synth_name, const std::string& params_text, const val& options) {
        std::string error;
        double seed = 0;
        bool use_target = false;
        if (!read_number(options, "seed", 0, 9007199254740991.0, seed, error)) return error_object(error);
        read_bool(options, "useTarget", use_target);
        engine::SynthJob job;
        if (!engine::prepare_synth_text(synth_name, params_text, 0, job, error)) return error_object(error);
        synth::StreamPreset preset;
        bool ok = false;
        if (use_target && !target_.empty()) {
            ok = engine::make_stream_preset(job, target_, uint64_t(seed), preset, error);
        } else {
            match::ParamFile file = job.file;  // without a file: the synth's defaults
            if (!job.have_file) file.synth = job.name;
            ok = engine::make_stream_preset(file, 0, uint64_t(seed), Vec(), Vec(), preset, error);
        }
        if (!ok) return error_object(error);
        const double seconds = double(preset.cfg.num_samples) / preset.cfg.sample_rate_hz;
        val out = val::object();
        out.set("params", match::params_to_json(preset.synth, preset.cfg.sample_rate_hz, seconds, preset.values,
                                                preset.table));
        out.set("head", to_float32_array(preset.excitation_head));
        out.set("f0", to_float32_array(preset.f0_frames_hz));
        out.set("sampleRate", preset.cfg.sample_rate_hz);
        out.set("seconds", seconds);
        out.set("pitchHz", preset.pitch_hz);
        return out;
    }

    val landscapeStart(const std::string& synth_name, const std::string& params_text, const std::string& x_name,
                       const std::string& y_name, int steps, const val& options) {
        std::string error, loss = "mrstft";
        double seed = 0;
        engine::LandscapeRequest req;
        if (!read_string(options, "loss", loss, error) ||
            !read_number(options, "seed", 0, 9007199254740991.0, seed, error) ||
            !read_range(options, "xRange", req.x_lo, req.x_hi, req.have_x_range, error) ||
            !read_range(options, "yRange", req.y_lo, req.y_hi, req.have_y_range, error))
            return error_object(error);
        if (!match::parse_loss(loss, req.loss))
            return error_object("unknown loss '" + loss + "' (losses: " + engine::loss_names() + ")");
        req.synth = synth_name;
        req.params_text = params_text;
        req.x = x_name;
        req.y = y_name;
        req.steps = steps;
        req.seed = uint64_t(seed);
        if (!landscape_.start(req, target_, error)) return error_object(error);
        val out = val::object();
        out.set("steps", steps);
        return out;
    }

    val landscapeRun(double ms) {
        if (!landscape_.started()) return error_object("no landscape has been started");
        landscape_.run_for(std::isfinite(ms) ? ms / 1000 : 0);
        val out = val::object();
        out.set("done", landscape_.done());
        out.set("pointsDone", landscape_.points_done());
        out.set("steps", landscape_.steps());
        return out;
    }

    val landscapeResult() {
        engine::LandscapeResult r;
        std::string error;
        if (!landscape_.result(r, error)) return error_object(error);
        val out = val::object();
        out.set("steps", landscape_.steps());
        out.set("x", r.x_label);
        out.set("y", r.y_label);
        out.set("xLog", r.x_log);
        out.set("yLog", r.y_log);
        out.set("xValues", to_float32_array(r.x_values));
        out.set("yValues", to_float32_array(r.y_values));
        out.set("loss", to_float32_array(r.loss));
        out.set("invalid", r.invalid);
        val minimum = val::object();
        minimum.set("x", r.min_x);
        minimum.set("y", r.min_y);
        minimum.set("loss", r.min_loss);
        out.set("minimum", minimum);
        val current = val::object();
        current.set("x", r.current_x);
        current.set("y", r.current_y);
        out.set("current", current);
        return out;
    }

    val landscape(const std::string& synth_name, const std::string& params_text, const std::string& x_name,
                  const std::string& y_name, int steps, const val& options) {
        const val started = landscapeStart(synth_name, params_text, x_name, y_name, steps, options);
        if (is_error(started)) return started;
        while (!landscape_.run_for(1e9)) {
        }
        return landscapeResult();
    }

private:
    engine::Target target_;
    engine::MatchJob job_;
    engine::LandscapeJob landscape_;
    std::unique_ptr<ad::Tape> ks_tape_;  // before the model: it outlives it
    std::unique_ptr<nn::KsAutoencoder> ks_model_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(ddsp_engine) {
    emscripten::function("decodeWav", &decode_wav);
    emscripten::function("decodeWavLimited", &decode_wav_limited);
    emscripten::function("debugTrap", &debug_trap);
    emscripten::function("resample", &resample);
    emscripten::function("mrstftDistance", &mrstft_distance);
    emscripten::function("synths", &engine::synths_json);
    emscripten::function("defaults", &engine::defaults_json);
    emscripten::function("version", &version);
    emscripten::class_<MatchRunner>("MatchRunner")
        .constructor<>()
        .function("setTarget", &MatchRunner::setTarget)
        .function("targetTable", &MatchRunner::targetTable)
        .function("start", &MatchRunner::start)
        .function("loadKsModel", &MatchRunner::loadKsModel)
        .function("hasKsModel", &MatchRunner::hasKsModel)
        .function("runFor", &MatchRunner::runFor)
        .function("progress", &MatchRunner::progress)
        .function("takeHistory", &MatchRunner::takeHistory)
        .function("stop", &MatchRunner::stop)
        .function("resume", &MatchRunner::resume)
        .function("bestParamsJson", &MatchRunner::bestParamsJson)
        .function("bestAudio", &MatchRunner::bestAudio)
        .function("render", &MatchRunner::render)
        .function("streamPreset", &MatchRunner::streamPreset)
        .function("landscapeStart", &MatchRunner::landscapeStart)
        .function("landscapeRun", &MatchRunner::landscapeRun)
        .function("landscapeResult", &MatchRunner::landscapeResult)
        .function("landscape", &MatchRunner::landscape);
}
