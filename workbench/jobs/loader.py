"""``load_job``: one entry point for every way a job reaches the workbench.

A job arrives as a file path, as text pasted into a widget or posted to a plugin, as a mapping built
in a notebook, or already loaded. Whatever the form, the job keeps its exact text (``Job.source``)
so that an output folder holds the input that produced it, and every error is a
:class:`~workbench.errors.JobError` that names the file and the place in it.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from workbench import budgets
from workbench.errors import JobError
from workbench.jobs.base import Job
from workbench.jobs.pulse_job import PulseJob

JobSource = Job | str | os.PathLike[str] | Mapping[str, Any]
SourceKind = Literal["json", "qasm", "openpulse", "path", "example", "example-file"]

# Comments and blank space that may precede the OPENQASM header of a circuit.
_QASM_PREAMBLE = re.compile(r"\A(?:\s+|//[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
# What makes OpenQASM 3 text a pulse program: the OpenPulse grammar, a cal block or a defcal.
_OPENPULSE = re.compile(r'\bdefcalgrammar\s+"openpulse"|(?<![\w$])(?:cal\s*\{|defcal\b)')
_BOM = "\ufeff"


def source_kind(text: str, *, pasted: bool = False) -> SourceKind:
    """What a job given as a string is: the one rule the API, the CLI and the widgets share.

    * ``json``: it starts with ``{`` or ``[`` (after a byte-order mark and blank space);
    * ``qasm``: it starts with an ``OPENQASM`` header (after comments), or it is ``pasted`` text that is
      not JSON (typed into a widget: never a file name; the QASM parser then explains what is missing);
    * ``openpulse``: what would be ``qasm`` (or text of several lines without a header) but holds
      ``defcalgrammar "openpulse"``, a ``cal {`` block or a ``defcal`` outside comments: a pulse program
      (Qiskit's OpenQASM 3 reader refuses those), read by :class:`~workbench.jobs.openpulse_job.OpenPulseJob`;
    * ``path``: one line naming an existing file, or one line that is no built-in example either (the
      error then says the file does not exist);
    * ``example``: a built-in example name (``x-gate``, ``rabi``...) with no file of that name here;
    * ``example-file``: the name of a job file shipped with the package (``bell.qasm``, ``sweep.json``:
      :data:`workbench.examples.EXAMPLE_FILES`) with no file of that name here.

    A file wins over an example of the same name: a user who saved ``rabi`` or ``bell.qasm`` in the
    current folder means that file.
    """
    body = text.removeprefix(_BOM)
    if _is_json_text(body):
        return "json"
    if pasted or _looks_like_qasm(body) or ("\n" in body and is_openpulse(body)):
        return "openpulse" if is_openpulse(body) else "qasm"
    if _existing_path(text) is not None:
        return "path"
    from workbench.examples import EXAMPLE_FILES, EXAMPLES

    if text in EXAMPLES:
        return "example"
    if text in EXAMPLE_FILES:
        return "example-file"
    return "path"


def load_job(source: JobSource) -> Job:
    """A :class:`Job` from a path, JSON or OpenQASM text, a PulseQobj/envelope mapping, or a Job.

    Strings follow :func:`source_kind`; example names are not jobs yet (they are built for a device:
    :func:`workbench.core.prepare` does that) and are refused here with that hint.
    """
    if isinstance(source, Job):
        return source
    if isinstance(source, Mapping):
        return PulseJob.from_data(source, _dump(source))
    if isinstance(source, os.PathLike):
        return _load_file(Path(os.fspath(source)))
    if not isinstance(source, str):
        raise JobError(f"cannot load a job from {type(source).__name__}; give a path, JSON or OpenQASM text, "
                       "or a mapping")
    check_text_size(source)
    kind = source_kind(source)
    if kind == "json":
        return _load_text(source, None, None)
    if kind in ("qasm", "openpulse"):
        return load_qasm(source, None)
    if kind == "example-file":
        from workbench.examples import EXAMPLE_DIR

        return _load_file(EXAMPLE_DIR / source, origin=source)
    if kind == "example":
        raise JobError(f"'{source}' is a built-in example: it is built for a device, so give the device too "
                       "(workbench.run(name, device=...) or examples.build(name, device))")
    path = _existing_path(source)
    if path is not None:
        return _load_file(path)
    shown = source if len(source) <= 80 else source[:30] + "..." + source[-47:]  # a path's file name is at its end
    raise JobError(f"no such file: {shown!r} (and not JSON, OpenQASM or a built-in example either)")


def _existing_path(text: str) -> Path | None:
    if not text.strip() or "\n" in text or "\x00" in text:
        return None
    try:
        path = Path(text)
        return path if path.exists() else None
    except (OSError, ValueError):  # name too long, invalid characters: not a file we can open
        return None


def check_text_size(text: str, source: str | None = None) -> None:
    """Refuse job text beyond the ``max_job_mb`` budget before anything parses it."""
    limit = budgets.max_bytes()
    if len(text) > limit // 4 and len(text.encode("utf-8", errors="replace")) > limit:
        size = len(text.encode("utf-8", errors="replace"))
        budgets.check("max_job_mb", size / 2**20, None, source, detail=f"{size:,} bytes")


def read_bounded(path: Path, what: str = "job file", error: type[JobError] = JobError,
                 origin: str | None = None) -> bytes:
    """A regular file's bytes, refused before reading when it is a special file or over ``max_job_mb``.

    ``/dev/zero``, a FIFO or a terminal would otherwise be read until memory runs out; a 300 MB
    "job" would be parsed into gigabytes before being refused. At most the limit plus one byte is ever
    read, even if the file grows between the check and the read. ``origin``: the name errors give the
    file (default: the path).
    """
    origin = origin or str(path)
    limit = budgets.max_bytes()
    try:
        # stat before open: opening a FIFO would block until something writes to it
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise error(f"cannot read the {what} (it is a folder)", None, origin)
        if not stat.S_ISREG(mode):
            raise error(f"not a regular file; a {what} must be a regular file", None, origin)
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise error(f"not a regular file; a {what} must be a regular file", None, origin)
            if info.st_size > limit:
                budgets.check("max_job_mb", info.st_size / 2**20, None, origin, detail=f"{info.st_size:,} bytes")
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise error(f"no such file: {origin!r}") from None
    except OSError as exc:
        raise error(f"cannot read the {what} ({exc.strerror or exc})", None, origin) from None
    if len(raw) > limit:
        budgets.check("max_job_mb", len(raw) / 2**20, None, origin, detail="the file grew while being read")
    return raw


def _load_file(path: Path, origin: str | None = None) -> Job:
    """A job file; ``origin`` is the name errors give it (default: the path)."""
    origin = origin or str(path)
    raw = read_bounded(path, origin=origin)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        raise JobError(problem, None, origin) from None
    body = text.removeprefix(_BOM)
    # JSON whatever words its strings hold (a job named "defcal test" is still a PulseQobj), and not
    # searched for OpenPulse over megabytes
    if path.suffix.lower() == ".qasm" or (not _is_json_text(body) and (_looks_like_qasm(body) or is_openpulse(body))):
        return load_qasm(text, origin, include_dir=path.parent)
    return _load_text(text, origin, path.stem)


def _is_json_text(body: str) -> bool:
    """The rule of :func:`source_kind` for text (byte-order mark removed): JSON starts with ``{`` or ``[``."""
    return body.lstrip().startswith(("{", "["))


def _looks_like_qasm(text: str) -> bool:
    return text[_QASM_PREAMBLE.match(text).end():].startswith("OPENQASM")  # type: ignore[union-attr]


def is_openpulse(text: str) -> bool:
    """OpenQASM text is a pulse program when it selects the OpenPulse grammar or holds calibrations."""
    return _OPENPULSE.search(_COMMENTS.sub(" ", text)) is not None


def load_qasm(text: str, source: str | None = None, *, include_dir: Path | None = None) -> Job:
    """OpenQASM text -> a circuit job, or an OpenPulse job when :func:`is_openpulse`; errors name
    ``source`` (the file) and the line.

    ``include_dir`` is the folder of the file the text was read from, the only place a circuit's own
    ``include`` files are read from; text that was not read from a file here (pasted, posted, or a
    result's stored source, whatever name it carries) gets None and may include the standard
    libraries only.

    The job modules are imported here, not at the top: they are only needed for OpenQASM, and keep
    ``load_job`` on PulseQobj files free of qiskit and the OpenPulse parser.
    """
    check_text_size(text, source)
    if is_openpulse(text):
        from workbench.jobs.openpulse_job import OpenPulseJob

        return OpenPulseJob(text, source)
    from workbench.jobs.circuit_job import CircuitJob

    return CircuitJob(text, source, include_dir=include_dir)


def _reject_constant(name: str) -> Any:
    raise JobError(f"{name} is not valid JSON; numbers must be finite")


def _load_text(text: str, origin: str | None, name: str | None) -> Job:
    try:
        data = json.loads(text.removeprefix(_BOM), parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise JobError(f"not valid JSON: {exc.msg}", where, origin) from None
    except JobError as exc:
        raise JobError(exc.message, exc.location, origin) from None
    except RecursionError:
        raise JobError("not valid JSON: nested too deeply", None, origin) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise JobError(f"not valid JSON: {exc}", None, origin) from None
    return PulseJob.from_data(data, text, name, origin)


def _json_default(value: Any) -> Any:
    """Let mappings built in Python carry complex amplitudes and numpy values."""
    if isinstance(value, complex):
        return [value.real, value.imag]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dump(mapping: Mapping[str, Any]) -> str:
    try:
        # Compact on purpose: json's C encoder is only used without indent (10x faster on sweeps of
        # hundreds of experiments); the output folder indents it again for reading.
        text = json.dumps(mapping, separators=(",", ":"), default=_json_default, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise JobError(f"the job mapping cannot be written as JSON ({exc})") from None
    return text
