"""The event table (every instruction as a row of columns) and the timing checks marked on it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import workbench
from workbench.examples import EXAMPLES
from workbench.executors.registry import executor_class
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.checks import RULES, TimingRules, check_timing
from workbench.schedule.table import ACQUIRE, DELAY, FRAME, KINDS, PLAY, event_table

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0], q[1];\nmeasure q -> c;\n'


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_one_row_per_instruction_and_each_row_leads_back_to_it(name, device_2q):
    for sched in workbench.prepare(name, device_2q).programs:
        table = event_table(sched)
        assert len(table) == sched.instruction_count()
        assert np.all(np.diff(table.t0) >= 0)
        for row, obj in zip(range(len(table)), table.objects(range(len(table))), strict=True):
            assert obj.t0 == table.t0[row] and obj.channel == table.channels[table.channel[row]]
        plays = table.kind == PLAY
        assert np.array_equal(table.duration[plays], [p.duration for p in table.objects(np.flatnonzero(plays))])
        assert event_table(sched) is table  # computed once per schedule


def test_frames_after_each_event_follow_the_virtual_z_gates(device_2q):
    sched = workbench.prepare(BELL, device_2q).programs[0]
    table = event_table(sched)
    d1 = table.rows_on("d1", [FRAME])
    # each rz(π/2) on q1 turns the frame by -π/2 more (Qiskit's convention: shiftp -theta)
    np.testing.assert_allclose(table.phase[d1], -np.pi / 2 * np.arange(1, d1.size + 1))
    acquires = np.flatnonzero(table.kind == ACQUIRE)
    for row in acquires:  # an acquisition reads in its measure channel's frame
        qubit = table.objects([row])[0].qubit
        assert table.frequency[row] == sched.initial_frames[f"m{qubit}"][0]
    cz = table.rows_on("u0")[0]
    assert table.gate_label(cz) == "cz q0,q1" and table.names[table.name[cz]] == "cz"
    assert table.parameters_text(cz).startswith("gaussian_square(duration=200")
    assert table.source[cz] == sched.plays[table.item[cz]].source >= 0
    assert table.parameters_text(acquires[0]) == "q0 -> slot 0"
    assert {KINDS[k] for k in table.kind} == {"play", "frame", "acquire"}


def test_delays_take_the_frame_in_effect(device_1q):
    sched = workbench.prepare("t1", device_1q).programs[5]
    table = event_table(sched)
    delays = np.flatnonzero(table.kind == DELAY)
    assert delays.size and np.all(table.frequency[delays] == sched.initial_frames["d0"][0])
    assert np.all(table.phase[delays] == 0.0)


def _problem_schedule(device):
    """One of each thing an instrument objects to, on qblox-dummy-2q's channels."""
    x = device.qubit(0).drive.x
    from workbench.pulses.shapes import calibrated

    samples = calibrated(x)
    b = ScheduleBuilder("problems", device.dt, device.frame_frequencies(), 2)
    b.play(2, "d0", samples, "x")  # off the 4 ns grid (start 2 ns)
    b.play(100, "u0", np.full(200, 0.2), "cz")  # coupler busy 100..300
    b.play(120, "d1", samples, "x")  # d1 plays during the cz on u0 (q0, q1)
    b.play(400, "m0", np.full(400, 0.1), "ro")  # readout of q0 400..800
    b.play(600, "d0", samples, "x")  # q0 driven during its own readout
    b.acquire(400, 100, 0, 0)
    b.acquire(600, 100, 0, 1)  # 200 ns after the previous acquisition of q0
    b.frame(900, "d1", "shiftf", 450e6)  # frame 450 MHz off the calibration
    b.play(900, "d1", samples, "x")
    return b.build()


def test_qblox_rules_flag_each_problem_once(catalogue):
    device = catalogue.get("qblox-dummy-2q")
    rules = executor_class(device.executor).timing_rules(device)
    assert rules.grid_ns == 4 and rules.min_acquire_gap_ns == 300
    sched = _problem_schedule(device)
    table = event_table(sched)
    found = check_timing(table, rules, frequencies=device.frame_frequencies(),
                         couplers={c.channel: c.qubits for c in device.couplings})
    by_rule = {name: [(table.channels[table.channel[r]], int(table.t0[r])) for r, k in zip(found.row, found.rule,
                                                                                          strict=True)
                      if RULES[k] == name] for name in RULES}
    assert by_rule["grid"] == [("d0", 2)]
    assert sorted(by_rule["overlap"]) == [("d0", 600), ("d1", 120)]
    assert by_rule["acquire-gap"] == [("a0", 600)]
    assert by_rule["frame-offset"] == [("d1", 900)]
    assert found.counts() == {"overlap": 2, "grid": 1, "acquire-gap": 1, "frame-offset": 1}
    texts = [found.message(i) for i in range(len(found))]
    assert any("plays during cz on u0" in t for t in texts)
    assert any("200 ns after the previous one; the instrument needs 300 ns" in t for t in texts)
    assert any("+450 MHz from the calibrated frequency (limit 330 MHz)" in t for t in texts)
    flagged = found.flagged()
    assert flagged.sum() == 5 and found.for_rows(np.flatnonzero(flagged)).keys() == set(found.row.tolist())


def test_simulator_rules_only_flag_overlaps_and_far_frames(catalogue):
    device = catalogue.get("qblox-dummy-2q")
    sched = _problem_schedule(device)
    rules = executor_class("qutip").timing_rules(catalogue.get("qutip-2q"))
    assert rules == TimingRules()
    found = check_timing(event_table(sched), rules, frequencies=device.frame_frequencies(),
                         couplers={"u0": (0, 1)})
    assert found.counts() == {"overlap": 2}  # 450 MHz is within the default 500 MHz


def test_spacing_rule_flags_the_later_of_two_close_starts(device_1q):
    b = ScheduleBuilder("close", 1e-9, device_1q.frame_frequencies(), 1)
    b.play(0, "d0", np.full(2, 0.1), "a")
    b.play(2, "d0", np.full(4, 0.1), "b")
    b.frame(8, "d0", "shiftp", 0.1)
    b.frame(9, "d0", "shiftp", 0.1)
    table = event_table(b.build())
    found = check_timing(table, TimingRules(min_spacing_ns=4, max_frame_offset_hz=None, overlaps=False))
    assert [(int(table.t0[r]), KINDS[table.kind[r]]) for r in found.row] == [(2, "play"), (9, "frame")]
    assert math.isclose(found.value[0], 2.0)


def test_a_schedule_without_its_build_log_gives_the_same_rows(device_2q):
    """Unpickled (Dask workers) or rebuilt schedules have no build log: the table comes from the objects."""
    import pickle

    sched = workbench.prepare(BELL, device_2q).programs[0]
    table = event_table(sched)
    again = pickle.loads(pickle.dumps(sched))
    assert again.build_log is None and "_event_table" not in again.__dict__
    other = event_table(again)
    assert other.log is None and len(other) == len(table)

    def rows(t):
        return sorted(zip(t.t0.tolist(), t.channel.tolist(), t.kind.tolist(), t.item.tolist(), t.duration.tolist(),
                          t.frequency.tolist(), t.phase.tolist(), [t.gate_label(r) for r in range(len(t))],
                          [t.name_of(r) for r in range(len(t))], t.source.tolist(), strict=True))

    assert rows(other) == rows(table)
    assert other.channels == table.channels and sched.duration == again.duration
