#include "ad/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ddsp::ad {

namespace {
std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}
}  // namespace

GradCheckResult check_gradients(Tape& tape, Var loss, const std::vector<Var>& leaves,
                                const GradCheckParams& p) {
    GradCheckResult r;
    tape.forward();
    tape.backward(loss);
    std::vector<Arr> analytic;
    for (const Var& v : leaves) analytic.push_back(v.grad());
    double worst_excess = -1;
    for (size_t li = 0; li < leaves.size(); ++li) {
        const Var& v = leaves[li];
        Arr& x = tape.mutable_value(v);
        const Eigen::Index n = x.size();
        const Eigen::Index stride = std::max<Eigen::Index>(1, n / p.max_elements);
        for (Eigen::Index e = 0; e < n; e += stride) {
            const Real saved = x.data()[e];
            x.data()[e] = Real(double(saved) + p.eps);
            tape.forward();
            const double up = double(loss.item());
            x.data()[e] = Real(double(saved) - p.eps);
            tape.forward();
            const double down = double(loss.item());
            x.data()[e] = saved;
            const double numeric = (up - down) / (2 * p.eps);
            const double a = double(analytic[li].data()[e]);
            const double err = std::abs(a - numeric);
            const double roundoff = p.roundoff_factor * double(std::numeric_limits<Real>::epsilon()) *
                                    std::max(std::abs(up), std::abs(down)) / p.eps;
            const double allowed = p.atol + p.rtol * std::abs(numeric) + roundoff;
            r.max_abs_error = std::max(r.max_abs_error, err);
            r.max_rel_error = std::max(r.max_rel_error, err / std::max(std::abs(numeric), p.atol));
            ++r.checked;
            if (err - allowed > worst_excess) {
                worst_excess = err - allowed;
                r.worst = "leaf " + std::to_string(li) + " element " + std::to_string(e) +
                          ": analytic " + fmt(a) + " numeric " + fmt(numeric);
            }
            if (err > allowed || !std::isfinite(a)) r.ok = false;
        }
    }
    tape.forward();  // leave the tape consistent with the restored values
    return r;
}

}  // namespace ddsp::ad
