// The live engine's decoder path (engine/live.h): the shipped DDSP autoencoder played from a live
// input (timbre transfer, as from the microphone) and from the keyboard, at the device's rate in
// 128-sample quanta. The kernels themselves are tested against offline in test_stream_decoder.cpp
// and test_stream_conditioning.cpp; here: the whole path's pitch, level, latency, continuity and
// allocation.
#include <doctest/doctest.h>

#include "ad/tape.h"
#include "dsp/pitch.h"
#include "engine/live.h"
#include "nn/autoencoder.h"
#include "nn/conditioning.h"
#include "nn/safetensors.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <new>
#include "alloc_counter.h"
#include "live_test_util.h"  // counts operator new: the no-allocation checks

using namespace ddsp;
using live_test::run_input;
using live_test::yin_f0;

using alloc_counter::g_allocations;
using alloc_counter::g_counting;

namespace {

struct Model {
    ad::Tape tape{ad::Tape::Mode::forward_only};
    std::unique_ptr<nn::Autoencoder> model;
};

std::unique_ptr<Model> load_model() {
    auto m = std::make_unique<Model>();
    nn::TensorFile file;
    std::string error;
    REQUIRE_MESSAGE(nn::safetensors_read_file(DDSP_SOURCE_DIR "/assets/models/ddsp_gm8.safetensors", file, error), error);
    m->model = nn::load_autoencoder(m->tape, file, error);
    REQUIRE_MESSAGE(m->model, error);
    return m;
}

// A sung-like tone: harmonics with a 1/k^1.5 slope, 5 Hz vibrato of 20 cents, starting at onset_s
// with a 10 ms attack, at rate sr.
Vec sung(double f0_hz, double seconds, double onset_s, double sr, double level = 0.3) {
    const int n = int(std::lround(seconds * sr));
    Vec x = Vec::Zero(n);
    double phase = 0;
    for (int i = 0; i < n; ++i) {
        const double t = i / sr;
        if (t < onset_s) continue;
        const double f = f0_hz * std::pow(2.0, 0.2 / 12 * std::sin(2 * kPi * 5 * t));
        phase += 2 * kPi * f / sr;
        double s = 0;
        for (int k = 1; k <= 8; ++k) s += std::sin(k * phase) / std::pow(k, 1.5);
        x[i] = Real(level * std::min(1.0, (t - onset_s) / 0.01) * s);
    }
    return x;
}

double rms_db(const Vec& x) { return 10 * std::log10(double(x.square().mean()) + 1e-20); }

}  // namespace

TEST_CASE("live timbre transfer: a sung tone comes out at its pitch, with no underrun, within 30 ms") {
    auto m = load_model();
    for (double sr : {48000.0, 44100.0}) {
        CAPTURE(sr);
        engine::LiveEngine live;
        std::string error;
        REQUIRE(live.init(sr, 128, error));
        REQUIRE_MESSAGE(live.load_model(*m->model, error), error);
        REQUIRE(live.set_source(engine::LiveEngine::Source::decoder_input, error));
        const Vec z = Vec::Zero(m->model->z_dims());
        live.set_z(z.data(), int(z.size()));
        const double onset_s = 0.3;
        const Vec in = sung(196, 2.0, onset_s, sr);
        const Vec out = run_input(live, in);
        CHECK(out.allFinite());
        CHECK(live.stats().decoder_underruns == 0);
        const double latency_ms = live.input_latency_ms();
        MESSAGE("input -> output latency (algorithmic): " << latency_ms << " ms at " << sr << " Hz");
        CHECK(latency_ms <= 30.0);
        // Pitch of the steady part.
        const double f0 = yin_f0(out.segment(Eigen::Index(0.8 * sr), Eigen::Index(0.8 * sr)), sr);
        CHECK(std::abs(f0 / 196 - 1) < 0.01);
        // Silence before the onset stays (nearly) silent; the tone comes out loud enough.
        CHECK(rms_db(out.segment(0, Eigen::Index(0.25 * sr))) < -60);
        CHECK(rms_db(out.segment(Eigen::Index(0.8 * sr), Eigen::Index(0.5 * sr))) > -40);
        // Measured onset delay: where the output's 2 ms energy first reaches -20 dB of its steady level.
        const double steady = rms_db(out.segment(Eigen::Index(0.8 * sr), Eigen::Index(0.5 * sr)));
        const int win = int(0.002 * sr);
        int onset_out = -1;
        for (int i = 0; i + win < out.size() && onset_out < 0; i += win / 2)
            if (rms_db(out.segment(i, win)) > steady - 20) onset_out = i;
        REQUIRE(onset_out > 0);
        const double delay_ms = 1000.0 * (onset_out / sr - onset_s);
        MESSAGE("measured onset delay (to -20 dB of the steady level): " << delay_ms << " ms");
        CHECK(delay_ms > latency_ms - 12);  // the decoder's loudness ramps over a few frames
        CHECK(delay_ms < latency_ms + 25);
    }
}

TEST_CASE("live timbre transfer follows the recording as `ddsp autoencode` does (level and pitch per 20 ms)") {
    auto m = load_model();
    const double model_rate = m->model->config().decoder.sample_rate_hz;
    const double sr = 48000;
    // A two-note phrase with a crescendo.
    Vec in = sung(220, 1.2, 0.1, sr, 0.15) + sung(330, 1.2, 0.7, sr, 0.3);
    in.segment(Eigen::Index(0.7 * sr), Eigen::Index(0.5 * sr)) -= sung(220, 1.2, 0.1, sr, 0.15).segment(Eigen::Index(0.7 * sr), Eigen::Index(0.5 * sr));
    engine::LiveEngine live;
    std::string error;
    REQUIRE(live.init(sr, 128, error));
    REQUIRE(live.load_model(*m->model, error));
    REQUIRE(live.set_source(engine::LiveEngine::Source::decoder_input, error));
    const Vec z = Vec::Zero(m->model->z_dims());
    live.set_z(z.data(), int(z.size()));
    const Vec out = run_input(live, in);
    const int lat = live.input_latency_samples();

    // Offline: the same input at the model's rate, analysed and decoded as a whole clip.
    Vec x;
    REQUIRE(dsp::resample(in, sr, model_rate, x, error));
    nn::Conditioning c;
    REQUIRE(nn::analyse_conditioning(x, model_rate, m->model->config().conditioning, c, error));
    const Vec offline_model = nn::render_with_latent(*m->model, c, Arr::Zero(1, m->model->z_dims()));
    Vec offline;
    REQUIRE(dsp::resample(offline_model, model_rate, sr, offline, error));
    // 20 ms frames over the notes: level within 3 dB (median), pitch within 1 % on each note.
    const int frame = int(0.02 * sr);
    std::vector<double> diffs;
    for (int i = int(0.2 * sr); i + frame < int(1.15 * sr); i += frame) {
        const double a = rms_db(out.segment(i + lat, frame)), b = rms_db(offline.segment(i, frame));
        if (b > -50) diffs.push_back(std::abs(a - b));
    }
    REQUIRE(diffs.size() > 20);
    std::sort(diffs.begin(), diffs.end());
    const double median = diffs[diffs.size() / 2];
    MESSAGE("stream vs offline level per 20 ms: median |diff| " << median << " dB, 90th percentile "
                                                                << diffs[diffs.size() * 9 / 10] << " dB");
    CHECK(median < 3.0);
    CHECK(std::abs(yin_f0(out.segment(Eigen::Index(0.3 * sr) + lat, Eigen::Index(0.3 * sr)), sr) / 220 - 1) < 0.01);
    CHECK(std::abs(yin_f0(out.segment(Eigen::Index(0.85 * sr) + lat, Eigen::Index(0.3 * sr)), sr) / 330 - 1) < 0.01);
}

TEST_CASE("the decoder from the keyboard: the held note's pitch, silence after note-off") {
    auto m = load_model();
    engine::LiveEngine live;
    std::string error;
    const double sr = 48000;
    REQUIRE(live.init(sr, 128, error));
    REQUIRE(live.load_model(*m->model, error));
    REQUIRE(live.set_source(engine::LiveEngine::Source::decoder_keys, error));
    live.note_on(57, 0.9);  // A3
    Vec out = Vec::Zero(Eigen::Index(1.5 * sr));
    const Vec none = Vec::Zero(out.size());
    for (int pos = 0; pos < int(0.8 * sr); pos += 128) live.process(nullptr, out.data() + pos, 128);
    live.note_off(57);
    for (int pos = int(0.8 * sr) / 128 * 128 + 128; pos + 128 <= out.size(); pos += 128)
        live.process(nullptr, out.data() + pos, 128);
    CHECK(std::abs(yin_f0(out.segment(Eigen::Index(0.3 * sr), Eigen::Index(0.4 * sr)), sr) / 220 - 1) < 0.01);
    CHECK(rms_db(out.segment(Eigen::Index(0.3 * sr), Eigen::Index(0.4 * sr))) > -40);
    CHECK(rms_db(out.tail(Eigen::Index(0.2 * sr))) < -55);
    MESSAGE("keyboard -> decoder latency: " << 1000.0 * live.decoder_key_latency_samples() / sr << " ms");
}

TEST_CASE("the decoder path allocates nothing in process(), keeps up at odd block sizes, survives NaN input") {
    auto m = load_model();
    for (int block : {128, 100, 441}) {
        CAPTURE(block);
        engine::LiveEngine live;
        std::string error;
        REQUIRE(live.init(44100, block, error));
        REQUIRE(live.load_model(*m->model, error));
        REQUIRE(live.set_source(engine::LiveEngine::Source::decoder_input, error));
        Vec in = sung(261.6, 3.0, 0.1, 44100);
        for (int i = 50000; i < 50100; ++i) in[i] = std::nanf("");
        in[60000] = Real(1e30);
        Vec out = Vec::Zero(in.size());
        g_allocations = 0;
        g_counting = true;
        for (Eigen::Index pos = 0; pos < in.size(); pos += block) {
            const int mm = int(std::min<Eigen::Index>(block, in.size() - pos));
            live.process(in.data() + pos, out.data() + pos, mm);
        }
        g_counting = false;
        CHECK(g_allocations.load() == 0);
        CHECK(live.stats().decoder_underruns == 0);
        CHECK(out.allFinite());
        CHECK(out.abs().maxCoeff() <= 1.0f);
    }
}
