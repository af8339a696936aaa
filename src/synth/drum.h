// `drum`: a modal drum that real kits fit. Inharmonic damped modes, banded noise and the
// recording's own attack, each in physical units:
//
//   modes:      sum_k a_k exp(-ln(1000) t / T_k) sin(phi_k(t)),
//               phi_k' = 2 pi f_k (1 + glide_depth exp(-ln(1000) t / T_glide))   (a shared glide)
//   noise:      white noise split into kDrumBands fixed bands (log-spaced centres, masks that sum
//               to 1, so equal gains give back the white noise), band b times
//               g_b (1 - exp(-t / tau_b)) exp(-ln(1000) t / D_b)                  (attack, decay)
//   drive:      y = tanh(d s) / d, s = modes + noise (unit gain for small signals; d = 10^(drive_db/20))
//   transient:  out = y + m w(t) (x(t) - y): x is the analysed recording, w is 1 over its first
//               kDrumTransientMs / 2 and fades (raised cosine) to 0 at kDrumTransientMs; m is the
//               parameter transient_mix. The hit's first milliseconds (a stick's click, a clap's
//               bursts) are the recording's; everything after is the model.
//
// Matching starts from an analysis of the recording (initial_values): spectral peaks of its
// first 300 ms and the exponential decay of each, and per band the noise floor's level, attack and
// decay measured between the peaks. Gradient descent then starts in the right basin; the mode
// frequencies are the hybrid method's global parameters.
#pragma once

#include "synth/synth.h"

#include <vector>

namespace ddsp::synth {

constexpr int kDrumModes = 12;
constexpr int kDrumBands = 16;
constexpr double kDrumTransientMs = 10;

// Centre frequencies of the noise bands at a sample rate (ascending, log-spaced from 50 Hz to
// min(16 kHz, 0.45 x the rate)).
std::vector<double> drum_band_centres_hz(double sample_rate_hz);
// The weight of band b at frequency f_hz (raised-cosine crossovers between neighbouring centres in
// log frequency; the bands' weights sum to 1 at every frequency above 0 Hz, 0 at DC).
double drum_band_weight(int band, double f_hz, double sample_rate_hz);
// The white noise (uniform in [-1, 1), dsp::Rng(seed)) of `period` samples split into the bands:
// (period x kDrumBands), column b is band b. Periodic with `period` (a power of two >= 2): the
// bands are filtered circularly, so a streaming voice can loop them. The synth uses
// period = next power of two >= its number of samples.
Arr drum_noise_bands(int period, double sample_rate_hz, uint64_t seed);

}  // namespace ddsp::synth
