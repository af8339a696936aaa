// DiffKS's autoencoder (nn/ks_autoencoder.h): training lowers the validation loss, resume is exact,
// the supervised variant recovers synthetic strings' parameters better than a fixed guess, and the
// model file round-trips and refuses bad files.
#include <doctest/doctest.h>

#include "nn/ks_autoencoder.h"
#include "synth/ks.h"

#include <cmath>
#include <string>
#include <vector>

using namespace ddsp;

namespace {

// A random, realistic pluck's parameters (as the synthetic set draws them) and its render.
nn::KsClip synthetic_clip(const nn::KsAutoencoder& model, dsp::Rng& rng, const std::string& split) {
    const auto& table = model.table();
    synth::ParamValues v = synth::default_values(table);
    const int F = model.config().ks.control_frames;
    const double f0 = 82.4 * std::pow(2.0, rng.uniform(0, 3));
    v["f0_hz"] = {f0};
    const double decay = std::exp(rng.uniform(std::log(0.3), std::log(4.0)));
    for (int f = 0; f < F; ++f) v["decay_s"][size_t(f)] = decay * (1 - 0.3 * f / double(F));
    const double bright = rng.uniform(0, 1);
    for (int f = 0; f < F; ++f) {
        v["loop_tap0"][size_t(f)] = 0.25 + 0.3 * bright;
        v["loop_tap1"][size_t(f)] = 0.5;
        v["loop_tap2"][size_t(f)] = 0.25 - 0.2 * bright;
    }
    for (double& r : v["exc_reflection"]) r = rng.uniform(-0.5, 0.5);
    v["exc_gain_db"] = {rng.uniform(-30, -10)};
    nn::KsClip c;
    c.split = split;
    c.f0_hz = c.note_f0_hz = f0;
    std::string error;
    REQUIRE_MESSAGE(model.to_unconstrained(v, c.u_true, error), error);
    auto synth = synth::make_ks_synth(model.config().ks);
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = model.config().sample_rate_hz;
    cfg.num_samples = model.num_samples();
    REQUIRE(synth::render(*synth, v, cfg, c.audio, error));
    REQUIRE(model.features(c.audio, c.features, error));
    return c;
}

nn::KsAutoencoderConfig small_config(nn::KsVariant variant) {
    nn::KsAutoencoderConfig c;
    c.variant = variant;
    c.seconds = 0.5;
    c.hidden = 24;
    c.ks.control_frames = 4;
    return c;
}

std::vector<float> weights_of(const nn::KsAutoencoder& m) {
    std::vector<float> w;
    for (const nn::Param& p : m.store().params())
        for (Eigen::Index i = 0; i < p.var.value().size(); ++i) w.push_back(float(p.var.value().data()[i]));
    return w;
}

}  // namespace

TEST_CASE("ks autoencoder (meta): training on strings lowers the validation loss; resume is exact") {
    const nn::KsAutoencoderConfig cfg = small_config(nn::KsVariant::meta);
    nn::KsTrainOptions opt;
    opt.steps = 40;
    opt.batch = 2;
    opt.learning_rate = 3e-3;
    nn::KsTrainer trainer(cfg, opt);
    dsp::Rng rng(7);
    std::vector<nn::KsClip> train, valid;
    for (int i = 0; i < 10; ++i) train.push_back(synthetic_clip(trainer.model(), rng, "train"));
    for (int i = 0; i < 4; ++i) valid.push_back(synthetic_clip(trainer.model(), rng, "valid"));
    std::vector<const nn::KsClip*> vp;
    for (const auto& c : valid) vp.push_back(&c);
    const double before = trainer.evaluate(vp);
    std::vector<uint8_t> bytes;
    std::string error;
    std::vector<double> losses;
    for (int s = 0; s < opt.steps; ++s) {
        losses.push_back(trainer.step(train));
        if (s == 19) REQUIRE(nn::safetensors_encode(trainer.checkpoint(), bytes, error));
    }
    const double after = trainer.evaluate(vp);
    MESSAGE("ks-ae meta: validation MR-STFT " << before << " -> " << after << " in " << opt.steps << " steps");
    CHECK(after < 0.9 * before);

    // Resume at step 20 in a fresh trainer: the same losses and weights as straight through.
    nn::KsTrainer resumed(cfg, opt);
    nn::TensorFile file;
    REQUIRE(nn::safetensors_read_memory(bytes.data(), bytes.size(), file, error));
    REQUIRE_MESSAGE(resumed.restore(file, error), error);
    CHECK(resumed.step_count() == 20);
    for (int s = 20; s < opt.steps; ++s) CHECK(resumed.step(train) == losses[size_t(s)]);
    CHECK(weights_of(resumed.model()) == weights_of(trainer.model()));
}

TEST_CASE("ks autoencoder (sup): recovers synthetic strings' parameters better than the best fixed guess") {
    const nn::KsAutoencoderConfig cfg = small_config(nn::KsVariant::sup);
    nn::KsTrainOptions opt;
    opt.steps = 1000;
    opt.batch = 8;
    opt.learning_rate = 1e-2;
    nn::KsTrainer trainer(cfg, opt);
    dsp::Rng rng(9);
    std::vector<nn::KsClip> train, test;
    for (int i = 0; i < 200; ++i) train.push_back(synthetic_clip(trainer.model(), rng, "train"));
    for (int i = 0; i < 24; ++i) test.push_back(synthetic_clip(trainer.model(), rng, "test"));
    for (int s = 0; s < opt.steps; ++s) trainer.step(train);
    // Parameter error (mean squared, unconstrained, over the predicted entries) of the model and of
    // the best fixed guess (the training set's mean parameters).
    const nn::KsAutoencoder& m = trainer.model();
    ad::Tape tape(ad::Tape::Mode::forward_only);
    std::string error;
    auto copy = nn::load_ks_autoencoder(tape, m.to_file(), error);
    REQUIRE_MESSAGE(copy, error);
    Vec u_mean = Vec::Zero(m.num_params());
    for (const nn::KsClip& c : train) u_mean += c.u_true / Real(train.size());
    double model_err = 0, mean_err = 0;
    for (const nn::KsClip& c : test) {
        const Vec u = Vec(copy->encode(c.features, c.f0_hz).value().col(0));
        for (int i : m.predicted()) {

            model_err += std::pow(double(u[i] - c.u_true[i]), 2);
            mean_err += std::pow(double(u_mean[i] - c.u_true[i]), 2);
        }
    }
    model_err /= double(test.size() * m.predicted().size());
    mean_err /= double(test.size() * m.predicted().size());
    MESSAGE("ks-ae sup: test parameter MSE " << model_err << " (the training mean: " << mean_err << ")");
    CHECK(model_err < 0.6 * mean_err);
}

TEST_CASE("ks autoencoder: the model file round-trips; other files are refused with one line") {
    ad::Tape tape;
    nn::KsAutoencoder m(tape, small_config(nn::KsVariant::tracker), 4);
    std::string error;
    ad::Tape tape2;
    auto back = nn::load_ks_autoencoder(tape2, m.to_file(), error);
    REQUIRE_MESSAGE(back, error);
    CHECK(back->config().variant == nn::KsVariant::tracker);
    CHECK(weights_of(*back) == weights_of(m));
    nn::TensorFile bad;
    CHECK_FALSE(nn::load_ks_autoencoder(tape2, bad, error));
    CHECK(error.find("not a ks autoencoder") != std::string::npos);
    nn::TensorFile wrong = m.to_file();
    wrong.tensors.pop_back();
    CHECK_FALSE(nn::load_ks_autoencoder(tape2, wrong, error));
    CHECK(error.find("missing parameter") != std::string::npos);
    CHECK(error.find('\n') == std::string::npos);
}
