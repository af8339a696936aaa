// The modal drum (synth/drum.*), measured as a listener would: modes ring at their frequencies and
// decay in their T60s, a band's noise sits in its band with its attack and decay, the glide bends
// the pitch, the recording's first milliseconds are the recording's; the analysis finds the modes
// of a known drum, and matching from it recovers them; silence, clicks and absurd values stay finite.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "dsp/rng.h"
#include "match/session.h"
#include "synth/drum.h"
#include "synth/registry.h"
#include "listen_util.h"

using namespace ddsp;
using namespace ddsp::test;

namespace {

constexpr double kSr = 44100;

std::unique_ptr<synth::Synth> make() {
    auto s = synth::make_synth("drum");
    REQUIRE(s);
    return s;
}

synth::SynthConfig config(double seconds, double sr = kSr) {
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = sr;
    cfg.num_samples = int(seconds * sr);
    cfg.seed = 1;
    return cfg;
}

// Everything silent (-90 dB), linear (drive -24 dB), no transient; then `changes`.
synth::ParamValues silent(const synth::SynthConfig& cfg, const synth::ParamValues& changes) {
    synth::ParamValues v = synth::default_values(make()->param_table(cfg));
    v["mode_gain_db"] = std::vector<double>(synth::kDrumModes, -90.0);
    v["band_gain_db"] = std::vector<double>(synth::kDrumBands, -90.0);
    v["drive_db"] = {-24};
    for (const auto& [name, value] : changes) v[name] = value;
    return v;
}

std::vector<double> modes(std::vector<double> first, double rest) {
    first.resize(synth::kDrumModes, rest);
    return first;
}

Vec render(synth::Synth& s, const synth::ParamValues& values, const synth::SynthConfig& cfg) {
    Vec audio;
    std::string err;
    const bool ok = synth::render(s, values, cfg, audio, err);
    INFO(err);
    REQUIRE(ok);
    REQUIRE(audio.allFinite());
    return audio;
}

Vec render(const synth::ParamValues& values, const synth::SynthConfig& cfg) {
    auto s = make();
    return render(*s, values, cfg);
}

// A known drum: three modes and bright noise, the recording the analysis and matching tests use.
synth::ParamValues known_drum(const synth::SynthConfig& cfg) {
    std::vector<double> band_gain(synth::kDrumBands, -90.0);
    for (int b = 10; b < 14; ++b) band_gain[size_t(b)] = -12;
    return silent(cfg, {{"mode_freq_hz", modes({220, 515, 1630}, 3000)},
                        {"mode_decay_ms", modes({400, 200, 90}, 50)},
                        {"mode_gain_db", modes({-6, -12, -18}, -90)},
                        {"band_gain_db", band_gain},
                        {"band_decay_ms", {120}}});
}

}  // namespace

TEST_CASE("drum is registered with modes, bands, glide, drive and transient in physical units") {
    auto s = make();
    CHECK(s->name() == "drum");
    const auto table = s->param_table(config(1));
    CHECK(synth::table_size(table) == 3 * synth::kDrumModes + 2 + 3 * synth::kDrumBands + 2);
    CHECK(table[0].name == "mode_freq_hz");
    CHECK(table[0].global);  // the hybrid method searches the mode frequencies first
    CHECK(table[0].max_value <= 0.45 * kSr);
    const Vec a = render(s->initial_values(config(1)), config(1));
    CHECK(a.abs().maxCoeff() > 0.05);  // the defaults make a sound
}

TEST_CASE("the noise bands partition one white noise, each band around its centre") {
    const int n = 1 << 15;
    const Arr bands = synth::drum_noise_bands(n, kSr, 7);
    REQUIRE(bands.rows() == n);
    REQUIRE(bands.cols() == synth::kDrumBands);
    Vec white(n);
    dsp::Rng rng(7);
    for (int i = 0; i < n; ++i) white[i] = Real(rng.uniform(-1.0, 1.0));
    // The masks are 0 at DC: the bands sum to the noise without its mean.
    white -= white.mean();
    CHECK((bands.rowwise().sum().matrix() - white.matrix()).cwiseAbs().maxCoeff() < 1e-4);
    const std::vector<double> centres = synth::drum_band_centres_hz(kSr);
    for (int b = 2; b < synth::kDrumBands; ++b) {
        CAPTURE(b);
        const Vec psd = power_spectrum(bands.col(b), 4096);
        const double spacing = centres[1] / centres[0];
        // Louder around its centre than an octave and a half away on either side.
        const double centre_db = band_db(psd, 4096, kSr, centres[size_t(b)] / std::sqrt(spacing), centres[size_t(b)] * std::sqrt(spacing));
        CHECK(centre_db > band_db(psd, 4096, kSr, 20, centres[size_t(b)] / (spacing * spacing)) + 20);
        if (b + 2 < synth::kDrumBands)
            CHECK(centre_db > band_db(psd, 4096, kSr, centres[size_t(b)] * spacing * spacing, 0.5 * kSr) + 20);
    }
}

TEST_CASE("modes ring at their frequencies and fall 60 dB in their decay times") {
    const synth::SynthConfig cfg = config(1.2);
    const Vec a = render(silent(cfg, {{"mode_freq_hz", modes({300, 770}, 5000)},
                                      {"mode_decay_ms", modes({600, 250}, 5)},
                                      {"mode_gain_db", modes({-6, -12}, -90)}}),
                         cfg);
    const int len = 4096;
    // Amplitudes at t = 0.1 s and 0.3 s: the decay between them in dB over 0.2 s gives the T60.
    for (const auto& mode : {std::pair{300.0, 0.6}, std::pair{770.0, 0.25}}) {
        const double f_hz = mode.first, t60_s = mode.second;  // (clang 14 cannot capture bindings)
        CAPTURE(f_hz);
        const double a1 = tone_amplitude(a, kSr, int(0.1 * kSr) - len / 2, len, f_hz);
        const double a3 = tone_amplitude(a, kSr, int(0.3 * kSr) - len / 2, len, f_hz);
        const double measured_t60 = 60.0 * 0.2 / (20 * std::log10(a1 / a3));
        CHECK(measured_t60 == doctest::Approx(t60_s).epsilon(0.05));
        // The loudest frequency within +-5 % over the first second, on a 0.1 % grid, is the mode's.
        double best_hz = 0, best = 0;
        for (double r = 0.95; r <= 1.05; r += 0.001) {
            const double amp = tone_amplitude(a, kSr, 0, int(kSr), f_hz * r);
            if (amp > best) best = amp, best_hz = f_hz * r;
        }
        CHECK(best_hz == doctest::Approx(f_hz).epsilon(0.0015));
    }
    // The level: -6 dB is an amplitude of 0.5 at t = 0 (extrapolated from 0.1 s with the T60).
    const double a1 = tone_amplitude(a, kSr, int(0.1 * kSr) - len / 2, len, 300);
    CHECK(a1 * std::pow(10.0, 3.0 * 0.1 / 0.6) == doctest::Approx(0.5).epsilon(0.03));
    // One mode alone: pitch by zero crossings.
    const Vec one = render(silent(cfg, {{"mode_freq_hz", modes({440}, 5000)}, {"mode_decay_ms", modes({800}, 5)},
                                        {"mode_gain_db", modes({-6}, -90)}}),
                           cfg);
    CHECK(zero_crossing_hz(one, kSr, 0.05, 0.5) == doctest::Approx(440).epsilon(0.002));
}

TEST_CASE("a band's noise has its attack and its decay") {
    const synth::SynthConfig cfg = config(1.5);
    std::vector<double> gain(synth::kDrumBands, -90.0);
    gain[10] = 0;
    const Vec a = render(silent(cfg, {{"band_gain_db", gain}, {"band_attack_ms", {25}}, {"band_decay_ms", {500}}}), cfg);
    CHECK(measured_t60_s(a, kSr) == doctest::Approx(0.5).epsilon(0.15));
    // The attack: 5 ms in, the level is well under its level at 60 ms (envelopes 0.17 and 0.40).
    const Vec head = a.segment(int(0.003 * kSr), int(0.004 * kSr));
    const Vec later = a.segment(int(0.058 * kSr), int(0.004 * kSr));
    CHECK(dsp::rms(head) < 0.6 * dsp::rms(later));
    const Vec fast = render(silent(cfg, {{"band_gain_db", gain}, {"band_attack_ms", {0.1}}, {"band_decay_ms", {500}}}), cfg);
    CHECK(dsp::rms(fast.segment(int(0.003 * kSr), int(0.004 * kSr))) > 0.8 * dsp::rms(fast.segment(int(0.058 * kSr), int(0.004 * kSr))));
}

TEST_CASE("the glide starts every mode higher and settles on its frequency") {
    const synth::SynthConfig cfg = config(1);
    const Vec a = render(silent(cfg, {{"mode_freq_hz", modes({200}, 5000)}, {"mode_decay_ms", modes({2000}, 5)},
                                      {"mode_gain_db", modes({-6}, -90)}, {"glide_depth", {0.5}},
                                      {"glide_decay_ms", {300}}}),
                         cfg);
    // Over the first 20 ms the glide envelope is 1 .. 0.63: the pitch is 1.3-1.5 x 200 Hz.
    const double start_hz = zero_crossing_hz(a, kSr, 0, 0.02);
    CHECK(start_hz > 1.3 * 200);
    CHECK(start_hz < 1.5 * 200);
    CHECK(zero_crossing_hz(a, kSr, 0.6, 0.95) == doctest::Approx(200).epsilon(0.005));
}

TEST_CASE("the transient is the recording's first milliseconds, then the model alone") {
    const synth::SynthConfig cfg = config(0.3);
    auto s = make();
    Vec x(cfg.num_samples);
    dsp::Rng rng(4);
    for (int i = 0; i < x.size(); ++i) x[i] = Real(0.8 * std::exp(-i / (0.004 * kSr)) * rng.uniform(-1, 1));
    std::string err;
    REQUIRE(s->analyse_target(x, cfg, err));
    synth::ParamValues v = s->initial_values(cfg);
    CHECK(v.at("transient_mix")[0] == 1.0);
    const Vec with = render(*s, v, cfg);
    v["transient_mix"] = {0.0};
    const Vec without = render(*s, v, cfg);
    const int hold = int(std::lround(synth::kDrumTransientMs * 1e-3 * kSr)) / 2;
    CHECK((with.head(hold) - x.head(hold)).abs().maxCoeff() < 1e-5);  // y + (x - y): float rounding
    const int after = int(std::lround(synth::kDrumTransientMs * 1e-3 * kSr));
    CHECK((with.segment(after, 1000) - without.segment(after, 1000)).abs().maxCoeff() == 0);
}

TEST_CASE("the analysis finds a known drum's modes, decays and levels") {
    const synth::SynthConfig cfg = config(1);
    const Vec x = render(known_drum(cfg), cfg);
    auto s = make();
    std::string err;
    REQUIRE(s->analyse_target(x, cfg, err));
    const synth::ParamValues v = s->initial_values(cfg);
    const auto& f = v.at("mode_freq_hz");
    const auto& d = v.at("mode_decay_ms");
    const auto& g = v.at("mode_gain_db");
    for (const auto& mode : {std::tuple{220.0, 400.0, -6.0}, std::tuple{515.0, 200.0, -12.0},
                             std::tuple{1630.0, 90.0, -18.0}}) {
        const double f_true = std::get<0>(mode), d_true = std::get<1>(mode), g_true = std::get<2>(mode);
        CAPTURE(f_true);
        int k = 0;
        for (int m = 1; m < synth::kDrumModes; ++m)
            if (std::abs(f[size_t(m)] - f_true) < std::abs(f[size_t(k)] - f_true)) k = m;
        CHECK(f[size_t(k)] == doctest::Approx(f_true).epsilon(0.01));
        CHECK(d[size_t(k)] == doctest::Approx(d_true).epsilon(0.25));
        CHECK(g[size_t(k)] == doctest::Approx(g_true).epsilon(0.25));  // within 1.5-4.5 dB
    }
    // The bright noise is found in the bands that made it, far above the silent low bands.
    const auto& bg = v.at("band_gain_db");
    CHECK(bg[11] > -20);
    CHECK(bg[12] > -20);
    CHECK(bg[3] < bg[12] - 20);
}

TEST_CASE("matching a known drum from the analysis recovers its modes and sound") {
    const synth::SynthConfig cfg = config(0.5, 16000);
    const Vec x = render(known_drum(cfg), cfg);
    match::MatchParams p;
    p.method = match::Method::gradient;
    p.max_steps = 150;
    p.patience = 150;
    p.seed = cfg.seed;  // the same noise: the known drum is a point of the search space
    match::MatchSession s;
    std::string err;
    REQUIRE(s.init("drum", x, cfg.sample_rate_hz, p, err));
    while (s.step()) {
    }
    INFO("loss ", s.initial_loss(), " -> ", s.best_loss());
    CHECK(s.best_loss() < 0.5 * s.initial_loss());
    const synth::ParamValues v = s.best_params();
    const auto& f = v.at("mode_freq_hz");
    for (double f_true : {220.0, 515.0, 1630.0}) {
        CAPTURE(f_true);
        double nearest = f[0];
        for (double fm : f) nearest = std::abs(fm - f_true) < std::abs(nearest - f_true) ? fm : nearest;
        CHECK(nearest == doctest::Approx(f_true).epsilon(0.01));
    }
}

TEST_CASE("silence, a click and absurd values give finite, bounded sound") {
    const synth::SynthConfig cfg = config(0.2);
    auto s = make();
    std::string err;
    REQUIRE(s->analyse_target(Vec::Zero(cfg.num_samples), cfg, err));
    CHECK(render(*s, s->initial_values(cfg), cfg).allFinite());
    Vec click = Vec::Zero(cfg.num_samples);
    click[0] = 1;
    REQUIRE(s->analyse_target(click, cfg, err));
    CHECK(render(*s, s->initial_values(cfg), cfg).allFinite());
    Vec tiny = Vec::Ones(3);
    REQUIRE(s->analyse_target(tiny, config(3.0 / kSr), err));
    CHECK_FALSE(s->analyse_target(Vec(), cfg, err));
    // Everything at its loudest and fastest, full drive: |tanh(d s) / d| <= 1 / d.
    synth::ParamValues loud = synth::default_values(make()->param_table(cfg));
    for (auto& [name, value] : loud) {
        const auto table = make()->param_table(cfg);
        for (const auto& spec : table)
            if (spec.name == name) std::fill(value.begin(), value.end(), spec.max_value);
    }
    const Vec a = render(loud, cfg);
    CHECK(a.abs().maxCoeff() <= Real(std::pow(10.0, -24.0 / 20) + 1e-4));
}
