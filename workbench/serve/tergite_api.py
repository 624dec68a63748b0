"""The Tergite-compatible API: what the Tergite SDK (``tergite==2025.3.1``) calls, in its order.

``GET /v2/devices`` and ``GET /v2/calibrations/{name}`` describe our pulse devices (derived from their
configs, :mod:`.tergite_devices`); ``POST /jobs?backend=`` registers a job and hands out its upload URL;
the SDK posts the job file there (``upload_file``), which is validated like ``workbench run`` would
before it is queued; ``GET /jobs/{id}`` is the job document with ``status`` and ``result.memory``;
``GET /logfiles/{id}`` the HDF5 logfile ``provider.job()`` reads; ``POST /jobs/{id}/cancel`` cancels.
A path parameter only ever selects a device or a job by name, never a file.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from workbench.errors import DeviceNotFoundError, JobError, UnsupportedError
from workbench.serve.limits import admit
from workbench.serve.runner import job_from_text
from workbench.serve.service import service_of
from workbench.serve.store import (
    AWAITING_AUTH,
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    REGISTERED,
    RUNNING,
    JobRecord,
)
from workbench.serve.tergite_devices import calibration_record, device_record

router = APIRouter(tags=["tergite"])

#: Our states -> the status strings SDK 2025.3.1 maps (REGISTERING shows as QUEUED there).
STATUS = {REGISTERED: "REGISTERING", AWAITING_AUTH: "REGISTERING", QUEUED: "REGISTERING", RUNNING: "RUNNING",
          DONE: "DONE", FAILED: "ERROR", CANCELLED: "CANCELLED"}


def _pulse_device(request: Request, name: str) -> Any:
    service = service_of(request)
    device = service.catalogue.get(name)  # DeviceNotFoundError -> 404 naming the devices
    if not device.is_pulse_device:
        raise DeviceNotFoundError(f"device '{name}' is a gate-level device; the Tergite API serves pulse devices")
    return device


@router.get("/v2/devices")
def devices(request: Request) -> list[dict[str, Any]]:
    """Every available pulse device as a Tergite device record."""
    service = service_of(request)
    out = []
    for name in service.catalogue.names():
        device = service.catalogue.get(name)
        if device.is_pulse_device:
            out.append(device_record(device))
    return out


@router.get("/v2/calibrations/{name}")
def calibrations(name: str, request: Request) -> dict[str, Any]:
    return calibration_record(_pulse_device(request, name))


@router.post("/jobs")
def register(request: Request, backend: str, calibration_date: str | None = None) -> dict[str, Any]:
    """Register a job on ``backend``; answers its id and where to upload the job file."""
    service = service_of(request)
    client = service.client(request)
    device = _pulse_device(request, backend)
    admit(service.settings, service.store, client)
    rec = service.store.create(api="tergite", client=client, device=device.name, status=REGISTERED,
                               request={"calibration_date": calibration_date})
    return {"job_id": rec.id, "upload_url": str(request.url_for("upload", job_id=rec.id))}


@router.post("/jobs/{job_id}/file", name="upload")
async def upload(job_id: str, request: Request, upload_file: UploadFile) -> dict[str, Any]:
    """The job file of a registered job: validated as ``workbench run`` validates it, then queued."""
    service = service_of(request)
    rec = service.store.get(job_id)
    if rec.status != REGISTERED:
        raise JobError(f"job {rec.id} has a job file already (status {STATUS[rec.status]})")
    raw = await upload_file.read()
    await run_in_threadpool(_validate, service, rec, raw)
    if not service.store.transition(rec.id, (REGISTERED,), QUEUED, source=raw.decode("utf-8")):
        raise JobError(f"job {rec.id} has a job file already")
    service.runner.enqueue(rec.id)
    return {"message": rec.id}


def _validate(service: Any, rec: JobRecord, raw: bytes) -> None:
    from workbench.core import prepare

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JobError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    job = job_from_text(text, "upload_file")
    file_id = getattr(job, "job_id", None)
    if file_id not in (None, "", rec.id):
        raise JobError(f"names job {str(file_id)[:64]!r}, but it was uploaded for job {rec.id}", "job_id")
    if job.kind != "pulse":
        raise UnsupportedError(f"the Tergite API runs pulse jobs; this is a {job.kind} job")
    prepare(job, rec.device, catalogue=service.catalogue)


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def job_document(request: Request, rec: JobRecord) -> dict[str, Any]:
    """The job document MSS v2025.03 serves, plus ``failure_reason`` and our run's tuid, seed and shots."""
    doc: dict[str, Any] = {
        "job_id": rec.id, "backend": rec.device, "calibration_date": rec.request.get("calibration_date"),
        "project_id": None, "user_id": None, "status": STATUS.get(rec.status, "ERROR"),
        "created_at": _iso(rec.created), "updated_at": _iso(rec.updated),
        "timelog": {"REGISTERED": _iso(rec.created), "LAST_UPDATED": _iso(rec.updated)},
    }
    if rec.status == DONE and rec.document is not None:
        doc["download_url"] = str(request.url_for("logfile", job_id=rec.id))
        doc["result"] = rec.document.get("result", {"memory": []})
        doc["timelog"]["RESULT"] = _iso(rec.updated)
        doc["workbench"] = {"tuid": rec.tuid, "seed": rec.document.get("seed"), "shots": rec.document.get("shots")}
        for key in ("started", "finished"):  # the run itself (execute), not the time in the queue
            if isinstance(rec.document.get(key), int | float):
                doc["workbench"][key] = _iso(rec.document[key])
    if rec.status in (FAILED, CANCELLED) and rec.error:
        doc["failure_reason"] = rec.error
    return doc


@router.get("/jobs/{job_id}")
def get_job(job_id: str, request: Request) -> dict[str, Any]:
    return job_document(request, service_of(request).store.get(job_id))


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: str, request: Request) -> dict[str, Any]:
    service = service_of(request)
    rec = service.store.get(job_id)
    if not service.runner.cancel(rec.id):
        raise JobError(f"job {rec.id} is {STATUS[rec.status]} already and cannot be cancelled")
    return {"status": "success", "detail": f"Job of id {rec.id} cancelled"}


@router.get("/logfiles/{job_id}", name="logfile")
def logfile(job_id: str, request: Request) -> Response:
    """The HDF5 logfile of a finished job, shaped like Tergite's (the parts the SDK reads)."""
    rec = service_of(request).store.get(job_id)
    if rec.status != DONE or not rec.source:
        raise JobError(f"job {rec.id} has no logfile (status {STATUS[rec.status]})")
    return Response(_hdf5(rec), media_type="application/x-hdf5")


def _hdf5(rec: JobRecord) -> bytes:
    import h5py

    data = json.loads(rec.source or "{}")
    qobj = data.get("params", {}).get("qobj", data) if isinstance(data, dict) else {}
    if isinstance(qobj, str):
        qobj = json.loads(qobj)
    for item in qobj.get("config", {}).get("pulse_library", []):  # stored decoded, as Tergite's backend does
        item["samples"] = _run_length_decoded(item.get("samples", []))
    buf = io.BytesIO()
    with h5py.File(buf, "w") as hdf:
        hdf.attrs["job_id"] = rec.id
        hdf.attrs["tuid"] = rec.tuid or ""
        header = hdf.create_group("header")
        meta = header.create_group("qobj_metadata")
        meta.attrs["shots"] = int((rec.document or {}).get("shots") or qobj.get("config", {}).get("shots", 0))
        meta.attrs["qobj_id"] = str(qobj.get("qobj_id", ""))
        meta.attrs["num_experiments"] = len(qobj.get("experiments", []))
        header.create_group("qobj_data").attrs["experiment_data"] = json.dumps(qobj, indent="\t")
    return buf.getvalue()


def _run_length_decoded(samples: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in samples:
        if isinstance(item, list) and len(item) == 2 and isinstance(item[0], list):
            out.extend([item[0]] * int(item[1]))
        elif isinstance(item, list) and len(item) == 1 and isinstance(item[0], list):
            out.append(item[0])
        else:
            out.append(item)
    return out
