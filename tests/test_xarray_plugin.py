"""A ``dataset.nc`` opened with plain xarray is a first-class result: the ``wb`` accessor and the
``workbench`` engine (workbench.xarray_plugin), on a real exported run.

Import orders are checked in fresh interpreters, because which module registers the accessor depends
on what was imported first. They need the package's ``xarray.backends`` entry point installed
(``pip install -e .`` after pyproject.toml changed); the first test says so when it is missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import workbench
from workbench.errors import InputError, OutputError
from workbench.results.dataset import load_dataset
from workbench.results.result import Result
from workbench.views import result_figures as rf
from workbench.xarray_plugin import WorkbenchBackendEntrypoint

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINT = "workbench.xarray_plugin:WorkbenchBackendEntrypoint"


@pytest.fixture(scope="module")
def rabi_folder(tmp_path_factory) -> Path:
    """A real output folder: the Rabi example on the simulator (21 amplitudes, counts and IQ)."""
    folder = tmp_path_factory.mktemp("runs") / "rabi-out"
    workbench.run("rabi", device="qutip-1q", shots=64, seed=3).export(folder)
    return folder


def test_the_engine_is_declared_and_installed():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["xarray.backends"]
    assert declared == {"workbench": ENTRY_POINT}
    installed = {ep.name: ep.value for ep in entry_points(group="xarray.backends")}
    assert installed.get("workbench") == ENTRY_POINT, (
        "the xarray.backends entry point is not installed: reinstall the package (pip install -e .)")
    assert isinstance(xr.backends.list_engines()["workbench"], WorkbenchBackendEntrypoint)


ORDERS = {
    "xarray, then workbench": "import xarray as xr\nimport workbench\n",
    "workbench, then xarray": "import workbench\nimport sys\nassert 'xarray' not in sys.modules\nimport xarray as xr\n",
    "xarray alone": "import xarray as xr\n",
}


@pytest.mark.parametrize("order", ORDERS)
def test_plain_open_dataset_has_the_accessor_in_either_import_order(rabi_folder, order):
    code = ORDERS[order] + (
        "import json, sys\n"
        f"ds = xr.open_dataset({str(rabi_folder / 'dataset.nc')!r})\n"
        "print(json.dumps({'counts': ds.wb.counts(experiment=10), 'by_name': ds.wb.counts('rabi-010'),\n"
        "                  'iq': str(ds.wb.result.dataset.iq.dtype), 'stored_iq': str(ds.iq.dtype.names),\n"
        "                  'workbench': 'workbench' in sys.modules}))\n")
    out = json.loads(_python(code))
    expected = Result.load(rabi_folder).counts(10)
    assert out["counts"] == out["by_name"] == expected and sum(expected.values()) == 64
    assert out["iq"] == "complex128" and out["stored_iq"] == "('r', 'i')"  # netCDF4 reads complex as records
    assert out["workbench"]  # xarray imported the plugin through its entry point


def test_registered_when_workbench_follows_xarray_even_without_plugin_loading(rabi_folder):
    """A built-in engine named explicitly loads no plugins; importing the workbench registers the accessor,
    without importing the figure code (plotly) until a figure is asked for."""
    out = json.loads(_python(
        "import json, sys\nimport xarray as xr\n"
        f"ds = xr.open_dataset({str(rabi_folder / 'dataset.nc')!r}, engine='h5netcdf')\n"
        "before = hasattr(ds, 'wb')\nimport workbench\n"
        "print(json.dumps({'before': before, 'counts': ds.wb.counts(), 'plotly': 'plotly' in sys.modules}))\n"))
    assert out == {"before": False, "counts": Result.load(rabi_folder).counts(0), "plotly": False}


def test_a_fresh_result_dataset_has_the_accessor():
    out = json.loads(_python(
        "import json, workbench\nr = workbench.run('x-gate', device='qutip-1q', shots=32, seed=2)\n"
        "print(json.dumps([r.dataset.wb.counts(), r.counts()]))\n"))
    assert out[0] == out[1] and sum(out[0].values()) == 32


def test_accessor_counts_distribution_and_result(rabi_folder):
    reference = Result.load(rabi_folder)
    with xr.open_dataset(rabi_folder / "dataset.nc", engine="netcdf4") as ds:
        assert ds.iq.dtype.names == ("r", "i")
        for k in (0, 7, -1, "rabi-005"):
            assert ds.wb.counts(k) == reference.counts(k)
            assert ds.wb.distribution(experiment=k) == reference.distribution(k)
        result = ds.wb.result
        assert isinstance(result, Result) and ds.wb.result is result  # one Result per Dataset
        assert result.tuid == reference.tuid and result.options == reference.options
        np.testing.assert_array_equal(result.dataset.iq.values, reference.dataset.iq.values)
        assert ds.iq.dtype.names == ("r", "i")  # the user's Dataset is left as it was
        with pytest.raises(InputError, match="no experiment named 'nope'"):
            ds.wb.counts("nope")


def test_accessor_figures_are_the_workbench_figures(rabi_folder):
    reference = Result.load(rabi_folder)
    with xr.open_dataset(rabi_folder / "dataset.nc") as ds:
        sweep, counts = ds.wb.plot_sweep(), ds.wb.plot_counts(["rabi-000", 20])
        probabilities = ds.wb.plot_counts([0], normalise=True)
    expected_sweep = rf.sweep_figure(reference)
    assert sweep.layout.title.text == "Sweep over amp" and len(sweep.data) == len(expected_sweep.data)
    for got, want in zip(sweep.data, expected_sweep.data, strict=True):
        assert got.name == want.name
        np.testing.assert_array_equal(got.x, want.x)
        np.testing.assert_allclose(got.y, want.y)
    assert counts.to_dict() == rf.counts_figure(reference, [0, 20]).to_dict()
    assert probabilities.to_dict() == rf.distribution_figure(reference, [0]).to_dict()


def test_accessor_refuses_what_it_cannot_draw_or_read(tmp_path):
    x_gate = workbench.run("x-gate", device="qutip-1q", shots=16, seed=1)
    with pytest.raises(InputError, match="not a sweep"):
        x_gate.dataset.wb.plot_sweep()
    iq_only = workbench.run("x-gate", device="qutip-1q", shots=16, seed=1, options={"meas_level": 1})
    with pytest.raises(InputError, match="no counts to plot"):
        iq_only.dataset.wb.plot_counts()
    other = tmp_path / "other.nc"
    xr.Dataset({"t": ("x", np.arange(3.0))}, attrs={"title": "someone else's data"}).to_netcdf(other)
    with xr.open_dataset(other) as ds, pytest.raises(InputError) as refused:
        ds.wb.counts()
    assert str(refused.value) == f"{other}: not a workbench result dataset (attribute 'schema' missing)"


def test_accessor_export_writes_the_result_export_files_and_never_overwrites(rabi_folder, tmp_path):
    with xr.open_dataset(rabi_folder / "dataset.nc") as ds:
        copy = ds.wb.export(tmp_path / "copy")
        taken = tmp_path / "taken"
        taken.mkdir()
        (taken / "notes.txt").write_text("mine")
        with pytest.raises(OutputError):
            ds.wb.export(taken)
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"] and (taken / "notes.txt").read_text() == "mine"
    original = sorted(p.name for p in rabi_folder.iterdir())
    assert sorted(p.name for p in copy.iterdir()) == original
    for name in original:
        if name != "dataset.nc":
            assert (copy / name).read_bytes() == (rabi_folder / name).read_bytes(), name
    xr.testing.assert_identical(load_dataset(copy / "dataset.nc"), load_dataset(rabi_folder / "dataset.nc"))


def test_the_engine_opens_an_output_folder(rabi_folder, tmp_path):
    reference = load_dataset(rabi_folder / "dataset.nc")
    guessed = xr.open_dataset(rabi_folder)  # a folder holding dataset.nc: the workbench engine is guessed
    xr.testing.assert_identical(guessed.load(), reference)
    assert guessed.iq.dtype == np.complex128 and guessed.wb.counts(3) == Result(reference).counts(3)
    by_file = xr.open_dataset(rabi_folder / "dataset.nc", engine="workbench", drop_variables=["iq"])
    assert "iq" not in by_file and "counts" in by_file
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not WorkbenchBackendEntrypoint().guess_can_open(empty)
    assert not WorkbenchBackendEntrypoint().guess_can_open(rabi_folder / "dataset.nc")  # left to netCDF engines
    with pytest.raises(InputError, match=r"no dataset\.nc found"):
        xr.open_dataset(empty, engine="workbench")
    other = tmp_path / "other.nc"
    xr.Dataset({"t": ("x", np.arange(3.0))}).to_netcdf(other)
    with pytest.raises(InputError, match="not a workbench result dataset"):
        xr.open_dataset(other, engine="workbench")


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (same environment: PYTHONPATH, installed entry points)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_accessor_analyses_without_changing_the_dataset():
    path = Path(__file__).parent / "data" / "analysis" / "rabi.nc"
    with xr.open_dataset(path) as opened:
        ds = opened.load()
    analysis = ds.wb.analyse()
    assert analysis.name == "rabi-amplitude" and analysis.ok
    assert "analysis" not in ds.attrs and ds.wb.result.analysis.parameters == analysis.parameters
    assert ds.wb.plot_sweep().data[1].name == "rabi fit"
