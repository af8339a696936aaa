// Mel-frequency cepstral coefficients: the input features of DDSP's MFCC -> GRU -> z encoder.
// Plain signal code (no tape): the encoder's input needs no gradient.
//
// Pipeline per frame: power spectrum |X|^2 (stft.h framing: centred frames, periodic Hann,
// n / hop + 1 frames) -> triangular HTK mel filterbank (unnormalised, peak 1) -> natural log of
// max(mel power, log_floor) -> orthonormal DCT-II, first `coefficients` outputs. This matches
// torchaudio MelSpectrogram(power=2, center=True, pad_mode="constant", mel_scale="htk",
// norm=None) + log(clamp(min=log_floor)) + create_dct(norm="ortho") (see tests/test_mfcc.cpp).
//
// DDSP (magenta/ddsp, spectral_ops.compute_mfcc as called by MfccTimeDistributedRnnEncoder)
// uses 30 MFCCs from 128 HTK mel bins over 20..8000 Hz, fft 1024. Differences from it, on
// purpose: DDSP frames with tf.signal.stft (uncentred, pad_end), hop fft*(1-overlap) = 256 for its
// default z_time_steps=250 (250 frames per 4 s clip, later resampled), uses the magnitude (not
// power) in the mel sum, log(x + 1e-5) instead of a floor, and tf's DCT scaling (c0 is sqrt(2)
// larger than orthonormal). We use hop 64 so z lands on the 250 Hz control grid directly; the
// encoder normalises its input anyway, so these scalings do not matter for training.
#pragma once

#include "dsp/fft.h"
#include "dsp/types.h"

#include <string>
#include <vector>

namespace ddsp::dsp {

struct MfccParams {
    int fft_size = 1024;       // power of two; the window is a periodic Hann of this length
    int hop = 64;              // 250 frames/s at 16 kHz
    int mel_bands = 128;
    int coefficients = 30;     // 1..mel_bands
    double f_min_hz = 20.0;
    double f_max_hz = 8000.0;  // <= Nyquist
    double log_floor = 1e-6;   // mel powers are clamped to this before the log
};

// Checks params against sample_rate_hz; false with a message in error on failure.
bool mfcc_params_valid(const MfccParams& params, double sample_rate_hz, std::string& error);

// HTK mel scale: 2595 log10(1 + f / 700).
double hz_to_mel_htk(double f_hz);
double mel_to_hz_htk(double mel);

// Triangular filters (bands x (fft_size/2 + 1)) with corners at bands + 2 points evenly spaced on
// the HTK mel scale from f_min_hz to f_max_hz, triangles linear in Hz, peak 1 at the centre
// frequency (no area normalisation), as torchaudio melscale_fbanks(norm=None, mel_scale="htk").
// Empty on bad arguments.
Arr mel_filterbank(int fft_size, double sample_rate_hz, int bands, double f_min_hz, double f_max_hz);
// Orthonormal DCT-II matrix (coefficients x bands): D(k, m) = s_k cos(pi k (m + 0.5) / bands),
// s_0 = sqrt(1 / bands), s_k = sqrt(2 / bands). Empty on bad arguments.
Arr dct2_ortho(int coefficients, int bands);
// log(max(filterbank * magnitude^2, log_floor)): magnitude is (bins x frames) as stft_magnitude
// gives; the result is (bands x frames).
Arr log_mel_power(const Arr& magnitude, const Arr& filterbank, double log_floor);

// Filterbank, DCT, window and FFT precomputed for one (params, sample rate), so each clip costs
// one STFT plus a sparse mel sum and a small matmul per frame. Not shareable between threads
// (the FFT plan owns scratch); copy it per thread.
class MfccPlan {
public:
    MfccPlan(const MfccParams& params, double sample_rate_hz);

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    const MfccParams& params() const { return params_; }
    double sample_rate_hz() const { return sample_rate_hz_; }
    const Arr& filterbank() const { return filterbank_; }  // bands x bins
    const Arr& dct() const { return dct_; }                // coefficients x bands

    // out: frames x coefficients (one row per frame, n / hop + 1 rows; 0 rows for n == 0).
    bool compute(const Real* x, int n, Arr& out, std::string& error);

private:
    MfccParams params_;
    double sample_rate_hz_;
    std::string error_;
    Arr filterbank_;
    Arr dct_;
    std::vector<int> band_begin_, band_end_;  // non-zero bin range of each filter
    Vec window_;
    RealFft fft_;
};

// One-shot form: builds an MfccPlan and runs it. out: frames x coefficients.
bool mfcc(const Real* x, int n, double sample_rate_hz, const MfccParams& params, Arr& out,
          std::string& error);
inline bool mfcc(const Vec& x, double sample_rate_hz, const MfccParams& params, Arr& out,
                 std::string& error) {
    return mfcc(x.data(), int(x.size()), sample_rate_hz, params, out, error);
}

}  // namespace ddsp::dsp
