// YIN fundamental-frequency tracker (de Cheveigne & Kawahara, JASA 2002).
//
// Per frame: the difference function d(tau) over an integration window of W samples, computed from
// an FFT cross-correlation and running energies; the cumulative mean normalised difference
// d'(tau) = d(tau) * tau / sum_{j=1..tau} d(j); the first lag in range with d' below the absolute
// threshold, followed down to its local minimum (the global minimum when none is below: that frame
// is unvoiced); parabolic interpolation of d around that lag.
//
// Frames follow the shared grid (features.h): frame f is centred on sample f * hop, n / hop + 1
// frames, none for an empty signal; the analysed segment (W + max lag samples) is zero outside
// the signal. Unvoiced frames (no dip below the threshold, a dip at the edge of the f0 range, or
// a frame quieter than silence_db) have f0_hz = 0 unless hold_unvoiced is set, in which case they
// repeat the last voiced value (frames before the first voiced one take its value). Confidence is
// 1 - d'(tau) clamped to 0..1 (0 for silent frames) and is reported for unvoiced frames too.
#pragma once

#include "dsp/fft.h"
#include "dsp/types.h"

#include <string>
#include <vector>

namespace ddsp::dsp {

struct YinParams {
    double frame_rate_hz = 250.0;  // hop = round(sample_rate / frame_rate) (DDSP: 250 Hz)
    int hop = 0;                   // > 0 overrides frame_rate_hz
    double f0_min_hz = 30.0;
    double f0_max_hz = 2000.0;
    double threshold = 0.1;        // absolute threshold on d'
    int window = 0;                // integration window W in samples; 0: one period of f0_min
    double silence_db = -80.0;     // frames whose mean square (dBFS) is below this are unvoiced
    bool hold_unvoiced = false;    // unvoiced frames keep the last voiced f0 instead of 0
};

using BoolVec = Eigen::Array<bool, Eigen::Dynamic, 1>;

// One frame of YIN (what yin_track stores per frame, plus the candidate behind an unvoiced verdict).
struct YinFrame {
    double f0_hz = 0.0;       // 0 when unvoiced
    double confidence = 0.0;  // 1 - d'(tau) at the chosen lag, 0..1 (0 for a silent frame)
    bool voiced = false;
    bool silent = true;       // below silence_db (or non-finite): nothing was analysed
    double candidate_f0_hz = 0.0;  // f0 of the chosen lag even when unvoiced (0 when silent)
};

// The per-frame maths of YIN with its workspace. yin_track runs one over a whole signal; a streaming
// analyser (nn::StreamConditioner) runs one over a ring buffer, so both give the same numbers for
// the same segment. init validates the parameters and sizes every buffer; analyse never allocates.
class YinFrameAnalyser {
public:
    // Fails (message in error) on bad parameters; hop and frame_rate_hz are not used here.
    bool init(double sample_rate_hz, const YinParams& params, std::string& error);
    // Samples one frame reads: the integration window W plus tau_max + 1 lags. The frame's centre
    // is at index segment_length() / 2, so it reads segment_length() - 1 - segment_length() / 2
    // samples ahead of its centre.
    int segment_length() const { return seg_len_; }
    int window() const { return win_; }
    int tau_min() const { return tau_min_; }
    int tau_max() const { return tau_max_; }
    // segment: segment_length() samples, the frame's centre at segment_length() / 2.
    YinFrame analyse(const Real* segment);

private:
    double sample_rate_hz_ = 0.0;
    double threshold_ = 0.1;
    double silence_ms_ = 0.0;  // silence_db as a mean square
    int tau_min_ = 0, tau_max_ = 0, win_ = 0, seg_len_ = 0;
    RealFft fft_{2};
    std::vector<Real> a_, b_, r_;         // fft-sized: first W samples, whole segment, correlation
    std::vector<Complex> fa_, fb_;
    std::vector<double> cum_, d_, dn_;    // running energy, d(tau), d'(tau)
};

struct PitchTrack {
    Vec f0_hz;          // per frame
    Vec confidence;     // per frame, 1 - d'(tau), 0..1
    BoolVec voiced;     // per frame
    int hop = 0;        // samples between frames
    double frame_rate_hz = 0.0;  // sample_rate / hop (the rate actually used)
};

// Fails only on bad parameters (message in error); silence, noise and tiny inputs give unvoiced
// frames with finite values.
bool yin_track(const Real* x, int n, double sample_rate_hz, const YinParams& params, PitchTrack& out,
               std::string& error);
inline bool yin_track(const Vec& x, double sample_rate_hz, const YinParams& params, PitchTrack& out,
                      std::string& error) {
    return yin_track(x.data(), int(x.size()), sample_rate_hz, params, out, error);
}

// One robust f0 for a whole note: the median f0 of the voiced frames (hold_unvoiced is ignored).
// Returns false with f0_hz = 0 when the parameters are bad or no frame is voiced.
bool yin_note_f0_hz(const Real* x, int n, double sample_rate_hz, const YinParams& params, double& f0_hz,
                    std::string& error);
inline bool yin_note_f0_hz(const Vec& x, double sample_rate_hz, const YinParams& params, double& f0_hz,
                           std::string& error) {
    return yin_note_f0_hz(x.data(), int(x.size()), sample_rate_hz, params, f0_hz, error);
}

// YIN's classic octave-up error: on a note whose fundamental is weak (a low guitar string), the
// lag of half the period already falls below the threshold and YIN reports twice the pitch. The
// spectrum tells the two apart: the true note has partials at the odd multiples of f0_hz / 2
// (its odd harmonics), a note at f0_hz has only noise there. Looks at 0.5 s of x from 20 ms after
// its peak (Hann window, FFT of at least 4x that); at each of the odd multiples k = 1, 3 .. 11 of
// f0_hz / 2 below 0.45 sr, a partial counts when its peak (within +-f0/16) stands 30x (15 dB)
// above the median power of its neighbourhood (+-f0/4) and is within 40 dB of the strongest
// partial. True when at least 4 of those count and the odd positions hold at least 0.3 % of the
// power at the even ones. False for f0_hz / 2 below f0_min_hz or too short a signal.
// (Measured on 1171 GM plucks of fluid-soundfont-gm: no false alarm, every octave-up error found.)
bool yin_octave_too_high(const Real* x, int n, double sample_rate_hz, double f0_hz, double f0_min_hz);
inline bool yin_octave_too_high(const Vec& x, double sample_rate_hz, double f0_hz, double f0_min_hz) {
    return yin_octave_too_high(x.data(), int(x.size()), sample_rate_hz, f0_hz, f0_min_hz);
}

}  // namespace ddsp::dsp
