// The DDSP autoencoder: Encoder (MFCC -> Gaussian z) + Decoder (f0, loudness, [centroid], z ->
// harmonic + noise + reverb), its loss, and its file format.
//
//   loss = MR-STFT(audio, target) (DDSP's: FFT 2048..64, linear + log magnitude)
//        + kl_weight * KL(q(z | mfcc) || N(0, I))
//
// File (safetensors, float32): every weight under its name (encoder.*, decoder.*) and metadata
//   "format"       "ddsp.cpp/autoencoder/1"
//   "config"       JSON: {"z_dims", "hidden", "mlp_layers", "gru_units", "harmonics", "noise_bands",
//                  "sample_rate", "frame_rate", "use_noise", "use_reverb", "reverb_seconds",
//                  "use_centroid", "noise_seed", "encoder_hidden", "mfcc_coefficients", "mfcc_hop",
//                  "kl_weight"}
//   "latent_space" optional JSON written by training: {"instruments": [{"name", "mean": [z]}],
//                  "axes": [[z], [z]] (the two most informative directions, unit length),
//                  "origin": [z], "scale": [s0, s1] (pad extent along each axis)}
//   any other metadata is kept and written back (training records its step, seed, data).
// A training checkpoint (nn/train.h) is the same file plus Adam's moments under "adam.m.<name>" and
// "adam.v.<name>"; load_weights ignores those, so a checkpoint plays like a model.
#pragma once

#include "nn/conditioning.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "nn/safetensors.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ddsp::nn {

struct AutoencoderConfig {
    DecoderConfig decoder;            // decoder.z_dims is the latent size
    int encoder_hidden = 64;
    ConditioningParams conditioning;  // frame rate, MFCC hop and coefficients
    double kl_weight = 0.01;
};

std::string autoencoder_config_json(const AutoencoderConfig& config);
bool autoencoder_config_from_json(const std::string& json, AutoencoderConfig& out, std::string& error);

class Autoencoder {
public:
    Autoencoder(ad::Tape& tape, const AutoencoderConfig& config, uint64_t seed = 1);

    struct Output {
        Posterior posterior;
        ad::Var z;      // 1 x z_dims as fed to the decoder
        ad::Var audio;  // num_samples x 1
        ad::Var kl;     // 1 x 1
    };
    // Builds the graph for one clip on the model's tape. eps: 1 x z_dims draw for the
    // reparameterisation (nullptr: z = mu, as at inference). z_override (nullptr: encode) replaces
    // the encoder's output by a given latent (a leaf the caller made, e.g. a learnable one).
    Output forward(ad::Tape& tape, const Conditioning& c, const Arr* eps = nullptr, ad::Var z_override = {});

    // The posterior mean of a clip (forward-only, on a scratch tape).
    Arr encode_mean(const Conditioning& c) const;

    Encoder& encoder() { return encoder_; }
    Decoder& decoder() { return *decoder_; }
    const AutoencoderConfig& config() const { return config_; }
    int z_dims() const { return config_.decoder.z_dims; }
    ParamStore& encoder_store() { return encoder_store_; }
    std::vector<Param> params() const;  // encoder's then decoder's
    long long num_values() const;

    std::map<std::string, Arr> state() const;
    bool load(const std::map<std::string, Arr>& values, std::string& error);  // all or nothing

    // Weights + config (+ extra metadata) as a safetensors file.
    TensorFile to_file(const std::map<std::string, std::string>& extra_metadata = {}) const;

private:
    AutoencoderConfig config_;
    ad::Tape* tape_;
    ParamStore encoder_store_;
    Encoder encoder_;
    std::unique_ptr<Decoder> decoder_;
};

// Reads a model file's config; the caller then constructs an Autoencoder and calls load_weights.
bool read_autoencoder_config(const TensorFile& file, AutoencoderConfig& out, std::string& error);
// Builds a model on `tape` from a file (config from its metadata, then the weights). nullptr and a
// one-line message on failure.
std::unique_ptr<Autoencoder> load_autoencoder(ad::Tape& tape, const TensorFile& file, std::string& error);
// Loads the weights of `file` into `model` (names and shapes must match exactly).
bool load_weights(const TensorFile& file, Autoencoder& model, std::string& error);

// The model's audio for conditioning `c` and latent `z` (1 x z_dims), forward only (on a scratch
// copy of the weights, so `model`'s tape is untouched). Timbre transfer and evaluation use it.
Vec render_with_latent(const Autoencoder& model, const Conditioning& c, const Arr& z);

// Plain helpers shared by training, fine-tuning and the CLI.
std::map<std::string, Arr> tensors_to_state(const TensorFile& file);
void state_to_tensors(const std::map<std::string, Arr>& state, TensorFile& out);

}  // namespace ddsp::nn
