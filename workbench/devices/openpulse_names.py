"""The ports and predefined frames a pulse device offers to OpenQASM 3 + OpenPulse programs.

OpenPulse leaves ports and frames to the vendor ("expected that vendors of quantum hardware provide
the appropriate port names"); a program uses them without declaring them, as ``extern`` names. The
workbench derives them from the device model, so every pulse device has them without configuration:

* ports are the channels: ``d<i>``, ``m<i>``, ``a<i>`` per qubit, ``u<k>`` per coupling;
* frames are one per port at the calibrated frequency: ``q<i>_drive`` (on ``d<i>``, the drive
  frequency), ``q<i>_measure`` (on ``m<i>``, the readout frequency), ``q<i>_acquire`` (on ``a<i>``,
  the readout frequency) and ``u<k>_coupler`` (on ``u<k>``, the coupler frequency).

Programs written for other naming schemes (Amazon Braket's ``q0_rf_frame``, ``r0_measure_frame``...)
run unchanged when the device maps those names onto these through its ``openpulse_names`` field.
Only plain data is taken here, so the device model can validate its mapping without a cycle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class FrameSpec:
    """A predefined frame: the port (channel) it is attached to and its initial frequency in Hz."""

    name: str
    port: str
    frequency: float


def port_names(qubits: Iterable[int], coupling_channels: Iterable[str]) -> list[str]:
    """Every port, qubit by qubit (``d``, ``m``, ``a``), then the couplers."""
    out = [f"{kind}{q}" for q in sorted(qubits) for kind in "dma"]
    return out + sorted(coupling_channels, key=lambda c: int(c[1:]))


def frame_specs(frequencies: Mapping[str, float], qubits: Iterable[int],
                coupling_channels: Iterable[str]) -> dict[str, FrameSpec]:
    """Predefined frames by name; ``frequencies`` are the device's calibrated frame frequencies."""
    frames: dict[str, FrameSpec] = {}
    for q in sorted(qubits):
        frames[f"q{q}_drive"] = FrameSpec(f"q{q}_drive", f"d{q}", float(frequencies[f"d{q}"]))
        frames[f"q{q}_measure"] = FrameSpec(f"q{q}_measure", f"m{q}", float(frequencies[f"m{q}"]))
        frames[f"q{q}_acquire"] = FrameSpec(f"q{q}_acquire", f"a{q}", float(frequencies[f"m{q}"]))
    for channel in sorted(coupling_channels, key=lambda c: int(c[1:])):
        frames[f"{channel}_coupler"] = FrameSpec(f"{channel}_coupler", channel, float(frequencies[channel]))
    return frames


def check_aliases(aliases: Mapping[str, str], ports: Iterable[str], frames: Iterable[str]) -> None:
    """Raise ``ValueError`` unless every alias is an identifier naming an existing port or frame.

    An alias may not reuse a name the device already has: a program's ``d0`` must mean one thing.
    """
    own = set(ports) | set(frames)
    for alias, target in aliases.items():
        if not isinstance(alias, str) or not IDENTIFIER.match(alias):
            raise ValueError(f"openpulse_names: {alias!r} is not an OpenQASM identifier")
        if alias in own:
            raise ValueError(f"openpulse_names: {alias!r} is already a port or frame of the device")
        if target not in own:
            known = ", ".join(sorted(own))
            raise ValueError(f"openpulse_names.{alias}: {target!r} is not a port or frame of the device "
                             f"(it has {known})")


def listing(frequencies: Mapping[str, float], qubits: Iterable[int], coupling_channels: Iterable[str],
            aliases: Mapping[str, str]) -> dict[str, object]:
    """The ``openpulse`` entry of ``workbench devices --json``: ports, frames and name mapping."""
    qubits, couplings = list(qubits), list(coupling_channels)
    frames = frame_specs(frequencies, qubits, couplings)
    return {
        "ports": port_names(qubits, couplings),
        "frames": {f.name: {"port": f.port, "frequency": f.frequency} for f in frames.values()},
        "aliases": dict(aliases),
    }
