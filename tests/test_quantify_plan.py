"""IR -> Qblox lowering (no instrument library): the phase convention, frame bookkeeping, the hardware
discriminator and the sequencer constraints a job must meet before anything compiles.

Expected values are worked out here from the job text (degrees, Hz, ns), not read back through the
code under test.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.devices.model import Discriminator
from workbench.errors import UnsupportedError
from workbench.executors.quantify.config import validate
from workbench.executors.quantify.plan import (
    GRID_NS,
    MIN_GAP_NS,
    build_program,
    check_schedule,
    discriminator_threshold,
    hardware_bits,
)
from workbench.jobs import load_job
from workbench.pulses.shapes import sample
from workbench.readout import discriminate

DRAG = {"duration": 48, "amp": [0.3, 0.1], "sigma": 12.0, "beta": 2.0}


@pytest.fixture(scope="module")
def device(catalogue):
    return catalogue.get("qblox-dummy-1q")


@pytest.fixture(scope="module")
def config(device):
    return validate(device)


def pulse(t0: int, ch: str = "d0", **params: Any) -> dict[str, Any]:
    return {"name": "parametric_pulse", "t0": t0, "ch": ch, "pulse_shape": "drag", "parameters": params or DRAG}


def measure(t0: int, slot: int = 0, duration: int = 800) -> list[dict[str, Any]]:
    return [{"name": "parametric_pulse", "t0": t0, "ch": "m0", "pulse_shape": "constant",
             "parameters": {"duration": duration, "amp": [0.1, 0.0]}},
            {"name": "acquire", "t0": t0, "duration": duration, "qubits": [0], "memory_slot": [slot]}]


def schedules(device, *experiments: list[dict[str, Any]]):
    qobj = {"qobj_id": "t", "type": "PULSE", "schema_version": "1.3.0", "header": {},
            "config": {"shots": 16, "meas_level": 2, "memory_slots": 3},
            "experiments": [{"header": {"name": f"e{i}"}, "instructions": ins} for i, ins in enumerate(experiments)]}
    return load_job(qobj).schedules(device)


def program(device, config, scheds, **kw):
    args = {"shots": 16, "meas_level": 2, "meas_return": "single", "rep_time": 1e-6} | kw
    return build_program(range(len(scheds)), scheds, device, config, **args)


def ops_of(prog, kind, channel=None):
    return [o for o in prog.ops if o.kind == kind and (channel is None or o.channel == channel)]


def test_envelope_is_conjugated_and_phase_shifts_negated(device, config):
    """The simulator shows the qubit conj(s e^{i phi}); an up-converted output shows it the envelope
    itself: so the cluster plays conj(s) and turns the NCO by -phi."""
    theta = 0.7
    scheds = schedules(device, [{"name": "fc", "t0": 0, "ch": "d0", "phase": theta}, pulse(0), *measure(48)])
    prog = program(device, config, scheds)
    (play,) = ops_of(prog, "pulse", "d0")
    expected = sample("drag", DRAG)
    np.testing.assert_allclose(play.samples, np.conj(expected), atol=1e-15)
    assert np.abs(play.samples.imag).max() > 0.01  # the test pulse really is complex
    (shift,) = ops_of(prog, "phase", "d0")
    assert shift.value == pytest.approx(-math.degrees(theta))
    assert shift.time == play.time  # the shift precedes the play it applies to ...
    assert prog.ops.index(shift) < prog.ops.index(play)  # ... at the same instant


def test_experiments_reset_the_nco_a_grid_step_before_they_start(device, config):
    scheds = schedules(device, [pulse(0), *measure(48)], [pulse(0), *measure(48)])
    prog = program(device, config, scheds, rep_time=2e-6)
    plays = ops_of(prog, "pulse", "d0")
    resets = ops_of(prog, "reset", "d0")
    assert [r.time for r in resets] == [p.time - GRID_NS for p in plays]
    assert all(p.time % GRID_NS == 0 for p in plays)
    end_first = 48 + 800 + 4  # readout ends 4 ns (time of flight) after the job says
    assert plays[1].time >= plays[0].time + end_first + 2000
    assert prog.duration_ns % GRID_NS == 0
    idle = [o for o in prog.ops if o.kind == "idle"][-1]
    assert idle.time + idle.duration == prog.duration_ns and idle.duration == 2000


def test_relaxation_never_shorter_than_the_sequencer_needs(device, config):
    scheds = schedules(device, [pulse(0), *measure(48)], [pulse(0), *measure(48)])
    prog = program(device, config, scheds, rep_time=0.0)
    plays = ops_of(prog, "pulse", "d0")
    assert plays[1].time - plays[0].time >= 48 + 800 + 4 + MIN_GAP_NS


def test_frequency_changes_become_nco_settings_at_their_times(device, config):
    scheds = schedules(device, [pulse(0), {"name": "setf", "t0": 48, "ch": "d0", "frequency": 4.85},
                                {"name": "shiftf", "t0": 100, "ch": "d0", "frequency": -0.01},
                                pulse(100), *measure(148)])
    prog = program(device, config, scheds)
    start = ops_of(prog, "pulse", "d0")[0].time
    freqs = [(o.time - start, o.value) for o in ops_of(prog, "frequency", "d0")]
    assert freqs == [(48, pytest.approx(4.85e9)), (100, pytest.approx(4.84e9))]


def test_frame_change_listed_after_a_play_applies_from_its_end(device, config):
    """OpenPulse: a frame change after a play starting at the same time leaves that play's frame alone."""
    scheds = schedules(device, [pulse(0), {"name": "fc", "t0": 0, "ch": "d0", "phase": 1.0},
                                {"name": "setf", "t0": 0, "ch": "d0", "frequency": 4.81}, pulse(48), *measure(96)])
    prog = program(device, config, scheds)
    first, second = ops_of(prog, "pulse", "d0")
    (freq,) = ops_of(prog, "frequency", "d0")
    assert freq.time == first.time + 48 == second.time
    (shift,) = ops_of(prog, "phase", "d0")
    assert shift.time == first.time + 48
    # -1 rad for the frame, plus the carrier phase the NCO did not accumulate at 4.81 GHz over 48 ns
    lost = 2 * math.pi * 10e6 * 48e-9
    assert shift.value == pytest.approx(math.degrees(math.remainder(-1.0 + lost, 2 * math.pi)))
    # the IR agrees: the first play keeps the old frame
    s = scheds[0]
    assert s.plays[0].frequency == 4.8e9 and s.plays[0].phase == 0.0
    assert s.plays[1].frequency == pytest.approx(4.81e9) and s.plays[1].phase == 1.0


def test_updates_at_one_instant_merge(device, config):
    scheds = schedules(device, [{"name": "fc", "t0": 0, "ch": "d0", "phase": 0.25},
                                {"name": "fc", "t0": 0, "ch": "d0", "phase": 0.5}, pulse(0), *measure(48)])
    prog = program(device, config, scheds)
    (shift,) = ops_of(prog, "phase", "d0")
    assert shift.value == pytest.approx(-math.degrees(0.75))


def test_acquisitions_go_to_the_readout_sequencer_and_their_slots(device, config):
    scheds = schedules(device, [*measure(0, slot=2), pulse(800), *measure(1000, slot=0), *measure(2000, slot=2)])
    prog = program(device, config, scheds)
    acqs = prog.acquisitions
    assert [(a.slot, a.channel, a.kept) for a in acqs] == [(2, "m0", False), (0, "m0", True), (2, "m0", True)]
    times = [o.time for o in ops_of(prog, "acquire", "m0")]
    readouts = [o.time for o in ops_of(prog, "pulse", "m0")]
    assert [t - r for t, r in zip(times, readouts, strict=True)] == [4, 4, 4]  # time of flight
    assert prog.bins() == {"m0": 3 * 16}
    assert prog.protocol == "threshold" and prog.bin_mode == "append"
    level1 = program(device, config, scheds, meas_level=1, meas_return="avg")
    assert level1.protocol == "integration" and level1.bin_mode == "average" and level1.bins() == {"m0": 3}


def test_hardware_threshold_reproduces_the_discriminator(device):
    disc = device.qubit(0).readout.discriminator
    rotation, threshold = discriminator_threshold(disc)
    assert 0 <= rotation < 360
    rng = np.random.default_rng(3)
    points = rng.normal(0, 1.5, 20000) + 1j * rng.normal(0, 1.5, 20000)
    np.testing.assert_array_equal(hardware_bits(points, rotation, threshold), discriminate(points, disc))


@settings(max_examples=60, deadline=None)
@given(st.floats(-5, 5), st.floats(-5, 5), st.floats(-3, 3))
def test_any_linear_discriminator_maps_to_a_rotation_and_threshold(w_i, w_q, offset):
    if math.hypot(w_i, w_q) < 1e-3:
        return
    disc = Discriminator(weights=(w_i, w_q), offset=offset)
    rotation, threshold = discriminator_threshold(disc)
    rng = np.random.default_rng(0)
    points = rng.normal(0, 2, 2000) + 1j * rng.normal(0, 2, 2000)
    score = w_i * points.real + w_q * points.imag + offset
    clear = np.abs(score) > 1e-9 * (1 + abs(offset))  # the boundary itself is a matter of >= vs >
    np.testing.assert_array_equal(hardware_bits(points, rotation, threshold)[clear], (score > 0)[clear])


@pytest.mark.parametrize(("instructions", "kw", "fragment"), [
    ([{"name": "parametric_pulse", "t0": 0, "ch": "d0", "pulse_shape": "constant",
       "parameters": {"duration": 2, "amp": [0.1, 0.0]}}, pulse(2), *measure(50)], {},
     "the play at t=0 and the play at t=2 start 2 ns apart; a Qblox sequencer needs 4 ns"),
    ([{"name": "acquire", "t0": t, "duration": 100, "qubits": [0], "memory_slot": [0]} for t in (0, 200)], {},
     "acquisitions on m0 at 0 ns and 200 ns are closer than the 300 ns"),
    ([pulse(0), *measure(48)], {"shots": 200_000}, "need 200000 bins; a Qblox sequencer has 131072"),
    ([{"name": "setf", "t0": 0, "ch": "d0", "frequency": 5.3}, pulse(0), *measure(48)], {},
     "setf at t=0 puts d0 at 5.3 GHz, 600 MHz from the LO at 4.7 GHz"),
    ([{"name": "fc", "t0": 0, "ch": "d0", "phase": 1.0}, {"name": "fc", "t0": 2, "ch": "d0", "phase": 1.0},
      pulse(4), *measure(52)], {}, "frame changes on d0 at 0 ns and 2 ns are closer than the 4 ns"),
    ([pulse(0), {"name": "acquire", "t0": 48, "duration": 2, "qubits": [0], "memory_slot": [0]}], {},
     "the acquisition at t=48 lasts 2 ns"),
])
def test_what_a_sequencer_cannot_play_is_refused_before_compiling(device, config, instructions, kw, fragment):
    (sched,) = schedules(device, instructions)
    with pytest.raises(UnsupportedError) as info:
        check_schedule(0, sched, device, config, kw.get("shots", 16), 2, "single")
    assert fragment in str(info.value)
    assert str(info.value).startswith("experiments[0]: ")


def test_meas_level_2_needs_a_discriminator(catalogue, tmp_path):
    from workbench.executors.registry import load_catalogue

    path = tmp_path / "c.yml"
    path.write_text("devices:\n  - name: blind\n    base: qblox-dummy-1q\n    qubits:\n      - index: 0\n"
                    "        frequency: 4.8e9\n        anharmonicity: -2.5e8\n        drive:\n"
                    "          rabi_rate: 4.0e7\n          x: {shape: drag, duration: 48, sigma: 12.0, amp: 0.47}\n"
                    "        readout:\n          frequency: 6.8e9\n"
                    "          pulse: {shape: constant, duration: 800, amp: 0.1}\n          acquire_duration: 800\n"
                    "          iq_centers: {0: [1.0, 0.0], 1: [-1.0, 0.0]}\n          iq_noise: 0.1\n")
    device = load_catalogue(path).get("blind")
    (sched,) = schedules(device, [pulse(0), *measure(48)])
    with pytest.raises(UnsupportedError, match="qubit 0 has no discriminator calibration"):
        check_schedule(0, sched, device, validate(device), 16, 2, "single")
    check_schedule(0, sched, device, validate(device), 16, 1, "single")  # IQ needs none
