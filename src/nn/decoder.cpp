#include "nn/decoder.h"

#include "ad/ops.h"
#include "ad/ops_signal.h"
#include "dsp/rng.h"
#include "synth/ddsp_synth.h"
#include "util/text.h"

#include <algorithm>
#include <cmath>
#include <memory>

namespace ddsp::nn {

using ad::Node;
using ad::Tape;
using ad::Var;

namespace {

class ConcatColsNode final : public Node {
public:
    const char* op_name() const override { return "concat_cols"; }
    void forward(Tape& t) override {
        Eigen::Index cols = 0;
        for (int id : inputs) cols += t.value(id).cols();
        value.resize(t.value(inputs[0]).rows(), cols);
        Eigen::Index at = 0;
        for (int id : inputs) {
            const Arr& x = t.value(id);
            value.middleCols(at, x.cols()) = x;
            at += x.cols();
        }
    }
    void backward(Tape& t) override {
        Eigen::Index at = 0;
        for (int id : inputs) {
            const Eigen::Index c = t.value(id).cols();
            t.accumulate_grad(id, grad.middleCols(at, c));
            at += c;
        }
    }
};

class SliceColsNode final : public Node {
public:
    SliceColsNode(int start, int count) : start_(start), count_(count) {}
    const char* op_name() const override { return "slice_cols"; }
    void forward(Tape& t) override { value = t.value(inputs[0]).middleCols(start_, count_); }
    void backward(Tape& t) override {
        if (!t.requires_grad(inputs[0])) return;
        bool fresh = false;
        Arr& g = t.grad_accumulator(inputs[0], fresh);
        if (fresh) g.setZero();
        g.middleCols(start_, count_) += grad;
    }

private:
    int start_, count_;
};

Var slice_cols(Var x, int start, int count) {
    if (!x.valid() || start < 0 || count < 1 || start + count > x.cols()) ad::graph_error("slice_cols: out of range");
    auto n = std::make_unique<SliceColsNode>(start, count);
    n->inputs = {x.id};
    return x.tape->push(std::move(n));
}

Var column(Tape& tape, const Vec& values, double (*scale)(double)) {
    Arr a(values.size(), 1);
    for (Eigen::Index i = 0; i < values.size(); ++i) a(i, 0) = Real(scale(double(values[i])));
    return tape.constant(a);
}

}  // namespace

Var concat_cols(const std::vector<Var>& parts) {
    if (parts.empty() || !parts[0].valid()) ad::graph_error("concat_cols: no parts");
    Tape& t = *parts[0].tape;
    auto n = std::make_unique<ConcatColsNode>();
    for (const Var& p : parts) {
        ad::same_tape(parts[0], p);
        if (p.rows() != parts[0].rows()) ad::graph_error("concat_cols: parts need the same number of rows");
        n->inputs.push_back(p.id);
    }
    return t.push(std::move(n));
}

double scale_f0_hz(double f0_hz) {
    // DDSP's hz_to_midi: 12 (log2(f) - log2(440)) + 69, clamped at 0 (f0 = 0 for silence).
    const double midi = f0_hz > 0 ? 12 * std::log2(f0_hz / 440.0) + 69 : 0;
    return std::max(0.0, midi) / 127.0;
}

double scale_loudness_db(double loudness_db) { return loudness_db / 80.0 + 1.0; }

Decoder::Decoder(Tape& tape, const DecoderConfig& config, uint64_t seed)
    : config_(config), tape_(&tape), store_(tape, seed) {
    const DecoderConfig& c = config_;
    if (c.hidden < 1 || c.mlp_layers < 1 || c.gru_units < 1 || c.harmonics < 1 || c.z_dims < 0 ||
        (c.use_noise && (c.noise_bands < 2 || ((c.noise_bands - 1) & (c.noise_bands - 2)) != 0)) ||
        (c.use_reverb && !(c.reverb_seconds * c.sample_rate_hz >= 2 && c.reverb_seconds <= 10)))
        ad::graph_error("Decoder: bad config (noise_bands - 1 must be a power of two; reverb 2 taps .. 10 s)");
    const int h = c.hidden;
    f0_mlp_ = Mlp(store_, "decoder.f0_mlp", 1, h, c.mlp_layers);
    loudness_mlp_ = Mlp(store_, "decoder.loudness_mlp", 1, h, c.mlp_layers);
    int inputs = 2;
    if (c.use_centroid) {
        centroid_mlp_ = Mlp(store_, "decoder.centroid_mlp", 1, h, c.mlp_layers);
        ++inputs;
    }
    if (c.z_dims > 0) {
        z_mlp_ = Mlp(store_, "decoder.z_mlp", c.z_dims, h, c.mlp_layers);
        ++inputs;
    }
    gru_ = Gru(store_, "decoder.gru", inputs * h, c.gru_units);
    out_mlp_ = Mlp(store_, "decoder.out_mlp", inputs * h + c.gru_units, h, c.mlp_layers);
    out_ = Linear(store_, "decoder.out", h, 1 + c.harmonics + (c.use_noise ? c.noise_bands : 0));
    if (c.use_reverb)
        reverb_ir_ = store_.uniform("decoder.reverb.ir", int(std::lround(c.reverb_seconds * c.sample_rate_hz)), 1, 1e-4);
}

int Decoder::hop() const { return std::max(1, int(std::lround(config_.sample_rate_hz / config_.frame_rate_hz))); }

Var Decoder::forward(Tape& tape, const Vec& f0_hz_frames, const Vec& loudness_db_frames, Var z, int num_samples,
                     const Vec& centroid_hz_frames) {
    const DecoderConfig& c = config_;
    if (&tape != tape_) ad::graph_error("Decoder::forward: not the decoder's tape");
    if (num_samples < 1) ad::graph_error("Decoder::forward: needs >= 1 sample");
    const int frames = num_frames(num_samples);
    if (f0_hz_frames.size() != frames || loudness_db_frames.size() != frames ||
        (c.use_centroid && centroid_hz_frames.size() != frames))
        ad::graph_error("Decoder::forward: inputs need num_samples / hop + 1 = " + std::to_string(frames) + " frames");

    std::vector<Var> features = {f0_mlp_(column(tape, f0_hz_frames, scale_f0_hz)),
                                 loudness_mlp_(column(tape, loudness_db_frames, scale_loudness_db))};
    if (c.use_centroid) features.push_back(centroid_mlp_(column(tape, centroid_hz_frames, scale_f0_hz)));
    if (c.z_dims > 0) {
        ad::same_tape(z, features[0]);
        if (z.rows() != 1 || z.cols() != c.z_dims) ad::graph_error("Decoder::forward: z must be 1 x z_dims");
        // The MLP is row-wise, so run it once on z and broadcast its output to every frame.
        features.push_back(z_mlp_(z) + tape.constant(Arr(Arr::Zero(frames, 1))));
    }
    const Var inputs = concat_cols(features);
    features.insert(features.begin(), gru_(inputs));
    const Var out = out_(out_mlp_(concat_cols(features)));

    amplitude_ = ad::exp_sigmoid(slice_cols(out, 0, 1));
    distribution_ = ad::exp_sigmoid(slice_cols(out, 1, c.harmonics));
    Var audio = synth::harmonic_synth(amplitude_, distribution_, f0_hz_frames, c.sample_rate_hz, num_samples, hop());
    if (c.use_noise) {
        noise_magnitudes_ = ad::exp_sigmoid(slice_cols(out, 1 + c.harmonics, c.noise_bands) - Real(5));
        dsp::Rng rng(c.noise_seed);
        Arr noise(num_samples, 1);
        for (int i = 0; i < num_samples; ++i) noise(i, 0) = Real(rng.uniform(-1, 1));
        audio = audio + synth::frequency_filter(tape.constant(noise), noise_magnitudes_, hop());
    }
    dry_ = audio;
    if (c.use_reverb) {
        Arr mask = Arr::Ones(reverb_ir_.rows(), 1);
        mask(0, 0) = 0;
        reverb_ir_used_ = reverb_ir_ * tape.constant(mask);
        audio = audio + ad::fft_convolve(audio, reverb_ir_used_);
    }
    return audio;
}

std::map<std::string, Arr> Decoder::state() const {
    std::map<std::string, Arr> out;
    for (const Param& p : store_.params()) out[p.name] = p.var.value();
    return out;
}

bool Decoder::load(const std::map<std::string, Arr>& values, std::string& error) {
    for (const Param& p : store_.params()) {
        const auto it = values.find(p.name);
        if (it == values.end()) {
            error = "decoder: missing parameter " + p.name;
            return false;
        }
        if (it->second.rows() != p.var.rows() || it->second.cols() != p.var.cols()) {
            error = "decoder: " + p.name + " is " + std::to_string(it->second.rows()) + " x " +
                    std::to_string(it->second.cols()) + ", expected " + std::to_string(p.var.rows()) + " x " +
                    std::to_string(p.var.cols());
            return false;
        }
    }
    for (const auto& kv : values)
        if (store_.find(kv.first) == nullptr) {
            error = "decoder: unknown parameter " + util::quote_input(kv.first);
            return false;
        }
    for (const auto& kv : values) store_.set(kv.first, kv.second);
    return true;
}

}  // namespace ddsp::nn
