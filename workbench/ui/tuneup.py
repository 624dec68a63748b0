"""The calibration panel's state as plain Python: a tune-up form, its routine runs and its write-back.

:class:`Tuneup` holds the form (routine, qubit, shots, seed), the last measurement and what writing it
would change. Its actions go through the workbench's :class:`~workbench.ui.runner.Runner`, in the
same queue as ordinary runs, because they use the same instrument:

* :meth:`Tuneup.measure` queues the routine and then the dry run of its write-back (the diff the
  config file would get); the routine's runs get the runner's progress and cancel, so a cancel
  stops it at the executor's next check and nothing of it is kept;
* :meth:`Tuneup.write` queues the write of the last measurement as a new version of the config
  file, then reloads the session's catalogue from it;
* :meth:`Tuneup.cancel` cancels whichever of them is queued or running.

A failure is one line in :attr:`Tuneup.status` (or :attr:`Tuneup.message` for a write), and changes
nothing else: the previous measurement, its preview and the config file stay as they were. Shots and
seed are checked with the run form's option rules (:func:`workbench.ui.session.form_value`), so a bad
seed reads the same in both forms. Nothing here imports ipywidgets.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.errors import CancelledError, OptionsError
from workbench.executors.base import Progress
from workbench.executors.registry import load_catalogue
from workbench.options import COMMON_OPTIONS, OptionSpec
from workbench.ui.runner import CANCELLED, DONE, FAILED, Runner, RunRecord
from workbench.ui.session import Problem, Session, form_value

if TYPE_CHECKING:
    from workbench.devices.catalogue import Catalogue
    from workbench.tuneup.base import CalibrationResult
    from workbench.tuneup.writeback import WriteOutcome

log = logging.getLogger("workbench.ui")

MIN_SHOTS = 16  # workbench.tuneup.base.check_shots: a routine averages shots, fewer are refused there too
NO_CONFIG_NOTE = ("no config file to write to: type one in 'Config file' and press Use (an empty or new file "
                  "will do)")


@dataclass(frozen=True)
class Notice:
    """One message for a view: a note, or (with ``problems``) an error headed by ``text``."""

    text: str = ""
    problems: tuple[Problem | str, ...] = ()

    @property
    def is_error(self) -> bool:
        return bool(self.problems)

    @property
    def plain(self) -> str:
        """The message as one line of text (for logs, tests and scripts)."""
        lines = [p if isinstance(p, str) else p.text for p in self.problems]
        return " ".join(x for x in (self.text, *lines) if x)


@dataclass(frozen=True)
class _Measured:
    """What a measure task hands back to the form: the result and its dry-run write."""

    result: CalibrationResult
    preview: WriteOutcome | None
    preview_problem: Problem | None


class Tuneup:
    """A tune-up form over a :class:`Session`, acting through a :class:`Runner` (see the module doc)."""

    def __init__(self, session: Session, runner: Runner) -> None:
        from workbench.tuneup import ROUTINES

        self.session = session
        self.runner = runner
        self.routines: tuple[str, ...] = tuple(ROUTINES)
        self.observers: list[Callable[[str], None]] = []  # called with "form" or "state"
        self.routine = "rabi"
        self.qubit: int | None = None
        self.shots: Any = None  # as typed; None or blank: the routine's default
        self.seed: Any = None  # as typed; None or blank: drawn at run time (and recorded)
        self.parameters: dict[str, Any] = {}  # the routine's own keywords (points, span, ...), for scripts
        self.result: CalibrationResult | None = None
        self.preview: WriteOutcome | None = None  # the dry run of writing self.result
        self.preview_problem: Problem | None = None
        self.written: WriteOutcome | None = None
        self.pending: RunRecord | None = None  # the queued or running tune-up task
        self._pending_kind = ("", "")  # ("measure" or "write", routine name) of self.pending
        self.status = Notice()
        self.message = Notice()
        self._config: str | None = None  # chosen in the panel; None: the session catalogue's file
        self._lock = threading.RLock()  # the runner's 'queued' event arrives while _submit holds it
        self._sync_qubit()
        runner.observers.append(self._on_runner)
        session.observers.append(self._on_session)

    def __repr__(self) -> str:
        return f"<Tuneup {self.routine} q{self.qubit} on {self.session.device.name}: {self.status.plain or 'idle'}>"

    # -- observers ------------------------------------------------------------------------------
    def _emit(self, event: str) -> None:
        for observer in list(self.observers):
            try:
                observer(event)
            except Exception:  # a broken view must not break the state
                log.exception("tune-up observer %r failed on %r", observer, event)

    def _on_session(self, event: str) -> None:
        if event == "device":
            self._sync_qubit()
            self._emit("form")
            self._emit("state")  # whether the last measurement is of this device changed

    def _sync_qubit(self) -> None:
        indices = self.qubits()
        if self.qubit not in indices:
            self.qubit = indices[0] if indices else None

    # -- the form -------------------------------------------------------------------------------
    @property
    def config(self) -> str | None:
        """The config file a write goes to: the one chosen in the panel, else the workbench's (None: neither)."""
        return self._config or self.session.catalogue.config_path

    def set_config(self, path: str | None) -> list[Problem]:
        """Write calibrations into ``path`` from now on (blank: back to the workbench's own file).

        An existing file is loaded at once, so its devices join the device list; a new file is created by
        the first write. Returns the problems that refused it (the file does not load, no such folder)."""
        from pathlib import Path

        text = (path or "").strip()
        if not text:
            self._config = None
            self.message = Notice()
            self._emit("state")
            return []
        file = Path(text).expanduser()
        problems: list[Problem] = []
        if file.exists():
            try:
                catalogue = load_catalogue(file)
            except Exception as exc:  # a config that does not validate: one line, nothing changes
                problems.append(Problem.from_error(exc, "device"))
            else:
                self._config = str(file)
                self.session.reload_catalogue(catalogue)
        elif not file.parent.is_dir():
            problems.append(Problem("device", "no such folder for the config file", None, str(file)))
        else:
            self._config = str(file)
        self.message = Notice("Config file not used:", tuple(problems)) if problems else \
            Notice(f"calibrations are written to {self._config}")
        self._emit("state")
        return problems

    def default_shots(self) -> int | None:
        """The shots the routine runs with when the field is blank (its own default)."""
        import inspect

        from workbench.tuneup import ROUTINES

        routine = ROUTINES.get(self.routine)
        if routine is None:
            return None
        default = inspect.signature(routine.function).parameters.get("shots")
        return default.default if default is not None and isinstance(default.default, int) else None

    @property
    def shots_placeholder(self) -> str:
        """What a blank shots field means: ``1000 (rabi default)``."""
        shots = self.default_shots()
        return f"{shots} ({self.routine} default)" if shots is not None else "routine default"

    def qubits(self) -> list[int]:
        return [q.index for q in self.session.device.qubits]

    @property
    def device_note(self) -> str:
        """Why tune-up is impossible on the selected device ('' when it is possible)."""
        device = self.session.device
        return "" if device.is_pulse_device else f"{device.name} is a gate-level device: tune-up needs a pulse device"

    def option_spec(self, name: str) -> OptionSpec:
        """The run form's spec of ``shots`` or ``seed``; shots left blank mean the routine's default and
        may not go below :data:`MIN_SHOTS`."""
        specs = {s.name: s for s in (*COMMON_OPTIONS, *self.session.option_specs())}
        spec = specs[name]
        if name == "shots":
            spec = dataclasses.replace(spec, minimum=max(spec.minimum or 0, MIN_SHOTS), nullable=True, default=None)
        return spec

    def _field(self, name: str, raw: Any) -> tuple[Any, Problem | None]:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None, None
        try:
            return form_value(self.option_spec(name), raw), None
        except OptionsError as exc:
            return None, Problem.for_option(name, exc.message)

    def problems(self) -> list[Problem]:
        """What is wrong with the form now (empty: Measure may run)."""
        found = []
        if self.device_note:
            found.append(Problem("device", self.device_note))
        if self.routine not in self.routines:
            found.append(Problem("run", f"unknown routine '{self.routine}'; routines: {', '.join(self.routines)}"))
        if self.qubit not in self.qubits():
            found.append(Problem("run", f"device '{self.session.device.name}' has no qubit {self.qubit}"))
        found += [p for name in ("shots", "seed") if (p := self._field(name, getattr(self, name))[1]) is not None]
        return found

    def set(self, **fields: Any) -> None:
        """Set form fields (``routine``, ``qubit``, ``shots``, ``seed``) as typed."""
        unknown = set(fields) - {"routine", "qubit", "shots", "seed"}
        if unknown:
            raise KeyError(f"the tune-up form has no field {', '.join(sorted(unknown))}")
        for name, value in fields.items():
            setattr(self, name, value)
        self._emit("form")

    # -- state ----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.pending is not None and not self.pending.finished

    @property
    def can_write(self) -> bool:
        """True when the last measurement passed, its dry run found nothing against it, and there is a file."""
        return not self.write_problems()

    def write_problems(self) -> list[Problem]:
        """Why Write would be refused now (empty: it may be queued)."""
        result, preview = self.result, self.preview
        if result is None:
            return [Problem("run", "measure first")]
        if result.device.name != self.session.device.name:
            return [Problem("run", f"measured on {result.device.name}; select that device or measure "
                            f"{self.session.device.name} to write")]
        if self.busy:
            return [Problem("run", f"a tune-up task is already queued or running ({self.pending.label})")]
        if not result.updates:
            return [Problem("run", f"{result.routine} proposes no calibration change (it measures physics)")]
        if self.preview_problem is not None:
            return [self.preview_problem]
        reasons = (preview.reasons if preview is not None else []) or list(result.quality.reasons)
        if reasons or not result.ok:
            return [Problem("run", r) for r in reasons] or [Problem("run", f"the {result.routine} fit was rejected")]
        if self.config is None:
            return [Problem("run", NO_CONFIG_NOTE)]
        if self.written is not None:
            return [Problem("run", f"already written ({self.written.message}); measure again for another change")]
        return []

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the queued tune-up task has finished (bounded by ``timeout``); False on timeout."""
        record = self.pending
        return True if record is None else record.wait(timeout)

    # -- actions --------------------------------------------------------------------------------
    def measure(self) -> RunRecord | list[Problem]:
        """Queue the routine (then the dry run of its write); the record, or the problems that refused it."""
        problems = self.problems()
        if self.busy:
            problems.append(Problem("run", f"a tune-up task is already queued or running ({self.pending.label}); "
                                    "wait for it or cancel it"))
        if problems:
            self.status = Notice("Measure blocked:", tuple(problems))
            self._emit("state")
            return problems
        shots, _ = self._field("shots", self.shots)
        seed, _ = self._field("seed", self.seed)
        name, device, qubit, config = self.routine, self.session.device, self.qubit, self.config
        kwargs: dict[str, Any] = {**self.parameters, "qubit": qubit, "seed": seed, "config": config}
        if shots is not None:
            kwargs["shots"] = shots

        def task(progress: Progress, cancel: threading.Event) -> _Measured:
            from workbench.tuneup import ROUTINES

            result = ROUTINES[name].function(device, progress=progress, cancel=cancel, **kwargs)
            if cancel.is_set():  # asked while fitting: a cancelled measurement leaves nothing behind
                raise CancelledError("tune-up cancelled")
            return _Measured(result, *_dry_run(result, config))

        return self._submit(task, f"tune-up {name} on {device.name}, qubit {qubit}", ("measure", name),
                            status=Notice(f"{name} on {device.name}: queued"))

    def write(self) -> RunRecord | list[Problem]:
        """Queue the write of the last measurement into the config file (then reload the catalogue)."""
        result, config = self.result, self.config
        problems = self.write_problems()
        if problems:
            self.message = Notice("Not written:", tuple(problems))
            self._emit("state")
            return problems

        def task(progress: Progress, cancel: threading.Event) -> tuple[WriteOutcome, Catalogue | None]:
            outcome = result.write(config)  # atomic: a cancel before it starts means nothing was written
            return outcome, (load_catalogue(config) if outcome.written else None)

        return self._submit(task, f"write {result.routine} calibration of {result.device.name}",
                            ("write", result.routine), message=Notice(f"writing to {config}: queued"))

    def cancel(self) -> bool:
        """Cancel the queued or running tune-up task; False when there is none."""
        record = self.pending
        return record is not None and self.runner.cancel(record)

    def _submit(self, task: Callable[[Progress, threading.Event], Any], label: str, kind: tuple[str, str], *,
                status: Notice | None = None, message: Notice | None = None) -> RunRecord | list[Problem]:
        with self._lock:  # held until pending is set, so the task's events are never missed
            try:
                record = self.runner.submit_task(task, label=label)
            except Exception as exc:  # a closed runner: one line, nothing queued
                problem = Problem.from_error(exc)
                self.status = Notice("Not queued:", (problem,))
                record = None
            else:
                self.pending, self._pending_kind = record, kind
                self.status = status if status is not None else self.status
                self.message = message if message is not None else self.message
        self._emit("state")
        return [problem] if record is None else record

    # -- runner events (worker thread) ----------------------------------------------------------
    def _on_runner(self, record: RunRecord, event: str) -> None:
        with self._lock:
            if record is not self.pending:
                return
            kind, routine = self._pending_kind
        if event in ("started", "progress") and kind == "measure":
            done = f", {record.done}/{record.total} experiments" if record.total else ""
            self.status = Notice(f"{record.label}: running{done}")
        elif event == "finished":
            if kind == "measure":
                self._measured(record, routine)
            else:
                self._wrote(record)
        else:
            return
        self._emit("state")

    def _measured(self, record: RunRecord, routine: str) -> None:
        if record.state == DONE:
            measured: _Measured = record.value
            self.result, self.preview = measured.result, measured.preview
            self.preview_problem = measured.preview_problem
            self.written = None
            for run in measured.result.runs:  # ordinary runs: viewable and exportable in the results panel
                self.session.add_result(run)
            verdict = "fit ok" if measured.result.ok else "fit rejected, nothing to write"
            self.status = Notice(f"{routine} done: {verdict}")
            self.message = self._writability()
        elif record.state == FAILED:
            self.status = Notice(f"{routine} failed:", (record.error or "",))
        elif record.state == CANCELLED:
            self.status = Notice(f"{routine} cancelled: nothing measured, nothing changed")

    def _writability(self) -> Notice:
        result, preview = self.result, self.preview
        if result is None or not result.updates or self.preview_problem is not None or preview is None:
            return Notice()
        if not result.ok or preview.reasons:
            return Notice("Not writable:", tuple(preview.reasons or result.quality.reasons))
        if self.config is None:
            return Notice(NO_CONFIG_NOTE)
        return Notice()

    def _wrote(self, record: RunRecord) -> None:
        if record.state == DONE:
            outcome, catalogue = record.value
            if outcome.written:
                self.written = outcome
                self.message = Notice(outcome.message)
                self.session.reload_catalogue(catalogue)
            else:
                self.message = Notice("Not written:", tuple(outcome.reasons))
        elif record.state == FAILED:
            self.message = Notice("Write failed:", (record.error or "",))
        elif record.state == CANCELLED:
            self.message = Notice("write cancelled: nothing written")


def _dry_run(result: CalibrationResult, config: str | None) -> tuple[WriteOutcome | None, Problem | None]:
    """The diff writing ``result`` would make (nothing is written), or why it cannot be prepared."""
    if not result.updates:
        return None, None
    try:
        return result.write(config, dry_run=True), None
    except Exception as exc:  # a config file that no longer loads, say: one line, the measurement stays
        return None, Problem.from_error(exc, "device")
