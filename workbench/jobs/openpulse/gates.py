"""Gates without a ``defcal``: the device's own calibrated pulses, as circuits get them.

``x``, ``sx``, ``rz`` and ``cz`` are the device's native gates (:mod:`workbench.circuits.to_pulses`
uses the same calibrations): ``x``/``sx`` play ``drive.x``/``drive.sx`` on the qubit's drive frame,
``rz(theta)`` is ``shift_phase(q<i>_drive, -theta)`` (Qiskit's convention, which the simulator
follows), ``cz`` plays the coupling's ``cz`` pulse on its coupler frame. ``measure`` plays the readout
pulse on ``q<i>_measure`` and captures on ``q<i>_acquire`` after ``acquire_delay``. Any other standard
gate (``h``, ``cx``, ``rx``, ``U``...) is decomposed by Qiskit into those native gates on the same
physical qubits. A gate aligns the frames of its qubits when it starts and when it ends, so gates on
one qubit follow each other as in a circuit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from workbench.errors import JobError, UnsupportedError
from workbench.jobs.openpulse.values import Capture, Frame, Waveform
from workbench.jobs.openpulse.waveforms import frozen
from workbench.pulses.shapes import calibrated

if TYPE_CHECKING:
    from workbench.devices.model import Device, PulseCalibration
    from workbench.jobs.openpulse.timeline import Timeline

NATIVE = ("x", "sx", "rz", "cz")
# OpenQASM 3 names (stdgates.inc and built-ins) that Qiskit spells differently
_QISKIT_NAMES = {"phase": "p", "cphase": "cp", "CX": "cx", "U": "u", "cnot": "cx", "i": "id"}
_SEED = 1234


@lru_cache(maxsize=256)
def _pulse(cal: PulseCalibration, name: str) -> Waveform:
    return Waveform(frozen(calibrated(cal)), cal.shape, cal.parameters(), name)


@lru_cache(maxsize=1024)
def decompose(name: str, params: tuple[float, ...], n_qubits: int) -> tuple[tuple[str, tuple[int, ...], float], ...]:
    """A standard gate as native gates ``(name, qubit positions, rz angle)``; raises ``KeyError`` if unknown."""
    from qiskit import QuantumCircuit, transpile
    from qiskit.circuit.library import get_standard_gate_name_mapping

    template = get_standard_gate_name_mapping().get(_QISKIT_NAMES.get(name, name))
    if template is None or template.name in ("measure", "reset", "delay", "barrier"):
        raise KeyError(name)
    if template.num_qubits != n_qubits:
        raise UnsupportedError(f"gate '{name}' acts on {template.num_qubits} qubit(s), not {n_qubits}")
    if len(template.params) != len(params):
        raise UnsupportedError(f"gate '{name}' takes {len(template.params)} parameter(s), got {len(params)}")
    circuit = QuantumCircuit(n_qubits)
    circuit.append(type(template)(*params) if params else template, list(range(n_qubits)))
    compiled = transpile(circuit, basis_gates=list(NATIVE), optimization_level=1, seed_transpiler=_SEED)
    out = []
    for item in compiled.data:
        qubits = tuple(compiled.find_bit(q).index for q in item.qubits)
        angle = float(item.operation.params[0]) if item.operation.params else 0.0
        out.append((item.operation.name, qubits, angle))
    return tuple(out)


class DeviceGates:
    """Plays the device's calibrations for gates and measurements a program gives no defcal for."""

    def __init__(self, device: Device, timeline: Timeline, frame: Callable[[str], Frame]):
        self.device = device
        self.timeline = timeline
        self.frame = frame  # predefined frame by name (the program may have redeclared it)

    def gate(self, name: str, params: list[Any], qubits: list[int], where: str | None) -> None:
        if name in ("id", "i", "gphase"):
            self.timeline.align(self.timeline.frames_of(qubits))
            return
        if name in NATIVE and (name != "rz" or len(params) == 1):
            self._native(name, params[0] if params else 0.0, qubits, where)
            return
        reals = tuple(self._real(p, name, where) for p in params)
        if len(qubits) > 2:
            raise UnsupportedError(f"gate '{name}' on {len(qubits)} qubits has no defcal; give it one (or a gate "
                                   "definition): gates on more than two qubits are not decomposed", where)
        try:
            natives = decompose(name, reals, len(qubits))
        except KeyError:
            raise JobError(f"gate '{name}' has no defcal for {', '.join(f'${q}' for q in qubits)}, no gate definition "
                           "and is not a standard gate", where) from None
        except UnsupportedError as exc:
            raise UnsupportedError(exc.message, where) from None
        for native, positions, angle in natives:
            self._native(native, angle, [qubits[p] for p in positions], where)

    @staticmethod
    def _real(value: Any, name: str, where: str | None) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise JobError(f"gate '{name}' takes real parameters, got {value!r}", where)
        return float(value)

    def _native(self, name: str, angle: Any, qubits: list[int], where: str | None) -> None:
        tl = self.timeline
        width = 2 if name == "cz" else 1
        if len(qubits) != width:
            raise UnsupportedError(f"gate '{name}' acts on {width} qubit(s), got {len(qubits)}", where)
        frames = tl.frames_of(qubits)
        tl.align(frames)
        try:
            self._play_native(name, angle, qubits, where)
        finally:
            tl.align(frames)  # the gate occupies its qubits until it ends (a cz too, played on the coupler)

    def _play_native(self, name: str, angle: Any, qubits: list[int], where: str | None) -> None:
        tl = self.timeline
        if name == "rz":
            tl.frame_change(self.frame(f"q{qubits[0]}_drive"), "shiftp", -self._real(angle, name, where), where)
        elif name in ("x", "sx"):
            q = self.device.qubit(qubits[0])
            cal = q.drive.x if name == "x" else q.drive.sx
            if cal is None:
                raise UnsupportedError(f"device '{self.device.name}' has no calibrated {name} pulse on qubit "
                                       f"{q.index} (drive.{name}); give the gate a defcal", where)
            tl.play(self.frame(f"q{q.index}_drive"), _pulse(cal, name), name, where)
        else:
            coupling = next((c for c in self.device.couplings
                             if set(c.qubits) == set(qubits) and c.cz is not None), None)
            if coupling is None:
                raise UnsupportedError(f"device '{self.device.name}' has no coupling with a calibrated cz between "
                                       f"qubits {qubits[0]} and {qubits[1]}; give the gate a defcal", where)
            tl.play(self.frame(f"{coupling.channel}_coupler"), _pulse(coupling.cz, "cz"), "cz", where)

    def measure(self, qubit: int, where: str | None) -> Capture:
        """The device's readout: pulse on ``q<i>_measure``, capture on ``q<i>_acquire`` after ``acquire_delay``."""
        tl = self.timeline
        readout = self.device.qubit(qubit).readout
        frames = tl.frames_of([qubit])
        tl.align(frames)
        tl.play(self.frame(f"q{qubit}_measure"), _pulse(readout.pulse, "measure"), "measure", where)
        acquire = self.frame(f"q{qubit}_acquire")
        tl.delay(acquire, readout.acquire_delay, where)
        token = tl.capture(acquire, readout.acquire_duration, where)
        tl.align(frames)
        return token
