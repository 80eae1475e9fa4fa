#!/usr/bin/env bash
# The GPU check in one command, for a machine with a CUDA device and a CUDA build of torch.
#
#   bash benchmarks/gpu_check.sh [gpu_check.py options]
#
# Where the machine cannot reach a package registry, first run
# benchmarks/prepare_gpu_wheels.sh on a machine that can: it downloads into .whl/ the
# pure-Python packages sklearn_sleep needs beyond torch/numpy/scipy/scikit-learn, and this
# script installs them into /tmp/site before running. Results: benchmarks/results/gpu_check.*
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/sklearn_sleep_site .whl/*.whl
    export PYTHONPATH="$PWD:/tmp/sklearn_sleep_site"
fi
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
python3 benchmarks/gpu_check.py "$@"
