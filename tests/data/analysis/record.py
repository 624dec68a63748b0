"""Record the Datasets tests/test_analysis.py analyses (run from the repository root:
``python tests/data/analysis/record.py``; it refuses to overwrite files).

Every file is a result Dataset exactly as ``result.save()`` writes it, from the simulator on the
built-in devices with fixed seeds, except that runs which discriminated (meas_level 2) drop their
per-shot IQ points (``iq``): their analyses read the bits, and without the IQ the files stay small
(tens of kilobytes). ``rabi-iq.nc`` keeps them (meas_level 1, the IQ projection path) and
``resonator-spectroscopy.nc`` is shot-averaged (``meas_return avg``). ``tuneup-rabi.nc`` is a tune-up
history entry's ``dataset.nc`` (a drifted device's Rabi routine, written back).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import workbench
from workbench import examples, tuneup
from workbench.executors.registry import load_catalogue
from workbench.results.dataset import save_dataset

HERE = Path(__file__).resolve().parent
BLIND = """devices:
  - name: blind
    base: qutip-1q
    title: qutip-1q whose readout cannot tell |0> from |1> (pure noise)
    qubits:
      0:
        readout: {iq_centers: {0: [0.3, 0.3], 1: [0.3, 0.3], 2: [0.3, 0.3]}}
"""
DRIFTED = """devices:
  - name: drifted
    base: qutip-1q
    qubits:
      0:
        drive:
          x: {amp: 0.4}
"""


def save(result, name: str, keep_iq: bool = False) -> None:
    path = HERE / f"{name}.nc"
    if path.exists():
        sys.exit(f"{path} exists; remove it to record it again")
    ds = result.dataset
    if not keep_iq and "memory" in ds:
        ds = ds.drop_vars("iq")
    save_dataset(ds, path)
    print(f"{path.name}: {path.stat().st_size // 1024} KiB, {result.summary()}")


def main() -> None:
    catalogue = load_catalogue(None)
    one, two = catalogue.get("qutip-1q"), catalogue.get("qutip-2q")
    q = one.qubit(0)
    save(workbench.run("rabi", one, shots=512, seed=11), "rabi")
    save(workbench.run("rabi", one, shots=128, seed=12, options={"meas_level": 1}), "rabi-iq", keep_iq=True)
    delays = np.linspace(0, 3 * q.t1, 41)
    save(workbench.run(examples.t1(one, delays=delays, shots=2000), one, seed=13), "t1")
    delays = np.linspace(0, 2 * q.t2, 81)
    save(workbench.run(examples.ramsey(one, delays=delays, detuning=0.1e6, shots=2000), one, seed=14), "ramsey")
    save(workbench.run("rabi-length", one, shots=512, seed=15), "rabi-length")
    delays = np.linspace(0, 2 * q.t2, 41)
    save(workbench.run(examples.echo(one, delays=delays, shots=2000), one, seed=16), "echo")
    save(workbench.run("qubit-spectroscopy", one, shots=512, seed=17), "qubit-spectroscopy")
    save(workbench.run("resonator-spectroscopy", one, shots=512, seed=18, options={"meas_return": "avg"}),
         "resonator-spectroscopy")
    save(workbench.run(examples.chevron(two, n_amp=6, n_width=5, shots=300), two, seed=19), "chevron")
    with tempfile.TemporaryDirectory() as tmp:
        blind = Path(tmp) / "blind.yml"
        blind.write_text(BLIND)
        save(workbench.run("rabi", "blind", config=blind, shots=512, seed=20), "noise-rabi")
        save(workbench.run("t1", "blind", config=blind, shots=512, seed=21), "noise-t1")
        lab = Path(tmp) / "lab.yml"
        lab.write_text(DRIFTED)
        result = tuneup.rabi("drifted", config=lab, seed=22)
        outcome = result.write()
        assert outcome.written, outcome.message
        (version,) = tuneup.history(lab)
        target = HERE / "tuneup-rabi.nc"
        if target.exists():
            sys.exit(f"{target} exists; remove it to record it again")
        target.write_bytes((version.folder / "dataset.nc").read_bytes())
        print(f"{target.name}: {target.stat().st_size // 1024} KiB, tune-up history entry {version.folder.name}")


if __name__ == "__main__":
    main()
