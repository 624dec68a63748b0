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
``dataset.nc``                     the full xarray Dataset (NetCDF, h5netcdf)
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
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import OutputError
from workbench.results.counts import distribution
from workbench.results.qhana import entity_ids, shaped, statevector_entity
from workbench.results.tergite import tergite_result

if TYPE_CHECKING:
    from workbench.results.result import Result


def check_output_folder(folder: str | os.PathLike[str]) -> Path:
    """Refuse an existing non-empty folder or a file before anything runs."""
    path = Path(folder)
    if path.exists():
        if not path.is_dir():
            raise OutputError("exists and is not a folder", None, str(path))
        if any(path.iterdir()):
            raise OutputError("folder exists and is not empty; choose another --out (results are never "
                              "overwritten)", None, str(path))
    parent = path.resolve().parent
    if parent.exists() and not os.access(parent, os.W_OK):
        raise OutputError("parent folder is not writable", None, str(path))
    return path


def entities_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """Entities as QHAna's executors write them (``json.dump``): one object for one entity, else a list."""
    return json.dumps(shaped([dict(r) for r in rows]))


def entities_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Entities in QHAna's CSV dialect: ``ID`` first, every cell quoted, CRLF line ends."""
    columns: list[str] = ["ID"]
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval=0, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _entity_ids(result: Result) -> list[str]:
    return entity_ids(result.run_id, result.experiment_names)


def count_entities(result: Result) -> list[dict[str, Any]]:
    """``{"<bits>": n, ..., "ID": ...}`` per experiment: the ID last, as QHAna writes counts."""
    return [{**counts, "ID": entity_id}
            for entity_id, counts in zip(_entity_ids(result), result.counts_list(), strict=True)]


def distribution_entities(result: Result) -> list[dict[str, Any]]:
    return [{**distribution(counts), "ID": entity_id}
            for entity_id, counts in zip(_entity_ids(result), result.counts_list(), strict=True)]


def statevector_entities(result: Result) -> list[dict[str, Any]] | None:
    vectors = result.statevectors()
    if vectors is None:
        return None
    return [statevector_entity(entity_id, vector)
            for entity_id, vector in zip(_entity_ids(result), vectors, strict=True)]


@contextmanager
def staged_folder(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary folder beside ``folder`` (new or empty) that becomes it when the block succeeds.

    Whatever goes wrong inside the block, the staging folder is removed and ``folder`` is untouched:
    no half-written output, never an overwritten one.
    """
    target = check_output_folder(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        yield staging
        if target.exists():
            target.rmdir()  # empty (checked above); rename cannot replace it on every platform
        os.rename(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write results ({exc.strerror or exc})", None, str(target)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_folder(result: Result, folder: str | os.PathLike[str], *, report: bool = True,
                 dataset_name: str = "dataset.nc") -> Path:
    """Write every output file for ``result`` into ``folder`` (new or empty), atomically.

    ``dataset_name``: a data directory keeps the Dataset under quantify-core's name, ``dataset.hdf5``
    (:mod:`workbench.results.datadir`); the file is the same."""
    with staged_folder(folder) as staging:
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
    """The job text as given, except that one-line JSON (jobs given as mappings) is indented."""
    if filename.endswith(".json") and text and "\n" not in text.strip():
        try:
            return json.dumps(json.loads(text), indent=2) + "\n"
        except ValueError:
            return text
    return text


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _write_files(result: Result, folder: Path, dataset_name: str = "dataset.nc") -> None:
    result = result.with_run_id()
    if result.has_counts:
        counts = count_entities(result)
        _write_text(folder / "result-counts.json", entities_json(counts))
        _write_text(folder / "result-counts.csv", entities_csv(counts))
        dist = distribution_entities(result)
        _write_text(folder / "result-distribution.json", entities_json(dist))
        _write_text(folder / "result-distribution.csv", entities_csv(dist))
    vectors = statevector_entities(result)
    if vectors is not None:
        _write_text(folder / "result-statevector.json", entities_json(vectors))
        _write_text(folder / "result-statevector.csv", entities_csv(vectors))
    _write_text(folder / "result-trace.json", json.dumps(result.trace))
    _write_text(folder / "execution-options.json", json.dumps(result.options))
    memory = tergite_result(result)
    if memory is not None:
        _write_text(folder / "tergite-result.json", json.dumps(memory))
    result.save(folder / dataset_name)
    job_file = result.dataset.attrs.get("job_filename") or "job.json"
    _write_text(folder / Path(job_file).name, _readable_job(job_file, result.dataset.attrs.get("job_source", "")))
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
            if Path(name).is_absolute() or ".." in Path(name).parts:
                continue  # artefact names come from executors; never let one escape the folder
            path = compiled / name
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_text(path, text)


def write_new_text(path: str | os.PathLike[str], text: str, what: str = "file") -> Path:
    """Write a new file and never replace one: written under a temporary name, then linked into place."""
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
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        umask = os.umask(0)  # mkstemp makes the file private; give it the permissions open() would
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
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
