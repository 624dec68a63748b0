"""Chevron of a parametric CZ coupler: ``|11>`` against the coupler pulse's amplitude and length.

Prepared in ``|11>``, a coupler pulse resonant with the ``|11> <-> |02>`` transition swaps the
population at a rate proportional to its amplitude, so

    P(11) = b + a cos(2 pi k amp (t + t0))

with ``k`` the swap frequency per unit amplitude and ``t0`` the pulse's rise and fall expressed as
extra flat-top length (``t`` is the swept length: the flat-top width or the whole duration). The CZ
gate is one full cycle: ``|11>`` comes back with a phase of pi, at ``k amp (t + t0) = 1``. The model is
fitted to the whole map at once (``k`` and ``t0`` by a grid search with ``a`` and ``b`` exact, then least
squares), which needs far fewer points than fitting each amplitude's oscillation on its own; the
amplitude of one full cycle at the calibrated CZ pulse's length is reported when the result's device
has one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workbench.analysis.base import AnalysisResult, Parameter, Series
from workbench.analysis.fitting import Param, assess, fit_curve, weights_of
from workbench.analysis.signal import dataset_of, layout, two_slot_probability
from workbench.analysis.sweep import axis_scale, swept
from workbench.errors import InputError

MAX_RELATIVE_ERROR = 0.02


def chevron_model(xy: np.ndarray, k: float, t0: float, a: float, b: float) -> np.ndarray:
    """``b + a cos(2 pi k amp (t + t0))`` for rows ``(amp, t)`` of ``xy`` (t in us, k in MHz)."""
    amp, t = xy
    return b + a * np.cos(2 * np.pi * k * amp * (t + t0))


def _cosine_regression(c: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares ``y ~ a c + b`` for many candidate columns ``c`` at once (last axis: points):
    the residual and ``(a, b)`` for each, from the normal equations."""
    sw, sy, syy = w.sum(), (w * y).sum(), (w * y * y).sum()
    sc, scc, scy = (c * w).sum(-1), (c * c * w).sum(-1), (c * (w * y)).sum(-1)
    det = scc * sw - sc**2
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (scy * sw - sc * sy) / det
        b = (scc * sy - sc * scy) / det
    cost = syy - a * scy - b * sy
    return np.where(det > 1e-12 * sw * np.maximum(scc, 1e-300), cost, np.inf), np.stack([a, b])


def _json(raw: Any) -> dict[str, Any]:
    import json

    try:
        value = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def chevron(data: Any, *, bits: str = "11") -> AnalysisResult:
    """Fit the chevron map of P(``bits``); report the swap frequency per unit amplitude, the rise as extra
    length, and the amplitude of one full cycle at the calibrated CZ pulse's length."""
    ds = dataset_of(data)
    names = swept(ds)
    time_name = next((n for n in ("width", "duration", "length") if n in names), None)
    amp_name = next((n for n in names if n != time_name), None)
    if time_name is None or amp_name is None:
        raise InputError("a chevron is a sweep over the coupler pulse's amplitude and its length (width or "
                         f"duration); the experiments differ by {', '.join(names) or 'no parameter'}")
    signal = two_slot_probability(ds, bits)
    config = _json(ds.attrs.get("device_config"))
    dt = float(config.get("dt") or 1.0)
    lay = layout(ds, (time_name,), group=amp_name)
    raw_t = np.asarray(ds[time_name].values, dtype=float)
    seconds = str(ds[time_name].attrs.get("units", "")) == "s"
    t_s = raw_t if seconds else raw_t * dt  # metadata widths are in samples of dt
    amps = np.asarray(ds[amp_name].values, dtype=float)
    t_us = t_s * 1e6
    y, err = signal.values, signal.err
    w = weights_of(err, len(y))
    reach = float(np.max(np.abs(amps)) * np.max(t_us)) or 1.0
    ks = np.geomspace(0.2 / reach, 20 / reach, 300)
    t0s = np.linspace(-0.5 * float(np.min(t_us)), float(np.max(t_us)), 41)
    c = np.cos(2 * np.pi * ks[:, None, None] * amps * (t_us + t0s[None, :, None]))  # (k, t0, point)
    cost, coef = _cosine_regression(c, y, w)
    i, j = np.unravel_index(int(np.nanargmin(cost)), cost.shape)
    k0, t00 = float(ks[i]), float(t0s[j])
    coef = coef[:, i, j]
    t_top = float(np.max(t_us))
    fit = fit_curve(chevron_model, np.stack([amps, t_us]), y, err, [k0, t00, coef[0], coef[1]],
                    ("k", "t0", "A", "B"), model="b + a cos(2 pi k amp (t + t0)) (t in us, k in MHz)",
                    bounds=([0.1 / reach, -t_top, -np.inf, -np.inf], [40 / reach, 2 * t_top, np.inf, np.inf]))
    k = Param(fit["k"].value * 1e6, fit["k"].stderr * 1e6)
    t0 = Param(fit["t0"].value * 1e-6, fit["t0"].stderr * 1e-6)
    parameters = {"swap_frequency_per_amp": Parameter(k.value, k.stderr, "Hz", "swap frequency per unit amplitude"),
                  "rise": Parameter(t0.value, t0.stderr, "s", "rise and fall as extra length")}
    checks = []
    cz = next((c.get("cz") for c in config.get("couplings") or [] if isinstance(c, dict) and c.get("cz")), None)
    if cz and fit.success:
        length = float(cz.get(time_name if time_name in ("width", "duration") else "duration") or 0) * dt
        cycle = 1 / (k.value * (length + t0.value)) if k.value and length + t0.value > 0 else math.nan
        grad = np.array([-cycle / k.value, -cycle / (length + t0.value)]) if math.isfinite(cycle) else np.zeros(2)
        cov = fit.covariance[:2, :2] * np.outer([1e6, 1e-6], [1e6, 1e-6])
        cycle_err = math.sqrt(max(float(grad @ cov @ grad), 0.0)) if math.isfinite(cycle) else math.inf
        parameters["cz_amplitude"] = Parameter(cycle, cycle_err, "", f"CZ amplitude at {length * 1e9:.0f} ns")
        top = float(np.max(np.abs(amps)))
        checks = [(math.isfinite(cycle) and 0 < abs(cycle) <= 1.02 * top,
                   f"one full cycle at the calibrated length needs amplitude {cycle:.3g}, outside the swept "
                   f"(0, {top:.3g}]"),
                  (cycle_err <= MAX_RELATIVE_ERROR * abs(cycle) if math.isfinite(cycle) else False,
                   f"the CZ amplitude is uncertain by {100 * cycle_err / abs(cycle):.1f}% (at most "
                   f"{100 * MAX_RELATIVE_ERROR:g}%)" if math.isfinite(cycle) and cycle else "no CZ amplitude")]
    quality = assess(fit, checks=checks)
    scale, shown = axis_scale(time_name, t_s, "s")
    series = []
    for _, rows in lay.groups:
        amp = float(amps[rows[0]])
        fx = np.linspace(float(np.min(t_us[rows])), float(np.max(t_us[rows])), 200)
        fy = chevron_model(np.stack([np.full_like(fx, amp), fx]), *fit.values) if fit.success else None
        series.append(Series(f"{amp_name} {amp:.4g}", t_s[rows] * scale, y[rows], None if err is None else err[rows],
                             fx * 1e-6 * scale, fy))
    lines = [f"swap frequency {k.value / 1e6:.4f} ± {k.stderr / 1e6:.2g} MHz per unit amplitude; rise "
             f"{t0.value * 1e9:.1f} ± {t0.stderr * 1e9:.1f} ns (R² {fit.r2:.4f})"]
    if "cz_amplitude" in parameters:
        lines.append(f"one full |11> cycle (CZ) at amplitude {parameters['cz_amplitude'].text()}")
    return AnalysisResult("chevron", "CZ chevron", parameters, quality, series, {"chevron": fit.as_dict()},
                          x_label=f"{time_name} ({shown})", y_label=signal.label, lines=lines,
                          context={"bits": bits, "amp": amp_name, "time": time_name, "x_scale": scale,
                                   "time_in_samples": not seconds, "dt": dt})


__all__ = ["chevron", "chevron_model"]
