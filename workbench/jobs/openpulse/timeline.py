"""Frames with their own clocks -> one schedule in the IR.

OpenPulse times every instruction on a frame's clock; the IR times them on channels. A program's
instructions are recorded here in program order with the time and the frame state they happen at,
then replayed in time order into a :class:`~workbench.schedule.builder.ScheduleBuilder`.

The IR gives each channel one numerically controlled oscillator: a frequency, a phase and a carrier
that stays continuous across frequency changes. A frame that is alone on its port maps onto it
one to one (every ``set_frequency``, ``shift_phase``... becomes the same frame change). Several
frames on one port share the port's oscillator: when a frame plays, the port takes that frame's
frequency (``setf``, phase-continuous) and phase (``setp``) first. Frame changes of a frame that does
not hold the port are remembered in the frame and reach the IR with its next play.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.errors import JobError
from workbench.jobs.openpulse.values import Capture, Frame, Waveform
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.ir import Origin

if TYPE_CHECKING:
    from workbench.devices.model import Device
    from workbench.schedule.ir import Schedule

# Samples played in one experiment (16 bytes each): a bound on memory whatever a loop asks for.
MAX_SAMPLES = 50_000_000


@dataclass(slots=True)
class _Event:
    t: int
    seq: int
    kind: str  # play, frame, delay, acquire
    channel: str
    where: str | None
    payload: dict[str, Any]


@dataclass(slots=True)
class _Port:
    """The oscillator of one channel as the builder will see it, replayed in time order."""

    frequency: float
    phase: float = 0.0
    last_start: int = -1
    busy_until: int = 0


@dataclass
class Timeline:
    """Frames, their clocks, and every instruction of one experiment."""

    device: Device
    frames: list[Frame] = field(default_factory=list)
    events: list[_Event] = field(default_factory=list)
    captures: list[Capture] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _starts: list[tuple[str, float]] = field(default_factory=list)  # (channel, frequency) of frames made at t=0
    after_play: bool = False  # set while a statement annotated @workbench.after_play runs
    samples_played: int = 0

    def __post_init__(self) -> None:
        self._qubit_ports: dict[int, set[str]] = {q.index: {f"d{q.index}", f"m{q.index}", f"a{q.index}"}
                                                   for q in self.device.qubits}
        self._couplers = {c.channel: set(c.qubits) for c in self.device.couplings}

    # ------------------------------------------------------------------------------------- frames
    def new_frame(self, name: str, channel: str, frequency: float, phase: float, clock: int,
                  *, at_start: bool = False) -> Frame:
        frame = Frame(name, channel, float(frequency), float(phase), int(clock), at_start)
        self.frames.append(frame)
        if at_start:
            self._starts.append((channel, float(frequency)))
        return frame

    def frames_of(self, qubits: list[int]) -> list[Frame]:
        """The frames on the qubits' ports: ``d``, ``m``, ``a`` of each, and ``u`` of couplings among them."""
        ports: set[str] = set()
        for q in qubits:
            ports |= self._qubit_ports.get(q, set())
        ports |= {channel for channel, pair in self._couplers.items() if pair <= set(qubits)}
        return [f for f in self.frames if f.channel in ports]

    @staticmethod
    def align(frames: list[Frame]) -> int:
        """A barrier: every frame's clock moves to the latest of them; returns that time."""
        if not frames:
            return 0
        now = max(f.clock for f in frames)
        for f in frames:
            f.clock = now
        return now

    def _record(self, t: int, kind: str, channel: str, where: str | None, **payload: Any) -> None:
        self.events.append(_Event(t, len(self.events), kind, channel, where, payload))

    # -------------------------------------------------------------------------------- instructions
    def play(self, frame: Frame, waveform: Waveform, name: str, where: str | None) -> None:
        self.samples_played += waveform.duration
        if self.samples_played > MAX_SAMPLES:
            raise JobError(f"the experiment plays more than {MAX_SAMPLES} samples in all; split it into several "
                           "jobs", where)
        if frame.channel.startswith("a"):
            raise JobError(f"frame '{frame.name}' is on acquire port {frame.channel}, which captures and "
                           "cannot play a waveform", where)
        samples, shape, params = waveform.samples, waveform.shape, waveform.parameters
        if frame.scale != 1.0:
            samples, shape, params = samples * frame.scale, None, {}
        self._record(frame.clock, "play", frame.channel, where, samples=samples, name=name, shape=shape,
                     parameters=params, frequency=frame.frequency, phase=frame.phase)
        frame.last_play = frame.clock
        frame.clock += waveform.duration

    def frame_change(self, frame: Frame, kind: str, value: float, where: str | None) -> None:
        """``setf``/``shiftf`` (Hz) or ``setp``/``shiftp`` (rad) at the frame's time, or with
        :attr:`after_play` set, at the start of the frame's last play (after it: the play keeps the old frame)."""
        before = (frame.frequency, frame.phase)
        t = frame.clock
        if self.after_play:
            if frame.last_play is None:
                raise JobError("@workbench.after_play needs a play on the frame before it", where)
            t = frame.last_play
        if kind == "setf":
            frame.frequency = float(value)
        elif kind == "shiftf":
            frame.frequency = frame.frequency + float(value)
        elif kind == "setp":
            frame.phase = float(value)
        else:
            frame.phase = frame.phase + float(value)
        if not frame.channel.startswith("a"):  # acquire ports have no oscillator in the IR
            self._record(t, "frame", frame.channel, where, change=kind, value=float(value), before=before)

    def delay(self, frame: Frame, samples: int, where: str | None, *, keep: bool = False) -> None:
        """Advance the frame's clock; ``keep`` also puts a delay instruction on its channel."""
        if keep:
            self._record(frame.clock, "delay", frame.channel, where, duration=samples)
        frame.clock += samples

    def qubit_delay(self, qubit: int, samples: int, where: str | None) -> None:
        """``delay[d] $q``: aligns the qubit's frames, a delay instruction on ``d<q>``, all frames advance."""
        frames = self.frames_of([qubit])
        start = self.align(frames)
        if samples > 0:
            self._record(start, "delay", f"d{qubit}", where, duration=samples)
        for f in frames:
            f.clock = start + samples

    def capture(self, frame: Frame, samples: int, where: str | None) -> Capture:
        kind, index = frame.channel[0], int(frame.channel[1:])
        if kind not in "ma":
            raise JobError(f"frame '{frame.name}' is on port {frame.channel}; a capture needs a measure or "
                           "acquire port (m<i> or a<i>)", where)
        if samples <= 0:
            raise JobError("a capture needs a duration > 0", where)
        token = Capture(len(self.captures), where)
        self.captures.append(token)
        self._warn_if_early(index, frame.clock, where)
        self._record(frame.clock, "acquire", f"a{index}", where, duration=samples, qubit=index, token=token)
        frame.clock += samples
        return token

    def _warn_if_early(self, qubit: int, t: int, where: str | None) -> None:
        drive = {f"d{qubit}"} | {c.channel for c in self.device.couplings if qubit in c.qubits}
        late = [e for e in self.events if e.kind == "play" and e.channel in drive
                and e.t + e.payload["samples"].shape[0] > t]
        if late:
            self.warnings.append(
                f"{where}: the capture of qubit {qubit} starts at t={t}, before the pulse on {late[0].channel} "
                f"({late[0].where}) ends at t={late[0].t + late[0].payload['samples'].shape[0]}: frames keep their "
                "own clocks; put a barrier (or a defcal/measure, which aligns the qubit's frames) before the capture")

    # ------------------------------------------------------------------------------------- build
    def initial_frequencies(self) -> dict[str, float]:
        """Device calibration, except where the program's first frame declared at time 0 on a port says otherwise."""
        freqs = self.device.frame_frequencies()
        seen: set[str] = set()
        for channel, frequency in self._starts:
            if channel in freqs and channel not in seen:
                seen.add(channel)
                freqs[channel] = frequency
        return freqs

    def build(self, builder: ScheduleBuilder, slots: dict[int, tuple[int, int | None]]) -> Schedule:
        """Replay the events in time order; ``slots`` maps a capture's index to (memory slot, register slot).

        Each instruction's ``where`` (line and column, and the defcal call it came from) goes to the builder
        for its error messages, and becomes its provenance (:func:`origin_of`): the defcal or gate call it
        came from (``x q0``), else its own line, with that line as the instruction's source.
        """
        ports = {ch: _Port(freq) for ch, freq in builder.frequencies.items()}
        origins: dict[str | None, tuple[Origin | None, int]] = {}
        for ev in sorted(self.events, key=lambda e: (e.t, e.seq)):
            p = ev.payload
            if ev.where not in origins:
                origins[ev.where] = origin_of(ev.where)
            origin, source = origins[ev.where]
            at: dict[str, Any] = {"where": ev.where, "origin": origin, "source": source}
            if ev.kind == "play":
                port = ports[ev.channel]
                if port.frequency != p["frequency"]:
                    builder.frame(ev.t, ev.channel, "setf", p["frequency"], **at)
                    port.frequency = p["frequency"]
                if port.phase != p["phase"]:
                    builder.frame(ev.t, ev.channel, "setp", p["phase"], **at)
                    port.phase = p["phase"]
                builder.play(ev.t, ev.channel, p["samples"], p["name"], shape=p["shape"], parameters=p["parameters"],
                             **at)
                port.last_start, port.busy_until = ev.t, ev.t + int(np.shape(p["samples"])[0])
            elif ev.kind == "frame":
                port = ports[ev.channel]
                idle = ev.t >= port.busy_until or ev.t == port.last_start
                if (port.frequency, port.phase) == p["before"] and idle:
                    builder.frame(ev.t, ev.channel, p["change"], p["value"], **at)
                    _apply(port, p["change"], p["value"])
            elif ev.kind == "delay":
                builder.delay(ev.t, ev.channel, p["duration"], **at)
            else:
                token: Capture = p["token"]
                memory, register = slots[token.index]
                builder.acquire(ev.t, p["duration"], p["qubit"], memory, register, **at)
        return builder.build()


_LINE = re.compile(r"line (\d+)")
_CALL = re.compile(r"\(in (defcal|gate) (\S+)((?: \$\d+)*)[^,]*, called at line (\d+)")


def origin_of(where: str | None) -> tuple[Origin | None, int]:
    """Provenance from an instruction's location: inside a defcal or gate call, that call (``x q0``,
    source = the calling line); else the statement's own line (``line 17``, source 17)."""
    if not where:
        return None, -1
    call = _CALL.search(where)
    if call is not None:
        kind, name, qubits_text, line = call.groups()
        qubits = tuple(int(q) for q in re.findall(r"\$(\d+)", qubits_text))
        label = f"{name} {','.join(f'q{q}' for q in qubits)}".strip()
        return Origin(label, name, qubits, name if kind == "defcal" else None), int(line)
    own = _LINE.match(where)
    if own is None:
        return None, -1
    return Origin(f"line {own.group(1)}"), int(own.group(1))


def _apply(port: _Port, kind: str, value: float) -> None:
    if kind == "setf":
        port.frequency = value
    elif kind == "shiftf":
        port.frequency = port.frequency + value
    elif kind == "setp":
        port.phase = value
    else:
        port.phase = port.phase + value
