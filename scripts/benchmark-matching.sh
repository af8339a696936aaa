#!/usr/bin/env bash
# The matching benchmark: every synth that fits x every method, at one time budget per job, on two
# public sets made from Debian packages (scripts/make_bench_sets.py):
#   plucks  5 GM plucked programs (FluidR3_GM) x E2 A2 E3 A3 E4 E5 E6, 16 kHz, 2 s     -> ks
#   drums   11 GM percussion notes x velocities 60/100/127 and the 14 instruments of the
#           Audiophob kit (hydrogen-drumkits; 13: its 17 ms stick is too short to score),
#           44.1 kHz, 1 s                                                              -> drum808, drum
# Synths come from `ddsp synths` (a pluck synth: ks; drum synths: drum808 and drum, those listed).
# Each clip x synth x method is one `ddsp match` job on Dask (scripts/match-dataset.py: a local
# cluster, or --scheduler ADDRESS), scored by the log-mel distance of scripts/ddsp_metrics.py against
# the baseline "the recording's first 25 ms, then silence" (cut = 1 - logmel / baseline). A failed job
# is reported in the table, not fatal. Writes OUT/plucks/, OUT/drums/ (every job's files and
# results.jsonl) and OUT/benchmark.md (the table, ready for the README).
#
#   scripts/benchmark-matching.sh [--quick] [--time-budget S] [--scheduler ADDR] [--workers N]
#       [--methods gradient,genetic,hybrid] [--kit NAME] [--ddsp PATH] [--sets DIR] [-o OUT]
#
#   --quick        3 plucks + 3 drums, 2 s per job; exits non-zero unless every clip's best synth /
#                  method beats the baseline and no job failed; prints "N passed, N failed"
#   --time-budget  seconds of compute per job (default 10; 2 with --quick); every method may run
#                  until then (or until it converges: gradient stops after 20 steps without progress)
#   --workers N    local cluster workers (default: the number of cores); each job uses one thread
#   --kit NAME     the Hydrogen kit of the drum set (default Audiophob). The other kits are a
#                  held-out check: do not tune on them
#   --sets DIR     where the clip sets are made if missing or stale (default: beside the ddsp binary,
#                  bench-sets[-quick][-KIT]); -o OUT defaults to build/benchmark-matching[-quick]
# Needs fluidsynth, fluid-soundfont-gm, hydrogen-drumkits, python3-numpy and python3-distributed
# (installed with apt-get when missing, as scripts/setup.sh does).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3  # Debian's interpreter (numpy, dask)

quick=0 budget="" scheduler="" workers="$(nproc 2>/dev/null || echo 2)" methods=gradient,genetic,hybrid
kit=Audiophob ddsp="$ROOT/build/ddsp" sets="" out=""
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --time-budget) budget="${2:?--time-budget needs seconds}"; shift ;;
    --scheduler) scheduler="${2:?--scheduler needs an address}"; shift ;;
    --workers) workers="${2:?--workers needs a number}"; shift ;;
    --methods) methods="${2:?--methods needs a list}"; shift ;;
    --kit) kit="${2:?--kit needs a name}"; shift ;;
    --ddsp) ddsp="${2:?--ddsp needs a path}"; shift ;;
    --sets) sets="${2:?--sets needs a folder}"; shift ;;
    -o|--out) out="${2:?-o needs a folder}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "benchmark-matching.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$budget" ] || { [ "$quick" = 1 ] && budget=2 || budget=10; }
suffix="$([ "$quick" = 1 ] && echo -quick || true)$([ "$kit" = Audiophob ] || echo "-$kit" | tr -c 'A-Za-z0-9_\n-' _)"
[ -n "$out" ] || out="$ROOT/build/benchmark-matching$suffix"

# --- what it needs ----------------------------------------------------------------------------
pkgs=()
command -v fluidsynth >/dev/null 2>&1 || pkgs+=(fluidsynth)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || pkgs+=(fluid-soundfont-gm)
[ -f "/usr/share/hydrogen/data/drumkits/$kit/drumkit.xml" ] || pkgs+=(hydrogen-drumkits)
"$PY" -c 'import numpy' 2>/dev/null || pkgs+=(python3-numpy)
"$PY" -c 'import distributed' 2>/dev/null || pkgs+=(python3-distributed)
if [ "${#pkgs[@]}" -gt 0 ]; then
  echo "benchmark-matching.sh: installing ${pkgs[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd=(sudo)
  apt_get() { "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
  apt_get install -y -qq --no-install-recommends "${pkgs[@]}" ||
    { apt_get update -qq && apt_get install -y -qq --no-install-recommends "${pkgs[@]}"; } ||
    { echo "benchmark-matching.sh: cannot install ${pkgs[*]}" >&2; exit 1; }
fi
if [ ! -x "$ddsp" ]; then
  [ "$ddsp" = "$ROOT/build/ddsp" ] && [ -f "$ROOT/build/CMakeCache.txt" ] && cmake --build "$ROOT/build" --target ddsp -j2
  [ -x "$ddsp" ] || { echo "benchmark-matching.sh: $ddsp is not built (cmake --build build --target ddsp)" >&2; exit 1; }
fi
ddsp="$(cd "$(dirname "$ddsp")" && pwd)/$(basename "$ddsp")"
[ -n "$sets" ] || sets="$(dirname "$ddsp")/bench-sets$suffix"

# --- the clip sets (made once) ----------------------------------------------------------------
# Made again when the maker or its options changed (the stamp), else reused.
stamp="$( (cat "$ROOT/scripts/make_bench_sets.py"; echo "kit=$kit quick=$quick") | sha256sum | cut -c1-16)"
if [ ! -f "$sets/plucks/metadata.jsonl" ] || [ ! -f "$sets/drums/metadata.jsonl" ] ||
   [ "$(cat "$sets/stamp" 2>/dev/null)" != "$stamp" ]; then
  "$PY" "$ROOT/scripts/make_bench_sets.py" -o "$sets" --kit "$kit" $([ "$quick" = 1 ] && echo --quick)
  echo "$stamp" > "$sets/stamp"
fi

# --- the synths that fit, as the CLI lists them -----------------------------------------------
listed="$("$ddsp" synths | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(s["name"] for s in (d if isinstance(d, list) else d.get("synths", []))))')"
pick() { local s r=""; for s in "$@"; do [[ " $listed " == *" $s "* ]] && r="${r:+$r,}$s"; done; echo "$r"; }
pluck_synths="$(pick ks)"
drum_synths="$(pick drum808 drum)"
[ -n "$pluck_synths" ] && [ -n "$drum_synths" ] ||
  { echo "benchmark-matching.sh: ddsp synths lists no pluck or no drum synth ($listed)" >&2; exit 1; }

# --- the jobs ---------------------------------------------------------------------------------
mkdir -p "$out"
t0=$SECONDS
run_set() {  # NAME SYNTHS
  echo "== $1: $(ls "$sets/$1/wav" | wc -l) clips x {$2} x {$methods}, ${budget} s per job, $workers workers"
  "$PY" "$ROOT/scripts/match-dataset.py" --input "$sets/$1/wav" --synth "$2" --method "$methods" \
    --time-budget "$budget" --steps 100000 --seed 1 --ddsp "$ddsp" --workers "$workers" \
    ${scheduler:+--scheduler "$scheduler"} $([ "$quick" = 1 ] && echo --quiet) -o "$out/$1" >/dev/null
}
status=0
run_set plucks "$pluck_synths" || status=1
run_set drums "$drum_synths" || status=1
where="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || echo '?'))"
[ -n "$scheduler" ] && where="Dask scheduler $scheduler"
commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
title="Matching benchmark ($(date -u +%Y-%m-%d), ddsp $commit): ${budget} s of compute per job, seed 1, \
$workers worker(s) on $where, $((SECONDS - t0)) s wall. cut = 1 - logmel / baseline (25 ms onset)."
check=()
[ "$quick" = 1 ] && check=(--check)
"$PY" "$ROOT/scripts/benchmark_table.py" --title "$title" --set "plucks=$out/plucks=65" \
  --set "drums=$out/drums=60" "${check[@]}" -o "$out/benchmark.md" || status=1
echo "benchmark-matching.sh: table in $out/benchmark.md"
exit "$status"
