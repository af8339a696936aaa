"""Scores the experiment and benchmark scripts share, written here in numpy, apart from the losses
the engine optimises (so a result is judged by something it was not fitted to):

  read_wav(path)              mono float64 samples and rate of a 16-bit PCM or 32-bit float WAV
  logmel_distance(x, y, sr)   mean |log(mel_x + 1e-5) - log(mel_y + 1e-5)|: 64 HTK mel bands over
                              20 Hz .. sr / 2, periodic Hann FFT 1024, hop 256, centred frames,
                              power spectra; the shorter signal is zero-padded
  onset_baseline(x, sr)       the reference a match must beat: the recording's first 25 ms, then
                              silence
"""
import numpy as np


def read_wav(path):
    data = open(path, "rb").read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/WAVE file")
    off, fmt, rate, ch, bits = 12, 1, 16000, 1, 16
    while off + 8 <= len(data):
        cid, size = data[off:off + 4], int.from_bytes(data[off + 4:off + 8], "little")
        body = data[off + 8:off + 8 + size]
        if cid == b"fmt ":
            fmt, ch = int.from_bytes(body[0:2], "little"), int.from_bytes(body[2:4], "little")
            rate, bits = int.from_bytes(body[4:8], "little"), int.from_bytes(body[14:16], "little")
            if fmt == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the sub-format's tag
                fmt = int.from_bytes(body[24:26], "little")
        elif cid == b"data":
            if fmt == 3 and bits == 32:
                x = np.frombuffer(body[: len(body) // 4 * 4], dtype="<f4").astype(np.float64)
            elif fmt == 1 and bits == 16:
                x = np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2").astype(np.float64) / 32768
            else:
                raise ValueError(f"{path}: unsupported WAV (format {fmt}, {bits} bits)")
            return x[: len(x) // ch * ch].reshape(-1, ch).mean(axis=1), rate
        off += 8 + size + (size & 1)
    raise ValueError(f"{path}: no data chunk")


def mel_filterbank(n_fft, rate, bands=64, fmin=20.0, fmax=None):
    fmax = fmax or rate / 2
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)
    edges = hz(np.linspace(mel(fmin), mel(fmax), bands + 2))
    freqs = np.arange(n_fft // 2 + 1) * rate / n_fft
    fb = np.zeros((bands, len(freqs)))
    for b in range(bands):
        lo, c, hi = edges[b], edges[b + 1], edges[b + 2]
        fb[b] = np.clip(np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)), 0, None)
    return fb


def logmel_distance(x, y, rate, n_fft=1024, hop=256):
    n = max(len(x), len(y))
    x, y = np.pad(x, (0, n - len(x))), np.pad(y, (0, n - len(y)))
    win = np.hanning(n_fft + 1)[:-1]
    fb = mel_filterbank(n_fft, rate)

    def spec(s):
        s = np.pad(s, (n_fft // 2, n_fft // 2))
        frames = np.array([s[i:i + n_fft] * win for i in range(0, len(s) - n_fft + 1, hop)])
        return fb @ (np.abs(np.fft.rfft(frames, axis=1)) ** 2).T

    return float(np.mean(np.abs(np.log(spec(x) + 1e-5) - np.log(spec(y) + 1e-5))))


def onset_baseline(x, rate, seconds=0.025):
    y = np.zeros_like(x)
    k = min(len(x), int(round(seconds * rate)))
    y[:k] = x[:k]
    return y
