"""Bad input at the command line: exit code 2, one line naming what and where, nothing written."""

from __future__ import annotations

import copy
import json

import pytest

from workbench.cli.main import main
from workbench.examples import x_gate


@pytest.fixture(scope="module")
def good_job(catalogue_module):
    return x_gate(catalogue_module.get("qutip-1q"))


@pytest.fixture(scope="module")
def catalogue_module():
    from workbench.executors.registry import load_catalogue

    return load_catalogue(None)


def _mutate(job: dict, path: str, value) -> dict:
    """Set job[path] where path is like 'experiments.0.instructions.1.ch' ('!del' deletes)."""
    job = copy.deepcopy(job)
    *parents, last = path.split(".")
    node = job
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    key = int(last) if last.isdigit() else last
    if value == "!del":
        del node[key]
    else:
        node[key] = value
    return job


def _first(job: dict, name: str) -> int:
    return next(i for i, ins in enumerate(job["experiments"][0]["instructions"]) if ins["name"] == name)


# (id, job mutation or raw text, fragment expected in the message)
JOB_CASES = [
    ("malformed-json", "{not json", "line 1"),
    ("empty-file", "", "job.json"),
    ("json-list", "[1, 2]", "job.json"),
    ("qasm-qobj", lambda j: _mutate(j, "type", "QASM"), "QASM"),
    ("no-experiments", lambda j: _mutate(j, "experiments", []), "experiments"),
    ("unknown-shape", lambda j: _mutate(j, f"experiments.0.instructions.{_first(j, 'parametric_pulse')}.pulse_shape",
                                        "foo"), "pulse_shape"),
    ("negative-t0", lambda j: _mutate(j, f"experiments.0.instructions.{_first(j, 'parametric_pulse')}.t0", -5),
     "t0"),
    ("unknown-channel", lambda j: _mutate(j, f"experiments.0.instructions.{_first(j, 'parametric_pulse')}.ch",
                                          "x9"), "ch"),
    ("channel-not-on-device", lambda j: _mutate(j, f"experiments.0.instructions.{_first(j, 'parametric_pulse')}.ch",
                                                "d7"), "d7"),
    ("amp-above-one", lambda j: _mutate(j, f"experiments.0.instructions.{_first(j, 'parametric_pulse')}"
                                        ".parameters.amp", 1.5), "amp"),
    ("sigma-negative", lambda j: _mutate(j, f"experiments.0.instructions.{_first(j, 'parametric_pulse')}"
                                         ".parameters.sigma", -1), "sigma"),
    ("slot-out-of-range", lambda j: _mutate(j, f"experiments.0.instructions.{_first(j, 'acquire')}.memory_slot",
                                            [5]), "memory_slot"),
    ("meas-level-5", lambda j: _mutate(j, "config.meas_level", 5), "meas_level"),
    ("shots-text", lambda j: _mutate(j, "config.shots", "many"), "shots"),
    ("acquire-qubit-missing", lambda j: _mutate(j, f"experiments.0.instructions.{_first(j, 'acquire')}.qubits",
                                                [4]), "qubit"),
    ("missing-instructions", lambda j: _mutate(j, "experiments.0.instructions", "!del"), "instructions"),
    ("unknown-instruction", lambda j: _mutate(j, f"experiments.0.instructions.{_first(j, 'parametric_pulse')}.name",
                                              "teleport"), "teleport"),
]


@pytest.mark.parametrize(("case", "change", "fragment"), JOB_CASES, ids=[c[0] for c in JOB_CASES])
def test_bad_job_files(tmp_path, capsys, good_job, case, change, fragment):
    path = tmp_path / "job.json"
    path.write_text(change if isinstance(change, str) else json.dumps(change(good_job)))
    out = tmp_path / "out"
    code = main(["run", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert fragment in err, err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.json"]


def _options_file(tmp_path, text):
    p = tmp_path / "opts.json"
    p.write_text(text)
    return str(p)


# (id, argv builder, fragment)
CLI_CASES = [
    ("no-such-job", lambda t: ["run", str(t / "missing.json")], "missing.json"),
    ("no-such-job-deep", lambda t: ["run", str(t / ("d" * 90) / "missing.json")], "missing.json"),  # name kept
    ("unknown-device", lambda t: ["run", "x-gate", "--device", "nope"], "unknown device 'nope'"),
    ("shots-not-int", lambda t: ["run", "x-gate", "--shots", "abc"], "option 'shots'"),
    ("shots-zero", lambda t: ["run", "x-gate", "--shots", "0"], "option 'shots': must be >= 1"),
    ("seed-negative", lambda t: ["run", "x-gate", "--seed", "-3"], "option 'seed'"),
    ("set-without-value", lambda t: ["run", "x-gate", "--set", "novalue"], "expected KEY=VALUE"),
    ("meas-level-flag", lambda t: ["run", "x-gate", "--set", "meas_level=7"], "option 'meas_level'"),
    ("meas-level-0-unsupported", lambda t: ["run", "x-gate", "--set", "meas_level=0"], "meas_level 0"),
    ("meas-return-bad", lambda t: ["run", "x-gate", "--set", "meas_return=often"], "option 'meas_return'"),
    ("noise-not-bool", lambda t: ["run", "x-gate", "--set", "noise=\"perhaps\""], "option 'noise'"),
    ("options-file-missing", lambda t: ["run", "x-gate", "--options", str(t / "none.json")], "cannot read"),
    ("options-file-not-json", lambda t: ["run", "x-gate", "--options", _options_file(t, "{shots: 3")],
     "not valid JSON"),
    ("options-file-not-object", lambda t: ["run", "x-gate", "--options", _options_file(t, "[1]")],
     "JSON object"),
    ("options-file-bad-value", lambda t: ["run", "x-gate", "--options", _options_file(t, '{"shots": -1}')],
     "opts.json: option 'shots'"),
    ("config-missing", lambda t: ["--config", str(t / "nope.yml"), "run", "x-gate"], "cannot read config file"),
    ("unknown-example-or-file", lambda t: ["run", "not-an-example"], "not-an-example"),
    ("bell-on-one-qubit", lambda t: ["run", "bell", "--device", "qutip-1q"], "bell"),
    ("unknown-flag", lambda t: ["run", "x-gate", "--frobnicate"], "unrecognized arguments"),
    ("missing-job-argument", lambda t: ["run"], "JOB"),
]


@pytest.mark.parametrize(("case", "argv", "fragment"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_bad_command_lines(tmp_path, capsys, case, argv, fragment):
    out = tmp_path / "out"
    args = argv(tmp_path)
    if "run" in args and case != "missing-job-argument":
        args = [*args, "--out", str(out)]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert fragment in err, err
    assert not out.exists()


def test_bad_config_file_content(tmp_path, capsys):
    config = tmp_path / "c.yml"
    config.write_text("devices:\n  - name: z\n    base: qutip-1q\n    executor: scqt\n")
    code = main(["--config", str(config), "run", "x-gate", "--device", "z", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "no executor named 'scqt' is installed; installed executors: " in err
    assert "qutip" in err and "aer" in err


def test_pulse_example_on_gate_level_device(tmp_path, capsys):
    code = main(["run", "x-gate", "--device", "aer-simulator", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "example 'x-gate' is a pulse job and 'aer-simulator' is a gate-level device" in err
