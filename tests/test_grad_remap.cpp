// The timbre-remapping loss (nn/remap.h) end to end, in double: modulations -> the differentiable
// 808 -> hit features -> the feature-difference loss, against central differences; and the same
// through a network's weights.
#include <doctest/doctest.h>

#include "ad/gradcheck.h"
#include "ad/ops.h"
#include "nn/remap.h"
#include "synth/drum808.h"

#include <cmath>

using namespace ddsp;

namespace {

// Three made-up hits (their onset and hit features): enough to define a loss.
std::vector<nn::Hit> hits() {
    std::vector<nn::Hit> h(3);
    for (int i = 0; i < 3; ++i) {
        // (Not on one line through the normalisation's mean: an input exactly at the mean makes the
        // first layer's output a constant row, where LayerNorm's derivative is 1 / sqrt(eps).)
        h[size_t(i)].onset = {-30.0 + 5 * i, 0.5 + 0.3 * i * i, -20.0 + 4 * (i % 2)};
        h[size_t(i)].timbre = {-25.0 + 6 * i, 0.8 + 0.2 * i, -18.0 + 3 * i, 0.05 + 0.01 * i};
    }
    return h;
}

nn::RemapParams small_params() {
    nn::RemapParams p;
    p.sample_rate_hz = 16000;  // short hits at a low rate keep central differences affordable
    p.hit_seconds = 0.08;
    return p;
}

}  // namespace

TEST_CASE("the remap loss's gradient with respect to the modulations matches central differences") {
    nn::RemapProblem problem;
    std::string error;
    REQUIRE_MESSAGE(problem.init(synth::drum808_presets()[0].second, hits(), small_params(), error), error);
    ad::Tape tape;
    Arr d0(3, problem.num_params());
    dsp::Rng rng(3);
    for (int i = 0; i < d0.size(); ++i) d0(i) = Real(rng.uniform(-0.3, 0.3));
    const ad::Var d = tape.variable(d0);
    const ad::Var loss = problem.loss(d, {0, 1, 2});
    ad::GradCheckParams gp;
    gp.eps = 1e-7;
    gp.rtol = 1e-4;
    gp.atol = 1e-7;
    gp.roundoff_factor = 100;  // the 808's high-pass near z = 1 amplifies the loss's own rounding
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, {d}, gp);
    INFO(r.worst, " (max rel ", r.max_rel_error, ")");
    CHECK(r.ok);
    CHECK(r.checked == 3 * 14);
}

TEST_CASE("the remap loss's gradient reaches the network's weights") {
    nn::RemapProblem problem;
    std::string error;
    REQUIRE(problem.init(synth::drum808_presets()[1].second, hits(), small_params(), error));
    ad::Tape tape;
    nn::RemapNet net(tape, nn::RemapModelKind::mlp, problem.num_params(), 2.0, 7);
    // Weights large enough that the network's output is not ~0.
    for (const nn::Param& p : net.store().params()) tape.mutable_value(p.var) *= Real(3);
    Arr x(3, nn::kOnsetFeatures);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < nn::kOnsetFeatures; ++j) x(i, j) = Real(hits()[size_t(i)].onset[size_t(j)]);
    net.mean = {-24, 0.9, -17};
    net.scale = {5, 0.3, 4};
    tape.forward();
    const ad::Var loss = problem.loss(net(tape.constant(x)), {0, 1, 2});
    std::vector<ad::Var> leaves;
    for (const nn::Param& p : net.store().params()) leaves.push_back(p.var);
    ad::GradCheckParams gp;
    gp.eps = 1e-7;
    gp.rtol = 1e-4;
    gp.atol = 1e-7;
    gp.roundoff_factor = 100;
    gp.max_elements = 40;
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, leaves, gp);
    INFO(r.worst, " (max rel ", r.max_rel_error, ")");
    CHECK(r.ok);
}
