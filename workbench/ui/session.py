"""The workbench's state as plain Python: what the widgets show and edit, testable without a browser.

A :class:`Session` holds the device catalogue and the selected device, the execution-options form
(one :class:`OptionField` per option the device's executor declares), the job source, the schedule
view's selection and the history of results. It validates with the same core as the CLI
(:func:`workbench.core.prepare`, :func:`workbench.options.resolve_options`), so a form error reads
exactly like the CLI's message for the same value.

Views register callables in :attr:`Session.observers`; each is called with the name of what changed
(one of :data:`EVENTS`). Nothing here imports ipywidgets: a script can drive a Session directly, and
the widgets stay thin.

Credentials never become state: :meth:`Session.set_credential` wraps them in
:class:`~workbench.options.Secret` (which refuses to be pickled or printed) for the next run only, and
:meth:`Session.take_credentials` hands them over and forgets them.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.budgets import BY_OPTION
from workbench.core import Prepared, option_specs, prepare
from workbench.devices.catalogue import DEFAULT_DEVICE, Catalogue
from workbench.devices.model import Device
from workbench.errors import (
    ConfigError,
    DeviceNotFoundError,
    InputError,
    JobError,
    OptionsError,
    UnsupportedError,
    WorkbenchError,
)
from workbench.executors.registry import describe_device, executor_class, load_catalogue
from workbench.jobs import Job, load_job
from workbench.jobs.loader import read_bounded, source_kind
from workbench.options import COMMON_OPTIONS, OptionSpec, Secret, resolve_options
from workbench.results import datadir as datadir_module
from workbench.results.result import Result
from workbench.ui import transfer

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from workbench.executors.base import QuantumExecutor
    from workbench.schedule.ir import Schedule
    from workbench.ui.runner import Runner, RunRecord
    from workbench.ui.schedule_inspector import ScheduleInspector

log = logging.getLogger("workbench.ui")

EVENTS = ("device", "options", "credentials", "job", "schedule", "results", "datadir")
MAX_LISTED_RUNS = 200  # a shared data directory can hold thousands of runs; a list shows the latest
FORM_SOURCE = "workbench form"  # how options set in the form are named in messages and optionSources


# ------------------------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Problem:
    """One error, located, for display next to the input it concerns.

    ``area`` says which part of the workbench it belongs to (``device``, ``options``, ``job``,
    ``schedule``, ``run``); ``option`` names the option for option errors. ``text`` is the one-line
    form the CLI prints after ``error:``.
    """

    area: str
    message: str
    location: str | None = None
    source: str | None = None
    option: str | None = None

    @property
    def text(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        text = " ".join(text.split())
        return f"{self.source}: {text}" if self.source else text

    @classmethod
    def from_error(cls, exc: BaseException, area: str | None = None) -> Problem:
        """A Problem from any exception; only workbench errors keep their text, others become one line."""
        if isinstance(exc, InputError):
            return cls(area or _area_of(exc), exc.message, exc.location, exc.source)
        if isinstance(exc, WorkbenchError):
            return cls(area or "run", " ".join(str(exc).split()))
        message = " ".join(str(exc).split())[:300]
        return cls(area or "run", f"internal error ({type(exc).__name__}: {message})")

    @classmethod
    def for_option(cls, name: str, message: str) -> Problem:
        """A form field's error, located at the option (every form of the workbench words it this way)."""
        return cls("options", message, f"option '{name}'", FORM_SOURCE, name)


def form_value(spec: OptionSpec, raw: Any) -> Any:
    """A value typed into a form, checked with the CLI's rules; raises :class:`OptionsError`.

    The run form and the tune-up form both check their fields here, so the same entry gets the
    same message wherever it is typed."""
    return spec.coerce(raw, FORM_SOURCE)


def _area_of(exc: InputError) -> str:
    if isinstance(exc, OptionsError):
        return "options"
    if isinstance(exc, DeviceNotFoundError | ConfigError):
        return "device"
    if isinstance(exc, JobError | UnsupportedError):
        return "job"
    return "run"


@dataclass(frozen=True)
class OptionField:
    """The form state of one option.

    ``raw`` is what the user entered (None when the field is left to its default); ``effective`` is
    what a run would use (the entry when valid, else the device's / job file's / built-in default;
    None for a seed drawn at run time); ``source`` says where ``effective`` comes from.
    """

    spec: OptionSpec
    raw: Any
    effective: Any
    source: str
    error: str | None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def control(self) -> str:
        """How a form shows it: ``bool`` (a checkbox), ``choice`` (a list) or ``text`` (typed, then checked)."""
        if self.spec.kind is bool:
            return "bool"
        if self.spec.choices:
            return "choice"
        return "text"

    @property
    def placeholder(self) -> str:
        if self.effective is None:
            return "drawn at run time" if self.name == "seed" else "none"
        return f"{self.effective} ({self.source})"


@dataclass(frozen=True)
class JobSource:
    """Where the job came from: ``kind`` is path, text, upload, example or imported.

    ``text`` is the job's text as shown for editing (for an example: the generated PulseQobj);
    ``origin`` the file name errors are attributed to.
    """

    kind: str
    text: str
    origin: str | None = None
    example: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "example":
            return f"example '{self.example}'"
        if self.origin:
            return f"{self.kind} {self.origin}" if self.kind != "path" else self.origin
        return "pasted text"


# ------------------------------------------------------------------------------------------- session


class Session:
    """State of one workbench: device, options, job, schedule selection, results. See the module doc."""

    def __init__(self, catalogue: Catalogue | None = None, *, config: str | os.PathLike[str] | None = None,
                 device: str | None = None, datadir: str | os.PathLike[str] | None = None):
        self.catalogue = catalogue if catalogue is not None else load_catalogue(config)
        self.datadir: Path | None = datadir_module.resolve(datadir)  # runs are kept there (None: nowhere)
        self.datadir_note = ""  # what keeping the last run there did
        self.datadir_problem: Problem | None = None  # why the last run could not be kept there
        self.observers: list[Callable[[str], None]] = []
        self._imported: dict[str, Device] = {}
        self._imported_from: dict[str, str] = {}
        names = self.catalogue.names()
        if device is not None:
            self.catalogue.get(device)  # unknown names raise DeviceNotFoundError listing the known ones
            self._device_key = device
        else:
            self._device_key = DEFAULT_DEVICE if DEFAULT_DEVICE in names else names[0]
        self._overrides: dict[str, Any] = {}
        self._credentials: dict[str, Secret] = {}
        self._source: JobSource | None = None
        self._job: Job | None = None
        self._job_problem: Problem | None = None
        self._schedules: list[Schedule] | None = None
        self._schedule_problem: Problem | None = None
        self._schedules_for: tuple[int, str] | None = None
        self.schedule_experiment = 0
        self.schedule_channels: tuple[str, ...] | None = None  # None: every channel
        self._inspector: ScheduleInspector | None = None
        self._results: list[Result] = []
        self._selected: int | None = None
        self._lock = threading.RLock()  # results arrive from the runner's thread

    def __repr__(self) -> str:
        return (f"<Session device={self._device_key!r} job={self._source.label if self._source else None!r} "
                f"results={len(self._results)}>")

    def __reduce__(self):  # a session may hold credentials for the next run: never pickle it
        raise TypeError("a workbench Session cannot be pickled")

    # -- observers ------------------------------------------------------------------------------
    def _emit(self, *events: str) -> None:
        for event in events:
            for observer in list(self.observers):
                try:
                    observer(event)
                except Exception:  # a broken view must not break the state or the other views
                    log.exception("observer %r failed on %r", observer, event)

    # -- devices --------------------------------------------------------------------------------
    def device_keys(self) -> list[str]:
        """Catalogue devices, then devices rebuilt from imported results."""
        return [*self.catalogue.names(), *self._imported]

    def device_for(self, key: str) -> Device:
        if key in self._imported:
            return self._imported[key]
        return self.catalogue.get(key)

    @property
    def device_key(self) -> str:
        return self._device_key

    @property
    def device(self) -> Device:
        return self.device_for(self._device_key)

    def device_entry(self, key: str | None = None) -> dict[str, Any]:
        """The listing entry (``workbench devices --json``) plus the key and where an import came from."""
        key = key or self._device_key
        entry = describe_device(self.device_for(key))
        entry["key"] = key
        if key in self._imported_from:
            entry["imported_from"] = self._imported_from[key]
        return entry

    def listing(self) -> list[dict[str, Any]]:
        return [self.device_entry(key) for key in self.device_keys()]

    @property
    def executor(self) -> type[QuantumExecutor] | None:
        """The selected device's executor class, None when it cannot be loaded (see :attr:`device_problem`)."""
        try:
            return executor_class(self.device.executor)
        except WorkbenchError:
            return None

    @property
    def device_problem(self) -> Problem | None:
        device = self.device
        try:
            executor_class(device.executor)
        except WorkbenchError as exc:
            return Problem.from_error(exc, "device")
        if not device.available:
            return Problem("device", f"device '{device.name}' is marked unavailable in its configuration")
        return None

    def reload_catalogue(self, catalogue: Catalogue) -> None:
        """Swap in a freshly loaded catalogue (e.g. after a tune-up wrote new calibrations).

        Example jobs are regenerated from the new calibration; every view hears that the device changed.
        """
        self.catalogue = catalogue
        if self._source is not None and self._source.kind == "example":
            self._source = self._example_source(self._source.example or "")
            self._load_job()
        self._emit("device", "options", "job", "schedule")

    def select_device(self, key: str) -> None:
        """Choose a device; options the new executor does not declare and pending credentials are dropped."""
        if key not in self.device_keys():
            raise DeviceNotFoundError(f"unknown device '{key}'; known devices: {', '.join(self.device_keys())}")
        if key == self._device_key:
            return
        self._device_key = key
        declared = {s.name for s in self.option_specs()}
        dropped = sorted(set(self._overrides) - declared)
        for name in dropped:
            del self._overrides[name]
        if dropped:
            log.info("options %s dropped: not declared by executor %s", dropped, self.device.executor)
        self._credentials.clear()
        if self._source is not None and self._source.kind == "example":
            self._source = self._example_source(self._source.example or "")
        self._load_job()
        self._emit("device", "options", "credentials", "job", "schedule")

    # -- options --------------------------------------------------------------------------------
    def option_specs(self) -> tuple[OptionSpec, ...]:
        """The options the form shows: common ones, the executor's and the job's own (an OpenPulse
        program's ``inputs``), credentials excluded."""
        return tuple(s for s in self._all_specs() if not s.secret)

    def _all_specs(self) -> tuple[OptionSpec, ...]:
        cls = self.executor
        specs = option_specs(cls) if cls is not None else COMMON_OPTIONS
        return specs + (self._job.job_options() if self._job is not None else ())

    def credential_names(self) -> tuple[str, ...]:
        """What the credentials prompt asks for: the executor's ``needs_credentials`` and secret options."""
        cls = self.executor
        if cls is None:
            return ()
        names = list(cls.needs_credentials)
        names += [s.name for s in option_specs(cls) if s.secret and s.name not in names]
        return tuple(names)

    def set_option(self, name: str, raw: Any) -> None:
        """Set one option as entered; None or blank text leaves it to its default."""
        if name not in {s.name for s in self.option_specs()}:
            raise KeyError(f"executor of device '{self.device.name}' declares no option '{name}'")
        unset = raw is None or (isinstance(raw, str) and not raw.strip())
        if unset:
            if self._overrides.pop(name, None) is None:
                return
        else:
            if name in self._overrides and self._overrides[name] == raw and type(self._overrides[name]) is type(raw):
                return
            self._overrides[name] = raw
        self._emit("options", *(("schedule",) if name in self._job_option_names() else ()))

    def _job_option_names(self) -> set[str]:
        """Options that change the job itself (and so its schedule preview)."""
        return {s.name for s in self._job.job_options()} if self._job is not None else set()

    def set_options(self, values: Mapping[str, Any]) -> list[str]:
        """Set several options (e.g. from an ``execution-options.json``); returns the names not declared.

        Budgets (docs/budgets.md) are accepted too: the form shows no field for them, but a raised
        budget in an options file is kept for the run."""
        declared = {s.name for s in self.option_specs()} | set(BY_OPTION)
        ignored = [name for name in values if name not in declared]
        for name, value in values.items():
            if name in declared:
                if value is None:
                    self._overrides.pop(name, None)
                else:
                    self._overrides[name] = value
        self._emit("options")
        return ignored

    def reset_options(self) -> None:
        if self._overrides:
            self._overrides.clear()
            self._emit("options")

    @property
    def overrides(self) -> dict[str, Any]:
        """The options set in the form, as entered."""
        return dict(self._overrides)

    def _base_layers(self) -> list[tuple[str, Mapping[str, Any] | None]]:
        layers: list[tuple[str, Mapping[str, Any] | None]] = [(f"device {self.device.name} defaults",
                                                               self.device.defaults)]
        if self._job is not None:
            layers.append(("job file", self._job.option_defaults()))
        return layers

    def option_fields(self) -> list[OptionField]:
        """Every form field with its effective value and inline error (the CLI's rules: resolve_options)."""
        specs = self.option_specs()
        all_specs = self._all_specs()
        try:
            base = resolve_options(all_specs, self._base_layers())
            base_values, base_sources = dict(base.values), dict(base.sources)
        except OptionsError:  # a bad device default or job config; validate() reports it
            base_values = {s.name: s.default for s in specs}
            base_sources = dict.fromkeys(base_values, "default")
        if base_sources.get("seed") == "drawn":
            base_values["seed"] = None
        fields = []
        for spec in specs:
            raw = self._overrides.get(spec.name)
            effective, source, error = base_values.get(spec.name), base_sources.get(spec.name, "default"), None
            if raw is not None:
                try:
                    effective, source = form_value(spec, raw), "set here"
                except OptionsError as exc:
                    error = exc.message
            fields.append(OptionField(spec, raw, effective, source, error))
        return fields

    def option_errors(self) -> dict[str, str]:
        return {f.name: f.error for f in self.option_fields() if f.error is not None}

    # -- credentials ----------------------------------------------------------------------------
    def set_credential(self, name: str, value: Any) -> None:
        """Hold a credential for the next run only, as a Secret; blank values are ignored."""
        if name not in self.credential_names():
            raise KeyError(f"executor of device '{self.device.name}' asks for no credential '{name}'")
        if value is None or (isinstance(value, str) and not value):
            return
        self._credentials[name] = value if isinstance(value, Secret) else Secret(value)
        self._emit("credentials")

    @property
    def pending_credentials(self) -> tuple[str, ...]:
        """Names of the credentials held for the next run (never their values)."""
        return tuple(self._credentials)

    def missing_credentials(self) -> list[str]:
        return [n for n in self.credential_names() if n not in self._credentials]

    def take_credentials(self) -> dict[str, Secret]:
        """Hand the held credentials to a run and forget them."""
        taken, self._credentials = self._credentials, {}
        if taken:
            self._emit("credentials")
        return taken

    def drop_credentials(self) -> None:
        if self._credentials:
            self._credentials.clear()
            self._emit("credentials")

    # -- job ------------------------------------------------------------------------------------
    @property
    def source(self) -> JobSource | None:
        return self._source

    @property
    def job(self) -> Job | None:
        return self._job

    @property
    def job_problem(self) -> Problem | None:
        return self._job_problem

    def set_job_path(self, path: str | os.PathLike[str]) -> None:
        """A job file on the kernel's machine (PulseQobj JSON or OpenQASM)."""
        try:  # bounded: a special file or one over the max_job_mb budget is refused unread
            text = read_bounded(Path(path).expanduser()).decode("utf-8", errors="replace")
        except InputError:  # load_job reports the missing, unreadable or refused file with its path
            text = ""
        self._set_source(JobSource("path", text, str(path)))

    def set_job_text(self, text: str, origin: str | None = None) -> None:
        """Pasted or edited text; ``origin`` names the file it came from, if any. Same text: no change."""
        current = self._source
        if current is not None and current.text == text and (origin is None or origin == current.origin):
            return
        if current is not None and origin is None and current.kind in ("path", "upload", "imported"):
            origin = current.origin  # an edited file is still attributed to that file
        self._set_source(JobSource("text", text, origin))

    def set_job_upload(self, filename: str, content: bytes) -> None:
        """An uploaded file's bytes (from the browser)."""
        try:
            text = content.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            self._source = JobSource("upload", "", filename)
            self._job = None
            self._job_problem = Problem("job", f"not UTF-8 text (byte 0x{content[exc.start]:02x} at offset "
                                        f"{exc.start})", None, filename)
            self._invalidate_schedules()
            self._emit("job", "options", "schedule")
            return
        self._set_source(JobSource("upload", text, filename))

    def set_example(self, name: str) -> None:
        """A built-in example, generated for the selected device (regenerated when the device changes)."""
        self._set_source(self._example_source(name))

    def clear_job(self) -> None:
        self._source = None
        self._job = None
        self._job_problem = None
        self._invalidate_schedules()
        self._emit("job", "options", "schedule")

    def _example_source(self, name: str) -> JobSource:
        from workbench.examples import build, example_file

        shipped = example_file(name)
        if shipped is not None:  # a file: the same on every device
            return JobSource("example", shipped.read_text(encoding="utf-8"), name, name)
        try:
            text = json.dumps(build(name, self.device), indent=2) + "\n"
        except InputError:
            text = ""  # _load_job rebuilds it and reports why it cannot be built here
        return JobSource("example", text, None, name)

    def _set_source(self, source: JobSource) -> None:
        self._source = source
        self._load_job()
        self.schedule_experiment = 0
        self.schedule_channels = None
        self._emit("job", "options", "schedule")

    def _load_job(self) -> None:
        self._job, self._job_problem = None, None
        self._invalidate_schedules()
        source = self._source
        if source is None:
            return
        try:
            self._job = _job_from_source(source, self.device)
        except InputError as exc:
            self._job_problem = Problem.from_error(exc, "job")
        except WorkbenchError as exc:
            self._job_problem = Problem.from_error(exc, "job")

    def job_summary(self) -> str:
        """One line about the loaded job, for the job panel."""
        job = self._job
        if job is None:
            return "no job loaded" if self._job_problem is None else "the job has errors"
        names = job.experiment_names
        shown = ", ".join(names[:3]) + (f", ... ({len(names)} experiments)" if len(names) > 3 else "")
        origin = f" from {self._source.label}" if self._source is not None else ""
        return f"{job.kind} job '{job.name}'{origin}: {shown}"

    # -- schedule -------------------------------------------------------------------------------
    def _invalidate_schedules(self) -> None:
        self._schedules = None
        self._schedule_problem = None
        self._schedules_for = None

    def schedules(self) -> list[Schedule] | None:
        """The job's schedules on the selected device (None, with :attr:`schedule_problem`, when there are none)."""
        job, device = self._job, self.device
        bound = {k: self._overrides.get(k) for k in sorted(self._job_option_names())}
        key = (id(job), self._device_key, repr(bound))
        if self._schedules_for == key:
            return self._schedules
        self._schedules, self._schedule_problem, self._schedules_for = None, None, key
        if job is None:
            self._schedule_problem = self._job_problem or Problem("schedule", "no job loaded")
        elif not device.is_pulse_device:
            self._schedule_problem = Problem(
                "schedule", f"device '{device.name}' runs circuits at gate level and has no pulse schedule; "
                "choose a pulse device to see one")
        else:
            try:
                if bound:  # the job as the form's options make it (an OpenPulse program's inputs)
                    layers = [*self._base_layers(), (FORM_SOURCE, self._overrides)]
                    job = job.bind(resolve_options(self._all_specs(), layers).values)
                self._schedules = job.schedules(device)
            except InputError as exc:
                self._schedule_problem = Problem.from_error(exc, "schedule")
        return self._schedules

    @property
    def schedule_problem(self) -> Problem | None:
        self.schedules()
        return self._schedule_problem

    def schedule_experiment_names(self) -> list[str]:
        if self._job is not None and self._job_option_names():  # inputs may make more experiments
            return [s.name for s in self.schedules() or ()] or list(self._job.experiment_names)
        return list(self._job.experiment_names) if self._job is not None else []

    def schedule_channels_available(self) -> list[str]:
        """Channels of the selected experiment, in lane order."""
        schedules = self.schedules()
        if not schedules:
            return []
        return list(schedules[min(self.schedule_experiment, len(schedules) - 1)].channels)

    def set_schedule_experiment(self, index: int) -> None:
        count = len(self.schedule_experiment_names())
        if not 0 <= index < max(count, 1):
            raise IndexError(f"experiment index {index} out of range (0..{count - 1})")
        if index != self.schedule_experiment:
            self.schedule_experiment = index
            self._emit("schedule")

    def set_schedule_channels(self, channels: Iterable[str] | None) -> None:
        """Show only these channels (None: all of them)."""
        value = None if channels is None else tuple(channels)
        if value != self.schedule_channels:
            self.schedule_channels = value
            self._emit("schedule")

    @property
    def schedule_inspector(self) -> ScheduleInspector:
        """The schedule viewer's state beyond experiment and channels: drawing options, window, selection,
        the event table (:class:`workbench.ui.schedule_inspector.ScheduleInspector`)."""
        if self._inspector is None:
            from workbench.ui.schedule_inspector import ScheduleInspector

            self._inspector = ScheduleInspector(self)
        return self._inspector

    def schedule_figure(self) -> go.Figure | None:
        """The schedule viewer's figure (:class:`workbench.views.schedule_figure.ScheduleDrawing`)."""
        if not self.schedules():
            return None
        return self.schedule_inspector.figure()

    # -- validation -----------------------------------------------------------------------------
    def validate(self) -> Prepared | list[Problem]:
        """Everything a run needs, checked by the core without running: a Prepared, or the problems found."""
        problems: list[Problem] = []
        device_problem = self.device_problem
        if device_problem is not None:
            problems.append(device_problem)
        for field in self.option_fields():
            if field.error is not None:
                problems.append(Problem.for_option(field.name, field.error))
        if self._source is None:
            problems.append(Problem("job", "no job: choose an example, load a file or paste PulseQobj JSON or "
                                    "OpenQASM"))
        elif self._job_problem is not None:
            problems.append(self._job_problem)
        if problems:
            return problems
        try:
            return prepare(self._job, self.device, options=self._overrides, options_source=FORM_SOURCE)
        except Exception as exc:  # reported, never raised: the views show one line
            if not isinstance(exc, WorkbenchError):
                log.debug("prepare failed", exc_info=True)
            return [Problem.from_error(exc)]

    def submit_run(self, runner: Runner, *, parallel: Any = None) -> RunRecord | list[Problem]:
        """What Run does: validate, check the credentials, queue the run on ``runner``.

        Returns the queued record, or the problems that refused it (never raised: a view lists them).
        A refused run keeps the credentials held for the next attempt; a queued one takes them along.
        ``parallel`` is :func:`workbench.api.execute`'s.
        """
        outcome = self.validate()
        if isinstance(outcome, list):
            return outcome
        missing = self.missing_credentials()
        if missing:
            return [Problem("run", f"the executor needs credentials: {', '.join(missing)}")]
        try:
            return runner.submit(outcome, credentials=self.take_credentials(), parallel=parallel)
        except Exception as exc:  # a closed runner, say: still one line
            return [Problem.from_error(exc)]

    # -- results --------------------------------------------------------------------------------
    @property
    def results(self) -> tuple[Result, ...]:
        with self._lock:
            return tuple(self._results)

    @property
    def selected_index(self) -> int | None:
        return self._selected

    @property
    def selected_result(self) -> Result | None:
        with self._lock:
            return self._results[self._selected] if self._selected is not None else None

    def add_result(self, result: Result, *, keep: bool = True) -> None:
        """Append to the history (earlier results stay) and select it, fitted with the analysis it calls
        for; with a data directory, a new run (``keep``) is also kept there. A run that cannot be kept
        stays in the history, and :attr:`datadir_problem` says why."""
        auto_analyse(result)
        if keep and self.datadir is not None:
            self._keep(result)
        with self._lock:
            self._results.append(result)
            self._selected = len(self._results) - 1
        self._emit("results")

    # -- data directory -------------------------------------------------------------------------
    def set_datadir(self, folder: str | os.PathLike[str] | None) -> None:
        """Keep the next runs in ``folder`` (None or blank: in none) and browse it."""
        text = os.fspath(folder).strip() if folder is not None else ""
        self.datadir = Path(text).expanduser() if text else None
        self.datadir_note, self.datadir_problem = "", None
        self._emit("datadir")

    def _keep(self, result: Result) -> None:
        try:
            folder = result.to_datadir(self.datadir)
        except Exception as exc:  # the run itself is fine: keep it in the history, say why it is not kept
            self.datadir_note, self.datadir_problem = "", Problem.from_error(exc, "run")
        else:
            self.datadir_note, self.datadir_problem = f"kept {result.tuid} in {folder}", None
        self._emit("datadir")

    def datadir_entries(self, *, device: str | None = None, contains: str = "",
                        limit: int = MAX_LISTED_RUNS) -> list[datadir_module.Entry]:
        """The data directory's last ``limit`` runs, newest first (none without a data directory, or when it
        does not exist yet)."""
        if self.datadir is None or not self.datadir.is_dir():
            return []
        return datadir_module.entries(self.datadir, device=device, contains=contains, newest=limit)[::-1]

    def load_from_datadir(self, tuid: str) -> Result:
        """A run of the data directory, added to the history (and selected) as it was run."""
        if self.datadir is None:
            raise InputError("no data directory: give the workbench one first")
        folder = datadir_module.find(tuid, self.datadir)
        assert folder is not None
        result = Result.load(folder)
        self.add_result(result, keep=False)
        return result

    def select_result(self, index: int) -> None:
        with self._lock:
            if not 0 <= index < len(self._results):
                raise IndexError(f"result index {index} out of range (0..{len(self._results) - 1})")
            changed = index != self._selected
            self._selected = index
        if changed:
            self._emit("results")

    def follow(self, runner: Runner) -> None:
        """Add every result the runner finishes to the history."""
        runner.observers.append(self._on_run_event)

    def _on_run_event(self, record: RunRecord, event: str) -> None:
        if event == "finished" and record.result is not None:
            self.add_result(record.result)

    # -- export / import ------------------------------------------------------------------------
    def export_result(self, folder: str | os.PathLike[str] | None = None, *, result: Result | None = None,
                      report: bool = True, archive: bool = False) -> transfer.ExportedFiles:
        """The selected (or given) result as its output folder (default ``results/<tuid>``), with
        ``report.html`` and optionally a zip beside it."""
        result = result or self.selected_result
        if result is None:
            raise InputError("no result to export yet: run a job or import a result first")
        target = Path(folder) if folder else Path("results") / result.tuid
        return transfer.export_result(result, target, report=report, archive=archive)

    def import_result(self, path: str | os.PathLike[str]) -> Result:
        """A colleague's output folder, zip or dataset.nc: added to the history with its device and job."""
        result = transfer.load_result(path)
        self._adopt(result, Path(path).name)
        return result

    def import_upload(self, filename: str, content: bytes) -> Result:
        result = transfer.load_result_bytes(filename, content)
        self._adopt(result, filename)
        return result

    def _adopt(self, result: Result, label: str) -> None:
        """Bring back what produced a result: its device (calibration included), job and options."""
        config = result.device_config
        try:
            device = Device.model_validate(config)
        except Exception as exc:  # pydantic's error; the result itself is still worth showing
            log.warning("device of imported result %s not rebuilt: %s", result.tuid, str(exc).splitlines()[0])
            device = None
        if device is not None:
            key = device.name
            same = (key in self.catalogue.names()
                    and self.catalogue.get(key).model_dump(mode="json") == device.model_dump(mode="json"))
            if not same:
                key = f"{device.name} (from {result.tuid})"
                self._imported[key] = device
                self._imported_from[key] = label
            if key != self._device_key:
                self._device_key = key
                self._credentials.clear()
                self._overrides = {k: v for k, v in self._overrides.items()
                                   if k in {s.name for s in self.option_specs()}}
        job_text = str(result.dataset.attrs.get("job_source", ""))
        job_name = str(result.dataset.attrs.get("job_filename", "") or "job.json")
        if job_text:
            self._source = JobSource("imported", job_text, f"{label}/{job_name}")
            self._load_job()
            self.schedule_experiment, self.schedule_channels = 0, None
        declared = {s.name for s in self.option_specs()}
        self._overrides = {k: v for k, v in result.options.items() if k in declared and v is not None}
        auto_analyse(result)
        with self._lock:
            self._results.append(result)
            self._selected = len(self._results) - 1
        self._emit("device", "options", "credentials", "job", "schedule", "results")


def auto_analyse(result: Result) -> None:
    """Fit a result with the analysis it calls for (a built-in example's, or the one its sweep implies),
    unless it holds one, so the results panel, its export and the report show the parameters. A result
    no analysis applies to, or whose analysis cannot run, is shown as it is (logged, never raised)."""
    if result.analysis is not None:
        return
    from workbench.analysis import choose

    try:
        if choose(result.dataset) is not None:
            result.analyse()
    except Exception as exc:  # the result is still worth showing without its fit
        log.info("result %s not analysed: %s", result.tuid, " ".join(str(exc).split())[:200])


def _job_from_source(source: JobSource, device: Device) -> Job:
    """Load a job the way the CLI does, attributing errors to the file the text came from."""
    if source.kind == "path":
        return load_job(Path(source.origin or "").expanduser())
    if source.kind == "example":
        from workbench.examples import build, example_file

        shipped = example_file(source.example or "")
        if shipped is not None:  # chosen from the list: the shipped file, whatever the kernel's folder holds
            return load_job(shipped)
        return load_job(build(source.example or "", device))
    text = source.text
    if not text.strip():
        raise JobError("the job is empty: paste PulseQobj JSON or OpenQASM, load a file or choose an example",
                       None, source.origin)
    origin = source.origin
    if source_kind(text, pasted=True) in ("qasm", "openpulse"):  # pasted text is never a path
        from workbench.jobs.loader import load_qasm

        return load_qasm(text, origin)
    try:
        return load_job(text)
    except JobError as exc:
        if origin and exc.source is None:
            raise JobError(exc.message, exc.location, origin) from None
        raise
