// A match as every front end runs it: the request is validated and prepared once (synth, rate,
// target cut/resampled/checked, the synth's analysis shared), then advanced in slices or steps,
// with one progress record, one stop reason and one time-budget rule for all of them.
//
//   engine::MatchJob job;
//   if (!job.start(request, target, error)) ...;
//   while (!job.done()) job.run_for(0.02);       // the worker; the CLI calls job.step()
//   job.progress(); job.best_params_json(); job.best_audio(audio, error);
#pragma once

#include "engine/synth_job.h"
#include "engine/target.h"
#include "match/session.h"

#include <memory>
#include <string>
#include <vector>

namespace ddsp::engine {

struct MatchRequest {
    std::string synth;        // may be empty when params names it
    std::string params_text;  // a parameter file's JSON to start from ('' : the synth's guess)
    const match::ParamFile* params_file = nullptr;  // or an already parsed one (takes precedence)
    double rate_override_hz = 0;                    // > 0: match at this rate
    double max_target_seconds = 0;                  // <= 0: match_seconds_for(synth)
    match::MatchParams settings;                    // method, loss, steps, learning rate, seed...
    double time_budget_s = 0;                       // > 0: stop after this much compute (renewed by resume)
    std::string params_label = "params";            // prefixes the session's errors about params_file's values
    synth::SynthOptions synth_options;              // build-time options over the parameter file's
};

// One progress record: what the worker posts and the CLI prints.
struct MatchProgress {
    int iteration = 0;
    double loss = 0;  // this iteration's, or the best when it was not finite
    double best_loss = 0;
    double initial_loss = 0;
    int evaluations = 0;
    double elapsed_s = 0;
    double iters_per_s = 0;
    int step_limit = 0;
    double time_budget_s = 0;
    bool done = false;
    std::string reason;  // "", "steps", "converged", "time_budget", "stopped", "interrupted"
    bool improved = false;  // the best changed since the last best_params_json()/best_audio()
    double sample_rate_hz = 0;
};

class MatchJob {
public:
    // A failed start leaves the job as it was (a running match goes on). Errors are one line;
    // those caused by the parameter file start "params: ".
    bool start(const MatchRequest& request, Target& target, std::string& error);
    bool started() const { return session_ != nullptr; }

    // One iteration; false once done.
    bool step();
    // Iterates for up to `seconds` of wall time (at least one iteration unless done).
    void run_for(double seconds);
    bool done() const { return !session_ || session_->done(); }
    void stop(const std::string& reason = "stopped");
    // Continues a stopped or finished match for `steps` more iterations (<= 0: the rest of the
    // step limit, or as many again); a time budget starts afresh.
    void resume(int steps);

    MatchProgress progress() const;
    // Each iteration's loss since the last call (the best so far where it was not finite).
    std::vector<double> take_history();
    std::string best_params_json();
    bool best_audio(Vec& audio, std::string& error);

    const match::MatchSession& session() const { return *session_; }
    const Vec& target() const { return target_; }
    const std::string& synth_name() const { return synth_name_; }
    int sample_rate_hz() const { return sample_rate_hz_; }
    double time_budget_s() const { return budget_s_; }
    const std::string& reason() const { return reason_; }

private:
    std::unique_ptr<match::MatchSession> session_;
    Vec target_;
    std::string synth_name_;
    int sample_rate_hz_ = 0;
    size_t history_sent_ = 0;
    int step_limit_ = 0;
    double budget_s_ = 0, budget_end_s_ = 0;
    std::string reason_;
    bool improved_ = false;
};

}  // namespace ddsp::engine
