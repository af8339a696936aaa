#include "engine/landscape_job.h"

#include "util/json.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace ddsp::engine {

using util::format_g;

bool LandscapeJob::start(const LandscapeRequest& request, Target& target, std::string& error) {
    landscape_.reset();
    if (request.steps < 2 || request.steps > 401) {
        error = "steps: " + std::to_string(request.steps) + " is outside 2..401";
        return false;
    }
    SynthJob job;
    TargetFit fit;
    if (!prepare_synth_text(request.synth, request.params_text, 0, job, error) || !fit_target(job, target, 0, fit, error))
        return false;

    match::LandscapeSetup setup;
    setup.synth_name = job.name;
    setup.cfg = fit.cfg;
    setup.cfg.seed = request.seed;
    setup.target = *fit.samples;
    setup.loss = request.loss;
    setup.analysis = fit.analysis;
    const std::vector<synth::ParamSpec> table = job.synth->param_table(setup.cfg);
    if (job.have_file) {
        if (!match::params_validate(job.file, job.name, table, setup.u0, error)) {
            error = "params: " + error;
            return false;
        }
    } else if (!synth::to_unconstrained(table, job.synth->initial_values(setup.cfg), setup.u0, error)) {
        return false;
    }

    auto make_axis = [&](const std::string& name, bool have_range, double lo, double hi, const char* key,
                         match::LandscapeAxis& axis) {
        if (!match::landscape_axis(name, table, axis, error)) return false;
        const synth::ParamSpec& p = table[size_t(axis.param)];
        if (!have_range) {
            lo = p.min_value;
            hi = p.max_value;
        } else if (!(lo < hi) || lo < p.min_value || hi > p.max_value) {
            error = std::string(key) + ": [" + format_g(lo) + ", " + format_g(hi) + "] is not [lo, hi] with " +
                    format_g(p.min_value) + " <= lo < hi <= " + format_g(p.max_value);
            return false;
        }
        match::landscape_axis_grid(axis, table, request.steps, lo, hi);
        return true;
    };
    match::LandscapeAxis ax, ay;
    if (!make_axis(request.x, request.have_x_range, request.x_lo, request.x_hi, "xRange", ax) ||
        !make_axis(request.y, request.have_y_range, request.y_lo, request.y_hi, "yRange", ay))
        return false;
    auto l = std::make_unique<match::Landscape>();
    if (!l->init(setup, ax, ay, error)) return false;

    // Where the given parameters sit on the two axes (the first value of a vector axis).
    const synth::ParamValues current = synth::to_physical(table, setup.u0);
    const std::vector<int> offsets = synth::table_offsets(table);
    auto current_of = [&](const match::LandscapeAxis& a) {
        const std::vector<double>& v = current.at(table[size_t(a.param)].name);
        return v[size_t(a.dims[0] - offsets[size_t(a.param)])];
    };
    current_x_ = current_of(ax);
    current_y_ = current_of(ay);
    x_ = ax;
    y_ = ay;
    landscape_ = std::move(l);
    return true;
}

bool LandscapeJob::run_for(double seconds) {
    if (!landscape_) return false;
    const auto t0 = std::chrono::steady_clock::now();
    seconds = std::isfinite(seconds) ? std::max(0.0, seconds) : 0;
    while (!landscape_->run_points(1))
        if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= seconds) break;
    return landscape_->done();
}

bool LandscapeJob::result(LandscapeResult& out, std::string& error) const {
    if (!landscape_) {
        error = "no landscape has been started";
        return false;
    }
    if (!landscape_->done()) {
        error = "the landscape is not finished";
        return false;
    }
    const std::vector<double>& loss = landscape_->loss();
    const size_t steps = size_t(landscape_->steps());
    double worst = -1;
    size_t best = 0;
    out.invalid = 0;
    for (size_t k = 0; k < loss.size(); ++k) {
        if (!std::isfinite(loss[k])) {
            ++out.invalid;
            continue;
        }
        worst = std::max(worst, loss[k]);
        if (!std::isfinite(loss[best]) || loss[k] < loss[best]) best = k;
    }
    if (worst < 0) {
        error = "the synth renders non-finite audio at every grid point";
        return false;
    }
    out.loss.resize(loss.size());
    for (size_t k = 0; k < loss.size(); ++k) out.loss[k] = std::isfinite(loss[k]) ? loss[k] : worst;
    out.x_label = x_.label;
    out.y_label = y_.label;
    out.x_log = x_.log;
    out.y_log = y_.log;
    out.x_values = x_.values;
    out.y_values = y_.values;
    out.min_x = x_.values[best % steps];
    out.min_y = y_.values[best / steps];
    out.min_loss = loss[best];
    out.current_x = current_x_;
    out.current_y = current_y_;
    return true;
}

}  // namespace ddsp::engine
