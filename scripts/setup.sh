#!/usr/bin/env bash
# Installs what ddsp.cpp needs and is missing; safe to re-run. Only Debian's and npm's registries.
#   - Debian packages: compilers, CMake, Emscripten, Eigen, stb, doctest, Chromium; for the matching
#     benchmark's test: fluidsynth, fluid-soundfont-gm, hydrogen-drumkits, numpy, Dask (distributed)
#   - Dear ImGui 1.86 sources from Debian's source package, into third_party/ (git-ignored)
#   - playwright-core (pinned in tests/browser/package.json + lock file) into tests/browser/node_modules
# PyTorch is installed only by scripts/bench.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
log() { echo "setup: $*"; }

# --- Debian packages --------------------------------------------------------------------------
packages=(build-essential cmake git ca-certificates python3 nodejs emscripten libeigen3-dev libstb-dev
          doctest-dev chromium dpkg-dev fluidsynth fluid-soundfont-gm hydrogen-drumkits python3-numpy
          python3-distributed)
[ -x /usr/bin/npm ] || command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
apt_updated=0
apt_update() { if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi; }
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- Dear ImGui 1.86 sources (Debian ships headers only; the backends come from the source package)
imgui_dir="$root/third_party/imgui"
if [ ! -f "$imgui_dir/backends/imgui_impl_glfw.cpp" ]; then
  if ! apt-cache showsrc imgui 2>/dev/null | grep -q '^Version: 1.86'; then
    log "enabling Debian source packages (deb-src) for imgui"
    as_root tee /etc/apt/sources.list.d/ddsp-deb-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt_updated=0; apt_update
  fi
  log "fetching Dear ImGui 1.86 sources into third_party/"
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get source -qq imgui=1.86+ds-1 >/dev/null 2>&1 || apt-get source -qq imgui >/dev/null)
  mkdir -p "$root/third_party"
  rm -rf "$imgui_dir"
  mv "$tmp"/imgui-1.86* "$imgui_dir"
  rm -rf "$tmp"
  [ -f "$imgui_dir/backends/imgui_impl_glfw.cpp" ] || { echo "setup: imgui sources lack backends/" >&2; exit 1; }
fi

# --- npm: playwright-core for the browser tests -----------------------------------------------
if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
  log "installing npm packages for tests/browser (npm ci)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

log "ok"
