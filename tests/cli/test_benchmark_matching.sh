#!/usr/bin/env bash
# The matching benchmark's quick form (scripts/benchmark-matching.sh --quick): 3 GM plucks and 3
# drums (GM kick and snare, an Audiophob tom), every fitting synth x gradient/genetic/hybrid at 2 s
# of compute per job as Dask jobs on a local cluster, scored by the independent log-mel distance.
# Passes when every clip's best synth / method beats the 25 ms baseline and no job failed. The clip
# sets are made once beside the binary (bench-sets-quick/). About 30 s on 2 cores.
# Run by ctest as: bash tests/cli/test_benchmark_matching.sh path/to/ddsp
set -u
D="${1:?usage: test_benchmark_matching.sh path/to/ddsp}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
T="$(mktemp -d /tmp/ddsp_benchmark_matching_XXXXXX)"
trap 'rm -rf "$T"' EXIT
bash "$ROOT/scripts/benchmark-matching.sh" --quick --ddsp "$D" --workers 2 -o "$T/out"
