"""Plain data for drawing a schedule, at the level of detail a window of pixels needs.

Kept apart from plotly so that it is testable with numbers alone and so the figure code is only
about presentation. Nothing here walks the IR objects: :class:`LaneIndex` splits the schedule's
:class:`~workbench.schedule.table.EventTable` into per-channel arrays once, and every drawing of a
window is array arithmetic on the rows inside it, so a schedule of a million instructions is
redrawn (after a zoom, a pan) in the time its visible rows take, not its length.

**Exact or decimated.** When the samples inside the window fit the point budget of a lane, every
sample is drawn (points at sample midpoints, NaN between pulses) with the pulse it belongs to.
Otherwise the window is cut into buckets of equal width and each bucket keeps the minimum and the
maximum of the parts drawn, so every peak stays visible at any zoom: pulses shorter than a bucket
contribute their waveform's extremes (computed once per distinct waveform), longer ones the extremes
of their samples inside each bucket.

**Time map.** Times are drawn through a :class:`TimeMap`: the identity, or a compression that folds
idle stretches and long instructions (readouts) to a fixed width so the gates around them stay wide
(:func:`compressed_time`). Buckets are equal in drawn width, so a folded readout costs a few buckets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from workbench.schedule.ir import Schedule, parse_channel
from workbench.schedule.table import ACQUIRE, DELAY, FRAME, PLAY, EventTable, event_table

DEFAULT_MAX_POINTS = 4000  # per lane: about twice the pixels of a wide screen (min and max per bucket)
Mode = Literal["iq", "envelope"]


# ------------------------------------------------------------------------------------------ time map


@dataclass(frozen=True)
class TimeMap:
    """A monotone piecewise-linear map from real time (ns) to drawn time, and back.

    ``real`` and ``drawn`` are the breakpoints (equal length, increasing); beyond them the map has
    slope 1. ``folds`` are the folded stretches as ``(real start, real end, drawn start, drawn end)``.
    """

    real: np.ndarray = field(default_factory=lambda: np.zeros(0))
    drawn: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def identity(self) -> bool:
        return self.real.size == 0

    def __call__(self, t: np.ndarray | float) -> np.ndarray:
        if self.identity:
            return np.asarray(t, dtype=float)
        return _extrapolate(np.asarray(t, dtype=float), self.real, self.drawn)

    def inverse(self, x: np.ndarray | float) -> np.ndarray:
        if self.identity:
            return np.asarray(x, dtype=float)
        return _extrapolate(np.asarray(x, dtype=float), self.drawn, self.real)

    def folds(self) -> list[tuple[float, float, float, float]]:
        """Folded stretches: consecutive breakpoints whose drawn width is shorter than the real one."""
        if self.identity:
            return []
        dr, dd = np.diff(self.real), np.diff(self.drawn)
        at = np.flatnonzero(dd < dr - 1e-9)
        return [(float(self.real[i]), float(self.real[i + 1]), float(self.drawn[i]), float(self.drawn[i + 1]))
                for i in at]


def _extrapolate(t: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    flat = np.atleast_1d(t)
    out = np.interp(flat, xp, fp)
    low, high = flat < xp[0], flat > xp[-1]
    out[low] = fp[0] + (flat[low] - xp[0])
    out[high] = fp[-1] + (flat[high] - xp[-1])
    return out.reshape(np.shape(t))


def compressed_time(table: EventTable, channels: list[str] | None = None, *, long_ns: float | None = None,
                    folded_ns: float | None = None) -> TimeMap:
    """Fold every stretch in which the shown channels only idle or run long instructions.

    An instruction is long when it lasts more than ``long_ns`` (default: four times the median play,
    at least 100 ns: readouts, long delays); stretches longer than ``long_ns`` without a short
    instruction or a frame change are drawn ``folded_ns`` wide (default: twice the median play).
    """
    ns = table.dt_ns
    rows = np.arange(len(table))
    if channels is not None:
        codes = [table.channel_code(c) for c in channels]
        rows = rows[np.isin(table.channel, [c for c in codes if c >= 0])]
    if rows.size == 0:
        return TimeMap()
    plays = rows[table.kind[rows] == PLAY]
    typical = float(np.median(table.duration[plays])) * ns if plays.size else 50.0
    long_ns = long_ns if long_ns is not None else max(4 * typical, 100.0)
    folded_ns = folded_ns if folded_ns is not None else max(2 * typical, 20.0)
    t0 = table.t0[rows] * ns
    t1 = table.t1[rows] * ns
    short = (t1 - t0) <= long_ns
    t0, t1 = t0[short], t1[short]  # rows are in time order already
    end = float(table.t1.max() * ns)
    if t0.size == 0:
        starts, ends = np.zeros(0), np.zeros(0)
    else:
        reach = np.maximum.accumulate(t1)
        new = np.concatenate(([True], t0[1:] > reach[:-1]))
        starts = t0[new]
        ends = np.concatenate((reach[np.flatnonzero(new)[1:] - 1], [reach[-1]]))
    gap_start = np.concatenate(([0.0], ends))
    gap_end = np.concatenate((starts, [end]))
    fold = (gap_end - gap_start) > max(long_ns, folded_ns)
    if not fold.any():
        return TimeMap()
    g0, g1 = gap_start[fold], gap_end[fold]
    real = np.empty(2 * g0.size)
    real[0::2], real[1::2] = g0, g1
    lost = np.concatenate(([0.0], np.cumsum((g1 - g0) - folded_ns)))
    drawn = np.empty_like(real)
    drawn[0::2] = g0 - lost[:-1]
    drawn[1::2] = g0 - lost[:-1] + folded_ns
    return TimeMap(real, drawn)


# ------------------------------------------------------------------------------------------ lanes


@dataclass(frozen=True)
class Highlight:
    """A stretch of one lane to shade (a difference between two schedules), with its explanation."""

    channel: str
    t0_ns: float
    t1_ns: float
    text: str


@dataclass
class Polyline:
    """One polyline: drawn times (ns, NaN separating pieces), values, and per point the pulse's label
    and the real time (ns; differs from ``x`` where time is folded)."""

    x: np.ndarray
    y: np.ndarray
    text: np.ndarray | None = None
    t: np.ndarray | None = None


@dataclass
class LaneWindow:
    """What one channel shows in a window: waveform parts (``real``/``imag``, or ``envelope``)."""

    channel: str
    exact: bool
    samples: int  # samples of the channel inside the window
    parts: dict[str, Polyline]
    rows: np.ndarray  # play rows inside the window


class LaneIndex:
    """Per-channel play rows (in time order) of one schedule, and per-waveform extremes."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.table = table = event_table(schedule)
        self.ns = table.dt_ns
        plays = np.flatnonzero(table.kind == PLAY)
        self.plays: dict[str, np.ndarray] = {}
        by_channel = table.channel[plays]
        order = np.argsort(by_channel, kind="stable")
        sorted_codes = by_channel[order]
        bounds = np.searchsorted(sorted_codes, np.arange(len(table.channels) + 1))
        for code, name in enumerate(table.channels):
            self.plays[name] = plays[order[bounds[code]:bounds[code + 1]]]
        waves = table.waves
        self.wave_min = np.array([[w.real.min(), w.imag.min(), np.abs(w).min()] for w in waves]).reshape(-1, 3)
        self.wave_max = np.array([[w.real.max(), w.imag.max(), np.abs(w).max()] for w in waves]).reshape(-1, 3)
        self._labels: np.ndarray | None = None
        self._rows: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}

    @property
    def channels(self) -> list[str]:
        return list(self.table.channels)

    def rows(self, channel: str, kinds: tuple[int, ...]) -> np.ndarray:
        """Rows of some kinds on a channel, in time order (cached: every redraw asks again)."""
        key = (channel, kinds)
        found = self._rows.get(key)
        if found is None:
            found = self._rows[key] = self.table.rows_on(channel, list(kinds))
        return found

    def peak(self, channel: str) -> float:
        """Largest ``|sample|`` of a channel (0 when it plays nothing)."""
        rows = self.plays.get(channel)
        if rows is None or rows.size == 0:
            return 0.0
        waves = np.unique(self.table.wave[rows])
        return float(self.wave_max[waves, 2].max())

    def labels(self) -> np.ndarray:
        """Per row: the gate label, else the instruction's name (object array, built once)."""
        if self._labels is None:
            t = self.table
            gates = np.array([o.label for o in t.origins] + [""], dtype=object)
            has = t.origin >= 0
            if has.all():  # compiled circuits: every instruction has its gate, no names needed
                self._labels = gates[t.origin]
            else:
                out = np.array([*t.names, ""], dtype=object)[t.name]
                out[has] = gates[t.origin[has]]
                self._labels = out
        return self._labels

    def rows_between(self, rows: np.ndarray, a: float, b: float) -> np.ndarray:
        """Rows (of one channel, in time order, not overlapping) that overlap [a, b) in samples."""
        if rows.size == 0:
            return rows
        t0, t1 = self.table.t0[rows], self.table.t1[rows]
        lo = np.searchsorted(t1, a, side="right")
        hi = np.searchsorted(t0, b, side="left")
        return rows[lo:hi]

    def lane(self, channel: str, window_ns: tuple[float, float], tmap: TimeMap, drawn: tuple[float, float],
             buckets: int, max_points: int, mode: Mode = "iq", hover: bool = True) -> LaneWindow:
        """The waveform of ``channel`` inside ``window_ns`` (real time; ``drawn``: the same window in drawn
        time), exact when its samples fit ``max_points``, else min/max over ``buckets`` equal drawn widths."""
        table = self.table
        ns = self.ns
        a, b = window_ns[0] / ns, window_ns[1] / ns
        rows = self.rows_between(self.plays.get(channel, np.zeros(0, np.int64)), a, b)
        t0, t1 = table.t0[rows], table.t1[rows]
        visible = np.minimum(t1, b) - np.maximum(t0, a)
        total = int(np.ceil(visible.clip(0).sum())) if rows.size else 0
        keys = ("envelope",) if mode == "envelope" else ("real", "imag")
        if rows.size == 0:
            empty = {k: Polyline(np.zeros(0), np.zeros(0), np.zeros(0, dtype=object) if hover else None, np.zeros(0))
                     for k in keys}
            return LaneWindow(channel, True, 0, empty, rows)
        if total <= max_points:
            return LaneWindow(channel, True, total, self._exact(rows, a, b, tmap, keys, hover), rows)
        return LaneWindow(channel, False, total, self._decimated(rows, a, b, tmap, drawn, buckets, keys, hover), rows)

    def _exact(self, rows: np.ndarray, a: float, b: float, tmap: TimeMap, keys: tuple[str, ...],
               hover: bool) -> dict[str, Polyline]:
        table = self.table
        ns = self.ns
        pieces_t, pieces_v, pieces_r = [], [], []
        for row in rows:
            start, end = int(table.t0[row]), int(table.t1[row])
            lo, hi = max(math.floor(a) - start, 0), min(math.ceil(b), end) - start
            wave = table.waves[int(table.wave[row])]
            pieces_t.append(np.append((start + np.arange(lo, hi) + 0.5) * ns, np.nan))
            pieces_v.append(np.append(wave[lo:hi], np.nan))
            pieces_r.append(np.full(hi - lo + 1, row))
        t = np.concatenate(pieces_t)
        v = np.concatenate(pieces_v)
        x = tmap(t)
        text = self.labels()[np.concatenate(pieces_r)] if hover else None
        values = {"real": v.real, "imag": v.imag, "envelope": np.abs(v)}
        return {k: Polyline(x, values[k], text, t) for k in keys}

    def _decimated(self, rows: np.ndarray, a: float, b: float, tmap: TimeMap, drawn: tuple[float, float],
                   buckets: int, keys: tuple[str, ...], hover: bool) -> dict[str, Polyline]:
        table = self.table
        ns = self.ns
        x0, x1 = drawn
        width = max((x1 - x0) / buckets, 1e-12)
        parts = [k for k in ("real", "imag", "envelope") if k in keys]
        column = {"real": 0, "imag": 1, "envelope": 2}
        lo = np.full((buckets, len(parts)), np.inf)
        hi = np.full((buckets, len(parts)), -np.inf)
        first = np.full(buckets, -1, dtype=np.int64)  # a play row in each bucket, for hover
        count = np.zeros(buckets, dtype=np.int64)
        d0, d1 = tmap(table.t0[rows] * ns), tmap(table.t1[rows] * ns)
        short = (d1 - d0) <= width
        # pulses narrower than a bucket: their waveform's extremes, in the bucket of their middle
        srows = rows[short]
        if srows.size:
            ids = np.clip(np.floor(((d0[short] + d1[short]) / 2 - x0) / width).astype(np.int64), 0, buckets - 1)
            starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
            where = ids[starts]
            waves = table.wave[srows]
            for j, part in enumerate(parts):
                c = column[part]
                lo[where, j] = np.minimum(lo[where, j], np.minimum.reduceat(self.wave_min[waves, c], starts))
                hi[where, j] = np.maximum(hi[where, j], np.maximum.reduceat(self.wave_max[waves, c], starts))
            first[where] = srows[starts]
            count[where] += np.diff(np.append(starts, ids.size))
        # longer pulses: their samples inside the window, bucket by bucket
        lrows = rows[~short]
        if lrows.size:
            pieces_x, pieces_v, pieces_r = [], [], []
            for row in lrows:
                start, end = int(table.t0[row]), int(table.t1[row])
                s_lo, s_hi = max(math.floor(a) - start, 0), min(math.ceil(b), end) - start
                if s_hi <= s_lo:
                    continue
                wave = table.waves[int(table.wave[row])]
                pieces_x.append((start + np.arange(s_lo, s_hi) + 0.5) * ns)
                pieces_v.append(wave[s_lo:s_hi])
                pieces_r.append(row)
            if pieces_x:
                lengths = np.array([p.size for p in pieces_x])
                sx = tmap(np.concatenate(pieces_x))
                sv = np.concatenate(pieces_v)
                ids = np.floor((sx - x0) / width).astype(np.int64)
                inside = (ids >= 0) & (ids < buckets)
                owner = np.repeat(np.array(pieces_r), lengths)
                ids, sv, owner = ids[inside], sv[inside], owner[inside]
                if ids.size:
                    starts = np.flatnonzero(np.concatenate(([True], (ids[1:] != ids[:-1]) | (owner[1:] != owner[:-1]))))
                    where = ids[starts]
                    values = {"real": sv.real, "imag": sv.imag, "envelope": np.abs(sv)}
                    for j, part in enumerate(parts):
                        np.minimum.at(lo[:, j], where, np.minimum.reduceat(values[part], starts))
                        np.maximum.at(hi[:, j], where, np.maximum.reduceat(values[part], starts))
                    empty = first[where] < 0
                    first[where[empty]] = owner[starts][empty]
                    np.add.at(count, where, 1)
        filled = np.flatnonzero(first >= 0)
        left = x0 + filled * width
        gap = np.concatenate((np.diff(filled) > 1, [False]))
        n = filled.size
        x = np.empty(3 * n)
        x[0::3], x[1::3], x[2::3] = left + width / 4, left + 3 * width / 4, np.nan
        keep = np.ones(3 * n, dtype=bool)
        keep[2::3] = gap  # NaN separators only between buckets that do not touch
        text = real_t = None
        if hover:
            labels = self.labels()
            bucket_text = labels[first[filled]].copy()
            many = count[filled] > 1
            bucket_text[many] = [f"{a} +{c - 1}" for a, c in zip(bucket_text[many], count[filled][many], strict=True)]
            text = np.repeat(bucket_text, 3)[keep]
            real_t = tmap.inverse(x[keep])
        out = {}
        for j, part in enumerate(parts):
            y = np.empty(3 * n)
            y[0::3], y[1::3], y[2::3] = lo[filled, j], hi[filled, j], np.nan
            out[part] = Polyline(x[keep], y[keep], text, real_t)
        return out


# ------------------------------------------------------------------------------------------ other marks


def frame_segments(index: LaneIndex, channel: str, window_ns: tuple[float, float], tmap: TimeMap,
                   drawn: tuple[float, float], buckets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The channel's frame over the window as constant segments: (drawn edges, phase, frequency, row).

    ``row`` is the frame change that started the segment (-1: the initial frame). Segments narrower
    than a bucket are merged into the next one (the frame a pixel shows is the last one set in it).
    """
    table = index.table
    ns = index.ns
    rows = index.rows(channel, (FRAME,))
    initial = index.schedule.initial_frames.get(channel)
    if initial is None and rows.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    a, b = window_ns
    times = table.t0[rows] * ns
    inside = (times > a) & (times < b)
    before = np.flatnonzero(times <= a)
    start_row = rows[before[-1]] if before.size else -1
    seg_rows = np.concatenate(([start_row], rows[inside]))
    edges_real = np.concatenate(([a], times[inside], [b]))
    edges = tmap(edges_real)
    width = (drawn[1] - drawn[0]) / max(buckets, 1)
    if seg_rows.size > buckets:  # keep a segment where it starts a new bucket (the last change in a pixel wins)
        ids = np.floor((edges[:-1] - drawn[0]) / width).astype(np.int64)
        last = np.concatenate((ids[1:] != ids[:-1], [True]))
        seg_rows = seg_rows[last]
        edges = np.concatenate(([edges[0]], edges[1:][last]))
    freq = np.where(seg_rows >= 0, table.frequency[np.maximum(seg_rows, 0)], (initial or (np.nan, 0.0))[0])
    phase = np.where(seg_rows >= 0, table.phase[np.maximum(seg_rows, 0)], (initial or (np.nan, 0.0))[1])
    return edges, phase, freq, seg_rows


def boxes(index: LaneIndex, channel: str, kinds: tuple[int, ...], window_ns: tuple[float, float],
          limit: int) -> np.ndarray:
    """Rows of ``kinds`` (acquisitions, delays) on a channel inside the window, at most ``limit`` evenly picked."""
    table = index.table
    rows = index.rows(channel, kinds)
    if rows.size == 0:
        return rows
    ns = index.ns
    rows = rows[(table.t1[rows] * ns > window_ns[0]) & (table.t0[rows] * ns < window_ns[1])]
    if rows.size > limit:
        rows = rows[np.linspace(0, rows.size - 1, limit).astype(np.int64)]
    return rows


def channel_units(device: object) -> dict[str, tuple[float, str]]:
    """What one unit of amplitude means on each channel of a device, where its calibration says:
    ``d<i>`` -> Rabi frequency (``rabi_rate``), ``u<i>`` -> the coupler's exchange rate (``rate``)."""
    out: dict[str, tuple[float, str]] = {}
    for q in getattr(device, "qubits", ()):
        out[f"d{q.index}"] = (q.drive.rabi_rate / 1e6, "MHz Rabi")
    for c in getattr(device, "couplings", ()):
        out[c.channel] = (c.rate / 1e6, "MHz g")
    return out


def lane_kind(channel: str) -> str:
    try:
        return parse_channel(channel)[0]
    except ValueError:
        return "?"


def nice_title(schedule: Schedule) -> str:
    duration_ns = schedule.duration * schedule.dt * 1e9
    unit, scale = ("us", 1e-3) if duration_ns >= 10_000 else ("ns", 1.0)
    return (f"{schedule.name}: {schedule.instruction_count()} instructions, "
            f"{duration_ns * scale:.{0 if math.isclose(scale, 1.0) else 2}f} {unit}")


__all__ = ["ACQUIRE", "DEFAULT_MAX_POINTS", "DELAY", "Highlight", "LaneIndex", "LaneWindow", "Polyline", "TimeMap",
           "boxes", "channel_units", "compressed_time", "frame_segments", "nice_title"]
