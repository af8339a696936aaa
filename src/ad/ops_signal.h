// Signal ops whose backward passes are written by hand instead of composed from elementwise ops,
// because composition would be orders of magnitude slower or would not exist (recursions).
#pragma once

#include "ad/tape.h"
#include "dsp/stft.h"

#include <vector>

namespace ddsp::ad {

// Causal linear convolution truncated to the input's length:
//   y[t] = sum_{k=0}^{min(t, K-1)} h[k] x[t-k],  t < n.
// x and h are columns (n x 1, K x 1). Forward and backward each cost three real FFTs of the
// next power of two >= n + K - 1.
Var fft_convolve(Var x, Var h);

// Magnitude of the STFT of the column x (dsp/stft.h framing), scaled by `scale`:
// (bins x frames). The backward pass maps d/d|X| through X/|X| and the adjoint of the real FFT
// (an inverse FFT), then overlap-adds the windowed frames. Where |X| is 0 the gradient is 0.
Var stft_magnitude(Var x, const dsp::StftConfig& cfg, Real scale = 1);

// Time-varying all-pole filter over a sparse set of lags:
//   y[t] = x[t] - sum_i A[t, i] * y[t - lags[i]]     (y is 0 before t = 0)
// x is (n x 1), A is (n x lags.size()), lags are distinct and >= 1. Costs O(n * lags) forward
// and backward. The backward pass is the same recursion run backwards in time (as in torchlpc):
//   g~[t] = g[t] - sum_i A[t + lags[i], i] g~[t + lags[i]];  dx = g~;  dA[t, i] = -g~[t] y[t - lags[i]].
// A Karplus-Strong string is this filter with lags at the loop delay and its neighbours.
Var allpole(Var x, Var A, const std::vector<int>& lags);

}  // namespace ddsp::ad
