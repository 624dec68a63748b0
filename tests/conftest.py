"""Shared fixtures: devices from the real catalogue, a temporary working folder for CLI runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from plugin_support import install_vault_plugin

from workbench.devices.catalogue import Catalogue
from workbench.executors import registry
from workbench.executors.registry import load_catalogue


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(None)


@pytest.fixture(scope="session")
def device_1q(catalogue):
    return catalogue.get("qutip-1q")


@pytest.fixture(scope="session")
def device_2q(catalogue):
    return catalogue.get("qutip-2q")


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch):
    """Tests see the built-in devices only, whatever the developer's environment says (and keep no runs
    in a data directory the environment names)."""
    monkeypatch.delenv("WORKBENCH_CONFIG", raising=False)
    monkeypatch.delenv("WORKBENCH_DATADIR", raising=False)


def _run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_CONFIG", "WORKBENCH_DATADIR")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=600)


@pytest.fixture(scope="session")
def run_cli():
    """The real `workbench` command line in a subprocess (what users run)."""
    return _run_cli


@pytest.fixture
def vault_catalogue(tmp_path, monkeypatch):
    """A catalogue with device 'vault' whose executor (an installed plugin) needs an api-token."""
    config = install_vault_plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.rescan()
    yield load_catalogue(config)
    registry.rescan()
    sys.modules.pop("vault_plugin", None)


@pytest.fixture
def make_app():
    """Workbenches that are closed (runner thread stopped) after the test."""
    made: list = []

    def make(*args, **kwargs):
        from workbench.ui.app import Workbench  # ipywidgets only for the tests that build one

        app = Workbench(*args, **kwargs)
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()
