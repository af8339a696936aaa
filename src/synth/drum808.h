// `drum808`: the differentiable TR-808-style snare of Shier, Saitis, Robertson and McPherson,
// "Real-time timbre remapping with differentiable DSP" (NIME 2024).
//
//   osc 1, osc 2:  sine at f_i * (1 + pitch_mod_i * pitch_env(t)), times gain_i * amp_env_i(t)
//   noise:         uniform white noise * noise_env(t) -> RBJ high-pass (cutoff, Q) * noise gain
//   out =          tanh(drive * (osc 1 + osc 2 + noise))
//
// Every envelope is a 1 ms linear attack followed by an exponential decay that falls 60 dB in its
// decay time (the paper's envelope: 6.91 = ln 1000 nepers over the decay). The two oscillators
// share one pitch envelope, each with its own depth. Because the waveshaper is a tanh, the output
// never leaves (-1, 1).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "synth/synth.h"

namespace ddsp::synth {

// Named presets in physical units, written for 44.1 kHz (the cutoffs assume a Nyquist frequency
// above 10 kHz): "snare_1", "snare_2", "snare_3", "open_snare", "noisy_snare", "tom".
// Every preset names all 14 parameters. See drum808.cpp for what each one sounds like.
std::vector<std::pair<std::string, ParamValues>> drum808_presets();

}  // namespace ddsp::synth
