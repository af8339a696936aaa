// `ks`: a differentiable Karplus-Strong string, after DiffKS (Differentiable Karplus-Strong
// Synthesis for Neural Resonance Optimisation, WASPAA 2025).
//
// The string is one time-varying all-pole filter (ad::allpole): a noise burst (or the target's
// residual) excites a loop whose taps sit at the loop delay and its neighbours. The delay carries
// a gradient because each loop tap is spread over two integer lags by linear interpolation
// (ks_fractional_taps); the lags are a fixed window chosen when the graph is built. Details and
// the parameter table are in ks.cpp.
#pragma once

#include "synth/synth.h"

#include <memory>
#include <vector>

namespace ddsp::synth {

struct KsOptions {
    int loop_order = 2;          // loop filter order K: K + 1 positive taps summing to 1 (1..4)
    int control_frames = 16;     // frames of each time-varying loop control (cubic spline to samples)
    int exc_order = 5;           // order of the all-pole filter that colours the noise burst (1..12)
    double exc_ms = 25;          // length of the noise burst and of the residual excitation
    double window_cents = 50;    // the lag window covers at least f0 * 2^(+-cents/1200) around the build-time f0
    int oversample = 1;          // internal rate = oversample * I/O rate (1..8), decimated at the end
};

std::unique_ptr<Synth> make_ks_synth(const KsOptions& options);
// KsOptions from options by name (synth::make_synth("ks", options, error)): the fields above under
// their own names; an unknown name, a value outside its range or a fractional integer is an error.
bool ks_options_from(const SynthOptions& options, KsOptions& out, std::string& error);

// The loop's coefficient matrix for ad::allpole with lags first_lag .. first_lag + num_lags - 1:
//   A[t, j] = -sum_k taps[k][t] * hat(first_lag + j - delay[t] - k),  hat(x) = max(0, 1 - |x|),
// i.e. tap k sits at the fractional lag delay + k, linearly interpolated between two integer
// lags. delay and every tap are (n x 1). The delay is clamped to [first_lag, first_lag + num_lags
// - K - 2] (K + 1 = taps.size()) so every tap stays inside the window; where it is clamped its
// gradient is 0. Forward and backward cost O(n * num_lags) and do not allocate after the first run.
ad::Var ks_fractional_taps(ad::Var delay, const std::vector<ad::Var>& taps, int first_lag, int num_lags);

// Decimation by `factor` with a linear-phase FIR (odd length 2R + 1, centred, zero outside x):
//   y[i] = sum_{k=-R..R} kernel[k + R] * x[i * factor + k],  ceil(rows / factor) outputs.
ad::Var ks_decimate(ad::Var x, int factor, const std::vector<Real>& kernel);
// The anti-aliasing low-pass the synth uses: Blackman-windowed sinc, cutoff 0.47 of the output
// rate (0.47 / factor cycles per input sample), 64 * factor + 1 taps, unit gain at DC.
std::vector<Real> ks_decimation_kernel(int factor);

}  // namespace ddsp::synth
