// The natural cubic spline's system; see spline.h.
#include "dsp/spline.h"

namespace ddsp::dsp {

void NaturalSplineSystem::init(int frames) {
    frames_ = frames;
    const int m = frames - 2;
    cprime_.assign(size_t(m > 0 ? m : 0), Real(0));
    denom_.assign(size_t(m > 0 ? m : 0), Real(0));
    double c_prev = 0;
    for (int j = 0; j < m; ++j) {
        const double d = 4.0 - (j > 0 ? c_prev : 0.0);
        denom_[size_t(j)] = Real(d);
        c_prev = 1.0 / d;
        cprime_[size_t(j)] = Real(c_prev);
    }
}

void NaturalSplineSystem::solve(const Real* b, Real* out) const {
    if (frames_ < 1) return;
    const int m = frames_ - 2;
    // forward sweep (out used as scratch for d')
    Real prev = 0;
    for (int j = 0; j < m; ++j) {
        prev = (b[j + 1] - (j > 0 ? prev : Real(0))) / denom_[size_t(j)];
        out[j + 1] = prev;
    }
    for (int j = m - 2; j >= 0; --j) out[j + 1] -= cprime_[size_t(j)] * out[j + 2];
    out[0] = 0;
    out[frames_ - 1] = 0;
}

void NaturalSplineSystem::second_derivatives(const Real* y, Real* rhs, Real* m2) const {
    for (int j = 1; j < frames_ - 1; ++j) rhs[j] = Real(6) * (y[j - 1] - 2 * y[j] + y[j + 1]);
    solve(rhs, m2);
}

}  // namespace ddsp::dsp
