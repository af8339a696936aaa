// Training and fine-tuning the DDSP autoencoder, and measuring it.
//
// Training (`ddsp train`): Adam on mean over a batch of clips of MR-STFT(audio, clip) + kl_weight *
// KL, z drawn by the reparameterisation trick. The graph is rebuilt per step on top of the weights
// (Tape::truncate), because each clip has its own f0 track. Batches and the noise eps are drawn
// from an Rng seeded by (seed, step), so a run resumed from a checkpoint continues exactly as if it
// had not stopped.
//
// Fine-tuning (the studio's "Fine-tune on this recording"): one clip, z a free leaf starting at the
// encoder's mean, Adam on the decoder's weights and z (the encoder stays fixed); the graph is built
// once and re-run, so a step allocates nothing.
//
// Evaluation (the README's ablation table): z = mu per clip, reporting the DDSP MR-STFT distance,
// f0 L1 in cents (YIN on the reconstruction against the clip's f0 on frames both call voiced) and
// loudness L1 in dB (frames where the clip is above -70 dB).
#pragma once

#include "ad/adam.h"
#include "match/loss.h"
#include "nn/autoencoder.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ddsp::nn {

struct TrainClip {
    std::string name, instrument, split;
    int midi = 0, velocity = 0;
    Vec audio;
    Conditioning cond;
};

// Reads DIR/metadata.jsonl and DIR/wav/<name>.wav (scripts/make-dataset.sh), every split, in file
// order, and analyses each clip at sample_rate_hz as recorded (no level fitting: the training set
// defines the levels the model knows).
bool load_dataset(const std::string& dir, double sample_rate_hz, const ConditioningParams& params,
                  std::vector<TrainClip>& out, std::string& error);

struct TrainOptions {
    int steps = 20000;
    int batch = 4;
    double learning_rate = 1e-3;
    double final_learning_rate = 1e-4;  // exponential decay from learning_rate over `steps`
    double clip_norm = 5;               // global gradient norm
    uint64_t seed = 1;
};

struct StepResult {
    double loss = 0;         // mean MR-STFT + kl_weight * mean KL
    double reconstruction = 0;  // mean MR-STFT
    double kl = 0;           // mean KL (nats)
    bool applied = false;    // false: a non-finite gradient, the step was skipped
};

class Trainer {
public:
    Trainer(const AutoencoderConfig& config, const TrainOptions& options);

    // One optimisation step on clips chosen from `train` by the (seed, step) Rng.
    StepResult step(const std::vector<TrainClip>& train);
    int step_count() const { return adam_.steps(); }
    double learning_rate() const;

    Autoencoder& model() { return *model_; }
    ad::Tape& tape() { return tape_; }
    TrainOptions& options() { return options_; }

    // Weights + Adam moments + step in one safetensors file (metadata "checkpoint_step").
    TensorFile checkpoint(const std::map<std::string, std::string>& metadata = {}) const;
    // Restores a checkpoint written by checkpoint() for the same config. All or nothing.
    bool restore(const TensorFile& file, std::string& error);

private:
    AutoencoderConfig config_;
    TrainOptions options_;
    ad::Tape tape_;
    std::unique_ptr<Autoencoder> model_;
    ad::Adam adam_;
    int weights_mark_ = 0;  // tape size with only the weights on it
};

struct EvalMetrics {
    int clips = 0;
    double mrstft = 0;           // mean DDSP MR-STFT distance
    double f0_l1_cents = 0;      // mean over clips
    double loudness_l1_db = 0;   // mean over clips
    double kl = 0;               // mean KL of the posterior
};

// Renders every clip with z = its posterior mean (forward only) and measures it.
EvalMetrics evaluate(const Autoencoder& model, const std::vector<const TrainClip*>& clips);

// Per-instrument mean of the posterior means, the two principal directions of all clips' means,
// the origin (mean of all) and the pad extent: the "latent_space" JSON of autoencoder.h.
std::string latent_space_json(const Autoencoder& model, const std::vector<const TrainClip*>& clips);

// [SECTION] fine-tuning on one recording

struct FineTuneOptions {
    double learning_rate = 3e-4;
    double z_learning_rate = 1e-2;
    double clip_norm = 5;
    double max_seconds = 4;  // longer recordings are cut to their first max_seconds
};

class FineTuner {
public:
    // Copies `weights` (a model file's tensors and config) and builds the graph for `audio` (mono,
    // at the model's sample rate). Fails with a message on bad weights or unusable audio.
    static std::unique_ptr<FineTuner> create(const TensorFile& weights, const Vec& audio, const FineTuneOptions& opt,
                                             std::string& error);

    // One Adam step; returns the MR-STFT loss before the step (NaN-safe: a non-finite gradient is
    // skipped and the weights stay as they were).
    double step();
    int steps() const { return steps_; }
    double loss() const;                 // at the current weights (after the last step's forward)
    Arr z() const { return z_.value(); }  // the recording's latent (1 x z_dims)
    Vec render() const;                   // the reconstruction at the current weights
    TensorFile weights(const std::map<std::string, std::string>& metadata) const;
    const Autoencoder& model() const { return *model_; }

private:
    FineTuner() = default;
    AutoencoderConfig config_;
    FineTuneOptions options_;
    std::unique_ptr<ad::Tape> tape_;
    std::unique_ptr<Autoencoder> model_;
    ad::Adam decoder_adam_, z_adam_;
    ad::Var z_, audio_, loss_;
    std::unique_ptr<match::MrStftLoss> mrstft_;
    int steps_ = 0;
};

}  // namespace ddsp::nn
