#include <doctest/doctest.h>

#include "dsp/fft.h"

#include <cmath>
#include <random>

using namespace ddsp;

TEST_CASE("real FFT matches a direct DFT and inverts exactly") {
    std::mt19937 rng(1);
    std::normal_distribution<double> normal;
    for (int n : {2, 4, 8, 64, 512, 4096}) {
        std::vector<Real> x(n), back(n);
        for (auto& v : x) v = Real(normal(rng));
        dsp::RealFft fft(n);
        std::vector<Complex> spec(fft.num_bins());
        fft.forward(x.data(), spec.data());
        double max_err = 0, scale = 0;
        for (int k = 0; k <= n / 2; ++k) {
            std::complex<double> ref = 0;
            for (int t = 0; t < n; ++t) ref += double(x[t]) * std::polar(1.0, -2 * kPi * k * t / n);
            max_err = std::max(max_err, std::abs(ref - std::complex<double>(spec[k])));
            scale = std::max(scale, std::abs(ref));
        }
        CHECK(max_err / scale < 1e-5);
        fft.inverse(spec.data(), back.data());
        for (int t = 0; t < n; ++t) CHECK(std::abs(back[t] - x[t]) < 1e-5);
    }
}
