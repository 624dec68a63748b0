"""What ``parallel=`` may be, checked before anything connects or runs (no Dask import here)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Any

from workbench.errors import OptionsError

ENV_SCHEDULER = "WORKBENCH_DASK_SCHEDULER"  # scheduler address used when none is given explicitly
DEFAULT_TIMEOUT = 10.0  # s to reach a scheduler and to find a worker on it

_ADDRESS = re.compile(r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<host>\[[0-9a-fA-F:]+\]|[^\s:/\[\]]+):(?P<port>\d+)$")
_SCHEMES = ("tcp", "tls")


@dataclass(frozen=True)
class Parallel:
    """How to run in parallel.

    ``scheduler``: address of a running Dask scheduler (``tcp://host:8786``); None takes
    ``$WORKBENCH_DASK_SCHEDULER`` and, without it, starts a ``LocalCluster`` of ``workers`` processes on
    127.0.0.1 (default: one per usable core), kept for later runs of this process.
    ``client``: an existing ``distributed.Client`` instead (the workbench never closes it).
    ``chunk_size``: experiments per task for executors that split freely (default: about four tasks
    per worker); executors that batch experiments themselves (the pulse simulator) keep their batches.
    ``timeout``: seconds to reach the scheduler and to find a worker there, and how long the cluster may
    be without any worker during a run.
    ``resubmits``: how often a task is submitted again after Dask gave up on it because the workers
    running it kept dying (Dask itself already moves a dead worker's tasks to other workers).
    """

    scheduler: str | None = None
    workers: int | None = None
    chunk_size: int | None = None
    timeout: float = DEFAULT_TIMEOUT
    resubmits: int = 1
    client: Any = None

    def __post_init__(self) -> None:
        if self.scheduler is not None:
            object.__setattr__(self, "scheduler", check_address(self.scheduler))
        for name, minimum in (("workers", 1), ("chunk_size", 1)):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
                raise OptionsError(f"must be an integer >= {minimum}, got {value!r}", f"parallel.{name}")
        if isinstance(self.resubmits, bool) or not isinstance(self.resubmits, int) or self.resubmits < 0:
            raise OptionsError(f"must be an integer >= 0, got {self.resubmits!r}", "parallel.resubmits")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float) or not self.timeout > 0:
            raise OptionsError(f"must be a positive number of seconds, got {self.timeout!r}", "parallel.timeout")


ParallelSpec = bool | str | Parallel | Any | None  # Any: a distributed.Client


def check_address(address: str, where: str = "scheduler") -> str:
    """``host:port`` or ``tcp://host:port`` (or ``tls://``) -> a full address; anything else is bad input.

    A typo'd address must fail at once as bad input, not after a connection timeout as an
    unreachable scheduler.
    """
    text = str(address).strip()
    match = _ADDRESS.match(text)
    scheme = (match.group("scheme") or "tcp") if match else None
    if match is None or scheme not in _SCHEMES or not 0 < int(match.group("port")) < 65536:
        raise OptionsError(f"expected a Dask scheduler address such as tcp://192.0.2.7:8786, got {address!r}",
                           where)
    return f"{scheme}://{match.group('host')}:{int(match.group('port'))}"


def resolve(spec: ParallelSpec) -> Parallel | None:
    """``parallel=`` as given to ``run``/``execute`` -> a :class:`Parallel`, or None for a serial run."""
    if spec is None or spec is False:
        return None
    if spec is True:
        return Parallel(scheduler=_env_scheduler())
    if isinstance(spec, Parallel):
        if spec.scheduler is None and spec.client is None:
            env = _env_scheduler()
            return replace(spec, scheduler=env) if env else spec
        return spec
    if isinstance(spec, str):
        return Parallel(scheduler=spec)
    if type(spec).__name__ == "Client" and hasattr(spec, "submit"):
        return Parallel(client=spec)
    raise OptionsError(f"expected True, a scheduler address, a distributed.Client or a Parallel, got "
                       f"{type(spec).__name__}", "parallel")


def _env_scheduler() -> str | None:
    value = os.environ.get(ENV_SCHEDULER, "").strip()
    return check_address(value, f"${ENV_SCHEDULER}") if value else None
