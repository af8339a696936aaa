// `sine`: the tutorial oscillator, amplitude * sin(2 pi f t). Two parameters, and a spectral loss
// over frequency full of local minima: the teaching case for why gradients alone get stuck.
#include "synth/registry.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ddsp::synth {

namespace {

// sin(2 pi f t_i) for a 1 x 1 frequency f, with the phase computed in double: in float, 2 pi f t
// reaches thousands of radians and its rounding (~1e-4 rad, -80 dB) rises above the spectral
// loss's log floor and makes the loss ripple in f. Backward: d/df = sum_i g_i cos(.) 2 pi t_i.
//
// Speed: sin, cos and fmod per sample were a third of a gradient step. The unit phasor
// e^{j 2 pi f t_i} is instead rotated by e^{j 2 pi f / sr} per sample (a complex multiply in
// double) and restarted exactly from sin/cos every kBlock samples, so rounding cannot build up
// (~kBlock * 1e-16 rad). Forward keeps the cosines for the backward pass.
class SineNode final : public ad::Node {
public:
    SineNode(int n, double sample_rate_hz) : n_(n), sample_rate_hz_(sample_rate_hz), cos_(size_t(n)) {}
    const char* op_name() const override { return "sine"; }
    void forward(ad::Tape& t) override {
        const double f = double(t.value(inputs[0])(0, 0));
        value.resize(n_, 1);
        const double step = 2 * kPi * std::fmod(f / sample_rate_hz_, 1.0);
        const double wc = std::cos(step), ws = std::sin(step);
        Real* out = value.data();
        for (int i0 = 0; i0 < n_; i0 += kBlock) {
            const double phase = 2 * kPi * std::fmod(f * i0 / sample_rate_hz_, 1.0);
            double c = std::cos(phase), s = std::sin(phase);
            const int i1 = std::min(n_, i0 + kBlock);
            for (int i = i0; i < i1; ++i) {
                out[i] = Real(s);
                cos_[size_t(i)] = c;
                const double c_next = c * wc - s * ws;
                s = s * wc + c * ws;
                c = c_next;
            }
        }
    }
    void backward(ad::Tape& t) override {
        const Real* g = grad.data();
        double acc = 0;
        for (int i = 0; i < n_; ++i) acc += double(g[i]) * cos_[size_t(i)] * double(i);
        t.grad_mutable(inputs[0])(0, 0) += Real(acc * 2 * kPi / sample_rate_hz_);
    }

private:
    static constexpr int kBlock = 256;
    int n_;
    double sample_rate_hz_;
    std::vector<double> cos_;
};

class SineSynth final : public Synth {
public:
    std::string name() const override { return "sine"; }
    std::string description() const override { return "Sine oscillator (frequency, amplitude): the local-minima tutorial"; }
    double default_sample_rate_hz() const override { return 16000; }
    double default_seconds() const override { return 1.0; }
    bool set_pitch_hz(double f0_hz, bool, ParamValues& values, const SynthConfig&, std::string&) override {
        values["frequency_hz"] = {f0_hz};
        return true;
    }

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
