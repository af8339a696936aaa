#!/usr/bin/env bash
# The studio's soak, long form: cycles of what a user does in a long session, driven through
# window.ddsp in headless Chromium, with every JS heap (after a forced GC) and the three wasm
# memories sampled (tests/browser/soak.mjs; the CI form is tests/browser/soak.test.mjs).
#   scripts/soak.sh [--cycles 500] [--sample-every 50] [--run-ms 1000] [--json out.json]
# Needs the site built: cmake --build build-wasm --target site. Exit code 0 when memory stays within
# 10 % after the first 10 % of the cycles, nothing failed, and a final match lowers the loss.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/tests/browser"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
exec node soak.mjs "$@"
