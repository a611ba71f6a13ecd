"""Errors, open/verify, schema, scenarios."""

import subprocess

import pytest

import datapact
from datapact import OutputError, ScenarioError, VerifyError


def test_bad_value_names_line_and_key_like_the_cli(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    text = (datapact.validate("baseline").toml).replace("threshold = 0.6", "threshold = 1.5")
    bad.write_text(text)
    with pytest.raises(ScenarioError) as e:
        datapact.validate(bad)
    err = e.value
    assert err.line is not None and err.line >= 1
    assert err.key == "game.threshold"
    assert err.origin == str(bad)
    assert err.exit_code == 2
    by_cli = subprocess.run([str(cli), "validate", str(bad)], capture_output=True, text=True)
    assert by_cli.returncode == 2
    assert by_cli.stderr.strip() == f"datapact: {err}"


def test_bad_override_names_the_override():
    with pytest.raises(ScenarioError) as e:
        datapact.validate("baseline", set={"game.threshold": 2})
    assert e.value.origin == "--set game.threshold"
    assert "threshold" in str(e.value)
    with pytest.raises(ScenarioError, match="must look like key=value"):
        datapact.validate("baseline", set=["game.threshold"])
    with pytest.raises(TypeError):
        datapact.validate("baseline", set="game.drift=0.1")


def test_unknown_name_lists_the_embedded_scenarios():
    with pytest.raises(ScenarioError, match="not an embedded scenario.*baseline"):
        datapact.validate("no_such_scenario")


def test_bad_toml_text_and_dict_values():
    with pytest.raises(ScenarioError, match="<string>"):
        datapact.validate("[scenario]\nname = \n")
    with pytest.raises(TypeError, match="scenario.seed"):
        datapact.validate({"scenario": {"name": "x", "seed": object()}})
    with pytest.raises(TypeError):
        datapact.validate(42)


def test_threads_zero_is_refused(tiny):
    with pytest.raises(ValueError, match="threads"):
        datapact.run("baseline", set=tiny, threads=0, progress=False)


def test_directory_of_another_scenario_is_refused(tmp_path, tiny):
    datapact.run("baseline", set=tiny, out=tmp_path, progress=False)
    with pytest.raises(OutputError, match="another --out|use another") as e:
        datapact.run("baseline", set={**tiny, "scenario.seed": 1}, out=tmp_path, progress=False)
    assert e.value.exit_code == 2


def test_open_verifies_the_files(tmp_path, tiny):
    datapact.run("baseline", set=tiny, out=tmp_path, progress=False)
    assert datapact.open(tmp_path).diagnostics.num_rows == 9
    part = sorted((tmp_path / "cells").glob("*.parquet"))[0]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(VerifyError) as e:
        datapact.open(tmp_path)
    assert e.value.damaged == [f"cells/{part.name}"]
    assert e.value.missing == []
    part.unlink()
    with pytest.raises(VerifyError) as e:
        datapact.open(tmp_path)
    assert e.value.missing == [f"cells/{part.name}"]
    # without verification the manifest is still read, and the damage shows on reading
    assert datapact.open(tmp_path, verify=False).tables == ("cells", "diagnostics", "contrasts")


def test_open_an_unfinished_directory(tmp_path):
    with pytest.raises(VerifyError, match="has not finished"):
        datapact.open(tmp_path)
    with pytest.raises(OutputError, match="no manifest"):
        datapact.open(tmp_path, verify=False)


def test_schema_matches_the_tables(tiny):
    schemas = datapact.schema(["value", "payment"])
    assert list(schemas) == ["cells", "diagnostics", "contrasts", "rounds", "users", "events"]
    run = datapact.run("baseline", set=tiny, progress=False)
    assert run.cells.schema.names == schemas["cells"].names
    assert run.cells.schema.types == schemas["cells"].types
    field = schemas["cells"].field("welfare_mean")
    assert field.metadata[b"description"]
    assert "value" not in datapact.schema()["cells"].names
    # A network's columns only with network=True, as a run without a network has none of them.
    assert "degree" not in schemas["users"].names
    assert {"degree", "withdrawn_neighbours"} <= set(datapact.schema(network=True)["users"].names)
    assert "cascade_mean" in datapact.schema(network=True)["cells"].names
    with pytest.raises(ValueError, match="collides"):
        datapact.schema(["mechanism"])


def test_scenarios_lists_the_embedded_ones():
    names = datapact.scenarios()
    assert "baseline" in names and "f1_success_m" in names
    assert all(isinstance(d, str) for d in names.values())
    assert datapact.validate("f1_success_m").name


def test_version():
    assert datapact.__version__.count(".") == 2
