#!/usr/bin/env bash
# A training run killed with SIGKILL at any moment loses nothing: each restart with --resume continues
# from the last checkpoint (never a half-written one: files are written to a temporary and renamed),
# and the run that finishes writes the same model bytes and the same log steps as a run never killed.
# Run by ctest as: bash tests/cli/test_kill_resume.sh path/to/ddsp [--kills N]
set -u
D="${1:?usage: test_kill_resume.sh path/to/ddsp [--kills N]}"
D="$(cd "$(dirname "$D")" && pwd)/$(basename "$D")"
kills_wanted=8
[ "${2:-}" = "--kills" ] && kills_wanted="${3:?--kills N}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
T="/tmp/ddsp_kill_test_$$"
mkdir -p "$T" && cd "$T" || exit 1
trap 'rm -rf "$T"' EXIT
die() { echo "FAIL $*"; [ -s err ] && echo "     stderr: $(tail -c 600 err)"; exit 1; }
ok() { echo "ok   $*"; }

mkdir -p ds/wav
for p in nylon_e3:train steel_a3:train harp_e4:valid koto_e5:test; do
  cp "$ROOT/assets/sounds/pluck_${p%%:*}.wav" "ds/wav/${p%%:*}.wav"
  echo "{\"name\": \"${p%%:*}\", \"instrument\": \"${p%%_*}\", \"split\": \"${p##*:}\", \"midi\": 60, \"velocity\": 80}" >> ds/metadata.jsonl
done
train=("$D" train --data ds --steps 40 --batch 2 --valid-clips 1 --validate-every 10 --checkpoint-every 1)
steps_of() { grep -o '"step": [0-9]*' "$1" | tr '\n' ' '; }

# The run never killed; its duration sets the range of kill times.
t0=$(date +%s%N)
"${train[@]}" -o full 2> err || die "uninterrupted run failed"
run_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ok "uninterrupted: 40 steps in $run_ms ms"

# Killed at seeded random moments (start-up, mid-step, mid-checkpoint, mid-log), then resumed, until it finishes.
RANDOM=1234
kills=0; attempts=0; finished=0
while [ "$attempts" -lt 200 ]; do
  attempts=$((attempts + 1))
  resume=(); [ -e killed/checkpoint.safetensors ] && resume=(--resume)
  if [ "$kills" -ge "$kills_wanted" ]; then
    "${train[@]}" -o killed "${resume[@]}" 2> err || die "the final resumed run failed"
    finished=1; break
  fi
  "${train[@]}" -o killed "${resume[@]}" 2> err &
  pid=$!
  delay_ms=$(( RANDOM % (run_ms + 1) ))
  sleep "$(awk -v m="$delay_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
  kill -9 "$pid" 2>/dev/null
  { wait "$pid"; } 2>/dev/null; rc=$?
  if [ "$rc" = 137 ]; then
    kills=$((kills + 1))
  elif [ "$rc" = 0 ]; then
    rm -rf killed  # finished before the kill: start over, so every kill lands in a run
  else
    die "a run exited $rc after restarting (a broken checkpoint?)"
  fi
done
[ "$finished" = 1 ] || die "never finished"
resumed_at=$(grep -o "resumed at step [0-9]*" err | grep -o "[0-9]*$")
ok "killed $kills times with SIGKILL (last resume at step ${resumed_at:-0}), then finished"
cmp -s full/model.safetensors killed/model.safetensors || die "the killed-and-resumed model differs from the uninterrupted one"
ok "same model bytes as the uninterrupted run"
[ "$(steps_of full/log.jsonl)" = "$(steps_of killed/log.jsonl)" ] ||
  die "log steps differ: '$(steps_of killed/log.jsonl)' vs '$(steps_of full/log.jsonl)'"
ok "log.jsonl has the same steps, each line whole"
left="$(ls killed | grep -c '\.tmp-')"
[ "$left" = 0 ] || die "$left temporary files left in the output folder: $(ls killed)"
echo "== kill/resume checks passed"
