"""datapact.optimize and datapact.calibrate: the command line's searches, their tables."""

import subprocess

import pyarrow as pa
import pytest

import datapact
from conftest import REPO

PAYMENT_THRESHOLD = REPO / "scenarios" / "search" / "payment_threshold.toml"
SMALL = {"optimize.generations": 3, "optimize.population": 8, "scenario.replications": 40}

CALIBRATE = """
mechanisms = ["M"]
[scenario]
name = "calibrate_small"
seed = 7
replications = 40
[calibrate]
generations = 2
particles = 10
proposals = 30
targets = [ { metric = "withdrawals_mean", mechanism = "M", value = 0.77, se = 0.042 } ]
[calibrate.keys]
"population.cost.high" = { from = 0.5, to = 2.0 }
"""


def tables_bytes(root, names):
    return {n: (root / f"{n}.parquet").read_bytes() for n in names}


def test_optimize_returns_the_front_the_command_line_writes(cli, tmp_path):
    by_cli = tmp_path / "cli"
    args = [str(cli), "optimize", str(PAYMENT_THRESHOLD), "--out", str(by_cli), "-q", "--threads", "2"]
    for k, v in SMALL.items():
        args += ["--set", f"{k}={v}"]
    subprocess.run(args, check=True, capture_output=True)
    s = datapact.optimize(PAYMENT_THRESHOLD, set=SMALL, out=tmp_path / "py", threads=1)
    assert s.kind == "optimize" and s.tables == ("pareto", "evaluations", "hypervolume")
    names = ("pareto", "evaluations", "hypervolume")
    assert tables_bytes(by_cli, names) == tables_bytes(s.dir, names)
    front = s.pareto
    assert isinstance(front, pa.Table) and front.num_rows >= 1
    for column in ("payment", "threshold", "M_welfare_mean", "M_welfare_mean_se", "M_subsidy_mean", "M_subsidy_mean_se"):
        assert column in front.column_names
    w, c = front["M_welfare_mean"].to_pylist(), front["M_subsidy_mean"].to_pylist()
    for i in range(len(w)):
        for j in range(len(w)):
            assert not (w[j] >= w[i] and c[j] <= c[i] and (w[j] > w[i] or c[j] < c[i]))
    assert s.evaluations.num_rows >= 3 * 8
    # Again into the same directory: refused without resume, nothing recomputed with it.
    with pytest.raises(datapact.OutputError, match="resume"):
        datapact.optimize(PAYMENT_THRESHOLD, set=SMALL, out=tmp_path / "py")
    again = datapact.optimize(PAYMENT_THRESHOLD, set=SMALL, out=tmp_path / "py", resume=True)
    assert again.pareto.equals(front)


def test_calibrate_from_text_returns_the_posterior(cli, tmp_path):
    path = tmp_path / "calibrate.toml"
    path.write_text(CALIBRATE)
    by_cli = tmp_path / "cli"
    subprocess.run([str(cli), "calibrate", str(path), "--out", str(by_cli), "-q"], check=True, capture_output=True)
    s = datapact.calibrate(CALIBRATE, out=tmp_path / "py")
    names = ("posterior", "proposals", "tolerances")
    assert tables_bytes(by_cli, names) == tables_bytes(s.dir, names)
    post = s.posterior
    assert post.num_rows == 10 and "cost_high" in post.column_names
    assert abs(sum(post["weight"].to_pylist()) - 1) < 1e-9
    assert all(0.5 <= x <= 2.0 for x in post["cost_high"].to_pylist())
    # Without out: a temporary directory, deleted with the result.
    temp = datapact.calibrate(CALIBRATE)
    directory = temp.dir
    assert temp.posterior.num_rows == 10
    del temp
    assert not directory.exists()


def test_bad_search_files_raise_before_any_work(tmp_path):
    with pytest.raises(datapact.ScenarioError, match=r"optimize\.population") as e:
        datapact.optimize(PAYMENT_THRESHOLD, set={"optimize.population": 1}, out=tmp_path / "a")
    assert e.value.exit_code == 2
    with pytest.raises(datapact.ScenarioError, match=r"no \[optimize\] table"):
        datapact.optimize(CALIBRATE, out=tmp_path / "b")
    with pytest.raises(datapact.ScenarioError, match="game.value"):
        datapact.optimize(PAYMENT_THRESHOLD, set={"optimize.keys": {"game.value": {"from": 0.0, "to": 1.0}}}, out=tmp_path / "c")
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    with pytest.raises(TypeError):
        datapact.calibrate(3)
