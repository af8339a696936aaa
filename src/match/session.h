// A sound-matching session: one synth, one target, one method, advanced a step or a time slice at
// a time. The CLI, the tests and the browser worker all drive it the same way:
//
//   match::MatchSession s;
//   if (!s.init("ks", target, 16000, params, error)) ...;
//   while (!s.done()) s.run_for(0.02);         // or s.step()
//   s.best_params(); s.best_audio(); s.history();
//
// Methods work on one parameter vector u (unconstrained; physical = bounded(u), see synth.h):
//   gradient  Adam on u through the synth and loss; early stop after `patience` steps without a
//             relative improvement of `min_improvement`.
//   genetic   the DiffKS baseline: population 20, 10 parents, steady-state selection (the best
//             `parents` survive), single-point crossover, random mutation; one iteration is one
//             generation (population - parents new evaluations).
//   cmaes     (mu/mu_w, lambda) CMA-ES in the normalised cube z = sigmoid(u) in [0,1]^D.
//   hybrid    gradient from the start (exactly the gradient method) until it converges or half the
//             budget is spent; then, until the budget is spent, rounds of CMA-ES around the best
//             point (on the synth's global parameters, those gradients handle badly: pitch, mode
//             frequencies; every other round on all parameters) and gradient again from the best
//             point. Never ends worse than its first phase.
// Population methods evaluate in forward-only tapes and, natively, on every core.
#pragma once

#include "match/feature_loss.h"
#include "match/loss.h"
#include "synth/synth.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ddsp::match {

enum class Method { gradient, genetic, cmaes, hybrid };
bool parse_method(const std::string& name, Method& out);
const char* method_name(Method m);

// mrstft: DDSP's multi-resolution STFT (linear + log magnitude); linear: its linear-magnitude term
// only (smooth for clean tones, whose log-magnitude sidelobes make the full loss rugged in pitch);
// diffks: the A-weighted, gain-invariant variant of differentiable Karplus-Strong.
enum class LossKind { mrstft, linear, diffks, timbre };
bool parse_loss(const std::string& name, LossKind& out);
const char* loss_name(LossKind k);

struct MatchParams {
    Method method = Method::gradient;
    LossKind loss = LossKind::mrstft;
    int max_steps = 300;         // gradient steps or generations
    double time_budget_s = 0;    // > 0: stop when this much wall time has been spent
    double budget_hint_s = 0;    // a wall-time budget the caller enforces itself (engine::MatchJob): hybrid's
                                 // phases take their shares of it as of time_budget_s
    uint64_t seed = 0;
    // gradient
    double learning_rate = 0.05;  // on u (unconstrained units)
    double clip_norm = 10;
    int patience = 20;
    double min_improvement = 1e-4;  // relative
    // population methods
    int population = 20;
    int parents = 10;
    double mutation_probability = 0.1;  // per gene (at least one gene per child)
    double mutation_scale = 0.25;       // uniform step in the normalised cube
    double cmaes_sigma = 0.3;
    int max_search_dims = 128;  // population methods search at most this many values (ks has 72)
    int threads = 0;  // 0: every core (1 in wasm)
};

struct IterationRecord {
    int iteration = 0;
    double loss = 0;       // loss of this iteration (gradient: before the update; population: best of generation)
    double best_loss = 0;  // best so far
    double elapsed_s = 0;  // wall time since init
    int evaluations = 0;   // synth renders so far
};

class MatchSession {
public:
    MatchSession();
    ~MatchSession();
    MatchSession(const MatchSession&) = delete;
    MatchSession& operator=(const MatchSession&) = delete;

    // target: mono, already at sample_rate_hz. initial: physical values to start from (defaults
    // otherwise). analysis: the synth's analysis of this target at this rate and length, if the
    // caller already has it (else it is made here, once). Fails with a one-line error on an
    // unknown synth, an unusable target (dsp::check_recording) or out-of-range initial values.
    // options: the synth's build-time options (synth::make_synth; null or empty: its defaults);
    // an analysis given must have been made by a synth with the same options.
    bool init(const std::string& synth_name, const Vec& target, double sample_rate_hz, const MatchParams& params,
              std::string& error, const synth::ParamValues* initial = nullptr,
              const synth::AnalysisPtr* analysis = nullptr, const synth::SynthOptions* options = nullptr);

    // One iteration (a gradient step or a generation). Returns false once done.
    bool step();
    // Iterates until `seconds` of wall time have passed in this call, or done.
    void run_for(double seconds);
    bool done() const { return done_; }
    void stop() { done_ = true; }
    // Lets a stopped (or finished) session continue, e.g. with a larger step budget.
    void resume(int extra_steps);

    const std::string& synth_name() const { return synth_name_; }
    // The synth's options that differ from its defaults (for the parameter file's "options").
    const synth::SynthOptions& synth_options() const { return synth_options_; }
    const MatchParams& params() const { return params_; }
    int iteration() const { return iteration_; }
    double loss() const { return last_loss_; }
    double best_loss() const { return best_loss_; }
    double initial_loss() const { return initial_loss_; }
    double elapsed_s() const;
    int evaluations() const { return evaluations_; }
    const std::vector<IterationRecord>& history() const { return history_; }
    const std::vector<synth::ParamSpec>& table() const { return table_; }
    const synth::SynthConfig& config() const { return cfg_; }

    synth::ParamValues best_params() const;
    const Vec& best_u() const { return best_u_; }
    Vec best_audio();  // renders the best parameters

private:
    struct Evaluator;  // a forward-only synth + loss graph for population search
    struct Impl;
    std::unique_ptr<Impl> impl_;

    std::string synth_name_;
    synth::SynthOptions synth_options_;
    MatchParams params_;
    synth::SynthConfig cfg_;
    std::vector<synth::ParamSpec> table_;
    Vec target_;
    Vec best_u_;
    double best_loss_ = 0, last_loss_ = 0, initial_loss_ = 0;
    int iteration_ = 0, evaluations_ = 0, step_limit_ = 0;
    bool done_ = true;
    double paused_s_ = 0;  // compute time spent in step()
    std::vector<IterationRecord> history_;

    void record(double iteration_loss);
    bool out_of_time() const;
    void consider(const Vec& u, double loss);  // updates the best parameters
    // A forward-only synth + loss graph on the target, built at u0 (nullptr + error if the synth
    // cannot use the target).
    std::unique_ptr<Evaluator> make_evaluator(const std::string& synth_name, const Vec& target, const Vec& u0,
                                              std::string& error) const;
    void gradient_step();
    void genetic_step();
    void cmaes_step(double initial_sigma = 0);  // initial_sigma > 0: the first generation's step size
    void hybrid_step();
    void start_search_round();
    double budget_used() const;  // fraction of the steps or of the time budget spent, whichever is more
    // Losses of full u vectors, in parallel over the evaluators.
    void evaluate_batch(const std::vector<Vec>& us, std::vector<double>& losses);
};

// The multi-resolution STFT settings of the spectral LossKinds (mrstft, linear, diffks).
MrStftParams loss_params(LossKind kind, double sample_rate_hz);
// Builds the loss of a LossKind on x's tape against `target` (same length as x).
std::unique_ptr<TargetLoss> make_loss(LossKind kind, ad::Var x, const Vec& target, double sample_rate_hz);
// The same loss between two plain signals (forward only), for reports.
double loss_distance(LossKind kind, const Vec& x, const Vec& target, double sample_rate_hz);

}  // namespace ddsp::match
