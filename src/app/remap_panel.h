// The studio's "Remap" panel: timbre remapping (nn/remap.h). A drum performance (the recording, a
// file or the microphone) trains a small network in the worker that maps each hit's first
// milliseconds to modulations of an 808 preset; then the microphone's onsets play the 808 on the
// audio thread (Play live), or the performance is rendered on the 808 for A/B.
//
// Like the rest of the UI it only draws and edits; its commands (studio.h lists them) are carried
// out by web/studio/remap.js.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ddsp::app {

class RemapPanel {
public:
    using SendFn = std::function<void(const std::string& json)>;

    // [SECTION] inputs
    void set_presets(const std::string& json_names);      // ["snare_1", ...]
    void set_current_available(bool available) { current_available_ = available; }  // a drum808 match exists
    // {name, hits, seconds} or null.
    void set_performance(const std::string& json);
    // The model that plays: {model, steps, trained} or null.
    void set_model(const std::string& json);
    void set_status(const std::string& text, bool is_error);
    void train_started(int steps);
    // A remapProgress message ({step, steps, loss, done, stopped, heldOut: {none, model}}) and its losses.
    void on_progress(const std::string& json, const std::vector<float>& history, bool done);
    void set_live(bool on) { live_ = on; }
    void set_live_stats(double onsets, double latency_ms);

    // [SECTION] frame
    void draw(float scale, const SendFn& send);
    // Where the buttons were drawn last frame (canvas pixels), for tests: {"open", "buttons": {...}}.
    std::string layout_json() const;
    bool is_open() const { return open_; }

private:
    struct Rect {
        float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    };

    bool open_ = false;
    std::vector<std::string> presets_{"snare_1"};
    int preset_ = 0;  // index into presets_; presets_.size(): the current drum808 match
    bool current_available_ = false;
    int model_ = 1;   // linear, mlp, mlp-large
    int steps_ = 300;

    std::string performance_;  // "" = none; else a description
    int performance_hits_ = 0;
    std::string model_text_;   // "" = no model
    bool have_model_ = false;
    std::string status_;
    bool status_error_ = false;

    bool training_ = false;
    int step_ = 0, total_ = 0;
    std::vector<float> losses_;
    std::string held_out_;     // the held-out result line

    bool live_ = false;
    double live_onsets_ = 0, live_latency_ms_ = 0;
    bool have_live_stats_ = false;

    std::vector<std::pair<std::string, Rect>> button_rects_;
    void remember_button(const char* name);
};

}  // namespace ddsp::app
