// `sine`: the tutorial oscillator, amplitude * sin(2 pi f t). Two parameters, and a spectral loss
// over frequency full of local minima: the teaching case for why gradients alone get stuck.
#include "synth/registry.h"

namespace ddsp::synth {

namespace {

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
        ad::Tape& tape = *u.tape;
        const ParamGraph p(param_table(cfg), u);
        Arr seconds(cfg.num_samples, 1);
        for (int i = 0; i < cfg.num_samples; ++i) seconds(i, 0) = Real(i / cfg.sample_rate_hz);
        const ad::Var phase = tape.constant(seconds) * (p["frequency_hz"] * Real(2 * kPi));
        return ad::sin(phase) * p["amplitude"];
    }
};

}  // namespace

std::unique_ptr<Synth> make_sine_synth() { return std::make_unique<SineSynth>(); }

}  // namespace ddsp::synth
