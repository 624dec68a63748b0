"""Derive a simulated device's pulse calibration from its physics, with the simulator itself.

This is how the numbers in ``devices/builtin/qutip.yml`` were obtained, and how a user who changes a
built-in device's physics (another Rabi rate, anharmonicity or coupler rate) can get matching pulses.
Everything runs without decoherence (a calibration fixes coherent errors; T1/T2 cannot be tuned away):

* ``x``/``sx``: amplitude and DRAG ``beta`` maximise the gate fidelity of the pulse's qubit block to
  ``exp(-i theta/2 X)`` (theta = pi, pi/2), so both the rotation angle and the phase error the third
  level causes are fixed; leakage lowers the fidelity too.
* coupler ``cz``: the amplitude that brings |11> back after one full |11> <-> |X> cycle.

Shape, duration, sigma and width are kept: they are design choices, not measurements.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from workbench.devices.model import Coupling, Device, PulseCalibration
from workbench.executors.qutip.compile import compile_schedule, simulated_qubits
from workbench.executors.qutip.hamiltonian import build_system
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.ir import Schedule


def schedule_unitary(device: Device, schedule: Schedule, levels: int = 3) -> tuple[tuple[int, ...], np.ndarray]:
    """The unitary of a whole schedule without decoherence, in the qubit frames (acquisitions ignored)."""
    from workbench.executors.qutip.propagate import Representation
    from workbench.executors.qutip.threads import single_blas_thread

    couplers = {c.channel: c.qubits for c in device.couplings}
    qubits = simulated_qubits(schedule, couplers)
    system = build_system(device, qubits, levels, noise=False)
    rep = Representation(system, lindblad=False)
    stripped = Schedule(schedule.name, schedule.dt, schedule.plays, schedule.frame_changes, schedule.delays, (),
                        schedule.initial_frames, schedule.memory_slots, schedule.metadata)
    program = compile_schedule(stripped, system, until_end=True)
    unitary = np.eye(system.dim, dtype=complex)
    with single_blas_thread():
        for rows in program.phases:
            for step in rep.propagators(rows):
                unitary = step @ unitary
    return qubits, unitary


def _pulse_schedule(device: Device, channel: str, samples: np.ndarray) -> Schedule:
    b = ScheduleBuilder("calibration", device.dt, device.frame_frequencies(), 0)
    b.play(0, channel, samples, "pulse")
    return b.build()


def rotation_fidelity(device: Device, qubit: int, samples: np.ndarray, angle: float) -> tuple[float, float]:
    """Gate fidelity of a drive pulse to ``exp(-i angle/2 X)`` on ``qubit`` and its leakage from |1>."""
    _, u = schedule_unitary(device, _pulse_schedule(device, f"d{qubit}", samples))
    block = u[:2, :2]
    target = np.array([[math.cos(angle / 2), -1j * math.sin(angle / 2)],
                       [-1j * math.sin(angle / 2), math.cos(angle / 2)]])
    overlap = np.trace(target.conj().T @ block)
    # average gate fidelity of a (possibly non-unitary) 2x2 block: (|Tr|^2 + Tr(M^+ M)) / 6
    fidelity = (abs(overlap) ** 2 + np.trace(block.conj().T @ block).real) / 6.0
    leakage = float(np.sum(np.abs(u[2:, 1]) ** 2))
    return float(fidelity), leakage


def _maximise(objective: Callable[[np.ndarray], float], start: np.ndarray, scale: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    result = minimize(lambda p: -objective(p), start, method="Nelder-Mead",
                      options={"xatol": 1e-9, "fatol": 1e-14, "maxiter": 4000, "initial_simplex":
                               np.vstack([start, start + np.diag(scale)])})
    return result.x


def calibrate_rotation(device: Device, qubit: int, pulse: PulseCalibration, angle: float) -> dict[str, float]:
    """``amp`` and (for drag) ``beta`` of ``pulse`` for a rotation by ``angle`` about x on ``qubit``."""
    from workbench.pulses.shapes import calibrated

    q = device.qubit(qubit)
    unit = calibrated(pulse, amp=1.0)
    amp0 = angle / (2 * math.pi * q.drive.rabi_rate * device.dt * float(np.sum(unit.real)))
    if abs(amp0) > 0.98:
        raise ValueError(f"a {angle:.4g} rad rotation on qubit {qubit} needs amplitude ~{amp0:.3g} with this "
                         f"{pulse.duration}-sample pulse (at most 1): make the pulse longer")
    drag = pulse.shape == "drag"

    def samples(p: np.ndarray) -> np.ndarray:
        cal = pulse.model_copy(update={"amp": float(p[0]), **({"beta": float(p[1])} if drag else {})})
        return calibrated(cal)

    def fidelity(p: np.ndarray) -> float:
        if abs(p[0]) > 1:
            return -1.0
        return rotation_fidelity(device, qubit, samples(p), angle)[0]

    start = np.array([amp0, 0.0]) if drag else np.array([amp0])
    scale = np.array([0.02 * amp0, 0.5]) if drag else np.array([0.02 * amp0])
    best = _maximise(fidelity, start, scale)
    out = {"amp": float(best[0])}
    if drag:
        out["beta"] = float(best[1])
    return out


def coupler_return(device: Device, coupling: Coupling, pulse: PulseCalibration) -> tuple[float, float]:
    """|11> population after the coupler pulse alone, and the phase |11> picked up (qubit frames)."""
    from workbench.pulses.shapes import calibrated

    _, u = schedule_unitary(device, _pulse_schedule(device, coupling.channel, calibrated(pulse)))
    levels = 3
    a, b = coupling.qubits
    qubits = tuple(sorted(coupling.qubits))
    index = {q: pos for pos, q in enumerate(qubits)}
    digits = [0] * len(qubits)
    digits[index[a]] = digits[index[b]] = 1
    eleven = 0
    for d in digits:
        eleven = eleven * levels + d
    amplitude = u[eleven, eleven]
    return float(abs(amplitude) ** 2), float(np.angle(amplitude))


def calibrate_cz(device: Device, coupling: Coupling) -> dict[str, float]:
    """Amplitude of the coupler's ``cz`` pulse that returns |11> after one full cycle."""
    if coupling.cz is None:
        raise ValueError(f"coupling {coupling.channel} has no cz pulse to calibrate")
    pulse = coupling.cz
    from workbench.pulses.shapes import calibrated

    unit = calibrated(pulse, amp=1.0)
    amp0 = 1.0 / (math.sqrt(2) * coupling.rate * device.dt * float(np.sum(unit.real)))
    if abs(amp0) > 0.98:
        raise ValueError(f"a full cycle on coupler {coupling.channel} needs amplitude ~{amp0:.3g} with this "
                         "pulse (at most 1): make it longer or wider")

    def back(p: np.ndarray) -> float:
        if abs(p[0]) > 1:
            return -1.0
        return coupler_return(device, coupling, pulse.model_copy(update={"amp": float(p[0])}))[0]

    best = _maximise(back, np.array([amp0]), np.array([0.02 * amp0]))
    return {"amp": float(best[0])}


def calibrate_device(device: Device) -> dict[str, Any]:
    """All pulse calibrations of a device: ``{"qubits": {i: {"x": {...}, "sx": {...}}}, "couplings": ...}``."""
    out: dict[str, Any] = {"qubits": {}, "couplings": {}}
    for q in device.qubits:
        entry = {"x": calibrate_rotation(device, q.index, q.drive.x, math.pi)}
        if q.drive.sx is not None:
            entry["sx"] = calibrate_rotation(device, q.index, q.drive.sx, math.pi / 2)
        out["qubits"][q.index] = entry
    for c in device.couplings:
        if c.cz is not None:
            out["couplings"][c.channel] = calibrate_cz(device, c)
    return out
