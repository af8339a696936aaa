// The DDSP decoder in double precision: central-difference gradients of a waveform loss and of a
// small MR-STFT loss w.r.t. z and a sample of every weight, and concat_cols on its own.
#include <doctest/doctest.h>

#include "ad/gradcheck.h"
#include "ad/ops.h"
#include "match/loss.h"
#include "nn/decoder.h"
#include "test_util.h"

#include <cmath>
#include <string>

using namespace ddsp;
using ad::Var;
using test::random_arr;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

namespace {

nn::DecoderConfig tiny_config() {
    nn::DecoderConfig c;
    c.z_dims = 3;
    c.hidden = 8;
    c.mlp_layers = 2;
    c.gru_units = 8;
    c.harmonics = 6;
    c.noise_bands = 5;
    return c;
}

// 0.05 s: f0 gliding 200 -> 300 Hz, loudness -40 -> -20 dB.
void conditioning(const nn::Decoder& dec, int n, Vec& f0_hz, Vec& loudness_db) {
    const int frames = dec.num_frames(n);
    f0_hz.resize(frames);
    loudness_db.resize(frames);
    for (int f = 0; f < frames; ++f) {
        f0_hz[f] = 200 + 100.0 * f / (frames - 1);
        loudness_db[f] = -40 + 20.0 * f / (frames - 1);
    }
}

std::vector<Var> leaves_of(const nn::Decoder& dec, Var z) {
    std::vector<Var> leaves = {z};
    for (const nn::Param& p : dec.params()) leaves.push_back(p.var);
    return leaves;
}

void check(const char* name, ad::Tape& tape, Var loss, const std::vector<Var>& leaves, int max_elements) {
    ad::GradCheckParams gp;
    gp.max_elements = max_elements;  // an evenly spaced subset of each weight
    gp.rtol = 1e-4;
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, leaves, gp);
    INFO(std::string(name), ": ", r.worst, " (checked ", r.checked, ", max rel error ", r.max_rel_error, ")");
    CHECK(r.ok);
    CHECK(r.checked > 50);
}

}  // namespace

TEST_CASE("concat_cols gradients") {
    dsp::Rng rng(1);
    ad::Tape tape;
    const Var a = tape.variable(random_arr(rng, 4, 2)), b = tape.variable(random_arr(rng, 4, 3));
    const Var y = nn::concat_cols({a, b, a});
    REQUIRE(y.cols() == 7);
    CHECK(y.value()(2, 3) == b.value()(2, 1));
    CHECK(y.value()(3, 6) == a.value()(3, 1));
    const Var loss = ad::sum(ad::square(y) * tape.constant(random_arr(rng, 4, 7, 0.5, 1.5)));
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, {a, b});
    INFO(r.worst);
    CHECK(r.ok);
}

TEST_CASE("decoder gradients w.r.t. z and weights (waveform and MR-STFT losses)") {
    dsp::Rng rng(2);
    ad::Tape tape;
    nn::Decoder dec(tape, tiny_config(), 5);
    // Move biases, gains and the output layer off their initial values so every path counts.
    for (const nn::Param& p : dec.params())
        tape.mutable_value(p.var) += Arr(random_arr(rng, p.var.rows(), p.var.cols(), -0.2, 0.2));
    const int n = 800;
    Vec f0_hz, loudness_db;
    conditioning(dec, n, f0_hz, loudness_db);
    const Var z = tape.variable(random_arr(rng, 1, 3));
    const Var audio = dec.forward(tape, f0_hz, loudness_db, z, n);
    REQUIRE(audio.rows() == n);
    const Arr target = random_arr(rng, n, 1, -0.05, 0.05);
    const Var mse = ad::mean(ad::square(audio - tape.constant(target)));
    check("mse", tape, mse, leaves_of(dec, z), 12);

    match::MrStftParams mp;
    mp.fft_sizes = {256, 64};
    // The spectral-convergence term only: the L1 terms' kinks (|S - T| where a bin crosses its
    // target) make central differences unreliable, and the loss itself is checked in test_grad_loss.
    mp.linear_weight = 0;
    mp.log_weight = 0;
    mp.convergence_weight = 1;
    const match::MrStftLoss stft(audio, Vec(target.col(0)), mp);
    check("mrstft", tape, stft.loss(), leaves_of(dec, z), 6);
}
