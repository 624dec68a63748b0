"""Ramsey: the drive-frequency error and T2*, from two pi/2 pulses around a delay.

The phase convention decides the sign of the correction, so it is stated here once. In the
simulator (docs/simulator.md, Qiskit's convention) a drive frame detuned from the qubit by
``Delta = f_drive - f_qubit`` leaves the qubit rotated by ``Rz(2 pi Delta tau)`` after a delay
``tau``, and ``ShiftPhase(+2 pi Delta tau)`` undoes that rotation. A Ramsey sequence whose second
pulse is advanced by ``ShiftPhase(+2 pi delta tau)`` (a "virtual detuning" ``delta``) therefore
shows fringes at ``|Delta - delta|``.

A fringe frequency has no sign, so one series cannot tell ``Delta = delta - f`` from
``delta + f``: with one series the smaller ``|Delta|`` is reported (the drive is assumed closer to
the qubit than the virtual detuning) and the summary says so. Two series with ``+delta`` and
``-delta`` can tell: they show ``|Delta - delta|`` and ``|Delta + delta|``, and only one ``Delta``
fits both. Had the convention been the mirror one, the correction would double the error instead
of removing it; the tune-up tests catch that (the frequency must land within 50 kHz of the physics).

The fringes decay as ``exp(-tau / T2*)``; in the simulator's Markovian model that is the device's
``t2``. T2* is physics: reported, never written.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from workbench.analysis.base import AnalysisResult, Parameter, Series
from workbench.analysis.fitting import (
    Fit,
    Param,
    Quality,
    assess,
    damped_cosine,
    dominant_frequency,
    fit_curve,
    grid_search,
    weights_of,
)
from workbench.analysis.signal import (
    dataset_of,
    device_qubit,
    drive_frequency,
    finite_step,
    is_tuneup,
    layout,
    references,
    series_from,
    slot_signal,
    tuneup_series,
)
from workbench.errors import InputError

MAX_STDERR = 20e3  # Hz
CONSISTENCY_FLOOR = 10e3  # Hz the two series may disagree by on top of 5 standard errors


def fit_fringes(t: np.ndarray, y: np.ndarray, err: np.ndarray | None, nyquist: float) -> Fit:
    """Damped cosine (t in us, frequencies in MHz); the frequency from a periodogram refined by a grid
    search with the phase free."""
    w = weights_of(err, len(y))
    f0 = dominant_frequency(t, y, 0.0, nyquist, 800)
    width = nyquist / 400
    f0, coef = grid_search(np.linspace(max(f0 - 2 * width, 0.0), f0 + 2 * width, 41),
                           lambda f: (np.cos(2 * np.pi * f * t), np.sin(2 * np.pi * f * t), np.ones_like(t)), y, w)
    amplitude, phase = math.hypot(coef[0], coef[1]), math.atan2(-coef[1], coef[0])
    span = float(t[-1] - t[0]) or 1.0
    return fit_curve(damped_cosine, t, y, err, [f0, 0.1 / span, phase, amplitude, coef[2]],
                     ("f", "rate", "phase", "A", "B"), model="b + a exp(-rate t) cos(2 pi f t + phase) (us, MHz)",
                     bounds=([0.0, 0.0, -4 * math.pi, 0.0, -np.inf],
                             [1.2 * nyquist, np.inf, 4 * math.pi, np.inf, np.inf]))


def combined(a: Param, b: Param) -> Param:
    """Inverse-variance weighted mean of two estimates of one quantity."""
    if not (a.stderr > 0 and b.stderr > 0 and math.isfinite(a.stderr) and math.isfinite(b.stderr)):
        return a if math.isfinite(a.stderr) else b
    wa, wb = 1 / a.stderr**2, 1 / b.stderr**2
    return Param((a.value * wa + b.value * wb) / (wa + wb), math.sqrt(1 / (wa + wb)))


def t2_from_rate(rate: Param) -> Param:
    """T2* in s from a decay rate in 1/us; infinite uncertainty when the rate is not 2 sigma above zero."""
    if rate.value <= 2 * rate.stderr or not math.isfinite(rate.stderr):
        return Param(1e-6 / rate.value if rate.value > 0 else math.inf, math.inf)
    return Param(1e-6 / rate.value, 1e-6 * rate.stderr / rate.value**2)


def _curves(data: Any, slot: int, detuning: float | None) -> tuple[list[tuple[Series, float]], str, float, str]:
    """(curve, its virtual detuning in Hz) pairs, the y label, the x scale (to us) and the x label."""
    ds = dataset_of(data)
    if is_tuneup(ds):
        params = _json(ds.attrs.get("parameters"))
        delta = float(detuning if detuning is not None else params.get("detuning", 0.0))
        curves = [(s, delta if s.name == "+" else -delta) for s in tuneup_series(ds)]
        return curves, str(ds.attrs.get("signal_label", "")), 1.0, str(ds.attrs.get("x_label", "delay (us)"))
    lay = layout(ds, ("delay", "tau", "time", "wait"), group="detuning", unit="s")
    signal = slot_signal(ds, slot, excited=references(lay, "start"))
    series = series_from(lay, signal)
    if "detuning" in ds.coords and ds["detuning"].dims == ("experiment",):
        values = np.asarray(ds["detuning"].values, dtype=float)
        deltas = [float(values[rows[0]]) for _, rows in lay.groups]
    elif detuning is not None:
        deltas = [float(detuning)] * len(series)
    else:
        raise InputError("a Ramsey analysis needs the virtual detuning: a 'detuning' coordinate (experiment "
                         "metadata) or detuning=... in Hz")
    if detuning is not None and len(series) == 1:
        deltas = [float(detuning)]
    named = [Series("+" if d >= 0 else "-", s.x, s.signal, s.signal_err, iq_mean=s.iq_mean)
             for s, d in zip(series, deltas, strict=True)]
    return list(zip(named, deltas, strict=True)), signal.label, 1e6, f"{lay.x_name} (us)"


def _json(raw: Any) -> dict[str, Any]:
    import json

    try:
        value = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def ramsey(data: Any, *, slot: int = 0, detuning: float | None = None, centre: float | None = None) -> AnalysisResult:
    """Fit the fringes of one or two Ramsey series (virtual detuning ``+delta`` and ``-delta``); report the
    drive's frequency error, the qubit frequency (when the drive frequency ``centre`` is known: given,
    or from the result's device calibration) and T2*."""
    ds = dataset_of(data)
    curves, y_label, scale, x_label = _curves(ds, slot, detuning)
    if centre is None:
        centre = (_json(ds.attrs.get("parameters")).get("centre") if is_tuneup(ds)
                  else drive_frequency(device_qubit(ds, slot)))
    t_us = curves[0][0].x * scale
    step = finite_step(np.concatenate([c.x for c, _ in curves]) * scale)
    nyquist = 1 / (2 * step) if math.isfinite(step) else 1.0  # MHz
    fits: dict[str, Fit] = {}
    fitted = []
    quality = Quality()
    for s, _delta in curves:
        t = s.x * scale
        fit = fit_fringes(t, s.signal, s.signal_err, nyquist)
        fits[s.name] = fit
        quality = quality.merged(assess(fit, label=f"series {s.name}"))
        fx = np.linspace(float(np.min(t)), float(np.max(t)), 800)
        fitted.append(Series(s.name, t, s.signal, s.signal_err, fx, fit.curve(fx) if fit.success else None, s.iq_mean))
    fringes = {s.name: Param(fits[s.name]["f"].value * 1e6, fits[s.name]["f"].stderr * 1e6) for s, _ in curves}
    deltas = dict((s.name, d) for s, d in curves)
    parameters: dict[str, Parameter] = {}
    metrics: dict[str, float] = {}
    reasons = []
    if "+" in fringes and "-" in fringes and len(curves) == 2:
        delta = abs(deltas["+"])
        f_plus, f_minus = fringes["+"], fringes["-"]
        # f+ = |Delta - delta|, f- = |Delta + delta|: the Delta both allow
        pairs = itertools.product((delta - f_plus.value, delta + f_plus.value),
                                  (-delta + f_minus.value, -delta - f_minus.value))
        a, b = min(pairs, key=lambda p: abs(p[0] - p[1]))
        sigma = 0.5 * math.hypot(f_plus.stderr, f_minus.stderr)
        error = Param((a + b) / 2, sigma)
        spread = abs(a - b)
        metrics["ramsey_disagreement_hz"] = spread
        if not spread <= 5 * 2 * sigma + CONSISTENCY_FLOOR:
            reasons.append(f"the two series disagree on the detuning by {spread / 1e3:.1f} kHz (frequency error "
                           f"{a / 1e3:+.1f} vs {b / 1e3:+.1f} kHz): the qubit may be more than {delta / 1e6:g} MHz "
                           "off; run qubit spectroscopy first or choose a larger detuning")
        rate = combined(fits["+"]["rate"], fits["-"]["rate"])
        parameters["fringe_plus"] = Parameter(f_plus.value, f_plus.stderr, "Hz", "fringe frequency (+)")
        parameters["fringe_minus"] = Parameter(f_minus.value, f_minus.stderr, "Hz", "fringe frequency (−)")
        note = ""
    else:
        s, delta_signed = curves[0]
        fringe = fringes[s.name]
        candidates = (delta_signed - fringe.value, delta_signed + fringe.value)
        error = Param(min(candidates, key=abs), fringe.stderr)
        sigma = fringe.stderr
        rate = fits[s.name]["rate"]
        parameters["fringe_frequency"] = Parameter(fringe.value, fringe.stderr, "Hz", "fringe frequency")
        note = " (one series: the sign assumes the drive is within the virtual detuning of the qubit)"
    if not sigma <= MAX_STDERR:
        reasons.append(f"the frequency error is uncertain by {sigma / 1e3:.1f} kHz (at most {MAX_STDERR / 1e3:g} kHz)")
    quality = quality.merged(Quality(tuple(reasons), metrics))
    t2 = t2_from_rate(rate)
    parameters["frequency_error"] = Parameter(error.value, error.stderr, "Hz", "drive − qubit frequency")
    if centre is not None:
        parameters["qubit_frequency"] = Parameter(float(centre) - error.value, error.stderr, "Hz", "qubit frequency")
    parameters["t2_star"] = Parameter(t2.value, t2.stderr, "s", "T2*")
    fringe_text = ", ".join(f"{fringes[s.name].value / 1e6:.5f} ({s.name})" for s, _ in curves)
    lines = [f"fringes at {fringe_text} MHz for a virtual detuning of "
             + " / ".join(f"{d / 1e6:+g} MHz" for _, d in curves),
             f"drive frame is {error.value / 1e3:+.2f} ± {sigma / 1e3:.2f} kHz off the qubit{note}"
             + (f": qubit at {(centre - error.value) / 1e9:.9f} GHz" if centre is not None else ""),
             (f"T2* = {t2.value * 1e6:.1f} ± {t2.stderr * 1e6:.1f} us" if math.isfinite(t2.stderr)
              else f"T2* not resolved within {float(np.max(t_us)):g} us (decay rate {rate.value:.3g} ± "
                   f"{rate.stderr:.2g} /us)")]
    return AnalysisResult("ramsey", "Ramsey", parameters, quality, fitted, {k: v.as_dict() for k, v in fits.items()},
                          x_label=x_label, y_label=y_label, lines=lines,
                          context={"slot": slot, "x_scale": scale, "detuning": [d for _, d in curves],
                                   "centre": centre})


__all__ = ["combined", "fit_fringes", "ramsey", "t2_from_rate"]
