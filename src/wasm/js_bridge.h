// Marshalling between embind values and the core, shared by the wasm entry points (engine_api,
// latent_api, ui_main). The core reports errors as `bool f(..., std::string& error)`; here that
// becomes the JS convention of every wasm API: a result value, or an object {error: "one line"}.
// Header-only: each entry point is its own translation unit in one or another module.
#pragma once

#include "dsp/types.h"
#include "util/json.h"
#include "util/text.h"

#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace ddsp::wasm {

using emscripten::val;

// Control characters, C1 controls and invalid UTF-8 (from a file name or a bad file's bytes) are
// escaped (util::printable); never empty.
inline std::string one_line(const std::string& s) { return s.empty() ? "unknown error" : util::printable(s); }

inline val error_object(const std::string& message) {
    val out = val::object();
    out.set("error", one_line(message));
    return out;
}

// {ok: true}: the result of a call that returns nothing but may fail.
inline val ok_object() {
    val out = val::object();
    out.set("ok", true);
    return out;
}

inline bool is_error(const val& v) { return v.typeOf().as<std::string>() == "object" && v.hasOwnProperty("error"); }

inline Vec to_vec(const val& typed_array) {
    const std::vector<float> v = emscripten::convertJSArrayToNumberVector<float>(typed_array);
    Vec out(Eigen::Index(v.size()));
    for (size_t i = 0; i < v.size(); ++i) out[Eigen::Index(i)] = Real(v[i]);
    return out;
}

// Copies out of wasm memory: a view would dangle once the source is freed or memory grows.
template <class T>
val to_float32_array(const T* data, size_t n) {
    std::vector<float> f(data, data + n);
    return val::global("Float32Array").new_(emscripten::typed_memory_view(f.size(), f.data()));
}
inline val to_float32_array(const Vec& v) { return to_float32_array(v.data(), size_t(v.size())); }
inline val to_float32_array(const std::vector<double>& v) { return to_float32_array(v.data(), v.size()); }
inline val to_uint8_array(const std::vector<uint8_t>& bytes) {
    return val::global("Uint8Array").new_(emscripten::typed_memory_view(bytes.size(), bytes.data()));
}

// JSON text made by the core (util/json.h) as a JS value.
inline val from_json(const std::string& text) { return val::global("JSON").call<val>("parse", text); }

// [SECTION] optional fields of an options object
// Absent (undefined or null) leaves `out` alone; a wrong type or a value outside [lo, hi] is an
// error naming the field.

inline bool is_object(const val& v) {
    return !v.isUndefined() && !v.isNull() && v.typeOf().as<std::string>() == "object";
}

inline bool read_number(const val& obj, const char* key, double lo, double hi, double& out, std::string& error,
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
        error = std::string(key) + ": " + util::format_g(x) + " is outside " + util::format_g(lo) + ".." + util::format_g(hi);
        return false;
    }
    out = x;
    if (present) *present = true;
    return true;
}

inline bool read_string(const val& obj, const char* key, std::string& out, std::string& error) {
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

inline void read_bool(const val& obj, const char* key, bool& out) {
    if (!is_object(obj)) return;
    const val v = obj[key];
    if (v.isUndefined() || v.isNull()) return;
    out = v.isTrue() || (v.isNumber() && v.as<double>() != 0);
}

// [lo, hi] from a two-number array.
inline bool read_range(const val& obj, const char* key, double& lo, double& hi, bool& present, std::string& error) {
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

}  // namespace ddsp::wasm
