// `ddsp`: the harmonic-plus-noise synthesiser of DDSP (Engel, Hantrakul, Gu and Roberts,
// "DDSP: Differentiable Digital Signal Processing", ICLR 2020), with frame-wise controls at 250 Hz.
//
//   harmonic:  sum_k a_k(t) sin(k phi(t)),  phi = cumsum(2 pi f0 / sr),  a_k = amplitude * c_k
//              where c = harmonic_distribution[k] / k with harmonics at or above Nyquist zeroed and
//              the rest normalised to sum 1 per frame (so `amplitude` is the sum of the harmonic
//              amplitudes, as in the paper). The fixed 1/k slope makes equal weights (the defaults)
//              a sawtooth spectrum instead of a flat pulse train: a more natural starting sound, and
//              one YIN tracks (a flat spectrum up to Nyquist at a non-integer period in samples
//              puts d' above YIN's threshold at the true period, and it picks a multiple).
//   noise:     uniform white noise in [-1, 1] through a time-varying FIR per frame: 65 band
//              magnitudes -> zero-phase impulse response (inverse real FFT) -> Hann window ->
//              centred causal FIR of 128 taps; frame-wise convolution with overlap-add
//   reverb:    out = dry + dry * ir,  ir = seeded noise * exp(-t / decay_s), scaled to unit energy
//              and then by the wet gain (so reverb_wet_db is the wet/dry level ratio)
//
// f0 is conditioning data, not a parameter (the paper feeds CREPE f0 to the synth the same way):
// analyse_target() tracks it with YIN, set_f0_hz()/set_f0_track() set it by hand, and a synth that
// has neither plays default_f0_hz (220 Hz). The learnable parameters are the per-frame amplitude,
// harmonic distribution (frames x harmonics) and noise band magnitudes (frames x bands), stored
// frame-major, and the reverb's decay and wet level. Table sizes follow the clip length: frames =
// num_samples / hop + 1 with hop = round(sample_rate / 250), frame f centred on sample f * hop (the
// grid of dsp::yin_track and dsp::frame_loudness_db). Harmonic amplitudes and f0 reach the samples
// by linear interpolation between frames (DDSP interpolates f0 linearly; for amplitudes its
// default is a Hann-windowed overlap-add of the frames, the same cross-fade with a smoother ramp).
// The noise filter changes per block of hop samples, as DDSP's.
//
// The paper maps network outputs to amplitudes with exp_sigmoid. Here the optimiser moves the
// parameters directly, so they are bounded in physical units instead: log scale plays exp_sigmoid's
// part (a positive value with an exponential response over a wide dynamic range). A network that
// drives the building blocks below should apply ad::exp_sigmoid to its outputs first, as DDSP does.
#pragma once

#include "synth/synth.h"

#include <string>
#include <vector>

namespace ddsp::synth {

// [SECTION] building blocks (each a tape op; usable by decoders as well as by the synth)

// Reshapes a frame-major column (frames * channels x 1: all channels of frame 0, then frame 1...)
// to (frames x channels), as parameter vectors are stored.
ad::Var unflatten_frames(ad::Var flat, int frames, int channels);

// Harmonic oscillator bank: y[i] = sum_k A_i[k] sin((k + 1) phi[i]) where A_i is the frame-wise
// harmonic_amplitudes (frames x harmonics) linearly interpolated to sample i (frame f sits on
// sample f * hop; samples after the last frame hold it) and phi is the running sum of
// 2 pi f0[i] / sr with f0 interpolated the same way from f0_hz (one value per frame). Partials at
// or above Nyquist at a sample are silent there. f0 is constant data, so the sines are computed
// once when the op is created; forward and backward are one multiply-add per sample and harmonic.
// Returns (num_samples x 1).
ad::Var harmonic_oscillator_bank(ad::Var harmonic_amplitudes, const Vec& f0_hz, double sample_rate_hz,
                                 int num_samples, int hop);

// DDSP's harmonic synthesiser: amplitude (frames x 1) > 0 and distribution (frames x harmonics) > 0;
// harmonics with (k + 1) f0 >= sr / 2 in a frame are removed and the rest normalised to sum 1
// before the oscillator bank. f0_hz is clamped to [1 Hz, 0.49 sr] so the fundamental always sounds.
ad::Var harmonic_synth(ad::Var amplitude, ad::Var distribution, const Vec& f0_hz, double sample_rate_hz,
                       int num_samples, int hop);

// Time-varying FIR filter by frequency sampling (DDSP's frequency_filter): frame f's magnitudes
// (row f of `magnitudes`, B = bands values from 0 Hz to Nyquist, B - 1 a power of two) become a
// zero-phase impulse response of N = 2 (B - 1) samples by an inverse real FFT, are windowed by a
// Hann window centred on lag 0 and rotated into a causal FIR centred on tap N / 2. The block of x
// around frame f (samples [f hop - hop/2, (f + 1) hop - hop/2); the first block starts at 0, the last
// runs to the end of x) is convolved with it, the blocks are overlap-added and the result advanced
// by N / 2 samples, so a flat magnitude m gives exactly m * x. x is (n x 1); magnitudes is
// (n / hop + 1 x B). Exact backward for both inputs; no allocation after creation.
ad::Var frequency_filter(ad::Var x, ad::Var magnitudes, int hop);

// [SECTION] the synth

struct DdspSynthParams {
    int num_harmonics = 100;
    int num_noise_bands = 65;        // B - 1 must be a power of two (FIR of 2 (B - 1) taps)
    double frame_rate_hz = 250;      // controls and f0 track
    double default_f0_hz = 220;      // without an analysed target or set_f0_hz()
    double max_reverb_s = 4;         // impulse-response length cap (the clip length otherwise)
};

class DdspSynth final : public Synth {
public:
    explicit DdspSynth(const DdspSynthParams& params = {});

    std::string name() const override { return "ddsp"; }
    std::string description() const override;
    double default_sample_rate_hz() const override { return 16000; }
    double default_seconds() const override { return 4.0; }
    std::vector<ParamSpec> param_table(const SynthConfig& cfg) const override;
    // Tracks f0 with YIN (250 Hz frames, unvoiced frames hold the last voiced f0) and measures the
    // frame RMS for initial_values(). A target with no voiced frame keeps the default f0. Fails
    // only on an empty or non-finite target.
    bool analyse(const Vec& target, const SynthConfig& cfg, AnalysisPtr& out, std::string& error) const override;
    void use_analysis(AnalysisPtr analysis) override;
    // Sets a constant pitch or, with follow_analysis and an f0 track, scales the track.
    bool set_pitch_hz(double f0_hz, bool follow_analysis, ParamValues& values, const SynthConfig& cfg,
                      std::string& error) override;
    bool pitch_is_conditioning() const override { return true; }
    ad::Var build(ad::Var u, const SynthConfig& cfg) override;

    // [SECTION] f0 conditioning
    // A constant pitch; forgets an analysed track. Every f0 is clamped to [1 Hz, 0.49 sr].
    void set_f0_hz(double f0_hz);
    // A per-frame track, frame f at time f / frame_rate_hz; read by time (linear, ends held), so it
    // need not have the clip's frame count.
    void set_f0_track(const Vec& f0_hz, double frame_rate_hz);
    bool has_f0_track() const { return track_f0_hz_.size() > 0; }
    // The f0 per control frame that build() will use for this configuration.
    Vec f0_frames_hz(const SynthConfig& cfg) const;

    // A starting point for matching: defaults, except the amplitude of each frame, which is set so
    // that the default (equal-weight, sawtooth) harmonics have the analysed target's RMS in that
    // frame. Without an analysed target, the defaults.
    ParamValues initial_values(const SynthConfig& cfg) const override;

    const DdspSynthParams& params() const { return params_; }
    int hop(const SynthConfig& cfg) const;
    int num_frames(const SynthConfig& cfg) const;

private:
    DdspSynthParams params_;
    double constant_f0_hz_;
    Vec track_f0_hz_, track_rms_;   // analysed or given, per track frame
    double track_frame_s_ = 0;      // seconds between track frames
    double rms_frame_s_ = 0;
};

}  // namespace ddsp::synth
