// Autodiff core: every op's backward pass against central differences in double precision, the
// forward values against direct reference computations, and the tape's re-run contract.
#include <doctest/doctest.h>

#include "ad/adam.h"
#include "ad/gradcheck.h"
#include "ad/ops.h"
#include "ad/ops_signal.h"
#include "dsp/stft.h"

#include <cmath>
#include <functional>
#include <random>
#include <vector>

using namespace ddsp;
using ad::Var;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

namespace {

std::mt19937& rng() {
    static std::mt19937 r(1234);
    return r;
}

Arr random_arr(int rows, int cols, double lo = -1, double hi = 1) {
    std::uniform_real_distribution<double> d(lo, hi);
    Arr a(rows, cols);
    for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = d(rng());
    return a;
}

// Checks d/d inputs of sum(w * f(inputs)) with random weights w, so that every output element
// contributes with a different weight.
void check_op(const char* name, const std::vector<Arr>& inputs, const std::function<Var(std::vector<Var>&)>& f,
              ad::GradCheckParams params = {}) {
    ad::Tape tape;
    std::vector<Var> vars;
    for (const Arr& a : inputs) vars.push_back(tape.variable(a));
    Var out = f(vars);
    Var loss = ad::sum(out * tape.constant(random_arr(out.rows(), out.cols(), 0.5, 1.5)));
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, vars, params);
    INFO(name, ": ", r.worst, " (checked ", r.checked, ", max rel error ", r.max_rel_error, ")");
    CHECK(r.ok);
    CHECK(r.checked > 0);
}

}  // namespace

TEST_CASE("elementwise binary ops with broadcasting") {
    const std::vector<std::pair<int, int>> other_shapes = {{5, 3}, {1, 1}, {5, 1}, {1, 3}};
    for (const auto& shape : other_shapes) {
        const int r = shape.first, c = shape.second;  // (clang 14 cannot capture structured bindings)
        CAPTURE(r);
        CAPTURE(c);
        const Arr a = random_arr(5, 3), b = random_arr(r, c, 0.5, 2.0);
        check_op("add", {a, b}, [](auto& v) { return v[0] + v[1]; });
        check_op("add (broadcast first)", {b, a}, [](auto& v) { return v[0] + v[1]; });
        check_op("sub", {a, b}, [](auto& v) { return v[0] - v[1]; });
        check_op("sub (broadcast first)", {b, a}, [](auto& v) { return v[0] - v[1]; });
        check_op("mul", {a, b}, [](auto& v) { return v[0] * v[1]; });
        check_op("div", {a, b}, [](auto& v) { return v[0] / v[1]; });
        check_op("div (broadcast numerator)", {b, random_arr(5, 3, 0.5, 2)}, [](auto& v) { return v[0] / v[1]; });
        check_op("pow", {random_arr(5, 3, 0.5, 2), b}, [](auto& v) { return ad::pow(v[0], v[1]); });
    }
    check_op("scalar operators", {random_arr(4, 2)}, [](auto& v) {
        return (Real(2) * v[0] + Real(1)) / Real(3) - Real(0.5) + (Real(1) - v[0]) * Real(0.25) + Real(2) / (v[0] + Real(3));
    });
}

TEST_CASE("elementwise binary ops compute the right values") {
    ad::Tape t;
    Arr a(2, 2), b(1, 2);
    a << 1, 2, 3, 4;
    b << 10, 20;
    const Arr s = (t.constant(a) + t.constant(b)).value();
    CHECK(s(0, 0) == 11);
    CHECK(s(1, 0) == 13);
    CHECK(s(0, 1) == 22);
    CHECK(s(1, 1) == 24);
}

TEST_CASE("elementwise unary ops") {
    const Arr x = random_arr(7, 2, -2, 2);
    const Arr pos = random_arr(7, 2, 0.2, 3);
    Arr away_from_zero = x;
    for (Eigen::Index i = 0; i < x.size(); ++i) away_from_zero.data()[i] += x.data()[i] >= 0 ? 0.1 : -0.1;
    check_op("neg", {x}, [](auto& v) { return -v[0]; });
    check_op("abs", {away_from_zero}, [](auto& v) { return ad::abs(v[0]); });
    check_op("exp", {x}, [](auto& v) { return ad::exp(v[0]); });
    check_op("log", {pos}, [](auto& v) { return ad::log(v[0]); });
    check_op("sqrt", {pos}, [](auto& v) { return ad::sqrt(v[0]); });
    check_op("square", {x}, [](auto& v) { return ad::square(v[0]); });
    check_op("pow scalar", {pos}, [](auto& v) { return ad::pow(v[0], Real(2.7)); });
    check_op("sin", {x}, [](auto& v) { return ad::sin(v[0]); });
    check_op("cos", {x}, [](auto& v) { return ad::cos(v[0]); });
    check_op("tanh", {x}, [](auto& v) { return ad::tanh(v[0]); });
    check_op("sigmoid", {x}, [](auto& v) { return ad::sigmoid(v[0]); });
    check_op("softplus", {x * 10}, [](auto& v) { return ad::softplus(v[0]); });
    check_op("exp_sigmoid", {x * 3}, [](auto& v) { return ad::exp_sigmoid(v[0]); });
    check_op("bounded linear", {x}, [](auto& v) { return ad::bounded(v[0], -3, 5, ad::Scale::linear); });
    check_op("bounded log", {x}, [](auto& v) { return ad::bounded(v[0], 20, 2000, ad::Scale::log); });
}

TEST_CASE("unary ops are numerically safe where naive formulas overflow") {
    ad::Tape t;
    Arr big(3, 1);
    big << -800, 0, 800;
    const Arr sp = ad::softplus(t.constant(big)).value();
    CHECK(sp(0, 0) == doctest::Approx(0));
    CHECK(sp(1, 0) == doctest::Approx(std::log(2.0)));
    CHECK(sp(2, 0) == doctest::Approx(800));
    const Arr es = ad::exp_sigmoid(t.constant(big)).value();
    CHECK(std::isfinite(es(0, 0)));
    CHECK(es(2, 0) == doctest::Approx(2.0 + 1e-7));
    CHECK(es(1, 0) == doctest::Approx(2.0 * std::pow(0.5, std::log(10.0)) + 1e-7));
}

TEST_CASE("bounded parameters map and invert") {
    for (auto scale : {ad::Scale::linear, ad::Scale::log}) {
        for (double v : {20.0, 55.0, 440.0, 1999.0}) {
            const double u = ad::unbounded_value(v, 20, 2000, scale);
            CHECK(ad::bounded_value(u, 20, 2000, scale) == doctest::Approx(v).epsilon(1e-4));
        }
        CHECK(std::isfinite(ad::unbounded_value(1e9, 20, 2000, scale)));
        CHECK(std::isfinite(ad::unbounded_value(-5, 20, 2000, scale)));
        CHECK(std::isfinite(ad::unbounded_value(std::nan(""), 20, 2000, scale)));
    }
    CHECK(ad::bounded_value(0, 20, 2000, ad::Scale::log) == doctest::Approx(200));  // geometric middle
}

TEST_CASE("reductions") {
    const Arr x = random_arr(6, 4);
    check_op("sum", {x}, [](auto& v) { return ad::sum(v[0]); });
    check_op("mean", {x}, [](auto& v) { return ad::mean(v[0]); });
    check_op("sum_rows", {x}, [](auto& v) { return ad::sum_rows(v[0]); });
    check_op("sum_cols", {x}, [](auto& v) { return ad::sum_cols(v[0]); });
    ad::Tape t;
    Var c = t.constant(x);
    CHECK(ad::mean(c).item() == doctest::Approx(x.mean()));
    CHECK(ad::sum_rows(c).cols() == 4);
    CHECK(ad::sum_cols(c).rows() == 6);
}

TEST_CASE("fused distances") {
    const Arr a = random_arr(6, 5, 0.1, 1), b = random_arr(6, 5, 0.1, 1);
    check_op("mean_abs_diff", {a, b}, [](auto& v) { return ad::mean_abs_diff(v[0], v[1]); });
    check_op("mean_abs_log_diff", {a, b}, [](auto& v) { return ad::mean_abs_log_diff(v[0], v[1], Real(1e-3)); });
    ad::Tape t;
    Var ca = t.constant(a), cb = t.constant(b);
    CHECK(ad::mean_abs_diff(ca, cb).item() == doctest::Approx((a - b).abs().mean()));
    CHECK(ad::mean_abs_log_diff(ca, cb, Real(1e-3)).item() == doctest::Approx(((a + 1e-3).log() - b).abs().mean()));
}

TEST_CASE("structure along time: slice, concat, pad, reverse") {
    const Arr x = random_arr(9, 2), y = random_arr(4, 2);
    check_op("slice", {x}, [](auto& v) { return ad::slice(v[0], 2, 5); });
    check_op("concat", {x, y}, [](auto& v) { return ad::concat({v[0], v[1], v[0]}); });
    check_op("pad", {x}, [](auto& v) { return ad::pad(v[0], 3, 2); });
    check_op("reverse", {x}, [](auto& v) { return ad::reverse(v[0]); });
    ad::Tape t;
    Var cx = t.constant(x);
    CHECK(ad::reverse(cx).value()(0, 1) == x(8, 1));
    CHECK(ad::pad(cx, 3, 2).rows() == 14);
    CHECK(ad::pad(cx, 3, 2).value()(3, 0) == x(0, 0));
    CHECK(ad::slice(cx, 2, 5).value()(0, 0) == x(2, 0));
}

TEST_CASE("upsampling from frames to samples") {
    for (int frames : {1, 2, 3, 5, 16}) {
        CAPTURE(frames);
        const Arr x = random_arr(frames, 2);
        check_op("upsample linear", {x}, [](auto& v) { return ad::upsample(v[0], 97, ad::Interp::linear); });
        check_op("upsample cubic", {x}, [](auto& v) { return ad::upsample(v[0], 97, ad::Interp::cubic); });
    }
    // Both interpolants pass through the frames and reproduce straight lines exactly.
    ad::Tape t;
    Arr line(5, 1), knots(5, 1);
    for (int k = 0; k < 5; ++k) line(k, 0) = 0.5 + 2.0 * k;
    knots = random_arr(5, 1);
    const int n = 41;  // frame k sits at sample 10 k
    for (auto interp : {ad::Interp::linear, ad::Interp::cubic}) {
        const Arr l = ad::upsample(t.constant(line), n, interp).value();
        for (int i = 0; i < n; ++i) CHECK(l(i, 0) == doctest::Approx(0.5 + 2.0 * i / 10.0));
        const Arr k = ad::upsample(t.constant(knots), n, interp).value();
        for (int f = 0; f < 5; ++f) CHECK(k(10 * f, 0) == doctest::Approx(knots(f, 0)));
    }
    // The natural spline is smooth: its slope is continuous across a knot where linear's jumps.
    Arr bump(5, 1);
    bump << 0, 0, 1, 0, 0;
    const int fine = 401;  // frame k at sample 100 k
    auto slope_jump = [&](ad::Interp interp) {
        const Arr c = ad::upsample(t.constant(bump), fine, interp).value();
        return std::abs((c(101, 0) - c(100, 0)) - (c(100, 0) - c(99, 0)));
    };
    CHECK(slope_jump(ad::Interp::linear) == doctest::Approx(0.01));
    CHECK(slope_jump(ad::Interp::cubic) < 0.05 * slope_jump(ad::Interp::linear));
}

TEST_CASE("cumulative sum") {
    const Arr x = random_arr(50, 3);
    check_op("cumsum", {x}, [](auto& v) { return ad::cumsum(v[0]); });
    ad::Tape t;
    const Arr c = ad::cumsum(t.constant(x)).value();
    CHECK(c(49, 2) == doctest::Approx(x.col(2).sum()));

    // Wrapped (a phase): the same sum modulo the period, in [0, period), and the same gradient.
    check_op("cumsum wrapped", {x}, [](auto& v) { return ad::cumsum(v[0], 0.7); });
    const Arr w = ad::cumsum(t.constant(x), 0.7).value();
    for (Eigen::Index r = 0; r < c.rows(); ++r)
        for (Eigen::Index k = 0; k < c.cols(); ++k) {
            CHECK(w(r, k) >= 0);
            CHECK(w(r, k) < 0.7);
            const double k_periods = std::round((c(r, k) - w(r, k)) / 0.7);
            CHECK(w(r, k) + k_periods * 0.7 == doctest::Approx(c(r, k)).epsilon(1e-12));
        }
}

TEST_CASE("matrix multiply and linear layer") {
    check_op("matmul", {random_arr(4, 3), random_arr(3, 5)}, [](auto& v) { return ad::matmul(v[0], v[1]); });
    check_op("linear", {random_arr(6, 3), random_arr(3, 4), random_arr(1, 4)},
             [](auto& v) { return ad::linear(v[0], v[1], v[2]); });
    ad::Tape t;
    const Arr a = random_arr(4, 3), w = random_arr(3, 5), b = random_arr(1, 5);
    const Arr y = ad::linear(t.constant(a), t.constant(w), t.constant(b)).value();
    const Mat ref = (a.matrix() * w.matrix()).rowwise() + b.matrix().row(0);
    CHECK((y.matrix() - ref).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("FFT convolution") {
    for (const auto& sizes : std::vector<std::pair<int, int>>{{50, 7}, {64, 64}, {13, 40}, {1, 1}, {300, 129}}) {
        const int n = sizes.first, k = sizes.second;
        CAPTURE(n);
        CAPTURE(k);
        const Arr x = random_arr(n, 1), h = random_arr(k, 1);
        check_op("fft_convolve", {x, h}, [](auto& v) { return ad::fft_convolve(v[0], v[1]); });
        ad::Tape t;
        const Arr y = ad::fft_convolve(t.constant(x), t.constant(h)).value();
        REQUIRE(y.rows() == n);
        for (int i = 0; i < n; ++i) {
            double ref = 0;
            for (int j = 0; j <= std::min(i, k - 1); ++j) ref += h(j, 0) * x(i - j, 0);
            CHECK(y(i, 0) == doctest::Approx(ref).epsilon(1e-9));
        }
    }
}

TEST_CASE("STFT magnitude") {
    for (auto cfg : {dsp::StftConfig{64, 16, 0}, dsp::StftConfig{32, 8, 24}, dsp::StftConfig{16, 5, 0}}) {
        CAPTURE(cfg.fft_size);
        const Arr x = random_arr(150, 1);
        check_op("stft_magnitude", {x}, [cfg](auto& v) { return ad::stft_magnitude(v[0], cfg, Real(0.3)); });
        // equals the plain STFT
        ad::Tape t;
        const Arr m = ad::stft_magnitude(t.constant(x), cfg).value();
        Arr ref;
        dsp::stft_magnitude(x.data(), 150, cfg, ref);
        REQUIRE(m.rows() == ref.rows());
        REQUIRE(m.cols() == ref.cols());
        CHECK((m - ref).abs().maxCoeff() < 1e-12);
    }
}

TEST_CASE("time-varying all-pole filter over sparse lags") {
    // A Karplus-Strong-like loop: taps at the delay length and its neighbours, gain < 1.
    const int n = 400;
    const std::vector<int> lags = {37, 38, 39};
    Arr a(n, 3);
    const Arr wobble = random_arr(n, 3, -0.02, 0.02);
    for (int t = 0; t < n; ++t) {
        a(t, 0) = -0.97 * 0.25 + wobble(t, 0);
        a(t, 1) = -0.97 * 0.5 + wobble(t, 1);
        a(t, 2) = -0.97 * 0.25 + wobble(t, 2);
    }
    const Arr x = random_arr(n, 1);
    check_op("allpole", {x, a}, [lags](auto& v) { return ad::allpole(v[0], v[1], lags); });
    // dense low-order lags too (an ordinary IIR)
    Arr a2 = random_arr(n, 2, -0.3, 0.3);
    check_op("allpole dense", {x, a2}, [](auto& v) { return ad::allpole(v[0], v[1], {1, 2}); });

    ad::Tape t;
    const Arr y = ad::allpole(t.constant(x), t.constant(a), lags).value();
    std::vector<double> ref(n, 0);
    for (int s = 0; s < n; ++s) {
        double acc = x(s, 0);
        for (int i = 0; i < 3; ++i)
            if (s - lags[i] >= 0) acc -= a(s, i) * ref[size_t(s - lags[i])];
        ref[size_t(s)] = acc;
    }
    for (int s = 0; s < n; ++s) CHECK(y(s, 0) == doctest::Approx(ref[size_t(s)]));
}

TEST_CASE("the gradient check catches a wrong backward pass") {
    // A node whose backward is off by 1 %: the checker must report it.
    struct WrongSquare final : ad::Node {
        const char* op_name() const override { return "wrong_square"; }
        void forward(ad::Tape& t) override { value = t.value(inputs[0]).square(); }
        void backward(ad::Tape& t) override {
            t.grad_mutable(inputs[0]) += grad * Real(2.02) * t.value(inputs[0]);
        }
    };
    ad::Tape t;
    Var x = t.variable(random_arr(5, 1, 0.5, 1));
    auto node = std::make_unique<WrongSquare>();
    node->inputs = {x.id};
    Var y = t.push(std::move(node));
    const ad::GradCheckResult r = ad::check_gradients(t, ad::sum(y), {x});
    CHECK_FALSE(r.ok);
    CHECK(r.max_rel_error > 0.005);
}

TEST_CASE("the graph re-runs on new leaf values without reallocating") {
    ad::Tape t;
    Var x = t.variable(random_arr(256, 1));
    Var target = t.constant(random_arr(256, 1));
    Var spec = ad::stft_magnitude(x, {64, 16, 0});
    Var loss = ad::mean(ad::square(x - target)) + ad::mean(spec);
    t.backward(loss);
    const Real* value_ptr = spec.value().data();
    const Real* grad_ptr = x.grad().data();
    const double first = loss.item();
    t.set_value(x, random_arr(256, 1));
    t.forward();
    t.backward(loss);
    CHECK(loss.item() != doctest::Approx(first));
    CHECK(spec.value().data() == value_ptr);
    CHECK(x.grad().data() == grad_ptr);
    // Re-running forward on the same values reproduces the loss exactly.
    const double again = loss.item();
    t.forward();
    CHECK(loss.item() == again);
}

// A training step's graph on fixed weights: a layer, a convolution, an STFT and a loss, with
// `n` samples (the shapes follow n, so another n builds a differently shaped graph).
Var build_step_graph(ad::Tape& t, Var w, Var b, const Arr& x, const Arr& target, int n) {
    Var h = ad::tanh(ad::linear(t.constant(x), w, b));  // (n x 4)
    Var y = ad::fft_convolve(ad::sum_cols(h), t.constant(random_arr(9, 1)));
    Var y2 = ad::allpole(y, ad::sigmoid(t.constant(Arr(Arr::Constant(n, 1, 0.3)))) * Real(-0.5), {3});
    Var spec = ad::stft_magnitude(y2, {64, 16, 0});
    Var target_spec = t.constant_buffer(spec.rows(), spec.cols());
    dsp::stft_magnitude(target.data(), n, {64, 16, 0}, t.mutable_value(target_spec));
    return ad::mean_abs_diff(spec, target_spec) + ad::mean(ad::square(y2 - t.constant(target)));
}

// Every node above the mark: its value and gradient.
void snapshot(const ad::Tape& t, int mark, std::vector<Arr>& values, std::vector<Arr>& grads) {
    values.clear();
    grads.clear();
    for (int id = mark; id < t.num_nodes(); ++id) {
        values.push_back(t.value(id));
        grads.push_back(t.grad(id));
    }
}

TEST_CASE("truncate and rebuild: the same graph reuses every buffer and computes what a fresh tape does") {
    const Arr w0 = random_arr(3, 4), b0 = random_arr(1, 4);
    for (const int n2 : {200, 137}) {  // rebuild the same shapes, then different ones
        CAPTURE(n2);
        ad::Tape t;
        Var w = t.variable(w0), b = t.variable(b0);
        const int mark = t.num_nodes();
        rng().seed(7);
        Var loss = build_step_graph(t, w, b, random_arr(200, 3), random_arr(200, 1), 200);
        t.backward(loss);
        const int nodes = t.num_nodes();
        std::vector<const Real*> value_ptrs, grad_ptrs;
        for (int id = mark; id < nodes; ++id) {
            value_ptrs.push_back(t.value(id).data());
            grad_ptrs.push_back(t.requires_grad(id) ? t.grad(id).data() : nullptr);
        }

        t.truncate(mark);
        const long long recycled = t.num_recycled();
        rng().seed(8);
        const Arr x2 = random_arr(n2, 3), target2 = random_arr(n2, 1);
        Var loss2 = build_step_graph(t, w, b, x2, target2, n2);
        t.backward(loss2);
        REQUIRE(t.num_nodes() == nodes);
        if (n2 == 200) {
            // Every value and every gradient buffer was handed over, none allocated anew.
            int expected = 0;
            for (int id = mark; id < nodes; ++id) {
                CHECK(t.value(id).data() == value_ptrs[size_t(id - mark)]);
                if (t.requires_grad(id)) CHECK(t.grad(id).data() == grad_ptrs[size_t(id - mark)]);
                expected += 1 + int(t.requires_grad(id));
            }
            CHECK(t.num_recycled() - recycled == expected);
        }

        // Stale workspaces and buffers must not leak into the results: bit for bit a fresh tape's.
        ad::Tape fresh;
        Var fw = fresh.variable(w0), fb = fresh.variable(b0);
        rng().seed(8);
        random_arr(n2, 3);
        random_arr(n2, 1);
        Var fresh_loss = build_step_graph(fresh, fw, fb, x2, target2, n2);
        fresh.backward(fresh_loss);
        std::vector<Arr> v1, g1, v2, g2;
        snapshot(t, 0, v1, g1);
        snapshot(fresh, 0, v2, g2);
        REQUIRE(v1.size() == v2.size());
        for (size_t i = 0; i < v1.size(); ++i) {
            CAPTURE(i);
            REQUIRE(v1[i].rows() == v2[i].rows());
            REQUIRE(v1[i].cols() == v2[i].cols());
            CHECK((v1[i] == v2[i]).all());
            CHECK((g1[i] == g2[i]).all());
        }
        t.release_spares();
    }
}

TEST_CASE("forward-only tapes compute values and no gradients") {
    ad::Tape t(ad::Tape::Mode::forward_only);
    Var x = t.variable(random_arr(10, 1));
    Var y = ad::sum(ad::square(x));
    CHECK(y.item() == doctest::Approx(x.value().square().sum()));
    CHECK(x.grad().size() == 0);
    CHECK_FALSE(t.requires_grad(y.id));
}

TEST_CASE("gradients flow only to variables") {
    ad::Tape t;
    Var x = t.variable(random_arr(4, 1));
    Var c = t.constant(random_arr(4, 1));
    Var loss = ad::sum(x * c);
    t.backward(loss);
    CHECK(c.grad().size() == 0);
    CHECK((x.grad() - c.value()).abs().maxCoeff() < 1e-15);
    // backward twice gives the same gradient (grads are zeroed, not accumulated across calls)
    t.backward(loss);
    CHECK((x.grad() - c.value()).abs().maxCoeff() < 1e-15);
}

TEST_CASE("Adam minimises a quadratic and clipping bounds the step") {
    ad::Tape t;
    Arr start(3, 1);
    start << 5, -3, 2;
    Arr goal(3, 1);
    goal << 1, 2, -1;
    Var x = t.variable(start);
    Var loss = ad::sum(ad::square(x - t.constant(goal)));
    ad::Adam adam({0.1});
    adam.add(x);
    for (int i = 0; i < 500; ++i) {
        t.forward();
        t.backward(loss);
        CHECK(adam.step());
    }
    CHECK(loss.item() < 1e-4);

    ad::Tape t2;
    Var y = t2.variable(start);
    Var l2 = ad::sum(ad::square(y) * Real(1e6));
    ad::AdamParams p{0.1};
    p.clip_norm = 1.0;
    ad::Adam clipped(p);
    clipped.add(y);
    t2.backward(l2);
    clipped.step();
    CHECK(clipped.last_grad_norm() > 1e6);
    // Adam's first step moves each coordinate by about the learning rate, whatever the scale.
    CHECK((y.value() - start).abs().maxCoeff() == doctest::Approx(0.1).epsilon(1e-3));
}

TEST_CASE("Adam refuses a non-finite gradient and keeps the parameters") {
    ad::Tape t;
    Arr start(2, 1);
    start << 1, -1;
    Var x = t.variable(start);
    Var loss = ad::sum(ad::sqrt(x));  // sqrt(-1): NaN value and gradient
    ad::Adam adam;
    adam.add(x);
    t.backward(loss);
    CHECK_FALSE(adam.step());
    CHECK((x.value() - start).abs().maxCoeff() == 0);
}
