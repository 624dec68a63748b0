"""The output folder a colleague receives: QHAna circuit-executor files plus what reproduces the run.

The QHAna files follow :mod:`workbench.results.qhana`: one object per file for one experiment (a list
for several), one run ``ID`` shared by every file, written with ``json.dumps`` as QHAna writes them.

=================================  =============================================================
``result-counts.json/.csv``        one entity per experiment: ``{"<bits>": n, ..., "ID": run id}``
``result-distribution.json/.csv``  the same divided by shots; each entity sums to exactly 1
``result-statevector.json/.csv``   where the executor has a statevector (complex literals)
``result-trace.json``              provenance: job, device, executor, versions, timings, seed
``execution-options.json``         every effective option; pass it back with ``--options``
``tergite-result.json``            the job document Tergite's backend returns (``result.memory``)
``dataset.nc``                     the full xarray Dataset (NetCDF-4)
``job.json`` / ``circuit.qasm``    the job exactly as given
``device-config.yml``              the device and calibrations used (``--config`` reproduces)
``compiled/``                      executor artefacts (e.g. Qblox Q1ASM programs)
=================================  =============================================================

The folder is written under a temporary name beside the target and renamed into place at the
end, so a failure never leaves a half-written folder, and an existing non-empty folder is never
touched.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import CancelledError, OutputError
from workbench.results.counts import distribution
from workbench.results.qhana import entity_ids, shaped, statevector_entity
from workbench.results.tergite import tergite_json

if TYPE_CHECKING:
    from workbench.results.result import Result

log = logging.getLogger(__name__)


def check_output_folder(folder: str | os.PathLike[str]) -> Path:
    """Refuse, before anything runs, a folder that cannot become the output: an existing non-empty folder or
    a file, a link to nothing, a place whose nearest existing folder cannot be written (checked by
    creating and removing a folder there, which also holds for root and read-only file systems)."""
    path = Path(folder)
    if path.is_symlink() and not path.exists():
        raise OutputError(f"is a link to nothing ({os.readlink(path)}); remove it or choose another --out", None,
                          str(path))
    if path.exists():
        if not path.is_dir():
            raise OutputError("exists and is not a folder", None, str(path))
        if any(path.iterdir()):
            raise OutputError("folder exists and is not empty; choose another --out (results are never "
                              "overwritten)", None, str(path))
    _check_writable(path)
    return path


def _check_writable(path: Path) -> None:
    """The nearest existing folder above ``path`` must be a folder we can create folders in."""
    try:
        ancestor = path.resolve().parent
    except (OSError, RuntimeError) as exc:  # a loop of links
        raise OutputError(f"cannot be resolved ({exc})", None, str(path)) from None
    while not ancestor.exists() and not ancestor.is_symlink() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        what = "a link to nothing" if ancestor.is_symlink() else "not a folder"
        raise OutputError(f"cannot be created: {ancestor} is {what}", None, str(path))
    try:
        probe = tempfile.mkdtemp(prefix=".workbench-probe-", dir=ancestor)
        os.rmdir(probe)
    except OSError as exc:
        where = "parent folder" if ancestor == path.resolve().parent else f"folder {ancestor}"
        raise OutputError(f"{where} is not writable ({exc.strerror or exc})", None, str(path)) from None


def entities_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """Entities as QHAna's executors write them (``json.dump``): one object for one entity, else a list."""
    return json.dumps(shaped([dict(r) for r in rows]))


def entities_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Entities in QHAna's CSV dialect: ``ID`` first, every cell quoted, CRLF line ends.

    Linear in the number of cells: a 24-qubit run has a million outcome columns, and collecting them
    in a list (``k not in columns``) took hours. Text cells that a spreadsheet would run as a formula
    are neutralised (:func:`csv_cell`).
    """
    columns: dict[str, None] = {"ID": None}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([csv_cell(c) for c in columns])
    for row in rows:
        cells = [row.get(c, 0) for c in columns]
        writer.writerow([csv_cell(v) if v.__class__ is str else v for v in cells])  # most cells are numbers
    return buffer.getvalue()


#: First characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell as written to CSV: text starting like a formula gets a leading ``'`` (shown, never run, by
    Excel, LibreOffice and Google Sheets); numbers stay numbers. Experiment names and option values come
    from job files written by others, and a colleague opens the CSV in a spreadsheet."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _entity_ids(result: Result) -> list[str]:
    return entity_ids(result.run_id, result.experiment_names)


def count_entities(result: Result, counts_list: list[dict[str, int]] | None = None) -> list[dict[str, Any]]:
    """``{"<bits>": n, ..., "ID": ...}`` per experiment: the ID last, as QHAna writes counts.
    ``counts_list``: ``result.counts_list()`` when the caller has it already."""
    counts_list = result.counts_list() if counts_list is None else counts_list
    return [{**counts, "ID": entity_id} for entity_id, counts in zip(_entity_ids(result), counts_list, strict=True)]


def distribution_entities(result: Result, counts_list: list[dict[str, int]] | None = None) -> list[dict[str, Any]]:
    counts_list = result.counts_list() if counts_list is None else counts_list
    return [{**distribution(counts), "ID": entity_id}
            for entity_id, counts in zip(_entity_ids(result), counts_list, strict=True)]


def statevector_entities(result: Result) -> list[dict[str, Any]] | None:
    vectors = result.statevectors()
    if vectors is None:
        return None
    return [statevector_entity(entity_id, vector)
            for entity_id, vector in zip(_entity_ids(result), vectors, strict=True)]


STAGING_SUFFIX = ".partial"
STAGING_OWNER = ".workbench-staging"  # inside a staging folder: which process on which machine writes it
_STAGING = re.compile(r"^\..+\.[0-9a-f]{12}\.partial$")


@contextmanager
def staged_folder(folder: str | os.PathLike[str], cancel: threading.Event | None = None) -> Iterator[Path]:
    """A temporary folder beside ``folder`` (new or empty) that becomes it when the block succeeds.

    Whatever goes wrong inside the block (an error, Ctrl-C, SIGTERM in the CLI), the staging folder is
    removed and ``folder`` is untouched: no half-written output, never an overwritten one. A process
    killed outright (SIGKILL, power) leaves its staging folder; the next staging in the same folder
    removes it (:func:`remove_stale_staging`). The output folder gets the permissions any new folder
    gets (``0777`` minus the umask), not the private ones of a temporary folder.

    ``cancel`` is looked at once more just before the folder is committed: a Ctrl-C or SIGTERM whose
    exception got lost on its way (signal handlers' exceptions can be swallowed inside C code) still
    leaves nothing behind (:class:`~workbench.errors.CancelledError`).
    """
    target = check_output_folder(folder)
    if target.is_symlink():  # a link to an empty folder: the output goes where it points
        target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(target.parent)
    staging = _new_staging(target)
    try:
        yield staging
        if cancel is not None and cancel.is_set():
            raise CancelledError("stopped before the results were kept")
        (staging / STAGING_OWNER).unlink(missing_ok=True)
        if target.exists():
            target.rmdir()  # empty (checked above); rename cannot replace it on every platform
        os.rename(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write results ({exc.strerror or exc})", None, str(target)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _new_staging(target: Path) -> Path:
    """``.<name>.<12 hex>.partial`` beside ``target``, made by ``mkdir`` (so the umask applies), with a note
    saying who writes it."""
    for _ in range(100):
        staging = target.parent / f".{target.name}.{secrets.token_hex(6)}{STAGING_SUFFIX}"
        try:
            staging.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot write results ({exc.strerror or exc})", None, str(target)) from None
        (staging / STAGING_OWNER).write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}),
                                             encoding="utf-8")
        return staging
    raise OutputError("cannot find a free name for a staging folder", None, str(target))  # pragma: no cover


def remove_stale_staging(parent: str | os.PathLike[str]) -> list[Path]:
    """Remove the staging folders in ``parent`` that a killed run of this machine left behind.

    A staging folder is stale when its note names this machine and a process that no longer runs;
    folders of live processes, of other machines (a shared file system) and anything that is not a
    workbench staging folder are left alone. Returns what was removed.
    """
    removed = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    host = socket.gethostname()
    for entry in entries:
        if not _STAGING.match(entry.name) or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            owner = json.loads((entry / STAGING_OWNER).read_text(encoding="utf-8"))
            pid = int(owner["pid"])
            if owner["host"] != host or _alive(pid):
                continue
        except (OSError, ValueError, KeyError, TypeError):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        log.info("removed %s, left behind by a run that was killed (process %d)", entry, pid)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def write_folder(result: Result, folder: str | os.PathLike[str], *, report: bool = True,
                 dataset_name: str = "dataset.nc", cancel: threading.Event | None = None) -> Path:
    """Write every output file for ``result`` into ``folder`` (new or empty), atomically.

    ``dataset_name``: a data directory keeps the Dataset under quantify-core's name, ``dataset.hdf5``
    (:mod:`workbench.results.datadir`); the file is the same."""
    with staged_folder(folder, cancel) as staging:
        _write_files(result, staging, dataset_name)
        write_added_files(result, staging, report=report)
    return Path(folder)


def write_added_files(result: Result, folder: Path, *, report: bool = True) -> None:
    """``analysis.json`` when the result holds an analysis, then the files other layers add to every
    output folder (:mod:`workbench.output_files`: ``report.html``; skipped with ``report=False``)."""
    from workbench import output_files
    from workbench.analysis.base import as_json

    analysis = result.analysis
    if analysis is not None:
        _write_text(folder / "analysis.json", as_json(analysis))
    if report:
        for name, writer in output_files.writers():
            writer(result, folder / name)


def _readable_job(filename: str, text: str) -> str:
    """The job text as given, except that one-line JSON (jobs given as mappings) is laid out: indented
    whole when small, with one experiment (one item of any list of objects) per line when large."""
    if filename.endswith(".json") and text and "\n" not in text.strip():
        try:
            document = json.loads(text)
            return (json.dumps(document, indent=2) if len(text) <= 32_768 else _laid_out(document)) + "\n"
        except ValueError:
            return text
    return text


def _holds_objects(value: Any, depth: int = 0) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, dict) for v in value)
    return isinstance(value, dict) and depth < 4 and any(_holds_objects(v, depth + 1) for v in value.values())


def _laid_out(value: Any, depth: int = 0) -> str:
    """Indented down to the lists of objects (experiments, pulse library), whose items take one line each,
    written by the C encoder: ``json.dumps(indent=2)`` runs Python's own encoder over every number."""
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict) and _holds_objects(value, depth):
        members = (f"{inner}{json.dumps(k)}: {_laid_out(v, depth + 1)}" for k, v in value.items())
        return "{\n" + ",\n".join(members) + f"\n{pad}}}"
    if isinstance(value, list) and _holds_objects(value):
        return "[\n" + ",\n".join(inner + json.dumps(v) for v in value) + f"\n{pad}]"
    return json.dumps(value)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _write_files(result: Result, folder: Path, dataset_name: str = "dataset.nc") -> None:
    result = result.with_run_id()
    if result.has_counts:
        counts_list = result.counts_list()
        counts = count_entities(result, counts_list)
        _write_text(folder / "result-counts.json", entities_json(counts))
        _write_text(folder / "result-counts.csv", entities_csv(counts))
        dist = distribution_entities(result, counts_list)
        _write_text(folder / "result-distribution.json", entities_json(dist))
        _write_text(folder / "result-distribution.csv", entities_csv(dist))
    vectors = statevector_entities(result)
    if vectors is not None:
        _write_text(folder / "result-statevector.json", entities_json(vectors))
        _write_text(folder / "result-statevector.csv", entities_csv(vectors))
    _write_text(folder / "result-trace.json", json.dumps(result.trace))
    _write_text(folder / "execution-options.json", json.dumps(result.options))
    tergite = tergite_json(result)
    if tergite is not None:
        _write_text(folder / "tergite-result.json", tergite)
    result.save(folder / dataset_name)
    job_file = job_copy_name(result.dataset.attrs.get("job_filename"))
    _write_text(folder / job_file, _readable_job(job_file, str(result.dataset.attrs.get("job_source", ""))))
    device_config = result.device_config
    if device_config:
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when available: same text, 5x faster
        _write_text(folder / "device-config.yml",
                    yaml.dump({"devices": [device_config]}, Dumper=dumper, sort_keys=False))
    artifacts = result.artifacts
    if artifacts:
        compiled = folder / "compiled"
        for name, text in artifacts.items():
            path = _artifact_path(compiled, name)
            if path is None or not isinstance(text, str):
                log.warning("compiled artefact %r not written: not text under a plain relative file name", name)
                continue
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_text(path, text)
            except (FileExistsError, NotADirectoryError, IsADirectoryError):  # "a" and "a/b"
                log.warning("compiled artefact %r not written: its name clashes with another's", name)


#: The names the job's copy may have in an output folder, one per kind of job (``Job.source_filename``).
JOB_COPY_NAMES = ("job.json", "circuit.qasm", "program.qasm")


def job_copy_name(stored: Any) -> str:
    """The file name of the job's copy in an output folder. The Dataset's ``job_filename`` says which kind of
    job it was, but a Dataset may come from someone else's ``dataset.nc``: a stored name never chooses the
    file (``dataset.nc`` would overwrite the Dataset), it only picks one of :data:`JOB_COPY_NAMES`."""
    name = str(stored or "")
    if name in JOB_COPY_NAMES:
        return name
    return "circuit.qasm" if name.lower().endswith(".qasm") else "job.json"


def _artifact_path(compiled: Path, name: Any) -> Path | None:
    """Where a compiled artefact goes inside ``compiled``, or None for a name that could leave it or clash
    (absolute, ``..``, empty parts, NUL, a name that is not text: artefact names of an imported Dataset
    are someone else's)."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        return None
    parts = Path(name).parts
    if Path(name).is_absolute() or any(p in ("", ".", "..") for p in parts) or name.endswith("/"):
        return None
    return compiled.joinpath(*parts)


def write_new_text(path: str | os.PathLike[str], text: str | Sequence[str | bytes], what: str = "file") -> Path:
    """Write a new file and never replace one: written under a temporary name, then linked into place.

    ``text`` may come in pieces, ``bytes`` among them already UTF-8 (a report's 4.8 MB of plotly.js is
    encoded once per process, not once per report)."""
    out = Path(path)
    exists = OutputError("exists; choose another file name (files are never overwritten)", None, str(out))
    if out.exists() or out.is_symlink():
        raise exists
    if not out.parent.is_dir():
        raise OutputError("parent folder does not exist", None, str(out))
    temporary: Path | None = None
    try:
        handle, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        temporary = Path(name)
        with os.fdopen(handle, "wb") as stream:
            for piece in [text] if isinstance(text, str) else text:
                stream.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
        os.chmod(temporary, new_file_mode())  # mkstemp makes the file private; give it what open() would
        try:
            os.link(temporary, out)  # atomic, and fails if the file appeared meanwhile
        except FileExistsError:
            raise exists from None
        except OSError:  # a file system without hard links
            if out.exists():
                raise exists from None
            os.replace(temporary, out)
    except OSError as exc:
        raise OutputError(f"cannot write the {what} ({exc.strerror or exc})", None, str(out)) from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    return out


def new_file_mode() -> int:
    """The permissions ``open()`` gives a new file: ``0666`` minus the umask.

    Read from ``/proc/self/status`` where it can be: setting the umask to read it back changes it for a
    moment for every thread of the process, which may be creating files meanwhile.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o077)
    os.umask(umask)
    return 0o666 & ~umask
