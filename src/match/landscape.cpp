#include "match/landscape.h"

#include "util/json.h"
#include "util/text.h"



#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#ifndef __EMSCRIPTEN__
#include <thread>
#endif

namespace ddsp::match {

bool landscape_axis(const std::string& text, const std::vector<synth::ParamSpec>& table, LandscapeAxis& axis,
                    std::string& error) {
    axis = LandscapeAxis();
    std::string name = text;
    long long index = -1;
    const std::size_t colon = text.find(':');
    if (colon != std::string::npos) {
        name = text.substr(0, colon);
        if (!util::parse_integer(text.substr(colon + 1), index) || index < 0) {
            error = util::quote_input(text) + ": the index after ':' must be a non-negative integer";
            return false;
        }
    }
    const std::vector<int> offsets = synth::table_offsets(table);
    for (size_t i = 0; i < table.size(); ++i) {
        if (table[i].name != name) continue;
        axis.param = int(i);
        if (index >= table[i].size) {
            error = "parameter " + util::quote_input(name) + " has " + std::to_string(table[i].size) + " values; index " +
                    std::to_string(index) + " is out of range";
            return false;
        }
        axis.dims.clear();
        if (index >= 0) {
            axis.dims = {offsets[i] + int(index)};
        } else {
            for (int k = 0; k < table[i].size; ++k) axis.dims.push_back(offsets[i] + k);
        }
    }
    if (axis.param < 0) {
        std::string names;
        for (const synth::ParamSpec& p : table) names += (names.empty() ? "" : ", ") + p.name;
        error = "unknown parameter " + util::quote_input(name) + " (parameters: " + names + ")";
        return false;
    }
    axis.label = text;
    axis.log = table[size_t(axis.param)].scale == ad::Scale::log;
    axis.global = table[size_t(axis.param)].global;
    return true;
}

void landscape_axis_grid(LandscapeAxis& axis, const std::vector<synth::ParamSpec>& table, int steps,
                         double lo, double hi) {
    const synth::ParamSpec& p = table[size_t(axis.param)];
    axis.values.clear();
    axis.u_values.clear();
    for (int i = 0; i < steps; ++i) {
        const double t = double(i) / (steps - 1);
        const double v = i == steps - 1 ? hi : axis.log ? lo * std::pow(hi / lo, t) : lo + (hi - lo) * t;
        axis.values.push_back(v);
        axis.u_values.push_back(ad::unbounded_value(v, p.min_value, p.max_value, p.scale));
    }
}

struct Landscape::Evaluator {
    std::unique_ptr<synth::Synth> synth;
    std::unique_ptr<ad::Tape> tape;
    std::unique_ptr<TargetLoss> loss;
    ad::Var u;

    void build(const Vec& u0, const synth::SynthConfig& cfg, const Vec& target, LossKind kind) {
        loss.reset();
        tape = std::make_unique<ad::Tape>(ad::Tape::Mode::forward_only);
        u = tape->constant(u0);
        const ad::Var audio = synth->build(u, cfg);
        loss = make_loss(kind, audio, target, cfg.sample_rate_hz);
    }
    double evaluate(const Vec& values) {
        tape->mutable_value(u).col(0) = values;
        tape->forward();
        const double v = double(loss->loss().item());
        return std::isfinite(v) ? v : std::numeric_limits<double>::infinity();
    }
};

Landscape::Landscape() = default;
Landscape::~Landscape() = default;

bool Landscape::add_evaluator(std::string& error) {
    auto e = std::make_unique<Evaluator>();
    e->synth = synth::make_synth(setup_.synth_name);
    if (!e->synth) {
        error = "unknown synth '" + setup_.synth_name + "'";
        return false;
    }
    e->synth->use_analysis(analysis_);
    evaluators_.push_back(std::move(e));
    return true;
}

// An axis is "structural" when a graph built at one of its values and re-run at another gives
// another loss than a graph built there (global parameters are taken to be; others are probed at
// the middle and far end of the grid).
bool Landscape::structural(const LandscapeAxis& a) {
    if (a.global) return true;
    Evaluator fresh;
    fresh.synth = synth::make_synth(setup_.synth_name);
    fresh.synth->use_analysis(analysis_);
    Evaluator& e = *evaluators_[0];
    Vec u = setup_.u0;
    for (int d : a.dims) u[d] = Real(a.u_values[0]);
    e.build(u, setup_.cfg, setup_.target, setup_.loss);
    for (int k : {steps_ / 2, steps_ - 1}) {
        for (int d : a.dims) u[d] = Real(a.u_values[size_t(k)]);
        const double rerun = e.evaluate(u);
        fresh.build(u, setup_.cfg, setup_.target, setup_.loss);
        const double built = fresh.evaluate(u);
        if (!(rerun == built || std::fabs(rerun - built) <= 1e-6 * std::max(1.0, std::fabs(built))))
            return true;
    }
    return false;
}

bool Landscape::init(const LandscapeSetup& setup, const LandscapeAxis& x, const LandscapeAxis& y,
                     std::string& error) {
    evaluators_.clear();
    loss_.clear();
    steps_ = next_row_ = next_col_ = 0;
    setup_ = setup;
    x_ = x;
    y_ = y;
    if (x.values.size() != y.values.size() || x.values.size() < 2 || x.u_values.size() != x.values.size() ||
        y.u_values.size() != y.values.size()) {
        error = "the landscape's axes need the same number of grid points (at least 2)";
        return false;
    }
    for (int d : x.dims)
        if (d < 0 || d >= int(setup.u0.size()) ||
            std::find(y.dims.begin(), y.dims.end(), d) != y.dims.end()) {
            error = "the x and y axes overlap (" + x.label + ", " + y.label + ")";
            return false;
        }
    for (int d : y.dims)
        if (d < 0 || d >= int(setup.u0.size())) {
            error = "axis '" + y.label + "' does not fit the parameters";
            return false;
        }
    if (setup.target.size() != setup.cfg.num_samples) {
        error = "the landscape's target has " + std::to_string(setup.target.size()) + " samples, not " +
                std::to_string(setup.cfg.num_samples);
        return false;
    }
    analysis_ = setup.analysis;
    if (setup.analyse && !analysis_) {
        const std::unique_ptr<synth::Synth> s = synth::make_synth(setup.synth_name);
        if (!s) {
            error = "unknown synth '" + setup.synth_name + "'";
            return false;
        }
        if (!s->analyse(setup.target, setup.cfg, analysis_, error)) return false;
    }
    if (!setup.analyse) analysis_ = nullptr;
    steps_ = int(x.values.size());
    if (!add_evaluator(error)) {
        steps_ = 0;
        return false;
    }
    const bool x_structural = structural(x_), y_structural = structural(y_);
    x_outer_ = x_structural && !y_structural;
    rebuild_each_point_ = x_structural && y_structural;
    loss_.assign(size_t(steps_) * size_t(steps_), std::numeric_limits<double>::infinity());
    return true;
}

// Point (row o, column i) of the outer x inner grid; a row starts with a fresh graph.
void Landscape::compute_point(Evaluator& e, Vec& u, int o, int i) {
    const LandscapeAxis& outer = x_outer_ ? x_ : y_;
    const LandscapeAxis& inner = x_outer_ ? y_ : x_;
    if (i == 0) {
        u = setup_.u0;
        for (int d : outer.dims) u[d] = Real(outer.u_values[size_t(o)]);
    }
    for (int d : inner.dims) u[d] = Real(inner.u_values[size_t(i)]);
    if (i == 0 || rebuild_each_point_) e.build(u, setup_.cfg, setup_.target, setup_.loss);
    const int xi = x_outer_ ? o : i, yi = x_outer_ ? i : o;
    loss_[size_t(yi) * size_t(steps_) + size_t(xi)] = e.evaluate(u);
}

bool Landscape::run_points(int points) {
    for (int k = 0; k < points && next_row_ < steps_; ++k) {
        compute_point(*evaluators_[0], cursor_u_, next_row_, next_col_);
        if (++next_col_ == steps_) {
            next_col_ = 0;
            ++next_row_;
        }
    }
    return done();
}

void Landscape::run(int threads) {
    if (next_col_ > 0) run_points(steps_ - next_col_);  // finish a row begun by run_points
    if (done()) return;
#ifdef __EMSCRIPTEN__
    threads = 1;
#else
    if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
#endif
    const int first = next_row_, remaining = steps_ - next_row_;
    threads = std::clamp(threads, 1, remaining);
    std::string error;
    while (int(evaluators_.size()) < threads)
        if (!add_evaluator(error)) {
            threads = int(evaluators_.size());  // analysis succeeded once, so this does not happen
            break;
        }
    auto work = [&](int t) {
        Vec u;
        for (int o = first + t; o < steps_; o += threads)
            for (int i = 0; i < steps_; ++i) compute_point(*evaluators_[size_t(t)], u, o, i);
    };
#ifndef __EMSCRIPTEN__
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (std::thread& th : pool) th.join();
#else
    work(0);
#endif
    next_row_ = steps_;
}

}  // namespace ddsp::match
