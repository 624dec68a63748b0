"""Tune-up on the simulator, from a deliberately wrong calibration: the routines measure, fit and write
back, and the device they leave behind is measurably better. Physics is compared with closed forms and
with the device's physics fields (which the routines never read)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml

from workbench import run, tuneup
from workbench.executors.registry import load_catalogue
from workbench.readout import assignment_fidelity
from workbench.results.dataset import json_attr

BUILTIN = load_catalogue(None).get("qutip-1q")
TRUE_PI_AMP = BUILTIN.qubit(0).drive.x.amp  # the simulator-derived calibration (docs/simulator.md)
TRUE_FREQUENCY = BUILTIN.qubit(0).frequency  # physics: 4.8 GHz

BAD = f"""# a lab notebook of a device that drifted
devices:
  - name: drifted
    base: qutip-1q
    title: qutip-1q with a wrong calibration   # pi amplitude 20% high, drive 2 MHz above the qubit
    qubits:
      0:
        drive:
          frequency: {TRUE_FREQUENCY + 2e6!r}
          x: {{amp: {1.2 * TRUE_PI_AMP:.6f}}}
          sx: {{amp: {1.2 * BUILTIN.qubit(0).drive.sx.amp:.6f}}}
        readout: {{discriminator: null}}
"""


@pytest.fixture
def bad_config(tmp_path):
    path = tmp_path / "lab.yml"
    path.write_text(BAD)
    return path


def _x_gate_p1(config) -> float:
    """Excited population right after the calibrated X gate (exact, from the simulator; needs no discriminator)."""
    device = load_catalogue(config).get("drifted")
    result = run("x-gate", device, shots=16, seed=1, options={"meas_level": 1})
    return float(result.dataset.populations.sel(slot=0, level=1).values[0])


@pytest.mark.slow
def test_tuneup_recovers_a_drifted_device_and_keeps_its_history(bad_config):
    p1_before = _x_gate_p1(bad_config)
    routines = ["qubit-spectroscopy", "rabi", "ramsey", "drag", "discriminator"]
    results = {}
    for k, name in enumerate(routines):
        result = tuneup.ROUTINES[name].function("drifted", config=bad_config, seed=100 + k)
        assert result.ok, result.summary()
        outcome = result.write()
        assert outcome.written, outcome.message
        results[name] = result
    device = load_catalogue(bad_config).get("drifted")  # reloaded from the written file
    q = device.qubit(0)
    assert abs(q.drive.x.amp / TRUE_PI_AMP - 1) < 0.01
    assert abs(q.drive.sx.amp / BUILTIN.qubit(0).drive.sx.amp - 1) < 0.01
    assert abs(q.drive_frequency - TRUE_FREQUENCY) < 50e3
    # the spectroscopy alone already found the qubit to well within its window
    spec = results["qubit-spectroscopy"].measured["qubit_frequency"]
    assert abs(spec.value - TRUE_FREQUENCY) < max(5 * spec.stderr, 20e3)
    analytic = assignment_fidelity(q.readout, q.readout.frequency)
    measured = results["discriminator"].measured["assignment_fidelity"].value
    assert abs(measured - analytic) < 0.01 * analytic
    assert q.readout.discriminator is not None
    p1_after = _x_gate_p1(bad_config)
    assert p1_before < 0.95 < 0.995 < p1_after

    versions = tuneup.history(bad_config)
    assert [v.routine for v in versions] == routines
    assert [v.version for v in versions] == [1, 2, 3, 4, 5]
    first = versions[0]
    assert (first.folder / "config-before.yml").read_text() == BAD  # the original file, byte for byte
    assert first.changes[0]["key"] == "qubits[0].drive.frequency"
    assert first.changes[0]["old"] == TRUE_FREQUENCY + 2e6
    rabi_change = {c["key"]: c for c in versions[1].changes}
    assert rabi_change["qubits[0].drive.x.amp"]["old"] == pytest.approx(1.2 * TRUE_PI_AMP, abs=1e-6)
    assert versions[1].record["quality"]["ok"] is True
    ds = versions[1].dataset()
    assert ds.attrs["routine"] == "rabi" and "fit" in ds
    assert versions[1].figure().data  # the figure that justified it, redrawn from the history
    # the calibration report embeds plain dicts: what plotly.py validates for the panel, as JSON
    from workbench.views.plotly_json import figure_json
    from workbench.views.tuneup_figures import tuneup_figure

    for name, result in results.items():
        plain = tuneup_figure(result.dataset, plain=True)
        assert json.loads(figure_json(plain)) == json.loads(figure_json(result.figure)), name
    assert {t.name for t in results["discriminator"].figure.data} >= {"prepared |0>", "prepared |1>",
                                                                         "trained boundary"}
    assert results["rabi"].figure.layout.shapes  # the proposed amplitude marked
    text = bad_config.read_text()
    assert text.startswith("# a lab notebook of a device that drifted")
    assert "# pi amplitude 20% high" in text  # comments survive
    entry = yaml.safe_load(text)["devices"][0]
    assert set(entry) == {"name", "base", "title", "qubits"}  # only calibration keys were added


def test_rabi_on_pure_noise_refuses_to_write(tmp_path):
    path = tmp_path / "blind.yml"
    text = """devices:
  - name: blind
    base: qutip-1q
    qubits:
      0:
        readout: {iq_centers: {0: [0.3, 0.3], 1: [0.3, 0.3], 2: [0.3, 0.3]}}
"""
    path.write_text(text)
    result = tuneup.rabi("blind", config=path, seed=5)
    assert not result.ok
    assert any("noise" in reason or "R²" in reason for reason in result.quality.reasons)
    assert "REJECTED" in result.summary()
    outcome = result.write()
    assert not outcome.written
    assert "rejected" in outcome.message
    assert path.read_text() == text
    assert not (tmp_path / "blind.yml.history").exists()
    dry = result.write(dry_run=True)
    assert not dry.written and dry.reasons  # a dry run shows the diff but says it would be refused
    assert path.read_text() == text


def test_dry_run_writes_nothing_and_a_missing_config_is_refused(bad_config, monkeypatch):
    before = bad_config.read_bytes()
    result = tuneup.rabi("drifted", config=bad_config, seed=3, shots=256)
    assert result.ok
    outcome = result.write(dry_run=True)
    assert not outcome.written
    assert "+          x: {amp: " in outcome.diff
    assert bad_config.read_bytes() == before
    assert not bad_config.with_name("lab.yml.history").exists()
    monkeypatch.delenv("WORKBENCH_CONFIG", raising=False)
    result.config = None
    refused = result.write()
    assert not refused.written
    assert "--config FILE" in refused.message and "WORKBENCH_CONFIG" in refused.message


def test_a_config_changed_since_the_measurement_is_not_overwritten(bad_config):
    result = tuneup.rabi("drifted", config=bad_config, seed=3, shots=256)
    edited = bad_config.read_text().replace(f"x: {{amp: {1.2 * TRUE_PI_AMP:.6f}}}", "x: {amp: 0.45}")
    assert edited != bad_config.read_text()
    bad_config.write_text(edited)  # someone edited it meanwhile
    outcome = result.write()
    assert not outcome.written
    assert "changed since the measurement" in outcome.message


def test_a_builtin_device_gets_a_base_entry_with_only_the_changed_keys(tmp_path):
    path = tmp_path / "new.yml"
    path.write_text("")
    result = tuneup.rabi("qutip-1q", seed=4, shots=512)
    outcome = result.write(path)
    assert outcome.written, outcome.message
    data = yaml.safe_load(path.read_text())
    assert data == {"devices": [{"name": "qutip-1q", "base": "qutip-1q", "qubits": {0: {"drive": {
        "x": {"amp": result.updates[0].new}, "sx": {"amp": result.updates[1].new}}}}}]}
    assert load_catalogue(path).get("qutip-1q").qubit(0).drive.x.amp == result.updates[0].new
    assert outcome.device is not None and outcome.device.qubit(0).drive.x.amp == result.updates[0].new


@pytest.mark.slow
def test_measured_physics_matches_the_device(tmp_path):
    """T1, T2* (a long Ramsey) and the readout resonator, against the physics fields the data came from."""
    t1 = tuneup.t1("qutip-1q", seed=7)
    assert t1.ok and not t1.updates
    value = t1.measured["t1"]
    assert abs(value.value - BUILTIN.qubit(0).t1) < 4 * value.stderr
    ramsey = tuneup.ramsey("qutip-1q", seed=8, span=40e-6, points=201, detuning=0.5e6)
    t2 = ramsey.measured["t2_star"]
    assert abs(t2.value - BUILTIN.qubit(0).t2) < 4 * t2.stderr and t2.stderr < 5e-6
    error = ramsey.measured["frequency_error"]
    assert abs(error.value) < 4 * error.stderr + 1e3  # the built-in drive is on resonance

    path = tmp_path / "detuned.yml"
    path.write_text("devices:\n  - name: ro\n    base: qutip-1q\n    qubits:\n      0:\n"
                    "        readout: {frequency: 6.8013e9}\n")
    before = assignment_fidelity(load_catalogue(path).get("ro").qubit(0).readout, 6.8013e9)
    res = tuneup.resonator_spectroscopy("ro", config=path, seed=9)
    assert res.ok, res.summary()
    resonator = BUILTIN.qubit(0).readout.resonator
    assert abs(res.updates[0].new - resonator.frequency) < 50e3
    assert abs(res.measured["linewidth"].value - resonator.linewidth) < 4 * res.measured["linewidth"].stderr
    assert abs(res.measured["dispersive_shift"].value - abs(resonator.dispersive_shift)) < \
        4 * res.measured["dispersive_shift"].stderr
    assert res.write().written
    after = load_catalogue(path).get("ro").qubit(0).readout
    assert assignment_fidelity(after, after.frequency) > before


def test_drag_finds_the_simulators_optimum():
    result = tuneup.drag("qutip-1q", seed=12)
    assert result.ok, result.summary()
    beta = result.measured["beta"]
    # the built-in beta maximises the simulated gate fidelity (workbench.executors.qutip.calibration)
    assert abs(beta.value - BUILTIN.qubit(0).drive.x.beta) < 4 * beta.stderr + 0.02
    assert [u.path for u in result.updates] == [("drive", "x", "beta"), ("drive", "sx", "beta")]


def test_a_device_without_resonator_physics_has_nothing_to_find(tmp_path):
    path = tmp_path / "flat.yml"
    path.write_text("devices:\n  - name: flat\n    base: qutip-1q\n    qubits:\n      0:\n"
                    "        readout: {resonator: null}\n")
    result = tuneup.resonator_spectroscopy("flat", config=path, seed=2, points=21)
    assert not result.ok
    assert not result.write().written


def test_routine_datasets_are_self_describing():
    result = tuneup.rabi("qutip-1q", seed=1, shots=128, points=11)
    ds = result.dataset
    assert ds.attrs["schema"] == "workbench-tuneup/1"
    assert set(ds["series"].values) == {"x", "sx"}
    assert ds["signal"].shape == (2, 11)
    runs = result.runs
    assert len(runs) == 1 and runs[0].options["meas_level"] == 1
    assert runs[0].dataset.sizes["experiment"] == 22  # an ordinary run: exportable, viewable
    fits = json_attr(ds, "fits")
    assert set(fits["x"]["parameters"]) == {"period", "A", "B"}
    fig = result.figure
    assert {t.name for t in fig.data} >= {"x", "x fit", "sx", "sx fit"}
    assert np.isfinite(ds["fit"].values).all()
    assert math.isfinite(result.measured["x_pi_amplitude"].stderr)


def test_calibration_panel_measures_previews_writes_and_reloads(bad_config):
    """The Workbench's tune-up panel: Measure runs Rabi off the UI thread, the diff is shown before
    anything is written, Write adds a version to the config file and the session sees the new calibration."""
    from workbench.ui.runner import Runner
    from workbench.ui.session import Session
    from workbench.ui.tuneup import Tuneup
    from workbench.ui.widgets.calibration import CalibrationPanel

    session = Session(config=bad_config)
    session.select_device("drifted")
    runner = Runner()
    panel = CalibrationPanel(Tuneup(session, runner))
    before = bad_config.read_text()
    panel.routine.value = "rabi"
    panel.seed.value = "7"
    record = panel.measure()
    assert record.wait(120)
    assert panel.result is not None and panel.result.ok, panel.status.value
    assert "x" in panel.diff.value and not panel.write_button.disabled
    assert bad_config.read_text() == before  # measuring and previewing write nothing
    assert session.results  # the routine's runs are ordinary results
    panel.write_button.click()
    assert runner.wait(120)
    runner.close(timeout=120)
    assert "Not written" not in panel.message.value, panel.message.value
    assert bad_config.read_text() != before
    new_amp = session.catalogue.get("drifted").qubit(0).drive.x.amp
    assert new_amp == pytest.approx(TRUE_PI_AMP, rel=0.01)
    assert session.device.qubit(0).drive.x.amp == new_amp
