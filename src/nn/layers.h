// Small neural-network layers on the autodiff tape, for DDSP's decoder (f0, loudness, z -> MLP /
// GRU -> harmonic amplitudes, noise bands) and encoder (MFCC -> GRU -> z).
//
// Tensors follow the tape's layout: rows = time frames, cols = features. Layers create their
// weights as leaf variables in a ParamStore (deterministic initialisation from a seed), which
// lists them by name for Adam and for saving / loading.
//
//   ad::Tape tape;
//   nn::ParamStore store(tape, /*seed=*/1);
//   nn::Mlp mlp(store, "decoder.mlp", 2, 64, 3);   // (frames x 2) -> (frames x 64)
//   nn::Gru gru(store, "decoder.gru", 64, 128);      // (frames x 64) -> (frames x 128)
//   ad::Var h = gru(mlp(features));
//   ad::Adam adam; store.add_to(adam);
#pragma once

#include "ad/adam.h"
#include "ad/tape.h"
#include "dsp/rng.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ddsp::nn {

// [SECTION] ops (custom nodes with hand-written backward passes)

// Per-row normalisation over the feature axis: y = gain * (x - mean) / sqrt(var + eps) + bias,
// with the biased variance of each row. gain and bias are 1 x C.
ad::Var layer_norm(ad::Var x, ad::Var gain, ad::Var bias, Real eps = Real(1e-5));
// x for x > 0, slope * x otherwise (gradient slope at 0).
ad::Var leaky_relu(ad::Var x, Real slope = Real(0.01));
ad::Var relu(ad::Var x);

// A GRU over the time axis as one node, PyTorch's convention (gates ordered r, z, n):
//   r_t = sigmoid(x_t W_ir + b_ir + h_{t-1} W_hr + b_hr)
//   z_t = sigmoid(x_t W_iz + b_iz + h_{t-1} W_hz + b_hz)
//   n_t = tanh(x_t W_in + b_in + r_t * (h_{t-1} W_hn + b_hn))
//   h_t = (1 - z_t) * n_t + z_t * h_{t-1}
// x is T x I, h0 is 1 x H, w_i is I x 3H = [W_ir W_iz W_in], w_h is H x 3H = [W_hr W_hz W_hn],
// b_i and b_h are 1 x 3H in the same order. Returns every hidden state h_1..h_T (T x H).
// Note: PyTorch stores weight_ih_l0 as 3H x I; its transpose is w_i here.
// Backward is backpropagation through time in one sweep; forward keeps the gate activations.
ad::Var gru(ad::Var x, ad::Var h0, ad::Var w_i, ad::Var w_h, ad::Var b_i, ad::Var b_h);

// [SECTION] parameters

struct Param {
    ad::Var var;
    std::string name;
};

// Owns the trainable leaves of a model on one tape, in creation order. Initialisers draw from a
// dsp::Rng seeded once, so the same seed and the same construction order give the same weights
// natively and in wasm.
class ParamStore {
public:
    ParamStore(ad::Tape& tape, uint64_t seed) : tape_(&tape), rng_(seed) {}

    ad::Var add(const std::string& name, const Arr& value);  // aborts on a duplicate name
    // uniform(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot / Xavier).
    ad::Var glorot_uniform(const std::string& name, int rows, int cols, int fan_in, int fan_out);
    // uniform(-a, a) with a = sqrt(6 / fan_in) (He / Kaiming, for ReLU-like layers).
    ad::Var he_uniform(const std::string& name, int rows, int cols, int fan_in);
    ad::Var uniform(const std::string& name, int rows, int cols, double limit);
    ad::Var constant_init(const std::string& name, int rows, int cols, Real value);

    const std::vector<Param>& params() const { return params_; }
    const Param* find(const std::string& name) const;  // nullptr if absent
    // Replaces a parameter's value (loading). False if the name is unknown or the shape differs.
    bool set(const std::string& name, const Arr& value);
    void add_to(ad::Adam& adam) const;
    long long num_values() const;  // total number of scalars

    ad::Tape& tape() const { return *tape_; }
    dsp::Rng& rng() { return rng_; }

private:
    ad::Tape* tape_;
    dsp::Rng rng_;
    std::vector<Param> params_;
};

// [SECTION] layers (hold Vars; calling one adds nodes to the tape)

// x (T x in) -> x w + b (T x out). Glorot-uniform weights, zero bias (Keras Dense's defaults).
struct Linear {
    Linear() = default;
    Linear(ParamStore& store, const std::string& name, int in_features, int out_features);
    ad::Var operator()(ad::Var x) const;
    ad::Var w, b;  // in x out, 1 x out
};

// Gain ones, bias zeros.
struct LayerNorm {
    LayerNorm() = default;
    LayerNorm(ParamStore& store, const std::string& name, int features);
    ad::Var operator()(ad::Var x) const;
    ad::Var gain, bias;
    Real eps = Real(1e-5);
};

// DDSP's fc_stack: num_layers x (Linear -> LayerNorm -> leaky ReLU). Names: name.<i>.linear.w,
// name.<i>.linear.b, name.<i>.norm.gain, name.<i>.norm.bias.
struct Mlp {
    Mlp() = default;
    Mlp(ParamStore& store, const std::string& name, int in_features, int hidden, int num_layers,
        Real leaky_slope = Real(0.01));
    ad::Var operator()(ad::Var x) const;
    std::vector<Linear> linears;
    std::vector<LayerNorm> norms;
    Real slope = Real(0.01);
};

// Names: name.w_i (I x 3H), name.w_h (H x 3H), name.b_i, name.b_h (1 x 3H). Initialised like
// PyTorch: every weight and bias uniform(-1/sqrt(H), 1/sqrt(H)).
struct Gru {
    Gru() = default;
    Gru(ParamStore& store, const std::string& name, int in_features, int hidden);
    ad::Var operator()(ad::Var x) const;             // h0 = 0 (a constant on x's tape)
    ad::Var operator()(ad::Var x, ad::Var h0) const;  // h0 is 1 x H
    ad::Var w_i, w_h, b_i, b_h;
    int hidden = 0;
};

}  // namespace ddsp::nn
