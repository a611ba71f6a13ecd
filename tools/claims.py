#!/usr/bin/env python3
"""Recompute claims 1, 3 and 5 of MODEL.md from a `datapact reproduce` output directory, with
polars and DuckDB, independently of the Rust report, and compare with the verdicts in its
REPORT.md. Exit 0 if every verdict agrees, 1 if one differs, 2 if the inputs are missing.

    python3 tools/claims.py results/paper

Dependencies: tools/requirements.txt (pyarrow, polars, duckdb).
"""

import re
import sys
from pathlib import Path

import duckdb
import polars as pl

from verified import require_verified


def cells_glob(root: Path, run: str) -> str:
    return str(root / run / "cells" / "*.parquet")


def verdict(ok: bool) -> str:
    return "held" if ok else "not held"


def claim1(root: Path, runs: list[str]) -> str:
    """C leaks somewhere on the F9 grid; S and M never leak in any run (polars)."""
    c_max = (
        pl.scan_parquet(cells_glob(root, "f9_leakage"))
        .filter(pl.col("mechanism") == "C")
        .select(pl.col("leakage_mean").max())
        .collect()
        .item()
    )
    sm_max = max(
        (
            pl.scan_parquet(cells_glob(root, run))
            .filter(pl.col("mechanism").is_in(["S", "M"]))
            .select(pl.col("leakage_mean").max())
            .collect()
            .item()
            for run in runs
        ),
        key=lambda v: float("-inf") if v is None else v,
    )
    print(f"claim 1: max C leakage {c_max:.4f}; max S/M leakage over {len(runs)} runs {sm_max}")
    return verdict(c_max > 0 and sm_max == 0)


def claim3(root: Path) -> str:
    """M >= S in every baseline cell; M > S where S users withdraw (DuckDB)."""
    ((weak_fail, withdraw, strict_ok, cells),) = duckdb.connect().execute(
        f"""
        WITH s AS (SELECT cell, success_rate, withdrawals_mean FROM read_parquet('{cells_glob(root, "f3_welfare")}')
                   WHERE mechanism = 'S'),
             m AS (SELECT cell, success_rate FROM read_parquet('{cells_glob(root, "f3_welfare")}')
                   WHERE mechanism = 'M')
        SELECT count(*) FILTER (WHERE m.success_rate < s.success_rate),
               count(*) FILTER (WHERE s.withdrawals_mean > 0),
               count(*) FILTER (WHERE s.withdrawals_mean > 0 AND m.success_rate > s.success_rate),
               count(*)
        FROM s JOIN m USING (cell)
        """
    ).fetchall()
    print(
        f"claim 3: M < S in {weak_fail} of {cells} cells; M > S in {strict_ok} of {withdraw} "
        f"cells where S users withdraw"
    )
    return verdict(weak_fail == 0 and strict_ok == withdraw)


def claim5(root: Path) -> str:
    """Grid-mean welfare M >= S > C under each cost distribution (DuckDB)."""
    ok = True
    for run, label in [("f3_welfare", "uniform"), ("f4_beta25", "Beta(2,5)"), ("f5_beta52", "Beta(5,2)")]:
        rows = (
            duckdb.connect()
            .execute(f"SELECT mechanism, avg(welfare_mean) FROM read_parquet('{cells_glob(root, run)}') GROUP BY mechanism")
            .fetchall()
        )
        w = dict(rows)
        here = w["M"] >= w["S"] > w["C"]
        ok &= here
        print(f"claim 5: {label}: M {w['M']:.4f}, S {w['S']:.4f}, C {w['C']:.4f}")
    return verdict(ok)


def diagnostics_summary(root: Path) -> None:
    """Context for claim 4 (not compared): the F7 diagnostics read with polars."""
    d = pl.read_parquet(str(root / "f7_cost_efficiency" / "diagnostics" / "*.parquet"))
    gap = d.get_column("pc_gap_mean").drop_nulls()
    print(
        f"(F7 diagnostics: {d.height} cells, {gap.len()} unmasked; PC(M) - PC(S) > 0 in "
        f"{(gap > 0).sum()}, = 0 in {(gap == 0).sum()}, < 0 in {(gap < 0).sum()})"
    )


def report_verdicts(report_md: Path) -> dict[int, str]:
    """Claim id -> verdict from the claims table of REPORT.md."""
    verdicts = {}
    for line in report_md.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| (\d) \| .*? \| (held|not held|not tested) \| ", line)
        if m:
            verdicts[int(m.group(1))] = m.group(2)
    return verdicts


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(sys.argv[1])
    report_md = root / "report" / "REPORT.md"
    runs = sorted(p.parent.name for p in root.glob("*/manifest.json"))
    needed = {"f3_welfare", "f4_beta25", "f5_beta52", "f7_cost_efficiency", "f9_leakage"}
    if not report_md.is_file() or not needed <= set(runs):
        print(f"{root}: need {report_md} and runs {sorted(needed)}; found {runs}", file=sys.stderr)
        return 2
    for run in runs:
        require_verified(root / run)
    mine = {1: claim1(root, runs), 3: claim3(root), 5: claim5(root)}
    diagnostics_summary(root)
    theirs = report_verdicts(report_md)
    status = 0
    for cid, v in mine.items():
        agree = theirs.get(cid) == v
        print(f"claim {cid}: python says {v!r}, REPORT.md says {theirs.get(cid)!r}: {'agree' if agree else 'DIFFER'}")
        status |= 0 if agree else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
