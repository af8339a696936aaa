// The DDSP synth's own tape ops (frequency_filter, harmonic_oscillator_bank, unflatten_frames):
// forward values against direct double-precision formulas, backward passes against central
// differences, and the whole synth + loss at a sample rate with an odd hop.
#include <doctest/doctest.h>

#include "ad/gradcheck.h"
#include "match/loss.h"
#include "synth/ddsp_synth.h"

#include <cmath>
#include <functional>
#include <random>

using namespace ddsp;
using ad::Var;

static_assert(sizeof(Real) == 8, "gradient tests link the double-precision core");

namespace {

std::mt19937& rng() {
    static std::mt19937 r(4321);
    return r;
}

Arr random_arr(int rows, int cols, double lo, double hi) {
    std::uniform_real_distribution<double> d(lo, hi);
    Arr a(rows, cols);
    for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = d(rng());
    return a;
}

// d/d inputs of sum(w * f(inputs)) with random weights, against central differences.
void check_op(const char* name, const std::vector<Arr>& inputs, const std::function<Var(std::vector<Var>&)>& f) {
    ad::Tape tape;
    std::vector<Var> vars;
    for (const Arr& a : inputs) vars.push_back(tape.variable(a));
    Var out = f(vars);
    Var loss = ad::sum(out * tape.constant(random_arr(out.rows(), out.cols(), 0.5, 1.5)));
    const ad::GradCheckResult r = ad::check_gradients(tape, loss, vars);
    INFO(name, ": ", r.worst, " (checked ", r.checked, ", max rel error ", r.max_rel_error, ")");
    CHECK(r.ok);
    CHECK(r.checked > 0);
}

// frequency_filter written out directly: irfft as a cosine sum, Hann window, time-domain
// convolution of each block, N/2 advance.
Vec reference_filter(const Arr& x, const Arr& m, int hop) {
    const int n = int(x.rows()), frames = int(m.rows()), bands = int(m.cols()), taps = 2 * (bands - 1);
    Vec y = Vec::Zero(n);
    for (int f = 0; f < frames; ++f) {
        std::vector<double> h(size_t(taps), 0.0);
        for (int j = 0; j < taps; ++j) {
            const int t = (j + taps / 2) % taps;
            double ir = m(f, 0) + m(f, bands - 1) * (t % 2 == 0 ? 1.0 : -1.0);
            for (int k = 1; k < bands - 1; ++k) ir += 2 * m(f, k) * std::cos(2 * kPi * k * t / taps);
            h[size_t(j)] = ir / taps * (0.5 - 0.5 * std::cos(2 * kPi * j / taps));
        }
        // Blocks centred on their frames; the first starts at 0, the last runs to the end.
        const int start = f == 0 ? 0 : f * hop - hop / 2, end = f == frames - 1 ? n : f * hop + hop - hop / 2;
        for (int s = start; s < std::min(end, n); ++s) {
            for (int j = 0; j < taps; ++j) {
                const int o = s + j - taps / 2;
                if (o >= 0 && o < n) y[o] += h[size_t(j)] * x(s, 0);
            }
        }
    }
    return y;
}

// harmonic_oscillator_bank written out directly.
Vec reference_bank(const Arr& a, const Vec& f0, double sr, int n, int hop) {
    const int frames = int(a.rows()), harmonics = int(a.cols());
    Vec y = Vec::Zero(n);
    double phase = 0;
    for (int i = 0; i < n; ++i) {
        int s = frames > 1 ? std::min(i / hop, frames - 2) : 0;
        const int s1 = std::min(s + 1, frames - 1);
        const double w = frames > 1 ? std::min(1.0, double(i - s * hop) / hop) : 0.0;
        const double fi = (1 - w) * f0[s] + w * f0[s1];
        phase += 2 * kPi * fi / sr;
        for (int k = 0; k < harmonics; ++k) {
            if ((k + 1) * fi >= sr / 2) continue;
            y[i] += ((1 - w) * a(s, k) + w * a(s1, k)) * std::sin((k + 1) * phase);
        }
    }
    return y;
}

}  // namespace

TEST_CASE("frequency_filter matches the direct formula and passes a flat response unchanged") {
    struct Case {
        int n, hop, bands;
    };
    for (const Case c : {Case{50, 8, 9}, Case{47, 5, 5}, Case{64, 16, 17}, Case{7, 8, 3}, Case{30, 4, 2}}) {
        CAPTURE(c.n);
        CAPTURE(c.hop);
        CAPTURE(c.bands);
        const int frames = c.n / c.hop + 1;
        const Arr x = random_arr(c.n, 1, -1, 1), m = random_arr(frames, c.bands, 0.1, 2);
        ad::Tape t(ad::Tape::Mode::forward_only);
        const Vec y = synth::frequency_filter(t.constant(x), t.constant(m), c.hop).value().col(0);
        const Vec ref = reference_filter(x, m, c.hop);
        CHECK((y - ref).abs().maxCoeff() < 1e-12);
        const Vec flat = synth::frequency_filter(t.constant(x), t.constant(Arr(Arr::Constant(frames, c.bands, 0.7))), c.hop)
                             .value()
                             .col(0);
        CHECK((flat - 0.7 * x.col(0)).abs().maxCoeff() < 1e-12);
    }
}

TEST_CASE("frequency_filter gradients (signal and magnitudes)") {
    struct Case {
        int n, hop, bands;
    };
    for (const Case c : {Case{50, 8, 9}, Case{47, 5, 5}, Case{7, 8, 3}}) {
        CAPTURE(c.n);
        const int frames = c.n / c.hop + 1;
        check_op("frequency_filter", {random_arr(c.n, 1, -1, 1), random_arr(frames, c.bands, 0.1, 2)},
                 [&](auto& v) { return synth::frequency_filter(v[0], v[1], c.hop); });
    }
}

TEST_CASE("harmonic_oscillator_bank matches the direct formula, silences partials above Nyquist") {
    const double sr = 8000;
    const int hop = 10, n = 95, frames = n / hop + 1, harmonics = 6;
    const Arr a = random_arr(frames, harmonics, 0, 1);
    Vec f0(frames);
    for (int f = 0; f < frames; ++f) f0[f] = 300 + 120 * f;  // glides through several Nyquist cut-offs
    ad::Tape t(ad::Tape::Mode::forward_only);
    const Vec y = synth::harmonic_oscillator_bank(t.constant(a), f0, sr, n, hop).value().col(0);
    const Vec ref = reference_bank(a, f0, sr, n, hop);
    CHECK((y - ref).abs().maxCoeff() < 1e-9);
    // One frame (a clip shorter than a hop) and one harmonic.
    const Arr a1 = random_arr(1, 1, 0, 1);
    Vec f1(1);
    f1[0] = 440;
    const Vec y1 = synth::harmonic_oscillator_bank(t.constant(a1), f1, sr, 7, hop).value().col(0);
    CHECK((y1 - reference_bank(a1, f1, sr, 7, hop)).abs().maxCoeff() < 1e-12);
}

TEST_CASE("harmonic_oscillator_bank, harmonic_synth and unflatten_frames gradients") {
    const double sr = 8000;
    const int hop = 10, n = 95, frames = n / hop + 1, harmonics = 6;
    Vec f0(frames);
    for (int f = 0; f < frames; ++f) f0[f] = 300 + 120 * f;
    check_op("harmonic_oscillator_bank", {random_arr(frames, harmonics, 0, 1)},
             [&](auto& v) { return synth::harmonic_oscillator_bank(v[0], f0, sr, n, hop); });
    check_op("harmonic_synth", {random_arr(frames, 1, 0.1, 1), random_arr(frames, harmonics, 0.1, 1)},
             [&](auto& v) { return synth::harmonic_synth(v[0], v[1], f0, sr, n, hop); });
    check_op("unflatten_frames", {random_arr(12, 1, -1, 1)},
             [](auto& v) { return synth::unflatten_frames(v[0], 4, 3); });
}

TEST_CASE("unflatten_frames reads frame-major") {
    ad::Tape t(ad::Tape::Mode::forward_only);
    Arr flat(6, 1);
    flat << 0, 1, 2, 10, 11, 12;
    const Arr m = synth::unflatten_frames(t.constant(flat), 2, 3).value();
    CHECK(m(0, 2) == 2);
    CHECK(m(1, 0) == 10);
    CHECK(m(1, 2) == 12);
}

TEST_CASE("the ddsp synth + loss at an odd hop and a gliding f0 match central differences") {
    synth::DdspSynthParams sp;
    sp.num_harmonics = 12;
    sp.num_noise_bands = 17;
    synth::DdspSynth s(sp);
    synth::SynthConfig cfg;
    cfg.sample_rate_hz = 11250;  // hop 45
    cfg.num_samples = 700;
    cfg.seed = 9;
    REQUIRE(s.hop(cfg) == 45);
    Vec track(5);
    track << 300, 420, 650, 900, 1200;  // crosses Nyquist for upper harmonics mid-clip
    s.set_f0_track(track, 100);
    const auto table = s.param_table(cfg);
    Vec u0;
    std::string err;
    REQUIRE(synth::to_unconstrained(table, synth::default_values(table), u0, err));
    Vec target;
    {
        ad::Tape t(ad::Tape::Mode::forward_only);
        target = s.build(t.constant(u0), cfg).value().col(0);
    }
    for (Eigen::Index i = 0; i < u0.size(); ++i) u0[i] += Real(0.3 * std::sin(0.9 * double(i) + 0.2));
    ad::Tape tape;
    Var u = tape.variable(u0);
    match::MrStftParams lp;
    lp.fft_sizes = {256, 64};
    match::MrStftLoss loss(s.build(u, cfg), target, lp);
    ad::GradCheckParams gp;
    gp.rtol = 1e-4;
    gp.atol = 1e-7;
    gp.max_elements = 1000;  // every element, the reverb's two included
    const ad::GradCheckResult r = ad::check_gradients(tape, loss.loss(), {u}, gp);
    INFO(r.worst, " (max rel ", r.max_rel_error, ", checked ", r.checked, ")");
    CHECK(r.ok);
    CHECK(r.checked == u0.size());
}
