#include "app/time_axis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ddsp::app {

// [SECTION] TimeAxis

double TimeAxis::min_span_s() const { return clip_s_ > 0 ? std::min(0.001, clip_s_) : 1.0; }

void TimeAxis::set_clip(double clip_s, double fit_s) {
    if (!std::isfinite(clip_s) || clip_s < 0) clip_s = 0;
    const bool changed = std::abs(clip_s - clip_s_) > 1e-9;
    clip_s_ = clip_s;
    fit_s_ = std::isfinite(fit_s) && fit_s > 0 ? std::min(fit_s, clip_s) : clip_s;
    if (changed || fitted_)
        fit();
    else
        set(start_s_, end_s_);
}

void TimeAxis::fit(double also_s) {
    fitted_ = true;
    if (clip_s_ <= 0) {
        start_s_ = 0, end_s_ = 1;
        return;
    }
    double end = fit_s_;
    if (std::isfinite(also_s) && also_s > end) end = fit_end_s(also_s, clip_s_);
    start_s_ = 0;
    end_s_ = std::clamp(end, min_span_s(), clip_s_);
}

void TimeAxis::set(double start_s, double end_s) {
    if (clip_s_ <= 0 || !std::isfinite(start_s) || !std::isfinite(end_s)) return;
    if (end_s < start_s) std::swap(start_s, end_s);
    const double span = std::clamp(end_s - start_s, min_span_s(), clip_s_);
    start_s_ = std::clamp(start_s, 0.0, clip_s_ - span);
    end_s_ = start_s_ + span;
    fitted_ = false;
}

void TimeAxis::zoom(double factor, double anchor_s) {
    if (clip_s_ <= 0 || !std::isfinite(factor) || factor <= 0 || !std::isfinite(anchor_s)) return;
    const double span = span_s(), next = std::clamp(span * factor, min_span_s(), clip_s_);
    const double start = anchor_s - (anchor_s - start_s_) * next / span;
    set(start, start + next);
}

void TimeAxis::pan(double delta_s) {
    if (std::isfinite(delta_s)) set(start_s_ + delta_s, end_s_ + delta_s);
}

// [SECTION] fitting

double sound_end_s(const Vec& x, double sample_rate_hz, double floor_db) {
    if (x.size() == 0 || !(sample_rate_hz > 0)) return 0;
    double peak = 0;
    for (Eigen::Index i = 0; i < x.size(); ++i)
        if (std::isfinite(x[i])) peak = std::max(peak, std::abs(double(x[i])));
    if (peak <= 0) return 0;
    const double threshold = peak * std::pow(10.0, -floor_db / 20);
    for (Eigen::Index i = x.size() - 1; i >= 0; --i)
        if (std::isfinite(x[i]) && std::abs(double(x[i])) >= threshold) return double(i + 1) / sample_rate_hz;
    return 0;
}

double fit_end_s(double sound_end_s, double clip_s) {
    if (!(sound_end_s > 0)) return clip_s;
    const double end = sound_end_s * 1.1 + 0.005;  // a little room after the sound
    return end > 0.9 * clip_s ? clip_s : end;      // no hidden sliver at the end
}

// [SECTION] ruler

TimeTicks time_ticks(double start_s, double end_s, double width_px, double min_px) {
    TimeTicks out;
    const double span = end_s - start_s;
    if (!(span > 0) || !(width_px > 0) || !(min_px > 0)) return out;
    const double raw = span * min_px / width_px;
    double step = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (step * m >= raw * (1 - 1e-9)) {
            step *= m;
            break;
        }
    out.step_s = step;
    for (long long k = (long long)std::ceil(start_s / step - 1e-9); out.t_s.size() < 1000; ++k) {
        const double t = double(k) * step;
        if (t > end_s + step * 1e-9) break;
        out.t_s.push_back(t);
    }
    return out;
}

std::string format_tick(double t_s, double step_s) {
    char buf[32];
    if (std::abs(t_s) < step_s * 1e-6) return "0";
    if (step_s >= 0.1 || t_s >= 1) {
        const int decimals = std::max(0, int(std::ceil(-std::log10(step_s) - 1e-9)));
        std::snprintf(buf, sizeof buf, "%.*f s", decimals, t_s);
    } else {
        const int decimals = std::max(0, int(std::ceil(-std::log10(step_s * 1000) - 1e-9)));
        std::snprintf(buf, sizeof buf, "%.*f ms", decimals, t_s * 1000);
    }
    return buf;
}

}  // namespace ddsp::app
