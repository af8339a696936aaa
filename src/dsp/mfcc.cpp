#include "dsp/mfcc.h"

#include "dsp/stft.h"

#include <algorithm>
#include <cmath>

namespace ddsp::dsp {

namespace {

bool fail(std::string& error, const std::string& msg) {
    error = msg;
    return false;
}

}  // namespace

bool mfcc_params_valid(const MfccParams& p, double sample_rate_hz, std::string& error) {
    if (!(sample_rate_hz > 0) || !std::isfinite(sample_rate_hz)) return fail(error, "mfcc: sample rate must be > 0");
    if (p.fft_size < 4 || !is_power_of_two(p.fft_size))
        return fail(error, "mfcc: fft_size must be a power of two >= 4");
    if (p.hop < 1) return fail(error, "mfcc: hop must be >= 1");
    if (p.mel_bands < 1) return fail(error, "mfcc: mel_bands must be >= 1");
    if (p.coefficients < 1 || p.coefficients > p.mel_bands)
        return fail(error, "mfcc: coefficients must be in 1..mel_bands");
    if (!(p.f_min_hz >= 0) || !(p.f_max_hz > p.f_min_hz))
        return fail(error, "mfcc: need 0 <= f_min_hz < f_max_hz");
    if (p.f_max_hz > 0.5 * sample_rate_hz) return fail(error, "mfcc: f_max_hz is above Nyquist");
    if (!(p.log_floor > 0) || !std::isfinite(p.log_floor)) return fail(error, "mfcc: log_floor must be > 0");
    return true;
}

double hz_to_mel_htk(double f_hz) { return 2595.0 * std::log10(1.0 + f_hz / 700.0); }
double mel_to_hz_htk(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

Arr mel_filterbank(int fft_size, double sample_rate_hz, int bands, double f_min_hz, double f_max_hz) {
    if (fft_size < 2 || bands < 1 || !(sample_rate_hz > 0) || !(f_min_hz >= 0) || !(f_max_hz > f_min_hz))
        return Arr();
    const int bins = fft_size / 2 + 1;
    const double m_lo = hz_to_mel_htk(f_min_hz), m_hi = hz_to_mel_htk(f_max_hz);
    std::vector<double> corner_hz(size_t(bands) + 2);
    for (int i = 0; i < bands + 2; ++i) corner_hz[i] = mel_to_hz_htk(m_lo + (m_hi - m_lo) * i / (bands + 1));
    // Exact end corners: the mel round trip would leave ~1e-14 weight on a bin at f_max_hz.
    corner_hz.front() = f_min_hz;
    corner_hz.back() = f_max_hz;
    Arr fb = Arr::Zero(bands, bins);
    const double bin_hz = sample_rate_hz / fft_size;
    for (int b = 0; b < bands; ++b) {
        const double lo = corner_hz[b], mid = corner_hz[b + 1], hi = corner_hz[b + 2];
        for (int k = 0; k < bins; ++k) {
            const double f = k * bin_hz;
            const double w = std::min((f - lo) / (mid - lo), (hi - f) / (hi - mid));
            if (w > 0) fb(b, k) = Real(w);
        }
    }
    return fb;
}

Arr dct2_ortho(int coefficients, int bands) {
    if (bands < 1 || coefficients < 1 || coefficients > bands) return Arr();
    Arr d(coefficients, bands);
    for (int k = 0; k < coefficients; ++k) {
        const double s = std::sqrt((k == 0 ? 1.0 : 2.0) / bands);
        for (int m = 0; m < bands; ++m) d(k, m) = Real(s * std::cos(kPi * k * (m + 0.5) / bands));
    }
    return d;
}

Arr log_mel_power(const Arr& magnitude, const Arr& filterbank, double log_floor) {
    if (magnitude.rows() != filterbank.cols()) return Arr();
    Arr mel = (filterbank.matrix() * magnitude.square().matrix()).array();
    return mel.max(Real(log_floor)).log();
}

// RealFft asserts on a bad size: give it a harmless one when params are invalid.
static int plan_fft_size(const MfccParams& params, double sample_rate_hz) {
    std::string ignored;
    return mfcc_params_valid(params, sample_rate_hz, ignored) ? params.fft_size : 4;
}

MfccPlan::MfccPlan(const MfccParams& params, double sample_rate_hz)
    : params_(params), sample_rate_hz_(sample_rate_hz), fft_(plan_fft_size(params, sample_rate_hz)) {
    if (!mfcc_params_valid(params, sample_rate_hz, error_)) return;
    filterbank_ = mel_filterbank(params.fft_size, sample_rate_hz, params.mel_bands, params.f_min_hz, params.f_max_hz);
    dct_ = dct2_ortho(params.coefficients, params.mel_bands);
    // Each triangle covers a few bins; summing only those makes the mel step O(bins) per frame.
    band_begin_.assign(size_t(params.mel_bands), 0);
    band_end_.assign(size_t(params.mel_bands), 0);
    for (int b = 0; b < params.mel_bands; ++b) {
        int k0 = 0, k1 = 0;
        for (int k = 0; k < filterbank_.cols(); ++k) {
            if (filterbank_(b, k) > 0) {
                if (k1 == 0) k0 = k;
                k1 = k + 1;
            }
        }
        band_begin_[b] = k0;
        band_end_[b] = k1;
    }
    StftConfig cfg;
    cfg.fft_size = params.fft_size;
    cfg.hop = params.hop;
    window_ = stft_window(cfg);
}

bool MfccPlan::compute(const Real* x, int n, Arr& out, std::string& error) {
    if (!ok()) return fail(error, error_);
    if (n < 0 || (n > 0 && !x)) return fail(error, "mfcc: bad signal");
    const int frames = n > 0 ? n / params_.hop + 1 : 0;
    const int bins = params_.fft_size / 2 + 1, bands = params_.mel_bands;
    StftConfig cfg;
    cfg.fft_size = params_.fft_size;
    cfg.hop = params_.hop;
    Vec frame(params_.fft_size), power(bins);
    CVec spec(bins);
    // Log-mel frames as columns, then one matmul with the DCT for all of them.
    Mat log_mel(bands, frames);
    const Real floor_v = Real(params_.log_floor);
    for (int f = 0; f < frames; ++f) {
        stft_frame(x, n, f, cfg, window_, frame.data());
        fft_.forward(frame.data(), spec.data());
        power = spec.abs2();
        for (int b = 0; b < bands; ++b) {
            Real s = 0;
            for (int k = band_begin_[b]; k < band_end_[b]; ++k) s += filterbank_(b, k) * power[k];
            log_mel(b, f) = std::log(std::max(s, floor_v));
        }
    }
    out = (log_mel.transpose() * dct_.matrix().transpose()).array();
    return true;
}

bool mfcc(const Real* x, int n, double sample_rate_hz, const MfccParams& params, Arr& out, std::string& error) {
    MfccPlan plan(params, sample_rate_hz);
    return plan.compute(x, n, out, error);
}

}  // namespace ddsp::dsp
