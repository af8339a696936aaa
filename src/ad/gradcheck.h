// Central-difference gradient check: compares the tape's backward pass with
// (loss(x + eps) - loss(x - eps)) / (2 eps) for every element of the given leaves, re-running the
// same graph with forward(). Meaningful in the double-precision build (ddsp_core_f64).
#pragma once

#include "ad/tape.h"

#include <string>
#include <vector>

namespace ddsp::ad {

struct GradCheckParams {
    double eps = 1e-6;
    double rtol = 1e-5;  // per element: |analytic - numeric| <= atol + rtol * |numeric|
    double atol = 1e-8;
    // Central differences cannot resolve less than the rounding of the loss itself, about
    // machine epsilon * |loss| / eps: that much is always allowed on top of atol and rtol.
    double roundoff_factor = 4;
    int max_elements = 2000;  // per leaf; larger leaves are checked on an evenly spaced subset
};

struct GradCheckResult {
    bool ok = true;
    double max_abs_error = 0;
    double max_rel_error = 0;  // |a - n| / max(|n|, atol)
    int checked = 0;
    std::string worst;  // description of the worst element
};

GradCheckResult check_gradients(Tape& tape, Var loss, const std::vector<Var>& leaves,
                                const GradCheckParams& params = {});

}  // namespace ddsp::ad
