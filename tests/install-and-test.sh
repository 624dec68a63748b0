#!/usr/bin/env bash
# Install everything the workbench and its tests need on a fresh Debian 12 / Python 3.11 machine,
# then run the whole test suite. `.ci/run` calls this; so can you.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e ".[test]"

"$PYTHON" -m ruff check workbench tests benchmarks
"$PYTHON" -m pytest "$@"
