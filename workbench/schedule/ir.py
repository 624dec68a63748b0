"""The schedule IR: the one representation every executor consumes and every view draws.

A :class:`Schedule` is one experiment: timed plays of sampled waveforms per channel, the frame
changes that produced each play's carrier, delays and acquisitions into memory slots. Times and
durations are integers in units of the device's ``dt``; frequencies are in Hz and phases in rad.

Frame semantics follow OpenPulse (and qiskit-dynamics): a channel's carrier is
``exp(i (2 pi f t + phi))`` with ``t`` measured from the start of the schedule. ``shiftp``/``setp``
change ``phi``; ``setf``/``shiftf`` change ``f`` while keeping the carrier phase continuous at the
moment of the change, as a numerically controlled oscillator does. Each :class:`Play` therefore carries
its frequency and its ``carrier_phase`` (the constant that makes the carrier continuous), so an
executor needs no frame bookkeeping of its own.

Every instruction also says where it came from, for views and messages: ``source`` is its index in
what it was translated from (the PulseQobj instruction, the compiled circuit's instruction; -1 when
unknown) and ``origin`` an :class:`Origin` shared by all instructions of one gate. Both are excluded
from equality, so a schedule and its PulseQobj export compare equal although the export forgets them.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

FrameKind = Literal["setf", "shiftf", "setp", "shiftp"]

_CHANNEL = re.compile(r"^([dmua])(\d+)$")
_KIND_ORDER = {"d": 0, "u": 1, "m": 2, "a": 3}


# Not pickled (rebuilt where needed): caches, views' indexes and the builder's log.
_CACHED = frozenset({"duration", "channels", "qubits", "_event_table", "_lane_index", "build_log"})


def parse_channel(name: str) -> tuple[str, int]:
    """``"d0"`` -> ``("d", 0)``; raises ``ValueError`` for anything that is not an OpenPulse channel."""
    match = _CHANNEL.match(name)
    if not match:
        raise ValueError(f"'{name}' is not a channel (expected d<i>, m<i>, u<i> or a<i>)")
    return match.group(1), int(match.group(2))


def channel_sort_key(name: str) -> tuple[int, int, str]:
    """Order channels by index, then drive, control, measure, acquire: the order views draw lanes in."""
    try:
        kind, index = parse_channel(name)
    except ValueError:
        return (1 << 30, 0, name)
    return (index, _KIND_ORDER[kind], name)


@dataclass(frozen=True, slots=True)
class Origin:
    """The gate an instruction implements: one object per distinct gate, shared (interned) by every
    instruction it produced, so provenance costs a pointer per instruction.

    ``label`` is what a figure writes on the instruction (``sx q0``, ``cz q0,q1``, ``rz(π/2) q1``),
    ``gate`` and ``qubits`` the compiled circuit's gate, ``calibration`` the device calibration played
    (``x``, ``sx``, ``cz``, ``measure``; None for a virtual gate such as ``rz``).
    """

    label: str
    gate: str | None = None
    qubits: tuple[int, ...] = ()
    calibration: str | None = None


@dataclass(frozen=True, slots=True)
class Play:
    """A sampled waveform on a channel, with the frame it is played in."""

    t0: int
    channel: str
    samples: np.ndarray  # complex128, one value per dt
    name: str
    frequency: float  # Hz, frame frequency during the play
    phase: float  # rad, the frame phase set by setp/shiftp (what a user reasons about)
    carrier_phase: float  # rad, phase of exp(i(2 pi f t + carrier_phase)); includes continuity offsets
    shape: str | None = None  # parametric shape, None for a pulse-library waveform
    parameters: Mapping[str, Any] = field(default_factory=dict)
    origin: Origin | None = field(default=None, compare=False)
    source: int = field(default=-1, compare=False)

    @property
    def duration(self) -> int:
        return int(self.samples.shape[0])

    @property
    def t1(self) -> int:
        return self.t0 + self.duration


@dataclass(frozen=True, slots=True)
class FrameChange:
    """A change of a channel's frame; ``frequency``/``phase`` are the frame *after* the change."""

    t0: int
    channel: str
    kind: FrameKind
    value: float  # Hz for setf/shiftf, rad for setp/shiftp
    frequency: float
    phase: float
    origin: Origin | None = field(default=None, compare=False)
    source: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class Delay:
    t0: int
    channel: str
    duration: int
    origin: Origin | None = field(default=None, compare=False)
    source: int = field(default=-1, compare=False)

    @property
    def t1(self) -> int:
        return self.t0 + self.duration


@dataclass(frozen=True, slots=True)
class Acquire:
    """Acquisition of one qubit's readout into a memory slot (and optionally a register slot)."""

    t0: int
    duration: int
    qubit: int
    memory_slot: int
    register_slot: int | None = None
    origin: Origin | None = field(default=None, compare=False)
    source: int = field(default=-1, compare=False)

    @property
    def channel(self) -> str:
        return f"a{self.qubit}"

    @property
    def t1(self) -> int:
        return self.t0 + self.duration


@dataclass(eq=False)
class BuildLog:
    """Per instruction, in the order the builder applied them, what views index: start and end, kind
    (0-3: play, frame change, delay, acquire), codes into ``channels``/``origins``/``waves`` (-1: none),
    the frame after, and the name (play name, frame-change kind, ``delay``, ``acquire``).

    Numbers go into ``array.array`` buffers, which numpy reads without copying, so indexing a schedule
    of a million instructions costs no conversion. ``lists`` are the four tuples the log describes: a
    schedule whose instructions were replaced afterwards is recognised and indexed from its objects.
    """

    t0: array = field(default_factory=lambda: array("q"))
    end: array = field(default_factory=lambda: array("q"))
    kind: array = field(default_factory=lambda: array("b"))
    channel: array = field(default_factory=lambda: array("i"))
    origin: array = field(default_factory=lambda: array("i"))
    wave: array = field(default_factory=lambda: array("i"))
    frequency: array = field(default_factory=lambda: array("d"))
    phase: array = field(default_factory=lambda: array("d"))
    name: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)
    waves: list[np.ndarray] = field(default_factory=list)
    lists: tuple[tuple[Any, ...], ...] = ()

    def describes(self, schedule: Schedule) -> bool:
        return len(self.lists) == 4 and all(a is b for a, b in zip(self.lists, (
            schedule.plays, schedule.frame_changes, schedule.delays, schedule.acquires), strict=True))


@dataclass(frozen=True)
class Schedule:
    """One experiment in the IR. Build it with :class:`workbench.schedule.builder.ScheduleBuilder`."""

    name: str
    dt: float  # seconds per sample
    plays: tuple[Play, ...]
    frame_changes: tuple[FrameChange, ...]
    delays: tuple[Delay, ...]
    acquires: tuple[Acquire, ...]
    initial_frames: Mapping[str, tuple[float, float]]  # channel -> (frequency Hz, phase rad) at t=0
    memory_slots: int
    metadata: Mapping[str, Any] = field(default_factory=dict)
    # Classical registers over the memory slots, in declaration order, as Qiskit writes them into an
    # experiment header: count keys are split per register ("1 01"), the last register leftmost.
    creg_sizes: tuple[tuple[str, int], ...] = ()
    # What the builder recorded for views (workbench.schedule.table); not part of the schedule's value.
    build_log: BuildLog | None = field(default=None, compare=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        # Caches and the build log are rebuilt where they are needed (views), not shipped with the
        # schedule to Dask workers or into pickled results.
        return {k: v for k, v in self.__dict__.items() if k not in _CACHED}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__["build_log"] = None

    # Cached: a schedule is immutable, and executors and views ask for these per instruction.
    def _log(self) -> BuildLog | None:
        log = self.build_log
        return log if log is not None and log.describes(self) else None

    @cached_property
    def duration(self) -> int:
        """Samples from 0 to the end of the last instruction."""
        log = self._log()
        if log is not None:
            return int(np.frombuffer(log.end, dtype=np.int64).max()) if len(log.end) else 0
        ends = [p.t1 for p in self.plays] + [d.t1 for d in self.delays] + [a.t1 for a in self.acquires]
        ends += [f.t0 for f in self.frame_changes]
        return max(ends, default=0)

    @cached_property
    def channels(self) -> list[str]:
        """Every channel the schedule touches, in lane order."""
        log = self._log()
        if log is not None:
            return sorted(log.channels, key=channel_sort_key)
        names: set[str] = {p.channel for p in self.plays}
        names |= {f.channel for f in self.frame_changes}
        names |= {d.channel for d in self.delays}
        names |= {a.channel for a in self.acquires}
        return sorted(names, key=channel_sort_key)

    @cached_property
    def qubits(self) -> list[int]:
        """Qubits addressed through drive, measure and acquire channels (control channels excluded)."""
        found = {a.qubit for a in self.acquires}
        for name in self.channels:
            kind, index = parse_channel(name)
            if kind in "dma":
                found.add(index)
        return sorted(found)

    def plays_on(self, channel: str) -> list[Play]:
        return [p for p in self.plays if p.channel == channel]

    def instruction_count(self) -> int:
        return len(self.plays) + len(self.frame_changes) + len(self.delays) + len(self.acquires)

    def channel_samples(self, channel: str, length: int | None = None) -> np.ndarray:
        """Envelope of a channel on the dt grid, carrier not applied (zeros where nothing plays)."""
        out = np.zeros(length if length is not None else self.duration, dtype=complex)
        for play in self.plays_on(channel):
            out[play.t0 : play.t1] = play.samples
        return out
