#!/usr/bin/env bash
# Install everything the workbench and its tests need on a fresh Debian 12 / Python 3.11 machine, into
# the checkout's virtual environment (.venv/, made or reused by tests/install.sh), then lint, build the
# documentation and run the whole test suite there. `.ci/run` calls this; so can you (pytest
# arguments are passed on, e.g. `bash tests/install-and-test.sh -m "not slow"`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install.sh test
VENV=${WORKBENCH_VENV:-.venv}
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
export VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH"  # subprocesses (workbench, jupyter) are the venv's too
PYTHON="$VENV/bin/python"

"$PYTHON" -m ruff check workbench tests benchmarks
# The API reference and the guides (offline; warnings, broken cross-references included, are errors).
"$PYTHON" -m sphinx -W --keep-going -n -q -b html docs build/docs
# Test files run in two worker processes (the CI machine has two cores; most tests use one): a file stays in
# one worker, so its module fixtures (clusters, servers, runs) are started once. WORKBENCH_TEST_WORKERS=0
# runs everything in this process.
"$PYTHON" -m pytest -n "${WORKBENCH_TEST_WORKERS:-2}" --dist loadfile "$@"
