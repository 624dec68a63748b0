"""What the schedule views share: a job's schedules on a device, its timing findings, sweeps, differences.

The timing rules come from the device's executor through the registry
(:meth:`~workbench.executors.base.QuantumExecutor.timing_rules`), so no view knows an instrument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.schedule.checks import Findings, TimingRules, check_timing
from workbench.schedule.ir import Schedule
from workbench.schedule.table import FRAME, KINDS, PLAY, event_table

if TYPE_CHECKING:
    from workbench.devices.model import Device
    from workbench.jobs.base import Job
    from workbench.views.schedule_lanes import Highlight


@dataclass(frozen=True)
class ViewedJob:
    """A job's schedules on a device, for looking at: loaded like a run would load them, but an
    executor that refuses the job (too many acquisition bins, an unwired channel) does not stop the
    views; its one-line reason is kept in ``objection``."""

    job: Job
    device: Device
    schedules: list[Schedule]
    objection: str | None = None


def view_job(job: Any, device: Any = None, *, config: Any = None) -> ViewedJob:
    """The job and its schedules on ``device`` (the same default device as a run); a gate-level device
    has no schedules (``UnsupportedError``), bad input raises the run's ``InputError``."""
    from workbench.core import job_and_device, option_specs
    from workbench.errors import InputError, UnsupportedError
    from workbench.executors.registry import executor_class
    from workbench.options import resolve_options

    loaded, dev = job_and_device(job, device, config=config)
    if not dev.is_pulse_device:
        raise UnsupportedError(f"device '{dev.name}' runs circuits at gate level and has no pulse "
                               "schedule; choose a pulse device to see one")
    schedules = list(loaded.schedules(dev))
    objection = None
    try:
        cls = executor_class(dev.executor)
        options = resolve_options(option_specs(cls), [(f"device {dev.name} defaults", dev.defaults),
                                                      ("job file", loaded.option_defaults())])
        cls(dev).check(schedules, options)
    except InputError as exc:
        objection = f"executor '{dev.executor}' would refuse this job: {exc}"
    return ViewedJob(loaded, dev, schedules, objection)


def timing_rules(device: Device) -> TimingRules:
    """The rules the device's executor declares (the default ones when the executor is not installed)."""
    from workbench.errors import WorkbenchError
    from workbench.executors.registry import executor_class

    try:
        return executor_class(device.executor).timing_rules(device)
    except WorkbenchError:
        return TimingRules()


def couplers(device: Device) -> dict[str, tuple[int, ...]]:
    return {c.channel: tuple(c.qubits) for c in device.couplings}


def timing_findings(schedule: Schedule, device: Device, rules: TimingRules | None = None) -> Findings:
    """Every timing finding of a schedule under the device's rules."""
    return check_timing(event_table(schedule), rules or timing_rules(device),
                        frequencies=device.frame_frequencies(), couplers=couplers(device))


def sweep(schedules: Sequence[Schedule]) -> tuple[str | None, list[Any]]:
    """The metadata entry that varies across experiments (``amp`` of a Rabi, ``delay`` of a T1) and
    its value per experiment; ``(None, [])`` when none does. Numbers win over other values."""
    if len(schedules) < 2:
        return None, []
    keys: list[str] = []
    for key in schedules[0].metadata:
        if key != "name" and all(key in s.metadata for s in schedules):
            keys.append(key)
    best: tuple[str | None, list[Any]] = (None, [])
    for key in keys:
        values = [s.metadata[key] for s in schedules]
        try:
            distinct = len({repr(v) for v in values})
        except TypeError:  # pragma: no cover - repr always works
            continue
        if distinct < 2:
            continue
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        if numeric:
            return key, values
        if best[0] is None:
            best = (key, values)
    return best


def value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _signature(schedule: Schedule) -> dict[tuple[str, int, int], tuple[Any, ...]]:
    """Per (channel, kind, start sample): what the instruction does, comparable across schedules."""
    table = event_table(schedule)
    digests = [hash(w.tobytes()) for w in table.waves]
    ns = table.dt_ns
    out: dict[tuple[str, int, int], tuple[Any, ...]] = {}
    objects = table.objects(range(len(table)))
    for row, obj in enumerate(objects):
        kind = int(table.kind[row])
        channel = table.channels[int(table.channel[row])]
        if kind == PLAY:
            what: tuple[Any, ...] = (digests[int(table.wave[row])], round(obj.frequency, 3), round(obj.phase, 9))
        elif kind == FRAME:
            what = (obj.kind, round(obj.value, 9))
        else:
            what = (int(table.duration[row]),)
        key = (channel, kind, round(table.t0[row] * ns * 1000))  # ps: schedules of different dt compare
        n = 0
        while (key[0], key[1], key[2] + n) in out:  # two frame changes at one time: keep both
            n += 1
        out[(key[0], key[1], key[2] + n)] = (*what, row)
    return out


def differences(a: Schedule, b: Schedule, labels: tuple[str, str] = ("A", "B"),
                limit: int = 20000) -> list[Highlight]:
    """Where two schedules differ, instruction by instruction (channel, kind and start time pair them):
    a pulse with other samples or another frame, a frame change of another value, an instruction only
    one of them has. At most ``limit`` stretches (the first ones in time)."""
    from workbench.views.schedule_lanes import Highlight

    sa, sb = _signature(a), _signature(b)
    ta, tb = event_table(a), event_table(b)
    labels_a = _describe(ta)
    labels_b = _describe(tb)
    out: list[Highlight] = []
    for key in sorted(set(sa) | set(sb), key=lambda k: (k[2], k[0], k[1])):
        va, vb = sa.get(key), sb.get(key)
        if va is not None and vb is not None and va[:-1] == vb[:-1]:
            continue
        channel = key[0]
        spans = []
        texts = []
        if va is not None:
            row = va[-1]
            spans.append((ta.t0[row] * ta.dt_ns, ta.t1[row] * ta.dt_ns))
            texts.append(f"{labels[0]}: {labels_a(row)}")
        else:
            texts.append(f"{labels[0]}: nothing")
        if vb is not None:
            row = vb[-1]
            spans.append((tb.t0[row] * tb.dt_ns, tb.t1[row] * tb.dt_ns))
            texts.append(f"{labels[1]}: {labels_b(row)}")
        else:
            texts.append(f"{labels[1]}: nothing")
        t0 = min(s[0] for s in spans)
        t1 = max(s[1] for s in spans)
        out.append(Highlight(channel, t0, t1, "<br>".join(texts)))
        if len(out) >= limit:
            break
    return out


def _describe(table: Any) -> Any:
    labels = table.names

    def describe(row: int) -> str:
        kind = KINDS[int(table.kind[row])]
        gate = table.gate_label(row)
        head = gate or labels[int(table.name[row])]
        frame = "" if kind != "play" else f", {table.frequency[row] / 1e9:.6g} GHz, phase {table.phase[row]:+.4g}"
        return f"{head} [{kind}] at {table.t0[row] * table.dt_ns:.6g} ns: {table.parameters_text(row)}{frame}"

    return describe


def pick_experiment(names: Sequence[str], experiment: int | str) -> int:
    """An experiment index from an index or a name (``InputError`` naming the range or the name)."""
    from workbench.errors import InputError

    if isinstance(experiment, str):
        if experiment not in names:
            raise InputError(f"no experiment named '{experiment}'")
        return list(names).index(experiment)
    if not -len(names) <= experiment < len(names):
        raise InputError(f"experiment index {experiment} out of range (0..{len(names) - 1})")
    return experiment % len(names)


def experiment_label(names: Sequence[str], index: int, key: str | None, values: Sequence[Any]) -> str:
    """``3: rabi-003 (amp = 0.3)``."""
    extra = f" ({key} = {value_text(values[index])})" if key is not None and index < len(values) else ""
    return f"{index}: {names[index]}{extra}"


__all__ = ["ViewedJob", "couplers", "differences", "experiment_label", "pick_experiment", "sweep", "timing_findings",
           "timing_rules", "value_text", "view_job"]
