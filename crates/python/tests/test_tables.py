"""A Run's tables come from its own verified files or raise; the experiments table; SALib's
layouts (a design from a `problem` dict, the wide sensitivity table)."""

import os
import shutil
import warnings

import pyarrow.compute as pc
import pytest

import datapact
from datapact import OutputError


def test_tables_survive_a_chdir(tmp_path, tiny, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = datapact.run("baseline", set=tiny, out="rel", progress=False)
    assert run.dir.is_absolute()
    opened = datapact.open("rel")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert run.cells.num_rows == opened.cells.num_rows == 27


def test_a_rerun_into_the_same_out_is_not_read_as_this_run(tmp_path, tiny):
    first = datapact.run("baseline", set=tiny, out=tmp_path / "out", progress=False)
    shutil.rmtree(tmp_path / "out")
    datapact.run("baseline", set={**tiny, "scenario.seed": 9}, out=tmp_path / "out", progress=False)
    with pytest.raises(OutputError, match="other outputs than when this Run was opened"):
        first.cells


def test_a_swapped_part_raises(tmp_path, tiny):
    a = datapact.run("baseline", set=tiny, out=tmp_path / "a", progress=False)
    datapact.run("baseline", set={**tiny, "scenario.seed": 9}, out=tmp_path / "b", progress=False)
    part = sorted((tmp_path / "a" / "cells").glob("*.parquet"))[0]
    shutil.copyfile(tmp_path / "b" / "cells" / part.name, part)
    with pytest.raises(OutputError, match="damaged part"):
        a.cells


def test_a_stray_part_is_named_not_read(tmp_path, tiny):
    a = datapact.run("baseline", set=tiny, out=tmp_path / "a", progress=False)
    part = sorted((tmp_path / "a" / "cells").glob("*.parquet"))[0]
    shutil.copyfile(part, part.with_name("zz-stray.parquet"))
    with pytest.raises(OutputError, match="zz-stray.parquet"):
        a.cells


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_manifest_is_refused_without_blocking(tmp_path, tiny):
    datapact.run("baseline", set=tiny, out=tmp_path / "a", progress=False)
    (tmp_path / "a" / "manifest.json").unlink()
    os.mkfifo(tmp_path / "a" / "manifest.json")
    with pytest.raises(OutputError):
        datapact.open(tmp_path / "a", verify=False)
    with pytest.raises(OutputError):
        datapact.open(tmp_path / "a")


def test_experiments_has_a_row_per_point_and_outcomes_side_by_side(tiny):
    run = datapact.run("baseline", set=tiny, progress=False)
    x = run.experiments()
    assert x.num_rows == 9
    assert x.column_names[:3] == ["cell", "value", "payment"]
    for m in ("C", "S", "M"):
        rows = run.cells.filter(pc.equal(run.cells["mechanism"], m)).sort_by("cell")
        assert x[f"welfare_mean_{m}"].to_pylist() == rows["welfare_mean"].to_pylist()
        assert x[f"success_rate_{m}"].to_pylist() == rows["success_rate"].to_pylist()
    if "contrasts" in run.tables:
        c = run.contrasts
        ms = c.filter(pc.and_(pc.equal(c["mechanism_a"], "M"), pc.equal(c["mechanism_b"], "S"))).sort_by("cell")
        assert x["welfare_diff_M_S"].to_pylist() == ms["welfare_diff"].to_pylist()
    assert run.experiments(["welfare_mean"]).column_names[3:6] == ["welfare_mean_C", "welfare_mean_S", "welfare_mean_M"]
    with pytest.raises(KeyError, match="nope"):
        run.experiments(["nope"])


def test_a_design_from_a_salib_problem_and_the_wide_table():
    problem = {"num_vars": 2, "names": ["game.value", "game.payment"], "bounds": [[0.0, 0.3], [0.0, 0.2]]}
    design = datapact.design_from_problem(problem, samples=8)
    scenario = {
        "scenario": {"name": "from_salib", "seed": 1, "replications": 5},
        "population": {"users": 4},
        "design": design,
    }
    run = datapact.run(scenario, progress=False)
    assert run.manifest["design"]["keys"] == ["game.value", "game.payment"]
    assert run.cells.num_rows == 8 * 6 * 3
    wide = datapact.sensitivity_wide(datapact.sensitivity(run, mechanism="M", second_order=True))
    assert set(wide) == {"S1", "S2"}
    assert wide["S1"].column_names == ["mechanism", "grid_cell", "axis", "S1", "S1_conf", "ST", "ST_conf"]
    assert wide["S1"]["axis"].to_pylist() == ["value", "payment"]
    assert wide["S2"].num_rows == 1 and wide["S2"]["axis2"].to_pylist() == ["payment"]
    with pytest.raises(ValueError, match="disagree"):
        datapact.design_from_problem({"num_vars": 3, "names": ["game.value"], "bounds": [[0, 1]]})


def test_a_sobol_sample_size_not_a_power_of_two_warns():
    scenario = {
        "scenario": {"name": "odd", "seed": 1, "replications": 3},
        "population": {"users": 4},
        "design": {"kind": "sobol", "samples": 6, "game.value": {"from": 0.0, "to": 0.3}},
    }
    run = datapact.run(scenario, progress=False)
    with pytest.warns(UserWarning, match="not a power of 2"):
        datapact.sensitivity(run, mechanism="M")
    good = datapact.run({**scenario, "design": {**scenario["design"], "samples": 8}}, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        datapact.sensitivity(good, mechanism="M")


def test_a_listed_design_run_reads_its_scenario_from_its_points_file(tmp_path, monkeypatch):
    # A listed design's points are stored once, in the run's design_points.parquet: the scenario
    # text the manifest holds names that file and the points' digest instead of listing them.
    points = [{"game.value": 0.01 * i, "game.payment": 0.005 * i} for i in range(12)]
    scenario = {
        "scenario": {"name": "listed", "seed": 2, "replications": 3},
        "population": {"users": 4},
        "design": {"kind": "points", "points": points},
    }
    out = tmp_path / "listed"
    run = datapact.run(scenario, out=str(out), progress=False)
    assert "points = [" not in run.manifest["scenario"]
    assert 'file = "design_points.parquet"' in run.manifest["scenario"]
    assert run.manifest["design"]["points"] == []
    assert run.manifest["design"]["points_file"]["rows"] == 12
    loaded = run.scenario
    assert loaded.hash == run.manifest["scenario_hash"] == datapact.validate(scenario).hash
    assert loaded.design["points"] == 12
    # Read from elsewhere, as datapact.open would (the points file is the run's, not the cwd's).
    monkeypatch.chdir(tmp_path.parent)
    assert datapact.open(str(out)).scenario.hash == run.manifest["scenario_hash"]
    assert datapact.open(str(out)).experiments().num_rows == 12
