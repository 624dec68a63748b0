"""Provenance in the IR: which gate, calibration and source instruction every instruction came from."""

from __future__ import annotations

import math

import numpy as np
import pytest

import workbench
from workbench.circuits.to_pulses import format_angle
from workbench.errors import JobError
from workbench.jobs.pulse_job import PulseJob
from workbench.jobs.to_qobj import schedules_to_qobj
from workbench.schedule.builder import ScheduleBuilder

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0], q[1];\nmeasure q -> c;\n'


def test_compiled_circuit_instructions_carry_gate_labels(device_2q):
    sched = workbench.prepare(BELL, device_2q).programs[0]
    labels = {(p.channel, p.origin.label) for p in sched.plays}
    assert ("u0", "cz q0,q1") in labels and ("d0", "sx q0") in labels and ("m1", "measure q1") in labels
    assert {f.origin.label for f in sched.frame_changes} <= {"rz(π/2) q0", "rz(π/2) q1", "rz(-π/2) q1",
                                                              "rz(π) q1", "rz(-π/2) q0"}
    assert all(f.origin.gate == "rz" and f.origin.calibration is None for f in sched.frame_changes)
    cz = next(p for p in sched.plays if p.channel == "u0")
    assert cz.origin.qubits == (0, 1) and cz.origin.calibration == "cz" and cz.source >= 0
    # The readout pulse and its acquisition come from one measure gate: one shared object, one index.
    m0 = next(p for p in sched.plays if p.channel == "m0")
    a0 = next(a for a in sched.acquires if a.qubit == 0)
    assert a0.origin is m0.origin and a0.source == m0.source
    # Interned: every sx on qubit 1 shares one Origin.
    sx1 = [p.origin for p in sched.plays if p.origin.label == "sx q1"]
    assert len(sx1) >= 2 and all(o is sx1[0] for o in sx1)


def test_pulseqobj_instructions_know_their_index(device_1q):
    job = workbench.prepare("ramsey", device_1q).job
    sched = job.schedules(device_1q)[2]
    instructions = job.qobj.experiments[2].instructions
    for item in (*sched.plays, *sched.frame_changes, *sched.delays, *sched.acquires):
        assert item.origin is None
        assert instructions[item.source].t0 == item.t0


def test_provenance_does_not_change_equality_so_the_export_round_trips(device_2q):
    sched = workbench.prepare(BELL, device_2q).programs[0]
    again = PulseJob.from_data(schedules_to_qobj([sched], shots=10), "export").schedules(device_2q)[0]
    assert again.acquires == sched.acquires and again.delays == sched.delays
    assert again.plays[0].origin is None and sched.plays[0].origin is not None


@pytest.mark.parametrize(("angle", "text"), [
    (math.pi / 2, "π/2"), (-math.pi / 4, "-π/4"), (math.pi, "π"), (3 * math.pi / 4, "3π/4"), (0.1234, "0.1234"),
    (-2 * math.pi / 3, "-2π/3")])
def test_angles_are_written_as_in_circuits(angle, text):
    assert format_angle(angle) == text


def test_shared_read_only_samples_are_checked_once_but_writable_ones_every_time():
    b = ScheduleBuilder("t", 1e-9, {"d0": 5e9})
    frozen = np.full(4, 0.5 + 0j)
    frozen.setflags(write=False)
    for k in range(3):
        b.play(4 * k, "d0", frozen, "p")
    assert len(b._checked) == 1
    loose = np.full(4, 0.5 + 0j)
    b.play(20, "d0", loose, "q")
    loose[1] = np.nan  # the same array, changed after its first play: still caught
    with pytest.raises(JobError, match="non-finite"):
        b.play(30, "d0", loose, "q")
    assert len(b.build().plays) == 4
