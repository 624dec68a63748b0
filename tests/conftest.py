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


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real `workbench` command line in a subprocess (what users run)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("WORKBENCH_CONFIG", None) if env is None or "WORKBENCH_CONFIG" not in env else None
    return subprocess.run([sys.executable, "-m", "workbench.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=600)
