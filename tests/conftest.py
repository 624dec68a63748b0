"""Shared fixtures: devices from the real catalogue, a temporary working folder for CLI runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.devices.catalogue import Catalogue


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.load(None)


@pytest.fixture(scope="session")
def device_1q(catalogue):
    return catalogue.get("qutip-1q")


@pytest.fixture(scope="session")
def device_2q(catalogue):
    return catalogue.get("qutip-2q")


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch):
    """Tests see the built-in devices only, whatever the developer's environment says."""
    monkeypatch.delenv("WORKBENCH_CONFIG", raising=False)


def _run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_CONFIG"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=600)


@pytest.fixture(scope="session")
def run_cli():
    """The real `workbench` command line in a subprocess (what users run)."""
    return _run_cli
