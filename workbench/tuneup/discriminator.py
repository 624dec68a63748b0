"""Readout discriminator: train a linear discriminant on shots prepared in |0> and in |1>.

Acquire ``shots`` shots of each state (|1> prepared by the calibrated pi pulse, so run Rabi first),
analyse them with :func:`workbench.analysis.discriminator.discriminator` (linear discriminant
analysis, assignment fidelity, confusion matrix; the existing discriminator is scored on the same
shots), update ``readout.discriminator``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.analysis.discriminator import confusion_matrix, train_lda
from workbench.analysis.discriminator import discriminator as analyse_discriminator
from workbench.devices.model import Device
from workbench.executors.base import Progress
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

NAME = "discriminator"


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
    old = q.readout.discriminator
    analysis = analyse_discriminator(result, previous=old, use_calibration=False)
    trained = analysis.context["trained"]
    new = {"kind": "linear", "weights": [round_sig(trained["weights"][0]), round_sig(trained["weights"][1])],
           "offset": round_sig(trained["offset"])}
    old_value = old.model_dump(mode="json") if old is not None else None
    if old_value is not None:
        old_value["weights"] = list(old_value["weights"])
    updates = [Update(q.index, ("readout", "discriminator"), old_value, new)]
    measured = {k: p.param for k, p in analysis.parameters.items()}
    lines = list(analysis.lines)
    lines[2] = lines[2].split("; weights")[0] + f"; weights {new['weights']}, offset {new['offset']}"
    stats = {k: v for k, v in analysis.fits["lda"].items() if k not in ("weights", "offset")}
    return finish(NAME, dev, q.index, series=[], x_label="I", signal_label="Q", fits={"lda": {**stats, **new}},
                  quality=analysis.quality, updates=updates, measured=measured, runs=[result], lines=lines,
                  extra=analysis.extra,
                  extra_coords={"prepared": [0, 1], "assigned": [0, 1], "shot": np.arange(shots)},
                  config=source, parameters={"shots": shots}, analysis=analysis)


__all__ = ["confusion_matrix", "discriminator", "train_lda"]
