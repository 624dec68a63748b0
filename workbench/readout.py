"""The readout model (levels -> IQ points) and discrimination (IQ points -> bits).

Both the pulse simulator and the Qblox dummy twin turn sampled transmon levels into IQ points with
the device's readout physics; the core turns IQ points into bits with the device's discriminator
calibration. Keeping the two apart is what lets a tune-up routine find a wrong discriminator.
"""

from __future__ import annotations

import numpy as np

from workbench.devices.model import Device, Discriminator, ReadoutCalibration
from workbench.errors import UnsupportedError
from workbench.schedule.ir import Acquire, Schedule


def iq_centres_at(readout: ReadoutCalibration, frequency: float | None = None) -> dict[int, complex]:
    """The IQ centre of each level when the readout tone is at ``frequency`` (Hz).

    Without a resonator (or without a frequency) these are the ``iq_centers`` as given. With one, each
    level follows its own Lorentzian transmission ``S_k(f) = 1 / (1 + 2i (f - f_k) / linewidth)``
    around a background ``z_bg`` solved from ``c_k = G S_k(f_r) + z_bg`` for ``|0>`` and ``|1>`` (one
    resonator, one complex gain ``G``), scaled so that the centres are exactly the ``iq_centers`` at
    the resonator's ``frequency`` ``f_r``: a device calibrated there reads as it did before the model
    had a frequency response. See :class:`workbench.devices.model.Resonator`.
    """
    centres = {k: complex(*v) for k, v in readout.iq_centers.items()}
    res = readout.resonator
    if res is None or frequency is None:
        return centres

    def transmission(k: int, f: float) -> complex:
        f_k = res.frequency - res.dispersive_shift if k == 0 else res.frequency + res.dispersive_shift
        return 1.0 / (1.0 + 2j * (f - f_k) / res.linewidth)

    s0, s1 = transmission(0, res.frequency), transmission(1, res.frequency)
    background = (centres[0] * s1 - centres[1] * s0) / (s1 - s0)
    return {k: background + (c - background) * transmission(k, frequency) / transmission(k, res.frequency)
            for k, c in centres.items()}


def acquisition_frequencies(schedule: Schedule) -> dict[int, float]:
    """Readout-tone frequency (Hz) of the acquisition each memory slot keeps, from the IR.

    That is the frame of the last play on ``m<q>`` that starts by the acquisition (the tone being
    integrated), else the frame ``m<q>`` has at that time. A slot written twice keeps the later
    acquisition, as OpenPulse does.
    """
    kept: dict[int, Acquire] = {}
    for acq in schedule.acquires:
        if acq.memory_slot not in kept or acq.t0 >= kept[acq.memory_slot].t0:
            kept[acq.memory_slot] = acq
    out: dict[int, float] = {}
    for slot, acq in kept.items():
        channel = f"m{acq.qubit}"
        plays = [p for p in schedule.plays_on(channel) if p.t0 <= acq.t0]
        changes = [c for c in schedule.frame_changes if c.channel == channel and c.t0 <= acq.t0]
        if plays:
            out[slot] = plays[-1].frequency
        elif changes:
            out[slot] = changes[-1].frequency
        elif channel in schedule.initial_frames:
            out[slot] = schedule.initial_frames[channel][0]
    return out


def level_centres(readout: ReadoutCalibration, frequency: float | None = None) -> np.ndarray:
    """The IQ centre of levels ``0..top`` (at least ``0..2``) as an array indexed by level: levels above
    the highest centre given read out like the highest one (a 3-level transmon without a ``|2>`` centre
    looks like ``|1>``, as it does on a two-state discriminator)."""
    given = iq_centres_at(readout, frequency)
    top = max(given)
    return np.array([given.get(k, given[top]) for k in range(max(top, 2) + 1)], dtype=complex)


def iq_points(levels: np.ndarray, readout: ReadoutCalibration, rng: np.random.Generator,
              frequency: float | None = None, centres: np.ndarray | None = None) -> np.ndarray:
    """Integrated IQ per shot for an array of transmon levels (Gaussian blobs around each centre).

    ``frequency`` is the readout tone's; it matters only for a readout with a ``resonator`` (see
    :func:`iq_centres_at`). ``centres`` (from :func:`level_centres`) saves recomputing them for every
    experiment of a sweep.
    """
    if centres is None:
        centres = level_centres(readout, frequency)
    points = centres[np.minimum(levels, centres.size - 1)]
    if readout.iq_noise > 0:
        # (I, Q) pairs drawn as (..., 2) floats are laid out as complex numbers: view, not arithmetic
        points += rng.normal(0.0, readout.iq_noise, size=(*levels.shape, 2)).view(complex)[..., 0]
    return points


def discriminate(iq: np.ndarray, discriminator: Discriminator) -> np.ndarray:
    """Bits (int8) from IQ points; NaN points (slot never acquired) give 0."""
    w_i, w_q = discriminator.weights
    score = w_i * iq.real + w_q * iq.imag + discriminator.offset
    return np.where(np.isfinite(score) & (score > 0), 1, 0).astype(np.int8)


def discriminate_slots(iq: np.ndarray, slot_qubit: np.ndarray, device: Device) -> np.ndarray:
    """Bits for IQ of shape (E, S, M) using, per slot, the discriminator of the qubit acquired there."""
    bits = np.zeros(iq.shape, dtype=np.int8)
    for e in range(iq.shape[0]):
        for m in range(iq.shape[2]):
            q = int(slot_qubit[e, m])
            if q < 0:
                continue
            disc = device.qubit(q).readout.discriminator
            if disc is None:
                raise UnsupportedError(
                    f"qubit {q} of device '{device.name}' has no discriminator calibration: run with "
                    "meas_level 1, or train one (workbench calibrate discriminator)"
                )
            bits[e, :, m] = discriminate(iq[e, :, m], disc)
    return bits


def midpoint_discriminator(readout: ReadoutCalibration) -> Discriminator:
    """The perpendicular bisector of the ``|0>`` and ``|1>`` centres: the ideal linear discriminator."""
    c0 = np.array(readout.iq_centers[0], dtype=float)
    c1 = np.array(readout.iq_centers[1], dtype=float)
    w = c1 - c0
    offset = -float(w @ (c0 + c1) / 2)
    return Discriminator(weights=(float(w[0]), float(w[1])), offset=offset)


def assignment_fidelity(readout: ReadoutCalibration, frequency: float | None = None) -> float:
    """The readout model's best assignment fidelity ``1 - (P(1|0) + P(0|1)) / 2`` for perfectly prepared states.

    With isotropic Gaussian noise ``iq_noise`` around the ``|0>`` and ``|1>`` centres a distance ``d`` apart,
    the best linear boundary is their perpendicular bisector and each state is misread with
    probability ``Phi(-d / (2 sigma))``, so the fidelity is ``Phi(d / (2 sigma))``. A trained
    discriminator can only approach it (state preparation adds its own errors).
    """
    from math import erf, sqrt

    centres = iq_centres_at(readout, frequency)
    d = abs(centres[1] - centres[0])
    if readout.iq_noise == 0:
        return 1.0 if d > 0 else 0.5
    return 0.5 * (1 + erf(d / (2 * readout.iq_noise) / sqrt(2)))
