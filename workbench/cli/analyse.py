"""``workbench analyse RESULT`` and ``workbench run ... --analyse``: fits on saved and fresh results.

``analyse`` reads an output folder, a zip of one, a ``dataset.nc`` or a tune-up history entry's
``dataset.nc``, runs the analysis the data calls for (or ``--analysis NAME``) and prints the fitted
parameters with their standard errors, or the reasons the verdict failed. The saved result is never
changed: ``--out DIR`` writes a new output folder holding the analysis (``analysis.json``, the fit in
``dataset.nc``, ``report.html``). Exit codes: 0 the verdict passed, 1 it failed, 2 bad input (no
analysis applies, an unknown name, an unreadable file).

This module is imported when the parser is built, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

# The names of workbench.analysis.ANALYSES (a test keeps them equal); listed here so that building the
# parser does not import the analyses.
ANALYSIS_NAMES = ("rabi-amplitude", "rabi-length", "t1", "ramsey", "echo", "qubit-spectroscopy",
                  "resonator-spectroscopy", "chevron", "drag", "discriminator")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "analyse", help="fit a saved result (or a tune-up dataset): parameters with errors and a verdict",
        description="Run an analysis (Rabi amplitude or length, T1, Ramsey, echo, qubit or resonator spectroscopy, "
        "chevron, DRAG, discriminator) on a saved result and print its parameters with standard errors, or why the "
        "fit failed. The result is not changed; --out writes a new output folder with analysis.json and the report. "
        "See docs/analysis.md.")
    p.add_argument("result", metavar="RESULT", help="output folder, its zip, a dataset.nc or a tune-up dataset.nc")
    p.add_argument("--analysis", metavar="NAME", choices=ANALYSIS_NAMES,
                   help="analysis to run (default: the one the result calls for): " + ", ".join(ANALYSIS_NAMES))
    p.add_argument("--out", metavar="DIR", help="write the result with its analysis as a new output folder here")
    p.add_argument("--json", action="store_true", help="print analysis.json instead of the summary")


def add_run_options(p: argparse.ArgumentParser) -> None:
    """``--analyse`` / ``--analysis NAME`` on ``workbench run``."""
    p.add_argument("--analyse", action="store_true",
                   help="fit the result with the analysis it calls for (built-in examples name theirs) before "
                   "writing it: analysis.json, the fit in dataset.nc and the report")
    p.add_argument("--analysis", metavar="NAME", choices=ANALYSIS_NAMES,
                   help="fit with this analysis (implies --analyse): " + ", ".join(ANALYSIS_NAMES))


def after_run(result: Any, args: argparse.Namespace) -> int:
    """Analyse a fresh result when asked; an analysis that cannot run is one ``error:`` line (exit code
    2), and the run's result is still written."""
    from workbench.errors import InputError

    if not (getattr(args, "analyse", False) or getattr(args, "analysis", None)):
        return 0
    try:
        result.analyse(args.analysis)
    except InputError as exc:
        print(f"error: analysis: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def _load(path: str) -> tuple[Any, Any]:
    """(Result or None, Dataset): results load as Results (folders, zips, .nc), tune-up Datasets as they are."""
    from pathlib import Path

    from workbench.analysis import load
    from workbench.errors import InputError
    from workbench.ui.transfer import load_result

    p = Path(path)
    if p.is_file() and p.suffix.lower() == ".nc":
        ds = load(p)
        if str(ds.attrs.get("schema", "")).startswith("workbench-tuneup/"):
            return None, ds
    try:
        result = load_result(path)
    except InputError:
        raise
    return result, result.dataset


def command(args: argparse.Namespace) -> int:
    from workbench.analysis import analyse
    from workbench.results.exports import check_output_folder

    if args.out:
        check_output_folder(args.out)
    result, ds = _load(args.result)
    analysis = result.analyse(args.analysis) if result is not None else analyse(ds, args.analysis)
    if args.json:
        print(analysis.to_json(), end="")
    else:
        if result is not None:
            from workbench.views.summary import summary_text

            print(summary_text(result))
        else:
            print(f"tune-up {ds.attrs.get('routine')} on {ds.attrs.get('device')}, qubit {ds.attrs.get('qubit')} "
                  f"({ds.attrs.get('tuid')})")
            print(analysis.summary())
        for line in analysis.lines:
            print(f"  {line}")
    if args.out:
        folder = result.export(args.out) if result is not None else _write_tuneup(ds, analysis, args.out)
        print(f"analysis written to {folder}")
    return 0 if analysis.ok else 1


def _write_tuneup(ds: Any, analysis: Any, out: str) -> Any:
    """A tune-up Dataset's analysis: ``analysis.json`` and the calibration report, in a new folder."""
    from workbench.analysis.base import as_json
    from workbench.results.exports import staged_folder
    from workbench.views.report import calibration_report_html

    with staged_folder(out) as staging:
        (staging / "analysis.json").write_text(as_json(analysis), encoding="utf-8")
        (staging / "report.html").write_text(calibration_report_html([ds]), encoding="utf-8")
    return out
