// The list of synths. Each synth's .cpp defines its factory function; registry.cpp lists them.
#pragma once

#include "synth/synth.h"

#include <functional>

namespace ddsp::synth {

struct SynthFactory {
    const char* name;
    std::function<std::unique_ptr<Synth>()> make;
};

const std::vector<SynthFactory>& synth_factories();

// Factories defined by each synth's translation unit.
std::unique_ptr<Synth> make_ks_synth();
std::unique_ptr<Synth> make_drum808_synth();
std::unique_ptr<Synth> make_drum_synth();
std::unique_ptr<Synth> make_ddsp_synth();
std::unique_ptr<Synth> make_sine_synth();

}  // namespace ddsp::synth
