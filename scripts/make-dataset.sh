#!/usr/bin/env bash
# NSynth-style note dataset for training/evaluating DDSP-style models: 8 General MIDI instruments
# rendered dry with fluidsynth (FluidR3_GM soundfont), 28 notes each x velocities 50/80/110, 4 s at
# 16 kHz mono, with frame-wise f0 (YIN) and A-weighted loudness from `ddsp analyse`. Split by note
# number (mod 10 == 3 valid, == 7 test, else train). The data is not committed (build/ is ignored).
#
#   scripts/make-dataset.sh [--quick] [--out DIR] [--jobs N]
#     --quick    2 instruments x 10 notes (60 clips, a few seconds)
#     --out DIR  output directory (default build/dataset): wav/, metadata.jsonl, features.npz
#     --jobs N   parallel fluidsynth / analyse processes (default 2)
#
# Installs fluidsynth and fluid-soundfont-gm with apt-get when missing; builds build/ddsp if absent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY=/usr/bin/python3  # Debian's interpreter (numpy)
SF2=/usr/share/sounds/sf2/FluidR3_GM.sf2

pkgs=()
command -v fluidsynth > /dev/null 2>&1 || pkgs+=(fluidsynth)
[ -f "$SF2" ] || pkgs+=(fluid-soundfont-gm)
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
