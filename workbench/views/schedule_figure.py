"""The pulse-schedule figure (plotly), drawn from :mod:`workbench.views.schedule_lanes` data.

One lane per channel, each with its own amplitude axis in units of full scale (and, on the right, in
the device's units where its calibration gives them: Rabi frequency on drive channels, exchange rate
on couplers). Above each waveform a thin frame strip: its colour is the frame phase, its hover the
frequency and phase at that time and the gate that set them. Pulses carry their gate labels
(``sx q0``, ``cz q0,q1``) where there is room, virtual-Z frame changes theirs in the strip,
acquisitions and delays are boxes with their own hover, and timing findings are red marks.

Cost is bounded by pixels, not pulses: a :class:`ScheduleDrawing` draws any window of the schedule
at the level of detail it needs (exact samples when they fit, min/max per pixel otherwise), with a
fixed number of traces per lane. The widget redraws the visible window after each zoom from the same
object; :func:`schedule_figure` draws the whole schedule once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from workbench.schedule.ir import Schedule, channel_sort_key
from workbench.schedule.table import ACQUIRE, DELAY
from workbench.views.plotly_json import to_json
from workbench.views.schedule_inspect import pick_experiment
from workbench.views.schedule_lanes import (
    DEFAULT_MAX_POINTS,
    Highlight,
    LaneIndex,
    Mode,
    TimeMap,
    boxes,
    compressed_time,
    frame_segments,
    lane_kind,
    nice_title,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from workbench.schedule.checks import Findings

_REAL = "#1f77b4"
_IMAG = "#ff7f0e"
_ENVELOPE = "#2a6f97"
_ACQ = "rgba(44, 160, 44, 0.30)"
_DELAY = "rgba(127, 127, 127, 0.12)"
_FRAME = "#7f7f7f"
_FLAG = "#d62728"
_DIFF = "rgba(214, 39, 40, 0.18)"
_SELECT = "rgba(255, 215, 0, 0.35)"
# Cyclic, with phase 0 pale so that untouched frames stay quiet: -pi/pi dark, -pi/2 red, +pi/2 blue.
_PHASE_SCALE = [[0.0, "#2f1436"], [0.25, "#b5483b"], [0.5, "#ece6ec"], [0.75, "#5e7fbc"], [1.0, "#2f1436"]]
_OVERLAY = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
STRIP = 0.28  # frame strip height, as a fraction of the amplitude range
MAX_LABELS = 200  # gate labels per lane and window
MAX_BOXES = 400  # acquisition / delay boxes per lane and window
MAX_FLAGS = 500  # finding marks per window
DEFAULT_WIDTH = 1100  # px of plot area assumed when the front end has not said


@dataclass(frozen=True)
class DrawnLane:
    """One lane of a drawing: a channel of one of the schedules drawn (comparisons draw two)."""

    index: LaneIndex
    channel: str
    label: str
    findings: Findings | None = None
    primary: bool = True  # a lane of the drawing's own schedule (clicks and selections refer to it)


def lane_index(schedule: Schedule) -> LaneIndex:
    """The schedule's :class:`LaneIndex`, built once and kept on the schedule (like its event table)."""
    cached = schedule.__dict__.get("_lane_index")
    if cached is None:
        cached = LaneIndex(schedule)
        object.__setattr__(schedule, "_lane_index", cached)
    return cached


def _nice_ceiling(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if step * 10**exponent >= value - 1e-12:
            return min(round(step * 10**exponent, 12), 1.0)
    return 1.0


def _nice_step(span: float, count: int = 8) -> float:
    raw = max(span / count, 1e-9)
    exponent = math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if step * 10**exponent >= raw:
            return step * 10**exponent
    return 10 ** (exponent + 1)


def _lane_title(channel: str, label: str) -> str:
    """``d0`` over ``FS``; a comparison lane adds its schedule's name in small type."""
    unit = "" if lane_kind(channel) == "a" else " FS"
    extra = label[len(channel):].strip() if label.startswith(channel) else label
    return f"<b>{channel}</b>{unit}" + (f"<br><span style='font-size:9px'>{extra}</span>" if extra else "")


def _wrap(phase: np.ndarray) -> np.ndarray:
    return np.angle(np.exp(1j * np.asarray(phase, dtype=float)))


class ScheduleDrawing:
    """One schedule, ready to be drawn in any window; options fixed, windows free.

    ``channels``: lanes to show (default all, in lane order); ``mode``: ``"iq"`` (real solid, imaginary
    dotted) or ``"envelope"`` (``|v|``); ``scale``: ``"fit"`` (each lane's axis fits its peak) or ``"full"``
    (every axis +-1 full scale); ``compress``: fold idle stretches and long instructions; ``units``:
    channel -> (per full scale, unit name) for the right-hand axes (``schedule_lanes.channel_units``);
    ``findings``: timing checks to mark; ``overlays``: other schedules (label, schedule) drawn on the
    same lanes; ``highlights``: stretches to shade; ``compare``: (our label, another schedule, its
    label) - each channel then gets two lanes, ours and the other schedule's (with
    ``compare_findings``), on one time axis.
    """

    def __init__(self, schedule: Schedule, *, channels: Sequence[str] | None = None, mode: Mode = "iq",
                 scale: Literal["fit", "full"] = "fit", compress: bool = False,
                 max_points: int = DEFAULT_MAX_POINTS, units: Mapping[str, tuple[float, str]] | None = None,
                 findings: Findings | None = None, overlays: Sequence[tuple[str, Schedule]] = (),
                 highlights: Sequence[Highlight] = (), title: str | None = None, height: int | None = None,
                 compare: tuple[str, Schedule, str] | None = None,
                 compare_findings: Findings | None = None) -> None:
        self.schedule = schedule
        self.index = lane_index(schedule)
        self.table = self.index.table
        other = lane_index(compare[1]) if compare is not None else None
        known = self.index.channels
        if other is not None:
            known = sorted(set(known) | set(other.channels), key=channel_sort_key)
        wanted = known if channels is None else [c for c in known if c in set(channels)]
        self.channels = wanted
        if compare is None:
            self.lanes = [DrawnLane(self.index, c, c, findings) for c in wanted]
        else:
            mine, theirs = compare[0], compare[2]
            self.lanes = []
            for c in wanted:
                if c in self.index.channels:
                    self.lanes.append(DrawnLane(self.index, c, f"{c} {mine}", findings))
                if c in other.channels:
                    self.lanes.append(DrawnLane(other, c, f"{c} {theirs}", compare_findings, primary=False))
        self.mode = mode
        self.scale = scale
        self.max_points = max_points
        self.units = dict(units or {})
        self.overlays = [(label, lane_index(s)) for label, s in overlays]
        self.highlights = list(highlights)
        self.title = title if title is not None else nice_title(schedule)
        self.height = height
        self.tmap = compressed_time(self.table, wanted) if compress else TimeMap()
        indexes = [self.index] + [o for _, o in self.overlays] + ([other] if other is not None else [])
        end = max(max(int(i.table.t1.max()) if len(i.table) else 0, 1) * i.ns for i in indexes)
        self.end_ns = end
        self.full = (float(self.tmap(0.0)), float(self.tmap(end)))
        peaks = {c: max([i.peak(c) for i in indexes]) for c in wanted}
        self.amplitude = {c: 1.0 if scale == "full" else _nice_ceiling(1.05 * peaks[c]) for c in wanted}

    # -- geometry --------------------------------------------------------------------------------
    def axis_name(self, k: int) -> str:
        """``y``, ``y2`` ...: the amplitude axis of lane ``k``."""
        return "y" if k == 0 else f"y{k + 1}"

    def lane_of(self, axis: str) -> DrawnLane | None:
        """The lane of an axis name (``y3`` -> the third lane)."""
        try:
            k = 0 if axis in ("y", "y1") else int(axis[1:]) - 1
        except ValueError:
            return None
        return self.lanes[k] if 0 <= k < len(self.lanes) else None

    def window_real(self, drawn: tuple[float, float]) -> tuple[float, float]:
        a, b = self.tmap.inverse(np.array(drawn, dtype=float))
        return float(a), float(b)

    def clamp(self, window: tuple[float, float] | None) -> tuple[float, float]:
        """A drawn-time window inside the schedule (the whole schedule for None or a degenerate one)."""
        if window is None:
            return self.full
        a, b = float(min(window)), float(max(window))
        if not (math.isfinite(a) and math.isfinite(b)) or b - a <= 0:
            return self.full
        return a, b

    # -- drawing ---------------------------------------------------------------------------------
    def figure_dict(self, window: tuple[float, float] | None = None, width: int = DEFAULT_WIDTH,
                    selected: int | None = None) -> dict[str, Any]:
        """The figure of the drawn-time ``window`` (default: everything) as a plain plotly dict."""
        drawn = self.clamp(window)
        real = self.window_real(drawn)
        width = int(min(max(width, 200), 4000))
        buckets = max(1, min(width, self.max_points // 2))
        n = len(self.lanes)
        data: list[dict[str, Any]] = []
        layout = self._layout(drawn, width)
        exact = True
        legend = True
        for k, drawn_lane in enumerate(self.lanes):
            index, channel = drawn_lane.index, drawn_lane.channel
            axis = self.axis_name(k)
            amp = self.amplitude[channel]
            if lane_kind(channel) == "a":
                data += self._boxes(index, channel, axis, real, amp, (ACQUIRE,), _ACQ, "acquire")
            else:
                lane = index.lane(channel, real, self.tmap, drawn, buckets, self.max_points, self.mode)
                exact &= lane.exact
                waves = self._waves(lane, axis, channel, legend)
                legend = legend and not waves
                data += waves
                if drawn_lane.primary:
                    for j, (label, other) in enumerate(self.overlays):
                        if channel in other.plays:
                            olane = other.lane(channel, real, self.tmap, drawn, buckets, self.max_points,
                                               self.mode, hover=False)
                            data += self._overlay_waves(olane, axis, label, _OVERLAY[j % len(_OVERLAY)], k == 0)
                data += self._labels(index, lane.rows, axis, real, drawn, width, amp)
                data += self._strip(index, channel, axis, real, drawn, buckets, width, amp)
                data += self._boxes(index, channel, axis, real, amp, (DELAY,), _DELAY, "delay")
            data += self._flags(drawn_lane, axis, real, amp)
            data += self._highlights(channel, axis, real, amp)
            # every lane keeps its subplot (and the x axis its anchor) even when its window is empty
            data.append({"type": "scatter", "x": [drawn[0]], "y": [0], "yaxis": axis, "mode": "markers",
                         "marker": {"opacity": 0}, "hoverinfo": "skip", "showlegend": False})
            if channel in self.units and f"yaxis{n + k + 1}" in layout:
                data.append({"type": "scatter", "x": [drawn[0]], "y": [0], "yaxis": f"y{n + k + 1}", "mode": "markers",
                             "marker": {"opacity": 0}, "hoverinfo": "skip", "showlegend": False})
        if selected is not None:
            layout["shapes"] += self._selection(selected, drawn)
        layout["meta"] = {"exact": bool(exact), "window": list(drawn), "real_window": list(real)}
        return {"data": data, "layout": layout}

    def figure(self, window: tuple[float, float] | None = None, width: int = DEFAULT_WIDTH,
               selected: int | None = None) -> go.Figure:
        import plotly.graph_objects as go

        return go.Figure(self.figure_dict(window, width, selected))

    def figure_json(self, window: tuple[float, float] | None = None, width: int = DEFAULT_WIDTH,
                    selected: int | None = None) -> str:
        """The window as plotly.js JSON, without plotly.py's validation (the widget's redraw path)."""
        return to_json(self.figure_dict(window, width, selected))

    def _layout(self, drawn: tuple[float, float], width: int) -> dict[str, Any]:
        n = len(self.lanes)
        lane_px = 120 if n <= 4 else 100
        height = self.height or max(260, 110 + lane_px * n)
        gap = min(0.04, 0.3 / max(n, 1))
        size = (1.0 - gap * (n - 1)) / max(n, 1)
        layout: dict[str, Any] = {
            "title": {"text": self.title, "x": 0.01},
            "height": height,
            "margin": {"l": 70, "r": 80 if self.units else 30, "t": 60, "b": 45},
            "legend": {"orientation": "h", "y": 1.0, "x": 1, "xanchor": "right", "yanchor": "bottom"},
            "hovermode": "closest",
            "template": "plotly_white",
            "dragmode": "zoom",
            "shapes": [],
            "xaxis": {"title": {"text": "time (ns)" + (", idle and long stretches folded" if not self.tmap.identity
                                                     else "")},
                      "range": list(drawn), "zeroline": False, "anchor": self.axis_name(n - 1) if n else "y",
                      "exponentformat": "none", "separatethousands": True,
                      "showspikes": True, "spikemode": "across", "spikethickness": 1, "spikedash": "dot",
                      "spikecolor": "#999999", "spikesnap": "cursor"},
        }
        if not self.tmap.identity:
            layout["xaxis"].update(self._folded_ticks(drawn))
            layout["shapes"] += self._fold_marks(drawn)
        for k, drawn_lane in enumerate(self.lanes):
            channel = drawn_lane.channel
            top = 1.0 - k * (size + gap)
            domain = [max(top - size, 0.0), min(top, 1.0)]
            amp = self.amplitude[channel]
            name = "yaxis" if k == 0 else f"yaxis{k + 1}"
            label = drawn_lane.label
            if lane_kind(channel) == "a":
                axis = {"tickvals": [], "range": [-1.1, 1.1 + STRIP * 2]}
            else:
                ticks = [-amp, -amp / 2, 0.0, amp / 2, amp]
                axis = {"tickvals": ticks, "ticktext": [f"{v:.3g}" for v in ticks],
                        "range": [-1.08 * amp, amp * (1.08 + STRIP)]}
            axis.update({"domain": domain, "anchor": "x", "fixedrange": True, "zeroline": True,
                         "zerolinecolor": "#dddddd", "title": {"text": _lane_title(channel, label), "standoff": 4},
                         "tickfont": {"size": 9}})
            layout[name] = axis
            if channel in self.units:
                per, unit = self.units[channel]
                right = {"overlaying": self.axis_name(k), "side": "right", "fixedrange": True, "showgrid": False,
                         "range": [v * per for v in axis["range"]], "tickvals": [v * per for v in axis["tickvals"]],
                         "ticktext": [f"{v * per:.3g}" for v in axis["tickvals"]], "tickfont": {"size": 9},
                         "title": {"text": unit, "font": {"size": 10}, "standoff": 2}, "zeroline": False}
                layout[f"yaxis{n + k + 1}"] = right
        return layout

    def _folded_ticks(self, drawn: tuple[float, float]) -> dict[str, Any]:
        """Ticks at real times: folded stretches keep their real length in the labels."""
        step = _nice_step(drawn[1] - drawn[0])
        real = self.window_real(drawn)
        values: list[float] = []
        texts: list[str] = []
        folds = [(r0, r1) for r0, r1, _, _ in self.tmap.folds()]
        start = math.floor(real[0] / step) * step
        candidates = np.arange(start, real[1] + step, step)
        if candidates.size > 400:
            candidates = candidates[:: math.ceil(candidates.size / 400)]
        fold_starts = np.array([f[0] for f in folds]) if folds else np.zeros(0)
        fold_ends = np.array([f[1] for f in folds]) if folds else np.zeros(0)
        for t in candidates:
            at = np.searchsorted(fold_starts, t, side="right") - 1
            if at >= 0 and t < fold_ends[at]:
                continue  # inside a folded stretch: no tick
            x = float(self.tmap(t))
            if drawn[0] <= x <= drawn[1]:
                values.append(x)
                texts.append(f"{t:.6g}")
        if len(values) > 14:
            keep = np.linspace(0, len(values) - 1, 14).astype(int)
            values = [values[i] for i in keep]
            texts = [texts[i] for i in keep]
        return {"tickmode": "array", "tickvals": values, "ticktext": texts}

    def _fold_marks(self, drawn: tuple[float, float]) -> list[dict[str, Any]]:
        marks = []
        visible = [f for f in self.tmap.folds() if f[3] > drawn[0] and f[2] < drawn[1]]
        if len(visible) > 150:
            return []
        for r0, r1, d0, d1 in visible:
            marks.append({"type": "rect", "xref": "x", "yref": "paper", "x0": d0, "x1": d1, "y0": 0, "y1": 1,
                          "fillcolor": "rgba(200, 200, 200, 0.25)", "line": {"width": 0}, "layer": "below",
                          "label": {"text": f"{r1 - r0:.4g} ns", "textposition": "bottom center",
                                    "font": {"size": 9, "color": "#888888"}}})
        return marks

    def _waves(self, lane: Any, axis: str, channel: str, show_legend: bool) -> list[dict[str, Any]]:
        out = []
        styles = {"real": (_REAL, "solid", "real", "re"), "imag": (_IMAG, "dot", "imag", "im"),
                  "envelope": (_ENVELOPE, "solid", "|envelope|", "|v|")}
        extra = channel + ("" if lane.exact else ", min/max per pixel")
        folded = not self.tmap.identity
        when = "%{customdata:.6g}" if folded else "%{x:.6g}"
        for part, series in lane.parts.items():
            colour, dash, name, short = styles[part]
            trace = {"type": "scattergl", "x": series.x, "y": series.y.astype(np.float32), "yaxis": axis,
                     "mode": "lines", "line": {"color": colour, "width": 1.3, "dash": dash}, "name": name,
                     "legendgroup": part, "showlegend": show_legend, "meta": channel,
                     "hovertemplate": f"{short} %{{y:+.4f}}<br>t = {when} ns<extra>{extra}</extra>"}
            if folded and series.t is not None:
                trace["customdata"] = series.t.astype(np.float32)
            if part != "imag" and series.text is not None:  # the label once per lane is enough
                trace["text"] = series.text
                trace["hovertemplate"] = "<b>%{text}</b><br>" + trace["hovertemplate"]
            if part == "envelope":
                trace["fill"] = "tozeroy"
                trace["fillcolor"] = "rgba(42, 111, 151, 0.15)"
            out.append(trace)
        return out

    def _overlay_waves(self, lane: Any, axis: str, label: str, colour: str, legend: bool) -> list[dict[str, Any]]:
        out = []
        for part, series in lane.parts.items():
            dash = "dot" if part == "imag" else "solid"
            out.append({"type": "scattergl", "x": series.x, "y": series.y.astype(np.float32), "yaxis": axis,
                        "mode": "lines", "line": {"color": colour, "width": 1.1, "dash": dash},
                        "opacity": 0.85, "name": label, "legendgroup": f"overlay-{label}",
                        "showlegend": legend and part != "imag", "hoverinfo": "skip"})
        return out

    def _labels(self, index: LaneIndex, rows: np.ndarray, axis: str, real: tuple[float, float],
                drawn: tuple[float, float], width: int, amp: float) -> list[dict[str, Any]]:
        """Gate labels centred on pulses wide enough to hold them."""
        if rows.size == 0:
            return []
        table = index.table
        ns = index.ns
        px = width / max(drawn[1] - drawn[0], 1e-12)
        if self.tmap.identity and table.duration[rows].max() * ns * px < 24:  # no pulse can hold a label
            return []
        d0 = self.tmap(np.maximum(table.t0[rows] * ns, real[0]))
        d1 = self.tmap(np.minimum(table.t1[rows] * ns, real[1]))
        labels = index.labels()[rows]
        room = (d1 - d0) * px
        if labels.size <= 20000:
            needed = np.fromiter((5.8 * len(s) + 4 for s in labels), dtype=float, count=labels.size)
        else:
            needed = np.full(labels.size, 60.0)
        fits = np.flatnonzero(room >= needed)
        if fits.size == 0:
            return []
        if fits.size > MAX_LABELS:
            fits = fits[np.linspace(0, fits.size - 1, MAX_LABELS).astype(int)]
        return [{"type": "scatter", "x": (d0[fits] + d1[fits]) / 2, "y": np.full(fits.size, amp * 0.93),
                 "yaxis": axis, "mode": "text", "text": labels[fits], "textposition": "bottom center",
                 "textfont": {"size": 10, "color": "#333333"}, "hoverinfo": "skip", "showlegend": False}]

    def _strip(self, index: LaneIndex, channel: str, axis: str, real: tuple[float, float],
               drawn: tuple[float, float], buckets: int, width: int, amp: float) -> list[dict[str, Any]]:
        """The frame strip: phase as colour, hover with frequency, phase and the change that set them."""
        edges, phase, freq, rows = frame_segments(index, channel, real, self.tmap, drawn, buckets)
        if edges.size < 2:
            return []
        labels = index.labels()
        table = index.table
        ns = index.ns
        names = ["" if r < 0 else labels[r] for r in rows]
        texts = [f"f = {f / 1e9:.9g} GHz<br>" + ("initial frame" if r < 0 else (
                 f"set by {names[i]} ({table.name_of(r)}) at {table.t0[r] * ns:.6g} ns"))
                 for i, (f, r) in enumerate(zip(freq, rows, strict=True))]
        bottom, top = amp * 1.1, amp * (1.08 + STRIP)
        out: list[dict[str, Any]] = [{
            "type": "heatmap", "x": edges, "y": [bottom, top], "z": _wrap(phase)[None, :], "yaxis": axis,
            "zmin": -math.pi, "zmax": math.pi, "colorscale": _PHASE_SCALE, "showscale": False, "text": [texts],
            "opacity": 0.8,
            "hovertemplate": f"<b>{channel} frame</b><br>phase = %{{z:+.4f}} rad<br>%{{text}}<extra></extra>",
            "name": "frame", "showlegend": False, "meta": channel,
        }]
        marks = np.flatnonzero(rows >= 0)
        if marks.size:
            px = width / max(drawn[1] - drawn[0], 1e-12)
            seg_px = np.diff(edges) * px
            room = seg_px[marks] >= np.array([5.5 * len(names[i]) + 8 for i in marks])
            shown = marks[room][:MAX_LABELS]
            if shown.size:
                out.append({"type": "scatter", "x": edges[shown], "y": np.full(shown.size, (bottom + top) / 2),
                            "yaxis": axis, "mode": "text", "text": [names[i] for i in shown],
                            "textposition": "middle right", "textfont": {"size": 9, "color": "#222222"},
                            "hoverinfo": "skip", "showlegend": False})
            triangles = marks[:2000]
            out.append({"type": "scattergl", "x": edges[triangles], "y": np.full(triangles.size, bottom),
                        "yaxis": axis, "mode": "markers", "name": "frame change", "legendgroup": "frame",
                        "showlegend": False, "marker": {"symbol": "triangle-down", "size": 7, "color": _FRAME},
                        "hoverinfo": "skip", "meta": channel})
        return out

    def _boxes(self, index: LaneIndex, channel: str, axis: str, real: tuple[float, float], amp: float,
               kinds: tuple[int, ...], colour: str, name: str) -> list[dict[str, Any]]:
        rows = boxes(index, channel, kinds, real, MAX_BOXES)
        if rows.size == 0:
            return []
        table = index.table
        ns = index.ns
        d0 = self.tmap(table.t0[rows] * ns)
        d1 = self.tmap(table.t1[rows] * ns)
        labels = index.labels()
        texts = []
        for r, obj in zip(rows, table.objects(rows), strict=True):
            head = f"<b>{name}</b>"
            if kinds == (ACQUIRE,):
                head = f"<b>acquire q{obj.qubit} -> slot {obj.memory_slot}</b>" + (
                    f", register {obj.register_slot}" if obj.register_slot is not None else "")
            frame = f"<br>frame {table.frequency[r] / 1e9:.9g} GHz, phase {table.phase[r]:+.4f} rad"
            origin = f"<br>{labels[r]}" if labels[r] and labels[r] != name else ""
            texts.append(f"{head}<br>{table.t0[r] * ns:.6g}-{table.t1[r] * ns:.6g} ns "
                         f"({table.duration[r] * ns:.6g} ns, samples {table.t0[r]}-{table.t1[r]}){frame}{origin}")
        lo = -1.0 if kinds == (ACQUIRE,) else -amp
        hi = 1.0 if kinds == (ACQUIRE,) else amp
        return [{"type": "bar", "x": (d0 + d1) / 2, "width": np.maximum(d1 - d0, 1e-9), "base": np.full(rows.size, lo),
                 "y": np.full(rows.size, hi - lo), "yaxis": axis, "marker": {"color": colour, "line": {"width": 0}},
                 "name": name, "showlegend": False, "text": texts, "textposition": "none",
                 "hovertemplate": "%{text}<extra></extra>", "meta": channel}]

    def _flags(self, lane: DrawnLane, axis: str, real: tuple[float, float], amp: float) -> list[dict[str, Any]]:
        found = lane.findings
        if found is None or len(found) == 0:
            return []
        table = lane.index.table
        ns = lane.index.ns
        code = table.channel_code(lane.channel)
        rows = np.unique(found.row)
        rows = rows[(table.channel[rows] == code) & (table.t1[rows] * ns >= real[0]) & (table.t0[rows] * ns <= real[1])]
        if rows.size == 0:
            return []
        if rows.size > MAX_FLAGS:
            rows = rows[np.linspace(0, rows.size - 1, MAX_FLAGS).astype(int)]
        messages = found.for_rows(rows)
        x = self.tmap(table.t0[rows] * ns)
        level = amp if lane_kind(lane.channel) != "a" else 1.0
        return [{"type": "scatter", "x": x, "y": np.full(rows.size, -0.85 * level), "yaxis": axis, "mode": "markers",
                 "marker": {"symbol": "x-thin-open", "size": 11, "color": _FLAG, "line": {"width": 2.5}},
                 "name": "timing check", "legendgroup": "check", "showlegend": False,
                 "text": ["<br>".join(messages.get(int(r), [])) for r in rows],
                 "hovertemplate": "<b>timing check</b><br>%{text}<extra></extra>", "meta": lane.channel}]

    def _highlights(self, channel: str, axis: str, real: tuple[float, float], amp: float) -> list[dict[str, Any]]:
        mine = [h for h in self.highlights if h.channel == channel and h.t1_ns >= real[0] and h.t0_ns <= real[1]]
        if not mine:
            return []
        mine = mine[:MAX_BOXES]
        d0 = self.tmap(np.array([h.t0_ns for h in mine]))
        d1 = self.tmap(np.array([h.t1_ns for h in mine]))
        level = amp if lane_kind(channel) != "a" else 1.0
        return [{"type": "bar", "x": (d0 + d1) / 2, "width": np.maximum(d1 - d0, (real[1] - real[0]) / 400),
                 "base": np.full(len(mine), -1.05 * level), "y": np.full(len(mine), 2.1 * level), "yaxis": axis,
                 "marker": {"color": _DIFF, "line": {"width": 1, "color": _FLAG}}, "name": "difference",
                 "showlegend": False, "text": [h.text for h in mine], "textposition": "none",
                 "hovertemplate": "<b>differs</b><br>%{text}<extra></extra>", "meta": channel}]

    def _selection(self, row: int, drawn: tuple[float, float]) -> list[dict[str, Any]]:
        table = self.table
        if not 0 <= row < len(table):
            return []
        channel = table.channels[int(table.channel[row])]
        found = [k for k, lane in enumerate(self.lanes) if lane.primary and lane.channel == channel]
        if not found:
            return []
        k = found[0]
        ns = self.index.ns
        d0 = float(self.tmap(table.t0[row] * ns))
        d1 = float(self.tmap(table.t1[row] * ns))
        pad = (drawn[1] - drawn[0]) * 0.003
        axis = self.axis_name(k)
        return [{"type": "rect", "xref": "x", "yref": f"{axis} domain", "x0": d0 - pad, "x1": max(d1, d0) + pad,
                 "y0": 0, "y1": 1, "fillcolor": _SELECT, "line": {"width": 1.5, "color": "#b8860b"}, "layer": "below"}]

    def row_window(self, row: int, current: tuple[float, float] | None = None) -> tuple[float, float]:
        """A drawn-time window centred on a table row: the current width, or ten times the row's."""
        table = self.table
        ns = self.index.ns
        d0 = float(self.tmap(table.t0[row] * ns))
        d1 = float(self.tmap(table.t1[row] * ns))
        centre = (d0 + d1) / 2
        if current is not None and current[1] > current[0]:
            half = (current[1] - current[0]) / 2
        else:
            half = max(5 * (d1 - d0), 50.0)
        return centre - half, centre + half

    def nearest_row(self, channel: str, x: float) -> int | None:
        """The table row of ``channel`` closest to drawn time ``x`` (a click on the figure)."""
        table = self.table
        rows = table.rows_on(channel)
        if rows.size == 0:
            return None
        t = float(self.tmap.inverse(x)) / self.index.ns
        inside = np.flatnonzero((table.t0[rows] <= t) & (table.t1[rows] >= t))
        if inside.size:
            return int(rows[inside[-1]])
        distance = np.minimum(np.abs(table.t0[rows] - t), np.abs(table.t1[rows] - t))
        return int(rows[int(np.argmin(distance))])


def schedule_figure(
    schedule: Schedule,
    *,
    channels: list[str] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    title: str | None = None,
    height: int | None = None,
    **options: Any,
) -> go.Figure:
    """A figure of one whole schedule (see :class:`ScheduleDrawing` for ``options``)."""
    width = options.pop("width", DEFAULT_WIDTH)
    window = options.pop("window", None)
    drawing = ScheduleDrawing(schedule, channels=channels, max_points=max_points, title=title, height=height,
                              **options)
    return drawing.figure(window, width)


def lane_channels(fig: go.Figure | Mapping[str, Any]) -> list[str]:
    """The channels of a schedule figure's lanes, top to bottom."""
    layout = fig["layout"] if isinstance(fig, Mapping) else fig.layout.to_plotly_json()
    out = []
    k = 1
    while True:
        axis = layout.get("yaxis" if k == 1 else f"yaxis{k}")
        if axis is None or "overlaying" in axis:
            break
        text = axis.get("title", {}).get("text", "")
        channel = text.split("</b>")[0].replace("<b>", "")
        extra = text.split("<span style='font-size:9px'>")[1].split("</span>")[0] if "font-size:9px" in text else ""
        out.append(f"{channel} {extra}" if extra else channel)
        k += 1
    return out


def lane_point_count(fig: go.Figure) -> int:
    """Points drawn by the waveform traces (what decimation bounds)."""
    return int(sum(np.size(t.x) for t in fig.data if t.name in ("real", "imag", "|envelope|")))


def plot_schedule(
    job: Any,
    device: Any = None,
    *,
    experiment: int | str = 0,
    channels: list[str] | None = None,
    config: Any = None,
    max_points: int = DEFAULT_MAX_POINTS,
    **options: Any,
) -> go.Figure:
    """The schedule of one experiment of ``job`` on ``device`` (a pulse device), as a figure.

    ``job`` is anything :func:`workbench.run` accepts (loaded as for a run, but a job the executor would
    refuse is still drawn); circuits are shown as the pulses the device's calibrations turn them into.
    The lanes get the device's units and the timing checks of the device's executor are marked;
    ``options`` go to :class:`ScheduleDrawing` (``mode``, ``compress`` ...).
    """
    from workbench.views.schedule_inspect import timing_findings, view_job
    from workbench.views.schedule_lanes import channel_units

    viewed = view_job(job, device, config=config)
    schedule = viewed.schedules[pick_experiment(viewed.job.experiment_names, experiment)]
    options.setdefault("units", channel_units(viewed.device))
    options.setdefault("findings", timing_findings(schedule, viewed.device))
    return schedule_figure(schedule, channels=channels, max_points=max_points, **options)


__all__ = ["DrawnLane", "Highlight", "ScheduleDrawing", "lane_channels", "lane_index", "lane_point_count",
           "pick_experiment", "plot_schedule", "schedule_figure"]
