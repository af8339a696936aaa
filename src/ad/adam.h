// Adam (Kingma & Ba) over a set of leaf variables, with optional clipping of the global gradient
// norm. State is allocated when a variable is added; step() does not allocate.
#pragma once

#include "ad/tape.h"

#include <vector>

namespace ddsp::ad {

struct AdamParams {
    double learning_rate = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-8;
    double clip_norm = 0;  // > 0: scale the gradient so its global L2 norm is at most this
};

class Adam {
public:
    explicit Adam(AdamParams params = {}) : params_(params) {}

    void add(Var leaf);
    // One update from the gradients currently on the tape. Non-finite gradients are skipped (the
    // step is refused and false returned) so a single bad step cannot poison the parameters.
    bool step();
    void reset();  // forget moments and step count

    // The global gradient norm seen by the last step(), before clipping.
    double last_grad_norm() const { return last_grad_norm_; }
    int steps() const { return steps_; }
    // Moments in the order variables were added (for checkpoints), and restoring them: false if
    // the count or a shape differs (nothing changed then).
    const std::vector<Arr>& first_moments() const { return m_; }
    const std::vector<Arr>& second_moments() const { return v_; }
    bool restore(int steps, const std::vector<Arr>& m, const std::vector<Arr>& v);
    AdamParams& params() { return params_; }

private:
    AdamParams params_;
    std::vector<Var> vars_;
    std::vector<Arr> m_, v_;
    int steps_ = 0;
    double last_grad_norm_ = 0;
};

}  // namespace ddsp::ad
