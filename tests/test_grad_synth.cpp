// Every registered synth, end to end (synth + multi-resolution STFT loss), against central
// differences in double precision, through the unconstrained parameter vector optimisers move.
#include <doctest/doctest.h>

#include "ad/gradcheck.h"
#include "match/loss.h"
#include "synth/synth.h"

#include <cmath>

using namespace ddsp;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

TEST_CASE("synth + loss gradients match central differences") {
    for (const std::string& name : synth::synth_names()) {
        CAPTURE(name);
        auto s = synth::make_synth(name);
        REQUIRE(s);
        synth::SynthConfig cfg;
        cfg.sample_rate_hz = s->default_sample_rate_hz();
        cfg.num_samples = int(0.1 * cfg.sample_rate_hz);  // short: FD needs 2 renders per value
        cfg.seed = 3;
        const auto table = s->param_table(cfg);
        // Target: the synth at its defaults; start: every parameter nudged a little.
        Vec u_target;
        std::string err;
        REQUIRE(synth::to_unconstrained(table, synth::default_values(table), u_target, err));
        Vec target;
        {
            ad::Tape t(ad::Tape::Mode::forward_only);
            target = s->build(t.constant(u_target), cfg).value().col(0);
        }
        REQUIRE(s->analyse_target(target, cfg, err));
        Vec u0 = u_target;
        for (Eigen::Index i = 0; i < u0.size(); ++i) u0[i] += Real(0.05 * std::sin(1.7 * double(i) + 0.3));
        ad::Tape tape;
        ad::Var u = tape.variable(u0);
        ad::Var audio = s->build(u, cfg);
        match::MrStftParams lp;
        lp.fft_sizes = {512, 128};
        match::MrStftLoss loss(audio, target, lp);
        ad::GradCheckParams gp;
        gp.eps = 1e-6;
        gp.rtol = 1e-4;
        gp.atol = 1e-7;
        gp.max_elements = 60;
        const ad::GradCheckResult r = ad::check_gradients(tape, loss.loss(), {u}, gp);
        INFO(r.worst, " (max rel ", r.max_rel_error, ")");
        CHECK(r.ok);
    }
}
