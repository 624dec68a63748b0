"""Benchmark: ``workbench serve`` under load -- 200 Tergite jobs from 20 concurrent clients, a restart in the middle.

Run with ``python benchmarks/bench_serve.py [--jobs 200] [--clients 20] [--workers 2] [--executor-pool dask|threads]
[--no-restart]``. Measured in this one run and printed:

* the baseline: the same job run ``--baseline`` times in this process, as the server's worker does it
  (``workbench.api.run`` on ``qutip-1q``, the run kept in a data directory), serially: jobs/s;
* the first job: a fresh server, one job submitted as soon as it answers, submit -> DONE (with the
  default ``dask`` pool this includes starting the LocalCluster and warming its workers);
* the server: a real ``workbench serve`` (subprocess, ``--workers`` dispatch threads, ``--executor-pool``)
  and ``--clients`` threads, each submitting its share of the jobs the way the Tergite SDK does (``POST /jobs``, upload,
  poll ``GET /jobs/{id}`` until final). Half-way through (once half the jobs are accepted) the server
  is stopped (SIGTERM) and started again on the same store; clients retry what failed to connect.
  Printed: jobs/s over the whole run, latency percentiles (submit -> DONE seen by the client), the
  ratio of the server's jobs/s to the baseline's, and the accounting: every job DONE exactly once, or
  failed by the restart (``the server stopped while the job was running``) and resubmitted by its
  client -- none lost, none run twice (one run folder per DONE job).

The job is the Tergite SDK's own upload of a one-qubit H + measure circuit (tests/data/serve), 10 shots.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

JOB = json.loads((ROOT / "tests" / "data" / "serve" / "c_circuit_1q_h_measure.job.json").read_text())
STOPPED = "the server stopped while the job was running"
POLL = 0.25  # seconds between a client's status requests
LOGS = Path(os.environ.get("BENCH_SERVE_LOGS", tempfile.gettempdir()))  # the servers' stderr, one file per port


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(datadir: Path, port: int, workers: int, pool: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_SERVE_TOKENS", "WORKBENCH_DATADIR")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    with open(LOGS / f"server-{port}.log", "ab") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "workbench", "serve", "--port", str(port), "--datadir",
                                 str(datadir), "--workers", str(workers), "--executor-pool", pool,
                                 "--max-per-client", "1000"],
                                env=env, stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def baseline(n: int, datadir: Path) -> float:
    from workbench.api import run

    run(JOB, "qutip-1q")  # imports and first-call costs out of the measurement
    t0 = time.perf_counter()
    for _ in range(n):
        run(JOB, "qutip-1q").to_datadir(datadir)
    return n / (time.perf_counter() - t0)


class Client(threading.Thread):
    def __init__(self, url: str, jobs: int, accepted: list, lock: threading.Lock):
        super().__init__(daemon=True)
        self.url, self.jobs, self.accepted, self.lock = url, jobs, accepted, lock
        self.latencies: list[float] = []
        self.done: list[dict] = []
        self.resubmitted = 0
        self.failures: list[str] = []
        self.http = httpx.Client(timeout=30)  # one connection pool per client, as the SDK's session keeps

    def call(self, method: str, url: str, **kw) -> httpx.Response:
        for _ in range(600):  # the server may be restarting: retry on connection errors
            try:
                return self.http.request(method, url, **kw)
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server unreachable")

    def submit(self) -> str:
        while True:
            job = self.call("POST", f"{self.url}/jobs", params={"backend": "qutip-1q"}).json()
            data = dict(JOB, job_id=job["job_id"])
            reply = self.call("POST", job["upload_url"], files={"upload_file": ("job", json.dumps(data).encode())})
            if reply.status_code == 200:
                with self.lock:
                    self.accepted.append(job["job_id"])
                return job["job_id"]

    def run(self) -> None:
        for _ in range(self.jobs):
            t0 = time.perf_counter()
            job_id = self.submit()
            while True:
                doc = self.call("GET", f"{self.url}/jobs/{job_id}").json()
                if doc["status"] == "DONE":
                    self.latencies.append(time.perf_counter() - t0)
                    self.done.append(doc)
                    break
                if doc["status"] in ("ERROR", "CANCELLED"):
                    if doc.get("failure_reason", "").startswith(STOPPED):
                        self.resubmitted += 1
                        job_id = self.submit()
                        continue
                    self.failures.append(doc.get("failure_reason", doc["status"]))
                    break
                time.sleep(POLL)


def first_job(datadir: Path, workers: int, pool: str) -> float:
    """Seconds from submitting one job to seeing it DONE, on a server that has just started answering."""
    port = free_port()
    proc = start(datadir, port, workers, pool)
    try:
        client = Client(f"http://127.0.0.1:{port}", 1, [], threading.Lock())
        client.run()
        if not client.latencies:
            raise SystemExit(f"FAILED: the first job did not finish: {client.failures}")
        return client.latencies[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--executor-pool", dest="pool", choices=("dask", "threads"), default="dask")
    parser.add_argument("--baseline", type=int, default=20)
    parser.add_argument("--no-restart", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline(args.baseline, Path(tmp) / "baseline")
        print(f"baseline: {args.baseline} jobs in this process, serially: {base:.2f} jobs/s")
        first = first_job(Path(tmp) / "first", args.workers, args.pool)
        print(f"first job on a fresh server ({args.pool}): submit -> DONE {first:.2f} s")
        datadir, port = Path(tmp) / "serve", free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start(datadir, port, args.workers, args.pool)
        accepted: list[str] = []
        lock = threading.Lock()
        share = [args.jobs // args.clients + (i < args.jobs % args.clients) for i in range(args.clients)]
        clients = [Client(url, n, accepted, lock) for n in share]
        t0 = time.perf_counter()
        for c in clients:
            c.start()
        restart_at = None
        if not args.no_restart:
            while len(accepted) < args.jobs // 2:
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            proc.wait(120)
            restart_at = time.perf_counter() - t0
            proc = start(datadir, port, args.workers, args.pool)
        for c in clients:
            c.join()
        elapsed = time.perf_counter() - t0
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
        latencies = [x for c in clients for x in c.latencies]
        done = [d for c in clients for d in c.done]
        failures = [f for c in clients for f in c.failures]
        tuids = [d["workbench"]["tuid"] for d in done]
        folders = [p.name for p in datadir.glob("2*/2*") if p.is_dir()]
        resubmitted = sum(c.resubmitted for c in clients)
        rate = len(done) / elapsed
        print(f"server: {args.jobs} jobs from {args.clients} clients, {args.workers} workers, {args.pool}"
              + (f", restarted at {restart_at:.1f} s" if restart_at is not None else "")
              + f": {elapsed:.1f} s, {rate:.2f} jobs/s ({rate / base:.2f}x the serial baseline)")
        print(f"latency submit -> DONE: p50 {percentile(latencies, 50):.2f} s, p90 {percentile(latencies, 90):.2f} s,"
              f" p95 {percentile(latencies, 95):.2f} s,"
              f" p99 {percentile(latencies, 99):.2f} s, max {max(latencies):.2f} s")
        print(f"accounting: {len(done)} DONE (wanted {args.jobs}), {len(set(tuids))} distinct runs, "
              f"{len(folders)} run folders, {resubmitted} failed by the restart and resubmitted, "
              f"{len(failures)} other failures, lost {args.jobs - len(done) - len(failures)}")
        if len(done) != args.jobs or len(set(tuids)) != len(done) or failures:
            raise SystemExit("FAILED: jobs lost, duplicated or failed")


if __name__ == "__main__":
    main()
