"""``workbench show JOB``: a self-contained HTML page of a job's schedules (see workbench.views.schedule_page).

The job is validated as for a run; an existing page is never replaced; bad input exits with 2 and
one ``error:`` line and writes nothing. Imported when the parser is built: nothing heavy at module level.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("show", help="write the pulse schedules of a job as a self-contained HTML page",
                       description="One HTML page (plotly.js inlined once, nothing loaded from the network) with "
                       "every experiment of JOB on a pulse device: an experiment selector (and a slider over the "
                       "swept value), the figure with gate labels, frame strips and timing findings, and the "
                       "event table with filters. See docs/workbench.md.")
    p.add_argument("job", metavar="JOB", help="PulseQobj JSON file, OpenQASM file or built-in example name")
    p.add_argument("--device", help="pulse device (default: as for 'run'; circuits need a pulse device)")
    p.add_argument("--experiment", metavar="N", default="0", help="experiment shown first, index or name (default: 0)")
    p.add_argument("--html", metavar="FILE", help="page to write, must not exist (default: <JOB name>-schedule.html)")
    p.add_argument("--compress", action="store_true",
                   help="fold idle stretches and long instructions (readouts) so that gates stay wide")


def command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench.errors import OutputError
    from workbench.results.exports import write_new_text
    from workbench.views.schedule_page import write_page

    experiment: int | str = int(args.experiment) if args.experiment.lstrip("-").isdigit() else args.experiment
    out = Path(args.html) if args.html else Path(f"{Path(args.job).stem or 'job'}-schedule.html")
    if out.exists() or out.is_symlink():
        raise OutputError("exists; choose another --html FILE (show never overwrites)", None, str(out))
    page, summary = write_page(args.job, args.device, config=args.config, experiment=experiment,
                               compress=args.compress)
    write_new_text(out, page)
    print(summary)
    print(f"schedule written to {out}")
    return 0
