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

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
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

void bench_ks_step() {
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
    time_it("ks_step", initial, [&] {
        tape.forward();
        tape.backward(loss);
    });
}

}  // namespace

int main() {
    bench_mrstft_step();
    bench_ks_step();
    return 0;
}
