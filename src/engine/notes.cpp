#include "engine/notes.h"

#include "util/json.h"
#include "util/text.h"

#include <cmath>

namespace ddsp::engine {

namespace {

bool number_field(const util::JsonValue& note, const char* key, double lo, double hi, double& out, std::string& error,
                  size_t index) {
    const util::JsonValue* v = note.find(key);
    if (!v) return true;
    if (v->type != util::JsonValue::Type::number || !(v->number >= lo && v->number <= hi)) {
        error = "note " + std::to_string(index) + ": \"" + key + "\" must be a number in [" + util::format_g(lo) + ", " +
                util::format_g(hi) + "]";
        return false;
    }
    out = v->number;
    return true;
}

}  // namespace

bool notes_parse(const std::string& text, std::vector<NoteEvent>& out, std::string& error) {
    util::JsonValue root;
    if (!util::json_parse(text, root, error)) return false;
    const util::JsonValue* list = &root;
    if (root.type == util::JsonValue::Type::object) {
        list = root.find("notes");
        if (!list || root.object.size() != 1) {
            error = "expected {\"notes\": [...]} or an array of notes";
            return false;
        }
    }
    if (list->type != util::JsonValue::Type::array) {
        error = "\"notes\" must be an array";
        return false;
    }
    if (list->array.size() > 100000) {
        error = "too many notes (at most 100000)";
        return false;
    }
    for (size_t i = 0; i < list->array.size(); ++i) {
        const util::JsonValue& n = list->array[i];
        if (n.type != util::JsonValue::Type::object) {
            error = "note " + std::to_string(i) + " is not an object";
            return false;
        }
        for (const auto& [key, value] : n.object) {
            (void)value;
            if (key != "time" && key != "duration" && key != "midi" && key != "f0_hz" && key != "velocity") {
                error = "note " + std::to_string(i) + ": unknown key " + util::quote_input(key) +
                        " (time, duration, midi, f0_hz, velocity)";
                return false;
            }
        }
        NoteEvent e;
        double midi = -1;
        if (!number_field(n, "time", 0, 3600, e.time_s, error, i) ||
            !number_field(n, "duration", 0, 3600, e.duration_s, error, i) ||
            !number_field(n, "midi", 0, 127, midi, error, i) || !number_field(n, "f0_hz", 1, 100000, e.f0_hz, error, i) ||
            !number_field(n, "velocity", 0, 1, e.velocity, error, i))
            return false;
        if (midi >= 0 && midi != std::floor(midi)) {
            error = "note " + std::to_string(i) + ": \"midi\" must be a whole number";
            return false;
        }
        e.midi = int(midi);
        out.push_back(e);
    }
    return true;
}

}  // namespace ddsp::engine
