#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "dsp/resample.h"

using namespace ddsp;

namespace {

Vec sine(double f_hz, double sr_hz, int n, double amp, double phase) {
    Vec x(n);
    for (int i = 0; i < n; ++i) x[i] = Real(amp * std::sin(2 * kPi * f_hz * i / sr_hz + phase));
    return x;
}

// Least-squares fit y[m] ~ a sin(w m) + b cos(w m) over [lo, hi), w = 2 pi f / sr.
struct Fit {
    double amp = 0, phase = 0, residual_rms = 0;
};
Fit fit_sine(const Vec& y, double f_hz, double sr_hz, int lo, int hi) {
    double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
    const double w = 2 * kPi * f_hz / sr_hz;
    for (int m = lo; m < hi; ++m) {
        const double s = std::sin(w * m), c = std::cos(w * m), v = y[m];
        ss += s * s, cc += c * c, sc += s * c, ys += v * s, yc += v * c;
    }
    const double det = ss * cc - sc * sc;
    const double a = (ys * cc - yc * sc) / det, b = (yc * ss - ys * sc) / det;
    double r2 = 0;
    for (int m = lo; m < hi; ++m) {
        const double e = y[m] - (a * std::sin(w * m) + b * std::cos(w * m));
        r2 += e * e;
    }
    // a sin + b cos = amp sin(w m + phase)
    return {std::hypot(a, b), std::atan2(b, a), std::sqrt(r2 / (hi - lo))};
}

double rms(const Vec& y, int lo, int hi) {
    double s = 0;
    for (int m = lo; m < hi; ++m) s += double(y[m]) * y[m];
    return std::sqrt(s / (hi - lo));
}

// Largest |v[i]| (a plain loop: Eigen's AVX-512 maxCoeff trips a GCC 12 -Wmaybe-uninitialized).
double max_abs(const Vec& v) {
    double m = 0;
    for (Eigen::Index i = 0; i < v.size(); ++i) m = std::max(m, std::abs(double(v[i])));
    return m;
}

double db(double ratio) {
    return 20 * std::log10(ratio);
}

}  // namespace

TEST_CASE("output length is round(n * to / from)") {
    struct Case {
        long long n;
        double from, to;
    };
    for (const Case& c : {Case{44100, 44100, 16000}, Case{1000, 44100, 16000}, Case{1, 44100, 16000},
                          Case{7, 8000, 16000}, Case{12345, 192000, 16000}, Case{999, 48000, 44100},
                          Case{1001, 44100.5, 16000}, Case{31, 16000, 22050}, Case{5, 3, 2}}) {
        const long long expect = std::llround(double(c.n) * c.to / c.from);
        CHECK(dsp::resample_length(c.n, c.from, c.to) == expect);
        Vec x = Vec::Zero(Eigen::Index(c.n));
        CHECK(dsp::resample(x, c.from, c.to).size() == expect);
    }
    // Exact rounding where doubles could be off: 5 * 2 / 4 = 2.5 rounds up.
    CHECK(dsp::resample_length(5, 4, 2) == 3);
    CHECK(dsp::resample(Vec(), 44100, 16000).size() == 0);
}

TEST_CASE("identity ratio returns the input unchanged") {
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(-1, 1);
    Vec x(1000);
    for (auto& v : x) v = Real(u(rng));
    const Vec y = dsp::resample(x, 16000, 16000);
    REQUIRE(y.size() == x.size());
    CHECK((y == x).all());
}

TEST_CASE("a 1 kHz sine keeps its frequency, amplitude and phase") {
    // Rational ratios take the polyphase path; 44101 -> 16000 (16000 phases) and 44100.5 take the
    // interpolated-kernel path. Both must be equally accurate.
    const double rates[][2] = {{44100, 16000}, {8000, 16000},  {192000, 16000}, {48000, 44100},
                               {16000, 22050}, {22050, 16000}, {44101, 16000},  {44100.5, 16000},
                               {16000, 96000}, {11025, 16000}};
    const double amp = 0.5, phase = 0.3;
    for (const auto& r : rates) {
        CAPTURE(r[0]);
        CAPTURE(r[1]);
        const Vec x = sine(1000, r[0], int(0.5 * r[0]), amp, phase);
        const Vec y = dsp::resample(x, r[0], r[1]);
        const int n = int(y.size()), lo = n / 5, hi = n - n / 5;  // skip the filter's edge ramps
        const Fit f = fit_sine(y, 1000, r[1], lo, hi);
        CHECK(std::abs(db(f.amp / amp)) < 0.1);
        CHECK(std::abs(db(f.amp / amp)) < 0.01);  // the design's ripple is ~0.001 dB
        CHECK(std::abs(f.phase - phase) < 1e-3);  // no delay: output m sits at input time m*from/to
        // Whatever is left (a wrong frequency, aliases, images, noise) is 60 dB down.
        CHECK(db(f.residual_rms / amp) < -60);
    }
}

TEST_CASE("passband edge tone is kept within 0.1 dB") {
    const double amp = 0.5;
    const Vec x = sine(7000, 44100, 22050, amp, 0.0);  // 0.875 of the 8 kHz output Nyquist
    const Vec y = dsp::resample(x, 44100, 16000);
    const int n = int(y.size());
    const Fit f = fit_sine(y, 7000, 16000, n / 5, n - n / 5);
    CHECK(std::abs(db(f.amp / amp)) < 0.1);
}

TEST_CASE("tones above the new Nyquist are attenuated by more than 60 dB") {
    struct Case {
        double from, to, f;
    };
    for (const Case& c : {Case{44100, 16000, 8000}, Case{44100, 16000, 8300}, Case{44100, 16000, 9000},
                          Case{44100, 16000, 15000}, Case{44100, 16000, 21000}, Case{192000, 16000, 8100},
                          Case{192000, 16000, 40000}, Case{48000, 16000, 12345}, Case{44100.5, 16000, 9000},
                          Case{44101, 16000, 10000}}) {
        CAPTURE(c.from);
        CAPTURE(c.f);
        const double amp = 0.9;
        const Vec x = sine(c.f, c.from, int(0.25 * c.from), amp, 0.1);
        const Vec y = dsp::resample(x, c.from, c.to);
        const int n = int(y.size());
        const double out_rms = rms(y, n / 5, n - n / 5), in_rms = amp / std::sqrt(2.0);
        CHECK(db(out_rms / in_rms) < -60);
    }
}

TEST_CASE("upsampling creates no images") {
    // 1 kHz at 8 kHz upsampled to 16 kHz: the image would be at 7 kHz.
    const double amp = 0.8;
    const Vec x = sine(1000, 8000, 4000, amp, 0.0);
    const Vec y = dsp::resample(x, 8000, 16000);
    const int n = int(y.size());
    CHECK(db(fit_sine(y, 7000, 16000, n / 5, n - n / 5).amp / amp) < -60);
    CHECK(db(fit_sine(y, 9000, 16000, n / 5, n - n / 5).amp / amp) < -60);
}

TEST_CASE("DC passes with unit gain and the result is deterministic") {
    const Vec x = Vec::Constant(20000, Real(0.25));
    for (double to : {16000.0, 22050.0, 96000.0, 12345.6}) {
        CAPTURE(to);
        const Vec y = dsp::resample(x, 44100, to);
        const int n = int(y.size());
        for (int m = n / 5; m < n - n / 5; ++m) REQUIRE(std::abs(y[m] - 0.25) < 1e-4);
        const Vec y2 = dsp::resample(x, 44100, to);
        CHECK((y == y2).all());
    }
}

TEST_CASE("extreme ratios stay bounded and finite") {
    const Vec x = sine(3, 1000, 1000, 0.5, 0.0);
    Vec y;
    std::string err;
    REQUIRE(dsp::resample(x, 1000, 1, y, err));
    CHECK(y.size() == 1);
    CHECK(y.allFinite());
    REQUIRE(dsp::resample(x, 1000, 100000, y, err));
    CHECK(y.size() == 100000);
    CHECK(y.allFinite());
    CHECK(max_abs(y) < 0.6);
}

TEST_CASE("invalid arguments fail with a one-line error") {
    const Vec x = Vec::Zero(100);
    Vec y;
    std::string err;
    for (double bad : {0.0, -16000.0, std::nan(""), double(INFINITY), 1e12}) {
        CHECK_FALSE(dsp::resample(x, bad, 16000, y, err));
        CHECK(!err.empty());
        CHECK(err.find('\n') == std::string::npos);
        CHECK_FALSE(dsp::resample(x, 16000, bad, y, err));
        CHECK(!err.empty());
    }
    dsp::ResampleParams p;
    p.passband = 1.0;
    CHECK_FALSE(dsp::resample(x, 44100, 16000, y, err, p));
    p = {};
    p.stopband_db = 5;
    CHECK_FALSE(dsp::resample(x, 44100, 16000, y, err, p));
    CHECK(dsp::resample(x, 0, 16000).size() == 0);
}
