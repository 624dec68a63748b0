"""A circuit as gate-level executors receive it: already parsed, never a file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


def split_registers(key: str, creg_sizes: Sequence[tuple[str, int]]) -> str:
    """``"101"`` with registers ``[("c", 2), ("d", 1)]`` -> ``"1 01"`` (Qiskit's count keys: registers
    separated by a space, the last-declared register leftmost)."""
    if len(creg_sizes) < 2 or sum(size for _, size in creg_sizes) != len(key):
        return key
    parts, end = [], len(key)
    for _, size in creg_sizes:
        parts.append(key[end - size : end])
        end -= size
    return " ".join(reversed(parts))


@dataclass(frozen=True)
class CircuitProgram:
    """One experiment of a circuit job for an executor that consumes circuits (``consumes = "circuit"``).

    ``circuit`` is a ``qiskit.QuantumCircuit`` (typed loosely so that this module imports no Qiskit).
    Memory slots are the circuit's classical bits in Qiskit's order, so counts come back in Qiskit's
    convention through the same core code as pulse results.
    """

    name: str
    circuit: Any
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def memory_slots(self) -> int:
        return int(self.circuit.num_clbits)

    @cached_property
    def creg_sizes(self) -> tuple[tuple[str, int], ...]:
        return tuple((reg.name, int(reg.size)) for reg in self.circuit.cregs)

    @cached_property
    def qubits(self) -> list[int]:
        return list(range(int(self.circuit.num_qubits)))

    def instruction_count(self) -> int:
        return len(self.circuit.data)
