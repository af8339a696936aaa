#!/usr/bin/python3
"""Helper for scripts/make-assets.sh (standard library only, deterministic).

  midi OUT.mid PROGRAM NOTE VELOCITY ON_S OFF_S END_S
      Write a format-0 Standard MIDI File: one GM program change and one note on channel 0.
  f0 FILE.wav
      Print the measured fundamental (YIN, median over windows in the first 0.5 s) in Hz.
  info FILE.wav
      Print "seconds peak_dbfs onset_ms" (onset: first sample above -40 dB of the peak).
  manifest DIR < entries.tsv
      Write DIR/manifest.json from tab-separated lines:
      file kind instrument midi_note(or -) source licence
      sample_rate and seconds are read from the WAV headers; f0_hz is the nominal equal-tempered
      pitch (A4 = 440 Hz) of the MIDI note.
"""
import json
import math
import os
import struct
import sys
import wave

NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


# [SECTION] MIDI writing

def vlq(n):
    # Variable-length quantity: 7 bits per byte, high bit set on all but the last byte.
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def write_midi(path, program, note, velocity, on_s, off_s, end_s):
    division = 480          # ticks per quarter note
    tempo_us = 500000       # 120 bpm: one quarter = 0.5 s, so 960 ticks per second
    ticks_per_s = division * 1e6 / tempo_us

    def tick(t):
        return int(round(t * ticks_per_s))

    events = [
        (0, b"\xFF\x51\x03" + tempo_us.to_bytes(3, "big")),   # set tempo
        (0, bytes([0xC0, program])),                           # program change, channel 0
        (0, bytes([0xB0, 7, 127])),                            # channel volume: full
        (0, bytes([0xB0, 10, 64])),                            # pan: centre
        (tick(on_s), bytes([0x90, note, velocity])),           # note on
        (tick(off_s), bytes([0x80, note, 64])),                # note off
        (tick(end_s), b"\xFF\x2F\x00"),                        # end of track
    ]
    track = bytearray()
    now = 0
    for t, ev in events:
        track += vlq(t - now) + ev
        now = t
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, division)
    with open(path, "wb") as f:
        f.write(header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track))


# [SECTION] WAV analysis

def read_mono(path):
    with wave.open(path, "rb") as w:
        ch, width, sr, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
        raw = w.readframes(n)
    if width != 2:
        raise SystemExit("%s: expected 16-bit PCM, got %d bytes per sample" % (path, width))
    vals = struct.unpack("<%dh" % (len(raw) // 2), raw)
    x = [sum(vals[i:i + ch]) / (ch * 32768.0) for i in range(0, len(vals), ch)]
    return x, sr


def yin_period(x, sr, start, win, fmin=50.0, fmax=1200.0, thresh=0.1):
    tau_min, tau_max = int(sr / fmax), int(sr / fmin) + 1
    if start + win + tau_max + 1 > len(x):
        return None
    seg = x[start:start + win + tau_max + 2]
    d = [0.0] * (tau_max + 2)
    for tau in range(1, tau_max + 2):
        s = 0.0
        for j in range(win):
            e = seg[j] - seg[j + tau]
            s += e * e
        d[tau] = s
    # Cumulative mean normalised difference (YIN step 3).
    cm = [1.0] * (tau_max + 2)
    run = 0.0
    for tau in range(1, tau_max + 2):
        run += d[tau]
        cm[tau] = d[tau] * tau / run if run > 0 else 1.0
    best = None
    for tau in range(tau_min, tau_max + 1):
        if cm[tau] < thresh:
            while tau + 1 <= tau_max and cm[tau + 1] < cm[tau]:
                tau += 1
            best = tau
            break
    if best is None:
        best = min(range(tau_min, tau_max + 1), key=lambda t: cm[t])
    # Parabolic interpolation around the dip for sub-sample precision.
    a, b, c = cm[best - 1], cm[best], cm[best + 1]
    den = a - 2 * b + c
    shift = 0.5 * (a - c) / den if den != 0 else 0.0
    return best + shift


def measure_f0(path):
    x, sr = read_mono(path)
    win = int(0.04 * sr)
    f0s = []
    for k in range(10):                      # windows starting 50..500 ms into the note
        start = int((0.05 + 0.05 * k) * sr)
        p = yin_period(x, sr, start, win)
        if p:
            f0s.append(sr / p)
    f0s.sort()
    return f0s[len(f0s) // 2]


def info(path):
    x, sr = read_mono(path)
    peak = max(abs(v) for v in x)
    onset = next(i for i, v in enumerate(x) if abs(v) >= peak * 0.01)
    return len(x) / sr, 20 * math.log10(peak), 1000.0 * onset / sr


# [SECTION] manifest

def note_name(m):
    return "%s%d" % (NOTE_NAMES[m % 12], m // 12 - 1)


def write_manifest(d):
    items = []
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        fname, kind, instrument, note, source, licence = line.split("\t")
        with wave.open(os.path.join(d, fname), "rb") as w:
            sr, n = w.getframerate(), w.getnframes()
        item = {"file": fname, "kind": kind, "instrument": instrument}
        if note != "-":
            m = int(note)
            item["note"] = note_name(m)
            item["midi_note"] = m
            item["f0_hz"] = round(440.0 * 2 ** ((m - 69) / 12.0), 2)
        item.update({"sample_rate": sr, "seconds": round(n / sr, 4), "source": source,
                     "licence": licence})
        items.append(item)
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(items, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd = argv[1]
    if cmd == "midi" and len(argv) == 9:
        write_midi(argv[2], int(argv[3]), int(argv[4]), int(argv[5]),
                   float(argv[6]), float(argv[7]), float(argv[8]))
    elif cmd == "f0" and len(argv) == 3:
        print("%.2f" % measure_f0(argv[2]))
    elif cmd == "info" and len(argv) == 3:
        print("%.3f %.2f %.1f" % info(argv[2]))
    elif cmd == "manifest" and len(argv) == 3:
        write_manifest(argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
