// The encoder of the DDSP autoencoder: MFCCs -> a per-clip Gaussian posterior over the latent z
// (a variational autoencoder's encoder; the KL term keeps z near N(0, I) so that the space between
// instruments is populated and sliders morph smoothly).
//
//   mfcc (frames x C) -> LayerNorm (per frame) -> Linear (C -> H) -> GRU (H) -> mean over frames
//   -> Linear (H -> 2 z_dims) -> mu = first z_dims columns, log_var = last z_dims columns
//   z = mu + exp(log_var / 2) * eps  (training; eps ~ N(0, I) drawn by the caller), or z = mu
//   KL(q || N(0, I)) = 0.5 * sum(mu^2 + exp(log_var) - log_var - 1)
//
// Names: encoder.norm.{gain,bias}, encoder.in.{w,b}, encoder.gru.{w_i,w_h,b_i,b_h}, encoder.out.{w,b}.
#pragma once

#include "nn/layers.h"

namespace ddsp::nn {

struct EncoderConfig {
    int mfcc_coefficients = 30;
    int hidden = 64;  // Linear width and GRU units
    int z_dims = 8;
};

struct Posterior {
    ad::Var mu, log_var;  // 1 x z_dims each
};

class Encoder {
public:
    Encoder() = default;
    Encoder(ParamStore& store, const EncoderConfig& config);

    // mfcc: frames x mfcc_coefficients (>= 1 frame).
    Posterior operator()(ad::Tape& tape, const Arr& mfcc) const;

    const EncoderConfig& config() const { return config_; }

private:
    EncoderConfig config_;
    LayerNorm norm_;
    Linear in_, out_;
    Gru gru_;
};

// z = mu + exp(log_var / 2) * eps, with eps (1 x z_dims) a constant.
ad::Var sample_latent(const Posterior& q, const Arr& eps);
// 0.5 * sum(mu^2 + exp(log_var) - log_var - 1): 1 x 1.
ad::Var kl_divergence(const Posterior& q);

}  // namespace ddsp::nn
