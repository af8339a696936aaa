#!/usr/bin/python3
"""PyTorch reference of ddsp.cpp's DiffKS string autoencoder's encoder (src/nn/ks_autoencoder.h):
loads a model file written by `ddsp train --model ks-ae` and reproduces the C++ encode(), from a
clip's MFCC frames and its pitch to the ks synth's unconstrained parameter vector u, and the map
from u to physical values (synth::to_physical with the ks table).

    sys.path.insert(0, "python")                           # from the repository root
    from ks_ae_torch import KsAutoencoder
    model = KsAutoencoder.from_safetensors("out/model.safetensors").double()
    u = model(features, 196.0)        # features: (frames, 30) MFCCs as nn::KsAutoencoder::features
    values = model.to_physical(u)     # {"f0_hz": [196.0], "decay_s": [16 values], ...}
    model.to_safetensors("mine.safetensors")   # loads in `ddsp match --method amortised --model`

tests/golden/ks_ae_golden.safetensors is made with this module (python/make_ks_ae_golden.py) and
checked by tests/test_ks_ae_golden.cpp. The MFCCs themselves (dsp/mfcc.h) are not recomputed here.

Conventions mirrored from the C++ (keep in step with src/nn/ks_autoencoder.cpp, nn/layers.h,
synth/ks.cpp's param_table and ad::bounded_value / unbounded_value):
- File: safetensors, float32; Linear weights in x out (torch's transposed), biases 1 x n rows, GRU
  w_i (I x 3H), w_h (H x 3H), b_i, b_h (1 x 3H), gates r, z, n as torch's; names ks_encoder.in,
  ks_encoder.gru, ks_encoder.frame, ks_encoder.global. Metadata "format" "ddsp.cpp/ks-ae/1" and
  "config" (variant, sample_rate, seconds, mfcc_coefficients, hop, hidden, loop_order K,
  control_frames F, exc_order E, exc_ms).
- Encoder: x = [0.05 * MFCCs | log2(max(1, f0) / 220)] (frames x C + 1) -> Linear -> GRU (h0 = 0)
  -> h (T x H). Frame head: row f of the F control frames averages frames floor(f T / F) ..
  floor((f + 1) T / F) - 1 (at least one frame: T < F repeats frames) -> Linear (H -> K + 2):
  decay_s and loop_tap0..K of that control frame. Global head: the mean of h over all frames ->
  Linear (H -> E + 1): exc_reflection (E), exc_gain_db.
- u in the ks table's order: f0_hz (1: the given f0 clamped to the table's range and mapped by its
  scale, not predicted), decay_s (F), loop_tap0..loop_tapK (F each), exc_reflection (E),
  exc_gain_db (1), residual_mix (1: its default 0 mapped, i.e. logit(1e-6)).
- The ks table without a recording (oversample 1): f0_hz 30 .. max(45, min(4200, sr / 8, 0.4 sr))
  Hz log (default 220 clamped), decay_s 0.02 .. 30 s log (2), loop_tapk 1e-4 .. 1 log
  (binomial(K, k) / 2^K), exc_reflection -0.95 .. 0.95 linear (0), exc_gain_db -60 .. 12 linear
  (-20), residual_mix 0 .. 1 linear (0).
- Scale maps: value = min + (max - min) s (linear) or exp(log min + (log max - log min) s) (log),
  s = sigmoid(u); the inverse clamps s to [1e-6, 1 - 1e-6] (a non-finite s counts as 0.5).
The C++ runs in float32; forward runs in the weights' dtype (.double() for a float64 reference).
"""

import json
import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddsp_torch import (_gru_names, _linear_names, file_tensors, json_number, load_file_tensors,  # noqa: E402
                        read_safetensors, write_safetensors)

FORMAT = "ddsp.cpp/ks-ae/1"
MFCC_SCALE = 0.05  # kMfccScale
VARIANTS = ("meta", "tracker", "sup")
# nn::parse_ks_autoencoder_config's keys (in ks_autoencoder_config_json's order after "variant")
# and ranges; the integer ones are truncated.
CONFIG_RANGES = {"sample_rate": (8000, 96000), "seconds": (0.1, 10), "mfcc_coefficients": (1, 128), "hop": (16, 4096),
                 "hidden": (1, 1024), "loop_order": (1, 4), "control_frames": (1, 256), "exc_order": (1, 12),
                 "exc_ms": (1, 1000)}
INTEGER_KEYS = ("mfcc_coefficients", "hop", "hidden", "loop_order", "control_frames", "exc_order")


# [SECTION] the ks table and its scale maps

def bounded_value(u, lo, hi, scale):
    """ad::bounded_value: unconstrained u -> [lo, hi] (float64)."""
    s = 1.0 / (1.0 + math.exp(-u)) if u > -700 else 0.0
    if scale == "log":
        return math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * s)
    return lo + (hi - lo) * s


def unbounded_value(value, lo, hi, scale):
    """ad::unbounded_value: the inverse, with s clamped to [1e-6, 1 - 1e-6]."""
    if scale == "log":
        s = (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo)) if value > 0 else -math.inf
    else:
        s = (value - lo) / (hi - lo)
    if not math.isfinite(s):
        s = 0.5
    s = min(max(s, 1e-6), 1.0 - 1e-6)
    return math.log(s / (1.0 - s))


def ks_param_table(config):
    """The ks synth's table without a recording: [(name, min, max, default, scale, size)]."""
    sr, K, F, E = config["sample_rate"], config["loop_order"], config["control_frames"], config["exc_order"]
    f0_hi = max(30 * 1.5, min(4200.0, sr / 8, 0.4 * sr))  # KsSynth::f0_max_hz, oversample 1
    table = [("f0_hz", 30.0, f0_hi, min(max(220.0, 30.0), f0_hi), "log", 1),
             ("decay_s", 0.02, 30.0, 2.0, "log", F)]
    table += [(f"loop_tap{k}", 1e-4, 1.0, math.comb(K, k) / 2.0 ** K, "log", F) for k in range(K + 1)]
    table += [("exc_reflection", -0.95, 0.95, 0.0, "linear", E), ("exc_gain_db", -60.0, 12.0, -20.0, "linear", 1),
              ("residual_mix", 0.0, 1.0, 0.0, "linear", 1)]
    return table


def parse_config(text):
    """nn::parse_ks_autoencoder_config: -> dict (ValueError on a bad config)."""
    c = json.loads(text)
    if not isinstance(c, dict):
        raise ValueError("the config is not a JSON object")
    if c.get("variant") not in VARIANTS:
        raise ValueError("config: no variant or an unknown one")
    out = {"variant": c["variant"]}
    for key, (lo, hi) in CONFIG_RANGES.items():
        v = c.get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo <= v <= hi:
            raise ValueError(f"config: '{key}' missing or out of range")
        out[key] = int(v) if key in INTEGER_KEYS else float(v)
    return out


def config_json(c):
    """nn::ks_autoencoder_config_json's text."""
    return "{" + ", ".join([f'"variant": {json.dumps(c["variant"])}'] +
                           [f'"{k}": {json_number(c[k])}' for k in CONFIG_RANGES]) + "}"


def pooling(frames_out, frames_in, dtype=torch.float64):
    """(F, T): row f averages the frames of the f-th of F equal spans of T (at least one frame)."""
    p = torch.zeros(frames_out, frames_in, dtype=dtype)
    for f in range(frames_out):
        a = min(f * frames_in // frames_out, frames_in - 1)
        b = max((f + 1) * frames_in // frames_out, a + 1)
        p[f, a:b] = 1.0 / (b - a)
    return p


# [SECTION] the encoder

class KsAutoencoder(nn.Module):
    """MFCC frames + f0 -> the ks synth's unconstrained parameters u (nn::KsAutoencoder::encode)."""

    def __init__(self, config):
        super().__init__()
        self.config = dict(config)
        C, H = config["mfcc_coefficients"], config["hidden"]
        K, E = config["loop_order"], config["exc_order"]
        self.table = ks_param_table(config)
        self.num_params = sum(p[5] for p in self.table)
        self.inp = nn.Linear(C + 1, H)
        self.gru = nn.GRU(H, H, batch_first=True)
        self.frame = nn.Linear(H, K + 2)
        self.glob = nn.Linear(H, E + 1)
        self.mfcc_scale = MFCC_SCALE
        self.metadata = {}  # a loaded file's metadata, written back by to_safetensors

    @classmethod
    def from_safetensors(cls, path):
        tensors, metadata = read_safetensors(path)
        if metadata.get("format") != FORMAT:
            raise ValueError(f'{path}: not a ks autoencoder file (metadata "format" is not "{FORMAT}")')
        if "config" not in metadata:
            raise ValueError(f'{path}: the model file has no "config" metadata')
        model = cls(parse_config(metadata["config"]))
        load_file_tensors(model.file_names(), {k: v for k, v in tensors.items() if not k.startswith("adam.")})
        model.metadata = metadata
        return model

    def file_names(self):
        return (_linear_names("ks_encoder.in", self.inp) + _gru_names("ks_encoder.gru", self.gru) +
                _linear_names("ks_encoder.frame", self.frame) + _linear_names("ks_encoder.global", self.glob))

    def to_safetensors(self, path):
        """Writes the model in the C++ format (a loaded file written back is byte-identical)."""
        metadata = dict(self.metadata, format=FORMAT, config=config_json(self.config))
        write_safetensors(path, file_tensors(self.file_names()), metadata)

    def forward(self, features, f0_hz):
        """features (T, C) or (B, T, C) MFCCs (unscaled), f0_hz a number or (B,) -> u (num_params,)
        or (B, num_params), in the weights' dtype."""
        dtype = self.inp.weight.dtype
        x = torch.as_tensor(features).to(dtype)
        batched = x.dim() == 3
        if not batched:
            x = x[None]
        B, T, C = x.shape
        if C != self.config["mfcc_coefficients"] or T < 1:
            raise ValueError(f"features must be frames x {self.config['mfcc_coefficients']}")
        f0 = [float(v) for v in torch.as_tensor(f0_hz, dtype=torch.float64).reshape(-1).expand(B)]
        pitch = torch.tensor([math.log2(max(1.0, f) / 220.0) for f in f0], dtype=dtype)
        h, _ = self.gru(self.inp(torch.cat([x * self.mfcc_scale, pitch[:, None, None].expand(B, T, 1)], -1)))
        frames = self.frame(pooling(self.config["control_frames"], T, dtype) @ h)  # (B, F, K + 2)
        glob = self.glob(h.mean(dim=1))                                             # (B, E + 1)
        name, lo, hi, _, scale, _ = self.table[0]
        f0u = torch.tensor([unbounded_value(min(max(f, lo), hi), lo, hi, scale) for f in f0], dtype=dtype)
        residual = [unbounded_value(p[3], p[1], p[2], p[4]) for p in self.table if p[0] == "residual_mix"]
        u = torch.cat([f0u[:, None], frames.transpose(1, 2).reshape(B, -1), glob,
                       torch.tensor(residual, dtype=dtype).expand(B, len(residual))], -1)
        return u if batched else u[0]

    def to_physical(self, u):
        """u (num_params,) -> {name: [physical values]} in the table's order (synth::to_physical)."""
        u = [float(v) for v in torch.as_tensor(u).reshape(-1)]
        if len(u) != self.num_params:
            raise ValueError(f"u has {len(u)} values, the ks table {self.num_params}")
        out, at = {}, 0
        for name, lo, hi, _, scale, size in self.table:
            out[name] = [bounded_value(v, lo, hi, scale) for v in u[at:at + size]]
            at += size
        return out

    def predicted(self):
        """Indices of u the encoder predicts (all but f0_hz and residual_mix)."""
        out, at = [], 0
        for name, *_, size in self.table:
            if name not in ("f0_hz", "residual_mix"):
                out += range(at, at + size)
            at += size
        return out
