"""Pulse-level transmon simulator (qutip / chalmers-qubit conventions)."""

from workbench.executors.qutip.executor import QutipExecutor

__all__ = ["QutipExecutor"]
