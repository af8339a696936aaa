// The Karplus-Strong synth's custom node (fractional loop taps) and the composed pieces of its
// graph (phase-delay compensation, reflection-coefficient excitation filter, residual excitation)
// against central differences in double precision.
#include <doctest/doctest.h>

#include "ad/gradcheck.h"
#include "ad/ops.h"
#include "ad/ops_signal.h"
#include "match/loss.h"
#include "synth/ks.h"

#include <algorithm>
#include <cmath>
#include <random>

using namespace ddsp;
using ad::Var;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

namespace {

// Sets every value of a parameter (the maps come from default_values, so each vector already has
// its parameter's size; a single value would also be accepted by to_unconstrained).
void set_all(synth::ParamValues& v, const std::string& name, double x) {
    std::vector<double>& vals = v.at(name);
    std::fill(vals.begin(), vals.end(), x);
}

Arr random_arr(std::mt19937& rng, int rows, int cols, double lo, double hi) {
    std::uniform_real_distribution<double> d(lo, hi);
    Arr a(rows, cols);
    for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = d(rng);
    return a;
}

}  // namespace

TEST_CASE("ks_fractional_taps puts each tap on the two lags around its fractional delay") {
    ad::Tape t;
    Arr d(2, 1), c0(2, 1), c1(2, 1);
    d << 10.25, 11.0;
    c0 << 0.6, 0.5;
    c1 << 0.4, 0.5;
    const Arr a = synth::ks_fractional_taps(t.constant(d), {t.constant(c0), t.constant(c1)}, 9, 6).value();
    REQUIRE(a.rows() == 2);
    REQUIRE(a.cols() == 6);  // lags 9..14
    // Row 0: tap 0 at 10.25 -> lags 10 (0.75), 11 (0.25); tap 1 at 11.25 -> 11 (0.75), 12 (0.25).
    CHECK(a(0, 0) == 0);
    CHECK(a(0, 1) == doctest::Approx(-0.6 * 0.75));
    CHECK(a(0, 2) == doctest::Approx(-0.6 * 0.25 - 0.4 * 0.75));
    CHECK(a(0, 3) == doctest::Approx(-0.4 * 0.25));
    CHECK(a(0, 4) == 0);
    // Row 1: integer delay 11 -> lags 11 and 12 exactly.
    CHECK(a(1, 2) == doctest::Approx(-0.5));
    CHECK(a(1, 3) == doctest::Approx(-0.5));
    CHECK(a.row(1).sum() == doctest::Approx(-1.0));
    // Out of the window: clamped to the last delay that fits (14 - 2 taps = 12), no NaN.
    Arr far(2, 1);
    far << 100, std::nan("");
    const Arr b = synth::ks_fractional_taps(t.constant(far), {t.constant(c0), t.constant(c1)}, 9, 6).value();
    CHECK(b.allFinite());
    CHECK(b(0, 3) == doctest::Approx(-0.6));  // tap 0 at lag 12
    CHECK(b(0, 4) == doctest::Approx(-0.4));  // tap 1 at lag 13
    CHECK(b(1, 0) == doctest::Approx(-0.5));  // NaN clamps to the first lag
}

TEST_CASE("ks_fractional_taps gradients match central differences") {
    std::mt19937 rng(7);
    const int n = 40;
    // Delays away from integers (the interpolation weights have kinks there), some past the
    // window's edges (clamped: zero gradient, which central differences also see).
    Arr d = random_arr(rng, n, 1, 20.05, 22.95);
    for (int i = 0; i < n; ++i)
        if (std::abs(d(i, 0) - std::round(d(i, 0))) < 0.05) d(i, 0) += 0.1;
    d(3, 0) = 30.5;
    d(7, 0) = 12.5;
    const Arr c0 = random_arr(rng, n, 1, 0.1, 0.5), c1 = random_arr(rng, n, 1, 0.1, 0.5), c2 = random_arr(rng, n, 1, 0.1, 0.5);
    ad::Tape tape;
    const Var vd = tape.variable(d), v0 = tape.variable(c0), v1 = tape.variable(c1), v2 = tape.variable(c2);
    const Var a = synth::ks_fractional_taps(vd, {v0, v1, v2}, 19, 9);
    const Var loss = ad::sum(a * tape.constant(random_arr(rng, a.rows(), a.cols(), 0.5, 1.5)));
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, {vd, v0, v1, v2});
    INFO(r.worst, " (checked ", r.checked, ", max rel error ", r.max_rel_error, ")");
    CHECK(r.ok);
    CHECK(r.checked == 4 * n);
}

TEST_CASE("ks_decimate low-passes and keeps every factor-th sample, with exact gradients") {
    const std::vector<Real> h = synth::ks_decimation_kernel(3);
    REQUIRE(h.size() == 3 * 64 + 1);
    double dc = 0;
    for (Real v : h) dc += v;
    CHECK(dc == doctest::Approx(1));
    // A tone well inside the output band passes; one above the output Nyquist is removed.
    const int n = 3000;
    auto tone = [&](double cycles_per_sample) {
        Arr x(n, 1);
        for (int i = 0; i < n; ++i) x(i, 0) = std::sin(2 * kPi * cycles_per_sample * i);
        return x;
    };
    ad::Tape t(ad::Tape::Mode::forward_only);
    const Arr pass = synth::ks_decimate(t.constant(tone(0.05)), 3, h).value();
    const Arr stop = synth::ks_decimate(t.constant(tone(0.3)), 3, h).value();
    REQUIRE(pass.rows() == 1000);
    const double pass_peak = pass.middleRows(200, 600).abs().maxCoeff();
    const double stop_peak = stop.middleRows(200, 600).abs().maxCoeff();
    CHECK(pass_peak == doctest::Approx(1).epsilon(0.01));
    CHECK(stop_peak < 1e-3);
    // Gradient.
    std::mt19937 rng(3);
    ad::Tape tape;
    const Var x = tape.variable(random_arr(rng, 200, 1, -1, 1));
    const Var y = synth::ks_decimate(x, 2, synth::ks_decimation_kernel(2));
    CHECK(y.rows() == 100);
    const Var loss = ad::sum(y * tape.constant(random_arr(rng, y.rows(), 1, 0.5, 1.5)));
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, {x});
    INFO(r.worst, " (checked ", r.checked, ", max rel error ", r.max_rel_error, ")");
    CHECK(r.ok);
}

TEST_CASE("a fractional-delay loop through allpole has exact gradients for delay and taps") {
    // A short string: excitation -> ks_fractional_taps -> allpole, loss = weighted sum.
    std::mt19937 rng(11);
    const int n = 300;
    Arr exc = Arr::Zero(n, 1);
    exc.topRows(20) = random_arr(rng, 20, 1, -1, 1);
    ad::Tape tape;
    const Var delay = tape.variable(Arr(Arr::Constant(n, 1, 17.3)));
    const Var c0 = tape.variable(Arr(Arr::Constant(n, 1, 0.3)));
    const Var c1 = tape.variable(Arr(Arr::Constant(n, 1, 0.4)));
    const Var c2 = tape.variable(Arr(Arr::Constant(n, 1, 0.25)));
    const Var a = synth::ks_fractional_taps(delay, {c0, c1, c2}, 15, 8);
    std::vector<int> lags;
    for (int j = 0; j < 8; ++j) lags.push_back(15 + j);
    const Var y = ad::allpole(tape.constant(exc), a, lags);
    const Var loss = ad::sum(ad::square(y) * tape.constant(random_arr(rng, n, 1, 0.5, 1.5)));
    ad::GradCheckParams gp;
    gp.rtol = 1e-5;
    gp.max_elements = 60;
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, {delay, c0, c1, c2}, gp);
    INFO(r.worst, " (checked ", r.checked, ", max rel error ", r.max_rel_error, ")");
    CHECK(r.ok);
}

TEST_CASE("the ks synth's graph has exact gradients with the residual excitation and other loop orders") {
    // The generic synth test covers the default configuration; this adds loop orders 1 and 4,
    // 44.1 kHz, oversampling, and the residual excitation (mixed half and half so both paths
    // carry gradient).
    struct Case {
        int loop_order;
        double sr;
        double f0;
        int oversample;
    };
    for (const Case& c : {Case{2, 16000, 330, 1}, Case{1, 16000, 600, 1}, Case{4, 44100, 150, 1}, Case{2, 16000, 700, 2}}) {
        CAPTURE(c.loop_order);
        CAPTURE(c.sr);
        CAPTURE(c.oversample);
        synth::KsOptions o;
        o.loop_order = c.loop_order;
        o.oversample = c.oversample;
        o.control_frames = 5;
        auto s = synth::make_ks_synth(o);
        synth::SynthConfig cfg;
        cfg.sample_rate_hz = c.sr;
        cfg.num_samples = int(0.06 * c.sr);
        cfg.seed = 5;
        auto table = s->param_table(cfg);
        synth::ParamValues v = synth::default_values(table);
        set_all(v, "f0_hz", c.f0);
        set_all(v, "decay_s", 0.4);
        v["exc_reflection"] = std::vector<double>(5, 0.3);
        v["exc_reflection"][1] = -0.4;
        Vec target;
        std::string err;
        REQUIRE(synth::render(*s, v, cfg, target, err));
        REQUIRE(s->analyse_target(target, cfg, err));
        table = s->param_table(cfg);
        set_all(v, "residual_mix", 0.5);
        Vec u0;
        REQUIRE(synth::to_unconstrained(table, v, u0, err));
        for (Eigen::Index i = 0; i < u0.size(); ++i) u0[i] += Real(0.1 * std::sin(2.3 * double(i) + 0.7));
        ad::Tape tape;
        const Var u = tape.variable(u0);
        const Var audio = s->build(u, cfg);
        match::MrStftParams lp;
        lp.fft_sizes = {256, 64};
        match::MrStftLoss loss(audio, target, lp);
        ad::GradCheckParams gp;
        gp.eps = 1e-6;
        gp.rtol = 1e-4;
        gp.atol = 1e-7;
        gp.max_elements = 80;
        const ad::GradCheckResult r = ad::check_gradients(tape, loss.loss(), {u}, gp);
        INFO(r.worst, " (checked ", r.checked, ", max rel error ", r.max_rel_error, ")");
        CHECK(r.ok);
    }
}
