"""Frames far from what the device can hear: the check behind the "counts will look like noise" warning.

A PulseQobj carries absolute frame frequencies (``setf``; Tergite's SDK sets every carrier that way),
so a job written for one chip and run on another plays its pulses hundreds of MHz away from the
qubits. Nothing is wrong with the file and the run succeeds, but a drive that far off resonance does
not move the qubit and a readout tone that far from the resonator cannot tell the states apart: the
counts look like noise. The core warns instead of refusing, because a detuned frame can be the point
of the experiment (spectroscopy).

For each experiment and each channel with plays, the frame frequency at every play is compared with
what that channel addresses on the device:

* ``d<i>``: qubit i's 0-1 frequency, or its 1-2 frequency (0-1 plus the anharmonicity) when closer;
* ``m<i>``: qubit i's readout resonator (``readout.resonator.frequency``, else ``readout.frequency``);
* ``u<k>``: the ``|11>``-``|X>`` transition the coupler drives (``Device.transition_frequency``).

A channel whose largest distance in an experiment exceeds :data:`FAR_FRAME_HZ` gets one warning line
for the whole job (how many experiments, how far, at which frequency).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from workbench.schedule.ir import channel_sort_key, parse_channel

if TYPE_CHECKING:
    from workbench.devices.model import Device
    from workbench.schedule.ir import Schedule

#: Distance (Hz) above which a frame counts as far from its target. It is well above the Rabi rates of
#: real pulses (the built-in devices' pi pulses run at about 20 MHz): a drive detuned by 50 MHz moves at
#: most Omega^2 / (Omega^2 + Delta^2) = 14 % of the population, and tune-up sweeps stay within +-10 MHz.
FAR_FRAME_HZ = 50e6


def _targets(device: Device) -> dict[str, tuple[tuple[str, float], ...]]:
    """Per channel, what it may address: (description, frequency) pairs."""
    out: dict[str, tuple[tuple[str, float], ...]] = {}
    for q in device.qubits:
        out[f"d{q.index}"] = ((f"qubit {q.index}'s frequency", q.frequency),
                              (f"qubit {q.index}'s 1-2 transition", q.frequency + q.anharmonicity))
        resonator = q.readout.resonator
        if resonator is not None:
            out[f"m{q.index}"] = ((f"qubit {q.index}'s readout resonator", resonator.frequency),)
        else:
            out[f"m{q.index}"] = ((f"qubit {q.index}'s readout frequency", q.readout.frequency),)
    for c in device.couplings:
        out[c.channel] = ((f"the {c.transition} transition of coupler {c.channel}", device.transition_frequency(c)),)
    return out


_EFFECT = {"d": "a drive that far off resonance hardly moves the qubit",
           "m": "a readout tone that far from the resonator cannot tell the states apart",
           "u": "a coupler tone that far off its transition does nothing"}


def far_frame_warnings(schedules: Sequence[Schedule], device: Device, threshold: float = FAR_FRAME_HZ) -> list[str]:
    """One warning per channel whose frame is further than ``threshold`` Hz from its target at a play."""
    targets = _targets(device)
    # channel -> (largest distance, frame frequency there, nearest target there)
    worst: dict[str, tuple[float, float, tuple[str, float]]] = {}
    experiments: dict[str, int] = {}
    for schedule in schedules:
        seen: dict[str, float] = {}
        for play in schedule.plays:
            options = targets.get(play.channel)
            if options is None:
                continue
            nearest = min(options, key=lambda t: abs(play.frequency - t[1]))
            distance = abs(play.frequency - nearest[1])
            if distance <= threshold:
                continue
            seen[play.channel] = max(distance, seen.get(play.channel, 0.0))
            if distance > worst.get(play.channel, (0.0, 0.0, ("", 0.0)))[0]:
                worst[play.channel] = (distance, play.frequency, nearest)
        for channel in seen:
            experiments[channel] = experiments.get(channel, 0) + 1
    lines = []
    total = len(schedules)
    for channel in sorted(worst, key=channel_sort_key):
        distance, frequency, (what, reference) = worst[channel]
        effect = _EFFECT.get(parse_channel(channel)[0], "")
        lines.append(f"frame of {channel} is {distance / 1e6:.1f} MHz from {what} ({reference / 1e9:.6f} GHz): "
                     f"{frequency / 1e9:.6f} GHz at its plays in {experiments[channel]} of {total} "
                     f"experiment{'s' if total != 1 else ''}; {effect}, so the counts will look like noise "
                     f"(warned above {threshold / 1e6:g} MHz; was the job written for another device?)")
    return lines
