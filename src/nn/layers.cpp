#include "nn/layers.h"

#include "ad/ops.h"

#include <cmath>
#include <memory>
#include <utility>

namespace ddsp::nn {

using ad::Node;
using ad::Tape;
using ad::Var;

namespace {

class LayerNormNode final : public Node {
public:
    explicit LayerNormNode(Real eps) : eps_(eps) {}
    const char* op_name() const override { return "layer_norm"; }
    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        const Arr& gain = t.value(inputs[1]);
        const Arr& bias = t.value(inputs[2]);
        const Eigen::Index rows = x.rows(), cols = x.cols();
        // Unconditional: buffers adopted from a truncated node may have any shape.
        value.resize(rows, cols);
        xhat_.resize(rows, cols);
        inv_sigma_.resize(rows);
        for (Eigen::Index r = 0; r < rows; ++r) {
            const Real mu = x.row(r).mean();
            const Real var = (x.row(r) - mu).square().mean();
            const Real inv = Real(1) / std::sqrt(var + eps_);
            inv_sigma_(r) = inv;
            xhat_.row(r) = (x.row(r) - mu) * inv;
        }
        value = xhat_.rowwise() * gain.row(0);
        value.rowwise() += bias.row(0);
    }
    void adopt(Node& old) override {
        auto& o = static_cast<LayerNormNode&>(old);
        xhat_.swap(o.xhat_);
        inv_sigma_.swap(o.inv_sigma_);
    }
    void backward(Tape& t) override {
        const Arr& gain = t.value(inputs[1]);
        if (t.requires_grad(inputs[0])) {
            // dx = inv_sigma * (d - mean(d) - xhat * mean(d * xhat)) with d = g * gain, per row.
            bool fresh = false;
            Arr& gx = t.grad_accumulator(inputs[0], fresh);
            const Real inv_c = Real(1) / Real(value.cols());
            for (Eigen::Index r = 0; r < value.rows(); ++r) {
                Real sum_d = 0, sum_dx = 0;
                for (Eigen::Index c = 0; c < value.cols(); ++c) {
                    const Real d = grad(r, c) * gain(0, c);
                    sum_d += d;
                    sum_dx += d * xhat_(r, c);
                }
                const Real mean_d = sum_d * inv_c, mean_dx = sum_dx * inv_c;
                for (Eigen::Index c = 0; c < value.cols(); ++c) {
                    const Real v = inv_sigma_(r) * (grad(r, c) * gain(0, c) - mean_d - xhat_(r, c) * mean_dx);
                    if (fresh)
                        gx(r, c) = v;
                    else
                        gx(r, c) += v;
                }
            }
        }
        if (t.requires_grad(inputs[1])) t.grad_mutable(inputs[1]) += (grad * xhat_).colwise().sum();
        if (t.requires_grad(inputs[2])) t.grad_mutable(inputs[2]) += grad.colwise().sum();
    }

private:
    Real eps_;
    Arr xhat_;
    Vec inv_sigma_;
};

class LeakyReluNode final : public Node {
public:
    explicit LeakyReluNode(Real slope) : slope_(slope) {}
    const char* op_name() const override { return "leaky_relu"; }
    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        value = (x > 0).select(x, slope_ * x);
    }
    void backward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        bool fresh = false;
        Arr& gx = t.grad_accumulator(inputs[0], fresh);
        if (fresh)
            gx = (x > 0).select(grad, slope_ * grad);
        else
            gx += (x > 0).select(grad, slope_ * grad);
    }

private:
    Real slope_;
};

// Buffers are kept feature-major (features x T) so each time step is one contiguous column.
class GruNode final : public Node {
public:
    GruNode(int steps, int hidden) : t_(steps), h_(hidden) {}
    const char* op_name() const override { return "gru"; }
    void adopt(Node& old) override {
        auto& o = static_cast<GruNode&>(old);
        for (auto [a, b] : {std::pair{&gi_, &o.gi_}, {&hs_, &o.hs_}, {&r_, &o.r_}, {&z_, &o.z_}, {&n_, &o.n_},
                            {&hn_, &o.hn_}, {&dgi_, &o.dgi_}, {&dgh_, &o.dgh_}, {&g_t_, &o.g_t_}})
            a->swap(*b);
        gh_.swap(o.gh_);
        w_h_t_.swap(o.w_h_t_);
        carry_.swap(o.carry_);
        dh_.swap(o.dh_);
    }

    void forward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        const Arr& h0 = t.value(inputs[1]);
        const Arr& w_i = t.value(inputs[2]);
        const Arr& w_h = t.value(inputs[3]);
        const Arr& b_i = t.value(inputs[4]);
        const Arr& b_h = t.value(inputs[5]);
        const int h = h_;
        // Unconditional (no-ops at the same size): adopted buffers may have any shape.
        value.resize(t_, h);
        gi_.resize(3 * h, t_);
        hs_.resize(h, t_ + 1);
        r_.resize(h, t_);
        z_.resize(h, t_);
        n_.resize(h, t_);
        hn_.resize(h, t_);
        gh_.resize(3 * h);
        w_h_t_.resize(3 * h, h);
        // Input projections for all steps at once (one GEMM), then the recurrence.
        gi_.matrix().noalias() = w_i.matrix().transpose() * x.matrix().transpose();
        gi_.colwise() += b_i.row(0).transpose();
        w_h_t_.noalias() = w_h.matrix().transpose();
        hs_.col(0) = h0.row(0).transpose();
        for (int s = 0; s < t_; ++s) {
            gh_.matrix().noalias() = w_h_t_ * hs_.col(s).matrix();
            gh_ += b_h.row(0).transpose();
            // Whole-column array expressions: Eigen vectorises exp and tanh.
            r_.col(s) = (Real(1) + (-(gi_.col(s).head(h) + gh_.head(h))).exp()).inverse();
            z_.col(s) = (Real(1) + (-(gi_.col(s).segment(h, h) + gh_.segment(h, h))).exp()).inverse();
            hn_.col(s) = gh_.tail(h);
            n_.col(s) = (gi_.col(s).tail(h) + r_.col(s) * hn_.col(s)).tanh();
            hs_.col(s + 1) = (Real(1) - z_.col(s)) * n_.col(s) + z_.col(s) * hs_.col(s);
        }
        value = hs_.rightCols(t_).transpose();
    }

    void backward(Tape& t) override {
        const Arr& x = t.value(inputs[0]);
        const Arr& w_i = t.value(inputs[2]);
        const Arr& w_h = t.value(inputs[3]);
        const int h = h_;
        dgi_.resize(3 * h, t_);
        dgh_.resize(3 * h, t_);
        g_t_.resize(h, t_);
        carry_.resize(h);
        dh_.resize(h);
        g_t_ = grad.transpose();
        carry_.setZero();  // d loss / d h_s flowing back from step s + 1
        for (int s = t_ - 1; s >= 0; --s) {
            dh_ = g_t_.col(s) + carry_;
            const auto r = r_.col(s), z = z_.col(s), n = n_.col(s);
            auto dgi = dgi_.col(s), dgh = dgh_.col(s);
            dgi.tail(h) = dh_ * (Real(1) - z) * (Real(1) - n.square());                  // d n pre-activation
            dgi.head(h) = dgi.tail(h) * hn_.col(s) * r * (Real(1) - r);                 // d r pre-activation
            dgi.segment(h, h) = dh_ * (hs_.col(s) - n) * z * (Real(1) - z);             // d z pre-activation
            dgh.head(2 * h) = dgi.head(2 * h);
            dgh.tail(h) = dgi.tail(h) * r;
            carry_ = dh_ * z;
            carry_.matrix().noalias() += w_h.matrix() * dgh_.col(s).matrix();
        }
        t.accumulate_grad(inputs[0], dgi_.matrix().transpose() * w_i.matrix().transpose());
        t.accumulate_grad(inputs[1], carry_.matrix().transpose());
        t.accumulate_grad(inputs[2], x.matrix().transpose() * dgi_.matrix().transpose());
        t.accumulate_grad(inputs[3], hs_.leftCols(t_).matrix() * dgh_.matrix().transpose());
        t.accumulate_grad(inputs[4], dgi_.matrix().rowwise().sum().transpose());
        t.accumulate_grad(inputs[5], dgh_.matrix().rowwise().sum().transpose());
    }

private:
    int t_, h_;
    Arr gi_;           // 3H x T input projections + b_i
    Arr hs_;           // H x (T + 1): h0, h_1 .. h_T
    Arr r_, z_, n_;    // H x T gate activations
    Arr hn_;           // H x T: h_{t-1} W_hn + b_hn (what r multiplies)
    Vec gh_;           // 3H: one step's recurrent projection
    Mat w_h_t_;        // 3H x H: w_h transposed, contiguous for the per-step product
    Arr dgi_, dgh_;    // 3H x T gradients of the gate pre-activations (input / recurrent side)
    Arr g_t_;          // H x T: the incoming gradient, transposed
    Vec carry_, dh_;   // H
};

}  // namespace

Var layer_norm(Var x, Var gain, Var bias, Real eps) {
    Tape& t = ad::same_tape(x, gain);
    ad::same_tape(x, bias);
    if (gain.rows() != 1 || bias.rows() != 1 || gain.cols() != x.cols() || bias.cols() != x.cols())
        ad::graph_error("layer_norm: gain and bias must be 1 x features");
    auto n = std::make_unique<LayerNormNode>(eps);
    n->inputs = {x.id, gain.id, bias.id};
    return t.push(std::move(n));
}

Var leaky_relu(Var x, Real slope) {
    if (!x.valid()) ad::graph_error("leaky_relu: empty Var");
    auto n = std::make_unique<LeakyReluNode>(slope);
    n->inputs = {x.id};
    return x.tape->push(std::move(n));
}

Var relu(Var x) { return leaky_relu(x, Real(0)); }

Var gru(Var x, Var h0, Var w_i, Var w_h, Var b_i, Var b_h) {
    Tape& t = ad::same_tape(x, h0);
    for (const Var& v : {w_i, w_h, b_i, b_h}) ad::same_tape(x, v);
    const int hidden = h0.cols();
    if (h0.rows() != 1 || w_i.rows() != x.cols() || w_i.cols() != 3 * hidden || w_h.rows() != hidden ||
        w_h.cols() != 3 * hidden || b_i.rows() != 1 || b_i.cols() != 3 * hidden || b_h.rows() != 1 ||
        b_h.cols() != 3 * hidden)
        ad::graph_error("gru: shapes do not fit (x T x I, h0 1 x H, w_i I x 3H, w_h H x 3H, biases 1 x 3H)");
    auto n = std::make_unique<GruNode>(x.rows(), hidden);
    n->inputs = {x.id, h0.id, w_i.id, w_h.id, b_i.id, b_h.id};
    return t.push(std::move(n));
}

// [SECTION] parameters

Var ParamStore::add(const std::string& name, const Arr& value) {
    if (find(name) != nullptr) ad::graph_error("ParamStore: duplicate parameter name " + name);
    const Var v = tape_->variable(value);
    params_.push_back(Param{v, name});
    return v;
}

Var ParamStore::uniform(const std::string& name, int rows, int cols, double limit) {
    Arr a(rows, cols);
    for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = Real(rng_.uniform(-limit, limit));
    return add(name, a);
}

Var ParamStore::glorot_uniform(const std::string& name, int rows, int cols, int fan_in, int fan_out) {
    return uniform(name, rows, cols, std::sqrt(6.0 / double(fan_in + fan_out)));
}

Var ParamStore::he_uniform(const std::string& name, int rows, int cols, int fan_in) {
    return uniform(name, rows, cols, std::sqrt(6.0 / double(fan_in)));
}

Var ParamStore::constant_init(const std::string& name, int rows, int cols, Real value) {
    return add(name, Arr(Arr::Constant(rows, cols, value)));
}

const Param* ParamStore::find(const std::string& name) const {
    for (const Param& p : params_)
        if (p.name == name) return &p;
    return nullptr;
}

bool ParamStore::set(const std::string& name, const Arr& value) {
    const Param* p = find(name);
    if (p == nullptr || p->var.rows() != value.rows() || p->var.cols() != value.cols()) return false;
    tape_->set_value(p->var, value);
    return true;
}

void ParamStore::add_to(ad::Adam& adam) const {
    for (const Param& p : params_) adam.add(p.var);
}

long long ParamStore::num_values() const {
    long long n = 0;
    for (const Param& p : params_) n += p.var.size();
    return n;
}

// [SECTION] layers

Linear::Linear(ParamStore& store, const std::string& name, int in_features, int out_features)
    : w(store.glorot_uniform(name + ".w", in_features, out_features, in_features, out_features)),
      b(store.constant_init(name + ".b", 1, out_features, 0)) {}

Var Linear::operator()(Var x) const { return ad::linear(x, w, b); }

LayerNorm::LayerNorm(ParamStore& store, const std::string& name, int features)
    : gain(store.constant_init(name + ".gain", 1, features, 1)),
      bias(store.constant_init(name + ".bias", 1, features, 0)) {}

Var LayerNorm::operator()(Var x) const { return layer_norm(x, gain, bias, eps); }

Mlp::Mlp(ParamStore& store, const std::string& name, int in_features, int hidden_size, int num_layers,
         Real leaky_slope)
    : slope(leaky_slope) {
    for (int i = 0; i < num_layers; ++i) {
        const std::string prefix = name + "." + std::to_string(i);
        linears.emplace_back(store, prefix + ".linear", i == 0 ? in_features : hidden_size, hidden_size);
        norms.emplace_back(store, prefix + ".norm", hidden_size);
    }
}

Var Mlp::operator()(Var x) const {
    for (size_t i = 0; i < linears.size(); ++i) x = leaky_relu(norms[i](linears[i](x)), slope);
    return x;
}

Gru::Gru(ParamStore& store, const std::string& name, int in_features, int hidden_size) : hidden(hidden_size) {
    const double limit = 1.0 / std::sqrt(double(hidden_size));
    w_i = store.uniform(name + ".w_i", in_features, 3 * hidden_size, limit);
    w_h = store.uniform(name + ".w_h", hidden_size, 3 * hidden_size, limit);
    b_i = store.uniform(name + ".b_i", 1, 3 * hidden_size, limit);
    b_h = store.uniform(name + ".b_h", 1, 3 * hidden_size, limit);
}

Var Gru::operator()(Var x, Var h0) const { return gru(x, h0, w_i, w_h, b_i, b_h); }

Var Gru::operator()(Var x) const {
    if (!x.valid()) ad::graph_error("Gru: empty Var");
    return gru(x, x.tape->constant(Arr(Arr::Zero(1, hidden))), w_i, w_h, b_i, b_h);
}

}  // namespace ddsp::nn
