// The synthesis half of a streaming DDSP voice: frame-wise controls in, samples out, with the maths
// of the offline building blocks (ddsp_synth.h: harmonic_synth, frequency_filter, the reverb's
// dry + dry * ir) step by step. Shared by the `ddsp` synth's streaming voice (stream_ddsp.cpp:
// frames known in advance, no latency) and nn::StreamDecoder (frames arrive live, a fixed latency).
// Forward only, no tape, no allocation after init(), no exceptions.
//
// Time is counted in offline samples: frame f sits on sample f * hop, as on the offline grid.
//   harmonics  push_frame(f) renders segment [(f-1) hop, f hop), interpolating frames f-1 and f
//              linearly (weight i / hop), f0 likewise; phase = running sum of 2 pi f0 / sr in
//              double, wrapped each sample; one sin and cos per sample, the partials by the
//              Chebyshev recurrence sin((k+1)p) = 2 cos(p) sin(kp) - sin((k-1)p) (exact to ~1e-12, no
//              drift). Partials at or above Nyquist at a sample are silent there.
//   noise      push_frame(f) also filters noise block f = [f hop - hop/2, (f+1) hop - hop/2) (the first
//              from 0) of the offline white noise (dsp::Rng(noise_seed), uniform [-1, 1], drawn in
//              sample order) with frame f's FIR (inverse real FFT of the band magnitudes, Hann, rotated
//              to tap N/2, N = 2 (bands - 1)), by one FFT convolution, overlap-added N/2 early.
//   reverb     emit() gives dry + wet_gain * (dry * ir) per hop: a uniformly partitioned overlap-save
//              convolution with partitions of hop taps (the newest partition multiplies the block
//              being emitted, so the reverb adds no latency).
//
// When a sample is final: after frames [0, F) are pushed, offline samples below final_samples() =
// min((F - 1) hop, F hop - hop/2 - N/2) have all their contributions (the segment ending on frame
// F - 1, and every noise block that reaches back to them). A live decoder emits a fixed latency
// behind its newest frame; a preset voice pushes frames ahead until the next hop is final (no
// latency).
//
// Cost per hop: hop sin/cos + hop x (live partials) multiply-adds; with noise one N-point inverse and
// three 2^k-point (>= 1.5 hop + N) real FFTs; with reverb two 2^k-point (>= 2 hop) real FFTs and
// partitions x bins complex multiply-adds (the part that grows with the impulse response).
#pragma once

#include "dsp/fft.h"
#include "dsp/rng.h"
#include "dsp/types.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace ddsp::synth {

struct HarmonicNoiseConfig {
    double sample_rate_hz = 16000;
    int hop = 64;                 // samples per control frame
    int harmonics = 100;
    int noise_bands = 65;         // 0: no noise part; else bands - 1 a power of two
    uint64_t noise_seed = 0;      // the offline white noise's seed
    int max_reverb_taps = 0;      // 0: no reverb; else the longest IR set_reverb_ir() will take
};

// harmonic_synth's per-frame part, in place: weights[k] (k < harmonics, > 0) become the amplitudes
// of partial k + 1: zero at or above Nyquist ((k + 1) f0_hz >= sr / 2), the rest scaled to sum to
// `amplitude` (the fundamental of a clamped f0 is always below Nyquist, so the sum is positive).
void normalise_harmonics(Real amplitude, Real f0_hz, double sample_rate_hz, Real* weights, int harmonics);
// f0 as harmonic_synth clamps it: [1 Hz, 0.49 sr]; NaN -> 1 Hz.
Real clamp_f0_hz(double f0_hz, double sample_rate_hz);

class HarmonicNoiseStream {
public:
    // Sizes every buffer; reset(0). False with a one-line error for an unusable config.
    bool init(const HarmonicNoiseConfig& config, std::string& error);
    // Phase 0, noise reseeded (the offline sequence from its start), overlap-add and reverb history
    // 0, no frames; the next emit() starts at offline sample first_output_sample (negative: a
    // latency, those samples are 0). Keeps the reverb IR and the wet gain. No allocation.
    void reset(long long first_output_sample);

    // The reverb's impulse response (taps <= max_reverb_taps; ir[0] is used as given: mask it for a
    // separate dry path). Taps past `taps` are 0. No allocation. Takes effect at the next emit().
    void set_reverb_ir(const Real* ir, int taps);
    // The wet path's gain: jumps there (ramp = false) or glides linearly over the next emitted hop.
    void set_wet_gain(Real gain, bool ramp);
    // The offline clip's length: noise drawn at or after it (offline has none) reaches the output
    // only from that sample on, so the samples before it equal the clip's exactly. Default: none.
    void set_clip_end(long long num_samples) { clip_end_ = num_samples; }

    // Frame frames_pushed(): f0 already clamped (clamp_f0_hz), harmonic amplitudes (harmonics values,
    // as normalise_harmonics leaves them), noise band magnitudes (noise_bands values; ignored without
    // noise). Renders the segment that ends on this frame and this frame's noise block.
    void push_frame(Real f0_hz, const Real* harmonic_amplitudes, const Real* noise_magnitudes);
    long long frames_pushed() const { return frames_pushed_; }
    // Offline samples below this are complete (see the top).
    long long final_samples() const;
    long long next_output_sample() const { return next_out_; }
    // Writes hop() samples, offline samples [next_output_sample(), + hop): dry, then the reverb.
    // Samples before 0 are 0. Returns how many non-finite samples were replaced by 0.
    int emit(Real* out);

    int hop() const { return hop_; }
    int noise_taps() const { return taps_; }
    int harmonics() const { return harmonics_; }
    int noise_bands() const { return bands_; }
    bool has_reverb() const { return max_partitions_ > 0; }
    int reverb_partitions() const { return partitions_; }  // in use by the current IR
    double sample_rate_hz() const { return sample_rate_hz_; }

private:
    double sample_rate_hz_ = 16000;
    uint64_t noise_seed_ = 0;
    int hop_ = 1, harmonics_ = 0, bands_ = 0, taps_ = 0;
    long long frames_pushed_ = 0, next_out_ = 0;
    long long clip_end_ = std::numeric_limits<long long>::max();

    // [harmonics]
    double phase_ = 0;                   // radians, wrapped to [0, 2 pi)
    Real prev_f0_ = 1, cur_f0_ = 1;      // clamped f0 of frames f - 1 and f
    std::vector<Real> prev_amps_, cur_amps_;
    std::vector<Real> weight_;           // hop: interpolation weight of the later frame
    std::vector<double> sin_prev_, sin_cur_, cos2_;  // hop: the Chebyshev recurrence per sample
    std::vector<int> count_;             // hop: partials below Nyquist per sample
    std::vector<Real> segment_;          // hop: one segment's harmonic samples

    // [noise]
    dsp::Rng rng_;
    dsp::RealFft fft_ir_{2}, fft_noise_{2};
    std::vector<Real> hann_, ir_, noise_buf_, noise_draw_;
    std::vector<Complex> ir_spec_, fir_spec_, noise_spec_;

    // Harmonic and noise samples by offline time t (ring index ring(t)), read and cleared when emitted.
    std::vector<Real> harm_ring_, noise_ring_;
    long long ring_mask_ = 0;

    // [reverb] uniformly partitioned overlap-save: partitions of hop taps, FFT size fft_rev_.size()
    int max_partitions_ = 0, partitions_ = 0, rev_bins_ = 0, fdl_head_ = 0;
    Real wet_gain_ = 1, wet_from_ = 1;
    dsp::RealFft fft_rev_{2};
    std::vector<Real> rev_h_re_, rev_h_im_;    // max_partitions x bins: the impulse response's spectra
    std::vector<Real> rev_x_re_, rev_x_im_;    // max_partitions x bins: spectra of the latest input blocks
    std::vector<Real> rev_acc_re_, rev_acc_im_;
    std::vector<Real> rev_in_, rev_time_;      // the last fft-size dry samples; inverse FFT output
    std::vector<Complex> rev_spec_;
    std::vector<Real> dry_;                    // hop: the dry block being emitted

    void render_segment(long long start);
    void filter_noise_block(long long frame, const Real* magnitudes);
    void convolve_noise_add(long long base, int span, long long min_t);
    void reverb_block(const Real* dry, Real* out);
    size_t ring(long long t) const { return size_t((t + (ring_mask_ + 1) * 4) & ring_mask_); }
};

}  // namespace ddsp::synth
