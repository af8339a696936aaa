// The autoencoder in double precision: central-difference gradients through the encoder (MFCC ->
// GRU -> Gaussian z with the reparameterisation trick and the KL term) and the decoder's trainable
// reverb, w.r.t. every weight.
#include <doctest/doctest.h>

#include "ad/gradcheck.h"
#include "ad/ops.h"
#include "nn/autoencoder.h"
#include "test_util.h"

#include <string>

using namespace ddsp;
using ad::Var;
using test::random_arr;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

namespace {

nn::AutoencoderConfig tiny_config() {
    nn::AutoencoderConfig c;
    c.decoder.z_dims = 3;
    c.decoder.hidden = 6;
    c.decoder.gru_units = 6;
    c.decoder.harmonics = 5;
    c.decoder.noise_bands = 5;
    c.decoder.use_reverb = true;
    c.decoder.reverb_seconds = 0.004;  // 64 taps
    c.decoder.use_centroid = true;
    c.encoder_hidden = 5;
    c.conditioning.mfcc_coefficients = 7;
    c.kl_weight = 0.3;
    return c;
}

}  // namespace

TEST_CASE("KL divergence: 0 at the prior, the closed form elsewhere") {
    ad::Tape tape;
    Arr mu(1, 2), lv(1, 2);
    mu << 0, 0;
    lv << 0, 0;
    CHECK(nn::kl_divergence({tape.constant(mu), tape.constant(lv)}).item() == doctest::Approx(0));
    mu << 1, -2;
    lv << std::log(0.5), std::log(4.0);
    // 0.5 * sum(mu^2 + s^2 - log s^2 - 1) = 0.5 * ((1 + 0.5 + 0.693 - 1) + (4 + 4 - 1.386 - 1))
    const double expected = 0.5 * ((1 + 0.5 - std::log(0.5) - 1) + (4 + 4 - std::log(4.0) - 1));
    CHECK(nn::kl_divergence({tape.constant(mu), tape.constant(lv)}).item() == doctest::Approx(expected));
}

TEST_CASE("autoencoder gradients w.r.t. every encoder and decoder weight (MSE + KL, sampled z, reverb)") {
    dsp::Rng rng(3);
    ad::Tape tape;
    const nn::AutoencoderConfig cfg = tiny_config();
    nn::Autoencoder model(tape, cfg, 2);
    for (const nn::Param& p : model.params())
        tape.mutable_value(p.var) += Arr(random_arr(rng, p.var.rows(), p.var.cols(), -0.2, 0.2));
    // The reverb starts at +-1e-4; make it matter in the check.
    for (const nn::Param& p : model.params())
        if (p.name == "decoder.reverb.ir") tape.mutable_value(p.var) = random_arr(rng, p.var.rows(), 1, -0.3, 0.3);

    const int n = 640;
    nn::Conditioning c;
    c.sample_rate_hz = 16000;
    c.num_samples = n;
    c.hop = 64;
    const int frames = n / 64 + 1;
    c.f0_hz.resize(frames);
    c.loudness_db.resize(frames);
    c.centroid_hz.resize(frames);
    for (int f = 0; f < frames; ++f) {
        c.f0_hz[f] = 180 + 10.0 * f;
        c.loudness_db[f] = -35 + 1.5 * f;
        c.centroid_hz[f] = 900 + 40.0 * f;
    }
    c.mfcc = random_arr(rng, 4, 7, -20, 20);
    const Arr eps = random_arr(rng, 1, 3);
    const nn::Autoencoder::Output o = model.forward(tape, c, &eps);
    REQUIRE(o.audio.rows() == n);
    const Var target = tape.constant(random_arr(rng, n, 1, -0.05, 0.05));
    const Var loss = ad::mean(ad::square(o.audio - target)) + o.kl * Real(cfg.kl_weight);

    std::vector<Var> leaves;
    for (const nn::Param& p : model.params()) leaves.push_back(p.var);
    ad::GradCheckParams gp;
    gp.max_elements = 8;
    gp.rtol = 1e-4;
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, leaves, gp);
    INFO(r.worst, " (checked ", r.checked, ", max rel error ", r.max_rel_error, ")");
    CHECK(r.ok);
    CHECK(r.checked > 100);
    // The KL pulls on the encoder: its output layer has a gradient even through the mean alone.
    for (const nn::Param& p : model.params())
        if (p.name == "encoder.out.w") CHECK(p.var.grad().abs().maxCoeff() > 0);
}
