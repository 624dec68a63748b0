"""Schedule -> program: the list of constant-generator steps and measurements the propagator runs.

The dynamics between two measurements is a product of exponentials of *piecewise-constant*
generators. A step is one row ``[kind, tau, Delta(n), controls(2C)]``:

* ``kind 0``: evolve for ``tau`` ns under the Hamiltonian written in the frame rotating at
  ``sum_i Delta_i n_i`` (rad/ns) with control values ``Re z, Im z`` per channel;
* ``kind 1``: change of frame at time ``tau`` by ``Delta`` (a diagonal phase, exact and cheap).

Why frames: a play whose frame frequency differs from the reference of its channel (a detuned drive,
or a coupler play, whose carrier must make up for the anharmonicity) has a carrier that rotates
within each sample. Rather than chopping every sample into many sub-steps, each interval of constant
active plays is simulated in the frame in which all their carriers are static (a linear solve on the
channels' rotation vectors, see :mod:`.hamiltonian`); the samples are then exactly piecewise constant,
as the AWG plays them. Only when no such frame exists (e.g. a coupler play overlapping drives of both
its qubits) are samples subdivided, so that the residual carrier turns less than ``MAX_PHASE_STEP``
per sub-step, with the carrier evaluated at each sub-step midpoint.

Identical consecutive rows are merged (a delay or a constant pulse is one step whatever its length),
and identical rows across experiments are exponentiated once by the runner.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from workbench.executors.qutip.hamiltonian import NS, TWO_PI, TransmonSystem
from workbench.schedule.ir import Acquire, Play, Schedule

MAX_PHASE_STEP = 0.05  # rad of residual carrier rotation per sub-step
ZERO_RATE = 1e-12  # rad/ns below which a residual carrier rotation is float noise


@dataclass(frozen=True)
class Event:
    """All acquisitions starting at one time: one joint projective measurement."""

    time: int  # samples
    qubits: tuple[int, ...]  # positions in the system, sorted, distinct
    writes: tuple[tuple[int, int], ...]  # (memory slot, position), in instruction order


@dataclass
class Program:
    """One experiment ready to propagate: ``phases[k]`` runs up to ``events[k]`` (if any)."""

    phases: list[np.ndarray]  # each (steps, width) float64 rows
    events: list[Event]
    memory_slots: int
    slot_qubit: np.ndarray  # (memory_slots,) qubit index finally written into each slot, -1 if none
    substeps: int = 1
    stats: dict[str, int] = field(default_factory=dict)


def row_width(system: TransmonSystem) -> int:
    return 2 + len(system.qubits) + 2 * len(system.controls)


def simulated_qubits(schedule: Schedule, coupling_qubits: dict[str, tuple[int, int]]) -> tuple[int, ...]:
    """Qubits whose state can affect an outcome: driven, measured, acquired, or on a used coupler."""
    found = set(schedule.qubits)
    for name in schedule.channels:
        if name.startswith("u") and name in coupling_qubits:
            found.update(coupling_qubits[name])
    return tuple(sorted(found))


def components(qubits: tuple[int, ...], schedule: Schedule, coupling_qubits: dict[str, tuple[int, int]],
               zz_pairs: set[frozenset[int]]) -> list[tuple[int, ...]]:
    """``qubits`` cut into groups that never interact in this schedule: only a coupler the schedule
    uses or an always-on ZZ links two qubits (no crosstalk in the model). Each group evolves on its
    own and their outcomes are independent, so they are simulated apart (exactly)."""
    parent = {q: q for q in qubits}

    def root(q: int) -> int:
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    links = [coupling_qubits[name] for name in schedule.channels if name.startswith("u") and name in coupling_qubits]
    links += [tuple(p) for p in zz_pairs if p <= set(qubits)]
    for a, b in links:
        parent[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for q in qubits:
        groups.setdefault(root(q), []).append(q)
    return sorted(tuple(sorted(g)) for g in groups.values())


def slot_writers(schedule: Schedule) -> np.ndarray:
    """The qubit whose acquisition a slot finally holds (OpenPulse: the later one wins), -1 if none."""
    out = np.full(schedule.memory_slots, -1, dtype=np.int64)
    for acq in sorted(schedule.acquires, key=lambda a: a.t0):  # stable: instruction order within a time
        out[acq.memory_slot] = acq.qubit
    return out


def _events(schedule: Schedule, system: TransmonSystem) -> list[Event]:
    by_time: dict[int, list[Acquire]] = defaultdict(list)
    inside = set(system.qubits)
    for acq in schedule.acquires:
        if acq.qubit in inside:
            by_time[acq.t0].append(acq)
    events = []
    for t in sorted(by_time):
        acqs = by_time[t]
        positions = tuple(sorted({system.position(a.qubit) for a in acqs}))
        writes = tuple((a.memory_slot, system.position(a.qubit)) for a in acqs)
        events.append(Event(t, positions, writes))
    return events


def _envelope(play: Play, start: int, stop: int) -> np.ndarray:
    """The drive's complex amplitude in the qubit frame over samples ``[start, stop)`` (carrier aside).

    The IQ envelope, ``samples * exp(i phase)``, enters conjugated (the lower-sideband convention of
    IBM/Qiskit hardware): a pulse of frame phase ``phi`` then rotates about ``cos(phi) X + sin(phi) Y``
    and ``rz(theta)`` is ``ShiftPhase(-theta)``, as in every Qiskit-generated job. The carrier's
    frequency and its continuity offset (``carrier_phase - phase``) enter as they are, so a drive above
    the qubit frequency is physically above it and the transmon's 1-2 transition stays below f01.
    """
    iq = play.samples[start - play.t0 : stop - play.t0] * np.exp(1j * play.phase)
    return np.conj(iq) * np.exp(1j * (play.carrier_phase - play.phase))


class _Compiler:
    def __init__(self, schedule: Schedule, system: TransmonSystem):
        self.schedule = schedule
        self.system = system
        self.dt_ns = schedule.dt / NS
        self.n = len(system.qubits)
        self.channels = system.channels
        self.width = row_width(system)
        self.frame = np.zeros(self.n)
        self.substeps = 1
        rotations = [c.rotation for c in system.controls]
        self.rotation = np.array(rotations, dtype=float).reshape(len(rotations), self.n)

    @property
    def _blank(self) -> np.ndarray:
        """Columns 2: of a step row in the current frame with all controls off."""
        blank = np.zeros(self.width - 2)
        blank[: self.n] = self.frame
        return blank

    def _idle(self, length: int) -> np.ndarray:
        row = np.zeros((1, self.width))
        row[0, 1] = length * self.dt_ns
        row[0, 2 : 2 + self.n] = self.frame
        return row

    def _switch(self, t: int, new: np.ndarray) -> np.ndarray:
        row = np.zeros((1, self.width))
        row[0, 0] = 1.0
        row[0, 1] = t * self.dt_ns
        row[0, 2 : 2 + self.n] = new - self.frame
        self.frame = new
        return row

    def _driven(self, start: int, stop: int, plays: list[Play]) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        idx = [self.channels[p.channel] for p in plays]
        rot = self.rotation[idx]
        detuning = np.array([TWO_PI * (p.frequency - self.system.controls[i].reference) * NS
                             for p, i in zip(plays, idx, strict=True)])
        residual = detuning - rot @ self.frame
        if len(plays) == 1 and abs(residual[0]) <= ZERO_RATE:  # the common case: one play, in frame
            rows = np.empty((stop - start, self.width))
            rows[:, 0] = 0.0
            rows[:, 1] = self.dt_ns
            rows[:, 2:] = self._blank
            z = _envelope(plays[0], start, stop)
            col = 2 + self.n + 2 * idx[0]
            rows[:, col] = z.real
            rows[:, col + 1] = z.imag
            out.append(rows)
            return out
        if np.max(np.abs(residual)) > ZERO_RATE:
            step, *_ = np.linalg.lstsq(rot, residual, rcond=None)
            out.append(self._switch(start, self.frame + step))
            residual = detuning - rot @ self.frame
        residual = np.where(np.abs(residual) > ZERO_RATE, residual, 0.0)
        k = max(1, math.ceil(float(np.max(np.abs(residual))) * self.dt_ns / MAX_PHASE_STEP - 1e-9))
        self.substeps = max(self.substeps, k)
        length = stop - start
        rows = np.zeros((length * k, self.width))
        rows[:, 1] = self.dt_ns / k
        rows[:, 2 : 2 + self.n] = self.frame
        t_mid = (start + (np.arange(length * k) + 0.5) / k) * self.dt_ns
        for p, i, r in zip(plays, idx, residual, strict=True):
            z = np.repeat(_envelope(p, start, stop), k)
            if r != 0.0:
                z = z * np.exp(1j * r * t_mid)
            col = 2 + self.n + 2 * i
            rows[:, col] = z.real
            rows[:, col + 1] = z.imag
        out.append(rows)
        return out

    def count(self, substeps: dict[tuple[tuple[str, float], ...], int] | None = None) -> int:
        """The step rows :meth:`compile` builds, counted without building them (an upper bound).

        Mirrors the decisions of :meth:`_driven` without tracking the frame, which they do not need: a
        play alone in an interval is brought into its frame by one switch, so it costs a row per change
        of sample value (equal samples merge); overlapping plays whose carriers one frame makes static
        cost a row per sample (at most); otherwise each sample is cut into ``k`` sub-steps, and ``k``
        depends only on what the least-squares frame cannot absorb (the projection of the detunings off
        the range of the rotation vectors), so it is computed once per distinct set of overlapping
        plays (``substeps`` caches it across schedules). Value changes are counted for all plays in one
        vectorised pass; intervals come from one sweep over the start and end times.
        """
        plays = sorted((p for p in self.schedule.plays if p.channel in self.channels), key=lambda p: p.t0)
        if not plays:
            return 1
        n = len(plays)
        if n == 1:  # a drive alone (a sweep's point): its changes of value, two switches, the rest of the schedule
            samples = plays[0].samples
            return 1 + int(np.count_nonzero(samples[1:] != samples[:-1])) + 2 + 1
        starts = np.fromiter((p.t0 for p in plays), np.int64, n)
        lengths = np.fromiter((p.samples.shape[0] for p in plays), np.int64, n)
        ends = starts + lengths
        flat = np.concatenate([p.samples for p in plays])
        changes = np.concatenate(([0], np.cumsum(flat[1:] != flat[:-1])))  # changes[i]: up to sample i
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        if bool(np.all(starts[1:] >= np.maximum.accumulate(ends)[:-1])):  # no overlaps: vectorised
            distinct = 1 + changes[offsets[1:] - 1] - changes[offsets[:-1]]
            return int(distinct.sum()) + 2 * n + 1
        counts = changes.tolist()
        first = offsets.tolist()
        t0s = starts.tolist()
        t1s = ends.tolist()

        def distinct(i: int, a: int, b: int) -> int:
            return 1 + counts[first[i] + b - t0s[i] - 1] - counts[first[i] + a - t0s[i]]

        cache = {} if substeps is None else substeps
        marks = sorted({0, self.schedule.duration, *t0s, *t1s})
        total = 0
        active: list[int] = []
        nxt = 0
        for a, b in itertools.pairwise(marks):
            active = [i for i in active if t1s[i] > a]
            while nxt < n and t0s[nxt] <= a:
                if t1s[nxt] > a:
                    active.append(nxt)
                nxt += 1
            if not active:
                total += 1
                continue
            if len(active) == 1:
                total += 1 + distinct(active[0], a, b)
                continue
            key = tuple((plays[i].channel, plays[i].frequency) for i in active)
            if key not in cache:
                cache[key] = self._substeps_for([plays[i] for i in active])
            k = cache[key]
            rows = min(b - a, sum(distinct(i, a, b) for i in active)) if k == 1 else (b - a) * k
            total += 1 + rows
        return total

    def _substeps_for(self, plays: list[Play]) -> int:
        """Sub-steps per sample of overlapping plays in the frame that makes most of their carriers static."""
        idx = [self.channels[p.channel] for p in plays]
        rot = self.rotation[idx]
        detuning = np.array([TWO_PI * (p.frequency - self.system.controls[i].reference) * NS
                             for p, i in zip(plays, idx, strict=True)])
        step, *_ = np.linalg.lstsq(rot, detuning, rcond=None)
        residual = detuning - rot @ step
        residual = np.where(np.abs(residual) > ZERO_RATE, residual, 0.0)
        return max(1, math.ceil(float(np.max(np.abs(residual))) * self.dt_ns / MAX_PHASE_STEP - 1e-9))

    def compile(self, until_end: bool) -> Program:
        schedule, system = self.schedule, self.system
        events = _events(schedule, system)
        plays = [p for p in schedule.plays if p.channel in self.channels]
        stop = schedule.duration if until_end else (events[-1].time if events else 0)
        marks = {0, stop} | {e.time for e in events if e.time <= stop}
        for p in plays:
            marks.update(t for t in (p.t0, p.t1) if t <= stop)
        bounds = sorted(marks)
        event_at = {e.time: e for e in events}
        phases: list[np.ndarray] = []
        current: list[np.ndarray] = []
        for a, b in itertools.pairwise(bounds):
            if a in event_at:
                phases.append(_merge(current, self.width))
                current = []
            active = [p for p in plays if p.t0 <= a and p.t1 >= b]
            current.extend(self._driven(a, b, active) if active else [self._idle(b - a)])
        if stop in event_at:
            phases.append(_merge(current, self.width))
            current = []
        if until_end:
            current.append(self._switch(stop, np.zeros(self.n)))
            phases.append(_merge(current, self.width))
        kept_events = [e for e in events if e.time <= stop]
        slots = schedule.memory_slots
        slot_qubit = np.full(slots, -1, dtype=np.int64)
        for e in kept_events:
            for slot, pos in e.writes:
                slot_qubit[slot] = system.qubits[pos]
        steps = sum(len(p) for p in phases)
        return Program(phases, kept_events, slots, slot_qubit, self.substeps,
                       {"steps": steps, "events": len(kept_events)})


def _merge(chunks: list[np.ndarray], width: int) -> np.ndarray:
    """Run-length merge of identical consecutive evolution rows (their durations add up); frame switches
    that change nothing and empty evolutions are dropped. The common case, a sampled pulse whose
    samples all differ, is recognised with a few whole-array tests and returned as it is."""
    if not chunks:
        return np.zeros((0, width))
    rows = (chunks[0] if len(chunks) == 1 else np.concatenate(chunks, axis=0)) + 0.0  # -0.0 -> 0.0
    switch = rows[:, 0] == 1.0
    switches = bool(switch.any())
    keep = np.where(switch, np.any(rows[:, 2:] != 0.0, axis=1), rows[:, 1] > 0) if switches else rows[:, 1] > 0
    if not keep.all():
        rows = rows[keep]
        switch = switch[keep]
    if len(rows) < 2:
        return rows
    same = np.all(rows[1:, 2:] == rows[:-1, 2:], axis=1)
    if switches:
        same &= ~(switch[1:] | switch[:-1])
    if not same.any():
        return rows
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    merged = rows[starts].copy()
    merged[:, 1] = np.add.reduceat(rows[:, 1], starts)
    return merged


def count_steps(schedule: Schedule, system: TransmonSystem,
                substeps: dict[tuple[tuple[str, float], ...], int] | None = None) -> int:
    """The step rows :func:`compile_schedule` would build for ``schedule`` (an upper bound), cheaply.

    ``substeps`` caches the sub-steps of each set of overlapping plays; pass one dict for all the
    schedules of a job on one system."""
    return _Compiler(schedule, system).count(substeps)


def compile_schedule(schedule: Schedule, system: TransmonSystem, *, until_end: bool = False) -> Program:
    """The program of one schedule on ``system``.

    By default the evolution stops at the last acquisition (nothing after it can change an outcome);
    ``until_end`` runs to the end of the schedule and returns to the qubit frame there, for callers
    that want the final state (calibration, tests).
    """
    return _Compiler(schedule, system).compile(until_end)
