"""Toy executors installed as real entry-point plugins into a folder, and the credentialed one ("vault").

:func:`install_plugin` writes what pip would: the module and a dist-info folder whose entry points
name it. The vault plugin is shared by the UI tests (``vault_catalogue`` in conftest.py) and the QHAna
service tests, which start a server whose ``PYTHONPATH`` holds the folder.
"""

from __future__ import annotations

from pathlib import Path

TOKEN = "tok-VAULT-4242"  # the api-token the executor accepts (written into VAULT_PLUGIN below)

# The end of a toy executor's ``run`` (source text): each acquisition reads the IQ centre of |1> after an
# odd number of pulses on its qubit's drive, else of |0>, in every shot.
PARITY_READOUT = '''\
        shots, slots = options["shots"], max(s.memory_slots for s in schedules)
        iq = np.full((len(schedules), shots, slots), np.nan, dtype=complex)
        slot_qubit = np.full((len(schedules), slots), -1)
        for e, sched in enumerate(schedules):
            for acq in sched.acquires:
                flips = sum(1 for p in sched.plays if p.channel == f"d{acq.qubit}")
                iq[e, :, acq.memory_slot] = complex(*self.device.qubit(acq.qubit).readout.iq_centers[flips % 2])
                slot_qubit[e, acq.memory_slot] = acq.qubit
        return ExecutionData(slot_qubit=slot_qubit, iq=iq)
'''

# A credentialed third-party executor, installed as a real entry-point plugin for the UI tests.
VAULT_PLUGIN = '''
import numpy as np

from workbench.executors.base import ExecutionData, QuantumExecutor


class VaultExecutor(QuantumExecutor):
    """Reads |1> after an odd number of drive pulses; refuses to run without the right token."""

    name = "vault"
    title = "Toy executor behind a login"
    needs_credentials = ("api-token",)
    job_kinds = ("pulse", "circuit")

    def run(self, schedules, options, progress=None, cancel=None):
        token = self._credentials.get("api-token")
        if token is None or token.reveal() != "tok-VAULT-4242":
            from workbench.errors import CredentialsRejectedError
            raise CredentialsRejectedError("login refused: wrong or missing api-token")
''' + PARITY_READOUT




def install_plugin(folder: Path, module: str, source: str, executors: dict[str, str],
                   distribution: str | None = None) -> None:
    """``folder/<module>.py`` holding ``source`` and a dist-info of ``distribution`` (default: the module)
    with a ``workbench.executors`` entry point ``name = module:Class`` for each of ``executors``."""
    (folder / f"{module}.py").write_text(source)
    name = distribution or module
    dist = folder / f"{name}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 0.1\n")
    lines = "".join(f"{entry} = {module}:{cls}\n" for entry, cls in executors.items())
    (dist / "entry_points.txt").write_text(f"[workbench.executors]\n{lines}")


def install_vault_plugin(folder: Path) -> Path:
    """Write the plugin module and its dist-info (entry point ``workbench.executors: vault``) into ``folder``
    and a device config with device ``vault``; returns the config's path."""
    install_plugin(folder, "vault_plugin", VAULT_PLUGIN, {"vault": "VaultExecutor"})
    config = folder / "devices.yml"
    config.write_text("devices:\n  - {name: vault, base: qutip-1q, executor: vault, title: Device behind a login}\n")
    return config
