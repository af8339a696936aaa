#!/usr/bin/env bash
# Trains the DDSP autoencoders of issue 5 on the fluid-soundfont-gm note set
# (scripts/make-dataset.sh) and writes the README's ablation table.
#
#   scripts/train-models.sh [main|ablation|all] [--steps N] [--ablation-steps N] [--seed K]
#
#   main      the shipped model: noise + reverb, f0 + loudness conditioning, 8-dim latent,
#             --steps (default 8000) steps of 4 clips; build/models/main/, then copied to
#             assets/models/ddsp_gm8.safetensors, and tests/golden regenerated from it
#             (scripts/make-golden.sh, needs python3-torch)
#   ablation  four models at --ablation-steps (default 2000) each, same seed and data:
#             harmonic only, + noise, + reverb, + reverb with centroid conditioning;
#             build/models/ablation/<name>/report.json and build/models/ablation/table.md
#   all       both (default)
#
# Every run is `ddsp train` and can be continued after an interruption with the same command
# (it resumes from the run's checkpoint). Single-threaded; on this 2-core machine the main model
# takes about 25 minutes and each ablation model about 6 minutes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
what=all
[ $# -gt 0 ] && [[ "$1" != --* ]] && { what="$1"; shift; }
steps=8000 ablation_steps=2000 seed=1
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps="$2"; shift 2 ;;
    --ablation-steps) ablation_steps="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    *) echo "train-models.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -f build/dataset/metadata.jsonl ] || scripts/make-dataset.sh
[ -x build/ddsp ] || cmake --build build --target ddsp -j2

# run NAME OUTDIR [train options...]: trains, resuming when a checkpoint exists.
run() {
  local name="$1" out="$2"; shift 2
  if [ -f "$out/model.safetensors" ] && [ -f "$out/report.json" ]; then
    echo "train-models.sh: $name already trained ($out)"; return
  fi
  local resume=()
  [ -f "$out/checkpoint.safetensors" ] && resume=(--resume)
  echo "train-models.sh: training $name -> $out"
  build/ddsp train --data build/dataset -o "$out" --seed "$seed" "${resume[@]}" "$@"
}

if [ "$what" = main ] || [ "$what" = all ]; then
  run main build/models/main --steps "$steps" --batch 4 --validate-every 1000 --valid-clips 24
  mkdir -p assets/models
  cp build/models/main/model.safetensors assets/models/ddsp_gm8.safetensors
  echo "train-models.sh: assets/models/ddsp_gm8.safetensors ($(stat -c %s assets/models/ddsp_gm8.safetensors) bytes)"
  # tests/golden pins the model by its SHA-256: a new model needs a new golden (PyTorch reference).
  if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    scripts/make-golden.sh
  else
    echo "train-models.sh: PyTorch is missing; run scripts/make-golden.sh where it is, or test_autoencoder_golden fails" >&2
  fi
fi

if [ "$what" = ablation ] || [ "$what" = all ]; then
  A=build/models/ablation
  common=(--steps "$ablation_steps" --batch 4 --validate-every "$ablation_steps" --valid-clips 24)
  run harmonic "$A/harmonic" "${common[@]}" --no-noise --no-reverb
  run noise "$A/noise" "${common[@]}" --no-reverb
  run reverb "$A/reverb" "${common[@]}"
  run reverb_centroid "$A/reverb_centroid" "${common[@]}" --centroid
  /usr/bin/python3 - "$A" <<'PY'
import json, sys
root = sys.argv[1]
rows = [("harmonic", "harmonic only", "f0, loudness"),
        ("noise", "harmonic + noise", "f0, loudness"),
        ("reverb", "harmonic + noise + reverb", "f0, loudness"),
        ("reverb_centroid", "harmonic + noise + reverb", "f0, loudness, centroid")]
out = ["| synthesis | conditioning | test MR-STFT | f0 L1 (cents) | loudness L1 (dB) | KL (nats) | weights |",
       "|---|---|---:|---:|---:|---:|---:|"]
for key, synth, cond in rows:
    r = json.load(open(f"{root}/{key}/report.json"))
    t = r["test"]
    out.append(f"| {synth} | {cond} | {t['mrstft']:.3f} | {t['f0_l1_cents']:.1f} | {t['loudness_l1_db']:.2f} | "
               f"{t['kl']:.2f} | {r['weights']} |")
table = "\n".join(out) + "\n"
open(f"{root}/table.md", "w").write(table)
print(table)
PY
fi
