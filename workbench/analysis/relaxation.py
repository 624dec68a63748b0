"""Decays: T1 from a pi pulse and a delay, T2 (echo) from a Hahn echo.

Both are ``b + a exp(-t / T)``: the excited population relaxes (T1), or the coherence an echo
refocuses decays (T2 echo: ``pi/2 - t/2 - pi - t/2 - pi/2``). The rate is found by a grid search
with the linear parameters exact, then refined by weighted least squares. T1 and T2 are physics:
reported, never written into a calibration.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workbench.analysis.base import AnalysisResult, Parameter, Series
from workbench.analysis.fitting import Fit, Param, assess, exponential, fit_curve, grid_search, weights_of
from workbench.analysis.signal import (
    dataset_of,
    is_tuneup,
    layout,
    references,
    series_from,
    slot_signal,
    tuneup_series,
)
from workbench.analysis.sweep import axis_scale

MAX_RELATIVE_ERROR = 0.25


def fit_decay(t_us: np.ndarray, y: np.ndarray, err: np.ndarray | None) -> tuple[Fit, Param]:
    """``b + a exp(-rate t)`` with t in us; returns the fit and the time constant in seconds."""
    t_us = np.asarray(t_us, dtype=float)
    w = weights_of(err, len(t_us))
    top = float(np.max(t_us)) or 1.0
    rates = 1 / np.geomspace(0.02 * top, 20 * top, 200)
    rate0, coef = grid_search(rates, lambda r: (np.exp(-r * t_us), np.ones_like(t_us)), y, w)
    fit = fit_curve(exponential, t_us, y, err, [rate0, coef[0], coef[1]], ("rate", "A", "B"),
                    model="b + a exp(-rate t) (t in us)", bounds=([0.0, -np.inf, -np.inf], [np.inf, np.inf, np.inf]))
    rate = fit["rate"]
    if rate.value > 0 and math.isfinite(rate.stderr):
        return fit, Param(1e-6 / rate.value, 1e-6 * rate.stderr / rate.value**2)
    return fit, Param(math.inf if rate.value <= 0 else 1e-6 / rate.value, math.inf)


def _decay(data: Any, *, name: str, title: str, parameter: str, label: str, slot: int) -> AnalysisResult:
    ds = dataset_of(data)
    if is_tuneup(ds):
        series, y_label, scale = tuneup_series(ds), str(ds.attrs.get("signal_label", "")), 1.0
        x_label = str(ds.attrs.get("x_label", "delay (us)"))
        t_us = series[0].x
        s = series[0]
    else:
        lay = layout(ds, ("delay", "tau", "time", "wait"), unit="s")
        signal = slot_signal(ds, slot, excited=references(lay, "start"))
        s = series_from(lay, signal)[0]
        scale, shown = axis_scale(lay.x_name, s.x, lay.unit or "s")
        t_us = s.x * 1e6
        y_label, x_label = signal.label, f"{lay.x_name} ({shown})"
    fit, constant = fit_decay(t_us, s.signal, s.signal_err)
    span_s = float(np.max(t_us)) * 1e-6
    quality = assess(fit, checks=[
        (constant.relative <= MAX_RELATIVE_ERROR,
         f"{label} is uncertain by {100 * constant.relative:.0f}% (at most {100 * MAX_RELATIVE_ERROR:g}%): "
         f"adapt the span to {label}"),
        (constant.value <= 10 * span_s, f"{label} = {constant.value * 1e6:.3g} us is far beyond the "
                                        f"{span_s * 1e6:g} us span"),
    ])
    shown_x = t_us * 1e-6 * scale if scale != 1.0 else t_us
    fx = np.linspace(float(np.min(t_us)), float(np.max(t_us)), 400)
    fitted = [Series(s.name or name, shown_x, s.signal, s.signal_err, fx * 1e-6 * scale if scale != 1.0 else fx,
                     fit.curve(fx) if fit.success else None, s.iq_mean)]
    lines = [f"{label} = {constant.value * 1e6:.2f} ± {constant.stderr * 1e6:.2f} us (R² {fit.r2:.4f})"]
    return AnalysisResult(name, title, {parameter: Parameter(constant.value, constant.stderr, "s", label)}, quality,
                          fitted, {s.name or name: fit.as_dict()}, x_label=x_label, y_label=y_label, lines=lines,
                          context={"slot": slot, "x_scale": scale})


def t1(data: Any, *, slot: int = 0) -> AnalysisResult:
    """Energy relaxation: the excited population after a pi pulse against the delay."""
    return _decay(data, name="t1", title="T1 (energy relaxation)", parameter="t1", label="T1", slot=slot)


def echo(data: Any, *, slot: int = 0) -> AnalysisResult:
    """Hahn echo: the refocused population against the total delay."""
    return _decay(data, name="echo", title="T2 echo (Hahn)", parameter="t2_echo", label="T2 echo", slot=slot)


__all__ = ["echo", "fit_decay", "t1"]
