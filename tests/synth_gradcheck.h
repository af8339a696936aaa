// A synth's own gradients against central differences (double precision), shared by the drum
// synths' gradient tests: the loss is a fixed random projection of the audio, smooth, so any
// mismatch is the synth's (its hand-written backward pass), not kinks of a spectral loss.
#pragma once

#include <doctest/doctest.h>

#include "ad/gradcheck.h"
#include "dsp/rng.h"
#include "synth/synth.h"

namespace ddsp::test {

inline void check_synth_gradients_at(synth::Synth& s, const synth::SynthConfig& cfg, const Vec& u0) {
    ad::Tape tape;
    ad::Var u = tape.variable(u0);
    ad::Var audio = s.build(u, cfg);
    Arr w(audio.rows(), 1);
    dsp::Rng rng(5);
    for (int i = 0; i < w.rows(); ++i) w(i, 0) = Real(rng.uniform(-1, 1));
    ad::Var loss = ad::sum(audio * tape.constant(w));
    ad::GradCheckParams gp;
    gp.eps = 1e-7;  // phases make the loss steep in frequency: keep the truncation error small
    gp.rtol = 1e-5;
    gp.atol = 1e-8;
    // The projection sums hundreds of terms of either sign, and a high-pass near 20 Hz has poles
    // near z = 1 that amplify rounding (~1e4 at 16 kHz): allow for both in the numeric derivative.
    gp.roundoff_factor = 100;
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, {u}, gp);
    INFO(r.worst, " (max rel ", r.max_rel_error, ")");
    CHECK(r.ok);
    CHECK(r.checked == synth::table_size(s.param_table(cfg)));
}

}  // namespace ddsp::test
