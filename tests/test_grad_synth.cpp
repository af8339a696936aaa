// Every registered synth against central differences in double precision, through the
// unconstrained parameter vector optimisers move:
//  1. the synth alone, element by element, under a random linear functional of its output
//     (smooth, so any mismatch is the synth's backward pass);
//  2. synth + multi-resolution STFT loss end to end, as directional derivatives along random
//     directions. (Per element, the loss's own kinks - |S - T| at equality, |X| of the real DC and
//     Nyquist bins at zero, magnified by the log term - make central differences flaky at a
//     few of thousands of points; tests/test_grad_loss.cpp checks the loss itself.)
#include <doctest/doctest.h>

#include "ad/gradcheck.h"
#include "dsp/rng.h"
#include "match/loss.h"
#include "synth/synth.h"

#include <cmath>

using namespace ddsp;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

namespace {

struct Setup {
    std::unique_ptr<synth::Synth> synth;
    synth::SynthConfig cfg;
    Vec u0, target;
};

Setup make_setup(const std::string& name) {
    Setup s;
    s.synth = synth::make_synth(name);
    REQUIRE(s.synth);
    s.cfg.sample_rate_hz = s.synth->default_sample_rate_hz();
    s.cfg.num_samples = int(0.1 * s.cfg.sample_rate_hz);  // short: central differences render twice per value
    s.cfg.seed = 3;
    const auto table = s.synth->param_table(s.cfg);
    Vec u_target;
    std::string err;
    REQUIRE(synth::to_unconstrained(table, synth::default_values(table), u_target, err));
    {
        ad::Tape t(ad::Tape::Mode::forward_only);
        s.target = s.synth->build(t.constant(u_target), s.cfg).value().col(0);
    }
    REQUIRE(s.synth->analyse_target(s.target, s.cfg, err));
    s.u0 = u_target;
    for (Eigen::Index i = 0; i < s.u0.size(); ++i) s.u0[i] += Real(0.05 * std::sin(1.7 * double(i) + 0.3));
    return s;
}

}  // namespace

TEST_CASE("each synth's backward pass matches central differences") {
    for (const std::string& name : synth::synth_names()) {
        CAPTURE(name);
        Setup s = make_setup(name);
        ad::Tape tape;
        ad::Var u = tape.variable(s.u0);
        ad::Var audio = s.synth->build(u, s.cfg);
        dsp::Rng rng(11);
        Arr w(audio.rows(), 1);
        for (Eigen::Index i = 0; i < w.size(); ++i) w(i, 0) = Real(rng.normal());
        ad::Var loss = ad::sum(audio * tape.constant(w));
        ad::GradCheckParams gp;
        gp.eps = 1e-6;
        gp.rtol = 1e-5;
        gp.atol = 1e-7;
        gp.max_elements = 300;
        const ad::GradCheckResult r = ad::check_gradients(tape, loss, {u}, gp);
        INFO(r.worst, " (max rel ", r.max_rel_error, ", checked ", r.checked, ")");
        CHECK(r.ok);
    }
}

TEST_CASE("synth + spectral loss: directional derivatives match central differences") {
    for (const std::string& name : synth::synth_names()) {
        CAPTURE(name);
        Setup s = make_setup(name);
        ad::Tape tape;
        ad::Var u = tape.variable(s.u0);
        ad::Var audio = s.synth->build(u, s.cfg);
        match::MrStftParams lp;
        lp.fft_sizes = {512, 128};
        match::MrStftLoss loss(audio, s.target, lp);
        tape.backward(loss.loss());
        const Vec grad = u.grad().col(0);
        dsp::Rng rng(5);
        for (int direction = 0; direction < 3; ++direction) {
            Vec v(s.u0.size());
            for (Eigen::Index i = 0; i < v.size(); ++i) v[i] = Real(rng.normal());
            v /= v.matrix().norm();
            const double eps = 1e-6;
            tape.mutable_value(u).col(0) = s.u0 + Real(eps) * v;
            tape.forward();
            const double up = loss.loss().item();
            tape.mutable_value(u).col(0) = s.u0 - Real(eps) * v;
            tape.forward();
            const double down = loss.loss().item();
            const double numeric = (up - down) / (2 * eps);
            const double analytic = double(grad.matrix().dot(v.matrix()));
            CAPTURE(direction);
            // 1 %: a wrong backward pass is off by far more; kinks in the loss can move a directional
            // difference by ~0.1 %.
            CHECK(analytic == doctest::Approx(numeric).epsilon(1e-2).scale(1e-6));
        }
    }
}
