#include "dsp/onset.h"

#include "dsp/fft.h"
#include "dsp/stft.h"

#include <algorithm>
#include <cmath>

namespace ddsp::dsp {

namespace {

bool fail(std::string& error, const char* msg) {
    error = msg;
    return false;
}

struct OnsetGrid {
    StftConfig cfg;
    int pad = 0;  // zeros in front of the signal
    double sample_rate_hz = 0;
};

bool onset_grid(double sample_rate_hz, const OnsetParams& p, OnsetGrid& g, std::string& error) {
    // The upper bound keeps every span in samples within int range.
    if (!(sample_rate_hz > 0) || !(sample_rate_hz <= 1e7)) return fail(error, "onsets: sample rate must be in (0, 10 MHz]");
    if (!(p.window_s > 0) || !(p.hop_s > 0) || !(p.window_s <= 10) || !(p.hop_s <= 10))
        return fail(error, "onsets: window_s and hop_s must be in (0, 10] s");
    if (!(p.compression > 0) || !std::isfinite(p.compression)) return fail(error, "onsets: compression must be positive");
    if (!(p.delta >= 0) || !std::isfinite(p.delta)) return fail(error, "onsets: delta must be >= 0");
    if (!(p.median_window_s >= 0) || !(p.peak_window_s >= 0) || !(p.min_gap_s >= 0) ||
        !(p.refine_window_s > 0) || !(p.median_window_s <= 60) || !(p.peak_window_s <= 60) ||
        !(p.min_gap_s <= 3600) || !(p.refine_window_s <= 10) || !(p.diff_lag_s >= 0) || !(p.diff_lag_s <= 10) ||
        p.max_filter_bins < 0 || p.max_filter_bins > 64)
        return fail(error, "onsets: window lengths must be non-negative and sensible");
    if (p.window_s * sample_rate_hz > (1 << 22)) return fail(error, "onsets: window too long for this sample rate");
    const int win = std::max(2, int(std::lround(p.window_s * sample_rate_hz)));
    g.cfg.win_length = win;
    g.cfg.fft_size = next_power_of_two(win);
    g.cfg.hop = std::max(1, int(std::lround(p.hop_s * sample_rate_hz)));
    // Half an FFT of zeros in front: frame 0 then sees only silence and the signal's start is a
    // change like any other.
    g.pad = g.cfg.fft_size / 2;
    g.sample_rate_hz = sample_rate_hz;
    return true;
}

int diff_lag_frames(const OnsetParams& p, const OnsetGrid& g) {
    return std::max(1, int(std::lround(p.diff_lag_s * g.sample_rate_hz / g.cfg.hop)));
}

// Whole hops in a span of seconds.
int frames_for(double seconds, double sample_rate_hz, int hop) {
    return int(std::floor(seconds * sample_rate_hz / hop + 1e-9));
}

// [SECTION] Refinement
// Prefix sums over e[t] = (x[t] - x[t-1])^2: the first difference favours the broadband transient
// of an attack over the low-frequency ringing of earlier notes, whose energy over a few ms
// swings with the phase of the wave.
struct EnergySums {
    std::vector<double> s0, s1;  // sum of e[j], sum of j * e[j], for j < i
    int n = 0;
    explicit EnergySums(const Real* x, int len) : s0(size_t(len) + 1, 0.0), s1(size_t(len) + 1, 0.0), n(len) {
        double prev = 0.0;
        for (int i = 0; i < len; ++i) {
            const double d = double(x[i]) - prev;
            prev = x[i];
            s0[i + 1] = s0[i] + d * d;
            s1[i + 1] = s1[i] + d * d * i;
        }
    }
    long long clampi(long long i) const { return std::clamp<long long>(i, 0, n); }
    double sum(long long a, long long b) const { return s0[clampi(b)] - s0[clampi(a)]; }
    // sum_{t <= j < t+len} (1 - (j - t) / len) e[j]: most weight right after t.
    double ramp_after(long long t, int len) const {
        const long long a = clampi(t), b = clampi(t + len);
        return (s0[b] - s0[a]) - ((s1[b] - s1[a]) - double(t) * (s0[b] - s0[a])) / len;
    }
};

// Onset sample in [lo, hi): the maximum of (mean weighted energy in the short window after t) /
// (mean energy in the 4x longer window before t).
long long refine_onset(const EnergySums& es, long long lo, long long hi, int len) {
    const int n = es.n;
    lo = std::clamp<long long>(lo, 0, n - 1);
    hi = std::clamp<long long>(hi, lo + 1, n);
    const int before_len = 4 * len;
    double peak = 0.0;
    for (long long t = lo; t < hi; ++t) peak = std::max(peak, es.ramp_after(t, len));
    if (!(peak > 0)) return lo;
    // The floor stops 0/0 in digital silence; it is relative, so gain does not move the result.
    const double eps = peak / (0.5 * len) * 1e-9;
    long long best = lo;
    double best_ratio = -1.0;
    for (long long t = lo; t < hi; ++t) {
        const double after = es.ramp_after(t, len) / (0.5 * len);
        const double before = es.sum(t - before_len, t) / before_len;
        const double ratio = (after + eps) / (before + eps);
        if (ratio > best_ratio) {
            best_ratio = ratio;
            best = t;
        }
    }
    return best;
}

}  // namespace

bool onset_strength(const Real* x, int n, double sample_rate_hz, const OnsetParams& params, Vec& flux,
                    Vec& times_s, std::string& error) {
    flux.resize(0);
    times_s.resize(0);
    if (n < 0 || (n > 0 && !x)) return fail(error, "onset_strength: no signal (null pointer or negative length)");
    OnsetGrid g;
    if (!onset_grid(sample_rate_hz, params, g, error)) return false;
    if (n == 0) return true;

    Vec padded = Vec::Zero(Eigen::Index(n) + g.pad);
    for (int i = 0; i < n; ++i) padded[g.pad + i] = x[i];
    const int len = int(padded.size());
    const int frames = stft_num_frames(len, g.cfg);
    const int bins = stft_num_bins(g.cfg);
    flux = Vec::Zero(frames);
    times_s.resize(frames);
    for (int f = 0; f < frames; ++f) times_s[f] = Real((double(f) * g.cfg.hop - g.pad) / sample_rate_hz);

    // Frame by frame (an STFT at this hop would be large for long files): one pass for the peak
    // magnitude, one for the flux, keeping the last lag + 1 compressed frames in a ring.
    RealFft fft(g.cfg.fft_size);
    const Vec window = stft_window(g.cfg);
    Vec frame(g.cfg.fft_size);
    std::vector<Complex> spec(bins);
    auto magnitudes = [&](int f, double* out) {
        stft_frame(padded.data(), len, f, g.cfg, window, frame.data());
        fft.forward(frame.data(), spec.data());
        for (int k = 0; k < bins; ++k) out[k] = std::abs(spec[k]);
    };
    std::vector<double> mag(bins);
    double peak = 0.0;
    for (int f = 0; f < frames; ++f) {
        magnitudes(f, mag.data());
        for (double m : mag) peak = std::max(peak, m);
    }
    const double scale = peak > 0 ? params.compression / peak : 0.0;
    if (!(scale > 0) || !std::isfinite(scale)) return true;  // silence (or non-finite input): no change

    // Frames whose window runs past the end see the signal stop, which splatters like an onset:
    // they get no flux (an onset in the last half window is not reported).
    const long long end_frame = ((long long)n + g.pad - g.cfg.win_length / 2) / g.cfg.hop;
    const int lag = diff_lag_frames(params, g);
    const int max_bins = params.max_filter_bins;
    std::vector<std::vector<double>> ring(lag + 1, std::vector<double>(bins, 0.0));
    for (int f = 0; f < frames && f <= end_frame; ++f) {
        std::vector<double>& cur = ring[f % (lag + 1)];
        magnitudes(f, cur.data());
        for (double& v : cur) v = std::log10(1.0 + scale * v);
        // Frames before the first compare with silence (the ring starts zeroed).
        const std::vector<double>& old = ring[(f + 1) % (lag + 1)];  // frame f - lag
        double acc = 0.0;
        for (int k = 0; k < bins; ++k) {
            // Reference: the maximum over neighbouring bins of the earlier frame (SuperFlux), so
            // that noise fluctuations and small pitch drifts do not read as new energy.
            double ref = old[k];
            for (int j = std::max(0, k - max_bins); j <= std::min(bins - 1, k + max_bins); ++j)
                ref = std::max(ref, old[j]);
            acc += std::max(0.0, cur[k] - ref);
        }
        flux[f] = Real(acc / bins);
    }
    return true;
}

bool detect_onsets(const Real* x, int n, double sample_rate_hz, const OnsetParams& params,
                   std::vector<double>& onsets_s, std::string& error) {
    onsets_s.clear();
    Vec flux, times;
    if (!onset_strength(x, n, sample_rate_hz, params, flux, times, error)) return false;
    const int frames = int(flux.size());
    if (frames == 0) return true;
    OnsetGrid g;
    onset_grid(sample_rate_hz, params, g, error);  // cannot fail: onset_strength checked the same
    const int hop = g.cfg.hop;
    const int lag = diff_lag_frames(params, g);
    const int med_half = frames_for(params.median_window_s, sample_rate_hz, hop);
    const int peak_half = std::max(1, frames_for(params.peak_window_s, sample_rate_hz, hop));
    const double min_gap = params.min_gap_s;

    const EnergySums sums(x, params.refine ? n : 0);
    const int refine_len = std::max(1, int(std::lround(params.refine_window_s * sample_rate_hz)));

    std::vector<double> window;
    double last = -1e300;
    for (int f = 1; f < frames; ++f) {
        const double v = flux[f];
        if (!(v > params.delta)) continue;
        bool is_max = true;
        for (int j = std::max(0, f - peak_half); j <= std::min(frames - 1, f + peak_half) && is_max; ++j)
            if (flux[j] > v || (flux[j] == v && j < f)) is_max = false;  // ties: the earliest frame
        if (!is_max) continue;
        window.assign(flux.data() + std::max(0, f - med_half), flux.data() + std::min(frames, f + med_half + 1));
        const size_t mid = window.size() / 2;
        std::nth_element(window.begin(), window.begin() + mid, window.end());
        if (!(v > window[mid] + params.delta)) continue;

        // The change lies between the start of frame f-1's window and the end of frame f's window.
        const long long centre = (long long)f * hop - g.pad;  // frame centre, in signal samples
        const long long half_win = g.cfg.win_length / 2;
        long long lo = centre - (long long)lag * hop - half_win, hi = centre + half_win;
        double t_s;
        if (params.refine) {
            const long long gap_lo = (long long)std::ceil((last + min_gap) * sample_rate_hz);
            if (last > -1e299) lo = std::max(lo, gap_lo);
            if (lo >= n || hi <= 0 || lo >= hi) continue;
            t_s = double(refine_onset(sums, lo, hi, refine_len)) / sample_rate_hz;
        } else {
            t_s = std::clamp(double(centre) / sample_rate_hz, 0.0, double(n - 1) / sample_rate_hz);
        }
        if (t_s - last < min_gap) continue;
        onsets_s.push_back(t_s);
        last = t_s;
    }
    return true;
}

}  // namespace ddsp::dsp
