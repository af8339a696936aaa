// Measurements a listener would make on a rendered sound, shared by the synths' unit tests
// (header-only: each test is its own executable): pitch from zero crossings, decay time from the
// RMS envelope, Welch spectra and band levels, a tone's amplitude, crest factor.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "dsp/features.h"
#include "dsp/fft.h"
#include "dsp/types.h"

namespace ddsp::test {

// Mean frequency between the first and last upward zero crossings in [t0, t1) seconds
// (crossing times linearly interpolated, returned in first_s / last_s when given).
inline double zero_crossing_hz(const Vec& x, double sr, double t0, double t1, double* first_s = nullptr,
                        double* last_s = nullptr) {
    double first = -1, last = -1;
    int count = 0;
    for (int i = int(t0 * sr); i + 1 < int(t1 * sr); ++i) {
        if (x[i] < 0 && x[i + 1] >= 0) {
            const double t = (i + double(-x[i]) / double(x[i + 1] - x[i])) / sr;
            if (first < 0) first = t;
            last = t;
            ++count;
        }
    }
    if (first_s) *first_s = first;
    if (last_s) *last_s = last;
    return count > 1 ? (count - 1) / (last - first) : 0.0;
}

// Decay time to -60 dB from the slope of the frame RMS in dB, fitted where the level is between
// `top_db` and `bottom_db` below its maximum (past the attack and the frame smearing at the start).
inline double measured_t60_s(const Vec& x, double sr, double top_db = -6, double bottom_db = -36) {
    const int frame = 1024, hop = 128;
    const Vec r = dsp::frame_rms(x, frame, hop);
    const double peak_db = dsp::amplitude_to_db(r.maxCoeff());
    int peak_at = 0;
    r.maxCoeff(&peak_at);
    double st = 0, sl = 0, stt = 0, stl = 0;
    int m = 0;
    for (int f = peak_at; f < r.size(); ++f) {
        const double level = dsp::amplitude_to_db(r[f]) - peak_db;
        if (level < bottom_db) break;
        if (level > top_db) continue;
        const double t = double(f) * hop / sr;
        st += t;
        sl += level;
        stt += t * t;
        stl += t * level;
        ++m;
    }
    REQUIRE(m > 5);
    const double slope_db_per_s = (m * stl - st * sl) / (m * stt - st * st);
    return -60.0 / slope_db_per_s;
}

// Welch power spectral density (Hann, fft_size, half overlap), per bin.
inline Vec power_spectrum(const Vec& x, int fft_size) {
    dsp::RealFft fft(fft_size);
    std::vector<Real> frame(static_cast<size_t>(fft_size));
    std::vector<Complex> spec(static_cast<size_t>(fft.num_bins()));
    Vec psd = Vec::Zero(fft.num_bins());
    for (int start = 0; start + fft_size <= x.size(); start += fft_size / 2) {
        for (int i = 0; i < fft_size; ++i)
            frame[size_t(i)] = Real(x[start + i] * (0.5 - 0.5 * std::cos(2 * kPi * i / fft_size)));
        fft.forward(frame.data(), spec.data());
        for (int k = 0; k < fft.num_bins(); ++k) psd[k] += std::norm(spec[size_t(k)]);
    }
    return psd;
}

// Mean power per bin in [lo_hz, hi_hz], in dB.
inline double band_db(const Vec& psd, int fft_size, double sr, double lo_hz, double hi_hz) {
    double sum = 0;
    int count = 0;
    for (int k = 0; k < psd.size(); ++k) {
        const double f = k * sr / fft_size;
        if (f >= lo_hz && f <= hi_hz) {
            sum += psd[k];
            ++count;
        }
    }
    REQUIRE(count > 0);
    return 10 * std::log10(sum / count + 1e-30);
}

// Amplitude of the component at f_hz in a Hann-windowed segment.
inline double tone_amplitude(const Vec& x, double sr, int start, int length, double f_hz) {
    double re = 0, im = 0, wsum = 0;
    for (int i = 0; i < length; ++i) {
        const double w = 0.5 - 0.5 * std::cos(2 * kPi * i / length);
        const double ph = 2 * kPi * f_hz * (start + i) / sr;
        re += w * x[start + i] * std::cos(ph);
        im += w * x[start + i] * std::sin(ph);
        wsum += w;
    }
    return 2 * std::hypot(re, im) / wsum;
}

// Peak / RMS, averaged over blocks of `block` samples (short enough that the decay is negligible
// inside one block: a slowly decaying sine reads sqrt(2)).
inline double crest_factor(const Vec& x, int start, int length, int block) {
    double sum = 0;
    int count = 0;
    for (int at = start; at + block <= start + length; at += block, ++count) {
        const Vec seg = x.segment(at, block);
        sum += double(seg.abs().maxCoeff()) / dsp::rms(seg);
    }
    return sum / count;
}
}  // namespace ddsp::test
