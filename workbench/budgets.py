"""Resource budgets: every job is costed before any work, and refused when it would cost too much.

Job files, circuits and configs come from colleagues by mail and run on shared lab machines, so a
file of a few kilobytes must not be able to take minutes or gigabytes. Each budget is an option
(``max_samples``, ``max_sim_steps``...) with a default that suits every ordinary job; a user raises it
with ``--set max_samples=50000000``, an options file or ``options={...}`` in Python (docs/budgets.md).
A job file cannot raise its own budget: the budgets come from the user's options and flags only.

The limits in effect are held in a context variable while :func:`workbench.core.prepare` loads and
translates a job (:func:`metering`), so that the code that would allocate (pulse sampling, OpenQASM
gate expansion) can check its own estimate with :func:`check` before allocating, without every
signature in between carrying the limits. Outside :func:`metering` the defaults apply.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import BudgetError
from workbench.options import OptionSpec, resolve_options


@dataclass(frozen=True)
class Budget:
    """One limit: the option that sets it, its default, and what its estimate counts (for messages)."""

    option: str
    default: int
    counts: str  # "pulse samples", "simulator sub-steps", ... (the estimate's unit in messages)
    help: str


BUDGETS: tuple[Budget, ...] = (
    Budget("max_job_mb", 64, "MB of job file",
           "largest job file (or pasted job text, or config file) read, in MB; checked before parsing"),
    Budget("max_pulse_samples", 1_000_000, "samples in one pulse",
           "longest single waveform, in samples; checked from its duration before it is sampled"),
    Budget("max_samples", 20_000_000, "pulse samples",
           "pulse samples over all plays of all experiments of a job (16 bytes each in memory)"),
    Budget("max_sim_steps", 200_000, "simulator sub-steps",
           "piecewise-constant steps a pulse simulator would integrate (qutip: samples times the sub-steps a "
           "carrier detuned from its frame needs)"),
    Budget("max_state_work", 20_000_000, "state dimension x simulator steps",
           "simulator work: the dimension of the simulated state (ket, or vectorised density matrix) times "
           "its steps"),
    Budget("max_outcomes", 50_000_000, "shots x experiments x memory slots",
           "measurement results a run holds in memory (16 bytes each as IQ points)"),
    Budget("max_output_mb", 2048, "MB of output",
           "estimated size of the result (Dataset in memory and the output folder), in MB"),
    Budget("max_circuit_ops", 1_000_000, "gate applications",
           "OpenQASM operations after expanding gate definitions, loops and register broadcasts"),
)

BY_OPTION: Mapping[str, Budget] = {b.option: b for b in BUDGETS}

#: The budgets as options: validated and echoed like every other option (``execution-options.json``).
BUDGET_OPTIONS: tuple[OptionSpec, ...] = tuple(
    OptionSpec(b.option, int, b.default, f"budget: {b.help} (default {b.default:,})", minimum=1) for b in BUDGETS
)


@dataclass(frozen=True)
class Limits:
    """The budgets in effect: option name -> limit, and where each came from (for messages)."""

    values: Mapping[str, int] = field(default_factory=lambda: {b.option: b.default for b in BUDGETS})
    sources: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, option: str) -> int:
        return int(self.values[option])


DEFAULT_LIMITS = Limits()


def limits_from(layers: Sequence[tuple[str, Mapping[str, Any] | None]]) -> Limits:
    """The limits set by option layers (``(source label, mapping)``, lowest precedence first).

    Only the budget keys are read (validated as options: a bad value is an OptionsError naming its
    source); everything else in the layers is left to :func:`~workbench.options.resolve_options`.
    """
    picked = [(source, {k: v for k, v in mapping.items() if k in BY_OPTION})
              for source, mapping in layers if isinstance(mapping, Mapping)]
    resolved = resolve_options(BUDGET_OPTIONS, picked)
    return Limits(dict(resolved.values), {k: v for k, v in resolved.sources.items() if v != "default"})


def without_budgets(mapping: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """A layer that may not set budgets (a job file, a device's defaults), and the budget keys it tried."""
    if not isinstance(mapping, Mapping):
        return mapping, []  # type: ignore[return-value]
    dropped = [k for k in mapping if k in BY_OPTION]
    return {k: v for k, v in mapping.items() if k not in BY_OPTION}, dropped


@dataclass
class Meter:
    """The limits of one job being prepared, and the samples its translation allocated so far."""

    limits: Limits
    samples: int = 0


_METER: ContextVar[Meter | None] = ContextVar("workbench_budget_meter", default=None)


@contextmanager
def metering(limits: Limits) -> Iterator[Meter]:
    """Make ``limits`` the budgets checked by :func:`check` and :func:`charge_samples` in this context."""
    meter = Meter(limits)
    token = _METER.set(meter)
    try:
        yield meter
    finally:
        _METER.reset(token)


def current() -> Limits:
    """The limits in effect here: those of the job being prepared, else the defaults."""
    meter = _METER.get()
    return meter.limits if meter is not None else DEFAULT_LIMITS


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 or value == 0 else f"{value:.3g}"


def refuse(option: str, estimate: float, limit: float, where: str | None = None, source: str | None = None,
           detail: str = "") -> BudgetError:
    """The one-line error of an exceeded budget: the estimate, the limit and how to raise it."""
    budget = BY_OPTION[option]
    extra = f" ({detail})" if detail else ""
    return BudgetError(
        f"over budget: {_number(estimate)} {budget.counts}{extra} exceeds the limit of {_number(limit)}; "
        f"if this is intended, raise it with --set {option}=N (or '{option}' in the options); "
        "nothing was run or written", where, source)


def check(option: str, estimate: float, where: str | None = None, source: str | None = None,
          detail: str = "", limits: Limits | None = None) -> None:
    """Raise :class:`~workbench.errors.BudgetError` when ``estimate`` exceeds the budget ``option``."""
    limit = (limits or current())[option]
    if estimate > limit:
        raise refuse(option, estimate, limit, where, source, detail)


def charge_samples(n: int, where: str | None = None) -> None:
    """Account for a waveform of ``n`` samples about to be allocated (before it is)."""
    check("max_pulse_samples", n, where)
    meter = _METER.get()
    if meter is not None:
        meter.samples += int(n)
        check("max_samples", meter.samples, where, detail="allocated while translating the job")


def check_all(estimates: Mapping[str, float], limits: Limits, where: str | None = None,
              source: str | None = None) -> None:
    """Check several estimates (option name -> estimate) at once; the first exceeded budget raises."""
    for option, estimate in estimates.items():
        if option in BY_OPTION:
            check(option, estimate, where, source, limits=limits)


def max_bytes(limits: Limits | None = None) -> int:
    """The largest job (or config) file read, in bytes."""
    return (limits or current())["max_job_mb"] * 1024 * 1024
