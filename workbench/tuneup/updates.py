"""Calibration changes a routine proposes, and a device with them applied.

Shared by the routines (which propose), their results (which apply them in memory to chain routines)
and write-back (which checks that the edited file loads into exactly that device), so it depends on
none of them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbench.devices.model import Device


@dataclass(frozen=True)
class Update:
    """One calibration value a routine proposes: ``qubits[qubit].<path>`` from ``old`` to ``new``."""

    qubit: int
    path: tuple[str, ...]
    old: Any
    new: Any
    stderr: float | None = None

    @property
    def key(self) -> str:
        return f"qubits[{self.qubit}]." + ".".join(self.path)

    def as_dict(self) -> dict[str, Any]:
        return {"qubit": self.qubit, "path": ".".join(self.path), "old": self.old, "new": self.new,
                "stderr": self.stderr}


def with_updates(device: Device, updates: Sequence[Update]) -> Device:
    """The device with the updates applied in memory (to chain routines without writing)."""
    data = device.model_dump(mode="python")
    for u in updates:
        qubit = next(q for q in data["qubits"] if q["index"] == u.qubit)
        target = qubit
        for key in u.path[:-1]:
            if target.get(key) is None:
                target[key] = {}
            target = target[key]
        target[u.path[-1]] = copy.deepcopy(u.new)
    return Device.model_validate(data)
