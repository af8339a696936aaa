// Band-limited sample-rate conversion with a Kaiser-windowed sinc.
//
// Output sample m sits at input time t = m * from_hz / to_hz (no delay): y[m] = sum_k x[k] h(t - k),
// with the signal taken as zero outside [0, n). The output has round(n * to_hz / from_hz) samples.
// The low-pass h keeps [0, passband * f_nyq] (ripple ~ 10^(-stopband_db/20)) and attenuates
// [f_nyq, inf) by at least stopband_db, where f_nyq is the lower of the two Nyquist frequencies, so
// nothing aliases into the output (downsampling) and no images appear (upsampling). The first and
// last ~50 samples (counted at the lower rate) ramp in and out, as with any linear-phase filter.
//
// Cost is O(n * taps). The kernel length follows Kaiser's estimate for the transition band
// [passband, 1] * f_nyq: about 100 taps per output sample at the defaults, times
// max(1, from_hz / to_hz) when downsampling (native, 60 s of 44.1 kHz -> 16 kHz: ~0.06 s).
// Rational ratios (integer rates, e.g. 44100 -> 16000) use an exact polyphase table; other ratios
// interpolate a finely tabulated kernel (error below -100 dB). Both are deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dsp/types.h"

namespace ddsp::dsp {

struct ResampleParams {
    double passband = 0.9;      // passband edge as a fraction of the lower Nyquist, in (0, 1)
    double stopband_db = 80.0;  // attenuation from the lower Nyquist up, in [20, 200]
};

// Rates must be finite, > 0 and <= 1e7 Hz. Equal rates return the input unchanged.
bool resample(const Vec& x, double from_hz, double to_hz, Vec& out, std::string& error,
              const ResampleParams& p = {});
// Convenience form: returns an empty Vec on invalid arguments.
Vec resample(const Vec& x, double from_hz, double to_hz, const ResampleParams& p = {});

// Number of output samples for n input samples: round(n * to_hz / from_hz) (exact for integer rates).
long long resample_length(long long n, double from_hz, double to_hz);

// The same filter, block by block (the audio thread's rate converter): for integer rates whose
// reduced ratio has a polyphase table. Stream output m' is offline output m' - latency_samples()
// (zeros before), i.e. resample() of everything pushed so far, delayed so that each output needs
// only input that has arrived. Lower passbands shorten the filter and so the latency: the live
// engine uses passband 0.85 (16 kHz -> 48 kHz: 2.1 ms). No allocation after init().
class StreamResampler {
public:
    // max_push: the most samples one push() may bring. False + error for bad or non-integer rates.
    bool init(double from_hz, double to_hz, int max_push, const ResampleParams& p, std::string& error);
    void reset();
    // Input samples to push before pull() can give `frames` more outputs.
    int inputs_needed(int frames) const;
    // Appends n <= max_push input samples (non-finite samples count as 0).
    void push(const Real* x, int n);
    // Writes up to max_frames outputs that the pushed input determines; returns how many.
    int pull(Real* out, int max_frames);
    // Output samples between an input sample and its image in the output (fractional at ratios such
    // as 16 kHz -> 44.1 kHz).
    double latency_out_samples() const;
    int latency_samples() const { return delay_out_; }
    double from_hz() const { return from_hz_; }
    double to_hz() const { return to_hz_; }

private:
    std::int64_t needed_input_count(std::int64_t out_index) const;  // input samples output m' needs
    double from_hz_ = 0, to_hz_ = 0;
    std::int64_t a_ = 1, b_ = 1, j0_ = 0, taps_ = 0;
    std::vector<double> coef_;
    std::vector<Real> ring_;  // input history, indexed by absolute input index & mask_
    std::int64_t mask_ = 0;
    std::int64_t pushed_ = 0;  // input samples so far
    std::int64_t emitted_ = 0; // output samples so far (stream index m')
    int delay_out_ = 0;        // m' = m + delay_out_
};

}  // namespace ddsp::dsp
