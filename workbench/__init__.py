"""Quantum Executor Workbench: run OpenPulse jobs and circuits on simulated and Qblox transmon devices.

The public API is imported lazily so that ``import workbench`` stays fast; heavy libraries (qutip,
xarray, pydantic, quantify-scheduler) load on first use::

    import workbench
    result = workbench.run("x-gate", device="qutip-1q", shots=1000, seed=1)
    result.counts()
    result.export("x-gate-results")
    again = workbench.load_result("x-gate-results")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench._version import __version__
from workbench.errors import InputError, JobError, WorkbenchError

_LAZY = {
    "run": ("workbench.api", "run"),
    "prepare": ("workbench.api", "prepare"),
    "execute": ("workbench.api", "execute"),
    "run_batch": ("workbench.api", "run_batch"),
    "execute_batch": ("workbench.api", "execute_batch"),
    "analyse": ("workbench.api", "analyse"),
    "load_catalogue": ("workbench.executors.registry", "load_catalogue"),
    "load_job": ("workbench.jobs.loader", "load_job"),
    "Result": ("workbench.results.result", "Result"),
    "Catalogue": ("workbench.devices.catalogue", "Catalogue"),
    "QuantumExecutor": ("workbench.executors.base", "QuantumExecutor"),
    "ScheduleBuilder": ("workbench.schedule.builder", "ScheduleBuilder"),
    "plot_schedule": ("workbench.views.schedule_figure", "plot_schedule"),
    "events": ("workbench.views.schedule_events", "events"),
    "Workbench": ("workbench.ui.app", "Workbench"),
}

__all__ = ["InputError", "JobError", "WorkbenchError", "__version__", "list_devices", "load_result", *_LAZY]

if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    import os

    from workbench.api import analyse, execute, execute_batch, prepare, run, run_batch  # noqa: F401
    from workbench.devices.catalogue import Catalogue  # noqa: F401
    from workbench.executors.base import QuantumExecutor  # noqa: F401
    from workbench.executors.registry import load_catalogue  # noqa: F401
    from workbench.jobs.loader import load_job  # noqa: F401
    from workbench.results.result import Result
    from workbench.schedule.builder import ScheduleBuilder  # noqa: F401
    from workbench.views.schedule_events import events  # noqa: F401
    from workbench.views.schedule_figure import plot_schedule  # noqa: F401


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'workbench' has no attribute '{name}'")
    from importlib import import_module

    value = getattr(import_module(target[0]), target[1])
    globals()[name] = value
    return value


def load_result(source: str | os.PathLike[str], *, datadir: str | os.PathLike[str] | None = None) -> Result:
    """Reload a result from an output folder or a ``dataset.nc`` file, or by its tuid from the data
    directory (``datadir``, default ``$WORKBENCH_DATADIR``); an existing path always wins."""
    from workbench.results.datadir import locate
    from workbench.results.result import Result

    return Result.load(locate(source, datadir))


def list_devices(config: str | None = None) -> list[dict[str, Any]]:
    """The device listing (as ``workbench devices --json`` prints it).

    Not called ``devices``: that name is the ``workbench.devices`` subpackage, which replaces any
    attribute of that name once it is imported."""
    from workbench.executors.registry import listing, load_catalogue

    return listing(load_catalogue(config))


def _write_report(result: Any, path: Any) -> None:
    from workbench.views.report import write_report

    write_report(result, path)


def _register_report() -> None:
    """``report.html`` in every output folder: the results layer writes folders, the views draw reports,
    so the report is registered from here, which Python runs before any submodule (docs/architecture.md)."""
    from workbench import output_files

    output_files.register("report.html", _write_report)


_register_report()


def _register_xarray_accessor() -> None:
    """``ds.wb`` on xarray Datasets (:mod:`workbench.xarray_plugin`), only when xarray is already loaded:
    importing the workbench must not import xarray (the plugin's entry point covers the other order)."""
    import sys

    if "xarray" in sys.modules:
        from workbench import xarray_plugin  # noqa: F401  (registers on import)


_register_xarray_accessor()
