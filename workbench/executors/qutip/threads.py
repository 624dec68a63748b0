"""Run the small dense linear algebra of the simulator on one BLAS thread.

The simulator multiplies and exponentiates thousands of 9x9 and 81x81 matrices. Multi-threaded
OpenBLAS gains nothing at these sizes and, on a loaded machine, its spinning threads make each call
10 to 25 times slower (measured on a 2-core VM: an 81x81 complex matmul took 3.5 ms with two threads
while another process was busy, 0.15 ms with one). Running single-threaded is also what parallel
workers want. ``threadpoolctl`` does this properly when installed; otherwise the OpenBLAS builds that
numpy and scipy ship are found among the loaded libraries and asked directly. Anything else (MKL,
non-Linux) is left alone: the simulator is still correct, only possibly slower.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import sys
from collections.abc import Iterator

log = logging.getLogger(__name__)

_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "scipy_openblas_set_num_threads64_")


def _openblas_handles() -> list[tuple[ctypes.CDLL, str]]:
    """The loaded OpenBLAS builds, scanned again only when scipy's own OpenBLAS may have appeared."""
    key = "scipy.linalg" in sys.modules
    if key not in _HANDLES:
        _HANDLES[key] = _scan()
    return _HANDLES[key]


_HANDLES: dict[bool, list[tuple[ctypes.CDLL, str]]] = {}


def _scan() -> list[tuple[ctypes.CDLL, str]]:
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            paths = {line.split()[-1] for line in fh if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return []
    found = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            if hasattr(lib, name) and hasattr(lib, name.replace("_set_", "_get_")):
                found.append((lib, name))
                break
    return found


_CONTROLLERS: dict[bool, object] = {}


def _controller(with_scipy: bool) -> object | None:
    """threadpoolctl's view of the loaded BLAS libraries, built once per process (and again once scipy's
    OpenBLAS is loaded): building it walks every loaded shared library, ~0.1 s in a process that has
    imported xarray and h5py, which a run would otherwise pay each time. With ``with_scipy``, scipy.linalg
    is loaded first: its own OpenBLAS, loaded later inside a limited block (an engine's first
    ``expm``), would run multi-threaded. Engines that never call scipy say so and spare the process
    importing it (~0.3 s of a command-line run of a single-qutrit sweep)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    if with_scipy:
        with contextlib.suppress(ImportError):
            import scipy.linalg  # noqa: F401
    key = "scipy.linalg" in sys.modules
    if key not in _CONTROLLERS:
        _CONTROLLERS[key] = ThreadpoolController()
    return _CONTROLLERS[key]


@contextlib.contextmanager
def single_blas_thread(with_scipy: bool = True) -> Iterator[None]:
    """Limit BLAS to one thread inside the block, restoring the previous setting afterwards.

    ``with_scipy=False``: the block calls nothing of scipy.linalg (then it is not imported for it)."""
    controller = _controller(with_scipy)
    if controller is not None:
        with controller.limit(limits=1, user_api="blas"):  # type: ignore[attr-defined]
            yield
        return
    handles = _openblas_handles()
    previous = []
    for lib, name in handles:
        try:
            previous.append((lib, name, int(getattr(lib, name.replace("_set_", "_get_"))())))
            getattr(lib, name)(1)
        except (OSError, AttributeError, ValueError) as exc:  # pragma: no cover - exotic builds
            log.debug("cannot limit BLAS threads through %s: %s", name, exc)
    try:
        yield
    finally:
        for lib, name, count in previous:
            getattr(lib, name)(count)
