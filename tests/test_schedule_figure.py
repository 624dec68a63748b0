"""The schedule figure: what it draws, how it scales, and that it never draws per pulse."""

from __future__ import annotations

import numpy as np
import pytest

import workbench
from workbench.errors import UnsupportedError
from workbench.schedule.builder import ScheduleBuilder
from workbench.views.schedule_figure import lane_point_count, schedule_figure
from workbench.views.schedule_lanes import schedule_lanes


def _train(device, pulses: int, every_acquire: int = 100):
    from workbench.pulses.shapes import calibrated

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


def test_lanes_hold_every_sample_when_small(device_1q):
    prepared = workbench.prepare("x-gate", device_1q)
    sched = prepared.programs[0]
    lanes = schedule_lanes(sched)
    assert [lane.channel for lane in lanes] == ["d0", "m0", "a0"]
    d0 = lanes[0]
    play = sched.plays_on("d0")[0]
    finite = np.isfinite(d0.t)
    np.testing.assert_allclose(d0.real[finite], play.samples.real)
    np.testing.assert_allclose(d0.imag[finite], play.samples.imag)
    np.testing.assert_allclose(d0.t[finite], (play.t0 + np.arange(play.duration) + 0.5) * 1.0)  # dt = 1 ns
    assert "drag" in d0.labels[0] and "amp=" in d0.labels[0]
    assert lanes[2].acquires and lanes[2].acquires[0][2] == "acquire q0 -> slot 0"


def test_one_trace_per_channel_part_whatever_the_pulse_count(device_2q):
    small = schedule_figure(_train(device_2q, 20, every_acquire=5))
    large = schedule_figure(_train(device_2q, 2000))
    # real + imag per channel that plays (d0, d1), one acquisition trace, one frame-change trace
    assert len(small.data) == len(large.data) == 2 * 2 + 2
    assert not large.layout.shapes or len(large.layout.shapes) == 4  # lane guides only, never per acquisition


def test_decimation_bounds_points_and_keeps_peaks(device_2q):
    sched = _train(device_2q, 20_000)
    fig = schedule_figure(sched, max_points=2000)
    assert lane_point_count(fig) <= 2 * 2 * 2000 * 1.5  # 2 drive lanes x (real, imag), min/max per bucket
    lanes = schedule_lanes(sched, max_points=2000)
    d0 = lanes[0]
    assert d0.decimated and d0.labels is None
    peak = float(np.max(sched.plays_on("d0")[0].samples.real))
    assert np.nanmax(d0.real) == pytest.approx(peak)


def test_channel_filter(device_2q):
    fig = schedule_figure(_train(device_2q, 10), channels=["d1"])
    assert [t.name for t in fig.data if t.name in ("real", "imag")] == ["real", "imag"]
    assert list(fig.layout.yaxis.ticktext) == ["d1"]


def test_plot_schedule_api_and_frames(device_1q):
    fig = workbench.plot_schedule("ramsey", device_1q, experiment=3)
    names = [t.name for t in fig.data]
    assert "frame change" in names and "acquire" in names
    frames = next(t for t in fig.data if t.name == "frame change")
    assert any("shiftp" in text for text in frames.text)


def test_circuit_is_drawn_as_its_compiled_pulses(device_1q):
    qasm = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nh q[0];\nmeasure q[0] -> c[0];\n'
    fig = workbench.plot_schedule(qasm, device_1q)
    assert list(fig.layout.yaxis.ticktext) == ["d0", "m0", "a0"]
    frames = next(t for t in fig.data if t.name == "frame change")
    assert any("shiftp" in text for text in frames.text)  # h = rz . sx . rz: virtual Z as frame changes


def test_gate_level_device_has_no_schedule():
    qasm = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nx q[0];\nmeasure q[0] -> c[0];\n'
    with pytest.raises(UnsupportedError, match="gate level"):
        workbench.plot_schedule(qasm, "aer-simulator")
