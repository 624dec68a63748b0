"""The QHAna circuit-executor plugin: one plugin per executor, in the plugin runner's REST shape.

``GET /plugins/`` lists them, ``GET /plugins/<id>/`` is the metadata (tags ``circuit-executor``,
``qc-simulator``/``qc-executor``, ``qasm``, ``qasm-2``, ``qasm-3``; data inputs ``circuit`` and
``executionOptions``; the four output files), ``/plugins/<id>/ui/`` the micro-frontend form,
``POST /plugins/<id>/process/`` takes the form (inputs as URLs, as QHAna passes them, or as uploaded
files) and answers 303 to ``/tasks/<n>/``, the task status in the plugin runner's shape. An executor
that needs credentials which were not given gets the ``authentication`` substep; credentials are held
in memory for the one run and never written. Output files are served from the run's folder by their
fixed names only.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile

from workbench.errors import InputError, JobError, OptionsError
from workbench.serve.fetch import fetch
from workbench.serve.limits import admit
from workbench.serve.runner import job_from_text, prepare_record
from workbench.serve.service import service_of
from workbench.serve.store import AWAITING_AUTH, DONE, FAILED, QUEUED, JobNotFoundError, JobRecord

router = APIRouter(tags=["qhana"])

#: The files a circuit executor outputs, in QHAna's order: name -> (dataType, required).
OUTPUTS = {
    "result-trace.json": ("provenance/trace", True),
    "result-counts.json": ("entity/vector", True),
    "result-statevector.json": ("entity/vector", False),
    "execution-options.json": ("provenance/execution-options", True),
}
BOOL_TRUE = {"1", "true", "t", "yes", "y", "on"}
BOOL_FALSE = {"0", "false", "f", "no", "n", "off", ""}


def _plugins(request: Request) -> dict[str, Any]:
    """identifier -> (executor class, its devices that run circuits)."""
    from workbench.executors.registry import executor_class
    from workbench.results.qhana import plugin_identifier

    service = service_of(request)
    found: dict[str, Any] = {}
    for name in service.catalogue.names():
        device = service.catalogue.get(name)
        try:
            cls = executor_class(device.executor)
        except Exception:  # an executor that does not load: its devices are not offered
            continue
        if "circuit" not in cls.job_kinds:
            continue
        entry = found.setdefault(plugin_identifier(cls.name), (cls, []))
        entry[1].append(device)
    return found


def _plugin(request: Request, identifier: str) -> tuple[Any, list[Any]]:
    found = _plugins(request)
    if identifier not in found:
        raise JobNotFoundError(f"no plugin {identifier[:80]!r}; plugins: {', '.join(sorted(found))}")
    return found[identifier]


def _summary(request: Request, identifier: str, cls: Any) -> dict[str, Any]:
    from workbench._version import __version__

    return {"name": identifier.split("@")[0], "version": f"v{__version__}", "identifier": identifier,
            "apiRoot": str(request.url_for("plugin_metadata", identifier=identifier)),
            "description": cls.title, "tags": _tags(cls)}


def _tags(cls: Any) -> list[str]:
    kind = "qc-simulator" if cls.kind == "simulator" else "qc-executor"
    return ["circuit-executor", kind, "workbench", cls.name, "qasm", "qasm-2", "qasm-3"]


@router.get("/plugins/")
def plugin_list(request: Request) -> dict[str, Any]:
    found = _plugins(request)
    return {"plugins": [_summary(request, i, found[i][0]) for i in sorted(found)]}


@router.get("/plugins/{identifier}/", name="plugin_metadata", response_model=None)
def plugin_metadata(identifier: str, request: Request) -> dict[str, Any] | RedirectResponse:
    """The plugin's metadata; a bare name (``workbench-aer``) redirects (307) to its current version."""
    if "@" not in identifier:
        found = [i for i in _plugins(request) if i.split("@")[0] == identifier]
        if found:
            return RedirectResponse(str(request.url_for("plugin_metadata", identifier=found[0])), status_code=307)
    cls, _ = _plugin(request, identifier)
    summary = _summary(request, identifier, cls)
    return {
        "title": f"Workbench: {cls.title}", "description": cls.title, "name": summary["name"],
        "version": summary["version"], "type": "processing",
        "entryPoint": {
            "href": f"/plugins/{identifier}/process/", "uiHref": f"/plugins/{identifier}/ui/",
            "pluginDependencies": [],
            "dataInput": [
                {"dataType": "executable/circuit", "contentType": ["text/x-qasm"], "required": True,
                 "parameter": "circuit"},
                {"dataType": "provenance/execution-options",
                 "contentType": ["text/csv", "application/json", "application/X-lines+json"], "required": False,
                 "parameter": "executionOptions"},
            ],
            "dataOutput": [{"dataType": t, "contentType": ["application/json"], "required": r, "name": n}
                           for n, (t, r) in OUTPUTS.items()],
        },
        "tags": summary["tags"],
        "links": [{"type": "devices", "href": f"/plugins/{identifier}/devices/"}],
    }


@router.get("/plugins/{identifier}/devices/")
def plugin_devices(identifier: str, request: Request) -> list[dict[str, Any]]:
    """The ``devices`` interaction endpoint: one entry per device this executor runs."""
    from workbench.executors.registry import describe_device

    _, devices = _plugin(request, identifier)
    out = []
    for device in devices:
        entry = describe_device(device)
        out.append({"name": device.name, "vendor": device.vendor, "title": device.title,
                    "description": device.description, "available": bool(entry.get("available", True)),
                    "qubits": device.qubit_count})
    return out


# ------------------------------------------------------------------------------- micro-frontend


def _form_fields(cls: Any, devices: list[Any]) -> list[str]:
    e = html.escape
    options = "".join(f'<option value="{e(d.name)}">{e(d.name)}: {e(d.title)}</option>' for d in devices)
    rows = [
        '<div class="qhana-form-field"><label for="circuit">circuit</label>'
        '<input type="text" name="circuit" id="circuit" data-input-type=data required>'
        '<button class="qhana-choose-file-button" data-input-id="circuit" data-input="executable/circuit" '
        'data-content-type="text/x-qasm" hidden>choose</button></div>',
        '<div class="qhana-form-field"><label for="executionOptions">executionOptions</label>'
        '<input type="text" name="executionOptions" id="executionOptions" data-input-type=data>'
        '<button class="qhana-choose-file-button" data-input-id="executionOptions" '
        'data-input="provenance/execution-options" data-content-type="text/csv application/json '
        'application/X-lines+json" hidden>choose</button></div>',
        f'<div class="qhana-form-field"><label for="device">device</label>'
        f'<select name="device" id="device">{options}</select></div>',
        '<div class="qhana-form-field"><label for="shots">shots</label>'
        '<input type="number" name="shots" id="shots" step=1 min=1 value="1024"></div>',
        '<div class="qhana-form-field"><label for="statevector">statevector</label>'
        '<input type="checkbox" name="statevector" id="statevector"></div>',
    ]
    for spec in cls.options:
        if spec.name in ("statevector", "shots") or spec.secret:
            continue
        kind = "checkbox" if spec.kind is bool else "number" if spec.kind in (int, float) else "text"
        default = "" if spec.default is None or spec.kind is bool else f' value="{e(str(spec.default))}"'
        rows.append(f'<div class="qhana-form-field"><label for="{e(spec.name)}">{e(spec.name)}</label>'
                    f'<input type="{kind}" name="{e(spec.name)}" id="{e(spec.name)}"{default} '
                    f'title="{e(spec.help)}"></div>')
    rows += _credential_fields(cls)
    return rows


def _credential_fields(cls: Any) -> list[str]:
    return [f'<div class="qhana-form-field"><label for="{html.escape(n)}">{html.escape(n)}</label>'
            f'<input type="password" name="{html.escape(n)}" id="{html.escape(n)}"></div>'
            for n in cls.needs_credentials]


def _page(title: str, action: str, rows: list[str], api_action: str) -> str:
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title></head>"
            "<body><form action=\"" + html.escape(action) + "\" method=\"post\" data-target=\"microfrontend\" "
            "class=\"qhana-form\" enctype=\"multipart/form-data\">" + "".join(rows) +
            "<button class=\"qhana-form-submit\" type=\"submit\" data-target=\"microfrontend\">validate</button>"
            "<button class=\"qhana-form-submit\" type=\"submit\" data-target=\"api\" formaction=\""
            + html.escape(api_action) + "\">submit</button></form></body></html>")


@router.get("/plugins/{identifier}/ui/", response_class=HTMLResponse)
def plugin_ui(identifier: str, request: Request) -> str:
    cls, devices = _plugin(request, identifier)
    return _page(f"Workbench: {cls.title}", "", _form_fields(cls, devices), f"/plugins/{identifier}/process/")


# ------------------------------------------------------------------------------------ processing


def _flag(value: Any, name: str) -> bool:
    text = str(value).strip().lower()
    if text in BOOL_TRUE:
        return True
    if text in BOOL_FALSE:
        return False
    raise OptionsError(f"not a boolean: {str(value)[:40]!r}", name)


async def _input_text(form: Any, name: str, request: Request, required: bool) -> tuple[str | None, str | None]:
    """A data input: an uploaded file, else the URL in the field (fetched with the server's rules)."""
    from starlette.concurrency import run_in_threadpool

    value = form.get(name)
    if isinstance(value, UploadFile):
        raw = await value.read()
        try:
            return raw.decode("utf-8"), value.content_type
        except UnicodeDecodeError:
            raise InputError("the uploaded file is not UTF-8 text", name) from None
    if value is None or str(value).strip() == "":
        if required:
            raise InputError("Missing data for required field.", name)
        return None, None
    fetched = await run_in_threadpool(fetch, str(value), service_of(request).settings, name)
    return fetched.text, fetched.content_type


@router.post("/plugins/{identifier}/process/")
async def process(identifier: str, request: Request) -> RedirectResponse:
    """Create a task from the form; 303 to its status (what the plugin runner answers)."""
    from starlette.concurrency import run_in_threadpool

    from workbench.core import option_specs
    from workbench.options import is_secret, parse_options_text

    service = service_of(request)
    cls, devices = _plugin(request, identifier)
    client = service.client(request)
    form = await request.form()
    names = [d.name for d in devices]
    device = str(form.get("device") or names[0])
    if device not in names:
        raise OptionsError(f"not a device of this plugin; devices: {', '.join(names)}", "device")
    circuit, _ = await _input_text(form, "circuit", request, required=True)
    options_text, options_type = await _input_text(form, "executionOptions", request, required=False)
    options = parse_options_text(options_text, "executionOptions", options_type) if options_text else {}
    flags: dict[str, Any] = {}
    shots = form.get("shots")
    if shots not in (None, ""):
        try:
            flags["shots"] = int(str(shots))
        except ValueError:
            raise OptionsError("Not a valid integer.", "shots") from None
    declared = {s.name: s for s in cls.options}
    if "statevector" in declared and form.get("statevector") is not None:
        flags["statevector"] = _flag(form.get("statevector"), "statevector")
    for name, spec in declared.items():
        value = form.get(name)
        if name in ("statevector", "shots") or spec.secret or value is None or isinstance(value, UploadFile):
            continue
        if str(value) == "" and spec.kind is not bool:
            continue
        flags[name] = _flag(value, name) if spec.kind is bool else str(value)
    credentials: dict[str, Any] = {n: str(form.get(n)) for n in cls.needs_credentials if str(form.get(n) or "")}
    specs = option_specs(cls)
    for name in list(options):  # secrets in the options file are used, never stored
        if name in cls.needs_credentials or is_secret(name, specs):
            credentials.setdefault(name, options.pop(name))
    origin = "circuit"
    job = job_from_text(circuit or "", origin)
    if job.kind == "pulse":
        raise JobError("a circuit executor takes OpenQASM circuits (or OpenPulse programs), not a PulseQobj",
                       "circuit")
    request_data = {"options": options, "flags": flags, "options_source": "executionOptions", "origin": origin}
    admit(service.settings, service.store, client)
    rec = service.store.create(api="qhana", client=client, device=device, status=QUEUED, request=request_data,
                               source=circuit, log="")
    try:  # validated as 'workbench run' would, before it is queued
        await run_in_threadpool(prepare_record, rec, service.catalogue)
    except InputError as exc:
        service.store.transition(rec.id, (QUEUED,), FAILED, error=str(exc))
        raise
    if options_text is not None:
        service.store.append_log(rec.id, "loaded execution options")
    missing = [n for n in cls.needs_credentials if n not in credentials]
    if missing:
        service.store.transition(rec.id, (QUEUED,), AWAITING_AUTH)
        service.store.append_log(rec.id, "Started authentication task")
    else:
        service.runner.enqueue(rec.id, credentials)
    return RedirectResponse(str(request.url_for("task_status", seq=rec.seq)), status_code=303)


# ------------------------------------------------------------------------------------ tasks


def _task(request: Request, seq: int) -> JobRecord:
    rec = service_of(request).store.get_seq(seq)
    if rec.api != "qhana":
        raise JobNotFoundError(f"no task {seq}")
    return rec


@router.post("/tasks/{seq}/")
def task_subscribe(seq: int, request: Request) -> dict[str, Any]:
    """QHAna's backend subscribes to task changes here; this server has no webhooks, so it answers the
    status (what the plugin runner answers too) and the backend keeps polling."""
    return task_status(seq, request)


@router.get("/tasks/{seq}/", name="task_status")
def task_status(seq: int, request: Request) -> dict[str, Any]:
    rec = _task(request, seq)
    status = {DONE: "SUCCESS", FAILED: "FAILURE", "cancelled": "FAILURE"}.get(rec.status, "PENDING")
    log = rec.log
    if rec.status != DONE and rec.error and rec.error not in log:
        log = f"{log}\n{rec.error}" if log else rec.error
    out: dict[str, Any] = {"status": status, "log": log}
    if rec.status == AWAITING_AUTH:
        out["progress"] = {"value": 1, "start": 0, "target": 3, "unit": "steps"}
        out["steps"] = [{"href": str(request.url_for("auth_process", seq=seq)),
                         "uiHref": str(request.url_for("auth_ui", seq=seq)), "stepId": "authentication",
                         "cleared": False}]
    outputs = []
    folder = service_of(request).run_folder(rec) if rec.status == DONE else None
    if folder is not None:
        for name, (data_type, _) in OUTPUTS.items():
            if (folder / name).is_file():
                outputs.append({"dataType": data_type, "contentType": "application/json",
                                "href": str(request.url_for("task_file", seq=seq, name=name)), "name": name})
    out["outputs"] = outputs
    out["links"] = [{"type": "subscribe", "href": str(request.url_for("task_status", seq=seq))}]
    return out


@router.get("/tasks/{seq}/files/{name}", name="task_file")
def task_file(seq: int, name: str, request: Request) -> FileResponse:
    """One output file; ``name`` only selects among the fixed output names, it never builds a path."""
    rec = _task(request, seq)
    fixed = next((n for n in OUTPUTS if n == name), None)
    folder = service_of(request).run_folder(rec) if rec.status == DONE else None
    if fixed is None or folder is None or not (folder / fixed).is_file():
        raise JobNotFoundError(f"task {seq} has no output {name[:60]!r}")
    return FileResponse(folder / fixed, media_type="application/json", filename=fixed)


@router.get("/tasks/{seq}/authentication-step-ui/", name="auth_ui", response_class=HTMLResponse)
def auth_ui(seq: int, request: Request) -> str:
    from workbench.executors.registry import executor_class

    rec = _task(request, seq)
    cls = executor_class(service_of(request).catalogue.get(rec.device).executor)
    return _page("Authentication", "", _credential_fields(cls), str(request.url_for("auth_process", seq=seq)))


@router.post("/tasks/{seq}/authentication-step-process", name="auth_process")
async def auth_process(seq: int, request: Request) -> RedirectResponse:
    """The credentials of the authentication substep: held for the run, the task queued, 303 to it."""
    from workbench.executors.registry import executor_class

    service = service_of(request)
    rec = _task(request, seq)
    cls = executor_class(service.catalogue.get(rec.device).executor)
    form = await request.form()
    credentials = {n: str(form.get(n)) for n in cls.needs_credentials if str(form.get(n) or "")}
    missing = [n for n in cls.needs_credentials if n not in credentials]
    if missing:
        raise InputError("Missing data for required field.", missing[0])
    if not service.store.transition(rec.id, (AWAITING_AUTH,), QUEUED):
        raise JobError(f"task {seq} is not waiting for credentials")
    service.store.append_log(rec.id, "Authentication step cleared")
    service.runner.enqueue(rec.id, credentials)
    return RedirectResponse(str(request.url_for("task_status", seq=seq)), status_code=303)
