"""Schedules (the IR) -> an OpenQASM 3 + OpenPulse program, the pulse format that outlives PulseQobj.

Reading the program back (:class:`~workbench.jobs.openpulse_job.OpenPulseJob`) on the same device gives
the same schedules: plays with their samples, shapes, names and frames, frame changes, delays,
acquisitions into the same memory slots, initial frame frequencies, names and metadata. What the
program says and how:

* one frame per channel, declared at time 0 with the schedule's initial frequency
  (``frame q0_drive = newframe(d0, 4900000000.0, 0.0);``) under the device's predefined name, so the
  program is readable as is; acquisitions use the predefined ``q<i>_acquire`` frames;
* every distinct waveform once, as ``waveform x = drag(0.4768, 48dt, 12.0dt, 0.4571);`` when the
  specification's function with these arguments gives exactly the samples, else as its samples
  (``{0.1, 0.2 + 0.1im}``) with ``@workbench.shape {...}`` keeping its parametric shape; a play is named
  after its waveform variable, or by ``@workbench.name "..."`` where the name is not an identifier;
* instructions in time order in a ``cal`` block; gaps are ``delay`` on the frame (timing only), a delay
  instruction of the schedule is a ``delay`` annotated ``@workbench.delay``;
* acquisitions are ``c[j] = capture_v2(q<i>_acquire, <n>dt);`` into bit registers laid out as the
  schedule's memory slots;
* the PulseQobj experiment header (name, memory slots, classical registers, metadata) as
  ``pragma workbench.experiment {...}``, the execution options as ``pragma workbench.options {...}``;
  several schedules become one program with ``input int experiment`` and one
  ``if (experiment == k) {...}`` per schedule, ``pragma workbench.inputs`` running them all.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from workbench.errors import JobError, UnsupportedError
from workbench.jobs.openpulse.calls import PULSE_FUNCTIONS
from workbench.jobs.openpulse.expressions import MATH
from workbench.jobs.openpulse.waveforms import WAVEFORM_FUNCTIONS
from workbench.jobs.to_qobj import _jsonable, _metadata
from workbench.pulses.shapes import SHAPES, sample
from workbench.schedule.ir import Play, Schedule, parse_channel

# Play shapes written with the specification's waveform functions: shape -> (function, parameter order)
_SPEC = {"gaussian": ("gaussian", ("sigma",)), "drag": ("drag", ("sigma", "beta")),
         "gaussian_square": ("gaussian_square", ("width", "sigma")), "constant": ("constant", ()),
         "sech": ("sech", ("sigma",))}
_EXTERNS = {"gaussian": "complex[float[64]], duration, duration", "sech": "complex[float[64]], duration, duration",
            "drag": "complex[float[64]], duration, duration, float[64]", "constant": "complex[float[64]], duration",
            "gaussian_square": "complex[float[64]], duration, duration, duration"}
# OpenQASM 3 / OpenPulse keywords and names a variable must not take
_RESERVED = frozenset({
    "OPENQASM", "include", "defcalgrammar", "def", "cal", "defcal", "gate", "extern", "box", "let", "break",
    "continue", "if", "else", "end", "return", "for", "while", "in", "switch", "case", "default", "nop", "input",
    "output", "const", "readonly", "mutable", "qreg", "qubit", "creg", "bool", "bit", "int", "uint", "float",
    "angle", "complex", "array", "void", "duration", "stretch", "gphase", "inv", "pow", "ctrl", "negctrl", "dim",
    "durationof", "sizeof", "delay", "reset", "measure", "barrier", "true", "false", "pi", "tau", "euler", "port",
    "frame", "waveform", "play", "capture", "newframe", "experiment", "U", "CX", "dt", "ns", "us", "ms", "s",
})
# a waveform variable named like a function would hide it from readers (and from later calls, for math)
_FUNCTIONS = WAVEFORM_FUNCTIONS | PULSE_FUNCTIONS | frozenset(MATH)
_FRAME_FUNCTIONS = {"setf": "set_frequency", "shiftf": "shift_frequency", "setp": "set_phase",
                    "shiftp": "shift_phase"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LINE = 100


def _number(x: float) -> str:
    """A float literal that reads back as exactly ``x`` (``repr`` is the shortest exact form)."""
    x = float(x)
    if not math.isfinite(x):
        raise UnsupportedError(f"{x} cannot be written in OpenQASM")
    text = repr(abs(x))
    return f"-{text}" if math.copysign(1.0, x) < 0 else text


def _complex(z: complex) -> str:
    z = complex(z)
    if z.imag == 0:
        return _number(z.real)
    sign = "-" if math.copysign(1.0, z.imag) < 0 else "+"
    return f"{_number(z.real)} {sign} {abs(z.imag)!r}im"


def _amp(value: Any) -> str:
    return _complex(value) if isinstance(value, complex | np.complexfloating) else _number(value)


def frame_name(channel: str) -> str:
    """The device's predefined frame of a channel (:mod:`workbench.devices.openpulse_names`)."""
    kind, index = parse_channel(channel)
    return {"d": f"q{index}_drive", "m": f"q{index}_measure", "a": f"q{index}_acquire"}.get(kind, f"{channel}_coupler")


class _Waveforms:
    """Every distinct waveform once, with a variable name and its declaration."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)
        self.by_key: dict[Any, tuple[str, list[str]]] = {}  # key -> (variable, declaration lines)
        self.users: dict[Any, set[int]] = defaultdict(set)  # key -> experiments that play it
        self.functions: set[str] = set()

    def name_of(self, play: Play, experiment: int) -> str:
        params = _plain(play.parameters)
        key = (play.name, play.shape, params, np.ascontiguousarray(play.samples, dtype=np.complex128).tobytes())
        if key not in self.by_key:
            self.by_key[key] = self._declare(play)
        self.users[key].add(experiment)
        return self.by_key[key][0]

    def declarations(self, experiment: int | None) -> list[str]:
        """Waveforms of one experiment only (``experiment``), or those several share (None): an experiment's
        own waveforms are declared in its own block, so reading one experiment samples only what it plays."""
        out: list[str] = []
        for key, (_ident, lines) in self.by_key.items():
            users = self.users[key]
            if (experiment is None and len(users) > 1) or users == {experiment}:
                out += lines
        return out

    def _identifier(self, name: str, channel: str) -> str:
        """The play's name if it is a free identifier, else ``<name>_<channel>``, else numbered."""
        base = re.sub(r"[^A-Za-z0-9_]", "_", name) or "waveform"
        if not _IDENT.match(base):
            base = f"w_{base}"
        candidates = [base, f"{base}_{channel}"]
        n = 2
        while all(c in self.taken or c in _RESERVED or c in _FUNCTIONS for c in candidates):
            candidates.append(f"{base}_{channel}_{n}")
            n += 1
        ident = next(c for c in candidates if c not in self.taken and c not in _RESERVED and c not in _FUNCTIONS)
        self.taken.add(ident)
        return ident

    def _declare(self, play: Play) -> tuple[str, list[str]]:
        ident = self._identifier(play.name, play.channel)
        lines = [] if ident == play.name else [f"@workbench.name {json.dumps(play.name)}"]
        expression = self._function(play)
        if expression is None:
            if play.shape in SHAPES and _resamples(play.shape, play.parameters, play.samples):
                shape = {"shape": play.shape, "parameters": _jsonable(dict(play.parameters))}
                lines.append(f"@workbench.shape {json.dumps(shape, separators=(',', ':'))}")
            expression = _sample_list(play.samples)
        lines.append(f"waveform {ident} = {expression};")
        return ident, lines

    def _function(self, play: Play) -> str | None:
        """``drag(amp, 48dt, 12.0dt, beta)`` if the reader makes exactly this play from it, else None."""
        if play.shape not in _SPEC:
            return None
        params = dict(play.parameters)
        function, order = _SPEC[play.shape]
        if set(params) != {"duration", "amp", *order}:
            return None
        duration, amp = params["duration"], params["amp"]
        if isinstance(duration, bool) or not isinstance(duration, int | np.integer) or isinstance(amp, bool):
            return None
        try:
            args = [_amp(amp), f"{int(duration)}dt"]
            read_back: dict[str, Any] = {"duration": int(duration), "amp": complex(amp) if isinstance(
                amp, complex | np.complexfloating) and complex(amp).imag != 0 else float(np.real(amp))}
            for key in order:
                value = float(params[key])
                args.append(f"{_number(value)}dt" if key in ("sigma", "width") else _number(value))
                read_back[key] = value
        except (TypeError, ValueError, UnsupportedError):
            return None
        if read_back != params:
            return None
        if not _resamples(play.shape, read_back, play.samples):
            return None
        self.functions.add(function)
        return f"{function}({', '.join(args)})"


def _plain(parameters: Any) -> str:
    try:
        return json.dumps(_jsonable(dict(parameters)), sort_keys=True)
    except (TypeError, ValueError):
        return repr(sorted(dict(parameters).items()))


def _resamples(shape: str, parameters: Any, samples: np.ndarray) -> bool:
    try:
        again = sample(shape, dict(parameters))
    except JobError:
        return False
    return again.shape == samples.shape and np.array_equal(again, samples)


def _sample_list(samples: np.ndarray) -> str:
    """``{0.1, 0.2 + 0.05im, ...}``, wrapped to lines of about 100 characters."""
    rows: list[str] = []
    row = ""
    for z in np.asarray(samples, dtype=np.complex128):
        value = _complex(z)
        if row and len(row) + len(value) > _LINE:
            rows.append(row.rstrip())
            row = ""
        row += value + ", "
    rows.append(row.rstrip().rstrip(","))
    return "{" + ",\n        ".join(r.rstrip(",") for r in rows) + "}"


def _registers(schedule: Schedule, taken: set[str]) -> tuple[list[tuple[str, int]], dict[int, tuple[str, int]]]:
    """Bit registers covering the memory slots, and slot -> (register, index)."""
    sizes = list(schedule.creg_sizes)
    names = [n for n, _ in sizes]
    usable = (sizes and sum(k for _, k in sizes) == schedule.memory_slots and all(k > 0 for _, k in sizes)
              and len(set(names)) == len(names)
              and all(_IDENT.match(n) and n not in _RESERVED and n not in taken for n in names))
    if not usable:
        base, n = "c", 2
        while base in taken:
            base, n = f"c_{n}", n + 1
        sizes = [(base, schedule.memory_slots)] if schedule.memory_slots else []
    slots: dict[int, tuple[str, int]] = {}
    first = 0
    for name, size in sizes:
        for i in range(size):
            slots[first + i] = (name, i)
        first += size
    return sizes, slots


def _before_play(schedule: Schedule) -> list[bool]:
    """For each frame change: does it act before the play starting on its channel at the same sample?

    OpenPulse puts a frame change before a play on the same frame at the same time, so every change
    that may go first does (the longest prefix of the changes at that sample that leads to the frame,
    frequency, phase and carrier phase the play recorded); the rest are written after the play, marked
    ``@workbench.after_play``.
    """
    changes = schedule.frame_changes
    before = [True] * len(changes)
    starts = {(p.channel, p.t0): p for p in schedule.plays}
    by_channel: dict[str, list[int]] = defaultdict(list)
    for i, change in enumerate(changes):
        by_channel[change.channel].append(i)
    for channel, indices in by_channel.items():
        frequency, _phase = schedule.initial_frames.get(channel, (math.nan, 0.0))
        state = (float(frequency), 0.0, 0.0)  # frequency, phase, carrier offset (as the builder keeps them)
        k = 0
        while k < len(indices):
            t0 = changes[indices[k]].t0
            group = []
            while k < len(indices) and changes[indices[k]].t0 == t0:
                group.append(indices[k])
                k += 1
            states = [state]
            for i in group:
                f, _phase, offset = states[-1]
                new = changes[i].frequency
                if changes[i].kind in ("setf", "shiftf"):
                    offset -= 2.0 * math.pi * (new - f) * (t0 * schedule.dt)
                states.append((new, changes[i].phase, offset))
            play = starts.get((channel, t0))
            if play is not None:
                fits = [j for j, (f, phase, offset) in enumerate(states)
                        if (f, phase, phase + offset) == (play.frequency, play.phase, play.carrier_phase)]
                cut = fits[-1] if fits else len(group)
                for j, i in enumerate(group):
                    before[i] = j < cut
            state = states[-1]
    return before


def _body(schedule: Schedule, experiment: int, waves: _Waveforms, slots: dict[int, tuple[str, int]]) -> list[str]:
    """The schedule's instructions in time order, each on its frame's clock."""
    order = {"frame-before": 0, "play": 1, "frame-after": 2, "delay": 3, "acquire": 4}
    events: list[tuple[int, int, int, str, Any]] = []
    for i, (change, first) in enumerate(zip(schedule.frame_changes, _before_play(schedule), strict=True)):
        events.append((change.t0, order["frame-before" if first else "frame-after"], i, "frame", change))
    events += [(p.t0, order["play"], i, "play", p) for i, p in enumerate(schedule.plays)]
    events += [(d.t0, order["delay"], i, "delay", d) for i, d in enumerate(schedule.delays)]
    events += [(a.t0, order["acquire"], i, "acquire", a) for i, a in enumerate(schedule.acquires)]
    clocks: dict[str, int] = defaultdict(int)
    lines: list[str] = []
    for t0, order_of, _, kind, item in sorted(events, key=lambda e: e[:3]):
        frame = frame_name(item.channel)
        if kind == "frame" and order_of == order["frame-after"]:
            function = _FRAME_FUNCTIONS[item.kind]
            lines += ["@workbench.after_play", f"{function}({frame}, {_number(item.value)});"]
            continue
        if t0 < clocks[frame]:
            raise UnsupportedError(f"{schedule.name}: the {kind} on {item.channel} at t={t0} starts before the "
                                   f"instruction before it on that channel ends (t={clocks[frame]}); OpenPulse "
                                   "orders a frame's instructions in time")
        if t0 > clocks[frame]:
            lines.append(f"delay[{t0 - clocks[frame]}dt] {frame};")
            clocks[frame] = t0
        if kind == "frame":
            lines.append(f"{_FRAME_FUNCTIONS[item.kind]}({frame}, {_number(item.value)});")
        elif kind == "play":
            lines.append(f"play({frame}, {waves.name_of(item, experiment)});")
            clocks[frame] += item.duration
        elif kind == "delay":
            lines += ["@workbench.delay", f"delay[{item.duration}dt] {frame};"]
            clocks[frame] += item.duration
        else:
            register, index = slots[item.memory_slot]
            if item.register_slot is not None:
                lines.append(f"@workbench.register_slot {int(item.register_slot)}")
            lines.append(f"{register}[{index}] = capture_v2({frame}, {item.duration}dt);")
            clocks[frame] += item.duration
    return lines


def schedules_to_openpulse(
    schedules: Sequence[Schedule],
    *,
    shots: int | None = None,
    meas_level: int | None = None,
    meas_return: str | None = None,
    backend_name: str | None = None,
) -> str:
    """The OpenQASM 3 + OpenPulse text of ``schedules`` (one program, one experiment per schedule)."""
    schedules = list(schedules)
    if not schedules:
        raise UnsupportedError("a program needs at least one schedule")
    if len({s.dt for s in schedules}) > 1:
        raise UnsupportedError("schedules with different dt cannot share one program: its durations are in dt")
    options: dict[str, Any] = {}
    if shots is not None:
        if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
            raise JobError(f"shots must be a positive integer, got {shots!r}", "shots")
        options["shots"] = int(shots)
    if meas_level is not None:
        options["meas_level"] = int(meas_level)
    if meas_return is not None:
        options["meas_return"] = str(meas_return)
    channels: dict[str, float] = {}
    for s in schedules:
        for channel, (frequency, _phase) in s.initial_frames.items():
            channels.setdefault(channel, float(frequency))
    if any(s.initial_frames.keys() != schedules[0].initial_frames.keys() or any(
            float(f) != channels[c] for c, (f, _p) in s.initial_frames.items()) for s in schedules):
        raise UnsupportedError("the schedules start from different frame frequencies; write them as separate "
                               "programs (one program declares each frame once)")
    frames = {ch: frame_name(ch) for ch in channels}
    taken = set(frames.values()) | {frame_name(f"a{i}") for i in range(max(
        [int(c[1:]) for c in channels if c[0] in "dm"] + [a.qubit for s in schedules for a in s.acquires] + [0]) + 1)}
    taken |= {c for c in channels} | {"experiment"}
    waves = _Waveforms(taken)
    timelines: list[tuple[list[tuple[str, int]], list[str]]] = []
    headers: list[dict[str, Any]] = []
    for k, s in enumerate(schedules):
        sizes, slots = _registers(s, taken | waves.taken)
        waves.taken |= {name for name, _ in sizes}  # no waveform variable may take a register's name
        timelines.append((sizes, _body(s, k, waves, slots)))
        headers.append({"name": s.name, "memory_slots": int(s.memory_slots),
                        "creg_sizes": [[str(n), int(k)] for n, k in s.creg_sizes], "metadata": _metadata(s.metadata)})
    lines = ["OPENQASM 3.0;", 'defcalgrammar "openpulse";',
             f"// Written by the workbench: {len(schedules)} experiment(s), dt = {schedules[0].dt!r} s."]
    if backend_name is not None:
        lines.append(f"pragma workbench.device {backend_name}")
    if options:
        lines.append(f"pragma workbench.options {json.dumps(options)}")
    lines += [f"pragma workbench.experiment {json.dumps(h, separators=(',', ':'))}" for h in headers]
    if len(schedules) > 1:
        lines.append(f"pragma workbench.inputs {json.dumps({'experiment': list(range(len(schedules)))})}")
    lines.append("cal {")
    for function in sorted(waves.functions):
        lines.append(f"    extern {function}({_EXTERNS[function]}) -> waveform;")
    if any(s.acquires for s in schedules):
        lines.append("    extern capture_v2(frame, duration) -> bit;")
    for channel, frequency in sorted(channels.items(), key=lambda c: (c[0][0] != "d", c[0])):
        lines.append(f"    frame {frames[channel]} = newframe({channel}, {_number(frequency)}, 0.0);")
    several = len(schedules) > 1
    lines += [f"    {line}" for line in waves.declarations(None if several else 0)]
    lines.append("}")
    bodies = []
    for k, (sizes, timeline) in enumerate(timelines):
        own = waves.declarations(k) if several else []
        bodies.append([f"bit[{size}] {name};" for name, size in sizes]
                      + ["cal {", *(f"    {line}" for line in own + timeline), "}"])
    if not several:
        lines += bodies[0]
    else:
        lines.append("input int experiment;")
        for k, body in enumerate(bodies):
            lines.append(f"if (experiment == {k}) {{")
            lines += [f"    {line}" for line in body]
            lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["frame_name", "schedules_to_openpulse"]
