#!/usr/bin/env bash
# The long fuzz run (issue 15): every input format under AddressSanitizer + UBSan (build-asan),
# N minutes split across the formats, then the URL-parameter parsers of the pages under node.
#   scripts/fuzz.sh [--minutes N] [--seed S] [--format F[,F...]] [--inputs K] [--known TEXT]
# --minutes (default 15) is the wall-clock budget of the native formats, spent in rounds of 100
# inputs per format so that every format gets the same count (on an idle 2-core machine 15 minutes
# give over 10,000 each; a loaded machine gives fewer: check the counts, or use --inputs); --inputs K
# runs exactly K inputs per format instead. Failing inputs go to build-asan/fuzz-failures/ with the
# command that reproduces them. Exits non-zero if any input failed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
minutes=15 seed=1 format="" inputs="" known=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --format) format="$2"; shift 2 ;;
    --inputs) inputs="$2"; shift 2 ;;
    --known) known+=(--known "$2"); shift 2 ;;  # problems containing this text are counted, not failed
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
jobs=2
if [ ! -f build-asan/CMakeCache.txt ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDDSP_SANITIZE=ON -DDDSP_BUILD_BENCH=OFF >/dev/null
fi
cmake --build build-asan --target fuzz_inputs -j "$jobs"

# LeakSanitizer runs at exit; a hard RSS limit turns a runaway allocation into a report.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:hard_rss_limit_mb=3000:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
args=(--seed "$seed" --out build-asan/fuzz-failures)
[ -n "$format" ] && args+=(--format "$format")
[ "${#known[@]}" -gt 0 ] && args+=("${known[@]}")
if [ -n "$inputs" ]; then args+=(--inputs "$inputs"); else args+=(--seconds "$((minutes * 60))"); fi
status=0
build-asan/fuzz_inputs "${args[@]}" || status=$?

# The pages' URL parameters and share fragment (web/url_params.js), in node.
if [ -z "$format" ] || [[ ",$format," == *",url,"* ]]; then
  node tests/fuzz/fuzz_url_params.mjs --seed "$seed" --inputs "${inputs:-20000}" || status=$?
fi
exit "$status"
