"""What can be checked before a run is (issue 14, item 6): names a result file cannot store, option values
an executor cannot represent, non-finite device values. Each is exit code 2 and one line before anything
runs, where it used to be an internal error after the run, its results lost. (The ``--out`` checks are in
test_output_hardening.py.)"""

from __future__ import annotations

import json

import pytest

from workbench.examples import build
from workbench.executors.registry import load_catalogue


def x_gate_job() -> dict:
    return json.loads(json.dumps(build("x-gate", load_catalogue(None).get("qutip-1q"))))


def assert_refused_before_the_run(proc, cwd, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if not line.startswith(("INFO ", "WARNING "))]
    assert len(errors) == 1 and errors[0].startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    assert "running " not in proc.stderr  # the run never started
    assert not (cwd / "out").exists()


@pytest.mark.parametrize(("where", "value", "fragments"), [
    ("name", "x\u0000gate", ("experiments[0].header.name", "NUL character")),
    ("name", "x\ud800", ("experiments[0].header.name", "lone surrogate", "'\\ud800'")),
    ("qobj_id", "run-\udfff", ("qobj_id", "lone surrogate")),
    ("metadata", "sweep\u0000", ("experiments[0].header.metadata", "NUL")),
])
def test_names_a_result_cannot_store_are_refused_before_the_run(tmp_path, run_cli, where, value, fragments):
    job = x_gate_job()
    if where == "name":
        job["experiments"][0]["header"]["name"] = value
    elif where == "qobj_id":
        job["qobj_id"] = value
    else:
        job["experiments"][0]["header"]["metadata"]["label"] = value
    (tmp_path / "job.json").write_text(json.dumps(job))  # JSON escapes: \u0000 and \ud800 are valid JSON text
    proc = run_cli("-v", "run", "job.json", "--device", "qutip-1q", "--shots", "5", "--out", "out", cwd=tmp_path)
    assert_refused_before_the_run(proc, tmp_path, "job.json", *fragments)


@pytest.mark.parametrize("value", ["1e308", "5.0"])
def test_a_rep_time_qblox_cannot_represent_is_refused_before_the_run(tmp_path, run_cli, value):
    """Before: 1e308 s compiled, then ended in 'OverflowError: cannot convert float infinity to integer'."""
    proc = run_cli("-v", "run", "x-gate", "--device", "qblox-dummy-1q", "--shots", "5", "--set", f"rep_time={value}",
                   "--out", "out", cwd=tmp_path)
    assert_refused_before_the_run(proc, tmp_path, "option 'rep_time'", "must be <= 1 s")


def test_a_rep_time_within_the_bound_still_runs_on_qblox(tmp_path, run_cli):
    proc = run_cli("run", "x-gate", "--device", "qblox-dummy-1q", "--shots", "5", "--seed", "1",
                   "--set", "rep_time=0.001", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "out" / "execution-options.json").read_text())["rep_time"] == 0.001


@pytest.mark.parametrize(("yaml_lines", "fragment"), [
    ("    dt: .inf\n", "devices[bad].dt: must be a finite number"),
    ("    qubits:\n      0:\n        drive: {frequency: .inf}\n", "devices[bad].qubits[0].drive.frequency"),
    ("    qubits:\n      0:\n        anharmonicity: .nan\n", "devices[bad].qubits[0].anharmonicity"),
])
def test_non_finite_device_values_are_refused_when_the_config_is_read(tmp_path, run_cli, yaml_lines, fragment):
    """Before: ``dt: .inf`` passed ``dt > 0``, the simulation ran on NaNs and ended in an IndexError."""
    (tmp_path / "devices.yml").write_text("devices:\n  - name: bad\n    base: qutip-1q\n" + yaml_lines)
    proc = run_cli("-v", "--config", "devices.yml", "run", "x-gate", "--device", "bad", "--shots", "5",
                   "--out", "out", cwd=tmp_path)
    assert_refused_before_the_run(proc, tmp_path, "devices.yml", fragment)
