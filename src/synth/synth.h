// Differentiable synthesisers: the interface every synth implements, its parameter table, and
// the conversions between physical parameter values (what users and JSON files see) and the
// unconstrained vector u that optimisers move.
//
// A synth builds its graph once on an autodiff tape from a (D x 1) leaf u; each parameter is
// bounded(slice(u)) -> [min, max] in physical units (linear or log scale). Gradient descent moves
// u with Adam; population methods (genetic, CMA-ES) sample u in forward-only tapes; the same graph
// renders audio. Parameters may be vectors (e.g. 16 frames of a loop-filter tap), stored frame-major.
#pragma once

#include "ad/ops.h"
#include "dsp/types.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ddsp::synth {

struct ParamSpec {
    std::string name;  // with its unit: "f0_hz", "decay_s", "gain_db", "loop_gain"
    std::string unit;  // "Hz", "s", "dB", "" (dimensionless)
    double min_value = 0;
    double max_value = 1;
    double default_value = 0.5;
    ad::Scale scale = ad::Scale::linear;
    int size = 1;  // number of values
    std::string description;
    // Gradients handle it badly (pitch, delay: the loss over it is full of local minima), so
    // the hybrid method searches it globally first.
    bool global = false;
    // Gradient descent moves this parameter by this fraction of the learning rate: < 1 where a
    // full step (a few % of a log range) would jump out of the basin the analysis found, as for a
    // drum's mode frequencies, whose loss is rugged beyond a fraction of a semitone.
    double step_scale = 1;
};

struct SynthConfig {
    double sample_rate_hz = 16000;
    int num_samples = 16000;
    uint64_t seed = 0;  // noise sources
};

// Physical values by parameter name; each vector has the parameter's size.
using ParamValues = std::map<std::string, std::vector<double>>;

// Build-time options of a synth (its structure, not its parameters), by name: ks's loop_order,
// oversample, control_frames, exc_order, exc_ms, window_cents. Every value is a number (integer
// options must be whole numbers). Missing names keep their defaults; see make_synth.
using SynthOptions = std::map<std::string, double>;

// What a synth takes from a recording (f0 track, loudness, residual excitation), computed once per
// target and configuration and then shared read-only: every evaluator thread of a population
// search, the gradient graph and the renders of one match use the same object.
struct TargetAnalysis {
    virtual ~TargetAnalysis() = default;
};
using AnalysisPtr = std::shared_ptr<const TargetAnalysis>;

class Synth {
public:
    virtual ~Synth() = default;
    virtual std::string name() const = 0;
    virtual std::string description() const = 0;
    virtual double default_sample_rate_hz() const = 0;
    virtual double default_seconds() const = 0;
    // The build-time options that differ from their defaults (what a parameter file's "options"
    // holds to rebuild this synth; empty for the defaults and for synths without options).
    virtual SynthOptions options() const { return {}; }
    // The parameter table for this configuration (sizes may depend on duration).
    virtual std::vector<ParamSpec> param_table(const SynthConfig& cfg) const = 0;

    // Synths that take controls from a recording (f0, loudness, residual excitation) analyse it
    // here (out stays null for the others). Returns false with a one-line error if the recording
    // is unusable. Const: the result is a value, not synth state.
    virtual bool analyse(const Vec& target, const SynthConfig& cfg, AnalysisPtr& out, std::string& error) const {
        out = nullptr;
        return true;
    }
    // Makes param_table(), initial_values() and build() use an analysis made by this synth type's
    // analyse() (null: none). Shares it; cheap.
    virtual void use_analysis(AnalysisPtr analysis) {}
    // analyse() then use_analysis(), for one-off callers.
    bool analyse_target(const Vec& target, const SynthConfig& cfg, std::string& error);

    // Sets the pitch the synth plays to f0_hz, by changing `values` (a pitch parameter) or the
    // synth's own pitch conditioning. With follow_analysis, a synth whose analysed pitch varies
    // over time (ddsp's f0 track) keeps its contour, scaled so its median is f0_hz. Returns false
    // with an error for a synth without a pitch.
    virtual bool set_pitch_hz(double f0_hz, bool follow_analysis, ParamValues& values, const SynthConfig& cfg,
                              std::string& error);
    // True when the pitch is conditioning outside the parameter table (ddsp's f0), false when it is
    // a parameter (set_pitch_hz writes it into `values`) or there is none.
    virtual bool pitch_is_conditioning() const { return false; }
    // False when the analysis belongs to the recorded pitch and must not be used at another (ks:
    // its residual excitation).
    virtual bool analysis_fits_any_pitch() const { return true; }

    // Where matching starts when the caller gives no parameters: the table's defaults, or a
    // better guess from the analysed target (e.g. amplitudes that match its loudness).
    virtual ParamValues initial_values(const SynthConfig& cfg) const;

    // Builds the synth on u's tape; u is (D x 1) with D = total size of param_table(cfg).
    // Returns the audio, a (cfg.num_samples x 1) column.
    virtual ad::Var build(ad::Var u, const SynthConfig& cfg) = 0;
};

// Registry of every synth: "ks", "drum808", "drum", "ddsp", "sine".
std::vector<std::string> synth_names();
std::unique_ptr<Synth> make_synth(const std::string& name);  // nullptr if unknown
// With build-time options: nullptr and a one-line error for an unknown synth, an option the synth
// does not have (the message lists those it has), or a value that is not allowed.
std::unique_ptr<Synth> make_synth(const std::string& name, const SynthOptions& options, std::string& error);
// "loop_order (1..4, default 2), ..." or "" for a synth without options.
std::string synth_option_names(const std::string& name);

// Total number of values in a table.
int table_size(const std::vector<ParamSpec>& table);
// Offsets of each parameter in u, in table order.
std::vector<int> table_offsets(const std::vector<ParamSpec>& table);

// Reads physical parameters from u inside Synth::build.
class ParamGraph {
public:
    ParamGraph(const std::vector<ParamSpec>& table, ad::Var u);
    // The named parameter in physical units, (size x 1). Aborts on an unknown name (a bug).
    ad::Var operator[](const std::string& name) const;
    const ParamSpec& spec(const std::string& name) const;

private:
    std::vector<ParamSpec> table_;
    std::vector<int> offsets_;
    ad::Var u_;
};

ParamValues default_values(const std::vector<ParamSpec>& table);
// Physical -> u. Missing names take their defaults. Unknown names, wrong sizes, NaN/Inf and
// values outside [min, max] are errors (one line, naming the parameter and its range).
bool to_unconstrained(const std::vector<ParamSpec>& table, const ParamValues& values, Vec& u, std::string& error);
// u -> physical.
ParamValues to_physical(const std::vector<ParamSpec>& table, const Vec& u);
// d physical / d u for each element of u (to turn gradients w.r.t. u into gradients w.r.t. the
// physical values written in a parameter file).
Vec physical_derivative(const std::vector<ParamSpec>& table, const Vec& u);

// Renders a synth once (forward-only) from physical values.
bool render(Synth& synth, const ParamValues& values, const SynthConfig& cfg, Vec& audio, std::string& error);

}  // namespace ddsp::synth
