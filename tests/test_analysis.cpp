// Signal analysis: YIN pitch, A-weighted loudness, onsets, spectral and temporal features.
// Test signals are rendered here with known f0, level, onset times and envelopes.
#include <doctest/doctest.h>

#include "dsp/features.h"
#include "dsp/loudness.h"
#include "dsp/onset.h"
#include "dsp/pitch.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

// For calls whose error message the test does not read.
static std::string ignored_error;

using namespace ddsp;
using namespace ddsp::dsp;

namespace {

// [SECTION] Signal generators

// Harmonic tone: partial k has amplitude 1/k (num_harmonics partials, all below Nyquist), random
// phases, peak-ish amplitude `amp`, plus white noise at snr_db below the tone's power.
Vec render_tone(double f0_hz, double sr, double seconds, int num_harmonics = 1, double amp = 0.5,
                double snr_db = 200.0, unsigned seed = 1) {
    const int n = int(std::lround(seconds * sr));
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> uni(0.0, 2.0 * kPi);
    std::normal_distribution<double> normal;
    std::vector<double> y(n, 0.0);
    double norm = 0.0;
    for (int k = 1; k <= num_harmonics && k * f0_hz < 0.5 * sr; ++k) {
        const double phase = k == 1 ? 0.0 : uni(rng);
        for (int i = 0; i < n; ++i) y[i] += std::sin(2.0 * kPi * k * f0_hz * i / sr + phase) / k;
        norm += 1.0 / k;
    }
    double power = 0.0;
    for (double& v : y) {
        v *= amp / norm;
        power += v * v;
    }
    power /= std::max(1, n);
    const double noise_sd = std::sqrt(power * std::pow(10.0, -snr_db / 10.0));
    Vec x(n);
    for (int i = 0; i < n; ++i) x[i] = Real(y[i] + noise_sd * normal(rng));
    return x;
}

Vec render_noise(double sr, double seconds, double sd = 0.3, unsigned seed = 7) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal(0.0, sd);
    Vec x(int(std::lround(seconds * sr)));
    for (auto& v : x) v = Real(normal(rng));
    return x;
}

// Plucked-like note added into x at t_s: a few decaying harmonics (upper ones decay faster) and a
// 2 ms noise burst, as a string excited by a pick.
void add_pluck(Vec& x, double sr, double t_s, double f0_hz, double amp, double decay_s, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> uni(-1.0, 1.0);
    const int start = int(std::lround(t_s * sr));
    for (int i = start; i < x.size(); ++i) {
        const double t = (i - start) / sr;
        double v = 0.0;
        for (int k = 1; k <= 6 && k * f0_hz < 0.5 * sr; ++k)
            v += std::exp(-t * k / decay_s) * std::sin(2.0 * kPi * k * f0_hz * t) / k;
        if (t < 0.002) v += 0.5 * uni(rng);
        x[i] += Real(amp * v);
    }
}

void add_click(Vec& x, double sr, double t_s, double amp) {
    const int start = int(std::lround(t_s * sr));
    // A 1 ms decaying click, not a single sample, so it has some body.
    for (int i = 0; i < int(0.001 * sr) && start + i < x.size(); ++i)
        x[start + i] += Real(amp * std::exp(-i / (0.0003 * sr)) * (i % 2 ? -1.0 : 1.0));
}

void add_noise_burst(Vec& x, double sr, double t_s, double amp, double decay_s, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal;
    const int start = int(std::lround(t_s * sr));
    for (int i = start; i < x.size(); ++i) x[i] += Real(amp * std::exp(-(i - start) / (decay_s * sr)) * normal(rng));
}

// Raised-cosine fade in and out, so that the signal's edges do not splatter across the spectrum.
Vec faded(Vec x, double sr, double fade_s) {
    const int m = std::min(int(fade_s * sr), int(x.size() / 2));
    for (int i = 0; i < m; ++i) {
        const Real g = Real(0.5 - 0.5 * std::cos(kPi * i / m));
        x[i] *= g;
        x[x.size() - 1 - i] *= g;
    }
    return x;
}

bool all_finite(const Vec& v) { return v.isFinite().all(); }

// Plain loops: Eigen's vectorised reductions trip a false -Wmaybe-uninitialized in GCC 12's
// AVX-512 headers under -march=native.
double max_of(const Vec& v) {
    double m = -1e300;
    for (Eigen::Index i = 0; i < v.size(); ++i) m = std::max(m, double(v[i]));
    return m;
}

double mean_of(const Vec& v) {
    double s = 0.0;
    for (Eigen::Index i = 0; i < v.size(); ++i) s += v[i];
    return v.size() ? s / v.size() : 0.0;
}

// Frames whose whole YIN segment lies inside the signal (no zero-padded edge).
std::vector<int> interior_frames(const PitchTrack& tr, int n, double margin_samples) {
    std::vector<int> out;
    for (int f = 0; f < tr.f0_hz.size(); ++f) {
        const double c = double(f) * tr.hop;
        if (c - margin_samples >= 0 && c + margin_samples < n) out.push_back(f);
    }
    return out;
}

// Every expected onset matched by exactly one detection within tol_s, and no other detections.
// Returns the worst timing error (s).
double check_onsets(const std::vector<double>& found, const std::vector<double>& expected, double tol_s) {
    CHECK(found.size() == expected.size());
    double worst = 0.0;
    for (double e : expected) {
        double best = 1e9;
        for (double t : found) best = std::min(best, std::abs(t - e));
        INFO("expected onset at " << e << " s, nearest detection off by " << best * 1000 << " ms");
        CHECK(best <= tol_s);
        worst = std::max(worst, best);
    }
    for (double t : found) {
        double best = 1e9;
        for (double e : expected) best = std::min(best, std::abs(t - e));
        INFO("detection at " << t << " s");
        CHECK(best <= tol_s);
    }
    return worst;
}

}  // namespace

// [SECTION] YIN

TEST_CASE("YIN tracks a 110 Hz sine within 1 % on every interior frame") {
    const double sr = 16000;
    const Vec x = render_tone(110.0, sr, 1.0);
    PitchTrack tr;
    std::string err;
    REQUIRE(yin_track(x, sr, YinParams(), tr, err));
    CHECK(tr.hop == 64);  // 250 frames per second at 16 kHz
    CHECK(tr.f0_hz.size() == x.size() / 64 + 1);
    CHECK(all_finite(tr.f0_hz));
    const auto frames = interior_frames(tr, int(x.size()), sr / 30.0 + 2);
    REQUIRE(frames.size() > 200);
    double worst = 0.0;
    for (int f : frames) {
        CHECK(tr.voiced[f]);
        CHECK(tr.confidence[f] > 0.9);
        worst = std::max(worst, std::abs(tr.f0_hz[f] / 110.0 - 1.0));
    }
    MESSAGE("110 Hz sine: worst relative f0 error " << worst);
    CHECK(worst < 0.01);
    double note = 0;
    REQUIRE(yin_note_f0_hz(x, sr, YinParams(), note, ignored_error));
    CHECK(note == doctest::Approx(110.0).epsilon(0.002));
}

TEST_CASE("YIN within 1 % on harmonic tones with noise, E1 to E6") {
    struct Case {
        double f0, sr;
    };
    // 41.2 Hz (E1) needs nearly all of the default 30 Hz lag range; 1318.5 Hz (E6) is ~12 samples
    // per period at 16 kHz, where the parabolic interpolation matters.
    for (Case c : {Case{41.2, 16000}, Case{82.4, 16000}, Case{110.0, 16000}, Case{440.0, 16000},
                   Case{1318.5, 16000}, Case{82.4, 44100}, Case{1318.5, 44100}}) {
        CAPTURE(c.f0);
        CAPTURE(c.sr);
        const Vec x = render_tone(c.f0, c.sr, 0.8, 10, 0.5, 20.0, unsigned(c.f0));
        PitchTrack tr;
        REQUIRE(yin_track(x, c.sr, YinParams(), tr, ignored_error));
        const auto frames = interior_frames(tr, int(x.size()), c.sr / 30.0 + 2);
        REQUIRE(frames.size() > 100);
        int voiced = 0;
        double worst = 0.0;
        for (int f : frames) {
            if (!tr.voiced[f]) continue;
            ++voiced;
            worst = std::max(worst, std::abs(tr.f0_hz[f] / c.f0 - 1.0));
        }
        MESSAGE(c.f0 << " Hz @ " << c.sr << ": voiced " << voiced << "/" << frames.size() << ", worst error "
                      << worst);
        CHECK(voiced >= int(0.95 * frames.size()));
        CHECK(worst < 0.01);
        double note = 0;
        REQUIRE(yin_note_f0_hz(x, c.sr, YinParams(), note, ignored_error));
        CHECK(std::abs(note / c.f0 - 1.0) < 0.005);
    }
}

TEST_CASE("YIN note f0 of a decaying pluck, for Karplus-Strong initialisation") {
    const double sr = 16000;
    for (double f0 : {65.4, 196.0, 523.3}) {
        CAPTURE(f0);
        Vec x = Vec::Zero(int(1.2 * sr));
        add_pluck(x, sr, 0.05, f0, 0.8, 0.4, 3);
        double note = 0;
        REQUIRE(yin_note_f0_hz(x, sr, YinParams(), note, ignored_error));
        CHECK(std::abs(note / f0 - 1.0) < 0.01);
    }
}

TEST_CASE("YIN: white noise and silence are unvoiced, with finite values") {
    const double sr = 16000;
    PitchTrack tr;
    const Vec noise = render_noise(sr, 1.0);
    REQUIRE(yin_track(noise, sr, YinParams(), tr, ignored_error));
    MESSAGE("white noise: voiced frames " << tr.voiced.count() << "/" << tr.voiced.size()
                                          << ", max confidence " << max_of(tr.confidence));
    CHECK(tr.voiced.count() == 0);
    CHECK((tr.f0_hz == 0).all());
    CHECK(max_of(tr.confidence) < 0.6);
    double note = 123;
    std::string err;
    CHECK_FALSE(yin_note_f0_hz(noise, sr, YinParams(), note, err));
    CHECK(note == 0.0);
    CHECK(!err.empty());

    const Vec silence = Vec::Zero(int(sr / 2));
    REQUIRE(yin_track(silence, sr, YinParams(), tr, ignored_error));
    CHECK(tr.voiced.count() == 0);
    CHECK((tr.f0_hz == 0).all());
    CHECK((tr.confidence == 0).all());
    CHECK(all_finite(tr.f0_hz));
    CHECK(all_finite(tr.confidence));
}

TEST_CASE("YIN: unvoiced frames hold the last voiced f0 when asked") {
    const double sr = 16000;
    Vec x = Vec::Zero(int(sr));
    const Vec tone = render_tone(220.0, sr, 0.5);
    x.segment(int(0.25 * sr), tone.size()) = tone;  // silence, tone, silence
    YinParams p;
    PitchTrack zero, hold;
    REQUIRE(yin_track(x, sr, p, zero, ignored_error));
    p.hold_unvoiced = true;
    REQUIRE(yin_track(x, sr, p, hold, ignored_error));
    CHECK(zero.f0_hz[0] == 0);
    CHECK(zero.f0_hz[zero.f0_hz.size() - 1] == 0);
    CHECK(!hold.voiced[0]);
    CHECK(std::abs(hold.f0_hz[0] / 220.0 - 1.0) < 0.01);  // before the first voiced frame: its value
    CHECK(std::abs(hold.f0_hz[hold.f0_hz.size() - 1] / 220.0 - 1.0) < 0.01);
    CHECK((hold.voiced == zero.voiced).all());
}

TEST_CASE("YIN: empty, single-sample and bad input") {
    PitchTrack tr;
    std::string err;
    REQUIRE(yin_track(nullptr, 0, 16000, YinParams(), tr, err));
    CHECK(tr.f0_hz.size() == 0);
    const Real one = 0.5;
    REQUIRE(yin_track(&one, 1, 16000, YinParams(), tr, err));
    CHECK(tr.f0_hz.size() == 1);
    CHECK(all_finite(tr.f0_hz));
    CHECK(all_finite(tr.confidence));
    CHECK(!tr.voiced[0]);
    double note = 0;
    CHECK_FALSE(yin_note_f0_hz(&one, 1, 16000, YinParams(), note, ignored_error));

    const Vec x = render_tone(110, 16000, 0.1);
    YinParams bad;
    bad.f0_min_hz = 500;
    bad.f0_max_hz = 100;
    CHECK_FALSE(yin_track(x, 16000, bad, tr, err));
    CHECK(err.find("f0_min") != std::string::npos);
    err.clear();
    CHECK_FALSE(yin_track(x, 0, YinParams(), tr, err));
    CHECK(!err.empty());
    bad = YinParams();
    bad.threshold = 0;
    CHECK_FALSE(yin_track(x, 16000, bad, tr, err));
}

// [SECTION] Loudness

TEST_CASE("A-weighting matches the IEC 61672-1 table") {
    struct Ref {
        double f_hz, db;
    };
    // Table values of the standard (rounded to 0.1 dB there). The 10 kHz value is -2.5 dB
    // (-9.3 dB belongs to 20 kHz).
    for (Ref r : {Ref{10, -70.4}, Ref{31.5, -39.4}, Ref{100, -19.1}, Ref{1000, 0.0}, Ref{2000, 1.2},
                  Ref{2500, 1.3}, Ref{4000, 1.0}, Ref{10000, -2.5}, Ref{16000, -6.6}, Ref{20000, -9.3}}) {
        CAPTURE(r.f_hz);
        CHECK(std::abs(a_weighting_db(r.f_hz) - r.db) < 0.15);
    }
    CHECK(std::abs(a_weighting_db(1000.0)) < 0.01);
    CHECK(std::isfinite(a_weighting_db(0.0)));
    CHECK(std::isfinite(a_weighting_db(-5.0)));
    CHECK(a_weighting_db(0.0) < -100);
}

TEST_CASE("loudness: calibrated level, +6 dB per doubling, A-weighting applied") {
    const double sr = 16000;
    LoudnessParams p;
    Vec l1, l2;
    // Unweighted full-scale sine: mean square 0.5 -> -3.01 dB; unit-variance noise: 0 dB.
    p.a_weighted = false;
    const Vec sine = render_tone(1000.0, sr, 1.0, 1, 1.0);
    REQUIRE(frame_loudness_db(sine, sr, p, l1, ignored_error));
    CHECK(l1.size() == sine.size() / 64 + 1);  // the pitch tracker's frame grid
    CHECK(l1[l1.size() / 2] == doctest::Approx(-3.01).epsilon(0.01));
    const Vec noise = render_noise(sr, 1.0, 1.0);
    REQUIRE(frame_loudness_db(noise, sr, p, l1, ignored_error));
    CHECK(std::abs(mean_of(l1.segment(20, l1.size() - 40))) < 0.3);

    // Doubling the signal adds 20 log10(2) = 6.02 dB in every frame, weighted or not, tone or noise.
    p.a_weighted = true;
    for (const Vec* sig : {&sine, &noise}) {
        REQUIRE(frame_loudness_db(*sig, sr, p, l1, ignored_error));
        REQUIRE(frame_loudness_db(Vec(2 * *sig), sr, p, l2, ignored_error));
        CHECK(max_of(((l2 - l1) - Real(6.0206)).abs()) < 0.01);
    }
    // DDSP 1.x averaging (mean of dB over bins): still ~6 dB on broadband noise.
    p.average = LoudnessAverage::db;
    REQUIRE(frame_loudness_db(noise, sr, p, l1, ignored_error));
    REQUIRE(frame_loudness_db(Vec(2 * noise), sr, p, l2, ignored_error));
    const double diff = mean_of((l2 - l1).segment(20, l1.size() - 40));
    MESSAGE("db-mode loudness change on doubling noise: " << diff << " dB");
    CHECK(std::abs(diff - 6.02) < 0.3);

    // Same amplitude at 100 Hz reads 19.1 dB quieter than at 1 kHz once A-weighted.
    p = LoudnessParams();
    REQUIRE(frame_loudness_db(render_tone(100.0, sr, 1.0), sr, p, l1, ignored_error));
    REQUIRE(frame_loudness_db(render_tone(1000.0, sr, 1.0), sr, p, l2, ignored_error));
    const int mid = int(l1.size() / 2);
    MESSAGE("A-weighted 100 Hz minus 1 kHz: " << l1[mid] - l2[mid] << " dB");
    CHECK(std::abs((l1[mid] - l2[mid]) - (-19.1)) < 0.3);
}

TEST_CASE("loudness follows a decaying envelope frame by frame") {
    const double sr = 16000;
    const int n = int(sr);
    Vec x(n);
    const double tau_s = 0.1;  // amplitude exp(-t/tau): -8.69 dB per tau
    for (int i = 0; i < n; ++i) x[i] = Real(std::exp(-i / (tau_s * sr)) * std::sin(2 * kPi * 1000.0 * i / sr));
    LoudnessParams p;
    p.fft_size = 512;
    Vec l;
    REQUIRE(frame_loudness_db(x, sr, p, l, ignored_error));
    // Slope between 0.2 s and 0.6 s (frames 50 and 150): -8.686 dB per 0.1 s.
    const double slope = (l[150] - l[50]) / 0.4;
    CHECK(slope == doctest::Approx(-86.86).epsilon(0.02));
}

TEST_CASE("loudness: silence, empty, single sample, bad parameters") {
    LoudnessParams p;
    Vec l;
    std::string err;
    REQUIRE(frame_loudness_db(Vec::Zero(8000), 16000, p, l, ignored_error));
    CHECK(l.size() == 8000 / 64 + 1);
    CHECK((l == Real(p.floor_db)).all());
    p.average = LoudnessAverage::db;
    REQUIRE(frame_loudness_db(Vec::Zero(8000), 16000, p, l, ignored_error));
    CHECK((l == Real(p.floor_db)).all());
    p = LoudnessParams();
    REQUIRE(frame_loudness_db(nullptr, 0, 16000, p, l, ignored_error));
    CHECK(l.size() == 0);
    const Real one = 1;
    REQUIRE(frame_loudness_db(&one, 1, 16000, p, l, ignored_error));
    CHECK(l.size() == 1);
    CHECK(all_finite(l));
    CHECK(l[0] >= Real(p.floor_db));
    p.fft_size = 1000;
    CHECK_FALSE(frame_loudness_db(&one, 1, 16000, p, l, err));
    CHECK(err.find("power of two") != std::string::npos);
}

// [SECTION] Onsets

TEST_CASE("onsets of clicks, noise bursts and plucks within 5 ms") {
    const double sr = 16000;
    OnsetParams p;
    std::vector<double> found;

    Vec clicks = Vec::Zero(int(1.2 * sr));
    const std::vector<double> click_t = {0.1, 0.37, 0.612, 0.9, 0.95};
    for (double t : click_t) add_click(clicks, sr, t, 0.8);
    REQUIRE(detect_onsets(clicks, sr, p, found, ignored_error));
    MESSAGE("clicks: worst onset error " << 1000 * check_onsets(found, click_t, 0.005) << " ms");

    // Bursts overlap: each starts while the previous one still rings (decay 80 ms), levels differ.
    Vec bursts = Vec::Zero(int(1.2 * sr));
    const std::vector<double> burst_t = {0.05, 0.2, 0.33, 0.61, 0.8};
    for (size_t i = 0; i < burst_t.size(); ++i)
        add_noise_burst(bursts, sr, burst_t[i], 0.2 + 0.15 * i, 0.08, unsigned(10 + i));
    REQUIRE(detect_onsets(bursts, sr, p, found, ignored_error));
    MESSAGE("noise bursts: worst onset error " << 1000 * check_onsets(found, burst_t, 0.005) << " ms");

    // Plucks at different pitches and levels, ringing into each other; the first one at t = 0.
    Vec plucks = Vec::Zero(int(2.0 * sr));
    const std::vector<double> pluck_t = {0.0, 0.41, 0.83, 1.1, 1.5};
    const double f0s[] = {110.0, 164.8, 110.0, 330.0, 82.4};
    for (size_t i = 0; i < pluck_t.size(); ++i)
        add_pluck(plucks, sr, pluck_t[i], f0s[i], 0.3 + 0.1 * i, 0.3, unsigned(20 + i));
    REQUIRE(detect_onsets(plucks, sr, p, found, ignored_error));
    MESSAGE("plucks: worst onset error " << 1000 * check_onsets(found, pluck_t, 0.005) << " ms");

    // The same plucks at 44.1 kHz.
    const double sr2 = 44100;
    Vec plucks2 = Vec::Zero(int(2.0 * sr2));
    for (size_t i = 0; i < pluck_t.size(); ++i)
        add_pluck(plucks2, sr2, pluck_t[i], f0s[i], 0.3 + 0.1 * i, 0.3, unsigned(20 + i));
    REQUIRE(detect_onsets(plucks2, sr2, p, found, ignored_error));
    MESSAGE("plucks at 44.1 kHz: worst onset error " << 1000 * check_onsets(found, pluck_t, 0.005) << " ms");
}

TEST_CASE("onsets: a steady tone has one onset, at its start") {
    const double sr = 16000;
    OnsetParams p;
    std::vector<double> found;
    // Starts abruptly at t = 0 and then never changes (harmonics, slight noise).
    const Vec tone = render_tone(220.0, sr, 2.0, 8, 0.5, 40.0);
    REQUIRE(detect_onsets(tone, sr, p, found, ignored_error));
    check_onsets(found, {0.0}, 0.005);
    // Silence, then the steady tone from 0.5 s: exactly one onset at 0.5 s.
    Vec late = Vec::Zero(int(2.5 * sr));
    late.segment(int(0.5 * sr), tone.size()) = tone;
    REQUIRE(detect_onsets(late, sr, p, found, ignored_error));
    check_onsets(found, {0.5}, 0.005);
    // Steady white noise: only its start.
    REQUIRE(detect_onsets(render_noise(sr, 2.0), sr, p, found, ignored_error));
    check_onsets(found, {0.0}, 0.005);
}

TEST_CASE("onsets: silence, empty, single sample, bad parameters") {
    OnsetParams p;
    std::vector<double> found = {1.0};
    std::string err;
    REQUIRE(detect_onsets(Vec::Zero(16000), 16000, p, found, ignored_error));
    CHECK(found.empty());
    REQUIRE(detect_onsets(nullptr, 0, 16000, p, found, ignored_error));
    CHECK(found.empty());
    const Real one = 1;
    REQUIRE(detect_onsets(&one, 1, 16000, p, found, ignored_error));
    CHECK(found.size() <= 1);
    for (double t : found) CHECK(t == 0.0);
    Vec flux, times;
    const Vec zeros = Vec::Zero(1000);
    REQUIRE(onset_strength(zeros.data(), 1000, 16000, p, flux, times, ignored_error));
    CHECK(flux.size() == times.size());
    CHECK((flux == 0).all());
    p.hop_s = 0;
    CHECK_FALSE(detect_onsets(&one, 1, 16000, p, found, err));
    CHECK(!err.empty());
}

// [SECTION] Features

TEST_CASE("RMS of a sine, whole and framed") {
    const double sr = 16000;
    const Vec x = render_tone(250.0, sr, 1.0, 1, 0.8);  // 64 samples per period
    CHECK(rms(x) == doctest::Approx(0.8 / std::sqrt(2.0)).epsilon(1e-3));
    const Vec fr = frame_rms(x.data(), int(x.size()), 640, 64);
    CHECK(fr.size() == x.size() / 64 + 1);
    CHECK(fr[0] == doctest::Approx(0.8 / std::sqrt(2.0) / std::sqrt(2.0)).epsilon(0.02));  // half outside
    for (int f = 10; f < fr.size() - 10; ++f) CHECK(fr[f] == doctest::Approx(0.8 / std::sqrt(2.0)).epsilon(1e-3));
    CHECK(amplitude_to_db(0.5) == doctest::Approx(-6.0206).epsilon(1e-4));
    CHECK(amplitude_to_db(0.0) == -120.0);
}

TEST_CASE("spectral centroid of a pure tone is its frequency") {
    const double sr = 16000;
    for (double f : {440.0, 1000.0, 3000.0}) {
        CAPTURE(f);
        SpectralFeatures sf;
        REQUIRE(spectral_features(faded(render_tone(f, sr, 1.0), sr, 0.05), sr, SpectralParams(), sf, ignored_error));
        const int frames = int(sf.centroid_hz.size());
        for (int i = 5; i < frames - 5; ++i) CHECK(std::abs(sf.centroid_hz[i] / f - 1.0) < 0.02);
        CHECK(std::abs(sf.centroid_hz_mean / f - 1.0) < 0.02);
    }
    // Two equal partials at 500 and 1500 Hz: centroid 1000 Hz.
    const Vec two = faded(render_tone(500.0, sr, 1.0, 1, 0.5) + render_tone(1500.0, sr, 1.0, 1, 0.5), sr, 0.05);
    SpectralFeatures sf;
    REQUIRE(spectral_features(two, sr, SpectralParams(), sf, ignored_error));
    CHECK(std::abs(sf.centroid_hz_mean / 1000.0 - 1.0) < 0.02);
}

TEST_CASE("spectral flatness: white noise near 1, tone near 0") {
    const double sr = 16000;
    SpectralFeatures noise, tone;
    REQUIRE(spectral_features(render_noise(sr, 2.0), sr, SpectralParams(), noise, ignored_error));
    REQUIRE(spectral_features(render_tone(440.0, sr, 2.0), sr, SpectralParams(), tone, ignored_error));
    const int fn = int(noise.flatness.size());
    const double per_frame = mean_of(noise.flatness.segment(4, fn - 8));
    MESSAGE("white noise flatness: per frame " << per_frame << ", long-term " << noise.flatness_mean
                                               << "; tone long-term " << tone.flatness_mean);
    CHECK(noise.flatness_mean > 0.98);  // ~1 - 1/(2 K) for K independent frames averaged
    CHECK(std::abs(per_frame - 0.5615) < 0.05);  // exp(-Euler gamma): one frame of noise
    CHECK(tone.flatness_mean < 0.01);
    CHECK(max_of(tone.flatness.segment(4, fn - 8)) < 0.01);
    CHECK((noise.flatness >= 0).all());
    CHECK((noise.flatness <= 1).all());
    // Gain does not change flatness.
    SpectralFeatures quiet;
    REQUIRE(spectral_features(Vec(render_noise(sr, 2.0) * Real(1e-3)), sr, SpectralParams(), quiet, ignored_error));
    CHECK(quiet.flatness_mean == doctest::Approx(noise.flatness_mean).epsilon(1e-3));
}

TEST_CASE("spectral flatness and centroid of a synthetic spectrum") {
    // Two frames of 9 bins (fft_size 16 at 1600 Hz: 100 Hz per bin).
    Arr mag(9, 2);
    mag.col(0) << 1, 1, 1, 1, 2, 2, 2, 2, 2;  // powers 1 (x4) and 4 (x5)
    mag.col(1).setZero();
    mag(2, 1) = 3;  // a single line at 200 Hz
    const Vec fl = spectral_flatness(mag, -100.0);
    const double geo = std::exp((4 * std::log(1.0) + 5 * std::log(4.0)) / 9), arith = (4 * 1.0 + 5 * 4.0) / 9;
    CHECK(fl[0] == doctest::Approx(geo / arith).epsilon(1e-5));
    CHECK(fl[1] == doctest::Approx(std::pow(1e-10, 8.0 / 9) * 9).epsilon(1e-3));  // 8 bins at the floor
    const Vec c = spectral_centroid_hz(mag, 1600.0);
    CHECK(c[0] == doctest::Approx((100.0 * (0 + 1 + 2 + 3) + 200.0 * (4 + 5 + 6 + 7 + 8)) / 14).epsilon(1e-5));
    CHECK(c[1] == doctest::Approx(200.0).epsilon(1e-6));
}

TEST_CASE("temporal centroid of known envelopes") {
    const double sr = 16000;
    // Constant envelope over 0.5 s: centroid in the middle.
    Vec x = render_noise(sr, 0.5, 0.3, 3).sign();  // |x| = 1 everywhere
    CHECK(temporal_centroid_s(x, sr) == doctest::Approx((x.size() - 1) / 2.0 / sr).epsilon(1e-6));
    // Amplitude exp(-t / tau): energy exp(-2 t / tau), centroid tau / 2 (for a long signal).
    const double tau = 0.1;
    Vec d(int(2 * sr));
    for (int i = 0; i < d.size(); ++i) d[i] = Real(std::exp(-i / (tau * sr)));
    CHECK(temporal_centroid_s(d, sr) == doctest::Approx(tau / 2).epsilon(0.01));
    // A burst at 0.3 s in silence.
    Vec b = Vec::Zero(int(sr));
    b.segment(int(0.3 * sr) - 40, 81).setConstant(1);
    CHECK(temporal_centroid_s(b, sr) == doctest::Approx(0.3).epsilon(1e-4));
}

TEST_CASE("features: silence, empty, single sample, bad parameters") {
    const Real one = 0.25;
    CHECK(rms(nullptr, 0) == 0.0);
    CHECK(rms(&one, 1) == doctest::Approx(0.25));
    CHECK(frame_rms(nullptr, 0, 64, 16).size() == 0);
    CHECK(frame_rms(&one, 1, 64, 16).size() == 1);
    CHECK(temporal_centroid_s(nullptr, 0, 16000) == 0.0);
    CHECK(temporal_centroid_s(Vec::Zero(100), 16000) == 0.0);
    CHECK(temporal_centroid_s(&one, 1, 16000) == 0.0);

    SpectralFeatures sf;
    std::string err;
    REQUIRE(spectral_features(nullptr, 0, 16000, SpectralParams(), sf, ignored_error));
    CHECK(sf.centroid_hz.size() == 0);
    REQUIRE(spectral_features(Vec::Zero(4000), 16000, SpectralParams(), sf, ignored_error));
    CHECK((sf.centroid_hz == 0).all());
    CHECK((sf.flatness == 1).all());
    CHECK(std::isfinite(sf.centroid_hz_mean));
    CHECK(std::isfinite(sf.flatness_mean));
    REQUIRE(spectral_features(&one, 1, 16000, SpectralParams(), sf, ignored_error));
    CHECK(sf.centroid_hz.size() == 1);
    CHECK(all_finite(sf.centroid_hz));
    CHECK(all_finite(sf.flatness));
    SpectralParams bad;
    bad.hop = 0;
    CHECK_FALSE(spectral_features(&one, 1, 16000, bad, sf, err));
    CHECK(!err.empty());
}
