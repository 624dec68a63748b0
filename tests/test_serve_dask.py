"""`workbench serve` on its default path: runs on the server's LocalCluster, which it starts and stops.

One real server (subprocess) for the whole module, so one LocalCluster (the suite's time budget); the
last test stops it. What is checked: runs go through the Dask path, a hardware device (the Qblox dummy
cluster) runs one job at a time even though its twin's simulation is on the workers, a cancel reaches a
running Dask run, and on stop the running job is failed with the reason and no worker process is left.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
from serve_support import Server, poll

from workbench.serve.store import STOPPED_REASON

DATA = Path(__file__).parent / "data" / "serve"
JOB = json.loads((DATA / "c_circuit_1q_h_measure.job.json").read_text())
FINAL = ("DONE", "ERROR", "CANCELLED")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve-dask")
    with Server(root / "data") as srv:  # no --scheduler, no --executor-pool: the default LocalCluster
        yield srv


def job_for(client: httpx.Client, device: str, shots: int = 10, copies: int = 1) -> dict:
    """The SDK's H + measure upload for ``device``: its frequencies from the device's calibration (what the
    SDK does), the experiment repeated ``copies`` times."""
    cal = client.get(f"/v2/calibrations/{device}").json()
    data = json.loads(json.dumps(JOB))
    qobj = data["params"]["qobj"]
    qobj["config"]["shots"] = shots
    (experiment,) = qobj["experiments"]
    for ins in experiment["instructions"]:
        if ins["name"] == "setf":
            record = cal["qubits"][0] if ins["ch"] == "d0" else cal["resonators"][0]
            ins["frequency"] = record["frequency"]["value"] / 1e9
    qobj["experiments"] = [experiment] * copies
    return data


def submit(client: httpx.Client, device: str, data: dict) -> str:
    job = client.post("/jobs", params={"backend": device})
    assert job.status_code == 200, job.text
    job = job.json()
    reply = client.post(job["upload_url"], files={"upload_file": ("job", json.dumps(dict(data, job_id=job["job_id"]))
                                                                   .encode())})
    assert reply.status_code == 200, reply.text
    return job["job_id"]


def trace_of(server: Server, doc: dict) -> dict:
    from workbench.results.datadir import find

    return json.loads((find(doc["workbench"]["tuid"], server.datadir) / "result-trace.json").read_text())


@pytest.mark.slow  # ~25 s: it waits for the module's cluster to start and the Qblox compiler to import
def test_hardware_jobs_never_overlap_though_their_twin_runs_on_the_workers(server):
    """Two clients submit to the Qblox dummy at the same moment; the server's two dispatch threads take
    one each, and the device lock makes the second run start after the first has finished."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        data = job_for(client, "qblox-dummy-1q", shots=20, copies=2)
        ids: list[str] = []
        barrier = threading.Barrier(2)

        def send() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as mine:
                barrier.wait(30)
                ids.append(submit(mine, "qblox-dummy-1q", data))

        senders = [threading.Thread(target=send) for _ in range(2)]
        for t in senders:
            t.start()
        for t in senders:
            t.join(120)
        docs = [poll(client, f"/jobs/{i}", FINAL) for i in ids]
    assert [d["status"] for d in docs] == ["DONE", "DONE"], docs
    runs = sorted((d["workbench"]["started"], d["workbench"]["finished"]) for d in docs)
    assert all(start < end for start, end in runs)
    assert runs[0][1] <= runs[1][0], runs  # the second run started after the first had finished
    for doc in docs:
        trace = trace_of(server, doc)["parallel"]
        assert trace["where"] == "twin" and trace["scheduler"].startswith("LocalCluster at tls://127.0.0.1:")
        assert trace["tasks"] and all(t["worker"].startswith("tls://127.0.0.1:") for t in trace["tasks"])


def test_a_cancel_reaches_a_running_dask_run_and_the_workers_stay_usable(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        long = submit(client, "qutip-1q", job_for(client, "qutip-1q", shots=10, copies=2000))
        deadline = time.monotonic() + 300
        while client.get(f"/jobs/{long}").json()["status"] != "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.post(f"/jobs/{long}/cancel").status_code == 200
        doc = poll(client, f"/jobs/{long}", FINAL)
        assert doc["status"] == "CANCELLED" and doc["failure_reason"] == "cancelled while running", doc
        after = poll(client, f"/jobs/{submit(client, 'qutip-1q', job_for(client, 'qutip-1q'))}", FINAL)
    assert after["status"] == "DONE", after
    assert trace_of(server, after)["parallel"]["where"] == "workers"


def test_stopping_fails_the_running_job_and_leaves_no_worker_process(server, tmp_path):
    """Runs last: it stops the module's server (SIGTERM, what uvicorn turns into an orderly shutdown)."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        long = submit(client, "qutip-1q", job_for(client, "qutip-1q", shots=10, copies=2000))
        deadline = time.monotonic() + 300
        while client.get(f"/jobs/{long}").json()["status"] != "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
    children = psutil.Process(server.proc.pid).children(recursive=True)
    workers = [p for p in children if "python" in p.name().lower()]
    assert len(workers) >= 2  # the cluster's worker processes (and multiprocessing's helpers)
    server.stop()
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [p.cmdline() for p in alive]
    # the job was running: failed with the reason, never run again (a server with no cluster reads the store)
    with Server(server.datadir, "--executor-pool", "threads", port=server.port) as again, \
            httpx.Client(base_url=again.url, timeout=60) as client:
        doc = client.get(f"/jobs/{long}").json()
    assert doc["status"] == "ERROR" and doc["failure_reason"] == STOPPED_REASON
