#!/usr/bin/env bash
# The tutorial book's figures, made by the `ddsp` command (never committed): called by the site build
# (CMake target book_figures) and usable by hand. Each figure is the command its chapter prints.
#   scripts/make-book-figures.sh path/to/ddsp OUT_DIR
set -euo pipefail
ddsp="${1:?usage: make-book-figures.sh path/to/ddsp OUT_DIR}"
out="${2:?usage: make-book-figures.sh path/to/ddsp OUT_DIR}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sounds="$root/assets/sounds"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
quiet() { "$@" > "$work/log" 2>&1 || { cat "$work/log" >&2; echo "make-book-figures: failed: $*" >&2; exit 1; }; }

# landscape NAME ARGS...: ddsp landscape ... -o DIR, keeping DIR/landscape.png as NAME.png
landscape() { local name="$1"; shift; quiet "$ddsp" landscape "$@" -o "$work/$name"; cp "$work/$name/landscape.png" "$out/$name.png"; }
# compare NAME ARGS...: ddsp match ... -o DIR, keeping DIR/compare.png as NAME.png
compare() { local name="$1"; shift; quiet "$ddsp" match "$@" -o "$work/$name"; cp "$work/$name/compare.png" "$out/$name.png"; }

# 1, 2: the sine's landscape against 622 Hz, default and linear loss
landscape sine-landscape --synth sine --x frequency_hz --y amplitude --steps 61 --target "$sounds/tutorial_sine_622hz.wav"
landscape sine-landscape-linear --synth sine --x frequency_hz --y amplitude --steps 61 --loss linear \
  --target "$sounds/tutorial_sine_622hz.wav"
# 2: a string's pitch x decay against a rendered string
echo '{"synth": "ks", "params": {"f0_hz": 196, "decay_s": 1.5}}' > "$work/string_196hz.json"
landscape ks-landscape-mrstft --synth ks --x f0_hz --y decay_s --steps 41 --target-params "$work/string_196hz.json"
# 3: the 808's noise filter
echo '{"synth": "drum808", "params": {"noise_cutoff_hz": 2000, "noise_q": 1.5}}' > "$work/snare.json"
landscape drum808-filter-landscape --synth drum808 --x noise_cutoff_hz --y noise_q --steps 41 --target-params "$work/snare.json"
# 4: the string by gradient, genetic search and the encoder's one pass
compare ks-gradient --synth ks --method gradient --steps 200 --target "$sounds/pluck_nylon_e3.wav"
compare ks-genetic --synth ks --method genetic --steps 25 --target "$sounds/pluck_nylon_e3.wav"
compare ks-amortised --synth ks --method amortised --target "$sounds/pluck_harp_e4.wav"
# 5: harmonic plus noise, frame by frame
compare ddsp-harp --synth ddsp --method gradient --steps 150 --target "$sounds/pluck_harp_e4.wav"
# 6: drums
compare drum-snare --synth drum --method gradient --steps 200 --target "$sounds/snare_audiophob_1.wav"
compare drum808-snare --synth drum808 --method gradient --steps 200 --target "$sounds/snare_audiophob_1.wav"
# 7: timbre transfer through the autoencoder
quiet "$ddsp" autoencode --model "$root/assets/models/ddsp_gm8.safetensors" --target "$sounds/pluck_steel_a3.wav" \
  --z-from "$sounds/pluck_harp_e4.wav" --png "$out/latent-transfer.png" -o "$work/transfer.wav"
echo "make-book-figures: $(ls "$out" | wc -l) figures in $out"
