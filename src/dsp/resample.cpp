// Kaiser-windowed sinc resampling; see resample.h for the contract.
//
// [SECTION] kernel design
// [SECTION] polyphase path (rational ratios)
// [SECTION] interpolated-kernel path (any ratio)
// [SECTION] entry points
#include "dsp/resample.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace ddsp::dsp {

namespace {

constexpr double kMaxRateHz = 1e7;
constexpr std::int64_t kMaxPolyphaseCoefs = std::int64_t(1) << 19;  // 4 MB of doubles
constexpr std::int64_t kMaxOutput = (std::int64_t(1) << 31) - 1;

// [SECTION] kernel design

// Modified Bessel function of the first kind, order 0 (power series; converges for all x).
double bessel_i0(double x) {
    const double q = 0.25 * x * x;
    double term = 1.0, sum = 1.0;
    for (int k = 1; k < 500; ++k) {
        term *= q / (double(k) * double(k));
        sum += term;
        if (term < sum * 1e-17) break;
    }
    return sum;
}

// Kaiser's empirical beta for a stopband attenuation of a_db.
double kaiser_beta(double a_db) {
    if (a_db > 50.0) return 0.1102 * (a_db - 8.7);
    if (a_db >= 21.0) return 0.5842 * std::pow(a_db - 21.0, 0.4) + 0.07886 * (a_db - 21.0);
    return 0.0;
}

// h(tau) = gain * sinc(tau * gain) * kaiser(tau / half_width), tau in input samples, where
// gain = 2 fc / from_hz puts the cutoff at fc and makes the DC gain 1.
struct Kernel {
    double gain = 1.0;            // 2 fc / from_hz
    double half_width = 1.0;      // L: support is |tau| <= L input samples
    double zero_crossings = 1.0;  // L * gain: half width in units of sinc zero crossings
    double beta = 0.0;
    double inv_i0_beta = 1.0;

    // The kernel as a function of u = tau * gain (zero crossings at integers), without the gain.
    double shape(double u) const {
        const double r = u / zero_crossings;
        if (r > 1.0 || r < -1.0) return 0.0;
        return sinc(u) * bessel_i0(beta * std::sqrt(std::max(0.0, 1.0 - r * r))) * inv_i0_beta;
    }
    static double sinc(double u) {
        if (u == 0.0) return 1.0;
        const double a = kPi * u;
        return std::sin(a) / a;
    }
};

Kernel design_kernel(double from_hz, double to_hz, const ResampleParams& p) {
    const double nyq_low = 0.5 * std::min(from_hz, to_hz);
    const double transition_hz = nyq_low * (1.0 - p.passband);  // passband edge .. lower Nyquist
    const double cutoff_hz = nyq_low * (1.0 + p.passband) * 0.5;
    // Kaiser's order estimate N = (A - 7.95) / (2.285 dw), dw in rad per input sample; L = N / 2.
    const double dw = 2.0 * kPi * transition_hz / from_hz;
    Kernel k;
    k.gain = 2.0 * cutoff_hz / from_hz;
    k.half_width = std::max(1.0, 0.5 * (p.stopband_db - 7.95) / (2.285 * dw));
    k.zero_crossings = k.half_width * k.gain;
    k.beta = kaiser_beta(p.stopband_db);
    k.inv_i0_beta = 1.0 / bessel_i0(k.beta);
    return k;
}

// Sums x[k] * coef[k - k0] over the k in [k0, k0 + taps) that lie inside [0, n).
inline double dot_clipped(const Real* x, std::int64_t n, std::int64_t k0, const double* coef,
                          std::int64_t taps) {
    const std::int64_t lo = std::max<std::int64_t>(0, k0), hi = std::min<std::int64_t>(n, k0 + taps);
    if (hi <= lo) return 0.0;
    // Four partial sums: breaks the dependency chain; the order is fixed, so results are deterministic.
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const double* c = coef + (lo - k0);  // c[i] pairs with x[lo + i]
    const Real* xs = x + lo;
    const std::int64_t count = hi - lo;
    std::int64_t i = 0;
    for (; i + 4 <= count; i += 4) {
        s0 += double(xs[i]) * c[i];
        s1 += double(xs[i + 1]) * c[i + 1];
        s2 += double(xs[i + 2]) * c[i + 2];
        s3 += double(xs[i + 3]) * c[i + 3];
    }
    for (; i < count; ++i) s0 += double(xs[i]) * c[i];
    return (s0 + s1) + (s2 + s3);
}

// [SECTION] polyphase path (rational ratios)

// from = a g, to = b g with integers a, b: output m sits at t = m a / b = q + r / b, so there are
// only b distinct fractional positions; each gets its own row of exact coefficients.
struct Polyphase {
    std::int64_t a = 0, b = 0;
    std::int64_t j0 = 0, taps = 0;  // row r holds h(r/b - j) for j = j0 .. j0 + taps - 1
    std::vector<double> coef;
};

bool plan_polyphase(double from_hz, double to_hz, const Kernel& k, Polyphase& pp) {
    if (from_hz != std::floor(from_hz) || to_hz != std::floor(to_hz)) return false;
    std::int64_t a = std::int64_t(from_hz), b = std::int64_t(to_hz);
    std::int64_t x = a, y = b;
    while (y != 0) {
        const std::int64_t t = x % y;
        x = y;
        y = t;
    }
    a /= x;
    b /= x;
    const std::int64_t l = std::int64_t(std::floor(k.half_width));
    pp.j0 = -l;
    pp.taps = 2 * l + 2;  // r/b - j in [-L, L] needs j in [-floor(L), floor(L) + 1]
    if (b > kMaxPolyphaseCoefs || pp.taps * b > kMaxPolyphaseCoefs) return false;
    pp.a = a;
    pp.b = b;
    pp.coef.assign(std::size_t(b * pp.taps), 0.0);
    for (std::int64_t r = 0; r < b; ++r)
        for (std::int64_t j = 0; j < pp.taps; ++j) {
            const double tau = double(r) / double(b) - double(pp.j0 + j);
            pp.coef[std::size_t(r * pp.taps + j)] = k.gain * k.shape(tau * k.gain);
        }
    return true;
}

void run_polyphase(const Vec& x, const Polyphase& pp, Vec& out) {
    const std::int64_t n = x.size();
    for (Eigen::Index m = 0; m < out.size(); ++m) {
        const std::int64_t num = std::int64_t(m) * pp.a;
        const std::int64_t q = num / pp.b, r = num % pp.b;
        out[m] = Real(dot_clipped(x.data(), n, q + pp.j0, pp.coef.data() + r * pp.taps, pp.taps));
    }
}

// [SECTION] interpolated-kernel path (any ratio)

// shape(u) tabulated at `per_unit` points per zero crossing and linearly interpolated. The
// interpolation error is below (pi^2 / 24) / per_unit^2 per tap (~1e-7 at 2048).
void run_interpolated(const Vec& x, double from_hz, double to_hz, const Kernel& k, Vec& out) {
    const int per_unit = int(std::clamp((1 << 18) / k.zero_crossings, 256.0, 2048.0));
    const std::int64_t entries = std::int64_t(std::ceil(k.zero_crossings * per_unit)) + 2;
    std::vector<double> table(std::size_t(entries) + 1, 0.0);
    for (std::int64_t i = 0; i < entries; ++i) table[std::size_t(i)] = k.gain * k.shape(double(i) / per_unit);
    const double table_last = double(entries - 1);

    const std::int64_t n = x.size();
    const double step = from_hz / to_hz;  // input samples per output sample
    const double to_table = k.gain * per_unit;
    std::vector<double> coef;
    for (Eigen::Index m = 0; m < out.size(); ++m) {
        const double t = double(m) * step;
        std::int64_t lo = std::int64_t(std::ceil(t - k.half_width));
        std::int64_t hi = std::int64_t(std::floor(t + k.half_width));  // inclusive
        lo = std::max<std::int64_t>(lo, 0);
        hi = std::min<std::int64_t>(hi, n - 1);
        if (hi < lo) {
            out[m] = Real(0);
            continue;
        }
        coef.resize(std::size_t(hi - lo + 1));
        for (std::int64_t kk = lo; kk <= hi; ++kk) {
            const double pos = std::min(std::abs(t - double(kk)) * to_table, table_last);
            const std::int64_t i = std::int64_t(pos);
            const double w = pos - double(i);
            coef[std::size_t(kk - lo)] =
                table[std::size_t(i)] + w * (table[std::size_t(i) + 1] - table[std::size_t(i)]);
        }
        out[m] = Real(dot_clipped(x.data(), n, lo, coef.data(), hi - lo + 1));
    }
}

bool valid_rate(double hz) {
    return std::isfinite(hz) && hz > 0.0 && hz <= kMaxRateHz;
}

}  // namespace

// [SECTION] entry points

long long resample_length(long long n, double from_hz, double to_hz) {
    if (n <= 0 || !valid_rate(from_hz) || !valid_rate(to_hz)) return 0;
    if (from_hz == std::floor(from_hz) && to_hz == std::floor(to_hz) && n < (1LL << 38)) {
        const long long f = (long long)from_hz, t = (long long)to_hz;
        return (2 * n * t + f) / (2 * f);  // round half up, exactly
    }
    return std::llround(double(n) * to_hz / from_hz);
}

bool resample(const Vec& x, double from_hz, double to_hz, Vec& out, std::string& error,
              const ResampleParams& p) {
    error.clear();
    if (!valid_rate(from_hz) || !valid_rate(to_hz)) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "resample: rates must be in (0, %.0f] Hz, got %g -> %g", kMaxRateHz,
                      from_hz, to_hz);
        error = buf;
        return false;
    }
    if (!(p.passband > 0.0 && p.passband <= 0.99)) {
        error = "resample: passband must be in (0, 0.99], got " + std::to_string(p.passband);
        return false;
    }
    if (!(p.stopband_db >= 20.0 && p.stopband_db <= 200.0)) {
        error = "resample: stopband_db must be in [20, 200], got " + std::to_string(p.stopband_db);
        return false;
    }
    if (from_hz == to_hz) {
        out = x;
        return true;
    }
    const long long len = resample_length(x.size(), from_hz, to_hz);
    if (len > kMaxOutput) {
        error = "resample: output would have " + std::to_string(len) + " samples, too many";
        return false;
    }
    out.setZero(Eigen::Index(len));
    if (len == 0) return true;

    const Kernel k = design_kernel(from_hz, to_hz, p);
    Polyphase pp;
    if (plan_polyphase(from_hz, to_hz, k, pp))
        run_polyphase(x, pp, out);
    else
        run_interpolated(x, from_hz, to_hz, k, out);
    return true;
}

// [SECTION] streaming

bool StreamResampler::init(double from_hz, double to_hz, int max_push, const ResampleParams& p, std::string& error) {
    error.clear();
    if (!valid_rate(from_hz) || !valid_rate(to_hz) || from_hz != std::floor(from_hz) || to_hz != std::floor(to_hz)) {
        error = "stream resampler: rates must be whole numbers of Hz in (0, 1e7], got " + std::to_string(from_hz) +
                " -> " + std::to_string(to_hz);
        return false;
    }
    if (max_push < 1 || !(p.passband > 0.0 && p.passband <= 0.99) ||
        !(p.stopband_db >= 20.0 && p.stopband_db <= 200.0)) {
        error = "stream resampler: bad block size or filter parameters";
        return false;
    }
    from_hz_ = from_hz;
    to_hz_ = to_hz;
    Polyphase pp;
    if (from_hz == to_hz) {  // a one-tap identity
        pp.a = pp.b = 1;
        pp.j0 = 0;
        pp.taps = 1;
        pp.coef.assign(1, 1.0);
    } else if (!plan_polyphase(from_hz, to_hz, design_kernel(from_hz, to_hz, p), pp)) {
        error = "stream resampler: the ratio " + std::to_string(from_hz) + " -> " + std::to_string(to_hz) +
                " needs too large a polyphase table";
        return false;
    }
    a_ = pp.a;
    b_ = pp.b;
    j0_ = pp.j0;
    taps_ = pp.taps;
    coef_ = std::move(pp.coef);
    std::int64_t cap = 1;
    while (cap < taps_ + std::int64_t(max_push) + 2) cap <<= 1;
    // Mirrored: sample k sits at k & mask and again at (k & mask) + cap, so any taps-long window
    // is contiguous (the dot product vectorises, also in wasm).
    ring_.assign(std::size_t(2 * cap), Real(0));
    mask_ = cap - 1;
    // Output m (at input time m a / b) reads inputs up to floor(m a / b) + j0 + taps - 1: it is
    // known once that input arrived. Delay every output by enough that it never waits for a later
    // input than the one at its own time plus the filter's half length.
    const std::int64_t reach = j0_ + taps_ - 1;  // inputs past floor(t) that output t needs
    delay_out_ = int((std::max<std::int64_t>(0, reach) * b_ + a_ - 1) / a_);
    reset();
    return true;
}

void StreamResampler::reset() {
    std::fill(ring_.begin(), ring_.end(), Real(0));
    pushed_ = 0;
    emitted_ = 0;
}

std::int64_t StreamResampler::needed_input_count(std::int64_t out_index) const {
    const std::int64_t m = out_index - delay_out_;
    if (m < 0) return 0;
    return (m * a_) / b_ + j0_ + taps_;  // inputs 0 .. floor(m a / b) + j0 + taps - 1
}

int StreamResampler::inputs_needed(int frames) const {
    if (frames <= 0) return 0;
    const std::int64_t need = needed_input_count(emitted_ + frames - 1) - pushed_;
    return need > 0 ? int(need) : 0;
}

void StreamResampler::push(const Real* x, int n) {
    const std::size_t cap = std::size_t(mask_ + 1);
    for (int i = 0; i < n; ++i) {
        const Real v = std::isfinite(x[i]) ? x[i] : Real(0);
        const std::size_t at = std::size_t((pushed_ + i) & mask_);
        ring_[at] = v;
        ring_[at + cap] = v;
    }
    pushed_ += n;
}

int StreamResampler::pull(Real* out, int max_frames) {
    int count = 0;
    while (count < max_frames && needed_input_count(emitted_) <= pushed_) {
        const std::int64_t m = emitted_ - delay_out_;
        double acc = 0;
        if (m >= 0) {
            const std::int64_t num = m * a_, q = num / b_, r = num % b_;
            const double* c = coef_.data() + r * taps_;
            const std::int64_t k0 = q + j0_;
            // Inputs before the first are 0 (the ring starts zeroed and k & mask wraps to slots
            // not yet written), so the window is read whole.
            const Real* xs = ring_.data() + (k0 & mask_);
            double s0 = 0, s1 = 0;
            std::int64_t j = 0;
            for (; j + 2 <= taps_; j += 2) {
                s0 += double(xs[j]) * c[j];
                s1 += double(xs[j + 1]) * c[j + 1];
            }
            if (j < taps_) s0 += double(xs[j]) * c[j];
            acc = s0 + s1;
        }
        out[count++] = Real(acc);
        ++emitted_;
    }
    return count;
}

double StreamResampler::latency_out_samples() const { return double(delay_out_); }

Vec resample(const Vec& x, double from_hz, double to_hz, const ResampleParams& p) {
    Vec out;
    std::string error;
    if (!resample(x, from_hz, to_hz, out, error, p)) return Vec();
    return out;
}

}  // namespace ddsp::dsp
