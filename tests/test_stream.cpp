// The audio thread's kernels (synth/stream.h) and engine (engine/live.h): a streamed note equals
// the offline render of its preset, notes play at their pitch, slider changes are heard within a
// block, absurd values never reach the output, voices are stolen cleanly, and process() never
// allocates.
#include <doctest/doctest.h>

#include "ad/ops.h"
#include "dsp/pitch.h"
#include "dsp/rng.h"
#include "dsp/resample.h"
#include "engine/live.h"
#include "engine/synth_job.h"
#include "engine/target.h"
#include "synth/ddsp_synth.h"
#include "synth/stream.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include "alloc_counter.h"
#include "live_test_util.h"  // counts operator new: the no-allocation checks

using namespace ddsp;
using live_test::run;
using live_test::yin_f0;

using alloc_counter::g_allocations;
using alloc_counter::g_counting;

namespace {

struct Streamed {
    Vec audio;
    int latency = 0;
};

// The preset made from `values` (physical) for synth `name` at its default rate and `seconds`.
synth::StreamPreset preset_for(const std::string& name, const synth::ParamValues& values, double seconds,
                               uint64_t seed = 0) {
    match::ParamFile file;
    file.synth = name;
    file.seconds = seconds;
    file.values = values;
    synth::StreamPreset p;
    std::string error;
    REQUIRE_MESSAGE(engine::make_stream_preset(file, 0, seed, Vec(), Vec(), p, error), error);
    return p;
}

// One note at the preset's pitch from sample 0, streamed in `block`-sample quanta at out_rate.
Streamed stream_note(const synth::StreamPreset& preset, double out_rate, int frames, int block = 128) {
    engine::LiveEngine live;
    std::string error;
    REQUIRE_MESSAGE(live.init(out_rate, block, error), error);
    REQUIRE_MESSAGE(live.load_preset(preset, error), error);
    live.note_on(60, 1.0, 0.0);
    Streamed s;
    s.audio.setZero(frames);
    for (int pos = 0; pos < frames; pos += block) live.process(nullptr, s.audio.data() + pos, std::min(block, frames - pos));
    s.latency = live.note_latency_samples();
    return s;
}

Vec render_offline(const synth::StreamPreset& preset) {
    auto synth = synth::make_synth(preset.synth);
    Vec audio;
    std::string error;
    REQUIRE_MESSAGE(synth::render(*synth, preset.values, preset.cfg, audio, error), error);
    return audio;
}

Arr random_arr_local(dsp::Rng& rng, int rows) {
    Arr a(rows, 1);
    for (int i = 0; i < rows; ++i) a(i, 0) = Real(rng.uniform(-1, 1));
    return a;
}

double max_abs_diff(const Vec& a, const Vec& b, int n) {
    return double((a.head(n) - b.head(n)).abs().maxCoeff());
}

synth::ParamValues ks_values() {
    // Time-varying loop controls: a decay that grows, a brightening loop filter.
    synth::ParamValues v;
    v["f0_hz"] = {196};
    std::vector<double> decay, t0, t1, t2;
    for (int i = 0; i < 16; ++i) {
        decay.push_back(0.8 + 0.1 * i);
        t0.push_back(0.2 + 0.02 * i);
        t1.push_back(0.5);
        t2.push_back(0.3 - 0.015 * i);
    }
    v["decay_s"] = decay;
    v["loop_tap0"] = t0;
    v["loop_tap1"] = t1;
    v["loop_tap2"] = t2;
    v["exc_reflection"] = {0.5, -0.2, 0.1, 0, 0};
    v["exc_gain_db"] = {-10};
    return v;
}

}  // namespace

TEST_CASE("a streamed note equals the offline render of its preset, at the preset's rate") {
    struct Case {
        const char* synth;
        synth::ParamValues values;
        double seconds;
        double tolerance;  // of the peak: float rounding of different but equivalent sums (the ks
                           // loop recirculates it; drum808's envelopes use std::exp, the tape Eigen's)
    };
    const Case cases[] = {
        {"sine", {{"frequency_hz", {523.25}}, {"amplitude", {0.7}}}, 1.0, 1e-5},
        {"ks", ks_values(), 1.0, 1e-5},
        {"ks", {}, 0.5, 1e-5},
        {"drum808", {}, 0.6, 2e-5},
        {"drum808", {{"osc1_freq_hz", {95}}, {"noise_q", {6}}, {"drive_db", {12}}}, 0.6, 2e-5},
        {"drum", {}, 0.6, 2e-5},
        {"drum", {{"glide_depth", {0.6}}, {"drive_db", {12}}, {"band_attack_ms", {8}}}, 0.6, 2e-5},
        {"ks", {{"exc_reflection", {0.5, -0.2, 0.1, 0, 0}}}, 1.0, 1e-5},
        {"ks", {{"decay_s", {0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2, 2.1, 2.2, 2.3}}}, 1.0, 1e-5},
    };
    for (const Case& c : cases) {
        const std::string synth_name = c.synth;
        CAPTURE(synth_name);
        const synth::StreamPreset preset = preset_for(c.synth, c.values, c.seconds, 3);
        const Vec offline = render_offline(preset);
        const int n = int(offline.size());
        const Streamed s = stream_note(preset, preset.cfg.sample_rate_hz, n);
        CHECK(s.latency == 0);
        const double peak = double(offline.abs().maxCoeff());
        REQUIRE(peak > 1e-3);
        const double err = max_abs_diff(s.audio, offline, n) / peak;
        Eigen::Index at = 0;
        (s.audio.head(n) - offline).abs().maxCoeff(&at);
        int first = -1;
        for (int i = 0; i < n && first < 0; ++i)
            if (std::abs(s.audio[i] - offline[i]) > 1e-5 * peak) first = i;
        MESSAGE(synth_name << ": streamed vs offline, max |diff| / peak = " << err << " at " << at << " of " << n
                        << ", first above 1e-5 at " << first << (first >= 0 ? ": " + std::to_string(s.audio[std::max(0, first)]) + " vs " + std::to_string(offline[std::max(0, first)]) : std::string()));
        CHECK(err < c.tolerance);
    }
}

TEST_CASE("at 48 kHz the stream is the offline render resampled, delayed by the stated latency") {
    for (const std::string name : {"ks", "drum808", "drum"}) {
        CAPTURE(name);
        const synth::StreamPreset preset = preset_for(name, {}, 0.5);
        const Vec offline = render_offline(preset);
        dsp::ResampleParams rp;
        rp.passband = 0.85;
        Vec expected;
        std::string error;
        REQUIRE(dsp::resample(offline, preset.cfg.sample_rate_hz, 48000, expected, error, rp));
        const int n = int(expected.size());
        const Streamed s = stream_note(preset, 48000, n + 512);
        CHECK(s.latency > 0);
        CHECK(1000.0 * s.latency / 48000 < 3.0);  // the converter's delay stays under 3 ms
        // Compare away from the clip's end (offline ramps out there; the stream rings on).
        const int m = n - 200;
        const Vec got = s.audio.segment(s.latency, m);
        const double err = double((got - expected.head(m)).abs().maxCoeff()) / double(expected.abs().maxCoeff());
        MESSAGE(name << " at 48 kHz: latency " << s.latency << " samples, max |diff| / peak = " << err);
        CHECK(err < 2e-5);
    }
}

TEST_CASE("ks with a recording's residual excitation streams as `ddsp render --target` renders") {
    // A recorded-like pluck: the ks preset analyses it and excites its loop with the residual.
    const double sr = 16000;
    Vec rec(int(0.6 * sr));
    for (int i = 0; i < rec.size(); ++i) {
        const double t = i / sr;
        rec[i] = Real(0.4 * std::exp(-4 * t) * (std::sin(2 * kPi * 220 * t) + 0.3 * std::sin(2 * kPi * 440 * t)));
    }
    engine::Target target;
    std::string error;
    REQUIRE(target.set(rec, sr, error));
    engine::SynthJob job;
    REQUIRE(engine::prepare_synth("ks", nullptr, 0, job, error));
    synth::StreamPreset preset;
    REQUIRE_MESSAGE(engine::make_stream_preset(job, target, 0, preset, error), error);
    CHECK(preset.excitation_head.size() > 0);
    CHECK(preset.values.at("residual_mix")[0] == doctest::Approx(1.0));

    engine::SynthJob job2;
    REQUIRE(engine::prepare_synth("ks", nullptr, 0, job2, error));
    engine::RenderOptions ro;
    Vec offline;
    REQUIRE_MESSAGE(engine::render(job2, ro, &target, offline, error), error);
    const int n = int(offline.size());
    const Streamed s = stream_note(preset, sr, n);
    const double err = max_abs_diff(s.audio, offline, n) / double(offline.abs().maxCoeff());
    MESSAGE("ks with residual: max |diff| / peak = " << err);
    CHECK(err < 1e-5);
}

TEST_CASE("keyboard notes play at their pitch (YIN within 1 %)") {
    for (const char* name : {"ks", "sine"}) {
        for (int midi : {45, 60, 69, 76}) {
            CAPTURE(name);
            CAPTURE(midi);
            const synth::StreamPreset preset = preset_for(name, {}, 1.0);
            engine::LiveEngine live;
            std::string error;
            REQUIRE(live.init(48000, 128, error));
            REQUIRE(live.load_preset(preset, error));
            live.note_on(midi, 0.8);
            Vec out(48000 / 2);
            run(live, out);
            const double want = engine::midi_to_hz(midi);
            const double got = yin_f0(out.segment(4800, 12000), 48000);
            CHECK(std::abs(got / want - 1) < 0.01);
        }
    }
    // A drum key transposes the preset's tuning: its 180 Hz sits nearest F#3 (MIDI 54), which plays
    // it as it is; A3 is three semitones up.
    const synth::StreamPreset drum = preset_for("drum808", {{"osc1_pitch_mod", {0}}, {"osc2_gain_db", {-60}},
                                                            {"noise_gain_db", {-60}}, {"osc1_decay_ms", {1500}}},
                                                0.5);
    engine::LiveEngine live;
    std::string error;
    REQUIRE(live.init(48000, 128, error));
    REQUIRE(live.load_preset(drum, error));
    CHECK(live.note_pitch_hz(54) == doctest::Approx(180.0));
    live.note_on(57, 1.0);
    Vec out(48000 / 2);
    run(live, out);
    CHECK(std::abs(yin_f0(out.segment(2400, 12000), 48000) / (180.0 * std::pow(2.0, 3 / 12.0)) - 1) < 0.01);
}

TEST_CASE("a slider change is heard within 10 ms, and glides (no step)") {
    const synth::StreamPreset preset = preset_for("sine", {{"frequency_hz", {200}}, {"amplitude", {0.8}}}, 1.0);
    engine::LiveEngine live;
    std::string error;
    REQUIRE(live.init(48000, 128, error));
    REQUIRE(live.load_preset(preset, error));
    live.note_on(0, 1.0, 0.0);
    Vec out(48000);
    const int changed_at = 9600;  // a multiple of 128
    run(live, out, 0, changed_at);
    REQUIRE(live.set_params({{"amplitude", {0.2}}}, error));
    run(live, out, changed_at);
    // Peak over one period (5 ms at 200 Hz) before, and 10 ms after the change.
    const double before = double(out.segment(changed_at - 480, 240).abs().maxCoeff());
    const double after = double(out.segment(changed_at + 480, 240).abs().maxCoeff());
    CHECK(before == doctest::Approx(0.8).epsilon(0.02));
    CHECK(after == doctest::Approx(0.2).epsilon(0.02));
    // No step larger than the waveform's own slope plus the glide's.
    double max_step = 0;
    for (int i = changed_at - 200; i < changed_at + 1000; ++i) max_step = std::max(max_step, double(std::abs(out[i + 1] - out[i])));
    CHECK(max_step < 0.8 * 2 * kPi * 200 / 48000 * 1.2);
}

TEST_CASE("absurd values: NaN is refused, huge values are clamped, the output stays finite and within 1") {
    const synth::StreamPreset preset = preset_for("ks", {}, 1.0);
    engine::LiveEngine live;
    std::string error;
    REQUIRE(live.init(44100, 128, error));
    REQUIRE(live.load_preset(preset, error));
    CHECK_FALSE(live.set_params({{"decay_s", {std::nan("")}}}, error));
    CHECK(error.find("decay_s") != std::string::npos);
    CHECK_FALSE(live.set_params({{"no_such_thing", {1}}}, error));
    CHECK_FALSE(live.set_params({{"decay_s", {1, 2, 3}}}, error));
    CHECK(live.set_params({{"decay_s", {1e30}}, {"exc_gain_db", {1e9}}, {"f0_hz", {-5}}}, error));
    for (int k = 0; k < 8; ++k) live.note_on(40 + 7 * k, 1.0);
    live.note_on(127, 1e9);
    live.note_on(-3, 1.0);
    live.note_on(64, std::nan(""));
    Vec out(44100);
    run(live, out);
    CHECK(out.allFinite());
    CHECK(out.abs().maxCoeff() <= 1.0f);
    CHECK(live.stats().non_finite == 0);
}

TEST_CASE("polyphony: eight held notes, the ninth steals the oldest; note-off releases") {
    const synth::StreamPreset preset = preset_for("sine", {{"amplitude", {0.1}}}, 1.0);
    engine::LiveEngine live;
    std::string error;
    REQUIRE(live.init(48000, 128, error));
    REQUIRE(live.load_preset(preset, error));
    Vec out(128);
    for (int k = 0; k < 9; ++k) {
        live.note_on(60 + k, 0.5);
        live.process(nullptr, out.data(), 128);
    }
    CHECK(live.stats().steals == 1);
    CHECK(live.stats().voices_active == 9);  // the stolen one still fading
    for (int i = 0; i < 10; ++i) live.process(nullptr, out.data(), 128);
    CHECK(live.stats().voices_active == 8);
    for (int k = 0; k < 9; ++k) live.note_off(60 + k);
    for (int i = 0; i < 20; ++i) live.process(nullptr, out.data(), 128);
    CHECK(live.stats().voices_active == 0);
    CHECK(out.abs().maxCoeff() == 0.0f);
}

TEST_CASE("process() allocates nothing: notes, slider glides and voice steals included") {
    for (const char* name : {"sine", "ks", "drum808", "drum"}) {
        CAPTURE(name);
        const synth::StreamPreset preset = preset_for(name, {}, 1.0);
        engine::LiveEngine live;
        std::string error;
        REQUIRE(live.init(44100, 128, error));
        REQUIRE(live.load_preset(preset, error));
        const synth::ParamValues change = {{preset.table[0].name, {preset.table[0].default_value * 1.1}}};
        Vec out(128);
        g_allocations = 0;
        g_counting = true;
        for (int q = 0; q < 2000; ++q) {
            if (q % 50 == 0) live.note_on(40 + (q / 50) % 40, 0.7);
            if (q % 50 == 25) live.note_off(40 + (q / 50) % 40);
            live.process(nullptr, out.data(), 128);
        }
        g_counting = false;
        CHECK(g_allocations.load() == 0);
        REQUIRE(live.set_params(change, error));  // allocates (message handler), then glides:
        g_allocations = 0;
        g_counting = true;
        for (int q = 0; q < 100; ++q) live.process(nullptr, out.data(), 128);
        g_counting = false;
        CHECK(g_allocations.load() == 0);
    }
}

TEST_CASE("NaturalSpline draws ad::upsample(cubic)'s curve") {
    dsp::Rng rng(5);
    Arr frames = random_arr_local(rng, 16);
    ad::Tape tape;
    const ad::Var x = tape.constant(frames);
    const ad::Var up = ad::upsample(x, 16000, ad::Interp::cubic);
    tape.forward();
    synth::NaturalSpline s;
    s.fit(frames.data(), 16);
    double err = 0;
    for (int i = 0; i < 16000; ++i)
        err = std::max(err, double(std::abs(s.at(double(i) * 15 / 15999.0) - tape.value(up.id)(i, 0))));
    CHECK(err < 1e-6);
}
