// Real FFT through a half-size complex FFT (even samples in the real part, odd samples in the
// imaginary part) followed by a split step. The complex FFT is an iterative radix-2
// decimation-in-time transform with precomputed twiddles.
#include "dsp/fft.h"

#include <cassert>
#include <cmath>

namespace ddsp::dsp {

bool is_power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

int next_power_of_two(int n) {
    int p = 1;
    while (p < n) p <<= 1;
    return p;
}

RealFft::RealFft(int n) : n_(n), half_(n / 2) {
    assert(is_power_of_two(n) && n >= 2);
    twiddle_.resize(std::max(1, half_ / 2));
    for (int k = 0; k < half_ / 2; ++k) {
        const double a = -2.0 * kPi * k / half_;
        twiddle_[k] = Complex(Real(std::cos(a)), Real(std::sin(a)));
    }
    split_.resize(half_ + 1);
    for (int k = 0; k <= half_; ++k) {
        const double a = -2.0 * kPi * k / n_;
        split_[k] = Complex(Real(std::cos(a)), Real(std::sin(a)));
    }
    bitrev_.resize(half_);
    int bits = 0;
    while ((1 << bits) < half_) ++bits;
    for (int i = 0; i < half_; ++i) {
        int r = 0;
        for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
        bitrev_[i] = r;
    }
    work_.resize(half_ + 1);
}

void RealFft::complex_fft(Complex* data, bool inverse) {
    const int h = half_;
    for (int i = 0; i < h; ++i) {
        const int r = bitrev_[i];
        if (r > i) std::swap(data[i], data[r]);
    }
    for (int len = 2; len <= h; len <<= 1) {
        const int half_len = len / 2;
        const int step = h / len;
        for (int start = 0; start < h; start += len) {
            for (int j = 0; j < half_len; ++j) {
                Complex w = twiddle_[j * step];
                if (inverse) w = std::conj(w);
                const Complex a = data[start + j];
                const Complex b = data[start + j + half_len] * w;
                data[start + j] = a + b;
                data[start + j + half_len] = a - b;
            }
        }
    }
}

void RealFft::forward(const Real* in, Complex* out) {
    const int h = half_;
    Complex* z = work_.data();
    for (int m = 0; m < h; ++m) z[m] = Complex(in[2 * m], in[2 * m + 1]);
    complex_fft(z, false);
    out[0] = Complex(z[0].real() + z[0].imag(), 0);
    out[h] = Complex(z[0].real() - z[0].imag(), 0);
    for (int k = 1; k < h; ++k) {
        const Complex zk = z[k];
        const Complex zc = std::conj(z[h - k]);
        const Complex even = Real(0.5) * (zk + zc);
        const Complex odd = Complex(0, Real(-0.5)) * (zk - zc);
        out[k] = even + split_[k] * odd;
    }
}

void RealFft::inverse(const Complex* in, Real* out) {
    const int h = half_;
    Complex* z = work_.data();
    for (int k = 0; k < h; ++k) {
        const Complex xk = (k == 0) ? Complex(in[0].real(), 0) : in[k];
        const Complex xc = (k == 0) ? Complex(in[h].real(), 0) : std::conj(in[h - k]);
        const Complex even = Real(0.5) * (xk + xc);
        const Complex odd = Real(0.5) * (xk - xc) * std::conj(split_[k]);
        z[k] = even + Complex(0, 1) * odd;
    }
    complex_fft(z, true);
    const Real scale = Real(1) / Real(h);
    for (int m = 0; m < h; ++m) {
        out[2 * m] = z[m].real() * scale;
        out[2 * m + 1] = z[m].imag() * scale;
    }
}

}  // namespace ddsp::dsp
