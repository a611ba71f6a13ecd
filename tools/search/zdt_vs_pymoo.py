#!/usr/bin/env python3
"""Validate datapact-search's NSGA-II against pymoo's on ZDT1 and ZDT2.

Both run at the same budget (population × generations evaluations, the initial sample being the
first generation, as pymoo's ``n_gen`` counts) with pymoo's default NSGA-II operators, which the
Rust side reproduces (SBX eta 15, prob 0.9, per-variable 0.5; PM eta 20, prob 0.9, per-variable
1/n_var; binary tournament; duplicate elimination). For each problem the hypervolume of the final
front (reference point (1.1, 1.1)) is computed for every seed on both sides.

Pass criterion, per problem: the mean hypervolumes agree within

    tolerance = K · sqrt(s_rust² / n + s_pymoo² / n),   K = 4,

the standard error of the difference of two independent means (Welch), from the spread across
seeds on each side. Under the hypothesis that both implementations draw hypervolumes from the
same distribution, |difference| exceeds 4 SE with probability about 1e-4 (t with ≥ 8 degrees of
freedom: under 0.5%), so a failure means a real difference in the algorithm, not bad luck.

As a check of the Rust hypervolume itself, pymoo's HV indicator recomputes the hypervolume of
every Rust front and must agree to 1e-9.

Usage:
    python tools/search/zdt_vs_pymoo.py [--seeds 10] [--population 100] [--generations 100]
                                        [--rust-bin PATH]  # else `cargo run --example zdt`
Prints a JSON summary; exits 1 if a problem fails.
"""

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.indicators.hv import HV
from pymoo.optimize import minimize
from pymoo.problems import get_problem

K = 4.0
REFERENCE = (1.1, 1.1)


def rust_runs(args):
    flags = [
        "--seeds", str(args.seeds),
        "--population", str(args.population),
        "--generations", str(args.generations),
        "--n-var", str(args.n_var),
        "--reference", str(REFERENCE[0]),
    ]
    if args.rust_bin:
        cmd = [args.rust_bin, *flags]
    else:
        cmd = ["cargo", "run", "--quiet", "-p", "datapact-search", "--example", "zdt", "--", *flags]
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(cmd, cwd=root, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["runs"]


def pymoo_hypervolume(problem, seed, args):
    algorithm = NSGA2(pop_size=args.population)
    res = minimize(
        get_problem(problem, n_var=args.n_var),
        algorithm,
        ("n_gen", args.generations),
        seed=seed,
        verbose=False,
    )
    return float(HV(ref_point=np.array(REFERENCE))(res.F))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--population", type=int, default=100)
    parser.add_argument("--generations", type=int, default=100)
    parser.add_argument("--n-var", type=int, default=30)
    parser.add_argument("--rust-bin", default=None)
    args = parser.parse_args()
    if args.seeds < 5:
        parser.error("at least 5 seeds are needed for a spread")

    runs = rust_runs(args)
    hv = HV(ref_point=np.array(REFERENCE))
    summary = {
        "population": args.population,
        "generations": args.generations,
        "n_var": args.n_var,
        "seeds": args.seeds,
        "reference": list(REFERENCE),
        "k": K,
        "problems": {},
    }
    ok = True
    for problem in ("zdt1", "zdt2"):
        mine = [r for r in runs if r["problem"] == problem]
        rust = [r["hypervolume"] for r in mine]
        # The Rust hypervolume agrees with pymoo's indicator on the same fronts.
        for r in mine:
            theirs = float(hv(np.array(r["front"]))) if r["front"] else 0.0
            if abs(theirs - r["hypervolume"]) > 1e-9:
                print(f"{problem} seed {r['seed']}: Rust hypervolume {r['hypervolume']} "
                      f"but pymoo's HV of the same front is {theirs}", file=sys.stderr)
                ok = False
        py = [pymoo_hypervolume(problem, seed, args) for seed in range(args.seeds)]
        n = args.seeds
        se = math.sqrt(np.var(rust, ddof=1) / n + np.var(py, ddof=1) / n)
        diff = float(np.mean(rust) - np.mean(py))
        passed = abs(diff) <= K * se
        ok &= passed
        summary["problems"][problem] = {
            "rust": rust,
            "pymoo": py,
            "rust_mean": float(np.mean(rust)),
            "pymoo_mean": float(np.mean(py)),
            "rust_sd": float(np.std(rust, ddof=1)),
            "pymoo_sd": float(np.std(py, ddof=1)),
            "difference": diff,
            "tolerance": K * se,
            "passed": passed,
        }
    print(json.dumps(summary, indent=1))
    for problem, s in summary["problems"].items():
        print(f"{problem}: mean hypervolume Rust {s['rust_mean']:.5f} (sd {s['rust_sd']:.5f}), "
              f"pymoo {s['pymoo_mean']:.5f} (sd {s['pymoo_sd']:.5f}); difference "
              f"{s['difference']:+.5f}, tolerance ±{s['tolerance']:.5f}: "
              f"{'agree' if s['passed'] else 'DIFFER'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
