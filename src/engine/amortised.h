// Matching a pluck in one pass (DiffKS's learned inference): the string autoencoder's encoder
// (nn/ks_autoencoder.h) reads the recording and its pitch (YIN) and predicts the string's
// parameters, written as a `ks` parameter file. `ddsp match --method amortised` stops there;
// `amortised+gradient` and `hybrid` start their search from it. As the result, the prediction is
// what the model's decoder plays (residual_mix 0: the noise burst); as a search's start, its loop
// and excitation controls come with the synth's own residual_mix (1 where it analysed the recording:
// the recording's own attack, as the analytic start has it).
#pragma once

#include "engine/target.h"
#include "nn/ks_autoencoder.h"

#include <string>

namespace ddsp::engine {

struct AmortisedPrediction {
    std::string params_json;  // a ks parameter file (sample_rate_hz, seconds as given)
    double f0_hz = 0;         // the pitch used: YIN's note on the recording, or the one given
    double encoder_ms = 0;    // features + encoder forward (wall time)
};

// sample_rate_hz / seconds: the match's (written into the file; 0: left out); f0_hz > 0: the pitch
// to use (a note known from metadata) instead of YIN's; for_search: leave residual_mix out (above).
// One-line errors.
bool amortised_prediction(const nn::KsAutoencoder& model, const Target& target, int sample_rate_hz, double seconds,
                          double f0_hz, bool for_search, AmortisedPrediction& out, std::string& error);

}  // namespace ddsp::engine
