#!/usr/bin/env bash
# Installs what is missing, builds, and serves the studio on localhost (prints the URL).
# Until the browser studio lands (issue 4) it builds everything and shows what there is to run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export NODE_PATH=/usr/share/nodejs
jobs="$(nproc 2>/dev/null || echo 2)"
port="${PORT:-8080}"

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"

if [ -f web/index.html ]; then
  emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-wasm -j "$jobs"
  site="build-wasm/site"
  echo "demo: serving $site at http://localhost:$port/"
  exec python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site"
fi

echo
echo "demo: built. The browser studio is not here yet; what runs today:"
echo "  build/bench_step                      one DDSP loss gradient step and a Karplus-Strong step, timed"
echo "  scripts/bench.sh                      the same side by side with PyTorch and wasm"
echo "  ctest --test-dir build                the unit tests"
