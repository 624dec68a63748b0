"""Find executor classes: built-ins and third-party plugins from the ``workbench.executors`` entry points.

A plugin package declares in its ``pyproject.toml``::

    [project.entry-points."workbench.executors"]
    scqt = "my_package.executor:ScqtExecutor"

and a device with ``executor: scqt`` then runs on it. Entry points are only loaded when asked for,
so a broken plugin cannot slow down or break ``import workbench``.
"""

from __future__ import annotations

import logging
import os
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from workbench.errors import ExecutorNotFoundError, WorkbenchError

if TYPE_CHECKING:
    from workbench.devices.catalogue import Catalogue
    from workbench.devices.model import Device
    from workbench.executors.base import QuantumExecutor

log = logging.getLogger(__name__)

GROUP = "workbench.executors"

# Built-ins, so that a source checkout works even before `pip install -e .` registered entry points.
_BUILTIN = {
    "qutip": "workbench.executors.qutip:QutipExecutor",
    "quantify": "workbench.executors.quantify:QuantifyExecutor",
    "aer": "workbench.executors.aer:AerExecutor",
}


_found: dict[str, EntryPoint | str] | None = None


def _entry_points() -> dict[str, EntryPoint | str]:
    global _found
    if _found is None:
        found: dict[str, EntryPoint | str] = dict(_BUILTIN)
        for ep in entry_points(group=GROUP):
            builtin = _BUILTIN.get(ep.name)
            if builtin is not None and ep.value != builtin:
                log.warning("executor plugin '%s' (%s) is ignored: a built-in executor has that name; "
                            "rename the plugin's entry point", ep.name, ep.value)
                continue
            found.setdefault(ep.name, ep)
        _found = found
    return _found


def rescan() -> list[str]:
    """Look for executor plugins again (after ``pip install`` of a plugin in a running kernel).

    Returns the names of the executors now available.
    """
    global _found
    _found = None
    return available()


def available() -> list[str]:
    """Names of all installed executors."""
    return sorted(_entry_points())


def _load(target: EntryPoint | str) -> type[QuantumExecutor]:
    if isinstance(target, str):
        from importlib import import_module

        module, _, attr = target.partition(":")
        return getattr(import_module(module), attr)
    return target.load()


def executor_class(name: str) -> type[QuantumExecutor]:
    """The executor class a device's ``executor:`` names."""
    from workbench.executors.base import QuantumExecutor

    target = _entry_points().get(name)
    if target is None:
        raise ExecutorNotFoundError(
            f"no executor named '{name}' is installed; installed executors: {', '.join(available())}"
        )
    try:
        cls = _load(target)
    except ImportError as exc:
        raise WorkbenchError(f"executor '{name}' cannot be loaded: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, QuantumExecutor)):
        raise WorkbenchError(f"executor '{name}' ({target}) is not a QuantumExecutor subclass")
    return cls


def create(device: Device, credentials: Any = None) -> QuantumExecutor:
    """An executor instance for the device (not yet prepared: use it as a context manager)."""
    return executor_class(device.executor)(device, credentials)


def describe_device(device: Device) -> dict[str, Any]:
    """The device's listing entry, with what its executor accepts (no executor module imported
    when the executor is unknown: the entry then says it is unavailable)."""
    entry = device.summary()
    try:
        cls = executor_class(device.executor)
    except WorkbenchError as exc:
        entry["available"] = False
        entry["unavailable_reason"] = str(exc)
        return entry
    entry["executor_title"] = cls.title
    entry["kind"] = cls.kind
    entry["accepts"] = list(cls.job_kinds)
    entry["meas_levels"] = list(cls.measure_levels)
    entry["tags"] = sorted(set(entry["tags"]) | set(cls.tags))
    entry["needs_credentials"] = list(cls.needs_credentials)
    return entry


def validate_device(device: Device) -> None:
    """The device's executor checks its ``executor_config``; an unknown executor passes here (the
    listing shows the device as unavailable, and running it names the installed executors)."""
    try:
        cls = executor_class(device.executor)
    except WorkbenchError:
        return
    cls.validate_device(device)


def load_catalogue(config: str | os.PathLike[str] | None = None) -> Catalogue:
    """The device catalogue (built-ins, then ``config`` or ``$WORKBENCH_CONFIG``), each device checked by
    its executor: what the CLI, the widgets and :func:`workbench.run` use."""
    from workbench.devices.catalogue import Catalogue

    return Catalogue.load(config, check=validate_device)


def listing(catalogue: Catalogue) -> list[dict[str, Any]]:
    """The ``devices`` listing (QHAna's ``devices`` endpoint, ``workbench devices --json``)."""
    return [describe_device(d) for d in catalogue]
