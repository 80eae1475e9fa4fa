# Two commands on a fresh machine (Python >= 3.10 and make):
#   make demo   # create .venv if needed (CPU torch==2.13.0 first, then -e ".[dev]"), run the demo
#   make test   # create .venv if needed, run the default test suite
# Without make: scripts/run.sh demo / scripts/run.sh test (same thing).
# Variables: SKLEARN_SLEEP_VENV (default .venv), PYTHON (default python3), ARGS (extra
# arguments, e.g. make demo ARGS=--quick).

.PHONY: demo test

demo:
	sh scripts/run.sh demo $(ARGS)

test:
	sh scripts/run.sh test $(ARGS)
