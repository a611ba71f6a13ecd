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

# The first lines of a child interpreter a test sends SIGINT to. A child started with SIGINT
# ignored (a CI job launched in the background by a shell without job control) inherits SIG_IGN,
# and Python then installs no KeyboardInterrupt handler: the interrupt would be lost and the work
# finish (the flaky "assert 0 == 42"). The child restores Python's handler.
INTERRUPTIBLE_CHILD = "import signal, sys, datapact\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"


@pytest.fixture
def tiny():
    return dict(TINY)


def _binary(env: str, relative: str, build: str) -> Path:
    """An executable: $ENV, else `relative` under target/release or target/debug of the repo.
    Skipped when there is none, except in CI (CI set), where that is a failure."""
    candidates = [os.environ.get(env)] + [str(REPO / "target" / p / relative) for p in ("release", "debug")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    if os.environ.get("CI"):
        pytest.fail(f"no {relative} binary: {build}, or set {env}")
    pytest.skip(f"no {relative} binary ({build}, or set {env})")


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `datapact` binary: $DATAPACT_BIN, else target/release or target/debug of the repo."""
    return _binary("DATAPACT_BIN", "datapact", "cargo build --release -p datapact")


@pytest.fixture(scope="session")
def app() -> Path:
    """A researcher's app with plugins: $DATAPACT_APP, else examples/deposit in target/release or
    target/debug."""
    return _binary("DATAPACT_APP", "examples/deposit", "cargo build --release -p datapact-examples --example deposit")


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
