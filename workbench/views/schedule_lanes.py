"""Plain data for drawing a schedule: one lane per channel, ready for any plotting library.

Kept apart from plotly so that it is testable with numbers alone and so the figure code is only
about presentation. Everything is vectorised per channel: a schedule of 100 000 instructions must
turn into a handful of arrays, not 100 000 objects.

Pulses of a channel become one polyline with NaN between pulses (points at sample midpoints, in ns).
When a channel has more points than ``max_points``, it is decimated to the minimum and maximum of
each time bucket, which keeps every peak visible at any zoom level the screen can show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from workbench.schedule.ir import Schedule

DEFAULT_MAX_POINTS = 4000  # per channel: more than a wide screen has pixels, twice (min and max)


@dataclass
class Lane:
    """One channel's drawing data; times in ns, values as played (``|v| <= 1``)."""

    channel: str
    t: np.ndarray
    real: np.ndarray
    imag: np.ndarray
    labels: np.ndarray | None  # hover text per point, None when decimated
    decimated: bool
    frames: list[tuple[float, str]] = field(default_factory=list)  # (t ns, "shiftp 1.571")
    acquires: list[tuple[float, float, str]] = field(default_factory=list)  # (t0 ns, t1 ns, text)
    pulses: int = 0


def _format_parameters(parameters: dict) -> str:
    parts = []
    for key, value in parameters.items():
        if isinstance(value, float):
            parts.append(f"{key}={value:.4g}")
        elif isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
            parts.append(f"{key}={complex(*value):.4g}")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def _frame_text(kind: str, value: float) -> str:
    if kind in ("setf", "shiftf"):
        return f"{kind} {value / 1e9:.6g} GHz" if kind == "setf" else f"{kind} {value / 1e6:+.6g} MHz"
    return f"{kind} {value:+.4g} rad"


def _decimate(t: np.ndarray, values: np.ndarray, span: tuple[float, float], buckets: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min/max of real and imaginary parts per time bucket; NaN between non-adjacent buckets."""
    finite = np.isfinite(t)
    t, values = t[finite], values[finite]
    width = max((span[1] - span[0]) / buckets, 1e-12)
    index = np.floor((t - span[0]) / width).astype(np.int64)
    starts = np.flatnonzero(np.concatenate(([True], index[1:] != index[:-1])))
    ids = index[starts]
    re_min = np.minimum.reduceat(values.real, starts)
    re_max = np.maximum.reduceat(values.real, starts)
    im_min = np.minimum.reduceat(values.imag, starts)
    im_max = np.maximum.reduceat(values.imag, starts)
    left = span[0] + ids * width
    gap = np.concatenate((np.diff(ids) > 1, [False]))
    # two points per bucket (min at its left edge, max at its middle), plus a NaN after a gap
    n = ids.size
    out_t = np.empty(3 * n)
    out_re = np.empty(3 * n)
    out_im = np.empty(3 * n)
    out_t[0::3], out_t[1::3], out_t[2::3] = left, left + width / 2, np.where(gap, left + width, np.nan)
    out_re[0::3], out_re[1::3], out_re[2::3] = re_min, re_max, np.nan
    out_im[0::3], out_im[1::3], out_im[2::3] = im_min, im_max, np.nan
    keep = np.ones(3 * n, dtype=bool)
    keep[2::3] = gap  # NaN separators only where buckets are not adjacent
    return out_t[keep], out_re[keep], out_im[keep]


def schedule_lanes(
    schedule: Schedule,
    channels: list[str] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
) -> list[Lane]:
    """Lanes in drawing order (by qubit, then drive/control/measure/acquire)."""
    ns = schedule.dt * 1e9
    wanted = schedule.channels if channels is None else [c for c in schedule.channels if c in set(channels)]
    by_channel: dict[str, list] = {c: [] for c in wanted}
    for play in schedule.plays:
        if play.channel in by_channel:
            by_channel[play.channel].append(play)
    frames: dict[str, list[tuple[float, str]]] = {c: [] for c in wanted}
    for fc in schedule.frame_changes:
        if fc.channel in frames:
            frames[fc.channel].append((fc.t0 * ns, _frame_text(fc.kind, fc.value)))
    acquires: dict[str, list[tuple[float, float, str]]] = {c: [] for c in wanted}
    for acq in schedule.acquires:
        if acq.channel in acquires:
            acquires[acq.channel].append((acq.t0 * ns, acq.t1 * ns, f"acquire q{acq.qubit} -> slot {acq.memory_slot}"))
    span = (0.0, max(schedule.duration, 1) * ns)
    lanes = []
    for channel in wanted:
        plays = by_channel[channel]
        total = sum(p.duration for p in plays)
        if plays:
            lengths = np.array([p.duration + 1 for p in plays])  # +1: the NaN separator
            offsets = np.repeat(np.array([p.t0 for p in plays], dtype=float), lengths)
            within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            t = (offsets + within + 0.5) * ns
            values = np.concatenate([np.append(p.samples, np.nan) for p in plays])
            t[np.cumsum(lengths) - 1] = np.nan
        else:
            t = np.empty(0)
            values = np.empty(0, dtype=complex)
        decimated = total > max_points
        labels = None
        if decimated:
            t, re, im = _decimate(t, values, span, max(1, max_points // 2))
        else:
            re, im = values.real.copy(), values.imag.copy()
            texts = []
            for p in plays:
                described = f"{p.name}" + (f" ({p.shape}: {_format_parameters(dict(p.parameters))})" if p.shape else "")
                described += f"<br>f = {p.frequency / 1e9:.6g} GHz, phase = {p.phase:+.4g} rad"
                texts.append(np.full(p.duration + 1, described, dtype=object))
            labels = np.concatenate(texts) if texts else np.empty(0, dtype=object)
        lanes.append(Lane(channel, t, re, im, labels, decimated, frames[channel], acquires[channel], len(plays)))
    return lanes


def lane_offsets(count: int, spacing: float = 2.5) -> list[float]:
    """Vertical centre of each lane: the first lane on top."""
    return [-i * spacing for i in range(count)]


def nice_title(schedule: Schedule) -> str:
    duration_ns = schedule.duration * schedule.dt * 1e9
    unit, scale = ("us", 1e-3) if duration_ns >= 10_000 else ("ns", 1.0)
    return (f"{schedule.name}: {schedule.instruction_count()} instructions, "
            f"{duration_ns * scale:.{0 if math.isclose(scale, 1.0) else 2}f} {unit}")
