"""Qblox executor_config: built-in devices load, and every kind of bad wiring is refused at catalogue
load with the place inside ``executor_config`` that is wrong (no instrument library imported)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from workbench.devices.catalogue import Catalogue
from workbench.errors import ConfigError
from workbench.executors.quantify.config import validate
from workbench.executors.registry import listing as device_listing
from workbench.executors.registry import load_catalogue

CLUSTER = """
clusters:
  - name: lab
    address: null
    is_dummy: true
    modules:
      2: {type: QCM_RF}
      4: {type: QRM_RF}
      6: {type: QCM}
"""


def load(tmp_path: Path, channels: str, cluster: str = CLUSTER, extra: str = "") -> Catalogue:
    text = textwrap.dedent(cluster) + textwrap.dedent(f"""
    devices:
      - name: wired
        base: qblox-dummy-1q
        {extra}
        executor_config:
          cluster: lab
          channels:
    """) + textwrap.indent(textwrap.dedent(channels).strip() + "\n", " " * 8)
    path = tmp_path / "config.yml"
    path.write_text(text)
    return load_catalogue(path)


BUILTIN = ("qblox-dummy-1q", "qblox-dummy-2q", "qblox-dummy-5q")

GOOD = """
- {channel: d0, module: 2, output: 0, interm_freq: 1.0e8}
- {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
"""


def test_builtin_qblox_devices_load_and_are_dummies(catalogue):
    for name in BUILTIN:
        device = catalogue.get(name)
        assert device.executor == "quantify"
        config = validate(device)
        assert config.cluster.is_dummy and config.cluster.address is None
        assert {m.type for m in config.cluster.modules.values()} >= {"QCM_RF", "QRM_RF"}
    listing = {e["name"]: e for e in device_listing(catalogue)}
    assert listing["qblox-dummy-1q"]["kind"] == "hardware"
    assert listing["qblox-dummy-1q"]["meas_levels"] == [1, 2]


def test_twin_devices_have_the_simulator_devices_physics(catalogue):
    """The twin is only believable if it is the same qubit: physics and calibration as qutip-*."""
    for twin, sim in (("qblox-dummy-1q", "qutip-1q"), ("qblox-dummy-2q", "qutip-2q"), ("qblox-dummy-5q", "qutip-5q")):
        a, b = catalogue.get(twin), catalogue.get(sim)
        assert a.qubits == b.qubits
        assert a.couplings == b.couplings
        assert a.dt == b.dt


def test_a_good_user_config_loads(tmp_path):
    device = load(tmp_path, GOOD).get("wired")
    config = validate(device)
    assert config.cluster.name == "lab"
    assert config.channel("m0").time_of_flight == 4e-9
    assert config.lo_frequency(config.channel("d0"), 4.8e9) == pytest.approx(4.7e9)


def test_the_example_config_documents_a_qblox_device_that_stays_a_dummy():
    example = Path(__file__).parents[1] / "executor-config.example.yml"
    catalogue = load_catalogue(example)
    qblox = [d for d in catalogue if d.executor == "quantify" and d.name not in BUILTIN]
    assert qblox, "the example file has no Qblox device"
    for device in qblox:
        config = validate(device)
        assert config.cluster.is_dummy  # nothing in the example may reach for a real address
        assert config.cluster.address  # ... but it shows where the address goes


@pytest.mark.parametrize(("channels", "cluster", "fragment"), [
    (GOOD, CLUSTER.replace("4: {type: QRM_RF}", "4: {type: QXM}"),
     "devices[wired].executor_config.cluster.modules[4].type: Input should be"),
    (GOOD, CLUSTER.replace("6: {type: QCM}", "21: {type: QCM}"),
     "executor_config.cluster.modules: slot 21 does not exist"),
    (GOOD, CLUSTER.replace("is_dummy: true", "is_dummy: false"),
     "executor_config.cluster: cluster 'lab' needs an 'address'"),
    ("""
     - {channel: d0, module: 2, output: 0, interm_freq: 1.0e8}
     - {channel: m0, module: 2, output: 1, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[1].module: m0 reads a qubit out, which needs an input: "
                   "slot 2 is a QCM_RF"),
    ("""
     - {channel: d0, module: 2, output: 0, interm_freq: 1.0e8}
     - {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
     - {channel: d0, module: 2, output: 1, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[2].channel: channel d0 is wired twice (channels[0] and channels[2])"),
    ("""
     - {channel: d0, module: 7, output: 0, interm_freq: 1.0e8}
     - {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[0].module: slot 7 is not a module of cluster 'lab' "
                   "(modules in slots 2, 4, 6)"),
    ("""
     - {channel: d0, module: 2, output: 0, interm_freq: 1.0e8}
     - {channel: m0, module: 4, output: 1, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[1].output: a QRM_RF has 1 output(s) (0-0), got 1"),
    ("""
     - {channel: d0, module: 2, output: 0, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels: channel(s) m0 of device 'wired' are not wired"),
    ("""
     - {channel: d0, module: 2, output: 0}
     - {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[0]: d0 is on an RF module: give lo_freq or interm_freq"),
    ("""
     - {channel: d0, module: 6, output: 0}
     - {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[0].module: d0 at 4.8 GHz cannot be played by a baseband QCM"),
    ("""
     - {channel: d0, module: 2, output: 0, lo_freq: 6.0e9}
     - {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[0].lo_freq: d0 at 4.8 GHz is 1200 MHz from the LO"),
    ("""
     - {channel: d0, module: 2, output: 0, interm_freq: 6.0e8}
     - {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[0].interm_freq: the NCO reaches +-500 MHz"),
    ("""
     - {channel: d0, module: 2, output: 0, interm_freq: 1.0e8, output_att: 3}
     - {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[0].output_att: attenuation is set in steps of 2 dB"),
    ("""
     - {channel: d0, module: 2, output: 0, interm_freq: 1.0e8, input_att: 2}
     - {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[0].input_att: input_att is for readout channels (m<i>) on a QRM_RF"),
    ("""
     - {channel: d0, module: 2, output: 0, interm_freq: 1.0e8, mixer: {amp_ratio: 3}}
     - {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[0].mixer.amp_ratio"),
    ("""
     - {channel: d0, module: 2, output: 0, intermfreq: 1.0e8}
     - {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[0].intermfreq: unknown field"),
    ("""
     - {channel: d0, module: 2, output: 0, interm_freq: 1.0e8}
     - {channel: m0, module: 4, output: 0, interm_freq: 1.0e8}
     - {channel: d3, module: 2, output: 1, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[2].channel: device 'wired' has no channel d3"),
    ("""
     - {channel: a0, module: 4, output: 0, interm_freq: 1.0e8}
     """, CLUSTER, "executor_config.channels[0].channel: 'a0' is not a wirable channel"),
])
def test_bad_wiring_is_refused_with_its_location(tmp_path, channels, cluster, fragment):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, channels, cluster)
    message = str(info.value)
    assert fragment in message
    assert message.startswith(str(tmp_path / "config.yml") + ": ")
    assert "\n" not in message


def test_outputs_sharing_an_lo_must_agree(tmp_path):
    base = load_catalogue(None).raw("qblox-dummy-2q")
    assert base["executor_config"]["cluster"] == "qblox-dummy"
    text = textwrap.dedent("""
    devices:
      - name: shared
        base: qblox-dummy-2q
        executor_config:
          channels:
            - {channel: d0, module: 2, output: 0, interm_freq: 1.0e8}
            - {channel: d1, module: 2, output: 0, interm_freq: 1.0e8}
            - {channel: m0, module: 4, output: 0, lo_freq: 7.0e9}
            - {channel: m1, module: 4, output: 0, lo_freq: 7.0e9}
            - {channel: u0, module: 6, output: 0}
    """)
    path = tmp_path / "config.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"channels\[1\]: d1 shares slot 2 output 0 \(one LO\) with d0 but needs "
                                          r"LO 5.2 GHz where d0 needs 4.8 GHz"):
        load_catalogue(path)


def test_dt_must_be_whole_nanoseconds(tmp_path):
    with pytest.raises(ConfigError, match=r"dt = 5e-10 s is not a whole number of ns"):
        load(tmp_path, GOOD, extra="dt: 5.0e-10")


def test_loading_qblox_devices_imports_no_instrument_library():
    code = ("import sys, json; from workbench.executors.registry import listing, load_catalogue; "
            "c = load_catalogue(None); c.get('qblox-dummy-2q'); listing(c); "
            "print(json.dumps([m for m in ('quantify_scheduler', 'qblox_instruments', 'qcodes', 'qutip') "
            "if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
