#!/usr/bin/python3
"""Note datasets rendered with fluidsynth or with the `ks` synth, analysed with `ddsp analyse`.

Three sets (--set):
  gm8           the default: NSynth-style notes of 8 GM instruments (INSTRUMENTS), 28 notes each x
                velocities 50/80/110, 4 s (held 3 s). Output build/dataset.
  plucks        the guitar-family and plucked GM programs of FluidR3_GM (PLUCK_PROGRAMS) on every
                semitone E2..E6 (MIDI 40..88) x velocities 60/90/120, 2 s (held 1.5 s).
                Output build/dataset-plucks.
  ks-synthetic  the `ks` synth (Karplus-Strong, DiffKS) from random parameters (ks_draw), 2 s, with
                each clip's parameter file kept under params/. Output build/dataset-ks.
Every set is 16 kHz mono. The GM sets split by note number (mod 10 == 3 valid, == 7 test, else
train: no pitch is shared between splits); ks-synthetic splits a seeded permutation 80/10/10.

fluidsynth sets: per instrument, one MIDI file holds every (note, velocity) pair one after another,
spacing_s apart; fluidsynth renders it once (loading the 140 MB soundfont per note would dominate)
and each note's clip is the clip_s seconds from its onset. The note is held hold_s seconds; an All
Sound Off controller at the clip's end stops its release so it cannot bleed into the next note.
Reverb and chorus are off (dry notes, as NSynth). Nothing is normalised: velocity shows in the
level. The programs are looked up in the soundfont's preset headers (PHDR, bank 0); a missing one
is skipped with a warning rather than rendered with whatever fluidsynth falls back to.

ks-synthetic: `ddsp render --params params/<name>.json --seed <seed>` writes wav/<name>.wav
(float32, so the clip is exactly what its parameter file renders); residual_mix is 0 (no
recording). A clip that would peak above KS_PEAK_MAX has its exc_gain_db lowered (the output is
linear in the burst) and is rendered again; metadata.jsonl records by how much.

Outputs in --out: wav/<name>.wav (16 kHz mono; 16-bit for the fluidsynth sets), metadata.jsonl
(one line per clip) and features.npz (frame-wise f0_hz, f0_confidence, loudness_db, centroid_hz:
clips x frames, in the order of metadata.jsonl; 250 frames per second). Clips that render silent
(peak below SILENT_PEAK) are dropped from the new sets and reported.

metadata.jsonl rows: gm8 as before (name, instrument, program, midi, velocity, split, f0_hz_midi,
peak, clipped_samples, then the analysis: f0_hz_yin, f0_cents_off, voiced_fraction, loudness_*,
centroid_mean_hz, analysed). plucks adds preset (the sf2's name), f0_hz (= f0_hz_midi, the note's
equal-tempered pitch), sample_rate_hz, seconds and fall30_s (seconds from the loudness maximum to
30 dB below it; null if not within the clip). ks-synthetic: name, instrument ("ks"), split, f0_hz,
midi (the nearest note), sample_rate_hz, seconds, params (the path of the parameter file), seed
(`ddsp render --seed`), values (the parameter file's params), draw (the per-clip numbers the
frame-wise values were made from), exc_gain_lowered_db, peak, and the analysis with fall30_s.
"""
import argparse
import concurrent.futures
import json
import math
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
FLUID_GAIN = 1.0  # fixed for all clips (fluidsynth default 0.2); the loudest notes peak below full scale
SILENT_PEAK = 1e-4  # -80 dBFS: a clip whose peak stays below this is dropped (new sets only)

# [SECTION] gm8 (the default set)
HOLD_S = 3.0
CLIP_S = 4.0
NOTE_SPACING_S = 5.0
NOTES_PER_INSTRUMENT = 28  # every instrument gets the same count (balance), within its range
VELOCITIES = (50, 80, 110)

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

# [SECTION] plucks
PLUCK_HOLD_S = 1.5
PLUCK_CLIP_S = 2.0
PLUCK_SPACING_S = 3.0
PLUCK_VELOCITIES = (60, 90, 120)
PLUCK_NOTES = tuple(range(40, 89))  # E2..E6, every semitone
PLUCK_PROGRAMS = [  # name, GM program (1-based)
    ("nylon_guitar", 25),
    ("steel_guitar", 26),
    ("jazz_guitar", 27),
    ("clean_guitar", 28),
    ("harp", 47),
    ("banjo", 106),
    ("shamisen", 107),
    ("koto", 108),
]
QUICK_PLUCK_PROGRAMS = ("nylon_guitar", "koto")
QUICK_PLUCK_NOTES = (40, 43, 47, 52, 64, 76, 88)  # 43: valid, 47: test

# [SECTION] ks-synthetic
KS_SECONDS = PLUCK_CLIP_S
KS_COUNT = 600
KS_QUICK_COUNT = 30
KS_PEAK_MAX = 0.9
KS_F0_RANGE_HZ = (440.0 * 2.0 ** ((40 - 69) / 12.0), 440.0 * 2.0 ** ((88 - 69) / 12.0))  # E2..E6


def split_of(midi):
    """Split by note number: every instrument and velocity of a note lands in the same split."""
    r = midi % 10
    return "valid" if r == 3 else "test" if r == 7 else "train"


def midi_f0_hz(midi):
    return 440.0 * 2.0 ** ((midi - 69) / 12.0)


class NoteSet:
    """A fluidsynth set: instruments = [(name, program, notes)], notes in MIDI numbers."""

    def __init__(self, name, out, hold_s, clip_s, spacing_s, velocities, instruments, quick_instruments,
                 quick_notes, new_fields):
        self.name, self.out = name, out
        self.hold_s, self.clip_s, self.spacing_s = hold_s, clip_s, spacing_s
        self.velocities = velocities
        self.instruments = instruments
        self.quick_instruments = quick_instruments
        self.quick_notes = quick_notes  # notes -> the --quick subset
        self.new_fields = new_fields  # f0_hz, preset, rate and length in each row; drop silent clips


GM8 = NoteSet("gm8", "build/dataset", HOLD_S, CLIP_S, NOTE_SPACING_S, VELOCITIES,
              [(n, p, list(range(low, low + NOTES_PER_INSTRUMENT))) for n, p, low in INSTRUMENTS],
              QUICK_INSTRUMENTS, lambda notes: notes[:QUICK_NOTES], new_fields=False)
PLUCKS = NoteSet("plucks", "build/dataset-plucks", PLUCK_HOLD_S, PLUCK_CLIP_S, PLUCK_SPACING_S, PLUCK_VELOCITIES,
                 [(n, p, list(PLUCK_NOTES)) for n, p in PLUCK_PROGRAMS],
                 QUICK_PLUCK_PROGRAMS, lambda notes: [m for m in notes if m in QUICK_PLUCK_NOTES], new_fields=True)
SETS = {"gm8": GM8, "plucks": PLUCKS, "ks-synthetic": None}
SET_OUT = {"gm8": GM8.out, "plucks": PLUCKS.out, "ks-synthetic": "build/dataset-ks"}


# [SECTION] Soundfont presets
def soundfont_presets(path):
    """{(bank, program 0-based): preset name} from the sf2's PHDR chunk (LIST pdta)."""
    presets = {}
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
            raise RuntimeError(f"{path}: not a SoundFont 2 file")
        end = 8 + struct.unpack("<I", head[4:8])[0]
        pos = 12
        while pos + 8 <= end:
            f.seek(pos)
            cid, size = struct.unpack("<4sI", f.read(8))
            if cid == b"LIST" and f.read(4) == b"pdta":
                sub, sub_end = pos + 12, pos + 8 + size
                while sub + 8 <= sub_end:
                    f.seek(sub)
                    sid, ssize = struct.unpack("<4sI", f.read(8))
                    if sid == b"phdr":
                        body = f.read(ssize)
                        for k in range(ssize // 38 - 1):  # the last record is the EOP terminator
                            name, program, bank = struct.unpack("<20sHH", body[k * 38:k * 38 + 24])
                            presets[(bank, program)] = name.split(b"\0")[0].decode("latin-1").strip()
                        return presets
                    sub += 8 + ssize + (ssize & 1)
            pos += 8 + size + (size & 1)
    raise RuntimeError(f"{path}: no PHDR chunk")


# [SECTION] MIDI file writing (format 0, one track, 480 ticks per quarter at 120 bpm: 960 ticks/s)
TICKS_PER_QUARTER = 480
TICKS_PER_S = 960


def write_midi(path, program, notes, hold_s=HOLD_S, clip_s=CLIP_S, spacing_s=NOTE_SPACING_S):
    """notes: list of (midi, velocity); note i starts at i * spacing_s."""
    events = [(0, bytes([0xC0, program - 1]))]  # program change (0-based on the wire)
    for i, (midi, velocity) in enumerate(notes):
        t0 = i * spacing_s
        events.append((round(t0 * TICKS_PER_S), bytes([0x90, midi, velocity])))
        events.append((round((t0 + hold_s) * TICKS_PER_S), bytes([0x80, midi, 0])))
        events.append((round((t0 + clip_s) * TICKS_PER_S), bytes([0xB0, 120, 0])))  # all sound off
    end_tick = round(len(notes) * spacing_s * TICKS_PER_S)
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
    """fluidsynth's (or ddsp render's) float32 output -> (samples x channels) float64."""
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


def render_instrument(cfg, inst, notes, wav_dir, tmp_dir, preset=None):
    """Renders one instrument's notes; returns (a metadata dict per clip, names of dropped clips)."""
    name, program, _ = inst
    mid = os.path.join(tmp_dir, f"{name}.mid")
    raw = os.path.join(tmp_dir, f"{name}.wav")
    write_midi(mid, program, notes, cfg.hold_s, cfg.clip_s, cfg.spacing_s)
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
    clip_n = int(cfg.clip_s * SAMPLE_RATE_HZ)
    rows, dropped = [], []
    for i, (midi, velocity) in enumerate(notes):
        start = int(round(i * cfg.spacing_s * SAMPLE_RATE_HZ))
        clip = np.zeros(clip_n)
        seg = mono[start:start + clip_n]
        clip[:len(seg)] = seg
        clip_name = f"{name}_{midi:03d}_{velocity:03d}"
        peak = float(np.abs(clip).max())
        if cfg.new_fields and not peak >= SILENT_PEAK:
            dropped.append(clip_name)
            continue
        clipped = write_pcm16(os.path.join(wav_dir, clip_name + ".wav"), clip)
        row = {"name": clip_name, "instrument": name, "program": program, "midi": midi, "velocity": velocity}
        if cfg.new_fields:
            row.update({"preset": preset, "f0_hz": round(midi_f0_hz(midi), 4)})
        row.update({"split": split_of(midi), "f0_hz_midi": round(midi_f0_hz(midi), 4)})
        if cfg.new_fields:
            row.update({"sample_rate_hz": SAMPLE_RATE_HZ, "seconds": cfg.clip_s})
        row.update({"peak": round(peak, 5), "clipped_samples": clipped})
        rows.append(row)
    return rows, dropped


def analyse_clip(ddsp, wav_path):
    res = subprocess.run([ddsp, "analyse", "--target", wav_path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    if res.returncode != 0:
        return None, res.stderr.strip()
    return json.loads(res.stdout), ""


def fall_s(loudness_db, frame_rate_hz, drop_db=30.0):
    """Seconds from the loudness maximum to the first frame drop_db below it (None: not in the clip)."""
    loud = np.asarray(loudness_db)
    top = int(np.argmax(loud))
    below = np.nonzero(loud[top:] < loud[top] - drop_db)[0]
    return round(float(below[0]) / frame_rate_hz, 3) if len(below) else None


def add_analyses(rows, analyses, f0_key, hold_s, decay_field):
    """Fills each row's analysis fields; returns (features dict or None, analyse failures)."""
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
        yin = a["f0_median_hz"]
        row.update({
            "f0_hz_yin": yin,
            "f0_cents_off": round(1200 * np.log2(yin / row[f0_key]), 2) if yin > 0 else None,
            "voiced_fraction": a["voiced_fraction"],
            "loudness_mean_db": a["loudness_mean_db"],
        })
        if hold_s is not None:
            held = np.asarray(a["loudness_db"])[:int(hold_s * a["frame_rate_hz"])]
            row["loudness_held_mean_db"] = round(float(held.mean()), 3)
        row.update({"loudness_max_db": a["loudness_max_db"], "centroid_mean_hz": a["centroid_mean_hz"]})
        if decay_field:
            row["fall30_s"] = fall_s(a["loudness_db"], a["frame_rate_hz"])
        row["analysed"] = True
    if frames is None:
        return None, failures
    return {"f0_hz": f0, "f0_confidence": conf, "loudness_db": loud, "centroid_hz": cent}, failures


def write_outputs(out, rows, features):
    with open(os.path.join(out, "metadata.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    if features is not None:
        np.savez_compressed(os.path.join(out, "features.npz"), **features, frame_rate_hz=np.float32(250.0),
                            names=np.array([r["name"] for r in rows]))


def dir_bytes(path):
    return sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(path) for fn in fns)


def print_f0_check(rows, label):
    cents = np.array([r["f0_cents_off"] for r in rows if r.get("f0_cents_off") is not None])
    if len(cents):
        off = np.abs(cents)
        print(f"YIN vs {label} f0: median |error| {np.median(off):.1f} cents, within 50 cents: "
              f"{np.mean(off < 50) * 100:.1f} %, octave errors (>600 cents): {int(np.sum(off > 600))}")


def print_fall_by_octave(rows, f0_key):
    """Median time to fall 30 dB below the loudness maximum, by octave of E2..E6 (new sets)."""
    parts = []
    for lo in (40, 52, 64, 76):
        sel = [r["fall30_s"] for r in rows if r.get("analysed") and lo <= 69 + 12 * math.log2(r[f0_key] / 440) < lo + 12]
        if sel:
            within = [s for s in sel if s is not None]
            med = f"{np.median(within):.2f} s" if within else "-"
            parts.append(f"MIDI {lo}-{lo + 11}: {med} ({len(sel) - len(within)} of {len(sel)} not within the clip)")
    print("30 dB fall time, median by octave: " + "; ".join(parts))


# [SECTION] fluidsynth sets (gm8, plucks)
def make_note_set(cfg, args):
    if not os.path.exists(SOUNDFONT):
        sys.exit(f"make_dataset.py: {SOUNDFONT} is missing (apt-get install fluid-soundfont-gm)")
    if not shutil.which("fluidsynth"):
        sys.exit("make_dataset.py: fluidsynth is missing (apt-get install fluidsynth)")
    t_start = time.time()
    presets = soundfont_presets(SOUNDFONT)
    instruments = []
    for inst in cfg.instruments:
        if args.quick and inst[0] not in cfg.quick_instruments:
            continue
        if (0, inst[1] - 1) not in presets:
            print(f"warning: {os.path.basename(SOUNDFONT)} has no preset for GM program {inst[1]} ({inst[0]}); "
                  f"skipped", file=sys.stderr)
            continue
        instruments.append(inst)
    if cfg.new_fields:
        print("programs: " + ", ".join(f"{p} {presets[(0, p - 1)]!r}" for _, p, _ in instruments), flush=True)
    wav_dir = os.path.join(args.out, "wav")
    if os.path.isdir(wav_dir):
        shutil.rmtree(wav_dir)  # a previous (e.g. full) run would leave clips the metadata does not list
    os.makedirs(wav_dir)

    rows, dropped = [], []
    notes_per = 0
    with tempfile.TemporaryDirectory(prefix="ddsp_dataset_") as tmp_dir, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = []
        for inst in instruments:
            inst_notes = cfg.quick_notes(inst[2]) if args.quick else inst[2]
            notes_per = max(notes_per, len(inst_notes))
            notes = [(m, v) for m in inst_notes for v in cfg.velocities]
            futures.append(pool.submit(render_instrument, cfg, inst, notes, wav_dir, tmp_dir,
                                       presets[(0, inst[1] - 1)]))
        for f in futures:
            r, d = f.result()
            rows.extend(r)
            dropped.extend(d)
        t_render = time.time() - t_start
        print(f"rendered {len(rows)} clips in {t_render:.1f} s", flush=True)

        paths = [os.path.join(wav_dir, r["name"] + ".wav") for r in rows]
        analyses = list(pool.map(lambda p: analyse_clip(args.ddsp, p), paths))

    features, failures = add_analyses(rows, analyses, "f0_hz_midi", cfg.hold_s, cfg.new_fields)
    write_outputs(args.out, rows, features)

    # Summary
    total_bytes = dir_bytes(args.out)
    splits = {s: sum(1 for r in rows if r["split"] == s) for s in ("train", "valid", "test")}
    print(f"dataset: {args.out}: {len(rows)} clips ({len(instruments)} instruments x {notes_per} notes x "
          f"{len(cfg.velocities)} velocities), splits {splits}, {total_bytes / 1e6:.1f} MB, "
          f"{time.time() - t_start:.1f} s")
    if dropped:
        print(f"dropped {len(dropped)} silent clips (peak < {SILENT_PEAK:g}): {' '.join(dropped)}")
    print_f0_check(rows, "MIDI")
    clipped = sum(r["clipped_samples"] for r in rows)
    print(f"peak {max(r['peak'] for r in rows):.3f}, clipped samples {clipped}, analyse failures {failures}")
    if cfg.new_fields:
        print_fall_by_octave(rows, "f0_hz")
    vlo, vhi = cfg.velocities[0], cfg.velocities[-1]
    for name, *_ in instruments:
        sel = [r for r in rows if r["instrument"] == name and r.get("f0_cents_off") is not None]
        if sel:
            lo = np.mean([r["loudness_mean_db"] for r in sel if r["velocity"] == vlo])
            hi = np.mean([r["loudness_mean_db"] for r in sel if r["velocity"] == vhi])
            ok = np.mean([abs(r["f0_cents_off"]) < 50 for r in sel]) * 100
            line = (f"  {name:13s} f0 within 50 cents {ok:5.1f} %, loudness v{vlo} {lo:6.1f} dB, "
                    f"v{vhi} {hi:6.1f} dB")
            if cfg.new_fields:
                bad = sorted({r["midi"] for r in sel if abs(r["f0_cents_off"]) >= 50})
                line += f", notes off by >= 50 cents (any velocity): {bad if bad else 'none'}"
            print(line)
    return 1 if failures else 0


# [SECTION] ks-synthetic
def ks_table(ddsp):
    """The ks synth's parameter table from `ddsp synths`: {name: spec}."""
    res = subprocess.run([ddsp, "synths"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        sys.exit(f"make_dataset.py: ddsp synths failed: {res.stderr.strip()}")
    doc = json.loads(res.stdout)
    synths = doc if isinstance(doc, list) else doc.get("synths", [])
    for s in synths:
        if s.get("name") == "ks":
            return {p["name"]: p for p in s["params"]}
    sys.exit("make_dataset.py: ddsp synths lists no ks synth")


def ks_draw(rng, table):
    """One random, realistic pluck: (params in physical units, the few numbers they were made from).

    f0 log-uniform over E2..E6. decay_s (the loop's T60 with a lossless filter) log-uniform 0.3..6 s
    at the start, drifting by up to x/÷1.35 to the end of the clip (geometric across the frames).
    Loop taps near the default low-pass (1/4, 1/2, 1/4): the centre tap's share ("brightness")
    0.5..0.9, drifting by -0.1..+0.05 over the clip, the rest split between the outer taps
    35/65..65/35 (tilting the filter's phase). Burst colour: the first reflection coefficient
    -0.9..0.3 (mostly a low-passed burst, as a finger; some bright, as a pick), the others
    +-0.3. Burst level -40..-16 dB. Taps and decays are per frame (the table's size)."""
    frames = table["decay_s"]["size"]
    ramp = np.linspace(0.0, 1.0, frames)
    f0 = float(np.exp(rng.uniform(np.log(KS_F0_RANGE_HZ[0]), np.log(KS_F0_RANGE_HZ[1]))))
    d0 = float(np.exp(rng.uniform(np.log(0.3), np.log(6.0))))
    d1 = float(np.clip(d0 * np.exp(rng.uniform(-0.3, 0.3)), 0.3, 6.0))
    b0 = float(rng.uniform(0.5, 0.9))
    b1 = float(np.clip(b0 + rng.uniform(-0.1, 0.05), 0.45, 0.9))
    tilt = float(rng.uniform(0.35, 0.65))
    refl = [float(rng.uniform(-0.9, 0.3))] + [float(x) for x in rng.uniform(-0.3, 0.3,
                                                                             table["exc_reflection"]["size"] - 1)]
    gain = float(rng.uniform(-40.0, -16.0))
    seed = int(rng.integers(0, 2 ** 31 - 1))
    decay = np.exp(np.log(d0) + (np.log(d1) - np.log(d0)) * ramp)
    bright = b0 + (b1 - b0) * ramp
    params = {
        "f0_hz": round(f0, 4),
        "decay_s": [round(float(x), 5) for x in decay],
        "loop_tap0": [round(float((1 - b) * tilt), 5) for b in bright],
        "loop_tap1": [round(float(b), 5) for b in bright],
        "loop_tap2": [round(float((1 - b) * (1 - tilt)), 5) for b in bright],
        "exc_reflection": [round(x, 4) for x in refl],
        "exc_gain_db": round(gain, 2),
        "residual_mix": 0,
    }
    draw = {"decay_s": [round(d0, 4), round(d1, 4)], "brightness": [round(b0, 4), round(b1, 4)],
            "tap_tilt": round(tilt, 4)}
    return params, draw, seed


def ks_check(params, table):
    for name, v in params.items():
        spec = table.get(name)
        if spec is None:
            sys.exit(f"make_dataset.py: ks has no parameter {name}")
        vals = v if isinstance(v, list) else [v]
        if len(vals) not in (1, spec["size"]) or not all(spec["min"] <= x <= spec["max"] for x in vals):
            sys.exit(f"make_dataset.py: drawn {name} {v} does not fit the table ({spec['min']}..{spec['max']}, "
                     f"size {spec['size']})")


def render_ks(ddsp, out, name, params, seed):
    """Writes params/<name>.json and renders wav/<name>.wav; lowers exc_gain_db if the clip would peak
    above KS_PEAK_MAX. Returns (peak, dB the gain was lowered by), or raises."""
    pfile = os.path.join(out, "params", name + ".json")
    wav = os.path.join(out, "wav", name + ".wav")
    lowered = 0.0
    for _ in range(3):
        with open(pfile, "w") as f:
            json.dump({"synth": "ks", "sample_rate": SAMPLE_RATE_HZ, "seconds": KS_SECONDS, "params": params}, f)
        res = subprocess.run([ddsp, "render", "--params", pfile, "--seed", str(seed), "-o", wav],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"ddsp render failed for {name}: {res.stderr.strip()}")
        x, rate = read_float_wav(wav)
        if rate != SAMPLE_RATE_HZ or x.shape[0] != round(KS_SECONDS * SAMPLE_RATE_HZ):
            raise RuntimeError(f"{wav}: {x.shape[0]} samples at {rate} Hz")
        peak = float(np.abs(x).max())
        if not np.isfinite(peak):
            raise RuntimeError(f"{wav}: non-finite samples")
        if peak <= KS_PEAK_MAX:
            return peak, lowered
        cut = math.ceil(20 * math.log10(peak / KS_PEAK_MAX) * 100 + 1) / 100  # the burst scales the output
        params["exc_gain_db"] = round(params["exc_gain_db"] - cut, 2)
        lowered = round(lowered + cut, 2)
    raise RuntimeError(f"{name}: still peaks at {peak:.3f} after lowering the burst by {lowered} dB")


def make_ks_set(args):
    t_start = time.time()
    table = ks_table(args.ddsp)
    if sorted(n for n in table if n.startswith("loop_tap")) != ["loop_tap0", "loop_tap1", "loop_tap2"]:
        sys.exit("make_dataset.py: ks_draw expects three loop taps (KsOptions::loop_order 2)")
    count = args.count if args.count is not None else KS_QUICK_COUNT if args.quick else KS_COUNT
    if count < 1:
        sys.exit("make_dataset.py: --count must be >= 1")
    for sub in ("wav", "params"):
        d = os.path.join(args.out, sub)
        if os.path.isdir(d):
            shutil.rmtree(d)  # a previous (e.g. full) run would leave clips the metadata does not list
        os.makedirs(d)

    # Splits: a seeded permutation, 10 % valid, 10 % test, the rest train.
    order = np.random.default_rng([args.seed, 1]).permutation(count)
    n_held = int(round(0.1 * count))
    split = ["train"] * count
    for i in order[:n_held]:
        split[i] = "valid"
    for i in order[n_held:2 * n_held]:
        split[i] = "test"

    rows, jobs = [], []
    for i in range(count):
        rng = np.random.default_rng([args.seed, 0, i])  # clip i is the same whatever the count
        params, draw, seed = ks_draw(rng, table)
        ks_check(params, table)
        name = f"ks_{i:04d}"
        f0 = params["f0_hz"]
        rows.append({"name": name, "instrument": "ks", "split": split[i], "f0_hz": f0,
                     "midi": int(round(69 + 12 * math.log2(f0 / 440))), "sample_rate_hz": SAMPLE_RATE_HZ,
                     "seconds": KS_SECONDS, "params": f"params/{name}.json", "seed": seed})
        jobs.append((name, params, seed, draw))

    dropped = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda j: render_ks(args.ddsp, args.out, j[0], j[1], j[2]), jobs))
        kept = []
        for row, (name, params, seed, draw), (peak, lowered) in zip(rows, jobs, results):
            if peak < SILENT_PEAK:
                dropped.append(name)
                os.remove(os.path.join(args.out, "wav", name + ".wav"))
                os.remove(os.path.join(args.out, "params", name + ".json"))
                continue
            row.update({"values": params, "draw": draw, "exc_gain_lowered_db": lowered, "peak": round(peak, 5)})
            kept.append(row)
        rows = kept
        t_render = time.time() - t_start
        print(f"rendered {len(rows)} clips in {t_render:.1f} s", flush=True)
        paths = [os.path.join(args.out, "wav", r["name"] + ".wav") for r in rows]
        analyses = list(pool.map(lambda p: analyse_clip(args.ddsp, p), paths))

    features, failures = add_analyses(rows, analyses, "f0_hz", None, True)
    write_outputs(args.out, rows, features)

    splits = {s: sum(1 for r in rows if r["split"] == s) for s in ("train", "valid", "test")}
    print(f"dataset: {args.out}: {len(rows)} ks clips ({KS_SECONDS:g} s at {SAMPLE_RATE_HZ} Hz, seed {args.seed}), "
          f"splits {splits}, {dir_bytes(args.out) / 1e6:.1f} MB, {time.time() - t_start:.1f} s")
    if dropped:
        print(f"dropped {len(dropped)} silent clips (peak < {SILENT_PEAK:g}): {' '.join(dropped)}")
    print_f0_check(rows, "drawn")
    lowered = [r["exc_gain_lowered_db"] for r in rows if r["exc_gain_lowered_db"] > 0]
    peaks = np.array([r["peak"] for r in rows])
    print(f"peak {peaks.max():.3f} (median {np.median(peaks):.3f}), burst lowered to keep the peak <= "
          f"{KS_PEAK_MAX}: {len(lowered)} clips, analyse failures {failures}")
    print_fall_by_octave(rows, "f0_hz")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", default="gm8", choices=list(SETS),
                    help="gm8 (default: 8 GM instruments), plucks (8 plucked GM programs, E2..E6) or "
                         "ks-synthetic (random ks synth renders with their parameter files)")
    ap.add_argument("--out", default=None,
                    help="output directory (default build/dataset, build/dataset-plucks or build/dataset-ks)")
    ap.add_argument("--ddsp", default="build/ddsp", help="the ddsp binary (`ddsp analyse`, `ddsp render`)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel fluidsynth / render / analyse processes")
    ap.add_argument("--quick", action="store_true",
                    help=f"gm8: {len(QUICK_INSTRUMENTS)} instruments x {QUICK_NOTES} notes; plucks: "
                         f"{len(QUICK_PLUCK_PROGRAMS)} programs x {len(QUICK_PLUCK_NOTES)} notes; ks-synthetic: "
                         f"{KS_QUICK_COUNT} clips")
    ap.add_argument("--count", type=int, default=None,
                    help=f"ks-synthetic: number of clips (default {KS_COUNT}, {KS_QUICK_COUNT} with --quick)")
    ap.add_argument("--seed", type=int, default=None, help="ks-synthetic: seed of the parameter draws (default 0)")
    args = ap.parse_args()
    if args.jobs < 1:
        sys.exit("make_dataset.py: --jobs must be >= 1")
    if (args.count is not None or args.seed is not None) and args.set != "ks-synthetic":
        sys.exit("make_dataset.py: --count and --seed apply to --set ks-synthetic only")
    if args.seed is None:
        args.seed = 0
    if args.seed < 0:
        sys.exit("make_dataset.py: --seed must be >= 0")
    if args.out is None:
        args.out = SET_OUT[args.set]
    if not os.access(args.ddsp, os.X_OK):
        sys.exit(f"make_dataset.py: {args.ddsp} is not executable (cmake --build build --target ddsp)")
    if args.set == "ks-synthetic":
        return make_ks_set(args)
    return make_note_set(SETS[args.set], args)


if __name__ == "__main__":
    sys.exit(main())
