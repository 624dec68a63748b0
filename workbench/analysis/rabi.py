"""Rabi analyses: the pi amplitude from an amplitude sweep, the pi duration from a length sweep.

**Amplitude.** On resonance a pulse of fixed shape rotates the qubit by an angle proportional to its
amplitude, so the excited population is ``(1 - cos(pi a / a_pi)) / 2``: a cosine in the amplitude
whose half period is the pi amplitude. Its phase is not a free parameter (no pulse, no rotation),
which keeps the fit honest. Each curve (the tune-up sweeps ``x`` and ``sx`` in one job) is fitted on
its own.

**Length.** A pulse of fixed amplitude rotates by an angle that grows linearly with its length, but a
shaped pulse's rise and fall add a constant, so the phase is free: ``b + a cos(2 pi t / period + phi)``.
The Rabi frequency is ``1 / period`` and the pi duration is where the population first peaks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.analysis.base import AnalysisResult, Parameter, Series
from workbench.analysis.fitting import Fit, Param, Quality, assess, cosine, fit_curve, grid_search, weights_of
from workbench.analysis.signal import (
    dataset_of,
    finite_step,
    is_tuneup,
    layout,
    references,
    series_from,
    slot_signal,
    tuneup_series,
)
from workbench.analysis.sweep import axis_scale

MAX_RELATIVE_ERROR = 0.02  # a pi amplitude (or duration) known to worse than 2% is not worth using


def fit_rabi_amplitude(amps: np.ndarray, y: np.ndarray, err: np.ndarray | None) -> tuple[Fit, Param]:
    """Cosine in the amplitude (even, so a negative sweep needs no care): the period from a grid search,
    then a weighted least-squares fit. Returns the fit and the pi amplitude (half the period, with the
    sweep's sign)."""
    amps = np.asarray(amps, dtype=float)
    top = float(np.max(np.abs(amps))) or 1.0
    sign = 1.0 if amps[int(np.argmax(np.abs(amps)))] >= 0 else -1.0
    w = weights_of(err, len(y))
    periods = np.linspace(0.3 * top, 8 * top, 600)
    period, coef = grid_search(periods, lambda p: (np.cos(2 * np.pi * amps / p), np.ones_like(amps)), y, w)
    fit = fit_curve(cosine, amps, y, err, [period, coef[0], coef[1]], ("period", "A", "B"),
                    model="b + a cos(2 pi amp / period)",
                    bounds=([0.05 * top, -np.inf, -np.inf], [50 * top, np.inf, np.inf]))
    period_fit = fit["period"]
    return fit, Param(sign * period_fit.value / 2, period_fit.stderr / 2)


def _series(data: Any, slot: int, prefer: tuple[str, ...],
            unit: str | None = None) -> tuple[list[Series], str, str, str]:
    """The curves to fit, the y label, the x name and the x unit (tune-up Datasets as they are)."""
    ds = dataset_of(data)
    if is_tuneup(ds):
        return tuneup_series(ds), str(ds.attrs.get("signal_label", "")), str(ds.attrs.get("x_label", "")), ""
    lay = layout(ds, prefer, unit=unit)
    signal = slot_signal(ds, slot, ground=references(lay, "start"))
    return series_from(lay, signal), signal.label, lay.x_name, lay.unit


def _named(series: list[Series], default: str) -> list[Series]:
    return [s if s.name else Series(default, s.x, s.signal, s.signal_err, iq_mean=s.iq_mean) for s in series]


def rabi_amplitude(data: Any, *, slot: int = 0, angles: Mapping[str, float] | None = None) -> AnalysisResult:
    """Fit every amplitude curve of a Rabi sweep; report each pi amplitude.

    ``angles`` gives the rotation a curve's pulse is meant to make (``{"sx": pi / 2}``): the amplitude
    for it (``pi_amp * angle / pi``) must stay within ``|amp| <= 1``."""
    series, y_label, x_name, _ = _series(data, slot, ("amp",))
    series = _named(series, "rabi")
    several = len(series) > 1 or series[0].name != "rabi"  # curves named by the data (x, sx) keep their names
    fitted, fits, parameters, lines, markers = [], {}, {}, [], []
    quality = Quality()
    for s in series:
        fit, pi_amp = fit_rabi_amplitude(s.x, s.signal, s.signal_err)
        fits[s.name] = fit.as_dict()
        top = float(np.max(np.abs(s.x)))
        angle = (angles or {}).get(s.name, math.pi)
        value = pi_amp.value * angle / math.pi
        ok_range = 0 < abs(pi_amp.value) <= top * 1.02 and abs(value) <= 1
        quality = quality.merged(assess(fit, label=s.name if several else "", checks=[
            (ok_range, f"the pi amplitude {pi_amp.value:.4g} lies outside the swept range (0, {top:.4g}] "
                       "or would need |amp| > 1"),
            (pi_amp.relative <= MAX_RELATIVE_ERROR,
             f"the pi amplitude is uncertain by {100 * pi_amp.relative:.1f}% (at most {100 * MAX_RELATIVE_ERROR:g}%)"),
        ]))
        key = f"{s.name}_pi_amplitude" if several else "pi_amplitude"
        label = "π amplitude" + (f" ({s.name})" if several else "")
        parameters[key] = Parameter(pi_amp.value, pi_amp.stderr, "", label)
        lines.append(f"{s.name + ': ' if several else ''}pi amplitude {pi_amp} (R² {fit.r2:.4f})")
        markers.append({"series": s.name, "x": pi_amp.value, "label": f"π amp {pi_amp.value:.4g}"})
        fx = np.linspace(float(np.min(s.x)), float(np.max(s.x)), 400)
        fitted.append(Series(s.name, s.x, s.signal, s.signal_err, fx, fit.curve(fx) if fit.success else None,
                             s.iq_mean))
    return AnalysisResult("rabi-amplitude", "Rabi amplitude", parameters, quality, fitted, fits,
                          x_label="drive amplitude" if x_name in ("amp", "") else x_name, y_label=y_label,
                          lines=lines, markers=markers, context={"slot": slot})


def rabi_phase_cosine(t: np.ndarray, period: float, phase: float, a: float, b: float) -> np.ndarray:
    """Rabi oscillation in time with the phase free: ``b + a cos(2 pi t / period + phase)``."""
    return b + a * np.cos(2 * np.pi * t / period + phase)


def fit_oscillation(t: np.ndarray, y: np.ndarray, err: np.ndarray | None) -> Fit:
    """A cosine with free phase: the period by a grid search (linear parameters exact), then least squares."""
    t = np.asarray(t, dtype=float)
    span = float(np.ptp(t)) or 1.0
    step = finite_step(t)
    shortest = 2.2 * step if math.isfinite(step) else span / 10
    w = weights_of(err, len(y))
    periods = np.geomspace(shortest, 8 * span, 800)
    period, coef = grid_search(periods, lambda p: (np.cos(2 * np.pi * t / p), np.sin(2 * np.pi * t / p),
                                                   np.ones_like(t)), y, w)
    amplitude, phase = math.hypot(coef[0], coef[1]), math.atan2(-coef[1], coef[0])
    return fit_curve(rabi_phase_cosine, t, y, err, [period, phase, amplitude, coef[2]], ("period", "phase", "A", "B"),
                     model="b + a cos(2 pi t / period + phase)",
                     bounds=([0.5 * shortest, -4 * math.pi, 0.0, -np.inf], [50 * span, 4 * math.pi, np.inf, np.inf]))


def first_peak(fit: Fit) -> Param:
    """Where ``b + a cos(2 pi t / period + phase)`` first peaks at t >= 0, with its standard error."""
    period, phase = fit.values[0], fit.values[1]
    turns = ((-phase) % (2 * math.pi)) / (2 * math.pi)
    value = turns * period
    grad = np.array([turns, -period / (2 * math.pi)])  # d/d(period), d/d(phase)
    var = float(grad @ fit.covariance[:2, :2] @ grad) if fit.success else math.inf
    return Param(value, math.sqrt(max(var, 0.0)) if math.isfinite(var) else math.inf)


def rabi_length(data: Any, *, slot: int = 0) -> AnalysisResult:
    """Fit the oscillation of P(1) (or the IQ projection) against the pulse length; report the Rabi
    frequency and the pi duration."""
    series, y_label, x_name, unit = _series(data, slot, ("duration", "length", "width", "time"), unit="s")
    series = _named(series, "rabi")
    s = series[0]
    scale, shown = axis_scale(x_name, s.x, unit or "s")
    t = s.x * scale
    fit = fit_oscillation(t, s.signal, s.signal_err)
    period = Param(fit["period"].value / scale, fit["period"].stderr / scale)
    peak = first_peak(fit)
    pi_duration = Param(peak.value / scale, peak.stderr / scale)
    frequency = Param(1 / period.value, period.stderr / period.value**2) if period.value > 0 else Param(math.nan,
                                                                                                     math.inf)
    quality = assess(fit, checks=[
        (pi_duration.value <= float(np.max(s.x)), f"the pi duration {pi_duration.value * scale:.4g} {shown} lies "
                                                  "beyond the swept lengths"),
        (pi_duration.relative <= MAX_RELATIVE_ERROR,
         f"the pi duration is uncertain by {100 * pi_duration.relative:.1f}% (at most {100 * MAX_RELATIVE_ERROR:g}%)"),
    ])
    fx = np.linspace(float(np.min(t)), float(np.max(t)), 600)
    fitted = [Series(s.name, t, s.signal, s.signal_err, fx, fit.curve(fx) if fit.success else None, s.iq_mean)]
    parameters = {"pi_duration": Parameter(pi_duration.value, pi_duration.stderr, "s", "π duration"),
                  "rabi_frequency": Parameter(frequency.value, frequency.stderr, "Hz", "Rabi frequency")}
    lines = [f"Rabi frequency {frequency.value / 1e6:.4f} ± {frequency.stderr / 1e6:.2g} MHz; pi duration "
             f"{pi_duration.value * scale:.4g} ± {pi_duration.stderr * scale:.2g} {shown} (R² {fit.r2:.4f})"]
    return AnalysisResult("rabi-length", "Rabi length", parameters, quality, fitted, {s.name: fit.as_dict()},
                          x_label=f"{x_name} ({shown})", y_label=y_label, lines=lines,
                          markers=[{"x": pi_duration.value * scale, "label": "π duration"}],
                          context={"slot": slot, "x_scale": scale})


__all__ = ["first_peak", "fit_oscillation", "fit_rabi_amplitude", "rabi_amplitude", "rabi_length"]
