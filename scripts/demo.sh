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

# Until the studio lands: match the bundled snare with the 808 synth and show where the result is.
out="build/demo"
echo
echo "demo: matching assets/sounds/snare_audiophob_1.wav with drum808 (gradient, 100 steps)"
build/ddsp match --synth drum808 --method gradient --target assets/sounds/snare_audiophob_1.wav \
  --steps 100 --seed 1 -o "$out"
echo
echo "demo: the browser studio is not here yet (issue 4). What runs today:"
echo "  $out/compare.png                   target vs reconstruction, spectrograms, loss curve"
echo "  $out/recon.wav, $out/params.json   the matched sound and its preset"
echo "  build/ddsp --help                  synths, render, loss, match, landscape"
echo "  scripts/bench.sh                   ddsp.cpp native and wasm side by side with PyTorch"
echo "  scripts/test.sh                    every test"
