// The one check every recording passes before it is analysed or matched, wherever it came from
// (a file on the command line, a decoded file in the page, the microphone, a training clip):
// enough samples, every sample finite, not silent. Errors are one line, phrased to follow
// "the target " / "the recording " / "FILE: ", e.g. "is silent (peak below -100 dBFS)".
#pragma once

#include "dsp/types.h"

#include <string>

namespace ddsp::dsp {

constexpr int kMinRecordingSamples = 64;        // the shortest STFT frame of the losses
constexpr double kSilencePeak = 1e-5;           // -100 dBFS
constexpr double kMinRecordingRateHz = 1000;    // rates accepted anywhere in the engine
constexpr double kMaxRecordingRateHz = 384000;

// min_samples: kMinRecordingSamples unless a consumer needs more (the decoder's frames).
// sample_rate_hz > 0 is named in the "too short" message.
bool check_recording(const Vec& x, std::string& error, double sample_rate_hz = 0,
                     int min_samples = kMinRecordingSamples);
// A sample rate the engine accepts: finite, in [1000, 384000] Hz.
bool check_sample_rate(double sample_rate_hz, std::string& error);

}  // namespace ddsp::dsp
