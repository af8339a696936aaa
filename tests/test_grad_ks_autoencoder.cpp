// DiffKS's autoencoder in double precision: central-difference gradients of the whole loss (the
// encoder, the string as decoder, the DiffKS multi-resolution STFT loss; and the parameter loss of
// the supervised variant) w.r.t. every weight.
#include <doctest/doctest.h>

#include "ad/gradcheck.h"
#include "ad/ops.h"
#include "nn/ks_autoencoder.h"
#include "test_util.h"

#include <cmath>
#include <string>

using namespace ddsp;
using test::random_arr;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

namespace {

nn::KsAutoencoderConfig tiny_config(nn::KsVariant variant) {
    nn::KsAutoencoderConfig c;
    c.variant = variant;
    c.sample_rate_hz = 8000;
    c.seconds = 0.13;  // 1040 samples
    c.mfcc_coefficients = 6;
    c.hop = 128;
    c.hidden = 5;
    c.ks.control_frames = 3;
    c.ks.exc_order = 2;
    return c;
}

void check_model_gradients(nn::KsVariant variant) {
    dsp::Rng rng(5);
    ad::Tape tape;
    nn::KsAutoencoder model(tape, tiny_config(variant), 3);
    for (const nn::Param& p : model.store().params())
        tape.mutable_value(p.var) += Arr(random_arr(rng, p.var.rows(), p.var.cols(), -0.2, 0.2));
    nn::KsClip clip;
    clip.audio = Vec(model.num_samples());
    for (int i = 0; i < clip.audio.size(); ++i)
        clip.audio[i] = Real(0.3 * std::exp(-i / 400.0) * std::sin(2 * kPi * 330 * i / 8000.0) + 0.01 * rng.normal());
    std::string error;
    REQUIRE(model.features(clip.audio, clip.features, error));
    clip.f0_hz = 330;
    if (variant == nn::KsVariant::sup) clip.u_true = Vec(random_arr(rng, model.num_params(), 1, -1, 1));
    const ad::Var loss = nn::ks_clip_loss(model, clip);
    std::vector<ad::Var> leaves;
    for (const nn::Param& p : model.store().params()) leaves.push_back(p.var);
    ad::GradCheckParams gp;
    gp.max_elements = 6;
    gp.rtol = 1e-4;
    gp.atol = 1e-7;
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, leaves, gp);
    INFO(r.worst, " (checked ", r.checked, ", max rel error ", r.max_rel_error, ")");
    CHECK(r.ok);
    CHECK(r.checked > 40);
    for (const nn::Param& p : model.store().params())
        if (p.name == "ks_encoder.gru.w_i") CHECK(p.var.grad().abs().maxCoeff() > 0);
}

}  // namespace

TEST_CASE("ks autoencoder (meta): the spectral loss's gradient through the string w.r.t. every weight") {
    check_model_gradients(nn::KsVariant::meta);
}

TEST_CASE("ks autoencoder (sup): the parameter loss's gradient w.r.t. every weight") {
    check_model_gradients(nn::KsVariant::sup);
}
