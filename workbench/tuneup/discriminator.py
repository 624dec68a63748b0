"""Readout discriminator: train a linear discriminant on shots prepared in |0> and in |1>.

Linear discriminant analysis (LDA): with the two clouds' means ``mu0``, ``mu1`` and their pooled
covariance ``S``, the boundary ``w . z + offset = 0`` with ``w = S^-1 (mu1 - mu0)`` through the
midpoint of the means is the best linear rule for Gaussian clouds of equal shape and equal
priors. The weights are rescaled to ``|w| = |mu1 - mu0|`` (the scale of a linear rule is free; this
one keeps the numbers in IQ units, like the built-in discriminators).

The assignment fidelity ``F = 1 - (P(1|0) + P(0|1)) / 2`` and the confusion matrix are measured on
the same shots (three parameters trained on thousands of shots do not overfit measurably). They
include state preparation errors: |1> is prepared by the calibrated pi pulse, so run Rabi first.
The existing discriminator, if any, is scored on the same shots for comparison.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.devices.model import Device, Discriminator
from workbench.executors.base import Progress
from workbench.readout import discriminate
from workbench.tuneup.base import (
    DEFAULT_SHOTS,
    CalibrationResult,
    Update,
    builder,
    check_shots,
    finish,
    measure,
    play,
    pulse_qubit,
    resolve_device,
    round_sig,
    run_schedules,
)
from workbench.tuneup.fitting import Param, Quality

NAME = "discriminator"
MIN_FIDELITY = 0.7  # below this a discriminator is worse than useless for most experiments
MIN_SEPARATION_SNR = 10.0  # the two means must be this many standard errors apart


def discriminator(
    device: str | Device | None = None,
    *,
    qubit: int = 0,
    shots: int = 4 * DEFAULT_SHOTS,
    seed: int | None = None,
    config: str | os.PathLike[str] | None = None,
    options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CalibrationResult:
    """``shots`` shots each of ``|0>`` (nothing played) and ``|1>`` (the pi pulse); proposes
    ``readout.discriminator``."""
    dev, source = resolve_device(device, config)
    q = pulse_qubit(dev, qubit)
    shots = check_shots(shots)
    schedules = []
    for state in (0, 1):
        b = builder(dev, f"discriminator-prep-{state}", prepared=state)
        t = play(b, 0, f"d{q.index}", q.drive.x) if state else 0
        measure(b, q, t)
        schedules.append(b.build())
    result = run_schedules(dev, schedules, name=f"tuneup-discriminator-q{q.index}", shots=shots, seed=seed,
                           options=options, progress=progress, cancel=cancel)
    iq = np.asarray(result.dataset["iq"].sel(slot=0).values)  # (2, shots)
    trained, stats = train_lda(iq[0], iq[1])
    confusion = confusion_matrix(iq, trained)
    fidelity = _fidelity(confusion, shots)
    old = q.readout.discriminator
    old_fidelity = _fidelity(confusion_matrix(iq, old), shots) if old is not None else None
    quality = Quality(tuple(reason for passed, reason in [
        (stats["separation_snr"] >= MIN_SEPARATION_SNR,
         f"the |0> and |1> clouds' means are {stats['separation_snr']:.1f} standard errors apart (needs "
         f"{MIN_SEPARATION_SNR:g}): the readout does not tell the states apart"),
        (fidelity.value >= MIN_FIDELITY,
         f"the assignment fidelity {fidelity.value:.3f} is below {MIN_FIDELITY:g}"),
        (bool(np.all(np.isfinite(iq))), "some shots have no IQ value"),
    ] if not passed), {"assignment_fidelity": fidelity.value, "separation_snr": stats["separation_snr"],
                       "separation_sigma": stats["separation_sigma"]})
    new = {"kind": "linear", "weights": [round_sig(trained.weights[0]), round_sig(trained.weights[1])],
           "offset": round_sig(trained.offset)}
    old_value = old.model_dump(mode="json") if old is not None else None
    if old_value is not None:
        old_value["weights"] = list(old_value["weights"])
    updates = [Update(q.index, ("readout", "discriminator"), old_value, new)]
    lines = [f"assignment fidelity {fidelity.value:.4f} ± {fidelity.stderr:.4f} over {shots} shots per state",
             f"confusion (rows prepared 0/1, columns read 0/1): [[{confusion[0, 0]:.4f}, {confusion[0, 1]:.4f}], "
             f"[{confusion[1, 0]:.4f}, {confusion[1, 1]:.4f}]]",
             f"clouds {stats['separation_sigma']:.2f} noise widths apart; weights {new['weights']}, "
             f"offset {new['offset']}",
             "previous discriminator: " + ("none" if old_fidelity is None else
                                           f"fidelity {old_fidelity.value:.4f} on the same shots")]
    measured = {"assignment_fidelity": fidelity, "p1_given_0": Param(float(confusion[0, 1]), math.nan),
                "p0_given_1": Param(float(confusion[1, 0]), math.nan)}
    if old_fidelity is not None:
        measured["previous_assignment_fidelity"] = old_fidelity
    return finish(NAME, dev, q.index, series=[], x_label="I", signal_label="Q", fits={"lda": {**stats, **new}},
                  quality=quality, updates=updates, measured=measured, runs=[result], lines=lines,
                  extra={"iq": (("prepared", "shot"), iq),
                         "confusion": (("prepared", "assigned"), confusion)},
                  extra_coords={"prepared": [0, 1], "assigned": [0, 1], "shot": np.arange(iq.shape[1])},
                  config=source, parameters={"shots": shots})


def train_lda(zero: np.ndarray, one: np.ndarray) -> tuple[Discriminator, dict[str, float]]:
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


def _fidelity(confusion: np.ndarray, shots: int) -> Param:
    p10, p01 = float(confusion[0, 1]), float(confusion[1, 0])
    value = 1 - (p10 + p01) / 2
    stderr = 0.5 * math.sqrt((p10 * (1 - p10) + p01 * (1 - p01)) / shots) if shots else math.inf
    return Param(value, max(stderr, 0.5 / shots))


__all__ = ["confusion_matrix", "discriminator", "train_lda"]
