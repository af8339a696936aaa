// The front door's synth side: which synth, with which parameters, at which rate; rendering with
// overrides; the synth table and every default, as JSON. The CLI, the worker and the studio call
// these and only marshal arguments and results.
//
//   engine::SynthJob job;
//   if (!engine::prepare_synth("", &file, 0, job, error)) ...      // synth from the file
//   engine::RenderOptions ro;  ro.f0_hz = 330;
//   engine::render(job, ro, &target, audio, error);                  // target: engine::Target or null
#pragma once

#include "engine/target.h"
#include "match/params_json.h"
#include "match/session.h"
#include "synth/synth.h"

#include <memory>
#include <string>

namespace ddsp::engine {

// [SECTION] choosing the synth

struct SynthJob {
    std::string name;
    std::unique_ptr<synth::Synth> synth;
    match::ParamFile file;
    bool have_file = false;
    int sample_rate_hz = 0;
    synth::SynthOptions options;  // the synth's build-time options: the file's, then the caller's over them

    const match::ParamFile* file_or_null() const { return have_file ? &file : nullptr; }
    const synth::ParamValues* values_or_null() const { return have_file ? &file.values : nullptr; }
    // The duration the job renders by default: the file's, else the synth's.
    double default_seconds() const;
};

// "unknown synth 'x' (synths: ks, drum808, ddsp, sine)"
std::string unknown_synth_error(const std::string& name);

// synth_name may be empty when the file names the synth; both given, they must agree. The rate is
// rate_override_hz if > 0, else the file's sample_rate, else the synth's default: an integer in
// [1000, 384000]. Errors are one line; those about the file start "params: " only where the
// caller adds it (the CLI names the file instead). options: build-time options over the file's
// "options" (synth::make_synth checks both; an unknown name is an error).
bool prepare_synth(const std::string& synth_name, const match::ParamFile* file, double rate_override_hz,
                   SynthJob& out, std::string& error, const synth::SynthOptions* options = nullptr);
// "k=v,k=v" (a command-line or text field) into options; false with a one-line error on a bad item.
bool parse_synth_options(const std::string& text, synth::SynthOptions& out, std::string& error);
// The rate rule alone: rate_override_hz if > 0, else the file's sample_rate, else the synth's.
bool choose_rate(const synth::Synth& synth, const match::ParamFile* file, double rate_override_hz, int& out,
                 std::string& error);
// prepare_synth with the parameter file given as JSON text (blank: none), as the worker receives
// it. Errors caused by the file (not JSON, not a parameter file, another synth's) start "params: ".
bool prepare_synth_text(const std::string& synth_name, const std::string& params_text, double rate_override_hz,
                        SynthJob& out, std::string& error, const synth::SynthOptions* options = nullptr);

// The job's synth on a target, as a match sees it: the target prepared at the job's rate
// (Target::at), the synth's shared analysis of it, applied to job.synth. cfg gets the job's rate
// and the prepared target's length.
struct TargetFit {
    const Vec* samples = nullptr;  // owned by the Target
    synth::SynthConfig cfg;
    synth::AnalysisPtr analysis;
};
bool fit_target(SynthJob& job, Target& target, double max_target_seconds, TargetFit& out, std::string& error);

// [SECTION] rendering with overrides

struct RenderOptions {
    double seconds = 0;   // > 0: this duration; else the target's (with a target) or job.default_seconds()
    uint64_t seed = 0;    // the synth's noise sources
    double f0_hz = 0;     // > 0: play at this pitch (Synth::set_pitch_hz)
    double max_target_seconds = 0;  // how much of the target (<= 0: match_seconds_for)
    std::string params_label;       // prefixes errors about the parameters ("LABEL: ..."; "" none)
};

// Renders job's parameters (the file's values, else defaults). With a target, the synth first
// uses its analysis of the target at the job's rate, as matching does (the best parameters of a
// match render its reconstruction); a synth whose analysis belongs to the recorded pitch ignores
// the target when f0_hz is set. Errors about the duration, the target and its analysis come as
// they are; those about the parameters and the pitch after options.params_label.
bool render(SynthJob& job, const RenderOptions& options, Target* target, Vec& audio, std::string& error);

// [SECTION] tables and defaults

// Every synth and its parameter table in its default configuration: the JSON `ddsp synths`
// prints and the worker hands to the page (one writer, one shape).
std::string synths_json();
// One parameter table in that shape: [{name, unit, min, max, default, scale, size, global,
// description}, ...], each entry on its own line after `indent`.
std::string param_table_json(const std::vector<synth::ParamSpec>& table, const std::string& indent = "");

// Every default a front end shows: method, loss, steps, learning rate, population, time budget,
// the target policy. From match::MatchParams{}, so the CLI help, the studio and the page agree.
std::string defaults_json();

// The names, for messages: "gradient, genetic, cmaes, hybrid" / "mrstft, linear, diffks, timbre".
std::string method_names();
std::string loss_names();

}  // namespace ddsp::engine
