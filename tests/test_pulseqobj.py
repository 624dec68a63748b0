"""PulseQobj jobs land in the schedule IR exactly as OpenPulse defines them.

Expected values are written out here from the job text and the device's calibration (GHz -> Hz,
µs -> s, samples of dt), not read back through the code under test, so a lost frame change, a wrong
unit or a swapped memory slot fails a test.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workbench.errors import JobError
from workbench.jobs import Job, load_job
from workbench.jobs.pulse_job import PulseJob, unique_names
from workbench.pulses.shapes import sample

GAUSS = {"duration": 40, "amp": [0.5, 0.0], "sigma": 10.0}


def pp(t0: int, ch: str, shape: str = "gaussian", **parameters: Any) -> dict[str, Any]:
    return {"name": "parametric_pulse", "t0": t0, "ch": ch, "pulse_shape": shape,
            "parameters": parameters or dict(GAUSS)}


def acquire(t0: int, qubits: list[int], slots: list[int], duration: int = 100,
            **extra: Any) -> dict[str, Any]:
    return {"name": "acquire", "t0": t0, "duration": duration, "qubits": qubits, "memory_slot": slots,
            **extra}


def qobj(*experiments: dict[str, Any], **config: Any) -> dict[str, Any]:
    return {
        "qobj_id": "qobj-1",
        "type": "PULSE",
        "schema_version": "1.2.0",
        "header": {"backend_name": "qutip-1q", "backend_version": "0.1.0"},
        "config": config,
        "experiments": list(experiments),
    }


def experiment(*instructions: dict[str, Any], name: str | None = None, **header: Any) -> dict[str, Any]:
    head = dict(header)
    if name is not None:
        head["name"] = name
    return {"header": head, "instructions": list(instructions)}


def envelope(inner: dict[str, Any], job_id: str = "job-42") -> dict[str, Any]:
    return {"job_id": job_id, "type": "script", "name": "pulse_schedule", "params": {"qobj": inner}}


def phase_at(frequency: float, carrier_phase: float, t: float) -> complex:
    return complex(math.cos(2 * math.pi * frequency * t + carrier_phase),
                   math.sin(2 * math.pi * frequency * t + carrier_phase))


X_EXPERIMENT = experiment(pp(0, "d0"), pp(40, "m0", "constant", duration=100, amp=0.1),
                          acquire(40, [0], [0]), name="x")


# ------------------------------------------------------------------------------------- envelope


def test_bare_qobj_and_tergite_envelope_give_the_same_schedules(device_1q):
    bare = load_job(qobj(X_EXPERIMENT, shots=10))
    wrapped = load_job(envelope(qobj(X_EXPERIMENT, shots=10)))
    assert isinstance(bare, PulseJob) and isinstance(wrapped, PulseJob)
    assert bare.job_id == "qobj-1" and wrapped.job_id == "job-42"
    assert bare.kind == "pulse" and bare.source_filename == "job.json"
    a, b = bare.schedules(device_1q)[0], wrapped.schedules(device_1q)[0]
    timing = [(p.t0, p.channel) for p in a.plays]
    assert timing == [(p.t0, p.channel) for p in b.plays] == [(0, "d0"), (40, "m0")]
    assert a.acquires == b.acquires
    assert bare.option_defaults() == wrapped.option_defaults() == {"shots": 10}


def test_envelope_text_is_kept_exactly_and_job_named_after_the_file(tmp_path: Path, device_1q):
    text = json.dumps(envelope(qobj(X_EXPERIMENT)), indent=4) + "\n\n"
    path = tmp_path / "my-rabi.json"
    path.write_text(text, encoding="utf-8")
    for source in (path, str(path)):
        job = load_job(source)
        assert job.source == text
        assert job.name == "my-rabi"
        assert job.job_id == "job-42"
    assert load_job(text).source == text


def test_a_json_file_is_json_whatever_its_names_say(tmp_path: Path, device_1q):
    """Files follow source_kind's rule: JSON text is never searched for OpenQASM keywords (a job named
    "defcal check" was read as an OpenPulse program and refused)."""
    doc = qobj(X_EXPERIMENT)
    doc["experiments"][0]["header"]["name"] = "defcal check: cal { }"
    path = tmp_path / "job.json"
    path.write_text(json.dumps(doc))
    job = load_job(path)
    assert isinstance(job, PulseJob) and job.experiment_names == ["defcal check: cal { }"]


def test_mapping_source_is_compact_json_and_a_job_is_returned_as_is():
    doc = qobj(X_EXPERIMENT)
    job = load_job(doc)
    assert "\n" not in job.source  # compact: the output folder indents it (tests/test_cli.py)
    assert json.loads(job.source) == doc
    assert load_job(job) is job
    assert isinstance(job, Job)
    assert job.backend_name == "qutip-1q"


# ------------------------------------------------------------------------------ instruction kinds


def test_parametric_pulse_samples_channel_and_frame(device_1q):
    sched = load_job(qobj(experiment(pp(8, "d0", "drag", duration=40, amp=[0.3, 0.1], sigma=10.0, beta=0.5))))
    sched = sched.schedules(device_1q)[0]
    (play,) = sched.plays
    assert (play.t0, play.channel, play.shape, play.name, play.duration) == (8, "d0", "drag", "drag", 40)
    expected = sample("drag", {"duration": 40, "amp": [0.3, 0.1], "sigma": 10.0, "beta": 0.5})
    np.testing.assert_array_equal(play.samples, expected)
    assert play.parameters["beta"] == 0.5
    assert play.frequency == device_1q.qubits[0].drive_frequency == 4.8e9
    assert sched.dt == device_1q.dt


def test_label_names_a_parametric_pulse(device_1q):
    ins = pp(0, "d0")
    ins["label"] = "X90"
    assert load_job(qobj(experiment(ins))).schedules(device_1q)[0].plays[0].name == "X90"


def test_two_setf_on_one_channel_are_both_honoured_with_a_continuous_carrier(device_1q):
    instructions = [
        pp(0, "d0"),
        {"name": "setf", "t0": 40, "ch": "d0", "frequency": 4.9},
        pp(40, "d0"),
        {"name": "setf", "t0": 80, "ch": "d0", "frequency": 5.05},
        pp(80, "d0"),
    ]
    sched = load_job(qobj(experiment(*instructions))).schedules(device_1q)[0]
    assert [p.frequency for p in sched.plays] == [4.8e9, 4.9e9, 5.05e9]
    changes = [(f.t0, f.kind, f.value) for f in sched.frame_changes]
    assert changes == [(40, "setf", 4.9e9), (80, "setf", 5.05e9)]
    dt = device_1q.dt
    for before, after in zip(sched.plays, sched.plays[1:], strict=False):
        t = after.t0 * dt
        assert abs(phase_at(before.frequency, before.carrier_phase, t)
                   - phase_at(after.frequency, after.carrier_phase, t)) < 1e-6


def test_shiftf_adds_to_the_current_frequency(device_1q):
    instructions = [
        {"name": "shiftf", "t0": 0, "ch": "d0", "frequency": -0.01},
        pp(0, "d0"),
        {"name": "shiftf", "t0": 40, "ch": "d0", "frequency": 0.025},
        pp(40, "d0"),
    ]
    sched = load_job(qobj(experiment(*instructions))).schedules(device_1q)[0]
    assert [p.frequency for p in sched.plays] == pytest.approx([4.79e9, 4.815e9])
    assert [f.kind for f in sched.frame_changes] == ["shiftf", "shiftf"]


def test_setp_sets_and_fc_shifts_the_phase(device_1q):
    instructions = [
        {"name": "setp", "t0": 0, "ch": "d0", "phase": 0.5},
        pp(0, "d0"),
        {"name": "fc", "t0": 40, "ch": "d0", "phase": 0.25},
        pp(40, "d0"),
        {"name": "setp", "t0": 80, "ch": "d0", "phase": -1.0},
        pp(80, "d0"),
    ]
    sched = load_job(qobj(experiment(*instructions))).schedules(device_1q)[0]
    assert [p.phase for p in sched.plays] == pytest.approx([0.5, 0.75, -1.0])
    assert [f.kind for f in sched.frame_changes] == ["setp", "shiftp", "setp"]
    assert [f.value for f in sched.frame_changes] == [0.5, 0.25, -1.0]


def test_frames_are_per_channel(device_1q):
    instructions = [
        {"name": "setf", "t0": 0, "ch": "m0", "frequency": 6.75},
        {"name": "fc", "t0": 0, "ch": "m0", "phase": 1.0},
        pp(0, "d0"),
        pp(0, "m0"),
    ]
    sched = load_job(qobj(experiment(*instructions))).schedules(device_1q)[0]
    drive, measure = sched.plays_on("d0")[0], sched.plays_on("m0")[0]
    assert (drive.frequency, drive.phase) == (4.8e9, 0.0)
    assert (measure.frequency, measure.phase) == (6.75e9, 1.0)


def test_library_play_uses_the_library_samples(device_1q):
    library = [{"name": "wave_a", "samples": [[0.1, 0.0], [0.2, -0.1], [0.3, 0.0]]},
               {"name": "wave_b", "samples": [0.5, 0.25]}]
    doc = qobj(experiment({"name": "wave_b", "t0": 3, "ch": "d0"}, {"name": "wave_a", "t0": 5, "ch": "d0"}),
               pulse_library=library)
    sched = load_job(doc).schedules(device_1q)[0]
    first, second = sched.plays
    assert (first.name, first.t0, first.shape) == ("wave_b", 3, None)
    np.testing.assert_array_equal(first.samples, [0.5, 0.25])
    assert (second.name, second.t0) == ("wave_a", 5)
    np.testing.assert_array_equal(second.samples, [0.1, 0.2 - 0.1j, 0.3])


def test_delay_and_snapshot(device_1q):
    doc = qobj(experiment({"name": "delay", "t0": 0, "ch": "d0", "duration": 30},
                          {"name": "snapshot", "t0": 30, "label": "s0", "type": "statevector"},
                          pp(30, "d0")))
    job = load_job(doc)
    sched = job.schedules(device_1q)[0]
    assert [(d.t0, d.channel, d.duration) for d in sched.delays] == [(0, "d0", 30)]
    assert [p.t0 for p in sched.plays] == [30]
    assert len(job.warnings) == 1 and "experiments[0].instructions[1]" in job.warnings[0]
    assert "snapshot" in job.warnings[0]


def test_multi_qubit_acquire_with_explicit_slots(device_2q):
    doc = qobj(experiment(acquire(10, [0, 1], [1, 0], register_slot=[0, 1])), memory_slots=2)
    sched = load_job(doc).schedules(device_2q)[0]
    assert [(a.t0, a.qubit, a.memory_slot, a.register_slot) for a in sched.acquires] == [
        (10, 0, 1, 0), (10, 1, 0, 1)]
    assert sched.memory_slots == 2
    assert {a.channel for a in sched.acquires} == {"a0", "a1"}


def test_several_acquires_per_experiment(device_1q):
    doc = qobj(experiment(acquire(0, [0], [0]), pp(100, "d0"), acquire(140, [0], [1]),
                          acquire(300, [0], [2])))
    sched = load_job(doc).schedules(device_1q)[0]
    assert [(a.t0, a.memory_slot) for a in sched.acquires] == [(0, 0), (140, 1), (300, 2)]
    assert sched.memory_slots == 3  # nothing declared: as many as used


def test_memory_slots_come_from_the_most_specific_place(device_1q):
    exp_config = experiment(acquire(0, [0], [0]), name="c")
    exp_config["config"] = {"memory_slots": 4}
    doc = qobj(experiment(acquire(0, [0], [0]), name="job"),
               experiment(acquire(0, [0], [0]), name="header", memory_slots=3),
               exp_config, memory_slots=2)
    assert [s.memory_slots for s in load_job(doc).schedules(device_1q)] == [2, 3, 4]


def test_lo_frequencies_job_then_experiment_override(device_2q):
    plays = [pp(0, "d0"), pp(0, "d1"), pp(0, "m0"), pp(0, "m1")]
    swept = experiment(*plays, name="swept")
    swept["config"] = {"qubit_lo_freq": [4.95, 5.31], "meas_lo_freq": [6.85, 7.15]}
    doc = qobj(experiment(*plays, name="job-lo"), swept, experiment(*plays, name="job-lo-again"),
               qubit_lo_freq=[4.91, 5.29, 6.0], meas_lo_freq=[6.91, 7.09])
    first, second, third = load_job(doc).schedules(device_2q)
    freq = lambda s: {p.channel: p.frequency for p in s.plays}  # noqa: E731
    assert freq(first) == pytest.approx({"d0": 4.91e9, "d1": 5.29e9, "m0": 6.91e9, "m1": 7.09e9})
    assert freq(second) == pytest.approx({"d0": 4.95e9, "d1": 5.31e9, "m0": 6.85e9, "m1": 7.15e9})
    assert freq(third) == freq(first)
    assert second.initial_frames["d0"][0] == pytest.approx(4.95e9)
    assert "d2" not in first.initial_frames  # an LO entry for a qubit the device lacks is dropped
    assert first.initial_frames["u0"][0] == device_2q.frame_frequencies()["u0"]


def test_device_defaults_without_lo(device_2q):
    sched = load_job(qobj(experiment(pp(0, "u0"), pp(0, "d1")))).schedules(device_2q)[0]
    defaults = device_2q.frame_frequencies()
    assert {p.channel: p.frequency for p in sched.plays} == {"u0": defaults["u0"], "d1": 5.3e9}


def test_amplitude_as_pair_complex_or_mapping_gives_the_same_samples(device_1q):
    def play_with(amp: Any) -> np.ndarray:
        doc = qobj(experiment(pp(0, "d0", "gaussian", duration=33, amp=amp, sigma=8.0)))
        return load_job(doc).schedules(device_1q)[0].plays[0].samples

    pair = play_with([0.3, 0.4])
    np.testing.assert_allclose(play_with(complex(0.3, 0.4)), pair)
    np.testing.assert_allclose(play_with({"real": 0.3, "imag": 0.4}), pair)
    assert np.max(np.abs(pair)) == pytest.approx(0.5, rel=1e-3)
    assert np.angle(pair[16]) == pytest.approx(math.atan2(0.4, 0.3))
    real = play_with(0.3)
    assert np.all(real.imag == 0) and np.max(real.real) == pytest.approx(0.3, rel=1e-3)


def test_complex_amplitude_in_a_mapping_is_kept_as_json_source():
    job = load_job(qobj(experiment(pp(0, "d0", "constant", duration=4, amp=complex(0.1, -0.2)))))
    assert json.loads(job.source)["experiments"][0]["instructions"][0]["parameters"]["amp"] == [0.1, -0.2]


# --------------------------------------------------------------------------------- job-level data


def test_option_defaults_only_what_the_file_sets():
    assert load_job(qobj(X_EXPERIMENT)).option_defaults() == {}
    full = qobj(X_EXPERIMENT, shots=333, meas_level=1, meas_return="avg", rep_time=250, memory_slots=1)
    assert load_job(full).option_defaults() == {"shots": 333, "meas_level": 1, "meas_return": "avg",
                                                "rep_time": pytest.approx(250e-6)}
    assert load_job(qobj(X_EXPERIMENT, meas_level=0)).option_defaults() == {"meas_level": 0}


def test_experiment_names_are_unique_and_deterministic(device_1q):
    names = ["a", None, "a", "a-2", "", "a"]
    doc = qobj(*[experiment(pp(0, "d0"), name=n) for n in names])
    job = load_job(doc)
    expected = ["a", "experiment-1", "a-3", "a-2", "experiment-4", "a-4"]
    assert job.experiment_names == expected
    assert [s.name for s in job.schedules(device_1q)] == expected
    assert load_job(copy.deepcopy(doc)).experiment_names == expected
    assert unique_names(["x", "x", "x"]) == ["x", "x-2", "x-3"]


def test_metadata_is_the_header_metadata_plus_its_name(device_1q):
    doc = qobj(experiment(pp(0, "d0"), name="rabi-3", metadata={"amp": 0.3, "sweep": [1, 2]}),
               experiment(pp(0, "d0")))
    first, second = load_job(doc).schedules(device_1q)
    assert first.metadata == {"amp": 0.3, "sweep": [1, 2], "name": "rabi-3"}
    assert second.metadata == {}


def test_qiskit_bookkeeping_is_accepted():
    """Keys Qiskit 1.x's assembler writes for pulse jobs load without edits."""
    config = {
        "shots": 1024, "meas_level": 2, "meas_return": "avg", "memory_slots": 1, "memory_slot_size": 100,
        "qubit_lo_freq": [4.8], "meas_lo_freq": [6.8], "qubit_lo_range": [[4.3, 5.3]],
        "meas_lo_range": [[6.3, 7.3]], "pulse_library": [], "parametric_pulses": ["gaussian", "drag"],
        "rep_time": 1000, "rep_delay": 250.0, "init_qubits": True, "memory": False, "parameter_binds": [],
        "seed_simulator": 7, "n_qubits": 1, "schedule_los": [],
    }
    exp = experiment(pp(0, "d0"), name="x", memory_slots=1, metadata={}, qubit_labels=[["q", 0]],
                     clbit_labels=[["c", 0]])
    exp["config"] = {"qubit_lo_freq": [4.81], "meas_lo_freq": [6.8]}
    ins = acquire(40, [0], [0], kernels=[{"name": "boxcar", "params": {}}])
    exp["instructions"].append(ins)
    job = load_job(qobj(exp, **config))
    assert job.experiment_names == ["x"]
    assert any("kernels" in w for w in job.warnings)


def test_errors_from_a_file_name_the_file(tmp_path: Path):
    path = tmp_path / "job.json"
    path.write_text(json.dumps(qobj(experiment(pp(0, "d0", "foo")))), encoding="utf-8")
    with pytest.raises(JobError) as info:
        load_job(path)
    assert str(info.value) == (f"{path}: experiments[0].instructions[0].pulse_shape: unknown shape 'foo'; "
                               f"known shapes: {info.value.message.split('known shapes: ')[1]}")
    assert info.value.location == "experiments[0].instructions[0].pulse_shape"


def test_the_example_in_the_docs_loads_and_runs_through_the_ir(device_1q):
    text = (Path(__file__).parent.parent / "docs" / "job-formats.md").read_text(encoding="utf-8")
    example = text.split("## Example", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    job = load_job(example)
    assert job.job_id == "example-x" and job.experiment_names == ["x"]
    assert job.option_defaults() == {"shots": 1000, "meas_level": 2, "meas_return": "single",
                                     "rep_time": pytest.approx(200e-6)}
    (sched,) = job.schedules(device_1q)
    assert [(p.name, p.t0, p.channel) for p in sched.plays] == [("drag", 0, "d0"), ("ramp", 40, "d0"),
                                                                 ("gaussian_square", 43, "m0")]
    assert sched.plays[1].phase == pytest.approx(math.pi / 2, abs=1e-6)
    assert sched.metadata == {"gate": "x", "name": "x"}


# ------------------------------------------------------------------------------------------- sweeps


def _same_schedule(a, b) -> None:
    """Field by field, arrays by value, which plays share an array, and the event table views read."""
    from workbench.schedule.table import event_table

    assert (a.name, a.dt, a.memory_slots, dict(a.metadata), a.creg_sizes) == \
        (b.name, b.dt, b.memory_slots, dict(b.metadata), b.creg_sizes)
    assert dict(a.initial_frames) == dict(b.initial_frames)
    assert (a.frame_changes, a.delays, a.acquires) == (b.frame_changes, b.delays, b.acquires)
    assert len(a.plays) == len(b.plays)
    for p, q in zip(a.plays, b.plays, strict=True):
        assert (p.t0, p.channel, p.name, p.frequency, p.phase, p.carrier_phase, p.shape, p.source) == \
            (q.t0, q.channel, q.name, q.frequency, q.phase, q.carrier_phase, q.shape, q.source)
        assert dict(p.parameters) == dict(q.parameters) and p.parameters is not q.parameters
        assert p.samples.dtype == q.samples.dtype == complex
        np.testing.assert_array_equal(p.samples, q.samples)
    def sharing(s):
        return [[i for i, q in enumerate(s.plays) if q.samples is p.samples] for p in s.plays]
    assert sharing(a) == sharing(b)
    ta, tb = event_table(a), event_table(b)
    for column in ("t0", "duration", "kind", "item", "channel", "wave"):
        np.testing.assert_array_equal(getattr(ta, column), getattr(tb, column))
    assert ta.channels == tb.channels and len(ta.waves) == len(tb.waves)
    for u, v in zip(ta.waves, tb.waves, strict=True):
        np.testing.assert_array_equal(u, v)
    assert (a.duration, a.channels, a.qubits) == (b.duration, b.channels, b.qubits)


def _point(amp_x: float, amp_y: float, *, phase: float = 0.5, label: str | None = None) -> dict[str, Any]:
    x = pp(0, "d0", duration=40, amp=[amp_x, 0.0], sigma=10.0)
    if label:
        x["label"] = label
    return experiment(
        x, {"name": "fc", "t0": 40, "ch": "d0", "phase": phase},
        pp(40, "d0", duration=40, amp=[amp_y, 0.0], sigma=10.0),
        {"name": "setf", "t0": 80, "ch": "m0", "frequency": 6.7},
        {"name": "wave_m", "t0": 80, "ch": "m0"}, {"name": "delay", "t0": 0, "ch": "m0", "duration": 80},
        acquire(80, [0], [0]), name=f"p{amp_x}-{amp_y}", metadata={"amp": amp_x})


def test_a_sweeps_points_are_made_from_one_schedule_and_equal_a_build(device_1q):
    """Points that differ only in their pulses' values share the first one's timing and log buffers,
    and are, field by field, what a builder makes of them alone; points that differ in anything else
    (a frame change, a label, which pulses share one array, the LO) are built."""
    points = [_point(0.1, 0.1), _point(0.2, 0.3), _point(0.2, 0.2), _point(0.4, 0.5), _point(0.6, 0.5, phase=-0.0),
              _point(0.6, 0.5, phase=0.0), _point(0.7, 0.1, label="X"), _point(0.8, 0.2)]
    points[-1]["config"] = {"meas_lo_freq": [6.75]}
    library = [{"name": "wave_m", "samples": [[0.1, 0.0]] * 30}]
    job = load_job(qobj(*points, pulse_library=library))
    schedules = job.schedules(device_1q)
    for e, schedule in enumerate(schedules):
        _same_schedule(schedule, job.experiment_schedule(device_1q, e))
    made_from = [next(i for i, t in enumerate(schedules) if t.build_log.t0 is s.build_log.t0) for s in schedules]
    assert made_from == [0, 1, 0, 1, 4, 5, 6, 7]  # 0, 2: one array for both pulses; 5: 0.0 after -0.0; 6: label
    assert schedules[3].build_log.waves[0] is schedules[3].plays[0].samples


def test_a_bad_pulse_in_a_later_point_is_named_as_a_build_names_it(device_1q):
    """The first bad pulse in instruction order (not in time order) of the first bad point."""
    def point(a: float, b: float) -> dict[str, Any]:
        return experiment(pp(40, "d0", duration=40, amp=[a, 0.0], sigma=10.0),
                          pp(0, "d0", duration=40, amp=[b, 0.0], sigma=10.0), acquire(80, [0], [0]))

    job = load_job(qobj(point(0.1, 0.2), point(0.3, 0.4), point(1.5, 1.6), point(1.7, 0.2)))
    with pytest.raises(JobError) as built:
        job._schedule(2, job.qobj.experiments[2], device_1q)
    with pytest.raises(JobError) as swept:
        job.schedules(device_1q)
    assert str(swept.value) == str(built.value)
    assert swept.value.location == "experiments[2].instructions[0]" and "amplitude 1.4" in str(swept.value)
