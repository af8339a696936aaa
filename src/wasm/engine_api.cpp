// The engine's JavaScript API (embind), loaded by the browser pages and their worker:
//   const ddsp = await createDdspEngine();
//   ddsp.decodeWav(uint8Array)            -> {samples: Float32Array, sampleRate, channels, bits, format,
//                                             truncated} or {error: "one line"}
//   ddsp.resample(float32Array, fromHz, toHz) -> Float32Array (empty on bad arguments)
//   ddsp.mrstftDistance(a, b)             -> number (DDSP multi-resolution STFT distance; NaN if lengths differ)
//   ddsp.synths()                         -> JSON string: every synth and its parameter table
//   ddsp.version()                        -> string
//
//   const r = new ddsp.MatchRunner();     (one per worker; r.delete() frees it)
//   r.setTarget(float32Array, sampleRate) -> {seconds, sampleRate, samples} or {error}
//       mono samples as decoded; each synth gets them cut to max(its default duration, 4 s) and
//       resampled to its rate (dsp::resample), as `ddsp match` loads a target file.
//   r.start({synth, method, loss, steps, timeBudgetS, learningRate, seed, population, params})
//                                         -> {initialLoss, sampleRate, samples, values, stepLimit} or {error}
//       params: a parameter-file JSON string to start from ('' or absent: the synth's initial guess);
//       its sample_rate, if given, is the rate matched at (else the synth's default), as in the CLI.
//   r.runFor(ms)                          -> progress {iteration, loss, bestLoss, initialLoss, evaluations,
//                                             elapsedS, itersPerS, stepLimit, timeBudgetS, done, reason,
//                                             improved}; improved: the best changed since the last
//                                             bestParamsJson()/bestAudio()
//   r.progress()                          -> the same without running
//   r.takeHistory()                       -> Float32Array: each iteration's loss since the last call
//   r.stop(); r.resume(steps)             -> progress (steps <= 0: the rest of the step limit, or as many
//                                             again); a time budget restarts from the resume
//   r.bestParamsJson()                    -> parameter-file JSON of the best parameters (physical units)
//   r.bestAudio()                         -> Float32Array (their rendering) or {error}
//   r.render(synth, paramsJson, {seconds, sampleRate, seed, f0Hz, useTarget})
//                                         -> {samples, sampleRate, seconds} or {error}
//       exactly `ddsp render --synth S --params P [--seconds] [--sr] [--seed]` (same samples), plus:
//       f0Hz: ks sets f0_hz, sine frequency_hz, drum808 osc1_freq_hz (osc2 keeps its ratio to it),
//             ddsp plays that constant pitch (`ddsp render --f0`) or, with useTarget, the target's f0
//             track scaled so its median is f0Hz;
//       useTarget: the synth first analyses the target (at the render rate, for its duration unless
//             `seconds` is given), as matching does and as `ddsp render --target` does, so the best
//             parameters render the session's reconstruction (ks: its residual excitation and narrowed
//             f0 range; ddsp: its f0 track and loudness). ks ignores it when f0Hz is given (the
//             residual belongs to the recorded pitch).
//   r.landscapeStart(synth, paramsJson, x, y, steps, {loss, seed, xRange: [lo, hi], yRange})
//                                         -> {steps} or {error}; the grid of `ddsp landscape --target`
//                                             on the current target (src/match/landscape.h)
//   r.landscapeRun(ms)                    -> {done, pointsDone, steps}
//   r.landscapeResult()                   -> {steps, x, y, xValues, yValues, loss (Float32Array, y outer),
//                                             invalid, minimum: {x, y, loss}, current: {x, y}} or {error}
//   r.landscape(synth, paramsJson, x, y, steps, options) -> landscapeResult() in one call
// Every error is a one-line message in {error}; nothing aborts. No NaN or infinity leaves the
// module: losses of iterations or grid points whose audio was non-finite are reported as the best
// loss so far (history) or the grid's largest finite loss (landscape, counted in `invalid`).
#include "dsp/resample.h"
#include "dsp/wav.h"
#include "match/landscape.h"
#include "match/loss.h"
#include "match/params_json.h"
#include "match/session.h"
#include "synth/ddsp_synth.h"
#include "synth/synth.h"

#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <sstream>

using emscripten::val;
using namespace ddsp;

namespace {

Vec to_vec(const val& typed_array) {
    const std::vector<float> v = emscripten::convertJSArrayToNumberVector<float>(typed_array);
    Vec out(Eigen::Index(v.size()));
    for (size_t i = 0; i < v.size(); ++i) out[Eigen::Index(i)] = Real(v[i]);
    return out;
}

val to_float32_array(const Vec& v) {
    std::vector<float> f(size_t(v.size()));
    for (Eigen::Index i = 0; i < v.size(); ++i) f[size_t(i)] = float(v[i]);
    // Copy out of wasm memory: a view would dangle once `f` is freed or memory grows.
    return val::global("Float32Array").new_(emscripten::typed_memory_view(f.size(), f.data()));
}

val decode_wav(const val& bytes) {
    const std::vector<uint8_t> data = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
    dsp::Audio audio;
    std::string error;
    val out = val::object();
    if (!dsp::wav_read_memory(data.data(), data.size(), audio, error)) {
        out.set("error", error);
        return out;
    }
    out.set("samples", to_float32_array(audio.samples));
    out.set("sampleRate", audio.sample_rate_hz);
    out.set("channels", audio.channels);
    out.set("bits", audio.bits_per_sample);
    out.set("format", audio.format);
    out.set("truncated", audio.data_truncated);
    return out;
}

val resample(const val& samples, double from_hz, double to_hz) {
    return to_float32_array(dsp::resample(to_vec(samples), from_hz, to_hz));
}

double mrstft_distance(const val& a, const val& b) {
    const Vec x = to_vec(a), y = to_vec(b);
    if (x.size() != y.size() || x.size() == 0) return std::nan("");
    return match::mrstft_distance(x, y);
}

std::string json_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        o += c;
    }
    return o;
}

std::string synths_json() {
    std::ostringstream o;
    o << "[";
    bool first_synth = true;
    for (const std::string& name : synth::synth_names()) {
        auto s = synth::make_synth(name);
        synth::SynthConfig cfg;
        cfg.sample_rate_hz = s->default_sample_rate_hz();
        cfg.num_samples = int(s->default_seconds() * cfg.sample_rate_hz);
        o << (first_synth ? "" : ",") << "{\"name\":\"" << json_escape(name) << "\",\"description\":\""
          << json_escape(s->description()) << "\",\"sample_rate\":" << cfg.sample_rate_hz << ",\"params\":[";
        first_synth = false;
        bool first = true;
        for (const synth::ParamSpec& p : s->param_table(cfg)) {
            o << (first ? "" : ",") << "{\"name\":\"" << json_escape(p.name) << "\",\"unit\":\"" << json_escape(p.unit)
              << "\",\"min\":" << p.min_value << ",\"max\":" << p.max_value << ",\"default\":" << p.default_value
              << ",\"scale\":\"" << (p.scale == ad::Scale::log ? "log" : "linear") << "\",\"size\":" << p.size << "}";
            first = false;
        }
        o << "]}";
    }
    o << "]";
    return o.str();
}

std::string version() { return "ddsp.cpp 0.1.0"; }


// [SECTION] MatchRunner helpers

val error_object(const std::string& message) {
    std::string line = message;
    for (char& c : line)
        if ((unsigned char)c < 0x20 || c == 0x7F) c = ' ';
    val out = val::object();
    out.set("error", line);
    return out;
}

std::string fmt_g(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

bool is_object(const val& v) { return !v.isUndefined() && !v.isNull() && v.typeOf().as<std::string>() == "object"; }

// An optional field of a JS object: absent (undefined or null) leaves `out` alone; anything but a
// finite number in [lo, hi] is an error naming the field.
bool read_number(const val& obj, const char* key, double lo, double hi, double& out, std::string& error,
                 bool* present = nullptr) {
    if (present) *present = false;
    if (!is_object(obj)) return true;
    const val v = obj[key];
    if (v.isUndefined() || v.isNull()) return true;
    if (!v.isNumber()) {
        error = std::string(key) + ": not a number";
        return false;
    }
    const double x = v.as<double>();
    if (!std::isfinite(x) || x < lo || x > hi) {
        error = std::string(key) + ": " + fmt_g(x) + " is outside " + fmt_g(lo) + ".." + fmt_g(hi);
        return false;
    }
    out = x;
    if (present) *present = true;
    return true;
}

bool read_string(const val& obj, const char* key, std::string& out, std::string& error) {
    if (!is_object(obj)) return true;
    const val v = obj[key];
    if (v.isUndefined() || v.isNull()) return true;
    if (!v.isString()) {
        error = std::string(key) + ": not a string";
        return false;
    }
    out = v.as<std::string>();
    return true;
}

bool read_bool(const val& obj, const char* key, bool& out) {
    if (!is_object(obj)) return true;
    const val v = obj[key];
    if (v.isUndefined() || v.isNull()) return true;
    out = v.isTrue() || (v.isNumber() && v.as<double>() != 0);
    return true;
}

// [lo, hi] from a two-number array.
bool read_range(const val& obj, const char* key, double& lo, double& hi, bool& present, std::string& error) {
    present = false;
    if (!is_object(obj)) return true;
    const val v = obj[key];
    if (v.isUndefined() || v.isNull()) return true;
    if (!v.isArray() || v["length"].as<int>() != 2 || !v[0].isNumber() || !v[1].isNumber()) {
        error = std::string(key) + ": not [lo, hi]";
        return false;
    }
    lo = v[0].as<double>();
    hi = v[1].as<double>();
    present = true;
    return true;
}

std::unique_ptr<synth::Synth> make_named_synth(const std::string& name, std::string& error) {
    auto s = synth::make_synth(name);
    if (!s) {
        std::string names;
        for (const std::string& n : synth::synth_names()) names += (names.empty() ? "" : ", ") + n;
        error = "unknown synth '" + name + "' (synths: " + names + ")";
    }
    return s;
}

// A parameter-file JSON string for `synth_name` (empty text: no file). An empty synth_name takes the
// file's synth. As the CLI's choose_synth.
bool parse_param_text(const std::string& text, std::string& synth_name, match::ParamFile& file, bool& have_file,
                      std::string& error) {
    have_file = false;
    bool blank = true;
    for (char c : text)
        if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r')) blank = false;
    if (!blank) {
        if (!match::params_parse(text, file, error)) {
            error = "params: " + error;
            return false;
        }
        have_file = true;
        if (synth_name.empty()) synth_name = file.synth;
        if (file.synth != synth_name) {
            error = "params: these are parameters for synth '" + file.synth + "', not '" + synth_name + "'";
            return false;
        }
    }
    if (synth_name.empty()) {
        error = "no synth given";
        return false;
    }
    return true;
}

// As the CLI's choose_sample_rate: the parameter file's rate if given, else the synth's default.
bool choose_rate(const synth::Synth& s, const match::ParamFile* file, double override_hz, int& sr, std::string& error) {
    double rate = s.default_sample_rate_hz();
    if (file && file->sample_rate_hz > 0) rate = file->sample_rate_hz;
    if (override_hz > 0) rate = override_hz;
    if (!(rate >= 1000 && rate <= 384000) || rate != std::floor(rate)) {
        error = "sample rate " + fmt_g(rate) + " Hz is not an integer in [1000, 384000]";
        return false;
    }
    sr = int(rate);
    return true;
}

// The synth, its parameter file (if any) and its rate for a request: parse_param_text,
// make_named_synth and choose_rate in the order the CLI applies them.
struct SynthSetup {
    match::ParamFile file;
    bool have_file = false;
    std::unique_ptr<synth::Synth> synth;
    int sr = 0;
    const match::ParamFile* file_or_null() const { return have_file ? &file : nullptr; }
};
bool setup_synth(const std::string& params_text, std::string& synth_name, double rate_override_hz, SynthSetup& out,
                 std::string& error) {
    if (!parse_param_text(params_text, synth_name, out.file, out.have_file, error)) return false;
    out.synth = make_named_synth(synth_name, error);
    return out.synth && choose_rate(*out.synth, out.file_or_null(), rate_override_hz, out.sr, error);
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// [SECTION] MatchRunner

class MatchRunner {
public:
    val setTarget(const val& samples, double sample_rate_hz) {
        if (!samples.instanceof(val::global("Float32Array")))
            return error_object("the target must be a Float32Array of mono samples");
        if (!(std::isfinite(sample_rate_hz) && sample_rate_hz >= 1000 && sample_rate_hz <= 384000))
            return error_object("the target's sample rate " + fmt_g(sample_rate_hz) + " Hz is outside 1000..384000");
        const Vec x = to_vec(samples);
        if (x.size() < 64)
            return error_object("the target is too short (" + std::to_string(x.size()) + " samples; need at least 64)");
        if (!x.allFinite()) return error_object("the target contains NaN or infinite samples");
        if (x.abs().maxCoeff() < Real(1e-5)) return error_object("the target is silent (peak below -100 dBFS)");
        target_ = x;
        target_rate_hz_ = sample_rate_hz;
        resampled_.clear();
        val out = val::object();
        out.set("seconds", double(x.size()) / sample_rate_hz);
        out.set("sampleRate", sample_rate_hz);
        out.set("samples", int(x.size()));
        return out;
    }

    // A failed start leaves the current session (if any) as it was.
    val start(const val& settings) {
        std::string error, synth_name, method = "gradient", loss = "mrstft", params_text;
        match::MatchParams mp;
        double steps = mp.max_steps, seed = 0, population = mp.population, budget_s = 0;
        if (!read_string(settings, "synth", synth_name, error) || !read_string(settings, "method", method, error) ||
            !read_string(settings, "loss", loss, error) || !read_string(settings, "params", params_text, error) ||
            !read_number(settings, "steps", 1, 10000000, steps, error) ||
            !read_number(settings, "timeBudgetS", 0, 1e7, budget_s, error) ||
            !read_number(settings, "learningRate", 1e-9, 100, mp.learning_rate, error) ||
            !read_number(settings, "seed", 0, 9007199254740991.0, seed, error) ||
            !read_number(settings, "population", 3, 10000, population, error))
            return error_object(error);
        if (!match::parse_method(method, mp.method))
            return error_object("unknown method '" + method + "' (methods: gradient, genetic, cmaes, hybrid)");
        if (!match::parse_loss(loss, mp.loss))
            return error_object("unknown loss '" + loss + "' (losses: mrstft, linear, diffks, timbre)");
        mp.max_steps = int(steps);
        mp.seed = uint64_t(seed);
        mp.population = int(population);
        mp.parents = std::max(1, mp.population / 2);
        mp.time_budget_s = 0;  // enforced here, so that resume() can grant another budget

        SynthSetup setup;
        if (!setup_synth(params_text, synth_name, 0, setup, error)) return error_object(error);
        const match::ParamFile& file = setup.file;
        const bool have_file = setup.have_file;
        const int sr = setup.sr;
        const Vec* target = target_at(*setup.synth, sr, error);
        if (!target) return error_object(error);

        auto session = std::make_unique<match::MatchSession>();
        if (!session->init(synth_name, *target, sr, mp, error, have_file ? &file.values : nullptr))
            return error_object((have_file ? "params: " : "") + error);
        if (!std::isfinite(session->initial_loss()))
            return error_object("synth '" + synth_name + "' renders non-finite audio at the starting parameters");
        session_ = std::move(session);
        history_sent_ = 0;
        step_limit_ = mp.max_steps;
        budget_s_ = budget_end_s_ = budget_s;
        reason_ = "";
        improved_ = true;
        val out = val::object();
        out.set("initialLoss", session_->initial_loss());
        out.set("sampleRate", sr);
        out.set("samples", int(target->size()));
        out.set("seconds", double(target->size()) / sr);
        out.set("values", synth::table_size(session_->table()));
        out.set("stepLimit", step_limit_);
        return out;
    }

    val runFor(double ms) {
        if (!session_) return error_object("no match has been started");
        const auto t0 = std::chrono::steady_clock::now();
        const double seconds = std::isfinite(ms) ? std::max(0.0, ms) / 1000 : 0;
        while (!session_->done()) {
            const double best = session_->best_loss();
            session_->step();
            if (session_->best_loss() < best) improved_ = true;
            if (session_->done()) {
                reason_ = session_->iteration() >= step_limit_ ? "steps" : "converged";
            } else if (budget_end_s_ > 0 && session_->elapsed_s() >= budget_end_s_) {
                session_->stop();
                reason_ = "time_budget";
            }
            if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= seconds) break;
        }
        return progress();
    }

    val progress() const {
        if (!session_) return error_object("no match has been started");
        const match::MatchSession& s = *session_;
        val out = val::object();
        const double best = s.best_loss();
        out.set("iteration", s.iteration());
        out.set("loss", std::isfinite(s.loss()) ? s.loss() : best);
        out.set("bestLoss", best);
        out.set("initialLoss", s.initial_loss());
        out.set("evaluations", s.evaluations());
        out.set("elapsedS", s.elapsed_s());
        out.set("itersPerS", s.elapsed_s() > 0 ? s.iteration() / s.elapsed_s() : 0.0);
        out.set("stepLimit", step_limit_);
        out.set("timeBudgetS", budget_s_);
        out.set("done", s.done());
        out.set("reason", reason_);
        out.set("improved", improved_);
        out.set("sampleRate", s.config().sample_rate_hz);
        return out;
    }

    val takeHistory() {
        std::vector<float> losses;
        if (session_) {
            const auto& h = session_->history();
            for (size_t i = history_sent_; i < h.size(); ++i)
                losses.push_back(float(std::isfinite(h[i].loss) ? h[i].loss : h[i].best_loss));
            history_sent_ = h.size();
        }
        return val::global("Float32Array").new_(emscripten::typed_memory_view(losses.size(), losses.data()));
    }

    void stop() {
        if (session_ && !session_->done()) {
            session_->stop();
            reason_ = "stopped";
        }
    }

    val resume(int steps) {
        if (!session_) return error_object("no match has been started");
        const int it = session_->iteration();
        const int extra = steps > 0 ? steps : (step_limit_ > it ? step_limit_ - it : step_limit_);
        step_limit_ = it + extra;
        session_->resume(extra);
        budget_end_s_ = budget_s_ > 0 ? session_->elapsed_s() + budget_s_ : 0;
        reason_ = "";
        return progress();
    }

    std::string bestParamsJson() {
        if (!session_) return "";
        improved_ = false;
        const match::MatchSession& s = *session_;
        const double sr = s.config().sample_rate_hz;
        return match::params_to_json(s.synth_name(), sr, double(s.config().num_samples) / sr, s.best_params(),
                                     s.table());
    }

    val bestAudio() {
        if (!session_) return error_object("no match has been started");
        improved_ = false;
        const Vec audio = session_->best_audio();
        if (!audio.allFinite()) return error_object("the best parameters render non-finite audio");
        return to_float32_array(audio);
    }

    val render(const std::string& synth_arg, const std::string& params_text, const val& options) {
        std::string error, synth_name = synth_arg;
        double seconds = 0, rate = 0, seed = 0, f0_hz = 0;
        bool have_seconds = false, have_f0 = false, use_target = false;
        if (!read_number(options, "seconds", 0.001, 60, seconds, error, &have_seconds) ||
            !read_number(options, "sampleRate", 1000, 384000, rate, error) ||
            !read_number(options, "seed", 0, 9007199254740991.0, seed, error) ||
            !read_number(options, "f0Hz", 1, 100000, f0_hz, error, &have_f0) || !read_bool(options, "useTarget", use_target))
            return error_object(error);
        SynthSetup setup;
        if (!setup_synth(params_text, synth_name, rate, setup, error)) return error_object(error);
        const match::ParamFile& file = setup.file;
        const bool have_file = setup.have_file;
        const int sr = setup.sr;
        std::unique_ptr<synth::Synth>& s = setup.synth;
        if (!have_seconds) seconds = have_file && file.seconds > 0 ? file.seconds : s->default_seconds();
        if (!(seconds > 0 && seconds <= 60)) return error_object("duration " + fmt_g(seconds) + " s is outside (0, 60]");

        synth::SynthConfig cfg;
        cfg.sample_rate_hz = sr;
        cfg.num_samples = std::max(1, int(std::lround(seconds * sr)));
        cfg.seed = uint64_t(seed);
        synth::ParamValues values = have_file ? file.values : synth::ParamValues{};

        // The target's analysis, as matching does it (and `ddsp render --target`): the target at the
        // render rate, fitted to the render's length (its own length unless `seconds` is given).
        if (use_target && !(have_f0 && synth_name == "ks")) {
            const Vec* target = target_at(*s, sr, error);
            if (!target) return error_object(error);
            if (!have_seconds) cfg.num_samples = int(target->size());
            Vec fitted = Vec::Zero(cfg.num_samples);
            const Eigen::Index n = std::min<Eigen::Index>(target->size(), cfg.num_samples);
            fitted.head(n) = target->head(n);
            if (!s->analyse_target(fitted, cfg, error)) return error_object(error);
        }
        if (have_f0) {
            auto set_one = [&](const char* name, double v) { values[name] = {v}; };
            auto value_of = [&](const char* name) {
                auto it = values.find(name);
                if (it != values.end() && it->second.size() == 1) return it->second[0];
                for (const synth::ParamSpec& p : s->param_table(cfg))
                    if (p.name == name) return p.default_value;
                return 0.0;
            };
            if (synth_name == "ks") {
                set_one("f0_hz", f0_hz);
            } else if (synth_name == "sine") {
                set_one("frequency_hz", f0_hz);
            } else if (synth_name == "drum808") {
                const double ratio = f0_hz / value_of("osc1_freq_hz");
                set_one("osc2_freq_hz", value_of("osc2_freq_hz") * ratio);
                set_one("osc1_freq_hz", f0_hz);
            } else if (auto* d = dynamic_cast<synth::DdspSynth*>(s.get())) {
                if (use_target && d->has_f0_track()) {
                    // The analysed track over the rendered frames, scaled so its median is f0_hz.
                    const Vec track = d->f0_frames_hz(cfg);
                    const double m = median(std::vector<double>(track.data(), track.data() + track.size()));
                    d->set_f0_track(track * Real(m > 0 ? f0_hz / m : 1.0), sr / double(d->hop(cfg)));
                } else {
                    d->set_f0_hz(f0_hz);
                }
            } else {
                return error_object("synth '" + synth_name + "' has no pitch to set");
            }
        }
        Vec audio;
        if (!synth::render(*s, values, cfg, audio, error))
            return error_object((have_file || have_f0 ? "params: " : "") + error);
        val out = val::object();
        out.set("samples", to_float32_array(audio));
        out.set("sampleRate", sr);
        out.set("seconds", double(cfg.num_samples) / sr);
        return out;
    }

    val landscapeStart(const std::string& synth_arg, const std::string& params_text, const std::string& x_name,
                       const std::string& y_name, int steps, const val& options) {
        landscape_.reset();
        std::string error, synth_name = synth_arg, loss = "mrstft";
        double seed = 0, xlo = 0, xhi = 0, ylo = 0, yhi = 0;
        bool have_x_range = false, have_y_range = false;
        if (!read_string(options, "loss", loss, error) ||
            !read_number(options, "seed", 0, 9007199254740991.0, seed, error) ||
            !read_range(options, "xRange", xlo, xhi, have_x_range, error) ||
            !read_range(options, "yRange", ylo, yhi, have_y_range, error))
            return error_object(error);
        if (steps < 2 || steps > 401) return error_object("steps: " + std::to_string(steps) + " is outside 2..401");
        match::LossKind kind;
        if (!match::parse_loss(loss, kind))
            return error_object("unknown loss '" + loss + "' (losses: mrstft, linear, diffks, timbre)");
        SynthSetup synth_setup;
        if (!setup_synth(params_text, synth_name, 0, synth_setup, error)) return error_object(error);
        const match::ParamFile& file = synth_setup.file;
        const bool have_file = synth_setup.have_file;
        const int sr = synth_setup.sr;
        std::unique_ptr<synth::Synth>& s = synth_setup.synth;
        const Vec* target = target_at(*s, sr, error);
        if (!target) return error_object(error);

        match::LandscapeSetup setup;
        setup.synth_name = synth_name;
        setup.cfg.sample_rate_hz = sr;
        setup.cfg.num_samples = int(target->size());
        setup.cfg.seed = uint64_t(seed);
        setup.target = *target;
        setup.loss = kind;
        if (!s->analyse_target(*target, setup.cfg, error)) return error_object(error);
        const std::vector<synth::ParamSpec> table = s->param_table(setup.cfg);
        if (have_file) {
            if (!match::params_validate(file, synth_name, table, setup.u0, error)) return error_object("params: " + error);
        } else if (!synth::to_unconstrained(table, s->initial_values(setup.cfg), setup.u0, error)) {
            return error_object(error);
        }
        match::LandscapeAxis ax, ay;
        auto make_axis = [&](const std::string& name, bool have_range, double lo, double hi, const char* key,
                             match::LandscapeAxis& axis) {
            if (!match::landscape_axis(name, table, axis, error)) return false;
            const synth::ParamSpec& p = table[size_t(axis.param)];
            if (!have_range) {
                lo = p.min_value;
                hi = p.max_value;
            } else if (!(lo < hi) || lo < p.min_value || hi > p.max_value) {
                error = std::string(key) + ": [" + fmt_g(lo) + ", " + fmt_g(hi) + "] is not [lo, hi] with " +
                        fmt_g(p.min_value) + " <= lo < hi <= " + fmt_g(p.max_value);
                return false;
            }
            match::landscape_axis_grid(axis, table, steps, lo, hi);
            return true;
        };
        if (!make_axis(x_name, have_x_range, xlo, xhi, "xRange", ax) ||
            !make_axis(y_name, have_y_range, ylo, yhi, "yRange", ay))
            return error_object(error);
        auto l = std::make_unique<match::Landscape>();
        if (!l->init(setup, ax, ay, error)) return error_object(error);
        landscape_ = std::move(l);
        land_x_ = ax;
        land_y_ = ay;
        // Where the given parameters sit on the two axes (the first value of a vector axis).
        const synth::ParamValues current = synth::to_physical(table, setup.u0);
        const std::vector<int> offsets = synth::table_offsets(table);
        auto current_of = [&](const match::LandscapeAxis& a) {
            const std::vector<double>& v = current.at(table[size_t(a.param)].name);
            return v[size_t(a.dims[0] - offsets[size_t(a.param)])];
        };
        land_current_x_ = current_of(ax);
        land_current_y_ = current_of(ay);
        val out = val::object();
        out.set("steps", steps);
        return out;
    }

    val landscapeRun(double ms) {
        if (!landscape_) return error_object("no landscape has been started");
        const auto t0 = std::chrono::steady_clock::now();
        const double seconds = std::isfinite(ms) ? std::max(0.0, ms) / 1000 : 0;
        while (!landscape_->run_points(1))
            if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= seconds) break;
        val out = val::object();
        out.set("done", landscape_->done());
        out.set("pointsDone", landscape_->points_done());
        out.set("steps", landscape_->steps());
        return out;
    }

    val landscapeResult() {
        if (!landscape_) return error_object("no landscape has been started");
        if (!landscape_->done()) return error_object("the landscape is not finished");
        const std::vector<double>& loss = landscape_->loss();
        const int steps = landscape_->steps();
        double worst = -1;
        size_t best = 0;
        int invalid = 0;
        for (size_t k = 0; k < loss.size(); ++k) {
            if (!std::isfinite(loss[k])) {
                ++invalid;
                continue;
            }
            worst = std::max(worst, loss[k]);
            if (!std::isfinite(loss[best]) || loss[k] < loss[best]) best = k;
        }
        if (worst < 0) return error_object("the synth renders non-finite audio at every grid point");
        std::vector<float> f(loss.size());
        for (size_t k = 0; k < loss.size(); ++k) f[k] = float(std::isfinite(loss[k]) ? loss[k] : worst);
        auto f32 = [](const std::vector<double>& v) {
            std::vector<float> g(v.begin(), v.end());
            return val::global("Float32Array").new_(emscripten::typed_memory_view(g.size(), g.data()));
        };
        val out = val::object();
        out.set("steps", steps);
        out.set("x", land_x_.label);
        out.set("y", land_y_.label);
        out.set("xLog", land_x_.log);
        out.set("yLog", land_y_.log);
        out.set("xValues", f32(land_x_.values));
        out.set("yValues", f32(land_y_.values));
        out.set("loss", val::global("Float32Array").new_(emscripten::typed_memory_view(f.size(), f.data())));
        out.set("invalid", invalid);
        val minimum = val::object();
        minimum.set("x", land_x_.values[best % size_t(steps)]);
        minimum.set("y", land_y_.values[best / size_t(steps)]);
        minimum.set("loss", loss[best]);
        out.set("minimum", minimum);
        val current = val::object();
        current.set("x", land_current_x_);
        current.set("y", land_current_y_);
        out.set("current", current);
        return out;
    }

    val landscape(const std::string& synth_name, const std::string& params_text, const std::string& x_name,
                  const std::string& y_name, int steps, const val& options) {
        val started = landscapeStart(synth_name, params_text, x_name, y_name, steps, options);
        if (started.hasOwnProperty("error")) return started;
        landscape_->run(1);
        return landscapeResult();
    }

private:
    Vec target_;  // as given (mono), at target_rate_hz_
    double target_rate_hz_ = 0;
    std::map<std::pair<int, double>, Vec> resampled_;  // by (rate, max seconds)
    std::unique_ptr<match::MatchSession> session_;
    size_t history_sent_ = 0;
    int step_limit_ = 0;
    double budget_s_ = 0, budget_end_s_ = 0;
    std::string reason_;
    bool improved_ = false;
    std::unique_ptr<match::Landscape> landscape_;
    match::LandscapeAxis land_x_, land_y_;
    double land_current_x_ = 0, land_current_y_ = 0;

    // The target for a synth at `sr`: its first max(synth default, 4 s), resampled (as the CLI's
    // load_target with choose_max_seconds). nullptr + error without a usable target.
    const Vec* target_at(const synth::Synth& s, int sr, std::string& error) {
        if (target_.size() == 0) {
            error = "no target: load a recording first";
            return nullptr;
        }
        const double max_seconds = std::max(s.default_seconds(), 4.0);
        const auto key = std::make_pair(sr, max_seconds);
        auto it = resampled_.find(key);
        if (it != resampled_.end()) return &it->second;
        Vec head = target_;
        const Eigen::Index keep = Eigen::Index(std::ceil(max_seconds * target_rate_hz_));
        if (head.size() > keep) head.conservativeResize(keep);
        Vec out;
        if (!dsp::resample(head, target_rate_hz_, sr, out, error)) return nullptr;
        if (out.size() < 64) {
            error = "the target is too short (" + std::to_string(out.size()) + " samples at " + std::to_string(sr) +
                    " Hz; need at least 64)";
            return nullptr;
        }
        if (!out.allFinite()) {
            error = "the target contains non-finite samples";
            return nullptr;
        }
        if (out.abs().maxCoeff() < Real(1e-5)) {
            error = "the target is silent (peak below -100 dBFS)";
            return nullptr;
        }
        return &(resampled_[key] = std::move(out));
    }
};

}  // namespace

EMSCRIPTEN_BINDINGS(ddsp_engine) {
    emscripten::function("decodeWav", &decode_wav);
    emscripten::function("resample", &resample);
    emscripten::function("mrstftDistance", &mrstft_distance);
    emscripten::function("synths", &synths_json);
    emscripten::function("version", &version);
    emscripten::class_<MatchRunner>("MatchRunner")
        .constructor<>()
        .function("setTarget", &MatchRunner::setTarget)
        .function("start", &MatchRunner::start)
        .function("runFor", &MatchRunner::runFor)
        .function("progress", &MatchRunner::progress)
        .function("takeHistory", &MatchRunner::takeHistory)
        .function("stop", &MatchRunner::stop)
        .function("resume", &MatchRunner::resume)
        .function("bestParamsJson", &MatchRunner::bestParamsJson)
        .function("bestAudio", &MatchRunner::bestAudio)
        .function("render", &MatchRunner::render)
        .function("landscapeStart", &MatchRunner::landscapeStart)
        .function("landscapeRun", &MatchRunner::landscapeRun)
        .function("landscapeResult", &MatchRunner::landscapeResult)
        .function("landscape", &MatchRunner::landscape);
}
