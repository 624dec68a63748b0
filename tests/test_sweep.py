"""Sweeps: the one or two parameters a job's experiments differ by, from metadata or found in the schedules,
recorded in the Dataset and used by every view."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import workbench
from workbench import examples
from workbench.analysis.sweep import detect, from_metadata, from_schedules, swept, value_label
from workbench.jobs import load_job
from workbench.views.summary import sweep_table


def bare(job: dict) -> dict:
    """The job with its experiments' metadata removed: only the schedules say what varies."""
    for experiment in job["experiments"]:
        experiment["header"]["metadata"] = {}
    return job


@pytest.mark.parametrize(("builder", "name", "unit", "channel"), [
    (examples.rabi, "amp", "", "d0"),
    (examples.t1, "delay", "s", "m0"),  # the delay shows as the measurement's later start
    (examples.ramsey, "delay", "s", "d0"),  # the phase advance depends on the delay: not a parameter of its own
    (examples.rabi_length, "duration", "s", "d0"),
    (examples.qubit_spectroscopy, "frequency", "Hz", "d0"),
])
def test_the_swept_parameter_is_found_in_the_schedules(device_1q, builder, name, unit, channel):
    job = builder(device_1q)
    metadata = [e["header"]["metadata"] for e in job["experiments"]]
    schedules = load_job(bare(job)).schedules(device_1q)
    (found,) = from_schedules(schedules)
    assert (found.name, found.unit, found.source, found.channel) == (name, unit, "schedule", channel)
    if name in metadata[0]:  # the same values the metadata states (in SI units)
        assert np.allclose(found.values, [m[name] for m in metadata], rtol=1e-9, atol=1e-15)


def test_two_parameters_make_a_grid_and_three_make_no_sweep(device_2q, device_1q):
    schedules = load_job(bare(examples.chevron(device_2q, n_amp=3, n_width=2))).schedules(device_2q)
    assert [(p.name, p.channel) for p in from_schedules(schedules)] == [("amp", "u0"), ("duration", "u0")]
    grid = [{"amp": a, "delay": d, "detuning": f}
            for a, d, f in itertools.product([0.1, 0.2], [1e-6, 2e-6], [1e6, 2e6])]
    assert from_metadata(grid) == []  # three independent parameters: a set of experiments, not a sweep
    ramsey_like = [{"delay": d, "phase": (d * 7.0) % 1.0} for d in np.linspace(0, 1, 9)]
    assert [p.name for p in from_metadata(ramsey_like)] == ["delay"]  # a function of another is not a parameter
    same = [{"amp": a, "index": i} for i, a in enumerate([0.1, 0.2, 0.3])]
    assert [p.name for p in from_metadata(same)] == ["amp"]  # two keys, one parameter


def test_metadata_wins_and_is_recorded_in_the_dataset(device_1q):
    result = workbench.run("ramsey", device_1q, shots=20, seed=1)
    assert json.loads(result.dataset.attrs["sweep"]) == ["delay"] == result.sweep  # detuning is the same everywhere
    assert result.dataset["delay"].attrs["units"] == "s"
    found = workbench.run(bare(examples.rabi(device_1q)), device_1q, shots=20, seed=1)
    assert found.sweep == ["amp"] and found.dataset["amp"].attrs["source"] == "schedule (d0)"
    assert np.allclose(found.dataset["amp"].values, workbench.run("rabi", device_1q, shots=20, seed=1).dataset["amp"])
    one = workbench.run("x-gate", device_1q, shots=20, seed=1)
    assert one.sweep == [] and detect([]) == []


def test_older_datasets_without_the_attribute_still_show_their_sweep(device_1q):
    result = workbench.run("t1", device_1q, shots=20, seed=2)
    ds = result.dataset.copy()
    del ds.attrs["sweep"]
    assert swept(ds) == ["delay"]


def test_swept_values_read_like_a_lab_notebook():
    assert value_label("amp", 0.476817) == "amp = 0.4768"
    assert value_label("delay", 12e-6) == "delay = 12 us"
    assert value_label("frequency", 4.8012e9) == "frequency = 4.8012 GHz"
    assert value_label("width", 40.0) == "width = 40"


def test_the_cli_table_lists_the_sweep_not_the_first_experiment(device_1q):
    result = workbench.run("rabi", device_1q, shots=100, seed=5)
    lines = sweep_table(result).splitlines()
    assert lines[0].split() == ["amp", "P(1)", "counts"] and len(lines) == 22
    p1 = result.dataset["memory"].values[:, :, 0].mean(axis=1)
    for line, amp, p in zip(lines[1:], result.dataset["amp"].values, p1, strict=True):
        cells = line.split()
        assert float(cells[0]) == pytest.approx(amp, rel=1e-3) and float(cells[1]) == pytest.approx(p, abs=5e-4)
    long = workbench.run(examples.rabi(device_1q, amplitudes=np.linspace(0, 0.9, 60), shots=10), device_1q, seed=1)
    shown = sweep_table(long).splitlines()
    assert len(shown) == 1 + 24 + 1 and shown[13].strip() == "..."
    assert "rabi-000" not in result.summary()  # the summary names the sweep, not the first experiment
    assert "a sweep over amp" in result.summary()
