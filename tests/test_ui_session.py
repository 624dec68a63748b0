"""The workbench's plain-Python state (Session, Runner, export/import), driven without any widget.

Runs are real simulations on the built-in devices. Where a test needs an executor the catalogue does
not have (one that asks for credentials, one with a bug), it is a real QuantumExecutor subclass: an
installed-looking plugin, or a class handed to the core through ``Prepared.executor``.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import sys
import textwrap
import threading
import zipfile

import numpy as np
import pytest
import xarray as xr
import yaml
from plugin_support import TOKEN

from workbench.core import Prepared
from workbench.examples import rabi
from workbench.executors.base import ExecutionData, QuantumExecutor
from workbench.executors.registry import load_catalogue
from workbench.options import Secret
from workbench.ui.runner import CANCELLED, DONE, FAILED, Runner
from workbench.ui.session import Problem, Session
from workbench.views.schedule_figure import lane_channels

JOIN = 120  # seconds: a bound on waiting for the runner, never an expectation of speed

BELL_QASM = textwrap.dedent("""\
    OPENQASM 2.0;
    include "qelib1.inc";
    qreg q[2];
    creg c[2];
    h q[0];
    cx q[0],q[1];
    measure q -> c;
    """)


SECRET_TOKEN = TOKEN  # the one the vault plugin accepts




@pytest.fixture(scope="module")
def nodisc_catalogue(tmp_path_factory):
    """qutip-1q without a discriminator calibration: meas_level 2 runs, then fails at discrimination."""
    raw = load_catalogue(None).raw("qutip-1q")
    qubits = raw["qubits"]
    for q in qubits:
        q["readout"] = {k: v for k, v in q["readout"].items() if k != "discriminator"}
    entry = {"name": "nodisc", "base": "qutip-1q", "title": "qutip-1q without discriminator", "qubits": qubits}
    path = tmp_path_factory.mktemp("config") / "devices.yml"
    path.write_text(yaml.safe_dump({"devices": [entry]}))
    return load_catalogue(path)


@pytest.fixture
def runner():
    r = Runner()
    yield r
    r.close(timeout=JOIN)


def _prepared(session: Session) -> Prepared:
    outcome = session.validate()
    assert isinstance(outcome, Prepared), [p.text for p in outcome]
    return outcome


# ------------------------------------------------------------------------------------------- devices


def test_selecting_a_device_changes_the_option_form(catalogue):
    session = Session(catalogue)
    assert session.device_key == "qutip-1q"
    names = [f.name for f in session.option_fields()]
    assert {"shots", "seed", "meas_level", "meas_return", "noise", "levels"} <= set(names)
    assert "statevector" not in names
    events: list[str] = []
    session.observers.append(events.append)
    session.select_device("aer-simulator")
    names = [f.name for f in session.option_fields()]
    assert {"statevector", "method"} <= set(names) and "noise" not in names
    assert {"device", "options"} <= set(events)
    method = next(f for f in session.option_fields() if f.name == "method")
    assert method.control == "choice" and "automatic" in method.spec.choices
    assert next(f for f in session.option_fields() if f.name == "statevector").control == "bool"


def test_options_of_another_executor_are_dropped_common_ones_kept(catalogue):
    session = Session(catalogue)
    session.set_option("noise", False)
    session.set_option("shots", "300")
    session.select_device("aer-simulator")
    assert session.overrides == {"shots": "300"}


def test_listing_and_calibration_summary(catalogue):
    session = Session(catalogue)
    entry = session.device_entry("qutip-2q")
    assert entry["qubits"] == 2 and entry["executor"] == "qutip" and entry["available"] is True
    from workbench.views.report import calibration_tables

    tables = calibration_tables(catalogue.get("qutip-2q"))
    assert [t.title for t in tables] == ["qubits", "couplings"]
    assert tables[0].rows[0][1] == "4.9"  # f01 in GHz
    gate_level = calibration_tables(catalogue.get("aer-simulator"))
    assert gate_level[0].rows[0][0] == "24"


# ------------------------------------------------------------------------------------------- options


def test_option_errors_read_like_the_cli(catalogue, run_cli):
    session = Session(catalogue)
    session.set_example("x-gate")
    session.set_option("shots", "0")
    session.set_option("meas_level", 5)
    session.set_option("seed", "abc")
    errors = session.option_errors()
    assert errors["shots"] == "must be >= 1, got 0"
    assert errors["meas_level"] == "must be one of 0, 1, 2, got 5"
    assert errors["seed"] == 'expected int, got "abc"'
    problems = session.validate()
    assert isinstance(problems, list) and {p.option for p in problems} == {"shots", "meas_level", "seed"}
    cli = run_cli("run", "x-gate", "--shots", "0")
    assert cli.returncode == 2 and errors["shots"] in cli.stderr


def test_effective_values_follow_device_then_job_then_form(catalogue):
    session = Session(catalogue)
    job = rabi(catalogue.get("qutip-1q"), amplitudes=[0.1, 0.2], shots=77)
    session.set_job_text(json.dumps(job))
    shots = next(f for f in session.option_fields() if f.name == "shots")
    assert (shots.effective, shots.source) == (77, "job file")
    seed = next(f for f in session.option_fields() if f.name == "seed")
    assert seed.effective is None and seed.placeholder == "drawn at run time"
    session.set_option("shots", " 250 ")
    shots = next(f for f in session.option_fields() if f.name == "shots")
    assert (shots.effective, shots.source, shots.error) == (250, "set here", None)
    prepared = _prepared(session)
    assert prepared.options["shots"] == 250 and prepared.options.sources["shots"] == "workbench form"
    session.set_option("shots", "")
    assert _prepared(session).options["shots"] == 77


# ------------------------------------------------------------------------------------------------ job


def test_job_errors_are_located_json_path(catalogue):
    session = Session(catalogue)
    job = rabi(catalogue.get("qutip-1q"), amplitudes=[0.1, 0.2])
    job["experiments"][1]["instructions"][0]["pulse_shape"] = "foo"
    session.set_job_upload("sweep.json", json.dumps(job, indent=1).encode())
    problem = session.job_problem
    assert problem is not None and problem.source == "sweep.json"
    assert problem.location == "experiments[1].instructions[0].pulse_shape"
    assert "foo" in problem.message
    outcome = session.validate()
    assert isinstance(outcome, list) and outcome[0].text.startswith("sweep.json: experiments[1]")


def test_job_errors_are_located_qasm_line_and_json_syntax(catalogue):
    session = Session(catalogue)
    session.set_job_text(BELL_QASM.replace("cx q[0],q[1];", "cz q[0] q[1];"), origin="bell.qasm")
    assert session.job_problem.source == "bell.qasm" and session.job_problem.location.startswith("line 6")
    session.set_job_text('{"qobj_id": "x",\n "type": PULSE}')
    assert session.job_problem.location == "line 2 column 10" and "not valid JSON" in session.job_problem.message
    session.set_job_upload("bad.json", b"{\xff}")
    assert "not UTF-8" in session.job_problem.message and session.job_problem.source == "bad.json"


def test_pasted_text_is_never_read_as_a_path(catalogue, tmp_path):
    secret_file = tmp_path / "job.json"
    secret_file.write_text(json.dumps(rabi(catalogue.get("qutip-1q"), amplitudes=[0.3])))
    session = Session(catalogue)
    session.set_job_text(str(secret_file))
    assert session.job is None and "OPENQASM" in session.job_problem.message
    session.set_job_path(secret_file)
    assert session.job is not None and session.job.experiment_names == ["rabi-000"]
    assert session.source.text == secret_file.read_text()
    session.set_job_path(tmp_path / "missing.json")
    assert "no such file" in session.job_problem.message


def test_examples_are_regenerated_for_the_chosen_device(catalogue):
    session = Session(catalogue)
    session.set_example("x-gate")
    assert '"backend_name": "qutip-1q"' in session.source.text
    session.select_device("qutip-2q")
    assert '"backend_name": "qutip-2q"' in session.source.text and session.job is not None
    session.select_device("aer-simulator")
    assert session.job is None and "gate-level" in session.job_problem.message
    outcome = session.validate()
    assert isinstance(outcome, list) and outcome[0].area == "job"


# ------------------------------------------------------------------------------------------- schedule


def test_schedule_selection_and_channel_filter(catalogue):
    session = Session(catalogue, device="qutip-2q")
    session.set_job_text(BELL_QASM, origin="bell.qasm")
    assert session.schedule_experiment_names() == ["bell"]
    assert session.schedule_channels_available() == ["d0", "u0", "m0", "a0", "d1", "m1", "a1"]
    session.set_schedule_channels(["d0", "d1"])
    fig = session.schedule_figure()
    assert lane_channels(fig) == ["d0", "d1"]
    session.set_example("rabi")
    assert session.schedule_channels is None and len(session.schedule_experiment_names()) == 21
    session.set_schedule_experiment(20)
    assert session.schedule_figure().layout.title.text.startswith("rabi-020")
    with pytest.raises(IndexError):
        session.set_schedule_experiment(21)
    session.select_device("aer-simulator")
    session.set_job_text(BELL_QASM)
    assert session.schedule_figure() is None and "gate level" in session.schedule_problem.message


# --------------------------------------------------------------------------------------------- runner


def test_two_queued_runs_execute_in_order(catalogue, runner):
    session = Session(catalogue)
    session.follow(runner)
    session.set_example("x-gate")
    events: list[tuple[int, str]] = []
    runner.observers.append(lambda record, event: events.append((record.id, event)))
    runner.pause()
    session.set_option("shots", "100")
    first = runner.submit(_prepared(session))
    session.set_option("shots", "200")
    second = runner.submit(_prepared(session))
    assert [r.id for r in runner.queued] == [first.id, second.id] and "2 queued" in runner.status
    runner.resume()
    assert runner.wait(JOIN)
    assert first.state == second.state == DONE
    starts = [rid for rid, event in events if event == "started"]
    assert starts == [first.id, second.id]
    finishes = [rid for rid, event in events if event == "finished"]
    assert finishes == [first.id, second.id]
    assert [r.options["shots"] for r in session.results] == [100, 200]
    assert session.selected_index == 1


def test_cancel_a_running_run_reports_cleanly_and_keeps_earlier_results(catalogue, runner):
    session = Session(catalogue)
    session.follow(runner)
    session.set_example("x-gate")
    earlier = runner.submit(_prepared(session))
    assert runner.wait(JOIN) and earlier.state == DONE
    big = rabi(catalogue.get("qutip-1q"), amplitudes=list(np.linspace(0, 0.9, 600)), shots=5)
    session.set_job_text(json.dumps(big))
    progress: list[tuple[int, int]] = []

    def cancel_after_first_batch(record, event):
        if event == "progress":
            progress.append((record.done, record.total))
            runner.cancel()

    runner.observers.append(cancel_after_first_batch)
    record = runner.submit(_prepared(session))
    assert runner.wait(JOIN)
    assert record.state == CANCELLED and record.result is None and record.error is None
    assert progress[0][1] == 600 and record.done < 600  # stopped between batches, before the end
    assert "cancelled" in runner.status
    assert session.results == (earlier.result,)


def test_cancel_a_queued_run_never_starts_it(catalogue, runner):
    session = Session(catalogue)
    session.set_example("x-gate")
    started: list[int] = []
    runner.observers.append(lambda record, event: started.append(record.id) if event == "started" else None)
    runner.pause()
    keep = runner.submit(_prepared(session))
    drop = runner.submit(_prepared(session), credentials={"token": "t-1"})
    assert runner.cancel(drop) and drop.state == CANCELLED and drop._credentials is None
    runner.resume()
    assert runner.wait(JOIN)
    assert keep.state == DONE and started == [keep.id]
    assert runner.cancel_all() == 0 and not runner.cancel()


def test_a_failing_run_is_one_line_and_leaves_earlier_results(nodisc_catalogue, runner):
    session = Session(nodisc_catalogue)
    session.follow(runner)
    session.set_example("x-gate")
    good = runner.submit(_prepared(session))
    assert runner.wait(JOIN) and good.state == DONE
    session.select_device("nodisc")
    bad = runner.submit(_prepared(session))  # valid input: it fails while turning IQ points into bits
    assert runner.wait(JOIN)
    assert bad.state == FAILED and bad.result is None
    assert "no discriminator calibration" in bad.error and "\n" not in bad.error and "Traceback" not in bad.error
    assert session.results == (good.result,)
    assert runner.status.startswith("idle; last run #2") and "failed" in runner.status


class _BuggyExecutor(QuantumExecutor):
    """An executor with a bug (not a WorkbenchError): what users see must still be one line."""

    name = "buggy"

    def run(self, schedules, options, progress=None, cancel=None):
        raise KeyError("slot table\nmismatch")


def test_an_internal_error_is_one_line(catalogue, runner):
    session = Session(catalogue)
    session.set_example("x-gate")
    prepared = dataclasses.replace(_prepared(session), executor=_BuggyExecutor)
    record = runner.submit(prepared)
    assert runner.wait(JOIN)
    assert record.state == FAILED and record.error.startswith("internal error (KeyError: ")
    assert "\n" not in record.error


class _GatedExecutor(QuantumExecutor):
    """Holds its run until released, so a test can look at the queue while a run is in progress."""

    name = "gated"
    gate = threading.Event()
    entered = threading.Event()

    def run(self, schedules, options, progress=None, cancel=None):
        type(self).entered.set()
        type(self).gate.wait(JOIN)
        shots = options["shots"]
        return ExecutionData(slot_qubit=np.zeros((len(schedules), 1), dtype=int),
                             memory=np.ones((len(schedules), shots, 1), dtype=np.int8))


def test_status_while_running_and_queued(catalogue, runner):
    session = Session(catalogue)
    session.set_example("x-gate")
    prepared = dataclasses.replace(_prepared(session), executor=_GatedExecutor)
    _GatedExecutor.gate.clear()
    _GatedExecutor.entered.clear()
    first = runner.submit(prepared, label="first")
    second = runner.submit(prepared, label="second")
    assert _GatedExecutor.entered.wait(JOIN)
    assert runner.current is first and runner.status == "#1 first: running, 0/1 experiments; 1 queued"
    assert not runner.wait(0.01)  # bounded: a run in progress
    _GatedExecutor.gate.set()
    assert runner.wait(JOIN)
    assert first.state == second.state == DONE and first.result.counts() == {"1": 1024}


# ---------------------------------------------------------------------------------------- credentials


def test_credentials_are_held_as_secrets_for_one_run_only(vault_catalogue, runner, tmp_path):
    session = Session(vault_catalogue, device="vault")
    session.follow(runner)
    session.set_example("x-gate")
    assert session.credential_names() == ("api-token",)
    assert Session(vault_catalogue).credential_names() == ()
    session.set_credential("api-token", SECRET_TOKEN)
    assert session.pending_credentials == ("api-token",)
    with pytest.raises(TypeError):
        pickle.dumps(session)
    assert SECRET_TOKEN not in repr(session) and SECRET_TOKEN not in repr(vars(session))
    credentials = session.take_credentials()
    assert isinstance(credentials["api-token"], Secret) and session.pending_credentials == ()
    record = runner.submit(_prepared(session), credentials=credentials)
    assert runner.wait(JOIN)
    assert record.state == DONE, record.error
    assert record._credentials is None and SECRET_TOKEN not in repr(record)
    again = runner.submit(_prepared(session), credentials=session.take_credentials())
    assert runner.wait(JOIN)
    assert again.state == FAILED and "login refused" in again.error  # dropped after the first run
    written = session.export_result(tmp_path / "out", result=record.result, archive=True)
    for path in [*written.folder.rglob("*"), written.archive]:
        if path.is_file():
            assert SECRET_TOKEN.encode() not in path.read_bytes(), path


def test_submit_run_validates_then_checks_credentials_then_queues(vault_catalogue, runner):
    """What the Run button calls: every refusal is a list of problems and queues nothing."""
    session = Session(vault_catalogue, device="vault")
    session.follow(runner)
    session.set_example("x-gate")
    session.set_credential("api-token", SECRET_TOKEN)
    session.set_option("shots", "0")
    refused = session.submit_run(runner)
    assert [p.text for p in refused] == ["workbench form: option 'shots': must be >= 1, got 0"]
    assert session.pending_credentials == ("api-token",)  # held for the next attempt
    session.set_option("shots", "64")
    session.drop_credentials()
    missing = session.submit_run(runner)
    assert [p.text for p in missing] == ["the executor needs credentials: api-token"]
    assert runner.records == []
    session.set_credential("api-token", SECRET_TOKEN)
    record = session.submit_run(runner)
    assert session.pending_credentials == ()  # taken by the run
    assert record.wait(JOIN) and record.state == DONE, record.error
    assert session.results == (record.result,) and record.result.options["shots"] == 64
    runner.close(timeout=JOIN)
    session.set_credential("api-token", SECRET_TOKEN)
    closed = session.submit_run(runner)
    assert [p.text for p in closed] == ["the runner is closed"]


def test_changing_device_drops_pending_credentials(vault_catalogue):
    session = Session(vault_catalogue, device="vault")
    session.set_credential("api-token", SECRET_TOKEN)
    session.select_device("qutip-1q")
    assert session.pending_credentials == ()
    with pytest.raises(KeyError):
        session.set_credential("api-token", "x")


# ------------------------------------------------------------------------------------- export/import


@pytest.fixture(scope="module")
def rabi_result(catalogue):
    session = Session(catalogue)
    session.set_example("rabi")
    session.set_option("shots", "200")
    session.set_option("seed", "5")
    from workbench.core import execute

    return execute(_prepared(session))


def test_export_then_import_round_trips(catalogue, rabi_result, tmp_path):
    session = Session(catalogue)
    session.add_result(rabi_result)
    written = session.export_result(tmp_path / "rabi", archive=True)
    assert (written.folder / "report.html").is_file() and written.archive == tmp_path / "rabi.zip"
    assert {"result-counts.json", "dataset.nc", "job.json", "device-config.yml"} <= {
        p.name for p in written.folder.iterdir()}
    for source in (written.folder, written.archive, written.folder / "dataset.nc"):
        colleague = Session(catalogue, device="aer-simulator")
        loaded = colleague.import_result(source)
        xr.testing.assert_identical(loaded.dataset, rabi_result.dataset)
        assert colleague.device_key == "qutip-1q"  # same calibration as the catalogue's: no copy
        assert colleague.source.kind == "imported" and colleague.job.experiment_names[0] == "rabi-000"
        assert colleague.schedule_figure() is not None
        assert colleague.overrides["seed"] == 5 and colleague.overrides["shots"] == 200
        assert colleague.results == (loaded,)


def test_import_rebuilds_a_device_the_catalogue_does_not_have(nodisc_catalogue, catalogue, rabi_result, tmp_path):
    data = rabi_result.dataset.copy()
    config = json.loads(data.attrs["device_config"])
    config["qubits"][0]["t1"] = 1.5e-5
    config["qubits"][0]["t2"] = 2.0e-5
    data.attrs["device_config"] = json.dumps(config)
    from workbench.results.result import Result

    Result(data).export(tmp_path / "other")
    session = Session(catalogue)
    session.import_result(tmp_path / "other")
    assert session.device_key.startswith("qutip-1q (from ") and session.device.qubit(0).t1 == 1.5e-5
    assert session.device_entry()["imported_from"] == "other"
    assert session.device_key in session.device_keys()


def test_export_refuses_to_overwrite_and_leaves_nothing(catalogue, rabi_result, tmp_path):
    session = Session(catalogue)
    session.add_result(rabi_result)
    (tmp_path / "taken.zip").write_text("mine")
    from workbench.errors import OutputError

    with pytest.raises(OutputError, match="never overwritten"):
        session.export_result(tmp_path / "taken", archive=True)
    assert not (tmp_path / "taken").exists() and (tmp_path / "taken.zip").read_text() == "mine"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a.txt").write_text("a")
    with pytest.raises(OutputError, match="not empty"):
        session.export_result(tmp_path / "full")
    with pytest.raises(Exception, match="no result to export"):
        Session(catalogue).export_result(tmp_path / "x")


def test_import_refuses_unsafe_or_foreign_zips(catalogue, tmp_path):
    from workbench.errors import InputError

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../dataset.nc", b"not netcdf")
    with pytest.raises(InputError, match="unsafe path"):
        Session(catalogue).import_result(evil)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(InputError, match=r"no dataset\.nc"):
        Session(catalogue).import_result(empty)
    with pytest.raises(InputError, match="no such file"):
        Session(catalogue).import_result(tmp_path / "nothing")


def test_problem_text_matches_the_cli_error_line():
    from workbench.errors import JobError

    exc = JobError("unknown shape 'foo'", "experiments[0].instructions[3].pulse_shape", "job.json")
    assert Problem.from_error(exc).text == str(exc)
    assert Problem.from_error(ValueError("x\ny")).text == "internal error (ValueError: x y)"


def test_session_and_runner_import_no_widget_library():
    import subprocess

    code = ("import sys, workbench.ui.session, workbench.ui.runner, workbench.ui.transfer, workbench.ui.tuneup; "
            "print(sorted(m for m in ('ipywidgets', 'plotly', 'anywidget') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
