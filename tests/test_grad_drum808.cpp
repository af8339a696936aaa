// drum808's own gradients against central differences in double precision, at every preset and at
// points near the ends of the parameter ranges (high Q, cutoffs near 20 Hz and near the top, full
// drive, negative pitch depths). The loss is a fixed random projection of the audio: smooth, so
// any mismatch is the synth's (biquad coefficients, all-pole filter, envelopes, phase), not kinks
// of a spectral loss. tests/test_grad_synth.cpp covers the synth + STFT loss at the defaults.
#include <doctest/doctest.h>

#include <cmath>

#include "dsp/rng.h"
#include "synth_gradcheck.h"
#include "synth/drum808.h"

using namespace ddsp;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

TEST_CASE("drum808 gradients match central differences at the presets") {
    auto s = synth::make_synth("drum808");
    REQUIRE(s);
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = 44100;
    cfg.num_samples = 2205;  // 50 ms: attack, pitch sweep and the start of every decay
    cfg.seed = 9;
    const auto table = s->param_table(cfg);
    for (const auto& preset : synth::drum808_presets()) {
        const std::string& name = preset.first;  // (clang 14 cannot capture structured bindings)
        const synth::ParamValues& values = preset.second;
        CAPTURE(name);
        Vec u0;
        std::string err;
        REQUIRE(synth::to_unconstrained(table, values, u0, err));
        test::check_synth_gradients_at(*s, cfg, u0);
    }
}

TEST_CASE("drum808 gradients match central differences near the ends of the ranges") {
    auto s = synth::make_synth("drum808");
    REQUIRE(s);
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = 16000;
    cfg.num_samples = 800;
    cfg.seed = 2;
    // u = +-4 is 1.8 % from either end of every range: near the extremes, where the sigmoid still
    // passes a usable gradient.
    const int d = synth::table_size(s->param_table(cfg));
    dsp::Rng rng(21);
    for (int k = 0; k < 6; ++k) {
        CAPTURE(k);
        Vec u0(d);
        for (int i = 0; i < d; ++i) u0[i] = Real(k == 0 ? -4 : k == 1 ? 4 : (rng.uniform() < 0.5 ? -4 : 4));
        test::check_synth_gradients_at(*s, cfg, u0);
    }
}
