#!/usr/bin/python3
"""PyTorch reference for tests/bench/bench_step.cpp: the same workloads, single-threaded.

Prints one JSON object per line per workload on stdout:
  {"impl": "torch", "bench": "<name>", "ms_median": x, "ms_min": y, "iters": n, "loss": value}
Diagnostics go to stderr. Exits non-zero if a loss is not finite.

Workloads (see tests/bench/README.md for the definitions; keep in step with bench_step.cpp):
  mrstft_step   one Adam step (lr 1e-3) of the multi-resolution STFT loss on 4 s at 16 kHz, the
                parameter is the waveform itself.
  ks_loop_step  forward + backward of a 1 s Karplus-Strong all-pole loop (lfilter), gradients of
                the excitation and of the dense feedback coefficients.
  <synth>_step  one MatchSession gradient step of a synth (sine, ks, drum808, ddsp): synth from
                its unconstrained parameter vector u, MR-STFT loss against a fixed target,
                backward, Adam on u. The synths are ports of src/synth/*.cpp.
  <synth>_eval  one population-search evaluation (ks, drum808): synth + loss, forward only.
  autoencoder_step  one training step of the shipped DDSP autoencoder
                (assets/models/ddsp_gm8.safetensors) through python/ddsp_torch.py, the PyTorch
                reference that reproduces the C++ to 3e-6: 4 s of fixed conditioning, z = the
                posterior mean, MR-STFT against the mrstft_step target, backward, Adam on every weight.
  autoencoder_eval  the same model's forward pass only (render 4 s).
Inputs are closed-form or drawn from a bit-exact port of dsp::Rng (std::mt19937_64), so both
sides render the same signals and the reported losses agree to ~1e-4 relative.

Run with Debian's interpreter (python3-torch 1.13, python3-torchaudio):
  /usr/bin/python3 tests/bench/bench_torch.py [--bench NAME ...] [--min-iters N] [--min-seconds S]
"""

import argparse
import functools
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torchaudio.functional as taf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository

SR = 16000

# [SECTION] workload definitions (keep in step with tests/bench/bench_step.cpp)

MRSTFT_N = 4 * SR
MRSTFT_FFTS = [2048, 1024, 512, 256, 128, 64]
MRSTFT_EPS = 1e-5
MRSTFT_LR = 1e-3

KS_N = SR
KS_L = 143
KS_G = 0.995
KS_EXC_N = 400


def mrstft_signals():
    n = MRSTFT_N
    t = torch.arange(n, dtype=torch.float64)
    x = 0.1 * torch.sin(2 * math.pi * 0.01234 * t * t / n + 0.3)
    y = torch.zeros(n, dtype=torch.float64)
    for k in range(1, 9):
        y += (0.5 / k) * torch.sin(2 * math.pi * 220 * k * t / SR)
    y *= torch.exp(-t / SR)
    return x.float(), y.float()


def stft_mag(sig, n_fft, window):
    spec = torch.stft(sig, n_fft, hop_length=n_fft // 4, win_length=n_fft, window=window,
                      center=True, pad_mode="constant", return_complex=True)
    return spec.abs()  # raw magnitude, no normalisation


def mrstft_loss(x, targets, windows):
    total = x.new_zeros(())
    for n_fft in MRSTFT_FFTS:
        s = stft_mag(x, n_fft, windows[n_fft])
        t = targets[n_fft]
        total = total + (s - t).abs().mean()
        total = total + (torch.log(s + MRSTFT_EPS) - torch.log(t + MRSTFT_EPS)).abs().mean()
    return total


def make_mrstft_step():
    x0, y = mrstft_signals()
    windows = {n: torch.hann_window(n, periodic=True) for n in MRSTFT_FFTS}
    with torch.no_grad():  # target spectra once, outside the timed step
        targets = {n: stft_mag(y, n, windows[n]) for n in MRSTFT_FFTS}
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=MRSTFT_LR)
    with torch.no_grad():
        loss0 = float(mrstft_loss(x, targets, windows))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = mrstft_loss(x, targets, windows)
        loss.backward()
        opt.step()
        return loss

    def check():
        # one step from x0 on a fresh optimiser: the loss afterwards checks gradient + Adam
        xc = x0.clone().requires_grad_(True)
        optc = torch.optim.Adam([xc], lr=MRSTFT_LR)
        mrstft_loss(xc, targets, windows).backward()
        gnorm = float(xc.grad.norm())
        optc.step()
        with torch.no_grad():
            loss1 = float(mrstft_loss(xc, targets, windows))
        return f"|grad x|_2 {gnorm:.6g}, loss after one Adam step {loss1:.7g}"

    return step, loss0, check


def ks_signals():
    t = torch.arange(KS_N, dtype=torch.float64)
    x = torch.where(t < KS_EXC_N, torch.sin(0.37 * t) * (1 - t / KS_EXC_N), torch.zeros_like(t))
    r = 0.5 * torch.sin(2 * math.pi * 110 * t / SR) * torch.exp(-t / 4000)
    a = torch.zeros(KS_L + 3, dtype=torch.float64)
    a[0] = 1.0
    a[KS_L] = -KS_G * 0.25
    a[KS_L + 1] = -KS_G * 0.5
    a[KS_L + 2] = -KS_G * 0.25
    b = torch.zeros(KS_L + 3, dtype=torch.float64)
    b[0] = 1.0
    return x.float(), r.float(), a.float(), b.float()


def make_ks_loop_step():
    x0, r, a0, b = ks_signals()
    x = x0.clone().requires_grad_(True)
    a = a0.clone().requires_grad_(True)

    def forward():
        # y[t] = x[t] - sum_i a_i y[t-i]; the only non-zero taps are at lags L, L+1, L+2
        y = taf.lfilter(x, a, b, clamp=False)
        return ((y - r) ** 2).mean()

    with torch.no_grad():
        loss0 = float(forward())

    def step():
        x.grad = None
        a.grad = None
        loss = forward()
        loss.backward()
        return loss

    def check():
        step()
        ga = a.grad[KS_L:KS_L + 3].tolist()
        return (f"|grad x|_2 {float(x.grad.norm()):.6g}, grad a[L..L+2] "
                f"{ga[0]:.6g} {ga[1]:.6g} {ga[2]:.6g}")

    return step, loss0, check


# [SECTION] dsp::Rng (src/dsp/rng.h), bit-exact: std::mt19937_64 and its uniform / normal draws


class Rng:
    """std::mt19937_64 (its output is fixed by the C++ standard) and dsp::Rng's draws on top."""

    N, M = 312, 156
    MASK = 0xFFFFFFFFFFFFFFFF

    def __init__(self, seed=0):
        mt = [seed & self.MASK]
        for i in range(1, self.N):
            mt.append((6364136223846793005 * (mt[-1] ^ (mt[-1] >> 62)) + i) & self.MASK)
        self.mt = np.array(mt, dtype=np.uint64)
        self.out = np.zeros(0, dtype=np.uint64)  # tempered outputs of the last twist
        self.pos = 0

    def _twist(self):
        # mt[i] = mt[i + m] ^ twist(mt[i], mt[i + 1]) in order; three vectorised runs cover the
        # places where the recurrence reads words this same pass already replaced.
        mt, u64 = self.mt, np.uint64
        upper, lower, matrix = u64(0xFFFFFFFF80000000), u64(0x7FFFFFFF), u64(0xB5026F5AA96619E9)

        def run(i0, i1, nxt, far):
            x = (mt[i0:i1] & upper) | (nxt & lower)
            mt[i0:i1] = far ^ (x >> u64(1)) ^ np.where((x & u64(1)) != 0, matrix, u64(0))

        n, m = self.N, self.M
        run(0, n - m, mt[1:n - m + 1].copy(), mt[m:n].copy())
        run(n - m, n - 1, mt[n - m + 1:n].copy(), mt[0:m - 1].copy())
        run(n - 1, n, mt[0:1].copy(), mt[m - 1:m].copy())
        y = mt.copy()
        y ^= (y >> u64(29)) & u64(0x5555555555555555)
        y ^= (y << u64(17)) & u64(0x71D67FFFEDA60000)
        y ^= (y << u64(37)) & u64(0xFFF7EEE000000000)
        y ^= y >> u64(43)
        self.out, self.pos = y, 0

    def next_u64(self, count):
        out = np.empty(count, dtype=np.uint64)
        at = 0
        while at < count:
            if self.pos == len(self.out):
                self._twist()
            take = min(count - at, len(self.out) - self.pos)
            out[at:at + take] = self.out[self.pos:self.pos + take]
            self.pos += take
            at += take
        return out

    def uniform(self, count, lo=0.0, hi=1.0):
        """count draws of lo + (hi - lo) * u, u in [0, 1) with 53 random bits (float64)."""
        u = (self.next_u64(count) >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
        return lo + (hi - lo) * u

    @staticmethod
    def self_test():
        """The C++ standard's check of mt19937_64: the 10000th output for the default seed."""
        if int(Rng(5489).next_u64(10000)[-1]) != 9981545732273789042:
            raise RuntimeError("bench_torch: the mt19937_64 port is wrong")

    def normal(self, count):
        """Box-Muller without a cached second value, redrawing u1 <= 0, as dsp::Rng::normal."""
        out = np.empty(count)
        for i in range(count):
            u1 = self.uniform(1)[0]
            while u1 <= 0:
                u1 = self.uniform(1)[0]
            u2 = self.uniform(1)[0]
            out[i] = math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586 * u2)
        return out


# [SECTION] parameter tables, bounded parameters (src/synth/synth.cpp, ad::bounded)
# Each synth's table is copied from its C++ param_table() for the configuration used here (keep
# in step): (name, min, max, default, scale, size), in table order, as u is laid out.

LIN, LOG = "linear", "log"


def unbounded_value(v, lo, hi, scale):
    """ad::unbounded_value in float64: physical value -> u, clamped just inside the range."""
    if scale == LOG:
        s = (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo))
    else:
        s = (v - lo) / (hi - lo)
    s = min(max(s, 1e-6), 1.0 - 1e-6)
    return math.log(s / (1.0 - s))


def initial_u(table):
    """synth::to_unconstrained of the table's defaults, rounded to float32 as the C++ Vec."""
    vals = []
    for _, lo, hi, default, scale, size in table:
        vals += [unbounded_value(default, lo, hi, scale)] * size
    return torch.tensor(vals, dtype=torch.float64).float()


def f32(v):
    return float(np.float32(v))


class Params:
    """ParamGraph: the named parameter in physical units, bounded(slice(u)), float32."""

    def __init__(self, table, u):
        self.u, self.at = u, {}
        offset = 0
        for name, lo, hi, _, scale, size in table:
            self.at[name] = (offset, size, f32(lo), f32(hi), scale)
            offset += size
        assert offset == u.numel(), "u does not fit the table"

    def __getitem__(self, name):
        offset, size, lo, hi, scale = self.at[name]
        s = torch.sigmoid(self.u[offset:offset + size])
        if scale == LOG:
            return torch.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * s)
        return lo + (hi - lo) * s


def db_to_amplitude(db):
    return torch.exp(db * (math.log(10.0) / 20.0))


# [SECTION] sine (src/synth/sine.cpp)

def sine_table(sr):
    return [("frequency_hz", 20, max(40.0, 0.95 * sr / 2), 440, LOG, 1),
            ("amplitude", 0, 1, 0.5, LIN, 1)]


def make_sine(sr, n, seed):
    table = sine_table(sr)
    t = torch.arange(n, dtype=torch.float64)

    def render(u):
        p = Params(table, u)
        # The phase in float64, wrapped to cycles, as SineNode (float32 would ripple the loss).
        cycles = torch.fmod(p["frequency_hz"].double() * t / sr, 1.0)
        return torch.sin(2 * math.pi * cycles).float() * p["amplitude"]

    return table, render


# [SECTION] ks (src/synth/ks.cpp), KsOptions defaults, no analysed recording

KS_LOOP_ORDER = 2
KS_FRAMES = 16
KS_EXC_ORDER = 5
KS_EXC_MS = 25
KS_WINDOW_CENTS = 50


def ks_table(sr):
    k = KS_LOOP_ORDER
    f0_hi = max(30 * 1.5, min(4200, sr / 8, 0.4 * sr))
    table = [("f0_hz", 30, f0_hi, min(max(220, 30), f0_hi), LOG, 1),
             ("decay_s", 0.02, 30, 2.0, LOG, KS_FRAMES)]
    for j in range(k + 1):
        table.append((f"loop_tap{j}", 0.01, 1, math.comb(k, j) / 2 ** k, LOG, KS_FRAMES))
    table += [("exc_reflection", -0.95, 0.95, 0.0, LIN, KS_EXC_ORDER),
              ("exc_gain_db", -60, 12, -20, LIN, 1),
              ("residual_mix", 0, 1, 0.0, LIN, 1)]
    return table


def ks_window(table, f0_hz, sr):
    """KsSynth::window: the integer lags (first, count) that hold every loop tap."""
    r = 2 ** (KS_WINDOW_CENTS / 1200)
    lo, hi = table[0][1], table[0][2]
    if hi / lo > r * r * (1 + 1e-9):
        lo, hi = max(lo, f0_hz / r), min(hi, f0_hz * r)
    k = KS_LOOP_ORDER
    first = max(1, math.floor(sr / hi - k) - 1)
    top = math.ceil(sr / lo) + 1
    return first, top + k + 2 - first


def reflection_to_direct(k, order):
    """Levinson step-up: a_1..a_p of 1 / (1 + sum a_i z^-i) from reflection coefficients."""
    a = []
    for m in range(order):
        km = k[m:m + 1]
        a = [a[i] + km * a[m - 1 - i] for i in range(m)] + [km]
    return a


def make_ks(sr, n, seed):
    table = ks_table(sr)
    K = KS_LOOP_ORDER
    n_exc = min(n, max(1, round(KS_EXC_MS * 1e-3 * sr)))
    noise = torch.from_numpy(Rng(seed).normal(n_exc)).float()
    noise = noise - noise.mean()
    # The lag window is fixed when the graph is built, from f0 at the initial u (as build()).
    first_lag, num_lags = ks_window(table, float(Params(table, initial_u(table))["f0_hz"]), sr)
    taps_len = first_lag + num_lags  # dense lfilter coefficients: lags 0 .. first + num - 1
    b_loop = torch.zeros(taps_len)
    b_loop[0] = 1
    b_exc = torch.zeros(KS_EXC_ORDER + 1)
    b_exc[0] = 1

    def constant_in_time(frames):
        # The C++ loop controls are exp(cubic spline of log(frames)) per sample, and lfilter
        # takes constant taps: one value per control, equal to the spline's when the frames are
        # equal (the initial values). See README (ks_step) for what this changes.
        return torch.exp(torch.log(frames).mean()).reshape(1)

    def render(u):
        p = Params(table, u)
        f0 = p["f0_hz"]
        decay = constant_in_time(p["decay_s"])
        gain = torch.exp(-3 * math.log(10.0) / (f0 * decay))
        taps = [constant_in_time(p[f"loop_tap{j}"]) for j in range(K + 1)]
        tap_sum = sum(taps[1:], taps[0])
        taps = [b / tap_sum for b in taps]
        # The loop filter's phase delay at f0, subtracted from the period.
        w0 = f0 * (2 * math.pi / sr)
        re = sum(b * torch.cos(w0 * (j - 0.5 * K)) for j, b in enumerate(taps))
        im = sum(b * torch.sin(w0 * -(j - 0.5 * K)) for j, b in enumerate(taps) if j != 0.5 * K)
        tau = 0.5 * K - torch.atan2(im, re) / w0
        delay = sr / f0 - tau
        # ks_fractional_taps: tap j at the fractional lag delay + j, spread over two integer lags.
        lo, hi = first_lag, first_lag + num_lags - (K + 1) - 1
        d = float(delay)
        if not lo <= d <= hi:  # clamped: no gradient through the delay
            delay = torch.full_like(delay, min(max(d, lo), hi))
            d = float(delay)
        whole = min(math.floor(d), hi)
        frac = delay - whole
        lags, vals = [], []
        for j, b in enumerate(taps):
            c = gain * b
            lags += [whole + j, whole + j + 1]
            vals += [-c * (1 - frac), -c * frac]
        a_loop = torch.zeros(taps_len).index_add(0, torch.tensor(lags), torch.cat(vals))
        a_loop = a_loop + b_loop  # a[0] = 1
        # Coloured noise burst, RMS-normalised by sqrt(prod(1 - k^2)), times the level.
        refl = p["exc_reflection"]
        a_exc = torch.cat([torch.ones(1)] + reflection_to_direct(refl, KS_EXC_ORDER))
        norm = torch.prod(1 - refl * refl)
        exc = taf.lfilter(noise, a_exc, b_exc, clamp=False) * (
            torch.sqrt(norm) * db_to_amplitude(p["exc_gain_db"]))
        exc = torch.nn.functional.pad(exc, (0, n - n_exc))
        return taf.lfilter(exc, a_loop, b_loop, clamp=False)

    return table, render


# [SECTION] drum808 (src/synth/drum808.cpp), preset snare_1 (the table's defaults)

LN_1000 = 6.907755278982137


def drum808_table(sr):
    cutoff_max = max(40.0, 0.49 * sr)
    return [("osc1_freq_hz", 20, 2000, 180, LOG, 1), ("osc1_pitch_mod", -1, 2, 0.4, LIN, 1),
            ("osc2_freq_hz", 20, 2000, 330, LOG, 1), ("osc2_pitch_mod", -1, 2, 0.25, LIN, 1),
            ("pitch_decay_ms", 10, 2000, 40, LOG, 1), ("osc1_decay_ms", 10, 2000, 180, LOG, 1),
            ("osc2_decay_ms", 10, 2000, 120, LOG, 1), ("noise_decay_ms", 10, 2000, 180, LOG, 1),
            ("noise_cutoff_hz", 20, cutoff_max, min(2000, 0.5 * cutoff_max), LOG, 1),
            ("noise_q", 0.5, 10, 1.5, LOG, 1),
            ("osc1_gain_db", -60, 6, -8, LIN, 1), ("osc2_gain_db", -60, 6, -14, LIN, 1),
            ("noise_gain_db", -60, 6, -6, LIN, 1), ("drive_db", -24, 24, -6, LIN, 1)]


def make_drum808(sr, n, seed):
    table = drum808_table(sr)
    attack_n = max(1, round(0.001 * sr))
    i = np.arange(n, dtype=np.float64)
    since = i - attack_n
    decay_time = torch.from_numpy(np.where(since > 0, -LN_1000 * 1000.0 * since / sr, 0.0)).float()
    attack = torch.from_numpy(np.where(i < attack_n, (i + 1) / attack_n - 1.0, 0.0)).float()
    white = torch.from_numpy(Rng(seed).uniform(n, -1.0, 1.0)).float()
    b_hp = torch.tensor([1.0, -2.0, 1.0])  # the high-pass numerator's second difference

    def envelope(decay_ms):  # 1 ms linear attack, then -60 dB over decay_ms
        return torch.exp(decay_time / decay_ms) + attack

    def oscillator(freq_hz, pitch_mod, pitch_env):
        omega = (pitch_env * pitch_mod + 1) * (freq_hz * (2 * math.pi / sr))
        return torch.sin(torch.cumsum(omega, 0) - omega)  # phase of samples 0..i-1

    def highpass(x, cutoff_hz, q):  # RBJ cookbook, as in the C++ (b0 applied last)
        w0 = cutoff_hz * (2 * math.pi / sr)
        cos_w0 = torch.cos(w0)
        alpha = torch.sin(w0) / (q * 2)
        inv_a0 = 1 / (alpha + 1)
        b0 = (cos_w0 + 1) * inv_a0 * 0.5
        a = torch.cat([torch.ones(1), cos_w0 * inv_a0 * -2, (1 - alpha) * inv_a0])
        return taf.lfilter(x, a, b_hp, clamp=False) * b0

    def render(u):
        p = Params(table, u)
        pitch_env = envelope(p["pitch_decay_ms"])
        osc1 = oscillator(p["osc1_freq_hz"], p["osc1_pitch_mod"], pitch_env) * (
            envelope(p["osc1_decay_ms"]) * db_to_amplitude(p["osc1_gain_db"]))
        osc2 = oscillator(p["osc2_freq_hz"], p["osc2_pitch_mod"], pitch_env) * (
            envelope(p["osc2_decay_ms"]) * db_to_amplitude(p["osc2_gain_db"]))
        noise = highpass(white * envelope(p["noise_decay_ms"]), p["noise_cutoff_hz"],
                         p["noise_q"]) * db_to_amplitude(p["noise_gain_db"])
        return torch.tanh((osc1 + osc2 + noise) * db_to_amplitude(p["drive_db"]))

    return table, render


# [SECTION] ddsp (src/synth/ddsp_synth.cpp), DdspSynthParams defaults, constant f0 220 Hz

DDSP_HARMONICS = 100
DDSP_BANDS = 65
DDSP_FRAME_RATE_HZ = 250
DDSP_F0_HZ = 220
DDSP_MAX_REVERB_S = 4


def ddsp_grid(sr, n):
    hop = max(1, round(sr / DDSP_FRAME_RATE_HZ))
    return hop, n // hop + 1


def ddsp_table(sr, n):
    _, frames = ddsp_grid(sr, n)
    return [("amplitude", 1e-5, 1, 0.5, LOG, frames),
            ("harmonic_distribution", 1e-4, 1, 0.01, LOG, frames * DDSP_HARMONICS),
            ("noise_magnitudes", 1e-5, 1, 3e-3, LOG, frames * DDSP_BANDS),
            ("reverb_decay_s", 0.01, 0.5, 0.05, LOG, 1),
            ("reverb_wet_db", -60, 0, -20, LIN, 1)]


def make_ddsp(sr, n, seed):
    table = ddsp_table(sr, n)
    hop, frames = ddsp_grid(sr, n)
    assert n == (frames - 1) * hop, "this port assumes the clip ends on the last frame"
    f0 = min(max(DDSP_F0_HZ, 1.0), 0.49 * sr)
    audible = min(DDSP_HARMONICS, math.ceil(sr / 2 / f0) - 1)  # harmonics k f0 < Nyquist
    # Harmonic bank constants: the phase accumulated in float64 and wrapped per sample, as
    # HarmonicBankNode; the sines of the audible harmonics, (segments, hop, audible).
    phase, phases = 0.0, np.empty(n)
    step = 2 * math.pi * f0 / sr
    for i in range(n):
        phase = math.fmod(phase + step, 2 * math.pi)
        phases[i] = phase
    sines = np.sin(phases[:, None] * np.arange(1, audible + 1)[None, :])
    sines = torch.from_numpy(sines).float().reshape(frames - 1, hop, audible)
    ramp = torch.arange(hop, dtype=torch.float32) / hop  # weight of the next frame
    slope = 1.0 / torch.arange(1, DDSP_HARMONICS + 1, dtype=torch.float64).float()
    mask = (torch.arange(1, DDSP_HARMONICS + 1) * f0 < sr / 2).float()
    # Filtered noise: FIR of 2 (B - 1) taps, blocks of hop centred on the frames, FFT of 256.
    taps = 2 * (DDSP_BANDS - 1)
    nfft = 1 << (hop + hop // 2 + taps - 2).bit_length()
    hann = torch.from_numpy(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(taps) / taps)).float()
    noise = torch.from_numpy(Rng(seed).uniform(n, -1.0, 1.0)).float()
    # Reverb: seeded noise (first tap 0) under an exponential decay, unit energy, wet gain.
    ir_n = max(1, min(n, round(DDSP_MAX_REVERB_S * sr)))
    ir_noise = np.zeros(ir_n)
    ir_noise[1:] = Rng(seed ^ 0x9E3779B97F4A7C15).uniform(ir_n - 1, -1.0, 1.0)
    ir_noise = torch.from_numpy(ir_noise).float()
    minus_t = torch.from_numpy(-np.arange(ir_n) / sr).float()
    conv_n = 1 << (n + ir_n - 2).bit_length()

    def harmonic(amplitude, distribution):
        kept = distribution * slope * mask
        amps = (kept * (amplitude[:, None] / kept.sum(1, keepdim=True)))[:, :audible]
        # Linear interpolation between frames: y = S a0 + ramp * S (a1 - a0) per segment.
        # (Broadcast products and sums: 5x faster here than bmm on 1000 tiny matrices.)
        a0 = amps[:-1]
        y0 = (sines * a0[:, None, :]).sum(-1)
        y1 = (sines * (amps[1:] - a0)[:, None, :]).sum(-1)
        return (y0 + ramp * y1).reshape(-1)

    def frequency_filter(x, magnitudes):
        ir = torch.fft.irfft(magnitudes, n=taps)  # zero-phase, 1/N scaled
        fir = torch.roll(ir, taps // 2, 1) * hann  # centred on tap taps / 2
        blocks = torch.nn.functional.pad(x, (hop // 2, hop // 2)).unfold(0, hop, hop)
        y = torch.fft.irfft(torch.fft.rfft(blocks, nfft) * torch.fft.rfft(fir, nfft), nfft)
        # Overlap-add: block f's output starts at f hop - hop/2 - taps/2.
        q = nfft // hop
        y = y.reshape(frames, q, hop)
        out = sum(torch.nn.functional.pad(y[:, j], (0, 0, j, q - 1 - j)) for j in range(q))
        start = hop // 2 + taps // 2
        return out.reshape(-1)[start:start + n]

    def render(u):
        p = Params(table, u)
        dry = harmonic(p["amplitude"], p["harmonic_distribution"].reshape(frames, DDSP_HARMONICS))
        dry = dry + frequency_filter(noise, p["noise_magnitudes"].reshape(frames, DDSP_BANDS))
        ir_raw = ir_noise * torch.exp(minus_t / p["reverb_decay_s"])
        energy = (ir_raw * ir_raw).sum() + 1e-20
        ir = ir_raw * (db_to_amplitude(p["reverb_wet_db"]) / torch.sqrt(energy))
        wet = torch.fft.irfft(torch.fft.rfft(dry, conv_n) * torch.fft.rfft(ir, conv_n), conv_n)
        return dry + wet[:n]

    return table, render


# [SECTION] synth workloads: <synth>_step and <synth>_eval

# name -> (factory, sample rate, seconds): each synth's default rate and duration, seed 0.
SYNTHS = {"sine": (make_sine, 16000, 1.0), "ks": (make_ks, 16000, 1.0),
          "drum808": (make_drum808, 44100, 1.0), "ddsp": (make_ddsp, 16000, 4.0)}
SYNTH_LR = 0.05       # MatchSession's defaults
SYNTH_CLIP_NORM = 10


def synth_target(n, sr):
    """mrstft_step's decaying 220 Hz harmonic tone at the synth's rate and length."""
    t = torch.arange(n, dtype=torch.float64)
    y = torch.zeros(n, dtype=torch.float64)
    for k in range(1, 9):
        y += (0.5 / k) * torch.sin(2 * math.pi * 220 * k * t / sr)
    return (y * torch.exp(-t / sr)).float()


def synth_setup(name):
    factory, sr, seconds = SYNTHS[name]
    n = round(seconds * sr)
    table, render = factory(sr, n, 0)
    windows = {m: torch.hann_window(m, periodic=True) for m in MRSTFT_FFTS}
    with torch.no_grad():
        y = synth_target(n, sr)
        targets = {m: stft_mag(y, m, windows[m]) for m in MRSTFT_FFTS}

    def loss_of(u):
        return mrstft_loss(render(u), targets, windows)

    return initial_u(table), loss_of


def make_synth_step(name):
    u0, loss_of = synth_setup(name)
    u = u0.clone().requires_grad_(True)
    opt = torch.optim.Adam([u], lr=SYNTH_LR)
    with torch.no_grad():
        loss0 = float(loss_of(u))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_of(u)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([u], SYNTH_CLIP_NORM)
        opt.step()
        return loss

    def check():
        uc = u0.clone().requires_grad_(True)
        loss_of(uc).backward()
        return f"{u0.numel()} parameters, |grad u|_2 {float(uc.grad.norm()):.6g}"

    return step, loss0, check


def make_synth_eval(name):
    u0, loss_of = synth_setup(name)
    u = u0.clone()
    with torch.no_grad():
        loss0 = float(loss_of(u))

    def step():
        with torch.no_grad():
            return loss_of(u)

    return step, loss0, lambda: f"{u0.numel()} parameters, forward only"


# [SECTION] the DDSP autoencoder (python/ddsp_torch.py; keep in step with bench_step.cpp)

AE_MODEL = "assets/models/ddsp_gm8.safetensors"


def autoencoder_setup():
    sys.path.insert(0, os.path.join(ROOT, "python"))
    from ddsp_torch import DdspAutoencoder
    model = DdspAutoencoder.from_safetensors(os.path.join(ROOT, AE_MODEL))
    n, hop = 4 * SR, 64
    frames, mfcc_frames = n // hop + 1, n // 256 + 1
    t = torch.arange(frames, dtype=torch.float64) / (frames - 1)
    f0 = (196 + (262 - 196) * t).float()
    loudness = (-50 + 30 * torch.sin(math.pi * t)).float()
    f = torch.arange(1, mfcc_frames + 1, dtype=torch.float64)[:, None]
    k = torch.arange(1, 31, dtype=torch.float64)[None, :]
    mfcc = (20 * torch.cos(0.05 * f * k)).float()
    _, target = mrstft_signals()
    return model, n, f0, loudness, mfcc, target


def make_autoencoder_step():
    model, n, f0, loudness, mfcc, target = autoencoder_setup()
    windows = {m: torch.hann_window(m, periodic=True) for m in MRSTFT_FFTS}
    with torch.no_grad():
        targets = {m: stft_mag(target, m, windows[m]) for m in MRSTFT_FFTS}
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def loss_of():
        mu, _ = model.encode(mfcc)
        return mrstft_loss(model.decode(f0, loudness, mu, n), targets, windows)

    with torch.no_grad():
        loss0 = float(loss_of())

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_of()
        loss.backward()
        opt.step()
        return loss

    weights = sum(p.numel() for p in model.parameters())
    return step, loss0, lambda: f"{weights} weights"


def make_autoencoder_eval():
    model, n, f0, loudness, mfcc, _ = autoencoder_setup()

    def render():
        with torch.no_grad():
            mu, _ = model.encode(mfcc)
            return model.decode(f0, loudness, mu, n)

    mean_square = float(render().square().mean())
    return render, mean_square, lambda: "forward only, 4 s"


def make_ks_ae_encode():
    """The string autoencoder's encoder on 2 s of MFCC-like frames (as bench_step.cpp's)."""
    sys.path.insert(0, os.path.join(ROOT, "python"))
    from ks_ae_torch import KsAutoencoder
    model = KsAutoencoder.from_safetensors(os.path.join(ROOT, "assets/models/ks_ae.safetensors"))
    t = np.arange(126)[:, None]
    c = np.arange(30)[None, :]
    amp = np.where(c == 0, -40.0, 8.0)
    features = torch.tensor(amp * np.cos(0.05 * t * (c + 1) + 0.3 * c) - 0.1 * t, dtype=torch.float32)

    def encode():
        with torch.no_grad():
            return model(features, 196.0)

    return encode, float(encode().sum()), lambda: "forward only, 126 frames"


EVAL_SYNTHS = ("ks", "drum808")  # the synths population search is timed on
BENCHES = {"mrstft_step": make_mrstft_step, "ks_loop_step": make_ks_loop_step}
BENCHES.update({f"{name}_step": functools.partial(make_synth_step, name) for name in SYNTHS})
BENCHES.update({f"{name}_eval": functools.partial(make_synth_eval, name) for name in EVAL_SYNTHS})
BENCHES.update({"autoencoder_step": make_autoencoder_step, "autoencoder_eval": make_autoencoder_eval,
                "ks_ae_encode": make_ks_ae_encode})

# [SECTION] timing


def time_step(step, warmup, min_iters, min_seconds, max_iters):
    for _ in range(warmup):
        step()
    times = []
    start = time.perf_counter()
    while len(times) < max_iters and (len(times) < min_iters or
                                      time.perf_counter() - start < min_seconds):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    mid = len(times) // 2
    median = times[mid] if len(times) % 2 else 0.5 * (times[mid - 1] + times[mid])
    return median, times[0], len(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", action="append", choices=sorted(BENCHES),
                    help="workload to run (repeatable; default: all)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--min-iters", type=int, default=20)
    ap.add_argument("--min-seconds", type=float, default=2.0)
    ap.add_argument("--max-iters", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)  # torch's RNG is never used; set anyway so the run is reproducible
    Rng.self_test()

    print(f"bench_torch: torch {torch.__version__}, threads {torch.get_num_threads()}",
          file=sys.stderr)
    ok = True
    for name in args.bench or list(BENCHES):
        step, loss0, check = BENCHES[name]()
        if not math.isfinite(loss0):
            print(f"bench_torch: {name}: loss is not finite ({loss0})", file=sys.stderr)
            ok = False
        print(f"bench_torch: {name}: {check()}", file=sys.stderr)
        median, best, iters = time_step(step, args.warmup, args.min_iters, args.min_seconds,
                                        args.max_iters)
        print(json.dumps({"impl": "torch", "bench": name, "ms_median": round(median, 4),
                          "ms_min": round(best, 4), "iters": iters, "loss": loss0}), flush=True)
        print(f"bench_torch: {name}: loss {loss0:.9g}, median {median:.3f} ms, min {best:.3f} ms,"
              f" {iters} iters", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
