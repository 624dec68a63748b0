"""The schedule viewer without a browser: the inspector's state and the widget driven by front-end messages."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.examples import build, pulse_train
from workbench.ui.schedule_inspector import PAGE_SIZE
from workbench.ui.session import Session
from workbench.ui.widgets.schedule_view import ScheduleView
from workbench.views.schedule_figure import lane_channels

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0], q[1];\nmeasure q -> c;\n'


@pytest.fixture
def train_session(catalogue):
    session = Session(catalogue, device="qutip-2q")
    session.set_job_text(json.dumps(pulse_train(session.device, 3000)), origin="train.json")
    assert session.schedule_problem is None
    return session


def test_selecting_a_row_centres_the_figure_and_turns_the_table(train_session):
    inspector = train_session.schedule_inspector
    table = inspector.table()
    assert inspector.page().total == len(table) == 3000 and inspector.page().pages == 3000 // PAGE_SIZE
    row = 2222
    inspector.select_row(row)
    window = inspector.state.window
    assert window[0] < table.t0[row] < table.t1[row] < window[1]
    page = inspector.page()
    assert row in page.row_ids and page.page == row // PAGE_SIZE
    figure = inspector.figure_dict()
    assert figure["layout"]["xaxis"]["range"] == list(window) and figure["layout"]["meta"]["exact"] is True
    assert figure["layout"]["shapes"][-1]["fillcolor"].startswith("rgba(255, 215, 0")  # the selection
    with pytest.raises(IndexError):
        inspector.select_row(3000)


def test_a_click_on_the_figure_selects_the_nearest_event(train_session):
    inspector = train_session.schedule_inspector
    drawing = inspector.drawing()
    axis = drawing.axis_name([lane.channel for lane in drawing.lanes].index("d1"))
    table = inspector.table()
    target = int(table.rows_on("d1", [0])[700])
    x = float((table.t0[target] + 3) * table.dt_ns)
    assert inspector.click(axis, x) == target
    assert inspector.state.selected == target and target in inspector.page().row_ids


def test_filters_by_channel_kind_time_and_findings(catalogue):
    session = Session(catalogue, device="qutip-2q")
    session.set_job_text(BELL, origin="bell.qasm")
    inspector = session.schedule_inspector
    inspector.set_filter(channels=["d1"], kinds=["frame"])
    page = inspector.page()
    assert page.matching == 4 and all(r[2] == "d1" and r[3] == "frame" for r in page.rows)
    assert {r[5] for r in page.rows} == {"rz(π/2) q1"}
    inspector.set_filter(t_from=250, t_to=300)
    assert {float(r[0]) for r in inspector.page().rows} <= {0.0, 48.0, 248.0, 296.0}
    assert all(float(r[0]) + float(r[7]) >= 250 for r in inspector.page().rows)
    inspector.set_filter(flagged=True)
    assert inspector.page().matching == 0  # a compiled Bell circuit breaks no rule of the simulator
    with pytest.raises(ValueError, match="kinds must be among"):
        inspector.set_filter(kinds=["pulse"])


def test_findings_of_the_device_rules_are_listed(catalogue):
    session = Session(catalogue, device="qblox-dummy-1q")
    job = json.loads(json.dumps(build("x-gate", session.device)))
    for ins in job["experiments"][0]["instructions"]:
        ins["t0"] += 2  # everything 2 ns late: off the 4 ns grid of a Qblox sequencer
    session.set_job_text(json.dumps(job), origin="grid.json")
    inspector = session.schedule_inspector
    assert "Qblox cluster" in inspector.summary() and "grid" in inspector.summary()
    inspector.set_filter(flagged=True)
    page = inspector.page()
    assert page.matching >= 1 and all(page.flagged) and "off the 4 ns grid" in page.rows[0][-1]


def test_options_overlays_differences_and_comparison(catalogue):
    session = Session(catalogue, device="qutip-1q")
    session.set_example("rabi")
    inspector = session.schedule_inspector
    assert inspector.sweep()[0] == "amp" and inspector.experiment_labels()[2].startswith("2: rabi-002 (amp = 0.09")
    session.set_schedule_experiment(4)
    inspector.set_options(overlays=[1, 2, 99], diff_with=5, mode="envelope", scale="full", compress=True)
    assert inspector.options.overlays == (1, 2)
    fig = inspector.figure()
    names = {t.name for t in fig.data}
    assert {"1: rabi-001", "2: rabi-002", "5: rabi-005", "difference", "|envelope|"} <= names
    assert len(inspector.differences()) == 1 and inspector.differences()[0].channel == "d0"
    with pytest.raises(ValueError):
        inspector.set_options(mode="polar")
    with pytest.raises(IndexError):
        inspector.set_options(diff_with=21)
    session2 = Session(catalogue, device="qutip-2q")
    session2.set_job_text(BELL, origin="bell.qasm")
    session2.schedule_inspector.set_options(compare_device="qblox-dummy-2q")
    lanes = lane_channels(session2.schedule_figure())
    assert lanes[:2] == ["d0 qutip-2q", "d0 qblox-dummy-2q"]
    session2.schedule_inspector.set_options(compare_device="qutip-1q")  # a one-qubit device cannot run it
    assert "no pulse schedule on 'qutip-1q'" in session2.schedule_inspector.compare_problem()


def test_widget_redraws_the_window_the_front_end_asks_for(train_session):
    view = ScheduleView(train_session)
    assert view.figure is not None and json.loads(view.last_json)["layout"]["meta"]["exact"] is False
    assert len(view.table.rows) == PAGE_SIZE and view.events_page.value.startswith("page 1 of 60 (3000 of 3000")
    sent = view.bridge.sent
    view._on_front({"type": "view", "x0": 30_000.0, "x1": 30_500.0, "width": 1200})
    assert view.bridge.sent == sent + 1 and view.inspector.state.width == 1200
    figure = json.loads(view.last_json)
    assert figure["layout"]["meta"]["exact"] is True and figure["layout"]["xaxis"]["range"] == [30_000.0, 30_500.0]
    assert "every sample" in view.status.value
    assert "e+" not in view.status.value  # times read as 1,000,400 ns, never 1.0004e+06
    view._on_front({"type": "view", "reset": True, "width": 1200})
    assert json.loads(view.last_json)["layout"]["meta"]["exact"] is False
    # a click on a table row (the front end sends its row id) selects it and moves the figure
    view.table._receive(view.table, {"type": "click", "row": 1500}, [])
    assert view.inspector.state.selected == 1500 and view.table.selected == 1500
    window = json.loads(view.last_json)["layout"]["xaxis"]["range"]
    t = view.inspector.table()
    assert window[0] < t.t0[1500] * t.dt_ns < window[1]


def test_widget_controls_reach_the_inspector(catalogue):
    session = Session(catalogue, device="qutip-1q")
    session.set_example("rabi")
    view = ScheduleView(session)
    assert view.sweep.layout.display is None and view.sweep.description == "amp"
    view.sweep.value = 7
    assert session.schedule_experiment == 7 and view.experiment.value == 7
    view.mode.value = "envelope"
    assert any(t.name == "|envelope|" for t in view.figure.data)
    view.fold.value = True
    assert view.inspector.options.compress is True
    view.diff.value = 8
    assert any(t.name == "difference" for t in view.figure.data)
    view.events_kind.value = ("acquire",)
    assert [r[3] for r in view.table.rows] == ["acquire"]
    view.events_kind.value = ()
    assert len(view.table.rows) == 3
    view.events_from.value = "50"
    assert [r[3] for r in view.table.rows] == ["play", "acquire"]  # the drive pulse ended at 48 ns
    view.events_from.value = "not a number"
    assert len(view.table.rows) == 3
    session.select_device("aer-simulator")
    assert view.figure is None and "gate-level device" in view.message.value


def test_rows_and_figure_share_one_selection(train_session):
    view = ScheduleView(train_session)
    inspector = view.inspector
    drawing = inspector.drawing()
    axis = drawing.axis_name(0)
    table = inspector.table()
    row = int(table.rows_on(drawing.lanes[0].channel, [0])[100])
    view._on_front({"type": "click", "axis": axis, "x": float(table.t0[row] * table.dt_ns + 1)})
    assert view.table.selected == row and row in view.table.row_ids
    assert np.isclose(inspector.state.selected, row)


def test_status_line_times_read_as_numbers_not_exponents():
    from workbench.ui.widgets.schedule_view import _ns

    assert (_ns(1000400.0), _ns(0.0), _ns(12.5), _ns(848.0)) == ("1,000,400", "0", "12.5", "848")
