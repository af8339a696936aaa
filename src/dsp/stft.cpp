#include "dsp/stft.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace ddsp::dsp {

int stft_win_length(const StftConfig& cfg) { return cfg.win_length > 0 ? cfg.win_length : cfg.fft_size; }

int stft_num_frames(int num_samples, const StftConfig& cfg) { return num_samples / cfg.hop + 1; }

int stft_num_bins(const StftConfig& cfg) { return cfg.fft_size / 2 + 1; }

Vec stft_window(const StftConfig& cfg) {
    const int win = stft_win_length(cfg);
    assert(win <= cfg.fft_size);
    Vec w = Vec::Zero(cfg.fft_size);
    const int offset = (cfg.fft_size - win) / 2;
    for (int i = 0; i < win; ++i) w[offset + i] = Real(0.5 - 0.5 * std::cos(2.0 * kPi * i / win));
    return w;
}

void stft_frame(const Real* x, int n, int f, const StftConfig& cfg, const Vec& window, Real* frame_out) {
    // Only the first and last few frames touch the zero padding; the rest is one vectorisable loop.
    const int start = f * cfg.hop - cfg.fft_size / 2;
    const int i0 = std::clamp(-start, 0, cfg.fft_size), i1 = std::clamp(n - start, i0, cfg.fft_size);
    const Real* w = window.data();
    for (int i = 0; i < i0; ++i) frame_out[i] = 0;
    for (int i = i0; i < i1; ++i) frame_out[i] = x[start + i] * w[i];
    for (int i = i1; i < cfg.fft_size; ++i) frame_out[i] = 0;
}

void stft(const Real* x, int n, const StftConfig& cfg, Eigen::Array<Complex, Eigen::Dynamic, Eigen::Dynamic>& out) {
    const int frames = stft_num_frames(n, cfg);
    const int bins = stft_num_bins(cfg);
    RealFft fft(cfg.fft_size);
    const Vec window = stft_window(cfg);
    Vec frame(cfg.fft_size);
    out.resize(bins, frames);
    for (int f = 0; f < frames; ++f) {
        stft_frame(x, n, f, cfg, window, frame.data());
        fft.forward(frame.data(), out.col(f).data());
    }
}

void stft_magnitude(const Real* x, int n, const StftConfig& cfg, Arr& out) {
    // One frame's spectrum at a time, not the whole complex STFT: the same values in a fraction of
    // the memory (the loss computes its target this way on every training step).
    const int frames = stft_num_frames(n, cfg);
    const int bins = stft_num_bins(cfg);
    RealFft fft(cfg.fft_size);
    const Vec window = stft_window(cfg);
    Vec frame(cfg.fft_size);
    Eigen::Array<Complex, Eigen::Dynamic, 1> spec(bins);
    out.resize(bins, frames);
    for (int f = 0; f < frames; ++f) {
        stft_frame(x, n, f, cfg, window, frame.data());
        fft.forward(frame.data(), spec.data());
        out.col(f) = spec.abs();
    }
}

}  // namespace ddsp::dsp
