#!/usr/bin/env bash
# Install the workbench into a virtual environment in the checkout, .venv/ (created on first use,
# reused afterwards), on a fresh Debian 12 / Python 3.11 machine:
#
#   bash tests/install.sh          the package and everything `workbench` and `workbench lab` need
#   bash tests/install.sh test     ... plus the test tools (the `test` extra) and Debian's chromium
#
# Debian's system Python refuses `pip install` outside a virtual environment (PEP 668), and its
# `python3 -m venv` needs the python3-venv package: that one (and chromium for the tests) is
# installed with apt-get when missing, as root in CI and through sudo elsewhere.
# PYTHON picks the interpreter that creates the environment (default python3), WORKBENCH_VENV its folder.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${WORKBENCH_VENV:-.venv}
EXTRAS=""
case "${1:-}" in
    "") ;;
    test) EXTRAS="[test]" ;;
    *) echo "usage: bash tests/install.sh [test]" >&2; exit 2 ;;
esac

apt_install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo  # CI runs as root; elsewhere ask for it
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A usable environment is one whose own pip runs; anything less (none yet, or an interrupted creation) is
# (re)made. Debian's python3 without python3-venv fails here with "ensurepip is not available".
if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
        echo "installing python3-venv (Debian's venv support) with apt-get" >&2
        apt_install python3-venv
        "$PYTHON" -m venv "$VENV"
    fi
    echo "created the virtual environment $VENV" >&2
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".$EXTRAS"

# The browser tests drive Debian's Chromium (never a browser downloaded by `playwright install`).
if [ -n "$EXTRAS" ] && [ ! -x /usr/bin/chromium ]; then
    echo "installing chromium with apt-get (for the browser tests)" >&2
    apt_install chromium fonts-liberation
fi
echo "installed into $VENV: run $VENV/bin/workbench, or activate it with: . $VENV/bin/activate" >&2
