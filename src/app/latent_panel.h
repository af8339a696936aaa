// The studio's "Latent" panel: a pretrained DDSP autoencoder (nn/autoencoder.h) played by hand.
// A 2D pad spans the two principal directions of the training set's latents (the model file's
// "latent_space": a dot per instrument); a slider per latent dimension; the decoder driven by the
// recording (timbre transfer) or by the keyboard; fine-tuning on the recording with a progress bar
// and loss curve, Before / After to compare the weights, and Export.
//
// Like the rest of the UI it only draws and edits: everything it wants done leaves as a JSON
// command (studio.h lists them) and web/studio.js carries it out in the worker.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace ddsp::app {

class LatentPanel {
public:
    using SendFn = std::function<void(const std::string& json)>;

    // [SECTION] inputs
    // The worker's model info: {zDims, sampleRate, latentSpace: {instruments: [{name, mean}], axes,
    // origin, scale} or null, recording: {seconds, z} or null}. "null" clears the panel.
    void set_info(const std::string& json);
    void set_z(const std::vector<float>& z);
    void set_status(const std::string& text, bool is_error);
    void set_source(const std::string& source);  // "recording" | "keyboard"
    void set_weights(const std::string& weights, bool tuned_available);  // "base" | "tuned"
    // Live input (microphone -> decoder on the audio thread) on or off, and the live engine's
    // figures the panel shows: input-to-output latency and the audio thread's load.
    void set_live(bool on) { live_ = on; }
    void set_live_stats(double latency_ms, double load_mean_percent, double load_max_percent, double input_f0_hz,
                        bool voiced);
    void fine_tune_started(int steps);
    // A fineTuneProgress message ({step, steps, loss, initialLoss, done, stopped}) and its losses.
    void on_fine_tune(const std::string& json, const std::vector<float>& history, bool done);
    void request_open() { open_request_ = true; }

    // [SECTION] frame
    // Draws the panel as a collapsing header (in the studio's side column).
    void draw(float scale, const SendFn& send);
    // Where the pad, the sliders and the buttons were drawn last frame, in canvas pixels:
    // {"open", "pad": [x0, y0, x1, y1], "sliders": [[...]], "buttons": {"play": [...], ...}}, so tests
    // can drive the panel with real mouse events.
    std::string layout_json() const;

    const std::vector<float>& z() const { return z_; }
    bool is_open() const { return open_; }

private:
    struct Instrument {
        std::string name;
        std::vector<float> mean;
    };
    struct Rect {
        float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    };

    bool loaded_ = false, loading_ = false, open_ = false, open_request_ = false, opened_once_ = false;
    int z_dims_ = 0;
    std::vector<float> z_, recording_z_;
    bool have_space_ = false;
    std::vector<float> axes_[2], origin_;
    float axis_scale_[2] = {1, 1};
    std::vector<Instrument> instruments_;

    std::string source_ = "recording", weights_ = "base";
    bool live_ = false;
    double live_latency_ms_ = 0, live_load_mean_ = 0, live_load_max_ = 0, live_f0_hz_ = 0;
    bool live_voiced_ = false, have_live_stats_ = false;
    int transpose_st_ = 0;
    bool tuned_available_ = false;
    std::string status_;
    bool status_error_ = false;

    bool z_dirty_ = false;
    double last_z_send_s_ = -1;

    int ft_steps_ = 100;
    float ft_learning_rate_ = 3e-4f;
    bool ft_running_ = false;
    int ft_step_ = 0, ft_total_ = 0;
    double ft_loss_ = 0, ft_initial_loss_ = 0;
    std::vector<float> ft_losses_;

    Rect pad_rect_;
    std::vector<Rect> slider_rects_;
    std::vector<std::pair<std::string, Rect>> button_rects_;

    float project(const std::vector<float>& z, int axis) const;  // pad coordinate of z on an axis
    void move_on_pad(float x, float y);
    void draw_pad(float scale);
    void draw_fine_tune(float scale, const SendFn& send);
    void remember_button(const char* name);
};

}  // namespace ddsp::app
