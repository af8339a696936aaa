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
    // Everything lives in one aligned block addressed by offsets, so the default copy and move
    // keep working (no pointers into our own storage).
    using Storage = std::vector<Real, Eigen::aligned_allocator<Real>>;

    int n_;
    int half_;           // n/2: size of the complex FFT that does the work
    int log2_half_ = 0;  // radix-4 stages: log2_half_/2; one radix-2 stage if odd
    Storage data_;
    int tw_off_ = 0;     // per-stage radix-4 twiddles, 6*m reals per stage (w1..w3, re/im)
    int split_off_ = 0;  // exp(-2 pi i k / n), k < half: re then im (real <-> half-complex)
    int work_off_ = 0;   // two split-format ping-pong buffers: re0, im0, re1, im1
    int work_stride_ = 0;

    // Complex FFT of size half_ on the work buffers (see fft.cpp). Input: work buffer 0, or the
    // packed real signal `packed` (forward only, half_ >= 8). With `defer_radix2` an odd final
    // radix-2 stage is left to the caller; with `out` set the final stage writes the (inverse)
    // result interleaved and times `scale` there. Returns the work buffer holding the result, or
    // -1 when it went to `out`.
    int complex_fft(const Real* packed, bool inverse, bool defer_radix2, Real* out, Real scale);
};

}  // namespace ddsp::dsp
