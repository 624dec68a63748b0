"""Frame bookkeeping and overlap rules of the schedule builder."""

import math

import numpy as np
import pytest

from workbench.errors import JobError
from workbench.schedule.builder import ScheduleBuilder


def builder():
    return ScheduleBuilder("t", 1e-9, {"d0": 5e9, "m0": 7e9})


def test_every_frame_change_is_honoured_at_its_time():
    b = builder()
    pulse = np.full(10, 0.1)
    b.frame(0, "d0", "setf", 5.1e9)
    b.play(0, "d0", pulse, "p1")
    b.frame(10, "d0", "shiftf", 1e6)
    b.frame(10, "d0", "shiftp", 0.5)
    b.play(10, "d0", pulse, "p2")
    b.frame(20, "d0", "setp", 0.1)
    b.frame(20, "d0", "setf", 4.9e9)
    b.play(30, "d0", pulse, "p3")
    s = b.build()
    freqs = [p.frequency for p in s.plays]
    assert freqs == [5.1e9, 5.1e9 + 1e6, 4.9e9]
    assert [p.phase for p in s.plays] == [0.0, 0.5, 0.1]
    assert len(s.frame_changes) == 5


def test_carrier_phase_is_continuous_across_frequency_changes():
    b = builder()
    b.frame(100, "d0", "setf", 5.2e9)
    b.play(100, "d0", np.ones(1) * 0.1, "p")
    s = b.build()
    play = s.plays[0]
    t = 100 * 1e-9
    before = 2 * math.pi * 5e9 * t
    after = 2 * math.pi * play.frequency * t + play.carrier_phase
    assert math.isclose(math.remainder(after - before, 2 * math.pi), 0.0, abs_tol=1e-6)


def test_frame_change_after_a_play_at_the_same_time_applies_to_later_plays():
    b = builder()
    b.play(0, "d0", np.full(8, 0.2), "first")
    b.frame(0, "d0", "shiftp", 1.0)
    b.play(8, "d0", np.full(8, 0.2), "second")
    s = b.build()
    assert [p.phase for p in s.plays] == [0.0, 1.0]


@pytest.mark.parametrize("second", ["play", "frame", "delay"])
def test_overlaps_on_one_channel_are_rejected(second):
    b = builder()
    b.play(0, "d0", np.full(10, 0.1), "p", where="experiments[0].instructions[0]")
    if second == "play":
        b.play(5, "d0", np.full(10, 0.1), "q", where="experiments[0].instructions[1]")
    elif second == "frame":
        b.frame(5, "d0", "shiftp", 1.0, where="experiments[0].instructions[1]")
    else:
        b.delay(5, "d0", 3, where="experiments[0].instructions[1]")
    with pytest.raises(JobError, match=r"experiments\[0\]\.instructions\[1\]: .* overlaps the instruction at "
                                       r"experiments\[0\]\.instructions\[0\]"):
        b.build()


def test_amplitude_above_one_rejected():
    b = builder()
    with pytest.raises(JobError, match=r"amplitude 1\.5 > 1"):
        b.play(0, "d0", np.array([1.5]), "big")


def test_acquire_sets_memory_slots():
    b = builder()
    b.acquire(0, 100, 0, 3)
    s = b.build()
    assert s.memory_slots == 4
    assert s.qubits == [0]
    assert s.channels == ["a0"]
