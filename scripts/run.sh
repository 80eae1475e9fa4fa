#!/bin/sh
# Create the environment if needed, then run the demo or the tests.
#
#   scripts/run.sh demo [ARGS...]   # python -m sklearn_sleep demo ARGS
#   scripts/run.sh test [ARGS...]   # python -m pytest ARGS (the default suite)
#
# The virtual environment is $SKLEARN_SLEEP_VENV (default .venv in the repository). It
# is created on first use: the CPU wheel of torch==2.13.0 first (so that pip does not
# pull the multi-GB CUDA build; from PyTorch's CPU index on Linux, falling back to PyPI),
# then `pip install -e ".[dev]"`. It is reinstalled when setup.cfg or pyproject.toml
# change. `make demo` and `make test` call this script.
set -eu
cd "$(dirname "$0")/.."

VENV="${SKLEARN_SLEEP_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="torch==2.13.0"
TORCH_INDEX_URL="${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}"
MARKER="$VENV/.sklearn_sleep_installed"
STAMP="$(cat setup.cfg pyproject.toml | cksum)"

if [ $# -lt 1 ]; then
    echo "usage: scripts/run.sh demo|test [ARGS...]" >&2
    exit 2
fi
command="$1"
shift
case "$command" in
    demo|test) ;;
    *) echo "usage: scripts/run.sh demo|test [ARGS...]" >&2; exit 2 ;;
esac

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating the virtual environment $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$MARKER" ] || [ "$(cat "$MARKER")" != "$STAMP" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
        echo "installing $TORCH_SPEC (CPU build)" >&2
        if [ "$(uname -s)" = "Linux" ] && [ -n "$TORCH_INDEX_URL" ]; then
            "$VENV/bin/python" -m pip install --quiet --retries 2 --timeout 30 "$TORCH_SPEC" \
                --index-url "$TORCH_INDEX_URL" \
                || "$VENV/bin/python" -m pip install --quiet "$TORCH_SPEC"
        else
            "$VENV/bin/python" -m pip install --quiet "$TORCH_SPEC"
        fi
    fi
    echo "installing sklearn_sleep with its test extras (pip install -e \".[dev]\")" >&2
    "$VENV/bin/python" -m pip install --quiet -e ".[dev]"
    "$VENV/bin/python" -c "import torch, sklearn_sleep; print('torch', torch.__version__, '| sklearn_sleep', sklearn_sleep.__version__)"
    printf '%s' "$STAMP" > "$MARKER"
fi

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
export MPLBACKEND="${MPLBACKEND:-Agg}"
if [ "$command" = demo ]; then
    exec "$VENV/bin/python" -m sklearn_sleep demo "$@"
fi
exec "$VENV/bin/python" -m pytest "$@"
