"""Output folders under hostile inputs (issue 14, items 6, 8, 12, 13): CSV export linear in the outcomes and
safe to open in a spreadsheet, stored names never choosing output files, normal permissions, an ``--out``
that cannot be written refused before the run."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import stat
from pathlib import Path

import pytest

import workbench
from workbench.results.exports import entities_csv
from workbench.results.result import Result


@pytest.fixture(scope="module")
def x_result() -> Result:
    return workbench.run("x-gate", shots=20, seed=3)


def imported(result: Result, tmp_path: Path, **attrs) -> Result:
    """``result`` as a colleague's dataset.nc with the given attributes changed, read back."""
    ds = result.dataset.copy()
    ds.attrs.update(attrs)
    path = tmp_path / "theirs.nc"
    Result(ds).save(path)
    return Result.load(path)


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


# -- item 13: CSV export ----------------------------------------------------------------------------


class CountingKey(str):
    """An outcome key that counts how often it is compared: the work of collecting the CSV's columns."""

    comparisons = 0

    def __eq__(self, other):
        CountingKey.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_csv_export_compares_each_outcome_a_bounded_number_of_times():
    """A 24-qubit H circuit has ~1e6 distinct outcomes; collecting the columns in a list compared each with
    every earlier one (400+ s). Costed by counting comparisons, not by a clock."""
    n = 3000
    row = {CountingKey(format(i, "012b")): 1 for i in range(n)}
    CountingKey.comparisons = 0
    text = entities_csv([{**row, "ID": "run"}, {"ID": "other", CountingKey("000000000000"): 2}])
    assert CountingKey.comparisons <= 10 * n  # quadratic was n * n / 2 = 4.5e6
    header, first, second = list(csv.reader(io.StringIO(text, newline="")))
    assert header[0] == "ID" and len(header) == n + 1
    assert first[:2] == ["run", "1"] and second[:2] == ["other", "2"] and second[2:] == ["0"] * (n - 1)


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(x_result, tmp_path):
    """Names in an imported dataset.nc (the run ID in its trace, the outcomes) end up in CSV cells."""
    ds = x_result.dataset.copy()
    ds = ds.assign_coords(outcome=["=HYPERLINK(\"http://x\")"])
    trace = {**x_result.trace, "ID": "@SUM(1+1)*cmd|' /C calc'!A0"}
    from workbench.results.dataset import json_text

    ds.attrs["trace"] = json_text(trace)
    path = tmp_path / "theirs.nc"
    Result(ds).save(path)
    Result.load(path).export(tmp_path / "out")
    for name in ("result-counts.csv", "result-distribution.csv"):
        header, row = read_csv(tmp_path / "out" / name)
        assert header == ["ID", "'=HYPERLINK(\"http://x\")"]
        assert row[0] == "'@SUM(1+1)*cmd|' /C calc'!A0"
        assert float(row[1]) > 0  # numbers stay numbers


@pytest.mark.parametrize("text", ["-1", "+cmd", "=1", "@x", "\tx", "\rx"])
def test_every_formula_start_is_neutralised_and_plain_text_is_not(text):
    header, row = list(csv.reader(io.StringIO(entities_csv([{"ID": text, "01": -3}]), newline="")))
    assert row == ["'" + text, "-3"]
    header, row = list(csv.reader(io.StringIO(entities_csv([{"ID": "run/x-gate", "01": 3}]), newline="")))
    assert header == ["ID", "01"] and row == ["run/x-gate", "3"]


# -- item 8: stored names never choose output files -------------------------------------------------


@pytest.mark.parametrize("stored", ["dataset.nc", "../../escape.json", "result-trace.json", "/etc/x.json", "",
                                    "compiled"])
def test_a_stored_job_filename_never_chooses_an_output_file(x_result, tmp_path, stored):
    theirs = imported(x_result, tmp_path, job_filename=stored)
    theirs.export(tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "job.json" in names and stored not in (set(names) - {"dataset.nc", "result-trace.json"})
    again = Result.load(tmp_path / "out")  # dataset.nc is the Dataset, not the job's text
    assert again.counts() == x_result.counts()
    assert (tmp_path / "out" / "result-trace.json").read_text().startswith("{")
    assert not (tmp_path / "escape.json").exists()


def test_a_qasm_job_keeps_its_kind_under_a_fixed_name(x_result, tmp_path):
    theirs = imported(x_result, tmp_path, job_filename="../evil.qasm", job_source="OPENQASM 2.0;\n")
    theirs.export(tmp_path / "out")
    assert (tmp_path / "out" / "circuit.qasm").read_text() == "OPENQASM 2.0;\n"
    assert not (tmp_path / "evil.qasm").exists()


def test_artifact_names_stay_inside_compiled(x_result, tmp_path):
    from workbench.results.dataset import json_text

    artifacts = {"../dataset.nc": "x", "/tmp/abs.txt": "x", "a": "first", "a/b": "clash", "ok/prog.q1asm": "play",
                 "nul\x00.txt": "x", "": "x"}
    theirs = imported(x_result, tmp_path, artifacts=json_text(artifacts))
    theirs.export(tmp_path / "out")
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out" / "compiled").rglob("*"))
    assert written == ["compiled/a", "compiled/ok", "compiled/ok/prog.q1asm"]
    assert Result.load(tmp_path / "out").counts() == x_result.counts()


# -- item 12: permissions ---------------------------------------------------------------------------


@contextlib.contextmanager
def umask(value: int):
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_output_folders_get_the_permissions_of_any_new_folder(x_result, tmp_path, mask):
    with umask(mask):
        x_result.export(tmp_path / "deep" / "out")
    out = tmp_path / "deep" / "out"
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask  # mkdtemp made it 0700
    for path in out.rglob("*"):
        want = (0o777 if path.is_dir() else 0o666) & ~mask
        assert stat.S_IMODE(path.stat().st_mode) == want, path
    assert not (out / ".workbench-staging").exists()


# -- item 6: an --out that cannot be written is refused before the run ------------------------------


def test_out_that_is_a_link_to_nothing_exits_2_before_the_run(run_cli, tmp_path):
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    proc = run_cli("run", "x-gate", "--shots", "5", "--out", "gone", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and "link to nothing" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone"] and not (tmp_path / "nowhere").exists()


def test_out_below_a_file_exits_2_before_the_run(run_cli, tmp_path):
    (tmp_path / "plain").write_text("x")
    proc = run_cli("run", "x-gate", "--shots", "5", "--out", "plain/sub/out", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "not a folder" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("out", ["/sys/wb-new/out", "/sys/out"])
def test_out_where_no_folder_can_be_made_exits_2_before_the_run(run_cli, tmp_path, out):
    """``/sys`` refuses new folders even to root (as a read-only mount or a folder without write permission
    would), though ``os.access`` says it is writable. Before: only the direct parent was looked at, with
    ``os.access``, so the job ran and its results were lost when the folder could not be made."""
    proc = run_cli("-v", "run", "x-gate", "--shots", "5", "--out", out, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and "not writable" in proc.stderr, proc.stderr
    assert out in proc.stderr and "running" not in proc.stderr  # refused before the run
    assert not Path(out).parent.joinpath("wb-new").exists()


def test_a_cancel_set_by_the_time_of_the_commit_keeps_nothing(x_result, tmp_path):
    """A Ctrl-C or SIGTERM whose exception was lost on its way (handlers' exceptions can be swallowed in
    C code) still stops the export: the flag is looked at before the folder is committed."""
    import threading

    from workbench.errors import CancelledError

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        x_result.export(tmp_path / "out", cancel=cancel)
    with pytest.raises(CancelledError):
        x_result.to_datadir(tmp_path / "data", cancel=cancel)
    assert [p.name for p in tmp_path.iterdir() if p.name != "data"] == []
    assert not any(p.is_file() or p.name.endswith(".partial") for p in (tmp_path / "data").rglob("*"))
    assert x_result.export(tmp_path / "out", cancel=threading.Event()).is_dir()  # not set: kept
