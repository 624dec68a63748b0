"""Build :class:`~workbench.schedule.ir.Schedule` objects from timed instructions.

Job translators (PulseQobj, circuits, tune-up routines) add instructions in any order; the builder
sorts them by time (stable, so instructions at the same time keep their order, as in OpenPulse),
tracks every channel's frame and checks that instructions on one channel do not overlap. Each
instruction may carry a ``where`` label (a JSON path, a gate) that error messages point at, and its
provenance for views: ``origin`` (an interned :class:`~workbench.schedule.ir.Origin`, pass the same
object for every instruction of a gate) and ``source`` (its index in the job or compiled circuit).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.errors import JobError
from workbench.schedule.ir import (
    Acquire,
    BuildLog,
    Delay,
    FrameChange,
    FrameKind,
    Origin,
    Play,
    Schedule,
    parse_channel,
)

TWO_PI = 2.0 * math.pi


_SHARED_PARAMETERS = 64  # parameter mappings remembered for sharing (calibrated pulses are few)


def check_samples(samples: np.ndarray, name: str, where: str | None) -> None:
    """What makes complex samples playable: at least one, all finite, amplitude at most 1."""
    if samples.ndim != 1 or samples.size == 0:
        raise JobError("a pulse needs at least one sample", where)
    if not np.all(np.isfinite(samples)):
        raise JobError(f"pulse '{name}' has non-finite samples", where)
    peak = float(np.max(np.abs(samples)))
    if peak > 1.0 + 1e-9:
        raise JobError(f"pulse '{name}' has amplitude {peak:.6g} > 1", where)


@dataclass(slots=True)
class _Event:
    t0: int
    order: int
    kind: str
    channel: str
    where: str | None
    payload: dict[str, Any]
    origin: Origin | None
    source: int


@dataclass(slots=True)
class _Frame:
    frequency: float
    phase: float = 0.0
    offset: float = 0.0  # carrier-phase correction that keeps the carrier continuous over setf/shiftf


@dataclass
class ScheduleBuilder:
    """Collects instructions for one experiment and produces an immutable :class:`Schedule`."""

    name: str
    dt: float
    frequencies: Mapping[str, float]  # initial frame frequency (Hz) per channel that has one
    memory_slots: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    creg_sizes: tuple[tuple[str, int], ...] = ()
    _events: list[_Event] = field(default_factory=list, init=False)
    # Read-only sample arrays already checked, by id (the array is kept so the id stays its own):
    # circuits and trains play the same calibrated pulse thousands of times.
    _checked: dict[int, np.ndarray] = field(default_factory=dict, init=False)
    _channels: set[str] = field(default_factory=set, init=False)
    # The last few parameter mappings seen, by id -> (the mapping, our copy): a pulse played again with
    # the same, unchanged parameters shares one copy (views then describe it once). Small and bounded.
    _params: dict[int, tuple[Mapping[str, Any], dict[str, Any]]] = field(default_factory=dict, init=False)

    def _add(self, t0: int, kind: str, channel: str, where: str | None, origin: Origin | None, source: int,
             **payload: Any) -> None:
        if t0 < 0:
            raise JobError(f"negative start time {t0}", where)
        if channel not in self._channels:
            try:
                parse_channel(channel)
            except ValueError as exc:
                raise JobError(str(exc), where) from None
            self._channels.add(channel)
        self._events.append(_Event(int(t0), len(self._events), kind, channel, where, payload, origin, source))

    def play(
        self,
        t0: int,
        channel: str,
        samples: np.ndarray,
        name: str,
        *,
        shape: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        where: str | None = None,
        origin: Origin | None = None,
        source: int = -1,
    ) -> None:
        samples = np.asarray(samples, dtype=complex)
        if self._checked.get(id(samples)) is not samples:
            check_samples(samples, name, where)
            base = samples.base
            if not samples.flags.writeable and (base is None or not getattr(base, "flags", samples.flags).writeable):
                self._checked[id(samples)] = samples  # nothing can change it any more: never check it again
        self._add(t0, "play", channel, where, origin, source, samples=samples, name=name, shape=shape,
                  parameters=self._copy(parameters))

    def _copy(self, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
        if not parameters:
            return {}
        known = self._params.get(id(parameters))
        if known is not None and known[0] is parameters and known[1] == parameters:
            return known[1]  # the same mapping, unchanged since its last play
        copy = dict(parameters)
        if len(self._params) >= _SHARED_PARAMETERS:
            self._params.clear()
        self._params[id(parameters)] = (parameters, copy)
        return copy

    def frame(self, t0: int, channel: str, kind: FrameKind, value: float, *, where: str | None = None,
              origin: Origin | None = None, source: int = -1) -> None:
        if not math.isfinite(value):
            raise JobError(f"{kind} value must be finite, got {value}", where)
        self._add(t0, "frame", channel, where, origin, source, frame_kind=kind, value=float(value))

    def delay(self, t0: int, channel: str, duration: int, *, where: str | None = None,
              origin: Origin | None = None, source: int = -1) -> None:
        if duration < 0:
            raise JobError(f"negative delay duration {duration}", where)
        self._add(t0, "delay", channel, where, origin, source, duration=int(duration))

    def acquire(
        self,
        t0: int,
        duration: int,
        qubit: int,
        memory_slot: int,
        register_slot: int | None = None,
        *,
        where: str | None = None,
        origin: Origin | None = None,
        source: int = -1,
    ) -> None:
        if duration <= 0:
            raise JobError(f"acquire duration must be positive, got {duration}", where)
        if memory_slot < 0:
            raise JobError(f"negative memory slot {memory_slot}", where)
        self._add(t0, "acquire", f"a{qubit}", where, origin, source, duration=int(duration), qubit=int(qubit),
                  memory_slot=int(memory_slot), register_slot=register_slot)

    def _frame_for(self, frames: dict[str, _Frame], channel: str, where: str | None) -> _Frame:
        if channel not in frames:
            if channel not in self.frequencies:
                raise JobError(f"channel {channel} has no frame frequency on this device", where)
            frames[channel] = _Frame(float(self.frequencies[channel]))
        return frames[channel]

    def build(self) -> Schedule:
        events = sorted(self._events, key=lambda e: (e.t0, e.order))
        frames: dict[str, _Frame] = {}
        busy: dict[str, tuple[int, int, str | None]] = {}  # channel -> (start, end, where) of the last instruction
        plays: list[Play] = []
        changes: list[FrameChange] = []
        delays: list[Delay] = []
        acquires: list[Acquire] = []
        # The rows of the schedule's event table, in the order the instructions apply: views read these
        # instead of walking a million objects again (workbench.schedule.table). Appends to C arrays and
        # dict lookups for the codes: well under a microsecond per instruction.
        log = BuildLog()
        log_t0, log_end, log_kind, log_channel = log.t0.append, log.end.append, log.kind.append, log.channel.append
        log_origin, log_wave, log_frequency, log_phase = (log.origin.append, log.wave.append, log.frequency.append,
                                                          log.phase.append)
        log_name = log.name.append
        channel_codes: dict[str, int] = {}
        origin_codes: dict[int, int] = {id(None): -1}
        wave_codes: dict[int, int] = {}
        nan = math.nan
        for ev in events:
            p = ev.payload
            end = ev.t0 + (p["samples"].size if ev.kind == "play" else p.get("duration", 0))
            previous = busy.get(ev.channel)
            # A frame change listed after a play that starts at the same time is legal OpenPulse (Qiskit's
            # assembler writes it): the play keeps the old frame, later plays get the new one.
            at_start = ev.kind == "frame" and previous is not None and ev.t0 == previous[0]
            if previous is not None and ev.t0 < previous[1] and (end > ev.t0 or ev.kind == "frame") and not at_start:
                raise JobError(
                    f"{ev.kind} on {ev.channel} at t={ev.t0} overlaps the instruction"
                    f"{' at ' + previous[2] if previous[2] else ''} that runs until t={previous[1]}",
                    ev.where,
                )
            if end > ev.t0:
                busy[ev.channel] = (ev.t0, end, ev.where)
            log_t0(ev.t0)
            log_end(end)
            code = channel_codes.get(ev.channel)
            if code is None:
                code = channel_codes[ev.channel] = len(log.channels)
                log.channels.append(ev.channel)
            log_channel(code)
            code = origin_codes.get(id(ev.origin))
            if code is None:
                code = origin_codes[id(ev.origin)] = len(log.origins)
                log.origins.append(ev.origin)  # kept alive by the log: its id stays its own
            log_origin(code)
            if ev.kind == "play":
                fr = self._frame_for(frames, ev.channel, ev.where)
                plays.append(Play(ev.t0, ev.channel, p["samples"], p["name"], fr.frequency, fr.phase,
                                  fr.phase + fr.offset, p["shape"], p["parameters"], ev.origin, ev.source))
                log_kind(0)
                log_name(p["name"])
                log_frequency(fr.frequency)
                log_phase(fr.phase)
                code = wave_codes.get(id(p["samples"]))
                if code is None:
                    code = wave_codes[id(p["samples"])] = len(log.waves)
                    log.waves.append(p["samples"])
                log_wave(code)
            elif ev.kind == "frame":
                fr = self._frame_for(frames, ev.channel, ev.where)
                kind, value = p["frame_kind"], p["value"]
                t = ev.t0 * self.dt
                if kind in ("setf", "shiftf"):
                    new = value if kind == "setf" else fr.frequency + value
                    fr.offset -= TWO_PI * (new - fr.frequency) * t
                    fr.frequency = new
                elif kind == "setp":
                    fr.phase = value
                else:
                    fr.phase += value
                changes.append(FrameChange(ev.t0, ev.channel, kind, value, fr.frequency, fr.phase, ev.origin,
                                           ev.source))
                log_kind(1)
                log_wave(-1)
                log_name(kind)
                log_frequency(fr.frequency)
                log_phase(fr.phase)
            elif ev.kind == "delay":
                delays.append(Delay(ev.t0, ev.channel, p["duration"], ev.origin, ev.source))
                log_kind(2)
                log_wave(-1)
                log_name("delay")
                log_frequency(nan)
                log_phase(nan)
            else:
                acquires.append(Acquire(ev.t0, p["duration"], p["qubit"], p["memory_slot"], p["register_slot"],
                                        ev.origin, ev.source))
                log_kind(3)
                log_wave(-1)
                log_name("acquire")
                log_frequency(nan)
                log_phase(nan)
        slots = max([self.memory_slots] + [a.memory_slot + 1 for a in acquires])
        initial = {ch: (float(f), 0.0) for ch, f in self.frequencies.items()}
        log.lists = (tuple(plays), tuple(changes), tuple(delays), tuple(acquires))
        return Schedule(self.name, self.dt, *log.lists, initial, slots, dict(self.metadata), tuple(self.creg_sizes),
                        log)


def with_other_pulses(template: Schedule, name: str, metadata: Mapping[str, Any],
                      pulses: list[tuple[np.ndarray, Mapping[str, Any]]]) -> Schedule:
    """``template`` with each play's samples and parameters replaced (``pulses``, in the template's play
    order): the schedule a builder makes from the same instructions with those pulses.

    Nothing a builder decides depends on the values of a pulse's samples, only on their number and on
    which plays share one array (the log's wave codes): a caller that guarantees both, and has checked
    the new samples (:func:`check_samples`), gets a sweep's later experiments for a few object copies
    each instead of a build. The log's buffers are the template's (nothing writes to a built log)."""
    plays = tuple(Play(p.t0, p.channel, samples, p.name, p.frequency, p.phase, p.carrier_phase, p.shape,
                       parameters, p.origin, p.source)
                  for p, (samples, parameters) in zip(template.plays, pulses, strict=True))
    lists = (plays, template.frame_changes, template.delays, template.acquires)
    log = template.build_log
    if log is not None:
        waves: list[np.ndarray] = []
        seen: set[int] = set()
        for play in plays:
            if id(play.samples) not in seen:
                seen.add(id(play.samples))
                waves.append(play.samples)
        log = BuildLog(log.t0, log.end, log.kind, log.channel, log.origin, log.wave, log.frequency, log.phase,
                       log.name, log.channels, log.origins, waves, lists)
    return Schedule(name, template.dt, *lists, dict(template.initial_frames), template.memory_slots, dict(metadata),
                    template.creg_sizes, log)
