"""The output folder a colleague receives: QHAna circuit-executor files plus what reproduces the run.

=================================  =============================================================
``result-counts.json/.csv``        one entity per experiment: ``{"ID": name, "<bits>": n, ...}``
``result-distribution.json/.csv``  the same divided by shots; each entity sums to exactly 1
``result-statevector.json/.csv``   where the executor has a statevector (complex literals)
``result-trace.json``              provenance: job, device, executor, versions, timings, seed
``execution-options.json``         every effective option; pass it back with ``--options``
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
    return json.dumps(list(rows), indent=2) + "\n"


def entities_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    columns: list[str] = ["ID"]
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval=0, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def count_entities(result: Result) -> list[dict[str, Any]]:
    return [{"ID": name, **counts} for name, counts in zip(result.experiment_names, result.counts_list(),
                                                           strict=True)]


def distribution_entities(result: Result) -> list[dict[str, Any]]:
    return [{"ID": name, **distribution(counts)}
            for name, counts in zip(result.experiment_names, result.counts_list(), strict=True)]


def statevector_entities(result: Result) -> list[dict[str, Any]] | None:
    vectors = result.statevectors()
    if vectors is None:
        return None
    rows = []
    for name, vector in zip(result.experiment_names, vectors, strict=True):
        width = max(1, (len(vector) - 1).bit_length())
        row: dict[str, Any] = {"ID": name}
        row.update({format(i, f"0{width}b"): repr(complex(v)) for i, v in enumerate(vector)})
        rows.append(row)
    return rows


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


def write_folder(result: Result, folder: str | os.PathLike[str], *, dataset_name: str = "dataset.nc") -> Path:
    """Write every output file for ``result`` into ``folder`` (new or empty), atomically.

    ``dataset_name``: a data directory keeps the Dataset under quantify-core's name, ``dataset.hdf5``
    (:mod:`workbench.results.datadir`); the file is the same."""
    with staged_folder(folder) as staging:
        _write_files(result, staging, dataset_name)
    return Path(folder)


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
    _write_text(folder / "result-trace.json", json.dumps(result.trace, indent=2) + "\n")
    _write_text(folder / "execution-options.json", json.dumps(result.options, indent=2) + "\n")
    result.save(folder / dataset_name)
    job_file = result.dataset.attrs.get("job_filename") or "job.json"
    _write_text(folder / Path(job_file).name, _readable_job(job_file, result.dataset.attrs.get("job_source", "")))
    device_config = result.device_config
    if device_config:
        import yaml

        _write_text(folder / "device-config.yml",
                    yaml.safe_dump({"devices": [device_config]}, sort_keys=False))
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
