// The DDSP decoder (float core): output shape and determinism, loading checkpoints, overfitting
// one harmonic tone with Adam on the MR-STFT loss, and smoothness of the output in z.
#include <doctest/doctest.h>

#include "ad/adam.h"
#include "ad/ops.h"
#include "match/loss.h"
#include "nn/decoder.h"

#include <chrono>
#include <cmath>
#include <string>

using namespace ddsp;
using ad::Var;

namespace {

void constant_conditioning(const nn::Decoder& dec, int n, double f0_hz, double loudness_db, Vec& f0, Vec& ld) {
    const int frames = dec.num_frames(n);
    f0 = Vec::Constant(frames, Real(f0_hz));
    ld = Vec::Constant(frames, Real(loudness_db));
}

Arr random_z(uint64_t seed, int dims, double scale = 1) {
    dsp::Rng rng(seed);
    Arr z(1, dims);
    for (int i = 0; i < dims; ++i) z(0, i) = Real(scale * rng.normal());
    return z;
}

Vec render(uint64_t seed, const Arr& z, int n) {
    ad::Tape tape(ad::Tape::Mode::forward_only);
    nn::Decoder dec(tape, nn::DecoderConfig{}, seed);
    Vec f0, ld;
    constant_conditioning(dec, n, 220, -30, f0, ld);
    return Vec(dec.forward(tape, f0, ld, tape.constant(z), n).value().col(0));
}

}  // namespace

TEST_CASE("decoder: 1 s of frames gives 16000 finite samples, deterministic for a seed") {
    const int n = 16000;
    const Arr z = random_z(3, 8);
    const Vec a = render(1, z, n), b = render(1, z, n), c = render(2, z, n);
    REQUIRE(a.size() == n);
    CHECK(a.allFinite());
    CHECK(a.abs().maxCoeff() > 1e-4);
    CHECK((a == b).all());
    CHECK((a - c).abs().maxCoeff() > 1e-4);

    ad::Tape tape;
    nn::Decoder dec(tape, nn::DecoderConfig{}, 1);
    CHECK(dec.num_frames(n) == 251);
    MESSAGE("default decoder: ", dec.num_values(), " parameters in ", dec.params().size(), " tensors");
}

TEST_CASE("decoder: load checks names and shapes, all or nothing") {
    ad::Tape ta, tb;
    nn::Decoder a(ta, nn::DecoderConfig{}, 1), b(tb, nn::DecoderConfig{}, 2);
    std::string error;
    std::map<std::string, Arr> state = a.state();
    state["decoder.out.b"] = Arr::Zero(1, 3);
    const Arr before = b.params()[0].var.value();
    CHECK(!b.load(state, error));
    CHECK(error.find("decoder.out.b") != std::string::npos);
    CHECK((b.params()[0].var.value() == before).all());
    state = a.state();
    state["decoder.extra"] = Arr::Zero(1, 1);
    CHECK(!b.load(state, error));
    state.erase("decoder.extra");
    state.erase("decoder.gru.w_h");
    CHECK(!b.load(state, error));
    REQUIRE(b.load(a.state(), error));
    for (size_t i = 0; i < a.params().size(); ++i) CHECK((a.params()[i].var.value() == b.params()[i].var.value()).all());
}

TEST_CASE("decoder overfits one harmonic tone (MR-STFT loss halves within 150 Adam steps)") {
    const int n = 8000;  // 0.5 s
    const double f0_hz = 220;
    Vec target(n);
    for (int i = 0; i < n; ++i) {
        double s = 0;
        for (int k = 1; k <= 8; ++k) s += std::sin(2 * M_PI * k * f0_hz * i / 16000.0) * 0.2 / k;
        target[i] = Real(s);
    }
    nn::DecoderConfig cfg;
    cfg.hidden = 32;
    cfg.gru_units = 32;
    cfg.harmonics = 20;
    ad::Tape tape;
    nn::Decoder dec(tape, cfg, 1);
    Vec f0, ld;
    constant_conditioning(dec, n, f0_hz, -20, f0, ld);
    const Var z = tape.variable(random_z(5, cfg.z_dims, 0.1));
    const Var audio = dec.forward(tape, f0, ld, z, n);
    const match::MrStftLoss loss(audio, target, match::MrStftParams::ddsp());
    ad::Adam adam(ad::AdamParams{3e-3});
    dec.store().add_to(adam);
    const double initial = loss.loss().item();
    double best = initial;
    int steps_to_half = -1;
    const int steps = 150;
    const auto t0 = std::chrono::steady_clock::now();
    for (int step = 1; step <= steps; ++step) {
        tape.backward(loss.loss());
        adam.step();
        tape.forward();
        best = std::min(best, double(loss.loss().item()));
        if (steps_to_half < 0 && best < 0.5 * initial) steps_to_half = step;
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("overfit: MR-STFT ", initial, " -> ", loss.loss().item(), " (best ", best, ", halved at step ",
            steps_to_half, ", ", ms / steps, " ms/step)");
    CHECK(std::isfinite(best));
    CHECK(steps_to_half > 0);
}

TEST_CASE("decoder output moves smoothly with z") {
    const int n = 8000;
    const Arr z0 = random_z(7, 8);
    Arr d = random_z(8, 8);
    d /= Real(std::sqrt(d.square().sum()));
    const Vec base = render(1, z0, n);
    const match::MrStftParams mp = match::MrStftParams::ddsp();
    double prev = 0;
    for (double step : {1e-3, 2e-3, 4e-3}) {
        const double dist = match::mrstft_distance(render(1, z0 + Real(step) * d, n), base, mp);
        MESSAGE("z step ", step, ": MR-STFT distance ", dist);
        CHECK(dist > 0);
        CHECK(dist < 0.1);
        if (prev > 0) {
            CHECK(dist / prev > 1.5);
            CHECK(dist / prev < 3.0);
        }
        prev = dist;
    }
}

TEST_CASE("decoder forward + backward time for 4 s of audio") {
    const int n = 64000;
    ad::Tape tape;
    nn::Decoder dec(tape, nn::DecoderConfig{}, 1);
    Vec f0, ld;
    constant_conditioning(dec, n, 220, -30, f0, ld);
    const Var z = tape.variable(random_z(3, 8));
    const Var audio = dec.forward(tape, f0, ld, z, n);
    const Var loss = ad::mean(ad::square(audio));
    tape.backward(loss);  // warm up (allocates)
    const auto t0 = std::chrono::steady_clock::now();
    const int reps = 3;
    for (int r = 0; r < reps; ++r) {
        tape.forward();
        tape.backward(loss);
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
    MESSAGE("4 s forward + backward (waveform loss): ", ms, " ms");
    CHECK(tape.grad(z.id).allFinite());

    Vec target(n);
    for (int i = 0; i < n; ++i) target[i] = Real(0.1 * std::sin(2 * M_PI * 220 * i / 16000.0));
    const match::MrStftLoss stft(audio, target, match::MrStftParams::ddsp());
    tape.backward(stft.loss());
    const auto t1 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) {
        tape.forward();
        tape.backward(stft.loss());
    }
    const double ms2 = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count() / reps;
    MESSAGE("4 s forward + backward (decoder + DDSP MR-STFT loss): ", ms2, " ms");
    CHECK(tape.grad(z.id).allFinite());
}
