// `drum808`: the differentiable 808-style snare of the NIME 2024 timbre remapping paper (Shier et
// al.). See drum808.h for the signal flow.
//
// Index
//   [SECTION] parameter table and presets
//   [SECTION] graph pieces (envelope, oscillator, high-pass)
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
//   (shifts and adds) scaled by b0; the feedback part is ad::allpole over lags {1, 2} with the
//   time-invariant (a1, a2) broadcast to every row. The second difference runs first: it removes
//   the low frequencies the poles near z = 1 would otherwise amplify (and round) at low cutoffs.
// - The cutoff's upper bound is 0.49 x the sample rate, not Nyquist: at Nyquist the coefficients
//   degenerate (sin w0 = 0, and float pi rounds to a *negative* sin, a pole outside the unit
//   circle); at 0.49 the pole radius stays <= 0.997 for every Q.

#include "synth/drum808.h"

#include <algorithm>
#include <cmath>

#include "ad/ops_signal.h"
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

// [SECTION] graph pieces (envelope, oscillator, high-pass)

// dB -> linear amplitude, on the tape.
ad::Var db_to_amplitude(ad::Var db) {
    return ad::exp(db * Real(std::log(10.0) / 20.0));
}

// Constant time axes shared by the four envelopes.
struct EnvelopeAxes {
    ad::Var decay_time;  // -ln(1000) * 1000 * (seconds since the attack ended), 0 during the attack
    ad::Var attack;      // (i + 1) / attack_samples - 1 during the attack, 0 after
};

EnvelopeAxes make_envelope_axes(ad::Tape& tape, int n, double sample_rate_hz) {
    const int attack_samples = std::max(1, int(std::lround(0.001 * sample_rate_hz)));
    Arr decay_time(n, 1), attack(n, 1);
    for (int i = 0; i < n; ++i) {
        const int since = i - attack_samples;
        decay_time(i, 0) = Real(since > 0 ? -kLn1000 * 1000.0 * since / sample_rate_hz : 0.0);
        attack(i, 0) = Real(i < attack_samples ? double(i + 1) / attack_samples - 1.0 : 0.0);
    }
    return {tape.constant(decay_time), tape.constant(attack)};
}

// Linear attack to 1 over 1 ms (the ramp ends on 1 at sample attack_samples - 1, then the decay
// starts from 1), then -60 dB after decay_ms. During the attack exp(0) = 1 and `attack` adds the
// ramp's offset from 1, so one exp node covers both segments.
ad::Var envelope(const EnvelopeAxes& axes, ad::Var decay_ms) {
    return ad::exp(axes.decay_time / decay_ms) + axes.attack;
}

// sin of the phase accumulated from the instantaneous frequency, starting at phase 0.
ad::Var oscillator(ad::Var freq_hz, ad::Var pitch_mod, ad::Var pitch_env, double sample_rate_hz) {
    const ad::Var omega = (pitch_env * pitch_mod + Real(1)) * (freq_hz * Real(2 * kPi / sample_rate_hz));
    // Exclusive running sum: sample i has the phase of samples 0..i-1.
    return ad::sin(ad::cumsum(omega, 2 * kPi) - omega);  // wrapped: exact phase natively and in wasm
}

// RBJ cookbook high-pass: b = b0 (1, -2, 1), a = (1, a1, a2) normalised by a0 = 1 + alpha.
ad::Var highpass(ad::Var x, ad::Var cutoff_hz, ad::Var q, double sample_rate_hz) {
    ad::Tape& tape = *x.tape;
    const int n = x.rows();
    const ad::Var w0 = cutoff_hz * Real(2 * kPi / sample_rate_hz);
    const ad::Var cos_w0 = ad::cos(w0);
    const ad::Var alpha = ad::sin(w0) / (q * Real(2));
    const ad::Var inv_a0 = Real(1) / (alpha + Real(1));
    const ad::Var b0 = (cos_w0 + Real(1)) * inv_a0 * Real(0.5);
    const ad::Var a1 = cos_w0 * inv_a0 * Real(-2);
    const ad::Var a2 = (Real(1) - alpha) * inv_a0;

    // Feed-forward: the second difference x[t] - 2 x[t-1] + x[t-2] (b0 is applied at the end).
    ad::Var diff2;
    if (n >= 3) {
        const ad::Var x1 = ad::pad(ad::slice(x, 0, n - 1), 1, 0);
        const ad::Var x2 = ad::pad(ad::slice(x, 0, n - 2), 2, 0);
        diff2 = x - x1 * Real(2) + x2;
    } else {
        Arr h(3, 1);
        h << 1, -2, 1;
        diff2 = ad::fft_convolve(x, tape.constant(h));
    }

    // Feedback: (1 x 2) row (a1, a2), broadcast to (n x 2).
    Arr e1(1, 2), e2(1, 2);
    e1 << 1, 0;
    e2 << 0, 1;
    const ad::Var row = tape.constant(e1) * a1 + tape.constant(e2) * a2;
    const ad::Var coeffs = tape.constant(Arr(Arr::Ones(n, 1))) * row;
    return ad::allpole(diff2, coeffs, {1, 2}) * b0;
}

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

    ad::Var build(ad::Var u, const SynthConfig& cfg) override {
        ad::Tape& tape = *u.tape;
        const ParamGraph p(param_table(cfg), u);
        const int n = cfg.num_samples;
        const double sr = cfg.sample_rate_hz;
        if (n <= 0) return tape.constant(Arr(0, 1));  // nothing to render (broadcasting needs rows)

        const EnvelopeAxes axes = make_envelope_axes(tape, n, sr);
        const ad::Var pitch_env = envelope(axes, p["pitch_decay_ms"]);

        const ad::Var osc1 = oscillator(p["osc1_freq_hz"], p["osc1_pitch_mod"], pitch_env, sr) *
                             (envelope(axes, p["osc1_decay_ms"]) * db_to_amplitude(p["osc1_gain_db"]));
        const ad::Var osc2 = oscillator(p["osc2_freq_hz"], p["osc2_pitch_mod"], pitch_env, sr) *
                             (envelope(axes, p["osc2_decay_ms"]) * db_to_amplitude(p["osc2_gain_db"]));

        Arr white(n, 1);
        dsp::Rng rng(cfg.seed);
        for (int i = 0; i < n; ++i) white(i, 0) = Real(rng.uniform(-1.0, 1.0));
        const ad::Var noise_in = tape.constant(white) * envelope(axes, p["noise_decay_ms"]);
        const ad::Var noise =
            highpass(noise_in, p["noise_cutoff_hz"], p["noise_q"], sr) * db_to_amplitude(p["noise_gain_db"]);

        return ad::tanh((osc1 + osc2 + noise) * db_to_amplitude(p["drive_db"]));
    }
};

}  // namespace

std::unique_ptr<Synth> make_drum808_synth() {
    return std::make_unique<Drum808Synth>();
}

}  // namespace ddsp::synth
