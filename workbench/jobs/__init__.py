"""Job files -> job models. ``load_job`` accepts a path, JSON/QASM text, a mapping or an example name."""

from workbench.jobs.base import Job
from workbench.jobs.loader import load_job

__all__ = ["Job", "load_job"]
