"""Schedules -> PulseQobj -> schedules: the export is the inverse of loading a job for a device."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench
from workbench.errors import JobError, UnsupportedError
from workbench.examples import EXAMPLES, build
from workbench.jobs import load_job
from workbench.jobs.to_qobj import hz_to_ghz, schedules_to_qobj
from workbench.pulses.shapes import sample
from workbench.schedule.builder import ScheduleBuilder


def assert_same_schedule(a, b, *, rel: float = 0.0) -> None:
    """Plays (samples, frames, shapes), frame changes, delays, acquisitions, frames, slots, headers.

    ``rel`` > 0 allows frequencies that are one float apart (see ``hz_to_ghz``); 0 asks for equality.
    """
    def close(x: float, y: float) -> bool:
        return x == y if rel == 0 else math.isclose(x, y, rel_tol=rel, abs_tol=0.0)

    assert a.name == b.name and a.dt == b.dt and a.memory_slots == b.memory_slots
    assert a.creg_sizes == b.creg_sizes
    assert b.metadata == {"name": a.name, **a.metadata}  # loading names the metadata after the header
    assert a.initial_frames.keys() == b.initial_frames.keys()
    for ch in a.initial_frames:
        assert close(a.initial_frames[ch][0], b.initial_frames[ch][0]) and a.initial_frames[ch][1] == 0.0
    assert len(a.plays) == len(b.plays)
    for p, q in zip(a.plays, b.plays, strict=True):
        assert (p.t0, p.channel, p.name, p.shape, p.phase) == (q.t0, q.channel, q.name, q.shape, q.phase)
        assert close(p.frequency, q.frequency), (p, q)
        assert math.isclose(p.carrier_phase, q.carrier_phase, rel_tol=rel, abs_tol=1e-9 if rel else 0.0)
        np.testing.assert_array_equal(p.samples, q.samples)
    assert len(a.frame_changes) == len(b.frame_changes)
    for f, g in zip(a.frame_changes, b.frame_changes, strict=True):
        assert (f.t0, f.channel, f.kind, f.phase) == (g.t0, g.channel, g.kind, g.phase)
        assert close(f.value, g.value) and close(f.frequency, g.frequency)
    assert a.delays == b.delays
    assert a.acquires == b.acquires


def round_trip(schedules, device, **kwargs):
    qobj = schedules_to_qobj(schedules, shots=kwargs.pop("shots", 100), **kwargs)
    text = json.dumps(qobj, allow_nan=False)  # JSON-native, finite
    return qobj, load_job(text).schedules(device)


QUBITS = {"qutip-1q": 1, "qutip-2q": 2}
CASES = [(name, dev) for dev, n in QUBITS.items() for name, entry in EXAMPLES.items() if entry.min_qubits <= n]


@pytest.mark.parametrize(("name", "device_name"), CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_examples_round_trip_exactly(catalogue, name, device_name):
    device = catalogue.get(device_name)
    assert len(device.qubits) == QUBITS[device_name]
    original = load_job(build(name, device)).schedules(device)
    qobj, again = round_trip(original, device, backend_name=device.name)
    assert len(again) == len(original)
    for a, b in zip(original, again, strict=True):
        assert_same_schedule(a, b)
    assert qobj["config"]["pulse_library"] == []  # every calibrated pulse stays parametric
    assert qobj["header"] == {"backend_name": device.name}


def test_exported_examples_give_identical_counts(device_2q):
    original = build("bell", device_2q)
    schedules = load_job(original).schedules(device_2q)
    exported = schedules_to_qobj(schedules, shots=600)
    first = workbench.run(original, device=device_2q, shots=600, seed=9)
    second = workbench.run(exported, device=device_2q, shots=600, seed=9)
    assert first.counts(0) == second.counts(0)
    np.testing.assert_array_equal(first.dataset.iq.values, second.dataset.iq.values)


def _hand_built(device, dt: float = 1e-9):
    """Everything the IR can hold that the examples do not use."""
    freqs = device.frame_frequencies()
    b = ScheduleBuilder("hand", dt, freqs, memory_slots=4, metadata={"amp": np.float64(0.25), "tags": ("a", 1),
                                                                     "bad": object(), "nan": float("nan")},
                        creg_sizes=(("c", 3), ("d", 1)))
    ramp = np.linspace(0, 0.3, 7) + 0.05j
    drag = sample("drag", {"duration": 16, "amp": 0.2, "sigma": 4.0, "beta": 0.3})
    b.play(0, "d0", ramp, "ramp")
    b.frame(0, "d0", "shiftp", 0.3)  # after the play at its start: the play keeps the old phase
    b.frame(7, "d0", "setf", 4.712345678e9)
    b.frame(7, "d0", "shiftf", -1.2345e6)
    b.play(7, "d0", drag, "drag", shape="drag", parameters={"duration": 16, "amp": 0.2, "sigma": 4.0, "beta": 0.3})
    b.frame(7, "d0", "setp", -1.0)  # after the second play, again at its start
    b.play(23, "d0", ramp * 0.5, "ramp")  # same name, other samples: a second library entry
    b.play(30, "d0", ramp, "delay")  # a reserved name, same samples as the first ramp: reused
    b.play(40, "d0", drag * 0.5, "drag", shape="drag",  # claims a shape, samples differ: must be sampled
           parameters={"duration": 16, "amp": 0.2, "sigma": 4.0, "beta": 0.3})
    b.play(40, "m0", sample("constant", {"duration": 20, "amp": [0.1, 0.05]}), "ro", shape="constant",
           parameters={"duration": 20, "amp": complex(0.1, 0.05)})
    b.delay(56, "d0", 10)
    b.delay(60, "a0", 0)
    b.acquire(60, 20, 0, 0, register_slot=2)
    b.acquire(80, 30, 0, 3)
    return b.build()


def test_hand_built_schedule_round_trips(device_1q):
    schedule = _hand_built(device_1q)
    qobj, (again,) = round_trip([schedule], device_1q)
    library = {entry["name"]: entry for entry in qobj["config"]["pulse_library"]}
    assert set(library) == {"ramp", "ramp-2", "drag"}
    assert library["ramp"]["samples"][1] == [0.3 / 6, 0.05]
    instructions = qobj["experiments"][0]["instructions"]
    names = [ins["name"] for ins in instructions]
    assert names.count("ramp") == 2  # the "delay" play reuses the identical waveform
    assert [ins["pulse_shape"] for ins in instructions if ins["name"] == "parametric_pulse"] == ["drag", "constant"]
    assert {ins["ch"]: ins["parameters"]["amp"] for ins in instructions if ins["name"] == "parametric_pulse"} == {
        "d0": 0.2, "m0": [0.1, 0.05]}
    acquires = [ins for ins in instructions if ins["name"] == "acquire"]
    assert [(a["t0"], a["duration"], a["memory_slot"], a.get("register_slot")) for a in acquires] == [
        (60, 20, [0], [2]), (80, 30, [3], None)]
    # Library names and the false shape claim are the only differences; the rest comes back exactly,
    # up to GHz rounding.
    renamed = [p.name for p in again.plays]
    assert renamed == ["ramp", "drag", "ramp-2", "ramp", "drag", "ro"]
    assert [p.shape for p in again.plays] == [None, "drag", None, None, None, "constant"]
    expected = dataclasses.replace(schedule, plays=tuple(
        dataclasses.replace(p, name=n, shape=None if k == 4 else p.shape)
        for k, (p, n) in enumerate(zip(schedule.plays, renamed, strict=True))), metadata=again.metadata)
    assert_same_schedule(expected, again, rel=2.3e-16)
    assert again.metadata == {"amp": 0.25, "tags": ["a", 1], "name": "hand"}  # what JSON can carry
    assert again.plays[0].phase == 0.0 and again.plays[1].phase == 0.3 and again.plays[2].phase == -1.0
    assert again.plays[1].frequency == pytest.approx(4.712345678e9 - 1.2345e6, rel=1e-15)


def test_experiments_with_different_frames_get_their_own_lo_config(device_1q):
    base = device_1q.frame_frequencies()
    schedules = []
    for k, offset in enumerate((0.0, 0.0, 2.5e6)):
        b = ScheduleBuilder(f"e{k}", 1e-9, {**base, "d0": base["d0"] + offset}, memory_slots=1)
        b.play(0, "d0", np.full(4, 0.1), "p")
        b.acquire(4, 10, 0, 0)
        schedules.append(b.build())
    qobj, again = round_trip(schedules, device_1q)
    assert qobj["config"]["qubit_lo_freq"] == [hz_to_ghz(base["d0"])]
    assert "config" not in qobj["experiments"][1]
    assert qobj["experiments"][2]["config"]["qubit_lo_freq"] == [hz_to_ghz(base["d0"] + 2.5e6)]
    for a, b in zip(schedules, again, strict=True):
        assert_same_schedule(a, b)


def test_simultaneous_acquisitions_share_an_instruction_per_duration(device_2q):
    b = ScheduleBuilder("acq", 1e-9, device_2q.frame_frequencies(), memory_slots=3)
    b.acquire(5, 20, 1, 0)
    b.acquire(5, 20, 0, 2)
    b.acquire(30, 40, 0, 1)
    b.acquire(30, 10, 1, 0)  # same start, other duration: its own instruction
    schedule = b.build()
    qobj, (again,) = round_trip([schedule], device_2q)
    acquires = [ins for ins in qobj["experiments"][0]["instructions"] if ins["name"] == "acquire"]
    assert [(a["t0"], a["duration"], a["qubits"], a["memory_slot"]) for a in acquires] == [
        (5, 20, [1, 0], [0, 2]), (30, 40, [0], [1]), (30, 10, [1], [0])]
    assert_same_schedule(schedule, again)


def test_gaps_in_qubit_indices_are_filled(catalogue):
    device = catalogue.get("qutip-2q")
    freqs = {"d1": 5.3e9, "m1": 7.1e9}
    b = ScheduleBuilder("only-q1", 1e-9, freqs, memory_slots=1)
    b.play(0, "d1", np.full(4, 0.1), "p")
    b.acquire(4, 10, 1, 0)
    qobj, (again,) = round_trip([b.build()], device)
    assert qobj["config"]["qubit_lo_freq"] == [5.3, 5.3] and qobj["config"]["meas_lo_freq"] == [7.1, 7.1]
    assert again.plays[0].frequency == 5.3e9


def test_bad_arguments_are_rejected(device_1q):
    schedule = _hand_built(device_1q)
    with pytest.raises(JobError):
        schedules_to_qobj([schedule], shots=0)
    with pytest.raises(JobError):
        schedules_to_qobj([schedule], shots=10, meas_level=3)
    with pytest.raises(JobError):
        schedules_to_qobj([schedule], shots=10, meas_return="mean")
    with pytest.raises(UnsupportedError):
        schedules_to_qobj([], shots=10)
    with pytest.raises(UnsupportedError, match="different dt"):
        schedules_to_qobj([schedule, _hand_built(device_1q, dt=2e-9)], shots=10)


def test_config_carries_the_options(device_1q):
    qobj = schedules_to_qobj([_hand_built(device_1q)], shots=77, meas_level=1, meas_return="avg", qobj_id="q-1")
    job = load_job(qobj)
    assert job.option_defaults() == {"shots": 77, "meas_level": 1, "meas_return": "avg"}
    assert job.job_id == "q-1" and qobj["config"]["memory_slots"] == 4
    assert qobj["experiments"][0]["header"]["creg_sizes"] == [["c", 3], ["d", 1]]


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=1e3, max_value=1e11, allow_nan=False))
def test_ghz_conversion_is_exact_or_one_ulp(hz):
    ghz = hz_to_ghz(hz)
    back = ghz * 1e9
    assert back == hz or math.nextafter(hz, math.inf) == back or math.nextafter(hz, -math.inf) == back
    if hz / 1e9 * 1e9 == hz:
        assert back == hz  # never worse than the plain division
