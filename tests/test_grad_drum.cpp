// The modal drum's hand-written backward pass (synth/drum.cpp, DrumVoiceNode) against central
// differences in double precision: at the defaults, from an analysed recording (the transient's
// cross-fade and its mix in play, a pitch glide, driven), and near the ends of every range. The
// loss is a fixed random projection of the audio, so any mismatch is the synth's.
#include <doctest/doctest.h>

#include <cmath>

#include "dsp/rng.h"
#include "synth_gradcheck.h"
#include "synth/drum.h"

using namespace ddsp;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

namespace {


synth::SynthConfig config() {
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = 16000;
    cfg.num_samples = 800;  // 50 ms: the transient, the attacks and the start of every decay
    cfg.seed = 3;
    return cfg;
}

}  // namespace

TEST_CASE("drum gradients match central differences at the defaults") {
    auto s = synth::make_synth("drum");
    REQUIRE(s);
    const synth::SynthConfig cfg = config();
    Vec u0;
    std::string err;
    REQUIRE(synth::to_unconstrained(s->param_table(cfg), s->initial_values(cfg), u0, err));
    test::check_synth_gradients_at(*s, cfg, u0);
}

TEST_CASE("drum gradients match central differences from an analysed recording, gliding and driven") {
    auto s = synth::make_synth("drum");
    REQUIRE(s);
    const synth::SynthConfig cfg = config();
    // A recording: two decaying modes and a noise burst.
    Vec x(cfg.num_samples);
    dsp::Rng rng(8);
    for (int i = 0; i < x.size(); ++i) {
        const double t = i / cfg.sample_rate_hz;
        x[i] = Real(0.5 * std::exp(-t / 0.03) * std::sin(2 * kPi * 310 * t) + 0.3 * std::exp(-t / 0.01) * rng.uniform(-1, 1) +
                    0.2 * std::exp(-t / 0.05) * std::sin(2 * kPi * 740 * t));
    }
    std::string err;
    REQUIRE(s->analyse_target(x, cfg, err));
    synth::ParamValues v = s->initial_values(cfg);
    CHECK(v.at("transient_mix")[0] == 1.0);
    v["transient_mix"] = {0.7};  // inside its range, so its own gradient is checked too
    v["glide_depth"] = {0.4};
    v["drive_db"] = {9};
    Vec u0;
    REQUIRE(synth::to_unconstrained(s->param_table(cfg), v, u0, err));
    test::check_synth_gradients_at(*s, cfg, u0);
}

TEST_CASE("drum gradients match central differences near the ends of the ranges") {
    auto s = synth::make_synth("drum");
    REQUIRE(s);
    const synth::SynthConfig cfg = config();
    const int d = synth::table_size(s->param_table(cfg));
    dsp::Rng rng(21);
    for (int k = 0; k < 3; ++k) {
        CAPTURE(k);
        Vec u0(d);
        // u = +-3.5: ~3 % from either end of every range, where the sigmoid still passes a gradient.
        for (int i = 0; i < d; ++i) u0[i] = Real(k == 0 ? -3.5 : k == 1 ? 3.5 : (rng.uniform() < 0.5 ? -3.5 : 3.5));
        test::check_synth_gradients_at(*s, cfg, u0);
    }
}
