#include "match/feature_loss.h"

#include "ad/ops_signal.h"
#include "dsp/loudness.h"
#include "dsp/stft.h"

#include <cmath>

namespace ddsp::match {

namespace {

constexpr double kLn10 = 2.302585092994046;
constexpr double kLn2 = 0.6931471805599453;

dsp::StftConfig stft_config(const FeatureLossParams& p) {
    dsp::StftConfig c;
    c.fft_size = p.fft_size;
    c.hop = p.hop;
    return c;
}

}  // namespace

TimbreFeatures timbre_features(ad::Var x, const FeatureLossParams& params) {
    ad::Tape& tape = *x.tape;
    const dsp::StftConfig cfg = stft_config(params);
    const int bins = dsp::stft_num_bins(cfg);
    const Real scale = Real(1) / dsp::stft_window(cfg).sum();
    const ad::Var mag = ad::stft_magnitude(x, cfg, scale);  // bins x frames
    const ad::Var power = ad::square(mag);
    const int frames = mag.cols();

    Arr freq_hz(1, bins), a_weight(1, bins), time_s(frames, 1);
    for (int b = 0; b < bins; ++b) {
        const double f_hz = b * params.sample_rate_hz / cfg.fft_size;
        freq_hz(0, b) = Real(f_hz);
        a_weight(0, b) = Real(std::pow(10.0, std::max(-100.0, dsp::a_weighting_db(f_hz)) / 10.0));
    }
    for (int f = 0; f < frames; ++f) time_s(f, 0) = Real(double(f) * cfg.hop / params.sample_rate_hz);

    TimbreFeatures out;
    out.energy = ad::sum_rows(power);  // 1 x frames
    out.loudness_db = ad::log(ad::matmul(tape.constant(a_weight), power) + Real(1e-8)) * Real(10 / kLn10);
    const ad::Var centroid_hz = ad::matmul(tape.constant(freq_hz), mag) / (ad::sum_rows(mag) + Real(1e-9));
    out.centroid_oct = ad::log((centroid_hz + Real(50)) / Real(1000)) * Real(1 / kLn2);
    // Bins are floored 60 dB below the frame's mean power (not at an absolute level), so that
    // flatness does not change with the sound's level.
    const ad::Var mean_power = out.energy * Real(1.0 / bins) + Real(1e-20);
    const ad::Var mean_log_power = ad::sum_rows(ad::log(power + mean_power * Real(1e-6))) * Real(1.0 / bins);
    const ad::Var log_mean_power = ad::log(mean_power);
    out.flatness_db = (mean_log_power - log_mean_power) * Real(10 / kLn10);
    out.temporal_centroid_s = ad::matmul(out.energy, tape.constant(time_s)) / (ad::sum(out.energy) + Real(1e-12));
    return out;
}

FeatureLoss::FeatureLoss(ad::Var x, const Vec& target, const FeatureLossParams& params) : params_(params) {
    ad::Tape& tape = *x.tape;
    num_samples_ = x.rows();
    if (target.size() != x.rows()) ad::graph_error("FeatureLoss: target length differs from the signal's");
    if (x.cols() != 1) ad::graph_error("FeatureLoss: the signal must be one column");

    target_tape_ = std::make_unique<ad::Tape>(ad::Tape::Mode::forward_only);
    target_signal_ = target_tape_->constant(target);
    target_features_ = timbre_features(target_signal_, params_);

    const TimbreFeatures f = timbre_features(x, params_);
    const int frames = f.energy.cols();
    t_loudness_ = tape.constant(Arr(Arr::Zero(1, frames)));
    t_centroid_ = tape.constant(Arr(Arr::Zero(1, frames)));
    t_flatness_ = tape.constant(Arr(Arr::Zero(1, frames)));
    frame_weight_ = tape.constant(Arr(Arr::Zero(1, frames)));
    t_temporal_ = tape.scalar(0);
    copy_target_features();

    ad::Var total;
    auto accumulate = [&](double weight, ad::Var term) {
        if (weight == 0) return;
        term = term * Real(weight);
        total = total.valid() ? total + term : term;
    };
    accumulate(params_.loudness_weight / 10, ad::mean(ad::abs(f.loudness_db - t_loudness_)));
    accumulate(params_.centroid_weight, ad::sum(frame_weight_ * ad::abs(f.centroid_oct - t_centroid_)));
    accumulate(params_.flatness_weight / 10, ad::sum(frame_weight_ * ad::abs(f.flatness_db - t_flatness_)));
    accumulate(params_.temporal_weight * 10, ad::abs(f.temporal_centroid_s - t_temporal_));
    if (!total.valid()) ad::graph_error("FeatureLoss: every weight is zero");
    loss_ = total;
}

FeatureLoss::~FeatureLoss() = default;

void FeatureLoss::copy_target_features() {
    ad::Tape& tape = *t_loudness_.tape;
    tape.set_value(t_loudness_, target_features_.loudness_db.value());
    tape.set_value(t_centroid_, target_features_.centroid_oct.value());
    tape.set_value(t_flatness_, target_features_.flatness_db.value());
    tape.set_value(t_temporal_, target_features_.temporal_centroid_s.value());
    const Arr& energy = target_features_.energy.value();
    const double total = double(energy.sum());
    // A silent target weighs every frame equally rather than dividing by zero.
    tape.set_value(frame_weight_, total > 1e-20 ? Arr(energy / Real(total))
                                                : Arr(Arr::Constant(1, energy.cols(), Real(1.0 / energy.cols()))));
}

void FeatureLoss::set_target(const Vec& target) {
    if (target.size() != num_samples_) ad::graph_error("FeatureLoss::set_target: length differs");
    target_tape_->set_value(target_signal_, Arr(target));
    target_tape_->forward();
    copy_target_features();
}

}  // namespace ddsp::match
