"""Plotly figures of a result, built from the Dataset alone (so a reloaded ``dataset.nc`` draws the same).

* :func:`counts_figure` / :func:`distribution_figure`: bars per outcome, one colour per experiment;
  :func:`outcomes_figure` both in one figure with a Counts / Probability toggle;
* :func:`iq_figure`: the IQ plane per memory slot, shots coloured by the state they were assigned,
  with the device's discriminator boundary (from the result's ``device_config``, i.e. the
  calibration the run actually used) and the readout centres;
* :func:`sweep_figure`: the sweep first: P(1) or the IQ projection (and exact populations, when a
  simulator recorded them) against the swept value (``amp`` for Rabi, ``delay`` for T1/Ramsey, found
  in the metadata or the schedules), a 2-D map for two swept parameters, and the analysis' fit when
  the result holds one; per-experiment figures name experiments by their swept value.

Figures must stay fast for large shot counts: everything is computed with whole-array numpy
operations, and IQ scatters are sampled down to ``max_points`` shots per slot (a fixed-seed sample,
so the same result always draws the same picture) because a browser cannot usefully show more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.views.plotly_json import figure_from

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import xarray as xr

    from workbench.results.result import Result

MAX_IQ_POINTS = 5000  # per slot
MAX_BAR_EXPERIMENTS = 12  # more experiments than this: a sweep plot says more than grouped bars
MAX_OUTCOMES = 64  # beyond this, the rarest outcomes are summed into one "other" bar
STATE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c")


def _dataset(data: Result | xr.Dataset) -> xr.Dataset:
    return getattr(data, "dataset", data)


def _names(ds: xr.Dataset) -> list[str]:
    return [str(n) for n in ds["experiment_name"].values]


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
                  normalise: bool = False, plain: bool = False) -> go.Figure | None:
    """Counts per outcome (slot 0 rightmost), one bar colour per experiment; None without counts.
    ``plain``: the figure as a plain dict, for pages that only embed it (as for every figure here)."""
    ds = _dataset(data)
    if "counts" not in ds:
        return None
    chosen = list(experiments) if experiments is not None else default_experiments(ds)
    names = {e: experiment_label(ds, e) for e in chosen}
    outcomes, table = _bar_table(ds, chosen)
    if normalise:
        totals = table.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            table = np.where(totals > 0, table / np.maximum(totals, 1), 0.0)
    traces = []
    for row, e in zip(table, chosen, strict=True):
        text = [f"{v:.3f}" for v in row] if normalise else [str(int(v)) for v in row]
        traces.append({"type": "bar", "x": outcomes, "y": row, "name": names[e], "text": text,
                       "textposition": "auto", "hovertemplate": "%{x}: %{y}<extra>" + names[e] + "</extra>"})
    what = "Probability" if normalise else "Counts"
    shown = names[chosen[0]] if len(chosen) == 1 else f"{len(chosen)} experiments"
    return figure_from(traces, f"{what}: {shown}", barmode="group",
                   xaxis={"title": {"text": "outcome (slot 0 rightmost)"}, "type": "category"},
                   yaxis={"title": {"text": "probability" if normalise else "shots"},
                          **({"range": [0, 1.05]} if normalise else {})},
                   showlegend=len(chosen) > 1, height=360, plain=plain)


def distribution_figure(data: Result | xr.Dataset, experiments: Sequence[int] | None = None, *,
                        plain: bool = False) -> go.Figure | None:
    """The counts divided by the shots of each experiment."""
    return counts_figure(data, experiments, normalise=True, plain=plain)


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
              seed: int = 0, plain: bool = False) -> go.Figure | None:
    """IQ points of one experiment, one panel per acquired slot; None when the result has no IQ data.

    Shots are coloured by the state the discriminator assigned (when the run discriminated);
    shot-averaged results (``meas_return avg``) show one point per experiment instead.
    """
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
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {}
    annotations: list[dict[str, Any]] = []
    memory = np.asarray(ds["memory"].values[experiment]) if "memory" in ds and not averaged else None
    shown_total, all_total = 0, 0
    legend_done: set[str] = set()
    for k, m in enumerate(slots):
        x_axis, y_axis = _panel(k, rows, columns, titles[k], layout, annotations)
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
            traces.append({
                "type": "scattergl", "x": pts.real, "y": pts.imag, "xaxis": x_axis, "yaxis": y_axis,
                "mode": "markers", "name": name, "legendgroup": name, "showlegend": name not in legend_done,
                "marker": {"size": 4 if not averaged else 7, "color": colour, "opacity": 0.5 if not averaged else 0.9},
                **({"text": labels[index]} if averaged else {}),
                "hovertemplate": ("%{text}: " if averaged else "") + f"I %{{x:.3f}}, Q %{{y:.3f}}<extra>{name}</extra>",
            })
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
            traces.append({
                "type": "scattergl", "x": c.real, "y": c.imag, "xaxis": x_axis, "yaxis": y_axis, "mode": "markers",
                "text": labels_text, "name": "readout centres", "legendgroup": "centres",
                "showlegend": "centres" not in legend_done,
                "marker": {"symbol": "x", "size": 13, "color": "black", "line": {"color": "white", "width": 1.5}},
                "hovertemplate": "%{text}: I %{x:.3f}, Q %{y:.3f}<extra>calibrated centre</extra>",
            })
            annotations += [{"x": float(point.real), "y": float(point.imag), "xref": x_axis, "yref": y_axis,
                             "text": f"<b>{label}</b>", "showarrow": False, "yshift": 16,
                             "bgcolor": "rgba(255,255,255,0.85)", "bordercolor": "black", "borderwidth": 1,
                             "font": {"size": 12, "color": "black"}}
                            for point, label in zip(c, labels_text, strict=True)]
            legend_done.add("centres")
        disc = _discriminator(device_config, qubit)
        segment = boundary_segment(disc[0], disc[1], i_range, q_range) if disc is not None else None
        if segment is not None:
            traces.append({
                "type": "scatter", "x": segment[0], "y": segment[1], "xaxis": x_axis, "yaxis": y_axis,
                "mode": "lines", "name": "discriminator", "legendgroup": "discriminator",
                "showlegend": "discriminator" not in legend_done,
                "line": {"color": "black", "dash": "dash", "width": 1.5},
                "hovertemplate": "boundary: %{customdata}<extra></extra>",
                "customdata": [f"{disc[0][0]:.3g} I + {disc[0][1]:.3g} Q + {disc[1]:.3g} = 0"] * 2,
            })
            legend_done.add("discriminator")
        layout[_axis_key(x_axis)].update(title={"text": "I"}, range=list(i_range))
        layout[_axis_key(y_axis)].update(title={"text": "Q"}, range=list(q_range))
    what = "averaged IQ per experiment" if averaged else f"IQ: {experiment_label(ds, experiment)}"
    if shown_total < all_total:
        what += f" ({shown_total} of {all_total} shots shown)"
    return figure_from(traces, what, height=max(380, 340 * rows), legend={"orientation": "h", "y": -0.15},
                   annotations=annotations, plain=plain, **layout)


def _axis_key(ref: str) -> str:
    """``x`` -> ``xaxis``, ``y3`` -> ``yaxis3``: a trace's axis reference as the layout's key."""
    return f"{ref[0]}axis{ref[1:]}"


def _panel(k: int, rows: int, columns: int, title: str, layout: dict[str, Any],
           annotations: list[dict[str, Any]]) -> tuple[str, str]:
    """The axes of panel ``k`` of a ``rows`` x ``columns`` grid (filled row by row from the top), laid out
    as plotly's ``make_subplots`` does (horizontal spacing 0.08, vertical 0.3 / rows, the title centred
    above the panel) without building the figure object it builds; returns the axis references."""
    h_space, v_space = 0.08, 0.3 / rows
    width = (1 - h_space * (columns - 1)) / columns
    height = (1 - v_space * (rows - 1)) / rows
    row, col = divmod(k, columns)
    x0 = col * (width + h_space)
    y1 = 1 - row * (height + v_space)
    n = "" if k == 0 else str(k + 1)
    layout[f"xaxis{n}"] = {"domain": [x0, x0 + width], "anchor": f"y{n}"}
    layout[f"yaxis{n}"] = {"domain": [y1 - height, y1], "anchor": f"x{n}"}
    annotations.append({"text": title, "x": x0 + width / 2, "y": y1, "xref": "paper", "yref": "paper",
                        "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 16}})
    return f"x{n}", f"y{n}"


# ------------------------------------------------------------------------------------------ sweeps


def experiment_label(data: Result | xr.Dataset, experiment: int) -> str:
    """An experiment as a person picks it: by its swept value(s) when the job is a sweep
    (``amp = 0.4768 (rabi-010)``), else by its name."""
    from workbench.analysis.sweep import swept, value_label

    ds = _dataset(data)
    name = str(ds["experiment_name"].values[experiment])
    names = swept(ds)
    if not names:
        return name
    values = ", ".join(value_label(n, float(ds[n].values[experiment]), str(ds[n].attrs.get("units", "")) or None)
                       for n in names)
    return f"{values} ({name})"


def experiment_labels(data: Result | xr.Dataset) -> list[str]:
    """:func:`experiment_label` of every experiment, in order (the coordinates are read once, not once per
    experiment: a 200-point sweep's hover texts cost milliseconds, not a fifth of a second)."""
    from workbench.analysis.sweep import swept, value_label

    ds = _dataset(data)
    names = [str(n) for n in ds["experiment_name"].values]
    columns = [(n, np.asarray(ds[n].values), str(ds[n].attrs.get("units", "")) or None) for n in swept(ds)]
    if not columns:
        return names
    return [", ".join(value_label(n, float(values[e]), unit) for n, values, unit in columns) + f" ({name})"
            for e, name in enumerate(names)]


def sweep_coordinate(data: Result | xr.Dataset) -> str | None:
    """The swept coordinate the sweep figure's x axis shows (the first of one or two), else None."""
    from workbench.analysis.sweep import swept

    names = swept(_dataset(data))
    return names[0] if names else None


def _axis(ds: xr.Dataset, name: str) -> tuple[np.ndarray, float, str]:
    from workbench.analysis.sweep import axis_scale

    x = np.asarray(ds[name].values, dtype=float)
    scale, unit = axis_scale(name, x, str(ds[name].attrs.get("units", "")) or None)
    return x, scale, f"{name} ({unit})" if unit else name


def slot_curves(ds: xr.Dataset) -> tuple[list[tuple[str, np.ndarray]], str]:
    """Per acquired slot, the signal a sweep shows: P(1) from the bits, else the IQ projection."""
    from workbench.analysis.signal import slot_signal

    slot_qubit = np.asarray(ds["slot_qubit"].values)
    curves = []
    label = "P(1)"
    for m in range(slot_qubit.shape[1]):
        if not np.any(slot_qubit[:, m] >= 0):
            continue
        try:
            signal = slot_signal(ds, int(ds["slot"].values[m]))
        except Exception:  # a slot without data is left out of the picture, not an error
            continue
        curves.append((f"slot {m}", signal.values))
        label = signal.label
    return curves, label


def sweep_figure(data: Result | xr.Dataset, analysis: Any = None, *, plain: bool = False) -> go.Figure | None:
    """The sweep, first: the signal (P(1), or the IQ projection for integrated IQ) of every slot against
    the swept value, with the simulator's exact populations dotted; for two swept parameters a 2-D map
    (or one curve per value when one of them takes at most four). With an analysis (given, or held by
    the result), its curves, fit, markers and verdict. None when the job is not a sweep."""
    from workbench.analysis.base import attached
    from workbench.analysis.sweep import swept

    ds = _dataset(data)
    names = swept(ds)
    if not names:
        return None
    analysis = analysis if analysis is not None else attached(ds)
    if analysis is not None and analysis.series and len(names) == 2 and analysis.name == "chevron":
        return sweep_map(ds, names, analysis, plain=plain)
    if analysis is not None and analysis.series:
        from workbench.views.analysis_figures import analysis_figure

        return analysis_figure(analysis, populations=_populations(ds, names[0], analysis), plain=plain)
    if len(names) == 2:
        small = [n for n in names if np.unique(np.asarray(ds[n].values)).size <= 4]
        if not small:
            return sweep_map(ds, names, None, plain=plain)
        x_name = next(n for n in names if n not in small) if len(small) == 1 else names[0]
        group = next(n for n in names if n != x_name)
    else:
        x_name, group = names[0], None
    x, scale, title = _axis(ds, x_name)
    curves, y_title = slot_curves(ds)
    labels = np.asarray(ds[group].values) if group is not None else np.zeros(x.size)
    traces = []
    text = np.array(experiment_labels(ds))
    for value in dict.fromkeys(labels.tolist()):
        rows = np.flatnonzero(labels == value)
        rows = rows[np.argsort(x[rows], kind="stable")]
        suffix = f", {group} = {value:g}" if group is not None else ""
        for label, values in curves:
            name = f"{y_title} {label}{suffix}"
            traces.append({"type": "scatter", "x": x[rows] * scale, "y": values[rows], "mode": "lines+markers",
                           "name": name, "text": text[rows],
                           "hovertemplate": "%{text}: %{y:.4f}<extra>" + name + "</extra>"})
    if "populations" in ds and group is None:
        order = np.argsort(x, kind="stable")
        slot_qubit = np.asarray(ds["slot_qubit"].values)
        for m in (m for m in range(slot_qubit.shape[1]) if np.any(slot_qubit[:, m] >= 0)):
            pops = np.asarray(ds["populations"].values[:, m, :])[order]
            for level in range(1, pops.shape[1]):
                if not np.nanmax(pops[:, level], initial=0.0) > (1e-3 if level > 1 else -1):
                    continue  # leakage that never shows is noise on the plot
                name = f"population |{level}> slot {m} (exact)"
                traces.append({"type": "scatter", "x": x[order] * scale, "y": pops[:, level], "mode": "lines",
                               "line": {"dash": "dot"}, "name": name, "text": text[order],
                               "hovertemplate": "%{text}: %{y:.4f}<extra>" + name + "</extra>"})
    if not traces:
        return None
    p1 = y_title == "P(1)"
    return figure_from(traces, f"Sweep over {' and '.join(names)}", height=380,
                   xaxis={"title": {"text": title}},
                   yaxis={"title": {"text": y_title}, **({"range": [-0.03, 1.03]} if p1 else {})}, plain=plain)


def _populations(ds: xr.Dataset, name: str, analysis: Any) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The exact |1> population of slot 0 against the analysis' x axis (simulators only)."""
    if "populations" not in ds or ds.sizes.get("slot", 0) < 1 or analysis.name in ("resonator-spectroscopy",):
        return []
    scale = float(analysis.context.get("x_scale", 1.0) or 1.0)
    x = np.asarray(ds[name].values, dtype=float)
    centre = analysis.context.get("centre")
    spectroscopy = name == "frequency" and isinstance(centre, int | float)
    x = (x - centre) / 1e6 if spectroscopy else x * scale  # spectroscopy: an offset in MHz
    order = np.argsort(x, kind="stable")
    pops = np.asarray(ds["populations"].values[:, 0, 1])[order]
    if analysis.y_label != "P(1)":
        return []
    return [("population |1> (exact)", x[order], pops)]


def sweep_map(ds: xr.Dataset, names: Sequence[str], analysis: Any, *, plain: bool = False) -> go.Figure | None:
    """A 2-D map of the signal over two swept parameters (NaN where the grid has no experiment); with a
    chevron analysis, the fitted full-cycle line ``k amp (t + t0) = 1`` on top."""
    from workbench.analysis.signal import two_slot_probability

    y_name, x_name = names[0], names[1]
    if analysis is not None and analysis.name == "chevron":
        y_name, x_name = analysis.context.get("amp", y_name), analysis.context.get("time", x_name)
    if "memory" in ds and ds.sizes.get("slot", 0) >= 2:
        bits = str(analysis.context.get("bits", "11")) if analysis is not None else "1" * 2
        signal, title = two_slot_probability(ds, bits).values, f"P({bits})"
    else:
        curves, title = slot_curves(ds)
        if not curves:
            return None
        signal = curves[0][1]
    x, x_scale, x_title = _axis(ds, x_name)
    y, y_scale, y_title = _axis(ds, y_name)
    xs, ys = np.unique(x), np.unique(y)
    grid = np.full((ys.size, xs.size), np.nan)
    grid[np.searchsorted(ys, y), np.searchsorted(xs, x)] = signal
    traces: list[dict[str, Any]] = [{
        "type": "heatmap", "x": xs * x_scale, "y": ys * y_scale, "z": grid, "colorscale": "Viridis",
        "colorbar": {"title": {"text": title}},
        "hovertemplate": f"{x_name} %{{x:.4g}}, {y_name} %{{y:.4g}}: %{{z:.3f}}<extra></extra>"}]
    head = f"{title} over {x_name} and {y_name}"
    if analysis is not None and analysis.name == "chevron":
        k = analysis.parameters.get("swap_frequency_per_amp")
        t0 = analysis.parameters.get("rise")
        if k is not None and t0 is not None and analysis.ok:
            dt = float(analysis.context.get("dt", 1.0))
            amp = np.linspace(float(ys.min()), float(ys.max()), 200)
            with np.errstate(divide="ignore"):
                t = 1 / (k.value * amp) - t0.value  # s
            t_axis = t / dt if analysis.context.get("time_in_samples") else t
            keep = (t_axis >= xs.min()) & (t_axis <= xs.max())
            traces.append({"type": "scatter", "x": t_axis[keep] * x_scale, "y": amp[keep] * y_scale,
                           "mode": "lines", "name": "one full cycle (CZ)", "line": {"color": "white", "dash": "dash"}})
        from workbench.views.analysis_figures import analysis_title

        head = analysis_title(analysis)
    return figure_from(traces, head, height=420, xaxis={"title": {"text": x_title}}, yaxis={"title": {"text": y_title}},
                   legend={"orientation": "h", "y": -0.2}, plain=plain)
