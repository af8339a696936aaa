// Streaming conditioning for live timbre transfer: the decoder's per-frame features (f0, A-weighted
// loudness, spectral centroid, level fitting) from a microphone signal that arrives in blocks of any
// size, frame by frame on the grid of nn::analyse_conditioning (frame k centred on sample k * hop).
//
//   nn::StreamConditioner sc;
//   if (!sc.init(16000, {}, error)) ...            // allocates; nothing below does
//   sc.push(block, n);                            // audio thread, any n
//   nn::StreamFrame fr;
//   while (sc.pop(fr)) decoder.step(fr.f0_hz, fr.loudness_db, ...), output *= 10^(-fr.gain_db / 20)
//
// [SECTION] Shared maths
// The per-frame maths are the offline ones: dsp::YinFrameAnalyser (what dsp::yin_track runs per
// frame), dsp::FrameLoudness (what dsp::frame_loudness_db runs per frame) and
// dsp::spectrum_centroid_and_flatness (what dsp::spectral_features runs per frame). Given the same
// analysis parameters (yin_params(), loudness_params()) the streaming raw f0, confidence and
// loudness equal the offline functions' frame for frame (tested); only the windows differ from
// analyse_conditioning's defaults, as below.
//
// [SECTION] Latency
// Frame k reads input up to sample k * hop + latency_samples(), and is ready as soon as that sample
// has been pushed. latency_samples() = window / 2 - 1, with window the largest power of two not above
// 32 ms (512 at 16 kHz): both analyses are centred on the frame, so each reads half a window ahead.
// At 16 kHz that is 255 samples = 15.9 ms (at most 16 ms at any rate), plus whatever the caller's
// block size adds.
//
// [SECTION] What differs from offline analyse_conditioning, and why
// - Windows. Offline loudness uses DDSP's 2048-sample (128 ms) window, its centroid 1024 samples,
//   and YIN looks 534 samples (33 ms) ahead for f0 down to 30 Hz. A centred 128 ms window alone would
//   be 64 ms of lookahead, beyond a 30 ms live budget. Live: one 512-sample window for loudness and
//   centroid (one FFT serves both), YIN with tau_max = window / 2 - 1 = 255 lags and the default
//   integration window of one longest period (so the YIN segment is window - 1 samples). Supported f0:
//   63..2000 Hz at 16 kHz (f0_min = rate / (window / 2 - 1.5), f0_max = offline's 2000 Hz). Steady
//   levels agree with offline (the loudness is normalised by the window's power); the shorter window
//   follows attacks and releases faster and reads low partials with coarser resolution.
//   Measured on a synthesised sung phrase (tests/test_stream_conditioning.cpp): f0 within 8.9 cents of
//   the truth and 11.8 cents of analyse_conditioning; loudness within 0.10 dB of offline in sustains
//   (0.56 dB within 70 ms of an attack, where the 128 ms window still reads the attack).
// - Centroid. A magnitude-weighted centroid depends on the window length: the live one (512) reads
//   about 7 % lower than offline's (1024) on a clean 150..330 Hz voice and about 10 % lower with a
//   -50 dB noise floor (noise weighs more in a longer window). Not corrected: the bias depends on the
//   signal.
// - Unvoiced f0. Offline fills an unvoiced frame with the nearest voiced f0, looking ahead; live holds
//   the last voiced f0 (before any voiced frame: unvoiced_f0_hz, or 110 Hz).
// - Voicing. Offline takes YIN's per-frame verdict. Live adds hysteresis so the verdict does not
//   flicker: it turns on after on_frames consecutive YIN-voiced frames (d' below 0.1) whose loudness
//   is above gate_loudness_db, and off after off_frames consecutive frames whose confidence
//   (1 - d') is below stay_confidence or whose loudness is below the gate. f0 is taken from
//   YIN-voiced frames while the verdict is on, and held otherwise.
// - Level fitting. Offline scales the clip by one gain that puts its peak frame loudness into
//   [fit_peak_loudness_lo_db, hi]. Live cannot see the peak to come, so it tracks a running peak:
//   instant attack on any frame above the gate (a loud note pulls the gain down at once), a slow
//   release of release_db_per_s that runs only while a note is voiced (a pause, or room noise, never
//   raises the gain), starting
//   from initial_peak_db (default: the range's low end, i.e. gain 0 until the input proves louder
//   or, slowly, quieter). The target gain from that peak (offline's rule) is smoothed in dB by a
//   one-pole with gain_down_s (fast, so a loud input is brought into range within ~0.1 s) and gain_up_s
//   (slow). Loudness and the gain move together, so output = model(input + gain) - gain tracks the
//   input's level.
// - Robustness. Non-finite samples are read as 0 and samples are clamped to +-1000 (any real audio is
//   far inside), so every output is finite; silence gives unvoiced frames at the loudness floor.
// - MFCCs (the encoder's input) are not computed: the streaming decoder takes a latent instead.
//
// [SECTION] Real-time rules
// No heap allocation after init (a mirrored ring buffer of input, fixed FFT workspaces, a fixed
// queue of ready frames), forward only, no threads, no locks. If the caller stops popping, the queue
// keeps the newest frames and counts the dropped ones.
#pragma once

#include "dsp/loudness.h"
#include "dsp/pitch.h"
#include "dsp/types.h"
#include "nn/conditioning.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ddsp::nn {

struct StreamFrame {
    int64_t index = 0;           // frame k: describes the input around sample k * hop
    double f0_hz = 110.0;        // held at the last voiced f0 when unvoiced (fallback before any)
    double loudness_db = -120;   // A-weighted, after level fitting
    double raw_loudness_db = -120;  // A-weighted, before level fitting
    double centroid_hz = 0.0;
    bool voiced = false;         // after hysteresis
    double confidence = 0.0;     // 0..1: 1 - YIN's d' at the chosen lag
    double gain_db = 0.0;        // level-fitting gain applied; scale the decoder's output by -gain_db
};

// Live-only settings (the rest comes from ConditioningParams). Defaults are for voice and whistling.
struct StreamOptions {
    int window = 0;                 // analysis window (power of two >= 64); 0: largest <= 32 ms
    double f0_max_hz = 2000.0;      // as offline YIN
    // Voicing hysteresis.
    int on_frames = 2;              // consecutive YIN-voiced frames to turn voicing on
    int off_frames = 3;             // consecutive weak frames to turn it off (12 ms at 250 Hz)
    double stay_confidence = 0.7;   // a voiced note stays on while 1 - d' >= this
    double gate_loudness_db = -70;  // below this raw A-weighted loudness nothing is voiced
    // Causal level fitting (ConditioningParams::fit_level).
    double initial_peak_db = 1e9;   // assumed peak before any input; 1e9: fit_peak_loudness_lo_db
    double release_db_per_s = 2.0;  // running-peak release while a note is voiced
    double gain_down_s = 0.03;      // time constant of the applied gain when it falls
    double gain_up_s = 0.5;         // ... and when it rises
    int queue_frames = 256;         // ready frames kept until popped (1 s at 250 Hz)
};

class StreamConditioner {
public:
    // sample_rate_hz: the model's rate; params as offline (frame rate, fit_level, range). Sizes every
    // buffer. Fails with a one-line message on bad parameters.
    bool init(double sample_rate_hz, const ConditioningParams& params, std::string& error);
    bool init(double sample_rate_hz, const ConditioningParams& params, const StreamOptions& options,
              std::string& error);
    // Back to the state right after init (the input before the next push is silence).
    void reset();
    // Appends n samples; returns how many frames became ready. No allocation.
    int push(const Real* x, int n);
    bool pop(StreamFrame& out);  // oldest ready frame; false when none
    int frames_ready() const { return queue_count_; }
    int64_t dropped_frames() const { return dropped_; }

    int hop() const { return hop_; }
    // Frame k describes the input around sample k * hop (as offline); it is ready once input sample
    // k * hop + latency_samples() has arrived.
    int latency_samples() const { return latency_; }
    double latency_ms() const { return 1000.0 * latency_ / sample_rate_hz_; }
    int window_samples() const { return window_; }
    double f0_min_hz() const { return yin_params_.f0_min_hz; }
    double f0_max_hz() const { return yin_params_.f0_max_hz; }
    // The offline analysis parameters that give the same per-frame numbers (hop included).
    const dsp::YinParams& yin_params() const { return yin_params_; }
    const dsp::LoudnessParams& loudness_params() const { return loudness_params_; }

private:
    void analyse_frame();  // frame next_frame_, whose last sample has just arrived

    // Settings.
    double sample_rate_hz_ = 16000;
    ConditioningParams params_;
    StreamOptions options_;
    dsp::YinParams yin_params_;
    dsp::LoudnessParams loudness_params_;
    int hop_ = 64, window_ = 512, latency_ = 255, yin_segment_ = 0;
    double fallback_f0_hz_ = 110.0;
    double release_db_per_frame_ = 0.0, gain_down_coef_ = 0.0, gain_up_coef_ = 0.0;

    // Workspaces (sized by init).
    dsp::YinFrameAnalyser yin_;
    dsp::FrameLoudness loudness_;
    std::vector<double> magnitude_;
    // Input ring of ring_size_ samples stored twice (ring_[i] == ring_[i + ring_size_]), so every
    // window is one contiguous slice. Time before the first sample reads as zeros, as offline.
    std::vector<Real> ring_;
    int ring_size_ = 0;
    std::vector<StreamFrame> queue_;
    int queue_head_ = 0, queue_count_ = 0;

    // Stream state (reset() clears it).
    int64_t samples_in_ = 0;   // samples pushed so far
    int64_t next_frame_ = 0;   // the next frame to analyse
    int64_t dropped_ = 0;
    bool voiced_ = false;
    int on_count_ = 0, off_count_ = 0;
    bool have_f0_ = false;
    double held_f0_hz_ = 110.0;
    double peak_db_ = -36.0, gain_db_ = 0.0;
};

}  // namespace ddsp::nn
