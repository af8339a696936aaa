#!/usr/bin/python3
"""The timbre-remapping experiment (scripts/experiment-remap.sh): the paper's table on our data.

Performances, each 24 hits 0.4 s apart at random velocities (seeded):
  - General MIDI percussion from fluid-soundfont-gm (FluidR3_GM, channel 10) rendered with
    fluidsynth at velocities 20..127, one performance per instrument;
  - the Hydrogen Audiophob kit (hydrogen-drumkits, CC0): Snare Jazz, Snare Rock, Tom Low, Kick and
    Hand Clap, one performance per instrument. Every Audiophob instrument has a single layer, so a
    hit is the instrument's sample at a gain, as Hydrogen plays a single-layer instrument: velocity
    (20..127 / 127) times the instrument's volume and gains from drumkit.xml scales the sample;
    the timbre does not change with velocity;
  - the two bundled Audiophob snares (assets/sounds) alternating at five gains.
Every performance is remapped onto each of the 808's six presets with `ddsp remap-train` (which
trains linear, mlp and mlp-large and evaluates them, no modulation and direct optimisation on
every 4th hit, held out). Writes OUT/results.json and OUT/table.md (mean held-out error per
feature over all runs, and per performance). Warns when remap-train finds a number of hits other
than the 24 placed. Standard library only.

The kit's samples are read by read_wav (8/16/24/32-bit PCM and 32-bit float WAV, mono mixdown);
one of them (Snare Rock) is AIFF despite its .wav name, read with the standard library's aifc
where it exists (it was removed in Python 3.13: then the instrument is skipped with a message).
Samples not at 44.1 kHz (Snare Jazz: 22.05 kHz, 8-bit) are resampled by linear interpolation.
That leaves attenuated images above the source's Nyquist frequency, which is fine here: every hit
of a performance is the same resampled sample at another gain, so the images shift all hits'
brightness alike and the targets (each hit's difference from the performance's mean) do not see
them.
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys
import warnings
import wave
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_assets_helper import vlq  # noqa: E402

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
AUDIOPHOB = "/usr/share/hydrogen/data/drumkits/Audiophob"
H2_NS = {"h2": "http://www.hydrogen-music.org/drumkit"}
RATE = 44100
HITS = 24
SPACING_S = 0.4
PRESETS = ["snare_1", "snare_2", "snare_3", "open_snare", "noisy_snare", "tom"]
GM_DRUMS = [("gm_kick", 36), ("gm_snare", 38), ("gm_clap", 39), ("gm_low_tom", 45), ("gm_rimshot", 37)]
KIT_DRUMS = [("kit_snare_jazz", "Snare Jazz"), ("kit_snare_rock", "Snare Rock"), ("kit_tom_low", "Tom Low"),
             ("kit_kick", "Kick"), ("kit_clap", "Hand Clap")]
FEATURES = ["loudness_db", "centroid_oct", "flatness_db", "temporal_centroid_s"]
METHODS = ["none", "linear", "mlp", "mlp-large", "direct"]


def write_drum_midi(path, note, velocities, spacing_s=SPACING_S):
    tps = 960  # ticks per second at 120 bpm, 480 per quarter
    events = []
    for i, v in enumerate(velocities):
        t = round((0.1 + i * spacing_s) * tps)
        events.append((t, bytes([0x99, note, v])))
        events.append((t + round(0.2 * tps), bytes([0x89, note, 0])))
    events.sort(key=lambda e: e[0])
    track = bytearray(b"\x00\xff\x51\x03\x07\xa1\x20")
    last = 0
    for tick, msg in events:
        track += vlq(tick - last) + msg
        last = tick
    end = round((0.1 + len(velocities) * spacing_s + 0.5) * tps)
    track += vlq(end - last) + b"\xff\x2f\x00"
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480))
        f.write(b"MTrk" + struct.pack(">I", len(track)) + track)


# [SECTION] audio files

def decode_pcm(raw, width, channels, big_endian=False, unsigned8=True):
    """Interleaved integer PCM -> mono floats in [-1, 1) (channel mean)."""
    n = len(raw) // width
    if width == 1:
        x = [(b - 128) / 128 for b in raw[:n]] if unsigned8 else [v / 128 for v in struct.unpack("%db" % n, raw[:n])]
    elif width in (2, 4):
        x = struct.unpack(("<>"[big_endian]) + "%d%s" % (n, "h" if width == 2 else "i"), raw[:n * width])
        x = [v / (1 << (8 * width - 1)) for v in x]
    elif width == 3:
        order = "big" if big_endian else "little"
        x = [int.from_bytes(raw[3 * i:3 * i + 3], order, signed=True) / (1 << 23) for i in range(n)]
    else:
        raise ValueError(f"{8 * width}-bit PCM")
    return mix_mono(x, channels)


def mix_mono(x, channels):
    if channels == 1:
        return list(x)
    return [sum(x[i:i + channels]) / channels for i in range(0, len(x) - channels + 1, channels)]


def read_wav(path):
    """A RIFF/WAVE file (PCM 8/16/24/32-bit or 32-bit float, also as WAVE_FORMAT_EXTENSIBLE)
    -> (mono samples, sample rate)."""
    data = open(path, "rb").read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    off, fmt = 12, None
    while off + 8 <= len(data):
        cid, size = data[off:off + 4], struct.unpack("<I", data[off + 4:off + 8])[0]
        body = data[off + 8:off + 8 + size]
        if cid == b"fmt ":
            tag, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if tag == 0xFFFE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID's first two bytes
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            if fmt is None:
                raise ValueError("data chunk before fmt chunk")
            tag, channels, rate, bits = fmt
            if tag == 1:
                return decode_pcm(body, bits // 8, channels), rate
            if tag == 3 and bits == 32:
                n = len(body) // 4
                return mix_mono(struct.unpack("<%df" % n, body[:4 * n]), channels), rate
            raise ValueError(f"unsupported WAV format (tag {tag}, {bits} bits)")
        off += 8 + size + (size & 1)
    raise ValueError("no data chunk")


def read_aiff(path):
    """An AIFF file through the standard library's aifc (deprecated in 3.11, removed in 3.13)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import aifc
    except ImportError:
        raise ValueError("AIFF, and this Python has no aifc module (removed in 3.13)")
    try:
        with aifc.open(path) as f:
            width, channels, rate = f.getsampwidth(), f.getnchannels(), f.getframerate()
            raw = f.readframes(f.getnframes())  # big-endian signed PCM (aifc byte-swaps 'sowt')
    except aifc.Error as e:
        raise ValueError(f"AIFF: {e}")
    return decode_pcm(raw, width, channels, big_endian=True, unsigned8=False), rate


def read_audio(path):
    head = open(path, "rb").read(12)
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return read_aiff(path)
    return read_wav(path)


def resample_linear(x, src_rate, dst_rate):
    if src_rate == dst_rate:
        return list(x)
    n = int(len(x) * dst_rate / src_rate)
    out = []
    for i in range(n):
        t = i * src_rate / dst_rate
        k = int(t)
        a = x[k]
        b = x[k + 1] if k + 1 < len(x) else 0.0
        out.append(a + (t - k) * (b - a))
    return out


def write_mono16(path, x):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, int(v * 32767)))) for v in x))


def read_mono16(path):
    with wave.open(path) as w:
        assert w.getsampwidth() == 2
        ch = w.getnchannels()
        raw = w.readframes(w.getnframes())
    x = struct.unpack("<%dh" % (len(raw) // 2), raw)
    return [sum(x[i:i + ch]) / ch / 32768 for i in range(0, len(x), ch)]


# [SECTION] performances

def gm_performance(name, note, out_dir, rng):
    mid, raw, wav = (os.path.join(out_dir, f"{name}.{e}") for e in ("mid", "raw.wav", "wav"))
    write_drum_midi(mid, note, [rng.randint(20, 127) for _ in range(HITS)])
    cmd = ["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "1.0", "-r", str(RATE),
           "-o", "audio.file.format=float", "-F", raw, SOUNDFONT, mid]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    x, rate = read_wav(raw)
    assert rate == RATE, rate
    write_mono16(wav, x)
    os.remove(raw)
    return wav


def kit_instruments(kit_dir):
    """drumkit.xml -> {instrument name: (layers [(file, min, max, gain)], volume * gain)}."""
    root = ET.parse(os.path.join(kit_dir, "drumkit.xml")).getroot()
    out = {}
    for inst in root.iterfind("h2:instrumentList/h2:instrument", H2_NS):
        layers = [(os.path.join(kit_dir, l.findtext("h2:filename", namespaces=H2_NS)),
                   float(l.findtext("h2:min", "0", H2_NS)), float(l.findtext("h2:max", "1", H2_NS)),
                   float(l.findtext("h2:gain", "1", H2_NS)))
                  for l in inst.iterfind("h2:layer", H2_NS)]
        level = float(inst.findtext("h2:volume", "1", H2_NS)) * float(inst.findtext("h2:gain", "1", H2_NS))
        out[inst.findtext("h2:name", namespaces=H2_NS)] = (layers, level)
    return out


def kit_performance(name, layers, level, dst, rng):
    """24 hits of a single-layer instrument at Hydrogen-style velocity gains (velocity 20..127 / 127,
    scaling the sample linearly, times the instrument's level and the layer's gain)."""
    if len(layers) != 1:
        raise ValueError(f"{len(layers)} layers (this performance is for single-layer instruments)")
    path, _, _, layer_gain = layers[0]
    try:
        x, rate = read_audio(path)
    except (ValueError, EOFError, struct.error) as e:
        raise ValueError(f"{os.path.basename(path)}: {e}")
    x = resample_linear(x, rate, RATE)
    gap = int(SPACING_S * RATE)
    out = [0.0] * (int(0.1 * RATE) + HITS * gap + max(len(x), int(0.5 * RATE)))
    velocities = [rng.randint(20, 127) / 127 for _ in range(HITS)]
    for k, v in enumerate(velocities):
        g, at = v * level * layer_gain, int(0.1 * RATE) + k * gap
        for i, s in enumerate(x):
            out[at + i] += g * s
    write_mono16(dst, out)
    return f"{os.path.basename(path)}, {rate} Hz"


def bundled_performance(root, dst, rng):
    a = read_mono16(os.path.join(root, "assets/sounds/snare_audiophob_1.wav"))
    b = read_mono16(os.path.join(root, "assets/sounds/snare_audiophob_2.wav"))
    gap, hits = int(SPACING_S * RATE), HITS
    out = [0.0] * (gap * hits + RATE)
    for k in range(hits):
        src, g = (a if k % 2 == 0 else b), rng.choice([0.15, 0.3, 0.5, 0.8, 1.0])
        at = int(0.05 * RATE) + k * gap
        for i, v in enumerate(src[:gap - 100]):
            out[at + i] += g * v
    write_mono16(dst, out)


# [SECTION] the table

def table(results, n_perfs, n_presets, steps):
    def cells(rs, m):
        means = [sum(r["held_out_error"][m][f] for r in rs) / max(1, len(rs)) for f in FEATURES]
        return [f"{v:.3f}" if f != "temporal_centroid_s" else f"{1000 * v:.2f} ms" for f, v in zip(FEATURES, means)]

    def wins(rs, m, features):
        return sum(1 for r in rs if all(r["held_out_error"][m][f] < r["held_out_error"]["none"][f] for f in features))

    lines = [f"{len(results)} runs ({n_perfs} performances x {n_presets} presets, {steps} steps per model); "
             "mean held-out error per feature:", "",
             "| method | " + " | ".join(FEATURES) + " | beats no modulation: loudness / centroid / both |",
             "|---|" + "---|" * (len(FEATURES) + 1)]
    for m in METHODS:
        w = "-" if m == "none" else (f"{wins(results, m, FEATURES[:1])} / {wins(results, m, FEATURES[1:2])} / "
                                     f"{wins(results, m, FEATURES[:2])} of {len(results)}")
        lines.append(f"| {m} | " + " | ".join(cells(results, m)) + f" | {w} |")
    lines += ["", "Per performance (mean over its presets): loudness dB / centroid oct, and hits found",
              "", "| performance | hits | " + " | ".join(METHODS) + " |", "|---|---|" + "---|" * len(METHODS)]
    for perf in dict.fromkeys(r["performance"] for r in results):
        rs = [r for r in results if r["performance"] == perf]
        hits = sorted({r["hits"] for r in rs})
        row = [f"{sum(r['held_out_error'][m]['loudness_db'] for r in rs) / len(rs):.2f} / "
               f"{sum(r['held_out_error'][m]['centroid_oct'] for r in rs) / len(rs):.3f}" for m in METHODS]
        lines.append(f"| {perf} | {'/'.join(map(str, hits))} | " + " | ".join(row) + " |")
    seconds = {m: [r["train_seconds"][m] for r in results if m in r.get("train_seconds", {})]
               for m in ["linear", "mlp", "mlp-large"]}
    lines += ["", "Training time per model (mean over runs): " + ", ".join(
        f"{m} {sum(s) / len(s):.2f} s" for m, s in seconds.items() if s)]
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ddsp", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: the GM kick, the kit's Snare Jazz and the bundled snares x 2 presets, 60 steps")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.makedirs(args.out, exist_ok=True)
    # One generator for the GM and bundled performances (in the order they always had, so they
    # stay the same) and one for the kit's.
    rng, kit_rng = random.Random(1), random.Random(2)
    perfs = {}
    for name, note in (GM_DRUMS[:1] if args.quick else GM_DRUMS):
        perfs[name] = gm_performance(name, note, args.out, rng)
    kit = kit_instruments(AUDIOPHOB)
    for name, inst in (KIT_DRUMS[:1] if args.quick else KIT_DRUMS):
        wav = os.path.join(args.out, f"{name}.wav")
        try:
            if inst not in kit:
                raise ValueError("not in drumkit.xml")
            src = kit_performance(name, *kit[inst], wav, kit_rng)
        except (OSError, ValueError, EOFError) as e:
            print(f"{name} ({inst}): skipped: {e}", file=sys.stderr)
            continue
        print(f"{name}: {inst} ({src})", flush=True)
        perfs[name] = wav
    perfs["audiophob_snares"] = os.path.join(args.out, "audiophob_snares.wav")
    bundled_performance(root, perfs["audiophob_snares"], rng)
    presets = PRESETS[:2] if args.quick else PRESETS
    steps = 60 if args.quick else args.steps
    results = []
    for perf, wav in perfs.items():
        for preset in presets:
            run = os.path.join(args.out, f"{perf}__{preset}")
            r = subprocess.run([args.ddsp, "remap-train", "--preset", preset, "--input", wav, "--steps", str(steps),
                                "-o", run], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{perf} x {preset}: failed: {r.stderr.strip()}", file=sys.stderr)
                continue
            rep = json.load(open(os.path.join(run, "report.json")))
            results.append({"performance": perf, "preset": preset, "placed_hits": HITS, **rep})
            if rep["hits"] != HITS:
                print(f"{perf} x {preset}: remap-train found {rep['hits']} hits, {HITS} were placed", file=sys.stderr)
            print(f"{perf} x {preset}: " + ", ".join(
                f"{m} {rep['held_out_error'][m]['loudness_db']:.2f} dB" for m in METHODS), flush=True)
    json.dump(results, open(os.path.join(args.out, "results.json"), "w"), indent=1)
    lines = table(results, len(perfs), len(presets), steps)
    open(os.path.join(args.out, "table.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
