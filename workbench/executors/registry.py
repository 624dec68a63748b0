"""Find executor classes: built-ins and third-party plugins from the ``workbench.executors`` entry points.

A plugin package declares in its ``pyproject.toml``::

    [project.entry-points."workbench.executors"]
    scqt = "my_package.executor:ScqtExecutor"

and a device with ``executor: scqt`` then runs on it. Entry points are only loaded when asked for,
so a broken plugin cannot slow down or break ``import workbench``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from workbench.errors import ExecutorNotFoundError, WorkbenchError

if TYPE_CHECKING:
    from workbench.devices.model import Device
    from workbench.executors.base import QuantumExecutor

GROUP = "workbench.executors"

# Built-ins, so that a source checkout works even before `pip install -e .` registered entry points.
_BUILTIN = {
    "qutip": "workbench.executors.qutip:QutipExecutor",
    "quantify": "workbench.executors.quantify:QuantifyExecutor",
    "aer": "workbench.executors.aer:AerExecutor",
}


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, EntryPoint | str]:
    found: dict[str, EntryPoint | str] = dict(_BUILTIN)
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def available() -> list[str]:
    """Names of all installed executor types."""
    return sorted(_entry_points())


def _load(target: EntryPoint | str) -> type[QuantumExecutor]:
    if isinstance(target, str):
        from importlib import import_module

        module, _, attr = target.partition(":")
        return getattr(import_module(module), attr)
    return target.load()


def executor_class(name: str) -> type[QuantumExecutor]:
    """The executor class for a device's ``executor`` type."""
    from workbench.executors.base import QuantumExecutor

    target = _entry_points().get(name)
    if target is None:
        raise ExecutorNotFoundError(
            f"no executor of type '{name}' is installed; installed executors: {', '.join(available())}"
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
