// A-weighting and DDSP-style frame loudness.
//
// Frame loudness: per STFT frame (stft.h convention, periodic Hann, frame f centred on sample
// f * hop), the bin powers are A-weighted in dB and averaged over frequency. Powers are scaled as a
// spectral density, P_k = |X_k|^2 / sum(w^2), so that white noise of variance s^2 has E[P_k] = s^2
// and the power average of a frame equals the frame's mean square. Hence in the default `power`
// mode (DDSP 2.x: weight in the linear domain, mean over bins, then dB) an unweighted full-scale
// sine reads -3 dB and white noise of unit variance 0 dB, whatever fft_size is, and doubling the
// signal adds 6.02 dB exactly. The `db` mode is DDSP 1.x: mean over bins of the floored
// (power dB + A dB); its absolute level depends on fft_size, and bins at the floor do not move.
#pragma once

#include "dsp/fft.h"
#include "dsp/types.h"

#include <string>
#include <vector>

namespace ddsp::dsp {

// IEC 61672-1 A-weighting in dB: the analogue pole formula plus the standard's +2.00 dB
// normalisation (0.00 dB at 1 kHz). Finite for every input: f <= 0 and very low frequencies are
// floored at -200 dB.
double a_weighting_db(double f_hz);

enum class LoudnessAverage { power, db };

struct LoudnessParams {
    int fft_size = 2048;          // power of two (DDSP used 2048 at 16 kHz)
    double frame_rate_hz = 250.0;  // hop = round(sample_rate / frame_rate), as the pitch tracker
    int hop = 0;                   // > 0 overrides frame_rate_hz
    double floor_db = -120.0;      // output (and, in db mode, per-bin) floor
    double ref_db = 0.0;           // subtracted from every level before flooring
    bool a_weighted = true;        // false: plain power level
    LoudnessAverage average = LoudnessAverage::power;
};

// DDSP's loudness window (2048 samples, 128 ms, at 16 kHz) at another rate: the power of two
// nearest to 2048 * sample_rate_hz / 16000, within 64..65536.
int loudness_fft_size_for(double sample_rate_hz);

// The per-frame maths of frame_loudness_db with its workspace (FFT plan, window, weights).
// frame_loudness_db runs one over a whole signal; a streaming analyser (nn::StreamConditioner) runs
// one over a ring buffer, so both give the same numbers for the same samples. init validates and
// sizes everything (hop and frame_rate_hz are not used); the analyse calls never allocate.
class FrameLoudness {
public:
    bool init(double sample_rate_hz, const LoudnessParams& params, std::string& error);
    int fft_size() const { return fft_size_; }
    // Loudness in dB (>= floor_db, finite) of one frame already multiplied by window() (fft_size
    // samples, the stft_frame layout).
    double analyse_windowed(const Real* windowed_frame);
    // The same from raw samples: fft_size samples, the frame's centre at fft_size / 2.
    double analyse(const Real* samples);
    // The spectrum of the last analysed frame (fft_size / 2 + 1 bins, unnormalised).
    const Complex* spectrum() const { return spec_.data(); }
    const Vec& window() const { return window_; }

private:
    LoudnessParams params_;
    int fft_size_ = 0, bins_ = 0;
    double win_power_ = 0.0;
    RealFft fft_{2};
    Vec window_, frame_;
    std::vector<Complex> spec_;
    std::vector<double> weight_db_, weight_lin_;
};

// One value per frame (frame_count(n, hop) values; empty for n == 0), all >= floor_db and finite.
// Fails only on bad parameters (message in error).
bool frame_loudness_db(const Real* x, int n, double sample_rate_hz, const LoudnessParams& params, Vec& out_db,
                       std::string& error);
inline bool frame_loudness_db(const Vec& x, double sample_rate_hz, const LoudnessParams& params, Vec& out_db,
                              std::string& error) {
    return frame_loudness_db(x.data(), int(x.size()), sample_rate_hz, params, out_db, error);
}

}  // namespace ddsp::dsp
