"""Analyses against the device's physics: on recorded Datasets (tests/data/analysis, see record.py there) and
on fresh simulator runs. The numbers come from the fits; the truth from the device each Dataset records
(its ``device_config``: T1, T2, the qubit and resonator frequencies, the calibrated pulses), never from
the analysis itself."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import workbench
from workbench import analysis, examples
from workbench.analysis.base import Parameter
from workbench.devices.model import Device
from workbench.errors import InputError
from workbench.pulses.shapes import calibrated

DATA = Path(__file__).resolve().parent / "data" / "analysis"


def recorded(name: str) -> workbench.Result:
    return workbench.load_result(DATA / f"{name}.nc")


def device_of(result) -> Device:
    return Device.model_validate(result.device_config)


# ------------------------------------------------------------------------------------------ recorded


@pytest.mark.parametrize(("name", "expected"), [
    ("rabi", "rabi-amplitude"), ("rabi-iq", "rabi-amplitude"), ("t1", "t1"), ("ramsey", "ramsey"),
    ("rabi-length", "rabi-length"), ("echo", "echo"), ("qubit-spectroscopy", "qubit-spectroscopy"),
    ("resonator-spectroscopy", "resonator-spectroscopy"), ("chevron", "chevron"), ("noise-rabi", "rabi-amplitude"),
    ("noise-t1", "t1"),
])
def test_each_recorded_dataset_calls_for_its_analysis(name, expected):
    assert analysis.choose(recorded(name).dataset) == expected


def test_recorded_rabi_gives_the_pi_amplitude_within_one_percent():
    for name, tolerance in (("rabi", 0.01), ("rabi-iq", 0.02)):  # 512 discriminated shots; 128 IQ shots
        result = recorded(name)
        pi = device_of(result).qubit(0).drive.x.amp  # derived from the simulator's physics (docs/simulator.md)
        a = result.analyse()
        assert a.ok, a.quality.reasons
        value = a.parameters["pi_amplitude"]
        assert abs(value.value / pi - 1) < tolerance, (name, value)
        assert abs(value.value - pi) < 4 * value.stderr  # and the error bar says so
        assert a.y_label == ("P(1)" if name == "rabi" else "IQ projected on the states' axis (a.u.)")


def test_recorded_t1_t2star_and_echo_within_five_percent():
    for name, parameter, truth in (("t1", "t1", "t1"), ("ramsey", "t2_star", "t2"), ("echo", "t2_echo", "t2")):
        result = recorded(name)
        expected = getattr(device_of(result).qubit(0), truth)
        a = result.analyse()
        assert a.ok, a.quality.reasons
        value = a.parameters[parameter]
        assert value.unit == "s"
        assert abs(value.value / expected - 1) < 0.05, (name, value.text(), expected)
        assert abs(value.value - expected) < 4 * value.stderr


def test_recorded_ramsey_finds_the_qubit_frequency():
    result = recorded("ramsey")
    q = device_of(result).qubit(0)
    a = result.analyse()
    f = a.parameters["qubit_frequency"]
    assert abs(f.value - q.frequency) < max(4 * f.stderr, 2e3)
    assert a.parameters["fringe_frequency"].value == pytest.approx(0.1e6, abs=1e3)  # the virtual detuning


def test_recorded_spectroscopy_finds_the_qubit_and_the_resonator():
    result = recorded("qubit-spectroscopy")
    q = device_of(result).qubit(0)
    a = result.analyse()
    assert a.ok, a.quality.reasons
    f = a.parameters["qubit_frequency"]
    assert abs(f.value - q.frequency) < max(5 * f.stderr, 20e3)
    # the pulse's effective length came from the job the Dataset holds (no duration given)
    assert a.context["duration"] == pytest.approx(analysis.spectroscopy.effective_duration(result.dataset))
    result = recorded("resonator-spectroscopy")
    resonator = device_of(result).qubit(0).readout.resonator
    a = result.analyse()
    assert a.ok, a.quality.reasons
    assert abs(a.parameters["resonator_frequency"].value - resonator.frequency) < 50e3
    assert a.parameters["linewidth"].value == pytest.approx(resonator.linewidth, rel=0.05)
    assert a.parameters["dispersive_shift"].value == pytest.approx(abs(resonator.dispersive_shift), rel=0.05)


def test_recorded_rabi_length_gives_the_rabi_frequency_of_the_physics():
    result = recorded("rabi-length")
    q = device_of(result).qubit(0)
    amp = q.drive.x.amp / 4  # the example's flat pulse
    a = result.analyse()
    assert a.ok, a.quality.reasons
    assert a.parameters["rabi_frequency"].value == pytest.approx(q.drive.rabi_rate * amp, rel=0.02)
    # pi rotation when the flat pulse's area equals the calibrated pi pulse's
    area = float(np.sum(calibrated(q.drive.x).real)) / amp * device_of(result).dt
    assert a.parameters["pi_duration"].value == pytest.approx(area, rel=0.02)


def test_recorded_chevron_finds_the_calibrated_cz():
    result = recorded("chevron")
    coupling = device_of(result).couplings[0]
    a = result.analyse()
    assert a.ok, a.quality.reasons
    assert a.parameters["cz_amplitude"].value == pytest.approx(coupling.cz.amp, rel=0.01)
    # |11> <-> |02> swaps at sqrt(2) times the coupling rate per unit amplitude
    assert a.parameters["swap_frequency_per_amp"].value == pytest.approx(math.sqrt(2) * coupling.rate, rel=0.02)


@pytest.mark.parametrize("name", ["noise-rabi", "noise-t1"])
def test_a_noise_dataset_gives_a_failed_verdict_not_a_number(name, tmp_path):
    result = recorded(name)
    a = result.analyse()
    assert not a.ok
    assert any("no signal above the noise" in r for r in a.quality.reasons)
    assert all(a.value(k) is None for k in a.parameters)
    assert a.table() == [] and "FAILED" in a.summary()
    result.export(tmp_path / "out", report=False)
    saved = json.loads((tmp_path / "out" / "analysis.json").read_text())
    assert saved["verdict"] == "failed" and saved["quality"]["reasons"] == list(a.quality.reasons)
    assert all(p["value"] is None and p["stderr"] is None for p in saved["parameters"].values())


def test_a_tuneup_history_entry_is_analysed_again_to_the_numbers_it_wrote():
    ds = analysis.load(DATA / "tuneup-rabi.nc")
    assert analysis.choose(ds) == "rabi-amplitude"
    a = analysis.analyse(ds)
    assert a.ok
    measured = json.loads(ds.attrs["measured"])
    for key in ("x_pi_amplitude", "sx_pi_amplitude"):
        assert a.parameters[key].value == pytest.approx(measured[key]["value"], rel=1e-9)
        assert a.parameters[key].stderr == pytest.approx(measured[key]["stderr"], rel=1e-6)
    again = workbench.analyse(DATA / "tuneup-rabi.nc")  # the public function, from the path
    assert again.parameters.keys() == a.parameters.keys()


# --------------------------------------------------------------------------------------- fresh runs


def test_fresh_rabi_gives_the_pi_amplitude_within_one_percent():
    result = workbench.run("rabi", device="qutip-1q", seed=31)
    a = workbench.analyse(result)
    pi = workbench.load_catalogue().get("qutip-1q").qubit(0).drive.x.amp
    assert a.ok and abs(a.parameters["pi_amplitude"].value / pi - 1) < 0.01
    assert result.analysis.parameters == a.parameters  # kept in the result


def test_fresh_t1_and_ramsey_match_the_physics_within_five_percent():
    device = workbench.load_catalogue().get("qutip-1q")
    q = device.qubit(0)
    t1 = workbench.run(examples.t1(device, delays=np.linspace(0, 3 * q.t1, 41), shots=2000), device, seed=32)
    value = t1.analyse("t1").parameters["t1"]
    assert abs(value.value / q.t1 - 1) < 0.05, value.text()
    job = examples.ramsey(device, delays=np.linspace(0, 2 * q.t2, 81), detuning=0.1e6, shots=2000)
    ramsey = workbench.run(job, device, seed=33).analyse()
    assert ramsey.name == "ramsey" and ramsey.ok
    assert abs(ramsey.parameters["t2_star"].value / q.t2 - 1) < 0.05, ramsey.parameters["t2_star"].text()


def test_fresh_spectroscopy_examples_on_the_simulator():
    device = workbench.load_catalogue().get("qutip-1q")
    q = device.qubit(0)
    spec = workbench.run("qubit-spectroscopy", device, seed=34).analyse()
    assert spec.ok and abs(spec.parameters["qubit_frequency"].value - q.frequency) < 20e3
    resonator = workbench.run("resonator-spectroscopy", device, seed=35, shots=256).analyse()
    found = resonator.parameters["resonator_frequency"].value
    assert resonator.ok and abs(found - q.readout.resonator.frequency) < 50e3


# ---------------------------------------------------------------------------------- plumbing


def test_the_analysis_travels_in_the_output_folder(tmp_path):
    result = recorded("rabi")
    a = result.analyse()
    folder = result.export(tmp_path / "out", report=False)
    saved = json.loads((folder / "analysis.json").read_text())
    assert saved["analysis"] == "rabi-amplitude" and saved["verdict"] == "ok"
    assert saved["parameters"]["pi_amplitude"] == {"value": a.parameters["pi_amplitude"].value,
                                                   "stderr": a.parameters["pi_amplitude"].stderr, "unit": "",
                                                   "label": "π amplitude"}
    back = workbench.load_result(folder)
    assert "analysis_fit" in back.dataset and back.analysis.parameters == a.parameters
    (curve,) = back.analysis.series
    assert np.allclose(curve.fit_y, a.series[0].fit_y) and np.allclose(curve.x, a.series[0].x)
    assert back.analysis.as_dict() == a.as_dict()
    again = back.analyse("rabi-amplitude")  # replaces, never piles up
    assert back.dataset["analysis_series"].size == 1 and again.parameters == a.parameters


def test_no_analysis_is_guessed_where_none_applies():
    result = workbench.run("x-gate", device="qutip-1q", shots=50, seed=1)
    assert analysis.choose(result.dataset) is None
    with pytest.raises(InputError, match="no analysis applies by itself"):
        result.analyse()
    with pytest.raises(InputError, match="unknown analysis 'nope'; known analyses: rabi-amplitude"):
        recorded("rabi").analyse("nope")
    with pytest.raises(InputError, match="not a sweep over delay"):
        recorded("rabi").analyse("t1")
    assert result.analysis is None


def test_the_cli_names_every_analysis():
    from workbench.cli.analyse import ANALYSIS_NAMES

    assert set(ANALYSIS_NAMES) == set(analysis.ANALYSES)
    assert set(examples.ANALYSES) <= set(examples.EXAMPLES)
    assert set(examples.ANALYSES.values()) <= set(analysis.ANALYSES)


def test_parameters_read_like_a_lab_notebook():
    assert Parameter(0.47566, 0.0011).text() == "0.4757 ± 0.0011"
    assert Parameter(62.03e-6, 1.58e-6, "s").text() == "62.0 ± 1.6 us"
    assert Parameter(4.7999992e9, 3e3, "Hz").text() == "4.7999992 ± 0.0000030 GHz"
    assert Parameter(91e-6, math.inf, "s").text() == "91 us (not resolved)"
