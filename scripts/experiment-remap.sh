#!/usr/bin/env bash
# The timbre-remapping experiment: 6 presets of the 808 x performances (General MIDI percussion
# from fluid-soundfont-gm at random velocities, five instruments of the Hydrogen Audiophob kit at
# random velocity gains, and the bundled Audiophob snares) x {linear, mlp, mlp-large, direct
# optimisation, no modulation}; mean held-out feature errors (README).
#   scripts/experiment-remap.sh [--quick] [--steps N] [--out DIR]   (default DIR: build/remap-experiment)
# Installs fluidsynth, fluid-soundfont-gm and hydrogen-drumkits with apt-get when missing; builds
# build/ddsp if absent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
pkgs=()
command -v fluidsynth > /dev/null 2>&1 || pkgs+=(fluidsynth)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || pkgs+=(fluid-soundfont-gm)
[ -f /usr/share/hydrogen/data/drumkits/Audiophob/drumkit.xml ] || pkgs+=(hydrogen-drumkits)
if [ "${#pkgs[@]}" -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && command -v sudo > /dev/null 2>&1 && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y "${pkgs[@]}" || { "${sudo_cmd[@]}" apt-get update && "${sudo_cmd[@]}" apt-get install -y "${pkgs[@]}"; }
fi
if [ ! -x build/ddsp ]; then
  [ -d build ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build build --target ddsp -j2
fi
out="build/remap-experiment"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
exec python3 "$ROOT/scripts/experiment_remap.py" --ddsp "$ROOT/build/ddsp" --out "$out" "${extra[@]}"
