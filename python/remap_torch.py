#!/usr/bin/python3
"""PyTorch reference of ddsp.cpp's timbre-remapping network (src/nn/remap.h): loads a model file
written by `ddsp remap-train` and reproduces the C++ mapping from a hit's onset features to
modulations of the 808 preset, and the onset features themselves.

    sys.path.insert(0, "python")                           # from the repository root
    from remap_torch import RemapNet, onset_features
    net = RemapNet.from_safetensors("out/model.safetensors")
    sr = net.params["sample_rate"]
    x = onset_features(audio, start, net.window_samples(sr), sr)   # (3,) float64
    d = net(x[None])                                       # (1, 14): added to the preset's unconstrained u
    net.to_safetensors("mine.safetensors")                 # loads in `ddsp remap` and the live engine

    /usr/bin/python3 python/remap_torch.py MODEL.safetensors ONSETS.json   # ONSETS: [[rms, centroid, flatness], ...]

tests/golden/remap_golden.safetensors is made with this module (python/make_remap_golden.py) and
checked by tests/test_remap_golden.cpp, so the C++ tests need no PyTorch.

Conventions mirrored from the C++ (keep in step with src/nn/remap.{h,cpp} and nn/layers.h):
- File: safetensors, float32 weights remap.mlp.<i>.linear.w (in x out), .linear.b (1 x out),
  remap.mlp.<i>.norm.gain / .norm.bias (1 x out), remap.out.w / remap.out.b; metadata "format"
  "ddsp.cpp/remap/1", "model" (linear | mlp | mlp-large), "preset" (the 808's parameter JSON, kept
  as text), "input_mean" / "input_scale" (JSON arrays of 3), "params" ({"sample_rate",
  "hit_seconds", "onset_window_s", "max_modulation"}).
- Network: d = max_modulation * tanh(out(mlp((x - input_mean) / max(1e-6, input_scale)))); mlp is
  absent for "linear", 2 x 32 for "mlp", 3 x 128 for "mlp-large", each layer Linear -> LayerNorm
  (eps 1e-5, biased variance) -> leaky ReLU (slope 0.01), as ddsp_torch.Mlp. A non-finite feature
  counts as the mean (nn::RemapForward, the audio thread's path). Outputs: remap.out.w's columns
  (14: the drum808's parameters, in its table's order).
"""

import json
import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddsp_torch import (Mlp, _linear_names, file_tensors, json_number, load_file_tensors,  # noqa: E402
                        read_safetensors, write_safetensors)

FORMAT = "ddsp.cpp/remap/1"
ONSET_FEATURES = 3  # nn::kOnsetFeatures
# (hidden width, layers) of each kind's MLP (nn::RemapNet); "linear" has none.
KINDS = {"linear": None, "mlp": (32, 2), "mlp-large": (128, 3)}
PARAM_KEYS = ("sample_rate", "hit_seconds", "onset_window_s", "max_modulation")


# [SECTION] onset features

def window_samples(onset_window_s, sample_rate):
    """The onset window in samples as nn::analyse_hits counts it: max(2, lround(s * rate)). (The
    live engine uses max(16, ...) at the device rate.)"""
    return max(2, int(math.floor(onset_window_s * sample_rate + 0.5)))


def onset_features(x, start, window, sample_rate):
    """nn::onset_features(x, n, start, window, rate): the 3 onset features of x[start, start + W).

    x: 1-D samples (numpy or torch; float32 as the C++ core holds them). Definition:
      W = max(2, window) samples seg[i] = x[start + i] (0 outside x; non-finite samples count as 0),
      N = the smallest power of two >= W (at least 2), B = N / 2 + 1 bins.
      rms_db   = 10 log10(sum(seg^2) / W + 1e-10)                  (the plain samples)
      X        = rfft of float32(seg[i] * (0.5 - 0.5 cos(2 pi (i + 0.5) / W))), zero-padded to N
                 (a symmetric Hann window over the W samples; the product rounded to float32)
      s_k = |X_k|, p_k = s_k^2, f_k = k * rate / N, k = 0..N/2
      centroid = log2(c / 1000 + 0.05) with c = sum(s f) / sum(s) (0 if sum(s) = 0): octaves
                 relative to 1 kHz, floored at 50 Hz
      flatness = mean_k 10 log10(p_k + 1e-6 mean(p) + 1e-30) - 10 log10(mean(p) + 1e-30) (dB, <= 0;
                 0 if sum(p) = 0)
    The C++ runs its FFT in float32 and the sums in double; this runs the FFT and everything after
    it in float64. Returns a float64 tensor (3,): rms_db, centroid, flatness.
    """
    x = torch.as_tensor(x).reshape(-1)
    w = max(2, int(window))
    size = 2
    while size < w:
        size <<= 1
    index = torch.arange(w) + int(start)
    inside = (index >= 0) & (index < x.shape[0])
    seg = torch.zeros(w, dtype=torch.float64)
    seg[inside] = x[index[inside]].double()
    seg = torch.where(torch.isfinite(seg), seg, torch.zeros_like(seg))
    i = torch.arange(w, dtype=torch.float64)
    hann = 0.5 - 0.5 * torch.cos(2 * math.pi * (i + 0.5) / w)
    windowed = (seg * hann).float().double()
    spec = torch.fft.rfft(windowed, n=size)
    s = spec.abs()
    p = s.square()
    bins = size // 2 + 1
    freqs = torch.arange(bins, dtype=torch.float64) * sample_rate / size
    rms_db = 10 * torch.log10(seg.square().sum() / w + 1e-10)
    sum_s = s.sum()
    centroid_hz = torch.where(sum_s > 0, (s * freqs).sum() / sum_s.clamp(min=1e-300), torch.zeros_like(sum_s))
    centroid = torch.log2(centroid_hz / 1000 + 0.05)
    mean_p = p.sum() / bins
    flatness = torch.where(p.sum() > 0,
                           (10 * torch.log10(p + 1e-6 * mean_p + 1e-30)).mean() - 10 * torch.log10(mean_p + 1e-30),
                           torch.zeros_like(mean_p))
    return torch.stack([rms_db, centroid, flatness])


# [SECTION] the network

class RemapNet(nn.Module):
    """(n, 3) raw onset features -> (n, outputs) modulations, nn::RemapNet / nn::RemapForward."""

    def __init__(self, kind="mlp", outputs=14, max_modulation=2.0):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"unknown model '{kind}' ({', '.join(KINDS)})")
        self.kind = kind
        self.max_modulation = float(max_modulation)
        width = ONSET_FEATURES
        self.mlp = None
        if KINDS[kind] is not None:
            hidden, layers = KINDS[kind]
            self.mlp = Mlp(ONSET_FEATURES, hidden, layers)
            width = hidden
        self.out = nn.Linear(width, outputs)
        # Input normalisation, float64 whatever the weights' dtype (plain tensors, not buffers, so
        # .float() leaves them alone).
        self.input_mean = torch.zeros(ONSET_FEATURES, dtype=torch.float64)
        self.input_scale = torch.ones(ONSET_FEATURES, dtype=torch.float64)
        self.params = {"sample_rate": 44100.0, "hit_seconds": 0.25, "onset_window_s": 0.0058,
                       "max_modulation": self.max_modulation}  # nn::RemapParams' defaults
        self.metadata = {}  # a loaded file's metadata, written back by to_safetensors

    @classmethod
    def from_safetensors(cls, path):
        tensors, metadata = read_safetensors(path)
        if metadata.get("format") != FORMAT:
            raise ValueError(f"{path}: not a ddsp.cpp remap model (metadata format != {FORMAT})")
        for key in ("model", "preset", "input_mean", "input_scale", "params"):
            if key not in metadata:
                raise ValueError(f"{path}: not a remap model: no '{key}' metadata")
        params = json.loads(metadata["params"])
        limits = {"sample_rate": (8000, 192000), "hit_seconds": (0.01, 2), "onset_window_s": (1e-4, 0.1),
                  "max_modulation": (0, 10)}  # nn::remap_from_file's
        for key, (lo, hi) in limits.items():
            v = params.get(key)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError(f"{path}: params: '{key}' missing or out of range")
        if "remap.out.w" not in tensors:
            raise ValueError(f"{path}: the model has no output layer")
        net = cls(metadata["model"], tensors["remap.out.w"].shape[-1], params["max_modulation"])
        net.params = {k: float(params[k]) for k in PARAM_KEYS}
        for key in ("input_mean", "input_scale"):
            v = json.loads(metadata[key])
            if not (isinstance(v, list) and len(v) == ONSET_FEATURES and
                    all(isinstance(e, (int, float)) and math.isfinite(e) for e in v)):
                raise ValueError(f"{path}: input normalisation: expected an array of 3 numbers")
            getattr(net, key).copy_(torch.tensor(v, dtype=torch.float64))
        load_file_tensors(net.file_names(), tensors)
        net.metadata = metadata
        return net

    def file_names(self):
        names = list(self.mlp.file_names("remap.mlp")) if self.mlp is not None else []
        return names + _linear_names("remap.out", self.out)

    def to_safetensors(self, path):
        """Writes the model in the C++ format (nn::remap_from_file loads it; a loaded file written
        back unchanged is byte-identical)."""
        metadata = dict(self.metadata)
        metadata["format"] = FORMAT
        metadata["model"] = self.kind
        metadata.setdefault("preset", "{}")
        for key in ("input_mean", "input_scale"):
            metadata[key] = "[" + ", ".join(json_number(float(v)) for v in getattr(self, key)) + "]"
        params = dict(self.params, max_modulation=self.max_modulation)
        metadata["params"] = "{" + ", ".join(f'"{k}": {json_number(params[k])}' for k in PARAM_KEYS) + "}"
        write_safetensors(path, file_tensors(self.file_names()), metadata)

    def window_samples(self, sample_rate=None):
        rate = self.params["sample_rate"] if sample_rate is None else sample_rate
        return window_samples(self.params["onset_window_s"], rate)

    def forward(self, onset_features):
        """(n, 3) or (3,) raw onset features -> (n, outputs) or (outputs,) modulations, in the
        weights' dtype (float32 as loaded; .double() for a float64 reference)."""
        x = torch.as_tensor(onset_features)
        dtype = self.out.weight.dtype
        x = x.to(dtype)
        mean, scale = self.input_mean.to(dtype), self.input_scale.to(dtype).clamp(min=1e-6)
        h = torch.where(torch.isfinite(x), (x - mean) / scale, torch.zeros_like(x))
        if self.mlp is not None:
            h = self.mlp(h)
        return self.max_modulation * torch.tanh(self.out(h))


def main():
    if len(sys.argv) != 3:
        print("usage: remap_torch.py MODEL.safetensors ONSETS.json  (ONSETS: [[rms_db, centroid, flatness_db], ...])",
              file=sys.stderr)
        return 2
    net = RemapNet.from_safetensors(sys.argv[1])
    with open(sys.argv[2]) as f:
        onsets = torch.tensor(json.load(f), dtype=torch.float64).reshape(-1, ONSET_FEATURES)
    with torch.no_grad():
        d = net.double()(onsets)
    print(json.dumps([[round(float(v), 7) for v in row] for row in d]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
