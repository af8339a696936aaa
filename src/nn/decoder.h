// DDSP's RnnFcDecoder (Engel et al. 2020), small: per-frame conditioning -> harmonic-plus-noise
// controls -> audio through the synth's building blocks (synth/ddsp_synth.h).
//
//   inputs per frame   f0_scaled = hz_to_midi(f0_hz) / 127, loudness_scaled = loudness_db / 80 + 1
//                      (DDSP's scaling: -80 dB -> 0, 0 dB -> 1), optional centroid_scaled =
//                      hz_to_midi(centroid_hz) / 127, and z (1 x z_dims, the same for all frames)
//   each input         -> its own Mlp (Linear -> LayerNorm -> leaky ReLU, mlp_layers times)
//   concat (columns)   -> Gru -> concat with the input MLP outputs -> Mlp -> Linear
//   outputs            (frames x 1 + harmonics + noise_bands):
//                        amplitude     = exp_sigmoid(out[:, 0])
//                        distribution  = exp_sigmoid(out[:, 1..harmonics]) (harmonic_synth removes
//                                        partials above Nyquist and normalises to sum 1)
//                        noise bands   = exp_sigmoid(out[:, rest] - 5) (DDSP's initial_bias -5:
//                                        starts quiet so the harmonic part is learnt first)
//   audio              dry = harmonic_synth(...) + frequency_filter(seeded uniform noise, bands)
//                      out = dry + dry * ir (with use_reverb): DDSP's trainable reverb, one impulse
//                      response of reverb_seconds shared by every clip, its first tap held at 0 (the
//                      dry path is separate), initialised as quiet noise (uniform +-1e-4)
//
// Frames follow the synth's grid: hop = round(sample_rate / frame_rate), frames = samples / hop + 1.
//
//   ad::Tape tape;
//   nn::Decoder dec(tape, nn::DecoderConfig{}, /*seed=*/1);
//   ad::Var z = tape.variable(Arr::Zero(1, 8));
//   ad::Var audio = dec.forward(tape, f0_hz, loudness_db, z, 16000);   // (16000 x 1)
#pragma once

#include "ad/tape.h"
#include "nn/layers.h"

#include <cstdint>
#include <map>
#include <string>

namespace ddsp::nn {

struct DecoderConfig {
    int z_dims = 8;          // 0: no z input
    int hidden = 64;         // width of every Mlp
    int mlp_layers = 2;
    int gru_units = 64;
    int harmonics = 60;
    int noise_bands = 65;    // B - 1 a power of two (frequency_filter)
    double sample_rate_hz = 16000;
    double frame_rate_hz = 250;
    bool use_noise = true;
    bool use_reverb = false;
    double reverb_seconds = 0.5;  // impulse-response length (taps = round(seconds * sample_rate))
    bool use_centroid = false;
    uint64_t noise_seed = 0;  // the white noise fed to the noise filter
};

// Concatenates along the feature axis: parts (T x c_i, same T) -> T x sum(c_i). Exact backward.
ad::Var concat_cols(const std::vector<ad::Var>& parts);

// DDSP's input scalings (plain functions, for tests and callers preparing features).
double scale_f0_hz(double f0_hz);            // hz_to_midi(f0) / 127, midi clamped at 0
double scale_loudness_db(double loudness_db);  // loudness_db / 80 + 1

class Decoder {
public:
    // Creates every weight on `tape` (Glorot / PyTorch-GRU initialisation from `seed`).
    Decoder(ad::Tape& tape, const DecoderConfig& config, uint64_t seed = 1);

    int hop() const;
    int num_frames(int num_samples) const { return num_samples / hop() + 1; }

    // Builds the graph on the decoder's tape and returns the audio (num_samples x 1). f0_hz and
    // loudness_db hold num_frames(num_samples) values each; z is 1 x z_dims (ignored and may be
    // invalid when z_dims is 0); centroid_hz is needed only with use_centroid.
    ad::Var forward(ad::Tape& tape, const Vec& f0_hz_frames, const Vec& loudness_db_frames, ad::Var z,
                    int num_samples, const Vec& centroid_hz_frames = Vec());

    // The controls of the last forward() (frames x 1, frames x harmonics, frames x bands).
    ad::Var amplitude() const { return amplitude_; }
    ad::Var distribution() const { return distribution_; }
    ad::Var noise_magnitudes() const { return noise_magnitudes_; }
    // The reverb's impulse response as used (first tap 0); invalid without use_reverb.
    ad::Var reverb_ir() const { return reverb_ir_used_; }
    // The output of the last forward() before the reverb (the same as the audio without it).
    ad::Var dry() const { return dry_; }

    const DecoderConfig& config() const { return config_; }
    ParamStore& store() { return store_; }
    const std::vector<Param>& params() const { return store_.params(); }
    long long num_values() const { return store_.num_values(); }
    // Current values by name (for saving).
    std::map<std::string, Arr> state() const;
    // Sets every parameter from `values`. All-or-nothing: false with a message (nothing changed)
    // if a parameter is missing, a shape differs, or a name is unknown. Re-run tape.forward().
    bool load(const std::map<std::string, Arr>& values, std::string& error);

private:
    DecoderConfig config_;
    ad::Tape* tape_;
    ParamStore store_;
    Mlp f0_mlp_, loudness_mlp_, centroid_mlp_, z_mlp_, out_mlp_;
    Gru gru_;
    Linear out_;
    ad::Var reverb_ir_;  // the trainable taps (taps x 1)
    ad::Var reverb_ir_used_, dry_;
    ad::Var amplitude_, distribution_, noise_magnitudes_;
};

}  // namespace ddsp::nn
