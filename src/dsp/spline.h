// The natural cubic spline through frames y[0..F-1] at positions 0..F-1 (second derivative 0 at both
// ends): the curve ad::upsample(cubic) draws through a synth's control frames, and the one the
// streaming kernels evaluate sample by sample (synth/stream.h). One implementation, so the two stay
// equal op for op.
//
// Its second derivatives M solve M[j-1] + 4 M[j] + M[j+1] = 6 (y[j-1] - 2 y[j] + y[j+1]) on the
// interior; the system is symmetric, so the gradient (ad's backward pass) solves the same system.
#pragma once

#include "dsp/types.h"

#include <vector>

namespace ddsp::dsp {

class NaturalSplineSystem {
public:
    // Factors the system for `frames` knots (Thomas algorithm; allocates). Below 3 knots there is
    // no interior: solve() and second_derivatives() give zeros.
    void init(int frames);
    int frames() const { return frames_; }
    // out[1..F-2] = the system's solution for the right-hand side b[1..F-2]; out[0] = out[F-1] = 0.
    void solve(const Real* b, Real* out) const;
    // The second derivatives of the spline through y; rhs is scratch of F values.
    void second_derivatives(const Real* y, Real* rhs, Real* m2) const;

private:
    int frames_ = 0;
    std::vector<Real> cprime_, denom_;
};

// The spline between knots k and k + 1 at fraction u in [0, 1]: linear interpolation plus, with
// second derivatives m2 (null: none, i.e. linear), the cubic terms.
inline Real spline_at(const Real* y, const Real* m2, int k, Real u) {
    const Real v = Real(1) - u;
    Real s = v * y[k] + u * y[k + 1];
    if (m2) s += ((v * v * v - v) * m2[k] + (u * u * u - u) * m2[k + 1]) / Real(6);
    return s;
}

}  // namespace ddsp::dsp
