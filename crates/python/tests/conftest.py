"""Shared fixtures: a tiny scenario (baseline at 3 x 3 cells, 20 replications) and the CLI binary."""

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

# The baseline, shrunk: 9 cells x 20 replications x 3 mechanisms. Seconds, not minutes.
TINY = {
    "scenario.replications": 20,
    "sweep.game.value.steps": 3,
    "sweep.game.payment.steps": 3,
}
TINY_ARGS = [f"{k}={v}" for k, v in TINY.items()]


@pytest.fixture
def tiny():
    return dict(TINY)


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `datapact` binary: $DATAPACT_BIN, else target/release or target/debug of the repo.
    Skipped when there is none, except in CI (CI set), where that is a failure."""
    candidates = [os.environ.get("DATAPACT_BIN")] + [
        str(REPO / "target" / p / "datapact") for p in ("release", "debug")
    ]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    if os.environ.get("CI"):
        pytest.fail("no datapact binary: build it (cargo build --release -p datapact) or set DATAPACT_BIN")
    pytest.skip("no datapact binary (cargo build --release -p datapact, or set DATAPACT_BIN)")


@pytest.fixture(scope="session")
def app() -> Path:
    """A researcher's app with plugins: $DATAPACT_APP, else examples/deposit in target/release or
    target/debug (`cargo build --release -p datapact-examples --example deposit`). Skipped when
    there is none, except in CI (CI set), where that is a failure."""
    candidates = [os.environ.get("DATAPACT_APP")] + [
        str(REPO / "target" / p / "examples" / "deposit") for p in ("release", "debug")
    ]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    if os.environ.get("CI"):
        pytest.fail("no app binary: cargo build --release -p datapact-examples --example deposit, or set DATAPACT_APP")
    pytest.skip("no app binary (cargo build --release -p datapact-examples --example deposit, or set DATAPACT_APP)")


@pytest.fixture
def baseline_toml() -> Path:
    return REPO / "scenarios" / "baseline.toml"


def tree_bytes(root: Path) -> dict:
    """Every Parquet part and the manifest under `root`, relative path -> bytes."""
    files = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and (rel.endswith(".parquet") or rel == "manifest.json"):
            files[rel] = p.read_bytes()
    return files


@pytest.fixture
def scratch(tmp_path):
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)
