// MatchSession: every method on the sine synth (two parameters, a loss full of local minima
// over frequency), determinism, budgets, stop/resume and bad targets.
#include <doctest/doctest.h>

#include "match/session.h"

#include <cmath>

using namespace ddsp;

namespace {

Vec sine(double f_hz, double amp, int n = 4000, double sr = 16000) {
    Vec v(n);
    for (int i = 0; i < n; ++i) v[i] = Real(amp * std::sin(2 * kPi * f_hz * i / sr));
    return v;
}

synth::ParamValues sine_params(double f_hz, double amp) { return {{"frequency_hz", {f_hz}}, {"amplitude", {amp}}}; }

double found_hz(const match::MatchSession& s) { return s.best_params().at("frequency_hz")[0]; }

}  // namespace

TEST_CASE("gradient descent converges from a nearby start") {
    match::MatchParams p;
    p.method = match::Method::gradient;
    p.loss = match::LossKind::linear;  // the log term's sidelobes make a clean tone's loss rugged
    p.max_steps = 300;
    p.learning_rate = 0.01;
    match::MatchSession s;
    std::string err;
    const auto start = sine_params(445, 0.4);  // (the loss is rugged at ~1 Hz scale beyond a few Hz: see README)
    REQUIRE(s.init("sine", sine(440, 0.3), 16000, p, err, &start));
    while (s.step()) {
    }
    CHECK(s.best_loss() < 0.2 * s.initial_loss());  // wasm (another libm) lands at 0.105
    CHECK(found_hz(s) == doctest::Approx(440).epsilon(0.005));
    CHECK(s.best_params().at("amplitude")[0] == doctest::Approx(0.3).epsilon(0.1));
    // history: one record per iteration, best loss never increases, time accumulates
    REQUIRE(int(s.history().size()) == s.iteration());
    for (size_t i = 1; i < s.history().size(); ++i) {
        CHECK(s.history()[i].best_loss <= s.history()[i - 1].best_loss);
        CHECK(s.history()[i].elapsed_s >= s.history()[i - 1].elapsed_s);
    }
}

TEST_CASE("gradient descent alone gets stuck far away; population methods do not") {
    const auto start = sine_params(200, 0.5);
    const Vec target = sine(1000, 0.3);
    std::string err;
    match::MatchParams g;
    g.method = match::Method::gradient;
    g.loss = match::LossKind::linear;
    g.max_steps = 150;
    match::MatchSession grad;
    REQUIRE(grad.init("sine", target, 16000, g, err, &start));
    while (grad.step()) {
    }
    CHECK(std::abs(found_hz(grad) - 1000) > 50);  // the local-minima lesson

    // Population methods escape the starting basin. Searching frequency and amplitude together
    // they can also fall into silence (amplitude -> 0), a local minimum of spectral losses, so
    // only hybrid (global search on frequency, the synth's `global` parameter, then gradient on
    // both) is asked to land on the target.
    for (match::Method m : {match::Method::genetic, match::Method::cmaes, match::Method::hybrid}) {
        const std::string method = match::method_name(m);
        CAPTURE(method);
        match::MatchParams p;
        p.method = m;
        p.loss = match::LossKind::linear;
        p.max_steps = 60;
        p.seed = 1;
        match::MatchSession s;
        REQUIRE(s.init("sine", target, 16000, p, err, &start));
        while (s.step()) {
        }
        CHECK(s.best_loss() < grad.best_loss());
        CHECK(std::abs(found_hz(s) - 1000) < std::abs(found_hz(grad) - 1000));
        if (m == match::Method::hybrid) {
            CHECK(found_hz(s) == doctest::Approx(1000).epsilon(0.01));
            CHECK(s.best_loss() < 0.3 * s.initial_loss());
        }
    }
}

TEST_CASE("same seed, same result; another seed, another search") {
    auto run = [](uint64_t seed) {
        match::MatchParams p;
        p.method = match::Method::genetic;
        p.max_steps = 10;
        p.seed = seed;
        p.threads = 2;
        match::MatchSession s;
        std::string err;
        REQUIRE(s.init("sine", sine(700, 0.4), 16000, p, err));
        while (s.step()) {
        }
        return s.best_u();
    };
    const Vec a = run(5), b = run(5), c = run(6);
    CHECK((a - b).abs().maxCoeff() == 0);
    CHECK((a - c).abs().maxCoeff() > 0);
}

TEST_CASE("step budget, stop and resume") {
    match::MatchParams p;
    p.method = match::Method::cmaes;
    p.max_steps = 5;
    match::MatchSession s;
    std::string err;
    REQUIRE(s.init("sine", sine(300, 0.4), 16000, p, err));
    int steps = 0;
    while (s.step()) ++steps;
    CHECK(s.iteration() == 5);
    CHECK(s.done());
    s.resume(3);
    CHECK_FALSE(s.done());
    s.run_for(10.0);
    CHECK(s.iteration() == 8);
    s.resume(100);
    s.step();
    s.stop();
    CHECK_FALSE(s.step());
    CHECK(s.iteration() == 9);
    CHECK(s.evaluations() > 9);
    const Vec audio = s.best_audio();
    CHECK(audio.size() == 4000);
    CHECK(audio.allFinite());
}

TEST_CASE("hybrid's global search ends at its share of a time budget") {
    // hybrid_global_s (what engine::MatchJob derives from --time-budget) ends the CMA-ES phase
    // before its share of the steps: from then on each iteration is one gradient evaluation.
    match::MatchParams p;
    p.method = match::Method::hybrid;
    p.max_steps = 300;  // a step share of 90 generations
    p.hybrid_global_s = 1e-9;
    match::MatchSession s;
    std::string err;
    REQUIRE(s.init("sine", sine(300, 0.4), 16000, p, err));
    s.step();  // the first iteration is still the search's (no compute spent yet)
    const int after_search = s.evaluations();
    CHECK(after_search > 2);
    s.step();
    s.step();
    CHECK(s.evaluations() == after_search + 2);
}

TEST_CASE("bad targets and settings get one-line errors") {
    match::MatchSession s;
    match::MatchParams p;
    std::string err;
    CHECK_FALSE(s.init("no-such-synth", sine(440, 0.5), 16000, p, err));
    CHECK(err.find("unknown synth") != std::string::npos);
    CHECK_FALSE(s.init("sine", Vec::Zero(4000), 16000, p, err));
    CHECK(err.find("silent") != std::string::npos);
    Vec nan_target = sine(440, 0.5);
    nan_target[100] = std::numeric_limits<Real>::quiet_NaN();
    CHECK_FALSE(s.init("sine", nan_target, 16000, p, err));
    CHECK(err.find("NaN") != std::string::npos);
    CHECK_FALSE(s.init("sine", Vec::Zero(10), 16000, p, err));
    CHECK(err.find("short") != std::string::npos);
    const auto bad = sine_params(1e9, 0.5);
    CHECK_FALSE(s.init("sine", sine(440, 0.5), 16000, p, err, &bad));
    CHECK(err.find("frequency_hz") != std::string::npos);
    CHECK(err.find('\n') == std::string::npos);
    CHECK(s.done());
    CHECK_FALSE(s.step());
}
