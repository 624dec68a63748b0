"""Helpers for the `workbench serve` tests: a real server in a subprocess, a local file server."""

from __future__ import annotations

import functools
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

import httpx

START_TIMEOUT = 120  # seconds a server gets to answer: a bound, not an expectation of speed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m workbench serve`` on a free port; ``url`` once it answers."""

    def __init__(self, datadir: Path, *args: str, env: dict[str, str] | None = None, port: int | None = None):
        self.datadir = Path(datadir)
        self.args = args
        self.env = env or {}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = self.datadir.parent / f"server-{self.port}.log"

    def start(self) -> Server:
        full = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_CONFIG", "WORKBENCH_DATADIR",
                                                                 "WORKBENCH_SERVE_TOKENS")}
        full.update(self.env)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "workbench", "serve", "--port", str(self.port), "--datadir",
                 str(self.datadir), *self.args], env=full, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                httpx.get(self.url + "/openapi.json", timeout=2)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not answer")

    def stop(self, kill: bool = False) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        self.proc.wait(60)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FileServer:
    """A local HTTP file server (what QHAna's backend is to a plugin: where input URLs point)."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                                                ".qasm": "text/x-qasm", ".json": "application/json",
                                                ".csv": "text/csv"}

    def log_message(self, *args: object) -> None:
        pass


def poll(client: httpx.Client, url: str, done: tuple[str, ...], key: str = "status", timeout: float = 300) -> dict:
    """GET ``url`` until its ``key`` is one of ``done``; the last document."""
    deadline = time.monotonic() + timeout
    while True:
        doc = client.get(url).json()
        if doc.get(key) in done or time.monotonic() > deadline:
            return doc
        time.sleep(0.2)
