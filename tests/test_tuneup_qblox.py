"""Tune-up through a Qblox dummy cluster (the quantify executor and its digital twin): the same routines,
the same fits, the data coming back through the cluster's acquisition path."""

from __future__ import annotations

import pytest

from workbench import run, tuneup
from workbench.executors.registry import load_catalogue
from workbench.readout import assignment_fidelity

pytestmark = pytest.mark.slow

BUILTIN = load_catalogue(None).get("qblox-dummy-1q")
TRUE_PI_AMP = BUILTIN.qubit(0).drive.x.amp


def test_rabi_and_discriminator_tune_up_the_qblox_twin(tmp_path):
    path = tmp_path / "lab.yml"
    path.write_text(f"""devices:
  - name: qblox-drifted
    base: qblox-dummy-1q
    qubits:
      0:
        drive:
          x: {{amp: {0.8 * TRUE_PI_AMP:.6f}}}
          sx: {{amp: {0.8 * BUILTIN.qubit(0).drive.sx.amp:.6f}}}
        readout: {{discriminator: null}}
""")
    rabi = tuneup.rabi("qblox-drifted", config=path, seed=21, points=21)
    assert rabi.runs[0].executor == "quantify"
    assert rabi.runs[0].artifacts  # compiled Q1ASM: the jobs really went through the cluster
    assert rabi.ok, rabi.summary()
    assert rabi.write().written
    discriminator = tuneup.discriminator("qblox-drifted", config=path, seed=22, shots=2048)
    assert discriminator.ok, discriminator.summary()
    assert discriminator.write().written

    device = load_catalogue(path).get("qblox-drifted")
    q = device.qubit(0)
    assert abs(q.drive.x.amp / TRUE_PI_AMP - 1) < 0.01
    analytic = assignment_fidelity(q.readout, q.readout.frequency)
    measured = discriminator.measured["assignment_fidelity"].value
    assert abs(measured - analytic) < 0.01 * analytic
    # the trained discriminator now thresholds in the cluster's sequencer (meas_level 2)
    counts = run("x-gate", device, shots=1000, seed=23).counts()
    assert counts.get("1", 0) > 990
    assert [v.routine for v in tuneup.history(path)] == ["rabi", "discriminator"]
