// `ks`: a differentiable Karplus-Strong string, after DiffKS (Differentiable Karplus-Strong
// Synthesis for Neural Resonance Optimisation, WASPAA 2025).
//
// Index
//   [SECTION] design
//   [SECTION] fractional loop taps (custom node)
//   [SECTION] decimation (custom node)
//   [SECTION] pieces composed from ad ops
//   [SECTION] the synth
//
// [SECTION] design
//
// Signal flow (n samples at the I/O rate):
//   burst    = noise (exc_ms of seeded Gaussian noise, mean removed) through an all-pole filter of
//              order exc_order given by reflection coefficients, scaled by sqrt(prod(1 - k^2)) so
//              its RMS does not depend on its colour, times exc_gain_db
//   exc      = burst, or (1 - residual_mix) * burst + residual_mix * residual once a recording
//              was analysed (see below); zero after exc_ms
//   y[t]     = exc[t] + g[t] * sum_k b_k[t] * y[t - L[t] - k]       (k = 0..K, fractional lags)
// and y is the output. The loop is one ad::allpole over a window of integer lags, so its
// gradient is exact in the time domain (torchlpc's backward), as in the paper.
//
// Loop controls (control_frames frames each, natural cubic spline to samples, as in the paper).
// The splines run on the log of the values, so taps stay positive and the gain stays below 1
// whatever the spline's overshoot:
//   b_k = loop_tap_k / sum_j loop_tap_j            positive taps summing to 1, so |B(w)| <= 1
//   g   = 10^(-3 / (f0 * decay_s)) < 1            the loop gain: decay_s is the T60 the string
//                                                 would have with a lossless loop filter; the
//                                                 filter adds its own loss |B(w)| per period.
// With sum_k g b_k < 1 the time-varying loop is stable for any parameter values.
//
// Pitch: the loop delay is P = sr / f0 samples at f0. The loop filter's phase delay at
// w0 = 2 pi f0 / sr, tau = K/2 - arg(sum_k b_k e^{-j (k - K/2) w0}) / w0 (exact, per sample, with
// atan2 composed from ad ops), is subtracted: L = P - tau. Linear interpolation adds its own
// phase delay, which equals the fractional part at low frequencies; at f0 = sr/8 (the top of the
// f0 range) it is off by at most 0.0102 samples, 0.13 % of the period (tests check 1 %).
//
// The lag window: the integer part of the delay cannot carry a gradient, so every tap is spread
// over the two integer lags around its fractional lag (ks_fractional_taps, tap_k * hat(lag - (L +
// k))); the delay's gradient flows through the interpolation weights. The lags are fixed when
// the graph is built: they cover L for f0 within +-window_cents of the f0 in u at build time
// (or the whole f0 range when that is narrower, as after analyse_target), plus one sample each
// side. Beyond the window the delay is clamped: the pitch stops at the window's edge and f0's
// gradient is 0 there. Rebuild the graph (Synth::build) to move the window; a graph built on a
// forward-only tape and re-run with a very different f0 renders that clamped pitch.
//
// Excitation choice (the paper's residual excitation for real recordings): analyse_target()
// stores the recording's first exc_ms and its YIN pitch. After that, the parameter residual_mix
// (0..1, default 1 once a recording is analysed, 0 otherwise) blends the noise burst with the
// residual: the recording's first exc_ms inverse-filtered through the current loop,
//   residual[t] = target[t] + sum_j A[t, j] * target[t - lag_j],
// which depends on the loop parameters (so it has a gradient), and with which the loop rebuilds
// the recording exactly over those exc_ms. Without an analysed recording (or at another sample
// rate) residual_mix has no effect. A number in the table (not a string) keeps population
// methods and parameter files working unchanged.
//
// Oversampling (KsOptions::oversample = M > 1): the string runs at M * sr (delays, lags, burst
// and residual all at the internal rate; the recording's head is upsampled with dsp::resample),
// then a linear-phase windowed-sinc low-pass (Blackman, cutoff 0.47 sr, 64 M + 1 taps) and
// decimation by M bring it back (ks_decimate). At M times the rate the linear interpolation's
// damping and dispersion shrink by ~M^2 (its loss at harmonic h is ~ a (1 - a) (h w0)^2 / 2), as
// the paper's internal 44.1 kHz rate does for 16 kHz audio. Costs ~M^2 (samples x lags).
//
// f0 from the recording: when YIN finds a note (dsp::yin_note_f0_hz; halved while
// dsp::yin_octave_too_high finds the odd partials of the octave below, YIN's error on low strings
// with weak odd harmonics), f0_hz's default becomes that value and its range shrinks to +-window_cents around it, so the lag window covers the
// whole range and every u in the table renders the pitch it names, even in a graph re-run with
// new values (population search); only then is f0_hz marked `global`. Without analysis the table
// stands alone: f0 in [30, min(4200, M sr/8, 0.4 sr)] Hz, default 220 Hz.
//
// initial_values(): after a note was found, decay_s starts from the recording's decay: the T60
// of its fundamental (RMS envelope of the recording band-passed at f0) less the default loop
// filter's and the interpolation's own loss per period.
#include "synth/ks.h"

#include "ad/ops_signal.h"
#include "dsp/pitch.h"
#include "dsp/resample.h"
#include "dsp/rng.h"
#include "synth/registry.h"
#include "util/text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace ddsp::synth {

// [SECTION] fractional loop taps (custom node)

namespace {

class KsTapsNode final : public ad::Node {
public:
    KsTapsNode(int first_lag, int num_lags, int num_taps)
        : first_lag_(first_lag), num_lags_(num_lags), num_taps_(num_taps), taps_(size_t(num_taps)),
          tap_grads_(size_t(num_taps)) {}
    const char* op_name() const override { return "ks_fractional_taps"; }

    void forward(ad::Tape& t) override {
        const Arr& d = t.value(inputs[0]);
        const int n = int(d.rows());
        if (value.rows() != n || value.cols() != num_lags_) value.resize(n, num_lags_);
        value.setZero();
        for (int k = 0; k < num_taps_; ++k) taps_[size_t(k)] = t.value(inputs[size_t(k + 1)]).data();
        for (int s = 0; s < n; ++s) {
            const Place pl = place(d(s, 0));
            for (int k = 0; k < num_taps_; ++k) {
                const Real c = taps_[size_t(k)][s];
                value(s, pl.base + k) -= c * (Real(1) - pl.frac);
                value(s, pl.base + k + 1) -= c * pl.frac;
            }
        }
    }

    void backward(ad::Tape& t) override {
        const Arr& d = t.value(inputs[0]);
        const int n = int(d.rows());
        const bool delay_grad = t.requires_grad(inputs[0]);
        for (int k = 0; k < num_taps_; ++k) {
            const int id = inputs[size_t(k + 1)];
            taps_[size_t(k)] = t.value(id).data();
            tap_grads_[size_t(k)] = t.requires_grad(id) ? t.grad_mutable(id).data() : nullptr;
        }
        Real* gd = delay_grad ? t.grad_mutable(inputs[0]).data() : nullptr;
        for (int s = 0; s < n; ++s) {
            const Place pl = place(d(s, 0));
            Real acc = 0;
            for (int k = 0; k < num_taps_; ++k) {
                const Real g0 = grad(s, pl.base + k), g1 = grad(s, pl.base + k + 1);
                acc += taps_[size_t(k)][s] * (g0 - g1);
                if (Real* gt = tap_grads_[size_t(k)]) gt[s] -= (Real(1) - pl.frac) * g0 + pl.frac * g1;
            }
            if (gd && !pl.clamped) gd[s] += acc;
        }
    }

private:
    struct Place {
        int base;    // column of tap 0's lower lag
        Real frac;   // weight of the upper lag
        bool clamped;
    };
    Place place(Real delay) const {
        const Real lo = Real(first_lag_), hi = Real(first_lag_ + num_lags_ - num_taps_ - 1);
        Place p{0, 0, false};
        Real x = delay;
        if (!(x >= lo)) {  // also catches NaN
            x = lo;
            p.clamped = true;
        } else if (x > hi) {
            x = hi;
            p.clamped = true;
        }
        int whole = int(std::floor(x));
        if (whole > first_lag_ + num_lags_ - num_taps_ - 1) whole = first_lag_ + num_lags_ - num_taps_ - 1;
        p.base = whole - first_lag_;
        p.frac = x - Real(whole);
        return p;
    }

    int first_lag_, num_lags_, num_taps_;
    std::vector<const Real*> taps_;
    std::vector<Real*> tap_grads_;
};

}  // namespace

ad::Var ks_fractional_taps(ad::Var delay, const std::vector<ad::Var>& taps, int first_lag, int num_lags) {
    if (taps.empty()) ad::graph_error("ks_fractional_taps: needs at least one tap");
    const int num_taps = int(taps.size());
    if (first_lag < 1 || num_lags < num_taps + 1)
        ad::graph_error("ks_fractional_taps: the window must hold lags >= 1 and at least taps + 1 of them");
    if (delay.cols() != 1) ad::graph_error("ks_fractional_taps: delay must be a column");
    ad::Tape& t = *delay.tape;
    auto node = std::make_unique<KsTapsNode>(first_lag, num_lags, num_taps);
    node->inputs.push_back(delay.id);
    for (const ad::Var& c : taps) {
        ad::same_tape(delay, c);
        if (c.rows() != delay.rows() || c.cols() != 1) ad::graph_error("ks_fractional_taps: taps must be columns like delay");
        node->inputs.push_back(c.id);
    }
    return t.push(std::move(node));
}

// [SECTION] decimation (custom node)

namespace {

class KsDecimateNode final : public ad::Node {
public:
    KsDecimateNode(int factor, std::vector<Real> kernel, int out_rows)
        : factor_(factor), half_(int(kernel.size()) / 2), kernel_(std::move(kernel)), out_rows_(out_rows) {}
    const char* op_name() const override { return "ks_decimate"; }

    void forward(ad::Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        const int n = int(x.rows());
        value.resize(out_rows_, 1);
        for (int i = 0; i < out_rows_; ++i) {
            const int centre = i * factor_;
            const int k0 = std::max(-half_, -centre), k1 = std::min(half_, n - 1 - centre);
            Real acc = 0;
            for (int k = k0; k <= k1; ++k) acc += kernel_[size_t(k + half_)] * x(centre + k, 0);
            value(i, 0) = acc;
        }
    }

    void backward(ad::Tape& t) override {
        Arr& gx = t.grad_mutable(inputs[0]);
        const int n = int(gx.rows());
        for (int i = 0; i < out_rows_; ++i) {
            const int centre = i * factor_;
            const int k0 = std::max(-half_, -centre), k1 = std::min(half_, n - 1 - centre);
            const Real g = grad(i, 0);
            for (int k = k0; k <= k1; ++k) gx(centre + k, 0) += kernel_[size_t(k + half_)] * g;
        }
    }

private:
    int factor_, half_;
    std::vector<Real> kernel_;
    int out_rows_;
};

}  // namespace

std::vector<Real> ks_decimation_kernel(int factor) {
    const int half = 32 * factor;
    std::vector<Real> h(size_t(2 * half + 1));
    const double fc = 0.47 / factor;  // cycles per input sample
    double sum = 0;
    std::vector<double> hd(h.size());
    for (int k = -half; k <= half; ++k) {
        const double x = 2 * fc * k;
        const double sinc = k == 0 ? 1.0 : std::sin(kPi * x) / (kPi * x);
        const double phase = 2 * kPi * (k + half) / (2 * half);
        const double blackman = 0.42 - 0.5 * std::cos(phase) + 0.08 * std::cos(2 * phase);
        hd[size_t(k + half)] = 2 * fc * sinc * blackman;
        sum += hd[size_t(k + half)];
    }
    for (size_t i = 0; i < h.size(); ++i) h[i] = Real(hd[i] / sum);  // unit gain at DC
    return h;
}

ad::Var ks_decimate(ad::Var x, int factor, const std::vector<Real>& kernel) {
    if (x.cols() != 1 || factor < 1 || kernel.size() % 2 != 1) ad::graph_error("ks_decimate: needs a column, factor >= 1 and an odd kernel");
    const int out_rows = (x.rows() + factor - 1) / factor;
    auto node = std::make_unique<KsDecimateNode>(factor, kernel, out_rows);
    node->inputs = {x.id};
    return x.tape->push(std::move(node));
}

// [SECTION] pieces composed from ad ops

namespace {

// atan(w) for |w| <= tan(pi/8) by its Taylor series to w^17 (error < 3e-9).
ad::Var atan_reduced(ad::Var w) {
    const ad::Var w2 = ad::square(w);
    constexpr int top = 8;  // terms w^1 .. w^(2 top + 1)
    auto coef = [](int i) { return Real((i % 2 == 0 ? 1.0 : -1.0) / (2 * i + 1)); };
    ad::Var poly = w2 * coef(top) + coef(top - 1);
    for (int i = top - 2; i >= 0; --i) poly = poly * w2 + coef(i);
    return w * poly;
}

// atan2(y, x) for x > 0 (or y != 0): two half-angle reductions bring the argument of the series
// to |w| <= tan(pi/8). The tape has no atan op; this is smooth and exact to ~1e-8.
ad::Var atan2_positive(ad::Var y, ad::Var x) {
    const ad::Var r = ad::sqrt(ad::square(x) + ad::square(y));
    const ad::Var z = y / (r + x);                               // tan(angle / 2), |z| <= 1
    const ad::Var w = z / (Real(1) + ad::sqrt(Real(1) + ad::square(z)));  // tan(angle / 4)
    return atan_reduced(w) * Real(4);
}

// Direct-form coefficients a_1..a_p (filter 1 / (1 + sum a_i z^-i)) from reflection coefficients
// (Levinson step-up): stable whenever every |k| < 1.
std::vector<ad::Var> reflection_to_direct(ad::Var k, int order) {
    std::vector<ad::Var> a;
    for (int m = 0; m < order; ++m) {
        const ad::Var km = ad::slice(k, m, 1);
        std::vector<ad::Var> next(size_t(m + 1));
        for (int i = 0; i < m; ++i) next[size_t(i)] = a[size_t(i)] + km * a[size_t(m - 1 - i)];
        next[size_t(m)] = km;
        a = next;
    }
    return a;
}

// T60 of the partial at f0_hz: the RMS envelope (20 ms frames, 10 ms hop) of x band-passed at f0
// (RBJ biquad, Q 4), a least-squares line from 10 dB to 50 dB below its peak. 0 if too short,
// too flat or not decaying.
double fundamental_t60_s(const Vec& x, double f0_hz, double sr) {
    const double w = 2 * kPi * f0_hz / sr, alpha = std::sin(w) / 8, a0 = 1 + alpha;
    const double b0 = alpha / a0, a1 = -2 * std::cos(w) / a0, a2 = (1 - alpha) / a0;
    const int frame = std::max(1, int(0.02 * sr)), hop = std::max(1, frame / 2);
    std::vector<double> db;
    double x1 = 0, x2 = 0, y1 = 0, y2 = 0, energy = 0;
    for (Eigen::Index i = 0; i < x.size(); ++i) {
        const double y = b0 * (double(x[i]) - x2) - a1 * y1 - a2 * y2;
        x2 = x1;
        x1 = double(x[i]);
        y2 = y1;
        y1 = y;
        energy += y * y;
        if ((i + 1) % hop == 0) {  // frames of two hops
            db.push_back(energy);
            energy = 0;
        }
    }
    for (size_t i = 0; i + 1 < db.size(); ++i) db[i] = 10 * std::log10((db[i] + db[i + 1]) / (2 * hop) + 1e-30);
    if (db.size() < 8) return 0;
    db.pop_back();
    const size_t peak = size_t(std::max_element(db.begin(), db.end()) - db.begin());
    size_t first = peak;
    while (first < db.size() && db[first] > db[peak] - 10) ++first;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int count = 0;
    for (size_t i = first; i < db.size() && db[i] > db[peak] - 50; ++i) {
        const double t = double(i) * hop / sr;
        sx += t;
        sy += db[i];
        sxx += t * t;
        sxy += t * db[i];
        ++count;
    }
    if (count < 5) return 0;
    const double slope = (count * sxy - sx * sy) / (count * sxx - sx * sx);  // dB per second
    return slope < 0 ? -60 / slope : 0;
}

double binomial(int n, int k) {
    double c = 1;
    for (int i = 1; i <= k; ++i) c = c * (n - k + i) / i;
    return c;
}

}  // namespace

// [SECTION] the synth

namespace {

constexpr double kF0MinHz = 30;
constexpr double kF0MaxHz = 4200;  // ~C8

// What ks takes from a recording: its first exc_ms (the residual excitation) and the note's pitch
// and fundamental T60 (the initial guess and the narrowed f0 range).
struct KsAnalysis final : TargetAnalysis {
    Vec head;
    double rate_hz = 0;
    double yin_f0_hz = 0;          // 0: no note found
    double fundamental_t60_s = 0;  // 0: not measured
};

class KsSynth final : public Synth {
public:
    explicit KsSynth(const KsOptions& o) : opt_(o) {
        opt_.loop_order = std::clamp(opt_.loop_order, 1, 4);  // phase delay formula needs K * w0 / 2 <= pi / 2
        opt_.control_frames = std::max(1, opt_.control_frames);
        opt_.exc_order = std::clamp(opt_.exc_order, 1, 12);
        opt_.exc_ms = std::clamp(opt_.exc_ms, 1.0, 1000.0);
        opt_.window_cents = std::clamp(opt_.window_cents, 1.0, 1200.0);
        opt_.oversample = std::clamp(opt_.oversample, 1, 8);
        if (opt_.oversample > 1) decimation_kernel_ = ks_decimation_kernel(opt_.oversample);
    }

    std::string name() const override { return "ks"; }
    SynthOptions options() const override;
    std::string description() const override {
        return "Karplus-Strong string (DiffKS): noise burst or residual excitation, time-varying loop filter";
    }
    double default_sample_rate_hz() const override { return 16000; }
    double default_seconds() const override { return 1.0; }

    std::vector<ParamSpec> param_table(const SynthConfig& cfg) const override {
        const int frames = opt_.control_frames, K = opt_.loop_order;
        double f0_lo = kF0MinHz, f0_hi = f0_max_hz(cfg.sample_rate_hz), f0_default = std::clamp(220.0, f0_lo, f0_hi);
        const bool analysed = has_recording(cfg);
        if (analysed && yin_f0_hz() > 0) {
            const double r = window_ratio();
            f0_default = std::clamp(yin_f0_hz(), f0_lo, f0_hi);
            f0_lo = std::max(f0_lo, f0_default / r);
            f0_hi = std::min(f0_hi, f0_default * r);
        }
        std::vector<ParamSpec> t;
        t.push_back({"f0_hz", "Hz", f0_lo, f0_hi, f0_default, ad::Scale::log, 1,
                     "String pitch; the loop delay is compensated for the loop filter's phase delay"});
        t.back().global = analysed && yin_f0_hz() > 0;  // only where the lag window spans the range
        t.push_back({"decay_s", "s", 0.02, 30, 2.0, ad::Scale::log, frames,
                     "Loop gain as a T60: g = 10^(-3 / (f0 decay_s)); the loop filter adds its own loss"});
        for (int k = 0; k <= K; ++k)
            t.push_back({"loop_tap" + std::to_string(k), "", 1e-4, 1, binomial(K, k) / std::pow(2.0, K), ad::Scale::log,
                         frames, "Loop filter tap at lag delay + " + std::to_string(k) + " (taps are normalised to sum 1)"});
        t.push_back({"exc_reflection", "", -0.95, 0.95, 0.0, ad::Scale::linear, opt_.exc_order,
                     "Reflection coefficients of the all-pole filter that colours the noise burst"});
        t.push_back({"exc_gain_db", "dB", -60, 12, -20, ad::Scale::linear, 1, "Level of the noise burst"});
        t.push_back({"residual_mix", "", 0, 1, analysed ? 1.0 : 0.0, ad::Scale::linear, 1,
                     "Blend of the analysed recording's residual (1) with the noise burst (0); no effect without one"});
        return t;
    }

    bool analyse(const Vec& target, const SynthConfig& cfg, AnalysisPtr& out, std::string& error) const override {
        if (target.size() == 0) {
            error = "ks: the recording is empty";
            return false;
        }
        if (!target.allFinite()) {
            error = "ks: the recording contains non-finite samples";
            return false;
        }
        auto a = std::make_shared<KsAnalysis>();
        // The burst's length, plus a margin so upsampling (oversample > 1) does not ramp out early.
        const int n_exc = exc_samples(cfg.sample_rate_hz) + 64;
        a->head = target.head(std::min<Eigen::Index>(target.size(), n_exc));
        a->rate_hz = cfg.sample_rate_hz;
        dsp::YinParams yp;
        yp.f0_min_hz = kF0MinHz;
        yp.f0_max_hz = f0_max_hz(cfg.sample_rate_hz);
        double f0 = 0;
        std::string no_note;  // no note found is not an error here: the f0 range stays wide
        a->yin_f0_hz = dsp::yin_note_f0_hz(target, cfg.sample_rate_hz, yp, f0, no_note) && f0 > 0 ? f0 : 0;
        // YIN's octave-up error on notes with a weak fundamental (low guitar strings).
        for (int i = 0; i < 2 && a->yin_f0_hz > 0 &&
                        dsp::yin_octave_too_high(target, cfg.sample_rate_hz, a->yin_f0_hz, kF0MinHz);
             ++i)
            a->yin_f0_hz *= 0.5;
        a->fundamental_t60_s = a->yin_f0_hz > 0 ? fundamental_t60_s(target, a->yin_f0_hz, cfg.sample_rate_hz) : 0;
        out = std::move(a);
        return true;
    }

    void use_analysis(AnalysisPtr analysis) override {
        analysis_ = std::dynamic_pointer_cast<const KsAnalysis>(std::move(analysis));
    }

    bool set_pitch_hz(double f0_hz, bool, ParamValues& values, const SynthConfig&, std::string&) override {
        values["f0_hz"] = {f0_hz};
        return true;
    }
    // The residual excitation is the recorded string's: at another pitch it would ring wrongly.
    bool analysis_fits_any_pitch() const override { return false; }

    ParamValues initial_values(const SynthConfig& cfg) const override {
        ParamValues v = default_values(param_table(cfg));
        if (!has_recording(cfg) || yin_f0_hz() <= 0 || analysis_->fundamental_t60_s <= 0) return v;
        // Default taps are binomial: |B(w)| = cos(w/2)^K and a phase delay of K/2 samples.
        const int K = opt_.loop_order;
        const double sr = opt_.oversample * cfg.sample_rate_hz, f0 = yin_f0_hz(), w0 = 2 * kPi * f0 / sr;
        const double filter_db = -20 * K * std::log10(std::cos(w0 / 2));
        const double delay = sr / f0 - 0.5 * K, frac = delay - std::floor(delay);
        const double interp_db = -10 * std::log10(1 - 2 * frac * (1 - frac) * (1 - std::cos(w0)));
        const double loop_db_per_s = 60 / analysis_->fundamental_t60_s - f0 * (filter_db + interp_db);
        const double decay_s = loop_db_per_s > 0 ? 60 / loop_db_per_s : 30;
        std::vector<double>& d = v["decay_s"];
        std::fill(d.begin(), d.end(), std::clamp(decay_s, 0.02, 30.0));
        return v;
    }

    ad::Var build(ad::Var u, const SynthConfig& cfg) override {
        ad::Tape& tape = *u.tape;
        const std::vector<ParamSpec> table = param_table(cfg);
        const ParamGraph p(table, u);
        const int M = opt_.oversample;
        const int n = M * std::max(1, cfg.num_samples);  // at the internal rate from here on
        const double sr = M * cfg.sample_rate_hz;
        const int K = opt_.loop_order;
        auto smooth_positive = [&](ad::Var frames) { return ad::exp(ad::upsample(ad::log(frames), n, ad::Interp::cubic)); };

        // Loop controls per sample.
        const ad::Var f0 = p["f0_hz"];
        const ad::Var decay = smooth_positive(p["decay_s"]);
        const ad::Var gain = ad::exp(Real(-3 * std::log(10.0)) / (f0 * decay));
        std::vector<ad::Var> taps;
        for (int k = 0; k <= K; ++k) taps.push_back(smooth_positive(p["loop_tap" + std::to_string(k)]));
        ad::Var tap_sum = taps[0];
        for (int k = 1; k <= K; ++k) tap_sum = tap_sum + taps[size_t(k)];
        for (ad::Var& b : taps) b = b / tap_sum;

        // Phase delay of the loop filter at f0, and the delay of tap 0 that makes the loop P long.
        const ad::Var w0 = f0 * Real(2 * kPi / sr);
        ad::Var re, im;
        bool have_im = false;
        for (int k = 0; k <= K; ++k) {
            const double off = k - 0.5 * K;
            const ad::Var& b = taps[size_t(k)];
            re = k == 0 ? b * ad::cos(w0 * Real(off)) : re + b * ad::cos(w0 * Real(off));
            if (off == 0) continue;
            const ad::Var term = b * ad::sin(w0 * Real(-off));
            im = have_im ? im + term : term;
            have_im = true;
        }
        const ad::Var tau = Real(0.5 * K) - atan2_positive(im, re) / w0;
        const ad::Var delay = Real(sr) / f0 - tau;

        std::vector<ad::Var> coefs;
        for (const ad::Var& b : taps) coefs.push_back(gain * b);
        const Window win = window(table, f0.item(), sr);
        const ad::Var A = ks_fractional_taps(delay, coefs, win.first_lag, win.num_lags);
        std::vector<int> lags(size_t(win.num_lags));
        for (int j = 0; j < win.num_lags; ++j) lags[size_t(j)] = win.first_lag + j;

        // Excitation: coloured, seeded noise burst.
        const int n_exc = std::min(n, exc_samples(sr));
        Arr noise(n_exc, 1);
        dsp::Rng rng(cfg.seed);
        for (int i = 0; i < n_exc; ++i) noise(i, 0) = Real(rng.normal());
        noise -= noise.mean();
        const int order = opt_.exc_order;
        const ad::Var refl = p["exc_reflection"];
        const std::vector<ad::Var> a = reflection_to_direct(refl, order);
        ad::Var row, norm;
        for (int i = 0; i < order; ++i) {
            Arr unit = Arr::Zero(1, order);
            unit(0, i) = 1;
            const ad::Var term = a[size_t(i)] * tape.constant(unit);
            row = i == 0 ? term : row + term;
            const ad::Var keep = Real(1) - ad::square(ad::slice(refl, i, 1));
            norm = i == 0 ? keep : norm * keep;
        }
        std::vector<int> exc_lags(static_cast<size_t>(order));
        for (int i = 0; i < order; ++i) exc_lags[size_t(i)] = i + 1;
        const ad::Var exc_a = tape.constant(Arr(Arr::Ones(n_exc, 1))) * row;
        const ad::Var level = ad::exp(p["exc_gain_db"] * Real(std::log(10.0) / 20));
        ad::Var exc = ad::allpole(tape.constant(noise), exc_a, exc_lags) * (ad::sqrt(norm) * level);

        // Residual excitation: the recording's head inverse-filtered through the current loop.
        if (has_recording(cfg)) {
            const Vec rec = M > 1 ? dsp::resample(analysis_->head, cfg.sample_rate_hz, sr) : analysis_->head;
            Arr head = Arr::Zero(n_exc, 1), shifted = Arr::Zero(n_exc, win.num_lags);
            const int have = int(std::min<Eigen::Index>(rec.size(), n_exc));
            for (int i = 0; i < have; ++i) head(i, 0) = rec[i];
            for (int j = 0; j < win.num_lags; ++j)
                for (int i = lags[size_t(j)]; i < have; ++i) shifted(i, j) = rec[i - lags[size_t(j)]];
            const ad::Var residual =
                tape.constant(head) + ad::sum_cols(ad::slice(A, 0, n_exc) * tape.constant(shifted));
            const ad::Var mix = p["residual_mix"];
            exc = exc * (Real(1) - mix) + residual * mix;
        }
        if (n > n_exc) exc = ad::pad(exc, 0, n - n_exc);

        const ad::Var y = ad::allpole(exc, A, lags);
        return M > 1 ? ks_decimate(y, M, decimation_kernel_) : y;
    }

private:
    struct Window {
        int first_lag = 1;
        int num_lags = 1;
    };

    double window_ratio() const { return std::pow(2.0, opt_.window_cents / 1200); }
    // The phase-delay formula needs w0 <= pi/4 at the internal rate; 0.4 sr keeps f0 below Nyquist.
    double f0_max_hz(double sr) const {
        return std::max(kF0MinHz * 1.5, std::min({kF0MaxHz, opt_.oversample * sr / 8, 0.4 * sr}));
    }
    int exc_samples(double sr) const { return std::max(1, int(std::lround(opt_.exc_ms * 1e-3 * sr))); }
    bool has_recording(const SynthConfig& cfg) const {
        return analysis_ && analysis_->head.size() > 0 &&
               std::abs(analysis_->rate_hz - cfg.sample_rate_hz) < 1e-9 * cfg.sample_rate_hz;
    }
    double yin_f0_hz() const { return analysis_ ? analysis_->yin_f0_hz : 0; }

    // Lags that hold every tap for f0 within the window (see the design notes), one spare each side.
    Window window(const std::vector<ParamSpec>& table, double f0_hz, double sr) const {
        const ParamSpec& spec = table[0];  // f0_hz
        const double r = window_ratio();
        double lo = spec.min_value, hi = spec.max_value;
        if (hi / lo > r * r * (1 + 1e-9)) {
            lo = std::max(lo, f0_hz / r);
            hi = std::min(hi, f0_hz * r);
        }
        const int K = opt_.loop_order;
        const double delay_min = sr / hi - K, delay_max = sr / lo;  // the filter's phase delay is in [0, K]
        Window w;
        w.first_lag = std::max(1, int(std::floor(delay_min)) - 1);
        const int top = int(std::ceil(delay_max)) + 1;  // the largest delay of tap 0 that fits
        w.num_lags = top + K + 2 - w.first_lag;
        return w;
    }

    KsOptions opt_;
    std::vector<Real> decimation_kernel_;  // oversample > 1
    std::shared_ptr<const KsAnalysis> analysis_;  // null: no recording
};

}  // namespace

// [SECTION] options by name

namespace {

struct KsOptionSpec {
    const char* name;
    bool integer;
    double lo, hi;
    double (*get)(const KsOptions&);
    void (*set)(KsOptions&, double);
};

const std::vector<KsOptionSpec>& ks_option_specs() {
    static const std::vector<KsOptionSpec> specs = {
        {"loop_order", true, 1, 4, [](const KsOptions& o) { return double(o.loop_order); },
         [](KsOptions& o, double v) { o.loop_order = int(v); }},
        {"oversample", true, 1, 8, [](const KsOptions& o) { return double(o.oversample); },
         [](KsOptions& o, double v) { o.oversample = int(v); }},
        {"control_frames", true, 1, 256, [](const KsOptions& o) { return double(o.control_frames); },
         [](KsOptions& o, double v) { o.control_frames = int(v); }},
        {"exc_order", true, 1, 12, [](const KsOptions& o) { return double(o.exc_order); },
         [](KsOptions& o, double v) { o.exc_order = int(v); }},
        {"exc_ms", false, 1, 1000, [](const KsOptions& o) { return o.exc_ms; }, [](KsOptions& o, double v) { o.exc_ms = v; }},
        {"window_cents", false, 1, 1200, [](const KsOptions& o) { return o.window_cents; },
         [](KsOptions& o, double v) { o.window_cents = v; }},
    };
    return specs;
}

}  // namespace

SynthOptions KsSynth::options() const {
    SynthOptions out;
    const KsOptions defaults;
    for (const KsOptionSpec& s : ks_option_specs())
        if (s.get(opt_) != s.get(defaults)) out[s.name] = s.get(opt_);
    return out;
}

std::string ks_option_names() {
    std::string out;
    const KsOptions defaults;
    char buf[96];
    for (const KsOptionSpec& s : ks_option_specs()) {
        std::snprintf(buf, sizeof buf, "%s (%g..%g, default %g)", s.name, s.lo, s.hi, s.get(defaults));
        out += (out.empty() ? "" : ", ") + std::string(buf);
    }
    return out;
}

bool ks_options_from(const SynthOptions& options, KsOptions& out, std::string& error) {
    out = KsOptions();
    for (const auto& option : options) {
        const std::string& name = option.first;  // (clang 14 cannot capture structured bindings)
        const double v = option.second;
        const auto& specs = ks_option_specs();
        const auto it = std::find_if(specs.begin(), specs.end(), [&](const KsOptionSpec& s) { return name == s.name; });
        if (it == specs.end()) {
            error = "ks has no option " + util::quote_input(name) + " (options: " + ks_option_names() + ")";
            return false;
        }
        if (!(v >= it->lo && v <= it->hi) || (it->integer && v != std::floor(v))) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "ks option %s must be %s in %g..%g, not %g", it->name,
                          it->integer ? "a whole number" : "a number", it->lo, it->hi, v);
            error = buf;
            return false;
        }
        it->set(out, v);
    }
    return true;
}

std::unique_ptr<Synth> make_ks_synth(const KsOptions& options) { return std::make_unique<KsSynth>(options); }
std::unique_ptr<Synth> make_ks_synth() { return make_ks_synth(KsOptions{}); }
std::unique_ptr<Synth> make_ks_synth_with(const SynthOptions& options, std::string& error) {
    KsOptions o;
    if (!ks_options_from(options, o, error)) return nullptr;
    return make_ks_synth(o);
}

}  // namespace ddsp::synth
