// RealFft against a direct DFT computed in double, and the properties the STFT loss relies on:
// exact inversion, linearity, Parseval, plan reuse and copies, any pointer alignment.
#include <doctest/doctest.h>

#include "dsp/fft.h"

#include <cmath>
#include <complex>
#include <limits>
#include <random>
#include <vector>

using namespace ddsp;

namespace {

using CD = std::complex<double>;

std::vector<int> all_sizes() {
    std::vector<int> sizes;
    for (int n = 2; n <= 8192; n *= 2) sizes.push_back(n);
    return sizes;
}

// Compensated (Kahan) complex sum, so the reference stays far more accurate than a double-precision
// FFT even at n = 8192.
struct KahanSum {
    CD sum = 0, carry = 0;
    void add(CD v) {
        const CD y = v - carry;
        const CD t = sum + y;
        carry = (t - sum) - y;
        sum = t;
    }
};

// Direct DFT in double with an exact table of exp(-2 pi i j / n) indexed by (k t) mod n.
struct DirectDft {
    int n;
    std::vector<CD> w;
    explicit DirectDft(int size) : n(size), w(size_t(size)) {
        for (int j = 0; j < n; ++j) w[j] = std::polar(1.0, -2.0 * kPi * j / n);
    }
    // Bins 0..n/2 of a real signal.
    std::vector<CD> forward(const std::vector<Real>& x) const {
        std::vector<CD> out(static_cast<size_t>(n / 2 + 1));
        for (int k = 0; k <= n / 2; ++k) {
            KahanSum acc;
            int idx = 0;
            for (int t = 0; t < n; ++t) {
                acc.add(double(x[t]) * w[size_t(idx)]);
                idx += k;
                if (idx >= n) idx -= n;
            }
            out[k] = acc.sum;
        }
        return out;
    }
    // (1/n) sum over the Hermitian extension of bins 0..n/2; imaginary parts of bins 0 and n/2
    // are dropped, as RealFft::inverse documents.
    std::vector<double> inverse(const std::vector<Complex>& spec) const {
        std::vector<CD> full(static_cast<size_t>(n));
        for (int k = 0; k <= n / 2; ++k) full[k] = CD(spec[k]);
        full[0] = CD(full[0].real(), 0);
        full[n / 2] = CD(full[n / 2].real(), 0);
        for (int k = n / 2 + 1; k < n; ++k) full[k] = std::conj(full[n - k]);
        std::vector<double> out(static_cast<size_t>(n));
        for (int t = 0; t < n; ++t) {
            KahanSum acc;
            int idx = 0;
            for (int k = 0; k < n; ++k) {
                acc.add(full[k] * std::conj(w[size_t(idx)]));
                idx += t;
                if (idx >= n) idx -= n;
            }
            out[t] = acc.sum.real() / n;
        }
        return out;
    }
};

std::vector<Real> random_signal(int n, std::mt19937& rng) {
    std::normal_distribution<double> normal;
    std::vector<Real> x(static_cast<size_t>(n));
    for (auto& v : x) v = Real(normal(rng));
    return x;
}

// Round-off of an FFT grows like eps * log2(n). The checks below use 1-2x this bound, which is
// ~3-10x above what this implementation reaches in float and in double (measured), while a wrong
// twiddle or index gives errors of order 1.
double tolerance(int n) {
    const double eps = double(std::numeric_limits<Real>::epsilon());
    return eps * (std::log2(double(n)) + 1.0);
}

double l2(const std::vector<CD>& v) {
    double s = 0;
    for (const CD& c : v) s += std::norm(c);
    return std::sqrt(s);
}

}  // namespace

TEST_CASE("forward matches a direct DFT for every power of two from 2 to 8192") {
    std::mt19937 rng(1);
    for (int n : all_sizes()) {
        CAPTURE(n);
        const DirectDft dft(n);
        dsp::RealFft fft(n);
        REQUIRE(fft.size() == n);
        REQUIRE(fft.num_bins() == n / 2 + 1);
        const std::vector<Real> x = random_signal(n, rng);
        std::vector<Complex> spec(size_t(fft.num_bins()));
        fft.forward(x.data(), spec.data());
        const std::vector<CD> ref = dft.forward(x);
        std::vector<CD> diff(ref.size());
        double max_bin_err = 0;
        for (size_t k = 0; k < ref.size(); ++k) {
            diff[k] = CD(spec[k]) - ref[k];
            max_bin_err = std::max(max_bin_err, std::abs(diff[k]));
        }
        // Relative L2 error over the half spectrum, and the worst single bin against the typical
        // bin magnitude sqrt(n) (unit-variance input).
        CHECK(l2(diff) / l2(ref) < tolerance(n));
        CHECK(max_bin_err / std::sqrt(double(n)) < 2 * tolerance(n));
        // DC and Nyquist bins of a real signal are real.
        CHECK(spec[0].imag() == 0);
        CHECK(spec[size_t(n / 2)].imag() == 0);
    }
}

TEST_CASE("inverse matches a direct inverse DFT and ignores the imaginary DC/Nyquist parts") {
    std::mt19937 rng(2);
    std::normal_distribution<double> normal;
    for (int n : all_sizes()) {
        CAPTURE(n);
        const DirectDft dft(n);
        dsp::RealFft fft(n);
        std::vector<Complex> spec(static_cast<size_t>(n / 2 + 1));
        for (auto& c : spec) c = Complex(Real(normal(rng)), Real(normal(rng)));
        const std::vector<Complex> spec_copy = spec;
        std::vector<Real> out(static_cast<size_t>(n));
        fft.inverse(spec.data(), out.data());
        CHECK(spec == spec_copy);  // input untouched
        const std::vector<double> ref = dft.inverse(spec);
        double err = 0, norm = 0;
        for (int t = 0; t < n; ++t) {
            err += (out[t] - ref[t]) * (out[t] - ref[t]);
            norm += ref[t] * ref[t];
        }
        CHECK(std::sqrt(err / norm) < tolerance(n));

        // Changing the imaginary parts of bins 0 and n/2 must not change the output at all.
        spec[0] = Complex(spec[0].real(), Real(123));
        spec[size_t(n / 2)] = Complex(spec[size_t(n / 2)].real(), Real(-77));
        std::vector<Real> out2(static_cast<size_t>(n));
        fft.inverse(spec.data(), out2.data());
        CHECK(out2 == out);
    }
}

TEST_CASE("inverse(forward(x)) == x") {
    std::mt19937 rng(3);
    for (int n : all_sizes()) {
        CAPTURE(n);
        dsp::RealFft fft(n);
        const std::vector<Real> x = random_signal(n, rng);
        std::vector<Complex> spec(size_t(fft.num_bins()));
        std::vector<Real> back(static_cast<size_t>(n));
        fft.forward(x.data(), spec.data());
        fft.inverse(spec.data(), back.data());
        double max_err = 0;
        for (int t = 0; t < n; ++t) max_err = std::max(max_err, double(std::abs(back[t] - x[t])));
        CHECK(max_err < 2 * tolerance(n));
    }
}

TEST_CASE("linearity and Parseval") {
    std::mt19937 rng(4);
    for (int n : all_sizes()) {
        CAPTURE(n);
        dsp::RealFft fft(n);
        const std::vector<Real> x = random_signal(n, rng);
        const std::vector<Real> y = random_signal(n, rng);
        const Real a = Real(0.75), b = Real(-1.5);
        std::vector<Real> z(static_cast<size_t>(n));
        for (int t = 0; t < n; ++t) z[t] = a * x[t] + b * y[t];
        const size_t nb = size_t(fft.num_bins());
        std::vector<Complex> fx(nb), fy(nb), fz(nb);
        fft.forward(x.data(), fx.data());
        fft.forward(y.data(), fy.data());
        fft.forward(z.data(), fz.data());
        std::vector<CD> diff(nb), ref(nb);
        for (size_t k = 0; k < nb; ++k) {
            ref[k] = double(a) * CD(fx[k]) + double(b) * CD(fy[k]);
            diff[k] = CD(fz[k]) - ref[k];
        }
        CHECK(l2(diff) / l2(ref) < 2 * tolerance(n));

        // Parseval: sum x^2 = (1/n) (|X0|^2 + |X_{n/2}|^2 + 2 sum_{0<k<n/2} |Xk|^2).
        double energy_t = 0, energy_f = 0;
        for (int t = 0; t < n; ++t) energy_t += double(x[t]) * x[t];
        for (size_t k = 0; k < nb; ++k) {
            const double w = (k == 0 || k == nb - 1) ? 1.0 : 2.0;
            energy_f += w * std::norm(CD(fx[k]));
        }
        energy_f /= n;
        CHECK(std::abs(energy_f - energy_t) / energy_t < 2 * tolerance(n));
    }
}

TEST_CASE("known spectra: impulse, constant, cosine on a bin") {
    for (int n : all_sizes()) {
        CAPTURE(n);
        dsp::RealFft fft(n);
        const size_t nb = size_t(fft.num_bins());
        std::vector<Complex> spec(nb);
        std::vector<Real> x(static_cast<size_t>(n), Real(0));
        const double tol = 2 * tolerance(n);

        // Delayed impulse: X[k] = exp(-2 pi i k t0 / n), magnitude exactly 1 in every bin.
        const int t0 = n > 2 ? 3 % n : 1;
        x[size_t(t0)] = 1;
        fft.forward(x.data(), spec.data());
        double err = 0;
        for (size_t k = 0; k < nb; ++k)
            err = std::max(err,
                           std::abs(CD(spec[k]) - std::polar(1.0, -2 * kPi * double((int(k) * t0) % n) / n)));
        CHECK(err < tol);

        // Constant: all energy in DC.
        std::fill(x.begin(), x.end(), Real(1));
        fft.forward(x.data(), spec.data());
        CHECK(std::abs(double(spec[0].real()) - n) < tol * n);
        double leak = 0;
        for (size_t k = 1; k < nb; ++k) leak = std::max(leak, double(std::abs(spec[k])));
        CHECK(leak < tol * n);

        // Cosine on bin k0: X[k0] = n/2 (n at Nyquist), nothing elsewhere.
        const int k0 = n / 4 > 0 ? n / 4 : 1;
        // Reduce the angle mod 2 pi exactly first: cos of a large argument is itself inexact.
        for (int t = 0; t < n; ++t) x[t] = Real(std::cos(2 * kPi * double((k0 * t) % n) / n));
        fft.forward(x.data(), spec.data());
        const double peak = (k0 == n / 2) ? n : n / 2.0;
        CHECK(std::abs(CD(spec[size_t(k0)]) - peak) < tol * n);
        leak = 0;
        for (size_t k = 0; k < nb; ++k)
            if (int(k) != k0) leak = std::max(leak, double(std::abs(spec[k])));
        CHECK(leak < tol * n);
    }
}

TEST_CASE("plans are reusable, copyable, and accept unaligned buffers") {
    std::mt19937 rng(5);
    for (int n : {2, 4, 8, 16, 64, 128, 1024, 2048}) {
        CAPTURE(n);
        dsp::RealFft fft(n);
        const size_t nb = size_t(fft.num_bins());
        const std::vector<Real> x = random_signal(n, rng);
        std::vector<Complex> ref(nb);
        fft.forward(x.data(), ref.data());

        // Interleave transforms of other sizes and repeat: results are bit-identical, so no
        // state leaks from one call to the next.
        dsp::RealFft other(n * 2);
        std::vector<Real> junk = random_signal(n * 2, rng);
        std::vector<Complex> junk_spec(size_t(other.num_bins()));
        other.forward(junk.data(), junk_spec.data());
        std::vector<Complex> again(nb);
        fft.inverse(ref.data(), junk.data());
        fft.forward(x.data(), again.data());
        CHECK(again == ref);

        // A copy (and a copy of a copy whose source is gone) computes the same thing.
        dsp::RealFft copy = [&] {
            dsp::RealFft tmp(fft);
            return tmp;
        }();
        std::vector<Complex> from_copy(nb);
        copy.forward(x.data(), from_copy.data());
        CHECK(from_copy == ref);

        // Odd offsets: input one Real past an aligned start, output one Complex past it.
        std::vector<Real> xin(size_t(n) + 1);
        std::copy(x.begin(), x.end(), xin.begin() + 1);
        std::vector<Complex> spec_off(nb + 1);
        fft.forward(xin.data() + 1, spec_off.data() + 1);
        for (size_t k = 0; k < nb; ++k) CHECK(spec_off[k + 1] == ref[k]);
        std::vector<Real> back_off(static_cast<size_t>(n) + 1), back(static_cast<size_t>(n));
        fft.inverse(spec_off.data() + 1, back_off.data() + 1);
        fft.inverse(ref.data(), back.data());
        for (int t = 0; t < n; ++t) CHECK(back_off[size_t(t) + 1] == back[size_t(t)]);
    }
}
