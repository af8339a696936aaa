#!/usr/bin/python3
"""Writes the timbre-remapping golden file checked by tests/test_remap_golden.cpp: three models
trained by the real CLI, deterministic onset-feature inputs, and the PyTorch reference's outputs
(python/remap_torch.py), plus torch's onset features of a few stored segments.

Regenerate (needs Debian's python3-torch and a built `ddsp`), then commit the golden:

    cmake --build build --target ddsp
    /usr/bin/python3 python/make_remap_golden.py [--ddsp build/ddsp] [--out tests/golden/remap_golden.safetensors]

Models: the performance of scripts/experiment_remap.py made of the two bundled Audiophob snares
(24 hits, gains seeded), `ddsp remap-train --preset snare_1 --model KIND --steps 40 --seed 0` for
KIND in linear, mlp, mlp-large. Golden contents, for each KIND:
  KIND/<weight name>   the model file's tensors, as stored
  KIND/<metadata key>  (metadata) the model file's metadata
  KIND/x               (n x 3) onset features: 16 rows spread over realistic ranges, 3 extremes
                       (silence, loud and bright, a pure tone), the model's input mean, and torch's
                       features of the start of snare_audiophob_1.wav
  KIND/d               (n x 14) torch's modulations for KIND/x (in float64, stored as float32)
  KIND/d.eps_1e-3, KIND/d.slope_0.2   (MLP kinds) the same with a wrong LayerNorm eps / leaky
                       slope (Keras' and tf.nn's defaults): the C++ must be far from these
and for each segment NAME (synthetic at 44.1 kHz; the snare; synthetic at 48 kHz with the live
engine's 278-sample window, zero-padded to a 512-point FFT and running past the signal's end):
  features/NAME/x      the signal (float32), features/NAME/f torch's onset features (3)
  features/NAME        (metadata) {"start", "window", "sample_rate"}
Metadata also records torch's and numpy's versions and the training command.
"""

import argparse
import copy
import json
import math
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "scripts"))
import remap_torch  # noqa: E402
from ddsp_torch import read_safetensors, write_safetensors  # noqa: E402
from experiment_remap import bundled_performance, read_mono16  # noqa: E402

GOLDEN_FORMAT = "ddsp.cpp/remap-golden/1"
KINDS = ["linear", "mlp", "mlp-large"]
PRESET, STEPS, SEED = "snare_1", 40, 0


def onset_rows(mean, snare_features):
    """16 rows over realistic ranges (RMS dB, centroid octaves re 1 kHz, flatness dB), 3 extremes,
    the model's input mean and a real snare's features."""
    rng = np.random.default_rng(20240612)
    lo, hi = np.array([-60.0, -2.0, -40.0]), np.array([-6.0, 3.0, -3.0])
    rows = list(lo + (hi - lo) * rng.random((16, 3)))
    rows += [[-100.0, math.log2(0.05), 0.0],   # silence (what the features give for zeros)
             [0.0, 4.4, 0.0],                  # full-scale white noise at 44.1 kHz
             [-20.0, 0.0, -60.0]]              # a pure 1 kHz tone
    rows += [list(mean), list(snare_features)]
    return np.asarray(rows, dtype=np.float32)


def segments():
    """{name: (signal float32, start, window, sample_rate)}."""
    rng = np.random.default_rng(7)
    out = {}
    sr = 44100
    t = np.arange(400) / sr
    burst = np.exp(-t / 0.004) * (0.6 * rng.uniform(-1, 1, t.size) + 0.3 * np.sin(2 * math.pi * 180 * t))
    out["synthetic"] = (burst.astype(np.float32), 32, remap_torch.window_samples(0.0058, sr), sr)

    snare = np.asarray(read_mono16(os.path.join(REPO, "assets/sounds/snare_audiophob_1.wav")))
    first = int(np.argmax(np.abs(snare) >= 0.0316 * np.abs(snare).max()))  # within 30 dB of the peak
    w = remap_torch.window_samples(0.0058, sr)
    out["snare"] = (snare[first:first + w].astype(np.float32), 0, w, sr)

    sr = 48000
    t = np.arange(200) / sr
    tone = np.exp(-t / 0.01) * (0.5 * np.sin(2 * math.pi * 3000 * t) + 0.1 * rng.uniform(-1, 1, t.size))
    out["padded_48k"] = (tone.astype(np.float32), 0, max(16, remap_torch.window_samples(0.0058, sr)), sr)
    return out


def with_conventions(net, eps=1e-5, slope=0.01):
    wrong = copy.deepcopy(net)
    for norm in wrong.mlp.norms:
        norm.eps = eps
    wrong.mlp.slope = slope
    return wrong


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ddsp", default=os.path.join(REPO, "build/ddsp"))
    parser.add_argument("--out", default=os.path.join(REPO, "tests/golden/remap_golden.safetensors"))
    args = parser.parse_args()
    torch.set_num_threads(1)

    tensors, metadata = {}, {}
    feature_of = {}
    for name, (x, start, window, sr) in segments().items():
        f = remap_torch.onset_features(torch.from_numpy(x), start, window, sr)
        feature_of[name] = f.numpy()
        tensors[f"features/{name}/x"] = x
        tensors[f"features/{name}/f"] = f.numpy().astype(np.float32)
        metadata[f"features/{name}"] = json.dumps({"start": start, "window": window, "sample_rate": sr})
        print(f"features {name}: {[round(float(v), 4) for v in f]}")

    with tempfile.TemporaryDirectory() as tmp:
        perf = os.path.join(tmp, "audiophob_snares.wav")
        bundled_performance(REPO, perf, random.Random(1))
        for kind in KINDS:
            out_dir = os.path.join(tmp, kind)
            cmd = [args.ddsp, "remap-train", "--preset", PRESET, "--input", perf, "--model", kind,
                   "--steps", str(STEPS), "--seed", str(SEED), "-o", out_dir]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            path = os.path.join(out_dir, "model.safetensors")
            weights, meta = read_safetensors(path)
            net = remap_torch.RemapNet.from_safetensors(path)
            again = os.path.join(tmp, kind + "_again.safetensors")
            net.to_safetensors(again)
            with open(path, "rb") as a, open(again, "rb") as b:
                assert a.read() == b.read(), "RemapNet.to_safetensors does not reproduce the C++ file"
            for k, v in weights.items():
                tensors[f"{kind}/{k}"] = v
            for k, v in meta.items():
                metadata[f"{kind}/{k}"] = v

            net = net.double()
            x = onset_rows(net.input_mean.numpy(), feature_of["snare"])
            with torch.no_grad():
                d = net(torch.from_numpy(x).double())
                tensors[f"{kind}/x"] = x
                tensors[f"{kind}/d"] = d.numpy().astype(np.float32)
                report = f"{kind}: |d| max {float(d.abs().max()):.3f}"
                if net.mlp is not None:
                    for label, wrong in (("eps_1e-3", with_conventions(net, eps=1e-3)),
                                         ("slope_0.2", with_conventions(net, slope=0.2))):
                        dw = wrong(torch.from_numpy(x).double())
                        tensors[f"{kind}/d.{label}"] = dw.numpy().astype(np.float32)
                        report += f", {label} moves it by {float((dw - d).abs().max()):.2e}"
                    for label, wrong in (("eps_1e-6", with_conventions(net, eps=1e-6)),
                                         ("eps_0", with_conventions(net, eps=0.0))):
                        report += f", {label} by {float((wrong(torch.from_numpy(x).double()) - d).abs().max()):.2e}"
            print(report)
        train_cmd = (f"ddsp remap-train --preset {PRESET} --input <experiment_remap.bundled_performance, "
                     f"random.Random(1)> --model KIND --steps {STEPS} --seed {SEED}")

    metadata.update({"format": GOLDEN_FORMAT, "kinds": ",".join(KINDS), "features": "synthetic,snare,padded_48k",
                     "train_command": train_cmd, "torch_version": torch.__version__,
                     "numpy_version": np.__version__, "made_by": "python/make_remap_golden.py (python/remap_torch.py)"})
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, tensors, metadata)
    print(f"{args.out}: {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
