// The notes file `ddsp stream --notes` plays through the live engine:
//
//   {"notes": [{"time": s, "duration": s, "midi": n | "f0_hz": hz, "velocity": 0..1}, ...]}
//
// or the bare array. Without midi or f0_hz a note plays at the preset's pitch. Ranges: time and
// duration 0..3600 s, midi a whole number 0..127, f0_hz 1..100000, velocity 0..1; at most 100000
// notes; unknown keys are errors. One-line errors, nothing throws (the fuzz harness checks it).
#pragma once

#include <string>
#include <vector>

namespace ddsp::engine {

struct NoteEvent {
    double time_s = 0;
    double duration_s = 0.5;  // then note-off
    int midi = -1;            // -1: the preset's own pitch
    double f0_hz = 0;         // > 0: this pitch (wins over midi)
    double velocity = 1;
};

bool notes_parse(const std::string& text, std::vector<NoteEvent>& out, std::string& error);

}  // namespace ddsp::engine
