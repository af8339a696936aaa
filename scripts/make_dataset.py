#!/usr/bin/python3
"""NSynth-style note dataset rendered with fluidsynth and analysed with `ddsp analyse`.

Per instrument, one MIDI file holds every (note, velocity) pair one after another, NOTE_SPACING_S
apart; fluidsynth renders it once (loading the 140 MB soundfont per note would dominate) and each
note's clip is the CLIP_S seconds from its onset. The note is held HOLD_S seconds; an All Sound Off
controller at the clip's end stops its release so it cannot bleed into the next note. Reverb and
chorus are off (dry notes, as NSynth). Nothing is normalised: velocity shows in the level.

Outputs in --out: wav/<name>.wav (16 kHz mono 16-bit), metadata.jsonl (one line per clip) and
features.npz (frame-wise f0_hz, f0_confidence, loudness_db, centroid_hz: clips x frames, in the
order of metadata.jsonl; 250 frames per second).
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np

from make_assets_helper import vlq  # MIDI variable-length quantities (same folder)

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SAMPLE_RATE_HZ = 16000
HOLD_S = 3.0
CLIP_S = 4.0
NOTE_SPACING_S = 5.0
NOTES_PER_INSTRUMENT = 28  # every instrument gets the same count (balance), within its range
VELOCITIES = (50, 80, 110)
FLUID_GAIN = 1.0  # fixed for all clips (fluidsynth default 0.2); the loudest notes peak below full scale

# name, GM program (1-based, as the GM tables print it), lowest MIDI note of its 28-note window.
# Windows sit inside each instrument's usual range and inside MIDI 40..88.
INSTRUMENTS = [
    ("nylon_guitar", 25, 45),  # E2..B5 playable; 45..72
    ("steel_guitar", 26, 45),
    ("harp", 47, 50),          # 50..77
    ("violin", 41, 58),        # G3 up; 58..85
    ("cello", 43, 40),         # C2..A5; 40..67
    ("flute", 74, 60),         # C4 up; 60..87
    ("clarinet", 72, 50),      # D3 up; 50..77
    ("trumpet", 57, 55),       # F#3..D6; 55..82
]
QUICK_INSTRUMENTS = ("nylon_guitar", "flute")
QUICK_NOTES = 10


def split_of(midi):
    """Split by note number: every instrument and velocity of a note lands in the same split."""
    r = midi % 10
    return "valid" if r == 3 else "test" if r == 7 else "train"


def midi_f0_hz(midi):
    return 440.0 * 2.0 ** ((midi - 69) / 12.0)


# [SECTION] MIDI file writing (format 0, one track, 480 ticks per quarter at 120 bpm: 960 ticks/s)
TICKS_PER_QUARTER = 480
TICKS_PER_S = 960


def write_midi(path, program, notes):
    """notes: list of (midi, velocity); note i starts at i * NOTE_SPACING_S."""
    events = [(0, bytes([0xC0, program - 1]))]  # program change (0-based on the wire)
    for i, (midi, velocity) in enumerate(notes):
        t0 = i * NOTE_SPACING_S
        events.append((round(t0 * TICKS_PER_S), bytes([0x90, midi, velocity])))
        events.append((round((t0 + HOLD_S) * TICKS_PER_S), bytes([0x80, midi, 0])))
        events.append((round((t0 + CLIP_S) * TICKS_PER_S), bytes([0xB0, 120, 0])))  # all sound off
    end_tick = round(len(notes) * NOTE_SPACING_S * TICKS_PER_S)
    events.sort(key=lambda e: e[0])
    track = bytearray(b"\x00\xff\x51\x03\x07\xa1\x20")  # tempo 500000 us per quarter
    last = 0
    for tick, msg in events:
        track += vlq(tick - last) + msg
        last = tick
    track += vlq(end_tick - last) + b"\xff\x2f\x00"  # end of track after the last clip
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER))
        f.write(b"MTrk" + struct.pack(">I", len(track)) + track)


# [SECTION] Rendering
def read_float_wav(path):
    """fluidsynth's float32 stereo output -> (samples x channels) float64."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RuntimeError(f"{path}: not a WAV file")
    off, channels, rate, bits, fmt_tag = 12, 0, 0, 0, 0
    while off + 8 <= len(data):
        cid, size = data[off:off + 4], struct.unpack("<I", data[off + 4:off + 8])[0]
        body = data[off + 8:off + 8 + size]
        if cid == b"fmt ":
            fmt_tag, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if fmt_tag == 0xFFFE:
                fmt_tag = struct.unpack("<H", body[24:26])[0]
        elif cid == b"data":
            if fmt_tag != 3 or bits != 32:
                raise RuntimeError(f"{path}: expected float32 samples (format {fmt_tag}, {bits} bits)")
            x = np.frombuffer(body[:len(body) // 4 * 4], dtype="<f4").astype(np.float64)
            return x.reshape(-1, channels), rate
        off += 8 + size + (size & 1)
    raise RuntimeError(f"{path}: no data chunk")


def write_pcm16(path, mono):
    clipped = int(np.count_nonzero(np.abs(mono) > 32767 / 32768))
    pcm = np.clip(np.round(mono * 32768), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE_HZ)
        w.writeframes(pcm.tobytes())
    return clipped


def render_instrument(inst, notes, wav_dir, tmp_dir):
    """Renders one instrument's notes; returns a metadata dict per clip."""
    name, program, _ = inst
    mid = os.path.join(tmp_dir, f"{name}.mid")
    raw = os.path.join(tmp_dir, f"{name}.wav")
    write_midi(mid, program, notes)
    cmd = ["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", str(FLUID_GAIN), "-r", str(SAMPLE_RATE_HZ),
           "-o", "audio.file.format=float", "-o", "synth.cpu-cores=1", "-F", raw, SOUNDFONT, mid]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if res.returncode != 0 or not os.path.exists(raw):
        raise RuntimeError(f"fluidsynth failed for {name}: {res.stdout.strip()[-400:]}")
    stereo, rate = read_float_wav(raw)
    os.remove(raw)
    if rate != SAMPLE_RATE_HZ:
        raise RuntimeError(f"fluidsynth rendered {name} at {rate} Hz, not {SAMPLE_RATE_HZ}")
    mono = stereo.mean(axis=1)
    clip_n = int(CLIP_S * SAMPLE_RATE_HZ)
    rows = []
    for i, (midi, velocity) in enumerate(notes):
        start = int(round(i * NOTE_SPACING_S * SAMPLE_RATE_HZ))
        clip = np.zeros(clip_n)
        seg = mono[start:start + clip_n]
        clip[:len(seg)] = seg
        clip_name = f"{name}_{midi:03d}_{velocity:03d}"
        clipped = write_pcm16(os.path.join(wav_dir, clip_name + ".wav"), clip)
        rows.append({
            "name": clip_name, "instrument": name, "program": program, "midi": midi, "velocity": velocity,
            "split": split_of(midi), "f0_hz_midi": round(midi_f0_hz(midi), 4),
            "peak": round(float(np.abs(clip).max()), 5), "clipped_samples": clipped,
        })
    return rows


def analyse_clip(ddsp, wav_path):
    res = subprocess.run([ddsp, "analyse", "--target", wav_path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    if res.returncode != 0:
        return None, res.stderr.strip()
    return json.loads(res.stdout), ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="build/dataset", help="output directory (default build/dataset)")
    ap.add_argument("--ddsp", default="build/ddsp", help="the ddsp binary (for `ddsp analyse`)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel fluidsynth / analyse processes")
    ap.add_argument("--quick", action="store_true",
                    help=f"{len(QUICK_INSTRUMENTS)} instruments, {QUICK_NOTES} notes each")
    args = ap.parse_args()
    if args.jobs < 1:
        sys.exit("make_dataset.py: --jobs must be >= 1")
    if not os.path.exists(SOUNDFONT):
        sys.exit(f"make_dataset.py: {SOUNDFONT} is missing (apt-get install fluid-soundfont-gm)")
    if not shutil.which("fluidsynth"):
        sys.exit("make_dataset.py: fluidsynth is missing (apt-get install fluidsynth)")
    if not os.access(args.ddsp, os.X_OK):
        sys.exit(f"make_dataset.py: {args.ddsp} is not executable (cmake --build build --target ddsp)")

    t_start = time.time()
    instruments = [i for i in INSTRUMENTS if not args.quick or i[0] in QUICK_INSTRUMENTS]
    notes_per = QUICK_NOTES if args.quick else NOTES_PER_INSTRUMENT
    wav_dir = os.path.join(args.out, "wav")
    if os.path.isdir(wav_dir):
        shutil.rmtree(wav_dir)  # a previous (e.g. full) run would leave clips the metadata does not list
    os.makedirs(wav_dir)

    rows = []
    with tempfile.TemporaryDirectory(prefix="ddsp_dataset_") as tmp_dir, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = []
        for inst in instruments:
            low = inst[2]
            notes = [(m, v) for m in range(low, low + notes_per) for v in VELOCITIES]
            futures.append(pool.submit(render_instrument, inst, notes, wav_dir, tmp_dir))
        for f in futures:
            rows.extend(f.result())
        t_render = time.time() - t_start
        print(f"rendered {len(rows)} clips in {t_render:.1f} s", flush=True)

        paths = [os.path.join(wav_dir, r["name"] + ".wav") for r in rows]
        analyses = list(pool.map(lambda p: analyse_clip(args.ddsp, p), paths))

    frames = None
    f0 = conf = loud = cent = None
    failures = 0
    for i, (row, (a, err)) in enumerate(zip(rows, analyses)):
        if a is None:
            failures += 1
            print(f"warning: analyse failed for {row['name']}: {err}", file=sys.stderr)
            row.update({"f0_hz_yin": 0.0, "voiced_fraction": 0.0, "loudness_mean_db": None, "analysed": False})
            continue
        if frames is None:
            frames = a["num_frames"]
            shape = (len(rows), frames)
            f0, conf, loud, cent = (np.zeros(shape, np.float32) for _ in range(4))
            loud[:] = -120.0
        f0[i], conf[i] = a["f0_hz"], a["f0_confidence"]
        loud[i], cent[i] = a["loudness_db"], a["centroid_hz"]
        held = np.asarray(a["loudness_db"])[:int(HOLD_S * a["frame_rate_hz"])]
        yin = a["f0_median_hz"]
        row.update({
            "f0_hz_yin": yin,
            "f0_cents_off": round(1200 * np.log2(yin / row["f0_hz_midi"]), 2) if yin > 0 else None,
            "voiced_fraction": a["voiced_fraction"],
            "loudness_mean_db": a["loudness_mean_db"],
            "loudness_held_mean_db": round(float(held.mean()), 3),
            "loudness_max_db": a["loudness_max_db"],
            "centroid_mean_hz": a["centroid_mean_hz"],
            "analysed": True,
        })

    with open(os.path.join(args.out, "metadata.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    if frames is not None:
        np.savez_compressed(os.path.join(args.out, "features.npz"), f0_hz=f0, f0_confidence=conf, loudness_db=loud,
                            centroid_hz=cent, frame_rate_hz=np.float32(250.0),
                            names=np.array([r["name"] for r in rows]))

    # Summary
    total_bytes = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(args.out) for fn in fns)
    splits = {s: sum(1 for r in rows if r["split"] == s) for s in ("train", "valid", "test")}
    cents = np.array([r["f0_cents_off"] for r in rows if r.get("f0_cents_off") is not None])
    print(f"dataset: {args.out}: {len(rows)} clips ({len(instruments)} instruments x {notes_per} notes x "
          f"{len(VELOCITIES)} velocities), splits {splits}, {total_bytes / 1e6:.1f} MB, "
          f"{time.time() - t_start:.1f} s")
    if len(cents):
        off = np.abs(cents)
        print(f"YIN vs MIDI f0: median |error| {np.median(off):.1f} cents, within 50 cents: "
              f"{np.mean(off < 50) * 100:.1f} %, octave errors (>600 cents): {int(np.sum(off > 600))}")
    clipped = sum(r["clipped_samples"] for r in rows)
    print(f"peak {max(r['peak'] for r in rows):.3f}, clipped samples {clipped}, analyse failures {failures}")
    for name, *_ in instruments:
        sel = [r for r in rows if r["instrument"] == name and r.get("f0_cents_off") is not None]
        if sel:
            lo = np.mean([r["loudness_mean_db"] for r in sel if r["velocity"] == VELOCITIES[0]])
            hi = np.mean([r["loudness_mean_db"] for r in sel if r["velocity"] == VELOCITIES[-1]])
            ok = np.mean([abs(r["f0_cents_off"]) < 50 for r in sel]) * 100
            print(f"  {name:13s} f0 within 50 cents {ok:5.1f} %, loudness v{VELOCITIES[0]} {lo:6.1f} dB, "
                  f"v{VELOCITIES[-1]} {hi:6.1f} dB")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
