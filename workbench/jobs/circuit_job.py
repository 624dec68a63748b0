"""An OpenQASM circuit as a :class:`~workbench.jobs.base.Job`: parsed once, on load.

Parsing at load time (not at run time) is what lets a bad circuit fail before a device is chosen,
with the file name and line in the message, exactly like a bad PulseQobj. The circuit is kept as
Qiskit parsed it: gate-level executors receive it unchanged, and pulse devices compile it with their
own calibrations (:mod:`workbench.circuits.to_pulses`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.circuits.program import CircuitProgram
from workbench.circuits.qasm import parse_qasm
from workbench.jobs.base import Job

if TYPE_CHECKING:
    from workbench.devices.model import Device
    from workbench.schedule.ir import Schedule


class CircuitJob(Job):
    """One OpenQASM 2 or 3 circuit, one experiment. Build it with :func:`workbench.jobs.loader.load_job`."""

    kind: ClassVar[str] = "circuit"
    source_filename: ClassVar[str] = "circuit.qasm"

    def __init__(self, text: str, origin: str | None = None, name: str | None = None, *,
                 include_dir: Path | None = None):
        parsed = parse_qasm(text, origin, include_dir=include_dir)
        stem = Path(origin).stem if origin else ""
        super().__init__(text, None, name or stem or "circuit")
        self.origin = origin
        self.circuit: Any = parsed.circuit  # qiskit.QuantumCircuit
        self.qasm_version = parsed.version
        self.warnings: list[str] = []

    @property
    def experiment_names(self) -> list[str]:
        return [self.name]

    def option_defaults(self) -> dict[str, Any]:
        """OpenQASM carries no execution options (shots live in the options, not the circuit)."""
        return {}

    def circuits(self) -> list[CircuitProgram]:
        return [CircuitProgram(self.name, self.circuit)]

    def schedules(self, device: Device) -> list[Schedule]:
        """The circuit compiled to pulses with this device's calibrations, for pulse-level executors."""
        from workbench.circuits.to_pulses import circuit_to_schedule

        return [circuit_to_schedule(program, device) for program in self.circuits()]

    def __repr__(self) -> str:
        return f"<CircuitJob {self.name!r} OpenQASM {self.qasm_version}, {self.circuit.num_qubits} qubits>"
