// The target recording, prepared once for every consumer (the CLI, the worker, the studio UI).
//
// Policy, written only here:
//   - a synth matches at most max(its default duration, 4 s) of a recording (match_seconds_for);
//   - the recording is cut first, to its first ceil(max_seconds * its rate) samples, then
//     resampled to the synth's rate with dsp::resample, then checked (dsp::check_recording);
//   - a synth's analysis of the prepared target (f0 track, residual...) is made once per synth
//     type, rate and length, and shared read-only (synth::AnalysisPtr) by every graph, thread and
//     render that uses it.
#pragma once

#include "synth/synth.h"

#include <map>
#include <string>
#include <tuple>

namespace ddsp::engine {

constexpr double kMinMatchSeconds = 4.0;

// How much of a recording a synth uses: max(its default duration, 4 s).
double match_seconds_for(const synth::Synth& synth);
// The samples of a recording at rate_hz kept for max_seconds: ceil(max_seconds * rate_hz).
Eigen::Index kept_samples(double max_seconds, double rate_hz);

// The policy above for one recording (mono, at from_hz). Errors follow "the target ".
bool prepare_target(const Vec& recording, double from_hz, int to_hz, double max_seconds, Vec& out,
                    std::string& error);

// A recording as loaded (mono, at its own rate) and everything prepared from it, cached.
class Target {
public:
    // Checks the rate and the recording (dsp::check_recording); a refused recording leaves the
    // previous one in place. Errors follow "the target ".
    bool set(Vec recording, double sample_rate_hz, std::string& error);
    bool empty() const { return recording_.size() == 0; }
    const Vec& recording() const { return recording_; }
    double sample_rate_hz() const { return rate_hz_; }

    // The recording prepared for a synth at sample_rate_hz (max_seconds <= 0: match_seconds_for).
    // The pointer stays valid until the next set().
    const Vec* at(const synth::Synth& synth, int sample_rate_hz, double max_seconds, std::string& error);

    // The synth's analysis of that prepared target fitted to cfg.num_samples (cut, or padded
    // with zeros), as a render of that length sees it. Cached per synth name, rate and length.
    bool analysis(const synth::Synth& synth, const synth::SynthConfig& cfg, double max_seconds,
                  synth::AnalysisPtr& out, std::string& error);

private:
    Vec recording_;
    double rate_hz_ = 0;
    std::map<std::pair<int, double>, Vec> prepared_;  // by (rate, max seconds)
    std::map<std::tuple<std::string, int, double, int>, synth::AnalysisPtr> analyses_;
};

}  // namespace ddsp::engine
