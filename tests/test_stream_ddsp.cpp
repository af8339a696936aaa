// The `ddsp` synth's streaming voice (synth/stream_ddsp.cpp) through the live engine: a note at the
// preset's pitch equals the offline render (default preset; a non-trivial one with varying frames, a
// vibrato f0 track and reverb), at 48 kHz it is the resampled render after the converter's latency,
// keyboard notes play at their pitch, the note sustains past the preset's end and releases, absurd
// f0 frames stay finite, process() never allocates; and what a voice costs.
#include <doctest/doctest.h>

#include "dsp/pitch.h"
#include "dsp/resample.h"
#include "engine/live.h"
#include "synth/ddsp_synth.h"
#include "synth/stream.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include "alloc_counter.h"
#include "live_test_util.h"  // counts operator new: the no-allocation checks

using namespace ddsp;
using live_test::yin_f0;

using alloc_counter::g_allocations;
using alloc_counter::g_counting;

namespace {

// [SECTION] helpers

constexpr int kBlock = 128;

// A ddsp preset from values (physical), with an optional f0 track at 250 frames per second.
synth::StreamPreset ddsp_preset(const synth::ParamValues& values, double seconds, uint64_t seed,
                                const Vec& f0_frames = Vec()) {
    match::ParamFile file;
    file.synth = "ddsp";
    file.seconds = seconds;
    file.values = values;
    synth::StreamPreset p;
    std::string error;
    REQUIRE_MESSAGE(engine::make_stream_preset(file, 0, seed, Vec(), f0_frames, p, error), error);
    return p;
}

// `ddsp render` of the preset: the synth conditioned on the preset's f0 frames.
Vec render_offline(const synth::StreamPreset& preset) {
    synth::DdspSynth s;
    s.set_f0_track(preset.f0_frames_hz, preset.cfg.sample_rate_hz / s.hop(preset.cfg));
    Vec audio;
    std::string error;
    REQUIRE_MESSAGE(synth::render(s, preset.values, preset.cfg, audio, error), error);
    return audio;
}

struct Streamed {
    Vec audio;
    int latency = 0;
};

// One note at the preset's pitch from sample 0, streamed in 128-sample quanta at out_rate.
Streamed stream_note(const synth::StreamPreset& preset, double out_rate, int frames) {
    engine::LiveEngine live;
    std::string error;
    REQUIRE_MESSAGE(live.init(out_rate, kBlock, error), error);
    REQUIRE_MESSAGE(live.load_preset(preset, error), error);
    live.note_on(60, 1.0, 0.0);
    Streamed s;
    s.audio.setZero(frames);
    for (int pos = 0; pos < frames; pos += kBlock)
        live.process(nullptr, s.audio.data() + pos, std::min(kBlock, frames - pos));
    s.latency = live.note_latency_samples();
    return s;
}

// Varying frames: a swelling amplitude, a distribution whose brightness sweeps, noise bands that
// move (loud enough to matter), a long, loud reverb; f0: 330 Hz with a 5.5 Hz, 3 % vibrato.
struct Rich {
    synth::ParamValues values;
    Vec f0_frames;
};

Rich rich_values(double seconds, double sr = 16000) {
    synth::DdspSynth s;
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = sr;
    cfg.num_samples = int(std::lround(seconds * sr));
    const int frames = s.num_frames(cfg), H = s.params().num_harmonics, B = s.params().num_noise_bands;
    Rich r;
    std::vector<double> amp(static_cast<size_t>(frames)), dist(static_cast<size_t>(frames * H)),
        noise(static_cast<size_t>(frames * B));
    for (int f = 0; f < frames; ++f) {
        const double u = double(f) / std::max(1, frames - 1);
        amp[size_t(f)] = 0.05 + 0.4 * std::sin(kPi * u) * (1 + 0.2 * std::sin(40 * u));
        for (int k = 0; k < H; ++k) dist[size_t(f * H + k)] = std::clamp(std::exp(-k * (0.05 + 0.3 * u)) * (k % 3 == 1 ? 0.3 : 1.0), 1e-4, 1.0);
        for (int b = 0; b < B; ++b) noise[size_t(f * B + b)] = 0.02 * std::exp(-std::pow((b - 40 * u - 10) / 8.0, 2)) + 1e-4;
    }
    r.values["amplitude"] = amp;
    r.values["harmonic_distribution"] = dist;
    r.values["noise_magnitudes"] = noise;
    r.values["reverb_decay_s"] = {0.3};
    r.values["reverb_wet_db"] = {-6};
    const int track_frames = int(seconds * 250) + 1;
    r.f0_frames.resize(track_frames);
    for (int f = 0; f < track_frames; ++f) r.f0_frames[f] = Real(330 * (1 + 0.03 * std::sin(2 * kPi * 5.5 * f / 250.0)));
    return r;
}

}  // namespace

TEST_CASE("a streamed ddsp note equals the offline render of its preset, with no latency") {
    const Rich rich = rich_values(1.0);
    struct Case {
        const char* name;
        synth::StreamPreset preset;
    };
    const Case cases[] = {
        {"default", ddsp_preset({}, 1.0, 3)},
        {"rich (varying frames, vibrato, reverb)", ddsp_preset(rich.values, 1.0, 5, rich.f0_frames)},
        {"short odd length, dry", ddsp_preset({{"reverb_wet_db", {-60}}, {"noise_magnitudes", {0.05}}}, 0.3131, 9)},
    };
    for (const Case& c : cases) {
        const std::string name = c.name;
        CAPTURE(name);
        const Vec offline = render_offline(c.preset);
        const int n = int(offline.size());
        const Streamed s = stream_note(c.preset, c.preset.cfg.sample_rate_hz, n);
        CHECK(s.latency == 0);
        const double peak = double(offline.abs().maxCoeff());
        REQUIRE(peak > 1e-2);
        Eigen::Index at = 0;
        const double err = double((s.audio - offline).abs().maxCoeff(&at)) / peak;
        MESSAGE(name << ": streamed vs offline over all " << n << " samples, max |diff| / peak = " << err << " at " << at);
        CHECK(err < 1e-5);
    }
}

TEST_CASE("at 48 kHz the ddsp stream is the offline render resampled, delayed by the stated latency") {
    const Rich rich = rich_values(0.6);
    for (const bool is_rich : {false, true}) {
        CAPTURE(is_rich);
        const synth::StreamPreset preset = is_rich ? ddsp_preset(rich.values, 0.6, 5, rich.f0_frames) : ddsp_preset({}, 0.6, 3);
        const Vec offline = render_offline(preset);
        dsp::ResampleParams rp;
        rp.passband = 0.85;
        Vec expected;
        std::string error;
        REQUIRE(dsp::resample(offline, preset.cfg.sample_rate_hz, 48000, expected, error, rp));
        const int n = int(expected.size());
        const Streamed s = stream_note(preset, 48000, n + 512);
        CHECK(s.latency > 0);
        CHECK(1000.0 * s.latency / 48000 < 3.0);
        // Away from the clip's end (offline's resampler sees the clip stop; the note sustains).
        const int m = n - 200;
        const Vec got = s.audio.segment(s.latency, m);
        const double err = double((got - expected.head(m)).abs().maxCoeff()) / double(expected.abs().maxCoeff());
        MESSAGE(std::string(is_rich ? "rich" : "default") << " at 48 kHz: latency " << s.latency << " samples, max |diff| / peak = " << err);
        CHECK(err < 1e-4);
    }
}

TEST_CASE("keyboard notes play at their pitch: the preset's f0 contour scaled to the note") {
    const Rich rich = rich_values(1.0);
    const synth::StreamPreset presets[] = {ddsp_preset({}, 1.0, 3), ddsp_preset(rich.values, 1.0, 5, rich.f0_frames)};
    for (const auto& preset : presets) {
        for (int midi : {57, 69}) {
            CAPTURE(midi);
            engine::LiveEngine live;
            std::string error;
            REQUIRE(live.init(48000, kBlock, error));
            REQUIRE(live.load_preset(preset, error));
            live.note_on(midi, 0.8);
            Vec out(48000);  // the preset's second: its contour's median is the note
            live_test::run(live, out, 0, -1, kBlock);
            const double want = engine::midi_to_hz(midi);
            const double got = yin_f0(out.segment(2400, 45600), 48000);
            MESSAGE("MIDI " << midi << ": " << got << " Hz (want " << want << ")");
            CHECK(std::abs(got / want - 1) < 0.01);
        }
    }
}

TEST_CASE("a ddsp note sustains past the preset's end on its last frame, and note-off releases it") {
    const synth::StreamPreset preset = ddsp_preset({}, 0.25, 3);
    engine::LiveEngine live;
    std::string error;
    REQUIRE(live.init(16000, kBlock, error));
    REQUIRE(live.load_preset(preset, error));
    live.note_on(69, 1.0);
    Vec out(16000);  // 1 s: four times the preset
    live_test::run(live, out, 0, -1, kBlock);
    const double early = double(out.segment(2000, 1600).abs().maxCoeff());
    const double late = double(out.segment(14000, 1600).abs().maxCoeff());
    CHECK(early > 0.1);
    CHECK(late == doctest::Approx(early).epsilon(0.1));  // same controls: the same level
    live.note_off(69);
    Vec tail(16000 / 5);
    live_test::run(live, tail, 0, -1, kBlock);
    CHECK(double(tail.tail(800).abs().maxCoeff()) == 0.0);  // 50 ms release, then silence
    CHECK(live.stats().voices_active == 0);
}

TEST_CASE("a ddsp slider change is heard within 20 ms, without a step") {
    const synth::StreamPreset preset = ddsp_preset({{"amplitude", {0.8}}, {"reverb_wet_db", {-60}}, {"noise_magnitudes", {1e-5}}}, 1.0, 3);
    engine::LiveEngine live;
    std::string error;
    REQUIRE(live.init(16000, kBlock, error));
    REQUIRE(live.load_preset(preset, error));
    live.note_on(0, 1.0, 0.0);
    Vec out(16000);
    const int changed_at = 8064;  // a multiple of 128
    live_test::run(live, out, 0, changed_at, kBlock);
    REQUIRE(live.set_params({{"amplitude", {0.2}}}, error));
    live_test::run(live, out, changed_at, -1, kBlock);
    // Peak over two periods of 220 Hz before, and 20 ms after the change.
    const double before = double(out.segment(changed_at - 300, 146).abs().maxCoeff());
    const double after = double(out.segment(changed_at + 320, 146).abs().maxCoeff());
    MESSAGE("peak before " << before << ", 20 ms after " << after);
    CHECK(after == doctest::Approx(before / 4).epsilon(0.03));
    double max_step = 0;
    for (int i = changed_at - 200; i < changed_at + 800; ++i) max_step = std::max(max_step, double(std::abs(out[i + 1] - out[i])));
    double max_step_before = 0;
    for (int i = changed_at - 1200; i < changed_at - 200; ++i) max_step_before = std::max(max_step_before, double(std::abs(out[i + 1] - out[i])));
    CHECK(max_step <= max_step_before * 1.01);
}

TEST_CASE("absurd f0 frames and values: the ddsp voice stays finite") {
    synth::StreamPreset preset = ddsp_preset({}, 0.5, 3);
    const Eigen::Index frames = preset.f0_frames_hz.size();
    for (Eigen::Index f = 0; f < frames; ++f) {
        const double v[] = {std::nan(""), std::numeric_limits<double>::infinity(), 1e30, -5, 0, 1e-20, 20000, 440};
        preset.f0_frames_hz[f] = Real(v[f % 8]);
    }
    engine::LiveEngine live;
    std::string error;
    REQUIRE(live.init(44100, kBlock, error));
    REQUIRE_MESSAGE(live.load_preset(preset, error), error);
    CHECK(live.set_params({{"amplitude", {1e9}}, {"reverb_wet_db", {1e9}}, {"reverb_decay_s", {-1}}}, error));
    for (int k = 0; k < 8; ++k) live.note_on(30 + 12 * k, 1.0);
    live.note_on(0, 1.0, 1e30);
    Vec out(44100);
    live_test::run(live, out, 0, -1, kBlock);
    CHECK(out.allFinite());
    CHECK(live.stats().non_finite == 0);
}

TEST_CASE("process() allocates nothing with ddsp voices: notes, glides of every kind, steals") {
    const Rich rich = rich_values(1.0);
    const synth::StreamPreset preset = ddsp_preset(rich.values, 1.0, 5, rich.f0_frames);
    engine::LiveEngine live;
    std::string error;
    REQUIRE(live.init(48000, kBlock, error));
    REQUIRE(live.load_preset(preset, error));
    Vec out(kBlock);
    g_allocations = 0;
    g_counting = true;
    for (int q = 0; q < 1500; ++q) {
        if (q % 40 == 0) live.note_on(40 + (q / 40) % 40, 0.7);
        if (q % 40 == 20) live.note_off(40 + (q / 40) % 40);
        live.process(nullptr, out.data(), kBlock);
    }
    g_counting = false;
    CHECK(g_allocations.load() == 0);
    const synth::ParamValues changes[] = {{{"amplitude", {0.2}}},
                                          {{"reverb_decay_s", {0.4}}},
                                          {{"reverb_wet_db", {-3}}},
                                          {{"noise_magnitudes", {0.01}}, {"harmonic_distribution", {0.5}}}};
    for (const auto& change : changes) {
        REQUIRE(live.set_params(change, error));  // allocates (message handler), then glides:
        g_allocations = 0;
        g_counting = true;
        for (int q = 0; q < 100; ++q) live.process(nullptr, out.data(), kBlock);
        g_counting = false;
        CHECK(g_allocations.load() == 0);
    }
    CHECK(out.allFinite());
}

TEST_CASE("cost of one ddsp voice (reported, not asserted)") {
    const Rich rich = rich_values(4.0);
    struct Case {
        const char* name;
        synth::StreamPreset preset;
    };
    const Case cases[] = {{"default 4 s preset (0.05 s reverb)", ddsp_preset({}, 4.0, 3)},
                          {"rich 4 s preset (0.3 s reverb)", ddsp_preset(rich.values, 4.0, 5, rich.f0_frames)},
                          {"default, reverb 0.5 s", ddsp_preset({{"reverb_decay_s", {0.5}}}, 4.0, 3)}};
    for (const Case& c : cases) {
        auto voice = synth::make_stream_voice("ddsp");
        std::string error;
        REQUIRE(voice->load(c.preset, error));
        voice->start(0, 1);
        const int seconds = 10, sr = int(c.preset.cfg.sample_rate_hz);
        std::vector<Real> buf(kBlock);
        const auto t0 = std::chrono::steady_clock::now();
        for (int pos = 0; pos < seconds * sr; pos += kBlock) {
            std::fill(buf.begin(), buf.end(), Real(0));
            voice->render_add(buf.data(), kBlock);
        }
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        MESSAGE(std::string(c.name) << ": " << ms / seconds << " ms per second of audio at " << sr << " Hz (one voice)");
        CHECK(std::isfinite(double(buf[0])));
    }
}
