"""A throw-away JupyterLab server and a headless Chromium for the browser tests.

Everything a server or kernel could write (config, data, runtime files, IPython profile, workspaces,
temporary files) goes to one temporary folder, so a test run neither reads the developer's Jupyter
set-up nor leaves anything in it. Servers run in their own process group and the whole group is
ended on teardown, kernels included, however the test ended.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
STARTUP_TIMEOUT = 60.0  # seconds for a server to answer; a cold start here takes about 3

# Token-less, root-tolerant, app exposed as window.jupyterapp; ``{port}`` and ``{root}`` filled in per server.
_SERVER_CONFIG = """\
from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)
c.ServerApp.ip = "127.0.0.1"
c.ServerApp.port = {port}
c.ServerApp.port_retries = 0
c.ServerApp.allow_root = True
c.ServerApp.open_browser = False
c.ServerApp.root_dir = {root!r}
c.LabApp.expose_app_in_browser = True
c.LabApp.workspaces_dir = {workspaces!r}
"""

# No news/update toasts over the page (they would cover the workbench in screenshots).
_PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


def free_port() -> int:
    """A loopback port nobody listens on now (the OS picks; the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class JupyterHome:
    """Temporary Jupyter/IPython folders and the environment that points a server at them."""

    base: Path
    root: Path = field(init=False)
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        dirs = {name: self.base / name for name in ("root", "config", "data", "runtime", "ipython", "workspaces",
                                                    "tmp")}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        self.root = dirs["root"]
        self._dirs = dirs
        (dirs["config"] / "labconfig").mkdir(exist_ok=True)
        (dirs["config"] / "labconfig" / "page_config.json").write_text(json.dumps(_PAGE_CONFIG))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
        env.pop("WORKBENCH_CONFIG", None)
        env.update(JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
                   JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), IPYTHONDIR=str(dirs["ipython"]),
                   JUPYTERLAB_GALATA_ROOT_DIR=str(dirs["root"]), TMPDIR=str(dirs["tmp"]),
                   JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1")
        self.env = env

    def configure(self, port: int, root: Path | None = None) -> None:
        """Write the server config for one server on ``port`` serving ``root`` (default: the temporary root)."""
        text = _SERVER_CONFIG.format(port=port, root=str(root or self.root), workspaces=str(self._dirs["workspaces"]))
        (self._dirs["config"] / "jupyter_server_config.py").write_text(text)


class Server:
    """A server subprocess in its own process group; ``stop()`` ends the group (kernels too)."""

    def __init__(self, command: Sequence[str], home: JupyterHome, port: int, cwd: Path | None = None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = home.base / f"server-{port}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(list(command), cwd=cwd, env=home.env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        """The end of the server's output, for failure messages."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_until_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Poll the REST API until it answers; fail with the server's log if it dies or never answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        pytest.fail(f"JupyterLab did not answer on {self.url} within {timeout:.0f} s:\n{self.log()}")

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def put(self, path: str, model: dict) -> int:
        """PUT a JSON model to the REST API (saving a notebook, as JupyterLab does); the status code."""
        request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(model).encode(), method="PUT",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def stop(self) -> None:
        """SIGTERM lets the server shut its kernels down; whatever is left of the group is killed."""
        try:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=15)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # kernels that outlived the server, if any
            self.proc.wait(timeout=15)
        finally:
            self._log.close()


@pytest.fixture
def jupyter_home(tmp_path: Path) -> JupyterHome:
    return JupyterHome(tmp_path / "jupyter")


@pytest.fixture
def start_server(jupyter_home: JupyterHome) -> Iterator:
    """``start_server(command, port, cwd=None)`` -> a ready :class:`Server`, stopped after the test."""
    servers: list[Server] = []

    def start(command: Sequence[str], port: int, cwd: Path | None = None) -> Server:
        server = Server(command, jupyter_home, port, cwd)
        servers.append(server)
        server.wait_until_ready()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def loopback_port() -> int:
    return free_port()


@pytest.fixture
def artifacts() -> Path:
    """``test-artifacts/`` at the repository root (git-ignored): screenshots for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def chromium_page() -> Iterator:
    """A fresh page in Debian's Chromium (never a downloaded browser), closed with everything it started."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); "
                    "tests/install-and-test.sh does this")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
            page = context.new_page()
            yield page
        finally:
            browser.close()
