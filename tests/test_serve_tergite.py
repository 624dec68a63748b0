"""`workbench serve` as a Tergite backend: the requests the Tergite SDK (2025.3.1) makes, and the SDK itself.

* The replay tests send the requests recorded from the real SDK (tests/data/serve/*.traffic.json,
  captured against a stand-in server; the uploaded job files byte for byte) to a real server, with the
  recorded device names mapped to ours, and read the answers the way the SDK reads them.
* ``test_unmodified_sdk_runs_on_the_server`` installs ``tergite==2025.3.1`` into its own virtual
  environment (it needs qiskit < 1.3; cached per version, see :func:`sdk_python`) and runs
  tests/data/serve/tergite_sdk_client.py in it against the server. When the SDK cannot be installed,
  the test says why (a warning) and replays the recorded traffic instead.

In both, the counts the SDK would show are compared with ``workbench run`` on the same job file with
the seed the server recorded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import h5py
import httpx
import pytest
from serve_support import Server, poll

DATA = Path(__file__).parent / "data" / "serve"
TOKEN = "tok-workbench-tests-0123456789"
SDK_VERSION = "2025.3.1"
DEVICE_NAMES = {"qiskit_pulse_1q": "qutip-1q", "qiskit_pulse_2q": "qutip-2q"}
SCENARIOS = ("a_x_gate_drag_schedule", "b_sampled_waveform_rle", "c_circuit_1q_h_measure")
#: TergiteBackendConfig (a dataclass in SDK 2025.3.1): any other key makes the SDK drop the device.
DEVICE_REQUIRED = {"name", "version", "number_of_qubits", "is_online", "basis_gates", "coupling_map", "coordinates",
                   "is_simulator", "characterized", "open_pulse", "meas_map"}
DEVICE_OPTIONAL = {"_id", "last_online", "description", "created_at", "updated_at", "simulator", "num_qubits",
                   "num_couplers", "num_resonators", "online_date", "dt", "dtm", "timelog", "coupling_dict",
                   "coupled_qubit_idxs", "qubit_ids_coupler_dict", "qubit_ids_coupler_map", "qubit_ids",
                   "meas_lo_freq", "qubit_lo_freq", "gates", "is_active", "properties"}
SDK_STATUSES = {"REGISTERING", "INITIALIZING", "VALIDATING", "RUNNING", "DONE", "ERROR", "CANCELLED"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve-tergite")
    with Server(root / "data", env={"WORKBENCH_SERVE_TOKENS": TOKEN}) as srv:
        yield srv


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def counts_from_memory(memory: list[str], width: int) -> dict[str, int]:
    """What the SDK's ``result.get_counts()`` shows: hex memory (bit i = slot i) as bit strings, slot 0 right."""
    return dict(Counter(format(int(h, 16), f"0{width}b") for h in memory))


def cli_counts(run_cli, tmp_path: Path, job_file: Path, device: str, seed: int) -> dict[str, int]:
    out = tmp_path / f"cli-{job_file.parent.name}-{device}"
    proc = run_cli("run", str(job_file), "--device", device, "--seed", str(seed), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    counts = json.loads((out / "result-counts.json").read_text())
    counts.pop("ID")
    return counts


def job_file_of(server: Server, tuid: str) -> Path:
    from workbench.results.datadir import find

    folder = find(tuid, server.datadir)
    return folder / "job.json"


def replay(server: Server, scenario: str) -> dict:
    """The recorded SDK requests of one scenario, sent to ``server`` in their order; returns the final job doc."""
    record = json.loads((DATA / f"{scenario}.traffic.json").read_text())
    upload = (DATA / f"{scenario}.job.json").read_text()
    recorded_id = record["job_id"]
    job: dict = {}
    with httpx.Client(base_url=server.url, headers=auth(), timeout=60) as client:
        for entry in record["traffic"]:
            if "marker" in entry:
                continue
            req, expected = entry["request"], entry["response"]["status"]
            path = req["path"]
            if entry["server"] == "bcc" and req["method"] == "POST":  # the upload, to the URL we handed out
                text = upload.replace(recorded_id, job["job_id"])
                reply = client.post(job["upload_url"], files={"upload_file": (recorded_id, text.encode())})
                assert reply.status_code == expected, reply.text
                assert reply.json() == {"message": job["job_id"]}
                continue
            if path.startswith("/logfiles/"):
                reply = client.get(job["download_url"])
                assert reply.status_code == expected
                check_logfile(reply.content, job["job_id"], json.loads(text))
                continue
            if path == "/jobs" and req["method"] == "POST":
                query = {k: DEVICE_NAMES.get(v[0], v[0]) for k, v in req["query"].items()}
                reply = client.post("/jobs", params=query, content=b"")
                assert reply.status_code == expected, reply.text
                job = reply.json()
                assert set(job) >= {"job_id", "upload_url"}
                continue
            if path.startswith("/jobs/"):
                doc = poll(client, f"/jobs/{job['job_id']}", ("DONE", "ERROR", "CANCELLED"))
                assert doc["status"] == "DONE", doc
                job["download_url"] = doc["download_url"]
                job["doc"] = doc
                continue
            for theirs, ours in DEVICE_NAMES.items():
                path = path.replace(theirs, ours)
            reply = client.get(path)
            assert reply.status_code == expected, reply.text
            if path == "/v2/devices":
                check_devices(reply.json())
            else:
                check_calibration(reply.json())
    return job


def check_devices(records: list[dict]) -> None:
    names = {r["name"] for r in records}
    assert {"qutip-1q", "qutip-2q"} <= names and "aer-simulator" not in names  # pulse devices only
    for record in records:
        assert set(record) >= DEVICE_REQUIRED and set(record) <= DEVICE_REQUIRED | DEVICE_OPTIONAL, record["name"]
        assert record["open_pulse"] is True and record["num_qubits"] == record["number_of_qubits"]
    two = next(r for r in records if r["name"] == "qutip-2q")
    assert two["qubit_ids_coupler_map"] == [[[0, 1], 0], [[1, 0], 0]] and two["dt"] == 1e-9


def check_calibration(cal: dict) -> None:
    assert {"name", "version", "last_calibrated", "qubits"} <= set(cal) and isinstance(cal["last_calibrated"], str)
    for q in cal["qubits"]:
        for key in ("frequency", "pi_pulse_amplitude", "pi_pulse_duration", "pulse_sigma"):
            assert isinstance(q[key]["value"], float | int)
    for r in cal["resonators"]:
        for key in ("frequency", "pulse_amplitude", "pulse_duration", "acq_integration_time"):
            assert isinstance(r[key]["value"], float | int)


def check_logfile(raw: bytes, job_id: str, upload: dict) -> None:
    """What SDK 2025.3.1's ``provider.job()`` reads from the HDF5 logfile."""
    import io

    with h5py.File(io.BytesIO(raw), "r") as hdf:
        meta = hdf["header/qobj_metadata"].attrs
        qobj = upload["params"]["qobj"]
        assert meta["qobj_id"] == qobj["qobj_id"] and meta["num_experiments"] == len(qobj["experiments"])
        data = json.loads(hdf["header/qobj_data"].attrs["experiment_data"])
        assert hdf.attrs["job_id"] == job_id
    for item in data["config"]["pulse_library"]:  # stored run-length decoded, [re, im] per sample
        assert all(len(s) == 2 and all(isinstance(v, float | int) for v in s) for s in item["samples"])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_recorded_sdk_requests_replayed_give_the_cli_counts(server, scenario, run_cli, tmp_path):
    job = replay(server, scenario)
    doc = job["doc"]
    assert doc["status"] in SDK_STATUSES and doc["backend"] == "qutip-1q"
    upload = json.loads((DATA / f"{scenario}.job.json").read_text())
    qobj = upload["params"]["qobj"]
    (memory,) = doc["result"]["memory"]  # one experiment; len(memory) == len(experiments), as the SDK requires
    assert len(memory) == qobj["config"]["shots"] and all(h.startswith("0x") for h in memory)
    sdk_counts = counts_from_memory(memory, qobj["config"]["memory_slots"])
    seed = doc["workbench"]["seed"]
    assert cli_counts(run_cli, tmp_path, job_file_of(server, doc["workbench"]["tuid"]), "qutip-1q", seed) == sdk_counts


def test_a_bad_job_file_is_refused_with_the_cli_message_and_never_queued(server, run_cli, tmp_path):
    good = json.loads((DATA / "a_x_gate_drag_schedule.job.json").read_text())
    with httpx.Client(base_url=server.url, headers=auth(), timeout=60) as client:
        job = client.post("/jobs", params={"backend": "qutip-1q"}).json()
        bad = dict(good, job_id=job["job_id"])
        bad["params"] = {"qobjj": good["params"]["qobj"]}
        reply = client.post(job["upload_url"], files={"upload_file": ("x", json.dumps(bad).encode())})
        assert reply.status_code == 422
        detail = reply.json()["detail"]
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad))
        proc = run_cli("run", str(path), "--device", "qutip-1q", "--out", str(tmp_path / "o"))
        assert proc.returncode == 2 and proc.stderr.strip() == f"error: {path}: {detail}"
        assert client.get(f"/jobs/{job['job_id']}").json()["status"] == "REGISTERING"

        other = dict(good, job_id="00000000-0000-4000-8000-00000000abcd")
        reply = client.post(job["upload_url"], files={"upload_file": ("x", json.dumps(other).encode())})
        assert reply.status_code == 422 and "uploaded for job" in reply.json()["detail"]
        assert client.post("/jobs", params={"backend": "no-such-device"}).status_code == 404
        assert client.post("/jobs", params={"backend": "aer-simulator"}).status_code == 404
        assert client.get("/jobs/not-a-job").status_code == 404
        cancelled = client.post(f"/jobs/{job['job_id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "success"
        assert client.get(f"/jobs/{job['job_id']}").json()["status"] == "CANCELLED"
    with httpx.Client(base_url=server.url, timeout=60) as client:
        assert client.get("/v2/devices").status_code == 401  # the SDK's 'Unauthorized' (no token)
        assert client.get("/v2/devices", headers={"Authorization": "Bearer wrong-token-0000000"}).status_code == 401
        docs = client.get("/docs")  # open without a token, and whole without a CDN: no script at all
        assert docs.status_code == 200 and "<script" not in docs.text
        assert "/v2/devices" in docs.text and "/jobs/{job_id}" in docs.text and "/openapi.json" in docs.text
    assert TOKEN not in server.log.read_text()


# ---------------------------------------------------------------------------------- the real SDK


def sdk_python() -> tuple[Path | None, str]:
    """The Python of a venv with the unmodified Tergite SDK, created once per version under the user's
    cache (``$WORKBENCH_TEST_CACHE`` or ``~/.cache/workbench-tests``); (None, why) when it cannot be made."""
    cache = Path(os.environ.get("WORKBENCH_TEST_CACHE") or Path.home() / ".cache" / "workbench-tests")
    venv = cache / f"tergite-{SDK_VERSION}"
    python = venv / "bin" / "python"
    if python.exists():
        return python, "cached"
    cache.mkdir(parents=True, exist_ok=True)
    staging = cache / f"tergite-{SDK_VERSION}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    try:
        subprocess.run([base, "-m", "venv", str(staging)], check=True, capture_output=True, timeout=300)
        proc = subprocess.run([str(staging / "bin" / "pip"), "install", "-q", f"tergite=={SDK_VERSION}"],
                              capture_output=True, text=True, timeout=1800)
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return None, f"cannot create a venv: {exc}"
    if proc.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        return None, f"pip install tergite=={SDK_VERSION} failed: {proc.stderr.strip().splitlines()[-1:]}"
    try:
        staging.rename(venv)  # venvs are relocatable enough for `python script.py` (absolute shebangs unused)
    except OSError:  # another run made it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return python, "installed"


@pytest.mark.slow
def test_unmodified_sdk_runs_on_the_server(server, run_cli, tmp_path):
    python, how = sdk_python()
    if python is None:
        warnings.warn(f"Tergite SDK {SDK_VERSION} not installable here ({how}); replaying its recorded traffic",
                      stacklevel=1)
        for scenario in SCENARIOS:
            assert replay(server, scenario)["doc"]["status"] == "DONE"
        return
    out = tmp_path / "sdk.json"
    sdk_tmp = tmp_path / "sdk-tmp"  # the SDK writes its uploads and logfiles (<job_id>.hdf5) to tempfile.gettempdir()
    sdk_tmp.mkdir()
    env = {"HOME": str(tmp_path), "TMPDIR": str(sdk_tmp), "PATH": os.environ.get("PATH", "")}
    proc = subprocess.run([str(python), str(DATA / "tergite_sdk_client.py"), server.url, TOKEN, str(out)],
                          capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert {"qutip-1q", "qutip-2q"} <= set(report["backends"])
    jobs = report["jobs"]
    # the calibrated pi pulse (T1 decay and readout noise flip a few shots)
    assert sum(jobs["schedule_1q"]["counts"].values()) == 200 and jobs["schedule_1q"]["counts"]["1"] > 180
    assert sum(jobs["circuit_1q"]["counts"].values()) == 200 and len(jobs["circuit_1q"]["counts"]) == 2
    assert jobs["schedule_2q"]["counts"]["10"] > 90  # X on qubit 1 only; qubit 1 is the left bit
    assert report["reloaded_status"] == "JobStatus.DONE"
    assert Path(report["logfile"]).parent == sdk_tmp and Path(report["logfile"]).is_file()  # not left in /tmp
    with httpx.Client(base_url=server.url, headers=auth(), timeout=60) as client:
        for key, device in (("schedule_1q", "qutip-1q"), ("circuit_1q", "qutip-1q"), ("schedule_2q", "qutip-2q")):
            doc = client.get(f"/jobs/{jobs[key]['job_id']}").json()
            assert jobs[key]["status"] == "JobStatus.DONE"
            job_file = job_file_of(server, doc["workbench"]["tuid"])
            assert cli_counts(run_cli, tmp_path, job_file, device, doc["workbench"]["seed"]) == jobs[key]["counts"]


def test_the_api_reference_page_escapes_what_the_openapi_document_says():
    from workbench.serve.api_docs import openapi_html

    spec = {"info": {"title": "<b>t</b>", "version": "1"}, "paths": {"/x/{id}": {"post": {
        "tags": ["jobs"], "summary": "make <script>alert(1)</script>", "description": "why\nand how",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
            "type": "array", "items": {"$ref": "#/components/schemas/Job"}}}}}}}}}}
    page = openapi_html(spec)
    assert "<script" not in page and "&lt;script&gt;" in page and "<b>t</b>" not in page
    assert "<code>/x/{id}</code>" in page and "array of Job" in page and "<h2>jobs</h2>" in page
