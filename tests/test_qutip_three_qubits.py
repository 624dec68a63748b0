"""Three simulated transmons: the qutip executor against qutip's ``mesolve``, and a GHZ-3 circuit.

The reference Hamiltonian is built here from the device's physics alone (frequencies,
anharmonicities, ZZ, coupler rates and transitions, Rabi rates, T1/T2), with ``qutip.tensor`` and
continuous carriers, in the frame rotating at each qubit's true frequency (docs/simulator.md). A
coupler acts on its pair whatever the state of the third qubit, so its operator is
``|11><X|`` on the pair tensored with the identity on the spectator. The chain is the one a user
builds from ``qutip-2q``: qubits alternate qutip-2q's qubit 0 and 1 physics, ``u0`` on (0, 1) and
``u1`` on (2, 1), both driving |11> <-> |02>, so on ``u1`` the pair is given in reverse order.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit

import workbench
from workbench.circuits.program import CircuitProgram
from workbench.circuits.to_pulses import circuit_to_schedule
from workbench.devices.model import Device
from workbench.executors.base import ExecutionData
from workbench.executors.qutip import QutipExecutor
from workbench.executors.qutip.calibration import schedule_unitary
from workbench.executors.qutip.executor import final_states
from workbench.options import COMMON_OPTIONS, resolve_options
from workbench.pulses.shapes import calibrated
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.ir import Acquire, Schedule

DT = 1e-9
LEVELS = 3


def chain_device(base: Device, *, t1_scale: float = 1.0, zz: float | None = None) -> Device:
    """A 3-qubit chain of ``base`` (qutip-2q): qubit 2 is a copy of qubit 0, ``u1`` a copy of ``u0`` on (2, 1)."""
    data = base.model_dump(exclude_none=True)
    q0, q1 = (dict(q) for q in data["qubits"])
    q2 = {**q0, "index": 2}
    qubits = [q0, q1, q2]
    for q in qubits:
        for key in ("t1", "t2"):
            q[key] = q[key] * t1_scale
    u0 = dict(data["couplings"][0])
    if zz is not None:
        u0["zz"] = zz
    u1 = {**u0, "qubits": [2, 1], "channel": "u1"}
    data.update(name="chain-3q", qubits=qubits, couplings=[u0, u1])
    return Device.model_validate(data)


@pytest.fixture(scope="module")
def chain(device_2q: Device) -> Device:
    return chain_device(device_2q)


@pytest.fixture(scope="module")
def lossy_chain(device_2q: Device) -> Device:
    """Short T1/T2 (3 and 4 us) and a strong ZZ (2 MHz), so decoherence and ZZ are visible at 1e-3."""
    return chain_device(device_2q, t1_scale=0.06, zz=2e6)


# --------------------------------------------------------------------------------------------------
# an independent reference: qutip.mesolve on the same physics


def _envelope(plays: list, reference: float):
    """D'(t) = conj(s[k] e^{i phi}) exp(i (2 pi (f - reference) t + carrier_phase - phi)), t in ns."""

    def coefficient(t: float) -> complex:
        for p in plays:
            if p.t0 <= t < p.t1:
                carrier = 2 * math.pi * (p.frequency - reference) * t * DT + p.carrier_phase - p.phase
                iq = p.samples[int(t - p.t0)] * np.exp(1j * p.phase)
                return complex(np.conj(iq) * np.exp(1j * carrier))
        return 0j

    return coefficient


def _conjugate(f):
    return lambda t: np.conj(f(t))


def _on(ops: dict[int, Any], n: int) -> Any:
    import qutip

    return qutip.tensor([ops.get(i, qutip.qeye(LEVELS)) for i in range(n)]).to("CSR")  # basis kets are dense


def mesolve_reference(dev: Device, schedule: Schedule, noise: bool) -> np.ndarray:
    """The final density matrix of ``schedule`` on all qubits of ``dev`` (index order), by qutip."""
    import qutip

    n = len(dev.qubits)
    qubits = [dev.qubit(i) for i in range(n)]
    a = [_on({i: qutip.destroy(LEVELS)}, n) for i in range(n)]
    num = [op.dag() * op for op in a]
    h0 = 0 * a[0]
    for op, q in zip(a, qubits, strict=True):
        h0 += 2 * math.pi * q.anharmonicity * DT / 2 * op.dag() * op.dag() * op * op
    ops: dict[str, tuple[Any, float, float]] = {}
    for i, q in enumerate(qubits):
        ops[f"d{i}"] = (a[i], 2 * math.pi * q.drive.rabi_rate * DT, q.frequency)
    for c in dev.couplings:
        h0 += 2 * math.pi * c.zz * DT * num[c.qubits[0]] * num[c.qubits[1]]
        x, y = c.qubits if c.transition == "11-20" else c.qubits[::-1]  # x is excited twice
        ket = qutip.basis
        flip = _on({x: ket(LEVELS, 1) * ket(LEVELS, 2).dag(), y: ket(LEVELS, 1) * ket(LEVELS, 0).dag()}, n)
        reference = dev.qubit(x).frequency - dev.qubit(y).frequency
        ops[c.channel] = (math.sqrt(2) * flip, 2 * math.pi * c.rate * DT, reference)
    terms: list[Any] = [h0]
    for channel, (op, scale, reference) in ops.items():
        plays = schedule.plays_on(channel)
        if not plays:
            continue
        envelope = _envelope(plays, reference)
        terms.append([scale / 2 * op, envelope])
        terms.append([scale / 2 * op.dag(), _conjugate(envelope)])
    c_ops = []
    if noise:
        for op, q in zip(a, qubits, strict=True):
            t1, t2 = q.t1 / DT, q.t2 / DT
            c_ops.append(op / math.sqrt(t1))
            c_ops.append(math.sqrt(2 * (1 / t2 - 0.5 / t1)) * op.dag() * op)
    psi0 = qutip.tensor([qutip.basis(LEVELS, 0)] * n)  # without c_ops, mesolve evolves the ket (sesolve)
    result = qutip.mesolve(qutip.QobjEvo(terms), psi0 if not noise else qutip.ket2dm(psi0),
                           [0.0, float(schedule.duration)], c_ops,
                           options={"atol": 1e-10, "rtol": 1e-8, "max_step": 0.05, "nsteps": 10**7})
    final = result.states[-1]
    return (final.proj() if final.isket else final).full()


# --------------------------------------------------------------------------------------------------
# schedules


def _builder(dev: Device, **frequencies: float) -> ScheduleBuilder:
    freqs = dev.frame_frequencies()
    freqs.update(frequencies)
    return ScheduleBuilder("three", dev.dt, freqs, 0)


def _hann(amp: complex, duration: int) -> np.ndarray:
    t = np.arange(duration)
    return amp * np.sin(np.pi * (t + 0.5) / duration) ** 2


def cz_on_reversed_pair(dev: Device) -> Schedule:
    """Superpositions on all three qubits, the calibrated CZ on u1 = (2, 1) while qubit 0 is in a
    superposition and driven (detuned), then pulses that turn the CZ's phases into populations."""
    b = _builder(dev, d0=dev.qubit(0).frequency + 2e6)
    b.play(0, "d0", _hann(0.45, 48), "y0")
    b.play(0, "d1", _hann(0.5, 48), "x1")
    b.play(0, "d2", _hann(0.35j, 48), "y2")
    b.play(48, "u1", calibrated(dev.couplings[1].cz), "cz")
    b.play(100, "d0", _hann(0.3, 40), "x0")  # on the spectator, during the coupler pulse
    b.play(248, "d2", _hann(0.5, 48), "x2")
    b.play(248, "d1", _hann(0.25, 48), "x1b")
    return b.build()


def both_couplers(dev: Device) -> Schedule:
    """Partial swaps on u0 = (0, 1) and on u1 = (2, 1) (off resonance on u1) with all qubits excited."""
    trans = dev.transition_frequency(dev.couplings[1])
    b = _builder(dev, u1=trans + 1.5e6)
    b.play(0, "d0", _hann(0.6, 48), "x0")
    b.play(0, "d1", _hann(0.9, 48), "x1")
    b.play(0, "d2", _hann(0.7, 48), "x2")
    b.frame(48, "u0", "shiftp", 0.6)
    b.play(48, "u0", 0.6 * np.ones(60, dtype=complex), "swap0")
    b.play(108, "u1", 0.8 * np.exp(0.4j) * np.ones(70, dtype=complex), "swap1")
    b.play(178, "d1", _hann(0.4, 48), "x1b")
    b.play(178, "d0", _hann(0.3j, 48), "y0")
    return b.build()


SCHEDULES = {"cz_on_reversed_pair": cz_on_reversed_pair, "both_couplers": both_couplers}
_REFERENCES: dict[tuple[str, bool], np.ndarray] = {}


def reference(dev: Device, name: str, noise: bool) -> np.ndarray:
    """``mesolve_reference`` of a named schedule, computed once per test session (it takes seconds)."""
    key = (name, noise)
    if key not in _REFERENCES:
        _REFERENCES[key] = mesolve_reference(dev, SCHEDULES[name](dev), noise)
    return _REFERENCES[key]


@pytest.mark.slow
@pytest.mark.parametrize("noise", [False, True], ids=["noiseless", "T1-T2"])
@pytest.mark.parametrize("name", SCHEDULES)
def test_three_qubit_model_matches_qutip_mesolve(chain: Device, lossy_chain: Device, name: str, noise: bool) -> None:
    dev = lossy_chain if noise else chain
    schedule = SCHEDULES[name](dev)
    ((qubits, rho),) = final_states(dev, [schedule], noise=noise)
    reference_ = reference(dev, name, noise)
    assert qubits == (0, 1, 2)
    populations, expected = np.real(np.diag(rho)), np.real(np.diag(reference_))
    # the schedules move population around: a check against a state that stays put would mean nothing
    assert np.sort(expected)[-4] > 0.03
    np.testing.assert_allclose(populations, expected, atol=1e-3)
    assert np.max(np.abs(rho - reference_)) < 1e-3
    assert np.trace(rho).real == pytest.approx(1.0, abs=1e-10)


def _measured_at_the_end(schedule: Schedule) -> Schedule:
    """The schedule with all three qubits acquired when it ends (slot i holds qubit i)."""
    acquires = tuple(Acquire(schedule.duration, 100, q, q) for q in range(3))
    return dataclasses.replace(schedule, acquires=acquires, memory_slots=3)


def _execute(dev: Device, schedules: list[Schedule], **options: Any) -> ExecutionData:
    resolved = resolve_options(COMMON_OPTIONS + QutipExecutor.options, [("test", {"seed": 5, "shots": 100, **options})])
    with QutipExecutor(dev) as ex:
        ex.check(schedules, resolved)
        return ex.run(schedules, resolved)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ode", "trajectories"])
@pytest.mark.parametrize("name", SCHEDULES)
def test_scalable_methods_match_qutip_mesolve_with_decoherence(lossy_chain: Device, name: str, method: str) -> None:
    """The density-matrix ODE to ~1e-6; the trajectories within five of the standard errors they report
    (T1 = 3 us: almost every trajectory jumps, the hardest case for them)."""
    schedule = _measured_at_the_end(SCHEDULES[name](lossy_chain))
    data = _execute(lossy_chain, [schedule], method=method, trajectories=3000)
    assert data.info["methods"] == [method]
    joint = np.real(np.diag(reference(lossy_chain, name, True))).reshape(LEVELS, LEVELS, LEVELS)
    expected = np.stack([joint.sum(axis=(1, 2)), joint.sum(axis=(0, 2)), joint.sum(axis=(0, 1))])
    populations = data.extras["populations"][1][0]  # (slot = qubit, level)
    assert np.max(expected[:, 1:]) > 0.2  # population moved: the comparison means something
    if method == "ode":
        np.testing.assert_allclose(populations, expected, atol=1e-4)
    else:
        error = data.info["trajectory_error"]
        assert 0 < error < 0.01 and data.info["jumps"] > 300  # T1 = 3 us: hundreds of jumps
        assert np.max(np.abs(populations - expected)) < 5 * error


def test_coupler_acts_whatever_the_spectator_state(chain: Device) -> None:
    """The CZ on (2, 1) gives |x11> the same conditional phase for both states x of qubit 0."""
    b = _builder(chain)
    b.play(0, "d0", np.zeros(8, dtype=complex), "idle")  # qubit 0 simulated, not driven
    b.play(8, "u1", calibrated(chain.couplings[1].cz), "cz")
    qubits, u = schedule_unitary(chain, b.build())
    assert qubits == (0, 1, 2)

    def index(*digits: int) -> int:
        return digits[0] * 9 + digits[1] * 3 + digits[2]

    for x in (0, 1):
        # the conditional phase: |x11> against |x01>, |x10>, |x00> (single-qubit and ZZ phases cancel)
        phase = (u[index(x, 1, 1), index(x, 1, 1)] * u[index(x, 0, 0), index(x, 0, 0)]
                 / (u[index(x, 0, 1), index(x, 0, 1)] * u[index(x, 1, 0), index(x, 1, 0)]))
        assert abs(u[index(x, 1, 1), index(x, 1, 1)]) ** 2 > 0.999, x
        assert abs(np.angle(phase)) > math.pi - 0.1, (x, np.angle(phase))


# --------------------------------------------------------------------------------------------------
# GHZ-3 on the chain, the circuit of the bug report


GHZ_QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[3];
h q[0];
cx q[0],q[1];
cx q[1],q[2];
measure q -> c;
"""


def ghz_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.measure([0, 1, 2], [0, 1, 2])
    return qc


def test_ghz3_is_all_zeros_or_all_ones(chain: Device) -> None:
    schedule = circuit_to_schedule(CircuitProgram("ghz", ghz_circuit()), chain)
    assert {p.channel for p in schedule.plays if p.name == "cz"} == {"u0", "u1"}
    ((qubits, rho),) = final_states(chain, [schedule], noise=False)
    assert qubits == (0, 1, 2)
    joint = np.real(np.diag(rho)).reshape(LEVELS, LEVELS, LEVELS)  # exact P(q0, q1, q2)
    assert joint[0, 0, 0] + joint[1, 1, 1] > 0.99
    assert joint[0, 0, 0] == pytest.approx(0.5, abs=0.02) and joint[1, 1, 1] == pytest.approx(0.5, abs=0.02)


def test_ghz3_counts(chain: Device) -> None:
    shots = 2000
    result = workbench.run(GHZ_QASM, device=chain, shots=shots, seed=1, options={"noise": False})
    counts = result.counts(0)
    correlated = (counts.get("000", 0) + counts.get("111", 0)) / shots
    assert correlated > 0.9, counts
    assert 0.4 < counts.get("111", 0) / shots < 0.6, counts
