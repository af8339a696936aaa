#!/usr/bin/python3
"""Writes the autoencoder golden file checked by tests/test_autoencoder_golden.cpp: deterministic
inputs and the outputs of the PyTorch reference (python/ddsp_torch.py) for one model file.

    /usr/bin/python3 python/make_golden.py [--model assets/models/ddsp_gm8.safetensors]
                                           [--out tests/golden/autoencoder_golden.safetensors]

Inputs (0.5 s at the model's rate by default): an f0 glide 196 -> 262 Hz, a loudness envelope
(20 ms attack to -18 dB, then a decay to -55 dB), a spectral centroid track (models conditioned on
it), MFCCs of a synthetic sawtooth-like tone following that f0 and loudness (the same pipeline as
dsp/mfcc.h, in numpy; the C++ test feeds these values directly, so they need not match dsp::mfcc
bit for bit), and z = the encoder's mu for those MFCCs. Outputs: mu, log_var, the decoder's
amplitude, distribution and noise_magnitudes, the dry audio and the final audio, and gradients
(grad.<parameter name>, grad.z) of sum(audio^2) + KL for a few parameters.
Metadata: the model file's sha256 (the C++ test refuses a model that differs), torch's version.
Rerun this (scripts/make-golden.sh) and commit the result whenever the model file changes.
"""

import argparse
import hashlib
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddsp_torch  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN_FORMAT = "ddsp.cpp/autoencoder-golden/1"
# Parameters whose gradients are stored (small ones spread over the network, and the reverb IR).
GRADIENTS = ["encoder.in.b", "encoder.gru.b_h", "encoder.out.b", "decoder.f0_mlp.0.linear.w",
             "decoder.z_mlp.0.linear.b", "decoder.gru.b_h", "decoder.out_mlp.1.norm.gain", "decoder.out.b",
             "decoder.reverb.ir"]


def conditioning(num_samples, hop, sample_rate):
    frames = num_samples // hop + 1
    t_s = np.arange(frames) * hop / sample_rate
    end_s = max(t_s[-1], 0.04)
    f0_hz = 196.0 * (262.0 / 196.0) ** (np.arange(frames) / max(1, frames - 1))
    attack = -80.0 + 62.0 * t_s / 0.02
    decay = -18.0 - 37.0 * (t_s - 0.02) / (end_s - 0.02)
    loudness_db = np.where(t_s < 0.02, attack, decay)
    centroid_hz = f0_hz * (1.5 + 1.5 * np.exp(-t_s / 0.1))
    return f0_hz.astype(np.float32), loudness_db.astype(np.float32), centroid_hz.astype(np.float32)


def synthetic_tone(f0_hz, loudness_db, num_samples, hop, sample_rate):
    """A 1/k-spectrum tone on the f0 track at the loudness envelope, plus faint noise."""
    frame_pos = np.arange(len(f0_hz)) * hop
    i = np.arange(num_samples)
    f0 = np.interp(i, frame_pos, f0_hz)
    gain = 10.0 ** (np.interp(i, frame_pos, loudness_db) / 20.0)
    phase = np.cumsum(2 * math.pi * f0 / sample_rate)
    x = sum(np.sin(k * phase) / k for k in range(1, 21) if k * f0.max() < sample_rate / 2)
    return gain * x + 1e-3 * ddsp_torch.uniform_noise(12345, num_samples)


def mfcc(x, sample_rate, hop, coefficients, fft_size=1024, mel_bands=128, f_min=20.0, f_max=8000.0):
    """Centred periodic-Hann frames -> power spectrum -> HTK mel (peak-1 triangles) -> log(max(., 1e-6))
    -> orthonormal DCT-II (dsp/mfcc.h's pipeline)."""
    padded = np.pad(x, fft_size // 2)
    frames = len(x) // hop + 1
    window = 0.5 - 0.5 * np.cos(2 * math.pi * np.arange(fft_size) / fft_size)
    spectra = [np.fft.rfft(padded[f * hop:f * hop + fft_size] * window) for f in range(frames)]
    power = np.abs(np.stack(spectra)) ** 2
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    edges = 700.0 * (10.0 ** (np.linspace(mel(f_min), mel(f_max), mel_bands + 2) / 2595.0) - 1.0)
    freqs = np.linspace(0, sample_rate / 2, fft_size // 2 + 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    bank = np.maximum(0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))  # (bands, bins)
    log_mel = np.log(np.maximum(power @ bank.T, 1e-6))
    n = np.arange(mel_bands)
    dct = np.cos(math.pi / mel_bands * (n[None, :] + 0.5) * np.arange(coefficients)[:, None])
    dct *= np.sqrt(2.0 / mel_bands)
    dct[0] /= np.sqrt(2.0)
    return (log_mel @ dct.T).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=os.path.join(REPO, "assets/models/ddsp_gm8.safetensors"))
    parser.add_argument("--out", default=os.path.join(REPO, "tests/golden/autoencoder_golden.safetensors"))
    parser.add_argument("--num-samples", type=int, default=8000)
    args = parser.parse_args()

    torch.set_num_threads(1)
    model = ddsp_torch.DdspAutoencoder.from_safetensors(args.model)
    cfg, dec = model.config, model.decoder
    n, sr = args.num_samples, dec.sample_rate
    f0_hz, loudness_db, centroid_hz = conditioning(n, dec.hop, sr)
    tone = synthetic_tone(f0_hz, loudness_db, n, dec.hop, sr)
    features = mfcc(tone, sr, cfg["mfcc_hop"], cfg["mfcc_coefficients"])

    with torch.no_grad():
        mu, log_var = model.encode(torch.from_numpy(features))
        z = mu.clone()
        out = model.decode(torch.from_numpy(f0_hz), torch.from_numpy(loudness_db), z, n,
                           torch.from_numpy(centroid_hz) if cfg["use_centroid"] else None, controls=True)

    # Gradients of a fixed loss, sum(audio^2) + KL(mu, log_var) with z held at the golden's value,
    # so the C++ test also checks that a training step here and there agree.
    model.zero_grad()
    z_leaf = z.clone().requires_grad_(True)
    mu_g, log_var_g = model.encode(torch.from_numpy(features))
    kl = 0.5 * (mu_g.square() + log_var_g.exp() - log_var_g - 1).sum()
    audio = model.decode(torch.from_numpy(f0_hz), torch.from_numpy(loudness_db), z_leaf, n,
                         torch.from_numpy(centroid_hz) if cfg["use_centroid"] else None)
    (audio.square().sum() + kl).backward()
    grads = model.file_tensors(grads=True)

    column = lambda v: v.numpy().reshape(-1, 1)  # noqa: E731
    tensors = {"f0_hz": f0_hz, "loudness_db": loudness_db, "mfcc": features, "z": z.numpy().reshape(1, -1),
               "mu": mu.numpy().reshape(1, -1), "log_var": log_var.numpy().reshape(1, -1),
               "amplitude": column(out["amplitude"]), "distribution": out["distribution"].numpy(),
               "dry": column(out["dry"]), "audio": column(out["audio"])}
    tensors["grad.z"] = z_leaf.grad.numpy().reshape(1, -1)
    for name in GRADIENTS:
        if name in grads:
            tensors["grad." + name] = grads[name]
    if cfg["use_centroid"]:
        tensors["centroid_hz"] = centroid_hz
    if cfg["use_noise"]:
        tensors["noise_magnitudes"] = out["noise_magnitudes"].numpy()

    with open(args.model, "rb") as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    model_path = os.path.abspath(args.model)
    if model_path.startswith(REPO + os.sep):
        model_path = os.path.relpath(model_path, REPO)  # the C++ test resolves it against the source dir
    metadata = {"format": GOLDEN_FORMAT, "model_file": model_path, "model_sha256": sha256,
                "num_samples": str(n), "torch_version": torch.__version__, "numpy_version": np.__version__,
                "made_by": "python/make_golden.py (python/ddsp_torch.py)"}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    ddsp_torch.write_safetensors(args.out, tensors, metadata)
    peak = float(np.abs(tensors["audio"]).max())
    print(f"{args.out}: {os.path.getsize(args.out)} bytes, model {model_path} sha256 {sha256[:16]}..., "
          f"audio peak {peak:.4g}, mu {[round(float(v), 3) for v in tensors['mu'][0]]}")


if __name__ == "__main__":
    main()
