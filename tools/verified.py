"""The Python tools read a datapact run only after `datapact verify` has passed on it: the one
verified view of a run (manifest and shard records cross-checked against `_run.json`, every
part's checksum, rows and metadata, no stray files), so a glob over `DIR/TABLE/*.parquet` reads
exactly the run's parts. The binary is $DATAPACT_BIN, else `datapact` on PATH, else this
repository's target/release or target/debug build.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path


def datapact_binary() -> str:
    if os.environ.get("DATAPACT_BIN"):
        return os.environ["DATAPACT_BIN"]
    on_path = shutil.which("datapact")
    if on_path:
        return on_path
    repo = Path(__file__).resolve().parent.parent
    for profile in ("release", "debug"):
        candidate = repo / "target" / profile / "datapact"
        if candidate.is_file():
            return str(candidate)
    sys.exit("datapact binary not found: set DATAPACT_BIN or build it (cargo build --release -p datapact)")


def require_verified(run: Path) -> None:
    """Exits non-zero, saying why, unless `run` is a finished run that verifies."""
    result = subprocess.run([datapact_binary(), "verify", str(run)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAIL: {run} does not verify; not reading it:\n{result.stdout}{result.stderr}")
