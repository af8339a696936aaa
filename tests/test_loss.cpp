// The multi-resolution STFT loss in the float build users run: zero at the target, falls under
// gradient descent, invariances, and a gradient that is stable at the chosen log floor.
#include <doctest/doctest.h>

#include "ad/adam.h"
#include "match/feature_loss.h"
#include "match/loss.h"

#include <cmath>
#include <random>

using namespace ddsp;

namespace {

Vec decaying_tone(int n, double f_hz, double sr, double decay_s, double amp) {
    Vec v(n);
    for (int i = 0; i < n; ++i)
        v[i] = Real(amp * std::exp(-i / (sr * decay_s)) *
                    (std::sin(2 * kPi * f_hz * i / sr) + 0.5 * std::sin(4 * kPi * f_hz * i / sr)));
    return v;
}

Vec gradient_of(const Vec& x0, const Vec& target, const match::MrStftParams& p) {
    ad::Tape tape;
    ad::Var x = tape.variable(x0);
    match::MrStftLoss loss(x, target, p);
    tape.backward(loss.loss());
    return x.grad().col(0);
}

}  // namespace

TEST_CASE("the loss is zero at the target and positive elsewhere") {
    const Vec t = decaying_tone(8000, 220, 16000, 0.1, 0.5);
    CHECK(match::mrstft_distance(t, t) == doctest::Approx(0).epsilon(1e-6));
    CHECK(match::mrstft_distance(decaying_tone(8000, 230, 16000, 0.1, 0.5), t) > 0.1);
    // Farther in pitch is farther in loss (at least for these nearby pitches).
    CHECK(match::mrstft_distance(decaying_tone(8000, 260, 16000, 0.1, 0.5), t) >
          match::mrstft_distance(decaying_tone(8000, 225, 16000, 0.1, 0.5), t));
}

TEST_CASE("gradient descent on the waveform lowers the loss") {
    // Matching a raw waveform is the hardest case for a spectral loss (phase is free, every
    // sample is a parameter), so this only asks for steady progress; synth tests ask for more.
    const int n = 4000;
    const Vec target = decaying_tone(n, 440, 16000, 0.05, 0.5);
    ad::Tape tape;
    ad::Var x = tape.variable(decaying_tone(n, 300, 16000, 0.08, 0.3));
    match::MrStftLoss loss(x, target);
    ad::Adam adam({1e-4});
    adam.add(x);
    std::vector<double> history;
    for (int i = 0; i <= 200; ++i) {
        tape.forward();
        if (i % 50 == 0) history.push_back(loss.loss().item());
        tape.backward(loss.loss());
        CHECK(adam.step());
    }
    for (size_t i = 1; i < history.size(); ++i) CHECK(history[i] < history[i - 1]);
    CHECK(history.back() < 0.9 * history.front());
}

TEST_CASE("set_target re-targets the same graph") {
    const int n = 2000;
    const Vec a = decaying_tone(n, 440, 16000, 0.05, 0.5), b = decaying_tone(n, 600, 16000, 0.05, 0.5);
    ad::Tape tape;
    ad::Var x = tape.constant(a);
    match::MrStftLoss loss(x, b);
    const double ab = loss.loss().item();
    loss.set_target(a);
    tape.forward();
    CHECK(loss.loss().item() == doctest::Approx(0).epsilon(1e-6));
    loss.set_target(b);
    tape.forward();
    CHECK(loss.loss().item() == doctest::Approx(ab));
}

TEST_CASE("gain invariance ignores overall level; A-weighting ignores inaudible rumble") {
    const int n = 8000;
    const Vec t = decaying_tone(n, 330, 16000, 0.1, 0.5);
    match::MrStftParams inv = match::MrStftParams::diffks(16000);
    // Gain-invariant: a quieter copy is (nearly) a perfect match; the default loss disagrees.
    CHECK(match::mrstft_distance(Vec(t * Real(0.25)), t, inv) < 1e-3);
    CHECK(match::mrstft_distance(Vec(t * Real(0.25)), t) > 1.0);
    // A 20 Hz hum changes the A-weighted loss far less than the unweighted one.
    Vec hum = t;
    for (int i = 0; i < n; ++i) hum[i] += Real(0.2 * std::sin(2 * kPi * 20 * i / 16000.0));
    match::MrStftParams plain = inv;
    plain.a_weighting = false;
    CHECK(match::mrstft_distance(hum, t, inv) < 0.5 * match::mrstft_distance(hum, t, plain));
}

TEST_CASE("the log-magnitude gradient is stable at the chosen floor") {
    // A pluck that decays into near-silence (-140 dBFS noise), matched against another. A 1e-6
    // relative change of the signal must not move the gradient much (floor 1e-5 of full scale);
    // with DDSP's raw-magnitude floor of 1e-7 it moves by far more.
    const int n = 8000;
    std::mt19937 rng(7);
    std::normal_distribution<double> d(0, 1e-7);
    Vec x = decaying_tone(n, 220, 16000, 0.03, 0.5), t = decaying_tone(n, 247, 16000, 0.04, 0.5);
    for (int i = 0; i < n; ++i) {
        x[i] += Real(d(rng));
        t[i] += Real(d(rng));
    }
    const Vec x2 = x * Real(1 + 1e-6);
    auto relative_change = [&](const match::MrStftParams& p) {
        const Vec g1 = gradient_of(x, t, p), g2 = gradient_of(x2, t, p);
        return double((g1 - g2).matrix().norm() / g1.matrix().norm());
    };
    const double ours = relative_change(match::MrStftParams::ddsp());
    match::MrStftParams ddsp_floor = match::MrStftParams::ddsp();
    ddsp_floor.normalize_by_window = false;
    ddsp_floor.log_floor = 1e-7;
    const double theirs = relative_change(ddsp_floor);
    MESSAGE("relative gradient change, floor 1e-5 (ours): ", ours, "; raw 1e-7 (DDSP): ", theirs);
    CHECK(ours < 0.05);
    CHECK(theirs > 2 * ours);
}

// [SECTION] timbre-feature loss (808 paper)

namespace {

Vec white_noise(int n, unsigned seed, double amp) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> d(0, amp);
    Vec v(n);
    for (int i = 0; i < n; ++i) v[i] = Real(d(rng));
    return v;
}

struct MeasuredFeatures {
    double loudness_db, centroid_hz, flatness_db, temporal_centroid_s;
};

// Frame-averaged features of a signal over frames [first, last).
MeasuredFeatures measure(const Vec& x, int first, int last) {
    ad::Tape tape(ad::Tape::Mode::forward_only);
    match::FeatureLossParams p;
    const match::TimbreFeatures f = match::timbre_features(tape.constant(x), p);
    MeasuredFeatures m{};
    const int count = last - first;
    for (int i = first; i < last; ++i) {
        m.loudness_db += double(f.loudness_db.value()(0, i)) / count;
        m.centroid_hz += (1000 * std::exp2(double(f.centroid_oct.value()(0, i))) - 50) / count;
        m.flatness_db += double(f.flatness_db.value()(0, i)) / count;
    }
    m.temporal_centroid_s = double(f.temporal_centroid_s.item());
    return m;
}

}  // namespace

TEST_CASE("timbre features measure what they say") {
    const int n = 16000;
    Vec tone(n);
    for (int i = 0; i < n; ++i) tone[i] = Real(0.5 * std::sin(2 * kPi * 1000 * i / 16000.0));
    const MeasuredFeatures t = measure(tone, 8, 50);  // frames well inside the signal
    CHECK(t.centroid_hz == doctest::Approx(1000).epsilon(0.03));
    CHECK(t.flatness_db < -30);  // a pure tone is anything but flat
    const MeasuredFeatures t2 = measure(Vec(tone * Real(2)), 8, 50);
    CHECK(t2.loudness_db - t.loudness_db == doctest::Approx(6.02).epsilon(0.01));  // 6 dB per doubling
    CHECK(t.temporal_centroid_s == doctest::Approx(0.5).epsilon(0.02));            // steady: the middle

    const MeasuredFeatures w = measure(white_noise(n, 3, 0.1), 8, 50);
    CHECK(w.flatness_db == doctest::Approx(-2.5).epsilon(0.2));  // one frame of noise: exp(-gamma)
    CHECK(w.centroid_hz == doctest::Approx(4000).epsilon(0.05));  // flat spectrum: half of Nyquist

    // Energy decaying as exp(-2 t / tau) over a long clip has its temporal centroid at tau / 2.
    Vec decay(n);
    for (int i = 0; i < n; ++i) decay[i] = Real(std::exp(-i / (16000.0 * 0.1))) * white_noise(1, unsigned(i), 0.3)[0];
    CHECK(measure(decay, 0, 1).temporal_centroid_s == doctest::Approx(0.05).epsilon(0.15));
}

TEST_CASE("timbre-feature loss: zero at the target, grows with brightness and level differences") {
    const int n = 8000;
    const Vec target = decaying_tone(n, 220, 16000, 0.1, 0.5);
    auto loss_of = [&](const Vec& x) {
        ad::Tape tape(ad::Tape::Mode::forward_only);
        match::FeatureLoss loss(tape.constant(x), target);
        return double(loss.loss().item());
    };
    CHECK(loss_of(target) == doctest::Approx(0).epsilon(1e-6));
    const double brighter_1 = loss_of(decaying_tone(n, 440, 16000, 0.1, 0.5));
    const double brighter_2 = loss_of(decaying_tone(n, 880, 16000, 0.1, 0.5));
    CHECK(brighter_1 > 0.3);
    CHECK(brighter_2 > brighter_1);
    const double quieter = loss_of(Vec(target * Real(0.25)));  // -12 dB: 1.2 from loudness alone
    CHECK(quieter == doctest::Approx(1.2).epsilon(0.05));
    const double longer = loss_of(decaying_tone(n, 220, 16000, 0.3, 0.5));
    CHECK(longer > 0.5);

    // set_target re-targets the same graph.
    ad::Tape tape(ad::Tape::Mode::forward_only);
    const Vec other = decaying_tone(n, 440, 16000, 0.1, 0.5);
    match::FeatureLoss loss(tape.constant(other), target);
    CHECK(double(loss.loss().item()) == doctest::Approx(brighter_1).epsilon(1e-5));
    loss.set_target(other);
    tape.forward();
    CHECK(double(loss.loss().item()) == doctest::Approx(0).epsilon(1e-6));
}
