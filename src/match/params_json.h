// A small strict JSON reader and the parameter-file format on top of it.
//
// Parameter files hold a synth's parameters in physical units (Hz, seconds, dB):
//
//   {"synth": "ks", "sample_rate": 16000, "seconds": 1.3,
//    "params": {"f0_hz": 220, "decay_s": [1.9, 2.1, ...], ...}}
//
//   synth        required, a synth name (synth::synth_names())
//   sample_rate  optional, Hz, the rate the parameters were made for (tables can depend on it)
//   seconds      optional, the duration they were made for (frame-wise tables depend on it)
//   params       required; each value a number or a non-empty array of numbers (a single number
//                fills a vector parameter). Missing parameters take their defaults.
// Any other top-level key is an error, so typos do not pass silently. Names, sizes and ranges are
// checked against a synth's table by params_validate (synth::to_unconstrained).
//
// The JSON reader is RFC 8259 without extensions: no comments, no trailing commas, no NaN or
// Infinity, duplicate keys rejected, numbers that overflow a double rejected, strings must be
// valid UTF-8 (a leading UTF-8 byte-order mark is skipped). Depth and size are limited because
// files come from users. Errors are one line with the byte offset: "JSON: byte 17: ...".
// Nothing here throws; it has no dependency on the CLI (the wasm worker reads presets with it).
#pragma once

#include "synth/synth.h"

#include <cstddef>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ddsp::match {

// [SECTION] strict numbers in text (command-line values, "name:index" axes)

// The whole string must be the number: no leading space, no trailing characters, no overflow;
// parse_real also refuses NaN and infinity.
bool parse_real(const std::string& text, double& out);
bool parse_integer(const std::string& text, long long& out);

// [SECTION] JSON

struct JsonValue {
    enum class Type { null, boolean, number, string, array, object };
    Type type = Type::null;
    bool boolean = false;
    double number = 0;
    std::string string;
    std::vector<JsonValue> array;
    std::vector<std::pair<std::string, JsonValue>> object;  // file order, unique keys
    std::size_t offset = 0;                                 // byte offset of the value in the text

    const JsonValue* find(const std::string& key) const;  // nullptr if absent or not an object
};

const char* json_type_name(JsonValue::Type type);

struct JsonLimits {
    std::size_t max_bytes = std::size_t(64) << 20;  // a 4 s ddsp preset is ~1 MB
    int max_depth = 64;
};

bool json_parse(const std::string& text, JsonValue& out, std::string& error, const JsonLimits& limits = {});

// Writing: a quoted, escaped string; a number with 9 significant digits (every float round-trips),
// integers without exponent up to 1e15, and `null` for NaN/Inf (JSON has no spelling for them).
std::string json_quote(const std::string& s);
std::string json_number(double v);

// [SECTION] parameter files

struct ParamFile {
    std::string synth;
    double sample_rate_hz = 0;  // 0: not given
    double seconds = 0;         // 0: not given
    synth::ParamValues values;
    std::set<std::string> scalar_names;  // parameters written as a plain number (not an array)
};

bool params_parse(const std::string& text, ParamFile& out, std::string& error);
// Reads and parses a file; errors name the file.
bool params_read_file(const std::string& path, ParamFile& out, std::string& error);
// The file's synth must be `synth_name` and its values must fit `table` (names, sizes, ranges,
// finite), as synth::to_unconstrained checks them. Fills u on success.
bool params_validate(const ParamFile& file, const std::string& synth_name, const std::vector<synth::ParamSpec>& table,
                     Vec& u, std::string& error);

// Serialises parameters in table order (values are clamped into each parameter's range so that
// rounding to 9 digits never pushes them outside it). Size-1 parameters are written as numbers.
// sample_rate_hz / seconds <= 0 are left out.
std::string params_to_json(const std::string& synth_name, double sample_rate_hz, double seconds,
                           const synth::ParamValues& values, const std::vector<synth::ParamSpec>& table);
bool params_write_file(const std::string& path, const std::string& synth_name, double sample_rate_hz, double seconds,
                       const synth::ParamValues& values, const std::vector<synth::ParamSpec>& table,
                       std::string& error);

// Whole-file helpers (binary-safe), with one-line errors naming the path.
bool read_text_file(const std::string& path, std::string& out, std::string& error,
                    std::size_t max_bytes = std::size_t(64) << 20);
bool write_text_file(const std::string& path, const std::string& text, std::string& error);

}  // namespace ddsp::match
