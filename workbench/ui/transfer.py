"""Moving results between colleagues: export a result as its output folder (plus ``report.html`` and
optionally a zip of it) and load such a folder, zip or ``dataset.nc`` back.

A zip comes from someone else, so it is unpacked with the same care as any untrusted archive: no
absolute paths, no ``..``, no links, bounded size; only the result files are read from it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import InputError, OutputError
from workbench.results.exports import check_output_folder, new_file_mode
from workbench.results.result import DATASET_FILES, Result

log = logging.getLogger("workbench.ui")

MAX_UNPACKED_BYTES = 2 * 1024**3  # a zip bomb must not fill the disk before anything is read
MAX_LINK_BYTES = 20 * 1024**2  # a zip offered as a data: link lives in the page; larger ones stay on disk
REPORT_NAME = "report.html"


@dataclass(frozen=True)
class ExportedFiles:
    """Where an export went (``report``/``archive`` are None when not written)."""

    folder: Path
    report: Path | None
    archive: Path | None

    def describe(self) -> str:
        parts = [f"results written to {self.folder}"]
        if self.report is not None:
            parts.append(f"report {self.report.name}")
        if self.archive is not None:
            parts.append(f"zip {self.archive}")
        return "; ".join(parts)


def archive_path(folder: str | os.PathLike[str]) -> Path:
    """The zip written beside an exported folder: ``results/abc`` -> ``results/abc.zip``."""
    path = Path(folder)
    return path.with_name(path.name + ".zip")


def export_result(result: Result, folder: str | os.PathLike[str], *, report: bool = True,
                  archive: bool = False) -> ExportedFiles:
    """Write the standard output folder, ``report.html`` in it, and optionally ``<folder>.zip``.

    Everything that could refuse (a non-empty folder, an existing zip) is checked before anything
    is written, so a refused export leaves no trace.
    """
    target = Path(folder)
    if target.is_dir() and any(target.iterdir()):  # the CLI's check says '--out'; the widget's user typed a folder
        raise OutputError("folder exists and is not empty; type another folder (results are never overwritten)",
                          None, str(target))
    target = check_output_folder(target)
    zip_target = archive_path(target) if archive else None
    if zip_target is not None and (zip_target.exists() or zip_target.is_symlink()):
        raise OutputError("exists; results are never overwritten", None, str(zip_target))
    written = result.export(target, report=report)  # report.html is part of every output folder
    report_path = written / REPORT_NAME if report else None
    if zip_target is not None:
        _write_zip(written, zip_target)
    log.info("exported %s to %s", result.tuid, written)
    return ExportedFiles(written, report_path, zip_target)


def download_href(archive: str | os.PathLike[str], max_bytes: int = MAX_LINK_BYTES) -> str | None:
    """The zip as a ``data:`` URL for a download link, None when it is larger than ``max_bytes``.

    The browser showing the workbench may be on another machine than the kernel that wrote the zip, so
    a path means nothing to it: the link carries the file itself (Chromium and Firefox download data
    URLs of tens of MB). Bigger zips are not put into the page."""
    import base64

    path = Path(archive)
    with path.open("rb") as stream:
        content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        return None
    return "data:application/zip;base64," + base64.b64encode(content).decode("ascii")


def _write_zip(folder: Path, target: Path) -> None:
    """Zip ``folder`` (entries under its name) through a temporary file linked into place."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(name)
    os.chmod(temporary, new_file_mode())  # mkstemp makes the file private; give it what open() would
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, Path(folder.name) / path.relative_to(folder))
        try:
            os.link(temporary, target)  # fails if the zip appeared meanwhile: never overwrite
        except FileExistsError:
            raise OutputError("exists; results are never overwritten", None, str(target)) from None
        except OSError:
            if target.exists():
                raise OutputError("exists; results are never overwritten", None, str(target)) from None
            os.replace(temporary, target)
    except OSError as exc:
        raise OutputError(f"cannot write the zip ({exc.strerror or exc})", None, str(target)) from None
    finally:
        temporary.unlink(missing_ok=True)


def load_result(path: str | os.PathLike[str]) -> Result:
    """A result from an output folder, a ``dataset.nc`` file or a zip of an output folder."""
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", None, str(p))
    if p.is_file() and zipfile.is_zipfile(p):
        return _load_zip(p)
    return Result.load(p)


def load_result_bytes(filename: str, content: bytes) -> Result:
    """A result from an uploaded file (a zip of an output folder, or a ``dataset.nc``)."""
    suffix = Path(filename).suffix.lower() or ".bin"
    with tempfile.TemporaryDirectory(prefix="workbench-upload-") as tmp:
        file = Path(tmp) / f"upload{suffix}"
        file.write_bytes(content)
        try:
            return load_result(file)
        except InputError as exc:
            raise InputError(exc.message, exc.location, filename) from None


def _load_zip(path: Path) -> Result:
    """The result in a zip of an output folder. Every way a zip can be broken (truncated, a bad CRC, an
    unknown compression, encryption) is one :class:`InputError`; the dataset is bounded as any other."""
    try:
        return _read_zip(path)
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError,
            OSError, ValueError) as exc:
        text = " ".join(str(exc).split())[:200]
        raise InputError(f"cannot read the zip ({type(exc).__name__}: {text})", None, str(path)) from None


def _read_zip(path: Path) -> Result:
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        datasets = [m for m in members if Path(m.filename).name in DATASET_FILES]
        if len(datasets) != 1:
            found = "no dataset.nc" if not datasets else f"{len(datasets)} dataset.nc files"
            raise InputError(f"{found} in the zip (expected one exported output folder)", None, str(path))
        if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
            raise InputError("the zip unpacks to more than 2 GiB", None, str(path))
        member = datasets[0]
        parts = Path(member.filename).parts
        link = (member.external_attr >> 16) & 0o170000 == 0o120000
        if member.filename.startswith(("/", "\\")) or ".." in parts or link:
            raise InputError(f"unsafe path in the zip: {member.filename!r}", None, str(path))
        with tempfile.TemporaryDirectory(prefix="workbench-import-") as tmp:
            target = Path(tmp) / "dataset.nc"
            with archive.open(member) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            try:
                return Result.load(target)  # loaded fully into memory: the folder can go
            except InputError as exc:
                raise InputError(exc.message, member.filename, str(path)) from None
