// Plain signal features: RMS, spectral centroid and flatness, temporal centroid; plus the frame
// grid that pitch.h, loudness.h and this file share.
//
// Frame grid: frame f is centred on sample f * hop (the stft.h convention), so an n-sample signal
// has n / hop + 1 frames, frame f sits at time f * hop / sample_rate. An empty signal has no frames
// (every frame-wise function returns an empty array for n == 0). Scalars are accumulated in double.
#pragma once

#include "dsp/types.h"

#include <string>

namespace ddsp::dsp {

// [SECTION] Frame grid
// Hop for a frame rate: round(sample_rate / frame_rate), at least 1 (250 Hz at 16 kHz -> 64).
int frame_hop(double sample_rate_hz, double frame_rate_hz);
// n / hop + 1 for n > 0, 0 for n <= 0.
int frame_count(int num_samples, int hop);

// [SECTION] Level
// 20 log10(amplitude), floored at floor_db (also for amplitude <= 0).
double amplitude_to_db(double amplitude, double floor_db = -120.0);
// Root mean square of the whole signal; 0 for an empty signal.
double rms(const Real* x, int n);
inline double rms(const Vec& x) { return rms(x.data(), int(x.size())); }
// RMS of centred rectangular frames of frame_size samples (zero outside the signal), one per hop.
// Returns an empty array for n == 0 or frame_size/hop < 1.
Vec frame_rms(const Real* x, int n, int frame_size, int hop);
inline Vec frame_rms(const Vec& x, int frame_size, int hop) {
    return frame_rms(x.data(), int(x.size()), frame_size, hop);
}

// [SECTION] Spectral features
struct SpectralParams {
    int fft_size = 1024;           // power of two
    int hop = 256;
    double flatness_floor_db = -100.0;  // bin powers are floored this far below the frame's peak bin
};

struct SpectralFeatures {
    Vec centroid_hz;  // per frame, magnitude-weighted mean frequency; 0 for an all-zero frame
    // Per frame, geometric / arithmetic mean of the bin powers, 0 (a pure tone) .. 1. A single frame
    // of white noise gives about exp(-Euler gamma) = 0.56, not 1: the bin powers of one noise frame
    // are exponentially distributed. An all-zero frame gives 1 (flat, as librosa).
    Vec flatness;
    // Summaries over the whole signal, from the long-term average spectrum (all frames):
    double centroid_hz_mean = 0.0;  // centroid of the mean magnitude spectrum (loud frames count more)
    double flatness_mean = 1.0;     // flatness of the mean power spectrum (Welch): white noise -> ~1
};

// Frames follow stft.h (periodic Hann, centred frames). Fails on bad parameters (message in error).
bool spectral_features(const Real* x, int n, double sample_rate_hz, const SpectralParams& params,
                       SpectralFeatures& out, std::string& error);
inline bool spectral_features(const Vec& x, double sample_rate_hz, const SpectralParams& params,
                              SpectralFeatures& out, std::string& error) {
    return spectral_features(x.data(), int(x.size()), sample_rate_hz, params, out, error);
}
// The same per-frame features from a magnitude spectrogram (bins x frames, as stft_magnitude
// gives; fft_size = 2 * (bins - 1)).
Vec spectral_centroid_hz(const Arr& magnitude, double sample_rate_hz);
// The per-frame maths behind all of the above, for one spectrum given as magnitudes mag[0..bins)
// with bin k at k * bin_hz (streaming analysers call it on their own frames). flatness may be null.
void spectrum_centroid_and_flatness(const double* mag, int bins, double bin_hz, double floor_db, double* centroid,
                                    double* flatness);
Vec spectral_flatness(const Arr& magnitude, double floor_db = -100.0);

// [SECTION] Temporal features
// Energy-weighted mean time sum(t x^2) / sum(x^2) in seconds (sample i at i / sample_rate);
// 0 for an empty or all-zero signal.
double temporal_centroid_s(const Real* x, int n, double sample_rate_hz);
inline double temporal_centroid_s(const Vec& x, double sample_rate_hz) {
    return temporal_centroid_s(x.data(), int(x.size()), sample_rate_hz);
}

}  // namespace ddsp::dsp
