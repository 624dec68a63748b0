"""Circuits -> pulse schedules with a device's own calibrations.

A pulse device only knows pulses, so a circuit runs on it the way it runs on IBM-style hardware:
Qiskit transpiles it to the device's native gates (``rz``, ``sx``, ``x``, ``cz``, plus ``measure``,
``delay`` and ``barrier``) on the device's coupling map, and each native gate becomes the device's
calibrated pulse. ``rz`` costs nothing: it is a frame change of ``-theta`` on the qubit's drive
channel (Qiskit's convention, which the simulator follows), so every later pulse on that qubit is
played about a rotated axis.

Timing is "as soon as possible" per qubit: a gate starts when all its qubits are free, a ``barrier``
aligns the qubits it names, and a ``measure`` starts right after its qubit's last gate. Circuits that
end with ``measure_all`` (which puts a barrier before the measurements) are therefore measured all
at once; without a barrier each qubit is read out as soon as it is done, which keeps a finished qubit
from relaxing while the others still run.

What cannot be expressed as one open-loop pulse schedule is rejected before Qiskit sees the circuit,
with the offending instruction named: classical control flow, ``reset``, gates after a measurement
of the same qubit, and anything that is not a gate, a measurement, a delay or a barrier.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.errors import JobError, UnsupportedError
from workbench.pulses.shapes import calibrated
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.ir import Origin

if TYPE_CHECKING:
    from workbench.circuits.program import CircuitProgram
    from workbench.devices.model import Coupling, Device, PulseCalibration
    from workbench.schedule.ir import Schedule

#: The gates a pulse device implements with calibrated pulses (plus measure, delay, barrier).
NATIVE_GATES = ("rz", "sx", "x", "cz")
#: Fixed so that the same circuit compiles to the same schedule, run after run and machine to machine.
SEED_TRANSPILER = 1234
OPTIMIZATION_LEVEL = 1

_SI_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "ps": 1e-12}
_MAX_MESSAGE = 300


@dataclass(frozen=True, slots=True)
class _Pulse:
    """A calibrated pulse, sampled once: circuits repeat the same few pulses hundreds of times."""

    samples: np.ndarray
    shape: str
    parameters: dict[str, Any]

    @property
    def duration(self) -> int:
        return int(self.samples.shape[0])


@lru_cache(maxsize=256)
def _pulse(cal: PulseCalibration) -> _Pulse:
    # Calibrations are frozen (hashable) models, so a sweep of circuits samples each pulse once.
    samples = calibrated(cal)
    samples.setflags(write=False)
    return _Pulse(samples, cal.shape, cal.parameters())


def circuit_to_schedule(program: CircuitProgram, device: Device) -> Schedule:
    """The circuit of ``program`` as one schedule on ``device``, with the device's calibrated pulses.

    Raises :class:`~workbench.errors.UnsupportedError` (located at the instruction) for circuits a
    pulse schedule cannot express or a device cannot play.
    """
    if not device.is_pulse_device:
        raise UnsupportedError(f"device '{device.name}' is a gate-level device: it has no pulses to compile to")
    circuit = program.circuit
    positions = sorted(q.index for q in device.qubits)  # transpiler qubit p is device qubit positions[p]
    _check_circuit(circuit, device, len(positions))
    compiled = _transpile(circuit, device, positions)
    return _Expander(program, compiled, device, positions).build()


# ------------------------------------------------------------------------------------------ checks


def _bit_name(circuit: Any, bit: Any) -> str:
    """``q[1]`` for a bit in a register, else its index (loose bits have no name)."""
    located = circuit.find_bit(bit)
    if located.registers:
        register, index = located.registers[0]
        return f"{register.name}[{index}]"
    return f"bit {located.index}"


def describe(circuit: Any, index: int) -> str:
    """``instruction 7 (cx q[0], q[1])``: what a user can find in their circuit."""
    item = circuit.data[index]
    operands = ", ".join(_bit_name(circuit, q) for q in item.qubits)
    if item.clbits:
        operands += " -> " + ", ".join(_bit_name(circuit, c) for c in item.clbits)
    return f"instruction {index} ({item.operation.name} {operands})".replace(" )", ")")


def _has_cz(device: Device) -> bool:
    return any(c.cz is not None for c in device.couplings)


def _check_circuit(circuit: Any, device: Device, n_device: int) -> None:
    """Reject, with the instruction named, what a pulse schedule without feedback cannot do."""
    from qiskit.circuit import Barrier, ControlFlowOp, Delay, Gate, Measure, QuantumCircuit

    if not isinstance(circuit, QuantumCircuit):
        raise JobError(f"expected a qiskit QuantumCircuit, got {type(circuit).__name__}")
    if circuit.num_qubits > n_device:
        raise UnsupportedError(f"the circuit has {circuit.num_qubits} qubits; device '{device.name}' has "
                               f"{n_device}", "circuit")
    if circuit.parameters:
        names = ", ".join(sorted(p.name for p in circuit.parameters)[:5])
        raise UnsupportedError(f"the circuit has unbound parameters ({names}); bind them before running", "circuit")
    if circuit.num_vars:
        raise UnsupportedError("classical variables need real-time classical processing, which a pulse "
                               "schedule (PulseQobj) cannot express", "circuit")
    measured: dict[Any, int] = {}  # qubit -> index of its measurement
    writer: dict[Any, tuple[Any, int]] = {}  # clbit -> (qubit, index) of the measurement writing it
    for i, item in enumerate(circuit.data):
        op = item.operation
        if isinstance(op, ControlFlowOp):
            raise UnsupportedError(f"classically controlled operations ({op.name}) need feedback during the "
                                   "shot, which a pulse schedule (PulseQobj) cannot express", describe(circuit, i))
        if op.name == "reset":
            raise UnsupportedError("reset needs a measurement and a conditional pulse during the shot, which "
                                   "a pulse schedule cannot express; every shot already starts in |0>",
                                   describe(circuit, i))
        if isinstance(op, Barrier):
            continue
        if isinstance(op, Delay):
            if op.unit == "expr":
                raise UnsupportedError("delays with a stretch duration are not supported; give a fixed "
                                       "duration", describe(circuit, i))
            continue
        if isinstance(op, Measure):
            qubit, clbit = item.qubits[0], item.clbits[0]
            previous = writer.get(clbit)
            if previous is not None and previous[0] != qubit:
                raise UnsupportedError(
                    f"{_bit_name(circuit, clbit)} already receives {_bit_name(circuit, previous[0])} "
                    f"(instruction {previous[1]}); one memory slot holds one qubit's result", describe(circuit, i))
            writer[clbit] = (qubit, i)
            measured.setdefault(qubit, i)
            continue
        if not isinstance(op, Gate):
            raise UnsupportedError(f"'{op.name}' is not a gate, a measurement, a delay or a barrier; a pulse "
                                   "device cannot run it", describe(circuit, i))
        for qubit in item.qubits:
            if qubit in measured:
                raise UnsupportedError(
                    f"{_bit_name(circuit, qubit)} was measured by instruction {measured[qubit]}; gates after a "
                    "measurement of the same qubit (mid-circuit measurement) are not supported: measure at "
                    "the end", describe(circuit, i))
        if len(item.qubits) >= 2 and not _has_cz(device):
            raise UnsupportedError(f"a {len(item.qubits)}-qubit gate needs a CZ, and device '{device.name}' has "
                                   "no coupling with a calibrated cz pulse", describe(circuit, i))


# ------------------------------------------------------------------------------------------ transpile


def _target(device: Device, positions: list[int]) -> Any:
    """The device as a Qiskit target: native gates everywhere, CZ on the couplings with a calibrated cz.

    Couplings without a cz calibration are left out, so that routing never relies on a gate the
    device cannot play. Target qubit ``p`` is device qubit ``positions[p]``.
    """
    from qiskit.circuit import Delay, Measure, Parameter
    from qiskit.circuit.library import CZGate, RZGate, SXGate, XGate
    from qiskit.transpiler import Target

    n = len(positions)
    index = {q: p for p, q in enumerate(positions)}
    everywhere = {(p,): None for p in range(n)}
    target = Target(num_qubits=n, dt=device.dt)
    target.add_instruction(RZGate(Parameter("theta")), dict(everywhere))
    target.add_instruction(SXGate(), dict(everywhere))
    target.add_instruction(XGate(), dict(everywhere))
    pairs: set[tuple[int, int]] = set()
    for c in device.couplings:
        if c.cz is not None:
            a, b = index[c.qubits[0]], index[c.qubits[1]]
            pairs |= {(a, b), (b, a)}
    if pairs:
        target.add_instruction(CZGate(), {pair: None for pair in sorted(pairs)})
    target.add_instruction(Measure(), dict(everywhere))
    target.add_instruction(Delay(Parameter("t")), dict(everywhere))
    return target


def _transpile(circuit: Any, device: Device, positions: list[int]) -> Any:
    from qiskit import transpile
    from qiskit.exceptions import QiskitError

    try:
        with warnings.catch_warnings():
            # delays are rounded to whole samples of dt on purpose (documented); not a warning per delay
            warnings.filterwarnings("ignore", message="Duration is rounded")
            return transpile(circuit, target=_target(device, positions), seed_transpiler=SEED_TRANSPILER,
                             optimization_level=OPTIMIZATION_LEVEL)
    except QiskitError as exc:
        message = " ".join(str(exc).split())
        if len(message) > _MAX_MESSAGE:
            message = message[: _MAX_MESSAGE - 3] + "..."
        raise UnsupportedError(f"Qiskit cannot compile the circuit to the native gates of device "
                               f"'{device.name}' ({', '.join(NATIVE_GATES)}): {message}", "circuit") from None


# ------------------------------------------------------------------------------------------ expansion


class _Expander:
    """Walks the transpiled circuit once, keeping each device qubit's next free time (ASAP)."""

    def __init__(self, program: CircuitProgram, compiled: Any, device: Device, positions: list[int]):
        self.program = program
        self.compiled = compiled
        self.device = device
        self.positions = positions
        self.free = dict.fromkeys(positions, 0)  # device qubit -> first sample at which it is free
        self.measured: dict[int, int] = {}  # device qubit -> compiled instruction index of its measurement
        self.origins: dict[tuple[Any, ...], Origin] = {}  # interned: one object per distinct gate
        self.couplings: dict[frozenset[int], Coupling] = {}
        for c in device.couplings:
            if c.cz is not None:
                self.couplings.setdefault(frozenset(c.qubits), c)
        self.builder = ScheduleBuilder(
            name=program.name,
            dt=float(device.dt or 0.0),
            frequencies=device.frame_frequencies(),
            memory_slots=program.memory_slots,
            metadata=self._metadata(),
            creg_sizes=program.creg_sizes,
        )

    def _metadata(self) -> dict[str, Any]:
        """Layout and gate counts: what a user needs to relate the schedule back to the circuit."""
        compiled, circuit = self.compiled, self.program.circuit
        layout = compiled.layout
        if layout is not None:
            initial = layout.initial_index_layout(filter_ancillas=True)[: circuit.num_qubits]
            final = layout.final_index_layout(filter_ancillas=True)[: circuit.num_qubits]
        else:
            initial = final = list(range(circuit.num_qubits))
        meta: dict[str, Any] = dict(self.program.metadata)
        meta.update({
            "name": self.program.name,
            "layout": [self.positions[p] for p in initial],
            "gate_counts": {str(k): int(v) for k, v in sorted(compiled.count_ops().items())},
            "circuit_gate_counts": {str(k): int(v) for k, v in sorted(circuit.count_ops().items())},
            "transpiler": {"optimization_level": OPTIMIZATION_LEVEL, "seed_transpiler": SEED_TRANSPILER,
                           "native_gates": list(NATIVE_GATES)},
        })
        if list(final) != list(initial):
            meta["final_layout"] = [self.positions[p] for p in final]
        return meta

    def _origin(self, name: str, qubits: list[int], calibration: str | None, angle: float | None = None) -> Origin:
        """``sx q0``, ``cz q0,q1``, ``rz(π/2) q1``: one shared object per distinct gate."""
        key = (name, tuple(qubits), calibration, angle)
        origin = self.origins.get(key)
        if origin is None:
            head = name if angle is None else f"{name}({format_angle(angle)})"
            origin = Origin(f"{head} q{',q'.join(map(str, qubits))}", name, tuple(qubits), calibration)
            self.origins[key] = origin
        return origin

    def _where(self, k: int, name: str, qubits: list[int]) -> str:
        on = ", ".join(str(q) for q in qubits)
        return f"compiled instruction {k} ({name} on device qubit{'s' if len(qubits) > 1 else ''} {on})"

    def build(self) -> Schedule:
        compiled = self.compiled
        for k, item in enumerate(compiled.data):
            op = item.operation
            name = op.name
            qubits = [self.positions[compiled.find_bit(q).index] for q in item.qubits]
            if name == "barrier":
                start = max(self.free[q] for q in qubits)
                for q in qubits:
                    self.free[q] = start
                continue
            if name == "measure":
                self._measure(k, qubits[0], compiled.find_bit(item.clbits[0]).index)
                continue
            if name == "delay":
                self._delay(k, qubits[0], op)
                continue
            for q in qubits:
                if q in self.measured:  # only reachable through routing: the input was checked
                    raise UnsupportedError(
                        f"routing placed a gate on device qubit {q} after its measurement (compiled instruction "
                        f"{self.measured[q]}); measure at the end or use qubits that are coupled directly",
                        self._where(k, name, qubits))
            if name == "rz":
                q = qubits[0]
                angle = float(op.params[0])
                self.builder.frame(self.free[q], f"d{q}", "shiftp", -angle, where=self._where(k, name, qubits),
                                   origin=self._origin("rz", qubits, None, angle), source=k)
            elif name in ("sx", "x"):
                self._drive(k, name, qubits[0])
            elif name == "cz":
                self._cz(k, qubits)
            else:  # the target offers nothing else; a new Qiskit pass adding an operation would land here
                raise UnsupportedError(f"the compiled circuit contains '{name}', which is not a native gate of "
                                       f"device '{self.device.name}'", self._where(k, name, qubits))
        return self.builder.build()

    def _drive(self, k: int, name: str, q: int) -> None:
        drive = self.device.qubit(q).drive
        cal = drive.x if name == "x" else drive.sx
        if cal is None:
            raise UnsupportedError(f"device '{self.device.name}' has no calibrated {name} pulse on qubit {q} "
                                   f"(drive.{name} of qubit {q}); the compiled circuit needs one",
                                   self._where(k, name, [q]))
        pulse = _pulse(cal)
        t0 = self.free[q]
        self.builder.play(t0, f"d{q}", pulse.samples, name, shape=pulse.shape, parameters=pulse.parameters,
                          where=self._where(k, name, [q]), origin=self._origin(name, [q], name), source=k)
        self.free[q] = t0 + pulse.duration

    def _cz(self, k: int, qubits: list[int]) -> None:
        coupling = self.couplings.get(frozenset(qubits))
        if coupling is None or coupling.cz is None:  # the target only offers calibrated pairs
            raise UnsupportedError(f"device '{self.device.name}' has no coupling with a calibrated cz between "
                                   f"qubits {qubits[0]} and {qubits[1]}", self._where(k, "cz", qubits))
        pulse = _pulse(coupling.cz)
        t0 = max(self.free[q] for q in qubits)
        self.builder.play(t0, coupling.channel, pulse.samples, "cz", shape=pulse.shape,
                          parameters=pulse.parameters, where=self._where(k, "cz", qubits),
                          origin=self._origin("cz", qubits, "cz"), source=k)
        for q in qubits:
            self.free[q] = t0 + pulse.duration

    def _delay(self, k: int, q: int, op: Any) -> None:
        n = _delay_samples(op, float(self.device.dt or 0.0), self._where(k, "delay", [q]))
        if n > 0:
            self.builder.delay(self.free[q], f"d{q}", n, where=self._where(k, "delay", [q]),
                               origin=self._origin("delay", [q], None), source=k)
            self.free[q] += n

    def _measure(self, k: int, q: int, slot: int) -> None:
        readout = self.device.qubit(q).readout
        pulse = _pulse(readout.pulse)
        t0 = self.free[q]
        where = self._where(k, "measure", [q])
        origin = self._origin("measure", [q], "measure")
        self.builder.play(t0, f"m{q}", pulse.samples, "measure", shape=pulse.shape, parameters=pulse.parameters,
                          where=where, origin=origin, source=k)
        self.builder.acquire(t0 + readout.acquire_delay, readout.acquire_duration, q, slot, where=where,
                             origin=origin, source=k)
        self.free[q] = t0 + max(pulse.duration, readout.acquire_delay + readout.acquire_duration)
        self.measured.setdefault(q, k)


def format_angle(angle: float) -> str:
    """An angle as people write it in circuits: ``π/2``, ``-3π/4``, ``π``, else ``0.1234``."""
    for denominator in (1, 2, 3, 4, 6, 8):
        numerator = angle * denominator / math.pi
        if abs(numerator - round(numerator)) < 1e-9 and round(numerator) != 0:
            n = round(numerator)
            head = "-" if n < 0 else ""
            n = abs(n)
            text = f"{head}{'' if n == 1 else n}π"
            return text if denominator == 1 else f"{text}/{denominator}"
    return f"{angle:.4g}"


def _delay_samples(op: Any, dt: float, where: str) -> int:
    """A delay in whole samples; the target's ``dt`` makes Qiskit convert most delays already."""
    duration = float(op.duration)
    if op.unit == "dt":
        samples = duration
    elif op.unit in _SI_UNITS:
        samples = duration * _SI_UNITS[op.unit] / dt
    else:
        raise UnsupportedError(f"delay unit '{op.unit}' is not supported (use dt, s, ms, us, ns or ps)", where)
    if not math.isfinite(samples) or samples < 0:
        raise UnsupportedError(f"delay of {op.duration} {op.unit} is not a valid duration", where)
    return round(samples)


__all__ = ["NATIVE_GATES", "OPTIMIZATION_LEVEL", "SEED_TRANSPILER", "circuit_to_schedule", "describe", "format_angle"]
