#!/usr/bin/env bash
# Install everything the workbench and its tests need on a fresh Debian 12 / Python 3.11 machine,
# then run the whole test suite. `.ci/run` calls this; so can you.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e ".[test]"

# The browser tests drive Debian's Chromium (never a browser downloaded by `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
    SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)  # CI runs as root; elsewhere ask for it
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-liberation >/dev/null
fi

"$PYTHON" -m ruff check workbench tests benchmarks
# The API reference and the guides (offline; warnings, broken cross-references included, are errors).
"$PYTHON" -m sphinx -W --keep-going -n -q -b html docs build/docs
"$PYTHON" -m pytest "$@"
