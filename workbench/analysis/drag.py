"""DRAG coefficient: where the Xp-Y90 and Yp-X90 lines cross.

Two sequences (Reed et al.): a pi pulse about x then a pi/2 about y, and a pi about y then a pi/2
about x. Ideally both end on the equator. A phase error per pulse, linear in ``beta`` around its
optimum, tilts them in opposite directions, so their signals are two lines in ``beta`` with opposite
slopes that cross at the optimum. Fitting two lines and intersecting them is closed form, and its
uncertainty follows from the two fits' covariances. Amplitude errors move both lines alike and leave
the crossing in place.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workbench.analysis.base import AnalysisResult, Parameter, Series
from workbench.analysis.fitting import Fit, Param, Quality, assess, fit_curve, line
from workbench.analysis.signal import dataset_of, is_tuneup, layout, series_from, slot_signal, tuneup_series
from workbench.errors import InputError

MAX_STDERR = 0.05  # samples of dt: beyond this the crossing is too shallow to trust
MIN_SLOPE_SNR = 10.0  # the two lines' slopes must differ by 10 standard errors


def fit_line(x: np.ndarray, y: np.ndarray, err: np.ndarray | None, centre: float) -> Fit:
    """``slope (x - centre) + intercept`` (centred, so the two parameters are nearly independent)."""
    slope0, intercept0 = np.polyfit(x - centre, y, 1)
    return fit_curve(lambda b, m, c: line(b - centre, m, c), x, y, err, [slope0, intercept0], ("slope", "intercept"),
                     model="slope (beta - beta_centre) + intercept")


def crossing(a: Fit, b: Fit, centre: float) -> tuple[Param, Param]:
    """Where two fitted lines cross, with the uncertainty propagated from both fits' covariances, and the
    gap between their slopes."""
    if not (a.success and b.success):
        return Param(math.nan, math.inf), Param(0.0, math.inf)
    (m1, c1), (m2, c2) = a.values, b.values
    gap = m1 - m2
    if gap == 0:
        return Param(math.nan, math.inf), Param(0.0, math.inf)
    x = (c2 - c1) / gap
    g1 = np.array([-x / gap, -1 / gap])  # d x / d (m1, c1)
    g2 = np.array([x / gap, 1 / gap])  # d x / d (m2, c2)
    var = float(g1 @ a.covariance @ g1 + g2 @ b.covariance @ g2)
    gap_err = math.sqrt(a.covariance[0, 0] + b.covariance[0, 0])
    return Param(centre + x, math.sqrt(max(var, 0.0))), Param(abs(gap), gap_err)


def drag(data: Any, *, slot: int = 0, centre: float | None = None) -> AnalysisResult:
    """Fit both sequences' lines against ``beta``; report the crossing (the DRAG coefficient)."""
    ds = dataset_of(data)
    if is_tuneup(ds):
        series = tuneup_series(ds)
        y_label = str(ds.attrs.get("signal_label", ""))
    else:
        lay = layout(ds, ("beta",), group="sequence")
        signal = slot_signal(ds, slot)
        series, y_label = series_from(lay, signal), signal.label
    if len(series) != 2:
        raise InputError("a DRAG analysis needs two sequences (Xp-Y90 and Yp-X90) swept over beta")
    betas = series[0].x
    if centre is None:
        centre = float((np.min(betas) + np.max(betas)) / 2)
    fits, fitted, quality = {}, [], Quality()
    for s in series:
        fit = fit_line(s.x, s.signal, s.signal_err, centre)
        fits[s.name] = fit
        quality = quality.merged(assess(fit, amplitude=None, label=s.name))
        fitted.append(Series(s.name, s.x, s.signal, s.signal_err, s.x, fit.curve(s.x) if fit.success else None,
                             s.iq_mean))
    a, b = (fits[s.name] for s in series)
    beta, slope_gap = crossing(a, b, centre)
    snr = slope_gap.value / slope_gap.stderr if slope_gap.stderr > 0 else 0.0
    quality = quality.merged(Quality(tuple(reason for passed, reason in [
        (snr >= MIN_SLOPE_SNR, f"the two sequences' slopes differ by {snr:.1f} standard errors "
                               f"(needs {MIN_SLOPE_SNR:g}): no DRAG signal above the noise"),
        (float(np.min(betas)) <= beta.value <= float(np.max(betas)),
         f"the crossing (beta = {beta.value:.4g}) lies outside the swept range [{np.min(betas):.4g}, "
         f"{np.max(betas):.4g}]"),
        (beta.stderr <= MAX_STDERR, f"beta is uncertain by {beta.stderr:.3g} (at most {MAX_STDERR:g})"),
    ] if not passed), {"slope_gap_snr": snr}))
    names = [s.name for s in series]
    lines = [f"the sequences cross at beta = {beta} (R² {fits[names[0]].r2:.3f} and {fits[names[1]].r2:.3f})"]
    return AnalysisResult("drag", "DRAG coefficient", {"beta": Parameter(beta.value, beta.stderr, "", "DRAG beta")},
                          quality, fitted, {k: v.as_dict() for k, v in fits.items()}, x_label="DRAG beta (samples)",
                          y_label=y_label, lines=lines, markers=[{"x": beta.value, "label": "crossing"}],
                          context={"slot": slot, "centre": centre})


__all__ = ["crossing", "drag", "fit_line"]
