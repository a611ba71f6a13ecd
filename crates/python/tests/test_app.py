"""A researcher's plugins from Python: ``datapact.run(..., app=APP)`` runs the app binary (here
``examples/deposit``: the deposit mechanism and its ``forfeited`` metric) and returns its outputs
as Arrow tables, byte for byte what the app's command line writes."""

import subprocess

import pyarrow.compute as pc
import pytest

import datapact
from conftest import tree_bytes

DEPOSIT = {
    "mechanisms": ["M", "deposit"],
    "scenario": {"name": "deposit_py", "seed": 5, "replications": 30},
    "population": {"users": 8},
    "mechanism": {"deposit": {"amount": 0.05}},
    "sweep": {"game.value": {"values": [0.05, 0.15]}},
}


def test_a_plugin_mechanism_runs_and_returns_arrow_tables(app, tmp_path):
    run = datapact.run(DEPOSIT, app=app, out=tmp_path / "py", trace="rounds", set={"scenario.replications": 20})
    cells = run.cells
    assert set(cells["mechanism"].to_pylist()) == {"M", "deposit"}
    # The plugin's metric is a column, set for deposit's cells only.
    deposit = cells.filter(pc.equal(cells["mechanism"], "deposit"))
    assert deposit["forfeited_mean"].null_count == 0
    assert cells.filter(pc.equal(cells["mechanism"], "M"))["forfeited_mean"].null_count == 2
    assert run.rounds.num_rows == 2 * 2 * 20
    assert any(p.startswith("deposit ") for p in run.manifest["plugins"])
    # The same files as the app's own command line with the same scenario and --set.
    source = tmp_path / "deposit.toml"
    source.write_text(datapact_toml(DEPOSIT))
    cli_out = tmp_path / "cli"
    subprocess.run(
        [str(app), "run", str(source), "--out", str(cli_out), "--quiet",
         "--set", "scenario.replications=20", "--set", 'output.trace="rounds"'],
        check=True,
    )
    parts = lambda d: {k: v for k, v in tree_bytes(d).items() if k.endswith(".parquet")}
    assert parts(tmp_path / "py") == parts(cli_out)


def test_the_app_refuses_bad_input_with_its_own_message(app, tmp_path):
    with pytest.raises(datapact.AppError) as e:
        datapact.run(DEPOSIT, app=app, out=tmp_path / "bad", set={"mechanism.deposit.amount": -1.0})
    assert e.value.exit_code == 2
    assert "mechanism.deposit.amount" in str(e.value)
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())
    # Without app=, the core has no deposit mechanism: a ScenarioError naming it.
    with pytest.raises(datapact.ScenarioError, match="deposit"):
        datapact.run(DEPOSIT)


def datapact_toml(scenario: dict) -> str:
    """The dict as TOML text, as the extension serializes it for the app."""
    text, _ = datapact._native.app_args(scenario, [])
    return text
