// Structural ops along the time axis, upsampling, cumulative sum, matrix products.
#include "ad/ops.h"

#include "dsp/spline.h"

#include <cmath>
#include <string>

namespace ddsp::ad {

namespace {

Var push_unary_input(Var x, std::unique_ptr<Node> n) {
    if (!x.valid()) graph_error(std::string(n->op_name()) + ": empty Var");
    n->inputs = {x.id};
    return x.tape->push(std::move(n));
}

// [SECTION] slice, concat, pad, reverse

class SliceNode final : public Node {
public:
    SliceNode(int start, int rows) : start_(start), rows_(rows) {}
    const char* op_name() const override { return "slice"; }
    void forward(Tape& t) override { value = t.value(inputs[0]).middleRows(start_, rows_); }
    void backward(Tape& t) override {
        bool fresh = false;
        Arr& gx = t.grad_accumulator(inputs[0], fresh);
        if (fresh) {  // first writer: assign instead of zero-fill and add
            gx.topRows(start_).setZero();
            gx.middleRows(start_, rows_) = grad;
            gx.bottomRows(gx.rows() - start_ - rows_).setZero();
        } else {
            gx.middleRows(start_, rows_) += grad;
        }
    }

private:
    int start_, rows_;
};

class ConcatNode final : public Node {
public:
    const char* op_name() const override { return "concat"; }
    void forward(Tape& t) override {
        Eigen::Index rows = 0;
        for (int in : inputs) rows += t.value(in).rows();
        value.resize(rows, t.value(inputs[0]).cols());
        Eigen::Index at = 0;
        for (int in : inputs) {
            const Arr& v = t.value(in);
            value.middleRows(at, v.rows()) = v;
            at += v.rows();
        }
    }
    void backward(Tape& t) override {
        Eigen::Index at = 0;
        for (int in : inputs) {
            const Eigen::Index r = t.value(in).rows();
            if (t.requires_grad(in)) t.grad_mutable(in) += grad.middleRows(at, r);
            at += r;
        }
    }
};

class PadNode final : public Node {
public:
    PadNode(int before, int after) : before_(before), after_(after) {}
    const char* op_name() const override { return "pad"; }
    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        value.resize(x.rows() + before_ + after_, x.cols());
        value.topRows(before_).setZero();
        value.middleRows(before_, x.rows()) = x;
        value.bottomRows(after_).setZero();
    }
    void backward(Tape& t) override {
        bool fresh = false;
        Arr& gx = t.grad_accumulator(inputs[0], fresh);
        if (fresh) gx = grad.middleRows(before_, gx.rows());
        else gx += grad.middleRows(before_, gx.rows());
    }

private:
    int before_, after_;
};

class ReverseNode final : public Node {
public:
    const char* op_name() const override { return "reverse"; }
    void forward(Tape& t) override { value = t.value(inputs[0]).colwise().reverse(); }
    void backward(Tape& t) override { t.grad_mutable(inputs[0]) += grad.colwise().reverse(); }
};

// [SECTION] upsampling

// Output row i reads frame position p_i = i * (frames - 1) / (rows - 1), between frames k_i and
// k_i + 1 with fraction u_i. The natural cubic spline adds the second-derivative terms; its
// second derivatives M solve the tridiagonal system M[j-1] + 4 M[j] + M[j+1] = 6 (second
// difference of y)[j] with M = 0 at both ends (dsp::NaturalSplineSystem, shared with the streaming
// kernels). That system is symmetric, so the backward pass solves the same system (the adjoint)
// with the same precomputed factorisation.
class UpsampleNode final : public Node {
public:
    UpsampleNode(int frames, int samples, Interp interp) : frames_(frames), interp_(interp) {
        index_.resize(samples);
        frac_.resize(samples);
        for (int i = 0; i < samples; ++i) {
            const double p = samples > 1 ? double(i) * (frames - 1) / (samples - 1) : 0.0;
            int k = int(std::floor(p));
            if (k >= frames - 1) k = std::max(0, frames - 2);
            index_[size_t(i)] = k;
            frac_[size_t(i)] = frames > 1 ? Real(p - k) : Real(0);
        }
        use_spline_ = interp == Interp::cubic && frames >= 3;
        if (use_spline_) {
            system_.init(frames);
            rhs_.resize(frames);
            m2_.resize(frames);
            gm_.resize(frames);
        }
    }
    const char* op_name() const override { return interp_ == Interp::cubic ? "upsample_cubic" : "upsample_linear"; }

    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        const Eigen::Index samples = Eigen::Index(index_.size());
        if (value.rows() != samples || value.cols() != x.cols()) value.resize(samples, x.cols());
        for (Eigen::Index c = 0; c < x.cols(); ++c) {
            const Real* y = &x(0, c);
            Real* out = &value(0, c);
            if (frames_ == 1) {
                for (Eigen::Index i = 0; i < samples; ++i) out[i] = y[0];
                continue;
            }
            if (use_spline_) system_.second_derivatives(y, rhs_.data(), m2_.data());
            const Real* m2 = use_spline_ ? m2_.data() : nullptr;
            for (Eigen::Index i = 0; i < samples; ++i) out[i] = dsp::spline_at(y, m2, index_[size_t(i)], frac_[size_t(i)]);
        }
    }

    void backward(Tape& t) override {
        Arr& gx = t.grad_mutable(inputs[0]);
        const Eigen::Index samples = Eigen::Index(index_.size());
        for (Eigen::Index c = 0; c < gx.cols(); ++c) {
            Real* gy = &gx(0, c);
            const Real* g = &grad(0, c);
            if (frames_ == 1) {
                Real total = 0;
                for (Eigen::Index i = 0; i < samples; ++i) total += g[i];
                gy[0] += total;
                continue;
            }
            if (use_spline_) std::fill(gm_.begin(), gm_.end(), Real(0));
            for (Eigen::Index i = 0; i < samples; ++i) {
                const int k = index_[size_t(i)];
                const Real u = frac_[size_t(i)], v = Real(1) - u;
                gy[k] += v * g[i];
                gy[k + 1] += u * g[i];
                if (use_spline_) {
                    gm_[size_t(k)] += (v * v * v - v) / Real(6) * g[i];
                    gm_[size_t(k + 1)] += (u * u * u - u) / Real(6) * g[i];
                }
            }
            if (use_spline_) {
                // gm -> gradient of the right-hand side (same symmetric solve), then through the
                // second difference: rhs[j] = 6 (y[j-1] - 2 y[j] + y[j+1]).
                system_.solve(gm_.data(), rhs_.data());
                for (int j = 1; j < frames_ - 1; ++j) {
                    const Real z = Real(6) * rhs_[size_t(j)];
                    gy[j - 1] += z;
                    gy[j] -= 2 * z;
                    gy[j + 1] += z;
                }
            }
        }
    }

private:
    int frames_;
    Interp interp_;
    bool use_spline_ = false;
    std::vector<int> index_;
    std::vector<Real> frac_;
    dsp::NaturalSplineSystem system_;
    std::vector<Real> rhs_, m2_, gm_;  // scratch, frames long
};

// [SECTION] cumulative sum

class CumsumNode final : public Node {
public:
    double wrap_period = 0;
    const char* op_name() const override { return "cumsum"; }
    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        if (value.rows() != x.rows() || value.cols() != x.cols()) value.resize(x.rows(), x.cols());
        for (Eigen::Index c = 0; c < x.cols(); ++c) {
            // Accumulate in double: phase sums over a minute of audio lose cycles in float.
            double acc = 0;
            if (wrap_period > 0) {
                for (Eigen::Index r = 0; r < x.rows(); ++r) {
                    acc += x(r, c);
                    if (acc >= wrap_period || acc < 0) acc -= wrap_period * std::floor(acc / wrap_period);
                    value(r, c) = Real(acc);
                }
            } else {
                for (Eigen::Index r = 0; r < x.rows(); ++r) value(r, c) = Real(acc += x(r, c));
            }
        }
    }
    void backward(Tape& t) override {
        bool fresh = false;
        Arr& gx = t.grad_accumulator(inputs[0], fresh);
        if (fresh) gx.setZero();
        for (Eigen::Index c = 0; c < gx.cols(); ++c) {
            double acc = 0;
            for (Eigen::Index r = gx.rows() - 1; r >= 0; --r) gx(r, c) += Real(acc += grad(r, c));
        }
    }
};

// [SECTION] matrices

class MatmulNode final : public Node {
public:
    const char* op_name() const override { return "matmul"; }
    void forward(Tape& t) override {
        value.resize(t.value(inputs[0]).rows(), t.value(inputs[1]).cols());
        value.matrix().noalias() = t.value(inputs[0]).matrix() * t.value(inputs[1]).matrix();
    }
    void backward(Tape& t) override {
        if (t.requires_grad(inputs[0]))
            t.grad_mutable(inputs[0]).matrix().noalias() += grad.matrix() * t.value(inputs[1]).matrix().transpose();
        if (t.requires_grad(inputs[1]))
            t.grad_mutable(inputs[1]).matrix().noalias() += t.value(inputs[0]).matrix().transpose() * grad.matrix();
    }
};

class LinearNode final : public Node {
public:
    const char* op_name() const override { return "linear"; }
    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        const Arr& w = t.value(inputs[1]);
        const Arr& b = t.value(inputs[2]);
        if (value.rows() != x.rows() || value.cols() != w.cols()) value.resize(x.rows(), w.cols());
        value.matrix().noalias() = x.matrix() * w.matrix();
        value.rowwise() += b.row(0);
    }
    void backward(Tape& t) override {
        if (t.requires_grad(inputs[0]))
            t.grad_mutable(inputs[0]).matrix().noalias() += grad.matrix() * t.value(inputs[1]).matrix().transpose();
        if (t.requires_grad(inputs[1]))
            t.grad_mutable(inputs[1]).matrix().noalias() += t.value(inputs[0]).matrix().transpose() * grad.matrix();
        if (t.requires_grad(inputs[2])) t.grad_mutable(inputs[2]) += grad.colwise().sum();
    }
};

}  // namespace

Var slice(Var x, int start_row, int num_rows) {
    if (!x.valid() || start_row < 0 || num_rows < 0 || start_row + num_rows > x.rows())
        graph_error("slice: rows out of range");
    return push_unary_input(x, std::make_unique<SliceNode>(start_row, num_rows));
}

Var concat(const std::vector<Var>& parts) {
    if (parts.empty()) graph_error("concat: no parts");
    auto n = std::make_unique<ConcatNode>();
    for (const Var& p : parts) {
        same_tape(parts[0], p);
        if (p.cols() != parts[0].cols()) graph_error("concat: parts differ in columns");
        n->inputs.push_back(p.id);
    }
    return parts[0].tape->push(std::move(n));
}

Var pad(Var x, int rows_before, int rows_after) {
    if (rows_before < 0 || rows_after < 0) graph_error("pad: negative padding");
    return push_unary_input(x, std::make_unique<PadNode>(rows_before, rows_after));
}

Var reverse(Var x) { return push_unary_input(x, std::make_unique<ReverseNode>()); }

Var upsample(Var x, int num_samples, Interp interp) {
    if (!x.valid() || x.rows() < 1 || num_samples < 1) graph_error("upsample: needs >= 1 frame and sample");
    return push_unary_input(x, std::make_unique<UpsampleNode>(x.rows(), num_samples, interp));
}

Var cumsum(Var x, double wrap_period) {
    auto n = std::make_unique<CumsumNode>();
    n->wrap_period = std::isfinite(wrap_period) && wrap_period > 0 ? wrap_period : 0;
    return push_unary_input(x, std::move(n));
}

Var matmul(Var a, Var b) {
    Tape& t = same_tape(a, b);
    if (a.cols() != b.rows()) graph_error("matmul: inner dimensions differ");
    auto n = std::make_unique<MatmulNode>();
    n->inputs = {a.id, b.id};
    return t.push(std::move(n));
}

Var linear(Var x, Var w, Var b) {
    Tape& t = same_tape(x, w);
    same_tape(x, b);
    if (x.cols() != w.rows() || b.rows() != 1 || b.cols() != w.cols()) graph_error("linear: shapes do not fit");
    auto n = std::make_unique<LinearNode>();
    n->inputs = {x.id, w.id, b.id};
    return t.push(std::move(n));
}

}  // namespace ddsp::ad
