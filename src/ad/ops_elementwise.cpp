// Elementwise binary and unary ops, reductions and bounded parameters.
#include "ad/ops.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace ddsp::ad {

// [SECTION] broadcasting helpers

namespace {

bool broadcastable(Eigen::Index a, Eigen::Index b) { return a == b || a == 1 || b == 1; }

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

// One column of an operand as the op sees it: element i is p[i] or, broadcast down the rows, p[0].
struct ColumnRef {
    const Real* p;
    bool broadcast;
};

ColumnRef column_of(const Arr& x, Eigen::Index col) {
    return {x.data() + (x.cols() == 1 ? 0 : col * x.rows()), x.rows() == 1};
}

// Runs body(i, a_i, b_i) over one column, with the broadcast cases compiled separately so each
// loop has unit-stride or loop-invariant loads and vectorises (Eigen's replicate() does not, and
// Eigen has no SIMD path in wasm at all).
template <class Body>
inline void for_column(Eigen::Index rows, ColumnRef a, ColumnRef b, Body&& body) {
    if (!a.broadcast && !b.broadcast) {
        for (Eigen::Index i = 0; i < rows; ++i) body(i, a.p[i], b.p[i]);
    } else if (!a.broadcast) {
        const Real bv = b.p[0];
        for (Eigen::Index i = 0; i < rows; ++i) body(i, a.p[i], bv);
    } else if (!b.broadcast) {
        const Real av = a.p[0];
        for (Eigen::Index i = 0; i < rows; ++i) body(i, av, b.p[i]);
    } else {
        const Real av = a.p[0], bv = b.p[0];
        for (Eigen::Index i = 0; i < rows; ++i) body(i, av, bv);
    }
}

// sum over i of f(i, a_i, b_i) with eight partial sums, so the reduction vectorises without
// -ffast-math.
template <class F>
inline Real sum_column(Eigen::Index rows, ColumnRef a, ColumnRef b, F&& f) {
    Real part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    auto run = [&](auto load_a, auto load_b) {
        Eigen::Index i = 0;
        for (; i + 8 <= rows; i += 8)
            for (int l = 0; l < 8; ++l) part[l] += f(i + l, load_a(i + l), load_b(i + l));
        for (; i < rows; ++i) part[0] += f(i, load_a(i), load_b(i));
    };
    const Real av = a.p[0], bv = b.p[0];
    auto vec_a = [&](Eigen::Index i) { return a.p[i]; };
    auto vec_b = [&](Eigen::Index i) { return b.p[i]; };
    auto one_a = [av](Eigen::Index) { return av; };
    auto one_b = [bv](Eigen::Index) { return bv; };
    if (!a.broadcast && !b.broadcast) run(vec_a, vec_b);
    else if (!a.broadcast) run(vec_a, one_b);
    else if (!b.broadcast) run(one_a, vec_b);
    else run(one_a, one_b);
    return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
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
        for (Eigen::Index j = 0; j < c; ++j) {
            Real* v = &value(0, j);
            const ColumnRef ca = column_of(a, j), cb = column_of(b, j);
            switch (kind_) {
                case BinaryKind::add: for_column(r, ca, cb, [v](Eigen::Index i, Real x, Real y) { v[i] = x + y; }); break;
                case BinaryKind::sub: for_column(r, ca, cb, [v](Eigen::Index i, Real x, Real y) { v[i] = x - y; }); break;
                case BinaryKind::mul: for_column(r, ca, cb, [v](Eigen::Index i, Real x, Real y) { v[i] = x * y; }); break;
                case BinaryKind::div: for_column(r, ca, cb, [v](Eigen::Index i, Real x, Real y) { v[i] = x / y; }); break;
                case BinaryKind::pow:
                    for_column(r, ca, cb, [v](Eigen::Index i, Real x, Real y) { v[i] = std::pow(x, y); });
                    break;
            }
        }
    }

    void backward(Tape& t) override {
        const Real* g = grad.data();
        const Real* out = value.data();
        // d out / d a and d out / d b at one element (g: the output's gradient there).
        switch (kind_) {
            case BinaryKind::add:
                backward_side(t, 0, [g](Eigen::Index i, Real, Real) { return g[i]; });
                backward_side(t, 1, [g](Eigen::Index i, Real, Real) { return g[i]; });
                break;
            case BinaryKind::sub:
                backward_side(t, 0, [g](Eigen::Index i, Real, Real) { return g[i]; });
                backward_side(t, 1, [g](Eigen::Index i, Real, Real) { return -g[i]; });
                break;
            case BinaryKind::mul:
                backward_side(t, 0, [g](Eigen::Index i, Real, Real y) { return g[i] * y; });
                backward_side(t, 1, [g](Eigen::Index i, Real x, Real) { return g[i] * x; });
                break;
            case BinaryKind::div:
                backward_side(t, 0, [g](Eigen::Index i, Real, Real y) { return g[i] / y; });
                backward_side(t, 1, [g, out](Eigen::Index i, Real, Real y) { return -g[i] * out[i] / y; });
                break;
            case BinaryKind::pow:
                backward_side(t, 0, [g](Eigen::Index i, Real x, Real y) { return g[i] * y * std::pow(x, y - Real(1)); });
                backward_side(t, 1, [g, out](Eigen::Index i, Real x, Real) { return g[i] * out[i] * std::log(x); });
                break;
        }
    }

private:
    BinaryKind kind_;

    // Adds d(i, a_i, b_i) (i indexing the output column-major) into the gradient of input `side`,
    // summed over the dimensions along which that input was broadcast.
    template <class D>
    void backward_side(Tape& t, int side, D&& d) {
        const int id = inputs[size_t(side)];
        if (!t.requires_grad(id)) return;
        const Arr& a = t.value(inputs[0]);
        const Arr& b = t.value(inputs[1]);
        const Eigen::Index r = value.rows(), c = value.cols();
        bool fresh = false;
        Arr& gx = t.grad_accumulator(id, fresh);
        const bool full = gx.rows() == r && gx.cols() == c;
        if (fresh && !full) gx.setZero();  // reductions add, and it is small
        for (Eigen::Index j = 0; j < c; ++j) {
            const ColumnRef ca = column_of(a, j), cb = column_of(b, j);
            const Eigen::Index off = j * r;  // the column's first output element
            auto dj = [&d, off](Eigen::Index i, Real x, Real y) { return d(off + i, x, y); };
            Real* gcol = gx.data() + (gx.cols() == 1 ? 0 : j * gx.rows());
            if (gx.rows() == 1 && r > 1) {
                gcol[0] += sum_column(r, ca, cb, dj);
            } else if (fresh && full) {
                for_column(r, ca, cb, [&](Eigen::Index i, Real x, Real y) { gcol[i] = dj(i, x, y); });
            } else {
                for_column(r, ca, cb, [&](Eigen::Index i, Real x, Real y) { gcol[i] += dj(i, x, y); });
            }
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
        bool fresh = false;
        Arr& gx = t.grad_accumulator(inputs[0], fresh);
        // The first writer in a backward sweep assigns (no zero-fill, no read).
        auto put = [&](const auto& e) {
            if (fresh) gx = e;
            else gx += e;
        };
        switch (kind_) {
            case UnaryKind::neg: put(-grad); break;
            case UnaryKind::abs: put(grad * x.sign()); break;
            case UnaryKind::exp: put(grad * value); break;
            case UnaryKind::log: put(grad / x); break;
            case UnaryKind::sqrt: put(grad * Real(0.5) / value); break;
            case UnaryKind::square: put(grad * Real(2) * x); break;
            case UnaryKind::pow: put(grad * p0_ * x.pow(p0_ - 1)); break;
            case UnaryKind::sin: put(grad * x.cos()); break;
            case UnaryKind::cos: put(-grad * x.sin()); break;
            case UnaryKind::tanh: put(grad * (Real(1) - value.square())); break;
            case UnaryKind::sigmoid: put(grad * value * (Real(1) - value)); break;
            case UnaryKind::softplus: put(grad * sigmoid_of(x)); break;
            case UnaryKind::exp_sigmoid:
                // d/dx [m s^k] = m k s^k (1 - s), s = sigmoid(x), k = log(exponent)
                put(grad * std::log(p0_) * (value - p2_) * (Real(1) - sigmoid_of(x)));
                break;
            case UnaryKind::bounded_linear: {
                const auto s = sigmoid_of(x);
                put(grad * (p1_ - p0_) * s * (Real(1) - s));
                break;
            }
            case UnaryKind::bounded_log: {
                const auto s = sigmoid_of(x);
                put(grad * value * (std::log(p1_) - std::log(p0_)) * s * (Real(1) - s));
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
        bool fresh = false;
        Arr& gx = t.grad_accumulator(inputs[0], fresh);
        if (fresh) {  // first writer: assign instead of zero-fill and add
            switch (kind_) {
                case ReduceKind::sum: gx.setConstant(grad(0, 0)); return;
                case ReduceKind::mean: gx.setConstant(grad(0, 0) / Real(gx.size())); return;
                default: gx.setZero(); break;
            }
        }
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

// log(x) for float: x = 2^e m, m in [sqrt(1/2), sqrt(2)), and the Cephes logf polynomial (about
// 1 ulp) on m - 1. Bit operations and selects only, so loops over it vectorise natively and in
// wasm (where Eigen's log is a scalar libm call per element). `bad` gets a nonzero bit for any x
// outside the positive normal floats (0, denormals, inf, NaN, negatives): callers then redo the
// whole array with the library log, so those keep their usual results.
[[maybe_unused]] inline float fast_logf(float x, uint32_t& bad) {
    // Integer tests only: g++ does not if-convert float comparisons (they may trap), and a
    // branch would stop the vectoriser.
    uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    bad |= uint32_t(bits - 0x00800000u > 0x7f7fffffu - 0x00800000u);  // not a positive normal
    const uint32_t mantissa = bits & 0x007fffffu;
    const int32_t high = int32_t(mantissa > 0x003504f3u);  // m > sqrt(2): halve it
    const uint32_t m_bits = mantissa | (0x3f800000u - (uint32_t(high) << 23));
    float m;
    std::memcpy(&m, &m_bits, sizeof m);
    const float e = float(int32_t(bits >> 23) - 127 + high);
    const float z = m - 1.0f;  // in [sqrt(1/2) - 1, sqrt(2) - 1]
    const float z2 = z * z;
    float p = 7.0376836292e-2f;
    p = p * z - 1.1514610310e-1f;
    p = p * z + 1.1676998740e-1f;
    p = p * z - 1.2420140846e-1f;
    p = p * z + 1.4249322787e-1f;
    p = p * z - 1.6668057665e-1f;
    p = p * z + 2.0000714765e-1f;
    p = p * z - 2.4999993993e-1f;
    p = p * z + 3.3333331174e-1f;
    // ln 2 split in two (0.693359375 is exact in few bits) keeps e ln 2 exact to float.
    const float y = p * z * z2 - 2.12194440e-4f * e - 0.5f * z2;
    return z + y + 0.693359375f * e;
}

// Sum of x[0..n) with eight double partial sums: vectorises without -ffast-math, and the 10^5 to
// 10^6 terms of a spectrogram lose nothing to float accumulation.
inline void add_to_partials(const Real* x, int n, double* part) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) part[l] += double(x[i + l]);
    for (; i < n; ++i) part[0] += double(x[i]);
}

inline double sum_partials(const double* part) {
    return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

// One pass over the operands (a, b and the output of backward are each touched once, in blocks
// that stay in L1): these run over every bin of every frame of every resolution of the
// multi-resolution STFT loss, where separate passes for the difference, the log, the absolute
// value and the sum were memory-bound. On gradient tapes forward keeps only what backward needs:
// the sign of a - b (one byte per element), or in the log domain the slope sign(d) / (a + floor).
class MeanAbsDiffNode final : public Node {
public:
    MeanAbsDiffNode(bool log_domain, Real floor) : log_domain_(log_domain), floor_(floor) {}
    const char* op_name() const override { return log_domain_ ? "mean_abs_log_diff" : "mean_abs_diff"; }
    void adopt(Node& old) override {
        auto& o = static_cast<MeanAbsDiffNode&>(old);
        slope_.swap(o.slope_);
        sign_.swap(o.sign_);
    }
    void forward(Tape& t) override {
        const Arr& a = t.value(inputs[0]);
        const Arr& b = t.value(inputs[1]);
        const Eigen::Index n = a.size();
        if (requires_grad) {
            if (log_domain_) slope_.resize(size_t(n));
            else sign_.resize(size_t(n));
        }
        double total = log_domain_ ? sum_log(a.data(), b.data(), n) : sum_linear(a.data(), b.data(), n);
        value.resize(1, 1);
        value(0, 0) = Real(total / double(n));
    }
    void backward(Tape& t) override {
        const Real g = grad(0, 0) / Real(t.value(inputs[0]).size());
        const Eigen::Index n = t.value(inputs[0]).size();
        for (int side = 0; side < 2; ++side) {
            const int id = inputs[size_t(side)];
            if (!t.requires_grad(id)) continue;
            bool fresh = false;
            Real* ga = t.grad_accumulator(id, fresh).data();
            if (fresh) std::fill(ga, ga + n, Real(0));  // rare: the loss's first writer is side 0
            if (log_domain_) {
                const Real* q = slope_.data();
                if (side == 0) {
                    for (Eigen::Index i = 0; i < n; ++i) ga[i] += g * q[i];
                } else {  // sign(d) = sign(slope), a + floor > 0
                    for (Eigen::Index i = 0; i < n; ++i) ga[i] -= g * (Real(q[i] > 0) - Real(q[i] < 0));
                }
            } else {
                const int8_t* s = sign_.data();
                const Real gs = side == 0 ? g : -g;
                for (Eigen::Index i = 0; i < n; ++i) ga[i] += gs * Real(s[i]);
            }
        }
    }

private:
    static constexpr int kBlock = 512;
    bool log_domain_;
    Real floor_;
    std::vector<Real> slope_;    // log domain, gradient tapes: sign(d) / (a + floor)
    std::vector<int8_t> sign_;   // linear, gradient tapes: sign(a - b)
    Real block_[kBlock];         // |d| of one block, summed separately so both loops vectorise

    double sum_linear(const Real* a, const Real* b, Eigen::Index n) {
        double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int8_t* s = requires_grad ? sign_.data() : nullptr;
        for (Eigen::Index i0 = 0; i0 < n; i0 += kBlock) {
            const int len = int(std::min<Eigen::Index>(kBlock, n - i0));
            const Real* pa = a + i0;
            const Real* pb = b + i0;
            Real* abs_d = block_;
            if (s) {
                int8_t* ps = s + i0;
                for (int i = 0; i < len; ++i) {
                    const Real d = pa[i] - pb[i];
                    abs_d[i] = std::abs(d);
                    ps[i] = int8_t(int(d > 0) - int(d < 0));
                }
            } else {
                for (int i = 0; i < len; ++i) abs_d[i] = std::abs(pa[i] - pb[i]);
            }
            add_to_partials(abs_d, len, part);
        }
        return sum_partials(part);
    }

    double sum_log(const Real* a, const Real* b, Eigen::Index n) {
        double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        Real* q = requires_grad ? slope_.data() : nullptr;
        const Real fl = floor_;
        uint32_t bad = 0;
        for (Eigen::Index i0 = 0; i0 < n; i0 += kBlock) {
            const int len = int(std::min<Eigen::Index>(kBlock, n - i0));
            const Real* pa = a + i0;
            const Real* pb = b + i0;
            Real* abs_d = block_;
            if constexpr (std::is_same_v<Real, float>) {
                for (int i = 0; i < len; ++i) abs_d[i] = fast_logf(pa[i] + fl, bad) - pb[i];
            } else {
                bad = 1;
                break;
            }
            if (q) {
                Real* pq = q + i0;
                for (int i = 0; i < len; ++i) {
                    const Real d = abs_d[i];
                    pq[i] = (Real(d > 0) - Real(d < 0)) / (pa[i] + fl);
                }
            }
            for (int i = 0; i < len; ++i) abs_d[i] = std::abs(abs_d[i]);
            add_to_partials(abs_d, len, part);
        }
        if (!bad) return sum_partials(part);
        // Library log (double builds, and inputs the fast log does not cover).
        std::fill(part, part + 8, 0.0);
        for (Eigen::Index i = 0; i < n; ++i) {
            const Real d = std::log(a[i] + fl) - b[i];
            if (q) q[i] = (Real(d > 0) - Real(d < 0)) / (a[i] + fl);
            part[0] += double(std::abs(d));
        }
        return part[0];
    }
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

void log_with_floor(const Arr& x, Real floor, Arr& out) {
    out.resize(x.rows(), x.cols());
    const Eigen::Index n = x.size();
    const Real* px = x.data();
    Real* po = out.data();
    uint32_t bad = 0;
    if constexpr (std::is_same_v<Real, float>) {
        for (Eigen::Index i = 0; i < n; ++i) po[i] = fast_logf(px[i] + floor, bad);
    } else {
        bad = 1;
    }
    // The same fallback rule as MeanAbsDiffNode: any input outside the fast log's domain means
    // the library log for the whole array.
    if (bad)
        for (Eigen::Index i = 0; i < n; ++i) po[i] = std::log(px[i] + floor);
}

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
