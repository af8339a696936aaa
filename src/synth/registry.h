// The list of synths. Each synth's .cpp defines its factory function; registry.cpp lists them.
#pragma once

#include "synth/synth.h"

#include <functional>

namespace ddsp::synth {

struct SynthFactory {
    const char* name;
    std::function<std::unique_ptr<Synth>()> make;
    // Synths with build-time options (see make_synth); null for the others.
    std::function<std::unique_ptr<Synth>(const SynthOptions&, std::string&)> make_with_options = nullptr;
    std::function<std::string()> option_names = nullptr;
};

const std::vector<SynthFactory>& synth_factories();

// Factories defined by each synth's translation unit.
std::unique_ptr<Synth> make_ks_synth();
std::unique_ptr<Synth> make_ks_synth_with(const SynthOptions& options, std::string& error);  // ks.h: KsOptions
std::string ks_option_names();
std::unique_ptr<Synth> make_drum808_synth();
std::unique_ptr<Synth> make_drum_synth();
std::unique_ptr<Synth> make_ddsp_synth();
std::unique_ptr<Synth> make_sine_synth();

}  // namespace ddsp::synth
