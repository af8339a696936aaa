// The `ddsp` harmonic-plus-noise synth, measured as a listener would: pitch (YIN), partials and
// their absence above Nyquist, the noise filter's spectrum, the reverb's tail and decay time,
// determinism, finite output over the whole parameter range, f0/loudness analysis, and matching
// itself by gradient descent.
#include <doctest/doctest.h>

#include "ad/adam.h"
#include "dsp/features.h"
#include "dsp/pitch.h"
#include "dsp/rng.h"
#include "dsp/stft.h"
#include "match/loss.h"
#include "synth/ddsp_synth.h"
#include "synth/registry.h"

#include <cmath>
#include <functional>
#include <string>
#include <vector>

// For calls whose error message the test does not read.
static std::string ignored_error;

using namespace ddsp;
using synth::DdspSynth;
using synth::ParamValues;

namespace {

synth::SynthConfig config(double seconds, double sr = 16000, uint64_t seed = 1) {
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = sr;
    cfg.num_samples = int(std::lround(seconds * sr));
    cfg.seed = seed;
    return cfg;
}

Vec render(DdspSynth& s, const ParamValues& values, const synth::SynthConfig& cfg) {
    Vec audio;
    std::string err;
    REQUIRE_MESSAGE(synth::render(s, values, cfg, audio, err), err);
    REQUIRE(audio.size() == cfg.num_samples);
    return audio;
}

// Defaults with the noise and the reverb turned (almost) off.
ParamValues quiet_extras(const DdspSynth& s, const synth::SynthConfig& cfg) {
    ParamValues v = synth::default_values(s.param_table(cfg));
    v["noise_magnitudes"] = {1e-5};
    v["reverb_wet_db"] = {-60};
    return v;
}

// Long-term power spectrum (sum over STFT frames of |X|^2), 1024-point frames: 15.6 Hz bins at 16 kHz.
struct Spectrum {
    Vec power;
    double bin_hz;
    double between(double lo_hz, double hi_hz) const {
        double e = 0;
        for (Eigen::Index b = 0; b < power.size(); ++b)
            if (b * bin_hz >= lo_hz && b * bin_hz < hi_hz) e += power[b];
        return e;
    }
    double total() const { return power.sum(); }
};

Spectrum spectrum(const Vec& x, double sr) {
    dsp::StftConfig sc;
    sc.fft_size = 1024;
    sc.hop = 256;
    Arr mag;
    dsp::stft_magnitude(x.data(), int(x.size()), sc, mag);
    // Only frames inside the signal: the zero-padded edge frames splatter a step across the band.
    const int first = sc.fft_size / 2 / sc.hop + 1, last = int(mag.cols()) - first;
    REQUIRE(last > first);
    Spectrum s;
    s.power = mag.middleCols(first, last - first).square().rowwise().sum();
    s.bin_hz = sr / sc.fft_size;
    return s;
}

double db(double power_ratio) { return 10 * std::log10(power_ratio); }

// Relative tolerance only (doctest's Approx also adds epsilon * 1, too loose for small values).
doctest::Approx rel(double value, double tolerance) { return doctest::Approx(value).epsilon(tolerance).scale(0); }

double note_f0(const Vec& x, double sr) {
    double f0 = 0;
    dsp::yin_note_f0_hz(x, sr, dsp::YinParams{}, f0, ignored_error);
    return f0;
}

// Decay time constant of a tail from the slope of its frame RMS in dB (least squares).
double tail_time_constant_s(const Vec& x, double sr, double from_s, double to_s) {
    const int hop = 256;
    const Vec rms = dsp::frame_rms(x, 1024, hop);
    double st = 0, sy = 0, stt = 0, sty = 0;
    int m = 0;
    for (Eigen::Index f = 0; f < rms.size(); ++f) {
        const double t = double(f) * hop / sr;
        if (t < from_s || t > to_s) continue;
        const double y = 20 * std::log10(std::max(double(rms[f]), 1e-12));
        st += t;
        sy += y;
        stt += t * t;
        sty += t * y;
        ++m;
    }
    const double slope_db_per_s = (m * sty - st * sy) / (m * stt - st * st);
    return -20 / std::log(10.0) / slope_db_per_s;
}

}  // namespace

TEST_CASE("the registry makes it; table sizes follow the clip length") {
    auto s = synth::make_synth("ddsp");
    REQUIRE(s);
    CHECK(s->name() == "ddsp");
    CHECK(s->default_sample_rate_hz() == 16000);
    const synth::SynthConfig cfg = config(s->default_seconds());
    const auto table = s->param_table(cfg);
    REQUIRE(table.size() == 5);
    CHECK(table[0].name == "amplitude");
    CHECK(table[0].size == 1001);  // 64000 / 64 + 1 frames at 250 Hz
    CHECK(table[1].size == 1001 * 100);
    CHECK(table[2].size == 1001 * 65);
    CHECK(table[3].name == "reverb_decay_s");
    CHECK(table[4].name == "reverb_wet_db");
    CHECK(s->param_table(config(0.5))[0].size == 126);
    CHECK(s->param_table(config(0.5, 48000))[0].size == 126);  // hop 192
    synth::SynthConfig tiny = config(0);
    tiny.num_samples = 10;
    CHECK(s->param_table(tiny)[0].size == 1);
}

TEST_CASE("defaults: a pitched tone at the default f0, audible and within full scale") {
    DdspSynth s;
    const synth::SynthConfig cfg = config(1.0);
    const Vec x = render(s, synth::default_values(s.param_table(cfg)), cfg);
    CHECK(note_f0(x, cfg.sample_rate_hz) == rel(220, 0.01));
    CHECK(x.abs().maxCoeff() <= 1.0);
    CHECK(dsp::rms(x) > 0.02);
}

TEST_CASE("one harmonic is a sine at f0") {
    synth::DdspSynthParams p;
    p.num_harmonics = 1;
    DdspSynth s(p);
    s.set_f0_hz(440);
    const synth::SynthConfig cfg = config(0.5);
    ParamValues v = quiet_extras(s, cfg);
    v["amplitude"] = {0.5};
    const Vec x = render(s, v, cfg);
    CHECK(note_f0(x, cfg.sample_rate_hz) == rel(440, 0.01));
    CHECK(x.abs().maxCoeff() == rel(0.5, 0.02));
    const Spectrum sp = spectrum(x, cfg.sample_rate_hz);
    const double off_peak = sp.total() - sp.between(380, 500);
    CHECK(db(off_peak / sp.total()) < -40);
    // The full synth with every weight but the first at its floor sounds the same pitch.
    DdspSynth full;
    full.set_f0_hz(440);
    ParamValues w = quiet_extras(full, cfg);
    std::vector<double> dist(size_t(full.param_table(cfg)[1].size), 1e-4);
    for (size_t i = 0; i < dist.size(); i += 100) dist[i] = 1;
    w["harmonic_distribution"] = dist;
    const Vec y = render(full, w, cfg);
    CHECK(note_f0(y, cfg.sample_rate_hz) == rel(440, 0.01));
    const Spectrum sy = spectrum(y, cfg.sample_rate_hz);
    CHECK(db(sy.between(380, 500) / sy.total()) > -0.5);
}

TEST_CASE("harmonics at or above Nyquist are removed, and the rest share the amplitude") {
    DdspSynth s;
    s.set_f0_hz(2900);  // partials 2900, 5800 Hz; 8700 Hz would alias to 7300 Hz
    const synth::SynthConfig cfg = config(0.5);
    const Vec x = render(s, quiet_extras(s, cfg), cfg);
    const Spectrum sp = spectrum(x, cfg.sample_rate_hz);
    const double first = sp.between(2800, 3000), second = sp.between(5700, 5900);
    CHECK(db(sp.between(6400, 8001) / sp.total()) < -60);
    CHECK(db(first / second) == rel(6.02, 0.1));  // equal weights on the 1/k slope
    CHECK(db((first + second) / sp.total()) > -0.5);
    CHECK(x.abs().maxCoeff() <= 0.5 * 1.01);  // the two amplitudes sum to `amplitude` (0.5)
    CHECK(x.abs().maxCoeff() >= 0.5 * 0.8);
}

TEST_CASE("the noise filter gives the requested band levels") {
    DdspSynth s;
    const synth::SynthConfig cfg = config(1.0);
    const int frames = s.num_frames(cfg), bands = 65;  // 125 Hz apart at 16 kHz
    auto noise_only = [&](const std::function<double(int)>& band_gain) {
        ParamValues v = synth::default_values(s.param_table(cfg));
        v["amplitude"] = {1e-5};
        v["reverb_wet_db"] = {-60};
        std::vector<double> m;
        for (int f = 0; f < frames; ++f)
            for (int k = 0; k < bands; ++k) m.push_back(band_gain(k));
        v["noise_magnitudes"] = m;
        return render(s, v, cfg);
    };
    // A flat response passes the uniform [-1, 1] noise unchanged: RMS m / sqrt(3).
    const Vec flat = noise_only([](int) { return 0.3; });
    CHECK(dsp::rms(flat) == rel(0.3 / std::sqrt(3.0), 0.02));

    // Low bands only (below 2 kHz): the energy stays below the cut-off.
    const Spectrum low = spectrum(noise_only([](int k) { return k <= 15 ? 0.5 : 1e-5; }), cfg.sample_rate_hz);
    CHECK(db(low.between(2500, 8001) / low.total()) < -30);
    const Spectrum high = spectrum(noise_only([](int k) { return k >= 40 ? 0.5 : 1e-5; }), cfg.sample_rate_hz);
    CHECK(db(high.between(0, 4500) / high.total()) < -30);

    // A staircase of 1, 0.1, 0.01 reads 20 dB per step in the middle of each stair.
    const Spectrum stairs = spectrum(noise_only([](int k) { return k <= 20 ? 1.0 : k <= 42 ? 0.1 : 0.01; }),
                                     cfg.sample_rate_hz);
    const double l0 = stairs.between(1000, 1500) / 500, l1 = stairs.between(3700, 4200) / 500,
                 l2 = stairs.between(6500, 7000) / 500;
    CHECK(db(l0 / l1) == rel(20, 0.1));
    CHECK(db(l1 / l2) == rel(20, 0.1));
}

TEST_CASE("reverb: the wet level raises the tail, decay_s sets its decay") {
    DdspSynth s;
    const synth::SynthConfig cfg = config(1.2);
    const int frames = s.num_frames(cfg);
    auto tone_then_silence = [&](double wet_db, double decay_s) {
        ParamValues v = quiet_extras(s, cfg);
        std::vector<double> amp(size_t(frames), 1e-5);
        for (int f = 0; f < frames && f * 64 < 0.2 * cfg.sample_rate_hz; ++f) amp[size_t(f)] = 0.5;
        v["amplitude"] = amp;
        v["reverb_wet_db"] = {wet_db};
        v["reverb_decay_s"] = {decay_s};
        return render(s, v, cfg);
    };
    const Vec dry = tone_then_silence(-60, 0.15), wet = tone_then_silence(-6, 0.15);
    const int from = int(0.4 * cfg.sample_rate_hz), len = int(0.6 * cfg.sample_rate_hz);
    const double tail_dry = dsp::rms(dry.data() + from, len), tail_wet = dsp::rms(wet.data() + from, len);
    CHECK(db(tail_wet * tail_wet / (tail_dry * tail_dry)) > 40);
    for (double decay_s : {0.08, 0.25}) {
        CAPTURE(decay_s);
        const Vec x = tone_then_silence(-6, decay_s);
        CHECK(tail_time_constant_s(x, cfg.sample_rate_hz, 0.3, 0.3 + 4 * decay_s) ==
              rel(decay_s, 0.15));
    }
}

TEST_CASE("determinism: the same seed gives the same samples, another seed other noise") {
    DdspSynth s;
    synth::SynthConfig cfg = config(0.3);
    ParamValues v = synth::default_values(s.param_table(cfg));
    v["noise_magnitudes"] = {0.05};
    const Vec a = render(s, v, cfg), b = render(s, v, cfg);
    CHECK((a - b).abs().maxCoeff() == 0);
    cfg.seed = 2;
    const Vec c = render(s, v, cfg);
    CHECK((a - c).abs().maxCoeff() > 1e-3);
    CHECK(dsp::rms(c) == rel(dsp::rms(a), 0.1));
}

TEST_CASE("finite output at the corners of the parameter ranges and odd configurations") {
    const std::vector<synth::SynthConfig> cfgs = {config(0.25), config(0.1, 48000), config(0.003), config(0.25, 22050)};
    for (const synth::SynthConfig& cfg : cfgs) {
        CAPTURE(cfg.num_samples);
        CAPTURE(cfg.sample_rate_hz);
        for (double f0 : {20.0, 220.0, 7900.0, 30000.0}) {
            CAPTURE(f0);
            DdspSynth s;
            s.set_f0_hz(f0);
            const auto table = s.param_table(cfg);
            ParamValues lo, hi;
            for (const auto& p : table) {
                lo[p.name] = {p.min_value};
                hi[p.name] = {p.max_value};
            }
            for (const ParamValues& v : {lo, hi, synth::default_values(table)}) {
                const Vec x = render(s, v, cfg);
                CHECK(x.allFinite());
            }
            // Random points in u (beyond the clamp of to_unconstrained, where sigmoids saturate).
            dsp::Rng rng(7);
            Vec u(synth::table_size(table));
            for (int trial = 0; trial < 3; ++trial) {
                for (Eigen::Index i = 0; i < u.size(); ++i) u[i] = Real(rng.uniform(-30, 30));
                ad::Tape t(ad::Tape::Mode::forward_only);
                CHECK(s.build(t.constant(u), cfg).value().allFinite());
            }
        }
    }
}

TEST_CASE("analyse_target tracks f0 from the target; initial_values matches its loudness") {
    const synth::SynthConfig cfg = config(0.6);
    DdspSynth source;
    Vec glide(4);
    // 200 -> 240 Hz over 0.3 s, then held. (dsp::yin_track's estimate lags a glide by ~14 ms at
    // these pitches: its analysis segment reaches a period of f0_min back, so keep the glide gentle.)
    glide << 200, 213, 227, 240;
    source.set_f0_track(glide, 10);
    ParamValues v = synth::default_values(source.param_table(cfg));
    v["amplitude"] = {0.2};
    const Vec target = render(source, v, cfg);

    DdspSynth s;
    CHECK_FALSE(s.has_f0_track());
    std::string err;
    REQUIRE(s.analyse_target(target, cfg, err));
    CHECK(s.has_f0_track());
    const Vec want = source.f0_frames_hz(cfg), got = s.f0_frames_hz(cfg);
    for (Eigen::Index f = 5; f < want.size() - 5; ++f) CHECK(got[f] == rel(want[f], 0.02));

    // The loudness start: a flat distribution at the analysed RMS gives back amplitude 0.2.
    const ParamValues init = s.initial_values(cfg);
    const std::vector<double>& amp = init.at("amplitude");
    for (size_t f = 10; f + 10 < amp.size(); f += 10) CHECK(std::abs(20 * std::log10(amp[f] / 0.2)) < 1.5);
    const Vec again = render(s, init, cfg);
    CHECK(note_f0(again, cfg.sample_rate_hz) == rel(note_f0(target, cfg.sample_rate_hz), 0.01));

    Vec empty;
    CHECK_FALSE(s.analyse_target(empty, cfg, err));
    CHECK(err.find("empty") != std::string::npos);
    Vec bad = target;
    bad[3] = Real(NAN);
    CHECK_FALSE(s.analyse_target(bad, cfg, err));
    s.set_f0_hz(300);
    CHECK_FALSE(s.has_f0_track());
    CHECK(s.f0_frames_hz(cfg)[0] == 300);
}

TEST_CASE("gradient descent matches the synth to itself") {
    const synth::SynthConfig cfg = config(0.5, 16000, 5);
    DdspSynth s;
    s.set_f0_hz(196);
    const auto table = s.param_table(cfg);
    const int frames = s.num_frames(cfg);
    // Target: a pluck with a 1/k^1.5 spectrum that darkens as it decays, a breathy noise floor
    // falling with frequency, and a small room.
    ParamValues tv = synth::default_values(table);
    std::vector<double> amp, dist, noise;
    for (int f = 0; f < frames; ++f) {
        const double t = f * 0.004;
        amp.push_back(0.02 + 0.5 * std::exp(-t / 0.15));
        for (int k = 1; k <= 100; ++k) dist.push_back(std::max(1e-4, std::pow(k, -1.5 - 4 * t)));
        for (int b = 0; b < 65; ++b) noise.push_back(0.01 * std::exp(-b / 15.0) + 1e-4);
    }
    tv["amplitude"] = amp;
    tv["harmonic_distribution"] = dist;
    tv["noise_magnitudes"] = noise;
    tv["reverb_decay_s"] = {0.1};
    tv["reverb_wet_db"] = {-15};
    const Vec target = render(s, tv, cfg);

    // Start where a user would: f0 and loudness from the target, everything else at defaults.
    DdspSynth m;
    std::string err;
    REQUIRE(m.analyse_target(target, cfg, err));
    Vec u0;
    REQUIRE(synth::to_unconstrained(table, m.initial_values(cfg), u0, err));
    ad::Tape tape;
    ad::Var u = tape.variable(u0);
    match::MrStftLoss loss(m.build(u, cfg), target);
    ad::AdamParams ap;
    ap.learning_rate = 0.05;
    ad::Adam adam(ap);
    adam.add(u);
    const double start = loss.loss().item();
    double best = start;
    for (int step = 0; step < 150; ++step) {
        tape.forward();
        best = std::min(best, double(loss.loss().item()));
        tape.backward(loss.loss());
        CHECK(adam.step());
    }
    tape.forward();
    best = std::min(best, double(loss.loss().item()));
    MESSAGE("self-match loss ", start, " -> ", best);
    CHECK(std::isfinite(best));
    CHECK(best < 0.3 * start);
}
