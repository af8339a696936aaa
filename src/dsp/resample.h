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

#include <string>

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

}  // namespace ddsp::dsp
