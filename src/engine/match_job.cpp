#include "engine/match_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace ddsp::engine {

bool MatchJob::start(const MatchRequest& request, Target& target, std::string& error) {
    SynthJob job;
    if (!(request.params_file ? prepare_synth(request.synth, request.params_file, request.rate_override_hz, job, error,
                                              &request.synth_options)
                              : prepare_synth_text(request.synth, request.params_text, request.rate_override_hz, job,
                                                   error, &request.synth_options)))
        return false;
    TargetFit fit;
    if (!fit_target(job, target, request.max_target_seconds, fit, error)) return false;

    match::MatchParams mp = request.settings;
    mp.time_budget_s = 0;  // enforced here, so that resume() can grant another budget
    mp.budget_hint_s = request.time_budget_s;  // hybrid shares its phases out of it
    auto session = std::make_unique<match::MatchSession>();
    if (!session->init(job.name, *fit.samples, job.sample_rate_hz, mp, error, job.values_or_null(), &fit.analysis,
                       &job.options)) {
        if (job.have_file) error = request.params_label + ": " + error;
        return false;
    }
    if (!std::isfinite(session->initial_loss())) {
        error = "synth '" + job.name + "' renders non-finite audio at the starting parameters";
        return false;
    }
    session_ = std::move(session);
    target_ = *fit.samples;
    synth_name_ = job.name;
    sample_rate_hz_ = job.sample_rate_hz;
    history_sent_ = 0;
    step_limit_ = mp.max_steps;
    budget_s_ = budget_end_s_ = request.time_budget_s;
    reason_.clear();
    improved_ = true;
    return true;
}

bool MatchJob::step() {
    if (done()) return false;
    const double best = session_->best_loss();
    session_->step();
    if (session_->best_loss() < best) improved_ = true;
    if (session_->done()) {
        if (reason_.empty()) reason_ = session_->iteration() >= step_limit_ ? "steps" : "converged";
    } else if (budget_end_s_ > 0 && session_->elapsed_s() >= budget_end_s_) {
        session_->stop();
        reason_ = "time_budget";
    }
    return !session_->done();
}

void MatchJob::run_for(double seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    seconds = std::isfinite(seconds) ? std::max(0.0, seconds) : 0;
    while (step())
        if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= seconds) break;
}

void MatchJob::stop(const std::string& reason) {
    if (session_ && !session_->done()) {
        session_->stop();
        reason_ = reason;
    }
}

void MatchJob::resume(int steps) {
    if (!session_) return;
    const int it = session_->iteration();
    const int extra = steps > 0 ? steps : (step_limit_ > it ? step_limit_ - it : step_limit_);
    step_limit_ = it + extra;
    session_->resume(extra);
    budget_end_s_ = budget_s_ > 0 ? session_->elapsed_s() + budget_s_ : 0;
    reason_.clear();
}

MatchProgress MatchJob::progress() const {
    MatchProgress p;
    if (!session_) return p;
    const match::MatchSession& s = *session_;
    p.iteration = s.iteration();
    p.best_loss = s.best_loss();
    p.loss = std::isfinite(s.loss()) ? s.loss() : p.best_loss;
    p.initial_loss = s.initial_loss();
    p.evaluations = s.evaluations();
    p.elapsed_s = s.elapsed_s();
    p.iters_per_s = p.elapsed_s > 0 ? p.iteration / p.elapsed_s : 0.0;
    p.step_limit = step_limit_;
    p.time_budget_s = budget_s_;
    p.done = s.done();
    p.reason = reason_;
    p.improved = improved_;
    p.sample_rate_hz = s.config().sample_rate_hz;
    return p;
}

std::vector<double> MatchJob::take_history() {
    std::vector<double> losses;
    if (!session_) return losses;
    const auto& h = session_->history();
    for (size_t i = history_sent_; i < h.size(); ++i)
        losses.push_back(std::isfinite(h[i].loss) ? h[i].loss : h[i].best_loss);
    history_sent_ = h.size();
    return losses;
}

std::string MatchJob::best_params_json() {
    if (!session_) return "";
    improved_ = false;
    const match::MatchSession& s = *session_;
    const double sr = s.config().sample_rate_hz;
    return match::params_to_json(s.synth_name(), sr, double(s.config().num_samples) / sr, s.best_params(), s.table(),
                                 &s.synth_options());
}

bool MatchJob::best_audio(Vec& audio, std::string& error) {
    if (!session_) {
        error = "no match has been started";
        return false;
    }
    improved_ = false;
    audio = session_->best_audio();
    if (!audio.allFinite()) {
        error = "the best parameters render non-finite audio";
        return false;
    }
    return true;
}

}  // namespace ddsp::engine
