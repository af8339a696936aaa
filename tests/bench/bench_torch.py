#!/usr/bin/python3
"""PyTorch reference for tests/bench/bench_step.cpp: the same workloads, single-threaded.

Prints one JSON object per line per workload on stdout:
  {"impl": "torch", "bench": "<name>", "ms_median": x, "ms_min": y, "iters": n, "loss": value}
Diagnostics go to stderr. Exits non-zero if a loss is not finite.

Workloads (deterministic, no RNG; formulas are evaluated in float64 and rounded to float32, the
C++ side does the same so the reported losses agree to ~1e-3 relative):
  mrstft_step  one Adam step (lr 1e-3) of the multi-resolution STFT loss on 4 s at 16 kHz, the
               parameter is the waveform itself.
  ks_step      forward + backward of a 1 s Karplus-Strong all-pole loop (lfilter), gradients of
               the excitation and of the dense feedback coefficients.

Run with Debian's interpreter (python3-torch 1.13, python3-torchaudio):
  /usr/bin/python3 tests/bench/bench_torch.py [--bench NAME ...] [--min-iters N] [--min-seconds S]
"""

import argparse
import json
import math
import sys
import time

import torch
import torchaudio.functional as taf

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


def make_ks_step():
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


BENCHES = {"mrstft_step": make_mrstft_step, "ks_step": make_ks_step}

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
    torch.manual_seed(0)  # nothing is random; set anyway so the run is reproducible

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
