#include "match/loss.h"

#include "ad/ops_signal.h"
#include "dsp/loudness.h"

#include <cmath>

namespace ddsp::match {

MrStftParams MrStftParams::ddsp() { return MrStftParams{}; }

MrStftParams MrStftParams::diffks(double sample_rate_hz) {
    MrStftParams p;
    p.fft_sizes = {1024, 2048, 512};
    p.hops = {120, 240, 50};
    p.win_lengths = {600, 1200, 240};
    p.a_weighting = true;
    p.gain_invariant = true;
    p.sample_rate_hz = sample_rate_hz;
    return p;
}

std::vector<dsp::StftConfig> MrStftParams::configs() const {
    std::vector<dsp::StftConfig> out;
    for (size_t i = 0; i < fft_sizes.size(); ++i) {
        dsp::StftConfig c;
        c.fft_size = fft_sizes[i];
        c.hop = i < hops.size() ? hops[i] : std::max(1, fft_sizes[i] / 4);
        c.win_length = i < win_lengths.size() ? win_lengths[i] : 0;
        out.push_back(c);
    }
    return out;
}

void MrStftLoss::compute_target(Resolution& r, const Vec& target, Arr& mag, Arr& log_mag, double& norm) const {
    dsp::stft_magnitude(target.data(), int(target.size()), r.cfg, mag);
    mag *= r.scale;
    if (r.weight.size() > 0) mag.colwise() *= r.weight.col(0);
    ad::log_with_floor(mag, Real(params_.log_floor), log_mag);  // the same log the loss node takes
    norm = std::sqrt(double(mag.square().sum()));
}

MrStftLoss::MrStftLoss(ad::Var x, const Vec& target, const MrStftParams& params) : params_(params) {
    ad::Tape& tape = *x.tape;
    num_samples_ = x.rows();
    if (target.size() != x.rows()) ad::graph_error("MrStftLoss: target length differs from the signal's");
    ad::Var total;
    for (const dsp::StftConfig& cfg : params.configs()) {
        Resolution r;
        r.cfg = cfg;
        r.scale = params.normalize_by_window ? Real(1) / dsp::stft_window(cfg).sum() : Real(1);
        if (params.a_weighting) {
            const int bins = dsp::stft_num_bins(cfg);
            r.weight.resize(bins, 1);
            for (int b = 0; b < bins; ++b) {
                const double f_hz = b * params.sample_rate_hz / cfg.fft_size;
                // a_weighting_db is -200 dB at DC; -100 dB is silence enough for a weight.
                const double db = std::max(-100.0, dsp::a_weighting_db(f_hz));
                r.weight(b, 0) = Real(std::pow(10.0, db / 20.0));
            }
        }
        // Computed in place in the leaves: their buffers are recycled when the graph is rebuilt
        // each training step (see ad::Tape's memory policy).
        const int bins = dsp::stft_num_bins(cfg), frames = dsp::stft_num_frames(num_samples_, cfg);
        r.target = tape.constant_buffer(bins, frames);
        r.log_target = tape.constant_buffer(bins, frames);
        compute_target(r, target, tape.mutable_value(r.target), tape.mutable_value(r.log_target), r.target_norm);
        r.convergence_norm = tape.scalar(Real(1.0 / std::max(r.target_norm, 1e-12)));

        ad::Var s = ad::stft_magnitude(x, cfg, r.scale);
        if (r.weight.size() > 0) s = s * tape.constant(r.weight);
        if (params.gain_invariant) {
            // Least-squares gain <S,T>/<S,S>; the small constant keeps silence finite.
            s = s * (ad::sum(s * r.target) / (ad::sum(ad::square(s)) + Real(1e-12)));
        }
        ad::Var term;
        auto accumulate = [&](ad::Var v) { term = term.valid() ? term + v : v; };
        if (params.linear_weight != 0) accumulate(ad::mean_abs_diff(s, r.target) * Real(params.linear_weight));
        if (params.log_weight != 0)
            accumulate(ad::mean_abs_log_diff(s, r.log_target, Real(params.log_floor)) * Real(params.log_weight));
        if (params.convergence_weight != 0)
            accumulate(ad::sqrt(ad::sum(ad::square(s - r.target))) * r.convergence_norm *
                       Real(params.convergence_weight));
        if (!term.valid()) ad::graph_error("MrStftLoss: every weight is zero");
        total = total.valid() ? total + term : term;
        res_.push_back(r);
    }
    if (!total.valid()) ad::graph_error("MrStftLoss: no resolutions");
    loss_ = total;
}

void MrStftLoss::set_target(const Vec& target) {
    if (target.size() != num_samples_) ad::graph_error("MrStftLoss::set_target: length differs");
    ad::Tape& tape = *loss_.tape;
    for (Resolution& r : res_) {
        Arr mag, log_mag;
        compute_target(r, target, mag, log_mag, r.target_norm);
        tape.set_value(r.target, mag);
        tape.set_value(r.log_target, log_mag);
        tape.mutable_value(r.convergence_norm)(0, 0) = Real(1.0 / std::max(r.target_norm, 1e-12));
    }
}

double mrstft_distance(const Vec& x, const Vec& target, const MrStftParams& params) {
    ad::Tape tape(ad::Tape::Mode::forward_only);
    ad::Var xv = tape.constant(x);
    MrStftLoss loss(xv, target, params);
    return double(loss.loss().item());
}

}  // namespace ddsp::match
