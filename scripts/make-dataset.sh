#!/usr/bin/env bash
# Note datasets for training and evaluating models, 16 kHz mono, split train/valid/test, with
# metadata.jsonl and frame-wise f0 (YIN) and A-weighted loudness from `ddsp analyse` (features.npz).
# The data is not committed (build/ is ignored). Sets (--set):
#   gm8 (default)  NSynth-style: 8 General MIDI instruments rendered dry with fluidsynth (FluidR3_GM
#                  soundfont), 28 notes each x velocities 50/80/110, 4 s. Split by note number (mod 10
#                  == 3 valid, == 7 test, else train). Output build/dataset.
#   plucks         the plucked GM programs of FluidR3_GM (nylon, steel, jazz and clean guitar, harp,
#                  banjo, shamisen, koto) on every semitone E2..E6 (MIDI 40..88) x velocities
#                  60/90/120, 2 s (note held 1.5 s), dry; split by note number as gm8. Output
#                  build/dataset-plucks.
#   ks-synthetic   the `ks` synth (Karplus-Strong) from seeded random, realistic parameters (f0
#                  log-uniform E2..E6, decays 0.3..6 s, loop taps near the default low-pass), 2 s,
#                  each clip's parameter file kept in params/ (`ddsp render --params params/X.json
#                  --seed S` remakes wav/X.wav); 600 clips split 80/10/10. Output build/dataset-ks.
#
#   scripts/make-dataset.sh [--set gm8|plucks|ks-synthetic] [--quick] [--out DIR] [--jobs N]
#                           [--count N] [--seed K]
#     --quick    gm8: 2 instruments x 10 notes (60 clips); plucks: 2 programs x 7 notes (42 clips);
#                ks-synthetic: 30 clips (each a few seconds)
#     --out DIR  output directory (default per set, above): wav/, metadata.jsonl, features.npz
#     --jobs N   parallel fluidsynth / render / analyse processes (default 2)
#     --count N  ks-synthetic: number of clips (default 600)
#     --seed K   ks-synthetic: seed of the parameter draws (default 0)
#
# Installs fluidsynth and fluid-soundfont-gm with apt-get when missing (not for ks-synthetic);
# builds build/ddsp if absent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY=/usr/bin/python3  # Debian's interpreter (numpy)
SF2=/usr/share/sounds/sf2/FluidR3_GM.sf2

set_name=gm8  # which --set (the Python script checks the name)
prev=
for a in "$@"; do
  case "$a" in --set=*) set_name="${a#--set=}" ;; esac
  [ "$prev" = --set ] && set_name="$a"
  prev="$a"
done

pkgs=()
if [ "$set_name" != ks-synthetic ]; then  # the ks set needs only build/ddsp
  command -v fluidsynth > /dev/null 2>&1 || pkgs+=(fluidsynth)
  [ -f "$SF2" ] || pkgs+=(fluid-soundfont-gm)
fi
if [ "${#pkgs[@]}" -gt 0 ]; then
  echo "make-dataset.sh: installing ${pkgs[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && command -v sudo > /dev/null 2>&1 && sudo_cmd=(sudo)
  apt_get() { "${sudo_cmd[@]}" apt-get "$@"; }
  apt_get install -y "${pkgs[@]}" || { apt_get update && apt_get install -y "${pkgs[@]}"; } || {
    echo "make-dataset.sh: cannot install ${pkgs[*]}" >&2
    exit 1
  }
fi
if [ ! -x build/ddsp ]; then
  [ -d build ] || { echo "make-dataset.sh: build/ is not configured (scripts/setup.sh)" >&2; exit 1; }
  cmake --build build --target ddsp -j2
fi
exec "$PY" "$ROOT/scripts/make_dataset.py" --ddsp "$ROOT/build/ddsp" "$@"
