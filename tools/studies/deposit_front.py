"""Checks, figure and summary of tools/studies/deposit_front.sh: the welfare–subsidy fronts of S,
M and deposit side by side, one panel per V, each point with ±1.96 SE bars.

Every front is checked: the columns the issue names (`payment`, `deposit_amount`,
`<mechanism>_welfare_mean` and `_se`, ...), every point inside the searched ranges, meeting the
constraint success >= 0.9, and the points mutually non-dominated (welfare up, subsidy down).
Exits 1 naming each failure, before drawing anything.

usage: deposit_front.py OUT PNG   (OUT holds V<v>/<mechanism>/pareto.parquet)
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

VALUES = ["0.05", "0.1", "0.2"]
MECHANISMS = [("S", "tab:blue"), ("M", "tab:orange"), ("deposit", "tab:green")]
# The searched keys' columns and ranges (examples/scenarios/deposit_front/*.toml).
KEYS = {"S": {"payment": (0.0, 1.0)}, "M": {"payment": (0.0, 1.0)}}
KEYS["deposit"] = {"payment": (0.0, 1.0), "deposit_amount": (0.0, 1.0)}
SUCCESS_MIN = 0.9


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """a = (welfare, subsidy) dominates b: no worse in both, better in one."""
    return a[0] >= b[0] and a[1] <= b[1] and a != b


def check(m: str, v: str, names: list[str], rows: list[dict]) -> list[str]:
    """What is wrong with one front, given its column names and rows (empty when nothing)."""
    w, c, s = f"{m}_welfare_mean", f"{m}_subsidy_mean", f"{m}_success_rate"
    where = f"V{v}/{m}/pareto.parquet"
    wanted = [*KEYS[m], w, w + "_se", c, c + "_se", s]
    missing = [n for n in wanted if n not in names]
    if missing:
        return [f"{where}: no column {', '.join(missing)}"]
    problems = []
    for r in rows:
        for key, (lo, hi) in KEYS[m].items():
            if not lo <= r[key] <= hi:
                problems.append(f"{where}: {key} = {r[key]} outside [{lo}, {hi}]")
        if r[s] < SUCCESS_MIN:
            problems.append(f"{where}: candidate {r['candidate']} has {s} = {r[s]} < {SUCCESS_MIN}")
    points = [(r[w], r[c]) for r in rows]
    for i, a in enumerate(points):
        for j, b in enumerate(points):
            if dominates(a, b):
                problems.append(f"{where}: row {i} {a} dominates row {j} {b}")
    return problems


def main(out: Path, png: Path) -> None:
    fronts, problems = {}, []
    for v in VALUES:
        for m, _ in MECHANISMS:
            t = pq.read_table(out / f"V{v}" / m / "pareto.parquet")
            fronts[v, m] = t.to_pylist()
            problems += check(m, v, t.schema.names, fronts[v, m])
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)

    fig, axes = plt.subplots(1, len(VALUES), figsize=(15, 4.8), constrained_layout=True)
    print("| V | mechanism | points | welfare at the least subsidy | most welfare | subsidy range | payment range | deposit range |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for ax, v in zip(axes, VALUES):
        empty = []
        for m, color in MECHANISMS:
            t = sorted(fronts[v, m], key=lambda r: r[f"{m}_subsidy_mean"])
            w, c = f"{m}_welfare_mean", f"{m}_subsidy_mean"
            if not t:
                ev = pq.read_table(out / f"V{v}" / m / "evaluations.parquet")
                best = max(ev[f"{m}_success_rate"].to_pylist(), default=float("nan"))
                empty.append(f"{m}: best success {best:.2f} of {ev.num_rows} evaluations")
                print(f"| {v} | {m} | 0 | no setting reaches success {SUCCESS_MIN} (best {best:.3f}) | | | | |")
                continue
            xs, ys = [r[c] for r in t], [r[w] for r in t]
            ax.errorbar(
                xs,
                ys,
                xerr=[1.96 * r[c + "_se"] for r in t],
                yerr=[1.96 * r[w + "_se"] for r in t],
                fmt="o-",
                color=color,
                ms=4,
                lw=1,
                elinewidth=0.6,
                capsize=0,
                label=f"{m} ({len(t)} point{'s' if len(t) != 1 else ''})",
            )
            pay = [r["payment"] for r in t]
            dep = [r["deposit_amount"] for r in t] if "deposit_amount" in t[0] else None
            print(
                f"| {v} | {m} | {len(t)} | {ys[0]:.3f} at {xs[0]:.3f} | {max(ys):.3f} | "
                f"{min(xs):.3f}–{max(xs):.3f} | {min(pay):.3f}–{max(pay):.3f} | "
                + (f"{min(dep):.3f}–{max(dep):.3f} |" if dep else "– |")
            )
        ax.set_title(f"V = {v}")
        if len(empty) == len(MECHANISMS):
            # No front at all: say why instead of drawing empty axes.
            ax.set_axis_off()
            ax.text(
                0.5,
                0.5,
                f"V = {v}: no payment or deposit reaches success ≥ {SUCCESS_MIN}\n"
                "(the provider cancels a campaign whose estimated\nprivacy cost exceeds nV, whatever p or the deposit)\n\n" + "\n".join(empty),
                ha="center",
                va="center",
                transform=ax.transAxes,
                fontsize=10,
            )
            continue
        ax.set_xlabel("subsidy_mean (paid per campaign; less is better)")
        ax.set_ylabel("welfare_mean (more is better)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, loc="lower right")
    fig.suptitle(
        f"Welfare–subsidy Pareto fronts with success ≥ {SUCCESS_MIN} (n = 20, θ = 0.6): S and M over p, "
        "deposit over p × deposit amount (NSGA-II; bars ±1.96 SE)"
    )
    tmp = png.with_name("." + png.name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    tmp.replace(png)
    print(f"wrote {png}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
