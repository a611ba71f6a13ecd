"""Values reaching scenarios: numpy numbers and arrays, keys serialized (never pasted), nesting
bounded, paths told apart from TOML text, out="" refused."""

import os

import numpy as np
import pytest

import datapact
from datapact import ScenarioError


def test_numpy_scalars_are_numbers_in_set():
    s = datapact.validate(
        "baseline", set={"scenario.replications": np.int64(20), "game.drift": np.float64(0.2)}
    )
    plain = datapact.validate("baseline", set={"scenario.replications": 20, "game.drift": 0.2})
    assert s.hash == plain.hash
    assert s.replications == 20


@pytest.mark.parametrize(
    "value",
    [np.float32(0.25), np.float64(0.25), np.array(0.25), np.float16(0.25)],
    ids=["float32", "float64", "0-d array", "float16"],
)
def test_every_numpy_real_is_a_float(value):
    assert datapact.validate("baseline", set={"game.drift": value}).hash == datapact.validate(
        "baseline", set={"game.drift": 0.25}
    ).hash


@pytest.mark.parametrize("value", [np.int8(7), np.uint32(7), np.int64(7), np.array(7)])
def test_every_numpy_integer_is_an_integer(value):
    assert datapact.validate("baseline", set={"scenario.replications": value}).replications == 7


def test_numpy_bool_and_arrays():
    values = np.linspace(0.0, 0.3, 4)
    s = datapact.validate("baseline", set={"sweep.game.value": {"values": values}})
    assert s.sweep[0][2] == pytest.approx(list(values))
    d = datapact.validate(
        {"scenario": {"name": "np", "seed": np.uint64(3), "replications": np.int64(5)}, "game": {"drift": np.float64(0.1), "value": np.array(0.2)}}
    )
    assert (d.replications, d.seed) == (5, 3) and "drift = 0.1" in d.toml and "value = 0.2" in d.toml
    assert datapact.validate("baseline", set={"mechanisms": np.array(["C", "M"])}).mechanisms == ["C", "M"]


def test_numpy_values_run(tiny):
    run = datapact.run(
        "baseline",
        set={**tiny, "scenario.replications": np.int64(5), "game.drift": np.float64(0.2)},
        progress=False,
    )
    assert run.cells.num_rows == 27


@pytest.mark.parametrize(
    "key",
    ["low = 0.5, high", "scenario.name=x", "game value", "game..value", "", 'game."value"'],
)
def test_keys_are_never_pasted_into_toml(key):
    with pytest.raises(ScenarioError, match="invalid key") as e:
        datapact.validate("baseline", set={key: 0.6})
    assert e.value.key == key and e.value.exit_code == 2


def test_string_values_are_quoted_not_parsed():
    # A str that looks like TOML stays one str value (then refused as a number), never two keys.
    with pytest.raises(ScenarioError, match="game.drift"):
        datapact.validate("baseline", set={"game.drift": '0.1\n[scenario]\nseed = 5'})
    s = datapact.validate("baseline", set={"scenario.name": 'x = "y"'})
    assert s.name == 'x = "y"'


def test_nesting_is_bounded():
    d = {"scenario": {"name": "x"}}
    d["game"] = d  # contains itself
    with pytest.raises(ValueError, match="nested more than"):
        datapact.validate(d)
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than"):
        datapact.validate("baseline", set={"game.drift": deep})


def test_a_path_with_an_equals_sign_is_a_path(tmp_path):
    f = tmp_path / "a=1.toml"
    f.write_text(datapact.validate("baseline").toml)
    assert datapact.validate(str(f)).origin == str(f)
    with pytest.raises(ScenarioError, match="no such file"):
        datapact.validate(str(tmp_path / "b=2.toml"))


def test_empty_out_is_refused(tiny):
    with pytest.raises(ValueError, match='out=""'):
        datapact.run("baseline", set=tiny, out="", progress=False)
    with pytest.raises(ValueError, match="resume=True needs out="):
        datapact.run("baseline", set=tiny, resume=True, progress=False)


def test_a_designed_scenario_lists_its_grid_and_summarises_its_design():
    s = datapact.validate(
        {
            "scenario": {"name": "designed", "seed": 1, "replications": 2},
            "sweep": {"game.order": {"values": ["small-first", "random"]}},
            "design": {"kind": "sobol", "samples": 1024, "second_order": False,
                       "game.value": {"from": 0.0, "to": 0.3}, "game.payment": {"from": 0.01, "to": 0.3, "log": True}},
        }
    )
    # The grid axis only: not the 1024 x 4 points of the design.
    assert [a[0] for a in s.sweep] == ["game.order"] and len(s.sweep[0][2]) == 2
    d = s.design
    assert (d["kind"], d["samples"], d["points"], d["second_order"]) == ("sobol", 1024, 1024 * 4, False)
    assert [(a["key"], a["from"], a["to"], a["log"]) for a in d["axes"]] == [
        ("game.value", 0.0, 0.3, False), ("game.payment", 0.01, 0.3, True)]
    assert s.cells == 2 * 1024 * 4
    assert datapact.validate("baseline").design is None
