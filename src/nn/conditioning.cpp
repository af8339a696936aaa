#include "nn/conditioning.h"

#include "dsp/features.h"
#include "dsp/loudness.h"
#include "dsp/mfcc.h"
#include "dsp/pitch.h"

#include <cmath>

namespace ddsp::nn {

bool analyse_conditioning(const Vec& x, double sample_rate_hz, const ConditioningParams& params, Conditioning& out,
                          std::string& error) {
    if (x.size() == 0) {
        error = "the recording has no samples";
        return false;
    }
    if (!x.allFinite()) {
        error = "the recording has non-finite samples (NaN or infinity)";
        return false;
    }
    if (!(sample_rate_hz >= 1000)) {
        error = "sample rate below 1000 Hz";
        return false;
    }
    const int n = int(x.size());
    const int hop = dsp::frame_hop(sample_rate_hz, params.frame_rate_hz);

    dsp::YinParams yin;
    yin.hop = hop;
    dsp::PitchTrack track;
    if (!dsp::yin_track(x, sample_rate_hz, yin, track, error)) return false;
    const int frames = int(track.f0_hz.size());
    // Unvoiced frames take the nearest voiced f0 (before or after), so onsets and releases play
    // the note's pitch rather than a jump to a default.
    out.f0_hz = track.f0_hz;
    int voiced = 0, last = -1;
    for (int f = 0; f < frames; ++f)
        if (track.voiced[f]) {
            ++voiced;
            for (int g = last + 1; g < f; ++g)
                out.f0_hz[g] = last < 0 || (f - g) < (g - last) ? track.f0_hz[f] : track.f0_hz[last];
            last = f;
        }
    const Real fallback = Real(params.unvoiced_f0_hz > 0 ? params.unvoiced_f0_hz : 110.0);
    for (int g = last + 1; g < frames; ++g) out.f0_hz[g] = last < 0 ? fallback : track.f0_hz[last];
    out.voiced_fraction = frames ? double(voiced) / frames : 0.0;

    dsp::LoudnessParams lp;
    lp.hop = hop;
    lp.fft_size = dsp::loudness_fft_size_for(sample_rate_hz);
    if (!dsp::frame_loudness_db(x, sample_rate_hz, lp, out.loudness_db, error)) return false;

    dsp::SpectralParams sp;
    sp.hop = hop;
    sp.fft_size = lp.fft_size / 2;
    dsp::SpectralFeatures spectral;
    if (!dsp::spectral_features(x, sample_rate_hz, sp, spectral, error)) return false;
    out.centroid_hz = spectral.centroid_hz;

    out.gain_db = 0;
    const double peak_db = frames ? double(out.loudness_db.maxCoeff()) : lp.floor_db;
    if (params.fit_level && peak_db > -100) {  // silence stays as it is
        if (peak_db > params.fit_peak_loudness_hi_db) out.gain_db = params.fit_peak_loudness_hi_db - peak_db;
        if (peak_db < params.fit_peak_loudness_lo_db) out.gain_db = params.fit_peak_loudness_lo_db - peak_db;
        // Loudness is a power average: scaling the signal by g shifts every frame by 20 log10 g dB.
        for (Eigen::Index f = 0; f < out.loudness_db.size(); ++f)
            out.loudness_db[f] = Real(std::max(lp.floor_db, double(out.loudness_db[f]) + out.gain_db));
    }

    dsp::MfccParams mp;
    mp.hop = params.mfcc_hop;
    mp.coefficients = params.mfcc_coefficients;
    mp.f_max_hz = sample_rate_hz / 2;
    const Vec scaled = out.gain_db != 0 ? Vec(x * Real(std::pow(10.0, out.gain_db / 20))) : Vec();
    if (!dsp::mfcc(out.gain_db != 0 ? scaled : x, sample_rate_hz, mp, out.mfcc, error)) return false;

    if (out.loudness_db.size() != frames || out.centroid_hz.size() != frames) {
        error = "internal error: feature tracks disagree on the frame count";
        return false;
    }
    out.sample_rate_hz = sample_rate_hz;
    out.num_samples = n;
    out.hop = hop;
    return true;
}

}  // namespace ddsp::nn
