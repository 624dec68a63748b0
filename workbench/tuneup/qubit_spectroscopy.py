"""Qubit spectroscopy: find the qubit's 0-1 frequency by sweeping the drive frequency.

A long, flat pulse (1 us by default) with the area of a pi pulse is played in frames stepped across
the current drive frequency. On resonance it flips the qubit; at a detuning ``d`` the generalised
Rabi formula gives ``P1 = R^2 / (R^2 + d^2) sin^2(pi sqrt(R^2 + d^2) T)`` with ``R`` the Rabi
frequency and ``T`` the pulse's effective length (area / amplitude). That closed form, not a
Lorentzian, is what :func:`workbench.analysis.spectroscopy.qubit_spectroscopy` fits: its side lobes
are real and a Lorentzian would bend around them.
The line is about ``0.8 / T`` wide, so this finds the qubit to a few kHz within a window of a few
MHz; a Ramsey measurement then refines it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.analysis.spectroscopy import qubit_spectroscopy as analyse_qubit
from workbench.devices.model import Device, PulseCalibration
from workbench.errors import JobError
from workbench.executors.base import Progress
from workbench.pulses.shapes import calibrated
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

NAME = "qubit-spectroscopy"


def qubit_spectroscopy(
    device: str | Device | None = None,
    *,
    qubit: int = 0,
    span: float = 12e6,
    points: int = 61,
    duration: float = 1e-6,
    shots: int = DEFAULT_SHOTS,
    seed: int | None = None,
    config: str | os.PathLike[str] | None = None,
    options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CalibrationResult:
    """Sweep the drive frame over ``span`` Hz around ``drive.frequency`` with a ``duration`` s pi-area
    pulse, fit the Rabi line shape and propose ``drive.frequency`` at its centre."""
    dev, source = resolve_device(device, config)
    q = pulse_qubit(dev, qubit)
    shots = check_shots(shots)
    if not isinstance(points, int) or points < 11:
        raise JobError(f"points must be an integer >= 11, got {points!r}", "points")
    if not (span > 0 and duration > 0):
        raise JobError("span and duration must be positive", "span")
    samples = max(64, round(duration / dev.dt))
    sigma = 16.0
    pulse = PulseCalibration(shape="gaussian_square", duration=samples, amp=0.1, sigma=sigma,
                             width=int(samples - 4 * sigma))
    area_x = float(np.sum(calibrated(q.drive.x, amp=1.0).real))
    area_unit = float(np.sum(calibrated(pulse, amp=1.0).real))
    amp = q.drive.x.amp * area_x / area_unit  # the pi area, as the current pi pulse has it
    if abs(amp) > 1:
        raise JobError(f"a {duration:g} s pi-area pulse would need amplitude {amp:.3g} > 1", "duration")
    t_eff = area_unit * dev.dt  # s: the square pulse of the same area and amplitude
    centre = q.drive_frequency
    offsets = np.linspace(-span / 2, span / 2, points)
    d = f"d{q.index}"
    schedules = []
    for k, df in enumerate(offsets):
        b = builder(dev, f"qubit-spec-{k:03d}", frequency=float(centre + df))
        b.frame(0, d, "setf", float(centre + df))
        measure(b, q, play(b, 0, d, pulse, amp))
        schedules.append(b.build())
    result = run_schedules(dev, schedules, name=f"tuneup-qubit-spectroscopy-q{q.index}", shots=shots, seed=seed,
                           options=options, progress=progress, cancel=cancel)
    analysis = analyse_qubit(result, duration=t_eff, centre=centre)
    offset = analysis.parameters["frequency_offset"].param
    rabi_frequency = analysis.parameters["rabi_frequency"].param
    (fit,) = analysis.fits.values()
    new = float(round(centre + offset.value))
    measured = {"qubit_frequency": analysis.parameters["qubit_frequency"].param, "rabi_frequency": rabi_frequency}
    updates = [Update(q.index, ("drive", "frequency"), q.drive.frequency, new, offset.stderr)]
    lines = [f"qubit line at {new / 1e9:.9f} GHz: {offset.value / 1e3:+.1f} ± {offset.stderr / 1e3:.1f} kHz "
             f"from the drive frequency {centre / 1e9:.9f} GHz (R² {fit['r2']:.4f})",
             f"pulse: {samples} samples ({t_eff * 1e9:.0f} ns effective), amp {amp:.4g}; Rabi frequency "
             f"{rabi_frequency.value / 1e6:.4f} MHz"]
    return finish(NAME, dev, q.index, series=analysis.series, x_label=analysis.x_label,
                  fits=analysis.fits, quality=analysis.quality, updates=updates, measured=measured,
                  runs=[result], lines=lines, markers=analysis.markers, config=source,
                  parameters={"span": span, "points": points, "duration": duration, "shots": shots,
                              "centre": centre, "amp": amp, "t_eff": t_eff}, analysis=analysis)


__all__ = ["qubit_spectroscopy"]
