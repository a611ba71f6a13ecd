"""Reads a datapact output directory with pyarrow, polars and DuckDB, the way a researcher would,
and checks it against its manifest: every table reads without help, row counts agree across the
three tools and with manifest.json, the scenario and version are in each file's metadata, no
float column holds NaN, and identity columns are complete. Exits non-zero on any mismatch.

usage: python3 tools/check_outputs.py OUT_DIR
"""

import json
import math
import sys
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from verified import require_verified


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    sys.exit(1)


def main(out: Path) -> None:
    require_verified(out)
    manifest = json.loads((out / "manifest.json").read_text())
    checked = 0
    for table, rows in sorted(manifest["rows"].items()):
        files = sorted((out / table).glob("*.parquet"))
        if not files:
            fail(f"{table}: no part files")
        arrow_rows = ds.dataset(out / table, format="parquet").count_rows()
        polars_frame = pl.read_parquet(out / table / "*.parquet")
        duck_rows = duckdb.sql(f"select count(*) from read_parquet('{out / table}/*.parquet')").fetchall()[0][0]
        if not (arrow_rows == polars_frame.height == duck_rows == rows):
            fail(f"{table}: rows pyarrow={arrow_rows} polars={polars_frame.height} duckdb={duck_rows} manifest={rows}")
        for f in files:
            meta = pq.read_metadata(f).metadata or {}
            for key in (b"datapact.scenario", b"datapact.version", b"datapact.seed", b"datapact.scenario_hash"):
                if key not in meta:
                    fail(f"{f}: metadata lacks {key.decode()}")
            if meta[b"datapact.version"].decode() != manifest["datapact_version"]:
                fail(f"{f}: version differs from the manifest")
        for name, dtype in polars_frame.schema.items():
            if dtype == pl.Float64:
                nans = polars_frame.select(pl.col(name).is_nan().sum()).item()
                if nans:
                    fail(f"{table}.{name}: {nans} NaN values")
        for name in ("scenario", "seed", "cell"):
            if polars_frame[name].null_count():
                fail(f"{table}.{name}: nulls in an identity column")
        checked += 1
        print(f"ok  {table:<12} {rows:>10} rows, {len(files)} parts, read alike by pyarrow, polars and DuckDB")
    # One number computed three ways: C's mean leakage over the grid.
    cells = out / "cells" / "*.parquet"
    by_duck = duckdb.sql(f"select avg(leakage_mean) from read_parquet('{cells}') where mechanism = 'C'").fetchall()[0][0]
    by_polars = pl.read_parquet(cells).filter(pl.col("mechanism") == "C")["leakage_mean"].mean()
    table = ds.dataset(out / "cells", format="parquet").to_table().to_pylist()
    c_rows = [r["leakage_mean"] for r in table if r["mechanism"] == "C"]
    by_arrow = sum(c_rows) / len(c_rows)
    if not (math.isclose(by_duck, by_polars, rel_tol=1e-12) and math.isclose(by_polars, by_arrow, rel_tol=1e-12)):
        fail(f"C mean leakage differs: duckdb={by_duck} polars={by_polars} pyarrow={by_arrow}")
    print(f"ok  C mean leakage {by_duck:.6f} (agreed by the three tools)")
    # The paired contrasts, re-derived in DuckDB from the rounds table: M − S welfare per cell.
    if "contrasts" not in manifest["rows"]:
        fail("contrasts: not in the manifest")
    rounds, contrasts = out / "rounds" / "*.parquet", out / "contrasts" / "*.parquet"
    worst = duckdb.sql(f"""
        with paired as (
            select m.cell, m.round, avg(m.welfare - s.welfare) as diff
            from read_parquet('{rounds}') m join read_parquet('{rounds}') s
              on m.cell = s.cell and m.rep = s.rep and m.round = s.round
            where m.mechanism = 'M' and s.mechanism = 'S' group by m.cell, m.round)
        select count(*), max(abs(p.diff - c.welfare_diff)) from paired p
          join read_parquet('{contrasts}') c on p.cell = c.cell and p.round = c.round
        where c.mechanism_a = 'M' and c.mechanism_b = 'S'""").fetchall()[0]
    if worst[0] == 0 or worst[1] > 1e-9:
        fail(f"contrasts: M − S welfare_diff differs from the rounds pairing (rows {worst[0]}, max gap {worst[1]})")
    print(f"ok  contrasts M − S welfare_diff equals the DuckDB pairing of rounds in {worst[0]} cells")
    # The users table adds up to its campaigns: Σ paid = subsidy, Σ privacy cost = privacy
    # cost, Σ utility − Σ paid = welfare, in DuckDB; the withdrawals in polars.
    if manifest["trace"] in ("users", "events"):
        if "users" not in manifest["rows"]:
            fail(f"users: not in the manifest of a trace = {manifest['trace']!r} run")
        users = out / "users" / "*.parquet"
        campaign = "cell, rep, round, mechanism"
        worst = duckdb.sql(f"""
            with u as (
                select {campaign}, count(*) as n, sum(paid) as paid, sum(privacy_cost) as borne,
                       sum(utility) as utility
                from read_parquet('{users}') group by {campaign})
            select count(*), max(greatest(abs(u.paid - r.subsidy), abs(u.borne - r.privacy_cost),
                                          abs(u.utility - u.paid - r.welfare)))
            from u join read_parquet('{rounds}') r using ({campaign})""").fetchall()[0]
        if worst[0] != manifest["rows"]["rounds"] or worst[1] > 1e-9:
            fail(f"users: sums differ from rounds (campaigns {worst[0]}, max gap {worst[1]})")
        withdrawn = (
            pl.read_parquet(users)
            .group_by(["cell", "rep", "round", "mechanism"])
            .agg((pl.col("decision") == "withdraw").sum().alias("w"))
            .join(pl.read_parquet(rounds), on=["cell", "rep", "round", "mechanism"])
            .filter(pl.col("w") != pl.col("withdrawals"))
        )
        if withdrawn.height:
            fail(f"users: withdrawals differ from rounds in {withdrawn.height} campaigns")
        print(f"ok  users add up to their {worst[0]} campaigns in rounds (DuckDB and polars)")
        checked += 1
    print(f"outputs: {checked + 2} passed, 0 failed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    main(Path(sys.argv[1]))
