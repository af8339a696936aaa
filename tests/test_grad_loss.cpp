// The multi-resolution STFT loss end to end (STFT, weighting, gain invariance, log floor) against
// central differences in double precision.
#include <doctest/doctest.h>

#include "ad/gradcheck.h"
#include "match/feature_loss.h"
#include "match/loss.h"

#include <cmath>
#include <random>

using namespace ddsp;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

namespace {

Vec noise(int n, unsigned seed, double amp) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> d(0, amp);
    Vec v(n);
    for (int i = 0; i < n; ++i) v[i] = d(rng);
    return v;
}

Vec decaying_tone(int n, double f_hz, double sr, double decay_s, double amp) {
    Vec v(n);
    for (int i = 0; i < n; ++i)
        v[i] = amp * std::exp(-i / (sr * decay_s)) * (std::sin(2 * kPi * f_hz * i / sr) + 0.3 * std::sin(4 * kPi * f_hz * i / sr));
    return v;
}

void check_loss_gradient(const match::MrStftParams& params, const Vec& x0, const Vec& target) {
    ad::Tape tape;
    ad::Var x = tape.variable(x0);
    match::MrStftLoss loss(x, target, params);
    ad::GradCheckParams gp;
    gp.eps = 1e-7;
    gp.rtol = 1e-4;
    gp.atol = 1e-7 * std::max(1.0, double(x0.abs().maxCoeff()));
    gp.max_elements = 400;
    const ad::GradCheckResult r = ad::check_gradients(tape, loss.loss(), {x}, gp);
    INFO(r.worst, " max rel ", r.max_rel_error);
    CHECK(r.ok);
    CHECK(r.checked >= 300);
}

}  // namespace

TEST_CASE("DDSP multi-resolution STFT loss gradient") {
    match::MrStftParams p = match::MrStftParams::ddsp();
    p.fft_sizes = {256, 128, 64};  // the same code path as 2048..64, sized for a fast test
    p.convergence_weight = 0.5;
    const int n = 800;
    check_loss_gradient(p, decaying_tone(n, 700, 16000, 0.02, 0.5) + noise(n, 1, 0.01),
                        decaying_tone(n, 523, 16000, 0.03, 0.4) + noise(n, 2, 0.01));
}

TEST_CASE("DDSP loss with A-weighting (no gain invariance)") {
    match::MrStftParams p = match::MrStftParams::ddsp();
    p.fft_sizes = {256, 128, 64};
    p.a_weighting = true;
    const int n = 700;
    check_loss_gradient(p, decaying_tone(n, 900, 16000, 0.02, 0.5) + noise(n, 6, 0.01),
                        decaying_tone(n, 600, 16000, 0.03, 0.4) + noise(n, 7, 0.01));
}

TEST_CASE("A-weighted gain-invariant loss gradient (differentiable Karplus-Strong variant)") {
    match::MrStftParams p = match::MrStftParams::diffks(16000);
    p.fft_sizes = {256, 512, 128};
    p.hops = {30, 60, 13};
    p.win_lengths = {150, 300, 60};
    const int n = 900;
    check_loss_gradient(p, decaying_tone(n, 330, 16000, 0.03, 0.2) + noise(n, 3, 0.01),
                        decaying_tone(n, 440, 16000, 0.02, 0.6) + noise(n, 4, 0.01));
}

TEST_CASE("raw-magnitude loss gradient (the PyTorch benchmark's definition)") {
    match::MrStftParams p = match::MrStftParams::ddsp();
    p.fft_sizes = {128, 64};
    p.normalize_by_window = false;
    const int n = 500;
    check_loss_gradient(p, noise(n, 5, 0.3), decaying_tone(n, 1000, 16000, 0.01, 0.5));
}

TEST_CASE("timbre-feature loss gradient (loudness, centroid, flatness, temporal centroid)") {
    match::FeatureLossParams p;
    p.fft_size = 128;
    p.hop = 32;
    const int n = 900;
    const Vec x0 = decaying_tone(n, 900, 16000, 0.02, 0.5) + noise(n, 8, 0.02);
    const Vec target = decaying_tone(n, 500, 16000, 0.03, 0.4) + noise(n, 9, 0.05);
    ad::Tape tape;
    ad::Var x = tape.variable(x0);
    match::FeatureLoss loss(x, target, p);
    ad::GradCheckParams gp;
    gp.eps = 1e-7;
    gp.rtol = 1e-4;
    gp.atol = 1e-7;
    gp.max_elements = 400;
    const ad::GradCheckResult r = ad::check_gradients(tape, loss.loss(), {x}, gp);
    INFO(r.worst, " max rel ", r.max_rel_error);
    CHECK(r.ok);
    CHECK(r.checked >= 300);
}
