#!/usr/bin/env bash
# Regenerates the bundled example sounds in assets/sounds/ (WAVs + manifest.json) from Debian packages:
#   - plucked notes: fluidsynth renders of FluidR3_GM.sf2 (package fluid-soundfont-gm, MIT licence)
#   - drum hits: one-shots of the Audiophob kit (package hydrogen-drumkits, CC0)
# The outputs are committed; neither the build nor the tests run this script. It documents exactly
# how each file was made (see assets/sounds/README.md) and is safe to re-run: it installs what is
# missing, rewrites only its own files, and gives byte-identical output with the same package
# versions (fluidsynth renders without reverb/chorus; sox runs with -D: no dither, so the final
# 16-bit quantisation rounds to nearest and padded silence is exact zeros; -R keeps any other
# randomness repeatable).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log() { echo "make-assets: $*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# [SECTION] tools ---------------------------------------------------------------------------------
packages=(fluidsynth fluid-soundfont-gm hydrogen-drumkits sox python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
for p in "${packages[@]}"; do log "using $p $(dpkg-query -W -f='${Version}' "$p")"; done

py=/usr/bin/python3      # Debian's, standard library only
helper="$root/scripts/make_assets_helper.py"
sf2=/usr/share/sounds/sf2/FluidR3_GM.sf2
kit=/usr/share/hydrogen/data/drumkits/Audiophob
out="$root/assets/sounds"

# The licences, as stated by the packages; stop if a package update changed them.
grep -q 'I hereby release Fluid under the MIT license' /usr/share/doc/fluid-soundfont-gm/copyright \
  || { log "FluidR3_GM licence statement not found"; exit 1; }
grep -A4 '^Files: drumkits/Audiophob.h2drumkit' /usr/share/doc/hydrogen-drumkits/copyright | grep -q '^License: CC0' \
  || { log "Audiophob licence statement not found"; exit 1; }
grep -q 'This work is licensed under the Creative Commons 0 License.' "$kit/drumkit.xml" \
  || { log "Audiophob drumkit.xml licence not found"; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out" "$tmp/out"
entries="$tmp/entries.tsv"
: > "$entries"
lic_fluid="MIT (FluidR3_GM.sf2, Copyright (c) 2000-2002, 2008 Frank Wen)"
lic_kit="CC0 (Audiophob kit, soundcloud.com/audiophobdubstep)"

# Echo a command, then run it, so the log records the exact invocation.
run() { { printf '+'; printf ' %q' "$@"; printf '\n'; } >&2; "$@"; }

# [SECTION] plucks --------------------------------------------------------------------------------
# name | GM program (0-based) | MIDI note | instrument
# Each note: program change at t=0, note on at 0.05 s (velocity 100), note off at 1.45 s, end of
# track at 2.5 s. fluidsynth renders 44.1 kHz stereo float without reverb/chorus (dry pluck), gain
# 0.5 (peaks around -12 dBFS, no clipping). sox then: mono (channel average), normalise to -1 dBFS
# so the threshold below is relative to the peak, drop everything before the first sample above
# -50 dBFS, put back 5 ms of silence before the onset, keep 1.3 s (32-bit float intermediate);
# second pass (so `fade` knows where the file ends: after `silence` the length is unknown to sox):
# fade the last 0.35 s (half-sine), resample to 16 kHz (very high quality), normalise to -1 dBFS,
# write 16-bit PCM.
plucks=(
  "pluck_bass_e2|32|40|Acoustic Bass (GM 33)"
  "pluck_nylon_e3|24|52|Acoustic Guitar (nylon) (GM 25)"
  "pluck_steel_a3|25|57|Acoustic Guitar (steel) (GM 26)"
  "pluck_harp_e4|46|64|Orchestral Harp (GM 47)"
  "pluck_banjo_a4|105|69|Banjo (GM 106)"
  "pluck_koto_e5|107|76|Koto (GM 108)"
)
for spec in "${plucks[@]}"; do
  IFS='|' read -r name program note instrument <<< "$spec"
  run "$py" "$helper" midi "$tmp/$name.mid" "$program" "$note" 100 0.05 1.45 2.5
  run fluidsynth -ni -q -R 0 -C 0 -g 0.5 -r 44100 -T wav -O float -F "$tmp/$name.raw.wav" "$sf2" "$tmp/$name.mid" \
    > /dev/null
  run sox -V1 -R -D "$tmp/$name.raw.wav" -b 32 -e floating-point "$tmp/$name.cut.wav" \
    channels 1 norm -1 silence 1 1 -50d pad 0.005 0 trim 0 1.3
  run sox -V1 -R -D "$tmp/$name.cut.wav" -b 16 -e signed-integer "$tmp/out/$name.wav" \
    fade h 0 -0 0.35 rate -v 16000 norm -1
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name.wav" pluck "$instrument" "$note" \
    "fluidsynth render of FluidR3_GM.sf2 (Debian fluid-soundfont-gm), GM program $((program + 1))" \
    "$lic_fluid" >> "$entries"
done

# [SECTION] drums ---------------------------------------------------------------------------------
# name | kit file | kit instrument name | fade-out (s)
# sox: mono (channel average), 44.1 kHz (only the 22.05 kHz 8-bit snare is resampled), normalise to
# -1 dBFS, drop everything before the first sample above -50 dBFS, put back 2 ms of silence, keep
# at most 1 s (32-bit float intermediate); second pass: fade the tail (short for natural decays,
# 0.3 s for the open hat, which is cut), pad with silence to at least 0.5 s (most hits are
# 0.1-0.4 s long), normalise to -1 dBFS, write 16-bit PCM.
drums=(
  "kick_audiophob_1|86335__zgump__tom-0105.wav|Kick|0.05"
  "snare_audiophob_1|25671__walter-odington__garage-city-snare-snappy.wav|Snare Rock|0.02"
  "snare_audiophob_2|124382__cubix__8bit-snare.wav|Snare Jazz|0.02"
  "clap_audiophob_1|29800__stomachache__3.wav|Hand Clap|0.05"
  "tom_audiophob_low|99930__menegass__noise-tom0.wav|Tom Low|0.05"
  "tom_audiophob_high|101450__menegass__tomh.wav|Tom Hi|0.05"
  "hihat_audiophob_closed|116973__cbeeching__hat-light.wav|Closed HH|0.05"
  "hihat_audiophob_open|104227__minorr__hhat-paiste-302-14-open-p.wav|Open HH|0.3"
)
for spec in "${drums[@]}"; do
  IFS='|' read -r name src kit_name fade_s <<< "$spec"
  run sox -V1 -R -D "$kit/$src" -b 32 -e floating-point "$tmp/$name.cut.wav" \
    channels 1 rate -v 44100 norm -1 silence 1 1 -50d pad 0.002 0 trim 0 1.0
  len_s="$(soxi -D "$tmp/$name.cut.wav")"
  pad_s="$(awk -v l="$len_s" 'BEGIN { p = 0.5 - l; printf "%.6f", (p > 0 ? p : 0) }')"
  run sox -V1 -R -D "$tmp/$name.cut.wav" -b 16 -e signed-integer "$tmp/out/$name.wav" \
    fade h 0 -0 "$fade_s" pad 0 "$pad_s" norm -1
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name.wav" drum "$kit_name (Audiophob kit)" - \
    "hydrogen-drumkits (Debian) Audiophob/$src" "$lic_kit" >> "$entries"
done

# [SECTION] install + manifest --------------------------------------------------------------------
for f in "$tmp"/out/*.wav; do cp "$f" "$out/"; done
run "$py" "$helper" manifest "$out" < "$entries"

# [SECTION] checks --------------------------------------------------------------------------------
# Durations, peaks, onsets; for plucks the measured f0 must be within 2 % of the note.
printf '%-28s %7s %8s %8s %9s %9s %7s\n' file seconds peak_dB onset_ms f0_nom f0_meas dev_%
fail=0
while IFS=$'\t' read -r file kind _ note _ _; do
  read -r secs peak onset <<< "$("$py" "$helper" info "$out/$file")"
  nom=- meas=- dev=-
  if [ "$kind" = pluck ]; then
    nom="$(awk -v m="$note" 'BEGIN { printf "%.2f", 440 * 2 ^ ((m - 69) / 12) }')"
    meas="$("$py" "$helper" f0 "$out/$file")"
    dev="$(awk -v a="$meas" -v b="$nom" 'BEGIN { printf "%+.2f", 100 * (a - b) / b }')"
    awk -v d="$dev" 'BEGIN { exit !(d < -2 || d > 2) }' && { log "$file: f0 off by $dev %"; fail=1; }
  fi
  printf '%-28s %7s %8s %8s %9s %9s %7s\n' "$file" "$secs" "$peak" "$onset" "$nom" "$meas" "$dev"
done < "$entries"
log "total size: $(du -sh "$out" | cut -f1)"
[ "$fail" = 0 ] || exit 1
