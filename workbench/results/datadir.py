"""A data directory colleagues browse: one folder per run, in quantify-core's layout.

::

    <datadir>/
      20261130/                                  one folder per day (the tuid's date)
        20261130-141203-512-a1b2c3-rabi/         <tuid>-<name>: one run
          dataset.hdf5                           the result Dataset (quantify-core's file name)
          result-counts.json, result-trace.json, execution-options.json, job.json, device-config.yml, ...

The layout, the tuid format (``YYYYmmDD-HHMMSS-fff-xxxxxx``) and the file name are quantify-core's,
so its own ``quantify_core.data.handling.load_dataset(tuid)`` and ``get_tuids_containing(name)``
find these runs, and a lab that already keeps quantify data can keep workbench runs beside them.
Every other file of the output folder (:mod:`workbench.results.exports`) sits next to the dataset.

A data directory is shared, so everything read from it is untrusted: listing only looks at names
that have the tuid's shape, never follows links out of it, reads at most :data:`MAX_TRACE_BYTES` of
each run's ``result-trace.json``, and a stored name never chooses a path (the ``<name>`` part is
reduced to letters, digits, ``.``, ``_`` and ``-``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import InputError, OutputError

if TYPE_CHECKING:
    from workbench.results.result import Result

DATADIR_ENV = "WORKBENCH_DATADIR"
DATASET_FILE = "dataset.hdf5"  # quantify_core.data.handling.DATASET_NAME
TRACE_FILE = "result-trace.json"
MAX_TRACE_BYTES = 1024 * 1024  # a trace is a few kB; a bigger file is not one of ours
MAX_NAME = 60
_TUID = re.compile(r"\d{8}-\d{6}-\d{3}-[0-9A-Za-z]{6}")
_DAY = re.compile(r"\d{8}")
_STAGING = ".incoming"  # where a run is written before it is renamed into its day folder


class DatadirError(InputError):
    """No data directory, or a run that is not in it."""


def resolve(datadir: str | os.PathLike[str] | None = None) -> Path | None:
    """The data directory given, else ``$WORKBENCH_DATADIR``, else None."""
    chosen = datadir if datadir not in (None, "") else os.environ.get(DATADIR_ENV) or None
    return Path(os.fspath(chosen)).expanduser() if chosen is not None else None


def required(datadir: str | os.PathLike[str] | None = None) -> Path:
    """:func:`resolve`, refusing when there is none (one line naming both ways to give one)."""
    path = resolve(datadir)
    if path is None:
        raise DatadirError(f"no data directory: give --datadir DIR or set {DATADIR_ENV}")
    return path


def is_tuid(text: Any) -> bool:
    """True for a quantify-core tuid with a real date and time: ``20261130-141203-512-a1b2c3``."""
    if not isinstance(text, str) or not _TUID.fullmatch(text):
        return False
    try:
        tuid_time(text)
    except ValueError:
        return False
    return True


def tuid_time(tuid: str) -> dt.datetime:
    """The local time a tuid was made (milliseconds included)."""
    return dt.datetime.strptime(tuid[:19], "%Y%m%d-%H%M%S-%f")


def safe_name(name: Any) -> str:
    """The ``<name>`` part of a run's folder: letters, digits, ``._-`` only, never empty, never hidden."""
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name or "")).strip("._-")[:MAX_NAME].rstrip("._-")
    return text or "run"


def run_folder(datadir: str | os.PathLike[str], tuid: str, name: Any) -> Path:
    """Where a run with this tuid and job name is kept: ``<datadir>/<YYYYMMDD>/<tuid>-<name>``."""
    if not is_tuid(tuid):
        raise DatadirError(f"not a tuid: {str(tuid)[:40]!r} (expected e.g. 20261130-141203-512-a1b2c3)")
    return Path(datadir) / tuid[:8] / f"{tuid}-{safe_name(name)}"


def save(result: Result, datadir: str | os.PathLike[str] | None = None, *,
         cancel: threading.Event | None = None) -> Path:
    """Keep ``result`` in the data directory: its output folder, with the dataset as ``dataset.hdf5``.

    The folder is written completely under ``<datadir>/.incoming/`` (which no listing reads, neither
    ours nor quantify-core's) and then renamed into its day folder, so a reader never sees half a
    run. A run already kept there (same tuid) is never overwritten.
    """
    from workbench.results.exports import write_folder

    root = required(datadir)
    target = run_folder(root, result.tuid, result.dataset.attrs.get("name", ""))
    if find(result.tuid, root, missing_ok=True) is not None:
        raise OutputError(f"run {result.tuid} is already in the data directory", None, str(root))
    try:
        root.mkdir(parents=True, exist_ok=True)
        (root / _STAGING).mkdir(exist_ok=True)
        target.parent.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the data directory ({exc.strerror or exc})", None, str(root)) from None
    staging = Path(tempfile.mkdtemp(prefix=f"{result.tuid}.", dir=root / _STAGING))
    try:
        written = write_folder(result, staging / target.name, dataset_name=DATASET_FILE, cancel=cancel)
        if target.exists() or target.is_symlink():
            raise OutputError("exists; results are never overwritten", None, str(target))
        os.rename(written, target)
    except OSError as exc:
        raise OutputError(f"cannot write the run ({exc.strerror or exc})", None, str(target)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _children(folder: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            yield from sorted(entries, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return


def _run_dirs(root: Path, first_day: str = "") -> Iterator[tuple[str, Path]]:
    """(tuid, folder) of every run, oldest first; only real folders whose names have the tuid's shape."""
    for day in _children(root):
        if not (_DAY.fullmatch(day.name) and day.name >= first_day and day.is_dir(follow_symlinks=False)):
            continue
        for run in _children(Path(day.path)):
            tuid = run.name[:26]
            if (run.name[26:27] in ("", "-") and tuid[:8] == day.name and is_tuid(tuid)
                    and run.is_dir(follow_symlinks=False)):
                yield tuid, Path(run.path)


def find(tuid: str, datadir: str | os.PathLike[str] | None = None, *, missing_ok: bool = False) -> Path | None:
    """The folder of the run with this tuid (its day folder is the only one looked in)."""
    root = required(datadir)
    if not is_tuid(tuid):
        raise DatadirError(f"not a tuid: {str(tuid)[:40]!r} (expected e.g. 20261130-141203-512-a1b2c3)")
    day = root / tuid[:8]
    if not day.is_symlink():
        for entry in _children(day):
            if (entry.name == tuid or entry.name.startswith(tuid + "-")) and entry.is_dir(follow_symlinks=False):
                return Path(entry.path)
    if missing_ok:
        return None
    raise DatadirError(f"no run {tuid} in the data directory", None, str(root))


@dataclass(frozen=True)
class Entry:
    """One run in a data directory, as listed (from its folder name and ``result-trace.json``).

    Fields the trace does not give (a quantify-core run of another tool, a damaged trace) are empty.
    """

    tuid: str
    name: str
    folder: Path
    device: str = ""
    executor: str = ""
    kind: str = ""
    experiments: int | None = None
    shots: int | None = None

    @property
    def time(self) -> dt.datetime:
        return tuid_time(self.tuid)

    def as_dict(self) -> dict[str, Any]:
        return {"tuid": self.tuid, "name": self.name, "device": self.device, "executor": self.executor,
                "kind": self.kind, "experiments": self.experiments, "shots": self.shots, "folder": str(self.folder)}


def _read_trace(folder: Path) -> dict[str, Any]:
    path = folder / TRACE_FILE
    try:
        if path.is_symlink():
            return {}
        with path.open("rb") as stream:
            raw = stream.read(MAX_TRACE_BYTES + 1)
        if len(raw) > MAX_TRACE_BYTES:
            return {}
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: Any) -> str:
    return " ".join(value.split())[:80] if isinstance(value, str) else ""


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _entry(tuid: str, folder: Path) -> Entry:
    trace = _read_trace(folder)
    name = _text(trace.get("jobName")) or folder.name[27:]
    return Entry(tuid, name, folder, _text(trace.get("device")), _text(trace.get("executor")),
                 _text(trace.get("jobKind")), _count(trace.get("experiments")), _count(trace.get("shots")))


def entries(datadir: str | os.PathLike[str] | None = None, *, device: str | None = None,
            since: dt.datetime | None = None, contains: str = "", newest: int | None = None) -> list[Entry]:
    """The runs in the data directory, oldest first: optionally only those on ``device``, made at or
    after ``since``, or whose folder name contains ``contains`` (as quantify-core's
    ``get_tuids_containing``); ``newest``: only the last that many (only their traces are read)."""
    root = required(datadir)
    if not root.is_dir():
        raise DatadirError("the data directory does not exist", None, str(root))
    first_day = f"{since:%Y%m%d}" if since is not None else ""
    candidates = [(tuid, folder) for tuid, folder in _run_dirs(root, first_day)
                  if (not contains or contains in folder.name) and (since is None or tuid_time(tuid) >= since)]
    if newest is not None:
        candidates.reverse()
    found = []
    for tuid, folder in candidates:
        if newest is not None and len(found) >= newest:
            break
        entry = _entry(tuid, folder)
        if device is None or entry.device == device:
            found.append(entry)
    return found[::-1] if newest is not None else found


def parse_since(text: str) -> dt.datetime:
    """``--since``: a date (``2026-11-30``, ``20261130``), a date and time (``2026-11-30T14:00``) or a tuid."""
    value = text.strip()
    if is_tuid(value):
        return tuid_time(value)
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise InputError(f"expected a date such as 2026-11-30, a date and time such as 2026-11-30T14:00, "
                         f"or a tuid; got {text[:40]!r}", "--since") from None


def locate(source: str | os.PathLike[str], datadir: str | os.PathLike[str] | None = None) -> Path:
    """What ``workbench.load_result(source)`` reads: an existing path wins; else a tuid in the data directory."""
    path = Path(os.fspath(source)).expanduser()
    if path.exists() or not is_tuid(os.fspath(source)):
        return path
    folder = find(os.fspath(source), datadir)
    assert folder is not None
    return folder
