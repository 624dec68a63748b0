"""What an analysis returns, as plain data: parameters with uncertainties and units, a verdict, curves.

An :class:`AnalysisResult` is everything a person (or the views) needs to read an experiment: the
fitted parameters (value, standard error, unit), the quality verdict with its reasons, the measured
curves with their fits, the summary lines. It holds no figure: the views draw it
(:mod:`workbench.views.analysis_figures`), so this layer needs no plotting library and the same
result draws the same picture in the results panel, the report and a colleague's notebook.

It travels in two forms: ``analysis.json`` (:meth:`AnalysisResult.as_dict`, no arrays) and inside
a result Dataset (:func:`attach` / :func:`attached`: the JSON in ``attrs["analysis"]`` plus the
curves as ``analysis_*`` variables), so ``dataset.nc`` holds the fit and reloads it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.analysis.fitting import Param, Quality

if TYPE_CHECKING:
    import xarray as xr

FORMAT = "workbench-analysis/1"
VARIABLES = ("analysis_x", "analysis_signal", "analysis_signal_err", "analysis_fit_x", "analysis_fit")
DIMENSIONS = ("analysis_series", "analysis_point", "analysis_fine")


@dataclass(frozen=True)
class Parameter:
    """A reported value with its one-sigma standard error, its unit and what it is."""

    value: float
    stderr: float
    unit: str = ""
    label: str = ""

    @property
    def param(self) -> Param:
        return Param(self.value, self.stderr)

    def as_dict(self) -> dict[str, Any]:
        return {"value": _number(self.value), "stderr": _number(self.stderr), "unit": self.unit,
                "label": self.label}

    def text(self) -> str:
        """``0.4768 ± 0.0011``, ``61.2 ± 1.6 us``: scaled to a readable unit, the error to two digits."""
        finite_err = math.isfinite(self.stderr) and self.stderr > 0
        size = max(abs(self.value) if math.isfinite(self.value) else 0.0, self.stderr if finite_err else 0.0)
        factor, unit = _display(size, self.unit)
        value = self.value * factor
        if (math.isfinite(self.stderr) and self.stderr == 0) or math.isnan(self.stderr):
            return f"{value:.6g} {unit}".strip()
        if not math.isfinite(self.stderr):
            return f"{value:.6g} {unit}".strip() + " (not resolved)"
        err = self.stderr * factor
        decimals = min(max(0, 1 - math.floor(math.log10(err))), 12)
        return f"{value:.{decimals}f} ± {err:.{decimals}f} {unit}".strip()


def _display(size: float, unit: str) -> tuple[float, str]:
    if unit == "s":
        for factor, name in ((1e9, "ns"), (1e6, "us"), (1e3, "ms")):
            if size * factor < 1000:
                return factor, name
        return 1.0, "s"
    if unit == "Hz":
        for factor, name in ((1e-9, "GHz"), (1e-6, "MHz"), (1e-3, "kHz")):
            if size * factor >= 1:
                return factor, name
        return 1.0, "Hz"
    return 1.0, unit


def _number(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class Series:
    """One curve: the swept values, the signal read from them (with standard errors), and the fit."""

    name: str
    x: np.ndarray
    signal: np.ndarray
    signal_err: np.ndarray | None = None
    fit_x: np.ndarray | None = None
    fit_y: np.ndarray | None = None
    iq_mean: np.ndarray | None = None


@dataclass
class AnalysisResult:
    """An analysis of one Dataset (see the module docstring).

    ``parameters`` are what the analysis measured; while the verdict fails they are kept for
    inspection but never *reported*: :meth:`value` gives None and ``analysis.json`` holds nulls, so a
    noise Dataset gives a failed verdict, not a number. ``extra`` holds arrays some analyses keep
    (the discriminator's shots), ``context`` what the analysis was told or read (detuning, qubit).
    """

    name: str
    title: str
    parameters: dict[str, Parameter]
    quality: Quality
    series: list[Series] = field(default_factory=list)
    fits: dict[str, Any] = field(default_factory=dict)
    x_label: str = ""
    y_label: str = ""
    lines: list[str] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, tuple[tuple[str, ...], np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.quality.ok

    @property
    def verdict(self) -> str:
        return "ok" if self.ok else "failed"

    def value(self, name: str) -> float | None:
        """A parameter's value when the verdict passed, else None."""
        return self.parameters[name].value if self.ok and name in self.parameters else None

    def measured(self) -> dict[str, Param]:
        return {k: p.param for k, p in self.parameters.items()}

    def table(self) -> list[tuple[str, str, str]]:
        """``(parameter, label, value ± error unit)`` rows: what a parameter table shows."""
        if not self.ok:
            return []
        return [(name, p.label or name, p.text()) for name, p in self.parameters.items()]

    def summary(self) -> str:
        head = f"{self.title}: " + ("fit ok" if self.ok else "FAILED, no parameters reported")
        out = [head]
        if self.ok:
            width = max((len(label) for _, label, _ in self.table()), default=0)
            out.extend(f"  {label:<{width}}  {text}" for _, label, text in self.table())
        else:
            out.extend(f"  - {reason}" for reason in self.quality.reasons)
        return "\n".join(out)

    def as_dict(self) -> dict[str, Any]:
        """``analysis.json``: name, verdict, parameters (null values while the verdict fails), fits."""
        reported = {k: (p.as_dict() if self.ok else {**p.as_dict(), "value": None, "stderr": None})
                    for k, p in self.parameters.items()}
        return {
            "format": FORMAT,
            "analysis": self.name,
            "title": self.title,
            "verdict": self.verdict,
            "quality": self.quality.as_dict(),
            "parameters": reported,
            "fitted": {k: p.as_dict() for k, p in self.parameters.items()},
            "fits": self.fits,
            "x_label": self.x_label,
            "y_label": self.y_label,
            "summary": list(self.lines),
            "markers": list(self.markers),
            "context": dict(self.context),
            "series": [s.name for s in self.series],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], series: Sequence[Series] = ()) -> AnalysisResult:
        quality = data.get("quality") or {}
        metrics = {k: (v if v is not None else math.nan) for k, v in (quality.get("metrics") or {}).items()}
        fitted = data.get("fitted") or data.get("parameters") or {}
        parameters = {k: Parameter(_float(p.get("value")), _float(p.get("stderr")), str(p.get("unit", "")),
                                   str(p.get("label", ""))) for k, p in fitted.items()}
        return cls(str(data.get("analysis", "")), str(data.get("title", "")), parameters,
                   Quality(tuple(quality.get("reasons") or ()), metrics), list(series), dict(data.get("fits") or {}),
                   str(data.get("x_label", "")), str(data.get("y_label", "")), list(data.get("summary") or ()),
                   list(data.get("markers") or ()), dict(data.get("context") or {}))

    def to_json(self) -> str:
        """The text of ``analysis.json``."""
        return as_json(self)

    def __repr__(self) -> str:
        return f"<AnalysisResult {self.name}: {self.verdict}>"

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(self.summary()) + "</pre>"


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _clean(value: Any) -> Any:
    """JSON-ready with NaN/inf as null (analysis.json is read by other tools, which reject NaN)."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    return value


def as_json(analysis: AnalysisResult, indent: int | None = 2) -> str:
    """``analysis.json``'s text (NaN and infinities as null); ``indent=None``: one line, no newline."""
    text = json.dumps(_clean(analysis.as_dict()), indent=indent, allow_nan=False)
    return text + "\n" if indent is not None else text


# ----------------------------------------------------------------------------------------- Datasets


def attach(ds: xr.Dataset, analysis: AnalysisResult) -> xr.Dataset:
    """A copy of ``ds`` holding the analysis: ``attrs["analysis"]`` (JSON) and the curves as
    ``analysis_x``, ``analysis_signal``, ``analysis_signal_err`` (``analysis_series`` x
    ``analysis_point``) and ``analysis_fit_x``, ``analysis_fit`` (x ``analysis_fine``), NaN-padded.
    A previous analysis is replaced."""
    out = detached(ds)
    series = analysis.series
    if series:
        n = max(len(s.x) for s in series)
        m = max((len(s.fit_x) for s in series if s.fit_x is not None), default=0)

        def padded(values: np.ndarray | None, size: int) -> np.ndarray:
            row = np.full(size, np.nan)
            if values is not None:
                row[: len(values)] = np.asarray(values, dtype=float)
            return row

        out = out.assign_coords(analysis_series=[s.name for s in series])
        out["analysis_x"] = (("analysis_series", "analysis_point"), np.stack([padded(s.x, n) for s in series]))
        out["analysis_signal"] = (("analysis_series", "analysis_point"),
                                  np.stack([padded(s.signal, n) for s in series]))
        out["analysis_signal_err"] = (("analysis_series", "analysis_point"),
                                      np.stack([padded(s.signal_err, n) for s in series]))
        if m:
            out["analysis_fit_x"] = (("analysis_series", "analysis_fine"),
                                     np.stack([padded(s.fit_x, m) for s in series]))
            out["analysis_fit"] = (("analysis_series", "analysis_fine"),
                                   np.stack([padded(s.fit_y, m) for s in series]))
    out.attrs["analysis"] = as_json(analysis, indent=None)
    return out


def detached(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` without an attached analysis (a shallow copy; ``ds`` is not changed)."""
    names = [v for v in VARIABLES if v in ds.variables] + [d for d in DIMENSIONS if d in ds.coords]
    out = ds.drop_vars(names) if names else ds.copy(deep=False)
    out.attrs = {k: v for k, v in ds.attrs.items() if k != "analysis"}
    return out


def attached(ds: xr.Dataset) -> AnalysisResult | None:
    """The analysis held by a Dataset (:func:`attach`), or None."""
    raw = ds.attrs.get("analysis")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    series = []
    if "analysis_x" in ds and "analysis_series" in ds.coords:
        for k, name in enumerate(str(s) for s in ds["analysis_series"].values):
            x = np.asarray(ds["analysis_x"].values[k], dtype=float)
            keep = np.isfinite(x)
            err = np.asarray(ds["analysis_signal_err"].values[k], dtype=float)[keep]
            fx = fy = None
            if "analysis_fit" in ds:
                fx = np.asarray(ds["analysis_fit_x"].values[k], dtype=float)
                fy = np.asarray(ds["analysis_fit"].values[k], dtype=float)
                ok = np.isfinite(fx) & np.isfinite(fy)
                fx, fy = (fx[ok], fy[ok]) if ok.any() else (None, None)
            series.append(Series(name, x[keep], np.asarray(ds["analysis_signal"].values[k], dtype=float)[keep],
                                 err if np.any(np.isfinite(err)) else None, fx, fy))
    return AnalysisResult.from_dict(data, series)
