#!/usr/bin/env bash
# Set-up, native build, wasm build, sanitizer build, and every test:
#   1. native unit tests (ctest)            build/
#   2. the same unit tests in wasm + node   build-wasm/
#   3. the unit tests under ASan + UBSan    build-asan/
#   4. browser end-to-end tests             tests/browser/*.test.mjs (node:test + playwright-core)
# Ends with each stage's wall time and counts, then one line "summary: N passed, N failed"; exits
# non-zero if anything failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export NODE_PATH=/usr/share/nodejs  # Debian's emscripten needs node's acorn from here
jobs="$(nproc 2>/dev/null || echo 2)"

passed=0
failed=0
# Each stage's wall time and counts, printed again above the summary line.
stage_name=""; stage_start=0; stage_passed=0; stage_failed=0; stage_lines=()
end_stage() {
  [ -n "$stage_name" ] || return 0
  local secs=$(( $(date +%s) - stage_start ))
  stage_lines+=("$(printf '  %-44s %4d:%02d  %3d passed, %d failed' "$stage_name" $((secs / 60)) $((secs % 60)) \
                  $((passed - stage_passed)) $((failed - stage_failed)))")
  stage_name=""
}
step() {
  end_stage
  echo; echo "=== $* ==="
  stage_name="$*"; stage_start=$(date +%s); stage_passed=$passed; stage_failed=$failed
}
total_start=$(date +%s)

# run_ctest DIR: runs ctest in DIR and adds its counts to the totals.
run_ctest() {
  local dir="$1" log
  log="$(mktemp)"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" 2>&1 | tee "$log"
  local line total nfail
  line="$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)"
  if [ -z "$line" ]; then
    failed=$((failed + 1)); echo "test.sh: ctest in $dir printed no summary"
  else
    nfail="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
    total="$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")"
    passed=$((passed + total - nfail)); failed=$((failed + nfail))
  fi
  rm -f "$log"
}

# build DIR CONFIGURE-ARGS...: configures and builds; a failed build counts as a failure.
build() {
  local dir="$1"; shift
  mkdir -p "$dir"
  if ! { "$@" -S . -B "$dir" >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; false; }; } ||
     ! cmake --build "$dir" -j "$jobs"; then
    echo "test.sh: build in $dir failed"; failed=$((failed + 1)); return 1
  fi
}

step "set-up (scripts/setup.sh)"
bash scripts/setup.sh || { echo "test.sh: set-up failed"; echo "summary: 0 passed, 1 failed"; exit 1; }

step "native build"
build build cmake -DCMAKE_BUILD_TYPE=Release && native_built=1
step "native unit tests (ctest)"
[ -n "${native_built:-}" ] && run_ctest build

step "wasm build"
build build-wasm emcmake cmake -DCMAKE_BUILD_TYPE=Release -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node && wasm_built=1
step "wasm unit tests under node (ctest)"
[ -n "${wasm_built:-}" ] && run_ctest build-wasm

step "AddressSanitizer + UBSan build"
build build-asan cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDDSP_SANITIZE=ON -DDDSP_BUILD_BENCH=OFF && asan_built=1
step "unit tests under ASan + UBSan (ctest)"
[ -n "${asan_built:-}" ] && run_ctest build-asan

shopt -s nullglob
browser_tests=(tests/browser/*.test.mjs)
if [ "${#browser_tests[@]}" -gt 0 ]; then
  step "browser end-to-end tests (headless chromium)"
  log="$(mktemp)"
  node --test --test-reporter=tap "${browser_tests[@]}" 2>&1 | tee "$log"
  bp="$(grep -E '^# pass [0-9]+' "$log" | tail -1 | awk '{print $3}')"
  bf="$(grep -E '^# fail [0-9]+' "$log" | tail -1 | awk '{print $3}')"
  if [ -z "$bp" ]; then failed=$((failed + 1)); else passed=$((passed + bp)); failed=$((failed + ${bf:-0})); fi
  rm -f "$log"
fi

end_stage
total=$(( $(date +%s) - total_start ))
echo
echo "stages (wall time m:ss):"
printf '%s\n' "${stage_lines[@]}"
printf '  %-44s %4d:%02d\n' "total" $((total / 60)) $((total % 60))
echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
