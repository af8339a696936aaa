#!/usr/bin/env bash
# Side-by-side benchmark: ddsp.cpp native, ddsp.cpp wasm under node, and PyTorch (one thread),
# all pinned to one core, on the same workloads (see tests/bench/README.md).
#
#   scripts/bench.sh [--no-build]
#
#   --no-build       use the binaries already in build/ and build-wasm/
#   env JOBS         parallel build jobs (default: nproc)
#   env TORCH_ARGS   extra arguments for tests/bench/bench_torch.py (e.g. "--min-iters 5")
#   env BENCH_RTOL   relative tolerance of the loss cross-check (default 1e-3)
#
# Writes build/bench/results.jsonl (raw JSON lines) and build/bench/results.md (the tables), and
# prints the tables. Exits non-zero only if no implementation produced a result.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
export NODE_PATH=/usr/share/nodejs  # Debian's emscripten needs node's acorn from here

# C++ benchmark programs (tests/bench/<name>.cpp); each prints one JSON line per workload.
BENCHES=(bench_step)

PY=/usr/bin/python3  # Debian's interpreter: python3-torch / python3-torchaudio live there
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

out_dir=build/bench
mkdir -p "$out_dir"
results="$out_dir/results.jsonl"
: >"$results"

pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then
  pin=(taskset -c 0)
else
  echo "bench.sh: taskset not available; running unpinned"
fi

say() { echo; echo "=== $* ==="; }

# [SECTION] PyTorch (installed here and only here)
torch_pkgs=(python3-torch python3-torchaudio)
have_torch=1
if ! "$PY" -c 'import torch, torchaudio' 2>/dev/null; then
  say "installing ${torch_pkgs[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd=(sudo)
  apt_get() { "${sudo_cmd[@]}" apt-get "$@"; }
  if ! { apt_get install -y "${torch_pkgs[@]}" ||
         { apt_get update && apt_get install -y "${torch_pkgs[@]}"; }; } ||
     ! "$PY" -c 'import torch, torchaudio' 2>/dev/null; then
    echo "bench.sh: PyTorch is not available; skipping the torch column"
    have_torch=0
  fi
fi

# [SECTION] builds
# build_target DIR TARGET: builds one target; a failure is reported, never fatal.
build_target() {
  local dir="$1" target="$2"
  if ! cmake --build "$dir" --target "$target" -j "$jobs" >"$dir/bench-build-$target.log" 2>&1; then
    echo "bench.sh: building $target in $dir failed (log: $dir/bench-build-$target.log):"
    tail -n 15 "$dir/bench-build-$target.log"
    return 1
  fi
}

declare -A built=()  # "native:bench_step" -> 1 when the binary is fresh
if [ "$build" -eq 1 ]; then
  say "native build (build/, Release)"
  mkdir -p build
  if cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >build/bench-configure.log 2>&1; then
    for b in "${BENCHES[@]}"; do build_target build "$b" && built["native:$b"]=1; done
  else
    echo "bench.sh: native configure failed:"; tail -n 15 build/bench-configure.log
  fi

  say "wasm build (build-wasm/, Release, emscripten)"
  if command -v emcmake >/dev/null 2>&1; then
    mkdir -p build-wasm
    if emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release \
         -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node >build-wasm/bench-configure.log 2>&1; then
      for b in "${BENCHES[@]}"; do build_target build-wasm "$b" && built["wasm:$b"]=1; done
    else
      echo "bench.sh: wasm configure failed:"; tail -n 15 build-wasm/bench-configure.log
    fi
  else
    echo "bench.sh: emcmake not found; skipping the wasm build"
  fi
fi

# [SECTION] runs
# run IMPL BENCH CMD...: runs one implementation pinned to one core, keeps its JSON lines.
ran=0
run() {
  local impl="$1" name="$2"; shift 2
  say "$impl: $name"
  local log="$out_dir/$impl-$name.out"
  if "${pin[@]}" "$@" >"$log"; then
    :
  else
    echo "bench.sh: $impl $name exited with status $? (partial results kept)"
  fi
  local lines
  lines="$(grep -E '^\{' "$log" || true)"
  if [ -z "$lines" ]; then
    echo "bench.sh: $impl $name printed no JSON result"; return 1
  fi
  echo "$lines" | tee -a "$results"
  ran=$((ran + 1))
}

for b in "${BENCHES[@]}"; do
  if [ "$build" -eq 1 ] && [ -z "${built[native:$b]:-}" ]; then
    echo "bench.sh: skipping native $b (build failed; --no-build runs an existing build/$b)"
  elif [ -x "build/$b" ]; then
    run native "$b" "build/$b"
  else
    echo "bench.sh: skipping native $b (build/$b is missing)"
  fi
  if [ "$build" -eq 1 ] && [ -z "${built[wasm:$b]:-}" ]; then
    echo "bench.sh: skipping wasm $b (build failed; --no-build runs an existing build-wasm/$b.js)"
  elif [ -f "build-wasm/$b.js" ] && command -v node >/dev/null 2>&1; then
    run wasm "$b" node "build-wasm/$b.js"
  else
    echo "bench.sh: skipping wasm $b (build-wasm/$b.js or node is missing)"
  fi
done

if [ "$have_torch" -eq 1 ]; then
  # shellcheck disable=SC2086  # TORCH_ARGS is a word list on purpose
  run torch bench_torch "$PY" tests/bench/bench_torch.py ${TORCH_ARGS:-}
fi

if [ "$ran" -eq 0 ]; then
  echo "bench.sh: no implementation produced results"; exit 1
fi

# [SECTION] report
cxx="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' build/CMakeCache.txt 2>/dev/null)"
cxx_flags="$(sed -n 's/^CMAKE_CXX_FLAGS_RELEASE:[A-Z]*=//p' build/CMakeCache.txt 2>/dev/null)"
native_arch="$(sed -n 's/^DDSP_NATIVE_ARCH:[A-Z]*=//p' build/CMakeCache.txt 2>/dev/null)"
[ "$native_arch" = "ON" ] && cxx_flags="$cxx_flags -march=native"
cxx_version="$("${cxx:-c++}" --version 2>/dev/null | head -n 1)"
emxx_version="$(em++ --version 2>/dev/null | head -n 1 |
  grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)"
[ -n "$emxx_version" ] && emxx_version="emscripten $emxx_version"
node_version="$(node --version 2>/dev/null)"
torch_version="$("$PY" -c 'import torch, torchaudio
print(f"torch {torch.__version__}, torchaudio {torchaudio.__version__}")' 2>/dev/null)"
cpu="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)"
cores="$(nproc --all 2>/dev/null || echo '?')"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -n "$(git status --porcelain 2>/dev/null)" ] && commit="$commit (with uncommitted changes)"

say "results"
"$PY" tests/bench/collate.py "$results" --out "$out_dir/results.md" --rtol "${BENCH_RTOL:-1e-3}" \
  --info "Date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --info "Machine=${cpu:-unknown CPU}, $cores cores ($(uname -m), $(uname -r))" \
  --info "Pinning=${pin[*]:-none}; torch single-threaded (intra-op 1, inter-op 1)" \
  --info "Native compiler=${cxx_version:-unknown} (flags: ${cxx_flags:-?})" \
  --info "Wasm compiler=${emxx_version:-unknown} (-O3 -msimd128), node ${node_version:-?}" \
  --info "PyTorch=${torch_version:-not available} ($PY)" \
  --info "Commit=$commit"
echo
echo "bench.sh: wrote $out_dir/results.md and $results"
