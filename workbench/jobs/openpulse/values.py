"""The values an OpenPulse program computes with, and the scopes that hold them.

Everything a program computes is known when it is compiled: the workbench has no runtime classical
processing, so a program is *executed* at compile time (loops unrolled, branches decided, waveforms
sampled) and only the measurement results stay unknown. Those are :class:`Capture` tokens: they can
be stored in a register, never computed with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.errors import JobError

# A duration within this fraction of a whole number of samples is that whole number: 1.6us at
# dt = 1 ns is 1599.9999999999998 samples in floating point, and means 1600.
_SNAP = 1e-9


def snap(samples: float) -> float:
    nearest = round(samples)
    return float(nearest) if abs(samples - nearest) <= _SNAP * max(1.0, abs(samples)) else samples


@dataclass(frozen=True, slots=True)
class Duration:
    """A time, in samples of the device's ``dt`` (possibly fractional: a gaussian's ``sigma``)."""

    samples: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", snap(float(self.samples)))

    def whole(self, what: str, where: str | None, *, allow_zero: bool = True) -> int:
        """The duration as a whole number of samples, or a :class:`JobError` saying it is not one."""
        if not math.isfinite(self.samples) or self.samples != round(self.samples):
            raise JobError(f"{what} of {self.samples:.6g} samples is not a whole number of samples of dt "
                           "(the device cannot play it)", where)
        n = round(self.samples)
        if n < 0 or (n == 0 and not allow_zero):
            raise JobError(f"{what} must be {'>= 0' if allow_zero else '> 0'} samples, got {n}", where)
        return n

    def __str__(self) -> str:
        return f"{self.samples:g}dt"


@dataclass(frozen=True, eq=False)
class Waveform:
    """Sampled envelope (complex128, one value per ``dt``) with the parametric shape it came from."""

    samples: np.ndarray
    shape: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    label: str | None = None  # the name plays of it get (a waveform variable's name, or a function's)

    @property
    def duration(self) -> int:
        return int(self.samples.shape[0])


@dataclass(frozen=True, slots=True)
class Port:
    """A device port; ``channel`` is the workbench channel (``d0``, ``m0``, ``a0``, ``u0``)."""

    channel: str


@dataclass(eq=False)
class Frame:
    """A frame: a port, a frequency (Hz), a phase (rad) and a clock (samples from the start).

    ``declared_at_start`` marks frames a program creates at time 0 (in a ``cal`` block): the first
    such frame on a port gives the port's initial frequency in the schedule. The carrier is
    ``exp(i (2 pi f t + phase))`` with ``t`` from the start of the experiment, whenever the frame was made.
    """

    name: str
    channel: str
    frequency: float
    phase: float
    clock: int
    declared_at_start: bool = False
    scale: float = 1.0  # Braket's set_scale: multiplies the waveforms the frame plays
    last_play: int | None = None  # start of the frame's last play


@dataclass(eq=False)
class Capture:
    """The result of one acquisition, known only when the shot runs: it may only be stored."""

    index: int  # position of the acquisition in the timeline
    where: str | None
    slot: int | None = None
    kind: str | None = None  # "bit" or "complex", from the register it was stored in
    register_slot: int | None = None


@dataclass(eq=False)
class Register:
    """A bit or complex register that receives measurement results: memory slots ``first..first+size``."""

    name: str
    size: int
    first: int
    kind: str  # "bit" or "complex"
    scalar: bool  # declared without a size (``bit b;``): indexed by nothing


@dataclass(frozen=True, slots=True)
class QubitRef:
    index: int  # physical qubit


class Scope:
    """Names of one scope; lookups fall back to the enclosing scope."""

    def __init__(self, parent: Scope | None = None, kind: str = "block"):
        self.parent = parent
        self.kind = kind
        self.values: dict[str, Any] = {}
        self.constants: set[str] = set()

    def lookup(self, name: str) -> tuple[Scope, Any] | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                return scope, scope.values[name]
            scope = scope.parent
        return None

    def get(self, name: str, where: str | None) -> Any:
        found = self.lookup(name)
        if found is None:
            raise JobError(f"'{name}' is not defined", where)
        return found[1]

    def declare(self, name: str, value: Any, where: str | None, *, constant: bool = False) -> None:
        if name in self.values and self.kind != "device":
            raise JobError(f"'{name}' is already declared in this scope", where)
        self.values[name] = value
        if constant:
            self.constants.add(name)

    def assign(self, name: str, value: Any, where: str | None) -> None:
        found = self.lookup(name)
        if found is None:
            raise JobError(f"'{name}' is not defined", where)
        scope = found[0]
        if name in scope.constants or scope.kind == "device":
            raise JobError(f"'{name}' is a constant and cannot be assigned", where)
        scope.values[name] = value
