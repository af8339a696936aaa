// The streaming harmonic-plus-noise synthesis: see stream_harmonic_noise.h.
//
// Index
//   [SECTION] per-frame helpers (harmonic_synth's masking and normalisation, f0 clamp)
//   [SECTION] init / reset / reverb settings
//   [SECTION] push_frame: harmonics, noise
//   [SECTION] emit: dry, reverb
#include "synth/stream_harmonic_noise.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ddsp::synth {

// [SECTION] per-frame helpers (harmonic_synth's masking and normalisation, f0 clamp)

void normalise_harmonics(Real amplitude, Real f0_hz, double sample_rate_hz, Real* weights, int harmonics) {
    const double nyquist = sample_rate_hz / 2;
    Real sum = 0;
    for (int k = 0; k < harmonics; ++k) {
        const Real mask = (k + 1) * double(f0_hz) < nyquist ? Real(1) : Real(0);
        weights[k] *= mask;
        sum += weights[k];
    }
    const Real scale = amplitude / sum;
    for (int k = 0; k < harmonics; ++k) weights[k] *= scale;
}

Real clamp_f0_hz(double f0_hz, double sample_rate_hz) {
    if (std::isnan(f0_hz)) return Real(1);
    return std::min(std::max(Real(f0_hz), Real(1)), Real(0.49 * sample_rate_hz));
}

// [SECTION] init / reset / reverb settings

bool HarmonicNoiseStream::init(const HarmonicNoiseConfig& c, std::string& error) {
    if (!(c.sample_rate_hz >= 1 && c.sample_rate_hz <= 1e6) || c.hop < 1 || c.hop > (1 << 16) || c.harmonics < 1 ||
        c.harmonics > 4096 || c.noise_bands < 0 || c.noise_bands == 1 ||
        (c.noise_bands > 1 && !dsp::is_power_of_two(2 * (c.noise_bands - 1))) || c.max_reverb_taps < 0 ||
        c.max_reverb_taps > 1e8) {
        error = "harmonic+noise stream: unsupported config (rate 1 Hz .. 1 MHz, hop 1 .. 65536, 1 .. 4096 harmonics, "
                "noise bands 0 or 2^k + 1)";
        return false;
    }
    sample_rate_hz_ = c.sample_rate_hz;
    noise_seed_ = c.noise_seed;
    hop_ = c.hop;
    harmonics_ = c.harmonics;
    bands_ = c.noise_bands;
    taps_ = bands_ > 1 ? 2 * (bands_ - 1) : 0;
    const int hop = hop_;

    // [harmonics]
    prev_amps_.assign(size_t(harmonics_), Real(0));
    cur_amps_.assign(size_t(harmonics_), Real(0));
    weight_.resize(size_t(hop));
    for (int i = 0; i < hop; ++i) weight_[size_t(i)] = Real(double(i) / hop);  // as the offline bank's
    sin_prev_.assign(size_t(hop), 0.0);
    sin_cur_.assign(size_t(hop), 0.0);
    cos2_.assign(size_t(hop), 0.0);
    count_.assign(size_t(hop), 0);
    segment_.assign(size_t(hop), Real(0));

    // [noise] the offline frequency_filter's FFT sizes, window and rotation
    if (taps_ > 0) {
        fft_ir_ = dsp::RealFft(taps_);
        fft_noise_ = dsp::RealFft(dsp::next_power_of_two(std::max(2, hop + hop / 2 + taps_ - 1)));
        hann_.resize(size_t(taps_));
        for (int j = 0; j < taps_; ++j) hann_[size_t(j)] = Real(0.5 - 0.5 * std::cos(2 * kPi * j / taps_));
        ir_.assign(size_t(taps_), Real(0));
        noise_buf_.assign(size_t(fft_noise_.size()), Real(0));
        noise_draw_.assign(size_t(hop), Real(0));
        ir_spec_.assign(size_t(bands_), Complex(0, 0));
        fir_spec_.assign(size_t(fft_noise_.num_bins()), Complex(0, 0));
        noise_spec_.assign(size_t(fft_noise_.num_bins()), Complex(0, 0));
    }
    // The rings hold from the oldest unemitted sample to the furthest write. A live decoder emits at
    // most max(hop, hop/2 + N/2) behind its newest frame; a preset voice at most 2.5 hop + N/2 (it
    // pushes only while the next hop is not final); the newest noise block writes up to 1.5 hop +
    // N/2 past that frame. 6 hop + 2 N covers both with room to spare.
    const int ring_size = dsp::next_power_of_two(6 * hop + 2 * taps_ + 16);
    ring_mask_ = ring_size - 1;
    harm_ring_.assign(size_t(ring_size), Real(0));
    noise_ring_.assign(size_t(taps_ > 0 ? ring_size : 0), Real(0));
    dry_.assign(size_t(hop), Real(0));

    // [reverb] partitions of hop taps; input blocks of fft size (>= 2 hop), the last hop outputs valid
    max_partitions_ = partitions_ = 0;
    if (c.max_reverb_taps > 0) {
        fft_rev_ = dsp::RealFft(dsp::next_power_of_two(2 * hop));
        const int m = fft_rev_.size();
        rev_bins_ = fft_rev_.num_bins();
        max_partitions_ = (c.max_reverb_taps + hop - 1) / hop;
        const size_t cells = size_t(max_partitions_) * size_t(rev_bins_);
        rev_h_re_.assign(cells, Real(0));
        rev_h_im_.assign(cells, Real(0));
        rev_x_re_.assign(cells, Real(0));
        rev_x_im_.assign(cells, Real(0));
        rev_acc_re_.assign(size_t(rev_bins_), Real(0));
        rev_acc_im_.assign(size_t(rev_bins_), Real(0));
        rev_in_.assign(size_t(m), Real(0));
        rev_time_.assign(size_t(m), Real(0));
        rev_spec_.assign(size_t(rev_bins_), Complex(0, 0));
    }
    wet_gain_ = wet_from_ = 1;
    clip_end_ = std::numeric_limits<long long>::max();
    reset(0);
    return true;
}

void HarmonicNoiseStream::reset(long long first_output_sample) {
    phase_ = 0;
    frames_pushed_ = 0;
    next_out_ = first_output_sample;
    prev_f0_ = cur_f0_ = 1;
    std::fill(prev_amps_.begin(), prev_amps_.end(), Real(0));
    std::fill(cur_amps_.begin(), cur_amps_.end(), Real(0));
    rng_ = dsp::Rng(noise_seed_);  // the offline noise from its first sample
    std::fill(harm_ring_.begin(), harm_ring_.end(), Real(0));
    std::fill(noise_ring_.begin(), noise_ring_.end(), Real(0));
    std::fill(rev_x_re_.begin(), rev_x_re_.end(), Real(0));
    std::fill(rev_x_im_.begin(), rev_x_im_.end(), Real(0));
    std::fill(rev_in_.begin(), rev_in_.end(), Real(0));
    fdl_head_ = 0;
    wet_from_ = wet_gain_;
}

void HarmonicNoiseStream::set_reverb_ir(const Real* ir, int taps) {
    if (max_partitions_ == 0) return;
    const int hop = hop_;
    taps = std::clamp(taps, 0, max_partitions_ * hop);
    partitions_ = (taps + hop - 1) / hop;
    for (int p = 0; p < partitions_; ++p) {
        std::fill(rev_time_.begin(), rev_time_.end(), Real(0));
        for (int q = 0; q < hop && p * hop + q < taps; ++q) rev_time_[size_t(q)] = ir[size_t(p * hop + q)];
        fft_rev_.forward(rev_time_.data(), rev_spec_.data());
        for (int b = 0; b < rev_bins_; ++b) {
            rev_h_re_[size_t(p) * size_t(rev_bins_) + size_t(b)] = rev_spec_[size_t(b)].real();
            rev_h_im_[size_t(p) * size_t(rev_bins_) + size_t(b)] = rev_spec_[size_t(b)].imag();
        }
    }
}

void HarmonicNoiseStream::set_wet_gain(Real gain, bool ramp) {
    if (!ramp) wet_from_ = gain;
    wet_gain_ = gain;
}

long long HarmonicNoiseStream::final_samples() const {
    const long long f = frames_pushed_, hop = hop_;
    if (f == 0) return 0;
    long long t = (f - 1) * hop;  // the segment ending on frame f - 1 is rendered
    if (taps_ > 0) t = std::min(t, f * hop - hop / 2 - taps_ / 2);  // block f reaches back to here
    return t;
}

// [SECTION] push_frame: harmonics, noise

void HarmonicNoiseStream::push_frame(Real f0_hz, const Real* harmonic_amplitudes, const Real* noise_magnitudes) {
    cur_f0_ = f0_hz;
    std::copy(harmonic_amplitudes, harmonic_amplitudes + harmonics_, cur_amps_.begin());
    const long long frame = frames_pushed_;
    if (frame > 0) render_segment((frame - 1) * hop_);  // the segment that ends on this frame
    if (taps_ > 0) filter_noise_block(frame, noise_magnitudes);
    std::swap(prev_amps_, cur_amps_);  // swaps buffers, no allocation
    prev_f0_ = cur_f0_;
    ++frames_pushed_;
}

// Segment [start, start + hop) between the previous frame and the current one, as the offline
// oscillator bank computes it: per-sample f0 and partial count, phase in double, sines by the
// Chebyshev recurrence, run across the samples for each partial (so the inner loop vectorises).
void HarmonicNoiseStream::render_segment(long long start) {
    const int hop = hop_;
    const double sr = sample_rate_hz_, nyquist = sr / 2;
    int most = 0;
    for (int i = 0; i < hop; ++i) {
        const double w = double(weight_[size_t(i)]);
        const double f0 = std::max(0.0, (1 - w) * double(prev_f0_) + w * double(cur_f0_));
        int c = harmonics_;
        if (f0 > 0) c = int(std::min<double>(harmonics_, std::ceil(nyquist / f0) - 1));  // k f0 < nyquist
        count_[size_t(i)] = std::max(0, c);
        most = std::max(most, count_[size_t(i)]);
        phase_ = std::fmod(phase_ + 2 * kPi * f0 / sr, 2 * kPi);
        sin_prev_[size_t(i)] = 0;
        sin_cur_[size_t(i)] = std::sin(phase_);
        cos2_[size_t(i)] = 2 * std::cos(phase_);
        segment_[size_t(i)] = 0;
    }
    const Real* w = weight_.data();
    const int* count = count_.data();
    double* s_prev = sin_prev_.data();
    double* s_cur = sin_cur_.data();
    const double* c2 = cos2_.data();
    Real* y = segment_.data();
    for (int k = 0; k < most; ++k) {
        const Real c0 = prev_amps_[size_t(k)], d = cur_amps_[size_t(k)] - prev_amps_[size_t(k)];
        for (int i = 0; i < hop; ++i) {
            const Real s = k < count[i] ? Real(s_cur[i]) : Real(0);
            y[i] += s * (c0 + w[i] * d);
            const double next = c2[i] * s_cur[i] - s_prev[i];
            s_prev[i] = s_cur[i];
            s_cur[i] = next;
        }
    }
    for (int i = 0; i < hop; ++i) harm_ring_[ring(start + i)] = y[i];
}

// frequency_filter's block for `frame`: its FIR from the band magnitudes, the next noise samples,
// one FFT convolution, overlap-added N/2 samples early. Noise at or after the clip's end is
// convolved on its own and enters only samples from the end on (offline, there is none).
void HarmonicNoiseStream::filter_noise_block(long long frame, const Real* magnitudes) {
    const int hop = hop_, half = taps_ / 2;
    for (int k = 0; k < bands_; ++k) ir_spec_[size_t(k)] = Complex(magnitudes[k], Real(0));
    fft_ir_.inverse(ir_spec_.data(), ir_.data());
    std::fill(noise_buf_.begin(), noise_buf_.end(), Real(0));
    for (int j = 0; j < taps_; ++j) noise_buf_[size_t(j)] = ir_[size_t((j + half) % taps_)] * hann_[size_t(j)];
    fft_noise_.forward(noise_buf_.data(), fir_spec_.data());

    // Block f covers [f hop - hop/2, (f + 1) hop - hop/2); the first starts at 0.
    const long long start = frame == 0 ? 0 : frame * hop - hop / 2;
    const int len = frame == 0 ? hop - hop / 2 : hop;
    for (int i = 0; i < len; ++i) noise_draw_[size_t(i)] = Real(rng_.uniform(-1, 1));
    const int before_end = int(std::clamp<long long>(clip_end_ - start, 0, len));
    const long long base = start - half;
    const int span = len + taps_ - 1;
    if (before_end > 0) {
        std::fill(noise_buf_.begin(), noise_buf_.end(), Real(0));
        std::copy(noise_draw_.begin(), noise_draw_.begin() + before_end, noise_buf_.begin());
        convolve_noise_add(base, span, std::numeric_limits<long long>::min());
    }
    if (before_end < len) {
        std::fill(noise_buf_.begin(), noise_buf_.end(), Real(0));
        std::copy(noise_draw_.begin() + before_end, noise_draw_.begin() + len, noise_buf_.begin() + before_end);
        convolve_noise_add(base, span, clip_end_);
    }
}

// noise_buf_ (one block of noise, zero-padded) times the FIR's spectrum, added to the noise ring at
// samples [base, base + span) that are >= min_t. Samples already emitted (or before the first output:
// the first block's FIR reaches N/2 before sample 0) are never read again: writing them would leave
// stale values in ring slots that later samples reuse.
void HarmonicNoiseStream::convolve_noise_add(long long base, int span, long long min_t) {
    min_t = std::max(min_t, next_out_);
    fft_noise_.forward(noise_buf_.data(), noise_spec_.data());
    for (size_t b = 0; b < noise_spec_.size(); ++b) noise_spec_[b] = noise_spec_[b] * fir_spec_[b];
    fft_noise_.inverse(noise_spec_.data(), noise_buf_.data());
    for (int i = 0; i < span; ++i)
        if (base + i >= min_t) noise_ring_[ring(base + i)] += noise_buf_[size_t(i)];
}

// [SECTION] emit: dry, reverb

int HarmonicNoiseStream::emit(Real* out) {
    const int hop = hop_;
    const long long t0 = next_out_;
    int non_finite = 0;
    for (int i = 0; i < hop; ++i) {
        const long long t = t0 + i;
        const size_t slot = ring(t);
        Real d = harm_ring_[slot];
        harm_ring_[slot] = 0;
        if (taps_ > 0) {
            d = d + noise_ring_[slot];
            noise_ring_[slot] = 0;
        }
        if (t < 0) d = 0;  // before the clip: offline has nothing there
        if (!std::isfinite(d)) {
            d = 0;
            ++non_finite;
        }
        dry_[size_t(i)] = d;
    }
    if (max_partitions_ > 0) reverb_block(dry_.data(), out);
    else std::copy(dry_.begin(), dry_.end(), out);
    // Before the clip, 0 exactly (the reverb's FFT leaves rounding noise ~1e-9 there).
    for (int i = 0; i < hop && t0 + i < 0; ++i) out[i] = 0;
    next_out_ += hop;
    return non_finite;
}

// out = dry + wet_gain * (dry * ir) for one block of hop samples: the newest input block's spectrum
// enters the frequency-domain delay line, each partition multiplies the block from as many hops ago.
void HarmonicNoiseStream::reverb_block(const Real* dry, Real* out) {
    const int hop = hop_, m = fft_rev_.size(), bins = rev_bins_;
    std::memmove(rev_in_.data(), rev_in_.data() + hop, sizeof(Real) * size_t(m - hop));
    std::memcpy(rev_in_.data() + (m - hop), dry, sizeof(Real) * size_t(hop));
    fft_rev_.forward(rev_in_.data(), rev_spec_.data());
    Real* x_re = rev_x_re_.data() + size_t(fdl_head_) * size_t(bins);
    Real* x_im = rev_x_im_.data() + size_t(fdl_head_) * size_t(bins);
    for (int b = 0; b < bins; ++b) {
        x_re[b] = rev_spec_[size_t(b)].real();
        x_im[b] = rev_spec_[size_t(b)].imag();
    }
    Real* acc_re = rev_acc_re_.data();
    Real* acc_im = rev_acc_im_.data();
    for (int b = 0; b < bins; ++b) acc_re[b] = acc_im[b] = 0;
    for (int p = 0; p < partitions_; ++p) {
        const int slot = (fdl_head_ - p + max_partitions_) % max_partitions_;
        const Real* hr = rev_h_re_.data() + size_t(p) * size_t(bins);
        const Real* hi = rev_h_im_.data() + size_t(p) * size_t(bins);
        const Real* xr = rev_x_re_.data() + size_t(slot) * size_t(bins);
        const Real* xi = rev_x_im_.data() + size_t(slot) * size_t(bins);
        for (int b = 0; b < bins; ++b) {  // split real / imaginary arrays: vectorises
            acc_re[b] += hr[b] * xr[b] - hi[b] * xi[b];
            acc_im[b] += hr[b] * xi[b] + hi[b] * xr[b];
        }
    }
    fdl_head_ = (fdl_head_ + 1) % max_partitions_;
    for (int b = 0; b < bins; ++b) rev_spec_[size_t(b)] = Complex(acc_re[b], acc_im[b]);
    fft_rev_.inverse(rev_spec_.data(), rev_time_.data());
    const Real* wet = rev_time_.data() + (m - hop);  // the samples free of circular wrap-around
    if (wet_from_ == wet_gain_) {
        const Real g = wet_gain_;
        if (g == Real(1)) {
            for (int i = 0; i < hop; ++i) out[i] = dry[i] + wet[i];
        } else {
            for (int i = 0; i < hop; ++i) out[i] = dry[i] + g * wet[i];
        }
    } else {
        // A wet-gain change glides over this hop (no step in the tail).
        const Real from = wet_from_, step = (wet_gain_ - wet_from_) / Real(hop);
        for (int i = 0; i < hop; ++i) out[i] = dry[i] + (from + step * Real(i + 1)) * wet[i];
        wet_from_ = wet_gain_;
    }
}

}  // namespace ddsp::synth
