"""``workbench events JOB``: the event table of a job's schedule, one line (or CSV row) per instruction.

No cap: a schedule of a million instructions gives a million rows. Bad input exits with 2 and one
``error:`` line and writes nothing; an existing ``--csv`` file is never replaced. Imported when the
parser is built, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "events", help="print (or write as CSV) every instruction of a job's schedule: time, channel, gate, frame",
        description="The event table of one experiment (or all) of JOB on a pulse device: absolute time in ns and "
        "in samples, channel, kind (play, frame, delay, acquire), name and gate (provenance), duration, "
        "parameters, the frame frequency and phase after the event, and the timing findings of the device's "
        "executor. One row per instruction, no cap. See docs/workbench.md.")
    p.add_argument("job", metavar="JOB", help="PulseQobj JSON file, OpenQASM file or built-in example name")
    p.add_argument("--device", help="pulse device (default: as for 'run'; circuits need a pulse device)")
    p.add_argument("--experiment", metavar="N", default="0",
                   help="experiment index or name, or 'all' for every experiment (default: 0)")
    p.add_argument("--csv", metavar="FILE", help="write the table as CSV to FILE (must not exist) instead of printing")


def experiment_argument(text: str) -> int | str | None:
    if text == "all":
        return None
    return int(text) if text.lstrip("-").isdigit() else text


def command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench.errors import OutputError
    from workbench.results.exports import write_new_text
    from workbench.views.schedule_events import events, text_lines

    out = Path(args.csv) if args.csv else None
    if out is not None and (out.exists() or out.is_symlink()):
        raise OutputError("exists; choose another --csv FILE (events never overwrites)", None, str(out))
    frame = events(args.job, args.device, experiment=experiment_argument(args.experiment), config=args.config)
    if frame.attrs.get("objection"):
        print(f"note: {frame.attrs['objection']}", file=sys.stderr)
    if out is not None:
        write_new_text(out, frame.to_csv(index=False), what="table")
        flagged = int((frame["checks"].astype(str) != "").sum())
        print(f"{len(frame)} events ({flagged} with timing findings) written to {out}")
        return 0
    write = sys.stdout.write
    for line in text_lines(frame):
        write(line + "\n")
    return 0
