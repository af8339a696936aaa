#include "nn/encoder.h"

#include "ad/ops.h"

namespace ddsp::nn {

namespace {

// The columns [start, start + count) of a 1 x C row, as a matmul with a fixed selection matrix
// (cheap at these sizes, and its backward is the matmul's).
ad::Var select_cols(ad::Tape& tape, ad::Var x, int start, int count) {
    Arr sel = Arr::Zero(x.cols(), count);
    for (int j = 0; j < count; ++j) sel(start + j, j) = 1;
    return ad::matmul(x, tape.constant(sel));
}

}  // namespace

Encoder::Encoder(ParamStore& store, const EncoderConfig& config) : config_(config) {
    if (config.mfcc_coefficients < 1 || config.hidden < 1 || config.z_dims < 1)
        ad::graph_error("Encoder: bad config");
    norm_ = LayerNorm(store, "encoder.norm", config.mfcc_coefficients);
    in_ = Linear(store, "encoder.in", config.mfcc_coefficients, config.hidden);
    gru_ = Gru(store, "encoder.gru", config.hidden, config.hidden);
    out_ = Linear(store, "encoder.out", config.hidden, 2 * config.z_dims);
}

Posterior Encoder::operator()(ad::Tape& tape, const Arr& mfcc) const {
    if (mfcc.rows() < 1 || mfcc.cols() != config_.mfcc_coefficients)
        ad::graph_error("Encoder: mfcc must be frames x " + std::to_string(config_.mfcc_coefficients));
    const ad::Var h = gru_(in_(norm_(tape.constant(mfcc))));
    const ad::Var pooled = ad::sum_rows(h) * Real(1.0 / double(mfcc.rows()));
    const ad::Var out = out_(pooled);
    return Posterior{select_cols(tape, out, 0, config_.z_dims), select_cols(tape, out, config_.z_dims, config_.z_dims)};
}

ad::Var sample_latent(const Posterior& q, const Arr& eps) {
    ad::Tape& tape = *q.mu.tape;
    return q.mu + ad::exp(q.log_var * Real(0.5)) * tape.constant(eps);
}

ad::Var kl_divergence(const Posterior& q) {
    return ad::sum(ad::square(q.mu) + ad::exp(q.log_var) - q.log_var - Real(1)) * Real(0.5);
}

}  // namespace ddsp::nn
