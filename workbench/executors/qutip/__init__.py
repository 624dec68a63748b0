"""Pulse-level transmon simulator (qutip / chalmers-qubit conventions, its own numpy/scipy solver)."""

from workbench.executors.qutip.executor import QutipExecutor

__all__ = ["QutipExecutor"]
