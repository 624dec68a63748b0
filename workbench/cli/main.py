"""``workbench`` command line: the same core as the Python API and the widgets.

Exit codes: 0 success, 2 bad input (one ``error: ...`` line on stderr, nothing written),
1 a failure while running, 130 interrupted. Tracebacks only with ``--debug``.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from workbench.cli import analyse as analyse_cli
from workbench.cli import calibrate, events, interrupts, lab, serve, show
from workbench.cli import results as results_command
from workbench.errors import InputError, WorkbenchError

log = logging.getLogger("workbench")


class _Parser(argparse.ArgumentParser):
    """argparse prints usage plus a message; users get the one-line error the other failures give."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {message} (see 'workbench --help')", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="workbench",
        description="Run OpenPulse jobs and circuits on simulated and Qblox transmon devices.",
    )
    parser.add_argument("--config", metavar="FILE",
                        help="device config file (YAML) adding or overriding devices; default $WORKBENCH_CONFIG")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("devices", help="list the devices")
    p.add_argument("--json", action="store_true", help="print the QHAna devices list as JSON")

    p = sub.add_parser("examples", help="list the example jobs (name, qubits, job kind), usable by name in 'run'")

    show.add_parser(sub)
    events.add_parser(sub)

    p = sub.add_parser("run", help="run a job (or several, as a batch) and write the output folder")
    p.add_argument("jobs", metavar="JOB", nargs="+",
                   help="PulseQobj JSON file, OpenQASM file or a built-in example name (see 'examples'); several "
                   "JOBs run as a batch with one output folder each inside --out")
    p.add_argument("--device", help="device name (default: the job's backend if known, else qutip-1q for pulse "
                   "jobs and aer-simulator for circuits)")
    p.add_argument("--shots", help="number of shots")
    p.add_argument("--seed", help="random seed (recorded in execution-options.json)")
    p.add_argument("--options", metavar="FILE", help="execution options JSON (e.g. a previous execution-options.json)")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="assignments",
                   help="set any execution option (repeatable); VALUE is read as JSON when it parses")
    p.add_argument("--out", metavar="DIR", help="output folder, new or empty (default: results/<tuid>)")
    p.add_argument("--datadir", metavar="DIR", help=results_command.DATADIR_HELP)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--parallel", action="store_true",
                   help="spread experiments and jobs over Dask workers: a local cluster (one worker process per "
                   "core) or the scheduler of --scheduler / $WORKBENCH_DASK_SCHEDULER; same results as a serial run")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on the Dask cluster of this scheduler, e.g. tcp://192.0.2.7:8786 (implies --parallel)")
    p.add_argument("--workers", metavar="N", help="worker processes of the local cluster (implies --parallel)")
    p.add_argument("--scheduler-timeout", metavar="SECONDS",
                   help="seconds to reach the scheduler and find a worker there (default 10)")
    analyse_cli.add_run_options(p)

    p = sub.add_parser("compile", help="compile a job to a PulseQobj or an OpenPulse program for a device")
    p.add_argument("circuit", metavar="JOB", help="OpenQASM circuit, OpenPulse program (or, with --format "
                   "openpulse, a PulseQobj)")
    p.add_argument("--device", required=True, help="pulse device whose calibrated pulses are used")
    p.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="file to write (must not exist): PulseQobj JSON or an OpenQASM 3 + OpenPulse program")
    p.add_argument("--format", choices=("qobj", "openpulse"), default="qobj",
                   help="qobj (default): PulseQobj JSON; openpulse: OpenQASM 3 + OpenPulse (docs/openpulse.md)")
    p.add_argument("--shots", help="shots written into the job's config (default: the device's default)")

    calibrate.add_parser(sub)
    analyse_cli.add_parser(sub)
    results_command.add_parser(sub)
    lab.add_parser(sub)
    serve.add_parser(sub)
    return parser


def _cmd_devices(args: argparse.Namespace) -> int:
    from workbench.executors.registry import listing as device_listing
    from workbench.executors.registry import load_catalogue

    listing = device_listing(load_catalogue(args.config))
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    width = max(len(d["name"]) for d in listing) if listing else 4
    for d in listing:
        state = "available" if d["available"] else "unavailable"
        print(f"{d['name']:<{width}}  {d['executor']:<8} {d['qubits']} qubit{'s' if d['qubits'] != 1 else ' '}"
              f"  {state:<11}  {d['title']}")
    return 0


def _cmd_examples(args: argparse.Namespace) -> int:
    from workbench.examples import EXAMPLE_DIR, listing

    rows = listing()
    width = max(len(r["name"]) for r in rows)
    print(f"{'NAME':<{width}}  QUBITS  KIND     DESCRIPTION")
    for r in rows:
        print(f"{r['name']:<{width}}  {r['qubits']:<6}  {r['kind']:<7}  {r['description']}")
    print(f"Names without a suffix are generated from the chosen device's calibration; the files are in {EXAMPLE_DIR} "
          "(a file of the same name in the current folder wins).")
    return 0


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    from workbench.options import parse_assignment

    flags: dict[str, Any] = {}
    for text in args.assignments:
        key, value = parse_assignment(text)
        flags[key] = value
    if args.shots is not None:
        flags["shots"] = args.shots
    if args.seed is not None:
        flags["seed"] = args.seed
    return flags


def _parallel_spec(args: argparse.Namespace) -> Any:
    """--parallel and its companions -> a ``workbench.parallel.Parallel`` (or None), checked as bad input."""
    if not (args.parallel or args.scheduler or args.workers or args.scheduler_timeout):
        return None
    from workbench.errors import OptionsError
    from workbench.parallel import Parallel, resolve
    from workbench.parallel.spec import DEFAULT_TIMEOUT, check_address

    scheduler = check_address(args.scheduler, "--scheduler") if args.scheduler else None
    workers = None
    if args.workers is not None:
        if scheduler is not None:
            raise OptionsError("sets the size of the local cluster; it cannot be combined with --scheduler",
                               "--workers")
        workers = int(args.workers) if args.workers.isdigit() else 0
        if workers < 1:
            raise OptionsError(f"must be a positive integer, got {args.workers!r}", "--workers")
    timeout = DEFAULT_TIMEOUT
    if args.scheduler_timeout is not None:
        try:
            timeout = float(args.scheduler_timeout)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout < 86400:
            raise OptionsError(f"must be a positive number of seconds, got {args.scheduler_timeout!r}",
                               "--scheduler-timeout")
    return resolve(Parallel(scheduler=scheduler, workers=workers, timeout=timeout))


def _cmd_run(args: argparse.Namespace) -> int:
    """One job: its output folder. Several: one folder per job inside --out (workbench/parallel/outputs.py)."""
    from workbench.api import execute, execute_batch, prepare
    from workbench.options import read_options_file
    from workbench.results.exports import check_output_folder

    flags = _flags(args)
    parallel = _parallel_spec(args)
    if parallel is not None:  # distributed logs at INFO, which would reach our stderr handler
        import distributed  # noqa: F401 (sets its loggers' levels when imported; ours must come after)

        logging.getLogger("distributed").setLevel(logging.WARNING if args.verbose else logging.CRITICAL)
    options = read_options_file(args.options) if args.options else None
    datadir = results_command.run_target(args)
    if args.out:
        check_output_folder(args.out)
    prepared = [prepare(job, args.device, options=options, options_source=args.options or "options", flags=flags,
                        config=args.config) for job in args.jobs]
    bar = None
    progress = None
    if not args.no_progress and sys.stderr.isatty():
        from tqdm.auto import tqdm

        desc = prepared[0].device.name if len(prepared) == 1 else f"{len(prepared)} jobs"
        bar = tqdm(total=sum(len(p.programs) for p in prepared), unit="exp", desc=desc, file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.n = done
            bar.refresh()

    cancel = interrupts.cancel_event()  # set by Ctrl-C: the executors stop at their next look
    log.info("running %s", ", ".join(f"{p.job.name} on {p.device.name}" for p in prepared))
    interrupted = False
    try:
        if len(prepared) == 1:
            results: list[Any] = [execute(prepared[0], progress=progress, parallel=parallel, cancel=cancel)]
        else:
            results = execute_batch(prepared, progress=progress, parallel=parallel or False, errors="return",
                                    cancel=cancel)
        interrupts.check()
    except KeyboardInterrupt:
        interrupted = True  # the program's quick exit ends the cluster's processes (cli/interrupts.py)
        raise
    finally:
        if bar is not None:
            bar.close()
        if parallel is not None and not interrupted and "workbench.parallel.cluster" in sys.modules:
            from workbench.parallel.cluster import close_local_cluster

            close_local_cluster()
    if len(prepared) == 1:
        from workbench.views.summary import summary_text

        result = results[0]
        status = analyse_cli.after_run(result, args)
        folder = results_command.keep(result, args, datadir)
        print(summary_text(result))
        print(f"results written to {folder}")
        return status
    from workbench.core import new_tuid
    from workbench.parallel.outputs import write_batch_folder

    failures = [(job, r) for job, r in zip(args.jobs, results, strict=True) if isinstance(r, BaseException)]
    status = max([0] + [analyse_cli.after_run(r, args) for r in results if not isinstance(r, BaseException)])
    if len(failures) == len(results):  # nothing to keep: fail as one job would, with nothing written
        bug = next((exc for _, exc in failures if not isinstance(exc, WorkbenchError)), None)
        if bug is not None:
            raise bug
        for job, exc in failures:
            print(f"error: {job}: {exc}", file=sys.stderr)
        return max(exc.exit_code for _, exc in failures)  # type: ignore[attr-defined]
    if datadir is not None:  # each finished job is one run of the data directory
        folder = results_command.keep_batch(results, args, datadir)
    else:
        folder = write_batch_folder(args.jobs, results, args.out or os.path.join("results", new_tuid()),
                                    cancel=interrupts.cancel_event())
    for r in results:
        if not isinstance(r, BaseException):
            print(r.summary())
    for job, exc in failures:
        text = str(exc) if isinstance(exc, WorkbenchError) else f"internal error ({type(exc).__name__}: {exc})"
        print(f"error: {job}: {' '.join(text.split())[:400]}", file=sys.stderr)
    print(f"results written to {folder}" + (f" ({len(failures)} of {len(results)} jobs failed)" if failures else ""))
    return 1 if failures else status


def _cmd_compile(args: argparse.Namespace) -> int:
    """Job -> PulseQobj or OpenPulse file: the exact pulses a run of the job on that device would play.

    The file is written to a temporary name and linked into place, so an existing file is never
    overwritten (not even by a race) and a failure leaves no partial file behind.
    """
    from pathlib import Path

    from workbench.errors import JobError, OptionsError, OutputError, UnsupportedError
    from workbench.executors.registry import load_catalogue
    from workbench.jobs import PulseJob, load_job
    from workbench.jobs.to_qobj import schedules_to_qobj
    from workbench.results.exports import write_new_text

    out = Path(args.output)
    if out.exists() or out.is_symlink():
        raise OutputError("exists; choose another -o FILE (compile never overwrites)", None, str(out))
    if not out.parent.is_dir():
        raise OutputError("parent folder does not exist", None, str(out))
    device = load_catalogue(args.config).get(args.device)
    if not device.is_pulse_device:
        raise UnsupportedError(f"device '{device.name}' is a gate-level device; compile needs a pulse device")
    shots = device.defaults.get("shots", 1024)
    if args.shots is not None:
        try:
            shots = int(args.shots)
        except ValueError:
            shots = 0
        if shots < 1:
            raise OptionsError(f"must be a positive integer, got {args.shots!r}", "--shots")
    job = load_job(args.circuit)
    if args.format == "openpulse":
        from workbench.jobs.to_openpulse import schedules_to_openpulse

        schedules = job.schedules(device)
        text = schedules_to_openpulse(schedules, shots=shots if args.shots is not None else None,
                                      backend_name=device.name)
    else:
        if isinstance(job, PulseJob):
            raise JobError("is a PulseQobj already; compile takes an OpenQASM circuit or an OpenPulse program "
                           "(or use --format openpulse)", None, args.circuit)
        schedules = job.schedules(device)
        text = json.dumps(schedules_to_qobj(schedules, shots=shots, qobj_id=job.name, backend_name=device.name),
                          indent=2) + "\n"
    write_new_text(out, text, what="job")
    instructions = sum(s.instruction_count() for s in schedules)
    print(f"compiled {len(schedules)} experiment(s) for {device.name}: {instructions} pulse instructions, "
          f"{max(s.duration for s in schedules)} samples of dt = {device.dt} s")
    print(f"job written to {out}")
    return 0


_COMMANDS = {"devices": _cmd_devices, "examples": _cmd_examples, "run": _cmd_run, "compile": _cmd_compile,
             "lab": lab.command, "show": show.command, "events": events.command, "calibrate": calibrate.command,
             "analyse": analyse_cli.command, "results": results_command.command, "serve": serve.command}


ONE_SHOT_GC_THRESHOLDS = (10_000, 10, 10)  # CPython's defaults: (700, 10, 10)
_LONG_RUNNING = frozenset({"serve", "lab"})


def tune_collector(command: str) -> None:
    """Fewer, larger young collections for a command that runs once and exits.

    Such a process creates a few hundred thousand long-lived objects while it imports numpy, pandas,
    xarray and dask; with CPython's default thresholds the cyclic collector ran ~460 times in a
    200-point ``workbench run`` and walked the whole heap three times, ~0.35 s of a 4.4 s process.
    A young generation of 10 000 objects cut the process by ~0.35 s (4.38 -> 4.02 s, interleaved fresh
    runs) with the same peak memory. Servers keep the defaults: they live long and allocate steadily."""
    if command not in _LONG_RUNNING:
        gc.set_threshold(*ONE_SHOT_GC_THRESHOLDS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.command is None:
        parser.print_help()
        return 2
    if argv is None:  # this process is the command
        tune_collector(args.command)
    with interrupts.handled(keep=argv is None):
        return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return _COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except WorkbenchError as exc:
        if interrupts.signalled():  # a run stopped by Ctrl-C's cancel flag
            return interrupts.announce(exc)
        print(f"error: {exc}", file=sys.stderr)
        if args.debug:
            raise
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: one line, 130 or 143
        return interrupts.announce(exc)
    except Exception as exc:  # a bug in the workbench: one line for users, the traceback on request
        if args.debug or os.environ.get("WORKBENCH_DEBUG"):
            raise
        message = " ".join(str(exc).split())[:300]
        print(f"error: internal error ({type(exc).__name__}: {message}); rerun with --debug for details",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
