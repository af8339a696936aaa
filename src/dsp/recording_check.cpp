#include "dsp/recording_check.h"

#include "util/json.h"

#include <cmath>
#include <cstdio>

namespace ddsp::dsp {

bool check_recording(const Vec& x, std::string& error, double sample_rate_hz, int min_samples) {
    if (x.size() < min_samples) {
        error = "is too short (" + std::to_string(x.size()) + " samples" +
                (sample_rate_hz > 0 ? " at " + std::to_string(int(std::lround(sample_rate_hz))) + " Hz" : "") +
                "; need at least " + std::to_string(min_samples) + ")";
        return false;
    }
    if (!x.allFinite()) {
        error = "contains NaN or infinite samples";
        return false;
    }
    if (x.abs().maxCoeff() < Real(kSilencePeak)) {
        error = "is silent (peak below -100 dBFS)";
        return false;
    }
    return true;
}

bool check_sample_rate(double sample_rate_hz, std::string& error) {
    if (std::isfinite(sample_rate_hz) && sample_rate_hz >= kMinRecordingRateHz && sample_rate_hz <= kMaxRecordingRateHz)
        return true;
    error = "sample rate " + util::format_g(sample_rate_hz) + " Hz is outside 1000..384000";
    return false;
}

}  // namespace ddsp::dsp
