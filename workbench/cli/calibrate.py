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
    p.add_argument("routines", metavar="ROUTINE", choices=ROUTINE_NAMES, nargs="+",
                   help="one of: " + ", ".join(ROUTINE_NAMES) + "; several run in order, each on the calibration "
                   "the previous one left (written, or with --dry-run proposed)")
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
    p.add_argument("--out", metavar="DIR", help="also save the dataset, the figure (HTML), every run's output "
                   "folder and the calibration report (report.html) here (new or empty folder)")


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

    from workbench.devices.catalogue import CONFIG_ENV
    from workbench.errors import ConfigError
    from workbench.executors.registry import load_catalogue
    from workbench.options import parse_assignment
    from workbench.results.exports import check_output_folder
    from workbench.tuneup import writeback

    config = args.calibrate_config or args.config or os.environ.get(CONFIG_ENV) or None
    writes = [r for r in args.routines if r not in MEASURE_ONLY]
    if config is None and not args.dry_run and writes:
        raise ConfigError(writeback.NO_CONFIG)
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
    results: list[Any] = []
    diffs: list[str | None] = []
    status = 0
    for k, routine in enumerate(args.routines):
        if k:
            print()
        result, diff, status = _one(routine, device, kwargs, config, args.dry_run)
        results.append(result)
        diffs.append(diff)
        if status:
            break
        if result.updates and result.ok:  # the next routine starts from what this one left
            device = (load_catalogue(config).get(device.name) if not args.dry_run
                      else result.updated_device())
    if args.out:
        _save_all(results, diffs, Path(args.out))
        print(f"datasets, figures, runs and the calibration report written to {args.out}")
    return status


def _one(routine: str, device: Any, kwargs: dict[str, Any], config: str | None,
         dry_run: bool) -> tuple[Any, str | None, int]:
    """Run one routine, print its summary and write (or preview) it: (result, diff, exit code)."""
    from workbench import tuneup

    result = tuneup.ROUTINES[routine].function(device, **kwargs)
    print(result.summary())
    if not result.updates:
        return result, None, 0 if result.ok else 1
    outcome = result.write(config, dry_run=dry_run)
    if outcome.diff:
        print(outcome.diff, end="" if outcome.diff.endswith("\n") else "\n")
    if outcome.written or (dry_run and result.ok and not outcome.reasons):
        print(outcome.message)
        return result, outcome.diff, 0
    print(f"error: {routine}: {outcome.message}", file=sys.stderr)
    return result, outcome.diff, 1


def _save_all(results: list[Any], diffs: list[str | None], folder: Any) -> None:
    """Each routine's files (in the folder itself for one routine, in ``<n>-<routine>/`` for several) and
    one ``report.html`` for all of them."""
    from workbench.views.report import write_calibration_report

    folder.mkdir(parents=True, exist_ok=True)
    for k, result in enumerate(results):
        _save(result, folder if len(results) == 1 else folder / f"{k + 1}-{result.routine}")
    write_calibration_report(results, folder / "report.html", diffs)


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
