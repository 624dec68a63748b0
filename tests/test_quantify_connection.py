"""Real clusters: an unreachable address fails fast with one line, never hangs; runs on one cluster never
interleave. Only loopback is ever contacted: a closed port, a listener that accepts and never answers,
and small SCPI stand-ins that answer ``*IDN?``."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import workbench
from workbench.errors import ExecutionError
from workbench.executors.quantify.connection import ClusterLock, lock_path, probe

LOOPBACK = "127.0.0.1"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


@contextmanager
def listener(answer: bytes | None) -> Iterator[int]:
    """A loopback server that accepts connections and answers each line with ``answer`` (None: never
    answers, holding the connection open like a stuck instrument)."""
    server = socket.socket()
    server.bind((LOOPBACK, 0))
    server.listen(8)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            if answer is not None:
                conn.settimeout(2)
                try:
                    if conn.recv(1024):
                        conn.sendall(answer)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


def real_cluster_config(tmp_path, port: int, timeout: float = 0.5, name: str = "bench-cluster") -> str:
    path = tmp_path / "lab.yml"
    path.write_text(textwrap.dedent(f"""
        clusters:
          - name: {name}
            address: {LOOPBACK}
            port: {port}
            is_dummy: false
            connect_timeout: {timeout}
            modules:
              2: {{type: QCM_RF}}
              4: {{type: QRM_RF}}
        devices:
          - name: lab-1q
            base: qblox-dummy-1q
            executor_config:
              cluster: {name}
    """))
    return str(path)


def test_closed_port_fails_at_once_with_one_line(tmp_path):
    port = closed_port()
    config = real_cluster_config(tmp_path, port)
    with pytest.raises(ExecutionError) as info:
        workbench.run("x-gate", device="lab-1q", config=config, seed=1)
    message = str(info.value)
    assert f"cannot connect to the cluster at {LOOPBACK}:{port}" in message
    assert "\n" not in message


def test_a_listener_that_never_answers_times_out_within_the_bound(tmp_path):
    with listener(None) as port:
        config = real_cluster_config(tmp_path, port, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(ExecutionError, match=r"accepted a connection but did not answer \*IDN\? within 0.5 s"):
            workbench.run("x-gate", device="lab-1q", config=config, seed=1)
        assert time.monotonic() - started < 10  # bounded by connect_timeout, not by qblox-instruments' 60 s


def test_option_connect_timeout_overrides_the_cluster_entry(tmp_path):
    with listener(None) as port:
        config = real_cluster_config(tmp_path, port, timeout=30)
        with pytest.raises(ExecutionError, match=r"within 0.3 s"):
            workbench.run("x-gate", device="lab-1q", config=config, seed=1, options={"connect_timeout": 0.3})


def test_the_cli_reports_an_unreachable_cluster_in_one_line(tmp_path, run_cli):
    config = real_cluster_config(tmp_path, closed_port())
    out = run_cli("--config", config, "run", "x-gate", "--device", "lab-1q", "--out", str(tmp_path / "out"))
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot connect to the cluster" in lines[0]
    assert not (tmp_path / "out").exists()


def test_probe_reads_the_identity_of_a_cluster():
    with listener(b"Qblox,Cluster MM,00015_2321_005,fwVersion=0.7.0\n") as port:
        assert probe(LOOPBACK, 2.0, port).startswith("Qblox,Cluster MM")


def test_probe_refuses_an_instrument_that_is_not_a_cluster():
    with listener(b"Keysight Technologies,E5080B,MY1234,A.15\n") as port, \
            pytest.raises(ExecutionError, match="is not a Qblox cluster"):
        probe(LOOPBACK, 2.0, port)


def test_the_lock_excludes_other_threads(tmp_path):
    name = f"test-threads-{time.monotonic_ns()}"
    order: list[str] = []
    with ClusterLock(name, timeout=1):
        with pytest.raises(ExecutionError, match=f"cluster '{name}' is busy with another run in this process"):
            ClusterLock(name, timeout=0.1).acquire()

        def second() -> None:
            with ClusterLock(name, timeout=5):
                order.append("second")

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        order.append("first done")
    thread.join(timeout=5)
    assert order == ["first done", "second"]
    lock_path(name).unlink()


def test_the_lock_excludes_other_processes():
    name = f"test-processes-{time.monotonic_ns()}"
    code = textwrap.dedent(f"""
        import sys, time
        from workbench.executors.quantify.connection import ClusterLock
        with ClusterLock({name!r}, timeout=5):
            print("held", flush=True)
            sys.stdin.readline()
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ExecutionError, match=rf"cluster '{name}' is busy with a run of pid {holder.pid}"):
            ClusterLock(name, timeout=0.2).acquire()
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=10)
    with ClusterLock(name, timeout=2) as lock:  # free again once the other process let go
        assert lock.held
    assert not lock.held and not lock.holder_path.exists()  # only the (empty) lock file stays, as before
    lock_path(name).unlink()


def test_a_run_waits_for_the_cluster_it_needs():
    """The executor takes the cluster's lock: while it is held elsewhere, a run gives up after lock_timeout."""
    with ClusterLock("qblox-dummy", timeout=1), \
            pytest.raises(ExecutionError, match="cluster 'qblox-dummy' is busy"):
        workbench.run("x-gate", device="qblox-dummy-1q", seed=1, options={"lock_timeout": 0.2})
