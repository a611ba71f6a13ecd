"""`datapact.audit` from Python: Ctrl-C stops it inside a cell (KeyboardInterrupt within about a
second, nothing half-written), and `resume=True` keeps the finished cells of every phase."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import datapact
from conftest import INTERRUPTIBLE_CHILD

REPO = Path(__file__).resolve().parents[3]


def spec(tmp_path: Path, name: str, deviation_replications: int) -> Path:
    """The shipped audit settings at 2 x 2 cells with 4 replications everywhere but the
    deviations'."""
    text = (REPO / "scenarios" / "audit.toml").read_text()
    for old, new in (
        ("replications = 500 ", f"replications = {deviation_replications} "),
        ("steps = 11 ", "steps = 2 "),
        ("replications = 200 ", "replications = 4 "),
        ("replications = 1000 ", "replications = 4 "),
        ("steps = 16 ", "steps = 2 "),
    ):
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def hidden(root: Path):
    return sorted(str(p) for p in root.rglob(".*"))


def test_ctrl_c_stops_the_audit_inside_a_cell(tmp_path):
    # Cells of 100 000 deviation replications: each takes many seconds, so the interrupt lands
    # inside one (before, the audit looked at Ctrl-C only between cells and ran on).
    settings = spec(tmp_path, "slow.toml", 100000)
    out = tmp_path / "audit"
    code = (
        INTERRUPTIBLE_CHILD + "try:\n"
        f"    datapact.audit({str(out)!r}, spec={str(settings)!r}, threads=2, progress=False)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True); sys.exit(42)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    # `_cells/` is made just before the first cell starts.
    while not (out / "_cells").is_dir():
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "the audit did not start in 120 s"
        time.sleep(0.02)
    time.sleep(1.0)
    assert p.poll() is None, p.communicate()
    p.send_signal(signal.SIGINT)
    sent = time.monotonic()
    stdout, stderr = p.communicate(timeout=120)
    took = time.monotonic() - sent
    assert (p.returncode, stdout.strip()) == (42, "interrupted"), stderr
    print(f"KeyboardInterrupt {took:.2f} s after Ctrl-C")
    assert took < 2.5, f"KeyboardInterrupt {took:.2f} s after Ctrl-C"
    assert not (out / "REPORT.md").exists()
    assert not (out / "deviations").exists()
    assert list((out / "_cells").iterdir()) == [], "a cell of 100 000 replications finished in a second"
    assert hidden(out) == []


def test_resume_keeps_the_finished_cells(tmp_path):
    settings = spec(tmp_path, "tiny.toml", 4)
    out = tmp_path / "audit"
    first = datapact.audit(out, spec=settings, threads=2, progress=False)
    records = sorted((out / "_cells").iterdir())
    # 4 cells: deviations and dynamics, "which S?" at R = 0 and R = 1, cost-bin equilibria.
    assert [len(list((out / "_cells").glob(f"{phase}-*.json"))) for phase in ("cell", "which-s-r0", "which-s-r1", "bins")] == [4] * 4
    stamps = [r.stat().st_mtime_ns for r in records]
    report = Path(first["report"]).read_bytes()
    again = datapact.audit(out, spec=settings, threads=2, progress=False, resume=True)
    assert [r.stat().st_mtime_ns for r in records] == stamps, "resume=True recomputed finished cells"
    assert Path(again["report"]).read_bytes() == report
