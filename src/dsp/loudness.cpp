#include "dsp/loudness.h"

#include "dsp/features.h"
#include "dsp/fft.h"
#include "dsp/stft.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ddsp::dsp {

namespace {

bool fail(std::string& error, const char* msg) {
    error = msg;
    return false;
}

constexpr double kMinWeightDb = -200.0;

}  // namespace

double a_weighting_db(double f_hz) {
    if (!(f_hz > 0)) return kMinWeightDb;
    // Pole frequencies of IEC 61672-1 (Annex E): 20.6, 107.7, 737.9 and 12194 Hz.
    const double f2 = f_hz * f_hz;
    const double c1 = 20.598997 * 20.598997, c2 = 107.65265 * 107.65265, c3 = 737.86223 * 737.86223,
                 c4 = 12194.217 * 12194.217;
    const double num = c4 * f2 * f2;
    const double den = (f2 + c1) * std::sqrt((f2 + c2) * (f2 + c3)) * (f2 + c4);
    if (!(num > 0) || !(den > 0)) return kMinWeightDb;
    return std::max(20.0 * std::log10(num / den) + 2.0, kMinWeightDb);
}

bool FrameLoudness::init(double sample_rate_hz, const LoudnessParams& params, std::string& error) {
    if (!(sample_rate_hz > 0)) return fail(error, "frame_loudness_db: sample rate must be positive");
    if (params.fft_size < 2 || !is_power_of_two(params.fft_size))
        return fail(error, "frame_loudness_db: fft_size must be a power of two >= 2");
    if (!std::isfinite(params.floor_db) || !std::isfinite(params.ref_db))
        return fail(error, "frame_loudness_db: floor_db and ref_db must be finite");
    params_ = params;
    StftConfig cfg;
    cfg.fft_size = params.fft_size;
    fft_size_ = params.fft_size;
    bins_ = stft_num_bins(cfg);
    window_ = stft_window(cfg);
    win_power_ = 0.0;  // a plain loop: Eigen reductions trip GCC 12 false warnings with AVX-512
    for (Eigen::Index i = 0; i < window_.size(); ++i) win_power_ += double(window_[i]) * double(window_[i]);
    weight_db_.assign(bins_, 0.0);
    weight_lin_.assign(bins_, 1.0);
    if (params.a_weighted)
        for (int k = 0; k < bins_; ++k) {
            weight_db_[k] = a_weighting_db(double(k) * sample_rate_hz / params.fft_size);
            weight_lin_[k] = std::pow(10.0, weight_db_[k] / 10.0);
        }
    fft_ = RealFft(fft_size_);
    frame_ = Vec::Zero(fft_size_);
    spec_.assign(bins_, Complex(0));
    return true;
}

double FrameLoudness::analyse(const Real* samples) {
    const Real* w = window_.data();
    Real* fr = frame_.data();
    for (int i = 0; i < fft_size_; ++i) fr[i] = samples[i] * w[i];
    return analyse_windowed(fr);
}

double FrameLoudness::analyse_windowed(const Real* windowed_frame) {
    const int bins = bins_;
    fft_.forward(windowed_frame, spec_.data());
    double level;
    if (params_.average == LoudnessAverage::power) {
        double acc = 0.0;
        for (int k = 0; k < bins; ++k) acc += std::norm(std::complex<double>(spec_[k])) * weight_lin_[k];
        acc /= win_power_ * bins;
        level = (acc > 0 ? 10.0 * std::log10(acc) : params_.floor_db) - params_.ref_db;
    } else {
        double acc = 0.0;
        for (int k = 0; k < bins; ++k) {
            const double p = std::norm(std::complex<double>(spec_[k])) / win_power_;
            // -300 dB for empty bins: far enough below any floor that weighting cannot lift it.
            const double p_db = 10.0 * std::log10(std::max(p, 1e-30));
            acc += std::max(p_db + weight_db_[k] - params_.ref_db, params_.floor_db);
        }
        level = acc / bins;
    }
    // NaN (a non-finite input) falls to the floor too, so the result is always finite.
    return level >= params_.floor_db && std::isfinite(level) ? level : params_.floor_db;
}

bool frame_loudness_db(const Real* x, int n, double sample_rate_hz, const LoudnessParams& params, Vec& out_db,
                       std::string& error) {
    out_db.resize(0);
    if (n < 0 || (n > 0 && !x)) return fail(error, "frame_loudness_db: no signal (null pointer or negative length)");
    if (!(sample_rate_hz > 0)) return fail(error, "frame_loudness_db: sample rate must be positive");
    if (params.fft_size < 2 || !is_power_of_two(params.fft_size))
        return fail(error, "frame_loudness_db: fft_size must be a power of two >= 2");
    if (params.hop <= 0 && !(params.frame_rate_hz > 0))
        return fail(error, "frame_loudness_db: frame_rate_hz must be positive (or give hop)");
    if (!std::isfinite(params.floor_db) || !std::isfinite(params.ref_db))
        return fail(error, "frame_loudness_db: floor_db and ref_db must be finite");
    const int hop = params.hop > 0 ? params.hop : frame_hop(sample_rate_hz, params.frame_rate_hz);
    if (n == 0) return true;

    FrameLoudness loudness;
    if (!loudness.init(sample_rate_hz, params, error)) return false;
    StftConfig cfg;
    cfg.fft_size = params.fft_size;
    cfg.hop = hop;
    const int frames = stft_num_frames(n, cfg);

    // Frame by frame: at 250 frames/s a stored STFT would be 8x larger than the signal.
    Vec frame(cfg.fft_size);
    out_db.resize(frames);
    for (int f = 0; f < frames; ++f) {
        stft_frame(x, n, f, cfg, loudness.window(), frame.data());
        out_db[f] = Real(loudness.analyse_windowed(frame.data()));
    }
    return true;
}

int loudness_fft_size_for(double sample_rate_hz) {
    const double want = 2048.0 * sample_rate_hz / 16000.0;
    int n = 64;
    while (n * 2 <= 65536 && std::fabs(std::log2(n * 2.0 / want)) < std::fabs(std::log2(n / want))) n *= 2;
    return n;
}

}  // namespace ddsp::dsp
