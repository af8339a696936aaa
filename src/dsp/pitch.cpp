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

bool YinFrameAnalyser::init(double sample_rate_hz, const YinParams& params, std::string& error) {
    if (!(sample_rate_hz > 0)) return fail(error, "yin_track: sample rate must be positive");
    if (!(params.f0_min_hz > 0) || !(params.f0_max_hz > params.f0_min_hz))
        return fail(error, "yin_track: need 0 < f0_min_hz < f0_max_hz");
    if (!(params.threshold > 0) || !(params.threshold <= 1)) return fail(error, "yin_track: threshold must be in (0, 1]");
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

    sample_rate_hz_ = sample_rate_hz;
    threshold_ = params.threshold;
    silence_ms_ = std::pow(10.0, params.silence_db / 10.0);
    tau_min_ = tau_min;
    tau_max_ = tau_max;
    win_ = win;
    seg_len_ = seg_len;
    fft_ = RealFft(fft_n);
    a_.assign(fft_n, Real(0));
    b_.assign(fft_n, Real(0));
    r_.assign(fft_n, Real(0));
    fa_.assign(fft_.num_bins(), Complex(0));
    fb_.assign(fft_.num_bins(), Complex(0));
    cum_.assign(seg_len + 1, 0.0);
    d_.assign(lags + 1, 0.0);
    dn_.assign(lags + 1, 0.0);
    return true;
}

YinFrame YinFrameAnalyser::analyse(const Real* segment) {
    YinFrame out;
    const int seg_len = seg_len_, win = win_, lags = tau_max_ + 1;
    std::vector<Real>& a = a_;
    std::vector<Real>& b = b_;
    std::vector<double>& cum = cum_;
    std::vector<double>& d = d_;
    std::vector<double>& dn = dn_;

    // [SECTION] Segment and energies (b beyond seg_len stays zero from init)
    std::copy(segment, segment + seg_len, b.begin());
    cum[0] = 0.0;
    for (int i = 0; i < seg_len; ++i) cum[i + 1] = cum[i] + double(b[i]) * double(b[i]);
    if (!(cum[seg_len] / seg_len >= silence_ms_) || !std::isfinite(cum[seg_len])) return out;  // silent
    out.silent = false;

    // [SECTION] Difference function
    // d(tau) = sum_{j<W} (x_j - x_{j+tau})^2 = e(0) + e(tau) - 2 r(tau), with e(tau) the energy of
    // x[tau, tau+W) and r the cross-correlation of x[0, W) with the whole segment (no wrap-around
    // because fft_n >= W + lags).
    std::copy(b.begin(), b.begin() + win, a.begin());
    std::fill(a.begin() + win, a.end(), Real(0));
    fft_.forward(a.data(), fa_.data());
    fft_.forward(b.data(), fb_.data());
    for (size_t k = 0; k < fa_.size(); ++k) fa_[k] = std::conj(fa_[k]) * fb_[k];
    fft_.inverse(fa_.data(), r_.data());
    const double e0 = cum[win];
    for (int tau = 0; tau <= lags; ++tau) {
        const double e_tau = cum[tau + win] - cum[tau];
        d[tau] = std::max(0.0, e0 + e_tau - 2.0 * double(r_[tau]));
    }

    // [SECTION] Cumulative mean normalised difference
    dn[0] = 1.0;
    double running = 0.0;
    for (int tau = 1; tau <= lags; ++tau) {
        running += d[tau];
        dn[tau] = running > 0 ? d[tau] * tau / running : 1.0;
    }

    // [SECTION] Absolute threshold and local minimum
    const int tau_min = tau_min_, tau_max = tau_max_;
    int best = -1;
    for (int tau = tau_min; tau <= tau_max; ++tau)
        if (dn[tau] < threshold_) {
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

    out.confidence = std::clamp(1.0 - dn[best], 0.0, 1.0);
    out.voiced = voiced;
    out.candidate_f0_hz = sample_rate_hz_ / period;
    out.f0_hz = voiced ? out.candidate_f0_hz : 0.0;
    return out;
}

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
    YinFrameAnalyser yin;
    if (!yin.init(sample_rate_hz, params, error)) return false;
    const int seg_len = yin.segment_length();

    out.hop = params.hop > 0 ? params.hop : frame_hop(sample_rate_hz, params.frame_rate_hz);
    out.frame_rate_hz = sample_rate_hz / out.hop;
    const int frames = frame_count(n, out.hop);
    out.f0_hz = Vec::Zero(frames);
    out.confidence = Vec::Zero(frames);
    out.voiced = BoolVec::Constant(frames, false);
    if (frames == 0) return true;

    std::vector<Real> segment(seg_len);
    for (int f = 0; f < frames; ++f) {
        // The segment is zero outside the signal.
        const long long start = (long long)f * out.hop - seg_len / 2;
        for (int i = 0; i < seg_len; ++i) {
            const long long t = start + i;
            segment[i] = t >= 0 && t < n ? x[t] : Real(0);
        }
        const YinFrame yf = yin.analyse(segment.data());
        out.confidence[f] = Real(yf.confidence);
        out.voiced[f] = yf.voiced;
        out.f0_hz[f] = Real(yf.f0_hz);
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

bool yin_octave_too_high(const Real* x, int n, double sample_rate_hz, double f0_hz, double f0_min_hz) {
    const double h = 0.5 * f0_hz;  // the candidate pitch
    if (!(h >= f0_min_hz) || !(sample_rate_hz > 0) || n <= 0) return false;
    int peak = 0;
    for (int i = 1; i < n; ++i)
        if (std::abs(x[i]) > std::abs(x[peak])) peak = i;
    const int start = peak + int(0.02 * sample_rate_hz);
    const int len = std::min(n - start, int(0.5 * sample_rate_hz));
    // Below ~8 periods of the candidate its partials do not resolve.
    if (len < int(8 * sample_rate_hz / h)) return false;
    const int size = next_power_of_two(4 * len);
    std::vector<Real> buf(size_t(size), Real(0));
    for (int i = 0; i < len; ++i)
        buf[size_t(i)] = x[start + i] * Real(0.5 - 0.5 * std::cos(2 * kPi * (i + 0.5) / len));
    std::vector<Complex> spec(size_t(size / 2 + 1));
    RealFft fft(size);
    fft.forward(buf.data(), spec.data());
    std::vector<double> power(spec.size());
    for (size_t i = 0; i < spec.size(); ++i) power[i] = double(std::norm(spec[i]));
    const double bin_hz = sample_rate_hz / size;
    auto bin = [&](double hz) { return std::clamp(int(std::lround(hz / bin_hz)), 0, int(power.size()) - 1); };
    struct Partial {
        int k;
        double peak, prominence;
    };
    std::vector<Partial> partials;
    double strongest = 0, odd_power = 0, even_power = 0;
    std::vector<double> hood;
    for (int k = 1; k <= 20 && k * h < 0.45 * sample_rate_hz; ++k) {
        const double c = k * h;
        double pk = 0;
        for (int b = bin(c - h / 8); b <= bin(c + h / 8); ++b) pk = std::max(pk, power[size_t(b)]);
        hood.assign(power.begin() + bin(c - h / 2), power.begin() + bin(c + h / 2) + 1);
        std::nth_element(hood.begin(), hood.begin() + hood.size() / 2, hood.end());
        partials.push_back({k, pk, pk / (hood[hood.size() / 2] + 1e-30)});
        strongest = std::max(strongest, pk);
        (k % 2 ? odd_power : even_power) += pk;
    }
    int odd_seen = 0;
    for (const Partial& p : partials)
        if (p.k % 2 == 1 && p.k <= 11 && p.prominence > 30 && p.peak > 1e-4 * strongest) ++odd_seen;
    return odd_seen >= 4 && odd_power > 0.003 * even_power;
}

}  // namespace ddsp::dsp
