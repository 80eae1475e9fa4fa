#!/usr/bin/env bash
# Download into .whl/ the wheels that a CUDA image with torch, numpy, scipy, scikit-learn,
# matplotlib, jinja2, requests, tqdm and pytest usually lacks, for benchmarks/gpu_check.sh
# on a machine without a package registry. Python version of the GPU machine: $1 (3.12).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-3.12}"
mkdir -p .whl
python3 -m pip download --no-deps --only-binary=:all: --python-version "$PY" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any -d .whl \
    skorch==1.4.0 mne==1.13.2 imbalanced-learn==0.14.2 sklearn-compat==0.1.6 skops==0.16.0 \
    prettytable wcwidth edfio==0.4.18 decorator pooch platformdirs tabulate safetensors \
    lazy-loader
echo "wheels in .whl/ (add /.whl/ to .git/info/exclude; carry .whl to the GPU machine)"
