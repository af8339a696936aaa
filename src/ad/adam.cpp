#include "ad/adam.h"

#include <cmath>

namespace ddsp::ad {

void Adam::add(Var leaf) {
    if (!leaf.valid() || !leaf.tape->node(leaf.id).is_leaf) graph_error("Adam::add needs a leaf variable");
    vars_.push_back(leaf);
    m_.push_back(Arr::Zero(leaf.rows(), leaf.cols()));
    v_.push_back(Arr::Zero(leaf.rows(), leaf.cols()));
}

bool Adam::step() {
    double sq = 0;
    for (const Var& v : vars_) sq += double(v.grad().matrix().squaredNorm());
    last_grad_norm_ = std::sqrt(sq);
    if (!std::isfinite(last_grad_norm_)) return false;
    const double clip = (params_.clip_norm > 0 && last_grad_norm_ > params_.clip_norm)
                            ? params_.clip_norm / last_grad_norm_
                            : 1.0;
    ++steps_;
    const double b1 = params_.beta1, b2 = params_.beta2;
    const double c1 = 1.0 - std::pow(b1, steps_), c2 = 1.0 - std::pow(b2, steps_);
    const Real lr_t = Real(params_.learning_rate * std::sqrt(c2) / c1);
    const Real eps_t = Real(params_.epsilon * std::sqrt(c2));
    for (size_t i = 0; i < vars_.size(); ++i) {
        const Var& v = vars_[i];
        const auto g = v.grad() * Real(clip);
        m_[i] = Real(b1) * m_[i] + Real(1 - b1) * g;
        v_[i] = Real(b2) * v_[i] + Real(1 - b2) * g.square();
        v.tape->mutable_value(v) -= lr_t * m_[i] / (v_[i].sqrt() + eps_t);
    }
    return true;
}

bool Adam::restore(int steps, const std::vector<Arr>& m, const std::vector<Arr>& v) {
    if (steps < 0 || m.size() != vars_.size() || v.size() != vars_.size()) return false;
    for (size_t i = 0; i < vars_.size(); ++i)
        if (m[i].rows() != m_[i].rows() || m[i].cols() != m_[i].cols() || v[i].rows() != v_[i].rows() ||
            v[i].cols() != v_[i].cols())
            return false;
    m_ = m;
    v_ = v;
    steps_ = steps;
    return true;
}

void Adam::reset() {
    for (auto& m : m_) m.setZero();
    for (auto& v : v_) v.setZero();
    steps_ = 0;
}

}  // namespace ddsp::ad
