#!/usr/bin/env bash
# Installs what is missing, builds the studio (WebAssembly) and serves it on localhost.
#   scripts/demo.sh            serves on http://localhost:8080/ (PORT=... to change)
# The site is a folder of static files (build-wasm/site); any static host can serve it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export NODE_PATH=/usr/share/nodejs  # Debian's emscripten needs node's acorn from here
jobs="$(nproc 2>/dev/null || echo 2)"
port="${PORT:-8080}"

bash scripts/setup.sh
echo "demo: building the native ddsp command (it draws the tutorial book's figures)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >build-configure.log 2>&1 || { tail -n 20 build-configure.log; exit 1; }
rm -f build-configure.log
cmake --build build --target ddsp -j "$jobs"
echo "demo: building the studio (first build takes a few minutes)"
emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node \
  >build-wasm-configure.log 2>&1 || { tail -n 20 build-wasm-configure.log; exit 1; }
rm -f build-wasm-configure.log
cmake --build build-wasm --target site -j "$jobs"
site="build-wasm/site"
echo
echo "demo: the studio is at   http://localhost:$port/"
echo "demo: embeddable widget  http://localhost:$port/embed.html?synth=ks&method=gradient&target=assets/sounds/pluck_nylon_e3.wav"
echo "demo: tutorial book      http://localhost:$port/book/"
echo "demo: Ctrl-C stops the server"
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site"
