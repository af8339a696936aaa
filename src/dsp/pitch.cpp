#include "dsp/pitch.h"

#include "dsp/features.h"
#include "dsp/fft.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ddsp::dsp {

namespace {

bool fail(std::string& error, const char* msg) {
    error = msg;
    return false;
}

// Lags beyond this would need FFTs of millions of points (f0_min of a few Hz at high rates).
constexpr int kMaxLag = 1 << 18;

}  // namespace

bool yin_track(const Real* x, int n, double sample_rate_hz, const YinParams& params, PitchTrack& out,
               std::string& error) {
    out = PitchTrack();
    if (n < 0 || (n > 0 && !x)) return fail(error, "yin_track: no signal (null pointer or negative length)");
    if (!(sample_rate_hz > 0)) return fail(error, "yin_track: sample rate must be positive");
    if (!(params.f0_min_hz > 0) || !(params.f0_max_hz > params.f0_min_hz))
        return fail(error, "yin_track: need 0 < f0_min_hz < f0_max_hz");
    if (!(params.threshold > 0) || !(params.threshold <= 1)) return fail(error, "yin_track: threshold must be in (0, 1]");
    if (params.hop <= 0 && !(params.frame_rate_hz > 0))
        return fail(error, "yin_track: frame_rate_hz must be positive (or give hop)");
    if (params.window < 0) return fail(error, "yin_track: window must be >= 0");
    if (std::isnan(params.silence_db)) return fail(error, "yin_track: silence_db is NaN");

    // Lag range. tau_min >= 2 keeps a neighbour on each side for the interpolation.
    const double tau_max_d = std::ceil(sample_rate_hz / params.f0_min_hz);
    if (tau_max_d > kMaxLag) return fail(error, "yin_track: f0_min_hz too low for this sample rate");
    const int tau_max = std::max(3, int(tau_max_d));
    const int tau_min = std::max(2, int(std::floor(sample_rate_hz / params.f0_max_hz)));
    if (tau_min >= tau_max) return fail(error, "yin_track: f0 range is empty at this sample rate");
    const int lags = tau_max + 1;  // d is computed for 0..tau_max+1
    const int win = params.window > 0 ? params.window : tau_max;
    if (win > kMaxLag) return fail(error, "yin_track: window too long");
    const int seg_len = win + lags;
    const int fft_n = next_power_of_two(seg_len);

    out.hop = params.hop > 0 ? params.hop : frame_hop(sample_rate_hz, params.frame_rate_hz);
    out.frame_rate_hz = sample_rate_hz / out.hop;
    const int frames = frame_count(n, out.hop);
    out.f0_hz = Vec::Zero(frames);
    out.confidence = Vec::Zero(frames);
    out.voiced = BoolVec::Constant(frames, false);
    if (frames == 0) return true;

    RealFft fft(fft_n);
    std::vector<Real> a(fft_n), b(fft_n), r(fft_n);
    std::vector<Complex> fa(fft.num_bins()), fb(fft.num_bins());
    std::vector<double> cum(seg_len + 1), d(lags + 1), dn(lags + 1);
    const double silence_ms = std::pow(10.0, params.silence_db / 10.0);

    for (int f = 0; f < frames; ++f) {
        // [SECTION] Segment and energies
        const long long start = (long long)f * out.hop - seg_len / 2;
        std::fill(b.begin(), b.end(), Real(0));
        for (int i = 0; i < seg_len; ++i) {
            const long long t = start + i;
            if (t >= 0 && t < n) b[i] = x[t];
        }
        cum[0] = 0.0;
        for (int i = 0; i < seg_len; ++i) cum[i + 1] = cum[i] + double(b[i]) * double(b[i]);
        if (!(cum[seg_len] / seg_len >= silence_ms) || !std::isfinite(cum[seg_len])) continue;  // silent

        // [SECTION] Difference function
        // d(tau) = sum_{j<W} (x_j - x_{j+tau})^2 = e(0) + e(tau) - 2 r(tau), with e(tau) the energy of
        // x[tau, tau+W) and r the cross-correlation of x[0, W) with the whole segment (no wrap-around
        // because fft_n >= W + lags).
        std::copy(b.begin(), b.begin() + win, a.begin());
        std::fill(a.begin() + win, a.end(), Real(0));
        fft.forward(a.data(), fa.data());
        fft.forward(b.data(), fb.data());
        for (size_t k = 0; k < fa.size(); ++k) fa[k] = std::conj(fa[k]) * fb[k];
        fft.inverse(fa.data(), r.data());
        const double e0 = cum[win];
        for (int tau = 0; tau <= lags; ++tau) {
            const double e_tau = cum[tau + win] - cum[tau];
            d[tau] = std::max(0.0, e0 + e_tau - 2.0 * double(r[tau]));
        }

        // [SECTION] Cumulative mean normalised difference
        dn[0] = 1.0;
        double running = 0.0;
        for (int tau = 1; tau <= lags; ++tau) {
            running += d[tau];
            dn[tau] = running > 0 ? d[tau] * tau / running : 1.0;
        }

        // [SECTION] Absolute threshold and local minimum
        int best = -1;
        for (int tau = tau_min; tau <= tau_max; ++tau)
            if (dn[tau] < params.threshold) {
                while (tau + 1 <= tau_max && dn[tau + 1] < dn[tau]) ++tau;
                best = tau;
                break;
            }
        bool voiced = best >= 0;
        if (!voiced) {
            best = tau_min;
            for (int tau = tau_min + 1; tau <= tau_max; ++tau)
                if (dn[tau] < dn[best]) best = tau;
        }
        // A dip cut off by the edge of the range belongs to an f0 outside it.
        if ((best == tau_min && dn[best - 1] < dn[best]) || (best == tau_max && dn[best + 1] < dn[best]))
            voiced = false;

        // [SECTION] Parabolic interpolation (on d, as in the paper: d' is biased by its running mean)
        double shift = 0.0;
        const double dl = d[best - 1], dc = d[best], dr = d[best + 1];
        const double curv = dl - 2.0 * dc + dr;
        if (curv > 0) shift = std::clamp(0.5 * (dl - dr) / curv, -1.0, 1.0);
        const double period = best + shift;

        out.confidence[f] = Real(std::clamp(1.0 - dn[best], 0.0, 1.0));
        out.voiced[f] = voiced;
        out.f0_hz[f] = voiced ? Real(sample_rate_hz / period) : Real(0);
    }

    if (params.hold_unvoiced) {
        int first = -1;
        for (int f = 0; f < frames && first < 0; ++f)
            if (out.voiced[f]) first = f;
        if (first >= 0) {
            Real last = out.f0_hz[first];
            for (int f = 0; f < frames; ++f) {
                if (out.voiced[f]) last = out.f0_hz[f];
                else out.f0_hz[f] = last;
            }
        }
    }
    return true;
}

bool yin_note_f0_hz(const Real* x, int n, double sample_rate_hz, const YinParams& params, double& f0_hz,
                    std::string& error) {
    f0_hz = 0.0;
    YinParams p = params;
    p.hold_unvoiced = false;
    PitchTrack track;
    if (!yin_track(x, n, sample_rate_hz, p, track, error)) return false;
    std::vector<double> v;
    for (int f = 0; f < track.f0_hz.size(); ++f)
        if (track.voiced[f]) v.push_back(track.f0_hz[f]);
    if (v.empty()) return fail(error, "yin_note_f0_hz: no voiced frame (silence, noise or f0 out of range)");
    // Median (the mean of the two middle values for an even count).
    const size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + mid, v.end());
    double med = v[mid];
    if (v.size() % 2 == 0) med = 0.5 * (med + *std::max_element(v.begin(), v.begin() + mid));
    f0_hz = med;
    return true;
}

}  // namespace ddsp::dsp
