"""The data directory: quantify-core's layout, read by quantify-core's own loader, listed and loaded by ours.

Runs are real simulations; the quantify-core functions are the installed library's, not copies.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil

import numpy as np
import pytest

import workbench
from workbench.errors import InputError, OutputError
from workbench.examples import x_gate
from workbench.results import datadir
from workbench.results.result import Result


@pytest.fixture(scope="module")
def rabi_run() -> Result:
    return workbench.run("rabi", shots=200, seed=5)


@pytest.fixture(scope="module")
def bell_run() -> Result:
    return workbench.run("bell", device="qutip-2q", shots=100, seed=6)


@pytest.fixture
def quantify_datadir(monkeypatch):
    """quantify-core's module-level data directory, restored after the test."""
    from quantify_core.data import handling

    monkeypatch.setattr(handling, "_datadir", None)
    return handling


def test_quantify_core_reads_a_run_from_the_data_directory(rabi_run, bell_run, tmp_path, quantify_datadir):
    """quantify-core's own set_datadir / get_tuids_containing / load_dataset find and read our runs."""
    root = tmp_path / "data"
    folder = rabi_run.to_datadir(root)
    bell_run.to_datadir(root)
    assert folder.parent.parent == root and folder.parent.name == rabi_run.tuid[:8]
    assert folder.name == f"{rabi_run.tuid}-example-rabi"
    assert (folder / "dataset.hdf5").is_file() and not (folder / "dataset.nc").exists()
    for name in ("result-counts.json", "result-trace.json", "execution-options.json", "job.json",
                 "device-config.yml"):
        assert (folder / name).is_file(), name

    handling = quantify_datadir
    handling.set_datadir(str(root))
    assert handling.get_tuids_containing("rabi") == [rabi_run.tuid]
    assert sorted(handling.get_tuids_containing("")) == sorted([rabi_run.tuid, bell_run.tuid])
    assert handling.locate_experiment_container(rabi_run.tuid) == str(folder)
    ds = handling.load_dataset(rabi_run.tuid)
    assert ds.attrs["tuid"] == rabi_run.tuid
    assert ds["iq"].dtype == complex
    np.testing.assert_array_equal(ds["iq"].values, rabi_run.dataset["iq"].values)
    np.testing.assert_array_equal(ds["counts"].values, rabi_run.dataset["counts"].values)
    np.testing.assert_array_equal(ds["amp"].values, rabi_run.dataset["amp"].values)
    from quantify_core.data.types import TUID

    assert TUID.is_valid(rabi_run.tuid)


def test_load_result_by_tuid_from_the_data_directory(rabi_run, tmp_path, monkeypatch):
    root = tmp_path / "data"
    rabi_run.to_datadir(root)
    assert workbench.load_result(rabi_run.tuid, datadir=root) == rabi_run
    monkeypatch.setenv(datadir.DATADIR_ENV, str(root))
    assert workbench.load_result(rabi_run.tuid) == rabi_run
    # the engine and the folder loader read the run's folder as any output folder
    folder = datadir.find(rabi_run.tuid)
    assert Result.load(folder) == rabi_run
    import xarray as xr

    assert xr.open_dataset(folder, engine="workbench").identical(rabi_run.dataset)


def test_an_existing_path_wins_over_a_tuid(rabi_run, bell_run, tmp_path, monkeypatch):
    """A folder named like a tuid in the current folder is that folder, not the data directory's run."""
    root = tmp_path / "data"
    rabi_run.to_datadir(root)
    monkeypatch.chdir(tmp_path)
    bell_run.export(tmp_path / rabi_run.tuid)
    assert workbench.load_result(rabi_run.tuid, datadir=root) == bell_run


def test_missing_runs_and_missing_data_directories_are_one_line(rabi_run, tmp_path):
    with pytest.raises(InputError, match="no data directory: give --datadir DIR or set WORKBENCH_DATADIR"):
        workbench.load_result(rabi_run.tuid)
    with pytest.raises(InputError, match=f"no run {rabi_run.tuid} in the data directory"):
        workbench.load_result(rabi_run.tuid, datadir=tmp_path)
    with pytest.raises(InputError, match=r"no dataset\.nc found"):
        workbench.load_result("not-a-tuid-nor-a-path", datadir=tmp_path)


def test_a_run_is_kept_once_and_never_overwritten(rabi_run, tmp_path):
    root = tmp_path / "data"
    folder = rabi_run.to_datadir(root)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(OutputError, match="already in the data directory"):
        rabi_run.to_datadir(root)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert not any((root / ".incoming").iterdir())  # nothing half-written left behind


def test_a_stored_name_never_chooses_a_path(tmp_path):
    """A job named like a path, hidden file or nonsense still lands in its day folder, by tuid."""
    job = x_gate(workbench.load_catalogue().get("qutip-1q"))
    root = tmp_path / "data"
    for name in ("../../escape", "/etc/passwd", ".hidden", "..", "a" * 300, "r\u00e9sum\u00e9 \n x"):
        job["qobj_id"] = name
        result = workbench.run(job, shots=20, seed=1)
        folder = result.to_datadir(root)
        assert folder.parent == root / result.tuid[:8], name
        assert folder.name.startswith(result.tuid + "-") and len(folder.name) <= 26 + 1 + datadir.MAX_NAME
        assert not folder.name[27:].startswith(".") and "/" not in folder.name[27:]
        assert workbench.load_result(result.tuid, datadir=root) == result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert datadir.safe_name("../../escape") == "escape" and datadir.safe_name("..") == "run"


def test_listing_filters_and_ignores_what_is_not_a_run(rabi_run, bell_run, tmp_path):
    root = tmp_path / "data"
    rabi_run.to_datadir(root)
    bell_run.to_datadir(root)
    day = root / rabi_run.tuid[:8]
    # things a shared folder collects: a file, a hidden folder, a run in the wrong day, links out of it
    (day / "notes.txt").write_text("x")
    (day / ".20261130-000000-000-aaaaaa-hidden").mkdir()
    wrong_day = root / "19990101" / f"{rabi_run.tuid[:-6]}bbbbbb-moved"
    wrong_day.mkdir(parents=True)
    outside = tmp_path / "outside"
    shutil.copytree(datadir.find(bell_run.tuid, root), outside)
    os.symlink(outside, day / f"{rabi_run.tuid[:-6]}cccccc-link")
    os.symlink(day, root / "20000101")

    listed = datadir.entries(root)
    assert [e.tuid for e in listed] == sorted([rabi_run.tuid, bell_run.tuid])
    rabi_entry = next(e for e in listed if e.tuid == rabi_run.tuid)
    assert (rabi_entry.name, rabi_entry.device, rabi_entry.kind, rabi_entry.experiments, rabi_entry.shots) == \
        ("example-rabi", "qutip-1q", "pulse", 21, 200)
    assert [e.tuid for e in datadir.entries(root, device="qutip-2q")] == [bell_run.tuid]
    assert [e.tuid for e in datadir.entries(root, contains="bell")] == [bell_run.tuid]
    later = datadir.tuid_time(max(rabi_run.tuid, bell_run.tuid))
    assert [e.tuid for e in datadir.entries(root, since=later)] == [max(rabi_run.tuid, bell_run.tuid)]
    assert datadir.entries(root, since=later + dt.timedelta(days=1)) == []


def test_a_damaged_or_huge_trace_still_lists_the_run(rabi_run, tmp_path):
    root = tmp_path / "data"
    folder = rabi_run.to_datadir(root)
    (folder / "result-trace.json").write_bytes(b"{" + b" " * (datadir.MAX_TRACE_BYTES + 10) + b"}")
    [entry] = datadir.entries(root)
    assert (entry.tuid, entry.name, entry.device, entry.shots) == (rabi_run.tuid, "example-rabi", "", None)
    (folder / "result-trace.json").write_text("[1, 2")
    assert datadir.entries(root)[0].device == ""


def test_since_accepts_dates_times_and_tuids():
    assert datadir.parse_since("2026-11-30") == dt.datetime(2026, 11, 30)
    assert datadir.parse_since("20261130") == dt.datetime(2026, 11, 30)
    assert datadir.parse_since("2026-11-30T14:05") == dt.datetime(2026, 11, 30, 14, 5)
    assert datadir.parse_since("20261130-140501-250-abcdef") == dt.datetime(2026, 11, 30, 14, 5, 1, 250000)
    with pytest.raises(InputError, match="--since: expected a date"):
        datadir.parse_since("yesterday")


# ------------------------------------------------------------------------------------------------ CLI


def test_cli_keeps_runs_in_the_data_directory_and_lists_them(run_cli, tmp_path):
    root = tmp_path / "data"
    proc = run_cli("run", "x-gate", "--shots", "50", "--seed", "1", "--datadir", str(root), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    [entry] = datadir.entries(root)
    assert f"results written to {entry.folder}" in proc.stdout
    # $WORKBENCH_DATADIR does the same; a batch keeps each job as a run of its own
    proc = run_cli("run", "x-gate", "bell", "--device", "qutip-2q", "--shots", "50", "--seed", "2",
                   cwd=tmp_path, env={"WORKBENCH_DATADIR": str(root)})
    assert proc.returncode == 0, proc.stderr
    assert f"results written to {root} (2 runs)" in proc.stdout
    assert not (tmp_path / "results").exists()

    proc = run_cli("results", "--datadir", str(root))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["TUID", "NAME", "DEVICE", "KIND", "EXPERIMENTS", "SHOTS"]
    assert [line.split()[:3] for line in lines[1:4]] == [
        [e.tuid, e.name, e.device] for e in datadir.entries(root)]
    assert lines[-1] == f"3 runs in {root}"
    proc = run_cli("results", "bell", "--device", "qutip-2q", "--json", env={"WORKBENCH_DATADIR": str(root)})
    assert proc.returncode == 0, proc.stderr
    [listed] = json.loads(proc.stdout)
    assert (listed["name"], listed["device"], listed["shots"], listed["experiments"]) == \
        ("example-bell", "qutip-2q", 50, 1)
    assert workbench.load_result(listed["tuid"], datadir=root).counts()


def test_cli_out_wins_over_the_environment_and_conflicts_are_refused(run_cli, tmp_path):
    root = tmp_path / "data"
    proc = run_cli("run", "x-gate", "--shots", "20", "--out", str(tmp_path / "out"),
                   env={"WORKBENCH_DATADIR": str(root)})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "dataset.nc").is_file() and not root.exists()
    proc = run_cli("run", "x-gate", "--out", str(tmp_path / "o2"), "--datadir", str(root))
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: --datadir: give either --out DIR (one output folder) or --datadir DIR "
                                   "(the data directory), not both")
    assert not (tmp_path / "o2").exists() and not root.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["results"], "error: no data directory: give --datadir DIR or set WORKBENCH_DATADIR"),
    (["results", "--datadir", "nowhere"], "error: nowhere: the data directory does not exist"),
    (["results", "--datadir", ".", "--since", "soon"], "error: --since: expected a date such as 2026-11-30, "
     "a date and time such as 2026-11-30T14:00, or a tuid; got 'soon'"),
])
def test_cli_results_bad_input_is_one_line(run_cli, tmp_path, args, message):
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == message


def test_cli_results_on_an_empty_data_directory(run_cli, tmp_path):
    proc = run_cli("results", "--datadir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"no runs in {tmp_path}"
