// Real-input FFT of a fixed power-of-two size.
//
// A plan owns its twiddle factors and scratch, so forward()/inverse() never allocate; a plan is
// therefore not shareable between threads (make one per thread).
#pragma once

#include "dsp/types.h"

#include <vector>

namespace ddsp::dsp {

bool is_power_of_two(int n);
int next_power_of_two(int n);

class RealFft {
public:
    explicit RealFft(int n);  // n: power of two, >= 2

    int size() const { return n_; }
    int num_bins() const { return n_ / 2 + 1; }

    // out[k] = sum_t in[t] exp(-2 pi i k t / n), k = 0..n/2 (unnormalised).
    void forward(const Real* in, Complex* out);
    // out[t] = (1/n) sum_k X[k] exp(+2 pi i k t / n) over the Hermitian-extended spectrum, so that
    // inverse(forward(x)) == x. The imaginary parts of bins 0 and n/2 are ignored.
    void inverse(const Complex* in, Real* out);

private:
    int n_;
    int half_;                     // n/2: size of the complex FFT that does the work
    std::vector<Complex> twiddle_;     // exp(-2 pi i k / half), k < half/2 (complex FFT stages)
    std::vector<Complex> split_;       // exp(-2 pi i k / n), k <= n/4 (real <-> half-complex split)
    std::vector<int> bitrev_;
    std::vector<Complex> work_;

    void complex_fft(Complex* data, bool inverse);
};

}  // namespace ddsp::dsp
