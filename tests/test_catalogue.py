import textwrap

import pytest

from workbench.devices.catalogue import DEFAULT_DEVICE
from workbench.errors import ConfigError, DeviceNotFoundError
from workbench.executors.registry import listing as device_listing
from workbench.executors.registry import load_catalogue


def write(tmp_path, text):
    path = tmp_path / "config.yml"
    path.write_text(textwrap.dedent(text))
    return path


def test_builtins_need_no_file(catalogue):
    assert DEFAULT_DEVICE in catalogue.names()
    assert "qutip-2q" in catalogue.names()
    dev = catalogue.get()
    assert dev.name == DEFAULT_DEVICE
    assert dev.frame_frequencies()["d0"] == dev.qubits[0].frequency


def test_example_config_file_is_valid(catalogue):
    from pathlib import Path

    example = Path(__file__).parents[1] / "executor-config.example.yml"
    cat = load_catalogue(example)
    derived = cat.get("qutip-1q-short-t1")
    assert derived.qubits[0].t1 == 2.0e-5
    assert derived.executor == "qutip"  # inherited from the base
    assert cat.get("my-sim-2q").couplings[0].channel == "u0"


def test_user_file_overrides_and_extends(tmp_path, monkeypatch):
    path = write(tmp_path, """
        devices:
          - name: slow
            base: qutip-1q
            title: Slow one
            defaults: {shots: 7}
          - name: qutip-2q
            base: qutip-2q
            available: false
    """)
    monkeypatch.setenv("WORKBENCH_CONFIG", str(path))
    cat = load_catalogue()
    assert cat.get("slow").title == "Slow one"
    assert cat.get("slow").defaults["shots"] == 7
    assert cat.get("slow").defaults["meas_level"] == 2  # merged, not replaced
    assert cat.get("qutip-2q").available is False


def test_unknown_device_lists_known(catalogue):
    with pytest.raises(DeviceNotFoundError) as info:
        catalogue.get("nope")
    assert "unknown device 'nope'; known devices: " in str(info.value)
    assert all(name in str(info.value) for name in ("aer-simulator", "qutip-1q", "qutip-2q"))


@pytest.mark.parametrize(("text", "fragment"), [
    ("devices: [\n  {name: a\n", "line"),
    ("machines: []\n", "unknown top-level key(s) ['machines']"),
    ("devices: {name: x}\n", "devices: must be a list"),
    ("devices:\n  - title: no name\n", "devices[0]: each device needs a 'name'"),
    ("devices:\n  - name: x\n    base: missing\n", "devices[0].base: base device 'missing' is not defined"),
    ("devices:\n  - name: x\n    base: qutip-1q\n    colour: red\n", "devices[x].colour: unknown field"),
    ("devices:\n  - name: x\n    base: qutip-1q\n    dt: -1\n", "devices[x].dt"),
    ("devices:\n  - name: x\n    base: qutip-1q\n    qubits:\n      - {index: 0}\n", "devices[x].qubits[0]"),
])
def test_bad_config_files_name_the_place(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_catalogue(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_t2_above_twice_t1_rejected(tmp_path, catalogue):
    raw = catalogue.raw("qutip-1q")
    raw["name"] = "bad"
    qubit = dict(raw["qubits"][0], t1=1e-5, t2=3e-5)
    import yaml

    path = tmp_path / "c.yml"
    path.write_text(yaml.safe_dump({"devices": [dict(raw, qubits=[qubit])]}))
    with pytest.raises(ConfigError, match=r"devices\[bad\]\.qubits\[0\].*exceeds 2 \* t1"):
        load_catalogue(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_catalogue(tmp_path / "absent.yml")


def test_listing_has_qhana_fields(catalogue):
    listing = device_listing(catalogue)
    for entry in listing:
        for key in ("name", "vendor", "title", "description", "available", "executor", "qubits"):
            assert key in entry
    assert {e["name"] for e in listing} >= {"qutip-1q", "qutip-2q"}


def test_devices_refer_to_shared_sections_by_name():
    from workbench.devices.catalogue import _resolve_sections

    sections = {"clusters": {"lab-cluster": {"name": "lab-cluster", "address": "192.0.2.10"}}}
    entry = {"name": "wired", "executor_config": {"cluster": "lab-cluster", "note": "kept"}}
    resolved = _resolve_sections(entry, sections, "devices[wired]", "c.yml")
    assert resolved["executor_config"] == {"cluster": {"name": "lab-cluster", "address": "192.0.2.10"},
                                           "note": "kept"}
    assert entry["executor_config"]["cluster"] == "lab-cluster"  # the raw entry is left as written


def test_executor_config_is_checked_by_the_executor(tmp_path):
    path = write(tmp_path, "devices:\n  - name: w\n    base: qutip-1q\n    executor_config: {colour: red}\n")
    with pytest.raises(ConfigError, match=r"devices\[w\]\.executor_config: executor 'qutip' takes no "
                                          r"executor_config \(got colour\)"):
        load_catalogue(path)


@pytest.mark.parametrize(("text", "fragment"), [
    ("devices:\n  - name: w\n    base: qutip-1q\n    executor_config: {cluster: nope}\n",
     "devices[w].executor_config.cluster: cluster 'nope' is not defined in 'clusters'"),
    ("clusters:\n  - address: x\n", "clusters[0]: each entry needs a 'name'"),
    ("clusters:\n  - name: a\n  - name: a\n", "clusters[1].name: 'a' is defined twice"),
    ("clusters: {name: a}\n", "clusters: must be a list"),
])
def test_bad_sections(tmp_path, text, fragment):
    with pytest.raises(ConfigError) as info:
        load_catalogue(write(tmp_path, text))
    assert fragment in str(info.value)
