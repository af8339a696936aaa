// A deterministic random source that gives the same numbers natively and in wasm (std::
// distributions are implementation-defined, so libstdc++ and Emscripten's libc++ differ). Same
// seed, same bytes: synth noise, genetic search and tests depend on it.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace ddsp::dsp {

class Rng {
public:
    explicit Rng(uint64_t seed = 0) : engine_(seed) {}

    uint64_t next_u64() { return engine_(); }
    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return double(engine_() >> 11) * (1.0 / 9007199254740992.0); }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    // Uniform integer in [0, n).
    int below(int n) { return int(uniform() * n); }
    // Standard normal (Box-Muller; no cached second value, so the stream is position-independent).
    double normal() {
        double u1 = uniform();
        while (u1 <= 0) u1 = uniform();
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }

private:
    std::mt19937_64 engine_;  // its output sequence is fixed by the standard
};

}  // namespace ddsp::dsp
