// Timbre remapping (nn/remap.h): hits found where they are, onset features as defined, a trained
// mapping beating "no modulation" on held-out hits, and the model file.
#include <doctest/doctest.h>

#include "dsp/resample.h"
#include "dsp/wav.h"
#include "engine/live.h"
#include "nn/remap.h"
#include "synth/drum808.h"

#include <cmath>

#include "alloc_counter.h"  // counts operator new: the live path must not allocate

using namespace ddsp;

namespace {

// A performance the 808 itself plays: hits 0.3 s apart, each harder or softer (louder and
// brighter together, as a drummer's), with the true onset times.
Vec performance(int hits, double sr, std::vector<double>& onsets_s, uint64_t seed = 1) {
    auto synth = synth::make_synth("drum808");
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = sr;
    cfg.num_samples = int(0.28 * sr);
    const int spacing = int(0.3 * sr);
    Vec x = Vec::Zero(hits * spacing + int(0.1 * sr));
    dsp::Rng rng(seed);
    for (int k = 0; k < hits; ++k) {
        const double hard = rng.uniform(0, 1);
        synth::ParamValues v = synth::drum808_presets()[0].second;
        v["noise_gain_db"] = {-20 + 16 * hard};
        v["osc1_gain_db"] = {-20 + 12 * hard};
        v["noise_cutoff_hz"] = {1000 * std::pow(4.0, hard)};
        Vec hit;
        std::string error;
        REQUIRE(synth::render(*synth, v, cfg, hit, error));
        const int at = int(0.05 * sr) + k * spacing;
        x.segment(at, hit.size()) += hit;
        onsets_s.push_back(at / sr);
    }
    return x;
}

}  // namespace

TEST_CASE("hits are found within 5 ms of their onsets, in synthetic performances and the bundled drums") {
    nn::RemapParams params;
    std::vector<double> truth;
    const Vec x = performance(10, params.sample_rate_hz, truth);
    std::vector<nn::Hit> hits;
    std::string error;
    REQUIRE(nn::analyse_hits(x, params, hits, error));
    REQUIRE(hits.size() == truth.size());
    for (size_t k = 0; k < hits.size(); ++k) CHECK(std::abs(hits[k].onset_s - truth[k]) < 0.005);
    for (const char* name : {"snare_audiophob_1.wav", "kick_audiophob_1.wav", "tom_audiophob_low.wav", "clap_audiophob_1.wav"}) {
        CAPTURE(name);
        dsp::Audio audio;
        REQUIRE(dsp::wav_read_file(std::string(DDSP_SOURCE_DIR "/assets/sounds/") + name, audio, error));
        const Vec& y = audio.samples;
        const double sr = audio.sample_rate_hz;
        // The hit starts where the signal first comes within 30 dB of its peak.
        const Real peak = y.abs().maxCoeff();
        int first = 0;
        while (first < y.size() && std::abs(y[first]) < peak * Real(0.0316)) ++first;
        nn::RemapParams p;
        p.sample_rate_hz = sr;
        REQUIRE(nn::analyse_hits(y, p, hits, error));
        REQUIRE(!hits.empty());
        CHECK(std::abs(hits[0].onset_s - first / sr) < 0.005);
    }
}

TEST_CASE("onset features match their definitions on synthetic signals") {
    const double sr = 44100;
    const int n = 256;
    std::vector<Real> tone(n), noise(n);
    dsp::Rng rng(2);
    for (int i = 0; i < n; ++i) {
        tone[size_t(i)] = Real(0.5 * std::sin(2 * kPi * 2000 * i / sr));
        noise[size_t(i)] = Real(rng.uniform(-0.5, 0.5));
    }
    const auto t = nn::onset_features(tone.data(), n, 0, n, sr);
    const auto w = nn::onset_features(noise.data(), n, 0, n, sr);
    CHECK(t[0] == doctest::Approx(20 * std::log10(0.5 / std::sqrt(2.0))).epsilon(0.02));  // a sine's RMS
    CHECK(std::pow(2.0, t[1]) * 1000 - 50 == doctest::Approx(2000).epsilon(0.1));        // centroid at the tone
    CHECK(w[2] > -6);           // white noise is flat (0 dB)
    CHECK(t[2] < w[2] - 10);    // a tone is far from flat
    CHECK(w[1] > t[1]);         // white noise is brighter than a 2 kHz tone at 44.1 kHz
}

TEST_CASE("a trained mapping beats no modulation on held-out hits; the model file round-trips") {
    nn::RemapParams params;
    params.sample_rate_hz = 22050;  // a lighter test: the 808 at 22.05 kHz
    std::vector<double> truth;
    const Vec x = performance(16, params.sample_rate_hz, truth, 5);
    std::vector<nn::Hit> hits;
    std::string error;
    REQUIRE(nn::analyse_hits(x, params, hits, error));
    REQUIRE(hits.size() == 16);
    nn::RemapProblem problem;
    const synth::ParamValues preset = synth::drum808_presets()[0].second;
    REQUIRE(problem.init(preset, hits, params, error));
    std::vector<int> train, held;
    for (int i = 0; i < 16; ++i) (i % 4 == 3 ? held : train).push_back(i);
    const auto none = nn::remap_errors(problem, held, nullptr);
    for (nn::RemapModelKind kind : {nn::RemapModelKind::linear, nn::RemapModelKind::mlp}) {
        const std::string model_name = nn::remap_model_name(kind);
        CAPTURE(model_name);
        ad::Tape tape;
        nn::RemapNet net(tape, kind, problem.num_params(), params.max_modulation, 1);
        nn::RemapTrainOptions opt;
        opt.kind = kind;
        opt.steps = 120;
        opt.batch = 6;
        opt.learning_rate = 1e-2;
        std::vector<double> losses;
        nn::train_remap(problem, train, opt, net, losses);
        REQUIRE(losses.size() == 120);
        const auto got = nn::remap_errors(problem, held, &net);
        MESSAGE(model_name << ": held-out loudness error " << got[0] << " dB (none " << none[0]
                                           << "), centroid " << got[1] << " oct (none " << none[1] << ")");
        CHECK(got[0] < none[0]);
        CHECK(got[1] < none[1]);

        // The file: the same modulations after a round trip; bad files refused.
        const nn::TensorFile file = nn::remap_to_file(net, "{}", params);
        nn::RemapModelFile back;
        REQUIRE_MESSAGE(nn::remap_from_file(file, back, error), error);
        ad::Tape tape2;
        auto net2 = nn::make_remap_net(tape2, back, problem.num_params(), error);
        REQUIRE_MESSAGE(net2, error);
        const auto again = nn::remap_errors(problem, held, net2.get());
        for (int j = 0; j < nn::kHitFeatures; ++j) CHECK(again[size_t(j)] == doctest::Approx(got[size_t(j)]).epsilon(1e-5));

        // Playing the performance: a hit at every input onset (within 10 ms), loudnesses ranked as
        // the input's (Spearman's rank correlation).
        Vec played;
        REQUIRE_MESSAGE(nn::remap_render(back, preset, x, hits, played, error), error);
        std::vector<nn::Hit> out_hits;
        REQUIRE(nn::analyse_hits(played, params, out_hits, error));
        REQUIRE(out_hits.size() == hits.size());
        for (size_t k = 0; k < hits.size(); ++k) CHECK(std::abs(out_hits[k].onset_s - hits[k].onset_s) < 0.010);
        auto ranks = [](const std::vector<double>& v) {
            std::vector<double> r(v.size());
            for (size_t i = 0; i < v.size(); ++i)
                for (size_t j = 0; j < v.size(); ++j) r[i] += v[j] < v[i] ? 1 : 0;
            return r;
        };
        std::vector<double> in_l, out_l;
        for (size_t k = 0; k < hits.size(); ++k) {
            in_l.push_back(hits[k].timbre[0]);
            out_l.push_back(out_hits[k].timbre[0]);
        }
        const auto ri = ranks(in_l), ro = ranks(out_l);
        double d2 = 0;
        for (size_t k = 0; k < ri.size(); ++k) d2 += (ri[k] - ro[k]) * (ri[k] - ro[k]);
        const double n = double(ri.size()), rho = 1 - 6 * d2 / (n * (n * n - 1));
        MESSAGE(model_name << ": hit loudness rank correlation, played vs input: " << rho);
        CHECK(rho > 0.8);
    }
    nn::TensorFile bad;
    nn::RemapModelFile out;
    CHECK_FALSE(nn::remap_from_file(bad, out, error));
    CHECK(error.find("not a remap model") != std::string::npos);
}

TEST_CASE("training resumed from a checkpoint continues exactly as if it had not stopped") {
    nn::RemapParams params;
    params.sample_rate_hz = 16000;  // light: the 808 at 16 kHz, short hits
    params.hit_seconds = 0.12;
    std::vector<double> truth;
    const Vec x = performance(7, params.sample_rate_hz, truth, 9);
    std::vector<nn::Hit> hits;
    std::string error;
    REQUIRE(nn::analyse_hits(x, params, hits, error));
    nn::RemapProblem problem;
    REQUIRE(problem.init(synth::drum808_presets()[0].second, hits, params, error));
    std::vector<int> train;
    for (int i = 0; i < int(hits.size()); ++i) train.push_back(i);
    nn::RemapTrainOptions opt;
    opt.batch = 3;  // 7 hits in batches of 3: epochs straddle the checkpoint
    opt.learning_rate = 1e-2;
    opt.seed = 4;
    auto weights = [](const nn::RemapNet& net) {
        std::vector<float> w;
        for (const nn::Param& p : net.store().params())
            for (int i = 0; i < int(p.var.value().size()); ++i) w.push_back(float(p.var.value().data()[i]));
        return w;
    };
    // Straight through: 10 steps.
    ad::Tape tape_a;
    nn::RemapNet net_a(tape_a, nn::RemapModelKind::mlp, problem.num_params(), params.max_modulation, 2);
    nn::RemapTrainer a(problem, train, opt, net_a);
    std::vector<double> loss_a;
    for (int s = 0; s < 10; ++s) loss_a.push_back(a.step());
    // 4 steps, a checkpoint through bytes, a fresh trainer (other seed for its initial weights), 6 more.
    ad::Tape tape_b;
    nn::RemapNet net_b(tape_b, nn::RemapModelKind::mlp, problem.num_params(), params.max_modulation, 2);
    nn::RemapTrainer b(problem, train, opt, net_b);
    for (int s = 0; s < 4; ++s) b.step();
    std::vector<uint8_t> bytes;
    REQUIRE(nn::safetensors_encode(b.checkpoint("{}"), bytes, error));
    nn::TensorFile file;
    REQUIRE(nn::safetensors_read_memory(bytes.data(), bytes.size(), file, error));
    ad::Tape tape_c;
    nn::RemapNet net_c(tape_c, nn::RemapModelKind::mlp, problem.num_params(), params.max_modulation, 99);
    nn::RemapTrainer c(problem, train, opt, net_c);
    REQUIRE_MESSAGE(c.restore(file, error), error);
    CHECK(c.steps() == 4);
    for (int s = 4; s < 10; ++s) CHECK(c.step() == loss_a[size_t(s)]);
    CHECK(weights(net_c) == weights(net_a));
    // The checkpoint also plays as a model; a checkpoint of another kind is refused.
    nn::RemapModelFile model;
    REQUIRE_MESSAGE(nn::remap_from_file(file, model, error), error);
    ad::Tape tape_d;
    nn::RemapNet net_d(tape_d, nn::RemapModelKind::linear, problem.num_params(), params.max_modulation, 2);
    nn::RemapTrainer d(problem, train, opt, net_d);
    CHECK_FALSE(d.restore(file, error));
    CHECK(error.find("'mlp' model") != std::string::npos);
}

TEST_CASE("live remapping: every onset of the input triggers a modulated 808 hit within ~10 ms, allocation-free") {
    nn::RemapParams params;  // 44.1 kHz, as the presets
    std::vector<double> truth;
    Vec x44 = performance(12, params.sample_rate_hz, truth, 9);
    // Every third hit 20 dB softer: a ghost note right after an accent must count too.
    for (size_t k = 1; k < truth.size(); k += 3) {
        const Eigen::Index at = Eigen::Index(std::lround(truth[k] * params.sample_rate_hz));
        x44.segment(at, Eigen::Index(0.3 * params.sample_rate_hz)) *= Real(0.1);
    }
    std::vector<nn::Hit> hits;
    std::string error;
    REQUIRE(nn::analyse_hits(x44, params, hits, error));
    CHECK(hits.size() == truth.size());
    nn::RemapProblem problem;
    const synth::ParamValues preset = synth::drum808_presets()[2].second;
    REQUIRE(problem.init(preset, hits, params, error));
    ad::Tape tape;
    nn::RemapNet net(tape, nn::RemapModelKind::mlp, problem.num_params(), params.max_modulation, 3);
    nn::RemapTrainOptions opt;
    opt.steps = 60;
    std::vector<int> all;
    for (int i = 0; i < int(hits.size()); ++i) all.push_back(i);
    std::vector<double> losses;
    nn::train_remap(problem, all, opt, net, losses);
    const synth::SynthConfig cfg{44100, 1000, 0};
    const std::string preset_json = match::params_to_json("drum808", 44100, 0, preset,
                                                          synth::make_synth("drum808")->param_table(cfg));
    nn::RemapModelFile model;
    REQUIRE(nn::remap_from_file(nn::remap_to_file(net, preset_json, params), model, error));

    // The "microphone" at the device's rate.
    Vec mic;
    REQUIRE(dsp::resample(x44, 44100, 48000, mic, error));
    engine::LiveEngine live;
    REQUIRE(live.init(48000, 128, error));
    REQUIRE_MESSAGE(live.load_remap(model, error), error);
    REQUIRE(live.set_source(engine::LiveEngine::Source::remap_input, error));
    Vec out = Vec::Zero(mic.size());
    alloc_counter::g_allocations = 0;
    alloc_counter::g_counting = true;
    for (Eigen::Index pos = 0; pos < mic.size(); pos += 128) {
        const int n = int(std::min<Eigen::Index>(128, mic.size() - pos));
        live.process(mic.data() + pos, out.data() + pos, n);
    }
    alloc_counter::g_counting = false;
    CHECK(alloc_counter::g_allocations.load() == 0);
    CHECK(live.stats().onsets == long(truth.size()));
    nn::RemapParams p48 = params;
    p48.sample_rate_hz = 48000;
    std::vector<nn::Hit> out_hits;
    REQUIRE(nn::analyse_hits(out, p48, out_hits, error));
    REQUIRE(out_hits.size() == truth.size());
    double worst_ms = 0, mean_ms = 0;
    for (size_t k = 0; k < truth.size(); ++k) {
        const double delay_ms = 1000 * (out_hits[k].onset_s - truth[k]);
        worst_ms = std::max(worst_ms, delay_ms);
        mean_ms += delay_ms / double(truth.size());
        CHECK(delay_ms > 0);
    }
    MESSAGE("live remap: onset to sound " << mean_ms << " ms mean, " << worst_ms << " ms worst (stated: "
                                          << 1000.0 * live.remap_latency_samples() / 48000 << " ms + detection)");
    CHECK(worst_ms < 12.0);
}
