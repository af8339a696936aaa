// Timbre remapping (Shier, Saitis, Robertson and McPherson, "Real-time timbre remapping with
// differentiable DSP", NIME 2024), implemented from the paper's description: a drum performance
// plays the differentiable 808 (synth/drum808.h) so that the synth's timbral and dynamic changes
// follow the performer's.
//
//   per hit of the performance (dsp::detect_onsets):
//     onset features  x (kOnsetFeatures): RMS (dB), spectral centroid (octaves above 50 Hz rel.
//                     1 kHz, as match/feature_loss.h) and flatness (dB) of the first
//                     onset_window_s after the onset: all a real-time system has when it must
//                     answer
//     hit features    f (kHitFeatures): the hit's timbre over hit_seconds (match::timbre_features
//                     summarised: energy-weighted loudness, centroid and flatness, temporal
//                     centroid)
//   target           the hit's difference from the performance's mean, f - mean(f)
//   model            d = max_modulation * tanh(net((x - mean_x) / std_x)), 14 values added to the
//                    preset's unconstrained u (so every modulated value stays inside its range);
//                    net = linear, or an MLP (2 x 32, or 3 x 128 for "mlp-large")
//   loss             mean over hits and features of |(F(808(u + d)) - F(808(u))) - (f - mean f)| / s_k
//                    with s = (10 dB, 1 octave, 10 dB, 0.1 s): one "just obvious" difference each
//   baselines        no modulation (d = 0) and direct optimisation of d per hit (an upper bound a
//                    real-time system cannot reach: it needs the whole hit)
// Gradients flow through the differentiable 808 to the network (tests/test_remap.cpp checks the
// whole loss against central differences in double).
#pragma once

#include "ad/tape.h"
#include "ad/adam.h"
#include "dsp/fft.h"
#include "dsp/rng.h"
#include "nn/layers.h"
#include "nn/safetensors.h"
#include "synth/synth.h"

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ddsp::nn {

constexpr int kOnsetFeatures = 3;
constexpr int kHitFeatures = 4;
// The scale of each hit feature in the loss and the report: loudness dB, centroid octaves,
// flatness dB, temporal centroid s.
constexpr double kHitFeatureScale[kHitFeatures] = {10.0, 1.0, 10.0, 0.1};
extern const char* const kHitFeatureNames[kHitFeatures];

struct RemapParams {
    double sample_rate_hz = 44100;   // the 808's rate (its presets are written for 44.1 kHz)
    double hit_seconds = 0.25;       // what "the whole hit" is
    double onset_window_s = 0.0058;  // 256 samples at 44.1 kHz
    double max_modulation = 2.0;     // |d| in unconstrained units
};

struct Hit {
    double onset_s = 0;
    std::array<double, kOnsetFeatures> onset{};
    std::array<double, kHitFeatures> timbre{};
};

// The hits of a performance at params.sample_rate_hz (the caller resamples). Fails on an empty or
// non-finite signal; a performance without onsets gives no hits (not an error).
bool analyse_hits(const Vec& x, const RemapParams& params, std::vector<Hit>& hits, std::string& error);

// The onset features of x[start, start + window) (zeros past the end).
std::array<double, kOnsetFeatures> onset_features(const Real* x, int n, int start, int window, double sample_rate_hz);
// The same with buffers sized once (the audio thread's onset path): no allocation per call.
class OnsetFeatureAnalyser {
public:
    void init(int window, double sample_rate_hz);
    // x: `window` samples (non-finite ones count as 0).
    std::array<double, kOnsetFeatures> operator()(const Real* x);
    int window() const { return window_; }

private:
    int window_ = 0;
    double sample_rate_hz_ = 0;
    std::unique_ptr<dsp::RealFft> fft_;
    std::vector<Real> buf_;
    std::vector<Complex> spec_;
};

// The hit features of a signal on its tape: (1 x kHitFeatures).
ad::Var hit_features(ad::Var hit, double sample_rate_hz);

enum class RemapModelKind { linear, mlp, mlp_large };
bool remap_model_kind(const std::string& name, RemapModelKind& out, std::string& error);
const char* remap_model_name(RemapModelKind kind);

// The mapping network on a tape: (n x kOnsetFeatures) raw onset features -> (n x 14) modulations.
class RemapNet {
public:
    RemapNet(ad::Tape& tape, RemapModelKind kind, int outputs, double max_modulation, uint64_t seed);
    ad::Var operator()(ad::Var onset_features) const;
    RemapModelKind kind() const { return kind_; }
    ParamStore& store() { return store_; }
    const ParamStore& store() const { return store_; }
    // Input normalisation (from the training hits).
    std::array<double, kOnsetFeatures> mean{}, scale{1, 1, 1};

private:
    RemapModelKind kind_;
    ParamStore store_;
    Mlp mlp_;
    Linear out_;
    double max_modulation_;
};

// A remapping problem: the preset, the hits, and the loss of any modulations.
class RemapProblem {
public:
    // preset: the drum808's physical values; hits: the training performance's.
    bool init(const synth::ParamValues& preset, const std::vector<Hit>& hits, const RemapParams& params,
              std::string& error);
    int num_params() const { return int(u0_.size()); }
    const Vec& preset_u() const { return u0_; }
    // Hit features of the unmodulated preset, and each hit's target (f - mean f) scaled.
    const std::array<double, kHitFeatures>& preset_features() const { return preset_features_; }
    const std::array<double, kHitFeatures>& performance_mean() const { return mean_; }
    // The loss of modulations d (rows: hits in `which`, cols: num_params) on d's tape, and the
    // per-feature mean absolute errors (in each feature's unit) after forward.
    ad::Var loss(ad::Var d, const std::vector<int>& which, std::vector<ad::Var>* per_feature = nullptr) const;
    const std::vector<Hit>& hits() const { return hits_; }
    const RemapParams& params() const { return params_; }

private:
    std::unique_ptr<synth::Synth> synth_;
    synth::SynthConfig cfg_;
    Vec u0_;
    std::vector<Hit> hits_;
    RemapParams params_;
    std::array<double, kHitFeatures> preset_features_{}, mean_{};
};

// The 808 preset to remap onto: the name of a drum808 preset (synth::drum808_presets) or a drum808
// parameter file's JSON text; its physical values and its parameter-file JSON (kept in the model).
bool remap_preset(const std::string& name_or_json, synth::ParamValues& values, std::string& json, std::string& error);

// [SECTION] training, baselines, the model file

struct RemapTrainOptions {
    RemapModelKind kind = RemapModelKind::mlp;
    int steps = 300;
    int batch = 8;
    double learning_rate = 3e-3;
    uint64_t seed = 0;
};

// Training step by step (the worker's Train/Stop and the CLI): Adam on the loss of batches of
// training hits, drawn in epochs of shuffles from an Rng seeded by options.seed. The net's input
// normalisation is set from the training hits at construction. A checkpoint is the model file plus
// the Adam moments and the step count; restoring it replays the batch sampler to that step, so a
// resumed run continues exactly as if it had not stopped.
class RemapTrainer {
public:
    RemapTrainer(const RemapProblem& problem, std::vector<int> train, const RemapTrainOptions& options, RemapNet& net);
    // One step; the batch's loss before the update (the update is skipped on a non-finite gradient).
    double step();
    int steps() const { return adam_.steps(); }
    // The model file (remap_to_file) with "adam.m.*" / "adam.v.*" tensors and "checkpoint_step".
    TensorFile checkpoint(const std::string& preset_json) const;
    // Restores weights, normalisation, moments and step from checkpoint(); all or nothing.
    bool restore(const TensorFile& file, std::string& error);

private:
    void next_batch();

    const RemapProblem& problem_;
    std::vector<int> train_;
    RemapTrainOptions options_;
    RemapNet& net_;
    ad::Adam adam_;
    int mark_ = 0;
    uint64_t sampler_seed_ = 0;
    std::unique_ptr<dsp::Rng> rng_;
    std::vector<int> order_, pick_;
    size_t cursor_ = 0;
};

// Trains `net` for options.steps (RemapTrainer); the loss of each step in `losses`.
void train_remap(const RemapProblem& problem, const std::vector<int>& train, const RemapTrainOptions& options,
                 RemapNet& net, std::vector<double>& losses);
// Mean absolute error per hit feature (in its unit) on hits `which`: with the net's modulations,
// or with none (net null).
std::array<double, kHitFeatures> remap_errors(const RemapProblem& problem, const std::vector<int>& which,
                                              const RemapNet* net);
// The upper bound: each hit's d optimised directly (Adam, `steps`), then its errors.
std::array<double, kHitFeatures> remap_direct_errors(const RemapProblem& problem, const std::vector<int>& which,
                                                     int steps, double learning_rate);

// The model file (safetensors, float32): the network's weights under their names and metadata
//   "format" "ddsp.cpp/remap/1", "model" (linear | mlp | mlp-large), "preset" (the 808's parameter
//   file JSON), "input_mean" / "input_scale" (JSON arrays), "params" ({"sample_rate", "hit_seconds",
//   "onset_window_s", "max_modulation"}).
TensorFile remap_to_file(const RemapNet& net, const std::string& preset_json, const RemapParams& params);
struct RemapModelFile {
    RemapModelKind kind = RemapModelKind::mlp;
    std::string preset_json;
    RemapParams params;
    std::array<double, kOnsetFeatures> mean{}, scale{};
    std::map<std::string, Arr> weights;
};
// All-or-nothing; one-line errors.
bool remap_from_file(const TensorFile& file, RemapModelFile& out, std::string& error);
// A net on `tape` with the file's weights.
std::unique_ptr<RemapNet> make_remap_net(ad::Tape& tape, const RemapModelFile& file, int outputs, std::string& error);

// The network without a tape, for the audio thread: the same maths as RemapNet (Linear -> LayerNorm
// -> leaky ReLU layers, Linear, tanh, scale) on weights copied at init; no allocation per call.
class RemapForward {
public:
    bool init(const RemapModelFile& model, int outputs, std::string& error);
    // Raw onset features (kOnsetFeatures) -> modulations (outputs()).
    void operator()(const double* onset, double* d);
    int outputs() const { return outputs_; }

private:
    struct Layer {
        int in = 0, out = 0;
        std::vector<double> w, b, gain, bias;  // w: in x out, row-major; gain/bias empty: no norm
    };
    std::vector<Layer> layers_;
    std::vector<double> a_, b_;
    std::array<double, kOnsetFeatures> mean_{}, scale_{};
    double max_modulation_ = 0;
    int outputs_ = 0;
};

// Plays a performance (at the model's rate; its hits from analyse_hits) on the 808: at every onset
// the network's modulations of `preset` (physical drum808 values) and a hit from the audio
// thread's drum kernel (synth/stream.h), mixed. out has x's length plus one hit.
bool remap_render(const RemapModelFile& model, const synth::ParamValues& preset, const Vec& x,
                  const std::vector<Hit>& hits, Vec& out, std::string& error);

}  // namespace ddsp::nn
