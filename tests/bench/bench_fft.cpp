// Benchmark: real forward + inverse FFT at the sizes the multi-resolution STFT loss uses.
//
// Compares dsp::RealFft with Eigen's unsupported FFT module (kissfft backend, header-only) and,
// when compiled by hand with -DDDSP_BENCH_FFTW, with FFTW (never a project dependency):
//   g++ -std=c++17 -O3 -march=native -DDDSP_BENCH_FFTW -DEIGEN_MPL2_ONLY -Isrc  (continued)
//       -isystem /usr/include/eigen3 tests/bench/bench_fft.cpp src/dsp/fft.cpp  (continued)
//       -lfftw3f -lfftw3 -o /tmp/bench_fft
// Add -DDDSP_REAL=double for the double build. CMake builds it as build/bench_fft (native) and
// build-wasm/bench_fft.js (node). Usage: bench_fft [seconds_per_size]
//
// Every timed call runs forward then inverse on the same buffers (as the STFT loss's forward
// and backward passes do); the table reports ns per transform = (forward + inverse) / 2.
// Each contender's time is the minimum over many short batches, and the contenders take turns
// in several rounds, so a busy shared machine slows them alike and the ratios stay meaningful.
// Each implementation's spectrum is checked against ours first.
#include "dsp/fft.h"

#include <unsupported/Eigen/FFT>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#ifdef DDSP_BENCH_FFTW
#include <fftw3.h>
#endif

using namespace ddsp;

namespace {

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A contender: one forward + inverse pair per call, and its best time so far.
struct Contender {
    std::string name;
    std::function<void()> run;
    long long iters = 0;  // calls per batch (~0.5 ms)
    double best_ns = 1e30;
};

void calibrate(Contender& c) {
    for (int i = 0; i < 50; ++i) c.run();  // warm caches and any lazy plan
    long long iters = 1;
    while (true) {
        const double t0 = now_s();
        for (long long i = 0; i < iters; ++i) c.run();
        if (now_s() - t0 > 5e-4 || iters > (1LL << 30)) break;
        iters *= 2;
    }
    c.iters = iters;
}

// Runs batches of c for about `seconds`, keeping the fastest batch.
void measure(Contender& c, double seconds) {
    const double start = now_s();
    int batches = 0;
    while (batches < 5 || now_s() - start < seconds) {
        const double t0 = now_s();
        for (long long i = 0; i < c.iters; ++i) c.run();
        c.best_ns = std::min(c.best_ns, (now_s() - t0) / double(c.iters) * 1e9);
        ++batches;
    }
}

// Max |a - b| relative to max |b|, to make sure every contender computes the same spectrum.
double rel_diff(const std::vector<Complex>& a, const std::vector<Complex>& b) {
    double err = 0, scale = 0;
    for (size_t k = 0; k < b.size(); ++k) {
        err = std::max(err, double(std::abs(a[k] - b[k])));
        scale = std::max(scale, double(std::abs(b[k])));
    }
    return err / scale;
}

#ifdef DDSP_BENCH_FFTW
// FFTW's API is split by precision; pick the one matching Real.
template <typename T>
struct Fftw;
template <>
struct Fftw<float> {
    using Plan = fftwf_plan;
    using Cpx = fftwf_complex;
    static Plan r2c(int n, float* in, Cpx* out) { return fftwf_plan_dft_r2c_1d(n, in, out, FFTW_MEASURE); }
    static Plan c2r(int n, Cpx* in, float* out) { return fftwf_plan_dft_c2r_1d(n, in, out, FFTW_MEASURE); }
    static void run(Plan p) { fftwf_execute(p); }
    static void destroy(Plan p) { fftwf_destroy_plan(p); }
    static void* alloc(size_t bytes) { return fftwf_malloc(bytes); }
    static void release(void* p) { fftwf_free(p); }
};
template <>
struct Fftw<double> {
    using Plan = fftw_plan;
    using Cpx = fftw_complex;
    static Plan r2c(int n, double* in, Cpx* out) { return fftw_plan_dft_r2c_1d(n, in, out, FFTW_MEASURE); }
    static Plan c2r(int n, Cpx* in, double* out) { return fftw_plan_dft_c2r_1d(n, in, out, FFTW_MEASURE); }
    static void run(Plan p) { fftw_execute(p); }
    static void destroy(Plan p) { fftw_destroy_plan(p); }
    static void* alloc(size_t bytes) { return fftw_malloc(bytes); }
    static void release(void* p) { fftw_free(p); }
};
#endif

}  // namespace

int main(int argc, char** argv) {
    const double seconds_per_size = argc > 1 ? std::atof(argv[1]) : 1.0;
    const int rounds = 5;
#ifdef __EMSCRIPTEN__
    const char* target = "wasm (em++ -O3 -msimd128)";
#else
    const char* target = "native";
#endif
    std::printf("# bench_fft: %s, Real = %s, ns per transform = (forward + inverse) / 2\n", target,
                sizeof(Real) == 4 ? "float" : "double");
#ifdef DDSP_BENCH_FFTW
    std::printf("%6s %12s %12s %12s %12s %12s\n", "size", "ours_ns", "eigen_ns", "eigen/ours", "fftw_ns",
                "fftw/ours");
#else
    std::printf("%6s %12s %12s %12s\n", "size", "ours_ns", "eigen_ns", "eigen/ours");
#endif

    std::mt19937 rng(7);
    std::normal_distribution<double> normal;
    bool all_agree = true;
    for (int n = 64; n <= 4096; n *= 2) {
        const int nb = n / 2 + 1;
        std::vector<Real> x(static_cast<size_t>(n)), back(static_cast<size_t>(n));
        for (auto& v : x) v = Real(normal(rng));
        std::vector<Complex> spec(static_cast<size_t>(nb)), ref(static_cast<size_t>(nb));
        std::vector<Contender> contenders;

        // Ours.
        dsp::RealFft fft(n);
        fft.forward(x.data(), ref.data());
        contenders.push_back({"ours", [&] {
                                  fft.forward(x.data(), spec.data());
                                  fft.inverse(spec.data(), back.data());
                              }});

        // Eigen / kissfft, half spectrum, scaled inverse (same conventions as ours).
        Eigen::FFT<Real> efft;
        efft.SetFlag(Eigen::FFT<Real>::HalfSpectrum);
        efft.fwd(spec.data(), x.data(), n);
        if (rel_diff(spec, ref) > 1e-4) all_agree = false;
        contenders.push_back({"eigen", [&] {
                                  efft.fwd(spec.data(), x.data(), n);
                                  efft.inv(back.data(), spec.data(), n);
                              }});

#ifdef DDSP_BENCH_FFTW
        // FFTW: MEASURE plans on its own aligned buffers, unnormalised inverse (one scaling pass
        // fewer than ours and Eigen's). c2r overwrites its input, which the next forward refills.
        using W = Fftw<Real>;
        Real* win = static_cast<Real*>(W::alloc(sizeof(Real) * size_t(n)));
        Real* wback = static_cast<Real*>(W::alloc(sizeof(Real) * size_t(n)));
        auto* wspec = static_cast<typename W::Cpx*>(W::alloc(sizeof(typename W::Cpx) * size_t(nb)));
        auto fplan = W::r2c(n, win, wspec);
        auto iplan = W::c2r(n, wspec, wback);
        std::copy(x.begin(), x.end(), win);
        W::run(fplan);
        for (int k = 0; k < nb; ++k) spec[size_t(k)] = Complex(wspec[k][0], wspec[k][1]);
        if (rel_diff(spec, ref) > 1e-4) all_agree = false;
        contenders.push_back({"fftw", [&] {
                                  W::run(fplan);
                                  W::run(iplan);
                              }});
#endif

        for (auto& c : contenders) calibrate(c);
        const double slice = seconds_per_size / double(rounds * contenders.size());
        for (int r = 0; r < rounds; ++r)
            for (auto& c : contenders) measure(c, slice);
        const double ours = contenders[0].best_ns / 2, eigen = contenders[1].best_ns / 2;
#ifdef DDSP_BENCH_FFTW
        const double fftw = contenders[2].best_ns / 2;
        std::printf("%6d %12.1f %12.1f %12.2f %12.1f %12.2f\n", n, ours, eigen, eigen / ours, fftw,
                    fftw / ours);
        W::destroy(fplan);
        W::destroy(iplan);
        W::release(win);
        W::release(wback);
        W::release(wspec);
#else
        std::printf("%6d %12.1f %12.1f %12.2f\n", n, ours, eigen, eigen / ours);
#endif
        std::fflush(stdout);
    }
    if (!all_agree) {
        std::printf("ERROR: the implementations disagree on the spectrum\n");
        return 1;
    }
    return 0;
}
