// Elementwise binary and unary ops, reductions and bounded parameters.
#include "ad/ops.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace ddsp::ad {

// [SECTION] broadcasting helpers

namespace {

bool broadcastable(Eigen::Index a, Eigen::Index b) { return a == b || a == 1 || b == 1; }

// Adds `e` (shaped like the op's output) into `acc`, summing over the dimensions along which
// acc's operand was broadcast.
template <class Expr>
void accumulate_reduced(Arr& acc, const Expr& e) {
    if (acc.rows() == e.rows() && acc.cols() == e.cols()) {
        acc += e;
    } else if (acc.size() == 1) {
        acc(0, 0) += e.sum();
    } else if (acc.cols() == 1) {
        acc += e.rowwise().sum();
    } else {
        acc += e.colwise().sum();
    }
}

// Expands `x` to rows x cols (lazily; no allocation).
inline auto expand(const Arr& x, Eigen::Index rows, Eigen::Index cols) {
    return x.replicate(rows / x.rows(), cols / x.cols());
}

enum class BinaryKind { add, sub, mul, div, pow };

const char* binary_name(BinaryKind k) {
    switch (k) {
        case BinaryKind::add: return "add";
        case BinaryKind::sub: return "sub";
        case BinaryKind::mul: return "mul";
        case BinaryKind::div: return "div";
        case BinaryKind::pow: return "pow";
    }
    return "?";
}

class BinaryNode final : public Node {
public:
    explicit BinaryNode(BinaryKind kind) : kind_(kind) {}
    const char* op_name() const override { return binary_name(kind_); }

    void forward(Tape& t) override {
        const Arr& a = t.value(inputs[0]);
        const Arr& b = t.value(inputs[1]);
        const Eigen::Index r = std::max(a.rows(), b.rows()), c = std::max(a.cols(), b.cols());
        if (value.rows() != r || value.cols() != c) value.resize(r, c);
        const bool same = a.rows() == b.rows() && a.cols() == b.cols();
        if (same) {
            compute(a, b);
        } else if (b.size() == 1) {
            compute(a, Arr::Constant(r, c, b(0, 0)));
        } else if (a.size() == 1) {
            compute(Arr::Constant(r, c, a(0, 0)), b);
        } else {
            compute(expand(a, r, c), expand(b, r, c));
        }
    }

    void backward(Tape& t) override {
        const Arr& a = t.value(inputs[0]);
        const Arr& b = t.value(inputs[1]);
        const Eigen::Index r = value.rows(), c = value.cols();
        // Same-shape operands take the vectorised path; broadcast ones go through replicate().
        const bool a_full = a.rows() == r && a.cols() == c, b_full = b.rows() == r && b.cols() == c;
        if (a_full && b_full) {
            backward_with(t, a, b);
        } else if (a_full) {
            backward_with(t, a, expand(b, r, c));
        } else if (b_full) {
            backward_with(t, expand(a, r, c), b);
        } else {
            backward_with(t, expand(a, r, c), expand(b, r, c));
        }
    }

private:
    BinaryKind kind_;

    // A and B are the operands expanded to the output's shape.
    template <class EA, class EB>
    void backward_with(Tape& t, const EA& A, const EB& B) {
        const bool need_a = t.requires_grad(inputs[0]), need_b = t.requires_grad(inputs[1]);
        Arr& ga = t.grad_mutable(inputs[0]);
        Arr& gb = t.grad_mutable(inputs[1]);
        switch (kind_) {
            case BinaryKind::add:
                if (need_a) accumulate_reduced(ga, grad);
                if (need_b) accumulate_reduced(gb, grad);
                break;
            case BinaryKind::sub:
                if (need_a) accumulate_reduced(ga, grad);
                if (need_b) accumulate_reduced(gb, -grad);
                break;
            case BinaryKind::mul:
                if (need_a) accumulate_reduced(ga, grad * B);
                if (need_b) accumulate_reduced(gb, grad * A);
                break;
            case BinaryKind::div:
                if (need_a) accumulate_reduced(ga, grad / B);
                if (need_b) accumulate_reduced(gb, -grad * value / B);
                break;
            case BinaryKind::pow:
                if (need_a) accumulate_reduced(ga, grad * B * A.pow(B - Real(1)));
                if (need_b) accumulate_reduced(gb, grad * value * A.log());
                break;
        }
    }

    template <class EA, class EB>
    void compute(const EA& a, const EB& b) {
        switch (kind_) {
            case BinaryKind::add: value = a + b; break;
            case BinaryKind::sub: value = a - b; break;
            case BinaryKind::mul: value = a * b; break;
            case BinaryKind::div: value = a / b; break;
            case BinaryKind::pow: value = a.pow(b); break;
        }
    }
};

Var binary(BinaryKind kind, Var a, Var b) {
    Tape& t = same_tape(a, b);
    if (!broadcastable(a.rows(), b.rows()) || !broadcastable(a.cols(), b.cols()))
        graph_error(std::string(binary_name(kind)) + ": shapes " + std::to_string(a.rows()) + "x" +
                    std::to_string(a.cols()) + " and " + std::to_string(b.rows()) + "x" +
                    std::to_string(b.cols()) + " do not broadcast");
    auto n = std::make_unique<BinaryNode>(kind);
    n->inputs = {a.id, b.id};
    return t.push(std::move(n));
}

}  // namespace

Var add(Var a, Var b) { return binary(BinaryKind::add, a, b); }
Var sub(Var a, Var b) { return binary(BinaryKind::sub, a, b); }
Var mul(Var a, Var b) { return binary(BinaryKind::mul, a, b); }
Var div(Var a, Var b) { return binary(BinaryKind::div, a, b); }
Var pow(Var base, Var exponent) { return binary(BinaryKind::pow, base, exponent); }

Var operator+(Var a, Var b) { return add(a, b); }
Var operator-(Var a, Var b) { return sub(a, b); }
Var operator*(Var a, Var b) { return mul(a, b); }
Var operator/(Var a, Var b) { return div(a, b); }
Var operator+(Var a, Real s) { return add(a, a.tape->scalar(s)); }
Var operator+(Real s, Var a) { return add(a.tape->scalar(s), a); }
Var operator-(Var a, Real s) { return sub(a, a.tape->scalar(s)); }
Var operator-(Real s, Var a) { return sub(a.tape->scalar(s), a); }
Var operator*(Var a, Real s) { return mul(a, a.tape->scalar(s)); }
Var operator*(Real s, Var a) { return mul(a.tape->scalar(s), a); }
Var operator/(Var a, Real s) { return div(a, a.tape->scalar(s)); }
Var operator/(Real s, Var a) { return div(a.tape->scalar(s), a); }
Var operator-(Var a) { return neg(a); }

// [SECTION] elementwise unary ops

namespace {

enum class UnaryKind {
    neg, abs, exp, log, sqrt, square, pow, sin, cos, tanh, sigmoid, softplus, exp_sigmoid, bounded_linear,
    bounded_log
};

// Numerically stable log(1 + exp(x)) and sigmoid.
template <class E>
auto stable_softplus(const E& x) {
    return x.max(Real(0)) + (-x.abs()).exp().log1p();
}

// 1 / (1 + exp(-x)): saturates to 0 or 1 without NaN (exp overflows to inf, 1/inf = 0).
template <class E>
auto sigmoid_of(const E& x) {
    return Real(1) / (Real(1) + (-x).exp());
}

class UnaryNode final : public Node {
public:
    UnaryNode(UnaryKind kind, const char* name, Real p0 = 0, Real p1 = 0, Real p2 = 0)
        : kind_(kind), name_(name), p0_(p0), p1_(p1), p2_(p2) {}
    const char* op_name() const override { return name_; }

    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        switch (kind_) {
            case UnaryKind::neg: value = -x; break;
            case UnaryKind::abs: value = x.abs(); break;
            case UnaryKind::exp: value = x.exp(); break;
            case UnaryKind::log: value = x.log(); break;
            case UnaryKind::sqrt: value = x.sqrt(); break;
            case UnaryKind::square: value = x.square(); break;
            case UnaryKind::pow: value = x.pow(p0_); break;
            case UnaryKind::sin: value = x.sin(); break;
            case UnaryKind::cos: value = x.cos(); break;
            case UnaryKind::tanh: value = x.tanh(); break;
            case UnaryKind::sigmoid: value = sigmoid_of(x); break;
            case UnaryKind::softplus: value = stable_softplus(x); break;
            case UnaryKind::exp_sigmoid:
                // max * sigmoid(x)^log(exponent) + threshold, with sigmoid^k = exp(-k softplus(-x))
                value = p1_ * (-std::log(p0_) * stable_softplus(-x)).exp() + p2_;
                break;
            case UnaryKind::bounded_linear: value = p0_ + (p1_ - p0_) * sigmoid_of(x); break;
            case UnaryKind::bounded_log:
                value = (std::log(p0_) + (std::log(p1_) - std::log(p0_)) * sigmoid_of(x)).exp();
                break;
        }
    }

    void backward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        Arr& gx = t.grad_mutable(inputs[0]);
        switch (kind_) {
            case UnaryKind::neg: gx -= grad; break;
            case UnaryKind::abs: gx += grad * x.sign(); break;
            case UnaryKind::exp: gx += grad * value; break;
            case UnaryKind::log: gx += grad / x; break;
            case UnaryKind::sqrt: gx += grad * Real(0.5) / value; break;
            case UnaryKind::square: gx += grad * Real(2) * x; break;
            case UnaryKind::pow: gx += grad * p0_ * x.pow(p0_ - 1); break;
            case UnaryKind::sin: gx += grad * x.cos(); break;
            case UnaryKind::cos: gx -= grad * x.sin(); break;
            case UnaryKind::tanh: gx += grad * (Real(1) - value.square()); break;
            case UnaryKind::sigmoid: gx += grad * value * (Real(1) - value); break;
            case UnaryKind::softplus: gx += grad * sigmoid_of(x); break;
            case UnaryKind::exp_sigmoid:
                // d/dx [m s^k] = m k s^k (1 - s), s = sigmoid(x), k = log(exponent)
                gx += grad * std::log(p0_) * (value - p2_) * (Real(1) - sigmoid_of(x));
                break;
            case UnaryKind::bounded_linear: {
                const auto s = sigmoid_of(x);
                gx += grad * (p1_ - p0_) * s * (Real(1) - s);
                break;
            }
            case UnaryKind::bounded_log: {
                const auto s = sigmoid_of(x);
                gx += grad * value * (std::log(p1_) - std::log(p0_)) * s * (Real(1) - s);
                break;
            }
        }
    }

private:
    UnaryKind kind_;
    const char* name_;
    Real p0_, p1_, p2_;
};

Var unary(UnaryKind kind, const char* name, Var x, Real p0 = 0, Real p1 = 0, Real p2 = 0) {
    if (!x.valid()) graph_error(std::string(name) + ": empty Var");
    auto n = std::make_unique<UnaryNode>(kind, name, p0, p1, p2);
    n->inputs = {x.id};
    return x.tape->push(std::move(n));
}

}  // namespace

Var neg(Var x) { return unary(UnaryKind::neg, "neg", x); }
Var abs(Var x) { return unary(UnaryKind::abs, "abs", x); }
Var exp(Var x) { return unary(UnaryKind::exp, "exp", x); }
Var log(Var x) { return unary(UnaryKind::log, "log", x); }
Var sqrt(Var x) { return unary(UnaryKind::sqrt, "sqrt", x); }
Var square(Var x) { return unary(UnaryKind::square, "square", x); }
Var pow(Var x, Real exponent) { return unary(UnaryKind::pow, "pow", x, exponent); }
Var sin(Var x) { return unary(UnaryKind::sin, "sin", x); }
Var cos(Var x) { return unary(UnaryKind::cos, "cos", x); }
Var tanh(Var x) { return unary(UnaryKind::tanh, "tanh", x); }
Var sigmoid(Var x) { return unary(UnaryKind::sigmoid, "sigmoid", x); }
Var softplus(Var x) { return unary(UnaryKind::softplus, "softplus", x); }
Var exp_sigmoid(Var x, Real exponent, Real max_value, Real threshold) {
    if (!(exponent > 1)) graph_error("exp_sigmoid: exponent must be > 1");
    return unary(UnaryKind::exp_sigmoid, "exp_sigmoid", x, exponent, max_value, threshold);
}

// [SECTION] reductions

namespace {

enum class ReduceKind { sum, mean, rows, cols };

class ReduceNode final : public Node {
public:
    explicit ReduceNode(ReduceKind kind) : kind_(kind) {}
    const char* op_name() const override {
        switch (kind_) {
            case ReduceKind::sum: return "sum";
            case ReduceKind::mean: return "mean";
            case ReduceKind::rows: return "sum_rows";
            case ReduceKind::cols: return "sum_cols";
        }
        return "?";
    }
    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        switch (kind_) {
            case ReduceKind::sum: value.resize(1, 1); value(0, 0) = x.sum(); break;
            case ReduceKind::mean: value.resize(1, 1); value(0, 0) = x.mean(); break;
            case ReduceKind::rows: value = x.colwise().sum(); break;
            case ReduceKind::cols: value = x.rowwise().sum(); break;
        }
    }
    void backward(Tape& t) override {
        Arr& gx = t.grad_mutable(inputs[0]);
        switch (kind_) {
            case ReduceKind::sum: gx += grad(0, 0); break;
            case ReduceKind::mean: gx += grad(0, 0) / Real(gx.size()); break;
            case ReduceKind::rows: gx.rowwise() += grad.row(0); break;
            case ReduceKind::cols: gx.colwise() += grad.col(0); break;
        }
    }

private:
    ReduceKind kind_;
};

Var reduce(ReduceKind kind, Var x) {
    if (!x.valid()) graph_error("reduction of an empty Var");
    if (x.size() == 0) graph_error("reduction of an empty array");
    auto n = std::make_unique<ReduceNode>(kind);
    n->inputs = {x.id};
    return x.tape->push(std::move(n));
}

}  // namespace

Var sum(Var x) { return reduce(ReduceKind::sum, x); }
Var mean(Var x) { return reduce(ReduceKind::mean, x); }
Var sum_rows(Var x) { return reduce(ReduceKind::rows, x); }
Var sum_cols(Var x) { return reduce(ReduceKind::cols, x); }

// [SECTION] fused distances

namespace {

// Forward stores each element's derivative (sign / (a + floor) or sign) in `slope_`, so the
// backward pass is a single multiply-add.
class MeanAbsDiffNode final : public Node {
public:
    MeanAbsDiffNode(bool log_domain, Real floor) : log_domain_(log_domain), floor_(floor) {}
    const char* op_name() const override { return log_domain_ ? "mean_abs_log_diff" : "mean_abs_diff"; }
    void forward(Tape& t) override {
        const Arr& a = t.value(inputs[0]);
        const Arr& b = t.value(inputs[1]);
        if (slope_.rows() != a.rows() || slope_.cols() != a.cols()) slope_.resize(a.rows(), a.cols());
        const Eigen::Index n = a.size();
        const Real* pa = a.data();
        Real* ps = slope_.data();
        // Eigen's vectorised log and sum; the sign loops are branch-free so they vectorise too.
        if (log_domain_) {
            slope_ = (a + floor_).log() - b;
        } else {
            slope_ = a - b;
        }
        const double total = double(slope_.abs().sum());
        if (log_domain_) {
            for (Eigen::Index i = 0; i < n; ++i) ps[i] = (Real(ps[i] > 0) - Real(ps[i] < 0)) / (pa[i] + floor_);
        } else {
            for (Eigen::Index i = 0; i < n; ++i) ps[i] = Real(ps[i] > 0) - Real(ps[i] < 0);
        }
        value.resize(1, 1);
        value(0, 0) = Real(total / double(n));
    }
    void backward(Tape& t) override {
        const Real g = grad(0, 0) / Real(slope_.size());
        if (t.requires_grad(inputs[0])) t.grad_mutable(inputs[0]) += g * slope_;
        if (t.requires_grad(inputs[1])) t.grad_mutable(inputs[1]) -= g * (log_domain_ ? slope_ * (t.value(inputs[0]) + floor_) : slope_);
    }

private:
    bool log_domain_;
    Real floor_;
    Arr slope_;
};

Var mean_abs(bool log_domain, Var a, Var b, Real floor) {
    Tape& t = same_tape(a, b);
    if (a.rows() != b.rows() || a.cols() != b.cols() || a.size() == 0)
        graph_error("mean_abs_diff: operands must have the same non-empty shape");
    auto n = std::make_unique<MeanAbsDiffNode>(log_domain, floor);
    n->inputs = {a.id, b.id};
    return t.push(std::move(n));
}

}  // namespace

Var mean_abs_diff(Var a, Var b) { return mean_abs(false, a, b, 0); }
Var mean_abs_log_diff(Var a, Var log_b, Real floor) {
    if (!(floor > 0)) graph_error("mean_abs_log_diff: floor must be > 0");
    return mean_abs(true, a, log_b, floor);
}

// [SECTION] bounded parameters

Var bounded(Var u, Real min_value, Real max_value, Scale scale) {
    if (!(max_value > min_value)) graph_error("bounded: max must exceed min");
    if (scale == Scale::log) {
        if (!(min_value > 0)) graph_error("bounded: log scale needs min > 0");
        return unary(UnaryKind::bounded_log, "bounded_log", u, min_value, max_value);
    }
    return unary(UnaryKind::bounded_linear, "bounded_linear", u, min_value, max_value);
}

double bounded_value(double u, double min_value, double max_value, Scale scale) {
    const double s = 1.0 / (1.0 + std::exp(-u));
    if (scale == Scale::log) return std::exp(std::log(min_value) + (std::log(max_value) - std::log(min_value)) * s);
    return min_value + (max_value - min_value) * s;
}

double unbounded_value(double value, double min_value, double max_value, Scale scale) {
    double s = scale == Scale::log
                   ? (std::log(value) - std::log(min_value)) / (std::log(max_value) - std::log(min_value))
                   : (value - min_value) / (max_value - min_value);
    if (!std::isfinite(s)) s = 0.5;
    // Keep inside (0, 1): the ends map to +-infinity and have a zero gradient.
    s = std::clamp(s, 1e-6, 1.0 - 1e-6);
    return std::log(s / (1.0 - s));
}

}  // namespace ddsp::ad
