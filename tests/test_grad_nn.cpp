// Neural-network layers: central-difference gradient checks of layer_norm, leaky_relu, Linear, MLP
// and the fused GRU (every input and weight), the GRU against a plain per-step reference, its
// gate semantics, and a small MLP fitting a smooth function with Adam.
#include <doctest/doctest.h>

#include "ad/adam.h"
#include "ad/gradcheck.h"
#include "ad/ops.h"
#include "nn/layers.h"
#include "test_util.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>

using namespace ddsp;
using ad::Var;
using test::random_arr;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

namespace {

// Checks d/d leaves of sum(w * out) with random weights w, so every output element counts
// differently.
void check(const char* name, ad::Tape& tape, Var out, const std::vector<Var>& leaves, dsp::Rng& rng) {
    const Var loss = ad::sum(out * tape.constant(random_arr(rng, out.rows(), out.cols(), 0.5, 1.5)));
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, leaves);
    INFO(std::string(name), ": ", r.worst, " (checked ", r.checked, ", max rel error ", r.max_rel_error, ")");
    CHECK(r.ok);
    CHECK(r.checked > 0);
}

double sigmoid_ref(double a) { return 1 / (1 + std::exp(-a)); }

// The GRU written out one step and one unit at a time from the PyTorch equations.
Arr gru_reference(const Arr& x, const Arr& h0, const Arr& w_i, const Arr& w_h, const Arr& b_i, const Arr& b_h) {
    const int steps = int(x.rows()), in = int(x.cols()), hidden = int(h0.cols());
    Arr out(steps, hidden);
    std::vector<double> h(static_cast<size_t>(hidden)), next(static_cast<size_t>(hidden));
    for (int j = 0; j < hidden; ++j) h[size_t(j)] = h0(0, j);
    for (int s = 0; s < steps; ++s) {
        for (int j = 0; j < hidden; ++j) {
            double ai[3], ah[3];
            for (int g = 0; g < 3; ++g) {
                ai[g] = b_i(0, g * hidden + j);
                ah[g] = b_h(0, g * hidden + j);
                for (int k = 0; k < in; ++k) ai[g] += x(s, k) * w_i(k, g * hidden + j);
                for (int k = 0; k < hidden; ++k) ah[g] += h[size_t(k)] * w_h(k, g * hidden + j);
            }
            const double r = sigmoid_ref(ai[0] + ah[0]);
            const double z = sigmoid_ref(ai[1] + ah[1]);
            const double n = std::tanh(ai[2] + r * ah[2]);
            next[size_t(j)] = (1 - z) * n + z * h[size_t(j)];
        }
        h = next;
        for (int j = 0; j < hidden; ++j) out(s, j) = h[size_t(j)];
    }
    return out;
}

}  // namespace

TEST_CASE("layer_norm gradients and values") {
    dsp::Rng rng(1);
    ad::Tape tape;
    const Var x = tape.variable(random_arr(rng, 5, 6, -2, 2));
    const Var gain = tape.variable(random_arr(rng, 1, 6, 0.5, 1.5));
    const Var bias = tape.variable(random_arr(rng, 1, 6));
    const Var y = nn::layer_norm(x, gain, bias);
    check("layer_norm", tape, y, {x, gain, bias}, rng);

    // With unit gain and zero bias each row has mean 0 and variance ~1.
    ad::Tape t2;
    const Var x2 = t2.variable(random_arr(rng, 4, 8, -3, 3));
    const Var y2 = nn::layer_norm(x2, t2.constant(Arr(Arr::Ones(1, 8))), t2.constant(Arr(Arr::Zero(1, 8))));
    for (int r = 0; r < 4; ++r) {
        CHECK(std::abs(y2.value().row(r).mean()) < 1e-12);
        CHECK(std::abs(y2.value().row(r).square().mean() - 1) < 1e-3);
    }
}

TEST_CASE("leaky_relu gradients and values") {
    dsp::Rng rng(2);
    ad::Tape tape;
    Arr a = random_arr(rng, 6, 4, -1, 1);
    for (Eigen::Index i = 0; i < a.size(); ++i)  // keep clear of the kink for central differences
        if (std::abs(a.data()[i]) < 0.05) a.data()[i] = 0.3;
    const Var x = tape.variable(a);
    check("leaky_relu", tape, nn::leaky_relu(x, 0.1), {x}, rng);
    // Used twice: the second consumer accumulates onto the first writer's gradient.
    check("leaky_relu twice", tape, nn::leaky_relu(x) * nn::relu(x), {x}, rng);
    const Var y = nn::leaky_relu(tape.constant(a), 0.1);
    for (Eigen::Index i = 0; i < a.size(); ++i)
        CHECK(y.value().data()[i] == doctest::Approx(a.data()[i] > 0 ? a.data()[i] : 0.1 * a.data()[i]));
}

TEST_CASE("Linear and MLP gradients") {
    dsp::Rng rng(3);
    ad::Tape tape;
    nn::ParamStore store(tape, 7);
    const nn::Linear lin(store, "lin", 3, 5);
    const nn::Mlp mlp(store, "mlp", 5, 6, 3);
    const Var x = tape.variable(random_arr(rng, 7, 3));
    // Move biases and gains off their initial values so every path is exercised.
    for (const nn::Param& p : store.params())
        tape.mutable_value(p.var) += Arr(random_arr(rng, p.var.rows(), p.var.cols(), -0.2, 0.2));
    tape.forward();
    const Var hidden = lin(x);
    check("linear", tape, hidden, {x, lin.w, lin.b}, rng);
    std::vector<Var> leaves = {x};
    for (const nn::Param& p : store.params()) leaves.push_back(p.var);
    check("mlp", tape, mlp(hidden), leaves, rng);

    // Names and shapes are what a checkpoint would list.
    CHECK(store.params().size() == 2 + 3 * 4);
    REQUIRE(store.find("mlp.2.norm.gain") != nullptr);
    CHECK(store.find("mlp.2.norm.gain")->var.cols() == 6);
    CHECK(store.find("mlp.0.linear.w")->var.rows() == 5);
    CHECK(store.num_values() == (3 * 5 + 5) + (5 * 6 + 6 + 12) + 2 * (6 * 6 + 6 + 12));
    CHECK(!store.set("mlp.0.linear.w", Arr::Zero(2, 2)));
    CHECK(store.set("mlp.0.linear.w", Arr::Zero(5, 6)));
}

TEST_CASE("parameter initialisation is deterministic") {
    ad::Tape a, b;
    nn::ParamStore sa(a, 42), sb(b, 42);
    const nn::Gru ga(sa, "gru", 3, 4), gb(sb, "gru", 3, 4);
    CHECK((ga.w_h.value() == gb.w_h.value()).all());
    CHECK(ga.w_i.value().abs().maxCoeff() <= 0.5);
    CHECK(ga.w_i.value().abs().maxCoeff() > 0.1);
}

TEST_CASE("GRU gradients w.r.t. input, h0 and every weight and bias") {
    dsp::Rng rng(4);
    ad::Tape tape;
    nn::ParamStore store(tape, 11);
    const nn::Gru g(store, "gru", 3, 4);
    const Var x = tape.variable(random_arr(rng, 7, 3));
    const Var h0 = tape.variable(random_arr(rng, 1, 4, -0.5, 0.5));
    const Var y = g(x, h0);
    check("gru", tape, y, {x, h0, g.w_i, g.w_h, g.b_i, g.b_h}, rng);
    // Consumed twice and through another op: accumulation into shared inputs stays right.
    const nn::Gru g2(store, "gru2", 4, 4);
    const Var y2 = g2(nn::leaky_relu(y, 0.2) + 0.1, h0) + y;
    check("stacked gru", tape, y2, {x, h0, g.w_i, g.w_h, g.b_i, g.b_h, g2.w_i, g2.w_h}, rng);
}

TEST_CASE("GRU matches a per-step reference and its gates behave") {
    dsp::Rng rng(5);
    const int steps = 9, in = 3, hidden = 4;
    const Arr x = random_arr(rng, steps, in, -2, 2), h0 = random_arr(rng, 1, hidden);
    const Arr w_i = random_arr(rng, in, 3 * hidden), w_h = random_arr(rng, hidden, 3 * hidden);
    Arr b_i = random_arr(rng, 1, 3 * hidden), b_h = random_arr(rng, 1, 3 * hidden);
    ad::Tape tape(ad::Tape::Mode::forward_only);
    const Var vx = tape.constant(x), vh0 = tape.constant(h0), vb_h = tape.constant(b_h);
    const Var y = nn::gru(vx, vh0, tape.constant(w_i), tape.constant(w_h), tape.constant(b_i), vb_h);
    CHECK((y.value() - gru_reference(x, h0, w_i, w_h, b_i, b_h)).abs().maxCoeff() < 1e-12);

    // Update gate saturated open (b_hz = +40): z ~ 1, so the state never leaves h0.
    Arr b_h_hold = b_h;
    b_h_hold.block(0, hidden, 1, hidden).setConstant(40);
    tape.set_value(vb_h, b_h_hold);
    tape.forward();
    for (int s = 0; s < steps; ++s) CHECK((y.value().row(s) - h0.row(0)).abs().maxCoeff() < 1e-12);

    // Update gate shut (b_hz = -40): h_t = n_t, which depends on the past only through r * W_hn h.
    Arr b_h_shut = b_h;
    b_h_shut.block(0, hidden, 1, hidden).setConstant(-40);
    tape.set_value(vb_h, b_h_shut);
    tape.forward();
    CHECK((y.value() - gru_reference(x, h0, w_i, w_h, b_i, b_h_shut)).abs().maxCoeff() < 1e-12);
    CHECK(y.value().abs().maxCoeff() < 1);
}

TEST_CASE("an MLP fits a smooth 1-D function with Adam") {
    // y = sin(2 x) + 0.3 x^2 on [-1.5, 1.5]: MLP(1 -> 32, 2 layers) -> Linear(32 -> 1).
    const int n = 64;
    Arr xs(n, 1), ys(n, 1);
    for (int i = 0; i < n; ++i) {
        xs(i, 0) = -1.5 + 3.0 * i / (n - 1);
        ys(i, 0) = std::sin(2 * xs(i, 0)) + 0.3 * xs(i, 0) * xs(i, 0);
    }
    ad::Tape tape;
    nn::ParamStore store(tape, 3);
    const nn::Mlp mlp(store, "mlp", 1, 32, 2);
    const nn::Linear head(store, "head", 32, 1);
    const Var pred = head(mlp(tape.constant(xs)));
    const Var loss = ad::mean(ad::square(pred - tape.constant(ys)));
    ad::Adam adam(ad::AdamParams{1e-2});
    store.add_to(adam);
    const double initial = loss.item();
    for (int step = 0; step < 400; ++step) {
        tape.backward(loss);
        adam.step();
        tape.forward();
    }
    const double variance = (ys - ys.mean()).square().mean();
    MESSAGE("MLP fit: loss ", initial, " -> ", loss.item(), " (target variance ", variance, ")");
    CHECK(loss.item() < 2e-3);
    CHECK(loss.item() < 0.01 * variance);
}
