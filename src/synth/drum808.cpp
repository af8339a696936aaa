// `drum808`: the differentiable 808-style snare of the NIME 2024 timbre remapping paper (Shier et
// al.). See drum808.h for the signal flow.
//
// Index
//   [SECTION] parameter table and presets
//   [SECTION] graph pieces (gains, high-pass coefficients)
//   [SECTION] the voice node (envelopes, oscillators, high-pass, drive)
//   [SECTION] the synth
//
// Design notes (what follows the paper, and why the rest differs):
// - 14 parameters, as the paper's snare: per oscillator a frequency (20-2000 Hz) and a pitch
//   envelope depth (-1..2, a ratio: the instantaneous frequency is f (1 + depth env), so -1 can
//   sweep up from 0 Hz and 2 starts at three times f); one shared pitch-envelope decay; decays of
//   the three amplitude envelopes (10-2000 ms); the noise high-pass cutoff and Q (0.5-10); three
//   gains (-60..+6 dB); the tanh drive (-24..+24 dB). Times and frequencies use a log scale so
//   optimiser steps are relative; dB values and depths are linear already. The two frequencies are
//   marked `global` (searched globally by the hybrid method): a spectral loss over a sine's
//   frequency is full of local minima, which is why the paper damps their updates.
// - Envelopes: a linear 1 ms attack, then exp(-ln(1000) t / decay), i.e. the paper's per-sample
//   factor 1 - 6.91/decay_samples written in closed form (exact T60 = decay time, and one exp node
//   instead of a cumulative product).
// - Noise is uniform in [-1, 1) as the paper's (dsp::Rng seeded by SynthConfig::seed), enveloped
//   *before* the high-pass, as in the paper.
// - High-pass: RBJ cookbook coefficients from cutoff and Q (differentiable through sin/cos). Its
//   numerator is b0 (1 - 2 z^-1 + z^-2), so the feed-forward part is a fixed second difference
//   (shifts and adds) scaled by b0; the feedback part is the all-pole recursion over lags {1, 2}
//   with the time-invariant (a1, a2). The second difference runs first: it removes the low
//   frequencies the poles near z = 1 would otherwise amplify (and round) at low cutoffs.
// - Everything after the scalar controls (envelopes, oscillators, filter, mix, drive) is one node
//   with a hand-written backward pass (Drum808VoiceNode); the dB gains and the biquad coefficients
//   stay scalar tape ops. tests/test_grad_drum808.cpp checks it against central differences.
// - The cutoff's upper bound is 0.49 x the sample rate, not Nyquist: at Nyquist the coefficients
//   degenerate (sin w0 = 0, and float pi rounds to a *negative* sin, a pole outside the unit
//   circle); at 0.49 the pole radius stays <= 0.997 for every Q.

#include "synth/drum808.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "dsp/rng.h"
#include "synth/registry.h"

namespace ddsp::synth {

namespace {

// [SECTION] parameter table and presets

constexpr double kLn1000 = 6.907755278982137;  // 60 dB in nepers: the envelopes' decay reaches -60 dB

// The defaults are preset "snare_1".
struct Drum808Values {
    double osc1_freq_hz, osc1_pitch_mod, osc2_freq_hz, osc2_pitch_mod, pitch_decay_ms;
    double osc1_decay_ms, osc2_decay_ms, noise_decay_ms, noise_cutoff_hz, noise_q;
    double osc1_gain_db, osc2_gain_db, noise_gain_db, drive_db;
};

// Order matches the parameter table.
ParamValues to_param_values(const Drum808Values& v) {
    return {
        {"osc1_freq_hz", {v.osc1_freq_hz}},       {"osc1_pitch_mod", {v.osc1_pitch_mod}},
        {"osc2_freq_hz", {v.osc2_freq_hz}},       {"osc2_pitch_mod", {v.osc2_pitch_mod}},
        {"pitch_decay_ms", {v.pitch_decay_ms}},   {"osc1_decay_ms", {v.osc1_decay_ms}},
        {"osc2_decay_ms", {v.osc2_decay_ms}},     {"noise_decay_ms", {v.noise_decay_ms}},
        {"noise_cutoff_hz", {v.noise_cutoff_hz}}, {"noise_q", {v.noise_q}},
        {"osc1_gain_db", {v.osc1_gain_db}},       {"osc2_gain_db", {v.osc2_gain_db}},
        {"noise_gain_db", {v.noise_gain_db}},     {"drive_db", {v.drive_db}},
    };
}

// Tight classic snare: a 180 Hz body with a second mode at 330 Hz, a short pitch drop at the
// attack, and 180 ms of bright, snappy noise above 2 kHz.
constexpr Drum808Values kSnare1 = {180, 0.4, 330, 0.25, 40, 180, 120, 180, 2000, 1.5, -8, -14, -6, -6};

}  // namespace

std::vector<std::pair<std::string, ParamValues>> drum808_presets() {
    // Fields: osc1 Hz, depth, osc2 Hz, depth, pitch decay ms, osc1/osc2/noise decay ms,
    //         cutoff Hz, Q, osc1/osc2/noise gain dB, drive dB.
    return {
        {"snare_1", to_param_values(kSnare1)},
        // Brighter and snappier: higher tuning, shorter tone, noise above 3.5 kHz, a little drive.
        {"snare_2", to_param_values({220, 0.2, 400, 0.3, 20, 120, 90, 140, 3500, 0.7, -14, -16, -4, 0})},
        // Body-heavy and dark: a deep pitch drop on osc 1, quiet noise high-passed only at 1.2 kHz.
        {"snare_3", to_param_values({170, 0.6, 350, 0.25, 35, 160, 90, 220, 1200, 1.0, -10, -13, -18, -3})},
        // Open (undamped) snare: long ringing tone (450 / 300 ms) and a 700 ms noise tail.
        {"open_snare", to_param_values({190, 0.3, 340, 0.2, 50, 450, 300, 700, 1800, 0.9, -10, -14, -8, -6})},
        // Noise-dominated: oscillators 30 dB under the noise, a resonant (Q 4) band at 4 kHz and
        // +6 dB of drive that flattens the attack.
        {"noisy_snare",
         to_param_values({480, 0.4, 700, 1.0, 300, 100, 150, 600, 4000, 4.0, -36, -36, -6, 6})},
        // Tom: a 130 Hz tone ringing for 550 ms with a slow pitch glide, a short 220 Hz click from
        // osc 2 and almost no noise.
        {"tom", to_param_values({130, 0.45, 220, 0.5, 120, 550, 60, 80, 8000, 1.0, -6, -14, -40, -6})},
    };
}

namespace {

std::vector<ParamSpec> drum808_table(double sample_rate_hz) {
    const Drum808Values& d = kSnare1;
    const ad::Scale lin = ad::Scale::linear, log = ad::Scale::log;
    const double cutoff_max_hz = std::max(40.0, 0.49 * sample_rate_hz);
    return {
        {"osc1_freq_hz", "Hz", 20, 2000, d.osc1_freq_hz, log, 1,
         "Oscillator 1 frequency (after the pitch envelope)", true},
        {"osc1_pitch_mod", "", -1, 2, d.osc1_pitch_mod, lin, 1,
         "Oscillator 1 pitch envelope depth (ratio of its frequency)"},
        {"osc2_freq_hz", "Hz", 20, 2000, d.osc2_freq_hz, log, 1,
         "Oscillator 2 frequency (after the pitch envelope)", true},
        {"osc2_pitch_mod", "", -1, 2, d.osc2_pitch_mod, lin, 1,
         "Oscillator 2 pitch envelope depth (ratio of its frequency)"},
        {"pitch_decay_ms", "ms", 10, 2000, d.pitch_decay_ms, log, 1,
         "Shared pitch envelope: time to fall 60 dB"},
        {"osc1_decay_ms", "ms", 10, 2000, d.osc1_decay_ms, log, 1,
         "Oscillator 1 amplitude: time to fall 60 dB"},
        {"osc2_decay_ms", "ms", 10, 2000, d.osc2_decay_ms, log, 1,
         "Oscillator 2 amplitude: time to fall 60 dB"},
        {"noise_decay_ms", "ms", 10, 2000, d.noise_decay_ms, log, 1, "Noise amplitude: time to fall 60 dB"},
        {"noise_cutoff_hz", "Hz", 20, cutoff_max_hz, std::min(d.noise_cutoff_hz, 0.5 * cutoff_max_hz), log, 1,
         "Noise high-pass cutoff"},
        {"noise_q", "", 0.5, 10, d.noise_q, log, 1, "Noise high-pass resonance (0.707: Butterworth)"},
        {"osc1_gain_db", "dB", -60, 6, d.osc1_gain_db, lin, 1, "Oscillator 1 level"},
        {"osc2_gain_db", "dB", -60, 6, d.osc2_gain_db, lin, 1, "Oscillator 2 level"},
        {"noise_gain_db", "dB", -60, 6, d.noise_gain_db, lin, 1, "Noise level"},
        {"drive_db", "dB", -24, 24, d.drive_db, lin, 1, "Gain into the tanh waveshaper"},
    };
}

// [SECTION] graph pieces (gains, high-pass coefficients)

// dB -> linear amplitude, on the tape.
ad::Var db_to_amplitude(ad::Var db) {
    return ad::exp(db * Real(std::log(10.0) / 20.0));
}

// RBJ cookbook high-pass: b = b0 (1, -2, 1), a = (1, a1, a2) normalised by a0 = 1 + alpha.
struct HighpassCoeffs {
    ad::Var b0, a1, a2;
};

HighpassCoeffs highpass_coeffs(ad::Var cutoff_hz, ad::Var q, double sample_rate_hz) {
    const ad::Var w0 = cutoff_hz * Real(2 * kPi / sample_rate_hz);
    const ad::Var cos_w0 = ad::cos(w0);
    const ad::Var alpha = ad::sin(w0) / (q * Real(2));
    const ad::Var inv_a0 = Real(1) / (alpha + Real(1));
    return {(cos_w0 + Real(1)) * inv_a0 * Real(0.5), cos_w0 * inv_a0 * Real(-2), (Real(1) - alpha) * inv_a0};
}

// [SECTION] the voice node (envelopes, oscillators, high-pass, drive)
//
// The whole signal path from scalar controls to the output, as one node with a hand-written
// backward pass: as ~25 separate full-length nodes (each envelope, oscillator, the second
// difference, the all-pole filter with its coefficients broadcast to every row, the mix) every
// step streamed ~50 buffers of the clip's length through memory twice. The arithmetic of the
// forward pass is the composed graph's, op for op, so renders are unchanged.
//
// Inputs (all 1 x 1, physical values): see Input. With the envelope axes D (-ln 1000 * 1000 *
// seconds since the attack ended, 0 during it) and A (the attack ramp's offset from 1, 0 after):
//   env(x)  = exp(D / x) + A                                 (x: a decay in ms)
//   w_j     = (env(pitch) m_j + 1) (f_j 2 pi / sr)          (j = 1, 2)
//   phase_j = sum_{t < i} w_j[t], wrapped to [0, 2 pi) in double
//   o_j     = sin(phase_j) (env(d_j) amp_j)
//   p       = allpole_{a1, a2}(second_difference(white env(d_n)))
//   out     = tanh(drive ((o_1 + o_2) + p b0 amp_n))
// Backward, with u = the tanh's input / drive and g_u = g (1 - out^2) drive: d env(x)/dx =
// env(x) (-D / x^2) (D = 0 where A != 0); g_phase_j = g_u env(d_j) amp_j cos(phase_j); g_w_j[t] =
// sum_{i > t} g_phase_j[i]; the all-pole filter's backward is the same recursion run backwards
// (see ad::allpole) and the second difference's adjoint is g[t] - 2 g[t + 1] + g[t + 2].
class Drum808VoiceNode final : public ad::Node {
public:
    enum Input {
        pitch_decay, freq1, mod1, decay1, amp1, freq2, mod2, decay2, amp2, noise_decay, b0, a1, a2, noise_amp,
        drive, num_inputs
    };

    Drum808VoiceNode(int n, double sample_rate_hz, uint64_t seed) : n_(n), sr_(sample_rate_hz) {
        const int attack_samples = std::max(1, int(std::lround(0.001 * sample_rate_hz)));
        decay_time_.resize(n, 1);
        attack_.resize(n, 1);
        white_.resize(n, 1);
        for (int i = 0; i < n; ++i) {
            const int since = i - attack_samples;
            decay_time_(i, 0) = Real(since > 0 ? -kLn1000 * 1000.0 * since / sample_rate_hz : 0.0);
            attack_(i, 0) = Real(i < attack_samples ? double(i + 1) / attack_samples - 1.0 : 0.0);
        }
        dsp::Rng rng(seed);
        for (int i = 0; i < n; ++i) white_(i, 0) = Real(rng.uniform(-1.0, 1.0));
        for (Arr* a : {&pitch_env_, &env_[0], &env_[1], &noise_env_, &phase_[0], &phase_[1], &sin_[0], &sin_[1],
                       &filtered_, &mix_, &scratch_})
            a->resize(n, 1);
    }
    const char* op_name() const override { return "drum808_voice"; }

    void forward(ad::Tape& t) override {
        value.resize(n_, 1);
        const Real c = Real(2 * kPi / sr_);
        pitch_exp_ = (decay_time_ / in(t, pitch_decay)).exp();
        pitch_env_ = pitch_exp_ + attack_;
        for (int j = 0; j < 2; ++j) {
            const Real m = in(t, j == 0 ? mod1 : mod2), fc = in(t, j == 0 ? freq1 : freq2) * c;
            ratio_[j] = pitch_env_ * m + Real(1);
            scratch_ = ratio_[j] * fc;  // w_j
            const Real* w = scratch_.data();
            Real* ph = phase_[j].data();
            // Exclusive running sum: sample i has the phase of samples 0..i-1 (kept in double and
            // wrapped, so it is exact to float precision however long the clip).
            double acc = 0;
            for (int i = 0; i < n_; ++i) {
                acc += double(w[i]);
                if (acc >= 2 * kPi || acc < 0) acc -= 2 * kPi * std::floor(acc / (2 * kPi));
                ph[i] = Real(acc) - w[i];
            }
            sin_[j] = phase_[j].sin();
            env_exp_[j] = (decay_time_ / in(t, j == 0 ? decay1 : decay2)).exp();
            env_[j] = env_exp_[j] + attack_;
        }
        noise_env_ = (decay_time_ / in(t, noise_decay)).exp() + attack_;

        // Noise: enveloped, second difference, then the all-pole part of the high-pass.
        scratch_ = white_ * noise_env_;
        const Real* x = scratch_.data();
        Real* y = filtered_.data();
        const Real ca1 = in(t, a1), ca2 = in(t, a2);
        // Same roundings as the composed graph (second difference, then the lag-1 and lag-2 terms
        // in that order): near z = 1 the poles amplify any change of rounding.
        if (n_ >= 1) y[0] = x[0];
        if (n_ >= 2) y[1] = (x[1] - x[0] * Real(2)) - ca1 * y[0];
        for (int i = 2; i < n_; ++i) {
            Real acc = x[i] - x[i - 1] * Real(2) + x[i - 2];
            acc -= ca1 * y[i - 1];
            acc -= ca2 * y[i - 2];
            y[i] = acc;
        }
        const Real amp_1 = in(t, amp1), amp_2 = in(t, amp2), cb0 = in(t, b0), namp = in(t, noise_amp);
        mix_ = (sin_[0] * (env_[0] * amp_1) + sin_[1] * (env_[1] * amp_2)) + (filtered_ * cb0) * namp;
        value = (mix_ * in(t, drive)).tanh();
    }

    void backward(ad::Tape& t) override {
        const Real* g = grad.data();
        const Real* y = value.data();
        const Real* mix = mix_.data();
        const Real* D = decay_time_.data();
        const Real dr = in(t, drive);
        double g_in[num_inputs] = {};
        // g_u = g (1 - out^2) drive, into gu_.
        gu_.resize(size_t(n_));
        Real* gu = gu_.data();
        for (int i = 0; i < n_; ++i) gu[i] = g[i] * (Real(1) - y[i] * y[i]) * dr;
        g_in[drive] = sum_of(n_, [&](int i) { return g[i] * (Real(1) - y[i] * y[i]) * mix[i]; });

        // Noise path: g of the filter output is g_u amp_n b0; the all-pole backward recursion.
        const Real cb0 = in(t, b0), namp = in(t, noise_amp), ca1 = in(t, a1), ca2 = in(t, a2);
        const Real* yf = filtered_.data();
        const Real gf = sum_of(n_, [&](int i) { return gu[i] * yf[i]; });
        g_in[noise_amp] = gf * cb0;
        g_in[b0] = gf * namp;
        gt_.resize(size_t(n_) + 2);
        Real* gt = gt_.data();
        gt[n_] = gt[n_ + 1] = 0;  // past the end
        const Real k = namp * cb0;
        for (int s = n_ - 1; s >= 0; --s) gt[s] = gu[s] * k - ca1 * gt[s + 1] - ca2 * gt[s + 2];
        g_in[a1] = -sum_of(n_ - 1, [&](int i) { return gt[i + 1] * yf[i]; });
        g_in[a2] = n_ >= 2 ? -sum_of(n_ - 2, [&](int i) { return gt[i + 2] * yf[i]; }) : 0;
        // Second difference's adjoint, times white noise, times d env / d decay (over -1 / x^2).
        const Real* wn = white_.data();
        const Real* en = noise_env_.data();
        const double gdn =
            sum_of(n_, [&](int i) { return (gt[i] - Real(2) * gt[i + 1] + gt[i + 2]) * wn[i] * en[i] * D[i]; });
        g_in[noise_decay] = -gdn / square(in(t, noise_decay));

        // Oscillators; g of the pitch envelope collects in pitch_grad_. The products and sums
        // follow the composed graph's backward passes op for op (same roundings, same partial
        // sums): the frequency direction of a spectral loss is chaotic enough that the last bit of
        // a gradient changes where a long descent ends.
        pitch_grad_.assign(size_t(n_), Real(0));
        Real* gpe = pitch_grad_.data();
        gw_.resize(size_t(n_));
        Real* gw = gw_.data();
        const Real* pe = pitch_env_.data();
        const Real c = Real(2 * kPi / sr_);
        for (int j = 1; j >= 0; --j) {  // osc 2 first, as the tape runs backward
            const Input amp_in = j == 0 ? amp1 : amp2, decay_in = j == 0 ? decay1 : decay2;
            const Input freq_in = j == 0 ? freq1 : freq2, mod_in = j == 0 ? mod1 : mod2;
            const Real amp = in(t, amp_in), m = in(t, mod_in), fc = in(t, freq_in) * c;
            const Real dx = in(t, decay_in);
            const Real* sn = sin_[j].data();
            const Real* e = env_[j].data();
            const Real* ex = env_exp_[j].data();
            g_in[amp_in] = sum_of(n_, [&](int i) { return (gu[i] * sn[i]) * e[i]; });
            g_in[decay_in] = sum_of(n_, [&](int i) {
                const Real gq = ((gu[i] * sn[i]) * amp) * ex[i];  // d/d (D / x)
                return -gq * (D[i] / dx) / dx;
            });
            // g_phase into gw; omega's gradient is its reverse exclusive running sum, formed as
            // the inclusive sum (in double) minus the sample's own term.
            cos_ = phase_[j].cos();
            const Real* co = cos_.data();
            for (int i = 0; i < n_; ++i) gw[i] = (gu[i] * (e[i] * amp)) * co[i];
            double run = 0;
            for (int i = n_ - 1; i >= 0; --i) {
                run += double(gw[i]);
                gw[i] = -gw[i] + Real(run);
            }
            const Real* r = ratio_[j].data();
            g_in[freq_in] = double(sum_of(n_, [&](int i) { return gw[i] * r[i]; }) * c);
            g_in[mod_in] = sum_of(n_, [&](int i) { return (gw[i] * fc) * pe[i]; });
            for (int i = 0; i < n_; ++i) gpe[i] += (gw[i] * fc) * m;
        }
        {
            const Real* ex = pitch_exp_.data();
            const Real dx = in(t, pitch_decay);
            g_in[pitch_decay] = sum_of(n_, [&](int i) { return -(gpe[i] * ex[i]) * (D[i] / dx) / dx; });
        }
        for (int q = 0; q < num_inputs; ++q)
            if (t.requires_grad(inputs[size_t(q)])) t.grad_mutable(inputs[size_t(q)])(0, 0) += Real(g_in[q]);
    }

private:
    int n_;
    double sr_;
    Arr decay_time_, attack_, white_;  // constants
    Arr pitch_env_, env_[2], noise_env_, phase_[2], sin_[2], filtered_, mix_;  // kept for backward
    Arr pitch_exp_, env_exp_[2], ratio_[2];  // exp(D / x) without the attack; pitch_env m + 1
    Arr scratch_, cos_;
    std::vector<Real> gu_, gt_, gw_, pitch_grad_;  // backward scratch

    Real in(const ad::Tape& t, Input k) const { return t.value(inputs[size_t(k)])(0, 0); }
    static double square(Real x) { return double(x) * double(x); }
    // sum over i < n of f(i) with eight partial sums, so the loop vectorises (natively and in wasm)
    // without -ffast-math.
    template <class F>
    static Real sum_of(int n, F&& f) {
        Real part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int i = 0;
        for (; i + 8 <= n; i += 8)
            for (int l = 0; l < 8; ++l) part[l] += f(i + l);
        for (; i < n; ++i) part[0] += f(i);
        return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    }
};

// [SECTION] the synth

class Drum808Synth final : public Synth {
  public:
    std::string name() const override { return "drum808"; }
    std::string description() const override {
        return "808-style snare: two sines with a pitch envelope, high-passed noise, tanh drive (Shier et "
               "al. 2024)";
    }
    double default_sample_rate_hz() const override { return 44100; }
    double default_seconds() const override { return 1.0; }

    std::vector<ParamSpec> param_table(const SynthConfig& cfg) const override {
        return drum808_table(cfg.sample_rate_hz);
    }

    // The tuning: oscillator 1 goes to f0_hz and oscillator 2 keeps its ratio to it.
    bool set_pitch_hz(double f0_hz, bool, ParamValues& values, const SynthConfig& cfg, std::string&) override {
        const ParamValues defaults = default_values(param_table(cfg));
        auto value_of = [&](const char* name) {
            auto it = values.find(name);
            return it != values.end() && it->second.size() == 1 ? it->second[0] : defaults.at(name)[0];
        };
        const double ratio = f0_hz / value_of("osc1_freq_hz");
        values["osc2_freq_hz"] = {value_of("osc2_freq_hz") * ratio};
        values["osc1_freq_hz"] = {f0_hz};
        return true;
    }

    ad::Var build(ad::Var u, const SynthConfig& cfg) override {
        ad::Tape& tape = *u.tape;
        const ParamGraph p(param_table(cfg), u);
        const int n = cfg.num_samples;
        const double sr = cfg.sample_rate_hz;
        if (n <= 0) return tape.constant(Arr(0, 1));  // nothing to render (broadcasting needs rows)

        const HighpassCoeffs hp = highpass_coeffs(p["noise_cutoff_hz"], p["noise_q"], sr);
        auto node = std::make_unique<Drum808VoiceNode>(n, sr, cfg.seed);
        node->inputs.resize(Drum808VoiceNode::num_inputs);
        auto set = [&](Drum808VoiceNode::Input k, ad::Var v) { node->inputs[size_t(k)] = v.id; };
        set(Drum808VoiceNode::pitch_decay, p["pitch_decay_ms"]);
        set(Drum808VoiceNode::freq1, p["osc1_freq_hz"]);
        set(Drum808VoiceNode::mod1, p["osc1_pitch_mod"]);
        set(Drum808VoiceNode::decay1, p["osc1_decay_ms"]);
        set(Drum808VoiceNode::amp1, db_to_amplitude(p["osc1_gain_db"]));
        set(Drum808VoiceNode::freq2, p["osc2_freq_hz"]);
        set(Drum808VoiceNode::mod2, p["osc2_pitch_mod"]);
        set(Drum808VoiceNode::decay2, p["osc2_decay_ms"]);
        set(Drum808VoiceNode::amp2, db_to_amplitude(p["osc2_gain_db"]));
        set(Drum808VoiceNode::noise_decay, p["noise_decay_ms"]);
        set(Drum808VoiceNode::b0, hp.b0);
        set(Drum808VoiceNode::a1, hp.a1);
        set(Drum808VoiceNode::a2, hp.a2);
        set(Drum808VoiceNode::noise_amp, db_to_amplitude(p["noise_gain_db"]));
        set(Drum808VoiceNode::drive, db_to_amplitude(p["drive_db"]));
        return tape.push(std::move(node));
    }
};

}  // namespace

std::unique_ptr<Synth> make_drum808_synth() {
    return std::make_unique<Drum808Synth>();
}

}  // namespace ddsp::synth
