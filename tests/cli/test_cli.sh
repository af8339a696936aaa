#!/usr/bin/env bash
# End-to-end checks of the `ddsp` command. Run by ctest as: bash tests/cli/test_cli.sh path/to/ddsp
# Prints each check; exits non-zero at the first failure. Needs only bash, coreutils and awk.
set -u
D="${1:?usage: test_cli.sh path/to/ddsp}"
D="$(cd "$(dirname "$D")" && pwd)/$(basename "$D")"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
T="/tmp/ddsp_cli_test_$$"
mkdir -p "$T" && cd "$T" || exit 1
trap 'rm -rf "$T"' EXIT

ok() { echo "ok   $*"; }
die() {
  echo "FAIL $*"
  [ -s err ] && echo "     stderr: $(head -c 600 err)"
  exit 1
}
# run CMD...: runs with stdout in ./out and stderr in ./err; sets rc.
run() { "$@" > out 2> err; rc=$?; }
must() { run "$@"; [ "$rc" = 0 ] || die "exit $rc: $*"; }
# expect_error WHAT CMD...: non-zero exit and exactly one line on stderr.
expect_error() {
  local what="$1"; shift
  run "$@"
  [ "$rc" != 0 ] || die "$what: exit 0 (expected an error): $*"
  [ "$rc" -lt 128 ] || die "$what: crashed (exit $rc): $*"
  [ "$(wc -l < err)" = 1 ] || die "$what: expected exactly one line on stderr, got $(wc -l < err): $*"
  ok "$what -> exit $rc: $(cat err)"
}
# Numbers from our JSON: json_num KEY FILE (first match)
json_num() { grep -o "\"$1\": [-+0-9.eE]*" "$2" | head -1 | sed 's/.*: //'; }
# WAV header fields (read by walking the RIFF chunks, independent of the writer).
wav_rate() { od -An -tu4 -j24 -N4 "$1" | tr -d ' '; }
wav_channels() { od -An -tu2 -j22 -N2 "$1" | tr -d ' '; }
wav_bits() { od -An -tu2 -j34 -N2 "$1" | tr -d ' '; }
wav_frames() {
  local f="$1" off=12 total id size bits
  total=$(stat -c %s "$f"); bits=$(wav_bits "$f")
  while [ $((off + 8)) -le "$total" ]; do
    id=$(dd if="$f" bs=1 skip="$off" count=4 2>/dev/null)
    size=$(od -An -tu4 -j$((off + 4)) -N4 "$f" | tr -d ' ')
    if [ "$id" = data ]; then echo $((size / (bits / 8) / $(wav_channels "$f"))); return; fi
    off=$((off + 8 + size + size % 2))
  done
  echo 0
}
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
# awk_check EXPR MESSAGE VAR=VALUE...: fails unless the awk expression is true.
awk_check() {
  local expr="$1" msg="$2"; shift 2
  local vars=()
  for a in "$@"; do vars+=(-v "$a"); done
  awk "${vars[@]}" "BEGIN { exit ($expr) ? 0 : 1 }" || die "$msg ($*)"
}

echo "== ddsp CLI tests ($D)"

# [help] ---------------------------------------------------------------------------------------
must "$D" --help
for c in synths render loss match landscape analyse train autoencode stream remap-train remap; do
  must "$D" "$c" --help
  grep -q "usage: ddsp $c" out || die "$c --help prints no usage"
done
ok "--help for every command (exit 0, usage on stdout)"

# [synths] -------------------------------------------------------------------------------------
must "$D" synths
cp out synths.json
for s in ks sine drum808 drum ddsp; do
  grep -q "^  {\"name\": \"$s\"" synths.json || die "synths does not list $s"
done
[ "$(grep -c '^  {"name": ' synths.json)" = 5 ] || die "synths lists $(grep -c '^  {"name": ' synths.json) synths, expected 5"
[ "$(grep -c '^    {"name": ".*", "unit": ".*", "min": .*, "max": .*, "default": .*, "scale": "\(linear\|log\)", "size": [0-9]*, "global": \(true\|false\), "description": ' synths.json)" -ge 20 ] ||
  die "synths: parameter tables incomplete"
if command -v python3 > /dev/null; then
  python3 -c 'import json,sys; d=json.load(open("synths.json")); assert len(d)==5 and all(s["params"] for s in d)' ||
    die "synths: not valid JSON"
fi
ok "synths: 5 synths (ks, sine, drum808, drum, ddsp), each with a parameter table"

# [render] -------------------------------------------------------------------------------------
for s in ks sine drum808 drum ddsp; do
  sr=$(grep "^  {\"name\": \"$s\"" synths.json | grep -o '"sample_rate": [0-9]*' | sed 's/.*: //')
  must "$D" render --synth "$s" --seconds 0.3 -o "r_$s.wav"
  [ "$(wav_rate "r_$s.wav")" = "$sr" ] || die "render $s: rate $(wav_rate "r_$s.wav"), expected $sr"
  want=$(awk -v sr="$sr" 'BEGIN { printf "%d", 0.3 * sr + 0.5 }')
  [ "$(wav_frames "r_$s.wav")" = "$want" ] || die "render $s: $(wav_frames "r_$s.wav") frames, expected $want"
  [ "$(wav_bits "r_$s.wav")" = 32 ] || die "render $s: default format is not float32"
  ok "render $s: $want frames at $sr Hz, float32"
done
must "$D" render --synth sine --sr 22050 --seconds 0.2 --format pcm16 -o r_pcm.wav
[ "$(wav_rate r_pcm.wav)" = 22050 ] && [ "$(wav_frames r_pcm.wav)" = 4410 ] && [ "$(wav_bits r_pcm.wav)" = 16 ] ||
  die "render --sr 22050 --format pcm16: wrong header"
ok "render --sr 22050 --format pcm16: 4410 16-bit frames at 22050 Hz"
must "$D" render --synth drum808 --seconds 0.3 --seed 5 -o r_a.wav
must "$D" render --synth drum808 --seconds 0.3 --seed 5 -o r_b.wav
cmp -s r_a.wav r_b.wav || die "render: same seed, different bytes"
must "$D" render --synth drum808 --seconds 0.3 --seed 6 -o r_c.wav
cmp -s r_a.wav r_c.wav && die "render: the seed does not change the noise"
ok "render: same seed -> same bytes; another seed -> other noise"

# [loss --grad vs central differences of ddsp loss] --------------------------------------------
printf '{"synth": "sine", "params": {"frequency_hz": 300, "amplitude": 0.3}}\n' > t_sine.json
must "$D" render --params t_sine.json --seconds 0.25 -o t_sine.wav
must "$D" render --synth ks --seconds 0.5 -o t_ks.wav
# fd_check SYNTH TARGET LOSS PARAM H TOL 'other params json' VALUE
fd_check() {
  local synth="$1" target="$2" loss="$3" name="$4" h="$5" tol="$6" others="$7" x="$8" g lp lm xp xm
  printf '{"synth": "%s", "params": {%s, "%s": %s}}\n' "$synth" "$others" "$name" "$x" > p0.json
  must "$D" loss --params p0.json --target "$target" --loss "$loss" --grad
  g=$(json_num "$name" out)
  [ -n "$g" ] || die "loss --grad: no gradient for $name: $(cat out)"
  xp=$(awk -v x="$x" -v h="$h" 'BEGIN { printf "%.9g", x + h }')
  xm=$(awk -v x="$x" -v h="$h" 'BEGIN { printf "%.9g", x - h }')
  printf '{"synth": "%s", "params": {%s, "%s": %s}}\n' "$synth" "$others" "$name" "$xp" > pp.json
  printf '{"synth": "%s", "params": {%s, "%s": %s}}\n' "$synth" "$others" "$name" "$xm" > pm.json
  must "$D" loss --params pp.json --target "$target" --loss "$loss"
  lp=$(json_num loss out)
  must "$D" loss --params pm.json --target "$target" --loss "$loss"
  lm=$(json_num loss out)
  awk_check 'g != 0 && ((lp - lm) / (2 * h) - g) / g < tol && ((lp - lm) / (2 * h) - g) / g > -tol' \
    "loss --grad of $synth $name disagrees with central differences" g="$g" lp="$lp" lm="$lm" h="$h" tol="$tol"
  ok "$synth $name ($loss): grad $g, central difference $(awk -v a="$lp" -v b="$lm" -v h="$h" 'BEGIN { printf "%.6g", (a - b) / (2 * h) }') (h $h, within $tol)"
}
fd_check sine t_sine.wav mrstft amplitude 0.001 0.03 '"frequency_hz": 307' 0.2
fd_check sine t_sine.wav linear frequency_hz 0.01 0.05 '"amplitude": 0.2' 307
# A single number for a vector parameter (decay_s has one value per control frame): its gradient
# is the sum over the frames, which is what a central difference of that number measures.
fd_check ks t_ks.wav mrstft decay_s 0.01 0.03 '"f0_hz": 220, "exc_gain_db": -14, "residual_mix": 0' 1.2
fd_check ks t_ks.wav mrstft exc_gain_db 0.1 0.03 '"f0_hz": 220, "decay_s": 1.2, "residual_mix": 0' -14
must "$D" loss --params t_sine.json --target t_sine.wav
awk_check 'l < 1e-4' "loss of the exact parameters is not ~0" l="$(json_num loss out)"
ok "loss of the parameters that rendered the target: $(json_num loss out)"

# [match] ----------------------------------------------------------------------------------------
printf '{"synth": "sine", "params": {"frequency_hz": 305, "amplitude": 0.15}}\n' > init.json
# A small learning rate and room to converge (early stop), so the answer does not depend on where
# an oscillating Adam happens to be at a fixed step.
must "$D" match --synth sine --method gradient --target t_sine.wav --params init.json --loss linear --steps 300 --lr 0.01 -o m1
for f in params.json recon.wav report.json compare.png; do [ -s "m1/$f" ] || die "match: m1/$f missing"; done
is_png m1/compare.png || die "match: compare.png is not a PNG"
init_loss=$(json_num initial_loss m1/report.json); best_loss=$(json_num best_loss m1/report.json)
awk_check 'b < 0.5 * i' "match gradient did not lower the loss" i="$init_loss" b="$best_loss"
f=$(json_num frequency_hz m1/params.json)
awk_check 'f > 298 && f < 302' "match gradient: frequency $f is not near 300 Hz" f="$f"
runs=$(json_num iterations_run m1/report.json)
[ "$(grep -c '{"iteration": ' m1/report.json)" = "$runs" ] || die "report.json: expected $runs iteration records"
for k in synth method loss_kind seed target sample_rate initial_loss best_loss wall_time_s iterations; do
  grep -q "\"$k\": " m1/report.json || die "report.json has no $k"
done
[ "$(wav_frames m1/recon.wav)" = 4000 ] && [ "$(wav_rate m1/recon.wav)" = 16000 ] || die "recon.wav: wrong length or rate"
ok "match gradient: loss $init_loss -> $best_loss, frequency $f Hz; params.json, recon.wav, report.json, compare.png"
must "$D" loss --params m1/params.json --target t_sine.wav --loss linear
awk_check 'l < b * 1.01 + 1e-7 && l > b * 0.99 - 1e-7' "ddsp loss of params.json differs from report.json's best loss" \
  l="$(json_num loss out)" b="$best_loss"
ok "ddsp loss of the written params.json = the reported best loss ($(json_num loss out))"
for m in gradient genetic; do
  must "$D" match --synth sine --method "$m" --target t_sine.wav --steps 6 --seed 7 -q -o "s_${m}_a"
  must "$D" match --synth sine --method "$m" --target t_sine.wav --steps 6 --seed 7 -q -o "s_${m}_b"
  cmp -s "s_${m}_a/params.json" "s_${m}_b/params.json" || die "match $m: same seed, different params.json"
  cmp -s "s_${m}_a/recon.wav" "s_${m}_b/recon.wav" || die "match $m: same seed, different recon.wav"
  ok "match $m: same seed twice -> identical params.json and recon.wav"
done
must "$D" match --synth sine --method genetic --target t_sine.wav --steps 6 --seed 8 -q -o s_genetic_c
cmp -s s_genetic_a/params.json s_genetic_c/params.json && die "match genetic: another seed gave the same result"
ok "match genetic: another seed -> another result"
must "$D" render --params m1/params.json -o rr.wav
[ "$(wav_frames rr.wav)" = 4000 ] || die "render of a matched params.json: not the matched length"
ok "render of params.json uses its seconds and sample_rate (4000 frames)"

# [landscape] ------------------------------------------------------------------------------------
must "$D" landscape --synth sine --x frequency_hz --y amplitude --target-params t_sine.json --steps 9 \
  --x-range 200:450 -o l1
[ "$(wc -l < l1/landscape.csv)" = 82 ] || die "landscape.csv: expected 1 + 81 lines"
head -1 l1/landscape.csv | grep -q '^x,y,loss$' || die "landscape.csv: header"
is_png l1/landscape.png || die "landscape.png is not a PNG"
mx=$(grep -o '"minimum": {"x": [-0-9.e]*' l1/landscape.json | sed 's/.*: //')
awk_check 'x > 250 && x < 360' "landscape: the grid minimum ($mx) is not next to the target (300 Hz)" x="$mx"
ok "landscape: 9 x 9 grid in CSV and PNG, minimum at $mx Hz (target 300 Hz)"

# [bad input: non-zero exit, exactly one line on stderr] ---------------------------------------
echo "this is text, not audio" > text.wav
: > empty.wav
# 0.25 s of 16-bit digital silence
{ printf 'RIFF'; printf '\x44\x1f\x00\x00'; printf 'WAVEfmt '; printf '\x10\x00\x00\x00\x01\x00\x01\x00';
  printf '\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00'; printf 'data'; printf '\x20\x1f\x00\x00';
  head -c 8000 /dev/zero; } > silent.wav
printf '{"synth": "sine", "params": {"amplitude": 1.5}}\n' > range.json
printf '{"synth": "sine", "params": {"amplitude": 1e999}}\n' > huge.json
printf '{"synth": "sine", "params": {"amplitude": "0.5"}}\n' > string.json
printf '{"synth": "sine", "params": {"amplitud": 0.5}}\n' > unknown.json
printf '{"synth": "sine", "params": {"amplitude": 0.5}' > broken.json
expect_error "missing target file" "$D" match --synth sine --target nonexistent.wav -o e1
expect_error "text file named .wav" "$D" match --synth sine --target text.wav -o e1
expect_error "empty file" "$D" match --synth sine --target empty.wav -o e1
expect_error "silent WAV" "$D" match --synth sine --target silent.wav -o e1
expect_error "silent WAV (loss)" "$D" loss --params t_sine.json --target silent.wav
expect_error "unknown synth" "$D" match --synth theremin --target t_sine.wav -o e1
expect_error "unknown method" "$D" match --synth sine --method annealing --target t_sine.wav -o e1
expect_error "unknown loss" "$D" loss --params t_sine.json --target t_sine.wav --loss l2
expect_error "out-of-range parameter" "$D" loss --params range.json --target t_sine.wav
expect_error "out-of-range parameter (render)" "$D" render --params range.json -o e.wav
expect_error "huge number" "$D" loss --params huge.json --target t_sine.wav
expect_error "string value" "$D" render --params string.json -o e.wav
expect_error "unknown parameter" "$D" render --params unknown.json -o e.wav
expect_error "malformed JSON" "$D" render --params broken.json -o e.wav
expect_error "missing parameter file" "$D" render --params nonexistent.json -o e.wav
expect_error "synth mismatch" "$D" loss --synth ks --params t_sine.json --target t_sine.wav
expect_error "unwritable output" "$D" render --synth sine -o /nonexistent_dir/x.wav
expect_error "landscape: unknown parameter" "$D" landscape --synth sine --x frequency_hz --y nope --target t_sine.wav -o e2
expect_error "--f0 on a synth without pitch conditioning" "$D" render --synth sine --f0 220 -o e.wav
# usage errors: exit 2
for args in "render --synth sine --bogus 1 -o e.wav" "render --synth sine -o" "render --synth sine --seconds abc -o e.wav" \
            "render --synth sine --seconds 1e999 -o e.wav" "match --synth sine --target t_sine.wav --steps 0 -o e1" \
            "render --synth sine" "frobnicate" "render --synth sine --seed -3 -o e.wav"; do
  # shellcheck disable=SC2086
  expect_error "usage: ddsp $args" "$D" $args
  [ "$rc" = 2 ] || die "usage error exits $rc, expected 2: $args"
done
ok "usage errors exit 2"

# [a matched preset renders as match did, given its recording] -------------------------------------
pluck="$ROOT/assets/sounds/pluck_steel_a3.wav"
must "$D" match --synth ks --method gradient --target "$pluck" --steps 5 -q -o m_ks
must "$D" render --params m_ks/params.json --target "$pluck" -o m_ks/again.wav
cmp -s m_ks/recon.wav m_ks/again.wav || die "render --target does not reproduce match's recon.wav"
ok "render --params P.json --target T.wav reproduces match's recon.wav byte for byte"

# [analyse] --------------------------------------------------------------------------------------
must "$D" analyse --help
grep -q "usage: ddsp analyse" out || die "analyse --help prints no usage"
printf '{"synth": "sine", "params": {"frequency_hz": 220, "amplitude": 0.25}}\n' > a_sine.json
printf '{"synth": "sine", "params": {"frequency_hz": 220, "amplitude": 0.5}}\n' > a_sine2.json
must "$D" render --params a_sine.json --sr 16000 --seconds 1.003 -o a_sine.wav
must "$D" render --params a_sine2.json --sr 16000 --seconds 1.003 -o a_sine2.wav
must "$D" analyse --target a_sine.wav -o a1.json
[ ! -s out ] || die "analyse -o also wrote to stdout"
n=$(json_num num_samples a1.json); hop=$(json_num hop a1.json); frames=$(json_num num_frames a1.json)
[ "$n" = 16048 ] && [ "$hop" = 64 ] || die "analyse: num_samples $n, hop $hop (expected 16048, 64)"
[ "$frames" = $((n / hop + 1)) ] || die "analyse: $frames frames, expected n / hop + 1 = $((n / hop + 1))"
for key in f0_hz f0_confidence voiced loudness_db centroid_hz; do
  len=$(grep -o "\"$key\": \[[^]]*\]" a1.json | tr -cd ',' | wc -c)
  [ "$((len + 1))" = "$frames" ] || die "analyse: $key has $((len + 1)) values, expected $frames"
done
f0=$(json_num f0_median_hz a1.json)
awk_check 'f > 217.8 && f < 222.2' "analyse: median f0 $f0 is not within 1 % of 220 Hz" f="$f0"
must "$D" analyse --target a_sine2.wav
l1=$(json_num loudness_mean_db a1.json); l2=$(json_num loudness_mean_db out)
awk_check 'l2 - l1 > 5.9 && l2 - l1 < 6.1' "analyse: a 2x louder sine is not 6 dB louder" l1="$l1" l2="$l2"
if command -v python3 > /dev/null; then
  python3 -c 'import json; d=json.load(open("a1.json")); assert len(d["f0_hz"]) == d["num_frames"]' ||
    die "analyse: not valid JSON"
fi
ok "analyse: 220 Hz sine -> median f0 $f0 Hz, $frames frames (n / hop + 1), 2x amplitude -> +$(awk -v a="$l1" -v b="$l2" 'BEGIN { printf "%.2f", b - a }') dB"
expect_error "analyse: missing file" "$D" analyse --target nonexistent.wav
expect_error "analyse: text file named .wav" "$D" analyse --target text.wav
expect_error "analyse: silent WAV" "$D" analyse --target silent.wav
expect_error "analyse: unwritable output" "$D" analyse --target a_sine.wav -o /nonexistent_dir/a.json
expect_error "analyse: missing --target" "$D" analyse
[ "$rc" = 2 ] || die "analyse without --target exits $rc, expected 2"

# [train, autoencode] -------------------------------------------------------------------------
# A four-clip dataset from the bundled plucks (resampled by the loader), in make-dataset.sh's layout.
mkdir -p ds/wav
for p in nylon_e3:train steel_a3:train harp_e4:valid koto_e5:test; do
  cp "$ROOT/assets/sounds/pluck_${p%%:*}.wav" "ds/wav/${p%%:*}.wav"
  echo "{\"name\": \"${p%%:*}\", \"instrument\": \"${p%%_*}\", \"split\": \"${p##*:}\", \"midi\": 60, \"velocity\": 80}" >> ds/metadata.jsonl
done
must "$D" train --data ds -o tr_full --steps 8 --batch 2 --valid-clips 1 --validate-every 4
for f in model.safetensors checkpoint.safetensors report.json log.jsonl; do [ -s "tr_full/$f" ] || die "train: no $f"; done
grep -q '"valid"' tr_full/log.jsonl || die "train: no validation line in log.jsonl"
grep -q '"latent_space"' tr_full/model.safetensors || die "train: model has no latent_space metadata"
mr=$(grep -o '"test": {[^}]*}' tr_full/report.json | grep -o '"mrstft": [-+0-9.eE]*' | sed 's/.*: //')
awk_check 'm > 0 && m < 100' "train: test MR-STFT $mr not finite/positive" m="$mr"
# Interrupted after 3 steps and resumed: the same bytes as the uninterrupted run.
must "$D" train --data ds -o tr_part --steps 8 --batch 2 --valid-clips 1 --validate-every 4 --stop-after 3
[ ! -e tr_part/model.safetensors ] || die "train --stop-after wrote a final model"
must "$D" train --data ds -o tr_part --steps 8 --batch 2 --valid-clips 1 --validate-every 4 --resume
grep -q "resumed at step 3" err || die "train --resume did not resume at step 3"
cmp -s tr_full/model.safetensors tr_part/model.safetensors || die "train: resumed run differs from the uninterrupted one"
ok "train: 8 steps on 4 bundled plucks, test MR-STFT $mr; stopped at 3 + resumed = identical model bytes"
expect_error "train: missing dataset" "$D" train --data nonexistent_ds -o tr_x --steps 2
expect_error "train: resume without checkpoint" "$D" train --data ds -o tr_none --steps 2 --resume
must "$D" autoencode --model tr_full/model.safetensors --target "$ROOT/assets/sounds/pluck_nylon_e3.wav" -o ae.wav
zs=$(grep -o '"z": \[[^]]*\]' out | tr -cd ',' | wc -c)
[ "$((zs + 1))" = 8 ] || die "autoencode: z has $((zs + 1)) values, expected 8"
[ "$(wav_rate ae.wav)" = 16000 ] || die "autoencode: output rate $(wav_rate ae.wav)"
must "$D" autoencode --model tr_full/model.safetensors --target "$ROOT/assets/sounds/pluck_nylon_e3.wav" --z-from "$ROOT/assets/sounds/pluck_harp_e4.wav" --transpose 12 --png ae2.png -o ae2.wav
cmp -s ae.wav ae2.wav && die "autoencode: --z-from/--transpose changed nothing"
is_png ae2.png || die "autoencode --png wrote no PNG"
ok "autoencode: 8-dim latent, 16 kHz output; --z-from and --transpose change the sound"
expect_error "autoencode: wrong z size" "$D" autoencode --model tr_full/model.safetensors --target "$ROOT/assets/sounds/pluck_nylon_e3.wav" --z 1,2 -o ae3.wav
expect_error "autoencode: a WAV as model" "$D" autoencode --model ae.wav --target "$ROOT/assets/sounds/pluck_nylon_e3.wav" -o ae3.wav
expect_error "autoencode: missing model" "$D" autoencode --model tr_full/none.safetensors --target "$ROOT/assets/sounds/pluck_nylon_e3.wav" -o ae3.wav
must "$D" autoencode --model tr_part/checkpoint.safetensors --target "$ROOT/assets/sounds/pluck_nylon_e3.wav" -o ae4.wav
cmp -s ae.wav ae4.wav || die "autoencode: the final checkpoint does not play like the final model"
ok "autoencode: a training checkpoint loads as a model"

# [stream] --------------------------------------------------------------------------------------
# The audio thread's engine natively: a note at the preset's pitch at time 0 equals `ddsp render`
# (at the preset's rate: no converter, no latency); at 48 kHz it reports the converter's latency.
# max_diff A.wav B.wav SKIP: max |a[i] - b[i + SKIP]| over the shorter file (float32 WAVs).
wav_data_offset() {
  local f="$1" off=12 total id size
  total=$(stat -c %s "$f")
  while [ $((off + 8)) -le "$total" ]; do
    id=$(dd if="$f" bs=1 skip="$off" count=4 2>/dev/null)
    size=$(od -An -tu4 -j$((off + 4)) -N4 "$f" | tr -d ' ')
    if [ "$id" = data ]; then echo $((off + 8)); return; fi
    off=$((off + 8 + size + size % 2))
  done
  echo 0
}
max_diff() {
  local na nb oa ob
  na=$(wav_frames "$1"); nb=$(wav_frames "$2"); oa=$(wav_data_offset "$1"); ob=$(wav_data_offset "$2")
  [ "$(wav_bits "$1")" = 32 ] && [ "$(wav_bits "$2")" = 32 ] || die "max_diff: float32 WAVs only"
  paste <(od -An -v -tf4 -w4 -j"$oa" "$1" | head -n "$na") <(od -An -v -tf4 -w4 -j$((ob + 4 * $3)) "$2" | head -n $((nb - $3))) |
    awk 'NF == 2 { d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d; a = $1 < 0 ? -$1 : $1; if (a > p) p = a }
         END { printf "%.3g %.3g\n", m, p }'
}
echo '{"notes": [{"time": 0, "duration": 0.9}]}' > n0.json
for s in ks drum808 drum sine ddsp; do
  echo "{\"synth\": \"$s\", \"seconds\": 0.5, \"params\": {}}" > "p_$s.json"
  must "$D" render --params "p_$s.json" -o "r_$s.wav"
  sr=$(wav_rate "r_$s.wav")
  must "$D" stream --params "p_$s.json" --notes n0.json --sr "$sr" --seconds 0.5 -o "s_$s.wav"
  [ "$(json_num latency_samples out)" = 0 ] || die "stream $s at the preset's rate: latency $(json_num latency_samples out)"
  read -r md pk < <(max_diff "r_$s.wav" "s_$s.wav" 0)
  awk_check 'p + 0 > 0.01 && m + 0 <= 2e-5 * p && m == m + 0' "stream $s: streamed note differs from render (max diff $md, peak $pk)" m="$md" p="$pk"
  ok "stream $s: a note at the preset's pitch = render within $md (peak $pk)"
done
must "$D" stream --synth ks --notes n0.json --seconds 1 -o s48.wav
[ "$(wav_rate s48.wav)" = 48000 ] || die "stream: default output rate $(wav_rate s48.wav)"
lat=$(json_num latency_ms out); rtf=$(json_num real_time_factor out)
awk_check 'l > 0 && l < 3 && r > 0 && r < 1' "stream: latency $lat ms / real-time factor $rtf" l="$lat" r="$rtf"
ok "stream ks at 48 kHz: latency $lat ms, real-time factor $rtf"
cat > chord.json <<'EOF'
{"notes": [{"time": 0, "midi": 48, "duration": 1}, {"time": 0, "midi": 52, "duration": 1}, {"time": 0, "midi": 55, "duration": 1},
 {"time": 0.1, "midi": 60, "velocity": 0.5, "duration": 1}, {"time": 0.1, "midi": 64}, {"time": 0.2, "midi": 67},
 {"time": 0.2, "midi": 71}, {"time": 0.3, "midi": 72}, {"time": 0.3, "midi": 76}, {"time": 0.4, "f0_hz": 1000}]}
EOF
must "$D" stream --synth ks --notes chord.json --block 441 --sr 44100 -o chord.wav
[ "$(json_num steals out)" = 2 ] || die "stream: 10 held notes should steal 2 voices, got $(json_num steals out)"
ok "stream: 10 overlapping notes on 8 voices steal 2; block 441 at 44.1 kHz"
echo '{"notes": [{"time": 0, "midi": 60.5}]}' > badnote.json
expect_error "stream: fractional midi" "$D" stream --synth ks --notes badnote.json -o x.wav
echo '{"notes": [{"time": 0, "pitch": 60}]}' > badnote2.json
expect_error "stream: unknown note key" "$D" stream --synth ks --notes badnote2.json -o x.wav
expect_error "stream: notes not JSON" "$D" stream --synth ks --notes ae.wav -o x.wav
expect_error "stream: bad block" "$D" stream --synth ks --notes n0.json --block 0 -o x.wav
expect_error "stream: model and synth" "$D" stream --model "$ROOT/assets/models/ddsp_gm8.safetensors" --synth ks --input ae.wav -o x.wav
must "$D" stream --model "$ROOT/assets/models/ddsp_gm8.safetensors" --input "$ROOT/assets/sounds/pluck_nylon_e3.wav" -o live.wav
lat=$(json_num latency_ms out); und=$(json_num underruns out)
awk_check 'l > 0 && l <= 30 && u == 0' "stream --model: latency $lat ms, underruns $und" l="$lat" u="$und"
ok "stream --model (live timbre transfer from a file): latency $lat ms, no underruns, real-time factor $(json_num real_time_factor out)"
expect_error "stream: a WAV as model" "$D" stream --model ae.wav --input "$ROOT/assets/sounds/pluck_nylon_e3.wav" -o x.wav

# [remap] ---------------------------------------------------------------------------------------
# A "performance" as a folder of hits: the 808 itself at eight strengths (louder and brighter
# together), plus the bundled snares.
mkdir -p perf
for k in 0 1 2 3 4 5 6 7; do
  echo "{\"synth\": \"drum808\", \"sample_rate\": 44100, \"seconds\": 0.4, \"params\": {\"noise_gain_db\": $((-24 + 3 * k)), \"osc1_gain_db\": $((-22 + 2 * k)), \"noise_cutoff_hz\": $((1000 + 400 * k))}}" > "perf/h$k.json"
  must "$D" render --params "perf/h$k.json" -o "perf/h$k.wav"
done
cp "$ROOT/assets/sounds/snare_audiophob_1.wav" "$ROOT/assets/sounds/snare_audiophob_2.wav" perf/
must "$D" remap-train --preset snare_2 --input perf --steps 60 -o rmp
for f in model.safetensors report.json; do [ -s "rmp/$f" ] || die "remap-train: no $f"; done
none=$(grep -o '"none": {"loudness_db": [-+0-9.eE]*' rmp/report.json | sed 's/.*: //')
mlp=$(grep -o '"mlp": {"loudness_db": [-+0-9.eE]*' rmp/report.json | sed 's/.*: //')
awk_check 'm + 0 < n + 0 && m == m + 0' "remap-train: held-out loudness error of mlp ($mlp dB) not below no modulation ($none dB)" m="$mlp" n="$none"
ok "remap-train: 10 hits, held-out loudness error $mlp dB (no modulation $none dB)"
must "$D" remap-train --preset snare_2 --input perf --steps 25 -o rmp_half
must "$D" remap-train --preset snare_2 --input perf --steps 60 --resume rmp_half/checkpoint.safetensors -o rmp_resumed
cmp -s rmp/model.safetensors rmp_resumed/model.safetensors || die "remap-train: 25 steps + resume to 60 differ from 60 straight"
ok "remap-train: 25 steps, then --resume to 60, gives the same model file byte for byte"
expect_error "remap-train: resume past --steps" "$D" remap-train --preset snare_2 --input perf --steps 10 --resume rmp_half/checkpoint.safetensors -o rmp2
expect_error "remap-train: resume from a model of another kind" "$D" remap-train --preset snare_2 --input perf --model linear --resume rmp_half/checkpoint.safetensors -o rmp2
must "$D" remap --model rmp/model.safetensors --input "$ROOT/assets/sounds/snare_audiophob_1.wav" -o rmp/out.wav
[ "$(json_num hits out)" = 1 ] || die "remap: expected 1 hit in snare_audiophob_1.wav, got $(json_num hits out)"
[ "$(wav_rate rmp/out.wav)" = 44100 ] || die "remap: output rate $(wav_rate rmp/out.wav)"
ok "remap: one snare hit -> one 808 hit at 44.1 kHz"
expect_error "remap-train: no preset" "$D" remap-train --input perf -o rmp2
expect_error "remap-train: unknown preset" "$D" remap-train --preset cowbell --input perf -o rmp2
expect_error "remap-train: unknown model" "$D" remap-train --preset snare_1 --model transformer --input perf -o rmp2
expect_error "remap-train: a ks preset" "$D" remap-train --params t_sine.json --input perf -o rmp2
expect_error "remap-train: too few hits" "$D" remap-train --preset snare_1 --input "$ROOT/assets/sounds/snare_audiophob_1.wav" -o rmp2
expect_error "remap: an autoencoder as model" "$D" remap --model "$ROOT/assets/models/ddsp_gm8.safetensors" --input perf/h0.wav -o x.wav
expect_error "remap: a WAV as model" "$D" remap --model perf/h0.wav --input perf/h0.wav -o x.wav

# [train --model ks-ae] -------------------------------------------------------------------------
# A tiny synthetic-string set (as scripts/make-dataset.sh --set ks-synthetic makes it): six ks
# renders with their parameter files.
mkdir -p kset/wav kset/params
: > kset/metadata.jsonl
for k in 0 1 2 3 4 5; do
  f0=$((110 + 40 * k)); decay="0.$((4 + k))"; split=train; [ $k = 4 ] && split=valid; [ $k = 5 ] && split=test
  echo "{\"synth\": \"ks\", \"sample_rate\": 16000, \"seconds\": 0.5, \"params\": {\"f0_hz\": $f0, \"decay_s\": $decay, \"exc_gain_db\": -$((12 + 2 * k))}}" > "kset/params/k$k.json"
  must "$D" render --params "kset/params/k$k.json" -o "kset/wav/k$k.wav"
  echo "{\"name\": \"k$k\", \"split\": \"$split\", \"f0_hz\": $f0, \"params\": \"params/k$k.json\"}" >> kset/metadata.jsonl
done
must "$D" train --model ks-ae --variant sup --data kset -o ksae --steps 30 --batch 4 --seconds 0.5
[ -s ksae/model.safetensors ] && [ -s ksae/report.json ] || die "train ks-ae: no model or report"
mse="$(json_num param_mse ksae/report.json)"
awk_check 'm == m + 0 && m >= 0' "train ks-ae: test parameter error '$mse'" m="$mse"
ok "train --model ks-ae --variant sup: 30 steps, test parameter MSE $mse"
must "$D" train --model ks-ae --variant sup --data kset -o ksae_r --steps 30 --batch 4 --seconds 0.5 --stop-after 12
must "$D" train --model ks-ae --variant sup --data kset -o ksae_r --steps 30 --batch 4 --resume
cmp -s ksae/model.safetensors ksae_r/model.safetensors || die "train ks-ae: 12 steps + resume to 30 differ from 30 straight"
ok "train --model ks-ae: stopped at 12 and resumed to 30 gives the model of 30 straight, byte for byte"
must "$D" train --model ks-ae --variant tracker --data kset -o ksae_t --steps 4 --batch 2 --seconds 0.5
ok "train --model ks-ae --variant tracker: f0 from YIN ($(json_num mrstft ksae_t/report.json) test MR-STFT after 4 steps)"
# Matching in one pass with that model, and gradient descent from its prediction.
must "$D" match --synth ks --method amortised --model ksae/model.safetensors --target kset/wav/k5.wav -q -o am1
[ "$(json_num iterations_run am1/report.json)" = 0 ] || die "match amortised: iterations were run"
grep -q '"method": "amortised"' am1/report.json || die "match amortised: the report does not name the method"
am_loss="$(json_num best_loss am1/report.json)"; am_ms="$(json_num amortised_ms am1/report.json)"
[ -s am1/params.json ] && [ -s am1/recon.wav ] || die "match amortised: no params.json or recon.wav"
must "$D" match --synth ks --method amortised+gradient --model ksae/model.safetensors --target kset/wav/k5.wav --steps 20 -q -o am2
am2_loss="$(json_num best_loss am2/report.json)"
awk_check 'b <= a' "match amortised+gradient: best loss $am2_loss above the prediction's $am_loss" a="$am_loss" b="$am2_loss"
ok "match --method amortised: loss $am_loss in one pass ($am_ms ms); amortised+gradient, 20 steps: $am2_loss"
must "$D" match --synth ks --method amortised --target kset/wav/k5.wav -q -o am4
grep -q 'ks_ae.safetensors' am4/report.json || die "match amortised: without --model, the shipped model is not the one used"
ok "match --method amortised without --model uses the shipped assets/models/ks_ae.safetensors"
expect_error "match amortised: not ks" "$D" match --synth sine --method amortised --model ksae/model.safetensors --target kset/wav/k5.wav -o am3
expect_error "match amortised: a remap model" "$D" match --synth ks --method amortised --model rmp/model.safetensors --target kset/wav/k5.wav -o am3
expect_error "match amortised: --model and --params" "$D" match --synth ks --method amortised --model ksae/model.safetensors --params kset/params/k5.json --target kset/wav/k5.wav -o am3
expect_error "train ks-ae: unknown variant" "$D" train --model ks-ae --variant fcnf0 --data kset -o ksae_x
expect_error "train: unknown model" "$D" train --model transformer --data kset -o ksae_x
mkdir -p kset_np && cp -r kset/wav kset_np/ && sed 's/, "params": "[^"]*"//' kset/metadata.jsonl > kset_np/metadata.jsonl
expect_error "train ks-ae: sup without parameters" "$D" train --model ks-ae --variant sup --data kset_np -o ksae_x
expect_error "train ks-ae: no data set" "$D" train --model ks-ae --data kad_plucks -o ksae_x
expect_error "train ks-ae: a ddsp-ae option" "$D" train --model ks-ae --z-dims 4 --data kset -o ksae_x

# [kad] -----------------------------------------------------------------------------------------
mkdir -p kad_plucks kad_drums kad_empty kad_bad
cp "$ROOT"/assets/sounds/pluck_*.wav kad_plucks/
cp "$ROOT"/assets/sounds/{snare,kick,tom,clap,hihat}_*.wav kad_drums/
for e in mfcc encoder; do
  must "$D" kad kad_plucks kad_drums --embedding $e  # encoder: the shipped ddsp_gm8 by default
  k_diff="$(json_num kad out)"
  must "$D" kad kad_plucks kad_plucks --embedding $e
  k_same="$(json_num kad out)"
  awk_check 'd > 0 && d > s' "kad ($e): plucks vs drums ($k_diff) not above plucks vs plucks ($k_same)" d="$k_diff" s="$k_same"
  ok "kad ($e): plucks vs drums $k_diff, plucks vs themselves $k_same"
done
echo "not audio" > kad_bad/a.wav; cp "$ROOT/assets/sounds/pluck_harp_e4.wav" kad_bad/b.wav
expect_error "kad: an empty folder" "$D" kad kad_plucks kad_empty
expect_error "kad: an unreadable file" "$D" kad kad_plucks kad_bad
expect_error "kad: one file" "$D" kad kad_plucks "$ROOT/assets/sounds/pluck_harp_e4.wav"
expect_error "kad: one folder" "$D" kad kad_plucks
expect_error "kad: --model for the mfcc embedding" "$D" kad kad_plucks kad_drums --model "$ROOT/assets/models/ddsp_gm8.safetensors"
expect_error "kad: a string model as the encoder" "$D" kad kad_plucks kad_drums --embedding encoder --model "$ROOT/assets/models/ks_ae.safetensors"
expect_error "kad: unknown embedding" "$D" kad kad_plucks kad_drums --embedding vggish

# [hostile input: bounded memory, nothing echoed raw] ----------------------------------------------
# no_raw_bytes FILE: no byte >= 0x80 and no control character but the final newline.
no_raw_bytes() {
  ! LC_ALL=C grep -q -P '[\x00-\x08\x0b-\x1f\x7f-\xff]' "$1" || die "raw bytes echoed: $(od -c "$1" | head -3)"
}
# 1 s of 16-bit noise at 16 kHz whose data chunk claims 4 GB (and RIFF size 4 GB): read as what is present.
{ printf 'RIFF\xf0\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00';
  printf 'data\xf0\xff\xff\xff'; head -c 32000 /dev/urandom; } > claims_4gb.wav
must "$D" analyse --target claims_4gb.wav -o claims.json
grep -qi "truncated\|end of the file" err || die "4 GB claim: no note that the data chunk was cut short"
ok "a WAV claiming 4 GB of data: the 1 s present is read ($(head -c 120 err))"
# RF64 whose ds64 chunk claims 2^40 bytes of data, and 8-bit audio 21 minutes long.
{ printf 'RF64\xff\xff\xff\xffWAVEds64\x1c\x00\x00\x00'; printf '\x00\x00\x00\x00\x00\x01\x00\x00';  # riff size
  printf '\x00\x00\x00\x00\x00\x01\x00\x00'; printf '\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00';  # data, frames, table
  printf 'fmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00';
  printf 'data\xff\xff\xff\xff'; head -c 3200 /dev/urandom; } > claims_1tb.wav
run "$D" analyse --target claims_1tb.wav -o claims2.json
[ "$rc" -lt 128 ] || die "RF64 claiming 1 TB: crashed (exit $rc)"
[ "$(wc -l < err)" -le 2 ] || die "RF64 claiming 1 TB: more than a note"
ok "an RF64 claiming 1 TB of data -> exit $rc: $(head -c 160 err)"
{ printf 'RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\xe8\x03\x00\x00\xe8\x03\x00\x00\x01\x00\x08\x00';
  printf 'data\xa0\x3a\x13\x00'; head -c 1260000 /dev/zero | tr '\0' '\200'; } > long_21min.wav
expect_error "a 21-minute recording (over the 20-minute limit)" "$D" analyse --target long_21min.wav
grep -q "limit" err || die "21 minutes: the refusal does not name the limit"
# A 64 MB parameter file of zeros: refused by count before it takes gigabytes.
{ printf '{"synth": "sine", "params": {"amplitude": [0'; head -c 30000000 /dev/zero | sed 's/\x0/,0/g'; printf ']}}'; } > many.json
expect_error "a parameter file of 30 million values" "$D" render --params many.json -o e.wav
grep -q "values" err || die "many values: the refusal does not say why"
# Bytes >= 0x80, C1 and ANSI escapes in a parameter file, a model file and a file name: quoted, never echoed.
printf '{"synth": "sine", "params": {"amplitude": \x9b31m}}' > c1.json
expect_error "a parameter file with a C1 byte" "$D" render --params c1.json -o e.wav
no_raw_bytes err
printf '{"synth": "sine\xc2\x9b\\u001b[2J", "params": {}}' > c1_name.json
expect_error "a synth name with C1 and ANSI escapes" "$D" render --params c1_name.json -o e.wav
no_raw_bytes err
expect_error "a file name with invalid UTF-8 and an escape" "$D" analyse --target "$(printf 'no\xff\x1b[31mfile.wav')"
no_raw_bytes err
{ printf '\xff\xff\xff\xff\xff\xff\xff\x0f'; printf '{"\x9b": 1}'; } > huge_header.safetensors
expect_error "a model whose header claims 2^60 bytes" "$D" autoencode --model huge_header.safetensors --target a_sine.wav -o e.wav
no_raw_bytes err
{ printf '\x0a\x00\x00\x00\x00\x00\x00\x00'; printf '{"w\xc2\x9b": 1}'; } > bad_name.safetensors
expect_error "a model with raw bytes in its header" "$D" autoencode --model bad_name.safetensors --target a_sine.wav -o e.wav
no_raw_bytes err

echo "== all CLI checks passed"
