"""Files that layers further down the table add to every output folder (``report.html``).

The results layer writes output folders, atomically, under a temporary name. Some files in them are
made by layers it may not import: ``report.html`` is drawn by the views. Those layers register a
writer here, by file name; ``workbench.results.exports`` calls every registered writer inside the
staging folder, so the file is part of the folder (or the folder is not written at all). The
package's ``__init__`` registers the report, and Python runs it before any submodule, so no output
folder is ever written without it (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

#: ``writer(result, path)`` writes one file of an output folder at ``path`` (a new file).
Writer = Callable[[Any, Path], None]

_WRITERS: dict[str, Writer] = {}


def register(name: str, writer: Writer) -> None:
    """Add ``name`` (a plain file name) to every output folder, written by ``writer``."""
    if not name or Path(name).name != name:
        raise ValueError(f"an output file is a plain file name, got {name!r}")
    _WRITERS[name] = writer


def writers() -> list[tuple[str, Writer]]:
    """The registered files, in registration order."""
    return list(_WRITERS.items())
