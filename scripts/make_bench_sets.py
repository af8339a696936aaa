#!/usr/bin/python3
"""The matching benchmark's two public clip sets (scripts/benchmark-matching.sh), from Debian packages:

  plucks  General MIDI plucked programs of FluidR3_GM (fluid-soundfont-gm), PLUCK_PROGRAMS, at
          E2 A2 E3 A3 E4 E5 E6, velocity 100, held 1.5 s, 2 s clips, 16 kHz (the ks synth's rate).
  drums   the GM percussion notes DRUM_NOTES (channel 10, bank 128 "Standard") at velocities
          60/100/127, 1 s clips, 44.1 kHz (drum808's rate); plus every instrument of a Hydrogen kit
          (hydrogen-drumkits, /usr/share/hydrogen/data/drumkits/KIT, default Audiophob): its
          drumkit.xml names each instrument's layers (the old format: its one sample); the loudest
          (highest velocity range, then highest peak) is read through libsndfile (WAV of any depth,
          AIFF, FLAC), downmixed to mono, resampled to 44.1 kHz and cut (or zero-padded) to 1 s. Nothing is normalised (a sample
          that would peak above 0.999 is scaled down to it).

Everything is rendered dry (reverb and chorus off) and written as 16-bit mono WAV with
metadata.jsonl (name, source, program or note, velocity, rate, peak, clipped samples); a silent
clip (a kit's placeholder sample) or a kit sample under 50 ms (which the score's 25 ms baseline
would copy whole: Audiophob's 17 ms "Stick") is dropped with a warning:

    scripts/make_bench_sets.py [--quick] [--kit NAME] [--only plucks|drums] -o DIR
        -> DIR/plucks/wav/*.wav, DIR/drums/wav/*.wav (+ metadata.jsonl in each)

--quick makes QUICK_PLUCKS and QUICK_DRUMS only (three of each), for the test suite. The other kits
of hydrogen-drumkits are a held-out check (`--kit NAME --only drums`): do not tune on them.
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
import xml.etree.ElementTree as ET

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_assets_helper import vlq  # noqa: E402  MIDI variable-length quantities
from make_dataset import SOUNDFONT, TICKS_PER_QUARTER, TICKS_PER_S, read_float_wav, soundfont_presets  # noqa: E402

KITS_DIR = "/usr/share/hydrogen/data/drumkits"
SILENT_PEAK = 1e-4  # -80 dBFS: a clip below this is dropped
MIN_SAMPLE_S = 0.05  # a kit sample shorter than this is dropped (the score's baseline keeps the first 25 ms)
FLUID_GAIN = 1.0  # fluidsynth's master gain (default 0.2), as make_dataset.py: every note peaks below 0.75

PLUCK_RATE, PLUCK_HOLD_S, PLUCK_CLIP_S, PLUCK_SPACING_S, PLUCK_VELOCITY = 16000, 1.5, 2.0, 3.0, 100
PLUCK_NOTES = {"E2": 40, "A2": 45, "E3": 52, "A3": 57, "E4": 64, "E5": 76, "E6": 88}
PLUCK_PROGRAMS = [("nylon", 25), ("steel", 26), ("pizzicato", 46), ("harp", 47), ("banjo", 106)]  # GM, 1-based

DRUM_RATE, DRUM_CLIP_S, DRUM_SPACING_S = 44100, 1.0, 2.0
DRUM_VELOCITIES = (60, 100, 127)
DRUM_NOTES = [("kick", 36), ("snare", 38), ("esnare", 40), ("tom_floor", 41), ("tom_low", 43), ("tom_mid", 45),
              ("tom_high", 47), ("clap", 39), ("hat_closed", 42), ("hat_open", 46), ("rimshot", 37)]

QUICK_PLUCKS = ["nylon_E2", "harp_A3", "banjo_E5"]
QUICK_DRUMS = ["gm_kick_v100", "gm_snare_v100", "audiophob_tom_hi"]


# [SECTION] WAV writing and sample reading
def write_pcm16(path, x, rate):
    """Returns the number of samples clipped to full scale."""
    clipped = int(np.count_nonzero(np.abs(x) > 32767 / 32768))
    pcm = np.clip(np.round(x * 32768), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return clipped


class SfInfo(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


def read_sample(path):
    """(mono float64, rate) of any file libsndfile reads (installed with fluidsynth)."""
    name = ctypes.util.find_library("sndfile") or "libsndfile.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        sys.exit("make_bench_sets.py: libsndfile is missing (apt-get install libsndfile1)")
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SfInfo)]
    lib.sf_readf_double.restype = ctypes.c_int64
    lib.sf_readf_double.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    lib.sf_close.argtypes = [ctypes.c_void_p]
    lib.sf_strerror.restype = ctypes.c_char_p
    lib.sf_strerror.argtypes = [ctypes.c_void_p]
    info = SfInfo()
    sf = lib.sf_open(path.encode(), 0x10, ctypes.byref(info))  # SFM_READ
    if not sf:
        raise RuntimeError(f"{path}: {lib.sf_strerror(None).decode(errors='replace')}")
    buf = np.zeros(info.frames * info.channels, dtype=np.float64)
    n = lib.sf_readf_double(sf, buf.ctypes.data, info.frames)
    lib.sf_close(sf)
    return buf[: n * info.channels].reshape(-1, info.channels).mean(axis=1), info.samplerate


def resample(x, rate_in, rate_out):
    """Band-limited (FFT) resampling of a short clip."""
    if rate_in == rate_out:
        return x
    n_out = int(round(len(x) * rate_out / rate_in))
    spec = np.fft.rfft(x)
    keep = min(len(spec), n_out // 2 + 1)
    out = np.zeros(n_out // 2 + 1, dtype=complex)
    out[:keep] = spec[:keep]
    return np.fft.irfft(out, n_out) * n_out / len(x)


# [SECTION] fluidsynth
def write_midi(path, channel, program, notes, hold_s, clip_s, spacing_s):
    """notes: (midi, velocity); note i starts at i * spacing_s; all sound off at its clip's end."""
    events = [(0, bytes([0xC0 | channel, program]))]
    for i, (midi, velocity) in enumerate(notes):
        t0 = i * spacing_s
        events.append((round(t0 * TICKS_PER_S), bytes([0x90 | channel, midi, velocity])))
        events.append((round((t0 + hold_s) * TICKS_PER_S), bytes([0x80 | channel, midi, 0])))
        events.append((round((t0 + clip_s) * TICKS_PER_S), bytes([0xB0 | channel, 120, 0])))
    events.sort(key=lambda e: e[0])
    track, last = bytearray(b"\x00\xff\x51\x03\x07\xa1\x20"), 0  # 120 bpm
    for tick, msg in events:
        track += vlq(tick - last) + msg
        last = tick
    track += vlq(round(len(notes) * spacing_s * TICKS_PER_S) - last) + b"\xff\x2f\x00"
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER))
        f.write(b"MTrk" + struct.pack(">I", len(track)) + track)


def fluid_render(tmp, tag, channel, program, notes, hold_s, clip_s, spacing_s, rate):
    """Renders the notes one after another; returns each note's clip (mono)."""
    mid, raw = os.path.join(tmp, tag + ".mid"), os.path.join(tmp, tag + ".wav")
    write_midi(mid, channel, program, notes, hold_s, clip_s, spacing_s)
    cmd = ["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", str(FLUID_GAIN), "-r", str(rate),
           "-o", "audio.file.format=float", "-o", "synth.cpu-cores=1", "-F", raw, SOUNDFONT, mid]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if res.returncode != 0 or not os.path.exists(raw):
        raise RuntimeError(f"fluidsynth failed for {tag}: {res.stdout.strip()[-400:]}")
    stereo, got = read_float_wav(raw)
    if got != rate:
        raise RuntimeError(f"fluidsynth rendered {tag} at {got} Hz, not {rate}")
    mono, n = stereo.mean(axis=1), int(round(clip_s * rate))
    clips = []
    for i in range(len(notes)):
        start = int(round(i * spacing_s * rate))
        c = np.zeros(n)
        seg = mono[start:start + n]
        c[:len(seg)] = seg
        clips.append(c)
    return clips


# [SECTION] The sets
def emit(rows, wav_dir, name, x, rate, **fields):
    if not np.abs(x).max() >= SILENT_PEAK:  # e.g. a kit's placeholder "emptySample"
        print(f"warning: {name} is silent (peak below {SILENT_PEAK:g}): dropped", file=sys.stderr)
        return
    clipped = write_pcm16(os.path.join(wav_dir, name + ".wav"), x, rate)
    rows.append({"name": name, **fields, "sample_rate_hz": rate, "seconds": round(len(x) / rate, 4),
                 "peak": round(float(np.abs(x).max()), 5), "clipped_samples": clipped})


def make_plucks(out, quick, presets, tmp):
    rows = []
    for inst, program in PLUCK_PROGRAMS:
        if (0, program - 1) not in presets:
            sys.exit(f"make_bench_sets.py: {SOUNDFONT} has no preset for GM program {program} ({inst})")
        names = [(f"{inst}_{n}", m) for n, m in PLUCK_NOTES.items()]
        names = [(c, m) for c, m in names if not quick or c in QUICK_PLUCKS]
        if not names:
            continue
        clips = fluid_render(tmp, inst, 0, program - 1, [(m, PLUCK_VELOCITY) for _, m in names], PLUCK_HOLD_S,
                             PLUCK_CLIP_S, PLUCK_SPACING_S, PLUCK_RATE)
        for (clip, midi), x in zip(names, clips):
            emit(rows, out, clip, x, PLUCK_RATE, source="FluidR3_GM", program=program,
                 preset=presets[(0, program - 1)], midi=midi, velocity=PLUCK_VELOCITY,
                 f0_hz=round(440.0 * 2 ** ((midi - 69) / 12), 4))
    return rows


def kit_instruments(kit):
    """[(instrument name, sample path)]: each instrument's loudest layer."""
    folder = os.path.join(KITS_DIR, kit)
    xml = os.path.join(folder, "drumkit.xml")
    if not os.path.exists(xml):
        sys.exit(f"make_bench_sets.py: {xml} is missing (apt-get install hydrogen-drumkits)")
    local = lambda e: e.tag.rsplit("}", 1)[-1]
    out = []
    for inst in (e for e in ET.parse(xml).getroot().iter() if local(e) == "instrument"):
        fields = {local(c): (c.text or "").strip() for c in inst}
        layers = []
        for layer in (e for e in inst.iter() if local(e) == "layer"):
            lf = {local(c): (c.text or "").strip() for c in layer}
            path = os.path.join(folder, lf.get("filename", ""))
            if lf.get("filename") and os.path.exists(path):
                layers.append((float(lf.get("max", 1) or 1), path))
        if not layers and fields.get("filename"):  # the old format: one sample, no <layer>
            path = os.path.join(folder, fields["filename"])
            if os.path.exists(path):
                layers.append((1.0, path))
        if not layers:
            continue
        top = max(v for v, _ in layers)
        best = [p for v, p in layers if v == top]
        if len(best) > 1:  # same velocity range: the one that peaks highest
            best.sort(key=lambda p: -float(np.abs(read_sample(p)[0]).max()))
        out.append((fields.get("name", "instrument"), best[0]))
    return out


def slug(s):
    return "".join(c if c.isalnum() else "_" for c in s.lower()).strip("_")


def make_drums(out, quick, kit, tmp):
    rows = []
    notes = [(f"gm_{n}_v{v}", m, v) for n, m in DRUM_NOTES for v in DRUM_VELOCITIES]
    notes = [t for t in notes if not quick or t[0] in QUICK_DRUMS]
    if notes:  # channel 10 (9 on the wire) plays bank 128: program 0 is "Standard"
        clips = fluid_render(tmp, "gm_drums", 9, 0, [(m, v) for _, m, v in notes], DRUM_CLIP_S, DRUM_CLIP_S,
                             DRUM_SPACING_S, DRUM_RATE)
        for (name, midi, v), x in zip(notes, clips):
            emit(rows, out, name, x, DRUM_RATE, source="FluidR3_GM Standard kit", midi=midi, velocity=v)
    n = int(round(DRUM_CLIP_S * DRUM_RATE))
    for inst, path in kit_instruments(kit):
        name = f"{slug(kit)}_{slug(inst)}"
        if quick and name not in QUICK_DRUMS:
            continue
        x, rate = read_sample(path)
        if len(x) < MIN_SAMPLE_S * rate:  # the 25 ms baseline would copy it whole: nothing to score
            print(f"warning: {name} lasts {1000 * len(x) / rate:.0f} ms (< {1000 * MIN_SAMPLE_S:.0f} ms): dropped",
                  file=sys.stderr)
            continue
        x = resample(x, rate, DRUM_RATE)[:n]
        x = np.pad(x, (0, n - len(x)))
        peak = float(np.abs(x).max())
        if peak > 0.999:  # a full-scale sample overshoots a little once resampled: keep it unclipped
            x *= 0.999 / peak
        emit(rows, out, name, x, DRUM_RATE, source=f"hydrogen-drumkits {kit}", instrument=inst,
             sample=os.path.basename(path), sample_rate_in_hz=rate)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--out", required=True, help="output folder (plucks/ and drums/ inside)")
    ap.add_argument("--quick", action="store_true", help="three clips of each set (the test suite's)")
    ap.add_argument("--kit", default="Audiophob", help="the Hydrogen kit of the drum set (default Audiophob)")
    ap.add_argument("--only", choices=["plucks", "drums"], help="make one set")
    args = ap.parse_args()
    if not os.path.exists(SOUNDFONT):
        sys.exit(f"make_bench_sets.py: {SOUNDFONT} is missing (apt-get install fluid-soundfont-gm)")
    if not shutil.which("fluidsynth"):
        sys.exit("make_bench_sets.py: fluidsynth is missing (apt-get install fluidsynth)")
    presets = soundfont_presets(SOUNDFONT)
    with tempfile.TemporaryDirectory(prefix="ddsp_bench_") as tmp:
        for set_name, make in (("plucks", lambda d: make_plucks(d, args.quick, presets, tmp)),
                               ("drums", lambda d: make_drums(d, args.quick, args.kit, tmp))):
            if args.only and args.only != set_name:
                continue
            wav_dir = os.path.join(args.out, set_name, "wav")
            if os.path.isdir(wav_dir):
                shutil.rmtree(wav_dir)  # a previous run's clips that this one would not list
            os.makedirs(wav_dir)
            rows = make(wav_dir)
            with open(os.path.join(args.out, set_name, "metadata.jsonl"), "w") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
            if not rows:
                sys.exit(f"make_bench_sets.py: no {set_name} clips")
            clipped = sum(r["clipped_samples"] for r in rows)
            print(f"{set_name}: {len(rows)} clips in {wav_dir}, peak {max(r['peak'] for r in rows):.3f}, "
                  f"clipped samples {clipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
