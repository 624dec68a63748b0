"""The command line end to end: real simulations, real files, exit codes users see."""

from __future__ import annotations

import json
import sys

import pytest
import xarray as xr

from workbench.cli.main import main
from workbench.results.result import Result

SECRETS = {"password": "hunter2-pw", "api-token": "tok-8e7f6a", "username": "alice-secret-user",
           "start-session": "sess-99"}


@pytest.fixture(scope="module")
def x_gate_run(tmp_path_factory, run_cli):
    """One real run through the installed entry point, shared by the read-only checks below."""
    out = tmp_path_factory.mktemp("runs") / "x-gate"
    args = ["run", "x-gate", "--shots", "300", "--seed", "11", "--out", str(out)]
    for key, value in SECRETS.items():
        args += ["--set", f"{key}={value}"]
    args += ["--set", "my_note=\"kept as given\""]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_run_writes_the_standard_files(x_gate_run):
    out, proc = x_gate_run
    names = {p.name for p in out.iterdir()}
    assert {"result-counts.json", "result-counts.csv", "result-distribution.json", "result-distribution.csv",
            "result-trace.json", "execution-options.json", "dataset.nc", "job.json",
            "device-config.yml"} <= names
    counts = json.loads((out / "result-counts.json").read_text())  # one experiment: one object, as QHAna
    assert isinstance(counts, dict) and counts["ID"] == json.loads((out / "result-trace.json").read_text())["ID"]
    bits = {k: v for k, v in counts.items() if k != "ID"}
    assert sum(bits.values()) == 300
    assert all(len(k) == 1 for k in bits)
    assert bits.get("1", 0) > 270  # an X gate on the calibrated device
    dist = json.loads((out / "result-distribution.json").read_text())
    assert sum(v for k, v in dist.items() if k != "ID") == 1.0
    csv_lines = (out / "result-counts.csv").read_text().splitlines()
    assert csv_lines[0].startswith('"ID",')
    assert "results written to" in proc.stdout


def test_trace_and_options(x_gate_run):
    out, _ = x_gate_run
    trace = json.loads((out / "result-trace.json").read_text())
    for key in ("jobId", "device", "executor", "versions", "timeTaken", "seed", "warnings", "date", "shots"):
        assert key in trace
    assert trace["device"] == "qutip-1q" and trace["seed"] == 11
    assert "scipy" in trace["versions"] and "qutip" not in trace["versions"]  # the libraries the run used
    options = json.loads((out / "execution-options.json").read_text())
    assert options["shots"] == 300 and options["seed"] == 11
    assert options["meas_level"] == 2 and options["meas_return"] == "single"
    assert options["noise"] is True  # executor defaults are written out too
    assert options["my_note"] == "kept as given"
    assert any("my_note" in w for w in trace["warnings"])


def test_secrets_reach_no_file_and_no_output(x_gate_run):
    out, proc = x_gate_run
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for value in SECRETS.values():
                assert value.encode() not in data, f"{value} leaked into {path.name}"
    for value in SECRETS.values():
        assert value not in proc.stdout and value not in proc.stderr
    options = json.loads((out / "execution-options.json").read_text())
    assert not set(SECRETS) & set(options)


def test_dataset_reloads_identically(x_gate_run, tmp_path):
    out, _ = x_gate_run
    result = Result.load(out)
    again = tmp_path / "again.nc"
    result.save(again)
    xr.testing.assert_identical(Result.load(again).dataset, result.dataset)
    assert result.counts(0) == {k: v for k, v in json.loads((out / "result-counts.json").read_text()).items()
                                if k != "ID"}
    assert result.dataset["iq"].dtype.kind == "c"


def test_execution_options_reproduce_the_counts(x_gate_run, tmp_path):
    out, _ = x_gate_run
    again = tmp_path / "again"
    code = main(["run", str(out / "job.json"), "--options", str(out / "execution-options.json"),
                 "--out", str(again)])
    assert code == 0
    first = json.loads((out / "result-counts.json").read_text())
    second = json.loads((again / "result-counts.json").read_text())
    assert first.pop("ID") != second.pop("ID")  # a fresh run ID, never the one of the options file
    assert first == second
    ds1, ds2 = Result.load(out).dataset, Result.load(again).dataset
    xr.testing.assert_equal(ds1["iq"], ds2["iq"])


def test_existing_non_empty_out_is_refused_and_untouched(tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    code = main(["run", "x-gate", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "not empty" in err and err.count("\n") == 1
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "precious"


def test_devices_json(capsys):
    assert main(["devices", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    names = [d["name"] for d in listing]
    assert "qutip-1q" in names and "qutip-2q" in names
    entry = listing[names.index("qutip-2q")]
    assert entry["available"] is True and entry["executor"] == "qutip" and entry["qubits"] == 2
    assert entry["accepts"] == ["pulse", "circuit"]


def test_devices_table(capsys):
    assert main(["devices"]) == 0
    assert "qutip-1q" in capsys.readouterr().out


def test_meas_level_1_avg_gives_iq_mean_and_no_counts(tmp_path):
    out = tmp_path / "iq"
    assert main(["run", "x-gate", "--set", "meas_level=1", "--set", "meas_return=avg", "--shots", "50",
                 "--seed", "1", "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert "result-counts.json" not in names
    ds = Result.load(out).dataset
    assert "iq_mean" in ds and "iq" not in ds and "memory" not in ds
    assert ds["iq_mean"].shape == (1, 1)


def test_examples_listed(run_cli):
    proc = run_cli("examples")
    assert proc.returncode == 0 and "x-gate" in proc.stdout and "rabi" in proc.stdout


def test_job_copy_is_readable_and_reruns(x_gate_run):
    out, _ = x_gate_run
    text = (out / "job.json").read_text()
    assert text.count("\n") > 10  # an example job (built as a mapping) is written indented
    assert json.loads(text)["type"] == "PULSE"


def test_a_large_one_line_job_copy_has_one_experiment_per_line():
    from workbench.results.exports import _readable_job

    experiment = {"header": {"name": "e"}, "instructions": [{"name": "acquire", "t0": 0, "duration": 16,
                                                             "qubits": [0], "memory_slot": [0]}] * 20}
    job = {"qobj_id": "big", "type": "PULSE", "config": {"shots": 1, "pulse_library": [{"name": "w", "samples": []}]},
           "experiments": [experiment] * 300}
    env = {"job_id": "j", "params": {"qobj": job}}
    for document in (job, env):
        text = _readable_job("job.json", json.dumps(document))
        assert json.loads(text) == document
        lines = text.splitlines()
        assert sum(line.strip().startswith('{"header"') for line in lines) == 300 and len(lines) < 330


def test_only_the_process_own_one_shot_command_changes_the_collectors_thresholds(monkeypatch, capsys):
    """``workbench run`` as a process collects young objects less often (cli.main.tune_collector); a
    caller of ``main([...])`` in its own process, and the long-running servers, keep theirs."""
    import gc

    from workbench.cli.main import ONE_SHOT_GC_THRESHOLDS, tune_collector

    before = gc.get_threshold()
    assert before != ONE_SHOT_GC_THRESHOLDS
    try:
        assert main(["devices"]) == 0
        assert gc.get_threshold() == before
        for command in ("serve", "lab"):
            tune_collector(command)
            assert gc.get_threshold() == before
        monkeypatch.setattr(sys, "argv", ["workbench", "devices"])
        assert main() == 0
        assert gc.get_threshold() == ONE_SHOT_GC_THRESHOLDS
    finally:
        gc.set_threshold(*before)
    assert "qutip-1q" in capsys.readouterr().out
