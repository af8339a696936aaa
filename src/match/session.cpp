// MatchSession: gradient, genetic, CMA-ES and hybrid matching on one parameter vector.
//
// Index
//   [SECTION] names
//   [SECTION] evaluators (forward-only graphs for population search, one per thread)
//   [SECTION] session set-up
//   [SECTION] gradient
//   [SECTION] genetic
//   [SECTION] CMA-ES
//   [SECTION] stepping, reporting
#include "match/session.h"

#include "ad/adam.h"
#include "dsp/recording_check.h"
#include "dsp/rng.h"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#ifndef __EMSCRIPTEN__
#include <thread>
#endif

namespace ddsp::match {

// [SECTION] names

bool parse_method(const std::string& name, Method& out) {
    for (Method m : {Method::gradient, Method::genetic, Method::cmaes, Method::hybrid})
        if (name == method_name(m)) {
            out = m;
            return true;
        }
    return false;
}

const char* method_name(Method m) {
    switch (m) {
        case Method::gradient: return "gradient";
        case Method::genetic: return "genetic";
        case Method::cmaes: return "cmaes";
        case Method::hybrid: return "hybrid";
    }
    return "?";
}

bool parse_loss(const std::string& name, LossKind& out) {
    for (LossKind k : {LossKind::mrstft, LossKind::linear, LossKind::diffks, LossKind::timbre})
        if (name == loss_name(k)) {
            out = k;
            return true;
        }
    return false;
}

const char* loss_name(LossKind k) {
    switch (k) {
        case LossKind::mrstft: return "mrstft";
        case LossKind::linear: return "linear";
        case LossKind::diffks: return "diffks";
        case LossKind::timbre: return "timbre";
    }
    return "?";
}

MrStftParams loss_params(LossKind kind, double sample_rate_hz) {
    if (kind == LossKind::diffks) return MrStftParams::diffks(sample_rate_hz);
    MrStftParams p = MrStftParams::ddsp();
    p.sample_rate_hz = sample_rate_hz;
    if (kind == LossKind::linear) p.log_weight = 0;
    return p;
}

std::unique_ptr<TargetLoss> make_loss(LossKind kind, ad::Var x, const Vec& target, double sample_rate_hz) {
    if (kind == LossKind::timbre) {
        FeatureLossParams p;
        p.sample_rate_hz = sample_rate_hz;
        return std::make_unique<FeatureLoss>(x, target, p);
    }
    return std::make_unique<MrStftLoss>(x, target, loss_params(kind, sample_rate_hz));
}

double loss_distance(LossKind kind, const Vec& x, const Vec& target, double sample_rate_hz) {
    ad::Tape tape(ad::Tape::Mode::forward_only);
    const std::unique_ptr<TargetLoss> loss = make_loss(kind, tape.constant(x), target, sample_rate_hz);
    return double(loss->loss().item());
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double finite_or_inf(double v) { return std::isfinite(v) ? v : kInf; }

double sigmoid(double u) { return 1.0 / (1.0 + std::exp(-u)); }

double logit(double z) {
    z = std::clamp(z, 1e-6, 1.0 - 1e-6);
    return std::log(z / (1.0 - z));
}

}  // namespace

// [SECTION] evaluators

struct MatchSession::Evaluator {
    std::unique_ptr<synth::Synth> synth;
    ad::Tape tape{ad::Tape::Mode::forward_only};
    ad::Var u, audio;
    std::unique_ptr<TargetLoss> loss;

    double evaluate(const Vec& values) {
        tape.mutable_value(u).col(0) = values;
        tape.forward();
        return finite_or_inf(double(loss->loss().item()));
    }
};

struct MatchSession::Impl {
    std::unique_ptr<synth::Synth> synth;  // for the gradient graph
    synth::AnalysisPtr analysis;          // the target's, shared by every graph
    std::unique_ptr<ad::Tape> tape;
    ad::Var u;
    std::unique_ptr<TargetLoss> loss;
    std::unique_ptr<ad::Adam> adam;
    int since_improvement = 0;
    double reference_loss = kInf;  // best loss at the last real improvement (early stopping)
    Vec step_scale;                // per element of u: ParamSpec::step_scale
    bool has_step_scale = false;   // any of them != 1

    std::vector<std::unique_ptr<Evaluator>> evaluators;
    dsp::Rng rng;
    Vec base_u;                 // values outside the searched dimensions
    std::vector<int> dims;      // searched dimensions of u
    std::vector<Vec> pop_z;     // genetic: population in the normalised cube (searched dims only)
    std::vector<double> pop_loss;
    bool population_ready = false;

    // CMA-ES state
    Vec mean, p_sigma, p_c;
    Mat cov;
    double sigma = 0.3;
    int generation = 0;

    // hybrid: descend (gradient from the start) -> search (CMA-ES on the global parameters around
    // the best point) -> polish (gradient again from the best point, fresh moments).
    enum class Phase { descend, search, polish } phase = Phase::descend;
    int search_stalled = 0;             // CMA-ES generations without a new best
    int search_round = 0;               // search phases so far
    std::vector<int> global_dims;       // the synth's `global` parameters' elements
    bool gradient_converged = false;   // the gradient's early-stopping rule fired
    bool gradient_ready = false;

    Vec to_u(const Vec& z) const {
        Vec out = base_u;
        for (size_t i = 0; i < dims.size(); ++i) out[dims[i]] = Real(logit(double(z[Eigen::Index(i)])));
        return out;
    }
    Vec to_z(const Vec& full_u) const {
        Vec z(Eigen::Index(dims.size()));
        for (size_t i = 0; i < dims.size(); ++i) z[Eigen::Index(i)] = Real(sigmoid(double(full_u[dims[i]])));
        return z;
    }
};

std::unique_ptr<MatchSession::Evaluator> MatchSession::make_evaluator(const std::string& synth_name, const Vec& target,
                                                                      const Vec& u0, std::string& error) const {
    auto e = std::make_unique<Evaluator>();
    e->synth = synth::make_synth(synth_name, synth_options_, error);
    if (!e->synth) return nullptr;
    e->synth->use_analysis(impl_->analysis);
    e->u = e->tape.constant(u0);
    e->audio = e->synth->build(e->u, cfg_);
    e->loss = make_loss(params_.loss, e->audio, target, cfg_.sample_rate_hz);
    return e;
}

MatchSession::MatchSession() : impl_(std::make_unique<Impl>()) {}
MatchSession::~MatchSession() = default;

// [SECTION] session set-up

bool MatchSession::init(const std::string& synth_name, const Vec& target, double sample_rate_hz,
                        const MatchParams& params, std::string& error, const synth::ParamValues* initial,
                        const synth::AnalysisPtr* analysis, const synth::SynthOptions* options) {
    impl_ = std::make_unique<Impl>();
    done_ = true;
    history_.clear();
    iteration_ = evaluations_ = 0;
    paused_s_ = 0;
    synth_name_ = synth_name;
    params_ = params;

    Impl& m = *impl_;
    m.synth = synth::make_synth(synth_name, options ? *options : synth::SynthOptions{}, error);
    if (!m.synth) return false;
    synth_options_ = m.synth->options();
    if (!dsp::check_recording(target, error)) {
        error = "the target " + error;
        return false;
    }
    if (!dsp::check_sample_rate(sample_rate_hz, error)) return false;
    if (params.max_steps < 1 || params.population < 2 || params.parents < 1 || params.parents >= params.population) {
        error = "bad method settings (steps >= 1, population >= 2, 1 <= parents < population)";
        return false;
    }
    target_ = target;
    cfg_.sample_rate_hz = sample_rate_hz;
    cfg_.num_samples = int(target.size());
    cfg_.seed = params.seed;
    // The target is analysed once; the gradient graph and every evaluator share the result.
    if (analysis)
        m.analysis = *analysis;
    else if (!m.synth->analyse(target, cfg_, m.analysis, error))
        return false;
    m.synth->use_analysis(m.analysis);
    table_ = m.synth->param_table(cfg_);

    Vec u0;
    if (!synth::to_unconstrained(table_, initial ? *initial : m.synth->initial_values(cfg_), u0, error)) return false;
    // A value on its range's end sits where the bounding sigmoid is flat (gradient ~1e-6): Adam
    // would never move it. Start at most 99.75 % of the way to an end (|u| <= 6) instead.
    u0 = u0.cwiseMax(Real(-6)).cwiseMin(Real(6));
    m.base_u = u0;
    best_u_ = u0;
    m.rng = dsp::Rng(params.seed * 0x9E3779B97F4A7C15ull + 1);
    step_limit_ = params.max_steps;

    // Which dimensions population methods search.
    const int total = int(u0.size());
    std::vector<int> global_dims;
    {
        const std::vector<int> offsets = synth::table_offsets(table_);
        for (size_t i = 0; i < table_.size(); ++i)
            if (table_[i].global)
                for (int k = 0; k < table_[i].size; ++k) global_dims.push_back(offsets[i] + k);
    }
    std::vector<int> all_dims(static_cast<size_t>(total));
    std::iota(all_dims.begin(), all_dims.end(), 0);
    if (params.method == Method::genetic || params.method == Method::cmaes) {
        if (total <= params.max_search_dims) {
            m.dims = all_dims;
        } else if (!global_dims.empty() && int(global_dims.size()) <= params.max_search_dims) {
            m.dims = global_dims;  // the rest stays at its initial values
        } else {
            error = std::string("method ") + method_name(params.method) + " searches at most " +
                    std::to_string(params.max_search_dims) + " values and synth '" + synth_name + "' has " +
                    std::to_string(total) + ": use gradient or hybrid";
            return false;
        }
    } else if (params.method == Method::hybrid && int(global_dims.size()) <= params.max_search_dims) {
        m.global_dims = m.dims = global_dims;  // (evaluators are made when dims is not empty)
    }

    // Population evaluators: one per thread.
    if (!m.dims.empty()) {
        int threads = params.threads;
#ifdef __EMSCRIPTEN__
        threads = 1;
#else
        if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
#endif
        threads = std::clamp(threads, 1, 64);
        for (int t = 0; t < threads; ++t) {
            auto e = make_evaluator(synth_name, target, u0, error);
            if (!e) return false;
            m.evaluators.push_back(std::move(e));
        }
    }

    // Initial loss (also validates the graph); gradient-only sessions build a one-off evaluator.
    if (m.evaluators.empty()) {
        const auto e = make_evaluator(synth_name, target, u0, error);
        if (!e) return false;
        initial_loss_ = e->evaluate(u0);
    } else {
        initial_loss_ = m.evaluators[0]->evaluate(u0);
    }
    ++evaluations_;
    best_loss_ = last_loss_ = initial_loss_;
    done_ = false;
    paused_s_ = 0;
    return true;
}

// [SECTION] gradient

void MatchSession::consider(const Vec& u, double loss) {
    if (loss < best_loss_) {
        best_loss_ = loss;
        best_u_ = u;
    }
}

void MatchSession::gradient_step() {
    Impl& m = *impl_;
    if (!m.gradient_ready) {
        // Built on first use, from the best parameters so far (hybrid starts from its search).
        m.tape = std::make_unique<ad::Tape>();
        m.u = m.tape->variable(best_u_);
        ad::Var audio = m.synth->build(m.u, cfg_);
        m.loss = make_loss(params_.loss, audio, target_, cfg_.sample_rate_hz);
        ad::AdamParams ap;
        ap.learning_rate = params_.learning_rate;
        ap.clip_norm = params_.clip_norm;
        m.adam = std::make_unique<ad::Adam>(ap);
        m.adam->add(m.u);
        m.step_scale.resize(best_u_.size());
        const std::vector<int> offsets = synth::table_offsets(table_);
        for (size_t k = 0; k < table_.size(); ++k)
            m.step_scale.segment(offsets[k], table_[k].size).setConstant(Real(table_[k].step_scale));
        m.has_step_scale = (m.step_scale != Real(1)).any();
        m.gradient_ready = true;
        m.reference_loss = best_loss_;
        m.since_improvement = 0;
    }
    m.tape->forward();
    ++evaluations_;
    const double loss = finite_or_inf(double(m.loss->loss().item()));
    const Vec u_now = m.u.value().col(0);
    if (!std::isfinite(loss)) {
        // A step went somewhere the synth cannot render: go back to the best point, slow down.
        m.tape->mutable_value(m.u).col(0) = best_u_;
        m.adam->reset();
        m.adam->params().learning_rate *= 0.5;
        record(loss);
        return;
    }
    consider(u_now, loss);
    m.tape->backward(m.loss->loss());
    if (!m.adam->step()) {
        m.tape->mutable_value(m.u).col(0) = best_u_;
        m.adam->reset();
        m.adam->params().learning_rate *= 0.5;
    } else if (m.has_step_scale) {  // per-parameter learning rates: scale this step's move
        auto u_next = m.tape->mutable_value(m.u).col(0);
        u_next = u_now + (u_next - u_now) * m.step_scale;
    }
    if (loss < m.reference_loss * (1 - params_.min_improvement)) {
        m.reference_loss = loss;
        m.since_improvement = 0;
    } else if (++m.since_improvement >= params_.patience) {
        m.gradient_converged = true;
    }
    record(loss);
}

void MatchSession::evaluate_batch(const std::vector<Vec>& us, std::vector<double>& losses) {
    Impl& m = *impl_;
    losses.assign(us.size(), kInf);
    const size_t workers = std::min(m.evaluators.size(), us.size());
    auto work = [&](size_t w) {
        for (size_t i = w; i < us.size(); i += workers) losses[i] = m.evaluators[w]->evaluate(us[i]);
    };
#ifndef __EMSCRIPTEN__
    if (workers > 1) {
        std::vector<std::thread> pool;
        for (size_t w = 1; w < workers; ++w) pool.emplace_back(work, w);
        work(0);
        for (auto& t : pool) t.join();
    } else {
        work(0);
    }
#else
    for (size_t w = 0; w < workers; ++w) work(w);
#endif
    evaluations_ += int(us.size());
    for (size_t i = 0; i < us.size(); ++i) consider(us[i], losses[i]);
}

// [SECTION] genetic

void MatchSession::genetic_step() {
    Impl& m = *impl_;
    const int dims = int(m.dims.size());
    const int pop = params_.population, parents = params_.parents;
    if (!m.population_ready) {
        // The starting point and random individuals in the normalised cube.
        m.pop_z.assign(size_t(pop), Vec());
        m.pop_z[0] = m.to_z(best_u_);
        for (int i = 1; i < pop; ++i) {
            m.pop_z[size_t(i)].resize(dims);
            for (int d = 0; d < dims; ++d) m.pop_z[size_t(i)][d] = Real(m.rng.uniform());
        }
        std::vector<Vec> us;
        for (const Vec& z : m.pop_z) us.push_back(m.to_u(z));
        evaluate_batch(us, m.pop_loss);
        m.population_ready = true;
        record(*std::min_element(m.pop_loss.begin(), m.pop_loss.end()));
        return;
    }
    // Steady-state selection: the best `parents` survive and mate.
    std::vector<int> order(static_cast<size_t>(pop));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return m.pop_loss[size_t(a)] < m.pop_loss[size_t(b)]; });
    std::vector<Vec> next_z;
    std::vector<double> next_loss;
    for (int i = 0; i < parents; ++i) {
        next_z.push_back(m.pop_z[size_t(order[size_t(i)])]);
        next_loss.push_back(m.pop_loss[size_t(order[size_t(i)])]);
    }
    std::vector<Vec> children_z, children_u;
    for (int j = 0; j < pop - parents; ++j) {
        const Vec& a = next_z[size_t(j % parents)];
        const Vec& b = next_z[size_t((j + 1) % parents)];
        Vec child = a;
        if (dims > 1) {  // single-point crossover
            const int cut = 1 + m.rng.below(dims - 1);
            child.tail(dims - cut) = b.tail(dims - cut);
        }
        bool mutated = false;  // random mutation, at least one gene
        for (int d = 0; d < dims; ++d)
            if (m.rng.uniform() < params_.mutation_probability) {
                child[d] = Real(std::clamp(double(child[d]) + m.rng.uniform(-params_.mutation_scale, params_.mutation_scale), 0.0, 1.0));
                mutated = true;
            }
        if (!mutated) {
            const int d = m.rng.below(dims);
            child[d] = Real(std::clamp(double(child[d]) + m.rng.uniform(-params_.mutation_scale, params_.mutation_scale), 0.0, 1.0));
        }
        children_u.push_back(m.to_u(child));
        children_z.push_back(std::move(child));
    }
    std::vector<double> child_loss;
    evaluate_batch(children_u, child_loss);
    for (size_t j = 0; j < children_z.size(); ++j) {
        next_z.push_back(children_z[j]);
        next_loss.push_back(child_loss[j]);
    }
    m.pop_z = std::move(next_z);
    m.pop_loss = std::move(next_loss);
    record(*std::min_element(m.pop_loss.begin(), m.pop_loss.end()));
}

// [SECTION] CMA-ES
// (mu/mu_w, lambda)-CMA-ES with rank-one and rank-mu covariance updates and cumulative step-size
// adaptation, following Hansen's tutorial. Candidates outside [0,1]^D are evaluated at the
// nearest point inside plus a quadratic penalty, so the search learns to stay in range.

void MatchSession::cmaes_step(double initial_sigma) {
    Impl& m = *impl_;
    const int n = int(m.dims.size());
    const int lambda = 4 + int(std::floor(3 * std::log(double(n))));
    const int mu = lambda / 2;
    Vec w(mu);
    for (int i = 0; i < mu; ++i) w[i] = Real(std::log(mu + 0.5) - std::log(i + 1.0));
    w /= w.sum();
    const double mu_eff = 1.0 / double(w.square().sum());
    const double c_sigma = (mu_eff + 2) / (n + mu_eff + 5);
    const double d_sigma = 1 + 2 * std::max(0.0, std::sqrt((mu_eff - 1) / (n + 1)) - 1) + c_sigma;
    const double c_c = (4 + mu_eff / n) / (n + 4 + 2 * mu_eff / n);
    const double c_1 = 2 / ((n + 1.3) * (n + 1.3) + mu_eff);
    const double c_mu = std::min(1 - c_1, 2 * (mu_eff - 2 + 1 / mu_eff) / ((n + 2) * (n + 2) + mu_eff));
    const double chi_n = std::sqrt(double(n)) * (1 - 1.0 / (4 * n) + 1.0 / (21.0 * n * n));

    if (m.generation == 0 && m.mean.size() == 0) {
        m.mean = m.to_z(best_u_);
        m.p_sigma = Vec::Zero(n);
        m.p_c = Vec::Zero(n);
        m.cov = Mat::Identity(n, n);
        m.sigma = initial_sigma > 0 ? initial_sigma : params_.cmaes_sigma;
    }
    Eigen::SelfAdjointEigenSolver<Mat> eig(m.cov);
    const Vec d_diag = eig.eigenvalues().array().max(Real(1e-20)).sqrt();
    const Mat& b = eig.eigenvectors();

    std::vector<Vec> ys(static_cast<size_t>(lambda)), us(static_cast<size_t>(lambda));
    std::vector<double> penalty(static_cast<size_t>(lambda));
    for (int k = 0; k < lambda; ++k) {
        Vec z(n);
        for (int i = 0; i < n; ++i) z[i] = Real(m.rng.normal());
        ys[size_t(k)] = (b * (d_diag * z).matrix()).array();
        const Vec x = m.mean + Real(m.sigma) * ys[size_t(k)];
        const Vec inside = x.max(Real(0)).min(Real(1));
        penalty[size_t(k)] = double((x - inside).square().sum());
        us[size_t(k)] = m.to_u(inside);
    }
    std::vector<double> losses;
    evaluate_batch(us, losses);
    std::vector<int> order(static_cast<size_t>(lambda));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int c) {
        return losses[size_t(a)] + penalty[size_t(a)] < losses[size_t(c)] + penalty[size_t(c)];
    });

    Vec y_w = Vec::Zero(n);
    for (int i = 0; i < mu; ++i) y_w += w[i] * ys[size_t(order[size_t(i)])];
    m.mean += Real(m.sigma) * y_w;
    // C^{-1/2} y_w = B D^{-1} B^T y_w
    const Vec c_inv_sqrt_y = (b * ((b.transpose() * y_w.matrix()).array() / d_diag).matrix()).array();
    m.p_sigma = Real(1 - c_sigma) * m.p_sigma + Real(std::sqrt(c_sigma * (2 - c_sigma) * mu_eff)) * c_inv_sqrt_y;
    const double ps_norm = double(m.p_sigma.matrix().norm());
    const double h_sigma_bound = (1.4 + 2.0 / (n + 1)) * chi_n;
    const bool h_sigma = ps_norm / std::sqrt(1 - std::pow(1 - c_sigma, 2.0 * (m.generation + 1))) < h_sigma_bound;
    m.p_c = Real(1 - c_c) * m.p_c + Real(h_sigma ? std::sqrt(c_c * (2 - c_c) * mu_eff) : 0.0) * y_w;
    Mat rank_mu = Mat::Zero(n, n);
    for (int i = 0; i < mu; ++i) {
        const auto y = ys[size_t(order[size_t(i)])].matrix();
        rank_mu += Real(w[i]) * y * y.transpose();
    }
    m.cov = Real(1 - c_1 - c_mu) * m.cov +
            Real(c_1) * (m.p_c.matrix() * m.p_c.matrix().transpose() + Real(h_sigma ? 0.0 : c_c * (2 - c_c)) * m.cov) +
            Real(c_mu) * rank_mu;
    m.sigma *= std::exp((c_sigma / d_sigma) * (ps_norm / chi_n - 1));
    m.sigma = std::clamp(m.sigma, 1e-8, 1.0);
    ++m.generation;
    record(losses[size_t(order[0])]);
}

// [SECTION] hybrid
//
// Equal wall time, never worse than gradient descent alone: the first phase *is* the gradient
// method (same start, same steps) until its early-stopping rule fires or half the budget (steps or
// time) is spent. What is left goes to rounds of global search and polish until the budget is
// spent: CMA-ES around the best point (a quarter of cmaes_sigma) until it stops finding better
// points, then gradient descent again from the best point (fresh Adam moments) until it converges.
// Odd rounds search the parameters gradients handle badly (the synth's `global` ones: pitch, mode
// frequencies), even rounds every parameter when there are few enough. Every phase only ever
// replaces the best point with a better one. A synth without global parameters runs gradient
// descent alone.

double MatchSession::budget_used() const {
    double used = double(iteration_) / std::max(1, params_.max_steps);
    const double budget_s = params_.time_budget_s > 0 ? params_.time_budget_s : params_.budget_hint_s;
    if (budget_s > 0) used = std::max(used, elapsed_s() / budget_s);
    return used;
}

void MatchSession::start_search_round() {
    Impl& m = *impl_;
    m.phase = Impl::Phase::search;
    ++m.search_round;
    const bool all = m.search_round % 2 == 0 && int(best_u_.size()) <= params_.max_search_dims;
    if (all) {
        m.dims.resize(size_t(best_u_.size()));
        std::iota(m.dims.begin(), m.dims.end(), 0);
    } else {
        m.dims = m.global_dims;
    }
    m.base_u = best_u_;  // the dimensions not searched stay at the best point
    m.mean.resize(0);    // CMA-ES starts afresh there
    m.generation = 0;
    m.search_stalled = 0;
}

void MatchSession::hybrid_step() {
    Impl& m = *impl_;
    using Phase = Impl::Phase;
    const bool can_search = !m.global_dims.empty();
    if (m.phase == Phase::descend && can_search && (m.gradient_converged || budget_used() >= 0.5)) start_search_round();
    if (m.phase == Phase::search && m.search_stalled >= 8) {
        m.phase = Phase::polish;
        m.gradient_ready = false;  // rebuilt at the best point
        m.gradient_converged = false;
    }
    if (m.phase == Phase::polish && m.gradient_converged) start_search_round();
    if (m.phase == Phase::search) {
        const double before = best_loss_;
        cmaes_step(0.25 * params_.cmaes_sigma);
        m.search_stalled = best_loss_ < before * (1 - params_.min_improvement) ? 0 : m.search_stalled + 1;
        return;
    }
    gradient_step();
    if (m.gradient_converged && !can_search) done_ = true;  // nothing else to try
}

// [SECTION] stepping, reporting

bool MatchSession::step() {
    if (done_) return false;
    const auto t0 = std::chrono::steady_clock::now();
    ++iteration_;
    switch (params_.method) {
        case Method::gradient: gradient_step(); break;
        case Method::genetic: genetic_step(); break;
        case Method::cmaes: cmaes_step(); break;
        case Method::hybrid: hybrid_step(); break;
    }
    if (params_.method == Method::gradient && impl_->gradient_converged) done_ = true;
    paused_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    history_.back().elapsed_s = elapsed_s();
    if (iteration_ >= step_limit_ || out_of_time()) done_ = true;
    return !done_;
}

void MatchSession::run_for(double seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    while (!done_ && std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) step();
}

void MatchSession::resume(int extra_steps) {
    if (!impl_->synth) return;
    step_limit_ = iteration_ + std::max(0, extra_steps);
    impl_->since_improvement = 0;
    done_ = step_limit_ <= iteration_;
}

synth::ParamValues MatchSession::best_params() const { return synth::to_physical(table_, best_u_); }

Vec MatchSession::best_audio() {
    ad::Tape tape(ad::Tape::Mode::forward_only);
    ad::Var audio = impl_->synth->build(tape.constant(best_u_), cfg_);
    return audio.value().col(0);
}

// Compute time spent inside step(): what a user waits for, excluding pauses between slices.
double MatchSession::elapsed_s() const { return paused_s_; }

bool MatchSession::out_of_time() const { return params_.time_budget_s > 0 && elapsed_s() >= params_.time_budget_s; }

void MatchSession::record(double iteration_loss) {
    last_loss_ = iteration_loss;
    IterationRecord r;
    r.iteration = iteration_;
    r.loss = iteration_loss;
    r.best_loss = best_loss_;
    r.elapsed_s = elapsed_s();
    r.evaluations = evaluations_;
    history_.push_back(r);
}

}  // namespace ddsp::match
