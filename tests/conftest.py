"""Shared fixtures: devices from the real catalogue, a temporary working folder for CLI runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


# A credentialed third-party executor, installed as a real entry-point plugin for the UI tests.
VAULT_PLUGIN = '''
import numpy as np

from workbench.executors.base import ExecutionData, QuantumExecutor


class VaultExecutor(QuantumExecutor):
    """Reads |1> after an odd number of drive pulses; refuses to run without the right token."""

    name = "vault"
    title = "Toy executor behind a login"
    needs_credentials = ("api-token",)
    job_kinds = ("pulse", "circuit")

    def run(self, schedules, options, progress=None, cancel=None):
        token = self._credentials.get("api-token")
        if token is None or token.reveal() != "tok-VAULT-4242":
            from workbench.errors import ExecutionError
            raise ExecutionError("login refused: wrong or missing api-token")
        shots, slots = options["shots"], max(s.memory_slots for s in schedules)
        iq = np.full((len(schedules), shots, slots), np.nan, dtype=complex)
        slot_qubit = np.full((len(schedules), slots), -1)
        for e, sched in enumerate(schedules):
            for acq in sched.acquires:
                flips = sum(1 for p in sched.plays if p.channel == f"d{acq.qubit}")
                iq[e, :, acq.memory_slot] = complex(*self.device.qubit(acq.qubit).readout.iq_centers[flips % 2])
                slot_qubit[e, acq.memory_slot] = acq.qubit
        return ExecutionData(slot_qubit=slot_qubit, iq=iq)
'''


@pytest.fixture
def vault_catalogue(tmp_path, monkeypatch):
    """A catalogue with device 'vault' whose executor (an installed plugin) needs an api-token."""
    (tmp_path / "vault_plugin.py").write_text(VAULT_PLUGIN)
    dist = tmp_path / "vault_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: vault-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[workbench.executors]\nvault = vault_plugin:VaultExecutor\n")
    config = tmp_path / "devices.yml"
    config.write_text("devices:\n  - {name: vault, base: qutip-1q, executor: vault, title: Device behind a login}\n")
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
