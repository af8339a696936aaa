// Timbre-feature loss, after the differentiable 808 timbre-remapping paper (Shier et al., NIME
// 2024): instead of comparing spectra bin by bin, compare what a listener summarises a drum hit
// by. Per STFT frame (fft_size, hop; stft.h framing, magnitudes divided by the window sum):
//   loudness_db   10 log10(A-weighted mean bin power + 1e-8)     (floor -80 dB)
//   centroid_oct  log2((sum f S / sum S) + 50 Hz) / 1 kHz)        (brightness, in octaves)
//   flatness_db   mean 10 log10(P + 1e-6 mean P) - 10 log10(mean P)   (0 dB = noise, -60 dB = one tone;
//                 the floor follows the frame's level so flatness does not depend on loudness)
// and, over the whole clip, the temporal centroid sum(t E) / sum(E) of the frame energies E.
// The loss is
//   mean_f |dL_f| / 10 dB  +  sum_f w_f |dC_f| / 1 oct  +  sum_f w_f |dF_f| / 10 dB
//   + |dTC| / 100 ms
// with w_f the target's frame energy share (centroid and flatness of near-silent target frames
// mean nothing). Each term is 1 for a just-noticeable-to-obvious difference of its feature, so no
// one feature dominates. The paper used the four features on an onset window; frame-wise terms
// are its natural extension to whole notes and give the gradient something to follow over time.
//
// The target's features go through the same graph (on a private forward-only tape), so the
// reconstruction and the target are measured by one definition.
#pragma once

#include "match/loss.h"

#include <memory>

namespace ddsp::match {

struct FeatureLossParams {
    int fft_size = 1024;
    int hop = 256;
    double sample_rate_hz = 16000;
    double loudness_weight = 1;
    double centroid_weight = 1;
    double flatness_weight = 1;
    double temporal_weight = 1;
};

// The four features of a signal on x's tape (1 x frames rows, temporal centroid 1 x 1).
struct TimbreFeatures {
    ad::Var loudness_db, centroid_oct, flatness_db, energy, temporal_centroid_s;
};
TimbreFeatures timbre_features(ad::Var x, const FeatureLossParams& params);

class FeatureLoss : public TargetLoss {
public:
    FeatureLoss(ad::Var x, const Vec& target, const FeatureLossParams& params = {});
    ~FeatureLoss() override;
    ad::Var loss() const override { return loss_; }
    void set_target(const Vec& target) override;

private:
    FeatureLossParams params_;
    int num_samples_ = 0;
    // Target features: a forward-only tape that measures the target ...
    std::unique_ptr<ad::Tape> target_tape_;
    ad::Var target_signal_;
    TimbreFeatures target_features_;
    // ... copied into constants on x's tape.
    ad::Var t_loudness_, t_centroid_, t_flatness_, t_temporal_, frame_weight_;
    ad::Var loss_;

    void copy_target_features();
};

}  // namespace ddsp::match
