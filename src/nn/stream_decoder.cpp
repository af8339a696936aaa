// The streaming decoder: see stream_decoder.h for the design, the latency and the cost.
//
// Index
//   [SECTION] helpers: weight copies, per-frame layers, exp_sigmoid
//   [SECTION] init / reset / z
//   [SECTION] push_frame: network, harmonics, noise, reverb
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

    // [harmonics]
    prev_amps_.assign(size_t(harmonics_), Real(0));
    cur_amps_.assign(size_t(harmonics_), Real(0));
    weight_.resize(size_t(hop));
    for (int i = 0; i < hop; ++i) weight_[size_t(i)] = Real(double(i) / hop);  // as the offline bank's
    sin_prev_.assign(size_t(hop), 0.0);
    sin_cur_.assign(size_t(hop), 0.0);
    cos2_.assign(size_t(hop), 0.0);
    count_.assign(size_t(hop), 0);
    segment_.assign(size_t(hop), Real(0));

    // [noise] the offline frequency_filter's FFT sizes, window and rotation
    if (c.use_noise) {
        fft_ir_ = dsp::RealFft(taps_);
        fft_noise_ = dsp::RealFft(dsp::next_power_of_two(std::max(2, hop + hop / 2 + taps_ - 1)));
        hann_.resize(size_t(taps_));
        for (int j = 0; j < taps_; ++j) hann_[size_t(j)] = Real(0.5 - 0.5 * std::cos(2 * kPi * j / taps_));
        ir_.assign(size_t(taps_), Real(0));
        noise_buf_.assign(size_t(fft_noise_.size()), Real(0));
        ir_spec_.assign(size_t(bands_), Complex(0, 0));
        fir_spec_.assign(size_t(fft_noise_.num_bins()), Complex(0, 0));
        noise_spec_.assign(size_t(fft_noise_.num_bins()), Complex(0, 0));
    }
    // The rings hold from the oldest unread sample (latency before the newest frame) to the furthest
    // noise write (a block and half the FIR ahead of it).
    const int ring_size = dsp::next_power_of_two(2 * (hop + taps_ + latency_) + 2);
    ring_mask_ = ring_size - 1;
    harm_ring_.assign(size_t(ring_size), Real(0));
    noise_ring_.assign(size_t(c.use_noise ? ring_size : 0), Real(0));
    dry_.assign(size_t(hop), Real(0));

    // [reverb] partitions of hop taps; input frames of fft size (>= 2 hop), the last hop outputs valid
    reverb_ = c.use_reverb;
    partitions_ = 0;
    if (reverb_) {
        const int ir_taps = int(std::lround(c.reverb_seconds * c.sample_rate_hz));
        std::vector<Real> ir;
        if (!take(w, "decoder.reverb.ir", ir_taps, 1, ir, error)) return false;
        ir[0] = 0;  // the Decoder's mask: the dry path is separate
        fft_rev_ = dsp::RealFft(dsp::next_power_of_two(2 * hop));
        const int m = fft_rev_.size();
        rev_bins_ = fft_rev_.num_bins();
        partitions_ = (ir_taps + hop - 1) / hop;
        const size_t cells = size_t(partitions_) * size_t(rev_bins_);
        rev_h_re_.assign(cells, Real(0));
        rev_h_im_.assign(cells, Real(0));
        rev_x_re_.assign(cells, Real(0));
        rev_x_im_.assign(cells, Real(0));
        rev_acc_re_.assign(size_t(rev_bins_), Real(0));
        rev_acc_im_.assign(size_t(rev_bins_), Real(0));
        rev_in_.assign(size_t(m), Real(0));
        rev_time_.assign(size_t(m), Real(0));
        rev_spec_.assign(size_t(rev_bins_), Complex(0, 0));
        for (int p = 0; p < partitions_; ++p) {
            std::fill(rev_time_.begin(), rev_time_.end(), Real(0));
            for (int q = 0; q < hop && p * hop + q < ir_taps; ++q) rev_time_[size_t(q)] = ir[size_t(p * hop + q)];
            fft_rev_.forward(rev_time_.data(), rev_spec_.data());
            for (int b = 0; b < rev_bins_; ++b) {
                rev_h_re_[size_t(p) * size_t(rev_bins_) + size_t(b)] = rev_spec_[size_t(b)].real();
                rev_h_im_[size_t(p) * size_t(rev_bins_) + size_t(b)] = rev_spec_[size_t(b)].imag();
            }
        }
    }
    output_gain_ = 1;
    ready_ = true;
    set_z_features();  // z = 0 until set_z
    reset();
    return true;
}

void StreamDecoder::reset() {
    if (!ready_) return;
    std::fill(cat_.begin(), cat_.begin() + gru_units_, Real(0));  // GRU state; z's features stay
    phase_ = 0;
    frames_pushed_ = 0;
    prev_f0_ = cur_f0_ = 1;
    std::fill(prev_amps_.begin(), prev_amps_.end(), Real(0));
    std::fill(cur_amps_.begin(), cur_amps_.end(), Real(0));
    rng_ = dsp::Rng(config_.noise_seed);  // the offline noise from its first sample
    std::fill(harm_ring_.begin(), harm_ring_.end(), Real(0));
    std::fill(noise_ring_.begin(), noise_ring_.end(), Real(0));
    std::fill(rev_x_re_.begin(), rev_x_re_.end(), Real(0));
    std::fill(rev_x_im_.begin(), rev_x_im_.end(), Real(0));
    std::fill(rev_in_.begin(), rev_in_.end(), Real(0));
    fdl_head_ = 0;
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

// harmonic_synth's per-frame part: drop partials at or above Nyquist, normalise, scale.
void StreamDecoder::frame_amplitudes(Real f0_clamped, Real* amps) const {
    const double nyquist = config_.sample_rate_hz / 2;
    const Real amplitude = exp_sigmoid(net_out_[0]);
    Real sum = 0;
    for (int k = 0; k < harmonics_; ++k) {
        const Real mask = (k + 1) * double(f0_clamped) < nyquist ? Real(1) : Real(0);
        amps[k] = exp_sigmoid(net_out_[size_t(1 + k)]) * mask;
        sum += amps[k];
    }
    const Real scale = amplitude / sum;  // sum > 0: the fundamental is always below Nyquist
    for (int k = 0; k < harmonics_; ++k) amps[k] *= scale;
}

// Segment [start, start + hop) between the previous frame and the current one, as the offline
// oscillator bank computes it: per-sample f0 and partial count, phase in double, sines by the
// Chebyshev recurrence, run across the samples for each partial (so the inner loop vectorises).
void StreamDecoder::render_segment(long long start) {
    const int hop = hop_;
    const double sr = config_.sample_rate_hz, nyquist = sr / 2;
    int most = 0;
    for (int i = 0; i < hop; ++i) {
        const double w = double(weight_[size_t(i)]);
        const double f0 = std::max(0.0, (1 - w) * double(prev_f0_) + w * double(cur_f0_));
        int c = harmonics_;
        if (f0 > 0) c = int(std::min<double>(harmonics_, std::ceil(nyquist / f0) - 1));  // k f0 < nyquist
        count_[size_t(i)] = std::max(0, c);
        most = std::max(most, count_[size_t(i)]);
        phase_ = std::fmod(phase_ + 2 * kPi * f0 / sr, 2 * kPi);
        sin_prev_[size_t(i)] = 0;
        sin_cur_[size_t(i)] = std::sin(phase_);
        cos2_[size_t(i)] = 2 * std::cos(phase_);
        segment_[size_t(i)] = 0;
    }
    const Real* w = weight_.data();
    const int* count = count_.data();
    double* s_prev = sin_prev_.data();
    double* s_cur = sin_cur_.data();
    const double* c2 = cos2_.data();
    Real* y = segment_.data();
    for (int k = 0; k < most; ++k) {
        const Real c0 = prev_amps_[size_t(k)], d = cur_amps_[size_t(k)] - prev_amps_[size_t(k)];
        for (int i = 0; i < hop; ++i) {
            const Real s = k < count[i] ? Real(s_cur[i]) : Real(0);
            y[i] += s * (c0 + w[i] * d);
            const double next = c2[i] * s_cur[i] - s_prev[i];
            s_prev[i] = s_cur[i];
            s_cur[i] = next;
        }
    }
    for (int i = 0; i < hop; ++i) harm_ring_[ring(start + i)] = y[i];
}

// frequency_filter's block for `frame`: its FIR from the current noise bands, the next noise
// samples, one FFT convolution, overlap-added N/2 samples early.
void StreamDecoder::filter_noise_block(long long frame) {
    const int hop = hop_, half = taps_ / 2;
    for (int k = 0; k < bands_; ++k)
        ir_spec_[size_t(k)] = Complex(exp_sigmoid(net_out_[size_t(1 + harmonics_ + k)] - Real(5)), Real(0));
    fft_ir_.inverse(ir_spec_.data(), ir_.data());
    std::fill(noise_buf_.begin(), noise_buf_.end(), Real(0));
    for (int j = 0; j < taps_; ++j) noise_buf_[size_t(j)] = ir_[size_t((j + half) % taps_)] * hann_[size_t(j)];
    fft_noise_.forward(noise_buf_.data(), fir_spec_.data());

    // Block f covers [f hop - hop/2, (f + 1) hop - hop/2); the first starts at 0.
    const long long start = frame == 0 ? 0 : frame * hop - hop / 2;
    const int len = frame == 0 ? hop - hop / 2 : hop;
    std::fill(noise_buf_.begin(), noise_buf_.end(), Real(0));
    for (int i = 0; i < len; ++i) noise_buf_[size_t(i)] = Real(rng_.uniform(-1, 1));
    fft_noise_.forward(noise_buf_.data(), noise_spec_.data());
    for (size_t b = 0; b < noise_spec_.size(); ++b) noise_spec_[b] = noise_spec_[b] * fir_spec_[b];
    fft_noise_.inverse(noise_spec_.data(), noise_buf_.data());
    const long long base = start - half;
    const int span = len + taps_ - 1;
    for (int i = 0; i < span; ++i) noise_ring_[ring(base + i)] += noise_buf_[size_t(i)];
}

// out = dry + dry * ir for one block of hop samples: the newest input frame's spectrum enters the
// frequency-domain delay line, each partition multiplies the frame from as many blocks ago.
void StreamDecoder::reverb_block(const Real* dry, Real* out) {
    const int hop = hop_, m = fft_rev_.size(), bins = rev_bins_;
    std::memmove(rev_in_.data(), rev_in_.data() + hop, sizeof(Real) * size_t(m - hop));
    std::memcpy(rev_in_.data() + (m - hop), dry, sizeof(Real) * size_t(hop));
    fft_rev_.forward(rev_in_.data(), rev_spec_.data());
    Real* x_re = rev_x_re_.data() + size_t(fdl_head_) * size_t(bins);
    Real* x_im = rev_x_im_.data() + size_t(fdl_head_) * size_t(bins);
    for (int b = 0; b < bins; ++b) {
        x_re[b] = rev_spec_[size_t(b)].real();
        x_im[b] = rev_spec_[size_t(b)].imag();
    }
    Real* acc_re = rev_acc_re_.data();
    Real* acc_im = rev_acc_im_.data();
    for (int b = 0; b < bins; ++b) acc_re[b] = acc_im[b] = 0;
    for (int p = 0; p < partitions_; ++p) {
        const int slot = (fdl_head_ - p + partitions_) % partitions_;
        const Real* hr = rev_h_re_.data() + size_t(p) * size_t(bins);
        const Real* hi = rev_h_im_.data() + size_t(p) * size_t(bins);
        const Real* xr = rev_x_re_.data() + size_t(slot) * size_t(bins);
        const Real* xi = rev_x_im_.data() + size_t(slot) * size_t(bins);
        for (int b = 0; b < bins; ++b) {  // split real / imaginary arrays: vectorises
            acc_re[b] += hr[b] * xr[b] - hi[b] * xi[b];
            acc_im[b] += hr[b] * xi[b] + hi[b] * xr[b];
        }
    }
    fdl_head_ = (fdl_head_ + 1) % partitions_;
    for (int b = 0; b < bins; ++b) rev_spec_[size_t(b)] = Complex(acc_re[b], acc_im[b]);
    fft_rev_.inverse(rev_spec_.data(), rev_time_.data());
    const Real* wet = rev_time_.data() + (m - hop);  // the samples free of circular wrap-around
    for (int i = 0; i < hop; ++i) out[i] = dry[i] + wet[i];
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
    cur_f0_ = std::min(std::max(Real(f0_hz), Real(1)), Real(0.49 * config_.sample_rate_hz));
    frame_amplitudes(cur_f0_, cur_amps_.data());

    const long long frame = frames_pushed_;
    if (frame > 0) render_segment((frame - 1) * hop);  // the segment that ends on this frame
    if (config_.use_noise) filter_noise_block(frame);

    // Emit offline samples [frame hop - latency, + hop): final now (see the header).
    const long long t0 = frame * hop - latency_;
    for (int i = 0; i < hop; ++i) {
        const long long t = t0 + i;
        const size_t slot = ring(t);
        Real d = harm_ring_[slot];
        harm_ring_[slot] = 0;
        if (config_.use_noise) {
            d = d + noise_ring_[slot];
            noise_ring_[slot] = 0;
        }
        if (t < 0) d = 0;  // before the clip: offline has nothing there
        if (!std::isfinite(d)) {
            d = 0;
            ++stats_.non_finite_resets;
        }
        dry_[size_t(i)] = d;
    }
    if (reverb_) reverb_block(dry_.data(), out);
    else std::copy(dry_.begin(), dry_.end(), out);
    for (int i = 0; i < hop; ++i) {
        // Before the clip, 0 exactly (the reverb's FFT leaves rounding noise ~1e-9 there).
        Real y = t0 + i < 0 ? Real(0) : out[i] * output_gain_;
        if (!std::isfinite(y)) {
            y = 0;
            ++stats_.non_finite_resets;
        }
        out[i] = y;
    }

    std::swap(prev_amps_, cur_amps_);  // swaps buffers, no allocation
    prev_f0_ = cur_f0_;
    ++frames_pushed_;
    ++stats_.frames;
    stats_.samples += hop;
}

}  // namespace ddsp::nn
