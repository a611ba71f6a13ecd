"""datapact.sensitivity: S1, S2 and ST of a Sobol design, point estimates equal to SALib's
`sobol.analyze` on the same outputs (the bootstrap intervals use other random streams, so only the
estimates are compared)."""

import numpy as np
import pyarrow.compute as pc
import pytest

import datapact
from datapact import OutputError

from SALib.analyze import sobol as salib_sobol  # requirements-dev.txt

AXES = {
    "game.value": (0.0, 0.3),
    "game.payment": (0.0, 0.3),
    "game.drift": (0.0, 1.0),
}

# 16 base samples over 3 axes: 16 x 8 = 128 points, 10 campaigns each, 5 users.
SOBOL = {
    "scenario": {"name": "sobol_s2", "seed": 11, "replications": 10},
    "population": {"users": 5},
    "design": {"kind": "sobol", "samples": 16, **{k: {"from": lo, "to": hi} for k, (lo, hi) in AXES.items()}},
}


@pytest.fixture(scope="module")
def sobol_run(tmp_path_factory):
    return datapact.run(SOBOL, out=tmp_path_factory.mktemp("sobol") / "run", progress=False)


def outputs(run, mechanism, minus=None):
    """welfare_mean of `mechanism` (minus `minus`) per design point, in design order."""
    cells = run.cells
    last = pc.max(cells["round"]).as_py()
    def of(m):
        rows = cells.filter(pc.and_(pc.equal(cells["mechanism"], m), pc.equal(cells["round"], last)))
        rows = rows.sort_by("cell")
        return np.asarray(rows["welfare_mean"].to_numpy(), dtype=float)
    y = of(mechanism)
    return y - of(minus) if minus else y


@pytest.mark.parametrize("mechanism,minus", [("M", None), ("S", None), ("M", "S")])
def test_s1_s2_st_equal_salib_estimates(sobol_run, mechanism, minus):
    table = datapact.sensitivity(sobol_run, metric="welfare_mean", mechanism=mechanism, minus=minus, second_order=True)
    assert set(table["index"].to_pylist()) == {"S1", "ST", "S2"}
    columns = sobol_run.manifest["design"]["columns"]
    problem = {"num_vars": len(AXES), "names": list(columns), "bounds": [list(b) for b in AXES.values()]}
    y = outputs(sobol_run, mechanism, minus)
    assert len(y) == 16 * (2 * len(AXES) + 2)
    salib = salib_sobol.analyze(problem, y, calc_second_order=True, num_resamples=10, seed=1)
    rows = table.to_pylist()
    got = {(r["index"], r["axis"], r["axis2"]): r["value"] for r in rows}
    for i, a in enumerate(columns):
        assert got[("S1", a, None)] == pytest.approx(salib["S1"][i], abs=1e-12)
        assert got[("ST", a, None)] == pytest.approx(salib["ST"][i], abs=1e-12)
        for j in range(i + 1, len(columns)):
            assert got[("S2", a, columns[j])] == pytest.approx(salib["S2"][i, j], abs=1e-12)
    # Every S2 has an interval; none has one of the wrong order of magnitude.
    s2 = [r for r in rows if r["index"] == "S2"]
    assert len(s2) == 3 and all(0 < r["conf"] < 10 for r in s2)


def test_a_first_order_design_equals_salib_without_second_order(tmp_path):
    """``calc_second_order=False`` (SALib's name): N·(D + 2) points; S1 and ST equal SALib's
    ``analyze(calc_second_order=False)`` on the same outputs; S2 is refused."""
    problem = {"num_vars": len(AXES), "names": list(AXES), "bounds": [list(b) for b in AXES.values()]}
    design = datapact.design_from_problem(problem, samples=16, calc_second_order=False)
    assert design["second_order"] is False
    run = datapact.run({**SOBOL, "design": design}, out=tmp_path / "run", progress=False)
    y = outputs(run, "M")
    assert len(y) == 16 * (len(AXES) + 2)
    columns = run.manifest["design"]["columns"]
    salib = salib_sobol.analyze({**problem, "names": list(columns)}, y, calc_second_order=False, num_resamples=10, seed=1)
    got = {(r["index"], r["axis"]): r["value"] for r in datapact.sensitivity(run, mechanism="M").to_pylist()}
    for i, a in enumerate(columns):
        assert got[("S1", a)] == pytest.approx(salib["S1"][i], abs=1e-12)
        assert got[("ST", a)] == pytest.approx(salib["ST"][i], abs=1e-12)
    with pytest.raises(OutputError, match="second_order = false") as refused:
        datapact.sensitivity(run, mechanism="M", second_order=True)
    assert refused.value.exit_code == 2  # refused, as the command line exits


def test_second_order_leaves_s1_and_st_as_they_were(sobol_run):
    without = datapact.sensitivity(sobol_run, mechanism="M")
    with_s2 = datapact.sensitivity(sobol_run, mechanism="M", second_order=True)
    assert "S2" not in without["index"].to_pylist()
    first = with_s2.filter(pc.invert(pc.equal(with_s2["index"], "S2")))
    assert first.equals(without)


def test_sensitivity_writes_what_the_command_writes(sobol_run, tmp_path, cli):
    import subprocess

    import pyarrow.parquet as pq

    table = datapact.sensitivity(sobol_run, mechanism="M", second_order=True, out=tmp_path / "py")
    subprocess.run(
        [str(cli), "sensitivity", str(sobol_run.dir), "--mechanism", "M", "--second-order", "--out", str(tmp_path / "cli")],
        check=True,
        capture_output=True,
    )
    assert pq.read_table(tmp_path / "cli" / "sensitivity.parquet").equals(table)
    assert (tmp_path / "py" / "sensitivity.parquet").read_bytes() == (tmp_path / "cli" / "sensitivity.parquet").read_bytes()


def test_bad_requests_are_clear_errors(sobol_run, tiny):
    with pytest.raises(OutputError, match="no numeric column `nope`"):
        datapact.sensitivity(sobol_run, metric="nope")
    grid = datapact.run("baseline", set=tiny, progress=False)
    with pytest.raises(OutputError, match="no \\[design\\]"):
        datapact.sensitivity(grid)
