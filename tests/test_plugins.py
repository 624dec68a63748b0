"""Third-party executors plug in through the `workbench.executors` entry-point group.

The plugin here is a real, installed-looking distribution (a dist-info folder with entry_points.txt
on the path) with a small ideal-qubit executor, run through the real CLI in a subprocess. It also
exercises the statevector outputs, which the built-in pulse simulator does not produce.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
from plugin_support import install_plugin

PLUGIN = '''
import numpy as np

from workbench.executors.base import ExecutionData, QuantumExecutor
from workbench.options import OptionSpec


class IdealExecutor(QuantumExecutor):
    """Every acquisition reads |1> if the qubit got an odd number of drive pulses, else |0>."""

    name = "ideal"
    title = "Ideal classical toy"
    options = (OptionSpec("licence_key", str, "", "licence", secret=True),)

    def run(self, schedules, options, progress=None, cancel=None):
        shots, slots = options["shots"], max(s.memory_slots for s in schedules)
        iq = np.full((len(schedules), shots, slots), np.nan, dtype=complex)
        slot_qubit = np.full((len(schedules), slots), -1)
        vectors = []
        assert self._credentials["licence_key"].reveal() == "LK-123456"
        for e, sched in enumerate(schedules):
            for acq in sched.acquires:
                flips = sum(1 for p in sched.plays if p.channel == f"d{acq.qubit}")
                centre = self.device.qubit(acq.qubit).readout.iq_centers[flips % 2]
                iq[e, :, acq.memory_slot] = complex(*centre)
                slot_qubit[e, acq.memory_slot] = acq.qubit
            vectors.append(np.array([0, 1], dtype=complex) if flips % 2 else np.array([1, 0], dtype=complex))
        return ExecutionData(slot_qubit=slot_qubit, iq=iq, statevector=vectors)
'''


def _install_plugin(tmp_path):
    install_plugin(tmp_path, "ideal_plugin", PLUGIN, {"ideal": "IdealExecutor"})
    config = tmp_path / "devices.yml"
    config.write_text(textwrap.dedent("""
        devices:
          - name: toy
            base: qutip-1q
            executor: ideal
            title: Toy device on a plugin executor
    """))
    return {"PYTHONPATH": str(tmp_path), "WORKBENCH_CONFIG": str(config)}


def test_plugin_executor_is_listed_and_runs(tmp_path, run_cli):
    env = _install_plugin(tmp_path)
    listing = run_cli("devices", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    toy = next(d for d in json.loads(listing.stdout) if d["name"] == "toy")
    assert toy["available"] is True and toy["executor_title"] == "Ideal classical toy"

    out = tmp_path / "out"
    proc = run_cli("run", "x-gate", "--device", "toy", "--shots", "10", "--set", "licence_key=LK-123456",
                   "--out", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    counts = json.loads((out / "result-counts.json").read_text())
    assert counts["1"] == 10
    vector = json.loads((out / "result-statevector.json").read_text())
    assert vector == {"ID": counts["ID"], "0": "0j", "1": "(1+0j)"}
    assert complex(vector["1"]) == 1
    assert (out / "result-statevector.csv").read_text().splitlines()[0] == '"ID","0","1"'
    for path in out.rglob("*"):
        if path.is_file():
            assert b"LK-123456" not in path.read_bytes()


def test_unknown_executor_type_names_installed_ones(tmp_path, run_cli):
    env = _install_plugin(tmp_path)
    config = tmp_path / "other.yml"
    config.write_text("devices:\n  - name: lic\n    base: qutip-1q\n    executor: scqt\n")
    env["WORKBENCH_CONFIG"] = str(config)
    proc = run_cli("run", "x-gate", "--device", "lic", "--out", str(tmp_path / "o"), env=env)
    assert proc.returncode == 2
    assert "no executor named 'scqt' is installed; installed executors: " in proc.stderr
    listed = proc.stderr.split("installed executors: ")[1].strip().split(", ")
    assert {"ideal", "qutip", "aer"} <= set(listed) and listed == sorted(listed)
    assert not (tmp_path / "o").exists()


def test_a_plugin_named_like_a_builtin_is_ignored_with_a_warning(tmp_path, monkeypatch, caplog):
    """A built-in never silently shadows a plugin: the plugin is ignored and the log says why."""
    from workbench.executors import registry
    from workbench.executors.qutip import QutipExecutor

    install_plugin(tmp_path, "ideal_plugin", PLUGIN, {"qutip": "IdealExecutor", "ideal": "IdealExecutor"},
                   distribution="shadow_plugin")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with caplog.at_level("WARNING", logger="workbench.executors.registry"):
            names = registry.rescan()  # the public way to see a plugin installed after start-up
        assert "ideal" in names
        assert registry.executor_class("qutip") is QutipExecutor
        assert registry.executor_class("ideal").title == "Ideal classical toy"
        assert any("plugin 'qutip' (ideal_plugin:IdealExecutor) is ignored" in r.getMessage() for r in caplog.records)
    finally:
        monkeypatch.undo()
        registry.rescan()
    assert "ideal" not in registry.available()


def test_a_plugin_written_with_the_old_type_attribute_still_loads():
    import pytest

    from workbench.executors.base import ExecutionData, QuantumExecutor

    with pytest.warns(DeprecationWarning, match="'type' is now called 'name'"):
        class Old(QuantumExecutor):
            type = "old-style"

            def run(self, programs, options, progress=None, cancel=None):
                return ExecutionData(slot_qubit=np.zeros((0, 0)))
    assert Old.name == "old-style"
