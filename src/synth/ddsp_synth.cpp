// `ddsp`: DDSP's harmonic-plus-noise synthesiser with a learnable exponential-decay reverb.
// See ddsp_synth.h for the signal flow and the parameter design.
//
// Index
//   [SECTION] helpers: frame grid, tracks read by time
//   [SECTION] unflatten_frames
//   [SECTION] harmonic oscillator bank
//   [SECTION] frequency filter (frame-wise FIR by frequency sampling)
//   [SECTION] the synth
#include "synth/ddsp_synth.h"

#include "ad/ops_signal.h"
#include "dsp/features.h"
#include "dsp/fft.h"
#include "dsp/pitch.h"
#include "dsp/rng.h"
#include "synth/registry.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace ddsp::synth {

namespace {

// [SECTION] helpers: frame grid, tracks read by time

int grid_frames(int num_samples, int hop) { return std::max(1, dsp::frame_count(num_samples, hop)); }

// Linear interpolation of a track (frame j at time j * frame_s) at time t_s, ends held.
double read_track(const Vec& track, double frame_s, double t_s) {
    const Eigen::Index m = track.size();
    if (m == 1 || !(frame_s > 0)) return double(track[0]);
    const double p = t_s / frame_s;
    if (p <= 0) return double(track[0]);
    if (p >= double(m - 1)) return double(track[m - 1]);
    const Eigen::Index j = Eigen::Index(std::floor(p));
    const double u = p - double(j);
    return (1 - u) * double(track[j]) + u * double(track[j + 1]);
}

// A vector of 32 bytes (8 floats) with GCC/clang vector extensions: AVX natively, two simd128
// operations in wasm. For dot products, whose sums the compiler may not reorder on its own.
// These helpers have internal linkage, so how a 32-byte vector is returned without AVX (GCC's
// -Wpsabi note for non-native builds) concerns no caller outside this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef Real VecReal __attribute__((vector_size(32)));
constexpr int kLanes = int(sizeof(VecReal) / sizeof(Real));

inline VecReal load_vec(const Real* p) {
    VecReal v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline Real sum_lanes(VecReal v) {
    Real s = 0;
    for (int l = 0; l < kLanes; ++l) s += v[l];
    return s;
}

// [SECTION] unflatten_frames

class UnflattenFramesNode final : public ad::Node {
public:
    UnflattenFramesNode(int frames, int channels) : frames_(frames), channels_(channels) {}
    const char* op_name() const override { return "unflatten_frames"; }
    void forward(ad::Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        if (value.rows() != frames_ || value.cols() != channels_) value.resize(frames_, channels_);
        for (int c = 0; c < channels_; ++c)
            for (int f = 0; f < frames_; ++f) value(f, c) = x(Eigen::Index(f) * channels_ + c, 0);
    }
    void backward(ad::Tape& t) override {
        Arr& gx = t.grad_mutable(inputs[0]);
        for (int c = 0; c < channels_; ++c)
            for (int f = 0; f < frames_; ++f) gx(Eigen::Index(f) * channels_ + c, 0) += grad(f, c);
    }

private:
    int frames_, channels_;
};

// [SECTION] harmonic oscillator bank
//
// The samples between frame s and s + 1 form segment s; within it sample i reads
// (1 - w_i) A[s] + w_i A[s + 1]. Storing each segment's sines as (samples x harmonics),
// column-major, one segment after the other, makes the forward pass a sum of axpys down each
// harmonic's column and the backward pass two dot products per harmonic and segment: plain loops over contiguous memory that vectorise (also in
// wasm, where Eigen has no SIMD path). Only harmonics below Nyquist somewhere in a segment are
// visited, so high f0 costs less.
class HarmonicBankNode final : public ad::Node {
public:
    HarmonicBankNode(const Vec& f0_hz, double sample_rate_hz, int num_samples, int hop, int harmonics)
        : n_(num_samples), hop_(hop), frames_(int(f0_hz.size())), harmonics_(harmonics), f0_hz_(f0_hz),
          sample_rate_hz_(sample_rate_hz) {}
    void adopt(ad::Node& old) override {
        auto& o = static_cast<HarmonicBankNode&>(old);
        seg_begin_.swap(o.seg_begin_);
        seg_cols_.swap(o.seg_cols_);
        weight_.swap(o.weight_);
        sines_.swap(o.sines_);
        seg_offset_.swap(o.seg_offset_);
        count_.swap(o.count_);
        f0s_.swap(o.f0s_);
        at_.swap(o.at_);
        gat_.swap(o.gat_);
        gp_.swap(o.gp_);
    }
    const char* op_name() const override { return "harmonic_oscillator_bank"; }

    void forward(ad::Tape& t) override {
        if (!built_) build();
        const Arr& a = t.value(inputs[0]);
        at_ = a.transpose();  // each frame's harmonics contiguous
        if (value.rows() != n_ || value.cols() != 1) value.resize(n_, 1);
        Real* y = value.data();
        const Real* w = weight_.data();
        for (size_t s = 0; s < seg_cols_.size(); ++s) {
            const int i0 = seg_begin_[s], len = seg_begin_[s + 1] - i0;
            const Real* a0 = &at_(0, Eigen::Index(s));
            const Real* a1 = &at_(0, std::min(Eigen::Index(s) + 1, Eigen::Index(frames_ - 1)));
            Real* ys = y + i0;
            const Real* ws = w + i0;
            for (int i = 0; i < len; ++i) ys[i] = 0;
            for (int k = 0; k < seg_cols_[s]; ++k) {
                const Real* col = sines_.data() + seg_offset_[s] + size_t(k) * size_t(len);
                const Real c0 = a0[k], d = a1[k] - a0[k];
                for (int i = 0; i < len; ++i) ys[i] += col[i] * (c0 + ws[i] * d);
            }
        }
    }

    void backward(ad::Tape& t) override {
        // Accumulated transposed (each frame's harmonics contiguous), added to ga once at the end.
        gat_.setZero();
        const Real* g = grad.data();
        const Real* w = weight_.data();
        for (size_t s = 0; s < seg_cols_.size(); ++s) {
            const int i0 = seg_begin_[s], len = seg_begin_[s + 1] - i0;
            const Eigen::Index f0 = Eigen::Index(s), f1 = std::min(f0 + 1, Eigen::Index(frames_ - 1));
            Real* p0 = &gp_(0, 0);
            Real* p1 = &gp_(0, 1);
            for (int i = 0; i < len; ++i) {
                p1[i] = g[i0 + i] * w[i0 + i];
                p0[i] = g[i0 + i] - p1[i];
            }
            // Per harmonic, two dot products with the segment's column of sines, in explicit
            // vectors (the compiler may not reorder a float sum itself). An Eigen product here spent
            // most of its time packing the 10-25 MB table into its own layout, and is scalar in wasm.
            const int cols = seg_cols_[s];
            const Real* table = sines_.data() + seg_offset_[s];
            Real* q0 = &gat_(0, f0);
            Real* q1 = &gat_(0, f1);
            int k = 0;
            for (; k + 2 <= cols; k += 2) {  // two columns at a time: p0 and p1 loaded once for both
                const Real* c0 = table + size_t(k) * size_t(len);
                const Real* c1 = c0 + len;
                VecReal a00 = {}, a01 = {}, a10 = {}, a11 = {};
                int i = 0;
                for (; i + kLanes <= len; i += kLanes) {
                    const VecReal v0 = load_vec(p0 + i), v1 = load_vec(p1 + i);
                    const VecReal s0 = load_vec(c0 + i), s1 = load_vec(c1 + i);
                    a00 += s0 * v0;
                    a01 += s0 * v1;
                    a10 += s1 * v0;
                    a11 += s1 * v1;
                }
                Real r00 = sum_lanes(a00), r01 = sum_lanes(a01), r10 = sum_lanes(a10), r11 = sum_lanes(a11);
                for (; i < len; ++i) {
                    r00 += c0[i] * p0[i];
                    r01 += c0[i] * p1[i];
                    r10 += c1[i] * p0[i];
                    r11 += c1[i] * p1[i];
                }
                q0[k] += r00;
                q1[k] += r01;
                q0[k + 1] += r10;
                q1[k + 1] += r11;
            }
            for (; k < cols; ++k) {
                const Real* col = table + size_t(k) * size_t(len);
                Real r0 = 0, r1 = 0;
                for (int i = 0; i < len; ++i) {
                    r0 += col[i] * p0[i];
                    r1 += col[i] * p1[i];
                }
                q0[k] += r0;
                q1[k] += r1;
            }
        }
        bool fresh = false;
        Arr& ga = t.grad_accumulator(inputs[0], fresh);
        if (fresh) ga = gat_.transpose();
        else ga += gat_.transpose();
    }

private:
    int n_, hop_, frames_, harmonics_;
    std::vector<int> seg_begin_;  // segments + 1 sample indices
    std::vector<int> seg_cols_;   // harmonics below Nyquist somewhere in the segment
    Vec weight_;                  // interpolation weight of the later frame, per sample
    // Segment-major: segment s holds seg_cols_[s] columns of its samples, contiguous, so both
    // passes stream the table once in order (a column-major (samples x harmonics) table made
    // every segment read dozens of far-apart columns).
    std::vector<Real> sines_;
    std::vector<size_t> seg_offset_;  // segments + 1 offsets into sines_
    Arr at_;                      // A transposed (harmonics x frames)
    Arr gat_;                     // gradient of A, transposed
    Eigen::Matrix<Real, Eigen::Dynamic, 2> gp_;  // segment scratch: gradient to frames s, s + 1
    Vec f0_hz_;
    double sample_rate_hz_;
    std::vector<int> count_;    // build scratch: harmonics below Nyquist, per sample
    std::vector<double> f0s_;   // build scratch: f0 per sample
    bool built_ = false;

    // The tables, built on the first forward() rather than in the constructor, so that they fill
    // the buffers adopted from a truncated node (the sine table is ~10 MB for 4 s).
    void build() {
        const int segments = std::max(1, frames_ - 1);
        seg_begin_.resize(size_t(segments) + 1);
        for (int s = 0; s < segments; ++s) seg_begin_[size_t(s)] = std::min(n_, s * hop_);
        seg_begin_[size_t(segments)] = n_;
        weight_.resize(n_);
        for (int s = 0; s < segments; ++s)
            for (int i = seg_begin_[size_t(s)]; i < seg_begin_[size_t(s) + 1]; ++i)
                weight_[i] = frames_ > 1 ? Real(std::min(1.0, double(i - s * hop_) / hop_)) : Real(0);

        // Phase in double, wrapped each sample; harmonics by the Chebyshev recurrence
        // sin((k+1) p) = 2 cos(p) sin(k p) - sin((k-1) p), accurate to ~1e-12 over 100 partials.
        const double nyquist = sample_rate_hz_ / 2;
        count_.resize(size_t(n_));
        f0s_.resize(size_t(n_));
        int stored = 0;
        for (int i = 0; i < n_; ++i) {
            const int s = segment_of(i);
            const int s1 = std::min(s + 1, frames_ - 1);
            const double w = double(weight_[i]);
            const double f0 = std::max(0.0, (1 - w) * double(f0_hz_[s]) + w * double(f0_hz_[s1]));
            f0s_[size_t(i)] = f0;
            int c = harmonics_;
            if (f0 > 0) c = int(std::min<double>(harmonics_, std::ceil(nyquist / f0) - 1));  // k f0 < nyquist
            count_[size_t(i)] = std::max(0, c);
            stored = std::max(stored, count_[size_t(i)]);
        }
        seg_cols_.resize(size_t(segments));
        seg_offset_.resize(size_t(segments) + 1);
        seg_offset_[0] = 0;
        int longest = 1;
        for (int s = 0; s < segments; ++s) {
            int c = 0;
            for (int i = seg_begin_[size_t(s)]; i < seg_begin_[size_t(s) + 1]; ++i) c = std::max(c, count_[size_t(i)]);
            seg_cols_[size_t(s)] = c;
            const int len = seg_begin_[size_t(s) + 1] - seg_begin_[size_t(s)];
            seg_offset_[size_t(s) + 1] = seg_offset_[size_t(s)] + size_t(c) * size_t(len);
            longest = std::max(longest, len);
        }
        sines_.assign(seg_offset_.back(), Real(0));
        double phase = 0;
        for (int i = 0; i < n_; ++i) {
            phase = std::fmod(phase + 2 * kPi * f0s_[size_t(i)] / sample_rate_hz_, 2 * kPi);
            const double c2 = 2 * std::cos(phase);
            double prev = 0, cur = std::sin(phase);
            const int s = segment_of(i), len = seg_begin_[size_t(s) + 1] - seg_begin_[size_t(s)];
            Real* out = sines_.data() + seg_offset_[size_t(s)] + (i - seg_begin_[size_t(s)]);
            for (int k = 0; k < count_[size_t(i)]; ++k) {
                out[size_t(k) * size_t(len)] = Real(cur);
                const double next = c2 * cur - prev;
                prev = cur;
                cur = next;
            }
        }
        at_.resize(harmonics_, frames_);
        gat_.resize(harmonics_, frames_);
        gp_.resize(longest, 2);
        built_ = true;
    }

    int segment_of(int i) const {
        const int s = int(std::upper_bound(seg_begin_.begin(), seg_begin_.end(), i) - seg_begin_.begin()) - 1;
        return std::clamp(s, 0, int(seg_begin_.size()) - 2);
    }
};

// [SECTION] frequency filter (frame-wise FIR by frequency sampling)
//
// Per frame f (N taps, FFT size L >= longest block + N - 1 so the linear convolution does not wrap):
//   ir0 = irfft_N(m_f)                      zero-phase, even
//   h[j] = ir0[(j + N/2) mod N] * hann[j]   causal, centred on tap N/2 (hann[N/2] = 1, hann[0] = 0)
//   y += (x_f * h) placed at the block start - N/2
// Backward: with gy the output gradient under frame f's output span,
//   dx_f = corr(gy, h),  dh = corr(gy, x_f)  (by FFT),  d ir0[(j + N/2) mod N] = dh[j] hann[j],
//   dm_k = (c_k / N) Re(FFT_N(d ir0))[k],  c_k = 1 at DC and Nyquist, 2 otherwise
// (the adjoint of the real inverse FFT on a real spectrum).
class FrequencyFilterNode final : public ad::Node {
public:
    FrequencyFilterNode(int n, int frames, int bands, int hop)
        : n_(n), frames_(frames), bands_(bands), taps_(2 * (bands - 1)),
          fft_ir_(2 * (bands - 1)), fft_(dsp::next_power_of_two(std::max(2, hop + hop / 2 + 2 * (bands - 1) - 1))) {
        // Block f: samples from f hop - hop/2 to the next block, centred on its frame; the first
        // block starts at 0 and the last runs to the end (up to hop + hop/2 samples).
        block_.resize(size_t(frames) + 1);
        block_[0] = 0;
        for (int f = 1; f < frames; ++f) block_[size_t(f)] = std::clamp(f * hop - hop / 2, 0, n);
        block_[size_t(frames)] = n;
        bins_ = fft_.num_bins();
        hann_.resize(taps_);
        for (int j = 0; j < taps_; ++j) hann_[j] = Real(0.5 - 0.5 * std::cos(2 * kPi * j / taps_));
        ir_.resize(size_t(taps_));
        ir_spec_.resize(size_t(bands_));
        buf_.resize(size_t(fft_.size()));
        work_.resize(size_t(bins_));
        gspec_.resize(size_t(bins_));
    }
    const char* op_name() const override { return "frequency_filter"; }
    void adopt(ad::Node& old) override {
        auto& o = static_cast<FrequencyFilterNode&>(old);
        xs_.swap(o.xs_);
        hs_.swap(o.hs_);
        // The noise spectra stay valid if the blocks and the FFT are the same (the cache check in
        // forward() then compares the samples as usual).
        if (o.block_ == block_ && o.fft_.size() == fft_.size()) x_seen_.swap(o.x_seen_);
    }

    void forward(ad::Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        const Arr& m = t.value(inputs[1]);
        if (value.rows() != n_ || value.cols() != 1) value.resize(n_, 1);
        value.setZero();
        xs_.resize(Eigen::Index(bins_), frames_);  // here, not in the constructor: adopted buffers
        hs_.resize(Eigen::Index(bins_), frames_);
        const int half = taps_ / 2;
        // The input is usually the synth's fixed white noise (a constant leaf): its block spectra
        // are kept and recomputed only when its samples change (a compare costs ~1% of the FFTs).
        const bool x_cached = x_seen_.size() == x.size() &&
                              std::equal(x_seen_.data(), x_seen_.data() + x_seen_.size(), x.data());
        if (!x_cached) {
            const ad::Node& in = t.node(inputs[0]);
            if (in.is_leaf && !in.requires_grad) x_seen_ = x.col(0);
            else x_seen_.resize(0);
        }
        for (int f = 0; f < frames_; ++f) {
            for (int k = 0; k < bands_; ++k) ir_spec_[size_t(k)] = Complex(m(f, k), 0);
            fft_ir_.inverse(ir_spec_.data(), ir_.data());
            std::fill(buf_.begin(), buf_.end(), Real(0));
            for (int j = 0; j < taps_; ++j) buf_[size_t(j)] = ir_[size_t((j + half) % taps_)] * hann_[j];
            fft_.forward(buf_.data(), &hs_(0, f));

            const int start = block_[size_t(f)], len = block_[size_t(f) + 1] - start, span = len + taps_ - 1;
            if (!x_cached) {
                std::fill(buf_.begin(), buf_.end(), Real(0));
                for (int i = 0; i < len; ++i) buf_[size_t(i)] = x(start + i, 0);
                fft_.forward(buf_.data(), &xs_(0, f));
            }

            for (int b = 0; b < bins_; ++b) work_[size_t(b)] = xs_(b, f) * hs_(b, f);
            fft_.inverse(work_.data(), buf_.data());
            const int base = start - half;
            for (int i = std::max(0, -base); i < span && base + i < n_; ++i) value(base + i, 0) += buf_[size_t(i)];
        }
    }

    void backward(ad::Tape& t) override {
        const bool want_x = t.requires_grad(inputs[0]), want_m = t.requires_grad(inputs[1]);
        const int half = taps_ / 2;
        const Real n_ir = Real(taps_);
        for (int f = 0; f < frames_; ++f) {
            const int start = block_[size_t(f)], len = block_[size_t(f) + 1] - start, span = len + taps_ - 1;
            const int base = start - half;
            std::fill(buf_.begin(), buf_.end(), Real(0));
            for (int i = std::max(0, -base); i < span && base + i < n_; ++i) buf_[size_t(i)] = grad(base + i, 0);
            fft_.forward(buf_.data(), gspec_.data());
            if (want_x) {
                Arr& gx = t.grad_mutable(inputs[0]);
                for (int b = 0; b < bins_; ++b) work_[size_t(b)] = gspec_[size_t(b)] * std::conj(hs_(b, f));
                fft_.inverse(work_.data(), buf_.data());
                for (int i = 0; i < len; ++i) gx(start + i, 0) += buf_[size_t(i)];
            }
            if (want_m) {
                Arr& gm = t.grad_mutable(inputs[1]);
                for (int b = 0; b < bins_; ++b) work_[size_t(b)] = gspec_[size_t(b)] * std::conj(xs_(b, f));
                fft_.inverse(work_.data(), buf_.data());
                for (int j = 0; j < taps_; ++j) ir_[size_t((j + half) % taps_)] = buf_[size_t(j)] * hann_[j];
                fft_ir_.forward(ir_.data(), ir_spec_.data());
                for (int k = 0; k < bands_; ++k) {
                    const Real c = (k == 0 || k == bands_ - 1) ? Real(1) : Real(2);
                    gm(f, k) += c / n_ir * ir_spec_[size_t(k)].real();
                }
            }
        }
    }

private:
    int n_, frames_, bands_, taps_;
    dsp::RealFft fft_ir_, fft_;
    int bins_ = 0;
    Vec hann_;
    std::vector<Real> ir_, buf_;
    std::vector<Complex> ir_spec_, work_, gspec_;
    std::vector<int> block_;  // frames + 1 block boundaries
    Eigen::Array<Complex, Eigen::Dynamic, Eigen::Dynamic> xs_, hs_;  // per-frame spectra (bins x frames)
    Vec x_seen_;  // the constant input xs_ was computed from (empty: not cached)
};

}  // namespace

// [SECTION] public ops

ad::Var unflatten_frames(ad::Var flat, int frames, int channels) {
    if (!flat.valid() || flat.cols() != 1 || frames < 1 || channels < 1 || flat.rows() != frames * channels)
        ad::graph_error("unflatten_frames: needs a (frames * channels x 1) column");
    auto node = std::make_unique<UnflattenFramesNode>(frames, channels);
    node->inputs = {flat.id};
    return flat.tape->push(std::move(node));
}

ad::Var harmonic_oscillator_bank(ad::Var harmonic_amplitudes, const Vec& f0_hz, double sample_rate_hz,
                                 int num_samples, int hop) {
    if (!harmonic_amplitudes.valid() || num_samples < 1 || hop < 1 || !(sample_rate_hz > 0))
        ad::graph_error("harmonic_oscillator_bank: needs >= 1 sample, hop >= 1 and a positive sample rate");
    const int frames = grid_frames(num_samples, hop);
    if (harmonic_amplitudes.rows() != frames || f0_hz.size() != frames || harmonic_amplitudes.cols() < 1)
        ad::graph_error("harmonic_oscillator_bank: amplitudes and f0 need num_samples / hop + 1 = " +
                        std::to_string(frames) + " frames");
    auto node = std::make_unique<HarmonicBankNode>(f0_hz, sample_rate_hz, num_samples, hop,
                                                   harmonic_amplitudes.cols());
    node->inputs = {harmonic_amplitudes.id};
    return harmonic_amplitudes.tape->push(std::move(node));
}

ad::Var harmonic_synth(ad::Var amplitude, ad::Var distribution, const Vec& f0_hz, double sample_rate_hz,
                       int num_samples, int hop) {
    ad::Tape& tape = ad::same_tape(amplitude, distribution);
    const int frames = distribution.rows(), harmonics = distribution.cols();
    if (amplitude.rows() != frames || amplitude.cols() != 1 || f0_hz.size() != frames)
        ad::graph_error("harmonic_synth: amplitude (frames x 1), distribution and f0 must share frames");
    const double nyquist = sample_rate_hz / 2;
    const Vec f0 = f0_hz.max(Real(1)).min(Real(0.49 * sample_rate_hz));
    // Harmonics at or above Nyquist leave the distribution before it is normalised (DDSP's
    // remove_above_nyquist), so the audible ones carry the whole amplitude.
    Arr mask(frames, harmonics);
    for (int k = 0; k < harmonics; ++k)
        for (int f = 0; f < frames; ++f) mask(f, k) = (k + 1) * double(f0[f]) < nyquist ? Real(1) : Real(0);
    const ad::Var kept = distribution * tape.constant(mask);
    const ad::Var amps = kept * (amplitude / ad::sum_cols(kept));
    return harmonic_oscillator_bank(amps, f0, sample_rate_hz, num_samples, hop);
}

ad::Var frequency_filter(ad::Var x, ad::Var magnitudes, int hop) {
    ad::Tape& tape = ad::same_tape(x, magnitudes);
    if (x.cols() != 1 || x.rows() < 1 || hop < 1) ad::graph_error("frequency_filter: x must be a column, hop >= 1");
    const int frames = grid_frames(x.rows(), hop), bands = magnitudes.cols();
    if (magnitudes.rows() != frames)
        ad::graph_error("frequency_filter: magnitudes need n / hop + 1 = " + std::to_string(frames) + " rows");
    if (bands < 2 || !dsp::is_power_of_two(2 * (bands - 1)))
        ad::graph_error("frequency_filter: bands - 1 must be a power of two (65, 33, 129...)");
    auto node = std::make_unique<FrequencyFilterNode>(x.rows(), frames, bands, hop);
    node->inputs = {x.id, magnitudes.id};
    return tape.push(std::move(node));
}

// [SECTION] the synth

DdspSynth::DdspSynth(const DdspSynthParams& params) : params_(params), constant_f0_hz_(params.default_f0_hz) {}

std::string DdspSynth::description() const {
    return "DDSP harmonic-plus-noise synth (" + std::to_string(params_.num_harmonics) + " harmonics, " +
           std::to_string(params_.num_noise_bands) + "-band filtered noise, exponential-decay reverb); f0 from the target";
}

int DdspSynth::hop(const SynthConfig& cfg) const { return dsp::frame_hop(cfg.sample_rate_hz, params_.frame_rate_hz); }

int DdspSynth::num_frames(const SynthConfig& cfg) const { return grid_frames(cfg.num_samples, hop(cfg)); }

std::vector<ParamSpec> DdspSynth::param_table(const SynthConfig& cfg) const {
    const int frames = num_frames(cfg);
    const std::string bands = std::to_string(params_.num_noise_bands);
    return {
        {"amplitude", "", 1e-5, 1, 0.5, ad::Scale::log, frames,
         "Per frame: total amplitude of the harmonic part (the harmonic amplitudes sum to it)"},
        {"harmonic_distribution", "", 1e-4, 1, 0.01, ad::Scale::log, frames * params_.num_harmonics,
         "Per frame, " + std::to_string(params_.num_harmonics) +
             " harmonics each (frame-major): harmonic k's weight on a 1/k slope (equal weights: a sawtooth "
             "spectrum); weight / k is normalised to sum 1 below Nyquist"},
        {"noise_magnitudes", "", 1e-5, 1, 3e-3, ad::Scale::log, frames * params_.num_noise_bands,
         "Per frame, " + bands + " bands each from 0 Hz to Nyquist (frame-major): gain of the noise filter "
         "(1 passes the [-1, 1] white noise unchanged)"},
        {"reverb_decay_s", "s", 0.01, 0.5, 0.05, ad::Scale::log, 1,
         "Reverb time constant: the tail falls 8.7 dB per decay_s (RT60 = 6.9 decay_s)"},
        {"reverb_wet_db", "dB", -60, 0, -20, ad::Scale::linear, 1, "Reverb level relative to the dry sound"},
    };
}

void DdspSynth::set_f0_hz(double f0_hz) {
    constant_f0_hz_ = f0_hz;
    track_f0_hz_.resize(0);
}

void DdspSynth::set_f0_track(const Vec& f0_hz, double frame_rate_hz) {
    track_f0_hz_ = f0_hz;
    track_frame_s_ = frame_rate_hz > 0 ? 1.0 / frame_rate_hz : 0.0;
}

Vec DdspSynth::f0_frames_hz(const SynthConfig& cfg) const {
    const int frames = num_frames(cfg);
    const double frame_s = hop(cfg) / cfg.sample_rate_hz;
    Vec f0(frames);
    for (int f = 0; f < frames; ++f) {
        const double v = has_f0_track() ? read_track(track_f0_hz_, track_frame_s_, f * frame_s) : constant_f0_hz_;
        f0[f] = Real(std::clamp(std::isfinite(v) ? v : params_.default_f0_hz, 1.0, 0.49 * cfg.sample_rate_hz));
    }
    return f0;
}

// What ddsp takes from a recording: its f0 track and its frame RMS (for initial_values()).
struct DdspAnalysis final : TargetAnalysis {
    Vec f0_hz;  // empty: nothing pitched
    Vec rms;
    double frame_s = 0;
};

bool DdspSynth::analyse(const Vec& target, const SynthConfig& cfg, AnalysisPtr& out, std::string& error) const {
    if (target.size() == 0) {
        error = "ddsp: the target is empty";
        return false;
    }
    if (!target.allFinite()) {
        error = "ddsp: the target has non-finite samples";
        return false;
    }
    const int h = hop(cfg);
    dsp::YinParams yp;
    yp.hop = h;
    yp.hold_unvoiced = true;
    yp.f0_max_hz = std::min(2000.0, 0.45 * cfg.sample_rate_hz);
    dsp::PitchTrack track;
    std::string yin_error;
    if (!dsp::yin_track(target, cfg.sample_rate_hz, yp, track, yin_error)) {
        error = "ddsp: pitch tracking failed: " + yin_error;
        return false;
    }
    auto a = std::make_shared<DdspAnalysis>();
    a->frame_s = h / cfg.sample_rate_hz;
    if (track.voiced.any()) a->f0_hz = track.f0_hz;
    // RMS over 4 hops (16 ms at 16 kHz), long enough to smooth over a period of most notes.
    a->rms = dsp::frame_rms(target, 4 * h, h);
    out = std::move(a);
    return true;
}

void DdspSynth::use_analysis(AnalysisPtr analysis) {
    auto a = std::dynamic_pointer_cast<const DdspAnalysis>(std::move(analysis));
    if (!a) {
        track_rms_.resize(0);
        return;
    }
    if (a->f0_hz.size() > 0) {
        track_f0_hz_ = a->f0_hz;
        track_frame_s_ = a->frame_s;
    } else {
        track_f0_hz_.resize(0);  // nothing pitched: keep the constant f0
    }
    track_rms_ = a->rms;
    rms_frame_s_ = a->frame_s;
}

bool DdspSynth::set_pitch_hz(double f0_hz, bool follow_analysis, ParamValues&, const SynthConfig& cfg, std::string&) {
    if (!(follow_analysis && has_f0_track())) {
        set_f0_hz(f0_hz);
        return true;
    }
    // The analysed track over the rendered frames, scaled so its median is f0_hz.
    const Vec track = f0_frames_hz(cfg);
    std::vector<double> sorted(track.data(), track.data() + track.size());
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    const double median = n == 0 ? 0 : n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    set_f0_track(track * Real(median > 0 ? f0_hz / median : 1.0), cfg.sample_rate_hz / double(hop(cfg)));
    return true;
}

ParamValues DdspSynth::initial_values(const SynthConfig& cfg) const {
    const std::vector<ParamSpec> table = param_table(cfg);
    ParamValues values = default_values(table);
    if (track_rms_.size() == 0) return values;
    const ParamSpec& amp = table[0];
    const Vec f0 = f0_frames_hz(cfg);
    const double frame_s = hop(cfg) / cfg.sample_rate_hz, nyquist = cfg.sample_rate_hz / 2;
    std::vector<double>& a = values["amplitude"];
    for (int f = 0; f < int(a.size()); ++f) {
        // Equal weights give c_k = (1/k) / S1 over the audible partials, so RMS = A sqrt(S2 / 2) / S1
        // with S1 = sum 1/k and S2 = sum 1/k^2.
        const int audible = std::clamp(int(std::ceil(nyquist / double(f0[f]))) - 1, 1, params_.num_harmonics);
        double s1 = 0, s2 = 0;
        for (int k = 1; k <= audible; ++k) {
            s1 += 1.0 / k;
            s2 += 1.0 / (double(k) * k);
        }
        const double rms = read_track(track_rms_, rms_frame_s_, f * frame_s);
        a[size_t(f)] = std::clamp(rms * s1 * std::sqrt(2.0 / s2), amp.min_value, amp.max_value);
    }
    return values;
}

ad::Var DdspSynth::build(ad::Var u, const SynthConfig& cfg) {
    if (!u.valid()) ad::graph_error("ddsp: empty u");
    if (cfg.num_samples < 1 || !(cfg.sample_rate_hz > 0)) ad::graph_error("ddsp: needs >= 1 sample and a sample rate");
    ad::Tape& tape = *u.tape;
    const ParamGraph p(param_table(cfg), u);
    const int n = cfg.num_samples, h = hop(cfg), frames = num_frames(cfg);
    const double sr = cfg.sample_rate_hz;

    // Harmonic part. The weights sit on a 1/k slope, so equal weights (the defaults) make a
    // sawtooth-like spectrum rather than a flat pulse train.
    Arr slope(1, params_.num_harmonics);
    for (int k = 0; k < params_.num_harmonics; ++k) slope(0, k) = Real(1.0 / (k + 1));
    const ad::Var weights = unflatten_frames(p["harmonic_distribution"], frames, params_.num_harmonics);
    const ad::Var harmonic = harmonic_synth(p["amplitude"], weights * tape.constant(slope), f0_frames_hz(cfg), sr, n, h);

    // Filtered noise: uniform white noise in [-1, 1) as DDSP, from the seed.
    dsp::Rng noise_rng(cfg.seed);
    Arr noise(n, 1);
    for (int i = 0; i < n; ++i) noise(i, 0) = Real(noise_rng.uniform(-1, 1));
    const ad::Var magnitudes = unflatten_frames(p["noise_magnitudes"], frames, params_.num_noise_bands);
    const ad::Var dry = harmonic + frequency_filter(tape.constant(noise), magnitudes, h);

    // Reverb: ir = noise * exp(-t / decay), first tap 0 (the dry path is separate, as DDSP's
    // reverb masks its first sample), normalised to unit energy so the wet gain is a level ratio.
    const int taps = std::max(1, std::min(n, int(std::lround(params_.max_reverb_s * sr))));
    dsp::Rng ir_rng(cfg.seed ^ 0x9E3779B97F4A7C15ull);
    Arr ir_noise(taps, 1), minus_t(taps, 1);
    for (int i = 0; i < taps; ++i) {
        ir_noise(i, 0) = i == 0 ? Real(0) : Real(ir_rng.uniform(-1, 1));
        minus_t(i, 0) = Real(-i / sr);
    }
    const ad::Var envelope = ad::exp(tape.constant(minus_t) / p["reverb_decay_s"]);
    const ad::Var ir_raw = tape.constant(ir_noise) * envelope;
    const ad::Var energy = ad::sum(ad::square(ir_raw)) + Real(1e-20);
    const ad::Var wet_gain = ad::exp(p["reverb_wet_db"] * Real(std::log(10.0) / 20));
    const ad::Var ir = ir_raw * (wet_gain / ad::sqrt(energy));
    return dry + ad::fft_convolve(dry, ir);
}

std::unique_ptr<Synth> make_ddsp_synth() { return std::make_unique<DdspSynth>(); }

}  // namespace ddsp::synth
