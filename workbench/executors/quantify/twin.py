"""The digital twin behind a dummy cluster: what the qubits would have returned.

A qblox-instruments dummy cluster assembles and "runs" the compiled programs but has no qubits; its
acquisitions are NaN unless data is put into them. Before each run the twin simulates the same IR
schedules with the workbench's pulse simulator (the ``qutip`` executor, with the same shots and
seed, on the device's physics) and hands per-shot IQ points to the adapter, which loads them into
the dummy's acquisition memory. The results then come back through the real Qblox acquisition path:
binning, averaging, hardware thresholding, quantify's retrieval. The same seed on ``qutip-1q`` and
on the twin of the same physics gives the same IQ points, hence the same counts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import numpy as np

from workbench.devices.model import Device
from workbench.executors.quantify.plan import Program
from workbench.options import COMMON_OPTIONS, resolve_options
from workbench.schedule.ir import Schedule

log = logging.getLogger(__name__)


def simulate(device: Device, schedules: Sequence[Schedule], shots: int, seed: int,
             cancel: threading.Event | None = None) -> np.ndarray:
    """Per-shot IQ (experiment, shot, slot) from the pulse simulator, as a ``qutip-1q`` run would give."""
    from workbench.executors.qutip import QutipExecutor

    specs = tuple(s for s in COMMON_OPTIONS if s.name not in {o.name for o in QutipExecutor.options})
    options = resolve_options(specs + QutipExecutor.options, [
        ("twin", {"shots": shots, "seed": seed, "meas_level": 1, "meas_return": "single"}),
    ])
    simulator = QutipExecutor(device)
    simulator.check(schedules, options)
    with simulator:
        data = simulator.run(schedules, options, cancel=cancel)
    assert data.iq is not None
    log.info("twin simulated %d experiment(s) x %d shots", len(schedules), shots)
    return data.iq


def expected_points(program: Program, iq: np.ndarray) -> dict[int, np.ndarray]:
    """The IQ points each acquisition of the program returns, per shot.

    The simulator reports the last acquisition into each slot (the one a result keeps); an earlier
    acquisition into the same slot, which OpenPulse discards, gets the same points so that no bin of
    the dummy is left empty (an empty bin reads as NaN).
    """
    out: dict[int, np.ndarray] = {}
    for a in program.acquisitions:
        out[a.id] = iq[a.experiment, :, a.slot]
    return out
