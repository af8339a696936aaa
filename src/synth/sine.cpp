// `sine`: the tutorial oscillator, amplitude * sin(2 pi f t). Two parameters, and a spectral loss
// over frequency full of local minima: the teaching case for why gradients alone get stuck.
#include "synth/registry.h"

#include <cmath>

namespace ddsp::synth {

namespace {

// sin(2 pi f t_i) for a 1 x 1 frequency f, with the phase computed in double: in float, 2 pi f t
// reaches thousands of radians and its rounding (~1e-4 rad, -80 dB) rises above the spectral
// loss's log floor and makes the loss ripple in f. Backward: d/df = sum_i g_i cos(.) 2 pi t_i.
class SineNode final : public ad::Node {
public:
    SineNode(int n, double sample_rate_hz) : n_(n), sample_rate_hz_(sample_rate_hz) {}
    const char* op_name() const override { return "sine"; }
    void forward(ad::Tape& t) override {
        const double f = double(t.value(inputs[0])(0, 0));
        if (value.rows() != n_) value.resize(n_, 1);
        for (int i = 0; i < n_; ++i) value(i, 0) = Real(std::sin(2 * kPi * std::fmod(f * i / sample_rate_hz_, 1.0)));
    }
    void backward(ad::Tape& t) override {
        const double f = double(t.value(inputs[0])(0, 0));
        double acc = 0;
        for (int i = 0; i < n_; ++i) {
            const double seconds = i / sample_rate_hz_;
            acc += double(grad(i, 0)) * std::cos(2 * kPi * std::fmod(f * seconds, 1.0)) * 2 * kPi * seconds;
        }
        t.grad_mutable(inputs[0])(0, 0) += Real(acc);
    }

private:
    int n_;
    double sample_rate_hz_;
};

class SineSynth final : public Synth {
public:
    std::string name() const override { return "sine"; }
    std::string description() const override { return "Sine oscillator (frequency, amplitude): the local-minima tutorial"; }
    double default_sample_rate_hz() const override { return 16000; }
    double default_seconds() const override { return 1.0; }

    std::vector<ParamSpec> param_table(const SynthConfig& cfg) const override {
        const double nyquist_hz = cfg.sample_rate_hz / 2;
        return {
            {"frequency_hz", "Hz", 20, std::max(40.0, 0.95 * nyquist_hz), 440, ad::Scale::log, 1, "Oscillator frequency",
             true},
            {"amplitude", "", 0, 1, 0.5, ad::Scale::linear, 1, "Peak amplitude"},
        };
    }

    ad::Var build(ad::Var u, const SynthConfig& cfg) override {
        const ParamGraph p(param_table(cfg), u);
        auto node = std::make_unique<SineNode>(cfg.num_samples, cfg.sample_rate_hz);
        node->inputs = {p["frequency_hz"].id};
        const ad::Var oscillator = u.tape->push(std::move(node));
        return oscillator * p["amplitude"];
    }
};

}  // namespace

std::unique_ptr<Synth> make_sine_synth() { return std::make_unique<SineSynth>(); }

}  // namespace ddsp::synth
