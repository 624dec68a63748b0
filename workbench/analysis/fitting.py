"""Least-squares fits of tune-up data, their uncertainties, and the rules that decide whether to trust them.

The fits are weighted by the shot noise of each point (the standard error of the mean IQ the
routines measure), so that a reduced chi-square near 1 means "the model explains the data to within
shot noise". Uncertainties are scipy's covariance scaled by ``max(1, chi2_red)``: when the model
misses the data by more than the noise, the errors grow with the misfit instead of pretending the
noise is the only error.

The nonlinear parameter that matters most in each model (a period, a centre frequency) is found by
a grid search first, with the linear parameters solved exactly at every grid point. That is what
makes the fits start in the right basin on noisy data without hand-tuned guesses, and it is why a
fit to pure noise still "converges": the quality rules (:func:`assess`), not convergence, are what
refuse it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MIN_R2 = 0.9  # the model must explain 90% of the variance of the data around its mean
MIN_SNR = 10.0  # the fitted signal amplitude must be 10 standard errors away from zero


@dataclass(frozen=True)
class Param:
    """A fitted value and its one-sigma standard error (same unit)."""

    value: float
    stderr: float

    @property
    def relative(self) -> float:
        """``stderr / |value|``: inf for a zero value."""
        return abs(self.stderr / self.value) if self.value else math.inf

    def as_dict(self) -> dict[str, float]:
        return {"value": float(self.value), "stderr": float(self.stderr)}

    def __format__(self, spec: str) -> str:
        spec = spec or ".6g"
        return f"{self.value:{spec}} ± {self.stderr:.2g}"


@dataclass
class Fit:
    """The outcome of one least-squares fit."""

    model: str
    names: tuple[str, ...]
    values: np.ndarray
    stderr: np.ndarray
    covariance: np.ndarray
    chi2_red: float
    r2: float
    points: int
    success: bool
    message: str = ""
    func: Callable[..., np.ndarray] | None = field(default=None, repr=False)

    def __getitem__(self, name: str) -> Param:
        i = self.names.index(name)
        return Param(float(self.values[i]), float(self.stderr[i]))

    def curve(self, x: np.ndarray) -> np.ndarray:
        assert self.func is not None
        return self.func(np.asarray(x, dtype=float), *self.values)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what the Dataset attributes and the history keep)."""
        return {
            "model": self.model,
            "parameters": {n: self[n].as_dict() for n in self.names},
            "chi2_red": _finite(self.chi2_red),
            "r2": _finite(self.r2),
            "points": self.points,
            "success": self.success,
            "message": self.message,
        }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def fit_curve(
    func: Callable[..., np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    sigma: np.ndarray | None,
    p0: Sequence[float],
    names: Sequence[str],
    *,
    model: str,
    bounds: tuple[Sequence[float], Sequence[float]] | None = None,
) -> Fit:
    """Weighted least squares with scipy's ``curve_fit``; never raises on a failed fit (``success`` says)."""
    from scipy.optimize import curve_fit

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = y.size, len(p0)
    sig = None if sigma is None else np.maximum(np.asarray(sigma, dtype=float), 1e-15)
    nan = np.full(k, np.nan)
    try:
        values, cov = curve_fit(func, x, y, p0=list(p0), sigma=sig, absolute_sigma=sig is not None,
                                bounds=bounds if bounds is not None else (-np.inf, np.inf), maxfev=20000)
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
        log.info("%s fit failed: %s", model, exc)
        return Fit(model, tuple(names), np.asarray(p0, dtype=float), nan, np.full((k, k), np.nan), math.inf,
                   -math.inf, n, False, f"did not converge ({' '.join(str(exc).split())[:120]})", func)
    residual = y - func(x, *values)
    weights = np.ones(n) if sig is None else 1.0 / sig**2
    dof = max(n - k, 1)
    chi2_red = float(np.sum(residual**2 * weights) / dof)
    total = float(np.sum((y - np.mean(y)) ** 2))
    r2 = 1.0 - float(np.sum(residual**2)) / total if total > 0 else -math.inf
    scale = 1.0 if sig is None else max(1.0, chi2_red)  # without sigma, curve_fit scaled by the residuals
    cov = np.asarray(cov, dtype=float) * scale
    ok = bool(np.all(np.isfinite(cov)))
    stderr = np.sqrt(np.abs(np.diag(cov))) if ok else nan
    return Fit(model, tuple(names), np.asarray(values, dtype=float), stderr, cov, chi2_red, r2, n, ok,
               "" if ok else "the covariance could not be estimated (parameters not determined by the data)", func)


def linear_lstsq(columns: Sequence[np.ndarray], y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted linear least squares ``y ~ sum c_j columns_j``: coefficients and the weighted residual."""
    a = np.column_stack(columns) * np.sqrt(weights)[:, None]
    b = y * np.sqrt(weights)
    coef, *_ = np.linalg.lstsq(a, b, rcond=None)
    return coef, float(np.sum((a @ coef - b) ** 2))


def grid_search(candidates: np.ndarray, basis: Callable[[float], Sequence[np.ndarray]], y: np.ndarray,
                weights: np.ndarray) -> tuple[float, np.ndarray]:
    """The candidate whose linear fit (``basis(candidate)`` columns) leaves the smallest residual."""
    best, best_cost, best_coef = float(candidates[0]), math.inf, np.zeros(0)
    for c in candidates:
        coef, cost = linear_lstsq(basis(float(c)), y, weights)
        if cost < best_cost:
            best, best_cost, best_coef = float(c), cost, coef
    return best, best_coef


def weights_of(sigma: np.ndarray | None, n: int) -> np.ndarray:
    return np.ones(n) if sigma is None else 1.0 / np.maximum(np.asarray(sigma, dtype=float), 1e-15) ** 2


# --------------------------------------------------------------------------------------------- quality


@dataclass(frozen=True)
class Quality:
    """Whether a fit may be written back, and every reason it may not (empty when it may)."""

    reasons: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reasons": list(self.reasons),
                "metrics": {k: _finite(float(v)) for k, v in self.metrics.items()}}

    def merged(self, other: Quality) -> Quality:
        return Quality(self.reasons + other.reasons, {**self.metrics, **other.metrics})


def assess(fit: Fit, *, amplitude: str | None = "A", label: str = "", min_r2: float = MIN_R2,
           min_snr: float = MIN_SNR, checks: Sequence[tuple[bool, str]] = ()) -> Quality:
    """The common rules (convergence, R^2, signal-to-noise) plus a routine's own ``checks``.

    ``checks`` are ``(passed, reason)`` pairs: bounds on the value to write, on its uncertainty, on
    where it lies in the sweep. Every failed rule is reported, not only the first, so a user sees at
    once whether the data is noise or the value is merely outside the range.
    """
    prefix = f"{label}: " if label else ""
    reasons: list[str] = []
    metrics: dict[str, float] = {f"{label or 'fit'}_r2": fit.r2, f"{label or 'fit'}_chi2_red": fit.chi2_red}
    if not fit.success:
        reasons.append(f"{prefix}the fit failed: {fit.message}")
        return Quality(tuple(reasons), metrics)
    if amplitude is not None:
        amp = fit[amplitude]
        snr = abs(amp.value) / amp.stderr if amp.stderr > 0 else math.inf
        metrics[f"{label or 'fit'}_snr"] = snr
        if snr < min_snr:
            reasons.append(f"{prefix}no signal above the noise: the fitted amplitude is {snr:.1f} standard errors "
                           f"from zero (needs {min_snr:g})")
    if not fit.r2 >= min_r2:
        reasons.append(f"{prefix}the model explains R² = {fit.r2:.2f} of the data's variance (needs {min_r2:g})")
    for passed, reason in checks:
        if not passed:
            reasons.append(prefix + reason)
    return Quality(tuple(reasons), metrics)


# ---------------------------------------------------------------------------------------------- models


def cosine(x: np.ndarray, period: float, a: float, b: float) -> np.ndarray:
    """Rabi oscillation in amplitude: ``b + a cos(2 pi x / period)`` (phase fixed: no pulse, no rotation)."""
    return b + a * np.cos(2 * np.pi * x / period)


def damped_cosine(t: np.ndarray, f: float, rate: float, phase: float, a: float, b: float) -> np.ndarray:
    """Ramsey fringes: ``b + a exp(-rate t) cos(2 pi f t + phase)``."""
    return b + a * np.exp(-rate * t) * np.cos(2 * np.pi * f * t + phase)


def exponential(t: np.ndarray, rate: float, a: float, b: float) -> np.ndarray:
    """Energy relaxation: ``b + a exp(-rate t)``."""
    return b + a * np.exp(-rate * t)


def rabi_lineshape(df: np.ndarray, f0: float, rabi: float, a: float, b: float, *, duration: float) -> np.ndarray:
    """Excited population after a square pulse of ``duration`` at detuning ``df - f0`` (generalised Rabi
    formula): ``b + a rabi^2 / (rabi^2 + d^2) sin^2(pi sqrt(rabi^2 + d^2) duration)``."""
    d = df - f0
    w2 = rabi**2 + d**2
    weight = np.divide(rabi**2, w2, out=np.ones_like(w2), where=w2 > 0)
    return b + a * weight * np.sin(np.pi * np.sqrt(w2) * duration) ** 2


def line(x: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    return slope * x + intercept


def dominant_frequency(t: np.ndarray, y: np.ndarray, low: float, high: float, n: int = 400) -> float:
    """Frequency of the strongest sinusoid in ``y(t)`` between ``low`` and ``high`` (a least-squares
    periodogram, which, unlike an FFT, does not need evenly spaced points)."""
    y = y - np.mean(y)
    best, best_power = low, -1.0
    for f in np.linspace(low, high, n):
        c, s = np.cos(2 * np.pi * f * t), np.sin(2 * np.pi * f * t)
        coef, *_ = np.linalg.lstsq(np.column_stack([c, s]), y, rcond=None)
        power = float(np.sum((np.column_stack([c, s]) @ coef) ** 2))
        if power > best_power:
            best, best_power = float(f), power
    return best
