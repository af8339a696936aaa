#include "ad/ops_signal.h"

#include "dsp/fft.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace ddsp::ad {

namespace {

// [SECTION] FFT convolution

class FftConvolveNode final : public Node {
public:
    FftConvolveNode(int n, int k) : n_(n), k_(k), size_(dsp::next_power_of_two(std::max(2, n + k - 1))) {}
    const char* op_name() const override { return "fft_convolve"; }
    void adopt(Node& old) override {
        auto& o = static_cast<FftConvolveNode&>(old);
        fft_.swap(o.fft_);
        for (auto [a, b] : {std::pair{&xs_, &o.xs_}, {&hs_, &o.hs_}, {&gs_, &o.gs_}, {&prod_, &o.prod_}}) a->swap(*b);
        buf_.swap(o.buf_);
    }

    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        const Arr& h = t.value(inputs[1]);
        // Sized here, not in the constructor, so that adopted workspaces are reused.
        if (!fft_ || fft_->size() != size_) fft_ = std::make_unique<dsp::RealFft>(size_);
        const size_t bins = size_t(fft_->num_bins());
        buf_.resize(size_t(size_));
        xs_.resize(bins);
        hs_.resize(bins);
        gs_.resize(bins);
        prod_.resize(bins);
        value.resize(n_, 1);
        transform(x.data(), n_, xs_);
        transform(h.data(), k_, hs_);
        for (size_t b = 0; b < bins; ++b) gs_[b] = xs_[b] * hs_[b];
        fft_->inverse(gs_.data(), buf_.data());
        std::copy(buf_.begin(), buf_.begin() + n_, value.data());
    }

    // Both gradients are correlations with the output gradient: IFFT(G conj(H)) and IFFT(G conj(X)).
    // The FFT size >= n + K - 1 keeps the circular wrap-around out of the rows we read.
    void backward(Tape& t) override {
        transform(grad.data(), n_, gs_);
        if (t.requires_grad(inputs[0])) correlate_into(hs_, t.grad_mutable(inputs[0]).data(), n_);
        if (t.requires_grad(inputs[1])) correlate_into(xs_, t.grad_mutable(inputs[1]).data(), k_);
    }

private:
    int n_, k_, size_;
    std::unique_ptr<dsp::RealFft> fft_;  // a plan of size_ (twiddles: worth keeping across rebuilds)
    std::vector<Real> buf_;
    std::vector<Complex> xs_, hs_, gs_, prod_;

    void transform(const Real* src, int len, std::vector<Complex>& out) {
        std::copy(src, src + len, buf_.begin());
        std::fill(buf_.begin() + len, buf_.end(), Real(0));
        fft_->forward(buf_.data(), out.data());
    }
    void correlate_into(const std::vector<Complex>& other, Real* acc, int len) {
        for (size_t b = 0; b < gs_.size(); ++b) prod_[b] = gs_[b] * std::conj(other[b]);
        fft_->inverse(prod_.data(), buf_.data());
        for (int i = 0; i < len; ++i) acc[i] += buf_[size_t(i)];
    }
};

// [SECTION] STFT magnitude

// The adjoint of dsp::stft_frame: adds frame f (fft_size samples), windowed, into the gradient of
// the signal (n samples), skipping the zero padding outside [0, n).
void overlap_add_windowed(const Real* frame, const Vec& window, int n, int f, const dsp::StftConfig& cfg, Real* gx) {
    const int size = cfg.fft_size;
    const int start = f * cfg.hop - size / 2;
    const int i0 = std::clamp(-start, 0, size), i1 = std::clamp(n - start, i0, size);
    Real* out = gx + start;
    const Real* w = window.data();
    for (int i = i0; i < i1; ++i) out[i] += frame[i] * w[i];
}

// x[i] = scale * sqrt(x[i]), correctly rounded. g++ keeps std::sqrt scalar (it must set errno
// for negative inputs), and Eigen's vectorised float sqrt is an approximation (rsqrt + one
// Newton step, ~1 ulp off) whose differences change where gradient descent ends on rugged
// losses, so x86 uses the exact vector instruction directly. (clang, as in the wasm build,
// vectorises the plain loop.)
template <class T>
void sqrt_scaled(T* x, int n, T scale) {
    int i = 0;
#if defined(__AVX__)
    if constexpr (std::is_same_v<T, float>) {  // a template, so the double build discards this
        const __m256 s = _mm256_set1_ps(scale);
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(s, _mm256_sqrt_ps(_mm256_loadu_ps(x + i))));
    }
#endif
    for (; i < n; ++i) x[i] = scale * std::sqrt(x[i]);
}

class StftMagnitudeNode final : public Node {
public:
    StftMagnitudeNode(int n, const dsp::StftConfig& cfg, Real scale) : n_(n), cfg_(cfg), scale_(scale) {
        frames_ = dsp::stft_num_frames(n, cfg);
        bins_ = dsp::stft_num_bins(cfg);
    }
    const char* op_name() const override { return "stft_magnitude"; }
    void adopt(Node& old) override {
        auto& o = static_cast<StftMagnitudeNode&>(old);
        fft_.swap(o.fft_);
        if (o.cfg_.fft_size == cfg_.fft_size && o.cfg_.win_length == cfg_.win_length) window_.swap(o.window_);
        spectrum_.swap(o.spectrum_);
        frame_.swap(o.frame_);
        gspec_.swap(o.gspec_);
    }

    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        // Sized here, not in the constructor, so that adopted workspaces are reused.
        if (!fft_ || fft_->size() != cfg_.fft_size) fft_ = std::make_unique<dsp::RealFft>(cfg_.fft_size);
        if (window_.size() != cfg_.fft_size) window_ = dsp::stft_window(cfg_);
        spectrum_.resize(bins_, frames_);
        frame_.resize(size_t(cfg_.fft_size));
        gspec_.resize(size_t(bins_));
        value.resize(bins_, frames_);
        for (int f = 0; f < frames_; ++f) {
            dsp::stft_frame(x.data(), n_, f, cfg_, window_, frame_.data());
            Complex* spec = &spectrum_(0, f);
            fft_->forward(frame_.data(), spec);
            Real* mag = &value(0, f);
            // sqrt(re^2 + im^2), not std::abs: hypot's overflow care costs several times more
            // and cannot matter here (|X| <= fft_size for samples in [-1, 1]). Plain reals so the
            // loop vectorises (the square roots get their own pass, see sqrt_scaled).
            const Real* ri = reinterpret_cast<const Real*>(spec);
            for (int b = 0; b < bins_; ++b) mag[b] = ri[2 * b] * ri[2 * b] + ri[2 * b + 1] * ri[2 * b + 1];
            sqrt_scaled(mag, bins_, scale_);
        }
    }

    // d|X_k|/dz_t = Re(conj(X_k)/|X_k| e^{-2 pi i k t/N}), so dz = Re(sum_k G_k e^{+2 pi i k t/N}) with
    // G_k = g_k X_k/|X_k| over bins 0..N/2. That sum is N * inverse(G') where G' halves the bins
    // that appear twice in the Hermitian spectrum (all but DC and Nyquist).
    void backward(Tape& t) override {
        Arr& gx = t.grad_mutable(inputs[0]);
        const int size = cfg_.fft_size;
        const Real n_fft = Real(size);
        for (int f = 0; f < frames_; ++f) {
            const Complex* spec = &spectrum_(0, f);
            const Real* g = &grad(0, f);
            const Real* mag = &value(0, f);
            // G_k = g_k X_k / |X_k| times the Hermitian weight, as plain reals so it vectorises.
            const Real* ri = reinterpret_cast<const Real*>(spec);
            Real* go = reinterpret_cast<Real*>(gspec_.data());
            const Real k = scale_ * scale_ * n_fft * Real(0.5);
            for (int b = 0; b < bins_; ++b) {
                const Real m = mag[b];
                // Arithmetic on the comparison instead of a branch (0 where m = 0, without
                // dividing by 0), so the loop vectorises.
                const Real nonzero = Real(m > 0);
                const Real factor = g[b] * k * nonzero / (m + (Real(1) - nonzero));
                go[2 * b] = ri[2 * b] * factor;
                go[2 * b + 1] = ri[2 * b + 1] * factor;
            }
            // DC and Nyquist appear once in the Hermitian spectrum, not twice.
            gspec_[0] *= Real(2);
            gspec_[size_t(bins_ - 1)] *= Real(2);
            fft_->inverse(gspec_.data(), frame_.data());
            overlap_add_windowed(frame_.data(), window_, n_, f, cfg_, gx.data());
        }
    }

private:
    int n_;
    dsp::StftConfig cfg_;
    Real scale_;
    std::unique_ptr<dsp::RealFft> fft_;
    Vec window_;
    int frames_ = 0, bins_ = 0;
    Eigen::Array<Complex, Eigen::Dynamic, Eigen::Dynamic> spectrum_;
    std::vector<Real> frame_;
    std::vector<Complex> gspec_;
};

// [SECTION] all-pole filter

class AllpoleNode final : public Node {
public:
    explicit AllpoleNode(std::vector<int> lags) : lags_(std::move(lags)) {}
    const char* op_name() const override { return "allpole"; }
    void adopt(Node& old) override { gtilde_.swap(static_cast<AllpoleNode&>(old).gtilde_); }

    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        const Arr& a = t.value(inputs[1]);
        const int n = int(x.rows()), k = int(lags_.size());
        value.resize(n, 1);
        Real* y = value.data();
        for (int s = 0; s < n; ++s) {
            Real acc = x(s, 0);
            for (int i = 0; i < k; ++i) {
                const int past = s - lags_[size_t(i)];
                if (past >= 0) acc -= a(s, i) * y[past];
            }
            y[s] = acc;
        }
    }

    void backward(Tape& t) override {
        const Arr& a = t.value(inputs[1]);
        const int n = int(value.rows()), k = int(lags_.size());
        const Real* g = grad.data();
        gtilde_.resize(size_t(n));
        Real* gt = gtilde_.data();
        for (int s = n - 1; s >= 0; --s) {
            Real acc = g[s];
            for (int i = 0; i < k; ++i) {
                const int future = s + lags_[size_t(i)];
                if (future < n) acc -= a(future, i) * gt[future];
            }
            gt[s] = acc;
        }
        if (t.requires_grad(inputs[0])) {
            bool fresh = false;
            Real* gx = t.grad_accumulator(inputs[0], fresh).data();
            if (fresh) {
                std::copy(gt, gt + n, gx);
            } else {
                for (int s = 0; s < n; ++s) gx[s] += gt[s];
            }
        }
        if (t.requires_grad(inputs[1])) {
            Arr& ga = t.grad_mutable(inputs[1]);
            const Real* y = value.data();
            for (int i = 0; i < k; ++i) {
                const int lag = lags_[size_t(i)];
                for (int s = lag; s < n; ++s) ga(s, i) -= gt[s] * y[s - lag];
            }
        }
    }

private:
    std::vector<int> lags_;
    std::vector<Real> gtilde_;
};

}  // namespace

Var fft_convolve(Var x, Var h) {
    Tape& t = same_tape(x, h);
    if (x.cols() != 1 || h.cols() != 1 || x.rows() < 1 || h.rows() < 1)
        graph_error("fft_convolve: x and h must be non-empty columns");
    auto n = std::make_unique<FftConvolveNode>(x.rows(), h.rows());
    n->inputs = {x.id, h.id};
    return t.push(std::move(n));
}

Var stft_magnitude(Var x, const dsp::StftConfig& cfg, Real scale) {
    if (!x.valid() || x.cols() != 1) graph_error("stft_magnitude: x must be a column");
    if (!dsp::is_power_of_two(cfg.fft_size) || cfg.fft_size < 2 || cfg.hop < 1 ||
        dsp::stft_win_length(cfg) > cfg.fft_size)
        graph_error("stft_magnitude: fft_size must be a power of two >= win_length, hop >= 1");
    if (!(scale > 0)) graph_error("stft_magnitude: scale must be > 0");
    auto n = std::make_unique<StftMagnitudeNode>(x.rows(), cfg, scale);
    n->inputs = {x.id};
    return x.tape->push(std::move(n));
}

Var allpole(Var x, Var A, const std::vector<int>& lags) {
    Tape& t = same_tape(x, A);
    if (x.cols() != 1) graph_error("allpole: x must be a column");
    if (A.rows() != x.rows() || A.cols() != int(lags.size()))
        graph_error("allpole: A must be (n x lags) = (" + std::to_string(x.rows()) + " x " +
                    std::to_string(lags.size()) + ")");
    for (size_t i = 0; i < lags.size(); ++i) {
        if (lags[i] < 1) graph_error("allpole: lags must be >= 1");
        for (size_t j = 0; j < i; ++j)
            if (lags[i] == lags[j]) graph_error("allpole: lags must be distinct");
    }
    auto n = std::make_unique<AllpoleNode>(lags);
    n->inputs = {x.id, A.id};
    return t.push(std::move(n));
}

}  // namespace ddsp::ad
