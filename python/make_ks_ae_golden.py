#!/usr/bin/python3
"""Writes the DiffKS string autoencoder's golden file checked by tests/test_ks_ae_golden.cpp: a tiny
model trained by the real CLI, deterministic MFCC-like inputs with their pitches, and the PyTorch
reference's u for each (python/ks_ae_torch.py), plus torch's physical values of one u.

Regenerate (needs Debian's python3-torch and a built `ddsp`), then commit the golden:

    cmake --build build --target ddsp
    /usr/bin/python3 python/make_ks_ae_golden.py [--ddsp build/ddsp] [--out tests/golden/ks_ae_golden.safetensors]

Model: the tiny synthetic-string set of tests/cli/test_cli.sh's "[train --model ks-ae]" section
(six `ddsp render`ed ks parameter files, f0 110..310 Hz, with metadata.jsonl), then
`ddsp train --model ks-ae --variant sup --data DIR -o OUT --steps 40 --seconds 0.5` (seed 1).
Golden contents:
  model/<weight name>   the model file's tensors, as stored
  model/<metadata key>  (metadata) the model file's metadata
  case/NAME/features    (T x 30) MFCC-like frames: numpy log-mel (natural log, floor 1e-6) + orthonormal
                        DCT of synthetic decaying harmonic plucks, following dsp/mfcc.h's recipe (fft
                        1024, the model's hop 256, 128 HTK bands over 20..8000 Hz); realistic values,
                        not a check of the C++ MFCCs (the C++ test passes them straight to encode())
  case/NAME/u           (num_params) torch's u (float64, stored as float32)
  case/NAME/u.gates_zrn, case/NAME/u.mfcc_scale_1   torch's u with the GRU's r and z gate blocks
                        swapped, and without the 0.05 MFCC scale: the C++ must be far from these
  case/NAME             (metadata) {"f0_hz", "frames"}
  physical              (metadata) {"of": NAME, "values": {name: [...]}}: torch's physical values
                        of case/NAME/u exactly as stored (float32), in float64
Metadata also records torch's and numpy's versions and the training command.
"""

import argparse
import copy
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from ddsp_torch import read_safetensors, write_safetensors  # noqa: E402
from ks_ae_torch import KsAutoencoder  # noqa: E402

GOLDEN_FORMAT = "ddsp.cpp/ks-ae-golden/1"
STEPS, SECONDS, SR = 40, 0.5, 16000


def make_dataset(ddsp, root):
    """tests/cli/test_cli.sh's tiny ks set: six renders with their parameter files."""
    os.makedirs(os.path.join(root, "wav"))
    os.makedirs(os.path.join(root, "params"))
    rows = []
    for k in range(6):
        f0, decay, split = 110 + 40 * k, float(f"0.{4 + k}"), "valid" if k == 4 else "test" if k == 5 else "train"
        params = {"synth": "ks", "sample_rate": SR, "seconds": SECONDS,
                  "params": {"f0_hz": f0, "decay_s": decay, "exc_gain_db": -(12 + 2 * k)}}
        with open(os.path.join(root, "params", f"k{k}.json"), "w") as f:
            json.dump(params, f)
        subprocess.run([ddsp, "render", "--params", os.path.join(root, "params", f"k{k}.json"), "-o",
                        os.path.join(root, "wav", f"k{k}.wav")], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        rows.append(json.dumps({"name": f"k{k}", "split": split, "f0_hz": f0, "params": f"params/k{k}.json"}))
    with open(os.path.join(root, "metadata.jsonl"), "w") as f:
        f.write("\n".join(rows) + "\n")


# [SECTION] MFCC-like inputs

def mel_filterbank(fft_size=1024, sr=SR, bands=128, f_min=20.0, f_max=8000.0):
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    hz = 700 * (10 ** (np.linspace(mel(f_min), mel(f_max), bands + 2) / 2595) - 1)
    freqs = np.arange(fft_size // 2 + 1) * sr / fft_size
    lo, mid, hi = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    return np.maximum(0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))


def mfcc(x, hop=256, fft_size=1024, coefficients=30):
    """(n / hop + 1, coefficients): centred frames, periodic Hann, power, HTK mel, log, ortho DCT."""
    padded = np.pad(x, fft_size // 2)
    frames = len(x) // hop + 1
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(fft_size) / fft_size)
    spec = np.stack([np.fft.rfft(padded[i * hop:i * hop + fft_size] * window) for i in range(frames)])
    logmel = np.log(np.maximum(np.abs(spec) ** 2 @ mel_filterbank(fft_size).T, 1e-6))
    bands = logmel.shape[1]
    k, m = np.arange(coefficients)[:, None], np.arange(bands)[None]
    dct = np.cos(np.pi * k * (m + 0.5) / bands) * np.where(k == 0, math.sqrt(1 / bands), math.sqrt(2 / bands))
    return logmel @ dct.T


def pluck(f0, decay_s, seconds, sounding_s, seed):
    """A decaying harmonic tone with a 25 ms noise burst, silent after sounding_s."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * SR))) / SR
    x = np.zeros_like(t)
    for k in range(1, 60):
        if k * f0 >= 0.45 * SR:
            break
        amp, phase = 0.4 / k ** 1.2, rng.uniform(0, 2 * np.pi)
        x += amp * np.sin(2 * np.pi * k * f0 * t + phase) * np.exp(-t * (1 + 0.3 * k) / decay_s)
    burst = int(0.025 * SR)
    x[:burst] += 0.2 * rng.uniform(-1, 1, burst) * np.linspace(1, 0, burst)
    x[t >= sounding_s] = 0
    return x


def cases():
    """{name: (features float32 (T x 30), f0_hz)}: 0.5 s clips as the model reads them (32 frames), a
    clip padded with silence, fewer frames than control frames, a single frame with an f0 above the
    table's 2000 Hz (u's f0 entry clamps, the pitch input does not), and a longer clip (63 frames)."""
    spec = [("e2_82hz", 82.41, 1.5, 0.5, 0.5, None), ("a3_220hz", 220.0, 0.4, 0.5, 0.5, None),
            ("e4_330hz_padded", 329.63, 0.8, 0.5, 0.15, None), ("a5_880hz_7frames", 880.0, 0.3, 0.5, 0.5, 7),
            ("f0_2500hz_1frame", 2500.0, 0.2, 0.5, 0.5, 1), ("a1_55hz_63frames", 55.0, 2.5, 1.0, 1.0, None)]
    out = {}
    for i, (name, f0, decay, seconds, sounding, keep) in enumerate(spec):
        f = mfcc(pluck(f0, decay, seconds, sounding, seed=100 + i))
        out[name] = (f[:keep].astype(np.float32) if keep else f.astype(np.float32), f0)
    return out


# [SECTION] wrong conventions (the C++ must be far from these)

def gates_swapped(model):
    """The GRU's r and z blocks swapped in every weight and bias (a [z r n] reading of the file)."""
    wrong = copy.deepcopy(model)
    H = wrong.config["hidden"]
    order = torch.cat([torch.arange(H, 2 * H), torch.arange(0, H), torch.arange(2 * H, 3 * H)])
    with torch.no_grad():
        for p in (wrong.gru.weight_ih_l0, wrong.gru.weight_hh_l0, wrong.gru.bias_ih_l0, wrong.gru.bias_hh_l0):
            p.copy_(p[order])
    return wrong


def mfcc_unscaled(model):
    wrong = copy.deepcopy(model)
    wrong.mfcc_scale = 1.0
    return wrong


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ddsp", default=os.path.join(REPO, "build/ddsp"))
    parser.add_argument("--out", default=os.path.join(REPO, "tests/golden/ks_ae_golden.safetensors"))
    args = parser.parse_args()
    torch.set_num_threads(1)

    tensors, metadata = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        data, out_dir = os.path.join(tmp, "kset"), os.path.join(tmp, "ksae")
        make_dataset(args.ddsp, data)
        subprocess.run([args.ddsp, "train", "--model", "ks-ae", "--variant", "sup", "--data", data, "-o", out_dir,
                        "--steps", str(STEPS), "--seconds", str(SECONDS)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        path = os.path.join(out_dir, "model.safetensors")
        weights, meta = read_safetensors(path)
        model = KsAutoencoder.from_safetensors(path)
        again = os.path.join(tmp, "again.safetensors")
        model.to_safetensors(again)
        with open(path, "rb") as a, open(again, "rb") as b:
            assert a.read() == b.read(), "KsAutoencoder.to_safetensors does not reproduce the C++ file"
    meta["data"] = "tests/cli/test_cli.sh's tiny ks set"  # not the temporary directory's path
    for k, v in weights.items():
        tensors[f"model/{k}"] = v
    for k, v in meta.items():
        metadata[f"model/{k}"] = v

    model = model.double()
    wrong = {"gates_zrn": gates_swapped(model), "mfcc_scale_1": mfcc_unscaled(model)}
    names = []
    with torch.no_grad():
        for name, (features, f0) in cases().items():
            names.append(name)
            u = model(torch.from_numpy(features).double(), f0)
            tensors[f"case/{name}/features"] = features
            tensors[f"case/{name}/u"] = u.numpy().astype(np.float32)
            metadata[f"case/{name}"] = json.dumps({"f0_hz": f0, "frames": int(features.shape[0])})
            c0 = features[:, 0]
            report = (f"{name}: {features.shape[0]} frames, c0 {c0.min():.1f}..{c0.max():.1f}, |c1..| max "
                      f"{np.abs(features[:, 1:]).max():.1f}; u range {float(u.min()):.3f}..{float(u.max()):.3f}")
            pred = model.predicted()
            for label, m in wrong.items():
                uw = m(torch.from_numpy(features).double(), f0)
                tensors[f"case/{name}/u.{label}"] = uw.numpy().astype(np.float32)
                report += f"; {label} moves u by {float((uw - u)[pred].abs().max()):.2e}"
            print(report)
    of = "a3_220hz"
    physical = model.to_physical(torch.from_numpy(tensors[f"case/{of}/u"]).double())
    metadata["physical"] = json.dumps({"of": of, "values": physical})
    print(f"physical of {of}: f0_hz {physical['f0_hz']}, decay_s[0] {physical['decay_s'][0]:.4f}, "
          f"exc_gain_db {physical['exc_gain_db']}")

    metadata.update({"format": GOLDEN_FORMAT, "cases": ",".join(names),
                     "train_command": (f"ddsp train --model ks-ae --variant sup --data <test_cli.sh's kset> -o OUT "
                                       f"--steps {STEPS} --seconds {SECONDS}"),
                     "torch_version": torch.__version__, "numpy_version": np.__version__,
                     "made_by": "python/make_ks_ae_golden.py (python/ks_ae_torch.py)"})
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, tensors, metadata)
    print(f"{args.out}: {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
