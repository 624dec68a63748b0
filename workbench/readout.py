"""The readout model (levels -> IQ points) and discrimination (IQ points -> bits).

Both the pulse simulator and the Qblox dummy twin turn sampled transmon levels into IQ points with
the device's readout physics; the core turns IQ points into bits with the device's discriminator
calibration. Keeping the two apart is what lets a tune-up routine find a wrong discriminator.
"""

from __future__ import annotations

import numpy as np

from workbench.devices.model import Device, Discriminator, ReadoutCalibration
from workbench.errors import UnsupportedError


def iq_points(levels: np.ndarray, readout: ReadoutCalibration, rng: np.random.Generator) -> np.ndarray:
    """Integrated IQ per shot for an array of transmon levels (Gaussian blobs around each centre).

    Levels above the highest centre given read out like the highest one (a 3-level transmon without a
    |2> centre looks like |1>, as it does on a two-state discriminator).
    """
    top = max(readout.iq_centers)
    centres = np.array(
        [complex(*readout.iq_centers.get(k, readout.iq_centers[top])) for k in range(max(top, 2) + 1)]
    )
    clipped = np.minimum(levels, centres.size - 1)
    noise = rng.normal(0.0, readout.iq_noise, size=(*levels.shape, 2)) if readout.iq_noise > 0 else 0.0
    points = centres[clipped]
    if readout.iq_noise > 0:
        points = points + noise[..., 0] + 1j * noise[..., 1]
    return points.astype(complex)


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
    """The perpendicular bisector of the |0> and |1> centres: the ideal linear discriminator."""
    c0 = np.array(readout.iq_centers[0], dtype=float)
    c1 = np.array(readout.iq_centers[1], dtype=float)
    w = c1 - c0
    offset = -float(w @ (c0 + c1) / 2)
    return Discriminator(weights=(float(w[0]), float(w[1])), offset=offset)
