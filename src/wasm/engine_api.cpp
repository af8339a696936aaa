// The engine's JavaScript API (embind), loaded by the browser pages and their worker:
//   const ddsp = await createDdspEngine();
//   ddsp.decodeWav(uint8Array)            -> {samples: Float32Array, sampleRate, channels, bits, format,
//                                             truncated} or {error: "one line"}
//   ddsp.resample(float32Array, fromHz, toHz) -> Float32Array (empty on bad arguments)
//   ddsp.mrstftDistance(a, b)             -> number (DDSP multi-resolution STFT distance; NaN if lengths differ)
//   ddsp.synths()                         -> JSON string: every synth and its parameter table
//   ddsp.version()                        -> string
#include "dsp/resample.h"
#include "dsp/wav.h"
#include "match/loss.h"
#include "synth/synth.h"

#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cmath>
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

}  // namespace

EMSCRIPTEN_BINDINGS(ddsp_engine) {
    emscripten::function("decodeWav", &decode_wav);
    emscripten::function("resample", &resample);
    emscripten::function("mrstftDistance", &mrstft_distance);
    emscripten::function("synths", &synths_json);
    emscripten::function("version", &version);
}
