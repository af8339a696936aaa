#include "synth/registry.h"

namespace ddsp::synth {

const std::vector<SynthFactory>& synth_factories() {
    static const std::vector<SynthFactory> factories = {
        {"ks", make_ks_synth, make_ks_synth_with, ks_option_names},
        {"sine", make_sine_synth},
        {"drum808", make_drum808_synth},
        {"drum", make_drum_synth},
        {"ddsp", make_ddsp_synth},
    };
    return factories;
}

}  // namespace ddsp::synth
