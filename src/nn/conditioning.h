// What the autoencoder reads from a recording: the decoder's frame-wise conditioning (f0, A-weighted
// loudness, spectral centroid on the 250 Hz grid of dsp::yin_track) and the encoder's MFCCs.
// Training (`ddsp train`), fine-tuning and timbre transfer in the browser all go through
// analyse_conditioning, so a model sees the same features everywhere.
//
//   nn::Conditioning c;
//   if (!nn::analyse_conditioning(x, 16000, {}, c, error)) ...   // x: mono, at the model's rate
//   // c.f0_hz.size() == x.size() / hop + 1, c.mfcc is (x.size() / mfcc_hop + 1) x 30
#pragma once

#include "dsp/types.h"

#include <string>

namespace ddsp::nn {

struct ConditioningParams {
    double frame_rate_hz = 250;  // decoder frames (DDSP's 250 Hz)
    int mfcc_hop = 256;          // encoder frames: 62.5 per second at 16 kHz
    int mfcc_coefficients = 30;
    double unvoiced_f0_hz = 0;   // f0 of a clip with no voiced frame (0: 110 Hz)
    // Level fitting: a recording whose peak frame loudness lies outside [lo, hi] is analysed as if
    // scaled into that range (loudness shifted, MFCCs of the scaled signal), and the model's output
    // is scaled back by the same gain (Conditioning::gain_db). A model only knows the levels it was
    // trained on: the shipped set's peak loudness spans -42..-14 dB (10th percentile -36, median
    // -26.5), while user recordings are often normalised near 0 dBFS (peaks around -13 dB), louder
    // than nearly every training note. Fitting loud recordings to the median took the bundled nylon
    // pluck's MR-STFT from 8.7 to 4.8 (harp 3.7 -> 2.6; the 90th percentile, -19 dB, gave 6.0).
    // Training turns it off: the dataset is what defines the range.
    bool fit_level = true;
    double fit_peak_loudness_lo_db = -36;
    double fit_peak_loudness_hi_db = -26;
};

struct Conditioning {
    double sample_rate_hz = 0;
    int num_samples = 0;
    int hop = 0;      // samples between decoder frames
    Vec f0_hz;        // YIN, per decoder frame; unvoiced frames hold the nearest voiced f0
    Vec loudness_db;  // A-weighted, DDSP's convention (dsp::frame_loudness_db), floor -120 dB
    Vec centroid_hz;  // spectral centroid per decoder frame
    Arr mfcc;         // encoder frames x coefficients
    double voiced_fraction = 0;
    // Level fitting (ConditioningParams::fit_level): loudness and MFCCs describe the signal scaled by
    // gain_db; the autoencoder divides its output by the same gain. 0: no change.
    double gain_db = 0;
};

// Fails with a one-line message on an empty or non-finite signal. Silence is fine (f0 falls back
// to unvoiced_f0_hz, loudness sits at the floor).
bool analyse_conditioning(const Vec& x, double sample_rate_hz, const ConditioningParams& params, Conditioning& out,
                          std::string& error);

}  // namespace ddsp::nn
