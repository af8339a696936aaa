// DiffKS's autoencoders (the inference experiment of "Differentiable Karplus-Strong Synthesis for
// Neural Resonance Optimisation", WASPAA 2025), from the paper's description: an encoder predicts
// the Karplus-Strong string's controls from a pluck, and the decoder is the differentiable string
// itself (synth/ks.h), so a pluck is matched in one forward pass.
//
//   clip (cut or padded to `seconds`) -> MFCCs (frames x C) x 0.05 and log2(f0 / 220 Hz) per frame
//     -> Linear (C + 1 -> H) -> GRU (H)
//     -> the mean over each of the string's F control-frame spans -> Linear (H -> K + 2):
//        decay_s and the K + 1 loop taps of that control frame
//     -> the mean over all frames -> Linear (H -> E + 1): exc_reflection (E) and exc_gain_db
//   all in the ks table's unconstrained space (its scale maps them into range); the output layers
//   start at the table's defaults. f0 is an input, not an output: the clip's note (variant `meta`),
//   or YIN's (variant `tracker`). residual_mix is 0 (the noise burst: a recording's residual would
//   hand the decoder the answer).
//
// Losses: `meta` and `tracker` are unsupervised, the DiffKS multi-resolution STFT loss between the
// string's render and the clip; `sup` is supervised on synthetic strings, the mean squared error of
// the predicted unconstrained parameters against the known ones (the paper's parameter loss).
//
// Names: ks_encoder.in.{w,b}, ks_encoder.gru.*, ks_encoder.frame.{w,b},
// ks_encoder.global.{w,b}. The model file: safetensors with metadata "format" "ddsp.cpp/ks-ae/1" and
// "config" (ks_autoencoder_config_json).
#pragma once

#include "ad/adam.h"
#include "dsp/mfcc.h"
#include "nn/layers.h"
#include "nn/safetensors.h"
#include "synth/ks.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ddsp::nn {

enum class KsVariant { meta, tracker, sup };
bool ks_variant(const std::string& name, KsVariant& out, std::string& error);
const char* ks_variant_name(KsVariant v);

struct KsAutoencoderConfig {
    KsVariant variant = KsVariant::meta;
    double sample_rate_hz = 16000;
    double seconds = 2.0;  // clips are cut or zero-padded to this
    int mfcc_coefficients = 30;
    int hop = 256;         // MFCC hop (62.5 frames/s at 16 kHz)
    int hidden = 64;
    synth::KsOptions ks;   // the string (loop filter order, control frames, excitation order ...)
};
std::string ks_autoencoder_config_json(const KsAutoencoderConfig& c);
bool parse_ks_autoencoder_config(const std::string& json, KsAutoencoderConfig& out, std::string& error);

class KsAutoencoder {
public:
    KsAutoencoder(ad::Tape& tape, const KsAutoencoderConfig& config, uint64_t seed);

    const KsAutoencoderConfig& config() const { return config_; }
    int num_samples() const { return num_samples_; }
    const std::vector<synth::ParamSpec>& table() const { return table_; }
    int num_params() const { return num_params_; }

    // The clip cut or zero-padded to num_samples().
    Vec fit_length(const Vec& clip) const;
    // The encoder's input: MFCC frames of the (fitted) clip. Fails on non-finite audio.
    bool features(const Vec& clip, Arr& out, std::string& error) const;
    // The string's unconstrained parameters (num_params x 1) for a clip of pitch f0_hz, on the
    // weights' tape.
    ad::Var encode(const Arr& features, double f0_hz) const;
    // The string's sound for u (num_samples x 1).
    ad::Var render(ad::Var u) const;
    // The physical values of u (a parameter file's), and u of physical values (missing ones: the
    // table's defaults).
    synth::ParamValues to_physical(const Vec& u) const;
    bool to_unconstrained(const synth::ParamValues& values, Vec& u, std::string& error) const;
    // Matching in one pass: the string's physical parameters for a clip (at the model's rate) of
    // pitch f0_hz, as the model decodes them (residual_mix 0: the noise burst). Forward only; the
    // weights' tape is left as it was.
    bool predict(const Vec& clip, double f0_hz, synth::ParamValues& out, std::string& error) const;
    // Which entries of u the encoder predicts (the others are given: f0, residual_mix).
    const std::vector<int>& predicted() const { return predicted_; }

    ParamStore& store() { return store_; }
    const ParamStore& store() const { return store_; }
    std::map<std::string, Arr> state() const;
    bool load(const std::map<std::string, Arr>& state, std::string& error);
    TensorFile to_file(const std::map<std::string, std::string>& metadata = {}) const;

private:
    KsAutoencoderConfig config_;
    int num_samples_ = 0;
    ParamStore store_;
    Linear in_, frame_out_, global_out_;
    Gru gru_;
    std::unique_ptr<synth::Synth> synth_;
    synth::SynthConfig synth_cfg_;
    std::vector<synth::ParamSpec> table_;
    int num_params_ = 0;
    Vec u_default_;
    std::vector<int> predicted_;
    int f0_index_ = 0;
    std::unique_ptr<dsp::MfccPlan> mfcc_;
};

// A model file (to_file) on `tape`; one-line errors.
std::unique_ptr<KsAutoencoder> load_ks_autoencoder(ad::Tape& tape, const TensorFile& file, std::string& error);

// [SECTION] training

struct KsClip {
    std::string name, split;
    Vec audio;               // num_samples at the model's rate
    Arr features;            // the encoder's input
    double f0_hz = 0;        // what the model is told: the note's (meta, sup) or YIN's (tracker)
    double note_f0_hz = 0;   // the note's, for scoring
    Vec u_true;              // synthetic clips: the string's unconstrained parameters (else empty)
};

// A plucked-string data set (scripts/make-dataset.sh --set plucks | ks-synthetic): DIR/metadata.jsonl
// rows {name, split, f0_hz or midi, params?} and DIR/wav/<name>.wav. `params` (synthetic strings) is
// the path of a ks parameter file, relative to DIR. Each clip is resampled
// to the model's rate and fitted to its length; f0 is the note's, or YIN's for the tracker variant
// (a clip where YIN finds no note keeps the note's, counted in `yin_missed`). The sup variant needs
// every clip's parameters.
bool load_ks_dataset(const std::string& dir, const KsAutoencoder& model, std::vector<KsClip>& out, int& yin_missed,
                     std::string& error);

// The loss of one clip for the model's variant, on the weights' tape (1 x 1).
ad::Var ks_clip_loss(const KsAutoencoder& model, const KsClip& clip);

// Scores of a model's one-pass predictions on clips: the DiffKS MR-STFT distance of the render,
// the parameter error (mean squared, unconstrained, predicted entries; clips with parameters only),
// and the render's pitch error against the note (YIN, |cents|).
struct KsEvalMetrics {
    int clips = 0;
    double mrstft = 0;
    double param_mse = 0;
    int param_clips = 0;
    double f0_cents = 0;
    int f0_clips = 0;  // clips where YIN found a note in the render
};
KsEvalMetrics evaluate_ks(const KsAutoencoder& model, const std::vector<const KsClip*>& clips);

struct KsTrainOptions {
    int steps = 2000;
    int batch = 4;
    double learning_rate = 1e-3;
    double final_learning_rate = 1e-4;  // exponential decay over `steps`
    double clip_norm = 5;
    uint64_t seed = 1;
};

class KsTrainer {
public:
    KsTrainer(const KsAutoencoderConfig& config, const KsTrainOptions& options);
    // One Adam step on clips drawn from `train` by the (seed, step) Rng; the batch's mean loss
    // (a non-finite gradient skips the update).
    double step(const std::vector<KsClip>& train);
    int step_count() const { return adam_.steps(); }
    // The mean loss over clips (forward only).
    double evaluate(const std::vector<const KsClip*>& clips);
    KsAutoencoder& model() { return *model_; }
    TensorFile checkpoint(const std::map<std::string, std::string>& metadata = {}) const;
    bool restore(const TensorFile& file, std::string& error);

private:
    KsAutoencoderConfig config_;
    KsTrainOptions options_;
    ad::Tape tape_;
    std::unique_ptr<KsAutoencoder> model_;
    ad::Adam adam_;
    int weights_mark_ = 0;
};

}  // namespace ddsp::nn
