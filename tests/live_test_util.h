// Helpers the live-engine tests share (include after <doctest/doctest.h>).
#pragma once

#include "dsp/pitch.h"
#include "engine/live.h"

#include <algorithm>
#include <string>

namespace live_test {

// Fills out[from, to) by process() calls of `block` samples (the last one shorter), no input.
inline void run(ddsp::engine::LiveEngine& live, ddsp::Vec& out, int from = 0, int to = -1, int block = 128) {
    if (to < 0) to = int(out.size());
    for (int pos = from; pos < to; pos += block) live.process(nullptr, out.data() + pos, std::min(block, to - pos));
}

// The output for `input` fed as the live input, block by block.
inline ddsp::Vec run_input(ddsp::engine::LiveEngine& live, const ddsp::Vec& input, int block = 128) {
    ddsp::Vec out = ddsp::Vec::Zero(input.size());
    for (Eigen::Index pos = 0; pos < input.size(); pos += block) {
        const int m = int(std::min<Eigen::Index>(block, input.size() - pos));
        live.process(input.data() + pos, out.data() + pos, m);
    }
    return out;
}

// One f0 for a note (YIN, dsp::yin_note_f0_hz); fails the test if none is found.
inline double yin_f0(const ddsp::Vec& x, double sample_rate_hz) {
    ddsp::dsp::YinParams yp;
    double f0 = 0;
    std::string error;
    REQUIRE_MESSAGE(ddsp::dsp::yin_note_f0_hz(x, sample_rate_hz, yp, f0, error), error);
    return f0;
}

}  // namespace live_test
