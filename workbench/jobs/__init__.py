"""Job files -> job models. ``load_job`` accepts a path, JSON/QASM text or a mapping (example names
are resolved by ``workbench.core.prepare``, which knows the device they are built for)."""

from workbench.jobs.base import Job
from workbench.jobs.circuit_job import CircuitJob
from workbench.jobs.loader import load_job
from workbench.jobs.pulse_job import PulseJob

__all__ = ["CircuitJob", "Job", "PulseJob", "load_job"]
