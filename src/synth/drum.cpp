// `drum`: a modal drum (inharmonic damped modes, banded noise, the recording's attack, drive).
// See drum.h for the signal flow.
//
// Index
//   [SECTION] parameter table
//   [SECTION] noise bands
//   [SECTION] analysis of a recording (the initial guess)
//   [SECTION] the voice node (modes, bands, drive, transient)
//   [SECTION] the synth
//
// Design notes:
// - Why this model: drum808's two sines and one high-passed noise cannot shape a real snare's
//   modes and noise spectrum, a tom's ring or a clap's bursts. A membrane or shell rings in
//   inharmonic modes, each an exponentially damped sinusoid; the snares, hats and the stick make
//   noise whose spectrum and decay differ by band; the first milliseconds (the stick, the beater,
//   a clap's bursts) are too fast and too specific for either, so they come from the recording
//   itself, cross-faded into the model as ks does with its residual excitation.
// - The band noises are constants (fixed white noise through fixed masks), so only their
//   envelopes and gains carry gradients: smooth directions for the optimiser. The masks sum to 1,
//   so the bands are a partition of one white noise, not independent noises.
// - Mode frequencies are `global` (the hybrid method searches them first): a spectral loss over a
//   sinusoid's frequency is full of local minima. The analysis puts them on the recording's peaks.
// - Times and frequencies use log scales (relative optimiser steps), levels dB.
// - Everything after the scalar controls is one node with a hand-written backward pass
//   (DrumVoiceNode), as drum808's; tests/test_synth_drum.cpp checks it against central differences.
#include "synth/drum.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "dsp/fft.h"
#include "dsp/rng.h"
#include "dsp/stft.h"
#include "synth/registry.h"

namespace ddsp::synth {

namespace {

// [SECTION] parameter table

constexpr double kLn1000 = 6.907755278982137;  // 60 dB in nepers
constexpr double kBandLowHz = 50;
constexpr double kGainFloorDb = -90;
// A band's noise at 0 dB has white noise's level per bin; a loud hit concentrates more than that in
// a band (a snare's wires between 2 and 8 kHz reach ~+15 dB).
constexpr double kBandGainMaxDb = 24;

// Ratios of an ideal circular membrane's first modes to its fundamental (zeros of Bessel
// functions): where the defaults (no recording) put the modes.
constexpr double kMembraneRatios[kDrumModes] = {1.0,  1.594, 2.136, 2.296, 2.653, 2.918,
                                                3.156, 3.501, 3.600, 4.060, 4.154, 4.601};
constexpr double kDefaultF0Hz = 180;

// cos^2 of a quarter turn times frac: the lower band's share of a crossover.
double square_cos(double frac) {
    const double c = std::cos(0.5 * kPi * frac);
    return c * c;
}

double band_high_hz(double sample_rate_hz) { return std::max(kBandLowHz * 2, std::min(16000.0, 0.45 * sample_rate_hz)); }
double mode_max_hz(double sample_rate_hz) { return std::max(40.0, 0.45 * sample_rate_hz); }

std::vector<ParamSpec> drum_table(double sample_rate_hz, bool analysed) {
    const ad::Scale lin = ad::Scale::linear, log = ad::Scale::log;
    const double f_max = mode_max_hz(sample_rate_hz);
    ParamSpec freq{"mode_freq_hz", "Hz", 20, f_max, std::min(kDefaultF0Hz, f_max / 5), log, kDrumModes,
                   "Frequency of each mode (inharmonic; before the pitch glide)", true};
    freq.step_scale = 0.05;  // a full step moves a mode by up to 9 %: out of its peak
    return {
        freq,
        {"mode_decay_ms", "ms", 5, 5000, 150, log, kDrumModes, "Each mode's time to fall 60 dB"},
        {"mode_gain_db", "dB", kGainFloorDb, 12, -24, lin, kDrumModes, "Each mode's initial amplitude"},
        {"glide_depth", "", -0.5, 2, 0, lin, 1,
         "Pitch glide of every mode: frequency x (1 + depth x glide envelope) (0: none)"},
        {"glide_decay_ms", "ms", 5, 2000, 100, log, 1, "Pitch glide envelope: time to fall 60 dB"},
        {"band_gain_db", "dB", kGainFloorDb, kBandGainMaxDb, -40, lin, kDrumBands, "Noise level of each band"},
        {"band_attack_ms", "ms", 0.1, 200, 0.5, log, kDrumBands, "Noise attack time constant of each band"},
        {"band_decay_ms", "ms", 5, 5000, 150, log, kDrumBands, "Noise of each band: time to fall 60 dB"},
        {"drive_db", "dB", -24, 24, -24, lin, 1, "Gain into the tanh waveshaper (output gain compensated)"},
        {"transient_mix", "", 0, 1, analysed ? 1.0 : 0.0, lin, 1,
         "How much of the recording's first 10 ms replaces the model's; no effect without a recording"},
    };
}

ParamValues drum_defaults(double sample_rate_hz) {
    ParamValues v = default_values(drum_table(sample_rate_hz, false));
    const double f_max = mode_max_hz(sample_rate_hz);
    for (int k = 0; k < kDrumModes; ++k) {
        v["mode_freq_hz"][size_t(k)] = std::min(kDefaultF0Hz * kMembraneRatios[k], 0.9 * f_max);
        v["mode_decay_ms"][size_t(k)] = 250.0 * std::pow(0.9, k);
        v["mode_gain_db"][size_t(k)] = -12.0 - 1.5 * k;
    }
    // A snare's wires: bright noise, the low bands quiet.
    for (int b = 0; b < kDrumBands; ++b) v["band_gain_db"][size_t(b)] = b < kDrumBands / 3 ? -50 : -30;
    return v;
}

}  // namespace

// [SECTION] noise bands

std::vector<double> drum_band_centres_hz(double sample_rate_hz) {
    const double hi = band_high_hz(sample_rate_hz);
    std::vector<double> c(kDrumBands);
    for (int b = 0; b < kDrumBands; ++b) c[size_t(b)] = kBandLowHz * std::pow(hi / kBandLowHz, double(b) / (kDrumBands - 1));
    return c;
}

double drum_band_weight(int band, double f_hz, double sample_rate_hz) {
    if (f_hz <= 0 || band < 0 || band >= kDrumBands) return 0;
    const double hi = band_high_hz(sample_rate_hz);
    const double x = std::clamp(std::log(f_hz / kBandLowHz) / std::log(hi / kBandLowHz) * (kDrumBands - 1), 0.0,
                                double(kDrumBands - 1));
    const int lower = std::min(int(x), kDrumBands - 2);
    const double frac = x - lower;
    if (band == lower) return square_cos(frac);
    if (band == lower + 1) return 1 - square_cos(frac);
    return 0;
}


Arr drum_noise_bands(int period, double sample_rate_hz, uint64_t seed) {
    period = std::max(2, dsp::next_power_of_two(period));
    std::vector<Real> white(static_cast<size_t>(period)), band(static_cast<size_t>(period));
    dsp::Rng rng(seed);
    for (Real& w : white) w = Real(rng.uniform(-1.0, 1.0));
    dsp::RealFft fft(period);
    std::vector<Complex> spectrum(size_t(fft.num_bins())), masked(spectrum.size());
    fft.forward(white.data(), spectrum.data());
    Arr out(period, kDrumBands);
    for (int b = 0; b < kDrumBands; ++b) {
        for (size_t k = 0; k < spectrum.size(); ++k)
            masked[k] = spectrum[k] * Real(drum_band_weight(b, double(k) * sample_rate_hz / period, sample_rate_hz));
        fft.inverse(masked.data(), band.data());
        for (int i = 0; i < period; ++i) out(i, b) = band[size_t(i)];
    }
    return out;
}

namespace {

// [SECTION] analysis of a recording (the initial guess)
//
// All measurements are on one magnitude STFT (about 46 ms Hann frames, hop 1/8 of that) in dB:
// - Modes: the peak spectrum (each bin's maximum over the first 300 ms); a peak is a local maximum
//   at least 6 dB above the median of the spectrum within a third of an octave around it and at
//   most 60 dB under the loudest; the kDrumModes best by level + prominence / 2 are kept. Each
//   one's frequency comes from a parabola through the three bins in dB; its decay from a line
//   fitted to its level (the max of three bins) from its loudest frame until 40 dB down or 6 dB
//   above its floor; its amplitude from that line at t = 0 (|X| = a sum(window) / 2).
// - Bands: a band's level in a frame is the median power of the bins where its weight is >= 0.5,
//   leaving out those within 4 bins of a mode found (the median steps over the other peaks), relative to the same measure of the synth's own band
//   noise at 0 dB; attack from the loudest frame's time past half a window; decay and gain from a
//   line as for the modes, fitted on frames that start after the onset (see below).

struct LineFit {
    double slope = 0, intercept = 0;
    int points = 0;
};

// Least squares y = slope t + intercept over (t[i], y[i]), i in [first, last].
LineFit fit_line(const std::vector<double>& t, const std::vector<double>& y, int first, int last) {
    LineFit f;
    f.points = last - first + 1;
    if (f.points <= 0) return f;
    double mt = 0, my = 0;
    for (int i = first; i <= last; ++i) mt += t[size_t(i)], my += y[size_t(i)];
    mt /= f.points, my /= f.points;
    double stt = 0, sty = 0;
    for (int i = first; i <= last; ++i) {
        stt += (t[size_t(i)] - mt) * (t[size_t(i)] - mt);
        sty += (t[size_t(i)] - mt) * (y[size_t(i)] - my);
    }
    f.slope = stt > 0 ? sty / stt : 0;
    f.intercept = my - f.slope * mt;
    return f;
}

// A decaying level track in dB (one value per frame at times t): from its loudest frame (searched
// in [first, search_end)), the T60 in ms and the level at t = 0 in dB of a line fitted until the
// track is 40 dB down or within `floor_margin_db` of its floor (its minimum).
struct Decay {
    double t60_ms = 0, level0_db = 0, peak_time_s = 0;
};

Decay fit_decay(const std::vector<double>& t, const std::vector<double>& level_db, int first, int search_end,
                double floor_margin_db, double min_ms, double max_ms) {
    Decay d;
    const int frames = int(level_db.size());
    first = std::clamp(first, 0, frames - 1);
    search_end = std::clamp(search_end, first + 1, frames);
    const int peak = int(std::max_element(level_db.begin() + first, level_db.begin() + search_end) - level_db.begin());
    const double floor_db = *std::min_element(level_db.begin(), level_db.end());
    const double peak_db = level_db[size_t(peak)];
    int last = peak;
    while (last + 1 < frames && level_db[size_t(last + 1)] >= peak_db - 40 &&
           level_db[size_t(last + 1)] >= floor_db + floor_margin_db)
        ++last;
    d.peak_time_s = t[size_t(peak)];
    const LineFit f = fit_line(t, level_db, peak, last);
    if (f.points >= 3 && f.slope < 0) {
        d.t60_ms = std::clamp(-60.0 / f.slope * 1000.0, min_ms, max_ms);
        d.level0_db = f.intercept;
    } else if (f.points >= 3) {  // not decaying within the clip
        d.t60_ms = max_ms;
        d.level0_db = f.intercept;
    } else {  // gone within a couple of frames: as fast as the frames can tell
        d.t60_ms = std::clamp(1000.0 * (t[size_t(last)] - t[size_t(peak)] + t[1] - t[0]) * 1.5, min_ms, max_ms);
        d.level0_db = peak_db + 60.0 * d.peak_time_s * 1000.0 / d.t60_ms;
    }
    return d;
}

struct DrumAnalysis final : TargetAnalysis {
    Vec head;  // the recording's first kDrumTransientMs
    double rate_hz = 0;
    ParamValues initial;  // the analysed starting point, in physical units
    int modes_found = 0;
};

double to_db(double power_or_amp, double scale) { return scale * std::log10(std::max(power_or_amp, 1e-30)); }

ParamValues analyse_drum(const Vec& x, const SynthConfig& cfg, int& modes_found) {
    const double sr = cfg.sample_rate_hz;
    const int n = int(x.size());
    ParamValues v = drum_defaults(sr);
    v["transient_mix"] = {1.0};
    dsp::StftConfig sc;
    sc.fft_size = std::max(256, dsp::next_power_of_two(int(std::lround(0.046 * sr))));
    sc.hop = sc.fft_size / 8;
    Arr mag;
    dsp::stft_magnitude(x.data(), n, sc, mag);
    const int bins = int(mag.rows()), frames = int(mag.cols());
    const double bin_hz = sr / sc.fft_size, frame_s = double(sc.hop) / sr;
    const double window_sum = double(dsp::stft_window(sc).sum());
    std::vector<double> t(static_cast<size_t>(frames));
    for (int f = 0; f < frames; ++f) t[size_t(f)] = f * frame_s;
    const int early_frames = std::clamp(int(std::lround(0.3 / frame_s)) + 1, 1, frames);
    modes_found = 0;
    if (frames < 2 || !(mag.maxCoeff() > 0)) return v;  // silence: the defaults

    // Modes.
    std::vector<double> peak_db(static_cast<size_t>(bins));
    for (int k = 0; k < bins; ++k) peak_db[size_t(k)] = to_db(double(mag.row(k).head(early_frames).maxCoeff()), 20);
    const double loudest_db = *std::max_element(peak_db.begin(), peak_db.end());
    struct Candidate {
        int bin;
        double score;
    };
    std::vector<Candidate> candidates;
    const int k_lo = std::max(2, int(std::ceil(20 / bin_hz))), k_hi = std::min(bins - 3, int(mode_max_hz(sr) / bin_hz));
    std::vector<double> around;
    for (int k = k_lo; k <= k_hi; ++k) {
        const double p = peak_db[size_t(k)];
        if (!(p > peak_db[size_t(k - 1)] && p >= peak_db[size_t(k + 1)] && p >= peak_db[size_t(k - 2)] &&
              p >= peak_db[size_t(k + 2)]) || p < loudest_db - 60)
            continue;
        const int r = std::max(8, int(std::lround(k * (std::pow(2.0, 1.0 / 6) - 1))));
        around.assign(peak_db.begin() + std::max(0, k - r), peak_db.begin() + std::min(bins, k + r + 1));
        std::nth_element(around.begin(), around.begin() + around.size() / 2, around.end());
        const double prominence = p - around[around.size() / 2];
        if (prominence >= 6) candidates.push_back({k, p + 0.5 * prominence});
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    if (int(candidates.size()) > kDrumModes) candidates.resize(kDrumModes);
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) { return a.bin < b.bin; });
    modes_found = int(candidates.size());
    const double f_max = mode_max_hz(sr);
    std::vector<double> track(static_cast<size_t>(frames));
    for (int m = 0; m < modes_found; ++m) {
        const int k = candidates[size_t(m)].bin;
        const double a = peak_db[size_t(k - 1)], b = peak_db[size_t(k)], c = peak_db[size_t(k + 1)];
        const double denom = a - 2 * b + c;
        const double offset = denom < 0 ? std::clamp(0.5 * (a - c) / denom, -0.5, 0.5) : 0.0;
        for (int f = 0; f < frames; ++f)
            track[size_t(f)] = to_db(double(mag.block(k - 1, f, 3, 1).maxCoeff()), 20);
        const Decay d = fit_decay(t, track, 0, early_frames, 6, 5, 5000);
        v["mode_freq_hz"][size_t(m)] = std::clamp((k + offset) * bin_hz, 20.0, f_max);
        v["mode_decay_ms"][size_t(m)] = d.t60_ms;
        v["mode_gain_db"][size_t(m)] =
            std::clamp(to_db(2 * std::pow(10.0, d.level0_db / 20) / window_sum, 20), kGainFloorDb, 12.0);
    }
    // Modes not found: quiet, at a membrane's ratios above the lowest found (so they can grow).
    const double base_hz = modes_found > 0 ? v["mode_freq_hz"][0] : kDefaultF0Hz;
    for (int m = modes_found; m < kDrumModes; ++m) {
        v["mode_freq_hz"][size_t(m)] = std::clamp(base_hz * kMembraneRatios[m - modes_found + (modes_found > 0)], 20.0, f_max);
        v["mode_decay_ms"][size_t(m)] = 100;
        v["mode_gain_db"][size_t(m)] = -60;
    }

    // Bands: the recording against the synth's own band noise at 0 dB.
    const Arr noise = drum_noise_bands(n, sr, cfg.seed);
    Arr noise_mag;
    std::vector<double> power, level(static_cast<size_t>(frames));
    // Bins within 4 of a found mode hold its main lobe and first sidelobes, not the noise.
    std::vector<bool> near_mode(static_cast<size_t>(bins), false);
    for (int m = 0; m < modes_found; ++m)
        for (int k = std::max(0, candidates[size_t(m)].bin - 4); k <= std::min(bins - 1, candidates[size_t(m)].bin + 4); ++k)
            near_mode[size_t(k)] = true;
    const double window_s = sc.fft_size / sr;
    // Bands are fitted from the first frame that does not reach back before the hit: a frame
    // across the onset spreads the modes' sudden start over every band (a click the noise does not
    // make), which would read as loud noise in bands that have none.
    const int inside = std::min(frames - 1, (sc.fft_size / 2 + sc.hop - 1) / sc.hop);
    for (int b = 0; b < kDrumBands; ++b) {
        std::vector<int> core;
        bool band_has_bins = false;
        for (int k = 1; k < bins; ++k)
            if (drum_band_weight(b, k * bin_hz, sr) >= 0.5) {
                band_has_bins = true;
                if (!near_mode[size_t(k)]) core.push_back(k);
            }
        if (!band_has_bins) core.push_back(std::clamp(int(std::lround(drum_band_centres_hz(sr)[size_t(b)] / bin_hz)), 1, bins - 1));
        if (core.empty()) {  // the band is all mode peaks: its noise starts quiet
            v["band_gain_db"][size_t(b)] = -60;
            continue;
        }
        auto median_power = [&](const Arr& m, int f) {
            power.clear();
            for (int k : core) power.push_back(double(m(k, f)) * double(m(k, f)));
            std::nth_element(power.begin(), power.begin() + power.size() / 2, power.end());
            return power[power.size() / 2];
        };
        const Vec column = noise.col(b).head(n);
        dsp::stft_magnitude(column.data(), n, sc, noise_mag);
        // Reference: frames wholly inside the clip (the edges are half zeros).
        double reference = 0;
        int counted = 0;
        for (int f = 0; f < frames; ++f)
            if (f * sc.hop >= sc.fft_size / 2 && f * sc.hop + sc.fft_size / 2 <= n) reference += median_power(noise_mag, f), ++counted;
        if (counted == 0)
            for (int f = 0; f < frames; ++f) reference += median_power(noise_mag, f), ++counted;
        reference /= counted;
        if (!(reference > 0)) continue;
        for (int f = 0; f < frames; ++f) level[size_t(f)] = to_db(median_power(mag, f) / reference, 10);
        const Decay d = fit_decay(t, level, inside, std::max(early_frames, inside + 1), 3, 5, 5000);
        const double late_s = d.peak_time_s - 0.5 * window_s;
        v["band_attack_ms"][size_t(b)] = late_s > frame_s ? std::clamp(late_s * 1000 / 3, 0.1, 200.0) : 0.5;
        v["band_decay_ms"][size_t(b)] = d.t60_ms;
        v["band_gain_db"][size_t(b)] = std::clamp(d.level0_db, kGainFloorDb, kBandGainMaxDb);
    }
    return v;
}

// [SECTION] the voice node (modes, bands, drive, transient)
//
// With D = -ln(1000) * (ms since the start) (so exp(D / x) falls 60 dB in x ms), t the time in
// ms, and per-sample constants N_b (band noises), w (the transient's window) and h (recording):
//   glide   = exp(D / T_glide),  ratio = 1 + depth glide
//   phase_k = sum_{j < i} ratio[j] f_k 2 pi / sr   (exclusive running sum, wrapped, in double)
//   s       = sum_k a_k exp(D / T_k) sin(phase_k) + sum_b g_b (1 - exp(-t / tau_b)) exp(D / D_b) N_b
//   y       = tanh(d s) / d,   out = y + m w (h - y)
// Backward: g_y = g (1 - m w); g_s = g_y (1 - tanh^2); g_d = sum g_y (s (1 - tanh^2) / d - tanh / d^2);
// g_m = sum g w (h - y); a phase's gradient reaches its frequency through the reverse exclusive
// running sum (as drum808's oscillators); d exp(D / x) / dx = -exp(D / x) D / x^2 and
// d (1 - exp(-t / tau)) / dtau = -exp(-t / tau) t / tau^2.
class DrumVoiceNode final : public ad::Node {
public:
    enum Input { freq, decay, amp, glide_depth, glide_decay, band_amp, band_attack, band_decay, drive, mix, num_inputs };

    DrumVoiceNode(int n, double sample_rate_hz, Arr noise, const Vec& head)
        : n_(n), sr_(sample_rate_hz), noise_(std::move(noise)) {
        D_.resize(n, 1);
        t_ms_.resize(n, 1);
        for (int i = 0; i < n; ++i) {
            t_ms_(i, 0) = Real(1000.0 * i / sample_rate_hz);
            D_(i, 0) = Real(-kLn1000 * 1000.0 * i / sample_rate_hz);
        }
        // The transient window: 1 for the first half of kDrumTransientMs, then a raised-cosine fade.
        const int n_tr = std::min<int>({n, int(head.size()), int(std::lround(kDrumTransientMs * 1e-3 * sample_rate_hz))});
        window_.resize(std::max(0, n_tr), 1);
        head_.resize(std::max(0, n_tr), 1);
        const int hold = n_tr / 2;
        for (int i = 0; i < n_tr; ++i) {
            window_(i, 0) = Real(i < hold ? 1.0 : 0.5 + 0.5 * std::cos(kPi * (i - hold + 1) / (n_tr - hold + 1)));
            head_(i, 0) = head[i];
        }
        phase_.resize(n, kDrumModes);
        env_.resize(n, kDrumModes);
        rise_.resize(n, kDrumBands);
        band_env_.resize(n, kDrumBands);
    }
    const char* op_name() const override { return "drum_voice"; }

    void forward(ad::Tape& t) override {
        const Real c = Real(2 * kPi / sr_);
        glide_ = (D_ / in(t, glide_decay)).exp();
        ratio_ = glide_ * in(t, glide_depth) + Real(1);
        s_.setZero(n_, 1);
        for (int k = 0; k < kDrumModes; ++k) {
            scratch_ = ratio_ * (in(t, freq, k) * c);
            const Real* w = scratch_.data();
            Real* ph = &phase_(0, k);
            double acc = 0;  // exclusive running sum, wrapped in double (exact however long the clip)
            for (int i = 0; i < n_; ++i) {
                ph[i] = Real(acc);
                acc += double(w[i]);
                if (acc >= 2 * kPi) acc -= 2 * kPi * std::floor(acc / (2 * kPi));
            }
            env_.col(k) = (D_.col(0) / in(t, decay, k)).exp();
            s_.col(0) += env_.col(k) * phase_.col(k).sin() * in(t, amp, k);
        }
        for (int b = 0; b < kDrumBands; ++b) {
            rise_.col(b) = (t_ms_.col(0) * (Real(-1) / in(t, band_attack, b))).exp();
            band_env_.col(b) = (D_.col(0) / in(t, band_decay, b)).exp();
            s_.col(0) += (Real(1) - rise_.col(b)) * band_env_.col(b) * noise_.col(b) * in(t, band_amp, b);
        }
        const Real d = in(t, drive);
        tanh_ = (s_ * d).tanh();
        value = tanh_ / d;
        const Real m = in(t, mix);
        const int n_tr = int(window_.rows());
        for (int i = 0; i < n_tr; ++i) value(i, 0) += m * window_(i, 0) * (head_(i, 0) - value(i, 0));
    }

    void backward(ad::Tape& t) override {
        const Real d = in(t, drive), m = in(t, mix);
        const int n_tr = int(window_.rows());
        // y before the transient's cross-fade is tanh / d.
        double g_mix = 0;
        gy_ = grad.col(0);
        for (int i = 0; i < n_tr; ++i) {
            const Real y = tanh_(i, 0) / d;
            g_mix += double(grad(i, 0) * window_(i, 0) * (head_(i, 0) - y));
            gy_(i) *= Real(1) - m * window_(i, 0);
        }
        const Vec slope = Real(1) - tanh_.col(0).square();
        const double g_drive = (gy_ * (s_.col(0) * slope / d - tanh_.col(0) / (d * d))).sum();
        gs_ = gy_ * slope;

        const Real c = Real(2 * kPi / sr_);
        const Real depth = in(t, glide_depth), gd = in(t, glide_decay);
        g_ratio_.setZero(n_);
        Vec g_freq(kDrumModes), g_decay(kDrumModes), g_amp(kDrumModes);
        for (int k = 0; k < kDrumModes; ++k) {
            const Real a = in(t, amp, k), T = in(t, decay, k), f = in(t, freq, k);
            const Vec sn = phase_.col(k).sin();
            const Vec ge = gs_ * sn;  // g of a * env
            g_amp(k) = (ge * env_.col(k)).sum();
            g_decay(k) = -(ge * env_.col(k) * D_.col(0)).sum() * a / (T * T);
            // g of the phase, then of omega (the reverse exclusive running sum, in double).
            gw_ = gs_ * env_.col(k) * phase_.col(k).cos() * a;
            double run = 0;
            for (int i = n_ - 1; i >= 0; --i) {
                const double g_phase = double(gw_(i));
                gw_(i) = Real(run);
                run += g_phase;
            }
            g_freq(k) = (gw_ * ratio_.col(0)).sum() * c;
            g_ratio_ += gw_ * (f * c);
        }
        const double g_depth = (g_ratio_ * glide_.col(0)).sum();
        const double g_glide_decay = -(g_ratio_ * glide_.col(0) * D_.col(0)).sum() * depth / (gd * gd);

        Vec g_band_amp(kDrumBands), g_attack(kDrumBands), g_band_decay(kDrumBands);
        for (int b = 0; b < kDrumBands; ++b) {
            const Real g = in(t, band_amp, b), tau = in(t, band_attack, b), T = in(t, band_decay, b);
            const Vec gn = gs_ * noise_.col(b);
            g_band_amp(b) = (gn * (Real(1) - rise_.col(b)) * band_env_.col(b)).sum();
            g_attack(b) = -(gn * rise_.col(b) * band_env_.col(b) * t_ms_.col(0)).sum() * g / (tau * tau);
            g_band_decay(b) = -(gn * (Real(1) - rise_.col(b)) * band_env_.col(b) * D_.col(0)).sum() * g / (T * T);
        }
        add_grad(t, freq, g_freq);
        add_grad(t, decay, g_decay);
        add_grad(t, amp, g_amp);
        add_grad(t, band_amp, g_band_amp);
        add_grad(t, band_attack, g_attack);
        add_grad(t, band_decay, g_band_decay);
        add_scalar_grad(t, glide_depth, g_depth);
        add_scalar_grad(t, glide_decay, g_glide_decay);
        add_scalar_grad(t, drive, g_drive);
        add_scalar_grad(t, mix, g_mix);
    }

private:
    int n_;
    double sr_;
    Arr noise_;                       // (n x bands), constants
    Arr D_, t_ms_, window_, head_;    // constants
    Arr phase_, env_, rise_, band_env_, glide_, ratio_, s_, tanh_, scratch_;  // kept for backward
    Vec gy_, gs_, gw_, g_ratio_;      // backward scratch

    Real in(const ad::Tape& t, Input k, int i = 0) const { return t.value(inputs[size_t(k)])(i, 0); }
    void add_grad(ad::Tape& t, Input k, const Vec& g) {
        if (t.requires_grad(inputs[size_t(k)])) t.grad_mutable(inputs[size_t(k)]).col(0) += g;
    }
    void add_scalar_grad(ad::Tape& t, Input k, double g) {
        if (t.requires_grad(inputs[size_t(k)])) t.grad_mutable(inputs[size_t(k)])(0, 0) += Real(g);
    }
};

// [SECTION] the synth

class DrumSynth final : public Synth {
public:
    std::string name() const override { return "drum"; }
    std::string description() const override {
        return "Modal drum: 12 inharmonic damped modes with a pitch glide, noise in 16 bands with attack and "
               "decay, the recording's first 10 ms, tanh drive";
    }
    double default_sample_rate_hz() const override { return 44100; }
    double default_seconds() const override { return 1.0; }

    std::vector<ParamSpec> param_table(const SynthConfig& cfg) const override {
        return drum_table(cfg.sample_rate_hz, has_recording(cfg));
    }

    bool analyse(const Vec& target, const SynthConfig& cfg, AnalysisPtr& out, std::string& error) const override {
        if (target.size() == 0) {
            error = "drum: the recording is empty";
            return false;
        }
        if (!target.allFinite()) {
            error = "drum: the recording contains non-finite samples";
            return false;
        }
        auto a = std::make_shared<DrumAnalysis>();
        a->rate_hz = cfg.sample_rate_hz;
        a->head = target.head(std::min<Eigen::Index>(target.size(), transient_samples(cfg.sample_rate_hz)));
        a->initial = analyse_drum(target, cfg, a->modes_found);
        out = std::move(a);
        return true;
    }

    void use_analysis(AnalysisPtr analysis) override {
        analysis_ = std::dynamic_pointer_cast<const DrumAnalysis>(std::move(analysis));
    }

    // The tuning: every mode moves by the ratio that takes the first mode to f0_hz.
    bool set_pitch_hz(double f0_hz, bool, ParamValues& values, const SynthConfig& cfg, std::string&) override {
        const std::vector<ParamSpec> table = param_table(cfg);
        const ParamValues defaults = initial_values(cfg);
        auto it = values.find("mode_freq_hz");
        std::vector<double> freqs = it != values.end() && it->second.size() == size_t(kDrumModes)
                                        ? it->second
                                        : it != values.end() && it->second.size() == 1
                                              ? std::vector<double>(kDrumModes, it->second[0])
                                              : defaults.at("mode_freq_hz");
        const double ratio = f0_hz / freqs[0];
        for (double& f : freqs) f = std::clamp(f * ratio, table[0].min_value, table[0].max_value);
        values["mode_freq_hz"] = freqs;
        return true;
    }

    ParamValues initial_values(const SynthConfig& cfg) const override {
        if (!has_recording(cfg)) return drum_defaults(cfg.sample_rate_hz);
        return analysis_->initial;
    }

    ad::Var build(ad::Var u, const SynthConfig& cfg) override {
        ad::Tape& tape = *u.tape;
        const ParamGraph p(param_table(cfg), u);
        const int n = cfg.num_samples;
        const double sr = cfg.sample_rate_hz;
        if (n <= 0) return tape.constant(Arr(0, 1));
        Arr noise = drum_noise_bands(n, sr, cfg.seed).topRows(n);
        const Vec head = has_recording(cfg) ? analysis_->head : Vec();
        auto node = std::make_unique<DrumVoiceNode>(n, sr, std::move(noise), head);
        node->inputs.resize(DrumVoiceNode::num_inputs);
        auto set = [&](DrumVoiceNode::Input k, ad::Var v) { node->inputs[size_t(k)] = v.id; };
        const Real db_to_neper = Real(std::log(10.0) / 20.0);
        set(DrumVoiceNode::freq, p["mode_freq_hz"]);
        set(DrumVoiceNode::decay, p["mode_decay_ms"]);
        set(DrumVoiceNode::amp, ad::exp(p["mode_gain_db"] * db_to_neper));
        set(DrumVoiceNode::glide_depth, p["glide_depth"]);
        set(DrumVoiceNode::glide_decay, p["glide_decay_ms"]);
        set(DrumVoiceNode::band_amp, ad::exp(p["band_gain_db"] * db_to_neper));
        set(DrumVoiceNode::band_attack, p["band_attack_ms"]);
        set(DrumVoiceNode::band_decay, p["band_decay_ms"]);
        set(DrumVoiceNode::drive, ad::exp(p["drive_db"] * db_to_neper));
        set(DrumVoiceNode::mix, p["transient_mix"]);
        return tape.push(std::move(node));
    }

private:
    std::shared_ptr<const DrumAnalysis> analysis_;  // null: no recording

    bool has_recording(const SynthConfig& cfg) const { return analysis_ && analysis_->rate_hz == cfg.sample_rate_hz; }
    static int transient_samples(double sample_rate_hz) { return int(std::lround(kDrumTransientMs * 1e-3 * sample_rate_hz)); }
};

}  // namespace

std::unique_ptr<Synth> make_drum_synth() {
    return std::make_unique<DrumSynth>();
}

}  // namespace ddsp::synth
