"""The commands from Python (verify, diff, report, the console script) and resume after Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

import datapact
from datapact import OutputError, VerifyError
from conftest import INTERRUPTIBLE_CHILD, tree_bytes


def console_script() -> Path:
    """The `datapact` command pip installed next to this interpreter."""
    script = Path(sys.executable).parent / "datapact"
    if not script.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"pip installed no console script {script}")
        pytest.skip("the package is not pip-installed here (no console script)")
    return script


def test_console_script_is_the_command_line(cli):
    script = console_script()
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"datapact {datapact.__version__}"
    native = subprocess.run([str(cli), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout == native.stdout
    # Same output and exit code as the binary, errors included.
    for args in (["validate", "baseline"], ["validate", "baseline", "--set", "game.threshold=2"], ["nope"]):
        a = subprocess.run([str(script), *args], capture_output=True, text=True)
        b = subprocess.run([str(cli), *args], capture_output=True, text=True)
        assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr.replace(str(cli), str(script)))


def test_python_dash_m_runs_the_command_line():
    p = subprocess.run([sys.executable, "-m", "datapact", "--version"], capture_output=True, text=True)
    assert (p.returncode, p.stdout.strip()) == (0, f"datapact {datapact.__version__}")
    p = subprocess.run([sys.executable, "-m", "datapact", "validate", "nope_no_such"], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.startswith("datapact: nope_no_such: ")


def test_console_script_run_writes_what_the_binary_writes(cli, tmp_path, tiny):
    script = console_script()
    args = ["run", "baseline", "--quiet"] + [a for k, v in tiny.items() for a in ("--set", f"{k}={v}")]
    subprocess.run([str(script), *args, "--out", str(tmp_path / "py")], check=True, capture_output=True)
    subprocess.run([str(cli), *args, "--out", str(tmp_path / "bin")], check=True, capture_output=True)
    assert tree_bytes(tmp_path / "py") == tree_bytes(tmp_path / "bin")


def test_interrupted_run_finishes_with_resume(tmp_path, cli):
    """SIGINT mid-run keeps finished chunks; resume=True computes only the rest, and the outputs
    are those of an uninterrupted run, byte for byte (the baseline: 961 cells x 3 mechanisms).
    One cell per chunk: the first part appears after about 1/961 of the run, so the interrupt
    lands mid-run however fast the build (with the default chunks a release build finished first)."""
    out = tmp_path / "resumed"
    code = (
        INTERRUPTIBLE_CHILD + "try:\n"
        f"    datapact.run('baseline', set={{'scenario.replications': 2000, 'output.chunk_cells': 1}}, out={str(out)!r}, threads=1, progress=False)\n"
        "except KeyboardInterrupt as e:\n"
        "    print(e, flush=True); sys.exit(42)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parts = out / "cells"
    deadline = time.monotonic() + 300
    while not (parts.is_dir() and any(parts.glob("*.parquet"))):
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "no chunk finished in 300 s"
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 42, stderr
    assert "resume=True" in stdout and str(out) in stdout, stdout
    assert not (out / "manifest.json").exists(), "the run finished before the interrupt: too fast to test"
    kept = len(list(parts.glob("*.parquet")))
    run = datapact.run("baseline", set={"scenario.replications": 2000, "output.chunk_cells": 1}, out=out, resume=True, progress=False)
    assert run.cells.num_rows == 2883
    assert kept > 0 and run.summary["cells_run"] < 961, run.summary
    whole = tmp_path / "whole"
    subprocess.run(
        [str(cli), "run", "baseline", "--set", "scenario.replications=2000", "--set", "output.chunk_cells=1", "--out", str(whole), "--quiet"],
        check=True,
    )
    assert tree_bytes(out) == tree_bytes(whole)


def test_verify_and_diff(tmp_path, tiny):
    a = datapact.run("baseline", set=tiny, out=tmp_path / "a", progress=False)
    b = datapact.run("baseline", set={**tiny, "scenario.seed": 7}, out=tmp_path / "b", progress=False)
    assert datapact.verify(a) == datapact.verify(str(tmp_path / "a")) > 0
    same = datapact.diff(a, tmp_path / "a")
    assert isinstance(same.table, pa.Table) and same.table.num_rows > 0
    assert same.over_threshold == 0 and same.max_abs_z == 0 and same.cells == 9
    other = datapact.diff(a, b, z=1e-9, out=tmp_path / "d.parquet")
    assert other.over_threshold > 0 and (tmp_path / "d.parquet").is_file()
    assert {s["statistic"] for s in other.summary} >= {"success_rate", "welfare_mean"}
    with pytest.raises(ValueError, match="z must be"):
        datapact.diff(a, b, z=0)
    bigger = datapact.run("baseline", set={**tiny, "sweep.game.value.steps": 4}, out=tmp_path / "c", progress=False)
    with pytest.raises(OutputError):
        datapact.diff(a, bigger)
    (tmp_path / "a" / "cells").rename(tmp_path / "a" / "gone")
    with pytest.raises(VerifyError):
        datapact.verify(a)


def test_report_of_a_run(tmp_path, tiny):
    run = datapact.run("baseline", set=tiny, out=tmp_path / "run", progress=False)
    written = datapact.report(run, out=tmp_path / "report")
    assert Path(written["index"]).is_file()
    assert written["figures"] and all(Path(f).is_file() for f in written["figures"])
    assert written["claims"] == []  # no paper runs
