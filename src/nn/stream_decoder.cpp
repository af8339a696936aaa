// The streaming decoder: see stream_decoder.h for the design, the latency and the cost.
//
// Index
//   [SECTION] helpers: weight copies, per-frame layers, exp_sigmoid
//   [SECTION] init / reset / z
//   [SECTION] push_frame: network, then the shared synthesis (synth/stream_harmonic_noise.h)
#include "nn/stream_decoder.h"

#include "nn/autoencoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ddsp::nn {

namespace {

// [SECTION] helpers: weight copies, per-frame layers, exp_sigmoid

// The defaults the offline layers use (nn/layers.h: LayerNorm::eps, Mlp's leaky slope).
constexpr Real kNormEps = Real(1e-5);
constexpr Real kLeakySlope = Real(0.01);
constexpr double kMaxF0Hz = 1e9;        // larger (and +inf) f0 is clamped here: the network input stays finite
constexpr double kMaxLoudnessDb = 1000;  // |loudness| beyond this (and inf) is clamped
constexpr double kMaxAbsZ = 1000;

// Copies weights[name] (rows x cols) row-major into dst. False with a message if absent or mis-shaped.
bool take(const std::map<std::string, Arr>& weights, const std::string& name, int rows, int cols,
          std::vector<Real>& dst, std::string& error) {
    const auto it = weights.find(name);
    if (it == weights.end()) {
        error = "stream decoder: missing weight " + name;
        return false;
    }
    const Arr& a = it->second;
    if (a.rows() != rows || a.cols() != cols) {
        error = "stream decoder: " + name + " is " + std::to_string(a.rows()) + " x " + std::to_string(a.cols()) +
                ", expected " + std::to_string(rows) + " x " + std::to_string(cols);
        return false;
    }
    dst.resize(size_t(rows) * size_t(cols));
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) dst[size_t(r) * size_t(cols) + size_t(c)] = a(r, c);
    return true;
}

bool take_linear(const std::map<std::string, Arr>& weights, const std::string& name, int in, int out,
                 StreamDecoder::Dense& d, std::string& error) {
    d.in = in;
    d.out = out;
    return take(weights, name + ".w", in, out, d.w, error) && take(weights, name + ".b", 1, out, d.b, error);
}

bool take_mlp(const std::map<std::string, Arr>& weights, const std::string& name, int in, int hidden, int layers,
              std::vector<StreamDecoder::Dense>& mlp, std::string& error) {
    mlp.assign(size_t(layers), StreamDecoder::Dense{});
    for (int i = 0; i < layers; ++i) {
        const std::string prefix = name + "." + std::to_string(i);
        StreamDecoder::Dense& d = mlp[size_t(i)];
        if (!take_linear(weights, prefix + ".linear", i == 0 ? in : hidden, hidden, d, error) ||
            !take(weights, prefix + ".norm.gain", 1, hidden, d.gain, error) ||
            !take(weights, prefix + ".norm.bias", 1, hidden, d.bias, error))
            return false;
    }
    return true;
}

// y = x w + b, then (for an Mlp layer) LayerNorm and leaky ReLU, as ad::linear, layer_norm and
// leaky_relu compute them. The product is an axpy per input (contiguous rows of w): it vectorises
// natively and in wasm, and allocates nothing.
void dense_forward(const StreamDecoder::Dense& d, const Real* x, Real* y) {
    const int out = d.out;
    for (int o = 0; o < out; ++o) y[o] = 0;
    for (int i = 0; i < d.in; ++i) {
        const Real xi = x[i];
        const Real* row = d.w.data() + size_t(i) * size_t(out);
        for (int o = 0; o < out; ++o) y[o] += xi * row[o];
    }
    for (int o = 0; o < out; ++o) y[o] += d.b[size_t(o)];
    if (d.gain.empty()) return;
    Real sum = 0;
    for (int o = 0; o < out; ++o) sum += y[o];
    const Real mean = sum / Real(out);
    Real sq = 0;
    for (int o = 0; o < out; ++o) sq += (y[o] - mean) * (y[o] - mean);
    const Real inv_sigma = Real(1) / std::sqrt(sq / Real(out) + kNormEps);
    for (int o = 0; o < out; ++o) {
        const Real v = (y[o] - mean) * inv_sigma * d.gain[size_t(o)] + d.bias[size_t(o)];
        y[o] = v > 0 ? v : kLeakySlope * v;
    }
}

// Runs an Mlp; a and b are scratch of the hidden width (out may alias neither).
void mlp_forward(const std::vector<StreamDecoder::Dense>& mlp, const Real* x, Real* out, Real* a, Real* b) {
    const Real* in = x;
    for (size_t i = 0; i < mlp.size(); ++i) {
        Real* y = i + 1 == mlp.size() ? out : (i % 2 == 0 ? a : b);
        dense_forward(mlp[i], in, y);
        in = y;
    }
}

// ad::exp_sigmoid with DDSP's constants: 2 sigmoid(x)^log(10) + 1e-7, via softplus (no overflow).
Real exp_sigmoid(Real x) {
    const Real log_exponent = std::log(Real(10));
    const Real y = -x;
    const Real softplus = std::max(y, Real(0)) + std::log1p(std::exp(-std::abs(y)));
    return Real(2) * std::exp(-log_exponent * softplus) + Real(1e-7);
}

Real sigmoid(Real x) { return Real(1) / (Real(1) + std::exp(-x)); }

}  // namespace

// [SECTION] init / reset / z

bool StreamDecoder::init(const Decoder& decoder, std::string& error) {
    return init(decoder.config(), decoder.state(), error);
}

bool StreamDecoder::init(const Autoencoder& model, std::string& error) {
    return init(model.config().decoder, model.state(), error);
}

bool StreamDecoder::init(const DecoderConfig& config, const std::map<std::string, Arr>& w, std::string& error) {
    ready_ = false;
    const DecoderConfig& c = config;
    const int bands = c.use_noise ? c.noise_bands : 0;
    // The Decoder's own checks, plus what a stream needs (a finite rate and a sane hop).
    if (c.hidden < 1 || c.mlp_layers < 1 || c.gru_units < 1 || c.harmonics < 1 || c.z_dims < 0 ||
        (c.use_noise && (c.noise_bands < 2 || !dsp::is_power_of_two(2 * (c.noise_bands - 1)))) ||
        !(c.sample_rate_hz >= 1 && c.sample_rate_hz <= 1e6) || !(c.frame_rate_hz > 0) ||
        (c.use_reverb && !(c.reverb_seconds * c.sample_rate_hz >= 2 && c.reverb_seconds <= 10))) {
        error = "stream decoder: unsupported config (needs positive sizes, noise_bands - 1 a power of two, a rate "
                "of 1 Hz .. 1 MHz, reverb of 2 taps .. 10 s)";
        return false;
    }
    const int hop = std::max(1, int(std::lround(c.sample_rate_hz / c.frame_rate_hz)));
    if (hop > 1 << 16) {
        error = "stream decoder: hop of " + std::to_string(hop) + " samples is too long (frame rate too low)";
        return false;
    }
    config_ = config;
    hop_ = hop;
    harmonics_ = c.harmonics;
    bands_ = bands;
    taps_ = c.use_noise ? 2 * (bands - 1) : 0;
    latency_ = c.use_noise ? std::max(hop, hop / 2 + taps_ / 2) : hop;
    inputs_ = 2 + (c.use_centroid ? 1 : 0) + (c.z_dims > 0 ? 1 : 0);
    out_size_ = 1 + c.harmonics + bands;
    gru_units_ = c.gru_units;
    const int h = c.hidden, g = c.gru_units;

    // [network] weights by the Decoder's names
    if (!take_mlp(w, "decoder.f0_mlp", 1, h, c.mlp_layers, f0_mlp_, error) ||
        !take_mlp(w, "decoder.loudness_mlp", 1, h, c.mlp_layers, loudness_mlp_, error) ||
        (c.use_centroid && !take_mlp(w, "decoder.centroid_mlp", 1, h, c.mlp_layers, centroid_mlp_, error)) ||
        (c.z_dims > 0 && !take_mlp(w, "decoder.z_mlp", c.z_dims, h, c.mlp_layers, z_mlp_, error)) ||
        !take(w, "decoder.gru.w_i", inputs_ * h, 3 * g, gru_w_i_, error) ||
        !take(w, "decoder.gru.w_h", g, 3 * g, gru_w_h_, error) ||
        !take(w, "decoder.gru.b_i", 1, 3 * g, gru_b_i_, error) ||
        !take(w, "decoder.gru.b_h", 1, 3 * g, gru_b_h_, error) ||
        !take_mlp(w, "decoder.out_mlp", inputs_ * h + g, h, c.mlp_layers, out_mlp_, error) ||
        !take_linear(w, "decoder.out", h, out_size_, out_, error))
        return false;
    if (!c.use_centroid) centroid_mlp_.clear();
    if (c.z_dims == 0) z_mlp_.clear();
    cat_.assign(size_t(g + inputs_ * h), Real(0));
    gi_.assign(size_t(3 * g), Real(0));
    gh_.assign(size_t(3 * g), Real(0));
    mlp_a_.assign(size_t(h), Real(0));
    mlp_b_.assign(size_t(h), Real(0));
    mlp_out_.assign(size_t(h), Real(0));
    net_out_.assign(size_t(out_size_), Real(0));
    z_.assign(size_t(c.z_dims), Real(0));

    // [synthesis] the shared harmonic + noise + reverb block; the reverb IR is the Decoder's
    synth::HarmonicNoiseConfig sc;
    sc.sample_rate_hz = c.sample_rate_hz;
    sc.hop = hop;
    sc.harmonics = harmonics_;
    sc.noise_bands = bands;
    sc.noise_seed = c.noise_seed;
    std::vector<Real> ir;
    if (c.use_reverb) {
        const int ir_taps = int(std::lround(c.reverb_seconds * c.sample_rate_hz));
        if (!take(w, "decoder.reverb.ir", ir_taps, 1, ir, error)) return false;
        ir[0] = 0;  // the Decoder's mask: the dry path is separate
        sc.max_reverb_taps = ir_taps;
    }
    if (!synth_.init(sc, error)) return false;
    if (c.use_reverb) synth_.set_reverb_ir(ir.data(), int(ir.size()));
    amps_.assign(size_t(harmonics_), Real(0));
    noise_mags_.assign(size_t(bands), Real(0));
    output_gain_ = 1;
    ready_ = true;
    set_z_features();  // z = 0 until set_z
    reset();
    return true;
}

void StreamDecoder::reset() {
    if (!ready_) return;
    std::fill(cat_.begin(), cat_.begin() + gru_units_, Real(0));  // GRU state; z's features stay
    synth_.reset(-latency_);  // phase 0, the offline noise from its first sample, buffers 0
    stats_ = StreamDecoderStats{};
}

void StreamDecoder::set_z(const Real* z, int n) {
    if (!ready_ || config_.z_dims == 0) return;
    for (int i = 0; i < config_.z_dims; ++i) {
        double v = (z != nullptr && i < n) ? double(z[i]) : 0.0;
        if (!std::isfinite(v) || std::abs(v) > kMaxAbsZ) {
            ++stats_.sanitised_controls;
            v = std::isfinite(v) ? std::clamp(v, -kMaxAbsZ, kMaxAbsZ) : 0.0;
        }
        z_[size_t(i)] = Real(v);
    }
    set_z_features();
}

// z is the same for every frame, so its MLP runs once here (offline: once, broadcast to the frames).
void StreamDecoder::set_z_features() {
    if (config_.z_dims == 0) return;
    const size_t at = size_t(gru_units_) + size_t(inputs_ - 1) * size_t(config_.hidden);
    mlp_forward(z_mlp_, z_.data(), cat_.data() + at, mlp_a_.data(), mlp_b_.data());
}

int StreamDecoder::exact_offline_samples(int num_samples) const {
    if (!ready_ || num_samples < 1) return 0;
    const long long frames = num_samples / hop_ + 1;
    long long t = (frames - 1) * hop_;  // after it, offline holds the last frame
    if (config_.use_noise)              // stream block `frames` starts; noise from sample n on is missing
        t = std::min({t, frames * hop_ - hop_ / 2 - taps_ / 2, (long long)num_samples - taps_ / 2});
    return int(std::clamp<long long>(t, 0, num_samples));
}

// [SECTION] push_frame: network, harmonics, noise, reverb

void StreamDecoder::run_network(Real f0_scaled, Real loudness_scaled, Real centroid_scaled) {
    const int h = config_.hidden, g = gru_units_;
    Real* features = cat_.data() + g;
    mlp_forward(f0_mlp_, &f0_scaled, features, mlp_a_.data(), mlp_b_.data());
    mlp_forward(loudness_mlp_, &loudness_scaled, features + h, mlp_a_.data(), mlp_b_.data());
    if (config_.use_centroid) mlp_forward(centroid_mlp_, &centroid_scaled, features + 2 * h, mlp_a_.data(), mlp_b_.data());

    // One GRU step (nn::gru, PyTorch's gate order r, z, n). gh reads the old state before it is
    // overwritten in place (the state is the first gru_units values of cat_).
    const int in = inputs_ * h, g3 = 3 * g;
    Real* state = cat_.data();
    Real* gi = gi_.data();
    Real* gh = gh_.data();
    for (int j = 0; j < g3; ++j) gi[j] = gh[j] = 0;
    for (int i = 0; i < in; ++i) {
        const Real xi = features[i];
        const Real* row = gru_w_i_.data() + size_t(i) * size_t(g3);
        for (int j = 0; j < g3; ++j) gi[j] += xi * row[j];
    }
    for (int i = 0; i < g; ++i) {
        const Real hi = state[i];
        const Real* row = gru_w_h_.data() + size_t(i) * size_t(g3);
        for (int j = 0; j < g3; ++j) gh[j] += hi * row[j];
    }
    for (int j = 0; j < g3; ++j) {
        gi[j] += gru_b_i_[size_t(j)];
        gh[j] += gru_b_h_[size_t(j)];
    }
    bool finite = true;
    for (int j = 0; j < g; ++j) {
        const Real r = sigmoid(gi[j] + gh[j]);
        const Real z = sigmoid(gi[g + j] + gh[g + j]);
        const Real n = std::tanh(gi[2 * g + j] + r * gh[2 * g + j]);
        state[j] = (Real(1) - z) * n + z * state[j];
        finite = finite && std::isfinite(state[j]);
    }
    if (!finite) {  // cannot happen with sanitised inputs; never let a NaN live in the state
        std::fill(cat_.begin(), cat_.begin() + g, Real(0));
        ++stats_.non_finite_resets;
    }
    mlp_forward(out_mlp_, cat_.data(), mlp_out_.data(), mlp_a_.data(), mlp_b_.data());
    dense_forward(out_, mlp_out_.data(), net_out_.data());
}

// The network's outputs as synthesis controls: harmonic_synth's per-frame part (drop partials at or
// above Nyquist, normalise, scale) and the noise bands (exp_sigmoid(x - 5), as the Decoder).
void StreamDecoder::frame_controls(Real f0_clamped) {
    for (int k = 0; k < harmonics_; ++k) amps_[size_t(k)] = exp_sigmoid(net_out_[size_t(1 + k)]);
    synth::normalise_harmonics(exp_sigmoid(net_out_[0]), f0_clamped, config_.sample_rate_hz, amps_.data(), harmonics_);
    for (int k = 0; k < bands_; ++k) noise_mags_[size_t(k)] = exp_sigmoid(net_out_[size_t(1 + harmonics_ + k)] - Real(5));
}

void StreamDecoder::push_frame(double f0_hz, double loudness_db, double centroid_hz, Real* out) {
    if (!ready_) return;
    const int hop = hop_;
    // Controls: finite and in range before anything reads them (offline, negative f0 is 0 Hz for the
    // network and 1 Hz for the synth; the same here).
    auto sanitise = [this](double v, double lo, double hi, double if_nan) {
        if (std::isnan(v)) {
            ++stats_.sanitised_controls;
            return if_nan;
        }
        if (v > hi || v < lo) {
            if (!(v < lo && lo == 0)) ++stats_.sanitised_controls;  // negative f0 is an ordinary 0 Hz
            return std::clamp(v, lo, hi);
        }
        return v;
    };
    f0_hz = sanitise(f0_hz, 0, kMaxF0Hz, 0);
    loudness_db = sanitise(loudness_db, -kMaxLoudnessDb, kMaxLoudnessDb, -120);
    centroid_hz = config_.use_centroid ? sanitise(centroid_hz, 0, kMaxF0Hz, 0) : 0.0;

    run_network(Real(scale_f0_hz(double(Real(f0_hz)))), Real(scale_loudness_db(double(Real(loudness_db)))),
                Real(scale_f0_hz(double(Real(centroid_hz)))));
    const Real f0_clamped = synth::clamp_f0_hz(f0_hz, config_.sample_rate_hz);
    frame_controls(f0_clamped);
    synth_.push_frame(f0_clamped, amps_.data(), noise_mags_.data());

    // Emit offline samples [frame hop - latency, + hop): final now (see the header).
    const long long t0 = synth_.next_output_sample();
    stats_.non_finite_resets += synth_.emit(out);
    for (int i = 0; i < hop; ++i) {
        Real y = t0 + i < 0 ? Real(0) : out[i] * output_gain_;
        if (!std::isfinite(y)) {
            y = 0;
            ++stats_.non_finite_resets;
        }
        out[i] = y;
    }
    ++stats_.frames;
    stats_.samples += hop;
}

}  // namespace ddsp::nn
