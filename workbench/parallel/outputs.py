"""The output folder of a batch (``workbench run A B C``): one standard folder per job, and an index.

::

    OUT/
      batch.json        one entry per JOB argument, in order: job, folder, status, and the error of a failed job
      1-rabi/           the standard output folder of the first job (docs/outputs.md)
      2-bell/
      ...

Folders are numbered by the job's position (zero-padded to the batch size) so that two jobs with the
same name never collide and ``ls`` lists them in command-line order. Like a single job's folder, the
batch folder is written under a temporary name and renamed into place, so a failure leaves nothing
half-written and an existing non-empty folder is never touched.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.results.exports import staged_folder

INDEX = "batch.json"


def job_folder_name(position: int, count: int, name: str) -> str:
    """``3-rabi``: 1-based position, padded so that folders sort in batch order."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:60] or "job"
    return f"{position:0{len(str(count))}d}-{safe}"


def write_batch_folder(jobs: Sequence[str], results: Sequence[Any], folder: str | os.PathLike[str],
                       cancel: threading.Event | None = None) -> Path:
    """Write each finished job's folder and ``batch.json`` into ``folder`` (new or empty), atomically
    (nothing when ``cancel`` is set by the time it would be kept)."""
    with staged_folder(folder, cancel) as staging:
        index = []
        for position, (job, result) in enumerate(zip(jobs, results, strict=True), start=1):
            entry: dict[str, Any] = {"job": str(job)}
            if isinstance(result, BaseException):
                text = (str(result) if isinstance(result, WorkbenchError)
                        else f"internal error ({type(result).__name__})")
                entry.update(folder=None, status="failed", error=" ".join(text.split()))
            else:
                name = job_folder_name(position, len(jobs), result.dataset.attrs.get("name", "") or "job")
                result.export(staging / name)
                entry.update(folder=name, status="done", name=result.dataset.attrs.get("name"),
                             device=result.device, tuid=result.tuid)
            index.append(entry)
        (staging / INDEX).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    return Path(folder)
