#!/usr/bin/env bash
# `ddsp match` on the bundled real recordings lowers the spectral distance well below where it
# started, for every synth that fits the sound: ks and ddsp on the six plucks, drum808 on the snares,
# toms and kick (the clap and hi-hats are noise bursts an 808 snare cannot shape; they are left out).
# Gradient method, default 300 steps, fixed seed: deterministic, about 30 s natively.
# Run by ctest as: bash tests/cli/test_match_recordings.sh path/to/ddsp
set -u
D="${1:?usage: test_match_recordings.sh path/to/ddsp}"
D="$(cd "$(dirname "$D")" && pwd)/$(basename "$D")"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
T="/tmp/ddsp_match_recordings_$$"
mkdir -p "$T" && cd "$T" || exit 1
trap 'rm -rf "$T"' EXIT
S="$ROOT/assets/sounds"

failed=0
json_num() { grep -o "\"$1\": [-+0-9.eE]*" "$2" | head -1 | sed 's/.*: //'; }

# check SYNTH MAX_MEAN_RATIO FILE...: each run ends below 0.85 of its starting distance, and the
# mean ratio over the files is below MAX_MEAN_RATIO.
check() {
  local synth="$1" max_mean="$2" sum=0 count=0 f name init best ratio
  shift 2
  for f in "$@"; do
    name="$(basename "$f" .wav)"
    if ! "$D" match --synth "$synth" --method gradient --target "$f" --seed 0 -q -o "$synth-$name" 2> err; then
      echo "FAIL $synth on $name: exit non-zero: $(head -1 err)"; failed=1; continue
    fi
    init="$(json_num initial_loss "$synth-$name/report.json")"
    best="$(json_num best_loss "$synth-$name/report.json")"
    ratio="$(awk -v b="$best" -v i="$init" 'BEGIN { printf "%.3f", b / i }')"
    if awk -v r="$ratio" 'BEGIN { exit !(r < 0.85) }'; then
      echo "ok   $synth on $name: $init -> $best (x$ratio)"
    else
      echo "FAIL $synth on $name: $init -> $best (x$ratio, needs < 0.85)"; failed=1
    fi
    sum="$(awk -v s="$sum" -v r="$ratio" 'BEGIN { print s + r }')"
    count=$((count + 1))
  done
  local mean
  mean="$(awk -v s="$sum" -v c="$count" 'BEGIN { printf "%.3f", c ? s / c : 1 }')"
  if awk -v m="$mean" -v x="$max_mean" 'BEGIN { exit !(m < x) }'; then
    echo "ok   $synth: mean ratio $mean over $count recordings (needs < $max_mean)"
  else
    echo "FAIL $synth: mean ratio $mean over $count recordings (needs < $max_mean)"; failed=1
  fi
}

check ks 0.6 "$S"/pluck_*.wav
check ddsp 0.2 "$S"/pluck_*.wav
check drum808 0.5 "$S"/snare_*.wav "$S"/tom_*.wav "$S"/kick_*.wav

[ "$failed" = 0 ] && echo "== match lowers the distance on every bundled recording" || exit 1
