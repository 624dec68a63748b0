"""Plotly figures of tune-up results, drawn from the tune-up Dataset alone.

Because the figure needs nothing but the Dataset, a ``dataset.nc`` from a config file's history
draws the same picture that justified the change when it was written. Two kinds:

* sweeps (spectroscopy, Rabi, Ramsey, T1, DRAG): each series' points with their standard errors,
  the fitted curve in the same colour, and dashed lines at the proposed values;
* the discriminator: the |0> and |1> shots in the IQ plane, the trained boundary (and the previous
  one, dotted, when there was one) and the confusion matrix.

The title carries the verdict, so a rejected fit is never mistaken for a good one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.views.plotly_json import figure_from
from workbench.views.result_figures import STATE_COLOURS, boundary_segment, sample_indices

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import xarray as xr

SERIES_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
MAX_IQ_POINTS = 3000  # per prepared state


def _attr(ds: xr.Dataset, key: str, default: Any) -> Any:
    raw = ds.attrs.get(key)
    return json.loads(raw) if isinstance(raw, str) else default


def _title(ds: xr.Dataset) -> str:
    quality = _attr(ds, "quality", {})
    updates = _attr(ds, "updates", [])
    verdict = "fit ok" if quality.get("ok") else "REJECTED"
    head = f"{ds.attrs.get('routine')} on {ds.attrs.get('device')}, qubit {ds.attrs.get('qubit')}: {verdict}"
    shown = [u for u in updates if not isinstance(u.get("new"), dict)]
    if shown:
        head += " — " + ", ".join(f"{u['path']} = {u['new']:.10g}" for u in shown)
    if not quality.get("ok") and quality.get("reasons"):
        head += "<br><sup>" + "; ".join(quality["reasons"])[:300] + "</sup>"
    return head


def tuneup_figure(ds: xr.Dataset, *, plain: bool = False) -> go.Figure:
    """The figure of a tune-up Dataset (see the module docstring); ``plain``: as a plain dict, for pages
    that only embed it (the calibration report), like the result figures."""
    if "iq" in ds and "prepared" in ds.dims:
        return discriminator_figure(ds, plain=plain)
    return sweep_figure(ds, plain=plain)


_MARGIN = {"l": 60, "r": 20, "t": 80, "b": 50}


def sweep_figure(ds: xr.Dataset, *, plain: bool = False) -> go.Figure:
    traces: list[dict[str, Any]] = []
    names = [str(s) for s in ds["series"].values] if "series" in ds.coords else []
    for i, name in enumerate(names):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        row = ds.sel(series=name)
        x = np.asarray(row["x"].values, dtype=float)
        keep = np.isfinite(x)
        traces.append({"type": "scatter", "x": x[keep], "y": np.asarray(row["signal"].values)[keep],
                       "mode": "markers", "name": name, "marker": {"color": colour, "size": 6}, "legendgroup": name,
                       "error_y": {"type": "data", "array": np.asarray(row["signal_err"].values)[keep],
                                   "visible": True, "thickness": 1}})
        if "fit" in row:
            fx, fy = np.asarray(row["fit_x"].values, dtype=float), np.asarray(row["fit"].values, dtype=float)
            ok = np.isfinite(fx) & np.isfinite(fy)
            if ok.any():
                traces.append({"type": "scatter", "x": fx[ok], "y": fy[ok], "mode": "lines", "name": f"{name} fit",
                               "legendgroup": name, "line": {"color": colour, "width": 2}})
    shapes, annotations = [], []
    for marker in _attr(ds, "markers", []):  # a vertical line with its label on top
        x0 = float(marker["x"])
        shapes.append({"type": "line", "x0": x0, "x1": x0, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
                       "line": {"dash": "dash", "color": "#444", "width": 1}})
        annotations.append({"x": x0, "xref": "x", "y": 1, "yref": "y domain", "text": str(marker.get("label", "")),
                            "showarrow": False, "xanchor": "center", "yanchor": "bottom"})
    return figure_from(traces, _title(ds), plain=plain, margin=_MARGIN, legend={"orientation": "h", "y": -0.2},
                       xaxis={"title": {"text": str(ds.attrs.get("x_label", ""))}},
                       yaxis={"title": {"text": str(ds.attrs.get("signal_label", ""))}},
                       shapes=shapes, annotations=annotations)


def discriminator_figure(ds: xr.Dataset, max_points: int = MAX_IQ_POINTS, *, plain: bool = False) -> go.Figure:
    traces: list[dict[str, Any]] = []
    iq = np.asarray(ds["iq"].values)
    for state in (0, 1):
        points = iq[state][np.isfinite(iq[state])]
        pick = sample_indices(points.size, max_points, seed=state)
        traces.append({"type": "scattergl", "x": points.real[pick], "y": points.imag[pick], "mode": "markers",
                       "name": f"prepared |{state}>",
                       "marker": {"color": STATE_COLOURS[state], "size": 3, "opacity": 0.5}})
    xaxis: dict[str, Any] = {"title": {"text": "I"}}
    yaxis: dict[str, Any] = {"title": {"text": "Q"}}
    finite = iq[np.isfinite(iq)]
    if finite.size:
        pad = 0.1 * max(np.ptp(finite.real), np.ptp(finite.imag), 1e-9)
        i_range = (float(finite.real.min() - pad), float(finite.real.max() + pad))
        q_range = (float(finite.imag.min() - pad), float(finite.imag.max() + pad))
        for label, disc, dash in (("trained boundary", _new_discriminator(ds), "solid"),
                                  ("previous boundary", _old_discriminator(ds), "dot")):
            if disc is None:
                continue
            segment = boundary_segment(tuple(disc["weights"]), float(disc["offset"]), i_range, q_range)
            if segment is not None:
                traces.append({"type": "scatter", "x": segment[0], "y": segment[1], "mode": "lines", "name": label,
                               "line": {"color": "#222", "dash": dash, "width": 2}})
        xaxis["range"] = list(i_range)
        yaxis.update(range=list(q_range), scaleanchor="x", scaleratio=1)
    annotations = []
    if "confusion" in ds:
        c = np.asarray(ds["confusion"].values)
        annotations.append({"text": (f"P(0|0) {c[0, 0]:.4f}  P(1|0) {c[0, 1]:.4f}<br>"
                                     f"P(0|1) {c[1, 0]:.4f}  P(1|1) {c[1, 1]:.4f}"),
                            "xref": "paper", "yref": "paper", "x": 0.99, "y": 0.01, "xanchor": "right",
                            "yanchor": "bottom", "showarrow": False, "align": "right",
                            "bgcolor": "rgba(255,255,255,0.8)", "font": {"size": 11}})
    return figure_from(traces, _title(ds), plain=plain, margin=_MARGIN, xaxis=xaxis, yaxis=yaxis,
                       annotations=annotations)


def _new_discriminator(ds: xr.Dataset) -> dict[str, Any] | None:
    for u in _attr(ds, "updates", []):
        if u.get("path") == "readout.discriminator" and isinstance(u.get("new"), dict):
            return u["new"]
    return None


def _old_discriminator(ds: xr.Dataset) -> dict[str, Any] | None:
    for u in _attr(ds, "updates", []):
        if u.get("path") == "readout.discriminator" and isinstance(u.get("old"), dict):
            return u["old"]
    return None
