// The time axis the studio's waveform and spectrogram views share (seconds), with zoom and pan.
// Plain arithmetic: no ImGui, no GL, so the rules are easy to read in one place.
//
// The axis can show 0..clip_s (the target as matched; without one, the reconstruction). "Fit"
// shows 0..fit_s, where the sound ends: a drum hit is often a tenth of a second of sound followed by
// digital silence to the end of its file (assets/sounds/snare_audiophob_1.wav: 0.1 s of 0.5 s), and
// the views should show the hit, not the silence. Zooming out goes back to the whole clip.
#pragma once

#include "dsp/types.h"

#include <string>
#include <vector>

namespace ddsp::app {

class TimeAxis {
public:
    // A new clip: fits it (its length changed: another target), else keeps the user's zoom
    // (clamped). fit_s: where its sound ends (sound_end_s), <= clip_s.
    void set_clip(double clip_s, double fit_s);
    // Shows 0..fit_s, widened to include `also_s` (the reconstruction's sound); follows new clips.
    void fit(double also_s = 0);
    // Shows [start_s, end_s], clamped into the clip and to at least min_span_s(); not fitted.
    void set(double start_s, double end_s);
    // Zooms by `factor` (< 1 in, > 1 out) keeping the time under the cursor, `anchor_s`, in place.
    void zoom(double factor, double anchor_s);
    void pan(double delta_s);

    double start_s() const { return start_s_; }
    double end_s() const { return end_s_; }
    double span_s() const { return end_s_ - start_s_; }
    double clip_s() const { return clip_s_; }
    double fit_s() const { return fit_s_; }
    bool fitted() const { return fitted_; }
    bool empty() const { return clip_s_ <= 0; }
    // The narrowest view: 1 ms or the whole clip if shorter.
    double min_span_s() const;
    // Position of time t in a view `width` wide starting at x0, and back.
    double x_of(double t_s, double x0, double width) const { return x0 + (t_s - start_s_) / span_s() * width; }
    double t_of(double x, double x0, double width) const { return start_s_ + (x - x0) / width * span_s(); }

private:
    double clip_s_ = 0, fit_s_ = 0;
    double start_s_ = 0, end_s_ = 1;
    bool fitted_ = true;
};

// Where a recording's sound ends (seconds): just past the last sample within floor_db of its peak.
// 0 for silence.
double sound_end_s(const Vec& x, double sample_rate_hz, double floor_db);
// What Fit shows for a sound ending at end_s in a clip of clip_s: the sound with a small margin.
double fit_end_s(double sound_end_s, double clip_s);

// Ruler ticks for [start_s, end_s] over width_px: a 1-2-5 step at least min_px apart.
struct TimeTicks {
    double step_s = 0;
    std::vector<double> t_s;
};
TimeTicks time_ticks(double start_s, double end_s, double width_px, double min_px);
// "0", "250 ms", "1.5 s", "12.5 ms": as many decimals as the step needs.
std::string format_tick(double t_s, double step_s);

}  // namespace ddsp::app
