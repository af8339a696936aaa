#include "synth/registry.h"

namespace ddsp::synth {

const std::vector<SynthFactory>& synth_factories() {
    static const std::vector<SynthFactory> factories = {
        {"sine", make_sine_synth},
    };
    return factories;
}

}  // namespace ddsp::synth
