"""Resonator spectroscopy: the readout frequency at which |0> and |1> are furthest apart.

The readout tone (frame of ``m<i>``) is stepped across the current readout frequency, once with the
qubit in |0> and once after the pi pulse. The resonator, pulled to ``f_r - chi`` by |0> and to
``f_r + chi`` by |1>, transmits ``S_k(f) = 1 / (1 + 2i (f - f_k) / kappa)`` (see
:class:`workbench.devices.model.Resonator`), so the difference of the two mean IQ points is

    D(f) = G (S(f; f_r + chi) - S(f; f_r - chi))

with one complex gain ``G`` (which also absorbs an imperfect pi pulse: a preparation that is only
90% |1> scales ``D`` by 0.9 and moves nothing). That complex function is fitted to the complex
data (:func:`workbench.analysis.spectroscopy.resonator_spectroscopy`). ``|D|`` peaks at ``f_r``,
midway between the two resonances, which is where the states are best told apart: the routine
proposes ``readout.frequency = f_r`` and reports ``kappa`` and ``chi`` (physics). The background and the
gain cancel in ``D``, so nothing about the wiring needs to be known.

A device whose readout has no frequency response (no ``resonator`` in its physics) shows a flat
``D``; the fit then finds no resonance and the routine refuses to write.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.analysis.spectroscopy import resonator_spectroscopy as analyse_resonator
from workbench.devices.model import Device
from workbench.errors import JobError
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
    run_schedules,
)

NAME = "resonator-spectroscopy"


def resonator_spectroscopy(
    device: str | Device | None = None,
    *,
    qubit: int = 0,
    span: float = 10e6,
    points: int = 41,
    shots: int = DEFAULT_SHOTS,
    seed: int | None = None,
    config: str | os.PathLike[str] | None = None,
    options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CalibrationResult:
    """Step the readout frequency over ``span`` Hz around ``readout.frequency`` with the qubit in ``|0>`` and
    in ``|1>``; fit the two resonances' difference and propose ``readout.frequency`` midway between them."""
    dev, source = resolve_device(device, config)
    q = pulse_qubit(dev, qubit)
    shots = check_shots(shots)
    if not isinstance(points, int) or points < 11:
        raise JobError(f"points must be an integer >= 11, got {points!r}", "points")
    if not span > 0:
        raise JobError(f"span must be positive, got {span}", "span")
    centre = q.readout.frequency
    offsets = np.linspace(-span / 2, span / 2, points)
    m, d = f"m{q.index}", f"d{q.index}"
    schedules = []
    for state in (0, 1):
        for k, df in enumerate(offsets):
            b = builder(dev, f"resonator-spec-{state}-{k:03d}", frequency=float(centre + df), prepared=state)
            t = play(b, 0, d, q.drive.x) if state else 0
            b.frame(t, m, "setf", float(centre + df))
            measure(b, q, t)
            schedules.append(b.build())
    result = run_schedules(dev, schedules, name=f"tuneup-resonator-spectroscopy-q{q.index}", shots=shots,
                           seed=seed, options=options, progress=progress, cancel=cancel)
    analysis = analyse_resonator(result, centre=centre)
    fr = analysis.parameters["resonator_frequency"].param
    offset = fr.value - centre
    kappa, chi = analysis.parameters["linewidth"].param, analysis.parameters["dispersive_shift"].param
    (fit,) = analysis.fits.values()
    new = float(round(fr.value))
    updates = [Update(q.index, ("readout", "frequency"), q.readout.frequency, new, fr.stderr)]
    measured = {k: analysis.parameters[k].param for k in ("resonator_frequency", "linewidth", "dispersive_shift",
                                                         "gain")}
    lines = [f"|0> and |1> furthest apart at {new / 1e9:.9f} GHz ({offset / 1e3:+.1f} ± {fr.stderr / 1e3:.1f} kHz "
             f"from {centre / 1e9:.9f} GHz; R² {fit['r2']:.4f})",
             f"resonator linewidth {kappa.value / 1e6:.3f} ± {kappa.stderr / 1e6:.3f} MHz, dispersive shift "
             f"±{chi.value / 1e6:.3f} ± {chi.stderr / 1e6:.3f} MHz"]
    return finish(NAME, dev, q.index, series=analysis.series, x_label=analysis.x_label,
                  signal_label=analysis.y_label, fits=analysis.fits, quality=analysis.quality, updates=updates,
                  measured=measured, runs=[result], lines=lines, markers=analysis.markers, config=source,
                  parameters={"span": span, "points": points, "shots": shots, "centre": centre}, analysis=analysis)


__all__ = ["resonator_spectroscopy"]
