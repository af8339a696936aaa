#!/usr/bin/env bash
# The DiffKS optimisation experiment with the `ks` synth: every matching method (gradient,
# genetic, cmaes, hybrid) on six real plucks (assets/sounds/pluck_*.wav) and on six synthetic ks
# notes whose parameters are known, with fixed seeds and the same budget per run.
#
#   scripts/experiment-optimization.sh [--quick] [--out DIR] [--budget SEC] [--steps N] [--seed K]
#
#   --quick          smoke run: 2 plucks, 2 notes, 2 s per run, 300 steps (16 runs, ~30 s)
#   --out DIR        output directory (default build/experiment in the repository)
#   --budget SEC     compute time per run (default 10; `ddsp match --time-budget`)
#   --steps N        iteration cap per run (default 1000; `ddsp match --steps`)
#   --seed K         seed of every search and of the synth's noise burst (default 1)
#
# Budget: the DiffKS paper compares methods at equal iteration counts and time; an iteration is
# a gradient step for one method and a generation (10 to 16 renders) for another, so here every
# run gets the same compute time (--budget) and the same iteration cap (--steps), and the
# iterations, renders and ms per iteration actually used are recorded. gradient also stops when
# its loss stalls (20 steps without a 1e-4 relative improvement), usually well inside the budget;
# hybrid spends the first 30 % of --steps on CMA-ES over f0, then runs gradient descent.
# Population methods run with --threads 1, so ms per iteration compare like for like on this
# shared 2-core machine. The time budget makes iteration counts (so the results) depend on wall
# time; everything else (notes, seeds, settings) is fixed.
#
# Synthetic notes: scripts/experiment_optimization.py draws six parameter sets with
# numpy default_rng(2025) (f0 stratified over E2..E5, decay and loop taps as log-linear ramps over
# the 16 control frames, a coloured noise burst, residual_mix 0), `ddsp render --seed K` renders
# 1 s of each with the same noise seed the search uses, so the true parameters reproduce a note
# exactly (checked: `ddsp loss` of the truth is ~1e-5).
#
# Distance: `ddsp loss --loss mrstft --seed K` of each run's params.json against its target (the
# DDSP multi-resolution STFT loss that every run optimises); it equals report.json's best_loss to
# float rounding (the script records both). Parameter L1: see experiment_optimization.py.
#
# The starting point of every method is the synth's initial guess from the target (YIN pitch,
# measured decay, residual excitation); a `match --steps 1` run per sound (DIR/runs/SOUND/start)
# records it, so the table shows the starting distance and parameter error too.
#
# Writes DIR/runs.jsonl (one line per run), DIR/runs.csv, DIR/summary.json, DIR/summary.md, the
# notes (DIR/notes/note_K.{json,wav}) and every run's ddsp output (DIR/runs/SOUND/METHOD/);
# prints the markdown tables. Exit status 1 if a run failed (the others are still summarised).
set -uo pipefail
caller_pwd="$PWD"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1

PY=/usr/bin/python3  # Debian's interpreter has numpy
HELPER=scripts/experiment_optimization.py
DDSP=build/ddsp
METHODS=(gradient genetic cmaes hybrid)
NOTE_SEED=2025  # numpy seed of the synthetic notes' parameters

out=build/experiment
budget_s=10
steps=1000
seed=1
quick=0
budget_set=0
steps_set=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out="${2:?--out needs a directory}"; [[ "$out" = /* ]] || out="$caller_pwd/$out"; shift ;;
    --budget) budget_s="${2:?--budget needs seconds}"; budget_set=1; shift ;;
    --steps) steps="${2:?--steps needs a number}"; steps_set=1; shift ;;
    --seed) seed="${2:?--seed needs a number}"; shift ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "experiment-optimization.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$quick" -eq 1 ]; then  # explicit --budget / --steps win over the quick defaults
  [ "$budget_set" -eq 1 ] || budget_s=2
  [ "$steps_set" -eq 1 ] || steps=300
fi
die() { echo "experiment-optimization.sh: $*" >&2; exit 1; }
[[ "$budget_s" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--budget must be a number of seconds"
[[ "$steps" =~ ^[0-9]+$ && "$steps" -ge 1 ]] || die "--steps must be a positive integer"
[[ "$seed" =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer"

"$PY" -c 'import numpy' 2>/dev/null || die "$PY with numpy is needed (apt-get install python3-numpy)"

# [SECTION] the ddsp binary: build it when it is missing (an existing one is used as is)
if [ ! -x "$DDSP" ]; then
  echo "experiment-optimization.sh: $DDSP is missing; building it (cmake --build build --target ddsp)"
  mkdir -p build
  if [ ! -f build/CMakeCache.txt ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >build/experiment-configure.log 2>&1 ||
      { tail -n 15 build/experiment-configure.log; die "configuring build/ failed; run cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build first"; }
  fi
  cmake --build build --target ddsp -j "$(nproc 2>/dev/null || echo 2)" >build/experiment-build.log 2>&1 ||
    { tail -n 15 build/experiment-build.log; die "building $DDSP failed; run cmake --build build first"; }
  [ -x "$DDSP" ] || die "$DDSP is still missing after the build; run cmake --build build first"
fi

# [SECTION] sounds
mkdir -p "$out" || die "cannot create $out"
out="$(cd "$out" && pwd)"
# Every run uses a copy of the binary, so a rebuild of build/ during the experiment cannot mix versions.
built="$(date -u -r "$DDSP" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || echo '?')"
cp "$DDSP" "$out/ddsp" || die "cannot copy $DDSP to $out"
DDSP="$out/ddsp"
runs="$out/runs.jsonl"
: >"$runs"
"$DDSP" synths >"$out/synths.json" || die "$DDSP synths failed"

mapfile -t plucks < <("$PY" "$HELPER" plucks assets/sounds/manifest.json)
[ "${#plucks[@]}" -gt 0 ] || die "no plucks in assets/sounds/manifest.json"
mapfile -t notes < <("$PY" "$HELPER" notes --synths "$out/synths.json" --out "$out/notes" --seed "$NOTE_SEED")
[ "${#notes[@]}" -gt 0 ] || die "drawing the synthetic notes failed"
if [ "$quick" -eq 1 ]; then  # two of each, far apart in pitch
  plucks=("${plucks[0]}" "${plucks[3]}")
  notes=("${notes[0]}" "${notes[3]}")
fi

declare -A truth_distance=()
for n in "${notes[@]}"; do
  "$DDSP" render --params "$out/notes/$n.json" --seed "$seed" -o "$out/notes/$n.wav" 2>"$out/notes/$n.log" ||
    die "rendering $n failed: $(tail -n 1 "$out/notes/$n.log")"
  # The truth must reproduce its note (same noise seed): a sanity check of the set-up.
  d="$("$DDSP" loss --params "$out/notes/$n.json" --target "$out/notes/$n.wav" --seed "$seed")" ||
    die "ddsp loss on $n's true parameters failed"
  truth_distance[$n]="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["loss"])' "$d")"
done

# [SECTION] runs
sounds=()   # "kind|name|target"
for p in "${plucks[@]}"; do sounds+=("real|${p%.wav}|assets/sounds/$p"); done
for n in "${notes[@]}"; do sounds+=("synthetic|$n|$out/notes/$n.wav"); done
total=$(( ${#sounds[@]} * ${#METHODS[@]} ))
echo "experiment-optimization.sh: ${#plucks[@]} plucks + ${#notes[@]} synthetic notes x ${#METHODS[@]} methods" \
     "= $total runs, ${budget_s} s / ${steps} iterations each, seed $seed, --threads 1 -> $out"
t_start=$SECONDS
k=0
failed=0
for s in "${sounds[@]}"; do
  IFS='|' read -r kind name target <<<"$s"
  # "start": the initial guess (`match --steps 1` keeps the initial parameters as its best: the
  # step's update is never evaluated), so the table can show where every method started from.
  for m in start "${METHODS[@]}"; do
    if [ "$m" = start ]; then
      match_args=(--method gradient --steps 1)
      position="start"
    else
      match_args=(--method "$m" --steps "$steps" --time-budget "$budget_s" --threads 1)
      k=$((k + 1))
      position="$k/$total"
    fi
    dir="$out/runs/$name/$m"
    rm -rf "$dir"
    mkdir -p "$dir"
    row_args=(--run-dir "$dir" --sound "$name" --kind "$kind" --method "$m" --seed "$seed" --synths "$out/synths.json")
    if [ "$kind" = synthetic ]; then
      row_args+=(--truth "$out/notes/$name.json" --truth-distance "${truth_distance[$name]}")
    fi
    if "$DDSP" match --synth ks "${match_args[@]}" --target "$target" --seed "$seed" --loss mrstft -q \
         -o "$dir" 2>"$dir/match.log" &&
       d="$("$DDSP" loss --synth ks --params "$dir/params.json" --target "$target" --seed "$seed" --loss mrstft 2>>"$dir/match.log")"; then
      row_args+=(--distance-json "$d")
    else
      row_args+=(--error "ddsp failed: $(tail -n 1 "$dir/match.log")")
    fi
    row="$("$PY" "$HELPER" row "${row_args[@]}")"
    echo "$row" >>"$runs"
    "$PY" "$HELPER" progress "$row" "$position" ||
      failed=$((failed + 1))
  done
done

# [SECTION] summary
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -n "$(git status --porcelain -- src 2>/dev/null)" ] && commit="$commit (src/ has uncommitted changes)"
cpu="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)"
echo
"$PY" "$HELPER" summarise --runs "$runs" --out "$out" \
  --info "Sounds=${#plucks[@]} real plucks (assets/sounds), ${#notes[@]} synthetic ks notes (1 s, numpy seed $NOTE_SEED, E2..E5)" \
  --info "Budget per run=${budget_s} s compute (--time-budget) and at most ${steps} iterations (--steps); --threads 1; --seed $seed; loss mrstft" \
  --info "Synthetic truth check=ddsp loss of the true parameters: $(for n in "${notes[@]}"; do printf '%s ' "${truth_distance[$n]}"; done)" \
  --info "Total wall time=$((SECONDS - t_start)) s" \
  --info "Date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --info "Machine=${cpu:-unknown CPU}, $(nproc --all 2>/dev/null || echo '?') cores" \
  --info "Commit=$commit; build/ddsp built $built" || die "summarising $runs failed"
echo
echo "experiment-optimization.sh: wrote $out/summary.md, summary.json, runs.jsonl, runs.csv"
[ "$failed" -eq 0 ] || { echo "experiment-optimization.sh: $failed of $total runs failed" >&2; exit 1; }
