"""Timing checks a schedule view marks: what an instrument would object to, found before it runs.

The rules are data (:class:`TimingRules`); each executor declares its own through
:meth:`workbench.executors.base.QuantumExecutor.timing_rules`, so the view asks the device's
executor and never knows an instrument. Unlike an executor's ``check`` (which refuses a job at the
first problem), :func:`check_timing` finds every offending row and only reports: a schedule with
findings can still be inspected, and on a simulator still run.

Everything is vectorised over the :class:`~workbench.schedule.table.EventTable`; the text of a
finding is only formatted when it is shown (a million off-grid pulses must not make a million strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from workbench.schedule.ir import parse_channel
from workbench.schedule.table import ACQUIRE, FRAME, PLAY, EventTable

#: Rule codes, in the order :attr:`Findings.rule` uses.
RULES = ("overlap", "grid", "spacing", "acquire-gap", "frame-offset")
OVERLAP, GRID, SPACING, ACQUIRE_GAP, FRAME_OFFSET = range(5)


@dataclass(frozen=True)
class TimingRules:
    """What an instrument requires of a schedule's timing (``None``: not checked).

    ``grid_ns``: instruction starts and durations on this grid (Qblox: 4 ns). ``min_spacing_ns``:
    least time between two distinct start times on one channel, plays and acquisitions apart from
    frame changes (one sequencer / NCO). ``min_acquire_gap_ns``: least time between the starts of
    two acquisitions of one qubit. ``max_frame_offset_hz``: largest distance of a channel's frame
    from the device's calibrated frequency. ``overlaps``: flag a qubit driven during its own readout
    and a single-qubit pulse during a two-qubit pulse on its coupler.
    """

    instrument: str = ""
    grid_ns: float | None = None
    min_spacing_ns: float | None = None
    min_acquire_gap_ns: float | None = None
    max_frame_offset_hz: float | None = 500e6
    overlaps: bool = True

    def describe(self) -> list[str]:
        """The rules in words, for pages and docs."""
        out = []
        if self.overlaps:
            out.append("no drive of a qubit during its readout or during a two-qubit pulse on its coupler")
        if self.grid_ns:
            out.append(f"starts and durations on the {self.grid_ns:g} ns grid")
        if self.min_spacing_ns:
            out.append(f"at least {self.min_spacing_ns:g} ns between instruction starts on one channel")
        if self.min_acquire_gap_ns:
            out.append(f"at least {self.min_acquire_gap_ns:g} ns between acquisitions of one qubit")
        if self.max_frame_offset_hz:
            out.append(f"frames within {self.max_frame_offset_hz / 1e6:g} MHz of the calibrated frequency")
        return out


@dataclass
class Findings:
    """What :func:`check_timing` found: parallel arrays, one entry per (row, rule), sorted by row.

    ``other`` is the row the finding relates to (the readout a drive overlaps, the earlier acquisition
    that is too close), -1 when none; ``value`` the measured quantity (ns or Hz).
    """

    table: EventTable
    rules: TimingRules
    row: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    rule: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    other: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    value: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def counts(self) -> dict[str, int]:
        """Findings per rule name (rules with none left out)."""
        found = np.bincount(self.rule, minlength=len(RULES))
        return {RULES[i]: int(n) for i, n in enumerate(found) if n}

    def flagged(self) -> np.ndarray:
        """A boolean per table row: does any rule flag it?"""
        mask = np.zeros(len(self.table), dtype=bool)
        mask[self.row] = True
        return mask

    def for_rows(self, rows: np.ndarray) -> dict[int, list[str]]:
        """Messages of the findings on some rows (row -> messages)."""
        lo = np.searchsorted(self.row, rows, side="left")
        hi = np.searchsorted(self.row, rows, side="right")
        return {int(r): [self.message(i) for i in range(a, b)] for r, a, b in zip(rows, lo, hi, strict=True) if b > a}

    def message(self, i: int) -> str:
        """One finding in words."""
        t = self.table
        row, rule, other, value = int(self.row[i]), int(self.rule[i]), int(self.other[i]), float(self.value[i])
        ns = t.dt_ns
        channel = t.channels[int(t.channel[row])]
        where = f"{channel} at {t.t0[row] * ns:g} ns"
        rules = self.rules
        if rule == OVERLAP:
            what = t.channels[int(t.channel[other])]
            label = t.gate_label(other) or t.name_of(other)
            return f"{where} plays during {label} on {what} ({t.t0[other] * ns:g}-{t.t1[other] * ns:g} ns)"
        if rule == GRID:
            return f"{where}: start or duration off the {rules.grid_ns:g} ns grid ({value:g} ns)"
        if rule == SPACING:
            return f"{where} starts {value:g} ns after the previous start; needs {rules.min_spacing_ns:g} ns"
        if rule == ACQUIRE_GAP:
            return (f"{where}: acquisition {value:g} ns after the previous one; the instrument needs "
                    f"{rules.min_acquire_gap_ns:g} ns")
        return (f"{where}: frame at {t.frequency[row] / 1e9:.6g} GHz is {value / 1e6:+.4g} MHz from the "
                f"calibrated frequency (limit {rules.max_frame_offset_hz / 1e6:g} MHz)")


def check_timing(table: EventTable, rules: TimingRules, *, frequencies: Mapping[str, float] | None = None,
                 couplers: Mapping[str, tuple[int, ...]] | None = None) -> Findings:
    """Every row ``rules`` objects to. ``frequencies``: the device's calibrated frame frequency per
    channel (for the frame-offset rule); ``couplers``: control channel -> its qubits (for overlaps)."""
    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    if rules.overlaps:
        parts += _overlaps(table, couplers or {})
    if rules.grid_ns:
        parts += _grid(table, rules.grid_ns)
    if rules.min_spacing_ns:
        parts += _spacing(table, rules.min_spacing_ns)
    if rules.min_acquire_gap_ns:
        parts += _acquire_gaps(table, rules.min_acquire_gap_ns)
    if rules.max_frame_offset_hz and frequencies:
        parts += _frame_offsets(table, rules.max_frame_offset_hz, frequencies)
    found = Findings(table, rules)
    parts = [p for p in parts if p[0].size]
    if not parts:
        return found
    row = np.concatenate([p[0] for p in parts])
    rule = np.concatenate([np.full(p[0].size, p[1], dtype=np.int8) for p in parts])
    other = np.concatenate([p[2] for p in parts])
    value = np.concatenate([p[3] for p in parts])
    order = np.lexsort((rule, row))
    found.row, found.rule, found.other, found.value = row[order], rule[order], other[order], value[order]
    return found


def _intervals(table: EventTable, channels: list[str], kinds: tuple[int, ...]) -> np.ndarray:
    codes = [table.channel_code(c) for c in channels]
    codes = [c for c in codes if c >= 0]
    if not codes:
        return np.zeros(0, dtype=np.int64)
    mask = np.isin(table.channel, codes) & np.isin(table.kind, kinds) & (table.duration > 0)
    return np.flatnonzero(mask)


def _overlapping(table: EventTable, rows: np.ndarray, busy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (sorted by t0) that overlap any interval of ``busy`` rows; the busy row overlapped."""
    if rows.size == 0 or busy.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    busy = busy[np.argsort(table.t0[busy], kind="stable")]
    b0, b1 = table.t0[busy], table.t1[busy]
    # the busy interval starting last before each row's end; earlier ones may be longer: running max end
    reach = np.maximum.accumulate(b1)
    which = np.maximum.accumulate(np.where(b1 == reach, np.arange(busy.size), 0))
    at = np.searchsorted(b0, table.t1[rows], side="left") - 1
    ok = at >= 0
    hit = np.zeros(rows.size, dtype=bool)
    hit[ok] = reach[at[ok]] > table.t0[rows[ok]]
    return rows[hit], busy[which[at[hit]]]


def _overlaps(table: EventTable, couplers: Mapping[str, tuple[int, ...]]) -> list:
    out = []
    qubits = sorted({parse_channel(c)[1] for c in table.channels if parse_channel(c)[0] in "dma"})
    for q in qubits:
        drive = _intervals(table, [f"d{q}"], (PLAY,))
        readout = _intervals(table, [f"m{q}", f"a{q}"], (PLAY, ACQUIRE))
        rows, other = _overlapping(table, drive, readout)
        out.append((rows, OVERLAP, other, np.zeros(rows.size)))
    for channel, pair in couplers.items():
        coupler = _intervals(table, [channel], (PLAY,))
        drive = _intervals(table, [f"d{q}" for q in pair], (PLAY,))
        rows, other = _overlapping(table, drive, coupler)
        out.append((rows, OVERLAP, other, np.zeros(rows.size)))
    return out


def _grid(table: EventTable, grid_ns: float) -> list:
    ns = table.dt_ns
    start = table.t0 * ns
    length = table.duration * ns
    off_start = np.abs(start - np.round(start / grid_ns) * grid_ns)
    off_length = np.abs(length - np.round(length / grid_ns) * grid_ns)
    tol = 1e-6
    bad = np.flatnonzero((off_start > tol) | ((table.kind != FRAME) & (off_length > tol)))
    value = np.where(off_start[bad] > tol, start[bad] % grid_ns, length[bad] % grid_ns)
    return [(bad, GRID, np.full(bad.size, -1, dtype=np.int64), value)]


def _spacing(table: EventTable, min_ns: float) -> list:
    """Distinct start times closer than ``min_ns`` on one channel (plays and acquisitions; frame changes
    among themselves): the later start is flagged."""
    out = []
    ns = table.dt_ns
    for group in ((PLAY, ACQUIRE), (FRAME,)):
        rows = np.flatnonzero(np.isin(table.kind, group))
        if rows.size < 2:
            continue
        rows = rows[np.lexsort((table.t0[rows], table.channel[rows]))]
        same = table.channel[rows[1:]] == table.channel[rows[:-1]]
        gap = (table.t0[rows[1:]] - table.t0[rows[:-1]]) * ns
        bad = same & (gap > 0) & (gap < min_ns)
        out.append((rows[1:][bad], SPACING, rows[:-1][bad], gap[bad]))
    return out


def _acquire_gaps(table: EventTable, min_ns: float) -> list:
    rows = np.flatnonzero(table.kind == ACQUIRE)
    if rows.size < 2:
        return []
    rows = rows[np.lexsort((table.t0[rows], table.channel[rows]))]
    same = table.channel[rows[1:]] == table.channel[rows[:-1]]
    gap = (table.t0[rows[1:]] - table.t0[rows[:-1]]) * table.dt_ns
    bad = same & (gap < min_ns)
    return [(rows[1:][bad], ACQUIRE_GAP, rows[:-1][bad], gap[bad])]


def _frame_offsets(table: EventTable, max_hz: float, frequencies: Mapping[str, float]) -> list:
    """Frame changes that put a channel too far from its calibrated frequency, and the first play of a
    channel whose initial frame (the job's LO setting) already is."""
    reference = np.array([frequencies.get(c, np.nan) for c in table.channels] or [np.nan])
    rows = np.flatnonzero(table.kind == FRAME)
    first_plays = []
    for code, name in enumerate(table.channels):
        if name[0] == "a":
            continue
        on = np.flatnonzero((table.channel == code) & np.isin(table.kind, (PLAY, FRAME)))
        if on.size and table.kind[on[0]] == PLAY:
            first_plays.append(on[0])
    rows = np.sort(np.concatenate([rows, np.asarray(first_plays, dtype=np.int64)]))
    if rows.size == 0:
        return []
    offset = table.frequency[rows] - reference[table.channel[rows]]
    bad = np.abs(offset) > max_hz  # NaN (no calibrated frequency) compares False
    return [(rows[bad], FRAME_OFFSET, np.full(int(bad.sum()), -1, dtype=np.int64), offset[bad])]
