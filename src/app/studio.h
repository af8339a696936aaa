// The studio's user interface (Dear ImGui). It draws and edits; it never optimises or plays
// audio. Everything it wants done leaves as a JSON command through the callback given at
// construction (web/studio.js carries it out: file dialogs, the worker, the audio engine), and
// everything it shows arrives through the set_* / on_* calls. Nothing here knows about the
// browser, so the same class can sit on a native GLFW window.
//
// Commands (one JSON object each; "cmd" says which):
//   {"cmd":"open"} {"cmd":"example","file":F} {"cmd":"record"}
//   {"cmd":"start","synth":S,"method":M,"loss":L,"steps":N,"timeBudgetS":T,"learningRate":X,"seed":K,
//    "population":P,"params":JSON-or-null}                      (params: start from the edited parameters)
//   {"cmd":"stop"} {"cmd":"resume"} {"cmd":"reset"}
//   {"cmd":"synth","name":S} {"cmd":"method","name":M}
//   {"cmd":"play","slot":"target"|"recon","loop":bool} {"cmd":"stopAudio"}
//   {"cmd":"render","params":JSON}               (a slider moved: re-render the reconstruction)
//   {"cmd":"exportParams"} {"cmd":"exportWav"} {"cmd":"importParams"} {"cmd":"share"}
//   {"cmd":"landscape","x":NAME,"y":NAME,"steps":N,"params":JSON}
//   {"cmd":"targetTable","synth":S}              (a target or synth changed: fetch the parameter table
//                                                 the worker's analysis gives; set_target_table answers)
// The latent panel's (app/latent_panel.h):
//   {"cmd":"latentOpen"}                         (first opened: load the model)
//   {"cmd":"latentZ","z":[...]}                  (pad or slider moved: re-render, throttled)
//   {"cmd":"latentRecordingZ"}                   (back to the recording's own latent)
//   {"cmd":"latentSource","source":"recording"|"keyboard"}   (what drives the decoder; keyboard: the
//                                                 computer keyboard and MIDI play it)
//   {"cmd":"latentTranspose","semitones":N}     (the recording's pitch shift for timbre transfer)
//   {"cmd":"latentLiveInput","on":true|false}   (the microphone drives the decoder on the audio thread)
//   {"cmd":"latentPlay"}
//   {"cmd":"latentFineTune","steps":N,"learningRate":X} {"cmd":"latentStopFineTune"}
//   {"cmd":"latentWeights","weights":"base"|"tuned"}   (Before / After)
//   {"cmd":"latentExport"}
// The remap panel's (app/remap_panel.h):
//   {"cmd":"remapPerformance","source":"recording"|"file"|"record"}   (the performance to train on)
//   {"cmd":"remapTrain","preset":NAME|"current","model":"linear"|"mlp"|"mlp-large","steps":N}
//   {"cmd":"remapStop"} {"cmd":"remapLive","on":true|false} {"cmd":"remapRender"}
//   {"cmd":"remapExport"} {"cmd":"remapImport"}
#pragma once

#include "app/latent_panel.h"
#include "app/remap_panel.h"
#include "app/spectrogram_view.h"
#include "dsp/types.h"
#include "match/session.h"
#include "synth/synth.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ddsp::app {

struct LossTrace {
    int run = 0;
    std::string label;            // "ks / gradient"
    std::vector<float> loss;      // per iteration
};

// The match defaults are the engine's (match::MatchParams), as for the CLI and the page.
struct MatchSettings {
    std::string synth = "ks";
    std::string method = match::method_name(match::MatchParams{}.method);
    std::string loss = match::loss_name(match::MatchParams{}.loss);
    int steps = match::MatchParams{}.max_steps;
    float time_budget_s = float(match::MatchParams{}.time_budget_s);  // 0: none
    float learning_rate = float(match::MatchParams{}.learning_rate);
    int seed = int(match::MatchParams{}.seed);
    int population = match::MatchParams{}.population;  // genetic and CMA-ES
    char synth_options[160] = {};  // the synth's build-time options, "exc_ms=40,loop_order=3" (ks); "" for none
};

struct MatchStatus {
    bool running = false;
    int run = 0;
    int iteration = 0;
    int step_limit = 0;
    double loss = 0, best_loss = 0, initial_loss = 0;
    double elapsed_s = 0, iters_per_s = 0;
    bool has_result = false;
};

class Studio {
public:
    using CommandFn = std::function<void(const std::string& json)>;
    explicit Studio(CommandFn command);
    ~Studio();

    bool init_gl(std::string& error);
    void set_compact(bool compact) { compact_ = compact; }
    // The compact widget's view: "match" (signals and loss curve) or "latent" (the latent panel:
    // pad, keyboard source, fine-tuning; the signals below it). The panel opens when the page has
    // loaded its model (opening it here would ask for the model before the worker is up).
    void set_compact_view(const std::string& view) { compact_latent_ = view == "latent"; }

    // [SECTION] inputs
    void set_examples(const std::string& json);  // [{"file":..,"label":..,"kind":..}, ...]
    void set_target(const std::string& name, const Vec& samples, double sample_rate_hz);
    void set_recon(const Vec& samples, double sample_rate_hz);
    void set_settings(const MatchSettings& s);
    // A progress or done message from the worker (web/README.md) and the losses since the last one.
    void on_progress(const std::string& json, const std::vector<float>& history, bool done);
    void on_started(int run);
    void set_params_json(const std::string& json);  // shown and edited in the parameter panel
    // The parameter table for the current target as the worker's engine analysed it
    // (MatchRunner.targetTable, JSON), answering the UI's {"cmd":"targetTable"}.
    void set_target_table(const std::string& json);
    void set_status(const std::string& text, bool is_error);
    void set_level(float peak, float rms, const std::string& slot, bool playing);
    void set_landscape(const std::string& json, const std::vector<float>& loss);
    void reset();

    // The time axis the waveform and spectrogram views share (app/time_axis.h), as window.ddsp.view
    // drives it: show [start_s, end_s] (clamped into the clip), or fit the sound; and read it back
    // as JSON {"startS", "endS", "clipS", "fitS", "fitted"}.
    void set_view(double start_s, double end_s);
    void fit_view();
    std::string view_json();
    // Where the views were drawn last frame (canvas pixels, [x0, y0, x1, y1]), for tests.
    std::string views_layout_json() const;

    // [SECTION] frame
    // Builds this frame's UI (between ImGui::NewFrame and ImGui::Render), for a canvas of
    // width x height pixels at `scale` pixels per CSS pixel.
    void frame(float width_px, float height_px, float scale);
    // After ImGui::Render(): draws the spectrogram textures the frame showed.
    void render_views();
    double fps() const { return fps_; }

    const MatchSettings& settings() const { return settings_; }
    const MatchStatus& status() const { return status_; }
    const std::string& params_json() const { return params_json_; }
    LatentPanel& latent() { return latent_; }  // its inputs (set_info, set_z ...) come straight from JS
    RemapPanel& remap() { return remap_; }      // so do the remap panel's

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    CommandFn command_;
    bool compact_ = false;
    bool compact_latent_ = false;
    MatchSettings settings_;
    MatchStatus status_;
    std::string params_json_;
    double fps_ = 0;
    LatentPanel latent_;
    RemapPanel remap_;

    void send(const std::string& json) const;
    void draw_toolbar(float scale);
    void draw_status(float scale);
    void draw_signals(float width, float height, float scale);
    void draw_loss(float width, float height, float scale);
    void draw_settings(float scale);
    void draw_params(float scale);
    void draw_landscape(float scale);
    void rebuild_table();
    void rebuild_spectrograms();
    void params_edited();
};

}  // namespace ddsp::app
