// The `ddsp` harmonic-plus-noise voice: not streamed yet (see stream.h).
#include "synth/stream.h"

namespace ddsp::synth {

std::unique_ptr<StreamVoice> make_stream_ddsp_voice() { return nullptr; }

}  // namespace ddsp::synth
