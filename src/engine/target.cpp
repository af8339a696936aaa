#include "engine/target.h"

#include "dsp/recording_check.h"
#include "dsp/resample.h"

#include <algorithm>
#include <cmath>

namespace ddsp::engine {

double match_seconds_for(const synth::Synth& synth) { return std::max(synth.default_seconds(), kMinMatchSeconds); }

Eigen::Index kept_samples(double max_seconds, double rate_hz) { return Eigen::Index(std::ceil(max_seconds * rate_hz)); }

bool prepare_target(const Vec& recording, double from_hz, int to_hz, double max_seconds, Vec& out,
                    std::string& error) {
    const Eigen::Index keep = kept_samples(max_seconds, from_hz);
    const bool cut = recording.size() > keep;
    if (!dsp::resample(cut ? Vec(recording.head(keep)) : recording, from_hz, to_hz, out, error)) return false;
    if (!dsp::check_recording(out, error, to_hz)) {
        error = "the target " + error;
        return false;
    }
    return true;
}

bool Target::set(Vec recording, double sample_rate_hz, std::string& error) {
    if (!dsp::check_sample_rate(sample_rate_hz, error)) {
        error = "the target's " + error;
        return false;
    }
    if (!dsp::check_recording(recording, error)) {
        error = "the target " + error;
        return false;
    }
    recording_ = std::move(recording);
    rate_hz_ = sample_rate_hz;
    prepared_.clear();
    analyses_.clear();
    return true;
}

const Vec* Target::at(const synth::Synth& synth, int sample_rate_hz, double max_seconds, std::string& error) {
    if (empty()) {
        error = "no target: load a recording first";
        return nullptr;
    }
    if (max_seconds <= 0) max_seconds = match_seconds_for(synth);
    const auto key = std::make_pair(sample_rate_hz, max_seconds);
    auto it = prepared_.find(key);
    if (it != prepared_.end()) return &it->second;
    Vec out;
    if (!prepare_target(recording_, rate_hz_, sample_rate_hz, max_seconds, out, error)) return nullptr;
    return &(prepared_[key] = std::move(out));
}

bool Target::analysis(const synth::Synth& synth, const synth::SynthConfig& cfg, double max_seconds,
                      synth::AnalysisPtr& out, std::string& error) {
    const int sr = int(std::lround(cfg.sample_rate_hz));
    const Vec* prepared = at(synth, sr, max_seconds, error);
    if (!prepared) return false;
    if (max_seconds <= 0) max_seconds = match_seconds_for(synth);
    // Options can change the analysis (ks's exc_ms: the length of the recording's head it keeps).
    std::string name = synth.name();
    for (const auto& [k, v] : synth.options()) name += " " + k + "=" + std::to_string(v);
    const auto key = std::make_tuple(name, sr, max_seconds, cfg.num_samples);
    auto it = analyses_.find(key);
    if (it != analyses_.end()) {
        out = it->second;
        return true;
    }
    const Eigen::Index n = std::min<Eigen::Index>(prepared->size(), cfg.num_samples);
    Vec fitted = Vec::Zero(cfg.num_samples);
    fitted.head(n) = prepared->head(n);
    if (!synth.analyse(fitted, cfg, out, error)) return false;
    analyses_[key] = out;
    return true;
}

}  // namespace ddsp::engine
