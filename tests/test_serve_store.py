"""`workbench serve`'s job store and limits: restarts lose no job and run none twice; bounds give 413/429/503.

Real servers in subprocesses; a restart in the middle is a SIGKILL (nothing cleaned up) and, in the
second test, an orderly SIGTERM.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import postgres_support
import pytest
from serve_support import Server, free_port, poll

from workbench.serve.store import STOPPED_REASON

DATA = Path(__file__).parent / "data" / "serve"
JOB = json.loads((DATA / "c_circuit_1q_h_measure.job.json").read_text())
FINAL = ("DONE", "ERROR", "CANCELLED")


def submit(client: httpx.Client, shots: int = 10) -> str:
    job = client.post("/jobs", params={"backend": "qutip-1q"})
    assert job.status_code == 200, job.text
    job = job.json()
    data = json.loads(json.dumps(JOB))
    data["job_id"] = job["job_id"]
    data["params"]["qobj"]["config"]["shots"] = shots
    reply = client.post(job["upload_url"], files={"upload_file": ("job", json.dumps(data).encode())})
    assert reply.status_code == 200, reply.text
    return job["job_id"]


def run_folders(datadir: Path) -> list[str]:
    return sorted(p.name for p in datadir.glob("2*/2*") if p.is_dir())


@pytest.mark.parametrize(("kill", "kind"), [
    pytest.param(True, "sqlite", id="killed"), pytest.param(False, "sqlite", id="terminated"),
    pytest.param(True, "postgresql", id="killed-postgresql", marks=pytest.mark.slow)])
def test_a_restart_in_the_middle_loses_no_job_and_runs_none_twice(tmp_path, kill, kind, request):
    store = []
    if kind == "postgresql":
        store = ["--store", postgres_support.fresh_database(request.getfixturevalue("postgres_server"), "restart")]
    # the thread pool: this is about the store, and two servers per case would otherwise start two LocalClusters
    # (the same restart on the default Dask path: test_serve_dask.py)
    server = Server(tmp_path / "data", "--workers", "1", "--executor-pool", "threads", *store).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            ids = [submit(client) for _ in range(8)]
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:  # stop while a job runs and others wait
                states = [client.get(f"/jobs/{i}").json()["status"] for i in ids]
                if "RUNNING" in states and "REGISTERING" in states:
                    break
                time.sleep(0.05)
    finally:
        server.stop(kill=kill)
    restarted = Server(tmp_path / "data", "--workers", "1", "--executor-pool", "threads", *store,
                       port=server.port).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            docs = [poll(client, f"/jobs/{i}", FINAL) for i in ids]
    finally:
        restarted.stop()
    statuses = [d["status"] for d in docs]
    assert all(s in ("DONE", "ERROR") for s in statuses), statuses
    stopped = [d for d in docs if d["status"] == "ERROR"]
    assert len(stopped) <= 1 and all(d["failure_reason"] == STOPPED_REASON for d in stopped)
    done = [d for d in docs if d["status"] == "DONE"]
    assert len(done) >= len(ids) - 1
    tuids = [d["workbench"]["tuid"] for d in done]
    assert len(set(tuids)) == len(tuids)  # every done job ran once, into its own run
    folders = run_folders(tmp_path / "data")
    assert all(any(f.startswith(t) for f in folders) for t in tuids)
    assert len(done) <= len(folders) <= len(done) + len(stopped)  # a stopped job may have kept its run, not two


def test_limits_give_413_429_503_with_one_line_reasons(tmp_path):
    tokens = "tok-client-a-000000000000,tok-client-b-000000000000"
    server = Server(tmp_path / "data", "--max-per-client", "2", "--max-queue", "3", "--max-request-mb", "0.01",
                    "--executor-pool", "threads", env={"WORKBENCH_SERVE_TOKENS": tokens})  # nothing runs here
    with server, httpx.Client(base_url=server.url, timeout=60) as a, httpx.Client(base_url=server.url,
                                                                                 timeout=60) as b:
        a.headers["Authorization"] = "Bearer tok-client-a-000000000000"
        b.headers["Authorization"] = "Bearer tok-client-b-000000000000"
        first = a.post("/jobs", params={"backend": "qutip-1q"}).json()
        assert a.post("/jobs", params={"backend": "qutip-1q"}).status_code == 200
        third = a.post("/jobs", params={"backend": "qutip-1q"})
        assert third.status_code == 429 and third.headers["retry-after"]
        assert "2 unfinished jobs" in third.json()["detail"]
        assert b.post("/jobs", params={"backend": "qutip-1q"}).status_code == 200
        full = b.post("/jobs", params={"backend": "qutip-1q"})
        assert full.status_code == 503 and "queue is full (3 jobs)" in full.json()["detail"]

        big = a.post(first["upload_url"], files={"upload_file": ("job", b"{" + b" " * 20000 + b"}")})
        assert big.status_code == 413 and "larger than the server's limit" in big.json()["detail"]

        def chunks():  # no Content-Length: the body is counted as it arrives
            yield b'--xyz\r\nContent-Disposition: form-data; name="upload_file"; filename="j"\r\n\r\n'
            for _ in range(40):
                yield b" " * 1000

        chunked = a.post(first["upload_url"], content=chunks(),
                         headers={"Content-Type": "multipart/form-data; boundary=xyz"})
        assert chunked.status_code == 413
        assert a.get(f"/jobs/{first['job_id']}").json()["status"] == "REGISTERING"  # nothing half-stored
        assert a.post(f"/jobs/{first['job_id']}/cancel").status_code == 200
        assert b.post("/jobs", params={"backend": "qutip-1q"}).status_code == 200  # room again
    assert "tok-client" not in server.log.read_text()


def test_jobs_run_on_a_dask_scheduler_when_given(tmp_path):
    """``--scheduler``: the same jobs go through ``workbench.api.execute(parallel=address)``."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        server = Server(tmp_path / "data", "--scheduler", cluster.scheduler_address)
        with server, httpx.Client(base_url=server.url, timeout=60) as client:
            doc = poll(client, f"/jobs/{submit(client, shots=30)}", FINAL)
    assert doc["status"] == "DONE", doc
    (memory,) = doc["result"]["memory"]
    assert len(memory) == 30
    trace = json.loads(next((tmp_path / "data").glob("2*/2*/result-trace.json")).read_text())
    assert "parallel" in trace  # the run went through the Dask path


def test_serve_refuses_bad_flags_with_one_line(run_cli, tmp_path):
    proc = run_cli("serve", "--port", "http", "--datadir", str(tmp_path / "d"))
    assert proc.returncode == 2 and proc.stderr.strip() == "error: --port: must be a port number, got 'http'"
    unreachable = f"postgresql://lab:pw-0123456789@127.0.0.1:{free_port()}/jobs"
    proc = run_cli("serve", "--store", unreachable, "--datadir", str(tmp_path / "d"))
    assert proc.returncode == 2 and "cannot use the PostgreSQL job store postgresql://lab:***@" in proc.stderr
    assert "pw-0123456789" not in proc.stderr + proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def postgres_server():
    """A throw-away PostgreSQL cluster for this module's store tests; skipped (with the reason) when this
    machine has no PostgreSQL server binaries: the one skip the store tests have (issue 17)."""
    bindir, reason = postgres_support.find_bin()
    if bindir is None:
        pytest.skip(reason)
    with postgres_support.cluster(bindir) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """The URL of an empty job store of each kind (PostgreSQL: a fresh database on the test cluster)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    server = request.getfixturevalue("postgres_server")
    return postgres_support.fresh_database(server, f"jobs_{request.node.name[-40:].strip('[]').replace('-', '_')}")


def test_the_store_lets_one_worker_claim_a_job_and_recovers_after_a_crash(store_url):
    from workbench.errors import InputError
    from workbench.serve.store import CANCELLED, FAILED, QUEUED, REGISTERED, RUNNING, JobStore

    store = JobStore(store_url)
    running = store.create(api="tergite", client="c", device="qutip-1q", status=QUEUED, source="{}")
    waiting = store.create(api="qhana", client="c", device="aer-simulator", status=QUEUED, source="x",
                           request={"shots": 5})
    registered = store.create(api="tergite", client="c", device="qutip-1q", status=REGISTERED)
    assert store.transition(running.id, (QUEUED,), RUNNING, tuid="20261201-000000-000-abcdef")
    assert not store.transition(running.id, (QUEUED,), RUNNING)  # a second worker cannot claim it
    with pytest.raises(InputError, match="exists already"):
        store.create(api="tergite", client="c", device="qutip-1q", status=QUEUED, job_id=running.id)
    store.append_log(waiting.id, "first")
    store.append_log(waiting.id, "second")
    assert store.count((QUEUED, RUNNING)) == 2 and store.count((QUEUED,), client="other") == 0
    with pytest.raises(ValueError, match="unknown job field"):
        store.transition(waiting.id, (QUEUED,), RUNNING, status="done")
    store.close()  # a crash: nothing else happens

    store = JobStore(store_url)
    assert store.recover() == [waiting.id]  # queued jobs run after the restart, once
    again = store.get(running.id)
    assert again.status == FAILED and again.error == STOPPED_REASON and again.tuid == "20261201-000000-000-abcdef"
    assert again.updated >= again.created > 1.7e9  # seconds since the epoch, to the microsecond
    kept = store.get_seq(waiting.seq)
    assert kept.id == waiting.id and kept.request == {"shots": 5} and kept.log == "first\nsecond"
    assert store.transition(waiting.id, (QUEUED,), RUNNING, document={"result": [1, 2]})
    assert store.get(waiting.id).document == {"result": [1, 2]}
    assert [r.seq for r in store.all()] == sorted({running.seq, waiting.seq, registered.seq})
    assert store.expire_registered(0.0) == 1 and store.get(registered.id).status == CANCELLED
    store.close()


def test_two_workers_racing_for_the_same_jobs_claim_each_exactly_once(store_url):
    """Two stores (two connections, as two servers on one database) race for every job at the same moment."""
    from workbench.serve.store import QUEUED, RUNNING, JobStore

    stores = [JobStore(store_url), JobStore(store_url)]
    ids = [stores[0].create(api="tergite", client="c", device="qutip-1q", status=QUEUED).id for _ in range(30)]
    wins: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)

    def claim(k: int) -> None:
        for job_id in ids:
            barrier.wait(timeout=60)
            if stores[k].transition(job_id, (QUEUED,), RUNNING):
                wins[k].append(job_id)

    threads = [threading.Thread(target=claim, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(wins[0] + wins[1]) == sorted(ids)  # every job claimed, none twice
    assert stores[1].count((RUNNING,)) == len(ids)
    for store in stores:
        store.close()


def test_servers_sharing_a_postgresql_store_recover_only_the_jobs_of_a_server_that_is_gone(postgres_server):
    """Server A keeps running while server B crashes (PostgreSQL drops B's connection) and C starts."""
    import psycopg

    from workbench.serve.store import FAILED, QUEUED, RUNNING, JobStore

    url = postgres_support.fresh_database(postgres_server, "shared")
    a, b = JobStore(url), JobStore(url)
    a_running, a_queued, b_running, b_queued = (
        s.create(api="tergite", client="c", device="qutip-1q", status=QUEUED) for s in (a, a, b, b))
    assert a.transition(a_running.id, (QUEUED,), RUNNING) and b.transition(b_running.id, (QUEUED,), RUNNING)
    with psycopg.connect(postgres_server, autocommit=True) as admin:  # B's server is killed
        admin.execute("SELECT pg_terminate_backend(%s, 10000)", (b._db.info.backend_pid,))
    c = JobStore(url)
    assert c.recover() == [b_queued.id]  # A's queued job stays A's to run
    assert c.get(b_running.id).status == FAILED and c.get(b_running.id).error == STOPPED_REASON
    assert c.get(a_running.id).status == RUNNING and c.get(a_queued.id).status == QUEUED
    assert c.transition(b_queued.id, (QUEUED,), RUNNING)  # C runs it now ...
    a.close()  # ... and A stops: its jobs are the next start's
    d = JobStore(url)
    assert d.recover() == [a_queued.id]
    assert [d.get(i).status for i in (a_running.id, b_queued.id)] == [FAILED, RUNNING]
    for store in (c, d):
        store.close()


def test_a_postgresql_password_never_shows(postgres_server, tmp_path):
    from workbench.errors import InputError
    from workbench.serve.settings import Settings
    from workbench.serve.store import JobStore

    store = JobStore(postgres_server)
    assert postgres_support.PASSWORD not in repr(store) and ":***@" in repr(store)
    store.close()
    assert postgres_support.PASSWORD not in repr(Settings(store=postgres_server))
    unreachable = f"postgresql://lab:{postgres_support.PASSWORD}@127.0.0.1:{free_port()}/jobs"
    with pytest.raises(InputError, match="cannot use the PostgreSQL job store") as caught:
        JobStore(unreachable)
    assert postgres_support.PASSWORD not in str(caught.value) and "lab:***@127.0.0.1" in str(caught.value)


def test_tokens_never_show_in_a_repr(tmp_path, monkeypatch):
    from workbench.errors import OptionsError
    from workbench.serve.settings import Settings, read_tokens

    file = tmp_path / "tokens"
    file.write_text("# lab tokens\ntok-from-file-0123456789\n")
    monkeypatch.setenv("WORKBENCH_SERVE_TOKENS", "tok-from-env-0123456789")
    settings = Settings(tokens=read_tokens(str(file)))
    assert len(settings.tokens) == 2 and settings.auth_required
    assert "tok-from" not in repr(settings) + repr(settings.tokens) + str(settings.tokens[0])
    file.write_text("short\n")
    with pytest.raises(OptionsError, match="at least 16 characters"):
        read_tokens(str(file))


def test_settings_choose_where_runs_compute():
    """The default is the Dask path (the local cluster); a scheduler wins; ``threads`` runs in the server."""
    from workbench.errors import OptionsError
    from workbench.serve.runner import parallel_of
    from workbench.serve.settings import Settings

    assert parallel_of(Settings()) is True
    assert parallel_of(Settings(pool="threads")) is None
    assert parallel_of(Settings(scheduler="tcp://127.0.0.1:8786", pool="threads")) == "tcp://127.0.0.1:8786"
    with pytest.raises(OptionsError, match="--executor-pool: must be one of dask, threads, got 'processes'"):
        Settings(pool="processes")
