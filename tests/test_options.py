import json

import pytest

from workbench.errors import OptionsError
from workbench.options import COMMON_OPTIONS, OptionSpec, Secret, parse_assignment, resolve_options

EXTRA = (OptionSpec("noise", bool, True, "decoherence on/off"),
         OptionSpec("token_like", str, "", "an executor-declared secret", secret=True))


def test_precedence_flags_over_file_over_job_over_device():
    r = resolve_options(COMMON_OPTIONS, [
        ("device", {"shots": 10, "meas_level": 1}),
        ("job file", {"shots": 20, "meas_return": "avg"}),
        ("options.json", {"shots": 30}),
        ("flags", {"shots": "40"}),
    ])
    assert r["shots"] == 40
    assert r["meas_level"] == 1
    assert r["meas_return"] == "avg"
    assert r.sources["shots"] == "flags"
    assert r.sources["meas_return"] == "job file"


def test_seed_drawn_and_recorded_when_missing():
    r = resolve_options(COMMON_OPTIONS, [])
    assert isinstance(r["seed"], int)
    assert r.echo["seed"] == r["seed"]
    assert r.sources["seed"] == "drawn"


def test_unknown_options_echoed_as_given_and_warned():
    r = resolve_options(COMMON_OPTIONS, [("options.json", {"colour": {"a": [1, 2]}, "shots": 5})])
    assert r.echo["colour"] == {"a": [1, 2]}
    assert any("colour" in w for w in r.warnings)


@pytest.mark.parametrize("name", ["api-token", "password", "username", "start-session", "token_like"])
def test_secrets_never_echoed(name):
    r = resolve_options(COMMON_OPTIONS + EXTRA, [("options.json", {name: "hunter2", "shots": 3})])
    assert name not in r.echo
    assert "hunter2" not in json.dumps(r.echo)
    assert "hunter2" not in repr(r)
    assert r.secrets[name].reveal() == "hunter2"
    assert "hunter2" not in repr(r.secrets[name])


@pytest.mark.parametrize(("options", "fragment"), [
    ({"shots": 0}, "option 'shots': must be >= 1"),
    ({"shots": "many"}, "option 'shots': expected int"),
    ({"shots": 1.5}, "option 'shots': expected int"),
    ({"meas_level": 3}, "option 'meas_level': must be one of 0, 1, 2"),
    ({"meas_return": "sometimes"}, "option 'meas_return': must be one of"),
    ({"seed": -1}, "option 'seed': must be >= 0"),
    ({"shots": True}, "option 'shots': expected int"),
])
def test_bad_values_name_option_and_source(options, fragment):
    with pytest.raises(OptionsError) as info:
        resolve_options(COMMON_OPTIONS, [("my-options.json", options)])
    assert fragment in str(info.value)
    assert str(info.value).startswith("my-options.json: ")


def test_bool_option_accepts_text():
    r = resolve_options(COMMON_OPTIONS + EXTRA, [("flags", {"noise": "false"})])
    assert r["noise"] is False


def test_parse_assignment_reads_json_else_text():
    assert parse_assignment("shots=100") == ("shots", 100)
    assert parse_assignment("name=hello") == ("name", "hello")
    assert parse_assignment("x={\"a\": 1}") == ("x", {"a": 1})
    with pytest.raises(OptionsError):
        parse_assignment("novalue")


def test_secret_refuses_pickling():
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Secret("x"))
