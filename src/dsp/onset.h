// Onset detection: log-compressed spectral flux, adaptive threshold, peak picking, then a
// refinement of each onset to ~1 ms from the waveform.
//
// Onset strength: STFT of a short window (stft.h framing); magnitudes are normalised by the
// largest one in the signal (gain-independent) and compressed, L = log10(1 + compression * |X|).
// The flux of frame f is the mean over bins k of max(0, L[k, f] - R[k]), where R is frame f - lag
// (diff_lag_s earlier) after a maximum filter over +-max_filter_bins bins (SuperFlux, Boeck &
// Widmer 2013): comparing frames a few hops apart catches attacks of several ms in one frame, and
// the maximum filter keeps noise fluctuations and vibrato from reading as new energy. The signal is
// zero before its start, so a sound that begins at t = 0 has an onset at 0; frames whose window
// runs past the end get no flux (the abrupt end would splatter like an onset).
// Peak picking: frame f is an onset when its flux is the maximum within +-peak_window_s, exceeds
// the moving median over +-median_window_s by delta, and comes at least min_gap_s after the
// previous onset. Defaults are set so that 60 s of white noise (16 kHz) or a steady tone give no
// detections while attacks of plucks, hits and clicks score far above delta; a soft (>= 3 ms)
// re-attack of the same pitch over a ringing note is typically missed.
// Refinement: the flux peak only says which window the change happened in (a window is tens of
// ms). The onset is moved to the sample, within that span, that maximises the ratio of the
// energy of the first difference in refine_window_s after it (weighted towards its start) to that
// in the 4 x refine_window_s before it (mean powers).
#pragma once

#include "dsp/types.h"

#include <string>
#include <vector>

namespace ddsp::dsp {

struct OnsetParams {
    double window_s = 0.032;         // STFT window (fft_size: next power of two)
    double hop_s = 0.005;
    double diff_lag_s = 0.02;        // flux compares frames this far apart (at least one hop)
    int max_filter_bins = 1;         // half-width of the maximum filter on the reference frame
    double compression = 1000.0;     // log10(1 + compression * |X| / max|X|): ~60 dB of range
    double delta = 0.08;             // threshold above the local median, in flux units
    double median_window_s = 0.1;    // half-width of the moving median
    double peak_window_s = 0.03;     // half-width of the local-maximum test
    double min_gap_s = 0.03;         // minimum time between onsets
    bool refine = true;              // false: report the frame centre (biased by up to a window)
    double refine_window_s = 0.005;  // energy window after the onset (the one before is 4x)
};

// Onset strength per frame and the time (s) of each frame's centre; frame times start before 0
// because of the leading silence. Empty for n == 0. Fails only on bad parameters.
bool onset_strength(const Real* x, int n, double sample_rate_hz, const OnsetParams& params, Vec& flux,
                    Vec& times_s, std::string& error);

// Onset times in seconds, increasing, within [0, n / sample_rate). Fails only on bad parameters.
bool detect_onsets(const Real* x, int n, double sample_rate_hz, const OnsetParams& params,
                   std::vector<double>& onsets_s, std::string& error);
inline bool detect_onsets(const Vec& x, double sample_rate_hz, const OnsetParams& params,
                          std::vector<double>& onsets_s, std::string& error) {
    return detect_onsets(x.data(), int(x.size()), sample_rate_hz, params, onsets_s, error);
}

}  // namespace ddsp::dsp
