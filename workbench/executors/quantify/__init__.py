"""Qblox clusters through quantify-scheduler (real ones, or dummies driven by a digital twin).

quantify-scheduler and qblox-instruments are imported only by :mod:`.adapter`, on first use.
"""

from workbench.executors.quantify.executor import QuantifyExecutor

__all__ = ["QuantifyExecutor"]
