"""PyTorch reference of ddsp.cpp's DDSP autoencoder (src/nn/): loads the same safetensors files and
reproduces the C++ encoder, decoder and synthesiser in float32, differentiably.

For people who train larger models elsewhere: load a ddsp.cpp model, fine-tune or extend it in
PyTorch, and write it back in the same format (`to_safetensors`) for the ddsp CLI and the browser.
tests/golden/autoencoder_golden.safetensors is made with this module (python/make_golden.py) and
checked by tests/test_autoencoder_golden.cpp, so the C++ tests need no PyTorch.

    sys.path.insert(0, "python")                           # from the repository root
    from ddsp_torch import DdspAutoencoder
    model = DdspAutoencoder.from_safetensors("assets/models/ddsp_gm8.safetensors")
    mu, log_var = model.encode(mfcc)                       # mfcc: (frames, 30) or (batch, frames, 30)
    audio = model.decode(f0_hz, loudness_db, mu, 16000)    # f0_hz, loudness_db: (16000 // hop + 1,)
    c = model.decode(f0_hz, loudness_db, mu, 16000, controls=True)  # + amplitude, distribution...
    audio, kl = model(mfcc, f0_hz, loudness_db, 16000, eps=torch.randn(8))  # a training pass
    model.to_safetensors("mine.safetensors")               # loads in `ddsp autoencode` and the studio

Only torch and numpy are needed (the safetensors reader and writer are here; a file loaded and
written back is byte-identical). Every input may carry a leading batch dimension; without one the
outputs have none either. The conditioning is the C++'s (nn/conditioning.h: YIN f0, A-weighted
loudness and dsp/mfcc.h MFCCs per frame); it is not recomputed here. Measured agreement with the
C++ on the golden: outputs and gradients within 3e-6 of each tensor's largest value.

Conventions mirrored from the C++ (keep in step with the files named):
- Layouts (nn/layers.h): the file stores Linear weights as in x out and GRU weights as w_i (I x 3H),
  w_h (H x 3H), the transposes of torch's; biases and LayerNorm parameters as 1 x n rows; the reverb
  IR as a taps x 1 column. GRU gates r, z, n as torch's. LayerNorm eps 1e-5, leaky ReLU slope 0.01.
- Encoder (nn/encoder.h): LayerNorm -> Linear -> GRU (h0 = 0) -> mean over frames -> Linear;
  mu = first z_dims outputs, log_var = the rest.
- Decoder (nn/decoder.h): inputs hz_to_midi(f0) / 127 (midi clamped at 0), loudness_db / 80 + 1,
  optional hz_to_midi(centroid) / 127, z; each through its MLP (Linear -> LayerNorm -> leaky ReLU);
  GRU over their concatenation, then MLP and Linear over [gru, inputs...]; controls by exp_sigmoid
  (2 sigmoid(x)^ln 10 + 1e-7), noise bands from out - 5.
- Frames (synth/ddsp_synth.h): hop = round(sample_rate / frame_rate), frames = num_samples // hop + 1,
  frame f on sample f * hop; amplitudes and f0 interpolate linearly between frames, and samples
  after the last frame hold it.
- harmonic_synth: f0 clamped to [1 Hz, 0.49 sr]; harmonics k with k f0 >= sr / 2 removed per frame
  before normalising the distribution to sum 1; per sample, partials at or above Nyquist are silent;
  phase = running sum of 2 pi f0 / sr from the first sample, in float64 (the C++ wraps it every
  sample, this wraps the cumulative sum: they differ by ~1e-11).
- frequency_filter: per frame, irfft of the band magnitudes (N = 2 (bands - 1) taps), rotated by N/2
  and Hann-windowed (periodic); block f = samples [f hop - hop//2, (f + 1) hop - hop//2) (first block
  from 0, last to the end) convolved with it, overlap-added and advanced by N/2.
- Noise: uniform [-1, 1) white noise from std::mt19937_64 seeded with noise_seed (dsp::Rng), bit-exact.
- Reverb: audio = dry + (dry * ir)[:num_samples], the IR's first tap held at 0.
"""

import functools
import json
import math
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT = "ddsp.cpp/autoencoder/1"

# Defaults of nn::AutoencoderConfig / nn::DecoderConfig (a key missing from a file takes these).
DEFAULT_CONFIG = {
    "z_dims": 8, "hidden": 64, "mlp_layers": 2, "gru_units": 64, "harmonics": 60, "noise_bands": 65,
    "sample_rate": 16000.0, "frame_rate": 250.0, "use_noise": True, "use_reverb": False,
    "reverb_seconds": 0.5, "use_centroid": False, "noise_seed": 0, "encoder_hidden": 64,
    "mfcc_coefficients": 30, "mfcc_hop": 256, "kl_weight": 0.01,
}


# [SECTION] safetensors (float32 only; the same bytes as nn::safetensors_encode)

def read_safetensors(path):
    """-> ({name: float32 ndarray}, {metadata key: str}). Accepts F32 and F64 tensors."""
    with open(path, "rb") as f:
        raw = f.read()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_len].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    buffer = memoryview(raw)[8 + header_len:]
    dtypes = {"F32": "<f4", "F64": "<f8"}
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in dtypes:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']} (F32 or F64 expected)")
        begin, end = info["data_offsets"]
        data = np.frombuffer(buffer[begin:end], dtype=dtypes[info["dtype"]])
        tensors[name] = data.astype(np.float32).reshape(info["shape"])
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes float32 tensors sorted by name, metadata first, header padded to 8 bytes with spaces."""
    parts = []
    if metadata:
        items = ",".join(_quote(k) + ":" + _quote(str(v)) for k, v in sorted(metadata.items()))
        parts.append('"__metadata__":{' + items + "}")
    offset, blobs = 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        shape = ",".join(str(d) for d in a.shape)
        offsets = f"{offset},{offset + a.nbytes}"
        parts.append(f'{_quote(name)}:{{"dtype":"F32","shape":[{shape}],"data_offsets":[{offsets}]}}')
        offset += a.nbytes
        blobs.append(a.tobytes())
    header = "{" + ",".join(parts) + "}"
    header += " " * ((8 - len(header.encode("utf-8")) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header.encode("utf-8"))))
        f.write(header.encode("utf-8"))
        f.write(b"".join(blobs))


def _quote(s):
    return json.dumps(s, ensure_ascii=False)


# [SECTION] dsp::Rng: std::mt19937_64 (its output is fixed by the C++ standard) and uniform(lo, hi)

class Mt19937_64:
    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.mt = [seed & self.MASK]
        for i in range(1, 312):
            prev = self.mt[-1]
            self.mt.append((6364136223846793005 * (prev ^ (prev >> 62)) + i) & self.MASK)
        self.index = 312

    def _twist(self):
        mt = self.mt
        for i in range(312):
            x = (mt[i] & 0xFFFFFFFF80000000) | (mt[(i + 1) % 312] & 0x7FFFFFFF)
            mt[i] = mt[(i + 156) % 312] ^ (x >> 1) ^ (0xB5026F5AA96619E9 if x & 1 else 0)
        self.index = 0

    def next_u64(self):
        if self.index >= 312:
            self._twist()
        y = self.mt[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        return y ^ (y >> 43)


@functools.lru_cache(maxsize=8)
def uniform_noise(seed, num_samples):
    """The decoder's white noise: dsp::Rng(seed).uniform(-1, 1) per sample (double), stored as float."""
    rng = Mt19937_64(seed)
    u = [(rng.next_u64() >> 11) * (1.0 / 9007199254740992.0) for _ in range(num_samples)]
    return np.asarray([-1.0 + 2.0 * v for v in u], dtype=np.float32)


# [SECTION] building blocks

def exp_sigmoid(x, exponent=10.0, max_value=2.0, threshold=1e-7):
    """DDSP's exp_sigmoid: max_value * sigmoid(x) ** ln(exponent) + threshold (ad::exp_sigmoid)."""
    softplus = torch.relu(-x) + torch.log1p(torch.exp(-x.abs()))  # of -x, stable for any x
    return max_value * torch.exp(-math.log(exponent) * softplus) + threshold


def hz_to_midi_scaled(f0_hz):
    """DDSP's f0 input scaling, hz_to_midi(f) / 127 with midi clamped at 0 (in float64, as the C++)."""
    f = f0_hz.double()
    midi = torch.where(f > 0, 12 * torch.log2(f.clamp(min=1e-30) / 440.0) + 69, torch.zeros_like(f))
    return (midi.clamp(min=0) / 127.0).float()


def _lround(x):
    return int(math.floor(x + 0.5))  # std::lround for positive x (Python's round() is half-to-even)


def _next_pow2(n):
    return 1 << max(1, (n - 1).bit_length())


def _interpolation_grid(num_samples, hop, frames):
    """Per sample: the earlier frame s, the later frame s1 and the weight of s1 (float32, as the C++)."""
    i = np.arange(num_samples)
    s = np.minimum(i // hop, max(1, frames - 1) - 1)
    w = np.minimum(1.0, (i - s * hop) / hop) if frames > 1 else np.zeros(num_samples)
    return s, np.minimum(s + 1, frames - 1), w.astype(np.float32)


def harmonic_synth(amplitude, distribution, f0_hz, sample_rate, num_samples, hop):
    """synth::harmonic_synth. amplitude (B, F), distribution (B, F, K) > 0, f0_hz (B, F) -> (B, n)."""
    frames, harmonics = distribution.shape[-2:]
    nyquist = sample_rate / 2
    f0 = f0_hz.float().clamp(1.0, float(np.float32(0.49 * sample_rate)))
    k = torch.arange(1, harmonics + 1, dtype=torch.float64)
    kept = distribution * (k * f0.double()[..., None] < nyquist).float()
    amps = kept * (amplitude[..., None] / kept.sum(-1, keepdim=True))

    # The sines depend on f0 only (data, not a parameter): float64 without gradient, then float32.
    s, s1, w = (torch.from_numpy(a) for a in _interpolation_grid(num_samples, hop, frames))
    with torch.no_grad():
        w64 = w.double()
        f0_samples = (1 - w64) * f0.double()[:, s] + w64 * f0.double()[:, s1]  # (B, n)
        phase = torch.remainder(torch.cumsum(2 * math.pi * f0_samples / sample_rate, dim=-1), 2 * math.pi)
        audible = k * f0_samples[..., None] < nyquist
        sines = (torch.sin(phase[..., None] * k) * audible).float()  # (B, n, K)
    w32 = w[:, None]
    a0, a1 = amps[:, s], amps[:, s1]
    return (sines * (a0 + w32 * (a1 - a0))).sum(-1)


@functools.lru_cache(maxsize=8)
def _filter_blocks(num_samples, hop, frames):
    starts = [0] + [min(max(f * hop - hop // 2, 0), num_samples) for f in range(1, frames)] + [num_samples]
    return np.asarray(starts[:-1]), np.diff(starts)


def frequency_filter(x, magnitudes, hop):
    """synth::frequency_filter. x (B, n), magnitudes (B, F, bands) -> (B, n)."""
    batch, n = x.shape
    frames, bands = magnitudes.shape[-2:]
    taps = 2 * (bands - 1)
    half = taps // 2
    ir = torch.fft.irfft(magnitudes.to(torch.complex64), n=taps)  # zero-phase, (B, F, taps)
    j = torch.arange(taps, dtype=torch.float64)
    hann = (0.5 - 0.5 * torch.cos(2 * math.pi * j / taps)).float()
    fir = torch.roll(ir, shifts=-half, dims=-1) * hann  # causal, centred on tap N/2

    starts, lengths = _filter_blocks(n, hop, frames)
    longest = int(lengths.max())
    i = np.arange(longest)
    index = torch.from_numpy(np.minimum(starts[:, None] + i, n - 1))
    inside = torch.from_numpy(i < lengths[:, None]).float()
    blocks = x[:, index] * inside  # (B, F, longest), zero past each block
    size = _next_pow2(longest + taps - 1)
    y = torch.fft.irfft(torch.fft.rfft(blocks, size) * torch.fft.rfft(fir, size), size)

    # Overlap-add: block f's output sample i lands on starts[f] - N/2 + i when inside the clip.
    span = longest + taps - 1
    i = np.arange(span)
    where = starts[:, None] - half + i
    keep = (i < lengths[:, None] + taps - 1) & (where >= 0) & (where < n)
    source = y[..., :span][:, torch.from_numpy(keep)]  # (B, kept)
    return x.new_zeros(batch, n).index_add(1, torch.from_numpy(where[keep]), source)


def fft_convolve(x, h):
    """ad::fft_convolve: y[t] = sum_k h[k] x[t - k] for t < n. x (B, n), h (K,) -> (B, n)."""
    n = x.shape[-1]
    size = _next_pow2(n + h.shape[-1] - 1)
    return torch.fft.irfft(torch.fft.rfft(x, size) * torch.fft.rfft(h, size), size)[..., :n]


# [SECTION] networks

class Mlp(nn.Module):
    """DDSP's fc_stack: layers x (Linear -> LayerNorm -> leaky ReLU)."""

    def __init__(self, in_features, hidden, layers):
        super().__init__()
        widths = [in_features] + [hidden] * (layers - 1)
        self.linears = nn.ModuleList(nn.Linear(w, hidden) for w in widths)
        self.norms = nn.ModuleList(nn.LayerNorm(hidden, eps=1e-5) for _ in range(layers))
        self.slope = 0.01  # nn::Mlp's leaky ReLU slope

    def forward(self, x):
        for linear, norm in zip(self.linears, self.norms):
            x = F.leaky_relu(norm(linear(x)), self.slope)
        return x

    def file_names(self, prefix):
        for i, (linear, norm) in enumerate(zip(self.linears, self.norms)):
            yield from _linear_names(f"{prefix}.{i}.linear", linear)
            yield from _norm_names(f"{prefix}.{i}.norm", norm)


# (file name, torch parameter, layout in the file: "t" transposed, "row" 1 x n, "col" n x 1)
def _linear_names(prefix, m):
    return [(prefix + ".w", m.weight, "t"), (prefix + ".b", m.bias, "row")]


def _norm_names(prefix, m):
    return [(prefix + ".gain", m.weight, "row"), (prefix + ".bias", m.bias, "row")]


def _gru_names(prefix, m):
    return [(prefix + ".w_i", m.weight_ih_l0, "t"), (prefix + ".w_h", m.weight_hh_l0, "t"),
            (prefix + ".b_i", m.bias_ih_l0, "row"), (prefix + ".b_h", m.bias_hh_l0, "row")]


def load_file_tensors(names, tensors):
    """Sets each parameter of `names` ((file name, parameter, layout) triples) from {file name:
    ndarray}; the names and shapes must match exactly."""
    missing = sorted({n for n, _, _ in names} - set(tensors))
    extra = sorted(set(tensors) - {n for n, _, _ in names})
    if missing or extra:
        raise ValueError(f"model: missing {missing}, unknown {extra}")
    with torch.no_grad():
        for name, param, layout in names:
            value = torch.from_numpy(np.array(tensors[name], dtype=np.float32))
            value = value.t() if layout == "t" else value.reshape(-1)
            if value.shape != param.shape:
                raise ValueError(f"model: {name} has the wrong shape {list(tensors[name].shape)}")
            param.copy_(value)


def file_tensors(names, grads=False):
    """{file name: float32 ndarray in the file's layout} of the parameters of `names` (or of their .grad)."""
    out = {}
    for name, param, layout in names:
        p = (param.grad if grads else param).detach().cpu().float()
        shaped = p.t() if layout == "t" else p.reshape(1, -1) if layout == "row" else p.reshape(-1, 1)
        out[name] = shaped.numpy()
    return out


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, h, z = cfg["mfcc_coefficients"], cfg["encoder_hidden"], cfg["z_dims"]
        self.z_dims = z
        self.norm = nn.LayerNorm(c, eps=1e-5)
        self.inp = nn.Linear(c, h)
        self.gru = nn.GRU(h, h, batch_first=True)
        self.out = nn.Linear(h, 2 * z)

    def forward(self, mfcc):
        """mfcc (B, frames, C) -> mu, log_var (B, z_dims)."""
        h, _ = self.gru(self.inp(self.norm(mfcc)))
        out = self.out(h.mean(dim=1))
        return out[:, :self.z_dims], out[:, self.z_dims:]

    def file_names(self):
        return (_norm_names("encoder.norm", self.norm) + _linear_names("encoder.in", self.inp) +
                _gru_names("encoder.gru", self.gru) + _linear_names("encoder.out", self.out))


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        h, layers = cfg["hidden"], cfg["mlp_layers"]
        self.sample_rate = float(cfg["sample_rate"])
        self.hop = max(1, _lround(self.sample_rate / cfg["frame_rate"]))
        self.f0_mlp = Mlp(1, h, layers)
        self.loudness_mlp = Mlp(1, h, layers)
        self.centroid_mlp = Mlp(1, h, layers) if cfg["use_centroid"] else None
        self.z_mlp = Mlp(cfg["z_dims"], h, layers) if cfg["z_dims"] > 0 else None
        inputs = 2 + (self.centroid_mlp is not None) + (self.z_mlp is not None)
        self.gru = nn.GRU(inputs * h, cfg["gru_units"], batch_first=True)
        self.out_mlp = Mlp(inputs * h + cfg["gru_units"], h, layers)
        self.out = nn.Linear(h, 1 + cfg["harmonics"] + (cfg["noise_bands"] if cfg["use_noise"] else 0))
        self.reverb_ir = None
        if cfg["use_reverb"]:
            taps = _lround(cfg["reverb_seconds"] * self.sample_rate)
            self.reverb_ir = nn.Parameter(torch.empty(taps).uniform_(-1e-4, 1e-4))

    def num_frames(self, num_samples):
        return num_samples // self.hop + 1

    def forward(self, f0_hz, loudness_db, z, num_samples, centroid_hz=None):
        """f0_hz, loudness_db, centroid_hz (B, frames), z (B, z_dims) -> dict of (B, ...) tensors:
        amplitude (B, F), distribution (B, F, K), noise_magnitudes (B, F, bands), dry and audio (B, n)."""
        cfg, frames = self.cfg, self.num_frames(num_samples)
        if f0_hz.shape[-1] != frames or loudness_db.shape[-1] != frames:
            raise ValueError(f"decoder: f0 and loudness need num_samples // hop + 1 = {frames} frames")
        features = [self.f0_mlp(hz_to_midi_scaled(f0_hz)[..., None]),
                    self.loudness_mlp((loudness_db.double() / 80.0 + 1.0).float()[..., None])]
        if self.centroid_mlp is not None:
            if centroid_hz is None or centroid_hz.shape[-1] != frames:
                raise ValueError(f"decoder: this model needs centroid_hz with {frames} frames")
            features.append(self.centroid_mlp(hz_to_midi_scaled(centroid_hz)[..., None]))
        if self.z_mlp is not None:
            features.append(self.z_mlp(z)[:, None, :].expand(-1, frames, -1))
        hidden, _ = self.gru(torch.cat(features, dim=-1))
        out = self.out(self.out_mlp(torch.cat([hidden] + features, dim=-1)))

        k = cfg["harmonics"]
        result = {"amplitude": exp_sigmoid(out[..., 0]), "distribution": exp_sigmoid(out[..., 1:1 + k])}
        audio = harmonic_synth(result["amplitude"], result["distribution"], f0_hz, self.sample_rate,
                               num_samples, self.hop)
        if cfg["use_noise"]:
            result["noise_magnitudes"] = exp_sigmoid(out[..., 1 + k:] - 5.0)
            noise = torch.from_numpy(uniform_noise(int(cfg["noise_seed"]), num_samples))
            noise = noise.expand(audio.shape[0], -1)
            audio = audio + frequency_filter(noise, result["noise_magnitudes"], self.hop)
        result["dry"] = audio
        if self.reverb_ir is not None:
            first_tap_off = torch.ones_like(self.reverb_ir)
            first_tap_off[0] = 0
            audio = audio + fft_convolve(audio, self.reverb_ir * first_tap_off)
        result["audio"] = audio
        return result

    def file_names(self):
        names = []
        for name in ("f0_mlp", "loudness_mlp", "centroid_mlp", "z_mlp", "out_mlp"):
            if getattr(self, name) is not None:
                names += list(getattr(self, name).file_names("decoder." + name))
        names += _gru_names("decoder.gru", self.gru) + _linear_names("decoder.out", self.out)
        if self.reverb_ir is not None:
            names.append(("decoder.reverb.ir", self.reverb_ir, "col"))
        return names


# [SECTION] the autoencoder

def _batched(x, dims):
    """-> (tensor with a batch dimension, whether one was added)."""
    x = torch.as_tensor(x, dtype=torch.float32)
    return (x.unsqueeze(0), True) if x.dim() == dims else (x, False)


class DdspAutoencoder(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        unknown = set(self.config) - set(DEFAULT_CONFIG)
        if unknown:
            raise ValueError(f"model config: unknown keys {sorted(unknown)}")
        if self.config["z_dims"] < 1:
            raise ValueError("model config: the autoencoder needs z_dims >= 1")
        self.encoder = Encoder(self.config)
        self.decoder = Decoder(self.config)
        self.metadata = {}  # a loaded file's metadata, written back by to_safetensors

    @classmethod
    def from_safetensors(cls, path):
        tensors, metadata = read_safetensors(path)
        if metadata.get("format") != FORMAT:
            raise ValueError(f"{path}: not a ddsp.cpp autoencoder file (metadata format != {FORMAT})")
        model = cls(json.loads(metadata["config"]))
        model.metadata = metadata
        model.load_file_tensors(tensors)
        return model

    def file_names(self):
        return self.encoder.file_names() + self.decoder.file_names()

    def load_file_tensors(self, tensors):
        """Sets every parameter from {file name: ndarray}; names and shapes must match exactly."""
        load_file_tensors(self.file_names(), tensors)

    def file_tensors(self, grads=False):
        """{file name: ndarray in the file's layout} of the parameters (or of their .grad)."""
        return file_tensors(self.file_names(), grads)

    def to_safetensors(self, path, extra_metadata=None):
        """Writes the model in the C++ format (loads in nn::load_autoencoder). Keeps metadata read
        from the source file (training step, latent space...) unless extra_metadata replaces it."""
        metadata = dict(self.metadata, **(extra_metadata or {}))
        metadata["format"] = FORMAT
        metadata["config"] = _config_json(self.config)
        write_safetensors(path, self.file_tensors(), metadata)

    def encode(self, mfcc):
        """mfcc (frames, C) or (B, frames, C) -> (mu, log_var), each (z_dims,) or (B, z_dims)."""
        x, added = _batched(mfcc, 2)
        mu, log_var = self.encoder(x)
        return (mu[0], log_var[0]) if added else (mu, log_var)

    def decode(self, f0_hz, loudness_db, z, num_samples, centroid_hz=None, controls=False):
        """Per-frame f0_hz, loudness_db (frames,) or (B, frames), z (z_dims,) or (B, z_dims) -> audio
        (num_samples,) or (B, num_samples); with controls=True the dict of Decoder.forward instead."""
        f0, added = _batched(f0_hz, 1)
        loudness, _ = _batched(loudness_db, 1)
        zb, _ = _batched(z, 1)
        centroid = _batched(centroid_hz, 1)[0] if centroid_hz is not None else None
        out = self.decoder(f0, loudness, zb, num_samples, centroid)
        if added:
            out = {k: v[0] for k, v in out.items()}
        return out if controls else out["audio"]

    def forward(self, mfcc, f0_hz, loudness_db, num_samples, centroid_hz=None, eps=None):
        """Training pass: z = mu + exp(log_var / 2) eps (eps None: z = mu) -> (audio, kl) with
        kl = 0.5 sum(mu^2 + exp(log_var) - log_var - 1) per clip. Loss: MR-STFT + kl_weight * kl."""
        mu, log_var = self.encode(mfcc)
        z = mu if eps is None else mu + torch.exp(0.5 * log_var) * eps
        kl = 0.5 * (mu.square() + log_var.exp() - log_var - 1).sum(-1)
        return self.decode(f0_hz, loudness_db, z, num_samples, centroid_hz), kl


def json_number(v):
    """util::json_number: integers without a decimal point, otherwise 9 significant digits."""
    if not math.isfinite(v):
        return "null"
    if float(v) == math.floor(v) and abs(v) < 1e15:
        return str(int(v))  # -0 too: "0"
    return f"{v:.9g}"


def _config_json(cfg):
    """nn::autoencoder_config_json's key order and number style (integers without a decimal point)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        return json_number(v)
    return "{" + ", ".join(f'"{k}": {value(cfg[k])}' for k in DEFAULT_CONFIG) + "}"
