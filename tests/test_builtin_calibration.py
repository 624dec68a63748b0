"""The built-in simulated devices' calibrations still do what their names promise.

The numbers in ``devices/builtin/qutip.yml`` came from :mod:`workbench.executors.qutip.calibration`;
these tests check the *properties* (a pi pulse inverts, a pi/2 pulse makes an equal superposition, the
CZ returns |11> with a pi conditional phase), so a change to the physics, the waveform library or the
simulator that breaks a calibration fails here, whatever the numbers are.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.devices.model import Device
from workbench.executors.qutip.calibration import calibrate_rotation, rotation_fidelity
from workbench.executors.qutip.executor import final_states
from workbench.pulses.shapes import calibrated
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.ir import Schedule

# The always-on ZZ (50 kHz on qutip-2q, 30-65 kHz on the chips) acts during the 200 ns CZ and its
# preparation: with the coupler on its bare transition frequency (a calibration we keep) the
# conditional phase is pi minus 0.02 to 0.06 rad, less than the ZZ phase 2 pi zz t over the schedule.
CZ_PHASE_MARGIN = 0.01  # rad beyond that bound


DEVICES = ["qutip-1q", "qutip-2q", "qutip-3q", "qutip-5q"]


def _schedule(device: Device, plays: list[tuple[int, str, np.ndarray]]) -> Schedule:
    b = ScheduleBuilder("calibration-check", device.dt, device.frame_frequencies(), 0)
    for t0, channel, samples in plays:
        b.play(t0, channel, samples, channel)
    return b.build()


def _level_populations(rho: np.ndarray, qubits: tuple[int, ...], qubit: int, levels: int = 3) -> np.ndarray:
    pops = np.real(np.diag(rho)).reshape((levels,) * len(qubits))
    axes = tuple(i for i in range(len(qubits)) if qubits[i] != qubit)
    return pops.sum(axis=axes)


@pytest.mark.parametrize("name", DEVICES)
def test_x_is_a_pi_pulse_with_little_leakage(catalogue, name: str) -> None:
    device = catalogue.get(name)
    for q in device.qubits:
        ((qubits, rho),) = final_states(device, [_schedule(device, [(0, f"d{q.index}", calibrated(q.drive.x))])],
                                        noise=False)
        pops = _level_populations(rho, qubits, q.index)
        assert pops[1] >= 0.999, (name, q.index, pops)
        assert pops[2] < 1e-4
        fidelity, leakage = rotation_fidelity(device, q.index, calibrated(q.drive.x), math.pi)
        assert fidelity > 0.9999 and leakage < 1e-4  # the phase is right too, not only P1


@pytest.mark.parametrize("name", DEVICES)
def test_sx_is_half_of_x(catalogue, name: str) -> None:
    device = catalogue.get(name)
    for q in device.qubits:
        sx = calibrated(q.drive.sx)
        one, two = final_states(device, [_schedule(device, [(0, f"d{q.index}", sx)]),
                                         _schedule(device, [(0, f"d{q.index}", sx), (sx.size, f"d{q.index}", sx)])],
                                noise=False)
        assert abs(_level_populations(one[1], one[0], q.index)[1] - 0.5) < 1e-3
        assert _level_populations(two[1], two[0], q.index)[1] >= 0.999  # sx . sx = x: phases agree
        assert rotation_fidelity(device, q.index, sx, math.pi / 2)[0] > 0.9999


def test_x_with_decoherence_still_inverts(catalogue) -> None:
    device = catalogue.get("qutip-1q")
    q = device.qubit(0)
    ((qubits, rho),) = final_states(device, [_schedule(device, [(0, "d0", calibrated(q.drive.x))])], noise=True)
    # T1 = 60 us over a 40 ns pulse costs about 20 ns / T1 = 3e-4
    assert _level_populations(rho, qubits, 0)[1] > 0.999 - 40e-9 / q.t1


@pytest.mark.parametrize(("name", "channel"), [("qutip-2q", "u0"), ("qutip-5q", "u0"), ("qutip-5q", "u1"),
                                               ("qutip-5q", "u2"), ("qutip-5q", "u3")])
def test_cz_returns_eleven_with_a_pi_conditional_phase(catalogue, name: str, channel: str) -> None:
    """On every edge (qutip-3q's are qutip-5q's u0 and u1): |11> comes back, with a pi conditional phase up
    to what the always-on ZZ adds during the pulse."""
    device = catalogue.get(name)
    coupling = device.coupling(channel)
    low, high = coupling.qubits  # "11-02": the second qubit is the one excited twice
    ql, qh = device.qubit(low), device.qubit(high)
    xl, xh, sxl = calibrated(ql.drive.x), calibrated(qh.drive.x), calibrated(ql.drive.sx)
    cz = calibrated(coupling.cz)
    start = xl.size
    eleven = _schedule(device, [(0, f"d{low}", xl), (0, f"d{high}", xh), (start, channel, cz)])
    plus_one = _schedule(device, [(0, f"d{low}", sxl), (0, f"d{high}", xh), (start, channel, cz)])
    plus_zero = _schedule(device, [(0, f"d{low}", sxl), (start, channel, cz)])
    (qubits, rho11), (_, rho_p1), (_, rho_p0) = final_states(device, [eleven, plus_one, plus_zero], noise=False)
    assert set(qubits) == {low, high}

    def index(levels: dict[int, int]) -> int:
        out = 0
        for q in qubits:
            out = out * 3 + levels[q]
        return out

    assert rho11[index({low: 1, high: 1}), index({low: 1, high: 1})].real >= 0.999
    # the low qubit's coherence <0|rho|1> with the high one in |1> and in |0>
    coherence_1 = rho_p1[index({low: 0, high: 1}), index({low: 1, high: 1})]
    coherence_0 = rho_p0[index({low: 0, high: 0}), index({low: 1, high: 0})]
    assert abs(coherence_1) > 0.49 and abs(coherence_0) > 0.49  # no leakage, no dephasing
    # |11> acquiring exp(i phi) turns rho[01, 11] into rho[01, 11] exp(-i phi)
    phase = -(np.angle(coherence_1) - np.angle(coherence_0))
    error = math.remainder(phase - math.pi, 2 * math.pi)
    assert abs(error) < 2 * math.pi * coupling.zz * (start + cz.size) * device.dt + CZ_PHASE_MARGIN, phase


def test_calibration_procedure_recovers_a_changed_device(catalogue) -> None:
    """A user who lowers the Rabi rate gets, from the same procedure, a pulse that inverts again."""
    device = catalogue.get("qutip-1q")
    data = device.model_dump()
    data["qubits"][0]["drive"]["rabi_rate"] = 3.0e7
    slow = Device.model_validate(data)
    q = slow.qubit(0)
    assert rotation_fidelity(slow, 0, calibrated(q.drive.x), math.pi)[0] < 0.95  # stale calibration
    found = calibrate_rotation(slow, 0, q.drive.x, math.pi)
    assert abs(found["amp"]) <= 1.0
    tuned = q.drive.x.model_copy(update=found)
    assert rotation_fidelity(slow, 0, calibrated(tuned), math.pi)[0] > 0.9999
    data["qubits"][0]["drive"]["rabi_rate"] = 1.5e7  # a pi pulse would need amp > 1
    with pytest.raises(ValueError, match="make the pulse longer"):
        calibrate_rotation(Device.model_validate(data), 0, q.drive.x, math.pi)
