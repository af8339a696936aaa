// Short-time Fourier transform framing shared by analysis code and the tape's STFT op.
//
// Convention (the same as torch.stft(center=True, pad_mode="constant")): frame f is centred on
// sample f * hop; the signal is zero outside [0, n); there are n / hop + 1 frames. The window is a
// periodic Hann window of win_length samples, centred in the fft_size frame (zero elsewhere).
// Spectrogram arrays are (fft_size/2 + 1) rows (bins) by num_frames columns, one frame per column.
#pragma once

#include "dsp/fft.h"
#include "dsp/types.h"

namespace ddsp::dsp {

struct StftConfig {
    int fft_size = 1024;
    int hop = 256;
    int win_length = 0;  // 0: same as fft_size
};

int stft_win_length(const StftConfig& cfg);
int stft_num_frames(int num_samples, const StftConfig& cfg);
int stft_num_bins(const StftConfig& cfg);
// The analysis window zero-padded to fft_size (periodic Hann of win_length, centred).
Vec stft_window(const StftConfig& cfg);
// Copies the windowed frame f of x (length n) into frame_out (fft_size samples).
void stft_frame(const Real* x, int n, int f, const StftConfig& cfg, const Vec& window, Real* frame_out);

// Complex STFT: out is (bins x frames).
void stft(const Real* x, int n, const StftConfig& cfg, Eigen::Array<Complex, Eigen::Dynamic, Eigen::Dynamic>& out);
// Magnitude STFT: out is (bins x frames).
void stft_magnitude(const Real* x, int n, const StftConfig& cfg, Arr& out);

}  // namespace ddsp::dsp
