// The parameter-file format, on the strict JSON reader of util/json.h:
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
//   options      optional, the synth's build-time options by name, each a number:
//                {"loop_order": 3, "oversample": 2} for ks (synth::make_synth checks the names
//                and values; the parameter table can depend on them, e.g. ks's tap count).
// Any other top-level key is an error, so typos do not pass silently. Names, sizes and ranges are
// checked against a synth's table by params_validate (synth::to_unconstrained).
//
// Nothing here throws; it has no dependency on the CLI (the wasm worker reads presets with it).
#pragma once

#include "synth/synth.h"
#include "util/json.h"

#include <set>
#include <string>

namespace ddsp::match {

// [SECTION] parameter files

struct ParamFile {
    std::string synth;
    double sample_rate_hz = 0;  // 0: not given
    double seconds = 0;         // 0: not given
    synth::ParamValues values;
    synth::SynthOptions options;  // empty: the synth's defaults
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
// sample_rate_hz / seconds <= 0 are left out, and so are options when null or empty.
std::string params_to_json(const std::string& synth_name, double sample_rate_hz, double seconds,
                           const synth::ParamValues& values, const std::vector<synth::ParamSpec>& table,
                           const synth::SynthOptions* options = nullptr);
bool params_write_file(const std::string& path, const std::string& synth_name, double sample_rate_hz, double seconds,
                       const synth::ParamValues& values, const std::vector<synth::ParamSpec>& table,
                       std::string& error, const synth::SynthOptions* options = nullptr);

}  // namespace ddsp::match
