"""``workbench calibrate ROUTINE``: run one tune-up routine and write its result into the config file.

Exit codes follow the other commands: 0 done (written, dry run shown, or a measurement that writes
nothing), 2 bad input (including "no config file to write to", refused before anything runs), 1 the
fit was rejected or the run failed (the summary says why; nothing is written).

This module is imported when the parser is built, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

# The names of workbench.tuneup.ROUTINES (a test keeps them equal); listed here so that building the
# parser does not import the tune-up machinery.
ROUTINE_NAMES = ("resonator-spectroscopy", "qubit-spectroscopy", "rabi", "ramsey", "drag", "discriminator", "t1")
MEASURE_ONLY = ("t1",)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "calibrate", help="tune up a qubit: measure, fit, and write the calibration into the config file",
        description="Run one tune-up routine on a device through its executor, fit the data and propose new "
        "calibration values. They are written into the config file (--config or WORKBENCH_CONFIG) as a new "
        "version, with the previous values and the dataset kept in <config>.history/; --dry-run shows the diff "
        "and writes nothing; a rejected fit never writes. See docs/tuneup.md.")
    p.add_argument("routine", metavar="ROUTINE", choices=ROUTINE_NAMES,
                   help="one of: " + ", ".join(ROUTINE_NAMES))
    p.add_argument("--device", help="device name (default: qutip-1q)")
    p.add_argument("--qubit", default="0", help="qubit index (default: 0)")
    p.add_argument("--shots", help="shots per experiment (default: the routine's)")
    p.add_argument("--seed", help="random seed of the runs (recorded)")
    p.add_argument("--dry-run", action="store_true", help="show the fit and the diff, write nothing")
    p.add_argument("--config", dest="calibrate_config", metavar="FILE",
                   help="config file to read the device from and write into (default: the global --config, "
                        "else $WORKBENCH_CONFIG)")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="assignments",
                   help="execution option for the routine's runs (repeatable), e.g. noise=false")
    p.add_argument("--out", metavar="DIR", help="also save the dataset, the figure (HTML) and every run's output "
                   "folder here (new or empty folder)")


def _integer(text: str | None, name: str, minimum: int) -> int | None:
    from workbench.errors import OptionsError

    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise OptionsError(f"must be an integer, got {text!r}", name) from None
    if value < minimum:
        raise OptionsError(f"must be at least {minimum}, got {value}", name)
    return value


def command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench import tuneup
    from workbench.devices.catalogue import CONFIG_ENV
    from workbench.errors import ConfigError
    from workbench.executors.registry import load_catalogue
    from workbench.options import parse_assignment
    from workbench.results.exports import check_output_folder

    config = args.calibrate_config or args.config or os.environ.get(CONFIG_ENV) or None
    if config is None and not args.dry_run and args.routine not in MEASURE_ONLY:
        raise ConfigError(tuneup.writeback.NO_CONFIG)
    qubit = _integer(args.qubit, "--qubit", 0)
    shots = _integer(args.shots, "--shots", 16)
    seed = _integer(args.seed, "--seed", 0)
    options = dict(parse_assignment(text) for text in args.assignments)
    if args.out:
        check_output_folder(args.out)
    device = load_catalogue(config).get(args.device)
    kwargs: dict[str, Any] = {"qubit": qubit, "seed": seed, "options": options, "config": config}
    if shots is not None:
        kwargs["shots"] = shots
    result = tuneup.ROUTINES[args.routine].function(device, **kwargs)
    print(result.summary())
    if args.out:
        _save(result, Path(args.out))
        print(f"dataset, figure and runs written to {args.out}")
    if not result.updates:
        return 0 if result.ok else 1
    outcome = result.write(config, dry_run=args.dry_run)
    if outcome.diff:
        print(outcome.diff, end="" if outcome.diff.endswith("\n") else "\n")
    if outcome.written or (args.dry_run and result.ok and not outcome.reasons):
        print(outcome.message)
        return 0
    print(f"error: {args.routine}: {outcome.message}", file=sys.stderr)
    return 1


def _save(result: Any, folder: Any) -> None:
    """The routine's dataset and figure, and each of its runs as an ordinary output folder."""
    from workbench.results.dataset import save_dataset
    from workbench.results.exports import write_new_text

    folder.mkdir(parents=True, exist_ok=True)
    save_dataset(result.dataset, folder / "dataset.nc")
    write_new_text(folder / "figure.html", result.figure.to_html(include_plotlyjs=True, full_html=True))
    write_new_text(folder / "summary.txt", result.summary() + "\n")
    for k, run in enumerate(result.runs):
        run.export(folder / "runs" / f"{k:02d}-{run.tuid}")
