"""Secrets by declaration (issue 14, item 9): what an executor declares in ``needs_credentials`` and every
option marked secret is a Secret in any spelling; credential-looking names it does not declare are dropped
with a warning; no credential value reaches an output file, a log or the terminal."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from plugin_support import PARITY_READOUT, install_plugin

import workbench
from workbench.options import COMMON_OPTIONS, OptionSpec, looks_like_credential, resolve_options

PLUGIN = '''
import numpy as np

from workbench.executors.base import ExecutionData, QuantumExecutor
from workbench.options import OptionSpec


class KeyedExecutor(QuantumExecutor):
    """Reads |1> after an odd number of drive pulses, once it has its api_key and licence."""

    name = "keyed"
    title = "Toy executor with an API key"
    needs_credentials = ("api_key",)
    options = (OptionSpec("licence", str, "", "licence code", secret=True),)

    def run(self, schedules, options, progress=None, cancel=None):
        assert self._credentials["api_key"].reveal() == "AK-SECRET-1", "api_key not passed on"
        assert self._credentials["licence"].reveal() == "LI-SECRET-4", "licence not passed on"
        assert set(self._credentials) == {"api_key", "licence"}, sorted(self._credentials)
''' + PARITY_READOUT

VALUES = ("AK-SECRET-1", "AT-SECRET-2", "PW-SECRET-3", "LI-SECRET-4", "DEF-SECRET-5")


def install(tmp_path: Path) -> dict[str, str]:
    install_plugin(tmp_path, "keyed_plugin", PLUGIN, {"keyed": "KeyedExecutor"})
    (tmp_path / "devices.yml").write_text(textwrap.dedent("""
        devices:
          - name: keyed
            base: qutip-1q
            executor: keyed
            title: Toy device with an API key
            defaults: {bearer_token: DEF-SECRET-5}
    """))
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "WORKBENCH_CONFIG": str(tmp_path / "devices.yml")}


def every_byte(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_a_plugins_declared_credentials_are_secrets_in_any_spelling_and_others_are_dropped(tmp_path, run_cli):
    """Before: ``api-key``, ``access_token``, ``passwd`` (and a plugin's ``api_key``) were echoed into
    execution-options.json and dataset.nc."""
    env = install(tmp_path)
    (tmp_path / "opts.json").write_text(json.dumps({"access_token": "AT-SECRET-2", "shots": 7}))
    proc = run_cli("-v", "run", "x-gate", "--device", "keyed", "--options", "opts.json", "--set", "api-key=AK-SECRET-1",
                   "--set", "passwd=PW-SECRET-3", "--set", "licence=LI-SECRET-4", "--out", "out", cwd=tmp_path,
                   env=env)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    data = every_byte(out)
    for value in VALUES:
        assert value.encode() not in data, value
        assert value not in proc.stderr + proc.stdout, value
    options = json.loads((out / "execution-options.json").read_text())
    assert options["shots"] == 7
    assert not any(looks_like_credential(k) for k in options)
    for name in ("access_token", "passwd"):
        assert f"option '{name}' looks like a credential" in proc.stderr
        assert "it takes: api_key, licence" in proc.stderr
    assert "api-key" not in proc.stderr and "licence'" not in proc.stderr  # declared ones are no warning


@pytest.mark.parametrize("name", ["api-key", "api_key", "apiKey", "access_token", "accessToken", "passwd",
                                  "x-api-key", "client_secret", "private_key", "GITHUB_TOKEN", "Authorization",
                                  "db_password", "session_cookie", "aws_secret_access_key"])
def test_credential_looking_names_are_never_echoed(name):
    declared = resolve_options(COMMON_OPTIONS, [("options.json", {name: "hunter2", "shots": 3})], credentials=())
    assert name not in declared.echo and "hunter2" not in json.dumps(declared.echo) + repr(declared)
    assert not declared.secrets
    assert any(f"option '{name}'" in w and "hunter2" not in w for w in declared.warnings)
    unknown_executor = resolve_options(COMMON_OPTIONS, [("options.json", {name: "hunter2"})])
    assert unknown_executor.secrets[name].reveal() == "hunter2" and name not in unknown_executor.echo


@pytest.mark.parametrize("name", ["shots_per_point", "keyword", "author", "passes", "amplitude", "qubit",
                                  "statevector", "meas_level", "executorPlugin"])
def test_ordinary_names_are_options(name):
    assert not looks_like_credential(name)


def test_a_declared_option_wins_over_a_credential_looking_name():
    spec = OptionSpec("token_budget", int, 5, "tokens per shot")
    r = resolve_options((*COMMON_OPTIONS, spec), [("flags", {"token_budget": 9})], credentials=())
    assert r.values["token_budget"] == 9 and r.echo["token_budget"] == 9 and not r.warnings


def test_undeclared_credentials_never_reach_an_executor_or_a_dataset(tmp_path):
    result = workbench.run("x-gate", "qutip-1q", shots=5, seed=1,
                           options={"api_key": "AK-SECRET-1", "access_token": "AT-SECRET-2", "passwd": "PW-SECRET-3"})
    result.export(tmp_path / "out")
    data = every_byte(tmp_path / "out")
    for value in VALUES[:3]:
        assert value.encode() not in data
    assert not any(looks_like_credential(k) for k in result.options)
