"""Tune-up: measure a device like an experimentalist, fit, and write the calibration back (docs/tuneup.md).

Each routine is a function ``routine(device, *, qubit=0, shots=..., seed=..., config=...)`` that runs
ordinary jobs through :func:`workbench.run` and returns a
:class:`~workbench.tuneup.base.CalibrationResult`; ``result.write(config, dry_run=...)`` writes its
proposal as a new version of the config file (:mod:`workbench.tuneup.writeback`)::

    from workbench import tuneup
    r = tuneup.rabi("my-device", config="lab.yml", seed=1)
    r.figure                      # the data, the fit, the proposed value
    print(r.write(dry_run=True))  # the diff, nothing written
    r.write()                     # a new version of lab.yml, history in lab.yml.history/
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from workbench.tuneup.base import CalibrationResult, Update
from workbench.tuneup.discriminator import discriminator
from workbench.tuneup.drag import drag
from workbench.tuneup.fitting import Param, Quality
from workbench.tuneup.qubit_spectroscopy import qubit_spectroscopy
from workbench.tuneup.rabi import rabi
from workbench.tuneup.ramsey import ramsey
from workbench.tuneup.resonator_spectroscopy import resonator_spectroscopy
from workbench.tuneup.t1 import t1
from workbench.tuneup.writeback import WriteOutcome, history, write_back


class Routine(NamedTuple):
    """A tune-up routine as the CLI and the calibration panel list it."""

    function: Callable[..., CalibrationResult]
    measures: str
    writes: str


#: Every routine by the name ``workbench calibrate`` takes: the function, what it measures, what it writes.
ROUTINES: dict[str, Routine] = {
    "resonator-spectroscopy": Routine(resonator_spectroscopy, "readout frequency sweep, qubit in |0> and |1>",
                                      "readout.frequency"),
    "qubit-spectroscopy": Routine(qubit_spectroscopy, "drive frequency sweep with a 1 us pi-area pulse",
                                  "drive.frequency"),
    "rabi": Routine(rabi, "amplitude sweeps of the x and sx pulses", "drive.x.amp, drive.sx.amp"),
    "ramsey": Routine(ramsey, "pi/2 - delay - pi/2 at ±1 MHz virtual detuning", "drive.frequency (T2* reported)"),
    "drag": Routine(drag, "Xp-Y90 and Yp-X90 against beta", "drive.x.beta, drive.sx.beta"),
    "discriminator": Routine(discriminator, "shots of |0> and |1> in the IQ plane (LDA)", "readout.discriminator"),
    "t1": Routine(t1, "pi pulse, delay, measurement", "nothing (T1 is physics; reported)"),
}

__all__ = ["ROUTINES", "CalibrationResult", "Param", "Quality", "Routine", "Update", "WriteOutcome", "discriminator",
           "drag", "history", "qubit_spectroscopy", "rabi", "ramsey", "resonator_spectroscopy", "t1", "write_back"]
