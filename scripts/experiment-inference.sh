#!/usr/bin/env bash
# DiffKS's inference experiment: the string autoencoder's variants (meta, tracker, sup) and gradient
# descent on the test splits of the plucked-string and synthetic-string sets; MR-STFT, log-mel, f0,
# parameter error, time per clip and KAD (README table).
#   scripts/experiment-inference.sh [--quick] [--steps N] [--out DIR]   (default DIR: build/inference-experiment)
# Makes the data sets (scripts/make-dataset.sh) and trains the three models (ddsp train --model
# ks-ae) when they are missing; installs python3-distributed (Dask) and numpy with apt-get if needed.
#   --quick   the --quick data sets, 60-step models, 6 test clips per set, 50 gradient steps
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY=/usr/bin/python3
out="build/inference-experiment"; quick=0; steps=1500
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "experiment-inference.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if ! "$PY" -c "import distributed, numpy" > /dev/null 2>&1; then
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && command -v sudo > /dev/null 2>&1 && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y python3-distributed python3-numpy ||
    { "${sudo_cmd[@]}" apt-get update && "${sudo_cmd[@]}" apt-get install -y python3-distributed python3-numpy; }
fi
if [ ! -x build/ddsp ]; then
  [ -d build ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build build --target ddsp -j2
fi
q=(); clips=0; gsteps=200
if [ "$quick" = 1 ]; then q=(--quick); steps=60; clips=6; gsteps=50; fi
plucks="build/dataset-plucks"; synthetic="build/dataset-ks"
[ "$quick" = 1 ] && { plucks="$out/data-plucks"; synthetic="$out/data-ks"; }
[ -f "$plucks/metadata.jsonl" ] || scripts/make-dataset.sh --set plucks "${q[@]}" --out "$plucks"
[ -f "$synthetic/metadata.jsonl" ] || scripts/make-dataset.sh --set ks-synthetic "${q[@]}" --out "$synthetic"
models=()
for v in meta tracker sup; do
  data="$plucks"; lr=1e-3; batch=4
  [ "$v" = sup ] && { data="$synthetic"; lr=3e-3; batch=8; }
  run="$out/model-$v"
  if [ ! -f "$run/model.safetensors" ]; then
    resume=(); [ -f "$run/checkpoint.safetensors" ] && resume=(--resume)
    build/ddsp train --model ks-ae --variant "$v" --data "$data" -o "$run" --steps "$steps" --batch "$batch" --lr "$lr" \
      "${resume[@]}"
  fi
  models+=(--model "$v=$run/model.safetensors")
done
exec "$PY" scripts/experiment_inference.py --ddsp build/ddsp --out "$out" --plucks "$plucks" --synthetic "$synthetic" \
  "${models[@]}" --clips "$clips" --gradient-steps "$gsteps" --ddsp-model assets/models/ddsp_gm8.safetensors
