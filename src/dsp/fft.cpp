// Real FFT through a half-size complex FFT (even samples in the real part, odd samples in the
// imaginary part) followed by a split step.
//
// Index
//   [SECTION] Layout and design
//   [SECTION] Butterflies
//   [SECTION] Stage kernels
//   [SECTION] Real <-> half-complex kernels
//   [SECTION] 4-lane vector kernels (wasm)
//   [SECTION] Kernel selection
//   [SECTION] Plan
//   [SECTION] Complex FFT
//   [SECTION] Real transforms
//
// [SECTION] Layout and design
// The complex FFT (size h = n/2) works on split arrays (all real parts, then all imaginary
// parts), so every loop is a plain stream of Reals that g++ -O3 -march=native and em++ -O3
// -msimd128 vectorise without intrinsics. It is a Stockham autosort transform (no bit-reversal
// pass), decimation in frequency, radix-4 stages plus one radix-2 stage when log2(h) is odd,
// ping-ponging between two work buffers. Each stage's twiddles are precomputed (in double) and
// stored contiguously in the order the stage reads them.
//
// A stage of sub-transform length len = 4m at stride s (len * s = h) computes, for p < m, q < s:
//   a, b, c, d = x[q + s (p + {0, 1, 2, 3} m)]
//   y[q + s (4p + k)] = w^(k p) * (k-th output of the radix-4 butterfly on a, b, c, d),
//   w = exp(-2 pi i / len).
// The loop over q is unit-stride with scalar twiddles, so it vectorises whenever s is at least a
// vector; the first two stages (s = 1 and s = 4) get their own kernels that vectorise over p.
//
// Passes are fused where that saves a trip through memory: the forward transform's first stage
// reads the interleaved real input directly and its final radix-2 stage is folded into the
// real split step; the inverse transform's final stage writes the scaled, interleaved output.
// The inverse reuses the forward kernels by swapping real and imaginary arrays
// (swap(FFT(swap(z))) is the unnormalised inverse FFT).
//
// Every kernel takes each stream it writes as its own __restrict parameter: compilers only trust
// restrict on parameters, and without it they cannot rule out overlap between output streams
// whose distance is a run-time stride, and give up on vectorising. The kernels that interleave
// (re/im pairs, the first stage) have explicit 4-lane versions for wasm, where LLVM 14 would
// otherwise move the data lane by lane.
//
// Measured with tests/bench/bench_fft.cpp (results in tests/bench/fft_results.md).
#include "dsp/fft.h"

#include <cassert>
#include <cmath>
#include <cstring>

// Explicit 4-lane kernels for wasm SIMD, see [SECTION] 4-lane vector kernels.
#if !defined(DDSP_FFT_VEC4) && defined(__wasm_simd128__)
#define DDSP_FFT_VEC4 1
#endif

namespace ddsp::dsp {

bool is_power_of_two(int n) {
    return n > 0 && (n & (n - 1)) == 0;
}

int next_power_of_two(int n) {
    int p = 1;
    while (p < n) p <<= 1;
    return p;
}

namespace {

// [SECTION] Butterflies
// Written once for scalars (T = Real) and for the explicit 4-lane vectors below (T = V4).
template <typename T>
struct CxT {
    T r, i;
};
using Cx = CxT<Real>;

template <typename T>
inline CxT<T> operator+(CxT<T> a, CxT<T> b) {
    return {a.r + b.r, a.i + b.i};
}
template <typename T>
inline CxT<T> operator-(CxT<T> a, CxT<T> b) {
    return {a.r - b.r, a.i - b.i};
}
template <typename T>
inline CxT<T> mul(CxT<T> a, T wr, T wi) {
    return {wr * a.r - wi * a.i, wr * a.i + wi * a.r};
}

// Radix-4 DIF butterfly (forward sign): y_k = sum_j x_j (-i)^(j k), before twiddles.
template <typename T>
struct Bfly4 {
    CxT<T> y0, y1, y2, y3;
};

template <typename T>
inline Bfly4<T> radix4(CxT<T> a, CxT<T> b, CxT<T> c, CxT<T> d) {
    const CxT<T> apc = a + c, amc = a - c, bpd = b + d, bmd = b - d;
    return {apc + bpd, {amc.r + bmd.i, amc.i - bmd.r}, apc - bpd, {amc.r - bmd.i, amc.i + bmd.r}};
}

// Forward split of one bin (see [SECTION] Real <-> half-complex kernels): z = Z[k], zc = Z[h-k]
// (not yet conjugated), W^k = (wr, wi); returns X[k].
template <typename T>
inline CxT<T> split_bin(CxT<T> z, CxT<T> zc, T wr, T wi) {
    const T er = z.r + zc.r, ei = z.i - zc.i;
    const T odr = z.i + zc.i, odi = zc.r - z.r;
    const T half = T{} + Real(0.5);
    return {half * (er + wr * odr - wi * odi), half * (ei + wr * odi + wi * odr)};
}

// Inverse split of one bin: x = X[k], xc = X[h-k], W^k = (wr, wi); returns 2 Z[k].
template <typename T>
inline CxT<T> unsplit_bin(CxT<T> x, CxT<T> xc, T wr, T wi) {
    const T er = x.r + xc.r, ei = x.i - xc.i;
    const T dr = x.r - xc.r, di = x.i + xc.i;
    const T or_ = wr * dr + wi * di, oi = wr * di - wi * dr;
    return {er - oi, ei + or_};
}

// [SECTION] Stage kernels
// Stage twiddles for one stage: w^p, w^2p, w^3p for p < m, as six arrays of m Reals
// (w1 re, w1 im, w2 re, w2 im, w3 re, w3 im).

// s == 1 from split arrays: vectorise over p (unit-stride loads, 4-way interleaved stores).
void radix4_first(int m, const Real* __restrict xr, const Real* __restrict xi, Real* __restrict yr,
                  Real* __restrict yi, const Real* __restrict tw) {
    for (int p = 0; p < m; ++p) {
        const Bfly4<Real> y = radix4<Real>({xr[p], xi[p]}, {xr[p + m], xi[p + m]},
                                           {xr[p + 2 * m], xi[p + 2 * m]}, {xr[p + 3 * m], xi[p + 3 * m]});
        const Cx y1 = mul(y.y1, tw[p], tw[m + p]);
        const Cx y2 = mul(y.y2, tw[2 * m + p], tw[3 * m + p]);
        const Cx y3 = mul(y.y3, tw[4 * m + p], tw[5 * m + p]);
        yr[4 * p] = y.y0.r;
        yi[4 * p] = y.y0.i;
        yr[4 * p + 1] = y1.r;
        yi[4 * p + 1] = y1.i;
        yr[4 * p + 2] = y2.r;
        yi[4 * p + 2] = y2.i;
        yr[4 * p + 3] = y3.r;
        yi[4 * p + 3] = y3.i;
    }
}

// s == 1 from the packed real input z[t] = in[2t] + i in[2t+1] (forward transform only).
void radix4_first_packed(int m, const Real* __restrict in, Real* __restrict yr, Real* __restrict yi,
                         const Real* __restrict tw) {
    const Real* __restrict b = in + 2 * m;
    const Real* __restrict c = in + 4 * m;
    const Real* __restrict d = in + 6 * m;
    for (int p = 0; p < m; ++p) {
        const Bfly4<Real> y = radix4<Real>({in[2 * p], in[2 * p + 1]}, {b[2 * p], b[2 * p + 1]},
                                           {c[2 * p], c[2 * p + 1]}, {d[2 * p], d[2 * p + 1]});
        const Cx y1 = mul(y.y1, tw[p], tw[m + p]);
        const Cx y2 = mul(y.y2, tw[2 * m + p], tw[3 * m + p]);
        const Cx y3 = mul(y.y3, tw[4 * m + p], tw[5 * m + p]);
        yr[4 * p] = y.y0.r;
        yi[4 * p] = y.y0.i;
        yr[4 * p + 1] = y1.r;
        yi[4 * p + 1] = y1.i;
        yr[4 * p + 2] = y2.r;
        yi[4 * p + 2] = y2.i;
        yr[4 * p + 3] = y3.r;
        yi[4 * p + 3] = y3.i;
    }
}

// s == 4: for each p the four q are contiguous in every input stream and each output is a run of
// four, so the q loop is one 4-wide vector (SLP) and the p loop runs over those.
void radix4_second(int m, const Real* __restrict xr, const Real* __restrict xi, Real* __restrict yr,
                   Real* __restrict yi, const Real* __restrict tw) {
    for (int p = 0; p < m; ++p) {
        const Real w1r = tw[p], w1i = tw[m + p], w2r = tw[2 * m + p], w2i = tw[3 * m + p];
        const Real w3r = tw[4 * m + p], w3i = tw[5 * m + p];
        for (int q = 0; q < 4; ++q) {
            const int i = 4 * p + q;
            const Bfly4<Real> y =
                radix4<Real>({xr[i], xi[i]}, {xr[i + 4 * m], xi[i + 4 * m]}, {xr[i + 8 * m], xi[i + 8 * m]},
                             {xr[i + 12 * m], xi[i + 12 * m]});
            const Cx y1 = mul(y.y1, w1r, w1i);
            const Cx y2 = mul(y.y2, w2r, w2i);
            const Cx y3 = mul(y.y3, w3r, w3i);
            yr[16 * p + q] = y.y0.r;
            yi[16 * p + q] = y.y0.i;
            yr[16 * p + 4 + q] = y1.r;
            yi[16 * p + 4 + q] = y1.i;
            yr[16 * p + 8 + q] = y2.r;
            yi[16 * p + 8 + q] = y2.i;
            yr[16 * p + 12 + q] = y3.r;
            yi[16 * p + 12 + q] = y3.i;
        }
    }
}

// One run of `count` radix-4 butterflies over four unit-stride input streams, writing four
// output streams; output k is multiplied by the scalar twiddle w^k (w = nullptr: no twiddles).
inline void radix4_run(int count, const Real* __restrict ar, const Real* __restrict ai,
                       const Real* __restrict br, const Real* __restrict bi, const Real* __restrict cr,
                       const Real* __restrict ci, const Real* __restrict dr, const Real* __restrict di,
                       Real* __restrict y0r, Real* __restrict y0i, Real* __restrict y1r, Real* __restrict y1i,
                       Real* __restrict y2r, Real* __restrict y2i, Real* __restrict y3r, Real* __restrict y3i,
                       const Real* w) {
    if (w == nullptr) {
        for (int q = 0; q < count; ++q) {
            const Bfly4<Real> y =
                radix4<Real>({ar[q], ai[q]}, {br[q], bi[q]}, {cr[q], ci[q]}, {dr[q], di[q]});
            y0r[q] = y.y0.r;
            y0i[q] = y.y0.i;
            y1r[q] = y.y1.r;
            y1i[q] = y.y1.i;
            y2r[q] = y.y2.r;
            y2i[q] = y.y2.i;
            y3r[q] = y.y3.r;
            y3i[q] = y.y3.i;
        }
        return;
    }
    const Real w1r = w[0], w1i = w[1], w2r = w[2], w2i = w[3], w3r = w[4], w3i = w[5];
    for (int q = 0; q < count; ++q) {
        const Bfly4<Real> y = radix4<Real>({ar[q], ai[q]}, {br[q], bi[q]}, {cr[q], ci[q]}, {dr[q], di[q]});
        const Cx y1 = mul(y.y1, w1r, w1i);
        const Cx y2 = mul(y.y2, w2r, w2i);
        const Cx y3 = mul(y.y3, w3r, w3i);
        y0r[q] = y.y0.r;
        y0i[q] = y.y0.i;
        y1r[q] = y1.r;
        y1i[q] = y1.i;
        y2r[q] = y2.r;
        y2i[q] = y2.i;
        y3r[q] = y3.r;
        y3i[q] = y3.i;
    }
}

// s >= 16: vectorise over q, one run per p.
void radix4_stage(int s, int m, const Real* xr, const Real* xi, Real* yr, Real* yi, const Real* tw) {
    for (int p = 0; p < m; ++p) {
        const Real w[6] = {tw[p], tw[m + p], tw[2 * m + p], tw[3 * m + p], tw[4 * m + p], tw[5 * m + p]};
        radix4_run(s, xr + s * p, xi + s * p, xr + s * (p + m), xi + s * (p + m), xr + s * (p + 2 * m),
                   xi + s * (p + 2 * m), xr + s * (p + 3 * m), xi + s * (p + 3 * m), yr + s * (4 * p),
                   yi + s * (4 * p), yr + s * (4 * p + 1), yi + s * (4 * p + 1), yr + s * (4 * p + 2),
                   yi + s * (4 * p + 2), yr + s * (4 * p + 3), yi + s * (4 * p + 3), w);
    }
}

// Last radix-4 stage (len == 4, m == 1): all twiddles are 1.
void radix4_last(int s, const Real* xr, const Real* xi, Real* yr, Real* yi) {
    radix4_run(s, xr, xi, xr + s, xi + s, xr + 2 * s, xi + 2 * s, xr + 3 * s, xi + 3 * s, yr, yi, yr + s,
               yi + s, yr + 2 * s, yi + 2 * s, yr + 3 * s, yi + 3 * s, nullptr);
}

// The inverse transform's last stage, writing its output interleaved and scaled. The inverse runs
// on swapped arrays, so the kernel's imaginary part is the true real part: out[2t] = scale * im.
inline void radix4_run_out(int count, const Real* __restrict ar, const Real* __restrict ai,
                           const Real* __restrict br, const Real* __restrict bi, const Real* __restrict cr,
                           const Real* __restrict ci, const Real* __restrict dr, const Real* __restrict di,
                           Real scale, Real* __restrict o0, Real* __restrict o1, Real* __restrict o2,
                           Real* __restrict o3) {
    for (int q = 0; q < count; ++q) {
        const Bfly4<Real> y = radix4<Real>({ar[q], ai[q]}, {br[q], bi[q]}, {cr[q], ci[q]}, {dr[q], di[q]});
        o0[2 * q] = scale * y.y0.i;
        o0[2 * q + 1] = scale * y.y0.r;
        o1[2 * q] = scale * y.y1.i;
        o1[2 * q + 1] = scale * y.y1.r;
        o2[2 * q] = scale * y.y2.i;
        o2[2 * q + 1] = scale * y.y2.r;
        o3[2 * q] = scale * y.y3.i;
        o3[2 * q + 1] = scale * y.y3.r;
    }
}

void radix4_last_out(int s, const Real* xr, const Real* xi, Real scale, Real* out) {
    radix4_run_out(s, xr, xi, xr + s, xi + s, xr + 2 * s, xi + 2 * s, xr + 3 * s, xi + 3 * s, scale, out,
                   out + 2 * s, out + 4 * s, out + 6 * s);
}

// Last radix-2 stage (len == 2): y[q] = x[q] + x[q+s], y[q+s] = x[q] - x[q+s]; output as above.
inline void radix2_run_out(int count, const Real* __restrict ar, const Real* __restrict ai,
                           const Real* __restrict br, const Real* __restrict bi, Real scale,
                           Real* __restrict o0, Real* __restrict o1) {
    for (int q = 0; q < count; ++q) {
        o0[2 * q] = scale * (ai[q] + bi[q]);
        o0[2 * q + 1] = scale * (ar[q] + br[q]);
        o1[2 * q] = scale * (ai[q] - bi[q]);
        o1[2 * q + 1] = scale * (ar[q] - br[q]);
    }
}

void radix2_last_out(int s, const Real* xr, const Real* xi, Real scale, Real* out) {
    radix2_run_out(s, xr, xi, xr + s, xi + s, scale, out, out + 2 * s);
}

// [SECTION] Real <-> half-complex kernels
// With Z the complex FFT of the packed signal and W = exp(-2 pi i / n), for 0 < k < h:
//   E = Z[k] + conj Z[h-k], O = -i (Z[k] - conj Z[h-k]), X[k] = (E + W^k O) / 2.
// Each X[k] is computed on its own (computing X[k] and X[h-k] together would halve the
// arithmetic) because g++ 12 does not vectorise the reversed interleaved store that needs.
// The kernels run k (or u) from `begin` so the vector versions can hand them their tails.

// Z in split arrays; zr_hi = zr + h etc. are read backwards. Writes X[begin..h-1] interleaved.
void split_forward(int begin, int h, const Real* __restrict zr, const Real* __restrict zi,
                   const Real* __restrict zr_hi, const Real* __restrict zi_hi, const Real* __restrict wr,
                   const Real* __restrict wi, Real* __restrict x) {
    for (int k = begin; k < h; ++k) {
        const Cx v = split_bin<Real>({zr[k], zi[k]}, {zr_hi[-k], zi_hi[-k]}, wr[k], wi[k]);
        x[2 * k] = v.r;
        x[2 * k + 1] = v.i;
    }
}

// The same with the complex FFT's final radix-2 stage folded in: with s = h/2, A = x[0..s) and
// B = x[s..h) of the previous stage, Z[u] = A[u] + B[u] and Z[s+u] = A[u] - B[u]. For 0 < u < s,
// X[u] pairs Z[u] with Z[h-u] = A[s-u] - B[s-u], and X[s+u] pairs Z[s+u] with Z[s-u] =
// A[s-u] + B[s-u]; W^(s+u) = -i W^u. ar_hi = ar + s etc. are read backwards.
void split_forward_r2(int begin, int s, const Real* __restrict ar, const Real* __restrict ai,
                      const Real* __restrict br, const Real* __restrict bi, const Real* __restrict ar_hi,
                      const Real* __restrict ai_hi, const Real* __restrict br_hi,
                      const Real* __restrict bi_hi, const Real* __restrict wr, const Real* __restrict wi,
                      Real* __restrict x_lo, Real* __restrict x_hi) {
    for (int u = begin; u < s; ++u) {
        const Cx a = {ar[u], ai[u]}, b = {br[u], bi[u]};
        const Cx ac = {ar_hi[-u], ai_hi[-u]}, bc = {br_hi[-u], bi_hi[-u]};
        const Cx lo = split_bin(a + b, ac - bc, wr[u], wi[u]);
        const Cx hi = split_bin(a - b, ac + bc, wi[u], -wr[u]);
        x_lo[2 * u] = lo.r;
        x_lo[2 * u + 1] = lo.i;
        x_hi[2 * u] = hi.r;
        x_hi[2 * u + 1] = hi.i;
    }
}

// Inverse split for 0 < k < h (the inverse of the forward split, times 2):
//   Z'[k] = E' + i O', E' = X[k] + conj X[h-k], O' = conj(W^k) (X[k] - conj X[h-k]).
// X arrives in split arrays (xr_hi = xr + h, read backwards): g++ 12 does not vectorise a
// reversed interleaved load either, so inverse() de-interleaves the spectrum first.
#if !DDSP_FFT_VEC4
void split_inverse(int begin, int h, const Real* __restrict xr, const Real* __restrict xi,
                   const Real* __restrict xr_hi, const Real* __restrict xi_hi, const Real* __restrict wr,
                   const Real* __restrict wi, Real* __restrict zr, Real* __restrict zi) {
    for (int k = begin; k < h; ++k) {
        const Cx z = unsplit_bin<Real>({xr[k], xi[k]}, {xr_hi[-k], xi_hi[-k]}, wr[k], wi[k]);
        zr[k] = z.r;
        zi[k] = z.i;
    }
}
#endif

void deinterleave(int count, const Real* __restrict in, Real* __restrict re, Real* __restrict im) {
    for (int t = 0; t < count; ++t) {
        re[t] = in[2 * t];
        im[t] = in[2 * t + 1];
    }
}

// [SECTION] 4-lane vector kernels (wasm)
// LLVM 14 (em++ 3.1.6) vectorises the unit-stride kernels above well, but it lowers interleaved
// loads and stores (re/im pairs, the first stage's 4-way interleave) lane by lane: in node that
// made a de-interleave loop 6x slower than the same loop written with shuffles. So under wasm
// SIMD the kernels that interleave are written with GCC/Clang vector extensions (portable, no
// intrinsics; g++ >= 12 accepts them too, so -DDDSP_FFT_VEC4=1 tests this path natively). Each
// falls back to its scalar version for lengths that are not a multiple of 4 (tiny sizes, tails).
#if DDSP_FFT_VEC4
typedef Real V4 __attribute__((vector_size(4 * sizeof(Real))));

inline V4 load4(const Real* p) {
    V4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store4(Real* p, V4 v) {
    std::memcpy(p, &v, sizeof v);
}
inline V4 splat4(Real x) {
    return V4{x, x, x, x};
}
inline V4 reversed(V4 a) {
    return __builtin_shufflevector(a, a, 3, 2, 1, 0);
}
inline V4 zip_lo(V4 a, V4 b) {
    return __builtin_shufflevector(a, b, 0, 4, 1, 5);
}
inline V4 zip_hi(V4 a, V4 b) {
    return __builtin_shufflevector(a, b, 2, 6, 3, 7);
}

// Four complex values stored interleaved (re, im, re, im, ...) at p.
inline CxT<V4> load_cx4(const Real* p) {
    const V4 a = load4(p), b = load4(p + 4);
    return {__builtin_shufflevector(a, b, 0, 2, 4, 6), __builtin_shufflevector(a, b, 1, 3, 5, 7)};
}
inline void store_cx4(Real* p, V4 re, V4 im) {
    store4(p, zip_lo(re, im));
    store4(p + 4, zip_hi(re, im));
}

// p[4 j + k] = ck[j]: 4x4 transpose of the columns c0..c3 into 16 consecutive Reals.
inline void store_transposed(Real* p, V4 c0, V4 c1, V4 c2, V4 c3) {
    const V4 t0 = zip_lo(c0, c1), t1 = zip_hi(c0, c1), t2 = zip_lo(c2, c3), t3 = zip_hi(c2, c3);
    store4(p, __builtin_shufflevector(t0, t2, 0, 1, 4, 5));
    store4(p + 4, __builtin_shufflevector(t0, t2, 2, 3, 6, 7));
    store4(p + 8, __builtin_shufflevector(t1, t3, 0, 1, 4, 5));
    store4(p + 12, __builtin_shufflevector(t1, t3, 2, 3, 6, 7));
}

// First stage (s == 1), from the packed real input (in != nullptr) or from split arrays.
void radix4_first_v4(int m, const Real* in, const Real* xr, const Real* xi, Real* yr, Real* yi,
                     const Real* tw) {
    if (m % 4 != 0) {
        if (in != nullptr)
            radix4_first_packed(m, in, yr, yi, tw);
        else
            radix4_first(m, xr, xi, yr, yi, tw);
        return;
    }
    for (int p = 0; p < m; p += 4) {
        CxT<V4> a, b, c, d;
        if (in != nullptr) {
            a = load_cx4(in + 2 * p);
            b = load_cx4(in + 2 * (p + m));
            c = load_cx4(in + 2 * (p + 2 * m));
            d = load_cx4(in + 2 * (p + 3 * m));
        } else {
            a = {load4(xr + p), load4(xi + p)};
            b = {load4(xr + p + m), load4(xi + p + m)};
            c = {load4(xr + p + 2 * m), load4(xi + p + 2 * m)};
            d = {load4(xr + p + 3 * m), load4(xi + p + 3 * m)};
        }
        const Bfly4<V4> y = radix4(a, b, c, d);
        const CxT<V4> y1 = mul(y.y1, load4(tw + p), load4(tw + m + p));
        const CxT<V4> y2 = mul(y.y2, load4(tw + 2 * m + p), load4(tw + 3 * m + p));
        const CxT<V4> y3 = mul(y.y3, load4(tw + 4 * m + p), load4(tw + 5 * m + p));
        store_transposed(yr + 4 * p, y.y0.r, y1.r, y2.r, y3.r);
        store_transposed(yi + 4 * p, y.y0.i, y1.i, y2.i, y3.i);
    }
}

// The inverse transform's last stages with interleaved, scaled, re/im-swapped output.
void radix4_last_out_v4(int s, const Real* xr, const Real* xi, Real scale, Real* out) {
    if (s % 4 != 0) {
        radix4_last_out(s, xr, xi, scale, out);
        return;
    }
    const V4 sc = splat4(scale);
    for (int q = 0; q < s; q += 4) {
        const Bfly4<V4> y = radix4<V4>({load4(xr + q), load4(xi + q)}, {load4(xr + s + q), load4(xi + s + q)},
                                       {load4(xr + 2 * s + q), load4(xi + 2 * s + q)},
                                       {load4(xr + 3 * s + q), load4(xi + 3 * s + q)});
        store_cx4(out + 2 * q, sc * y.y0.i, sc * y.y0.r);
        store_cx4(out + 2 * (s + q), sc * y.y1.i, sc * y.y1.r);
        store_cx4(out + 2 * (2 * s + q), sc * y.y2.i, sc * y.y2.r);
        store_cx4(out + 2 * (3 * s + q), sc * y.y3.i, sc * y.y3.r);
    }
}

void radix2_last_out_v4(int s, const Real* xr, const Real* xi, Real scale, Real* out) {
    if (s % 4 != 0) {
        radix2_last_out(s, xr, xi, scale, out);
        return;
    }
    const V4 sc = splat4(scale);
    for (int q = 0; q < s; q += 4) {
        const V4 ar = load4(xr + q), ai = load4(xi + q), br = load4(xr + s + q), bi = load4(xi + s + q);
        store_cx4(out + 2 * q, sc * (ai + bi), sc * (ar + br));
        store_cx4(out + 2 * (s + q), sc * (ai - bi), sc * (ar - br));
    }
}

// Forward split kernels; the reversed streams are read as a vector ending at hi[-k] and
// reversed.
void split_forward_v4(int h, const Real* zr, const Real* zi, const Real* zr_hi, const Real* zi_hi,
                      const Real* wr, const Real* wi, Real* x) {
    int k = 1;
    for (; k + 4 <= h; k += 4) {
        const CxT<V4> z = {load4(zr + k), load4(zi + k)};
        const CxT<V4> zc = {reversed(load4(zr_hi - k - 3)), reversed(load4(zi_hi - k - 3))};
        const CxT<V4> v = split_bin(z, zc, load4(wr + k), load4(wi + k));
        store_cx4(x + 2 * k, v.r, v.i);
    }
    split_forward(k, h, zr, zi, zr_hi, zi_hi, wr, wi, x);
}

void split_forward_r2_v4(int s, const Real* ar, const Real* ai, const Real* br, const Real* bi,
                         const Real* ar_hi, const Real* ai_hi, const Real* br_hi, const Real* bi_hi,
                         const Real* wr, const Real* wi, Real* x_lo, Real* x_hi) {
    int u = 1;
    for (; u + 4 <= s; u += 4) {
        const CxT<V4> a = {load4(ar + u), load4(ai + u)}, b = {load4(br + u), load4(bi + u)};
        const CxT<V4> ac = {reversed(load4(ar_hi - u - 3)), reversed(load4(ai_hi - u - 3))};
        const CxT<V4> bc = {reversed(load4(br_hi - u - 3)), reversed(load4(bi_hi - u - 3))};
        const V4 w_r = load4(wr + u), w_i = load4(wi + u);
        const CxT<V4> lo = split_bin(a + b, ac - bc, w_r, w_i);
        const CxT<V4> hi = split_bin(a - b, ac + bc, w_i, -w_r);
        store_cx4(x_lo + 2 * u, lo.r, lo.i);
        store_cx4(x_hi + 2 * u, hi.r, hi.i);
    }
    split_forward_r2(u, s, ar, ai, br, bi, ar_hi, ai_hi, br_hi, bi_hi, wr, wi, x_lo, x_hi);
}

// Inverse split straight from the interleaved spectrum x (bins 0..h), no de-interleave pass.
void split_inverse_v4(int h, const Real* x, const Real* wr, const Real* wi, Real* zr, Real* zi) {
    int k = 1;
    for (; k + 4 <= h; k += 4) {
        const CxT<V4> xk = load_cx4(x + 2 * k);
        const CxT<V4> xc4 = load_cx4(x + 2 * (h - k - 3));  // X[h-k-3 .. h-k]
        const CxT<V4> xc = {reversed(xc4.r), reversed(xc4.i)};
        const CxT<V4> z = unsplit_bin(xk, xc, load4(wr + k), load4(wi + k));
        store4(zr + k, z.r);
        store4(zi + k, z.i);
    }
    for (; k < h; ++k) {
        const Cx z =
            unsplit_bin<Real>({x[2 * k], x[2 * k + 1]}, {x[2 * (h - k)], x[2 * (h - k) + 1]}, wr[k], wi[k]);
        zr[k] = z.r;
        zi[k] = z.i;
    }
}
#endif

// [SECTION] Kernel selection
// Native builds use the auto-vectorised kernels (g++ handles the interleaved ones well); wasm
// builds use the 4-lane versions where those exist.
void stage_first(int m, const Real* packed, const Real* xr, const Real* xi, Real* yr, Real* yi,
                 const Real* tw) {
#if DDSP_FFT_VEC4
    radix4_first_v4(m, packed, xr, xi, yr, yi, tw);
#else
    if (packed != nullptr)
        radix4_first_packed(m, packed, yr, yi, tw);
    else
        radix4_first(m, xr, xi, yr, yi, tw);
#endif
}

void stage_radix4_last_out(int s, const Real* xr, const Real* xi, Real scale, Real* out) {
#if DDSP_FFT_VEC4
    radix4_last_out_v4(s, xr, xi, scale, out);
#else
    radix4_last_out(s, xr, xi, scale, out);
#endif
}

void stage_radix2_last_out(int s, const Real* xr, const Real* xi, Real scale, Real* out) {
#if DDSP_FFT_VEC4
    radix2_last_out_v4(s, xr, xi, scale, out);
#else
    radix2_last_out(s, xr, xi, scale, out);
#endif
}

// X[1..h-1] from Z in split arrays.
void real_split(int h, const Real* zr, const Real* zi, const Real* wr, const Real* wi, Real* x) {
#if DDSP_FFT_VEC4
    split_forward_v4(h, zr, zi, zr + h, zi + h, wr, wi, x);
#else
    split_forward(1, h, zr, zi, zr + h, zi + h, wr, wi, x);
#endif
}

// X[1..h-1] except X[h/2] from the last-but-one stage's output (the final radix-2 stage folded in).
void real_split_r2(int h, const Real* zr, const Real* zi, const Real* wr, const Real* wi, Real* x) {
    const int s = h / 2;
#if DDSP_FFT_VEC4
    split_forward_r2_v4(s, zr, zi, zr + s, zi + s, zr + s, zi + s, zr + h, zi + h, wr, wi, x, x + 2 * s);
#else
    split_forward_r2(1, s, zr, zi, zr + s, zi + s, zr + s, zi + s, zr + h, zi + h, wr, wi, x, x + 2 * s);
#endif
}

// 2 Z[0..h-1] in split arrays from the interleaved half spectrum x (bins 0..h); `scratch_r` and
// `scratch_i` hold h + 1 Reals each.
void real_unsplit(int h, const Real* x, const Real* wr, const Real* wi, Real* zr, Real* zi, Real* scratch_r,
                  Real* scratch_i) {
    // Imaginary parts of bins 0 and h are ignored.
    zr[0] = x[0] + x[2 * h];
    zi[0] = x[0] - x[2 * h];
#if DDSP_FFT_VEC4
    (void)scratch_r;
    (void)scratch_i;
    split_inverse_v4(h, x, wr, wi, zr, zi);
#else
    deinterleave(h + 1, x, scratch_r, scratch_i);
    split_inverse(1, h, scratch_r, scratch_i, scratch_r + h, scratch_i + h, wr, wi, zr, zi);
#endif
}

// Round up to a multiple of 16 Reals (64 bytes) so every section starts on a cache line.
int pad16(int count) {
    return (count + 15) & ~15;
}

}  // namespace

// [SECTION] Plan
RealFft::RealFft(int n) : n_(n), half_(n / 2) {
    assert(is_power_of_two(n) && n >= 2);
    const int h = half_;
    while ((1 << log2_half_) < h) ++log2_half_;

    // Stage twiddles: radix-4 stages have len = h, h/4, ...; the len == 4 stage needs none.
    int tw_count = 0;
    for (int stage = 0, len = h; stage < log2_half_ / 2; ++stage, len /= 4) {
        if (len >= 8) tw_count += 6 * (len / 4);
    }
    tw_off_ = 0;
    split_off_ = pad16(tw_count);
    work_off_ = split_off_ + pad16(2 * h);
    work_stride_ = pad16(h + 1);  // inverse() keeps n/2 + 1 bins in a work buffer
    data_.assign(size_t(work_off_ + 4 * work_stride_), Real(0));

    Real* tw = data_.data() + tw_off_;
    for (int stage = 0, len = h; stage < log2_half_ / 2 && len >= 8; ++stage, len /= 4) {
        const int m = len / 4;
        for (int k = 1; k <= 3; ++k) {
            for (int p = 0; p < m; ++p) {
                const double a = -2.0 * kPi * double(k * p) / double(len);
                tw[(2 * k - 2) * m + p] = Real(std::cos(a));
                tw[(2 * k - 1) * m + p] = Real(std::sin(a));
            }
        }
        tw += 6 * m;
    }

    // Split twiddles W^k = exp(-2 pi i k / n), k < h: real parts then imaginary parts.
    Real* split = data_.data() + split_off_;
    for (int k = 0; k < h; ++k) {
        const double a = -2.0 * kPi * double(k) / double(n_);
        split[k] = Real(std::cos(a));
        split[h + k] = Real(std::sin(a));
    }
}

// [SECTION] Complex FFT
int RealFft::complex_fft(const Real* packed, bool inverse, bool defer_radix2, Real* out, Real scale) {
    Real* work = data_.data() + work_off_;
    Real* re[2] = {work, work + 2 * work_stride_};
    Real* im[2] = {work + work_stride_, work + 3 * work_stride_};
    if (inverse) std::swap(re, im);  // swap(FFT(swap(z))) == unnormalised inverse FFT
    const int h = half_;
    const int num_r4 = log2_half_ / 2;
    const bool radix2 = (log2_half_ % 2 == 1) && !defer_radix2;
    const Real* tw = data_.data() + tw_off_;
    int cur = 0;
    int s = 1;
    for (int stage = 0; stage < num_r4; ++stage) {
        const int len = h / s;
        const int m = len / 4;
        const int nxt = cur ^ 1;
        if (len == 4) {
            if (out != nullptr && !radix2) {
                stage_radix4_last_out(s, re[cur], im[cur], scale, out);
                return -1;
            }
            radix4_last(s, re[cur], im[cur], re[nxt], im[nxt]);
        } else if (s == 1) {
            stage_first(m, packed, re[cur], im[cur], re[nxt], im[nxt], tw);
        } else if (s == 4) {
            radix4_second(m, re[cur], im[cur], re[nxt], im[nxt], tw);
        } else {
            radix4_stage(s, m, re[cur], im[cur], re[nxt], im[nxt], tw);
        }
        if (len > 4) tw += 6 * m;
        cur = nxt;
        s *= 4;
    }
    if (radix2) {
        assert(out != nullptr);  // only the inverse runs its own radix-2 stage
        stage_radix2_last_out(s, re[cur], im[cur], scale, out);
        return -1;
    }
    return cur;
}

// [SECTION] Real transforms
void RealFft::forward(const Real* in, Complex* out) {
    Real* o = reinterpret_cast<Real*>(out);  // std::complex is layout-compatible with Real[2]
    const int h = half_;
    if (h == 1) {
        o[0] = in[0] + in[1];
        o[1] = 0;
        o[2] = in[0] - in[1];
        o[3] = 0;
        return;
    }
    Real* work = data_.data() + work_off_;
    const Real* packed = in;
    if (h < 8) {  // the first stage is not radix4_first: pack into buffer 0
        deinterleave(h, in, work, work + work_stride_);
        packed = nullptr;
    }
    const bool odd = log2_half_ % 2 == 1;
    const int b = complex_fft(packed, false, odd, nullptr, Real(1));
    const Real* zr = work + 2 * b * work_stride_;
    const Real* zi = zr + work_stride_;
    const Real* wr = data_.data() + split_off_;
    const Real* wi = wr + h;
    if (odd) {
        // Final radix-2 stage folded into the split: A = z[0..s), B = z[s..h).
        const int s = h / 2;
        const Cx a0 = {zr[0], zi[0]}, b0 = {zr[s], zi[s]};
        const Cx z0 = a0 + b0, zs = a0 - b0;  // Z[0], Z[h/2]
        o[0] = z0.r + z0.i;
        o[1] = 0;
        o[2 * h] = z0.r - z0.i;
        o[2 * h + 1] = 0;
        o[2 * s] = zs.r;  // X[n/4] = conj Z[h/2]
        o[2 * s + 1] = -zs.i;
        real_split_r2(h, zr, zi, wr, wi, o);
    } else {
        o[0] = zr[0] + zi[0];
        o[1] = 0;
        o[2 * h] = zr[0] - zi[0];
        o[2 * h + 1] = 0;
        real_split(h, zr, zi, wr, wi, o);
    }
}

void RealFft::inverse(const Complex* in, Real* out) {
    const Real* x = reinterpret_cast<const Real*>(in);
    const int h = half_;
    if (h == 1) {
        out[0] = Real(0.5) * (x[0] + x[2]);
        out[1] = Real(0.5) * (x[0] - x[2]);
        return;
    }
    Real* work = data_.data() + work_off_;
    Real* zr = work;
    Real* zi = work + work_stride_;
    const Real* wr = data_.data() + split_off_;
    // Z'[k] = 2 Z[k] into buffer 0 (the second buffer is scratch); the factor 2 is folded into
    // the final 1/n scale.
    real_unsplit(h, x, wr, wr + h, zr, zi, work + 2 * work_stride_, work + 3 * work_stride_);
    complex_fft(nullptr, true, false, out, Real(1) / Real(n_));
}

}  // namespace ddsp::dsp
