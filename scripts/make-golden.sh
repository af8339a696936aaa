#!/usr/bin/env bash
# Regenerates tests/golden/autoencoder_golden.safetensors from assets/models/ddsp_gm8.safetensors with
# the PyTorch reference (python/ddsp_torch.py; needs Debian's python3-torch). Run it and commit the
# golden whenever the model changes. Arguments go to python/make_golden.py (--model, --out).
exec /usr/bin/python3 "$(dirname "$0")/../python/make_golden.py" "$@"
