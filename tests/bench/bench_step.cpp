// One optimisation step of ddsp.cpp's hot paths, timed. scripts/bench.sh runs this natively and in
// wasm under node, next to tests/bench/bench_torch.py (the same workloads in PyTorch), and prints
// the ratios. Workload definitions must match bench_torch.py exactly (the printed initial losses
// are compared by bench.sh to prove it).
//
// Output: one JSON object per workload per line:
//   {"impl": "native"|"wasm", "bench": NAME, "ms_median": x, "ms_min": y, "iters": n, "loss": v}
#include "ad/adam.h"
#include "ad/ops.h"
#include "ad/ops_signal.h"
#include "match/loss.h"
#include "nn/autoencoder.h"
#include "nn/ks_autoencoder.h"
#include "synth/synth.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace ddsp;

namespace {

const char* impl_name() {
#ifdef __EMSCRIPTEN__
    return "wasm";
#else
    return "native";
#endif
}

// 3 warm-up runs, then at least 20 runs and at least 2 s.
void time_it(const char* bench, double loss, const std::function<void()>& step) {
    using clock = std::chrono::steady_clock;
    for (int i = 0; i < 3; ++i) step();
    std::vector<double> ms;
    const auto start = clock::now();
    while (ms.size() < 20 || std::chrono::duration<double>(clock::now() - start).count() < 2.0) {
        const auto t0 = clock::now();
        step();
        ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
        if (ms.size() >= 2000) break;
    }
    std::sort(ms.begin(), ms.end());
    std::printf("{\"impl\": \"%s\", \"bench\": \"%s\", \"ms_median\": %.4f, \"ms_min\": %.4f, \"iters\": %zu, \"loss\": %.9g}\n",
                impl_name(), bench, ms[ms.size() / 2], ms.front(), ms.size(), loss);
    std::fflush(stdout);
}

void bench_mrstft_step() {
    const int n = 64000;  // 4 s at 16 kHz
    Vec x0(n), target(n);
    for (int t = 0; t < n; ++t) {
        const double td = t;
        x0[t] = Real(0.1 * std::sin(2 * kPi * 0.01234 * td * td / n + 0.3));
        double y = 0;
        for (int k = 1; k <= 8; ++k) y += (0.5 / k) * std::sin(2 * kPi * 220 * k * td / 16000);
        target[t] = Real(y * std::exp(-td / 16000));
    }
    ad::Tape tape;
    ad::Var x = tape.variable(x0);
    match::MrStftParams p = match::MrStftParams::ddsp();
    p.normalize_by_window = false;  // torch.stft's raw magnitudes, as in bench_torch.py
    p.log_floor = 1e-5;
    match::MrStftLoss loss(x, target, p);
    ad::Adam adam({1e-3});
    adam.add(x);
    const double initial = loss.loss().item();
    time_it("mrstft_step", initial, [&] {
        tape.forward();
        tape.backward(loss.loss());
        adam.step();
    });
}

void bench_ks_loop_step() {
    const int n = 16000, delay = 143;
    const double g = 0.995;
    const std::vector<int> lags = {delay, delay + 1, delay + 2};
    Arr excitation = Arr::Zero(n, 1), coeffs(n, 3), reference(n, 1);
    for (int t = 0; t < 400; ++t) excitation(t, 0) = Real(std::sin(0.37 * t) * (1 - t / 400.0));
    for (int t = 0; t < n; ++t) {
        coeffs(t, 0) = Real(-g * 0.25);
        coeffs(t, 1) = Real(-g * 0.5);
        coeffs(t, 2) = Real(-g * 0.25);
        reference(t, 0) = Real(0.5 * std::sin(2 * kPi * 110 * t / 16000.0) * std::exp(-t / 4000.0));
    }
    ad::Tape tape;
    ad::Var x = tape.variable(excitation);
    ad::Var a = tape.variable(coeffs);  // time-varying taps: more general than lfilter's
    ad::Var y = ad::allpole(x, a, lags);
    ad::Var loss = ad::mean(ad::square(y - tape.constant(reference)));
    const double initial = loss.item();
    time_it("ks_loop_step", initial, [&] {
        tape.forward();
        tape.backward(loss);
    });
}

// [SECTION] synth workloads (see README.md: <synth>_step and <synth>_eval)

// The loss of every synth workload: the DDSP preset as in mrstft_step (raw magnitudes, floor 1e-5).
match::MrStftParams synth_loss_params() {
    match::MrStftParams p = match::MrStftParams::ddsp();
    p.normalize_by_window = false;
    p.log_floor = 1e-5;
    return p;
}

// The fixed target: mrstft_step's decaying 220 Hz harmonic tone, at the synth's rate and length.
Vec synth_target(int n, double sample_rate_hz) {
    Vec y(n);
    for (int t = 0; t < n; ++t) {
        double v = 0;
        for (int k = 1; k <= 8; ++k) v += (0.5 / k) * std::sin(2 * kPi * 220 * k * t / sample_rate_hz);
        y[t] = Real(v * std::exp(-t / sample_rate_hz));
    }
    return y;
}

// A synth at its default rate and length, seed 0, its initial values (no analysed target), as
// the unconstrained vector MatchSession optimises.
struct SynthSetup {
    std::unique_ptr<synth::Synth> synth;
    synth::SynthConfig cfg;
    Vec u0, target;
};

SynthSetup synth_setup(const std::string& name) {
    SynthSetup s;
    s.synth = synth::make_synth(name);
    s.cfg.sample_rate_hz = s.synth->default_sample_rate_hz();
    s.cfg.num_samples = int(std::lround(s.synth->default_seconds() * s.cfg.sample_rate_hz));
    s.cfg.seed = 0;
    std::string error;
    if (!synth::to_unconstrained(s.synth->param_table(s.cfg), s.synth->initial_values(s.cfg), s.u0, error)) {
        std::fprintf(stderr, "bench_step: %s: %s\n", name.c_str(), error.c_str());
        std::exit(1);
    }
    s.target = synth_target(s.cfg.num_samples, s.cfg.sample_rate_hz);
    return s;
}

// One gradient step as MatchSession::gradient_step: forward, backward, Adam (its defaults:
// lr 0.05, gradient norm clipped at 10).
void bench_synth_step(const std::string& name) {
    SynthSetup s = synth_setup(name);
    ad::Tape tape;
    ad::Var u = tape.variable(s.u0);
    ad::Var audio = s.synth->build(u, s.cfg);
    match::MrStftLoss loss(audio, s.target, synth_loss_params());
    ad::AdamParams ap;
    ap.learning_rate = 0.05;
    ap.clip_norm = 10;
    ad::Adam adam(ap);
    adam.add(u);
    const double initial = loss.loss().item();
    tape.backward(loss.loss());  // diagnostics only: compare with bench_torch.py's stderr
    std::fprintf(stderr, "bench_step: %s_step: %d parameters, |grad u|_2 %.6g\n", name.c_str(), int(s.u0.size()),
                 double(u.grad().matrix().norm()));
    time_it((name + "_step").c_str(), initial, [&] {
        tape.forward();
        tape.backward(loss.loss());
        adam.step();
    });
}

// One population-search evaluation as MatchSession::Evaluator: new u into a forward-only tape,
// forward (synth + loss). Single-threaded (the session runs one evaluator per core).
void bench_synth_eval(const std::string& name) {
    SynthSetup s = synth_setup(name);
    ad::Tape tape(ad::Tape::Mode::forward_only);
    ad::Var u = tape.constant(s.u0);
    ad::Var audio = s.synth->build(u, s.cfg);
    match::MrStftLoss loss(audio, s.target, synth_loss_params());
    const double initial = loss.loss().item();
    volatile double sink = 0;  // keep the result live
    time_it((name + "_eval").c_str(), initial, [&] {
        tape.mutable_value(u).col(0) = s.u0;
        tape.forward();
        sink = sink + double(loss.loss().item());
    });
}

// The shipped DDSP autoencoder (assets/models/ddsp_gm8.safetensors) on 4 s of fixed conditioning:
// f0 gliding 196 -> 262 Hz, loudness rising from -50 to -20 dB and falling back, MFCC frames
// mfcc[f][k] = 20 cos(0.05 (f + 1) (k + 1)) (given, not computed: bench_torch.py feeds the same
// array to python/ddsp_torch.py), z = the posterior mean. autoencoder_step: one training step as
// `ddsp train` takes it (graph rebuilt on the weights, MR-STFT with raw magnitudes against the
// mrstft_step target, backward, Adam on every weight). autoencoder_eval: the forward pass only
// (render 4 s; real time is 4000 ms).
struct AutoencoderBench {
    nn::TensorFile file;
    nn::Conditioning cond;
    Vec target;
};

bool autoencoder_bench_setup(AutoencoderBench& b) {
    std::string error;
    const std::string path = std::string(DDSP_SOURCE_DIR) + "/assets/models/ddsp_gm8.safetensors";
    if (!nn::safetensors_read_file(path, b.file, error)) {
        std::fprintf(stderr, "bench_step: %s\n", error.c_str());
        return false;
    }
    const int n = 64000, hop = 64, frames = n / hop + 1, mfcc_frames = n / 256 + 1;
    nn::Conditioning& c = b.cond;
    c.sample_rate_hz = 16000;
    c.num_samples = n;
    c.hop = hop;
    c.f0_hz.resize(frames);
    c.loudness_db.resize(frames);
    c.centroid_hz.resize(frames);
    for (int f = 0; f < frames; ++f) {
        const double t = double(f) / (frames - 1);
        c.f0_hz[f] = Real(196 + (262 - 196) * t);
        c.loudness_db[f] = Real(-50 + 30 * std::sin(kPi * t));
        c.centroid_hz[f] = Real(1000 + 500 * t);
    }
    c.mfcc.resize(mfcc_frames, 30);
    for (int f = 0; f < mfcc_frames; ++f)
        for (int k = 0; k < 30; ++k) c.mfcc(f, k) = Real(20 * std::cos(0.05 * (f + 1) * (k + 1)));
    b.target.resize(n);
    for (int t = 0; t < n; ++t) {
        const double td = t;
        double y = 0;
        for (int k = 1; k <= 8; ++k) y += (0.5 / k) * std::sin(2 * kPi * 220 * k * td / 16000);
        b.target[t] = Real(y * std::exp(-td / 16000));
    }
    return true;
}

void bench_autoencoder_step() {
    AutoencoderBench b;
    if (!autoencoder_bench_setup(b)) return;
    ad::Tape tape;
    std::string error;
    std::unique_ptr<nn::Autoencoder> model = nn::load_autoencoder(tape, b.file, error);
    if (!model) return;
    ad::Adam adam({1e-4});
    for (const nn::Param& p : model->params()) adam.add(p.var);
    const int mark = tape.num_nodes();
    match::MrStftParams p = match::MrStftParams::ddsp();
    p.normalize_by_window = false;
    double initial = 0;
    {
        const match::MrStftLoss loss(model->forward(tape, b.cond).audio, b.target, p);
        initial = loss.loss().item();
    }
    time_it("autoencoder_step", initial, [&] {
        tape.truncate(mark);
        const nn::Autoencoder::Output o = model->forward(tape, b.cond);
        const match::MrStftLoss loss(o.audio, b.target, p);
        tape.backward(loss.loss());
        adam.step();
    });
    std::fprintf(stderr, "bench_step: autoencoder_step: %lld weights, initial loss %.9g\n", model->num_values(), initial);
}

void bench_autoencoder_eval() {
    AutoencoderBench b;
    if (!autoencoder_bench_setup(b)) return;
    ad::Tape tape(ad::Tape::Mode::forward_only);
    std::string error;
    std::unique_ptr<nn::Autoencoder> model = nn::load_autoencoder(tape, b.file, error);
    if (!model) return;
    const int mark = tape.num_nodes();
    // The "loss" compared across implementations: the rendering's mean square.
    const double mean_square = double(model->forward(tape, b.cond).audio.value().square().mean());
    time_it("autoencoder_eval", mean_square, [&] {
        tape.truncate(mark);
        model->forward(tape, b.cond);
    });
}

// ks_ae_encode: the string autoencoder's encoder (assets/models/ks_ae.safetensors) on 2 s of
// MFCC-like frames (126 x 30, deterministic): the one-pass prediction of amortised matching.
void bench_ks_ae_encode() {
    nn::TensorFile file;
    std::string error;
    if (!nn::safetensors_read_file(std::string(DDSP_SOURCE_DIR) + "/assets/models/ks_ae.safetensors", file, error)) {
        std::fprintf(stderr, "bench_step: ks_ae_encode: %s\n", error.c_str());
        return;
    }
    ad::Tape tape(ad::Tape::Mode::forward_only);
    auto model = nn::load_ks_autoencoder(tape, file, error);
    if (!model) {
        std::fprintf(stderr, "bench_step: ks_ae_encode: %s\n", error.c_str());
        return;
    }
    Arr features(126, 30);  // as bench_torch.py's ks_ae_features()
    for (int t = 0; t < 126; ++t)
        for (int c = 0; c < 30; ++c) features(t, c) = Real((c == 0 ? -40.0 : 8.0) * std::cos(0.05 * t * (c + 1) + 0.3 * c) - 0.1 * t);
    const int mark = tape.num_nodes();
    const double sum_u = double(model->encode(features, 196.0).value().sum());
    time_it("ks_ae_encode", sum_u, [&] {
        tape.truncate(mark);
        model->encode(features, 196.0);
    });
}

}  // namespace

// bench_step [NAME ...]: only the named workloads (default: all).
int main(int argc, char** argv) {
    const std::vector<std::string> wanted(argv + 1, argv + argc);
    auto want = [&](const std::string& bench) {
        return wanted.empty() || std::find(wanted.begin(), wanted.end(), bench) != wanted.end();
    };
    if (want("mrstft_step")) bench_mrstft_step();
    if (want("ks_loop_step")) bench_ks_loop_step();
    for (const char* name : {"sine", "ks", "drum808", "ddsp"})
        if (want(std::string(name) + "_step")) bench_synth_step(name);
    for (const char* name : {"ks", "drum808"})
        if (want(std::string(name) + "_eval")) bench_synth_eval(name);
    if (want("autoencoder_step")) bench_autoencoder_step();
    if (want("autoencoder_eval")) bench_autoencoder_eval();
    if (want("ks_ae_encode")) bench_ks_ae_encode();
    return 0;
}
