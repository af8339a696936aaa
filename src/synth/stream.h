// Streaming (audio-thread) kernels: one note of a synth rendered block by block, forward only,
// with the maths of the differentiable synth it mirrors (same parameter table, same physical
// units, same noise) and no allocation once a preset is loaded.
//
//   StreamPreset preset = ...;                       // values in physical units, as a parameter file
//   auto voice = synth::make_stream_voice("ks");
//   voice->load(preset, error);                      // allocates (off the audio thread)
//   voice->start(/*f0_hz=*/0, /*velocity=*/1);       // 0: the preset's own pitch
//   voice->render_add(block, 128);                   // adds 128 samples at preset.cfg.sample_rate_hz
//   voice->release();                                // note-off
//
// A kernel runs at the rate its preset was made at (a ks loop filter's taps are per sample: at
// another rate they would be another filter); the live engine resamples the mix of its voices.
// Time-varying controls (ks's 16 control frames, ddsp's 250 Hz frames) span the preset's
// duration (cfg.num_samples) as in `ddsp render`, then hold their last value. Started at the
// preset's pitch, a voice's first cfg.num_samples samples equal `ddsp render` of the preset
// (tests/test_stream.cpp states the tolerances).
//
// Live changes (sliders, MIDI CC): set_values() moves every value to its new setting along a
// ramp of kRampSeconds in the table's own scale (log for Hz, seconds and taps, linear for dB),
// updated every sample while it lasts: no zipper noise, heard in the next block.
#pragma once

#include "dsp/spline.h"
#include "synth/synth.h"

#include <memory>
#include <string>
#include <vector>

namespace ddsp::synth {

struct StreamPreset {
    std::string synth;                // "sine", "ks", "drum808", "drum", "ddsp"
    std::vector<ParamSpec> table;     // the synth's table for cfg (after its analysis, if any)
    ParamValues values;               // complete, inside the table's ranges (see resolve_stream_values)
    SynthConfig cfg;                  // rate the kernel runs at, duration the controls span, noise seed
    double pitch_hz = 0;              // the preset's own pitch (0: none, e.g. a drum without tuning)
    Vec excitation_head;              // ks, drum: the analysed recording's first samples (residual excitation,
                                      // transient)
    double exc_ms = 25;               // ks: the excitation's length (the preset's KsOptions::exc_ms)
    Vec f0_frames_hz;                 // ddsp: f0 per control frame (its conditioning); empty: pitch_hz
};

// Checks values against the table: unknown names or wrong sizes are errors, NaN/Inf are errors,
// finite values outside [min, max] are clamped (absurd slider or MIDI values play the nearest
// legal sound); missing names keep `base` (or the default). Scalars broadcast to every frame of
// a vector parameter.
bool resolve_stream_values(const std::vector<ParamSpec>& table, const ParamValues& base, const ParamValues& changes,
                           ParamValues& out, std::string& error);

class StreamVoice {
public:
    static constexpr double kRampSeconds = 0.005;  // slider/CC changes glide over 5 ms
    static constexpr int kControlBlock = 16;       // render_block's largest block (samples)

    virtual ~StreamVoice() = default;
    // Loads a preset; allocates every buffer the voice needs. False + one-line error.
    // loaded_alike: a voice of the same synth that has just loaded this preset; its resolved and
    // converted values are copied instead of recomputed (a ddsp preset has ~166k values).
    bool load(const StreamPreset& preset, std::string& error, const StreamVoice* loaded_alike = nullptr);
    // New values for the loaded preset's table (complete, resolved): glide there over kRampSeconds.
    // Allocates a little (call it from a message handler); the glide itself, in render_add, does not.
    // set_alike: a voice of the same preset that was just given these values (copied, not recomputed).
    void set_values(const ParamValues& values, const StreamVoice* set_alike = nullptr);
    // Sets every value at once from an unconstrained vector u (table order, as optimisers see it),
    // without a glide: per-hit values set right before start() (timbre remapping). No allocation.
    void set_unconstrained(const double* u);
    // Starts a note: f0_hz > 0 plays at that pitch (by the synth's own rule, as Synth::set_pitch_hz),
    // else at the preset's. velocity in [0, 1] scales the output. Restarts a sounding voice.
    void start(double f0_hz, double velocity);
    // Note-off: sustained synths fade out over release_seconds(); one-shots (drums) ring on.
    virtual void release() { choke(release_seconds()); }
    // Fades out over `seconds` (at least one sample) whatever the synth, then stops: voice stealing.
    void choke(double seconds);
    // Adds n samples to out (nothing when inactive). No allocation.
    void render_add(Real* out, int n);
    bool active() const { return active_; }
    bool released() const { return released_; }
    bool choking() const { return fade_total_ > 0; }
    double sample_rate_hz() const { return preset_.cfg.sample_rate_hz; }
    const StreamPreset& preset() const { return preset_; }
    // Samples since start().
    long long position() const { return t_; }

protected:
    // Value of parameter `index` (table order), element `i`, in physical units (ramped).
    Real value(int index, int i = 0) const { return physical_[size_t(offsets_[size_t(index)] + i)]; }
    int index_of(const char* name) const;
    double note_f0_hz() const { return note_f0_hz_; }
    Real velocity() const { return velocity_; }

    virtual double release_seconds() const = 0;
    // Called after load() (allocate here), on start(), when the ramped values change, and per block.
    virtual bool on_load(std::string& error) = 0;
    virtual void on_start() = 0;
    virtual void on_values_changed() = 0;
    // Adds n <= kControlBlock samples; may set active_ = false when the voice has died out (the
    // machinery applies velocity and fades).
    virtual void render_block(Real* out, int n) = 0;

    StreamPreset preset_;
    bool active_ = false;
    bool released_ = false;
    long long t_ = 0;

private:
    void to_scaled(const ParamValues& values, std::vector<double>& out, std::vector<Real>& exact) const;
    void update_physical(const std::vector<int>& indices);  // ascending
    std::vector<int> changed_;  // indices a glide moves
    std::vector<int> offsets_;
    std::vector<double> scaled_now_, scaled_target_;  // table scale: log for log parameters
    std::vector<Real> physical_;
    std::vector<Real> exact_target_;  // the target values as the tape computes them
    int ramp_left_ = 0;
    int fade_left_ = 0, fade_total_ = 0;  // choke/release: linear fade to silence
    Real scratch_[kControlBlock] = {};
    int ramp_samples_ = 1;
    double note_f0_hz_ = 0;
    Real velocity_ = 1;
};

// nullptr for a synth without a streaming kernel.
std::unique_ptr<StreamVoice> make_stream_voice(const std::string& synth);

// Natural cubic spline through frames y[0..F-1] (positions 0..F-1): the curve ad::upsample(cubic)
// draws through a synth's control frames (dsp/spline.h, shared). Allocates in fit() only when F
// changes (a glide refits the same F: no allocation).
class NaturalSpline {
public:
    void fit(const Real* y, int frames);
    Real at(double position) const;  // clamped to [0, F - 1]
    int frames() const { return frames_; }

private:
    int frames_ = 0;
    dsp::NaturalSplineSystem system_;  // the same system ad::upsample(cubic) solves
    std::vector<Real> y_, m2_, rhs_;
};

}  // namespace ddsp::synth
