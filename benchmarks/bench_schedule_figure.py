"""Benchmark: building the pulse-schedule figure, against quantify-scheduler's plotly pulse diagram.

Run with ``python benchmarks/bench_schedule_figure.py [--sizes 2000 100000] [--quantify-sizes 500 2000]``.

The schedule is a train of calibrated X pulses alternating between ``d0`` and ``d1`` of
``qblox-dummy-2q``, with a joint readout acquisition on both qubits every 200 pulses, built with the
IR's :class:`~workbench.schedule.builder.ScheduleBuilder`. The same schedule goes through the quantify
executor's own conversion (``plan.build_program`` then ``adapter.to_schedule``: one ``NumericalPulse``
with the exact samples per play, one acquisition per ``Acquire``), so both libraries draw the same pulses.

What is timed is the figure alone, each library starting from its own schedule object:

* workbench: ``schedule_figure(schedule)`` (one WebGL trace per channel part, min/max decimation to
  ``max_points`` per channel);
* quantify-scheduler: ``Schedule.plot_pulse_diagram(plot_backend="plotly")`` after its absolute timing
  is determined (``_determine_absolute_timing``, the pass its compiler runs; not part of the timing).

Neither figure is rendered in a browser; the targets are about building them in Python: at least 100x
faster than quantify at 2 000 instructions, and 100 000 instructions in under 2 s. quantify-scheduler
is not run at 100 000: one trace per pulse and one ``add_shape`` per acquisition grow quadratically in
plotly, and 2 000 instructions already take seconds. Ratios come from this run only; nothing is asserted.

Measured on the development machine (2 cores, Python 3.11): 500 instructions 0.019 s vs 2.1 s (109x),
2 000 instructions 0.027 s vs 7.8 s (291x), 100 000 instructions 0.40 s (16 000 points drawn).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.devices.model import Device
from workbench.executors.registry import load_catalogue
from workbench.pulses.shapes import calibrated
from workbench.schedule.builder import ScheduleBuilder
from workbench.schedule.ir import Schedule
from workbench.views.schedule_figure import lane_point_count, schedule_figure

DEVICE = "qblox-dummy-2q"
READOUT_EVERY = 200  # pulses between joint readouts


def pulse_train(device: Device, instructions: int) -> Schedule:
    """About ``instructions`` IR instructions: X pulses on d0/d1, two acquisitions every 200 pulses."""
    cal = device.qubit(0).drive.x
    x = calibrated(cal)
    builder = ScheduleBuilder(f"train-{instructions}", device.dt, device.frame_frequencies(), memory_slots=2)
    t = count = pulses = 0
    while count < instructions:
        builder.play(t, f"d{pulses % 2}", x, "x", shape=cal.shape, parameters=cal.parameters())
        count += 1
        pulses += 1
        if pulses % 2 == 0:
            t += cal.duration
        if pulses % READOUT_EVERY == 0:
            builder.acquire(t, 100, 0, 0)
            builder.acquire(t, 100, 1, 1)
            count += 2
            t += 100
    return builder.build()


def quantify_schedule(schedule: Schedule, device: Device) -> Any:
    """The same pulses as a quantify ``Schedule`` with absolute timing, through the executor's adapter."""
    from quantify_scheduler.compilation import _determine_absolute_timing

    from workbench.executors.quantify.adapter import to_schedule
    from workbench.executors.quantify.config import validate
    from workbench.executors.quantify.plan import build_program

    program = build_program([0], [schedule], device, validate(device), shots=1, meas_level=2, meas_return="single",
                            rep_time=2e-4)
    return _determine_absolute_timing(to_schedule(program, schedule.name), time_unit="physical")


def best_of(repeat: int, build: Callable[[], Any]) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls (the least disturbed by the rest of the machine), and a result."""
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = build()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 100_000],
                        help="schedule sizes (IR instructions) for the workbench figure")
    parser.add_argument("--quantify-sizes", type=int, nargs="*", default=[2000],
                        help="sizes also drawn with quantify-scheduler (slow: keep them small)")
    parser.add_argument("--repeat", type=int, default=5, help="workbench builds per size (best is reported)")
    args = parser.parse_args()

    device = load_catalogue(None).get(DEVICE)
    schedule_figure(pulse_train(device, 20))  # imports plotly, warms caches: not part of any timing
    print(f"device {DEVICE}; times are the best of {args.repeat} builds (workbench) / one build (quantify)\n")
    header = (f"{'IR instr.':>9} {'build IR s':>10} {'workbench s':>12} {'traces':>7} {'points':>8} "
              f"{'quantify s':>11} {'traces':>7} {'shapes':>7} {'speed-up':>9}")
    print(header)
    print("-" * len(header))
    for n in sorted(set(args.sizes) | set(args.quantify_sizes)):
        t0 = time.perf_counter()
        schedule = pulse_train(device, n)
        build_ir = time.perf_counter() - t0
        ours, fig = best_of(args.repeat, lambda s=schedule: schedule_figure(s))
        row = (f"{schedule.instruction_count():>9} {build_ir:>10.3f} {ours:>12.4f} {len(fig.data):>7} "
               f"{lane_point_count(fig):>8}")
        if n in args.quantify_sizes:
            qsched = quantify_schedule(schedule, device)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs, qfig = best_of(1, lambda q=qsched: q.plot_pulse_diagram(plot_backend="plotly"))
            shapes = len(qfig.layout.shapes or ())
            row += f" {theirs:>11.3f} {len(qfig.data):>7} {shapes:>7} {theirs / ours:>8.0f}x"
        else:
            row += f" {'-':>11} {'-':>7} {'-':>7} {'-':>9}"
        print(row, flush=True)
    print("\ntargets: speed-up >= 100x at 2 000 instructions; workbench s < 2 at 100 000 "
          f"(python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
