"""`workbench serve` as a QHAna circuit-executor plugin, driven over HTTP the way QHAna does it.

A real server (subprocess, uvicorn) and a local file server standing in for QHAna's backend, from
which the plugin fetches its ``circuit`` and ``executionOptions`` URLs. The outputs are read back with
QHAna's own loading rules (research notes: qhana/NOTES.md §1, §3): one JSON object per file, one ``ID``
for all files of the run, vector attributes numeric after ``ensure_array``'s conversion.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from urllib.parse import urljoin

import httpx
import pytest
from plugin_support import TOKEN, install_vault_plugin
from qhana_rules import ensure_array
from serve_support import FileServer, Server, poll

SECRET = "tok-SHOULD-NEVER-BE-STORED-77"
BELL = textwrap.dedent("""\
    OPENQASM 2.0;
    include "qelib1.inc";
    qreg q[2];
    creg c[2];
    h q[0];
    cx q[0],q[1];
    measure q -> c;
    """)


def all_bytes(folder) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qhana-backend")
    (folder / "bell.qasm").write_text(BELL)
    (folder / "options.json").write_text(json.dumps({"ID": "opts-1", "shots": 300, "statevector": True,
                                                     "api-token": SECRET, "myOption": {"nested": [1, 2]}}))
    (folder / "options.csv").write_text('"ID","shots"\r\n"opts-2","40"\r\n')
    with FileServer(folder) as files:
        yield files


@pytest.fixture(scope="module")
def server(tmp_path_factory, inputs):
    root = tmp_path_factory.mktemp("serve-qhana")
    with Server(root / "data", "--allow-host", "127.0.0.1") as srv:
        yield srv


def test_qhana_flow_metadata_form_process_poll_download(server, inputs):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        plugins = client.get("/plugins/").json()["plugins"]
        # circuit-demo picks an executor by its tags
        chosen = [p for p in plugins if {"circuit-executor", "qasm-2", "qc-simulator"} <= set(p["tags"])
                  and p["name"] == "workbench-aer"]
        assert len(chosen) == 1
        plugin_url = chosen[0]["apiRoot"]
        meta = client.get(plugin_url).json()
        assert meta["type"] == "processing" and "qasm-3" in meta["tags"]
        inputs_ = {d["parameter"]: d for d in meta["entryPoint"]["dataInput"]}
        assert inputs_["circuit"]["dataType"] == "executable/circuit" and inputs_["circuit"]["required"] is True
        assert "application/json" in inputs_["executionOptions"]["contentType"]
        assert [d["name"] for d in meta["entryPoint"]["dataOutput"]] == [
            "result-trace.json", "result-counts.json", "result-statevector.json", "execution-options.json"]

        form = client.get(urljoin(plugin_url, meta["entryPoint"]["uiHref"])).text
        for field in ('name="circuit"', 'name="executionOptions"', 'name="shots"', 'name="statevector"',
                      'name="device"', 'value="aer-simulator"', 'data-target="api"'):
            assert field in form
        assert 'type="password"' not in form  # aer needs no credentials

        latest = client.get("/plugins/workbench-aer/", follow_redirects=False)
        assert latest.status_code == 307 and latest.headers["location"] == plugin_url

        devices_link = next(link["href"] for link in meta["links"] if link["type"] == "devices")
        devices = client.get(urljoin(plugin_url, devices_link)).json()
        assert {"name": "aer-simulator", "vendor": "workbench"}.items() <= devices[0].items()

        # what plugin_utils/interop.py does: urlencoded POST of the input URLs, redirects followed
        process = urljoin(plugin_url, meta["entryPoint"]["href"])
        response = client.post(process, data={"circuit": f"{inputs.url}/bell.qasm",
                                              "executionOptions": f"{inputs.url}/options.json"},
                               follow_redirects=True)
        assert response.status_code == 200 and response.history[0].status_code == 303
        task_url = str(response.url)
        status = poll(client, task_url, ("SUCCESS", "FAILURE"))
        assert status["status"] == "SUCCESS", status["log"]
        assert {"type": "subscribe", "href": task_url} in status["links"]
        subscribed = client.post(task_url, json={"command": "subscribe", "webhookHref": "http://qhana/webhooks/1"})
        assert subscribed.status_code == 200 and subscribed.json()["status"] == "SUCCESS"
        files = {}
        for out in status["outputs"]:
            assert out["contentType"] == "application/json"
            got = client.get(out["href"])
            assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
            files[out["name"]] = got.json()
    assert list(files) == ["result-trace.json", "result-counts.json", "result-statevector.json",
                           "execution-options.json"]
    assert all(isinstance(f, dict) for f in files.values())  # one entity per file, as QHAna writes them
    run_id = files["result-counts.json"]["ID"]
    assert all(f["ID"] == run_id for f in files.values()) and run_id != "opts-1"
    counts = files["result-counts.json"]
    assert set(counts) <= {"00", "11", "ID"} and sum(ensure_array(counts)[1]) == 300
    vector = files["result-statevector.json"]
    assert list(vector)[:1] == ["ID"] and sorted(k for k in vector if k != "ID") == ["0", "1", "2", "3"]
    assert all(isinstance(complex(v), complex) for k, v in vector.items() if k != "ID")
    options = files["execution-options.json"]
    assert options["shots"] == 300 and options["myOption"] == {"nested": [1, 2]}
    assert options["executorPlugin"][-1] == chosen[0]["identifier"]
    assert "api-token" not in options
    assert SECRET.encode() not in all_bytes(server.datadir)


def test_form_values_win_over_the_options_file_and_csv_options_are_read(server, inputs):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        response = client.post("/plugins/workbench-aer@v0-1-0/process/",
                               files={"circuit": ("bell.qasm", BELL, "text/x-qasm")},
                               data={"executionOptions": f"{inputs.url}/options.csv", "shots": "25"},
                               follow_redirects=False)
        assert response.status_code == 303
        status = poll(client, response.headers["location"], ("SUCCESS", "FAILURE"))
        assert status["status"] == "SUCCESS", status["log"]
        counts = client.get(next(o["href"] for o in status["outputs"] if o["name"] == "result-counts.json")).json()
    assert sum(ensure_array(counts)[1]) == 25
    assert "result-statevector.json" not in [o["name"] for o in status["outputs"]]


def test_bad_inputs_are_refused_before_anything_is_queued(server, inputs):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        elsewhere = client.post("/plugins/workbench-aer@v0-1-0/process/",
                                data={"circuit": "http://10.1.2.3/lab/secret.qasm"})
        assert elsewhere.status_code == 422
        assert elsewhere.json()["detail"] == ("circuit: host '10.1.2.3' is not one this server fetches from "
                                              "(workbench serve --allow-host)")
        bad = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[1];\nfoo q[0];\n"
        broken = client.post("/plugins/workbench-aer@v0-1-0/process/",
                             data={"circuit": "data:text/x-qasm," + bad.replace("\n", "%0A")})
        assert broken.status_code == 422 and "line 4" in broken.json()["detail"]
        assert client.post("/plugins/workbench-aer@v0-1-0/process/", data={"circuit": f"{inputs.url}/bell.qasm",
                                                                          "shots": "many"}).status_code == 422
        assert client.post("/plugins/workbench-aer@v0-1-0/process/", data={}).status_code == 422
        assert client.get("/tasks/999/").status_code == 404
        assert client.get("/tasks/1/files/..%2F..%2Fetc%2Fpasswd").status_code == 404
        assert client.get("/plugins/nope@v1/").status_code == 404


@pytest.fixture
def vault_server(tmp_path, inputs):
    config = install_vault_plugin(tmp_path)
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH", "")) if p)
    with Server(tmp_path / "data", env={"PYTHONPATH": path, "WORKBENCH_CONFIG": str(config)}) as srv:
        yield srv


def test_missing_credentials_add_the_authentication_substep(vault_server):
    token = TOKEN  # what the toy executor accepts (tests/plugin_support.py)
    x_gate = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nx q[0];\nmeasure q[0] -> c[0];\n'
    with httpx.Client(base_url=vault_server.url, timeout=30) as client:
        meta = client.get("/plugins/workbench-vault@v0-1-0/").json()
        assert "qc-simulator" in meta["tags"]
        form = client.get("/plugins/workbench-vault@v0-1-0/ui/").text
        assert 'type="password" name="api-token"' in form  # credentials asked only where needed
        response = client.post("/plugins/workbench-vault@v0-1-0/process/",
                               files={"circuit": ("x.qasm", x_gate, "text/x-qasm")}, data={"shots": "20"})
        assert response.status_code == 303
        task_url = response.headers["location"]
        status = client.get(task_url).json()
        assert status["status"] == "PENDING" and status["outputs"] == []
        (step,) = status["steps"]
        assert step["stepId"] == "authentication" and step["cleared"] is False
        assert step["href"].startswith("http://") and step["uiHref"].startswith("http://")
        assert 'name="api-token"' in client.get(step["uiHref"]).text
        assert client.post(step["href"], data={}).status_code == 422
        cleared = client.post(step["href"], files={"api-token": (None, token)})
        assert cleared.status_code == 303 and cleared.headers["location"] == task_url
        status = poll(client, task_url, ("SUCCESS", "FAILURE"))
        assert status["status"] == "SUCCESS", status["log"]
        assert "steps" not in status
        counts = client.get(next(o["href"] for o in status["outputs"] if o["name"] == "result-counts.json")).json()
    assert counts["1"] == 20

    with httpx.Client(base_url=vault_server.url, timeout=30) as client:  # a wrong token: asked again
        response = client.post("/plugins/workbench-vault@v0-1-0/process/",
                               data={"shots": "5", "api-token": "wrong-token-6d1f93"},
                               files={"circuit": ("x.qasm", x_gate, "text/x-qasm")})
        task_url = response.headers["location"]
        deadline = time.monotonic() + 60
        while "steps" not in (status := client.get(task_url).json()) and status["status"] == "PENDING":
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert status["status"] == "PENDING" and status["outputs"] == [], status
        (step,) = status["steps"]
        assert step["stepId"] == "authentication" and step["cleared"] is False
        assert "login refused: wrong or missing api-token" in status["log"] and "Traceback" not in status["log"]
        assert client.post(step["href"], files={"api-token": (None, "wrong-again-51c0")}).status_code == 303
        deadline = time.monotonic() + 60
        while "steps" not in (status := client.get(task_url).json()) or status["log"].count("rejected") < 2:
            assert time.monotonic() < deadline and status["status"] == "PENDING", status
            time.sleep(0.2)
        (step,) = status["steps"]  # rejected twice, asked twice; the right token runs it
        assert client.post(step["href"], files={"api-token": (None, token)}).status_code == 303
        status = poll(client, task_url, ("SUCCESS", "FAILURE"))
    assert status["status"] == "SUCCESS", status["log"]
    stored = all_bytes(vault_server.datadir)
    assert token.encode() not in stored and b"wrong-token-6d1f93" not in stored and b"wrong-again-51c0" not in stored
    stored = all_bytes(vault_server.datadir)
    assert token.encode() not in stored and b"wrong-token-6d1f93" not in stored


def test_a_stored_folder_outside_the_data_directory_is_never_served(server, tmp_path):
    """The job store may be shared (PostgreSQL) or written by others: a run's folder read from it is served
    only when it lies inside this server's data directory."""
    import sqlite3

    with httpx.Client(base_url=server.url, timeout=30) as client:
        response = client.post("/plugins/workbench-aer@v0-1-0/process/",
                               files={"circuit": ("bell.qasm", BELL, "text/x-qasm")}, data={"shots": "20"},
                               follow_redirects=False)
        task = response.headers["location"]
        status = poll(client, task, ("SUCCESS", "FAILURE"))
        assert status["status"] == "SUCCESS" and status["outputs"]
        href = next(o["href"] for o in status["outputs"] if o["name"] == "result-counts.json")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / "result-counts.json").write_text('{"ID": "not-this-run", "00": 1}')
        seq = int(task.rstrip("/").rsplit("/", 1)[-1])
        with sqlite3.connect(server.datadir / ".serve" / "serve-jobs.sqlite3") as db:
            db.execute("UPDATE jobs SET folder=? WHERE seq=?", (str(elsewhere), seq))
        assert client.get(task).json()["outputs"] == []
        assert client.get(href).status_code == 404
