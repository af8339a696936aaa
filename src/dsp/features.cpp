#include "dsp/features.h"

#include "dsp/fft.h"
#include "dsp/stft.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ddsp::dsp {

// [SECTION] Frame grid

int frame_hop(double sample_rate_hz, double frame_rate_hz) {
    if (!(sample_rate_hz > 0) || !(frame_rate_hz > 0)) return 1;
    const double h = std::round(sample_rate_hz / frame_rate_hz);
    return h < 1 ? 1 : (h > 1e9 ? 1000000000 : int(h));
}

int frame_count(int num_samples, int hop) {
    if (num_samples <= 0 || hop <= 0) return 0;
    return num_samples / hop + 1;
}

// [SECTION] Level

double amplitude_to_db(double amplitude, double floor_db) {
    if (!(amplitude > 0)) return floor_db;
    return std::max(20.0 * std::log10(amplitude), floor_db);
}

double rms(const Real* x, int n) {
    if (!x || n <= 0) return 0.0;
    double s = 0.0;
    for (int i = 0; i < n; ++i) s += double(x[i]) * double(x[i]);
    return std::sqrt(s / n);
}

Vec frame_rms(const Real* x, int n, int frame_size, int hop) {
    const int frames = frame_count(n, hop);
    if (!x || frames == 0 || frame_size < 1) return Vec();
    // Prefix sums of x^2 make every frame O(1) whatever its size.
    std::vector<double> cum(size_t(n) + 1, 0.0);
    for (int i = 0; i < n; ++i) cum[i + 1] = cum[i] + double(x[i]) * double(x[i]);
    Vec out(frames);
    for (int f = 0; f < frames; ++f) {
        const long long start = (long long)f * hop - frame_size / 2;
        const long long a = std::clamp<long long>(start, 0, n);
        const long long b = std::clamp<long long>(start + frame_size, 0, n);
        const double e = std::max(0.0, cum[b] - cum[a]);
        out[f] = Real(std::sqrt(e / frame_size));
    }
    return out;
}

// [SECTION] Spectral features

namespace {

bool fail(std::string& error, const char* msg) {
    error = msg;
    return false;
}

}  // namespace

void spectrum_centroid_and_flatness(const double* mag, int bins, double bin_hz, double floor_db, double* centroid,
                                    double* flatness) {
    double msum = 0.0, fsum = 0.0, pmax = 0.0;
    for (int k = 0; k < bins; ++k) {
        msum += mag[k];
        fsum += mag[k] * k * bin_hz;
        pmax = std::max(pmax, mag[k] * mag[k]);
    }
    *centroid = msum > 0 ? fsum / msum : 0.0;
    if (!flatness) return;
    if (!(pmax > 0)) {
        *flatness = 1.0;
        return;
    }
    // Floor relative to the peak bin keeps flatness independent of the signal's gain.
    const double floor_p = pmax * std::pow(10.0, floor_db / 10.0);
    double log_sum = 0.0, p_sum = 0.0;
    for (int k = 0; k < bins; ++k) {
        const double p = std::max(mag[k] * mag[k], floor_p);
        log_sum += std::log(p);
        p_sum += p;
    }
    const double fl = std::exp(log_sum / bins) / (p_sum / bins);
    *flatness = std::clamp(fl, 0.0, 1.0);
}

Vec spectral_centroid_hz(const Arr& magnitude, double sample_rate_hz) {
    const int bins = int(magnitude.rows());
    const int frames = int(magnitude.cols());
    Vec out = Vec::Zero(frames);
    if (bins < 2 || !(sample_rate_hz > 0)) return out;
    const double bin_hz = sample_rate_hz / (2.0 * (bins - 1));
    std::vector<double> m(bins);
    for (int f = 0; f < frames; ++f) {
        for (int k = 0; k < bins; ++k) m[k] = std::abs(double(magnitude(k, f)));
        double c = 0, fl = 0;
        spectrum_centroid_and_flatness(m.data(), bins, bin_hz, -100.0, &c, &fl);
        out[f] = Real(c);
    }
    return out;
}

Vec spectral_flatness(const Arr& magnitude, double floor_db) {
    const int bins = int(magnitude.rows());
    const int frames = int(magnitude.cols());
    Vec out = Vec::Ones(frames);
    if (bins < 1) return out;
    std::vector<double> m(bins);
    for (int f = 0; f < frames; ++f) {
        for (int k = 0; k < bins; ++k) m[k] = std::abs(double(magnitude(k, f)));
        double c = 0, fl = 1;
        spectrum_centroid_and_flatness(m.data(), bins, 1.0, floor_db, &c, &fl);
        out[f] = Real(fl);
    }
    return out;
}

bool spectral_features(const Real* x, int n, double sample_rate_hz, const SpectralParams& params,
                       SpectralFeatures& out, std::string& error) {
    out = SpectralFeatures();
    if (n < 0 || (n > 0 && !x)) return fail(error, "spectral_features: no signal (null pointer or negative length)");
    if (!(sample_rate_hz > 0)) return fail(error, "spectral_features: sample rate must be positive");
    if (params.fft_size < 2 || !is_power_of_two(params.fft_size))
        return fail(error, "spectral_features: fft_size must be a power of two >= 2");
    if (params.hop < 1) return fail(error, "spectral_features: hop must be >= 1");
    if (!(params.flatness_floor_db < 0)) return fail(error, "spectral_features: flatness_floor_db must be negative");
    if (n == 0) return true;

    StftConfig cfg;
    cfg.fft_size = params.fft_size;
    cfg.hop = params.hop;
    const int bins = stft_num_bins(cfg);
    const int frames = stft_num_frames(n, cfg);
    const double bin_hz = sample_rate_hz / params.fft_size;

    RealFft fft(cfg.fft_size);
    const Vec window = stft_window(cfg);
    Vec frame(cfg.fft_size);
    std::vector<Complex> spec(bins);
    std::vector<double> mag(bins), mean_mag(bins, 0.0), mean_pow(bins, 0.0);
    out.centroid_hz.resize(frames);
    out.flatness.resize(frames);
    for (int f = 0; f < frames; ++f) {
        stft_frame(x, n, f, cfg, window, frame.data());
        fft.forward(frame.data(), spec.data());
        for (int k = 0; k < bins; ++k) {
            mag[k] = std::abs(std::complex<double>(spec[k]));
            mean_mag[k] += mag[k];
            mean_pow[k] += mag[k] * mag[k];
        }
        double c = 0, fl = 1;
        spectrum_centroid_and_flatness(mag.data(), bins, bin_hz, params.flatness_floor_db, &c, &fl);
        out.centroid_hz[f] = Real(c);
        out.flatness[f] = Real(fl);
    }

    // Summaries from the long-term averages: mean magnitude for the centroid, mean power for the
    // flatness (a Welch estimate, whose bins no longer fluctuate like one frame's).
    for (auto& p : mean_pow) p = std::sqrt(p);  // as a magnitude: spectrum_centroid_and_flatness squares it
    double c = 0, fl = 1, unused = 0;
    spectrum_centroid_and_flatness(mean_mag.data(), bins, bin_hz, params.flatness_floor_db, &c, &unused);
    spectrum_centroid_and_flatness(mean_pow.data(), bins, bin_hz, params.flatness_floor_db, &unused, &fl);
    out.centroid_hz_mean = c;
    out.flatness_mean = fl;
    return true;
}

// [SECTION] Temporal features

double temporal_centroid_s(const Real* x, int n, double sample_rate_hz) {
    if (!x || n <= 0 || !(sample_rate_hz > 0)) return 0.0;
    double e = 0.0, te = 0.0;
    for (int i = 0; i < n; ++i) {
        const double p = double(x[i]) * double(x[i]);
        e += p;
        te += p * i;
    }
    return e > 0 ? te / e / sample_rate_hz : 0.0;
}

}  // namespace ddsp::dsp
