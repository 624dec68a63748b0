"""Job files -> job models. ``load_job`` accepts a path, JSON/QASM text or a mapping (example names
are resolved by ``workbench.core.prepare``, which knows the device they are built for)."""

from workbench.jobs.base import Job
from workbench.jobs.loader import load_job

__all__ = ["Job", "load_job"]
