"""The schedule figure: what it draws, at which level of detail, and that cost follows pixels, not pulses."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import workbench
from workbench.errors import UnsupportedError
from workbench.pulses.shapes import calibrated
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.table import event_table
from workbench.views.plotly_json import to_json
from workbench.views.schedule_figure import (
    ScheduleDrawing,
    lane_channels,
    lane_index,
    lane_point_count,
    schedule_figure,
)
from workbench.views.schedule_inspect import differences, timing_findings
from workbench.views.schedule_lanes import TimeMap, channel_units, compressed_time

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0], q[1];\nmeasure q -> c;\n'


def _train(device, pulses: int, every_acquire: int = 100):
    cal = device.qubit(0).drive.x
    x = calibrated(cal)
    b = ScheduleBuilder("train", device.dt, device.frame_frequencies(), 2)
    t = {"d0": 0, "d1": 0}
    for k in range(pulses):
        ch = "d0" if k % 2 else "d1"
        if k % 10 == 0:
            b.frame(t[ch], ch, "shiftp", 0.1)
        b.play(t[ch], ch, x, "x", shape=cal.shape, parameters=cal.parameters())
        t[ch] += cal.duration
        if k % every_acquire == every_acquire - 1:
            end = max(t.values())
            b.acquire(end, 100, 0, 0)
            b.acquire(end, 100, 1, 1)
            t = dict.fromkeys(t, end + 100)
    return b.build()


def _trace(fig, name, axis="y"):
    return next(t for t in fig.data if t.name == name and (t.yaxis or "y") == axis)


def test_a_small_schedule_is_drawn_sample_by_sample(device_1q):
    sched = workbench.prepare("x-gate", device_1q).programs[0]
    fig = schedule_figure(sched)
    assert lane_channels(fig) == ["d0", "m0", "a0"]
    assert fig.layout.meta["exact"] is True
    play = sched.plays_on("d0")[0]
    real = _trace(fig, "real")
    finite = np.isfinite(np.asarray(real.x, dtype=float))
    np.testing.assert_allclose(np.asarray(real.y)[finite], play.samples.real, atol=1e-7)  # float32 on the wire
    np.testing.assert_allclose(np.asarray(real.x)[finite], (play.t0 + np.arange(play.duration) + 0.5) * 1.0)
    np.testing.assert_allclose(np.asarray(_trace(fig, "imag").y)[finite], play.samples.imag, atol=1e-7)
    acquire = next(t for t in fig.data if t.name == "acquire")
    assert "acquire q0 -> slot 0" in acquire.text[0] and "48-848 ns" in acquire.text[0] and "GHz" in acquire.text[0]


def test_traces_per_lane_do_not_grow_with_the_pulses(device_2q):
    small = schedule_figure(_train(device_2q, 20, every_acquire=5))
    large = schedule_figure(_train(device_2q, 2000))
    lanes = len(lane_channels(large))
    assert len(large.data) <= len(small.data) <= 8 * lanes  # labels only where they fit; never per pulse
    assert {(t.type, t.name) for t in large.data} <= {(t.type, t.name) for t in small.data}
    assert len(large.layout.shapes or ()) == 0  # nothing per pulse or per acquisition in the layout


def test_decimation_bounds_points_and_keeps_every_peak(device_2q):
    sched = _train(device_2q, 20_000)
    fig = schedule_figure(sched, max_points=2000)
    assert fig.layout.meta["exact"] is False
    assert lane_point_count(fig) <= 2 * 2 * 2000 * 1.5  # 2 drive lanes x (real, imag), min/max per bucket
    samples = sched.plays_on("d0")[0].samples
    d0 = _trace(fig, "real")
    assert np.nanmax(np.asarray(d0.y, dtype=float)) == pytest.approx(samples.real.max(), abs=1e-6)
    assert np.nanmin(np.asarray(_trace(fig, "imag").y, dtype=float)) == pytest.approx(samples.imag.min(), abs=1e-6)


def test_zooming_in_redraws_every_sample_of_the_window(device_2q):
    sched = _train(device_2q, 20_000)
    drawing = ScheduleDrawing(sched, max_points=2000)
    assert drawing.figure_dict()["layout"]["meta"]["exact"] is False
    window = (240_000.0, 240_600.0)
    fig = drawing.figure_dict(window, width=1000)
    assert fig["layout"]["meta"]["exact"] is True and fig["layout"]["xaxis"]["range"] == list(window)
    real = next(t for t in fig["data"] if t.get("name") == "real" and t["yaxis"] == "y")
    x = np.asarray(real["x"], dtype=float)
    inside = [p for p in sched.plays_on("d0") if p.t1 > window[0] and p.t0 < window[1]]
    expected_x = np.concatenate([(p.t0 + np.arange(p.duration) + 0.5) for p in inside])
    expected_y = np.concatenate([p.samples.real for p in inside])
    keep = (expected_x > window[0]) & (expected_x < window[1])  # only the samples the window shows
    expected_x, expected_y = expected_x[keep], expected_y[keep]
    np.testing.assert_allclose(x[np.isfinite(x)], expected_x)
    np.testing.assert_allclose(np.asarray(real["y"], dtype=float)[np.isfinite(x)], expected_y, atol=1e-7)
    assert real["text"][0] == "x"  # the pulse's label on every sample


def test_lanes_have_amplitude_axes_in_full_scale_and_device_units(device_2q):
    sched = workbench.prepare(BELL, device_2q).programs[0]
    fig = schedule_figure(sched, channels=["d1", "m1", "u0"], units=channel_units(device_2q))
    assert lane_channels(fig) == ["u0", "d1", "m1"]
    layout = fig.layout.to_plotly_json()
    d1 = layout["yaxis2"]
    amp = d1["tickvals"][-1]
    assert 0.238 <= amp <= 0.3  # fitted to the sx pulse (0.238), not to 1
    assert layout["yaxis3"]["tickvals"][-1] == pytest.approx(0.12)  # the 0.1 readout gets its own scale
    right = next(a for k, a in layout.items() if k.startswith("yaxis") and a.get("overlaying") == "y2")
    rabi = device_2q.qubit(1).drive.rabi_rate / 1e6
    assert right["title"]["text"] == "MHz Rabi" and right["tickvals"][-1] == pytest.approx(amp * rabi)
    full = schedule_figure(sched, channels=["m1"], scale="full").layout.to_plotly_json()
    assert full["yaxis"]["tickvals"][-1] == 1.0


def test_envelope_mode_draws_the_magnitude(device_1q):
    sched = workbench.prepare("x-gate", device_1q).programs[0]
    fig = schedule_figure(sched, mode="envelope")
    env = _trace(fig, "|envelope|")
    finite = np.isfinite(np.asarray(env.x, dtype=float))
    np.testing.assert_allclose(np.asarray(env.y)[finite], np.abs(sched.plays_on("d0")[0].samples), atol=1e-7)
    assert not any(t.name in ("real", "imag") for t in fig.data)


def test_frames_are_readable_at_any_time(device_1q):
    fig = workbench.plot_schedule("ramsey", device_1q, experiment=3)
    strip = next(t for t in fig.data if t.name == "frame" and (t.yaxis or "y") == "y")
    sched = workbench.prepare("ramsey", device_1q).programs[3]
    change = sched.frame_changes[0]
    phases = np.asarray(strip.z, dtype=float)[0]
    assert phases[0] == pytest.approx(0.0) and phases[-1] == pytest.approx(math.remainder(change.phase, 2 * math.pi))
    assert all("GHz" in text for text in strip.text[0])
    assert "set by" in strip.text[0][-1] and f"at {change.t0:g} ns" in strip.text[0][-1]


def test_compiled_circuits_carry_gate_labels(device_2q):
    fig = workbench.plot_schedule(BELL, device_2q)
    texts = {text for t in fig.data if getattr(t, "mode", None) == "text" for text in t.text}
    assert {"sx q0", "cz q0,q1", "measure q0", "sx q1"} <= texts
    assert any(text.startswith("rz(π/2)") for text in texts)  # virtual Z gates labelled in the frame strip


def test_gate_level_device_has_no_schedule():
    with pytest.raises(UnsupportedError, match="gate level"):
        workbench.plot_schedule(BELL, "aer-simulator")


def test_folded_time_keeps_gates_wide_and_labels_real_times(device_2q):
    sched = workbench.prepare(BELL, device_2q).programs[0]
    table = event_table(sched)
    tmap = compressed_time(table)
    assert tmap.folds() and not tmap.identity
    t = np.array([0.0, 100.0, 400.0, 1096.0])
    np.testing.assert_allclose(tmap.inverse(tmap(t)), t)
    plain, folded = ScheduleDrawing(sched), ScheduleDrawing(sched, compress=True)
    assert folded.full[1] < plain.full[1]
    # the first sx keeps its 48 ns and so takes a larger share of the drawn width
    assert 48 / folded.full[1] > 2 * 48 / plain.full[1]
    xaxis = folded.figure_dict()["layout"]["xaxis"]
    assert xaxis["tickmode"] == "array" and all(float(text) <= 1096 for text in xaxis["ticktext"])
    assert TimeMap().identity and float(TimeMap()(5.0)) == 5.0


def test_timing_findings_are_marked_where_they_are(catalogue):
    device = catalogue.get("qblox-dummy-2q")
    x = calibrated(device.qubit(0).drive.x)
    b = ScheduleBuilder("off-grid", device.dt, device.frame_frequencies(), 1)
    b.play(2, "d0", x, "x")
    b.play(400, "m0", np.full(400, 0.1), "ro")
    b.acquire(400, 100, 0, 0)
    sched = b.build()
    fig = schedule_figure(sched, findings=timing_findings(sched, device))
    marks = [t for t in fig.data if t.name == "timing check"]
    assert len(marks) == 1 and list(marks[0].x) == [2.0] and "off the 4 ns grid" in marks[0].text[0]


def test_differences_between_two_experiments_are_highlighted(device_1q):
    rabi = workbench.prepare("rabi", device_1q).programs
    found = differences(rabi[1], rabi[2], ("#1", "#2"))
    assert [h.channel for h in found] == ["d0"]
    assert "amp=0.04768" in found[0].text and "amp=0.09536" in found[0].text
    assert differences(rabi[1], rabi[1]) == []
    fig = ScheduleDrawing(rabi[1], overlays=[("#2", rabi[2])], highlights=found).figure()
    assert any(t.name == "difference" for t in fig.data) and any(t.name == "#2" for t in fig.data)


def test_two_schedules_side_by_side_on_one_time_axis(catalogue):
    a = workbench.prepare(BELL, "qutip-2q").programs[0]
    b = workbench.prepare(BELL, "qblox-dummy-2q").programs[0]
    drawing = ScheduleDrawing(a, compare=("qutip", b, "qblox"), highlights=differences(a, b, ("qutip", "qblox")))
    fig = drawing.figure()
    lanes = lane_channels(fig)
    assert lanes[:4] == ["d0 qutip", "d0 qblox", "u0 qutip", "u0 qblox"]
    assert drawing.lane_of("y2").primary is False and drawing.lane_of("y").primary is True
    assert fig.layout.xaxis.range[1] >= max(a.duration, b.duration) * 1.0


def test_selection_centres_and_clicks_find_the_nearest_event(device_2q):
    sched = workbench.prepare(BELL, device_2q).programs[0]
    drawing = ScheduleDrawing(sched)
    table = event_table(sched)
    cz = int(table.rows_on("u0")[0])
    window = drawing.row_window(cz)
    assert window[0] < table.t0[cz] < table.t1[cz] < window[1]
    shapes = drawing.figure_dict(window, selected=cz)["layout"]["shapes"]
    assert shapes and shapes[-1]["yref"] == "y2 domain"
    assert drawing.nearest_row("u0", 100.0) == cz
    assert drawing.lane_of("y2").channel == "u0"


def test_figures_travel_as_typed_arrays_with_their_template(device_1q):
    sched = workbench.prepare("x-gate", device_1q).programs[0]
    text = ScheduleDrawing(sched).figure_json()
    data = json.loads(text)
    real = next(t for t in data["data"] if t.get("name") == "real")
    assert set(real["x"]) == {"dtype", "bdata"} and real["y"]["dtype"] == "f4"
    assert isinstance(data["layout"]["template"], dict) and "layout" in data["layout"]["template"]
    assert to_json({"data": [{"x": np.array([1.0, np.nan])}], "layout": {"range": np.array([0, 1])}})


def test_lane_index_is_built_once_per_schedule(device_1q):
    sched = workbench.prepare("x-gate", device_1q).programs[0]
    assert lane_index(sched) is lane_index(sched)
