"""Re-run notebooks and store only the reference outputs nbval checks.

Usage: ``python notebooks/refresh_outputs.py [NOTEBOOK ...]`` (default: every notebook in this folder).

The notebooks are kept without outputs, except for the cells marked ``# NBVAL_CHECK_OUTPUT``: nbval
(``--nbval-lax``) compares those cells' plain-text output with the stored one, and a cell without a
stored output is never compared. So after changing a notebook, run this: each notebook is executed
top to bottom in a temporary folder, checked cells keep their text output (any rich output there is
an error: only deterministic plain text belongs in a check), every other cell is cleared, and a cell
that raises stops the refresh. Review the diff: a changed reference is a changed result.
"""

from __future__ import annotations

import copy
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARK = "# NBVAL_CHECK_OUTPUT"
HERE = Path(__file__).resolve().parent


def refresh(path: Path) -> int:
    """Run ``path`` and rewrite it with reference outputs only; returns the number of checked cells."""
    nb = nbformat.read(path, as_version=4)
    run = copy.deepcopy(nb)
    with tempfile.TemporaryDirectory() as cwd:  # notebooks must not depend on, or write into, the checkout
        NotebookClient(run, timeout=300, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
    checked = 0
    for cell, done in zip(nb.cells, run.cells, strict=True):
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        if not cell.source.startswith(MARK):
            continue
        outputs = []
        for out in done.outputs:
            if out.output_type == "stream":
                outputs.append(out)
            elif out.output_type == "execute_result" and "text/plain" in out.data:
                outputs.append(nbformat.v4.new_output("execute_result", {"text/plain": out.data["text/plain"]},
                                                      execution_count=done.execution_count))
            else:
                raise SystemExit(f"{path.name}: a checked cell has {out.output_type} output; check plain text only:\n"
                                 f"{cell.source[:200]}")
        if not outputs:
            raise SystemExit(f"{path.name}: a checked cell printed nothing:\n{cell.source[:200]}")
        cell.outputs = outputs
        cell.execution_count = done.execution_count
        checked += 1
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return checked


def main(argv: list[str]) -> None:
    paths = [Path(a) for a in argv] or sorted(HERE.glob("*.ipynb"))
    for path in paths:
        print(f"{path.name}: {refresh(path)} checked cells", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
