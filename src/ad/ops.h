// The tape's operations. Each creates one node, runs it once and returns its handle.
//
// Index
//   [SECTION] elementwise binary ops with broadcasting
//   [SECTION] elementwise unary ops
//   [SECTION] reductions
//   [SECTION] fused distances (spectral losses)
//   [SECTION] structure along the time axis (rows)
//   [SECTION] frame-to-sample upsampling, cumulative sum
//   [SECTION] matrices and layers
//   [SECTION] bounded parameters
// Signal ops with fused backward passes (FFT convolution, STFT magnitude, all-pole filter) are in
// ad/ops_signal.h.
#pragma once

#include "ad/tape.h"

#include <vector>

namespace ddsp::ad {

// [SECTION] elementwise binary ops with broadcasting
// Shapes broadcast per dimension as in NumPy on 2-D arrays: each of rows and cols must be equal
// or 1 on one side, so scalar (1x1), column (r x 1) and row (1 x c) operands broadcast.
Var add(Var a, Var b);
Var sub(Var a, Var b);
Var mul(Var a, Var b);
Var div(Var a, Var b);
Var pow(Var base, Var exponent);  // base > 0 where the exponent's gradient is needed

Var operator+(Var a, Var b);
Var operator-(Var a, Var b);
Var operator*(Var a, Var b);
Var operator/(Var a, Var b);
Var operator+(Var a, Real s);
Var operator+(Real s, Var a);
Var operator-(Var a, Real s);
Var operator-(Real s, Var a);
Var operator*(Var a, Real s);
Var operator*(Real s, Var a);
Var operator/(Var a, Real s);
Var operator/(Real s, Var a);
Var operator-(Var a);

// [SECTION] elementwise unary ops
Var neg(Var x);
Var abs(Var x);  // gradient sign(x), 0 at 0
Var exp(Var x);
Var log(Var x);
Var sqrt(Var x);
Var square(Var x);
Var pow(Var x, Real exponent);
Var sin(Var x);
Var cos(Var x);
Var tanh(Var x);
Var sigmoid(Var x);
Var softplus(Var x);
// DDSP's positive nonlinearity: max_value * sigmoid(x)^log(exponent) + threshold.
Var exp_sigmoid(Var x, Real exponent = 10, Real max_value = 2, Real threshold = Real(1e-7));

// [SECTION] reductions
Var sum(Var x);   // 1 x 1
Var mean(Var x);  // 1 x 1
Var sum_rows(Var x);  // sums down each column: (r x c) -> (1 x c)
Var sum_cols(Var x);  // sums across each row:  (r x c) -> (r x 1)

// [SECTION] fused distances (spectral losses)
// One node (one pass forward, one backward) instead of four or five: these run over every bin of
// every frame of every resolution of the multi-resolution STFT loss.
// mean |a - b|, gradient sign(a - b) / size (0 where equal).
Var mean_abs_diff(Var a, Var b);
// mean |log(a + floor) - log_b|, with log_b precomputed (a constant target's log magnitude).
Var mean_abs_log_diff(Var a, Var log_b, Real floor);
// log(x + floor) computed exactly as mean_abs_log_diff computes it (a vectorised float log), so a
// target's log_b made with it gives a loss of exactly 0 when a equals the target.
void log_with_floor(const Arr& x, Real floor, Arr& out);

// [SECTION] structure along the time axis (rows)
Var slice(Var x, int start_row, int num_rows);
Var concat(const std::vector<Var>& parts);  // stacks rows; all parts have the same cols
Var pad(Var x, int rows_before, int rows_after);  // zeros
Var reverse(Var x);

// [SECTION] frame-to-sample upsampling, cumulative sum
enum class Interp { linear, cubic };
// Resamples each column from x.rows() frames to num_samples rows. Endpoints are aligned: frame k
// sits at sample k * (num_samples - 1) / (frames - 1). `cubic` is a natural cubic spline through
// the frames (second derivative 0 at both ends).
Var upsample(Var x, int num_samples, Interp interp = Interp::linear);
// Running sum down each column (oscillator phase from frequency). With wrap_period > 0 the sum is
// kept in double and returned modulo the period (in [0, period)): a phase stays exact to float
// precision however long the signal, where a float phase of thousands of radians keeps ~1e-3.
// The gradient is the same either way (the wrap is a piecewise-constant shift).
Var cumsum(Var x, double wrap_period = 0);

// [SECTION] matrices and layers
Var matmul(Var a, Var b);  // (m x k) * (k x n)
// x (batch x in) * w (in x out) + b (1 x out): a dense layer.
Var linear(Var x, Var w, Var b);

// [SECTION] bounded parameters
// An unconstrained value u maps to [min, max]; scale log spaces it geometrically (min > 0).
// These are what optimisers see, so Adam steps are well scaled whatever the physical units.
enum class Scale { linear, log };
Var bounded(Var u, Real min_value, Real max_value, Scale scale);
// Plain (non-tape) versions and the inverse, for initialising u from a physical value. The
// inverse clamps to just inside the range so it never returns infinity.
double bounded_value(double u, double min_value, double max_value, Scale scale);
double unbounded_value(double value, double min_value, double max_value, Scale scale);

}  // namespace ddsp::ad
