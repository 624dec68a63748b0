"""Gate-level circuit simulator on qiskit-aer (OpenQASM 2/3 circuits run as given)."""

from workbench.executors.aer.executor import AerExecutor

__all__ = ["AerExecutor"]
