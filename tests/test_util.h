// Small helpers shared by the unit tests (header-only: each test is its own executable).
#pragma once

#include "dsp/rng.h"
#include "dsp/types.h"

namespace ddsp::test {

// rows x cols values uniform in [lo, hi) from `rng` (deterministic per seed, native and wasm).
inline Arr random_arr(dsp::Rng& rng, int rows, int cols, double lo = -1, double hi = 1) {
    Arr a(rows, cols);
    for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = Real(rng.uniform(lo, hi));
    return a;
}

}  // namespace ddsp::test
