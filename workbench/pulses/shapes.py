"""OpenPulse parametric waveforms (stub: the full library is being filled in)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.errors import JobError

MAX_DURATION = 10**7


@dataclass(frozen=True)
class ShapeSpec:
    """Parameters of one parametric shape: required names and optional names with defaults."""

    name: str
    required: tuple[str, ...]
    optional: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


SHAPES: dict[str, ShapeSpec] = {}


def sample(shape: str, parameters: Mapping[str, Any], where: str | None = None) -> np.ndarray:
    """Complex128 samples of a parametric pulse, one per dt."""
    raise JobError("waveform library not implemented yet", where)


def parse_amplitude(value: Any, location: str | None) -> complex:
    """A complex amplitude from a number, ``[re, im]`` or ``{"real", "imag"}``."""
    raise JobError("not implemented yet", location)


def parse_samples(value: Any, location: str | None) -> np.ndarray:
    """Samples of a pulse_library waveform."""
    raise JobError("not implemented yet", location)


def calibrated(cal: Any, amp: float | None = None) -> np.ndarray:
    """Samples of a device calibration's pulse."""
    return sample(cal.shape, cal.parameters(amp))
