"""Benchmark: the schedule view (first draw, zoom redraw, event table) against quantify-scheduler and LabOne Q.

Run with ``python benchmarks/bench_schedule_view.py [--sizes 10000 100000 1000000] [--quantify-sizes 2000]
[--laboneq-sizes 10000 100000]``. Prints a table and the ratios; nothing is asserted.

The schedule: ``n`` IR instructions on ``qblox-dummy-2q`` - the calibrated x pulse (48 samples) on d0
and d1 in turn, a virtual Z (``shiftp``) before every tenth pulse, a joint readout (m pulse and
acquisition on both qubits) after every 200 pulses - built with the IR's builder, with gate provenance
(``x q0``, ``rz(π/2) q0``, ``measure q0``) as a compiled circuit has it.

What is timed, for the workbench (each on a freshly built schedule, so nothing is cached):

* **first draw**: ``ScheduleDrawing(schedule).figure_json()`` - the event table and lane index built
  from the schedule, the whole schedule drawn for a 1 100 px wide plot, encoded as plotly.js JSON (what
  the widget sends to the page). The JSON size is the page weight of one figure.
* **zoom**: ``figure_json(window)`` for windows of 50 %, 5 %, 0.5 %, 0.05 % and 400 ns of the schedule
  at random places (the kernel's work after a zoom or pan in the widget); median and worst.
* **event table**: the table's columns and the first page of 50 rows as text (what the widget shows
  first), on a fresh schedule; and ``event_frame`` (the DataFrame of ``workbench.events``, every row).

Baselines, in this process, on the same numbers of instructions:

* quantify-scheduler ``Schedule.plot_pulse_diagram(plot_backend="plotly")`` on the same schedule
  (through the quantify executor's own conversion; absolute timing determined first, not timed). It
  adds one trace per pulse and one shape per acquisition, which grows quadratically, so it only runs at
  ``--quantify-sizes``.
* LabOne Q's pulse sheet viewer (``laboneq`` 26, emulation mode, no instrument): an experiment of ``n``
  gaussian plays on one SHFSG drive line, compiled with ``OUTPUT_EXTRAS`` and every event published,
  then ``PulseSheetViewer.generate_viewer_html_file`` - its whole path from experiment to a pulse sheet
  with every event (by default it shows the first 1 000 events only). Its page holds every event, so
  its size grows with the schedule. Its zoom happens in the browser on what the page holds; there is
  no kernel redraw to time. Only at ``--laboneq-sizes``; skipped with a note when laboneq is not
  installed (``pip install 'laboneq>=26,<27'``, the ``bench`` extra).

Targets from the issue: 1M instructions first draw < 1 s, zoom < 0.3 s, event table of 1M rows < 1 s,
page weight independent of schedule length. The development machine is shared (2 cores, other
sessions running): wall times are printed with the process CPU time, and the load average.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.devices.model import Device
from workbench.executors.registry import load_catalogue
from workbench.pulses.shapes import calibrated
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.ir import Origin, Schedule
from workbench.schedule.table import event_table
from workbench.ui.schedule_inspector import PAGE_SIZE, format_rows
from workbench.views.schedule_events import event_frame
from workbench.views.schedule_figure import ScheduleDrawing

DEVICE = "qblox-dummy-2q"
WINDOWS = (0.5, 0.05, 0.005, 0.0005)  # zoom levels as fractions of the schedule, plus a 400 ns window


def train(device: Device, instructions: int) -> Schedule:
    """``instructions`` IR instructions: x on d0/d1, a virtual Z every tenth pulse, readouts every 200."""
    cal = device.qubit(0).drive.x
    x = calibrated(cal)
    x.setflags(write=False)
    ro = device.qubit(0).readout.pulse
    m = calibrated(ro)
    m.setflags(write=False)
    px, pm = cal.parameters(), ro.parameters()
    gates = [Origin(f"x q{q}", "x", (q,), "x") for q in (0, 1)]
    turns = [Origin(f"rz(π/2) q{q}", "rz", (q,), None) for q in (0, 1)]
    reads = [Origin(f"measure q{q}", "measure", (q,), "measure") for q in (0, 1)]
    b = ScheduleBuilder(f"train-{instructions}", device.dt, device.frame_frequencies(), memory_slots=2)
    t = count = k = 0
    while count < instructions:
        q = k % 2
        if k % 10 == 0:
            b.frame(t, f"d{q}", "shiftp", -np.pi / 2, origin=turns[q], source=count)
            count += 1
        if count >= instructions:
            break
        b.play(t, f"d{q}", x, "x", shape=cal.shape, parameters=px, origin=gates[q], source=count)
        count += 1
        k += 1
        if q == 1:
            t += cal.duration
        if k % 200 == 0:
            for r in (0, 1):
                if count + 2 > instructions:
                    break
                b.play(t, f"m{r}", m, "measure", shape=ro.shape, parameters=pm, origin=reads[r], source=count)
                b.acquire(t, ro.duration, r, r, origin=reads[r], source=count)
                count += 2
            t += ro.duration + 300
    return b.build()


def timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall s, CPU s of this process, result)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def ours(device: Device, n: int, rng: np.random.Generator) -> dict[str, Any]:
    row: dict[str, Any] = {"n": n}
    row["build"], _, schedule = timed(lambda: train(device, n))
    row["instructions"] = schedule.instruction_count()
    row["first"], row["first_cpu"], text = timed(lambda: ScheduleDrawing(schedule).figure_json())
    row["json_kb"] = len(text) / 1024
    drawing = ScheduleDrawing(schedule)  # cached indexes now: the widget keeps its drawing between zooms
    end = drawing.full[1]
    zooms, cpu = [], []
    for fraction in (*WINDOWS, None):
        width = end * fraction if fraction is not None else 400.0
        for _ in range(3):
            start = float(rng.uniform(0, max(end - width, 0)))
            wall, c, _ = timed(lambda s=start, w=width: drawing.figure_json((s, s + w)))
            zooms.append(wall)
            cpu.append(c)
    row["zoom_median"], row["zoom_worst"], row["zoom_cpu_median"] = np.median(zooms), max(zooms), np.median(cpu)
    exact = drawing.figure_dict((end / 2, end / 2 + 400.0))["layout"]["meta"]["exact"]
    row["zoom_exact"] = exact
    # the event table on a schedule of its own (the figure's indexes would otherwise be reused)
    _, _, fresh = timed(lambda: train(device, n))

    def table_and_page() -> list[list[str]]:
        table = event_table(fresh)
        return format_rows(table, np.arange(min(PAGE_SIZE, len(table))), None)[0]

    row["table"], row["table_cpu"], page = timed(table_and_page)
    assert len(page) == min(PAGE_SIZE, n) and len(event_table(fresh)) == n
    row["frame"], _, frame = timed(lambda: event_frame(fresh))
    assert len(frame) == n
    return row


def quantify(schedule: Schedule, device: Device) -> float:
    from quantify_scheduler.compilation import _determine_absolute_timing

    from workbench.executors.quantify.adapter import to_schedule
    from workbench.executors.quantify.config import validate
    from workbench.executors.quantify.plan import build_program

    program = build_program([0], [schedule], device, validate(device), shots=1, meas_level=2, meas_return="single",
                            rep_time=2e-4)
    qsched = _determine_absolute_timing(to_schedule(program, schedule.name), time_unit="physical")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wall, _, _ = timed(lambda: qsched.plot_pulse_diagram(plot_backend="plotly"))
    return wall


_DESCRIPTOR = """\
instruments:
  SHFSG:
  - address: DEV12001
    uid: device_shfsg
  PQSC:
  - address: DEV10001
    uid: device_pqsc
connections:
  device_shfsg:
    - iq_signal: q0/drive_line
      ports: SGCHANNELS/0/OUTPUT
  device_pqsc:
    - to: device_shfsg
"""


def laboneq_sheet(n: int, folder: Path) -> dict[str, float] | str:
    """LabOne Q: n gaussian plays compiled in emulation, every event on a pulse sheet. A note when absent."""
    import importlib

    try:  # laboneq.simple first: importing the viewer module first is a circular import in laboneq 26.7
        lq = importlib.import_module("laboneq.simple")
        viewer = importlib.import_module("laboneq.pulse_sheet_viewer.pulse_sheet_viewer").PulseSheetViewer
    except ImportError as exc:
        return f"laboneq not installed ({exc.name})"
    logging.getLogger("laboneq").setLevel(logging.ERROR)
    setup = lq.DeviceSetup.from_descriptor(_DESCRIPTOR, server_host="localhost", server_port="8004", setup_name="bench")
    line = setup.logical_signal_groups["q0"].logical_signals["drive_line"]
    line.calibration = lq.SignalCalibration(
        oscillator=lq.Oscillator(frequency=100e6, modulation_type=lq.ModulationType.HARDWARE),
        local_oscillator=lq.Oscillator(frequency=5.0e9), range=10)
    session = lq.Session(setup)
    session.connect(do_emulation=True)
    logging.getLogger("laboneq").setLevel(logging.ERROR)  # its compiler reports at INFO on stdout
    experiment = lq.Experiment(uid=f"train_{n}", signals=[lq.ExperimentSignal("drive")])
    experiment.map_signal("drive", line)
    pulse = lq.pulse_library.gaussian(uid="gauss48", length=48e-9, amplitude=0.48, sigma=1 / 3)
    with experiment.acquire_loop_rt(uid="shots", count=1, averaging_mode=lq.AveragingMode.CYCLIC,
                                    acquisition_type=lq.AcquisitionType.INTEGRATION), experiment.section(uid="train"):
        for _ in range(n):
            experiment.play(signal="drive", pulse=pulse)
    path = folder / f"laboneq-{n}.html"

    def sheet() -> None:
        compiled = session.compile(experiment, compiler_settings={"OUTPUT_EXTRAS": True,
                                                                  "MAX_EVENTS_TO_PUBLISH": 4 * n + 100})
        viewer.generate_viewer_html_file(compiled.scheduled_experiment.schedule, f"train {n}", str(path))

    cwd = os.getcwd()
    os.chdir(folder)  # LabOne Q writes its logs into the working folder
    try:
        wall, cpu, _ = timed(sheet)
    finally:
        os.chdir(cwd)
        session.disconnect()
    return {"wall": wall, "cpu": cpu, "mb": path.stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--quantify-sizes", type=int, nargs="*", default=[2000])
    parser.add_argument("--laboneq-sizes", type=int, nargs="*", default=[10_000, 100_000])
    args = parser.parse_args()

    device = load_catalogue(None).get(DEVICE)
    warm = train(device, 500)
    ScheduleDrawing(warm).figure_json()  # imports (plotly, pandas) and first calls: not part of any timing
    event_frame(warm)
    rng = np.random.default_rng(2026)
    sizes = sorted(set(args.sizes) | set(args.quantify_sizes) | set(args.laboneq_sizes))
    print(f"device {DEVICE}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; python "
          f"{sys.version.split()[0]}\n")
    header = (f"{'instr.':>9} {'build IR':>9} | {'first draw':>10} {'cpu':>6} {'JSON KB':>8} | {'zoom med':>9} "
              f"{'worst':>6} {'cpu':>6} {'exact':>5} | {'table+page':>10} {'cpu':>6} {'DataFrame':>9} | "
              f"{'quantify':>9} {'ratio':>6} | {'LabOne Q':>9} {'MB':>6} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            row = ours(device, n, rng)
            line = (f"{row['instructions']:>9} {row['build']:>8.1f}s | {row['first']:>9.3f}s {row['first_cpu']:>6.3f} "
                    f"{row['json_kb']:>8.0f} | {row['zoom_median']:>8.3f}s {row['zoom_worst']:>6.3f} "
                    f"{row['zoom_cpu_median']:>6.3f} {('yes' if row['zoom_exact'] else 'no'):>5} | "
                    f"{row['table']:>9.3f}s {row['table_cpu']:>6.3f} {row['frame']:>8.2f}s | ")
            if n in args.quantify_sizes:
                theirs = quantify(train(device, n), device)
                line += f"{theirs:>8.2f}s {theirs / row['first']:>5.0f}x | "
            else:
                line += f"{'-':>9} {'-':>6} | "
            if n in args.laboneq_sizes:
                sheet = laboneq_sheet(n, Path(folder))
                if isinstance(sheet, str):
                    line += sheet
                else:
                    line += f"{sheet['wall']:>8.2f}s {sheet['mb']:>6.1f} {sheet['wall'] / row['first']:>5.0f}x"
            else:
                line += f"{'-':>9} {'-':>6} {'-':>6}"
            print(line, flush=True)
    print("\nratio: baseline time / workbench first draw on the same number of instructions. Targets: 1M first draw "
          "< 1 s, zoom < 0.3 s, table + first page < 1 s; the JSON size (page weight of a figure) must not grow "
          "with the schedule.")


if __name__ == "__main__":
    main()
