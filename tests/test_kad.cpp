// The kernel audio distance (dsp/kad.h): an unbiased estimator (zero in expectation for two draws of
// one distribution), growing with a shift, refusing bad sets; and the MFCC-statistics embedding.
#include <doctest/doctest.h>

#include "dsp/kad.h"
#include "dsp/rng.h"

#include <cmath>
#include <vector>

using namespace ddsp;

namespace {

// n points of a d-dimensional Gaussian (unit variance) shifted by `shift` along every axis.
Mat draw(dsp::Rng& rng, int n, int d, double shift) {
    Mat x(n, d);
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < d; ++k) x(i, k) = Real(rng.normal() + shift);
    return x;
}

// Mean and standard error of KAD over `trials` pairs of sets.
void kad_stats(double shift, int trials, double& mean, double& se) {
    dsp::Rng rng(11);
    std::vector<double> v;
    for (int t = 0; t < trials; ++t) {
        dsp::KadResult r;
        std::string error;
        REQUIRE(dsp::kad(draw(rng, 30, 8, 0), draw(rng, 30, 8, shift), 0, r, error));
        v.push_back(r.kad);
    }
    mean = 0;
    for (double x : v) mean += x / trials;
    double var = 0;
    for (double x : v) var += (x - mean) * (x - mean) / (trials - 1);
    se = std::sqrt(var / trials);
}

}  // namespace

TEST_CASE("KAD is zero in expectation for one distribution and grows with a shift") {
    double m0, se0, m1, se1, m2, se2;
    kad_stats(0.0, 200, m0, se0);
    kad_stats(0.3, 200, m1, se1);
    kad_stats(0.8, 200, m2, se2);
    MESSAGE("KAD x1000: same distribution " << m0 << " +- " << se0 << ", shift 0.3 " << m1 << " +- " << se1
                                            << ", shift 0.8 " << m2 << " +- " << se2);
    CHECK(std::fabs(m0) < 3.5 * se0);  // unbiased: no offset beyond the noise
    CHECK(m1 > m0 + 5 * std::max(se0, se1));
    CHECK(m2 > m1 + 5 * std::max(se1, se2));
    // A biased (V-statistic) estimator would sit well above zero for one distribution: check the
    // estimate can go negative, as an unbiased one must.
    dsp::Rng rng(3);
    int negative = 0;
    for (int t = 0; t < 50; ++t) {
        dsp::KadResult r;
        std::string error;
        REQUIRE(dsp::kad(draw(rng, 20, 4, 0), draw(rng, 20, 4, 0), 0, r, error));
        negative += r.mmd2 < 0;
    }
    CHECK(negative > 5);
}

TEST_CASE("KAD: the bandwidth is the reference set's median distance; bad sets are refused") {
    Mat a(3, 1), b(2, 1);
    a << 0, 1, 3;  // distances 1, 2, 3: median 2
    b << 0, 1;
    CHECK(dsp::median_pairwise_distance(a) == doctest::Approx(2.0));
    dsp::KadResult r;
    std::string error;
    REQUIRE(dsp::kad(a, b, 0, r, error));
    CHECK(r.bandwidth == doctest::Approx(2.0));
    CHECK(r.kad == doctest::Approx(1000 * r.mmd2));
    CHECK_FALSE(dsp::kad(a.topRows(1), b, 0, r, error));
    CHECK(error.find("at least 2") != std::string::npos);
    CHECK_FALSE(dsp::kad(a, Mat::Zero(2, 2), 0, r, error));
    Mat nan = b;
    nan(0, 0) = Real(NAN);
    CHECK_FALSE(dsp::kad(a, nan, 0, r, error));
}

TEST_CASE("MFCC statistics tell a tone from noise and one tone from another, and refuse a too-short clip") {
    const double sr = 22050;
    auto tone = [&](double f0, double noise, uint64_t seed) {
        dsp::Rng rng(seed);
        Vec x(int(0.5 * sr));
        for (int i = 0; i < x.size(); ++i) {
            double v = 0;
            for (int k = 1; k <= 6; ++k) v += std::sin(2 * kPi * k * f0 * i / sr) / k;
            x[i] = Real(0.3 * v + noise * rng.normal());
        }
        return x;
    };
    Vec e1, e2, e3, e4;
    std::string error;
    REQUIRE(dsp::mfcc_embedding(tone(220, 0.001, 1), sr, e1, error));
    REQUIRE(dsp::mfcc_embedding(tone(220, 0.001, 2), sr, e2, error));
    REQUIRE(dsp::mfcc_embedding(tone(880, 0.001, 3), sr, e3, error));
    REQUIRE(dsp::mfcc_embedding(tone(220, 0.5, 4), sr, e4, error));
    CHECK(e1.size() == 40);
    auto dist = [](const Vec& a, const Vec& b) { return double((a - b).matrix().norm()); };
    const double same = dist(e1, e2), pitch = dist(e1, e3), noise = dist(e1, e4);
    MESSAGE("MFCC embedding distances: same tone " << same << ", two octaves up " << pitch << ", noisy " << noise);
    CHECK(same < 0.2 * pitch);
    CHECK(same < 0.2 * noise);
    Vec tiny = Vec::Zero(10);
    CHECK_FALSE(dsp::mfcc_embedding(tiny, sr, e1, error));
}
