"""datapact.run: tables, equality with the command line, scenario forms, progress, GIL."""

import gc
import subprocess
import sys
import threading
import time
import tomllib

import pyarrow as pa
import pytest

import datapact
from conftest import INTERRUPTIBLE_CHILD, TINY_ARGS, tree_bytes


def test_cells_table_has_a_row_per_cell_and_mechanism(tiny):
    run = datapact.run("baseline", set=tiny, progress=False)
    assert isinstance(run.cells, pa.Table)
    assert run.cells.num_rows == 9 * 3
    assert run.manifest["rows"]["cells"] == 9 * 3
    assert run.tables == ("cells", "diagnostics", "contrasts")
    assert run.diagnostics.num_rows == 9
    # one row per cell and pair of mechanisms (M - S, M - C, S - C)
    assert run.contrasts.num_rows == 9 * 3
    assert set(run.cells.column("mechanism").to_pylist()) == {"C", "S", "M"}
    # swept columns carry the grid values, first axis slowest
    assert run.swept_columns == ("value", "payment")
    assert sorted(set(run.cells.column("value").to_pylist())) == [0.0, 0.15, 0.3]
    assert run.summary["cells_run"] == 9


def test_to_polars_is_the_same_table(tiny):
    run = datapact.run("baseline", set=tiny, progress=False)
    df = run.to_polars()
    assert df.shape == (run.cells.num_rows, run.cells.num_columns)
    assert df["welfare_mean"].to_list() == run.cells.column("welfare_mean").to_pylist()


@pytest.mark.parametrize("trace", ["rounds", "users", "events"])
def test_same_bytes_as_the_command_line(cli, tmp_path, tiny, trace):
    by_cli = tmp_path / "cli"
    args = [str(cli), "run", "baseline", "--out", str(by_cli), "-q", "--threads", "2"]
    for a in TINY_ARGS + [f"output.trace={trace}"]:
        args += ["--set", a]
    subprocess.run(args, check=True, capture_output=True)
    by_python = tmp_path / "python"
    run = datapact.run("baseline", set=tiny, out=by_python, threads=1, trace=trace, progress=False)
    a, b = tree_bytes(by_cli), tree_bytes(by_python)
    assert set(a) == set(b) and any(k.startswith(trace + "/") for k in a)
    for name in a:
        assert a[name] == b[name], f"{name} differs between the CLI and Python"
    assert run.table(trace).num_rows == run.manifest["rows"][trace] > 0


def test_rounds_trace_has_a_row_per_campaign(tiny):
    run = datapact.run("baseline", set=tiny, trace="rounds", progress=False)
    assert run.rounds.num_rows == 9 * 20 * 3
    assert run.tables == ("cells", "diagnostics", "contrasts", "rounds")


def test_users_trace_has_a_row_per_user_of_every_campaign(tiny):
    run = datapact.run("baseline", set=tiny, trace="users", progress=False)
    assert run.tables == ("cells", "diagnostics", "contrasts", "rounds", "users")
    users, rounds = run.users.to_pylist(), run.rounds.to_pylist()
    assert len(users) == 20 * len(rounds)
    # Per campaign, the users' payments add up to its subsidy (summed in user order).
    paid = {}
    for u in users:
        key = (u["cell"], u["rep"], u["round"], u["mechanism"])
        paid[key] = paid.get(key, 0.0) + u["paid"]
    for r in rounds:
        assert paid[(r["cell"], r["rep"], r["round"], r["mechanism"])] == r["subsidy"]


def test_a_table_not_recorded_is_a_clear_error(tiny):
    run = datapact.run("baseline", set=tiny, progress=False)
    with pytest.raises(AttributeError, match="trace='rounds'"):
        run.rounds
    with pytest.raises(KeyError, match="no 'events' table"):
        run.table("events")
    assert not hasattr(run, "events")


def test_every_form_of_scenario_is_the_same_scenario(baseline_toml, tiny):
    text = baseline_toml.read_text()
    forms = [
        "baseline",
        str(baseline_toml),
        baseline_toml,
        text,
        tomllib.loads(text),
        datapact.validate("baseline"),
    ]
    hashes = {datapact.validate(f, set=tiny).hash for f in forms}
    assert len(hashes) == 1
    assert datapact.validate("baseline", set=tiny).cells == 9


def test_dict_scenario_runs(tiny, baseline_toml):
    scenario = tomllib.loads(baseline_toml.read_text())
    scenario["scenario"]["replications"] = 10
    scenario["sweep"] = {"game.value": {"values": [0.1, 0.2]}}
    run = datapact.run(scenario, progress=False)
    assert run.cells.num_rows == 2 * 3
    # reloaded from the manifest's TOML, as a file of the run (a listed design's points file is there)
    assert run.scenario.origin == str(run.dir / "manifest.json")
    assert run.scenario.hash == datapact.validate(scenario).hash


def test_validated_scenario_takes_more_overrides(tiny):
    s = datapact.validate("baseline", set={"scenario.replications": 7})
    t = datapact.validate(s, set={"game.drift": 0.25})
    assert (t.replications, "drift = 0.25" in t.toml) == (7, True)
    assert s.replications == 7 and "drift = 0.25" not in s.toml


def test_temporary_directory_goes_with_the_run(tiny):
    run = datapact.run("baseline", set=tiny, progress=False)
    where = run.dir
    assert (where / "manifest.json").is_file()
    del run
    gc.collect()
    assert not where.exists()


def test_out_directory_is_kept(tmp_path, tiny):
    out = tmp_path / "kept"
    run = datapact.run("baseline", set=tiny, out=out, progress=False)
    del run
    gc.collect()
    assert (out / "manifest.json").is_file()
    assert datapact.open(out).cells.num_rows == 27


def test_progress_bar_reaches_every_cell(tiny, capsys):
    pytest.importorskip("tqdm")
    datapact.run("baseline", set=tiny, progress=True)
    err = capsys.readouterr().err
    assert "9/9" in err, err


def test_gil_is_released_while_simulating():
    # A run of about a second on one thread; Python keeps running beside it only if the GIL
    # is released (a held GIL would leave the counter near zero).
    done = threading.Event()
    result = {}

    def work():
        result["run"] = datapact.run(
            "baseline", set={"scenario.replications": 300}, threads=1, progress=False
        )
        done.set()

    t = threading.Thread(target=work)
    t.start()
    spins = 0
    started = time.perf_counter()
    while not done.is_set():
        spins += 1
    elapsed = time.perf_counter() - started
    t.join()
    assert result["run"].cells.num_rows == 2883
    assert elapsed > 0.2, "the run was too short to tell"
    assert spins > 100_000, f"only {spins} iterations in {elapsed:.2f} s: the GIL was held"


def test_ctrl_c_stops_a_run():
    # A run of many minutes; SIGINT must end it within seconds with KeyboardInterrupt.
    code = (
        INTERRUPTIBLE_CHILD + "try:\n"
        "    datapact.run('baseline', set={'scenario.replications': 100000}, threads=1, progress=False)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True); sys.exit(42)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    assert p.poll() is None, p.communicate()
    p.send_signal(2)  # SIGINT
    t0 = time.perf_counter()
    out, err = p.communicate(timeout=60)
    assert (p.returncode, out.strip()) == (42, "interrupted"), err
    assert time.perf_counter() - t0 < 30
