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
};

// Fails with a one-line message on an empty or non-finite signal. Silence is fine (f0 falls back
// to unvoiced_f0_hz, loudness sits at the floor).
bool analyse_conditioning(const Vec& x, double sample_rate_hz, const ConditioningParams& params, Conditioning& out,
                          std::string& error);

}  // namespace ddsp::nn
