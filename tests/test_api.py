"""The Python API over the same core as the CLI."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import workbench
from workbench.errors import CancelledError, InputError, OutputError


@pytest.fixture(scope="module")
def rabi():
    return workbench.run("rabi", device="qutip-1q", shots=200, seed=5)


def test_sweep_metadata_becomes_a_coordinate(rabi):
    ds = rabi.dataset
    assert ds.sizes["experiment"] == 21
    assert "amp" in ds.coords and ds["amp"].dims == ("experiment",)
    p1 = ds["populations"].sel(slot=0, level=1)
    assert float(p1[0]) < 0.01  # zero amplitude leaves the qubit in |0>
    assert np.all(ds["slot_qubit"].values == 0)


def test_counts_by_name_and_index(rabi):
    names = rabi.experiment_names
    assert len(set(names)) == len(names)
    assert rabi.counts(names[3]) == rabi.counts(3)
    assert sum(rabi.counts(-1).values()) == 200
    assert sum(rabi.distribution(3).values()) == 1.0
    with pytest.raises(InputError):
        rabi.counts("nope")


def test_export_and_reload_round_trip(rabi, tmp_path):
    folder = rabi.export(tmp_path / "rabi")
    again = workbench.load_result(folder)
    assert again == rabi
    assert again.options == rabi.options and again.trace == rabi.trace
    with pytest.raises(OutputError):
        rabi.export(folder)  # never overwritten


def test_same_seed_same_data_other_seed_other_data():
    a = workbench.run("x-gate", shots=100, seed=3)
    b = workbench.run("x-gate", shots=100, seed=3)
    c = workbench.run("x-gate", shots=100, seed=4)
    assert np.array_equal(a.dataset["iq"].values, b.dataset["iq"].values)
    assert not np.array_equal(a.dataset["iq"].values, c.dataset["iq"].values)


def test_progress_reports_every_experiment():
    seen = []
    workbench.run("t1", shots=10, seed=1, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]


def test_cancel_stops_the_run():
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        workbench.run("rabi", shots=10, seed=1, cancel=cancel)


def test_prepare_validates_without_running():
    prepared = workbench.prepare("rabi", "qutip-1q", shots=5)
    assert len(prepared.programs) == 21
    assert prepared.options["shots"] == 5
    assert prepared.programs[0].dt == 1e-9


def test_repr_shows_no_secret():
    result = workbench.run("x-gate", shots=5, seed=1, options={"password": "pw-778899"})
    assert "pw-778899" not in repr(result) and "pw-778899" not in result._repr_html_()
    assert "password" not in result.options
