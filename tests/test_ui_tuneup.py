"""The calibration panel's plain-Python state (workbench.ui.tuneup.Tuneup), driven without widgets.

Routines run for real on the qutip-1q simulator, from a config file with a drifted pi amplitude, through
the same Runner queue as ordinary runs.
"""

from __future__ import annotations

import pytest

from workbench.ui.runner import CANCELLED, DONE, FAILED, Runner
from workbench.ui.session import Session
from workbench.ui.tuneup import Tuneup

JOIN = 120  # seconds: a bound on waiting for the runner, never an expectation of speed

DRIFTED = """devices:
  - name: drifted
    base: qutip-1q
    qubits:
      0:
        drive:
          x: {amp: 0.39}   # 18% low
"""


@pytest.fixture
def lab(tmp_path):
    """A session on 'drifted' from a config file, its runner and its tune-up form."""
    config = tmp_path / "lab.yml"
    config.write_text(DRIFTED)
    session = Session(config=config, device="drifted")
    runner = Runner()
    session.follow(runner)
    yield session, runner, Tuneup(session, runner), config
    runner.close(timeout=JOIN)


def test_a_tuneup_cancelled_mid_run_changes_nothing_and_a_cancelled_write_writes_nothing(lab):
    session, runner, tuneup, config = lab
    history = config.with_name("lab.yml.history")
    tuneup.set(routine="rabi", seed="5", shots="256")
    first = tuneup.measure()
    assert first.wait(JOIN) and first.state == DONE, first.error
    earlier, preview = tuneup.result, tuneup.preview
    assert earlier.ok and "x: {amp: 0.39}" in preview.diff and tuneup.can_write
    assert session.results == tuple(earlier.runs)

    # 2 x 200 amplitudes: the simulator propagates them in two batches of 200 experiments
    tuneup.parameters = {"points": 200}
    tuneup.set(shots="16")
    progress: list[tuple[int, int]] = []

    def cancel_on_first_progress(record, event):
        if record is tuneup.pending and event == "progress":
            progress.append((record.done, record.total))
            assert tuneup.cancel()

    runner.observers.append(cancel_on_first_progress)
    cancelled = tuneup.measure()
    assert cancelled.wait(JOIN)
    runner.observers.remove(cancel_on_first_progress)
    assert cancelled.state == CANCELLED and cancelled.error is None and cancelled.value is None
    assert progress == [(200, 400)]  # stopped at the executor's batch boundary, half way
    assert "cancelled" in tuneup.status.plain and not tuneup.status.is_error
    assert tuneup.result is earlier and tuneup.preview is preview  # the earlier measurement stays
    assert session.results == tuple(earlier.runs)
    assert config.read_text() == DRIFTED and not history.exists()

    runner.pause()
    write = tuneup.write()
    assert write.state == "queued" and not tuneup.can_write  # no second write while one is queued
    assert tuneup.cancel() and write.state == CANCELLED
    runner.resume()
    assert write.wait(JOIN) and "nothing written" in tuneup.message.plain
    assert config.read_text() == DRIFTED and not history.exists()

    done = tuneup.write()
    assert done.wait(JOIN) and done.state == DONE, done.error
    assert "version 1" in tuneup.message.plain and not tuneup.can_write
    assert session.device.qubit(0).drive.x.amp == earlier.updates[0].new  # the catalogue was reloaded
    assert "{amp: 0.39}" not in config.read_text() and len(list(history.glob("0001-*"))) == 1
    (again,) = tuneup.write()  # the file has moved on: this measurement justified one change only
    assert "already written" in again.text and "Not written" in tuneup.message.plain


def test_tuneup_tasks_queue_behind_runs_in_order(lab):
    session, runner, tuneup, _ = lab
    session.set_example("x-gate")
    started: list[str] = []
    runner.observers.append(lambda record, event: started.append(record.label) if event == "started" else None)
    runner.pause()
    run = session.submit_run(runner)
    tuneup.set(routine="t1", shots="64", seed="2")
    task = tuneup.measure()
    assert runner.queued == [run, task] and "queued" in tuneup.status.plain
    runner.resume()
    assert runner.wait(JOIN)
    assert started == [run.label, task.label] and run.state == task.state == DONE
    assert tuneup.result.routine == "t1" and "done" in tuneup.status.plain
    assert session.results[0] is run.result and session.results[1:] == tuple(tuneup.result.runs)
    assert [p.text for p in tuneup.write()] == ["t1 proposes no calibration change (it measures physics)"]


@pytest.mark.parametrize("seed", ["abc", "-1", "1.5", str(2**32)])
def test_a_bad_seed_is_refused_with_the_run_forms_message(lab, seed):
    session, runner, tuneup, config = lab
    session.set_example("x-gate")
    session.set_option("seed", seed)
    run_problems = session.submit_run(runner)
    tuneup.set(seed=seed)
    tuneup_problems = tuneup.measure()
    assert [p.text for p in tuneup_problems] == [p.text for p in run_problems]
    assert len(run_problems) == 1 and run_problems[0].text.startswith("workbench form: option 'seed': ")
    assert tuneup.status.is_error and tuneup_problems[0].text in tuneup.status.plain
    assert runner.records == [] and config.read_text() == DRIFTED


def test_bad_shots_are_refused_by_the_option_rules(lab):
    _, runner, tuneup, _ = lab
    for shots, message in [("many", 'expected int, got "many"'), ("8", "must be >= 16, got 8")]:
        tuneup.set(shots=shots)
        assert [p.text for p in tuneup.measure()] == [f"workbench form: option 'shots': {message}"]
    tuneup.set(shots=" ")  # blank: the routine's default
    assert tuneup.problems() == []
    assert runner.records == []


def test_a_failing_routine_is_one_line_and_keeps_the_earlier_measurement(lab):
    session, _, tuneup, config = lab
    tuneup.set(routine="t1", shots="64", seed="3")
    good = tuneup.measure()
    assert good.wait(JOIN) and good.state == DONE
    earlier = tuneup.result
    tuneup.set(routine="rabi")
    tuneup.parameters = {"points": 3}  # refused by the routine itself, on the runner's thread
    bad = tuneup.measure()
    assert bad.wait(JOIN) and bad.state == FAILED
    assert tuneup.status.is_error and "points must be an integer >= 8, got 3" in tuneup.status.plain
    assert "\n" not in tuneup.status.plain and "Traceback" not in tuneup.status.plain
    assert tuneup.result is earlier and session.results == tuple(earlier.runs)
    assert config.read_text() == DRIFTED


def test_gate_level_devices_cannot_be_tuned(lab):
    session, runner, tuneup, _ = lab
    session.select_device("aer-simulator")
    assert "gate-level device" in tuneup.device_note
    assert [p.area for p in tuneup.measure()] == ["device", "run"]  # and it has no qubit 0 to pick
    assert runner.records == []
