"""`workbench events`, `workbench.events` and the `workbench show` page: every event, no cap."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest

import workbench
from workbench.examples import EXAMPLES, pulse_train
from workbench.schedule.builder import ScheduleBuilder
from workbench.views.schedule_events import COLUMNS, event_frame, text_lines
from workbench.views.schedule_inspect import timing_findings
from workbench.views.schedule_page import MAX_ROWS, write_page

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0], q[1];\nmeasure q -> c;\n'


@pytest.mark.parametrize("device", ["qutip-2q", "qblox-dummy-2q"])
def test_one_row_per_instruction_for_every_example(device):
    for name in [*EXAMPLES, BELL]:
        prepared = workbench.prepare(name, device)
        frame = workbench.events(name, device, experiment=None)
        assert len(frame) == sum(s.instruction_count() for s in prepared.programs)
        assert list(frame.columns) == ["experiment", *COLUMNS]
        assert frame["experiment"].nunique() == len(prepared.programs)


def test_the_table_says_what_each_event_is(device_2q):
    frame = workbench.events(BELL, device_2q)
    cz = frame[frame["channel"] == "u0"].iloc[0]
    assert (cz["kind"], cz["name"], cz["gate"], cz["calibration"]) == ("play", "cz", "cz q0,q1", "cz")
    assert cz["t_ns"] == 48.0 and cz["t_sample"] == 48 and cz["duration_ns"] == 200.0
    assert cz["parameters"].startswith("gaussian_square(duration=200, amp=")
    assert cz["frequency_hz"] == pytest.approx(device_2q.frame_frequencies()["u0"])
    rz = frame[(frame["kind"] == "frame") & (frame["channel"] == "d1")]
    np.testing.assert_allclose(rz["phase_rad"], -np.pi / 2 * np.arange(1, len(rz) + 1))
    assert set(rz["gate"]) == {"rz(π/2) q1"} and set(rz["parameters"]) == {"-1.571 rad"}
    acquire = frame[frame["kind"] == "acquire"].iloc[0]
    assert acquire["parameters"] == "q0 -> slot 0" and acquire["frequency_hz"] == device_2q.frame_frequencies()["m0"]
    assert (frame["checks"] == "").all()


def test_timing_findings_fill_the_checks_column(catalogue):
    device = catalogue.get("qblox-dummy-1q")
    b = ScheduleBuilder("late", device.dt, device.frame_frequencies(), 2)
    b.play(0, "m0", np.full(400, 0.1), "ro")
    b.acquire(0, 100, 0, 0)
    b.acquire(102, 100, 0, 1)  # 102 ns later: too close, and off the 4 ns grid
    sched = b.build()
    frame = event_frame(sched, timing_findings(sched, device))
    flagged = frame[frame["checks"] != ""]
    assert list(flagged["t_ns"]) == [102.0]
    assert "off the 4 ns grid" in flagged["checks"].iloc[0] and "needs 300 ns" in flagged["checks"].iloc[0]
    lines = list(text_lines(frame))
    assert len(lines) == len(frame) + 1 and "!!" in lines[-1]


def test_cli_prints_one_line_per_event_and_writes_csv(run_cli, tmp_path):
    proc = run_cli("events", "ramsey", "--device", "qutip-1q", "--experiment", "2",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    prepared = workbench.prepare("ramsey", "qutip-1q")
    assert len(proc.stdout.splitlines()) == prepared.programs[2].instruction_count() + 1
    out = tmp_path / "ramsey.csv"
    proc = run_cli("events", "ramsey", "--device", "qutip-1q", "--experiment", "all", "--csv", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with out.open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == sum(s.instruction_count() for s in prepared.programs)
    assert f"{len(rows)} events" in proc.stdout
    again = run_cli("events", "ramsey", "--csv", str(out), cwd=tmp_path)
    assert again.returncode == 2 and again.stderr.startswith(f"error: {out}: exists")
    wrong = run_cli("events", "ramsey", "--experiment", "99", cwd=tmp_path)
    assert wrong.returncode == 2 and "out of range" in wrong.stderr and "Traceback" not in wrong.stderr
    gate = run_cli("events", "bell", "--device", "aer-simulator", cwd=tmp_path)
    assert gate.returncode == 2 and "gate-level device" in gate.stderr


@pytest.mark.slow
def test_a_100k_instruction_job_gives_100k_rows(run_cli, tmp_path, catalogue):
    device = catalogue.get("qblox-dummy-2q")
    job = tmp_path / "train.json"
    train = pulse_train(device, 100_000)
    assert sum(len(e["instructions"]) for e in train["experiments"]) == 100_000
    job.write_text(json.dumps(train))
    out = tmp_path / "train.csv"
    proc = run_cli("events", str(job), "--device", device.name, "--csv", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with out.open() as stream:
        assert sum(1 for _ in stream) == 100_000 + 1
    assert proc.stdout.startswith("100000 events (0 with timing findings)")
    # 446 readouts x 1024 shots are more acquisition bins than a Qblox sequencer has: said, not fatal
    assert "note: executor 'quantify' would refuse this job" in proc.stderr and "bins" in proc.stderr


def test_show_writes_one_titled_page_with_every_experiment(run_cli, tmp_path):
    proc = run_cli("show", "rabi", "--device", "qblox-dummy-1q", "--experiment", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "rabi-schedule.html").read_text()
    assert "<title>example-rabi on qblox-dummy-1q: pulse schedule</title>" in page
    assert page.count('id="wb-fig-') == 21  # a figure per experiment
    assert page.count("Plotly.register") == 1 or page.count("plotly.js v") <= 2  # plotly.js written once
    meta = json.loads(re.search(r'id="wb-meta">(.*?)</script>', page).group(1))
    assert meta["selected"] == 3 and meta["sweep"] == "amp" and len(meta["labels"]) == 21
    assert "4 ns grid" in page and "http://" not in page.split("<script>")[0]
    assert "rabi on qblox" not in proc.stderr and "timing finding" in proc.stdout


def test_page_weight_does_not_follow_schedule_length(catalogue):
    device = catalogue.get("qutip-2q")
    sizes = {}
    for n in (2_000, 60_000):
        page, _ = write_page(pulse_train(device, n), device)
        data = json.loads(re.search(r'id="wb-data">(.*?)</script>', page).group(1))
        assert len(data[0]["rows"]["t"]) == min(n, MAX_ROWS) and data[0]["rows"]["total"] == n
        sizes[n] = len(page)
    assert sizes[60_000] < 1.6 * sizes[2_000]  # 30 times the instructions, not 30 times the page
