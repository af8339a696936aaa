#!/usr/bin/python3
"""The timbre-remapping experiment (scripts/experiment-remap.sh): the paper's table on our data.

Performances: General MIDI percussion from fluid-soundfont-gm (FluidR3_GM, channel 10) rendered
with fluidsynth, 24 hits 0.4 s apart at random velocities (20..127, seeded), per instrument; and
one made of the two bundled Audiophob snares at five gains. Every performance is remapped onto
each of the 808's six presets with `ddsp remap-train` (which trains linear, mlp and mlp-large and
evaluates them, no modulation and direct optimisation on every 4th hit, held out). Writes
OUT/results.json and OUT/table.md (mean held-out error per feature over all runs). Standard
library only.
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_assets_helper import vlq  # noqa: E402

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
RATE = 44100
PRESETS = ["snare_1", "snare_2", "snare_3", "open_snare", "noisy_snare", "tom"]
GM_DRUMS = [("gm_kick", 36), ("gm_snare", 38), ("gm_clap", 39), ("gm_low_tom", 45), ("gm_rimshot", 37)]
FEATURES = ["loudness_db", "centroid_oct", "flatness_db", "temporal_centroid_s"]
METHODS = ["none", "linear", "mlp", "mlp-large", "direct"]


def write_drum_midi(path, note, velocities, spacing_s=0.4):
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


def float_wav_to_mono16(src, dst):
    data = open(src, "rb").read()
    off, channels = 12, 2
    while off + 8 <= len(data):
        cid, size = data[off:off + 4], struct.unpack("<I", data[off + 4:off + 8])[0]
        body = data[off + 8:off + 8 + size]
        if cid == b"fmt ":
            channels = struct.unpack("<H", body[2:4])[0]
        elif cid == b"data":
            n = len(body) // 4
            x = struct.unpack("<%df" % n, body[:4 * n])
            mono = [sum(x[i:i + channels]) / channels for i in range(0, n - channels + 1, channels)]
            with wave.open(dst, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(RATE)
                w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, int(v * 32767)))) for v in mono))
            return
        off += 8 + size + (size & 1)
    raise RuntimeError(f"{src}: no data chunk")


def read_mono16(path):
    with wave.open(path) as w:
        assert w.getsampwidth() == 2
        ch = w.getnchannels()
        raw = w.readframes(w.getnframes())
    x = struct.unpack("<%dh" % (len(raw) // 2), raw)
    return [sum(x[i:i + ch]) / ch / 32768 for i in range(0, len(x), ch)]


def bundled_performance(root, dst, rng):
    a = read_mono16(os.path.join(root, "assets/sounds/snare_audiophob_1.wav"))
    b = read_mono16(os.path.join(root, "assets/sounds/snare_audiophob_2.wav"))
    gap, hits = int(0.4 * RATE), 24
    out = [0.0] * (gap * hits + RATE)
    for k in range(hits):
        src, g = (a if k % 2 == 0 else b), rng.choice([0.15, 0.3, 0.5, 0.8, 1.0])
        at = int(0.05 * RATE) + k * gap
        for i, v in enumerate(src[:gap - 100]):
            out[at + i] += g * v
    with wave.open(dst, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, int(v * 32767)))) for v in out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ddsp", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--quick", action="store_true", help="2 presets x 2 performances, 60 steps")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(1)
    perfs = {}
    drums = GM_DRUMS[:1] if args.quick else GM_DRUMS
    for name, note in drums:
        mid, raw, wav = (os.path.join(args.out, f"{name}.{e}") for e in ("mid", "raw.wav", "wav"))
        write_drum_midi(mid, note, [rng.randint(20, 127) for _ in range(24)])
        cmd = ["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "1.0", "-r", str(RATE),
               "-o", "audio.file.format=float", "-F", raw, SOUNDFONT, mid]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        float_wav_to_mono16(raw, wav)
        os.remove(raw)
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
                print(f"{perf} x {preset}: {r.stderr.strip()}", file=sys.stderr)
                continue
            rep = json.load(open(os.path.join(run, "report.json")))
            results.append({"performance": perf, "preset": preset, **rep})
            print(f"{perf} x {preset}: " + ", ".join(
                f"{m} {rep['held_out_error'][m]['loudness_db']:.2f} dB" for m in METHODS), flush=True)
    json.dump(results, open(os.path.join(args.out, "results.json"), "w"), indent=1)
    lines = [f"{len(results)} runs ({len(perfs)} performances x {len(presets)} presets, {steps} steps per model); "
             "mean held-out error per feature:", "",
             "| method | " + " | ".join(FEATURES) + " | beats no modulation (loudness, centroid) |",
             "|---|" + "---|" * (len(FEATURES) + 1)]
    for m in METHODS:
        means = [sum(r["held_out_error"][m][f] for r in results) / max(1, len(results)) for f in FEATURES]
        wins = sum(1 for r in results if r["held_out_error"][m]["loudness_db"] < r["held_out_error"]["none"]["loudness_db"]
                   and r["held_out_error"][m]["centroid_oct"] < r["held_out_error"]["none"]["centroid_oct"])
        cells = [f"{v:.3f}" if f != "temporal_centroid_s" else f"{1000 * v:.2f} ms" for f, v in zip(FEATURES, means)]
        lines.append(f"| {m} | " + " | ".join(cells) + f" | {'-' if m == 'none' else f'{wins}/{len(results)}'} |")
    open(os.path.join(args.out, "table.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
