// The live engine: what runs on the audio thread (the studio's AudioWorklet, `ddsp stream`).
// Eight voices of a synth's streaming kernel (synth/stream.h) for the keyboard and MIDI, mixed at
// the preset's rate and resampled to the output's; parameter changes glide in over 5 ms.
//
//   engine::LiveEngine live;
//   live.init(48000, 128, error);                     // allocates everything
//   live.load_preset(preset, error);                  // allocates (message handler, not process)
//   live.note_on(60, 0.8);  live.set_params({{"decay_s", {3}}}, error);
//   live.process(nullptr, out, 128);                  // audio thread: no allocation
//
// Latency of a note: the quantum it lands in plus the rate converter's delay
// (note_latency_samples(): 16 kHz -> 48 kHz, 101 output samples = 2.1 ms).
//
// The decoder path (load_model): the DDSP autoencoder's decoder frame by frame (nn/stream_decoder.h)
// with the panel's z, driven either by the keyboard (Source::decoder_keys: monophonic, the last held
// note's pitch, loudness from its velocity with a short attack and release) or by the live input
// (Source::decoder_input: live timbre transfer). The input, at the output rate, is converted to the
// model's rate, analysed frame by frame (nn/stream_conditioning.h: YIN f0, A-weighted loudness,
// causal level fitting), decoded, and converted back:
//   input_latency_samples() = down-converter + analysis look-ahead + decoder (next frame, noise
//   FIR) + one hop of buffering + up-converter; 16 kHz model at 48 kHz: see input_latency_ms().
#pragma once

#include "dsp/resample.h"
#include "engine/synth_job.h"
#include "match/params_json.h"
#include "nn/remap.h"
#include "nn/stream_conditioning.h"
#include "nn/stream_decoder.h"
#include "synth/stream.h"

#include <memory>
#include <string>
#include <vector>

namespace ddsp::engine {

// [SECTION] presets

// A streaming preset from a parameter file: the synth, its table at the file's rate and duration
// (else the synth's defaults; rate_override_hz > 0 wins), the values resolved (clamped), the pitch
// the preset plays at. excitation_head (ks: the recording's first samples at that rate) and
// f0_frames_hz (ddsp: its f0 conditioning per frame) may be empty.
bool make_stream_preset(const match::ParamFile& file, double rate_override_hz, uint64_t seed,
                        const Vec& excitation_head, const Vec& f0_frames_hz, synth::StreamPreset& out,
                        std::string& error);
// The preset of a job as `ddsp render --target` plays it: the synth's analysis of the target
// (ks's excitation head, ddsp's f0 track) and the target's duration.
bool make_stream_preset(SynthJob& job, Target& target, uint64_t seed, synth::StreamPreset& out, std::string& error);
// The same from a parameter file's text (what the studio posts to its worklet); errors about the
// text start "params: ".
bool stream_preset_from_text(const std::string& params_text, uint64_t seed, const Vec& excitation_head,
                             const Vec& f0_frames_hz, synth::StreamPreset& out, std::string& error);

double midi_to_hz(double midi);

// [SECTION] the engine

struct LiveStats {
    double sample_rate_hz = 0;
    long long quanta = 0;        // process() calls
    long long frames = 0;
    double output_peak = 0;      // since the last take_peak()
    int voices_active = 0;
    long long notes = 0;         // note-ons so far
    long long steals = 0;        // voices taken from a sounding note
    long long non_finite = 0;    // samples a kernel produced as NaN/Inf (written as 0)
    long long clipped = 0;       // samples beyond +-1 (clipped)
    long long decoder_frames = 0;   // frames the decoder played
    long long decoder_underruns = 0;  // output samples the decoder path could not deliver in time
    long long onsets = 0;        // onsets the remap path detected in the live input
    double input_f0_hz = 0;      // the live input's latest analysed frame
    double input_loudness_db = -120;
    bool input_voiced = false;
};

class LiveEngine {
public:
    enum class Source { synth, decoder_keys, decoder_input, remap_input };
    static constexpr int kPolyphony = 8;        // notes held at once
    static constexpr int kVoiceSlots = 12;      // plus voices still fading after a steal
    static constexpr double kStealSeconds = 0.005;

    bool init(double output_rate_hz, int max_block, std::string& error);
    // Loads a preset into every voice (allocates: call outside the audio callback). Sounding notes stop.
    bool load_preset(const synth::StreamPreset& preset, std::string& error);
    bool has_preset() const { return loaded_; }
    const synth::StreamPreset& preset() const { return preset_; }
    // Changes some values (names and units of the parameter file; scalars fill vector parameters;
    // finite values are clamped into range, NaN/Inf and unknown names are errors). Glides.
    bool set_params(const synth::ParamValues& changes, std::string& error);
    // midi in [0, 127]; velocity in (0, 1] (0 means note-off, as MIDI). A drum plays a hit tuned
    // to the note; a repeated note retriggers its voice.
    void note_on(int midi, double velocity) { note_on(midi, velocity, note_pitch_hz(midi)); }
    // The pitch a key plays: its equal-tempered pitch (A4 = 440 Hz), except on a drum, where keys
    // transpose the preset's tuning: the key nearest the preset's pitch plays it unchanged.
    double note_pitch_hz(int midi) const;
    // The same with the pitch given (f0_hz <= 0: the preset's own pitch); `key` names the note for
    // note_off.
    void note_on(int key, double velocity, double f0_hz);
    void note_off(int midi);
    void all_notes_off();

    // Renders `frames` samples at the output rate into out (mono). `input` (may be null) is the
    // live input at the output rate, for the decoder path. No allocation.
    void process(const Real* input, Real* out, int frames);

    // [decoder path]
    // The model's decoder and an analyser at its rate (allocates; outside the audio callback).
    bool load_model(const nn::Autoencoder& model, std::string& error);
    bool has_model() const { return model_loaded_; }
    void set_z(const Real* z, int n);
    // What plays: the synth's voices (default), the decoder from the keyboard, or the decoder from
    // the input. Switching restarts the decoder path (silence first, no click from old state).
    bool set_source(Source source, std::string& error);
    Source source() const { return source_; }
    int input_latency_samples() const;  // algorithmic, input sample -> output sample
    double input_latency_ms() const { return 1000.0 * input_latency_samples() / output_rate_hz_; }
    int decoder_key_latency_samples() const;

    // [timbre remapping] A remap model (nn/remap.h): its 808 preset becomes the live preset and,
    // with Source::remap_input, every onset of the live input triggers a hit modulated by the
    // network from the input's first onset_window_s (allocates; outside the audio callback).
    bool load_remap(const nn::RemapModelFile& model, std::string& error);
    bool has_remap() const { return remap_loaded_; }
    // Onset to sound: the analysis window plus the converter (detection itself adds ~1 ms).
    int remap_latency_samples() const;

    double output_rate_hz() const { return output_rate_hz_; }
    int note_latency_samples() const { return resampler_.latency_samples(); }
    const LiveStats& stats() const { return stats_; }
    double take_peak();

private:
    int find_voice_for(int midi) const;
    int take_voice();
    int allocate_voice();
    void reset_decoder_path();
    void run_decoder(const Real* input, Real* out, int frames);
    void run_remap_detector(const Real* input, int frames);
    void fifo_push(const Real* x, int n);
    int fifo_pop(Real* x, int n);

    double output_rate_hz_ = 48000;
    int max_block_ = 128;
    bool loaded_ = false;
    synth::StreamPreset preset_;
    synth::ParamValues values_;  // the resolved values the voices glide to
    std::vector<std::unique_ptr<synth::StreamVoice>> voices_;
    int voice_note_[kVoiceSlots] = {};
    long long voice_age_[kVoiceSlots] = {};
    long long age_counter_ = 0;
    dsp::StreamResampler resampler_;
    std::vector<Real> mix_;  // at the preset's rate
    LiveStats stats_;

    // [decoder path]
    bool model_loaded_ = false;
    Source source_ = Source::synth;
    nn::StreamDecoder decoder_;
    nn::StreamConditioner conditioner_;
    dsp::StreamResampler dec_down_, dec_up_;  // output rate -> model rate -> output rate
    std::vector<Real> dec_in_, dec_hop_, dec_out_;  // model-rate input chunk, one frame, output chunk
    std::vector<Real> fifo_;                         // decoded samples waiting for the up-converter
    int fifo_read_ = 0, fifo_count_ = 0;
    int prefill_ = 0;                                // samples of silence the input path starts with
    // [timbre remapping] the network, the preset's u, the onset detector on the live input.
    bool remap_loaded_ = false;
    nn::RemapForward remap_net_;
    nn::OnsetFeatureAnalyser onset_analyser_;
    std::vector<double> remap_u0_, remap_d_, remap_u_;
    std::vector<Real> remap_ring_, remap_window_;
    long long remap_pos_ = 0;          // input samples seen
    long long remap_pending_at_ = -1;  // onset position whose window is being collected
    long long remap_last_onset_ = -1000000;
    double env_fast_ = 0, env_fast_k_ = 0;
    std::vector<double> env_ring_;  // the energy envelope's recent past (the onset's reference)
    int env_lookback_[2] = {1, 1};
    // Keyboard source: the held notes (most recent last), the loudness envelope.
    int key_stack_[16] = {};
    int key_count_ = 0;
    double key_f0_hz_ = 220, key_level_db_ = -120, key_target_db_ = -120;
};

}  // namespace ddsp::engine
