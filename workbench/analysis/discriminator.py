"""Readout discriminator: a linear discriminant trained on shots prepared in ``|0>`` and in ``|1>``.

Linear discriminant analysis (LDA): with the two clouds' means ``mu0``, ``mu1`` and their pooled
covariance ``S``, the boundary ``w . z + offset = 0`` with ``w = S^-1 (mu1 - mu0)`` through the
midpoint of the means is the best linear rule for Gaussian clouds of equal shape and equal priors.
The weights are rescaled to ``|w| = |mu1 - mu0|`` (the scale of a linear rule is free; this one keeps
the numbers in IQ units, like the built-in discriminators).

The assignment fidelity ``F = 1 - (P(1|0) + P(0|1)) / 2`` and the confusion matrix are measured on
the same shots (three parameters trained on thousands of shots do not overfit measurably). They
include state preparation errors. A previous discriminator, when given, is scored on the same shots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.analysis.base import AnalysisResult, Parameter
from workbench.analysis.fitting import Param, Quality
from workbench.analysis.signal import dataset_of, device_qubit, is_tuneup
from workbench.devices.model import Discriminator
from workbench.errors import InputError
from workbench.readout import discriminate

MIN_FIDELITY = 0.7  # below this a discriminator is worse than useless for most experiments
MIN_SEPARATION_SNR = 10.0  # the two means must be this many standard errors apart


def train_lda(zero: np.ndarray, one: np.ndarray) -> tuple[Discriminator, dict[str, Any]]:
    """Fisher's linear discriminant for two clouds of complex IQ points (NaN points are ignored)."""
    pts = [np.stack([z.real, z.imag], axis=1) for z in (zero, one)]
    pts = [p[np.all(np.isfinite(p), axis=1)] for p in pts]
    mu0, mu1 = (p.mean(axis=0) for p in pts)
    pooled = (np.cov(pts[0].T) + np.cov(pts[1].T)) / 2
    delta = mu1 - mu0
    if not np.all(np.isfinite(pooled)) or np.linalg.cond(pooled) > 1e12:
        w = delta.copy()
    else:
        w = np.linalg.solve(pooled, delta)
    norm = float(np.linalg.norm(w))
    if norm > 0 and np.linalg.norm(delta) > 0:
        w *= float(np.linalg.norm(delta)) / norm
    offset = -float(w @ (mu0 + mu1) / 2)
    spread = float(np.sqrt(max(w @ pooled @ w, 1e-300)) / max(np.linalg.norm(w), 1e-300))  # noise along w
    along = float(abs(w @ delta) / max(np.linalg.norm(w), 1e-300))
    n = min(len(pts[0]), len(pts[1]))
    stats = {"separation_sigma": along / spread if spread > 0 else 0.0,
             "separation_snr": along / (spread * math.sqrt(2 / max(n, 1))) if spread > 0 else 0.0,
             "mean_0": [float(mu0[0]), float(mu0[1])], "mean_1": [float(mu1[0]), float(mu1[1])],
             "noise_along_weights": spread}
    return Discriminator(weights=(float(w[0]), float(w[1])), offset=offset), stats


def confusion_matrix(iq: np.ndarray, disc: Discriminator) -> np.ndarray:
    """Rows: prepared 0, 1; columns: read 0, 1; each row sums to 1."""
    bits = discriminate(iq, disc)
    ones = bits.mean(axis=1)
    return np.array([[1 - ones[0], ones[0]], [1 - ones[1], ones[1]]])


def fidelity(confusion: np.ndarray, shots: int) -> Param:
    """The assignment fidelity and its binomial standard error (at least half a shot)."""
    p10, p01 = float(confusion[0, 1]), float(confusion[1, 0])
    value = 1 - (p10 + p01) / 2
    stderr = 0.5 * math.sqrt((p10 * (1 - p10) + p01 * (1 - p01)) / shots) if shots else math.inf
    return Param(value, max(stderr, 0.5 / shots))


def _shots(ds: Any, slot: int) -> np.ndarray:
    """The (2, shots) IQ points of the |0> and |1> preparations."""
    if is_tuneup(ds):
        if "iq" not in ds:
            raise InputError("the tune-up dataset holds no shots")
        return np.asarray(ds["iq"].values)
    if "iq" not in ds:
        raise InputError("training a discriminator needs every shot's IQ point (meas_level 1, meas_return single)")
    iq = np.asarray(ds["iq"].sel(slot=slot).values)
    if "prepared" in ds.coords and ds["prepared"].dims == ("experiment",):
        prepared = np.asarray(ds["prepared"].values).astype(int)
        rows = [np.flatnonzero(prepared == s) for s in (0, 1)]
        if any(r.size != 1 for r in rows):
            raise InputError("a discriminator needs one experiment prepared in |0> and one in |1>")
        return np.stack([iq[rows[0][0]], iq[rows[1][0]]])
    if iq.shape[0] != 2:
        raise InputError("a discriminator needs two experiments: |0> then |1> (or a 'prepared' coordinate)")
    return iq


def discriminator(data: Any, *, slot: int = 0, previous: Discriminator | Mapping[str, Any] | None = None,
                  use_calibration: bool = True) -> AnalysisResult:
    """Train a linear discriminant on ``|0>`` and ``|1>`` shots; report the assignment fidelity and confusion.

    ``previous`` is scored on the same shots (default: the discriminator in the result's device
    calibration, unless ``use_calibration`` is False)."""
    ds = dataset_of(data)
    iq = _shots(ds, slot)
    shots = iq.shape[1]
    trained, stats = train_lda(iq[0], iq[1])
    confusion = confusion_matrix(iq, trained)
    assigned = fidelity(confusion, shots)
    if previous is None and use_calibration and not is_tuneup(ds):
        raw = ((device_qubit(ds, slot) or {}).get("readout") or {}).get("discriminator")
        previous = raw if isinstance(raw, Mapping) else None
    if isinstance(previous, Mapping):
        previous = Discriminator.model_validate(dict(previous))
    old = fidelity(confusion_matrix(iq, previous), shots) if previous is not None else None
    quality = Quality(tuple(reason for passed, reason in [
        (stats["separation_snr"] >= MIN_SEPARATION_SNR,
         f"the |0> and |1> clouds' means are {stats['separation_snr']:.1f} standard errors apart (needs "
         f"{MIN_SEPARATION_SNR:g}): the readout does not tell the states apart"),
        (assigned.value >= MIN_FIDELITY, f"the assignment fidelity {assigned.value:.3f} is below {MIN_FIDELITY:g}"),
        (bool(np.all(np.isfinite(iq))), "some shots have no IQ value"),
    ] if not passed), {"assignment_fidelity": assigned.value, "separation_snr": stats["separation_snr"],
                       "separation_sigma": stats["separation_sigma"]})
    parameters = {"assignment_fidelity": Parameter(assigned.value, assigned.stderr, "", "assignment fidelity"),
                  "p1_given_0": Parameter(float(confusion[0, 1]), math.nan, "", "P(read 1 | prepared 0)"),
                  "p0_given_1": Parameter(float(confusion[1, 0]), math.nan, "", "P(read 0 | prepared 1)")}
    if old is not None:
        parameters["previous_assignment_fidelity"] = Parameter(old.value, old.stderr, "",
                                                               "previous discriminator's fidelity")
    weights = [float(trained.weights[0]), float(trained.weights[1])]
    lines = [f"assignment fidelity {assigned.value:.4f} ± {assigned.stderr:.4f} over {shots} shots per state",
             f"confusion (rows prepared 0/1, columns read 0/1): [[{confusion[0, 0]:.4f}, {confusion[0, 1]:.4f}], "
             f"[{confusion[1, 0]:.4f}, {confusion[1, 1]:.4f}]]",
             f"clouds {stats['separation_sigma']:.2f} noise widths apart; weights {weights}, offset {trained.offset}",
             "previous discriminator: " + ("none" if old is None else f"fidelity {old.value:.4f} on the same shots")]
    return AnalysisResult("discriminator", "Readout discriminator", parameters, quality, [],
                          {"lda": {**stats, "weights": weights, "offset": float(trained.offset)}}, x_label="I",
                          y_label="Q", lines=lines,
                          context={"slot": slot, "trained": {"kind": "linear", "weights": weights,
                                                             "offset": float(trained.offset)}},
                          extra={"iq": (("prepared", "shot"), iq), "confusion": (("prepared", "assigned"), confusion)})


__all__ = ["confusion_matrix", "discriminator", "fidelity", "train_lda"]
