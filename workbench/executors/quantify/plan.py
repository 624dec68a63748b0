"""Lower IR schedules to what a Qblox cluster plays: timed operations per wired channel, in ns.

This is the half of the translation that is about Qblox hardware, not about quantify-scheduler, so
that a later move to another scheduler (qblox-scheduler) only rewrites :mod:`.adapter`, which turns a
:class:`Program` into that library's objects one operation at a time.

What the lowering decides:

* **Experiments in one program.** The experiments of a batch play one after another, each followed
  by ``rep_time`` of idle (at least :data:`MIN_GAP_NS`), and the whole program repeats ``shots``
  times: one shot of every experiment per repetition. Every experiment starts on the 4 ns grid.
* **Frames.** At its start each experiment resets the NCO phase of every channel it uses and sets the
  NCO to its initial frame frequency when that differs from the clock's. ``setf``/``shiftf`` become
  NCO frequency changes at their times; the NCO keeps its phase continuous over a frequency change,
  which is the IR's ``carrier_phase`` convention. ``setp``/``shiftp`` become NCO phase increments.
  A frame change that OpenPulse lists *after* a play starting at the same time (the play keeps the
  old frame) is moved to the end of that play, with the phase a late frequency change would lose.
* **Phase convention.** The simulator (``docs/simulator.md``) lets the qubit see the conjugate of
  the IQ envelope ``s e^{i phi}`` with a physical frequency. An up-converted Qblox output
  ``Re[e(t) e^{i 2 pi f t}]`` shows the qubit ``e`` itself, so the program plays ``conj(s)`` and
  shifts the NCO by ``-phi``; the carrier continuity phase is physical and keeps its sign. Then
  ``rz(theta) = ShiftPhase(-theta)`` in a job becomes ``ShiftClockPhase(+theta)``, which is also how
  quantify-scheduler's own ``Rz`` is defined: the same job means the same rotations on both.
* **Acquisitions** go to the sequencer of the qubit's readout channel ``m<i>``, ``time_of_flight``
  after the IR's start, into acquisition channel = memory slot. ``meas_level 2`` uses the
  hardware's thresholding (rotation + threshold from the device's linear discriminator), ``meas_level 1``
  integrates IQ, per shot (``single``) or averaged in hardware (``avg``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

import numpy as np

from workbench.devices.model import Device, Discriminator
from workbench.errors import UnsupportedError
from workbench.executors.quantify.config import NCO_LIMIT, QuantifyConfig
from workbench.schedule.checks import TimingRules
from workbench.schedule.ir import Play, Schedule, parse_channel

# Qblox sequencer facts (the same numbers quantify-scheduler's Qblox backend checks).
GRID_NS = 4  # experiments start on this grid (the NCO grid)
MIN_OP_SPACING_NS = 4  # between two plays/acquisitions on one sequencer
MIN_ACQ_SPACING_NS = 300  # between two acquisitions on one sequencer
MAX_BINS = 131072  # acquisition bins per sequencer
MAX_WAVEFORM_SAMPLES = 16384  # waveform memory per sequencer
MIN_GAP_NS = 300  # idle after each experiment, whatever rep_time says (keeps the spacings above)

Protocol = Literal["integration", "threshold"]
BinMode = Literal["append", "average"]


@dataclass(frozen=True, slots=True)
class Op:
    """One timed operation. ``order`` breaks ties at equal times: parameter changes before plays."""

    time: int  # ns from the program start
    order: int  # 0 phase reset / initial frequency, 1 frame change, 2 play or acquire, 3 idle
    seq: int  # emission order, the last tie-break
    kind: Literal["reset", "frequency", "phase", "pulse", "acquire", "idle"]
    channel: str | None = None  # wired channel d<i>, m<i>, u<k> (None for idle)
    value: float = 0.0  # Hz (frequency) or degrees (phase)
    samples: np.ndarray | None = None  # complex envelope at 1 GSa/s (pulse)
    duration: int = 0  # ns (acquire, idle)
    acquisition: int = -1  # acquisition id (acquire)
    name: str = ""


@dataclass(frozen=True, slots=True)
class Acquisition:
    id: int
    experiment: int  # index in the job
    slot: int
    qubit: int
    channel: str  # the readout channel whose sequencer acquires (m<i>)
    duration: int  # ns
    kept: bool  # the last acquisition into its slot in its experiment: the one the result keeps


@dataclass
class Program:
    """One batch of experiments as the cluster plays it (``shots`` repetitions of ``ops``)."""

    experiments: list[int]
    ops: list[Op]
    acquisitions: list[Acquisition]
    clocks: dict[str, float]  # channel -> clock (resource) frequency in Hz
    duration_ns: int  # one repetition
    shots: int
    protocol: Protocol
    bin_mode: BinMode
    thresholds: dict[str, tuple[float, float]] = field(default_factory=dict)  # m<i> -> (rotation deg, threshold)

    def bins(self) -> dict[str, int]:
        """Acquisition bins each readout sequencer needs."""
        per: dict[str, int] = {}
        for a in self.acquisitions:
            per[a.channel] = per.get(a.channel, 0) + 1
        factor = self.shots if self.bin_mode == "append" else 1
        return {ch: n * factor for ch, n in per.items()}


def discriminator_threshold(disc: Discriminator) -> tuple[float, float]:
    """(rotation in degrees, threshold) with which a Qblox sequencer reproduces a linear discriminator.

    The sequencer rotates the integrated point, ``I' = I cos r - Q sin r``, and reads 1 when
    ``I' >= threshold``. The discriminator reads 1 when ``w . (I, Q) + offset > 0``, i.e. when
    ``I cos a + Q sin a > -offset / |w|`` with ``a = atan2(w_q, w_i)``: so ``r = -a``.
    """
    w_i, w_q = disc.weights
    norm = math.hypot(w_i, w_q)
    if norm == 0:
        raise UnsupportedError("the discriminator's weights are zero: it cannot be run in hardware")
    rotation = math.degrees(-math.atan2(w_q, w_i)) % 360.0
    return rotation, -disc.offset / norm


def hardware_bits(iq: np.ndarray, rotation: float, threshold: float) -> np.ndarray:
    """What a sequencer's thresholding gives for integrated IQ points (the rule in
    :func:`discriminator_threshold`); the twin uses it to fill the dummy's threshold bits."""
    r = math.radians(rotation)
    rotated = iq.real * math.cos(r) - iq.imag * math.sin(r)
    return (rotated >= threshold).astype(np.int8)


def _ns(device: Device) -> int:
    assert device.dt is not None
    return round(device.dt / 1e-9)


def _degrees(rad: float) -> float:
    """Radians to degrees in (-180, 180]: the NCO turns modulo a full turn."""
    deg = math.degrees(math.remainder(rad, 2 * math.pi))
    return 180.0 if deg == -180.0 else deg


def _readout(acq_qubit: int) -> str:
    return f"m{acq_qubit}"


def check_schedule(index: int, sched: Schedule, device: Device, config: QuantifyConfig, shots: int,
                   meas_level: int, meas_return: str) -> None:
    """Reject what a Qblox sequencer cannot play, before anything compiles (:class:`UnsupportedError`
    located at the experiment)."""
    where = f"experiments[{index}]"
    k = _ns(device)
    for name in sched.channels:
        kind, q = parse_channel(name)
        wired = _readout(q) if kind == "a" else name
        if config.channel(wired) is None:
            raise UnsupportedError(f"channel {name} is not wired to the cluster (executor_config.channels)", where)
    starts: dict[str, list[tuple[int, str]]] = {}
    for p in sched.plays:
        if p.duration * k > MAX_WAVEFORM_SAMPLES:
            raise UnsupportedError(f"the pulse at t={p.t0} on {p.channel} has {p.duration * k} samples; a Qblox "
                                   f"sequencer holds {MAX_WAVEFORM_SAMPLES}", where)
        starts.setdefault(p.channel, []).append((p.t0 * k, f"play at t={p.t0}"))
    acq_times: dict[str, list[int]] = {}
    for a in sched.acquires:
        ch = _readout(a.qubit)
        tof = _tof_ns(config, ch)
        if a.duration * k < MIN_OP_SPACING_NS:
            raise UnsupportedError(f"the acquisition at t={a.t0} lasts {a.duration * k} ns; Qblox integrates at "
                                   f"least {MIN_OP_SPACING_NS} ns", where)
        starts.setdefault(ch, []).append((a.t0 * k + tof, f"acquire at t={a.t0} (+{tof} ns time of flight)"))
        acq_times.setdefault(ch, []).append(a.t0 * k)
        if meas_level == 2 and device.qubit(a.qubit).readout.discriminator is None:
            raise UnsupportedError(f"qubit {a.qubit} has no discriminator calibration, which meas_level 2 "
                                   "needs for hardware thresholding: run with meas_level 1", where)
    for ch, items in starts.items():
        items.sort()
        for (t_a, what_a), (t_b, what_b) in pairwise(items):
            if t_b - t_a < MIN_OP_SPACING_NS:
                raise UnsupportedError(f"on the sequencer of {ch}, the {what_a} and the {what_b} start {t_b - t_a} "
                                       f"ns apart; a Qblox sequencer needs {MIN_OP_SPACING_NS} ns", where)
    for ch, times in acq_times.items():
        times.sort()
        for t_a, t_b in pairwise(times):
            if t_b - t_a < MIN_ACQ_SPACING_NS:
                raise UnsupportedError(f"acquisitions on {ch} at {t_a} ns and {t_b} ns are closer than the "
                                       f"{MIN_ACQ_SPACING_NS} ns a Qblox sequencer needs", where)
        per_shot = len(times) * (shots if (meas_level == 2 or meas_return == "single") else 1)
        if per_shot > MAX_BINS:
            raise UnsupportedError(f"{len(times)} acquisition(s) on {ch} x {shots} shots need {per_shot} bins; a "
                                   f"Qblox sequencer has {MAX_BINS}: use fewer shots", where)
    updates: dict[str, list[int]] = {}
    for fc in sched.frame_changes:
        updates.setdefault(fc.channel, []).append(fc.t0 * k)
    for ch, times in updates.items():
        distinct = sorted(set(times))
        for t_a, t_b in pairwise(distinct):
            if t_b - t_a < MIN_OP_SPACING_NS:
                raise UnsupportedError(f"frame changes on {ch} at {t_a} ns and {t_b} ns are closer than the "
                                       f"{MIN_OP_SPACING_NS} ns a Qblox NCO needs between updates", where)
    los = _los(device, config)
    for fc in sched.frame_changes:
        if fc.kind in ("setf", "shiftf"):
            _check_reach(fc.channel, fc.frequency, los, config, where, f"{fc.kind} at t={fc.t0}")
    for ch, (freq, _) in sched.initial_frames.items():
        if ch in sched.channels:
            _check_reach(ch, freq, los, config, where, "its initial frame")


def timing_rules(device: Device, config: QuantifyConfig) -> TimingRules:
    """The rules :func:`check_schedule` enforces, as data the schedule view marks: the 4 ns grid, 4 ns
    between starts on a sequencer, 300 ns between acquisitions, and frames within the NCO's reach
    (+-500 MHz around each channel's LO, less the LO's own distance from the calibrated frequency)."""
    reach = NCO_LIMIT
    for ch, frequency in device.frame_frequencies().items():
        wiring = config.channel(ch)
        if wiring is None:
            continue
        lo = config.lo_frequency(wiring, frequency)
        reach = min(reach, NCO_LIMIT - abs(frequency - (lo or 0.0)))
    return TimingRules(instrument="Qblox cluster", grid_ns=GRID_NS, min_spacing_ns=MIN_OP_SPACING_NS,
                       min_acquire_gap_ns=MIN_ACQ_SPACING_NS, max_frame_offset_hz=max(reach, 0.0))


def _tof_ns(config: QuantifyConfig, channel: str) -> int:
    wiring = config.channel(channel)
    return round(wiring.time_of_flight / 1e-9) if wiring is not None else 0


def _los(device: Device, config: QuantifyConfig) -> dict[str, float | None]:
    frames = device.frame_frequencies()
    return {c.channel: config.lo_frequency(c, frames[c.channel]) for c in config.channels if c.channel in frames}


def _check_reach(channel: str, frequency: float, los: dict[str, float | None], config: QuantifyConfig, where: str,
                 what: str) -> None:
    lo = los.get(channel)
    offset = frequency - (lo or 0.0)
    if abs(offset) > NCO_LIMIT:
        base = f"the LO at {lo / 1e9:.6g} GHz" if lo is not None else "0 Hz (baseband module)"
        raise UnsupportedError(f"{what} puts {channel} at {frequency / 1e9:.6g} GHz, {offset / 1e6:.6g} MHz from "
                               f"{base}; the NCO reaches +-{NCO_LIMIT / 1e6:g} MHz", where)


def _deferrals(sched: Schedule) -> dict[int, Play]:
    """Frame changes that OpenPulse lists *after* a play starting at the same time (that play keeps the
    old frame), by index in ``sched.frame_changes``, with the play they follow.

    Per channel and time, the play sits where the running frame equals its own: every change from there
    on comes after it. Where several positions fit, the earliest is taken; the changes moved past the
    play then cancel out, so the result is the same.
    """
    out: dict[int, Play] = {}
    frames = {ch: f for ch, f in sched.initial_frames.items()}
    groups: dict[tuple[str, int], list[int]] = {}
    for i, fc in enumerate(sched.frame_changes):
        groups.setdefault((fc.channel, fc.t0), []).append(i)
    for (channel, t0), members in sorted(groups.items(), key=lambda kv: min(kv[1])):
        start = frames.get(channel, (0.0, 0.0))
        running = [start] + [(sched.frame_changes[i].frequency, sched.frame_changes[i].phase) for i in members]
        frames[channel] = running[-1]
        for play in sched.plays_on(channel):
            if play.t0 != t0:
                continue
            position = next((k for k, f in enumerate(running) if f == (play.frequency, play.phase)), len(members))
            for i in members[position:]:
                out[i] = play
            break
    return out


class _Emitter:
    def __init__(self) -> None:
        self.ops: list[Op] = []

    def add(self, time: int, order: int, kind: str, **kw: object) -> None:
        self.ops.append(Op(time, order, len(self.ops), kind, **kw))  # type: ignore[arg-type]


def build_program(indices: Sequence[int], schedules: Sequence[Schedule], device: Device, config: QuantifyConfig,
                  *, shots: int, meas_level: int, meas_return: str, rep_time: float) -> Program:
    """The batch ``indices`` of ``schedules`` as one repeated program (see the module docstring)."""
    k = _ns(device)
    clocks = {c.channel: f for c, f in ((c, device.frame_frequencies().get(c.channel)) for c in config.channels)
              if f is not None}
    nco = dict(clocks)  # frequency each channel's NCO is at while the program runs
    gap = max(round(rep_time / 1e-9), MIN_GAP_NS)
    out = _Emitter()
    acquisitions: list[Acquisition] = []
    start = GRID_NS  # room for the first experiment's phase resets
    for e in indices:
        sched = schedules[e]
        used = {(_readout(parse_channel(c)[1]) if c.startswith("a") else c) for c in sched.channels}
        frames: dict[str, tuple[float, float]] = {}
        for ch in sorted(used):
            freq, phase = sched.initial_frames.get(ch, (clocks[ch], 0.0))
            # One NCO grid step early: the sequencer needs 4 ns between two phase updates, and the
            # experiment may shift the phase at its very start. The carrier then starts at a fixed phase
            # other than 0, the same for every experiment and shot, which no measurement can see.
            out.add(start - GRID_NS, 0, "reset", channel=ch)
            if freq != nco[ch]:
                out.add(start - GRID_NS, 0, "frequency", channel=ch, value=freq)
                nco[ch] = freq
            if phase:
                out.add(start, 0, "phase", channel=ch, value=-_degrees(phase))
            frames[ch] = (freq, phase)
        deferred = _deferrals(sched)
        for i, fc in enumerate(sched.frame_changes):
            before = frames[fc.channel]
            after = (fc.frequency, fc.phase)
            frames[fc.channel] = after
            host = deferred.get(i)
            t = (host.t1 if host is not None else fc.t0) * k
            if after[1] != before[1]:
                out.add(start + t, 1, "phase", channel=fc.channel, value=-_degrees(after[1] - before[1]))
            if after[0] != before[0]:
                out.add(start + t, 1, "frequency", channel=fc.channel, value=after[0])
                nco[fc.channel] = after[0]
                if host is not None:  # the NCO switched late: restore the phase the IR's carrier has
                    lost = 2 * math.pi * (after[0] - before[0]) * (host.t1 - fc.t0) * device.dt
                    out.add(start + t, 1, "phase", channel=fc.channel, value=_degrees(lost))
        for p in sched.plays:
            samples = np.conj(p.samples) if k == 1 else np.repeat(np.conj(p.samples), k)
            out.add(start + p.t0 * k, 2, "pulse", channel=p.channel, samples=samples, name=p.name)
        for d in sched.delays:
            if d.duration > 0:
                out.add(start + d.t0 * k, 3, "idle", duration=d.duration * k)
        last: dict[int, int] = {}
        for i, a in enumerate(sched.acquires):
            last[a.memory_slot] = i  # OpenPulse: a slot written twice keeps the later acquisition
        end = sched.duration * k
        for i, a in enumerate(sched.acquires):
            ch = _readout(a.qubit)
            tof = _tof_ns(config, ch)
            aid = len(acquisitions)
            acquisitions.append(Acquisition(aid, e, a.memory_slot, a.qubit, ch, a.duration * k,
                                            last[a.memory_slot] == i))
            out.add(start + a.t0 * k + tof, 2, "acquire", channel=ch, duration=a.duration * k, acquisition=aid)
            end = max(end, (a.t0 + a.duration) * k + tof)
        start = _ceil(start + end + gap, GRID_NS)
    out.add(start - gap, 3, "idle", duration=gap)  # the last experiment's relaxation before the next shot
    thresholds: dict[str, tuple[float, float]] = {}
    protocol: Protocol = "threshold" if meas_level == 2 else "integration"
    if protocol == "threshold":
        for a in acquisitions:
            disc = device.qubit(a.qubit).readout.discriminator
            if disc is None:
                raise UnsupportedError(f"qubit {a.qubit} has no discriminator calibration (meas_level 2)")
            thresholds[a.channel] = discriminator_threshold(disc)
    bin_mode: BinMode = "average" if (meas_level == 1 and meas_return == "avg") else "append"
    ops = _coalesce(sorted(out.ops, key=lambda o: (o.time, o.order, o.seq)))
    return Program(list(indices), ops, acquisitions, clocks, start, shots, protocol, bin_mode, thresholds)


def _ceil(value: int, grid: int) -> int:
    return -(-value // grid) * grid


def _coalesce(ops: list[Op]) -> list[Op]:
    """One phase increment and one frequency setting per channel and time: a sequencer takes a phase
    (or frequency) update at most every 4 ns, and updates at the same instant commute."""
    out: list[Op] = []
    slot: dict[tuple[int, str, str], int] = {}
    for op in ops:
        if op.kind not in ("phase", "frequency"):
            out.append(op)
            continue
        key = (op.time, op.kind, op.channel or "")
        if key not in slot:
            slot[key] = len(out)
            out.append(op)
            continue
        i = slot[key]
        prev = out[i]
        value = _degrees(math.radians(prev.value + op.value)) if op.kind == "phase" else op.value
        out[i] = Op(prev.time, prev.order, prev.seq, prev.kind, channel=prev.channel, value=value)
    return [op for op in out if not (op.kind == "phase" and op.value == 0.0)]
