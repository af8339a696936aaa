// Spectrogram views drawn by GLSL (shaders/spectrogram.*.glsl) into textures that ImGui shows.
//
// A Spectrogram holds one signal's levels as an R8 texture (bins x frames, dB mapped to 0..1 over
// an 80 dB range below a reference level shared by target and reconstruction, so their colours
// compare). A SpectrogramView owns a framebuffer the size of its on-screen rectangle; draw()
// renders one spectrogram (or the difference of two) into it through the shader. Call draw()
// after ImGui::Render() and before the backend renders the draw data: the ImGui::Image that shows
// the view's texture then shows this frame's pixels. A view shows a stretch of time (the studio's
// shared time axis, app/time_axis.h); time outside the spectrogram is drawn empty.
#pragma once

#include "dsp/types.h"

#include <string>

namespace ddsp::app {

struct SpectrogramParams {
    int fft_size = 1024;
    int hop = 128;
    double range_db = 80;
};

class Spectrogram {
public:
    Spectrogram() = default;
    ~Spectrogram();
    Spectrogram(const Spectrogram&) = delete;
    Spectrogram& operator=(const Spectrogram&) = delete;

    // Computes the levels of `x` (frames beyond num_frames are dropped, missing ones are silent).
    // top_db: the level that maps to 1 (pass the target's peak so both views share a scale).
    void set(const Vec& x, double sample_rate_hz, const SpectrogramParams& params, int num_frames, double top_db);
    void clear();
    bool empty() const { return frames_ == 0; }
    unsigned texture() const { return texture_; }
    double sample_rate_hz() const { return sample_rate_hz_; }
    int frames() const { return frames_; }
    int hop() const { return hop_; }
    // The texture coordinate (0..1 across the frames) of time t: frame f is centred on sample f * hop.
    double u_of(double t_s) const { return frames_ ? (t_s * sample_rate_hz_ / hop_ + 0.5) / frames_ : 0.0; }
    unsigned version() const { return version_; }  // changes whenever the levels do

    // Peak level (dB) of x's spectrogram, to pass as top_db.
    static double peak_db(const Vec& x, const SpectrogramParams& params);

private:
    unsigned texture_ = 0;
    int frames_ = 0;
    int hop_ = 1;
    double sample_rate_hz_ = 16000;
    unsigned version_ = 0;
};

class SpectrogramView {
public:
    ~SpectrogramView();
    // Requests a size for this frame; returns the texture to pass to ImGui::Image.
    unsigned request(int width_px, int height_px);
    // Renders (mode 0: `a`; mode 1: difference b - a) over the time [start_s, end_s]. Does nothing
    // if nothing was requested, or if neither the size, the time nor the spectrograms changed since
    // the last draw: the texture still holds those pixels (software WebGL spends most of a frame on
    // these fragments otherwise).
    void draw(const Spectrogram& a, const Spectrogram* b, int mode, double min_hz, double start_s, double end_s);

private:
    unsigned framebuffer_ = 0, texture_ = 0;
    int width_ = 0, height_ = 0;
    bool requested_ = false;
    bool stale_ = true;
    unsigned drawn_a_ = ~0u, drawn_b_ = ~0u;
    double drawn_start_s_ = -1, drawn_end_s_ = -1;
};

// Compiles the shaders (once). False with a message if WebGL2 refuses them.
bool spectrogram_shaders_init(std::string& error);

}  // namespace ddsp::app
