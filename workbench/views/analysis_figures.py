"""Figures and tables of an analysis, drawn from its plain data (:class:`~workbench.analysis.base.AnalysisResult`).

* :func:`analysis_figure`: each curve's points with their standard errors, the fitted curve in the
  same colour, dashed lines at the reported values, the verdict in the title (a failed fit names
  its reasons and shows no value, so it is never mistaken for a good one);
* :func:`parameter_table` / :func:`parameter_table_html`: the reported parameters with standard
  errors and units (CSS class ``wb-analysis-table``), or the reasons the verdict failed.

The results panel, the report and scripts use the same functions, so they show the same thing.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.views.plotly_json import figure_from

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from workbench.analysis.base import AnalysisResult

SERIES_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f")
TABLE_CLASS = "wb-analysis-table"


def analysis_figure(analysis: AnalysisResult,
                    populations: Sequence[tuple[str, np.ndarray, np.ndarray]] = (), *,
                    plain: bool = False) -> go.Figure:
    """The analysis' curves and fits (see the module docstring); ``populations`` adds exact curves
    ``(name, x, y)`` dotted (a simulator's populations, on the analysis' x axis)."""
    traces: list[dict[str, Any]] = []
    for i, s in enumerate(analysis.series):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        points: dict[str, Any] = {"type": "scatter", "x": np.asarray(s.x), "y": np.asarray(s.signal),
                                  "mode": "markers", "name": s.name, "legendgroup": s.name,
                                  "marker": {"color": colour, "size": 6}}
        if s.signal_err is not None and np.any(np.isfinite(s.signal_err)):
            points["error_y"] = {"type": "data", "array": np.asarray(s.signal_err), "visible": True, "thickness": 1}
        traces.append(points)
        if s.fit_x is not None and s.fit_y is not None:
            traces.append({"type": "scatter", "x": np.asarray(s.fit_x), "y": np.asarray(s.fit_y), "mode": "lines",
                           "name": f"{s.name} fit", "legendgroup": s.name, "line": {"color": colour, "width": 2}})
    for name, x, y in populations:
        traces.append({"type": "scatter", "x": x, "y": y, "mode": "lines", "name": name,
                       "line": {"color": "#888", "dash": "dot"}})
    shapes, annotations = [], []
    for marker in analysis.markers if analysis.ok else []:  # a vertical line with its label on top
        x = float(marker["x"])
        shapes.append({"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
                       "line": {"dash": "dash", "color": "#444", "width": 1}})
        annotations.append({"x": x, "xref": "x", "y": 1, "yref": "y domain", "text": str(marker.get("label", "")),
                            "showarrow": False, "xanchor": "center", "yanchor": "bottom"})
    return figure_from(traces, analysis_title(analysis), xaxis={"title": {"text": analysis.x_label}},
                       yaxis={"title": {"text": analysis.y_label}}, height=420,
                       margin={"l": 60, "r": 20, "t": 80, "b": 50}, legend={"orientation": "h", "y": -0.2},
                       shapes=shapes, annotations=annotations, plain=plain)


def parameter_table(analysis: AnalysisResult) -> list[tuple[str, str]]:
    """``(what, value ± error unit)`` rows; empty while the verdict fails."""
    return [(label, text) for _, label, text in analysis.table()]


def parameter_table_html(analysis: AnalysisResult, *, css_class: str = TABLE_CLASS) -> str:
    """The parameter table as HTML (``<table class="wb-analysis-table">``: one row per parameter, with
    ``data-parameter`` naming it), the verdict above it and, for a failed verdict, its reasons instead."""
    cls = html.escape(css_class)
    verdict = "fit ok" if analysis.ok else "FAILED: no parameters reported"
    head = (f"<p class='wb-analysis-verdict {'ok' if analysis.ok else 'failed'}'><b>{html.escape(analysis.title)}"
            f"</b>: {html.escape(verdict)}</p>")
    if not analysis.ok:
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in analysis.quality.reasons)
        return head + f"<ul class='wb-analysis-reasons'>{reasons}</ul>"
    rows = "".join(f"<tr data-parameter='{html.escape(name)}'><td>{html.escape(label)}</td>"
                   f"<td class=num>{html.escape(text)}</td></tr>" for name, label, text in analysis.table())
    return head + (f"<table class='{cls}'><thead><tr><th>parameter</th><th>value ± standard error</th></tr>"
                   f"</thead><tbody>{rows}</tbody></table>")


def summary_html(analysis: AnalysisResult) -> str:
    """The analysis' summary lines (the fit's R², what was assumed), folded: they are the CLI's one-line
    summary and restate the parameter table shown above them, so they open only when asked for."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in analysis.lines)
    return (f"<details class='wb-analysis-summary'><summary>summary</summary><ul>{items}</ul></details>"
            if items else "")


def context_rows(analysis: AnalysisResult) -> list[tuple[str, Any]]:
    """The fits' models and goodness (model, R², reduced chi-square) per curve, for a details table."""
    rows = []
    for name, fit in analysis.fits.items():
        if isinstance(fit, dict) and "model" in fit:
            r2, chi2 = fit.get("r2"), fit.get("chi2_red")
            rows.append((name, f"{fit['model']}; R² {r2:.4f}, χ²_red {chi2:.3g}" if r2 is not None and chi2 is not None
                         else str(fit["model"])))
    return rows


def analysis_title(analysis: AnalysisResult) -> str:
    """``Rabi amplitude: π amplitude 0.4768 ± 0.0011`` or ``Rabi amplitude: FAILED (reason)``."""
    if analysis.ok:
        shown = "; ".join(f"{label} {text}" for _, label, text in analysis.table()[:2])
        return f"{analysis.title}: {shown}"
    reasons = "; ".join(analysis.quality.reasons)
    return f"{analysis.title}: FAILED<br><sup>{reasons[:300]}</sup>"
