"""``workbench lab``: JupyterLab on a working copy of the notebooks, so the checkout stays clean.

JupyterLab saves a notebook whenever its cells run (outputs, widget state, autosave), so serving the
repository's ``notebooks/`` would leave the checkout modified after every session. Instead the
notebooks are copied into a folder of the user's (``--dir``, default ``~/workbench-notebooks``) the
first time, and that copy is served: later runs add notebooks the repository gained and never
overwrite one the user has (their edits and outputs are theirs). The repository's notebooks are only
ever read.

This module is imported when the parser is built, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

NOTEBOOK = "getting-started.ipynb"
DEFAULT_DIR = "~/workbench-notebooks"
DIR_ENV = "WORKBENCH_NOTEBOOKS"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("lab", help="open the getting-started notebook in JupyterLab (a working copy of the notebooks)",
                       description="Copy the repository's notebooks into a folder of yours (--dir, default "
                       f"{DEFAULT_DIR} or ${DIR_ENV}; created on first use, existing notebooks never overwritten) "
                       f"and start JupyterLab there on {NOTEBOOK}. The repository's notebooks are never modified. "
                       "Arguments after '--' go to JupyterLab unchanged, e.g. "
                       "'workbench lab --port 8899 -- --ServerApp.ip=127.0.0.1'.")
    p.add_argument("--port", help="port JupyterLab listens on (default: JupyterLab's, 8888 or the next free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser; open the printed URL yourself")
    p.add_argument("--dir", dest="notebook_dir", metavar="DIR",
                   help=f"the working copy of the notebooks (default: ${DIR_ENV}, else {DEFAULT_DIR})")
    p.add_argument("lab_args", nargs=argparse.REMAINDER, metavar="-- JUPYTERLAB_ARGS",
                   help="further JupyterLab options, after '--'")


def checkout_notebooks() -> Path | None:
    """The repository's ``notebooks/`` folder: around the imported package (an editable install, or running
    from the clone) or around the current folder (a clone next to a regular install); None outside one."""
    import workbench

    starts = [Path(workbench.__file__).resolve().parent, Path.cwd().resolve()]
    for start in starts:
        for folder in (start, *start.parents):
            if (folder / "notebooks" / NOTEBOOK).is_file() and (folder / "pyproject.toml").is_file():
                return folder / "notebooks"
    return None


def working_copy(target: Path, source: Path | None) -> tuple[list[str], list[str]]:
    """Copy the notebooks of ``source`` that ``target`` lacks; returns (copied, kept) names.

    Each notebook is copied under a temporary name and linked into place, so a notebook the user has (or
    one that appears meanwhile) is never replaced, and an interrupted copy leaves no half notebook."""
    from workbench.errors import OutputError

    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the notebook folder ({exc.strerror or exc})", None, str(target)) from None
    copied, kept = [], []
    for notebook in sorted(source.glob("*.ipynb")) if source is not None else []:
        destination = target / notebook.name
        if destination.exists() or destination.is_symlink():
            kept.append(notebook.name)
            continue
        temporary = target / f".{notebook.name}.copying"
        try:
            shutil.copyfile(notebook, temporary)
            os.link(temporary, destination)
            copied.append(notebook.name)
        except FileExistsError:
            kept.append(notebook.name)
        except OSError as exc:
            raise OutputError(f"cannot copy {notebook.name} ({exc.strerror or exc})", None, str(target)) from None
        finally:
            temporary.unlink(missing_ok=True)
    return copied, kept


def command(args: argparse.Namespace) -> int:
    """JupyterLab on the working copy. On POSIX this process becomes JupyterLab (exec): Ctrl-C, signals and
    the exit code are JupyterLab's own, with no wrapper process left behind to orphan it."""
    import importlib.util
    import subprocess

    from workbench.errors import UnsupportedError

    if importlib.util.find_spec("jupyterlab") is None:
        raise UnsupportedError("workbench lab needs JupyterLab; install it with: pip install 'jupyterlab>=4.2'")
    target = Path(args.notebook_dir or os.environ.get(DIR_ENV) or DEFAULT_DIR).expanduser().resolve()
    source = checkout_notebooks()
    if source is None and not (target / NOTEBOOK).is_file():
        raise UnsupportedError(
            f"no source checkout with notebooks/{NOTEBOOK} found around {Path.cwd()} or the installed package, and "
            f"no working copy in {target} yet: the notebooks ship with the repository, not the package; clone the "
            "repository and run 'workbench lab' inside it once")
    copied, _ = working_copy(target, source)
    extra = args.lab_args[1:] if args.lab_args[:1] == ["--"] else list(args.lab_args)
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={target}",
               f"--LabApp.default_url=/lab/tree/{NOTEBOOK}"]
    if args.port is not None:
        command.append(f"--port={args.port}")
    if args.no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI machines run as root; Jupyter refuses
        command.append("--allow-root")
    command += extra
    if copied:
        print(f"copied {len(copied)} notebook{'s' if len(copied) != 1 else ''} from {source} into {target} "
              "(your working copy: later runs keep your changes)", flush=True)
    print(f"JupyterLab on {target / NOTEBOOK} (Ctrl-C stops it)", flush=True)
    if os.name == "posix":
        sys.stderr.flush()
        os.execv(sys.executable, command)
    return subprocess.call(command)
