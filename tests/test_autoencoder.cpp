// The DDSP autoencoder (float core): model files round-trip and bad ones are refused, training
// lowers the loss and resumes exactly from a checkpoint, the latent space summary is well formed,
// and fine-tuning the shipped model on a string it never heard lowers the loss on a held-out note.
#include <doctest/doctest.h>

#include "dsp/wav.h"
#include "match/loss.h"
#include "util/json.h"
#include "nn/train.h"

#include <algorithm>
#include <cmath>
#include <string>

using namespace ddsp;

namespace {

nn::AutoencoderConfig small_config() {
    nn::AutoencoderConfig c;
    c.decoder.z_dims = 4;
    c.decoder.hidden = 16;
    c.decoder.gru_units = 16;
    c.decoder.harmonics = 16;
    c.decoder.noise_bands = 17;
    c.decoder.use_reverb = true;
    c.decoder.reverb_seconds = 0.05;
    c.encoder_hidden = 16;
    return c;
}

// A plucked string with its own timbre (not in the training set): Karplus-Strong with a
// two-point average in the loop and a bright or dark noise burst.
Vec pluck(double f0_hz, double seconds, double brightness, uint64_t seed) {
    const int sr = 16000, n = int(seconds * sr), delay = int(std::lround(sr / f0_hz));
    dsp::Rng rng(seed);
    std::vector<double> line(static_cast<size_t>(delay));
    double prev = 0;
    for (double& v : line) {
        const double w = rng.uniform(-1, 1);
        prev = brightness * w + (1 - brightness) * prev;
        v = 0.5 * prev;
    }
    Vec y(n);
    double last = 0;
    for (int i = 0; i < n; ++i) {
        const size_t k = size_t(i % delay);
        const double out = line[k];
        line[k] = 0.996 * 0.5 * (out + last);
        last = out;
        y[i] = Real(out);
    }
    return y;
}

nn::TrainClip clip_of(const Vec& audio, const std::string& name, const std::string& instrument,
                      const nn::AutoencoderConfig& cfg) {
    nn::TrainClip c;
    c.name = name;
    c.instrument = instrument;
    c.split = "train";
    c.audio = audio;
    std::string error;
    nn::ConditioningParams as_recorded = cfg.conditioning;
    as_recorded.fit_level = false;  // as load_dataset: training data defines the level range
    REQUIRE(nn::analyse_conditioning(audio, 16000, as_recorded, c.cond, error));
    return c;
}

std::vector<nn::TrainClip> two_instruments(const nn::AutoencoderConfig& cfg) {
    return {clip_of(pluck(220, 0.5, 0.9, 1), "bright_220", "bright", cfg),
            clip_of(pluck(330, 0.5, 0.9, 2), "bright_330", "bright", cfg),
            clip_of(pluck(220, 0.5, 0.2, 3), "dark_220", "dark", cfg),
            clip_of(pluck(330, 0.5, 0.2, 4), "dark_330", "dark", cfg)};
}

}  // namespace

TEST_CASE("conditioning: f0, loudness, centroid and MFCC on the decoder's grid; bad audio refused") {
    const Vec x = pluck(196, 1.0, 0.7, 9);
    nn::Conditioning c;
    std::string error;
    REQUIRE(nn::analyse_conditioning(x, 16000, {}, c, error));
    CHECK(c.f0_hz.size() == 16000 / 64 + 1);
    CHECK(c.loudness_db.size() == c.f0_hz.size());
    CHECK(c.mfcc.rows() == 16000 / 256 + 1);
    CHECK(c.mfcc.cols() == 30);
    CHECK(std::fabs(c.f0_hz[20] - 16000.0 / 82) < 3);  // the delay line's pitch
    CHECK(c.voiced_fraction > 0.5);
    CHECK(!nn::analyse_conditioning(Vec(), 16000, {}, c, error));
    Vec bad = x;
    bad[5] = NAN;
    CHECK(!nn::analyse_conditioning(bad, 16000, {}, c, error));
    CHECK(error.find("non-finite") != std::string::npos);
    REQUIRE(nn::analyse_conditioning(Vec(Vec::Zero(4000)), 16000, {}, c, error));  // silence is fine
    CHECK(c.f0_hz.allFinite());
    CHECK(c.loudness_db.maxCoeff() <= -100);
}

TEST_CASE("model file: weights, config and metadata round-trip; wrong files are refused with a message") {
    ad::Tape ta(ad::Tape::Mode::forward_only), tb(ad::Tape::Mode::forward_only);
    const nn::AutoencoderConfig cfg = small_config();
    nn::Autoencoder a(ta, cfg, 7);
    std::vector<uint8_t> bytes;
    std::string error;
    REQUIRE(nn::safetensors_encode(a.to_file({{"note", "x"}}), bytes, error));
    nn::TensorFile file;
    REQUIRE(nn::safetensors_read_memory(bytes.data(), bytes.size(), file, error));
    CHECK(file.metadata.at("note") == "x");
    std::unique_ptr<nn::Autoencoder> b = nn::load_autoencoder(tb, file, error);
    REQUIRE(b);
    CHECK(nn::autoencoder_config_json(b->config()) == nn::autoencoder_config_json(cfg));
    nn::Conditioning c;
    REQUIRE(nn::analyse_conditioning(pluck(250, 0.3, 0.5, 1), 16000, cfg.conditioning, c, error));
    const Arr z = a.encode_mean(c);
    CHECK((z == b->encode_mean(c)).all());
    CHECK((nn::render_with_latent(a, c, z) == nn::render_with_latent(*b, c, z)).all());

    nn::TensorFile wrong = file;
    wrong.metadata["format"] = "something else";
    CHECK(!nn::load_autoencoder(tb, wrong, error));
    CHECK(error.find("not a ddsp.cpp autoencoder") != std::string::npos);
    wrong = file;
    wrong.metadata["config"] = "{\"z_dims\": 4, \"colour\": 3}";
    CHECK(!nn::load_autoencoder(tb, wrong, error));
    CHECK(error.find("colour") != std::string::npos);
    wrong = file;
    wrong.tensors.pop_back();
    CHECK(!nn::load_autoencoder(tb, wrong, error));
    CHECK(error.find("missing parameter") != std::string::npos);
}

TEST_CASE("a model file whose config claims more weights than it holds is refused before anything is built") {
    // Found by fuzzing: the shipped model with "hidden": 4096, "mlp_layers": 16 in its config made
    // ~2.6 GB of random weights (a minute under ASan) before the weights were compared.
    ad::Tape ta(ad::Tape::Mode::forward_only);
    nn::Autoencoder a(ta, small_config(), 7);
    const nn::TensorFile good = a.to_file();
    std::string error;
    nn::AutoencoderConfig cfg;
    REQUIRE_MESSAGE(nn::read_autoencoder_config(good, cfg, error), error);
    nn::TensorFile bad = good;
    bad.metadata["config"] = "{\"z_dims\": 4, \"hidden\": 4096, \"mlp_layers\": 16, \"gru_units\": 4096}";
    CHECK_FALSE(nn::read_autoencoder_config(bad, cfg, error));
    CHECK(error.find("weights") != std::string::npos);
    ad::Tape tb(ad::Tape::Mode::forward_only);
    CHECK_FALSE(nn::load_autoencoder(tb, bad, error));
    // The shipped model still loads.
    nn::TensorFile shipped;
    REQUIRE(nn::safetensors_read_file(std::string(DDSP_SOURCE_DIR) + "/assets/models/ddsp_gm8.safetensors", shipped, error));
    CHECK_MESSAGE(nn::load_autoencoder(tb, shipped, error) != nullptr, error);
}

TEST_CASE("training lowers the loss, resumes exactly from a checkpoint, and summarises the latent space") {
    const nn::AutoencoderConfig cfg = small_config();
    const std::vector<nn::TrainClip> clips = two_instruments(cfg);
    nn::TrainOptions opt;
    opt.steps = 60;
    opt.batch = 2;
    opt.learning_rate = 3e-3;
    opt.final_learning_rate = 1e-3;
    opt.seed = 5;

    nn::Trainer full(cfg, opt);
    std::vector<const nn::TrainClip*> ptrs;
    for (const nn::TrainClip& c : clips) ptrs.push_back(&c);
    const double before = nn::evaluate(full.model(), ptrs).mrstft;
    double first = 0, last = 0;
    for (int i = 0; i < opt.steps; ++i) {
        const nn::StepResult r = full.step(clips);
        REQUIRE(r.applied);
        if (i < 10) first += r.reconstruction / 10;
        if (i >= opt.steps - 10) last += r.reconstruction / 10;
    }
    const nn::EvalMetrics after = nn::evaluate(full.model(), ptrs);
    MESSAGE("training MR-STFT: first 10 steps ", first, ", last 10 ", last, "; eval ", before, " -> ", after.mrstft);
    CHECK(last < 0.8 * first);
    CHECK(after.mrstft < 0.8 * before);
    CHECK(std::isfinite(after.kl));

    // Interrupted after 25 steps, saved, restored into a fresh trainer, continued: same weights.
    nn::Trainer a(cfg, opt);
    for (int i = 0; i < 25; ++i) a.step(clips);
    std::vector<uint8_t> bytes;
    std::string error;
    REQUIRE(nn::safetensors_encode(a.checkpoint(), bytes, error));
    nn::TensorFile ck;
    REQUIRE(nn::safetensors_read_memory(bytes.data(), bytes.size(), ck, error));
    nn::Trainer b(cfg, opt);
    REQUIRE(b.restore(ck, error));
    CHECK(b.step_count() == 25);
    while (b.step_count() < opt.steps) b.step(clips);
    const auto sa = full.model().state(), sb = b.model().state();
    for (const auto& kv : sa) CHECK((kv.second == sb.at(kv.first)).all());
    CHECK(!b.restore(full.model().to_file(), error));  // weights only: not a checkpoint

    util::JsonValue js;
    REQUIRE(util::json_parse(nn::latent_space_json(full.model(), ptrs), js, error));
    REQUIRE(js.find("instruments"));
    CHECK(js.find("instruments")->array.size() == 2);
    const util::JsonValue& axis = js.find("axes")->array[0];
    double norm = 0;
    for (const auto& v : axis.array) norm += v.number * v.number;
    CHECK(norm == doctest::Approx(1).epsilon(1e-4));
}

TEST_CASE("fine-tuning the shipped model on a new string lowers the loss on a held-out note") {
    nn::TensorFile file;
    std::string error;
    const std::string path = std::string(DDSP_SOURCE_DIR) + "/assets/models/ddsp_gm8.safetensors";
    REQUIRE_MESSAGE(nn::safetensors_read_file(path, file, error), error);
    // A dark string: tuned on its A3, judged on its E4, which fine-tuning never sees.
    const Vec tune_on = pluck(220, 1.0, 0.25, 11), held_out = pluck(330, 1.0, 0.25, 12);
    nn::FineTuneOptions opt;
    opt.learning_rate = 1e-3;
    std::unique_ptr<nn::FineTuner> ft = nn::FineTuner::create(file, tune_on, opt, error);
    REQUIRE_MESSAGE(ft, error);

    ad::Tape base_tape(ad::Tape::Mode::forward_only);
    std::unique_ptr<nn::Autoencoder> base = nn::load_autoencoder(base_tape, file, error);
    REQUIRE(base);
    nn::Conditioning held;
    REQUIRE(nn::analyse_conditioning(held_out, 16000, base->config().conditioning, held, error));
    const match::MrStftParams mp = match::MrStftParams::ddsp();
    const double held_before = match::mrstft_distance(nn::render_with_latent(*base, held, base->encode_mean(held)), held_out, mp);

    const double tune_before = ft->loss();
    for (int i = 0; i < 40; ++i) ft->step();
    const double tune_after = ft->loss();
    CHECK(ft->steps() == 40);
    const double held_after = match::mrstft_distance(nn::render_with_latent(ft->model(), held, ft->z()), held_out, mp);
    MESSAGE("fine-tune: tuned note ", tune_before, " -> ", tune_after, "; held-out note ", held_before, " -> ", held_after);
    CHECK(tune_after < 0.9 * tune_before);
    CHECK(held_after < held_before);
    CHECK(ft->render().allFinite());

    // Bad recordings are refused with a message.
    CHECK(!nn::FineTuner::create(file, Vec(Vec::Zero(16000)), opt, error));
    CHECK(error.find("silent") != std::string::npos);
    CHECK(!nn::FineTuner::create(file, Vec(Vec::Constant(100, 0.1f)), opt, error));
    CHECK(error.find("too short") != std::string::npos);
}

TEST_CASE("the shipped model morphs smoothly between instruments: no jumps along the path between two means") {
    nn::TensorFile file;
    std::string error;
    REQUIRE(nn::safetensors_read_file(std::string(DDSP_SOURCE_DIR) + "/assets/models/ddsp_gm8.safetensors", file, error));
    REQUIRE(file.metadata.count("latent_space"));
    util::JsonValue space;
    REQUIRE(util::json_parse(file.metadata.at("latent_space"), space, error));
    const std::vector<util::JsonValue>& inst = space.find("instruments")->array;
    REQUIRE(inst.size() >= 2);
    ad::Tape tape(ad::Tape::Mode::forward_only);
    std::unique_ptr<nn::Autoencoder> model = nn::load_autoencoder(tape, file, error);
    REQUIRE(model);
    auto mean_of = [&](const util::JsonValue& v) {
        Arr z(1, model->z_dims());
        for (int i = 0; i < model->z_dims(); ++i) z(0, i) = Real(v.find("mean")->array[size_t(i)].number);
        return z;
    };
    // The first and the last instrument (nylon guitar and trumpet in the shipped model), played as a
    // held 220 Hz note with a swell.
    const Arr a = mean_of(inst.front()), b = mean_of(inst.back());
    nn::Conditioning c;
    c.sample_rate_hz = 16000;
    c.num_samples = 16000;
    c.hop = 64;
    const int frames = 16000 / 64 + 1;
    c.f0_hz = Vec::Constant(frames, 220);
    c.loudness_db.resize(frames);
    for (int f = 0; f < frames; ++f) c.loudness_db[f] = Real(-45 + 25 * std::sin(kPi * f / (frames - 1)));
    const int steps = 16;
    const match::MrStftParams mp = match::MrStftParams::ddsp();
    std::vector<double> d;
    Vec prev = nn::render_with_latent(*model, c, a);
    const Vec first = prev;
    for (int s = 1; s <= steps; ++s) {
        const Vec y = nn::render_with_latent(*model, c, Arr(a + (b - a) * Real(double(s) / steps)));
        REQUIRE(y.allFinite());
        d.push_back(match::mrstft_distance(y, prev, mp));
        prev = y;
    }
    const double ends = match::mrstft_distance(prev, first, mp);
    std::vector<double> sorted = d;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2], largest = sorted.back();
    MESSAGE(inst.front().find("name")->string, " -> ", inst.back().find("name")->string, ": end-to-end MR-STFT ", ends,
            ", per 1/16 step median ", median, ", largest ", largest);
    CHECK(ends > 4 * largest);       // the two instruments differ much more than any step
    CHECK(largest < 3.5 * median);   // and no step is a jump
}

TEST_CASE("level fitting: a recording normalised near full scale plays like the levels the model knows") {
    nn::TensorFile file;
    std::string error;
    REQUIRE(nn::safetensors_read_file(std::string(DDSP_SOURCE_DIR) + "/assets/models/ddsp_gm8.safetensors", file, error));
    ad::Tape tape(ad::Tape::Mode::forward_only);
    std::unique_ptr<nn::Autoencoder> model = nn::load_autoencoder(tape, file, error);
    REQUIRE(model);
    dsp::Audio audio;
    REQUIRE(dsp::wav_read_file(std::string(DDSP_SOURCE_DIR) + "/assets/sounds/pluck_nylon_e3.wav", audio, error));
    REQUIRE(audio.sample_rate_hz == 16000);  // the bundled plucks are 16 kHz, peaking at -1 dBFS
    const Vec& x = audio.samples;

    nn::ConditioningParams fit = model->config().conditioning, raw = fit;
    raw.fit_level = false;
    nn::Conditioning cf, cr;
    REQUIRE(nn::analyse_conditioning(x, 16000, fit, cf, error));
    REQUIRE(nn::analyse_conditioning(x, 16000, raw, cr, error));
    CHECK(cr.gain_db == 0);
    CHECK(cf.gain_db < -6);  // peak loudness about -13 dB, fitted to -26 dB
    CHECK(cf.loudness_db.maxCoeff() == doctest::Approx(fit.fit_peak_loudness_hi_db).epsilon(1e-4));
    CHECK((cf.f0_hz == cr.f0_hz).all());

    const match::MrStftParams mp = match::MrStftParams::ddsp();
    const Vec yf = nn::render_with_latent(*model, cf, model->encode_mean(cf));
    const Vec yr = nn::render_with_latent(*model, cr, model->encode_mean(cr));
    const double df = match::mrstft_distance(yf, x, mp), dr = match::mrstft_distance(yr, x, mp);
    const double peak_ratio_db = 20 * std::log10(double(yf.abs().maxCoeff()) / double(x.abs().maxCoeff()));
    MESSAGE("bundled nylon pluck: MR-STFT ", dr, " as recorded -> ", df, " level-fitted; output peak ", peak_ratio_db,
            " dB re input");
    CHECK(df < 0.75 * dr);
    CHECK(std::fabs(peak_ratio_db) < 6);  // the output comes back at the recording's level
}
