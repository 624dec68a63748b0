"""``workbench results``: the runs kept in a data directory, and where ``workbench run`` keeps one.

A run goes to ``--out DIR`` when given, else into the data directory (``--datadir`` or
``$WORKBENCH_DATADIR``, in quantify-core's layout: :mod:`workbench.results.datadir`), else to
``results/<tuid>``. This module is imported when the parser is built, so it imports nothing heavy at
module level.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from workbench.cli.interrupts import cancel_event

DATADIR_HELP = ("data directory to keep the run in, one folder per run in quantify-core's layout "
                "(default: $WORKBENCH_DATADIR; --out wins)")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "results", help="list the runs kept in a data directory",
        description="List the runs in a data directory (--datadir or $WORKBENCH_DATADIR), oldest first: "
        "<datadir>/<YYYYMMDD>/<tuid>-<name>/, quantify-core's layout. Load one with "
        "workbench.load_result(tuid) or quantify_core.data.handling.load_dataset(tuid).")
    p.add_argument("name", metavar="NAME", nargs="?", default="",
                   help="only runs whose folder name contains NAME (the job name, or part of a tuid)")
    p.add_argument("--datadir", metavar="DIR", help="the data directory (default: $WORKBENCH_DATADIR)")
    p.add_argument("--device", help="only runs on this device")
    p.add_argument("--since", metavar="WHEN", help="only runs made at or after WHEN: a date (2026-11-30), a date "
                   "and time (2026-11-30T14:00) or a tuid")
    p.add_argument("--json", action="store_true", help="print the list as JSON")


def command(args: argparse.Namespace) -> int:
    from workbench.results import datadir

    root = datadir.required(args.datadir)
    since = datadir.parse_since(args.since) if args.since else None
    found = datadir.entries(root, device=args.device, since=since, contains=args.name)
    if args.json:
        print(json.dumps([e.as_dict() for e in found], indent=2))
        return 0
    if not found:
        print(f"no runs in {root}" + (" matching the filters" if args.name or args.device or since else ""))
        return 0
    rows = [(e.tuid, e.name or "-", e.device or "-", e.kind or "-",
             "-" if e.experiments is None else str(e.experiments), "-" if e.shots is None else str(e.shots))
            for e in found]
    header = ("TUID", "NAME", "DEVICE", "KIND", "EXPERIMENTS", "SHOTS")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"{len(found)} run{'s' if len(found) != 1 else ''} in {root}")
    return 0


# ------------------------------------------------------------------------------------- workbench run


def run_target(args: argparse.Namespace) -> Path | None:
    """The data directory a run goes to (None: an output folder, ``--out`` or ``results/<tuid>``).

    ``--out`` and ``--datadir`` together are refused: which one was meant cannot be guessed."""
    from workbench.errors import OptionsError
    from workbench.results import datadir

    if args.out and args.datadir:
        raise OptionsError("give either --out DIR (one output folder) or --datadir DIR (the data directory), "
                           "not both", "--datadir")
    if args.out:
        return None
    return datadir.resolve(args.datadir)


def keep(result: Any, args: argparse.Namespace, root: Path | None) -> Path:
    """Write one run where :func:`run_target` says: its output folder, or its folder in the data directory."""
    if root is not None:
        return result.to_datadir(root, cancel=cancel_event())
    return result.export(args.out or os.path.join("results", result.tuid), cancel=cancel_event())


def keep_batch(outcomes: list[Any], args: argparse.Namespace, root: Path) -> str:
    """A batch kept in the data directory: each finished job is a run of its own (no batch folder)."""
    kept = [keep(r, args, root) for r in outcomes if not isinstance(r, BaseException)]
    return f"{root} ({len(kept)} run{'s' if len(kept) != 1 else ''})"
