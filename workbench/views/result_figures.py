"""Plotly figures of a result, built from the Dataset alone (so a reloaded ``dataset.nc`` draws the same).

* :func:`counts_figure` / :func:`distribution_figure`: bars per outcome, one colour per experiment;
  :func:`outcomes_figure` both in one figure with a Counts / Probability toggle;
* :func:`iq_figure`: the IQ plane per memory slot, shots coloured by the state they were assigned,
  with the device's discriminator boundary (from the result's ``device_config``, i.e. the
  calibration the run actually used) and the readout centres;
* :func:`sweep_figure`: P(1) (and exact populations, when a simulator recorded them) against the one
  metadata coordinate the experiments differ by (``amp`` for Rabi, ``delay`` for T1/Ramsey).

Figures must stay fast for large shot counts: everything is computed with whole-array numpy
operations, and IQ scatters are sampled down to ``max_points`` shots per slot (a fixed-seed sample,
so the same result always draws the same picture) because a browser cannot usefully show more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import xarray as xr

    from workbench.results.result import Result

MAX_IQ_POINTS = 5000  # per slot
MAX_BAR_EXPERIMENTS = 12  # more experiments than this: a sweep plot says more than grouped bars
MAX_OUTCOMES = 64  # beyond this, the rarest outcomes are summed into one "other" bar
STATE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c")
_TIME_COORDINATES = {"delay", "time", "duration", "tau", "t", "wait"}


def _dataset(data: Result | xr.Dataset) -> xr.Dataset:
    return getattr(data, "dataset", data)


def _names(ds: xr.Dataset) -> list[str]:
    return [str(n) for n in ds["experiment_name"].values]


def _layout(fig: go.Figure, title: str, **extra: Any) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0.01}, template="plotly_white",
                      margin={"l": 60, "r": 20, "t": 60, "b": 50}, **extra)
    return fig


def default_experiments(data: Result | xr.Dataset) -> list[int]:
    """Experiments the bar charts show by default: all of a small job, else the first."""
    count = _dataset(data).sizes.get("experiment", 0)
    return list(range(count)) if count <= MAX_BAR_EXPERIMENTS else [0]


def _bar_table(ds: xr.Dataset, experiments: Sequence[int]) -> tuple[list[str], np.ndarray]:
    """Outcomes (binary order) and the counts of the chosen experiments, rare outcomes folded."""
    outcomes = [str(o) for o in ds["outcome"].values]
    table = np.asarray(ds["counts"].values)[list(experiments)]
    seen = table.sum(axis=0) > 0
    outcomes = [o for o, s in zip(outcomes, seen, strict=True) if s]
    table = table[:, seen]
    if len(outcomes) > MAX_OUTCOMES:
        keep = np.sort(np.argsort(-table.sum(axis=0), kind="stable")[: MAX_OUTCOMES - 1])
        rest = np.ones(len(outcomes), dtype=bool)
        rest[keep] = False
        table = np.column_stack([table[:, keep], table[:, rest].sum(axis=1)])
        outcomes = [outcomes[i] for i in keep] + [f"other ({int(rest.sum())})"]
    return outcomes, table


def counts_figure(data: Result | xr.Dataset, experiments: Sequence[int] | None = None, *,
                  normalise: bool = False) -> go.Figure | None:
    """Counts per outcome (slot 0 rightmost), one bar colour per experiment; None without counts."""
    import plotly.graph_objects as go

    ds = _dataset(data)
    if "counts" not in ds:
        return None
    chosen = list(experiments) if experiments is not None else default_experiments(ds)
    names = _names(ds)
    outcomes, table = _bar_table(ds, chosen)
    if normalise:
        totals = table.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            table = np.where(totals > 0, table / np.maximum(totals, 1), 0.0)
    traces = []
    for row, e in zip(table, chosen, strict=True):
        text = [f"{v:.3f}" for v in row] if normalise else [str(int(v)) for v in row]
        traces.append(go.Bar(x=outcomes, y=row, name=names[e], text=text, textposition="auto",
                             hovertemplate="%{x}: %{y}<extra>" + names[e] + "</extra>"))
    fig = go.Figure(data=traces)
    what = "Probability" if normalise else "Counts"
    shown = names[chosen[0]] if len(chosen) == 1 else f"{len(chosen)} experiments"
    return _layout(fig, f"{what}: {shown}", barmode="group",
                   xaxis={"title": {"text": "outcome (slot 0 rightmost)"}, "type": "category"},
                   yaxis={"title": {"text": "probability" if normalise else "shots"},
                          **({"range": [0, 1.05]} if normalise else {})},
                   showlegend=len(chosen) > 1, height=360)


def distribution_figure(data: Result | xr.Dataset, experiments: Sequence[int] | None = None) -> go.Figure | None:
    """The counts divided by the shots of each experiment."""
    return counts_figure(data, experiments, normalise=True)


def outcomes_figure(data: Result | xr.Dataset, experiments: Sequence[int] | None = None) -> go.Figure | None:
    """Counts and probabilities in one figure, with *Counts* / *Probability* buttons to switch between them.

    Both are the same bars on two scales, so one figure with a toggle says it with half the space; the
    buttons are plotly's own (``updatemenus``), so the toggle also works in an exported HTML page."""
    counts = counts_figure(data, experiments)
    if counts is None:
        return None
    probability = counts_figure(data, experiments, normalise=True)
    assert probability is not None  # there are counts
    n = len(counts.data)
    fig = counts
    for trace in probability.data:
        fig.add_trace(trace.update(visible=False))
    views = (("Counts", counts.layout.title.text, "shots", {"yaxis.autorange": True}, [True] * n + [False] * n),
             ("Probability", probability.layout.title.text, "probability", {"yaxis.range": [0, 1.05]},
              [False] * n + [True] * n))
    buttons = [{"label": label, "method": "update",
                "args": [{"visible": visible}, {"title.text": title, "yaxis.title.text": axis, **scale}]}
               for label, title, axis, scale, visible in views]
    fig.update_layout(updatemenus=[{"type": "buttons", "direction": "right", "active": 0, "buttons": buttons,
                                    "x": 1.0, "xanchor": "right", "y": 1.02, "yanchor": "bottom",
                                    "pad": {"r": 0, "t": 0}, "showactive": True}])
    return fig


# --------------------------------------------------------------------------------------------- IQ


def _discriminator(device_config: dict[str, Any], qubit: int) -> tuple[tuple[float, float], float] | None:
    for q in device_config.get("qubits") or []:
        if q.get("index") == qubit:
            disc = (q.get("readout") or {}).get("discriminator")
            if disc and disc.get("weights") is not None:
                w = disc["weights"]
                return (float(w[0]), float(w[1])), float(disc.get("offset", 0.0))
    return None


def _centres(device_config: dict[str, Any], qubit: int) -> dict[int, complex]:
    for q in device_config.get("qubits") or []:
        if q.get("index") == qubit:
            centres = (q.get("readout") or {}).get("iq_centers") or {}
            return {int(k): complex(*v) for k, v in centres.items()}
    return {}


def boundary_segment(weights: tuple[float, float], offset: float, i_range: tuple[float, float],
                     q_range: tuple[float, float]) -> tuple[list[float], list[float]] | None:
    """The part of the line ``w_i I + w_q Q + offset = 0`` inside the box (None when it misses it)."""
    w_i, w_q = weights
    (i0, i1), (q0, q1) = i_range, q_range
    points: list[tuple[float, float]] = []
    if abs(w_q) > 1e-15:
        for i in (i0, i1):
            q = -(w_i * i + offset) / w_q
            if q0 - 1e-12 <= q <= q1 + 1e-12:
                points.append((i, q))
    if abs(w_i) > 1e-15:
        for q in (q0, q1):
            i = -(w_q * q + offset) / w_i
            if i0 - 1e-12 <= i <= i1 + 1e-12:
                points.append((i, q))
    unique = sorted(set(points))
    if len(unique) < 2:
        return None
    a, b = unique[0], unique[-1]
    return [a[0], b[0]], [a[1], b[1]]


def sample_indices(count: int, max_points: int, seed: int = 0) -> np.ndarray:
    """Indices of at most ``max_points`` of ``count`` items: all of them, or a sorted fixed-seed sample."""
    if count <= max_points:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=max_points, replace=False))


def iq_figure(data: Result | xr.Dataset, experiment: int = 0, *, max_points: int = MAX_IQ_POINTS,
              seed: int = 0) -> go.Figure | None:
    """IQ points of one experiment, one panel per acquired slot; None when the result has no IQ data.

    Shots are coloured by the state the discriminator assigned (when the run discriminated);
    shot-averaged results (``meas_return avg``) show one point per experiment instead.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from workbench.results.dataset import json_attr

    ds = _dataset(data)
    averaged = "iq" not in ds and "iq_mean" in ds
    if "iq" not in ds and not averaged:
        return None
    device_config = json_attr(ds, "device_config", {}) or {}
    names = _names(ds)
    slot_qubit = np.asarray(ds["slot_qubit"].values)
    row_qubits = slot_qubit[experiment] if not averaged else slot_qubit.max(axis=0)
    slots = [m for m in range(slot_qubit.shape[1]) if row_qubits[m] >= 0]
    if not slots:
        return None
    columns = min(len(slots), 4)
    rows = math.ceil(len(slots) / columns)
    titles = [f"slot {m} (qubit {int(row_qubits[m])})" for m in slots]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.08)
    memory = np.asarray(ds["memory"].values[experiment]) if "memory" in ds and not averaged else None
    shown_total, all_total = 0, 0
    legend_done: set[str] = set()
    for k, m in enumerate(slots):
        row, col = k // columns + 1, k % columns + 1
        qubit = int(row_qubits[m])
        if averaged:
            points = np.asarray(ds["iq_mean"].values[:, m])
            labels = np.array(names)
        else:
            points = np.asarray(ds["iq"].values[experiment, :, m])
        finite = np.flatnonzero(np.isfinite(points))
        all_total += finite.size
        pick = finite[sample_indices(finite.size, max_points, seed + m)]
        shown_total += pick.size
        values = points[pick]
        if averaged:
            groups = [("experiments", pick, "#555555")]
        elif memory is not None:
            bits = memory[pick, m]
            groups = [(f"state {s}", pick[bits == s], STATE_COLOURS[s]) for s in (0, 1) if np.any(bits == s)]
        else:
            groups = [("shots", pick, "#555555")]
        for name, index, colour in groups:
            pts = points[index]
            fig.add_trace(go.Scattergl(
                x=pts.real, y=pts.imag, mode="markers", name=name, legendgroup=name,
                showlegend=name not in legend_done, marker={"size": 4 if not averaged else 7, "color": colour,
                                                            "opacity": 0.5 if not averaged else 0.9},
                text=labels[index] if averaged else None,
                hovertemplate=("%{text}: " if averaged else "") + "I %{x:.3f}, Q %{y:.3f}<extra>" + name + "</extra>",
            ), row=row, col=col)
            legend_done.add(name)
        centres = _centres(device_config, qubit)
        if values.size:
            extent = np.concatenate([values, np.array(list(centres.values()), dtype=complex)])
        else:
            extent = np.array(list(centres.values()) or [0j], dtype=complex)
        pad_i = 0.1 * (np.ptp(extent.real) or 1.0)
        pad_q = 0.1 * (np.ptp(extent.imag) or 1.0)
        i_range = (float(extent.real.min() - pad_i), float(extent.real.max() + pad_i))
        q_range = (float(extent.imag.min() - pad_q), float(extent.imag.max() + pad_q))
        if centres:
            # WebGL traces are painted above SVG ones, so SVG centres would vanish under the shots: the
            # centres are WebGL too, drawn after the shots, outlined, and labelled by annotations (always on top).
            c = np.array([centres[s] for s in sorted(centres)])
            labels_text = [f"|{s}>" for s in sorted(centres)]
            fig.add_trace(go.Scattergl(
                x=c.real, y=c.imag, mode="markers", text=labels_text, name="readout centres", legendgroup="centres",
                showlegend="centres" not in legend_done,
                marker={"symbol": "x", "size": 13, "color": "black", "line": {"color": "white", "width": 1.5}},
                hovertemplate="%{text}: I %{x:.3f}, Q %{y:.3f}<extra>calibrated centre</extra>",
            ), row=row, col=col)
            for point, label in zip(c, labels_text, strict=True):
                fig.add_annotation(x=point.real, y=point.imag, text=f"<b>{label}</b>", showarrow=False, yshift=16,
                                   bgcolor="rgba(255,255,255,0.85)", bordercolor="black", borderwidth=1,
                                   font={"size": 12, "color": "black"}, row=row, col=col)
            legend_done.add("centres")
        disc = _discriminator(device_config, qubit)
        segment = boundary_segment(disc[0], disc[1], i_range, q_range) if disc is not None else None
        if segment is not None:
            fig.add_trace(go.Scatter(
                x=segment[0], y=segment[1], mode="lines", name="discriminator", legendgroup="discriminator",
                showlegend="discriminator" not in legend_done, line={"color": "black", "dash": "dash", "width": 1.5},
                hovertemplate="boundary: %{customdata}<extra></extra>",
                customdata=[f"{disc[0][0]:.3g} I + {disc[0][1]:.3g} Q + {disc[1]:.3g} = 0"] * 2,
            ), row=row, col=col)
            legend_done.add("discriminator")
        fig.update_xaxes(title_text="I", range=list(i_range), row=row, col=col)
        fig.update_yaxes(title_text="Q", range=list(q_range), row=row, col=col)
    what = "averaged IQ per experiment" if averaged else f"IQ: {names[experiment]}"
    if shown_total < all_total:
        what += f" ({shown_total} of {all_total} shots shown)"
    return _layout(fig, what, height=max(380, 340 * rows), legend={"orientation": "h", "y": -0.15})


# ------------------------------------------------------------------------------------------ sweeps


def sweep_coordinate(data: Result | xr.Dataset) -> str | None:
    """The one numeric metadata coordinate along ``experiment`` that varies, else None."""
    ds = _dataset(data)
    if ds.sizes.get("experiment", 0) < 2:
        return None
    varying = []
    for name, coord in ds.coords.items():
        if name in ("experiment", "experiment_name") or coord.dims != ("experiment",):
            continue
        values = np.asarray(coord.values)
        if values.dtype.kind in "iuf" and np.unique(values[np.isfinite(values)]).size > 1:
            varying.append(str(name))
    return varying[0] if len(varying) == 1 else None


def sweep_figure(data: Result | xr.Dataset) -> go.Figure | None:
    """P(1) per slot (and exact level populations when recorded) against the sweep coordinate; None
    when the experiments do not differ by exactly one coordinate."""
    import plotly.graph_objects as go

    ds = _dataset(data)
    coordinate = sweep_coordinate(ds)
    if coordinate is None:
        return None
    x = np.asarray(ds[coordinate].values, dtype=float)
    unit = ""
    if coordinate in _TIME_COORDINATES and np.nanmax(np.abs(x)) < 1e-2:
        x, unit = x * 1e6, " (us)"
    order = np.argsort(x, kind="stable")
    xs = x[order]
    names = np.array(_names(ds))[order]
    slot_qubit = np.asarray(ds["slot_qubit"].values)
    slots = [m for m in range(slot_qubit.shape[1]) if np.any(slot_qubit[:, m] >= 0)]
    traces = []
    y_title = "P(1)"
    for m in slots:
        label = f"slot {m}"
        if "memory" in ds:
            p1 = np.asarray(ds["memory"].values[:, :, m], dtype=np.float64).mean(axis=1)[order]
            traces.append(go.Scatter(x=xs, y=p1, mode="lines+markers", name=f"P(1) {label}", text=names,
                                     hovertemplate="%{text}: %{y:.3f}<extra>" + f"P(1) {label}</extra>"))
        if "populations" in ds:
            pops = np.asarray(ds["populations"].values[:, m, :])[order]
            for level in range(1, pops.shape[1]):
                if level > 1 and not np.nanmax(pops[:, level], initial=0.0) > 1e-3:
                    continue  # leakage that never shows is noise on the plot
                traces.append(go.Scatter(x=xs, y=pops[:, level], mode="lines", line={"dash": "dot"},
                                         name=f"population |{level}> {label} (exact)", text=names,
                                         hovertemplate="%{text}: %{y:.4f}<extra>" + f"|{level}> {label}</extra>"))
        if "memory" not in ds and "populations" not in ds:
            if "iq_mean" in ds:
                iq = np.asarray(ds["iq_mean"].values[:, m])[order]
            elif "iq" in ds:
                with np.errstate(invalid="ignore"):
                    iq = np.nanmean(np.asarray(ds["iq"].values[:, :, m]), axis=1)[order]
            else:
                continue
            y_title = "mean IQ"
            for part, values in (("I", iq.real), ("Q", iq.imag)):
                traces.append(go.Scatter(x=xs, y=values, mode="lines+markers", name=f"{part} {label}", text=names,
                                         hovertemplate="%{text}: %{y:.4f}<extra>" + f"{part} {label}</extra>"))
    if not traces:
        return None
    fig = go.Figure(data=traces)
    return _layout(fig, f"Sweep over {coordinate}", height=380,
                   xaxis={"title": {"text": coordinate + unit}},
                   yaxis={"title": {"text": y_title}, **({"range": [-0.03, 1.03]} if y_title == "P(1)" else {})})
