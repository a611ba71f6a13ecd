#!/usr/bin/env python3
"""A vectorised NumPy implementation of docs/model.md's one-shot game (mechanisms C, S and M),
written independently of the Rust code, to check datapact statistically and to time it against
datapact side by side (issue 11, point 6; tools/bench/NUMPY.md).

Scope: the baseline scenario (scenarios/baseline.toml): n users, uniform(low, high) costs,
truthful reports, sincere withdrawals, any sigma_o and sigma_w, rho = 0, S without recovery
rounds (R = 0), M in small-first order, one round. Every campaign quantity of the `cells` table
is computed: success, welfare, privacy cost, subsidy, leakage, data, withdrawals, null,
backstoppers.

Everything is vectorised over campaigns: arrays have shape (rows, n), one row per campaign (a
replication of a cell; rows of several cells are stacked, each row carrying its V and p). The
water-filling sorts the breakpoints along axis 1 and finds the level with cumulative sums. M's
sequential protocol loops over the n decision steps; each step decides for every campaign at
once, and re-assigns (one vectorised water-filling) only the campaigns whose user withdrew.

It cannot share datapact's random stream (ChaCha8, rand_distr's ziggurat), so agreement is
statistical: per cell and mechanism, each metric's mean must agree with datapact's within
4.5 * sqrt(se_numpy^2 + se_datapact^2) (K_SE; rates use the pooled binomial SE).

    numpy_reference.py --check DATAPACT_BIN      # agreement check (~10 s), exit 1 on disagreement
    numpy_reference.py --bench [--reps R]        # time the 31 x 31 baseline grid, C, S and M

Dependencies: numpy, pyarrow (tools/requirements.txt).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Baseline defaults (scenarios/baseline.toml, docs/model.md section 1).
N_USERS = 20
COST_LOW, COST_HIGH = 0.0, 1.0
THRESHOLD = 0.6  # theta
BELIEF = 0.15  # b0
OBS_NOISE = 0.0  # sigma_o
DRIFT = 0.5  # sigma_w
GRID = np.round(np.linspace(0.0, 0.3, 31), 2)  # V and p: 0, 0.01, ..., 0.3

# docs/model.md section 10: tolerances.
TAU_PER_USER = 1e-9  # data is compared with Q at tau = 1e-9 * n
BACKSTOP_TOL = 1e-9  # backstopper iff x_i < cap_i - 1e-9

METRICS = (
    "success",
    "welfare",
    "privacy_cost",
    "subsidy",
    "leakage",
    "data",
    "withdrawals",
    "null",
    "backstoppers",
)


def kappa(c, x):
    """Privacy cost c x^2 / 2 (element-wise)."""
    return 0.5 * c * x * x


@dataclass
class Draws:
    """Per campaign and user: true cost c, standardised drift and observation shocks."""

    cost: np.ndarray  # (rows, n)
    zeta: np.ndarray  # (rows, n), N(0, 1): drift
    eta: np.ndarray  # (rows, n), N(0, 1): observation noise

    @staticmethod
    def sample(rng: np.random.Generator, reps: int, n: int = N_USERS) -> "Draws":
        cost = COST_LOW + (COST_HIGH - COST_LOW) * rng.random((reps, n))
        return Draws(cost, rng.standard_normal((reps, n)), rng.standard_normal((reps, n)))

    def tile(self, k: int) -> "Draws":
        """The same replications k times over (k cells stacked; common random numbers across
        cells, as datapact's draw key gives for cells differing only in V and p)."""
        return Draws(*(np.tile(a, (k, 1)) for a in (self.cost, self.zeta, self.eta)))


def lognormal_factor(shock, sigma):
    """exp(sigma z - sigma^2 / 2): mean one, exactly 1 when sigma = 0."""
    return np.exp(sigma * shock - 0.5 * sigma * sigma) if sigma > 0 else np.ones_like(shock)


# ---------------------------------------------------------------------------------------------
# Water-filling: min sum kappa(c_i, x_i)  s.t.  sum x_i = need, 0 <= x_i <= cap_i  (active i only)
# ---------------------------------------------------------------------------------------------


def water_fill(cost, cap, need, active, tol):
    """Per row: x_i = min(cap_i, lam / c_i) over the active users with sum need; inactive users
    get 0. Zero-cost users are filled to their caps first; if they alone cover need - tol, each
    gets cap_i * need / sum of their caps. Returns (x, feasible) with feasible = sum of the
    active caps >= need - tol (x is meaningless where infeasible).

    sum_i x_i(lam) is piecewise linear in lam with breakpoints cap_i c_i: sorting them along
    axis 1, the sum at breakpoint k is (caps of the users before k) + bp_k * (sum of 1/c over
    users from k on); the level lies in the first segment where that reaches need."""
    hi = np.where(active, cap, 0.0)
    feasible = hi.sum(axis=1) >= need - tol
    positive = active & (cost > 0.0)
    free = active & ~positive
    free_sum = np.where(free, hi, 0.0).sum(axis=1)

    with np.errstate(divide="ignore"):
        inv = np.where(positive, 1.0 / cost, 0.0)
    breakpoint = np.where(positive, hi * cost, np.inf)  # non-positive users sort last
    order = np.argsort(breakpoint, axis=1)
    bp = np.take_along_axis(breakpoint, order, axis=1)
    hi_sorted = np.take_along_axis(np.where(positive, hi, 0.0), order, axis=1)
    inv_sorted = np.take_along_axis(inv, order, axis=1)
    capped_before = free_sum[:, None] + np.cumsum(hi_sorted, axis=1) - hi_sorted
    slope_from = np.cumsum(inv_sorted[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(invalid="ignore"):  # inf * 0 at the non-positive users: NaN, never reached
        reached = capped_before + bp * slope_from >= need[:, None]
    k = np.argmax(reached, axis=1)
    rows = np.arange(len(k))
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.where(
            reached.any(axis=1), (need - capped_before[rows, k]) / slope_from[rows, k], np.inf
        )
        x = np.where(positive, np.minimum(hi, level[:, None] / cost), hi)  # free users at cap

    # Free data alone covers the need: proportional to the free caps, everyone else 0.
    covered = free_sum >= need - tol
    if covered.any():
        share = np.divide(need, free_sum, out=np.zeros_like(need), where=free_sum > 0)
        share = np.clip(share, 0.0, 1.0)
        x = np.where(covered[:, None], np.where(free, hi * share[:, None], 0.0), x)
    return x, feasible


# ---------------------------------------------------------------------------------------------
# The mechanisms. V and p are arrays of shape (rows,): each row is one campaign of some cell.
# Each returns a dict metric -> (rows,) array of per-campaign outcomes.
# ---------------------------------------------------------------------------------------------


def play_c(d: Draws, value, payment, realized, belief=BELIEF):
    """Mechanism C (docs/model.md section 3): posted subsidy, no withdrawal."""
    n = d.cost.shape[1]
    q, tau = THRESHOLD * n, TAU_PER_USER * n
    marginal = (payment + belief * value)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(d.cost > 0.0, np.minimum(1.0, marginal / d.cost), 1.0)
    delivered = x.sum(axis=1)
    success = delivered >= q - tau
    borne = kappa(realized, x).sum(axis=1)  # borne whether or not the model improves
    subsidy = payment * delivered  # paid on delivery
    zeros = np.zeros_like(delivered)
    return {
        "success": success.astype(float),
        "welfare": n * value * success - borne,
        "privacy_cost": borne,
        "subsidy": subsidy,
        "leakage": np.where(success, 0.0, subsidy),
        "data": delivered,
        "withdrawals": zeros,
        "null": zeros,
        "backstoppers": zeros,
        # per user (rows, n), for the Pareto diagnostic: U_i = V 1[success] + p x_i - kappa
        "utility": (value * success)[:, None] + payment[:, None] * x - kappa(realized, x),
    }


@dataclass
class Assignment:
    """S's and M's shared phases (section 4): caps, initial burdens, sustainability, k."""

    observed: np.ndarray
    cap: np.ndarray
    burden: np.ndarray
    sustainable: np.ndarray
    backstoppers: np.ndarray


def assign(d: Draws, value, payment, obs_noise=OBS_NOISE) -> Assignment:
    n = d.cost.shape[1]
    q, tau = THRESHOLD * n, TAU_PER_USER * n
    observed = d.cost * lognormal_factor(d.eta, obs_noise)  # truthful reports
    v, p = value[:, None], payment[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        cap = np.where(
            observed > 0.0,
            np.minimum(1.0, (p + np.sqrt(p * p + 2.0 * observed * v)) / observed),
            1.0,
        )
    rows = len(value)
    burden, feasible = water_fill(observed, cap, np.full(rows, q), np.ones_like(cap, bool), tau)
    burden = np.where(feasible[:, None], burden, 0.0)
    sustainable = feasible & (kappa(observed, burden).sum(axis=1) <= n * value)  # no tolerance
    backstoppers = np.where(feasible, (burden < cap - BACKSTOP_TOL).sum(axis=1), 0)
    return Assignment(observed, cap, burden, sustainable, backstoppers.astype(float))


def settle(n, value, payment, success, committed, borne_stayers, withdrawals, null, a, utility):
    """Section 6 with rho = 0: only a success pays and makes stayers bear their cost."""
    privacy = np.where(success, borne_stayers, 0.0)
    return {
        "success": success.astype(float),
        "welfare": np.where(success, n * value - borne_stayers, 0.0),
        "privacy_cost": privacy,
        "subsidy": np.where(success, payment * committed, 0.0),
        "leakage": np.zeros_like(committed),  # nothing is paid without success
        "data": np.where(success, committed, 0.0),
        "withdrawals": withdrawals.astype(float),
        "null": null.astype(float),
        "backstoppers": a.backstoppers,
        "utility": utility,
    }


def play_s(d: Draws, value, payment, realized, a: Assignment):
    """Protocol S without recovery rounds: everyone decides at once on her initial burden."""
    n = d.cost.shape[1]
    q, tau = THRESHOLD * n, TAU_PER_USER * n
    x = a.burden
    stays = kappa(realized, x) <= value[:, None] + payment[:, None] * x  # sincere; x = 0 stays
    committed = np.where(stays, x, 0.0).sum(axis=1)
    success = a.sustainable & (committed >= q - tau)
    borne = np.where(stays, kappa(realized, x), 0.0).sum(axis=1)
    withdrawals = np.where(a.sustainable, (~stays).sum(axis=1), 0)
    null = ~a.sustainable
    return settle(n, value, payment, success, committed, borne, withdrawals, null, a, None)


def play_m(d: Draws, value, payment, realized, a: Assignment):
    """Protocol M, small-first: users decide one by one in ascending initial burden (ties by
    index) on their current burden; after a withdrawal the remaining need is water-filled over
    the undecided users, and an infeasible or unsustainable re-assignment stops the campaign."""
    rows, n = d.cost.shape
    q, tau = THRESHOLD * n, TAU_PER_USER * n
    v, p = value, payment
    order = np.argsort(a.burden, axis=1, kind="stable")
    x = a.burden.copy()
    running = a.sustainable.copy()
    undecided = np.repeat(running[:, None], n, axis=1)
    stayed = np.zeros((rows, n), bool)
    committed = np.zeros(rows)
    committed_cost = np.zeros(rows)  # estimated cost of the committed burdens
    withdrawals = np.zeros(rows, int)
    stopped = np.zeros(rows, bool)
    for k in range(n):
        r = np.flatnonzero(running)
        if r.size == 0:
            break
        u = order[r, k]
        xu = x[r, u]
        stay = kappa(realized[r, u], xu) <= v[r] + p[r] * xu
        undecided[r, u] = False
        stayed[r[stay], u[stay]] = True
        committed[r] += np.where(stay, xu, 0.0)
        committed_cost[r] += np.where(stay, kappa(a.observed[r, u], xu), 0.0)
        w = r[~stay]
        withdrawals[w] += 1
        if k == n - 1 or w.size == 0:
            continue  # the last user's withdrawal cannot be re-assigned: training runs short
        need = np.maximum(0.0, q - committed[w])
        active = undecided[w]
        obs = a.observed[w]
        new, feasible = water_fill(obs, a.cap[w], need, active, tau)
        cost = committed_cost[w] + np.where(active, kappa(obs, new), 0.0).sum(axis=1)
        ok = feasible & (cost <= n * v[w])
        x[w[ok]] = np.where(active[ok], new[ok], x[w[ok]])
        stopped[w[~ok]] = True
        running[w[~ok]] = False
    success = a.sustainable & ~stopped & (committed >= q - tau)
    kept = np.where(stayed, kappa(realized, x), 0.0)  # (rows, n): cost of the stayers' data
    borne = kept.sum(axis=1)
    null = ~a.sustainable | stopped
    # Section 6, rho = 0: on success a stayer gets V + p x - kappa, a withdrawer V; otherwise 0.
    utility = np.where(
        success[:, None], value[:, None] + np.where(stayed, payment[:, None] * x, 0.0) - kept, 0.0
    )
    return settle(n, value, payment, success, committed, borne, withdrawals, null, a, utility)


def play_all(d: Draws, value, payment, mechanisms=("C", "S", "M"), drift=DRIFT):
    """Every mechanism on the same draws (common random numbers). value, payment: (rows,)."""
    realized = d.cost * lognormal_factor(d.zeta, drift)
    out = {}
    if "C" in mechanisms:
        out["C"] = play_c(d, value, payment, realized)
    if "S" in mechanisms or "M" in mechanisms:
        a = assign(d, value, payment)
        if "S" in mechanisms:
            out["S"] = play_s(d, value, payment, realized, a)
        if "M" in mechanisms:
            out["M"] = play_m(d, value, payment, realized, a)
    return out


def simulate_grid(values, payments, reps, seed, mechanisms=("C", "S", "M"), cells_per_batch=31):
    """Means and SEs per (V, p) cell and mechanism: {(v, p, mech): {metric: (mean, se)}}.
    Cells are stacked cells_per_batch at a time into arrays of cells_per_batch * reps rows."""
    rng = np.random.default_rng(seed)
    draws = Draws.sample(rng, reps)
    cells = [(v, p) for v in values for p in payments]
    result = {}
    for start in range(0, len(cells), cells_per_batch):
        batch = cells[start : start + cells_per_batch]
        vv = np.repeat([c[0] for c in batch], reps).astype(float)
        pp = np.repeat([c[1] for c in batch], reps).astype(float)
        outcomes = play_all(draws.tile(len(batch)), vv, pp, mechanisms)
        for mech, per_campaign in outcomes.items():
            for metric in METRICS:
                arr = per_campaign[metric].reshape(len(batch), reps)
                mean, se = mean_se(arr)
                for j, cell in enumerate(batch):
                    result.setdefault((*cell, mech), {})[metric] = (mean[j], se[j])
        if set("CSM") <= set(mechanisms):
            diag = diagnostics(outcomes, len(batch), reps)
            for j, cell in enumerate(batch):
                result[(*cell, "diagnostics")] = {k: (m[j], se[j]) for k, (m, se) in diag.items()}
            for pair, stats in contrasts(outcomes, len(batch), reps).items():
                for j, cell in enumerate(batch):
                    result[(*cell, pair)] = {k: (m[j], se[j]) for k, (m, se) in stats.items()}
    return result


# Contrasts (docs/schema.md `contrasts`): metric -> +1 if higher is better, -1 if lower is.
CONTRAST_METRICS = {
    "success": 1,
    "welfare": 1,
    "privacy_cost": -1,
    "subsidy": -1,
    "data": 1,
    "withdrawals": -1,
}
CONTRAST_PAIRS = (("M", "S"), ("M", "C"), ("S", "C"))
# "Strictly better" must not count rounding: S and M sum the same burdens in different orders,
# so equal data, subsidies and costs can differ in the last bits. NumPy counts A better only
# beyond TIE_TOL.
TIE_TOL = 1e-9
# Known disagreements with datapact, reported by --check without failing it (NUMPY.md): none
# since datapact sums the data kept in user order (M-S data_a_better counted last-bit rounding).
KNOWN_DATAPACT_ISSUES: set = set()


def contrasts(outcomes, cells, reps):
    """Paired A - B differences per cell (same draws): {"A-B": {name: (mean, se)}}, with
    <metric>_diff (paired SE) and <metric>_a_better (share where A is strictly better)."""
    out = {}
    for a, b in CONTRAST_PAIRS:
        stats = {}
        for metric, sign in CONTRAST_METRICS.items():
            diff = (outcomes[a][metric] - outcomes[b][metric]).reshape(cells, reps)
            stats[f"{metric}_diff"] = mean_se(diff)
            stats[f"{metric}_a_better"] = mean_se((sign * diff > TIE_TOL).astype(float))
        out[f"{a}-{b}"] = stats
    return out


def mean_se(arr):
    """Per row of (cells, reps): mean, and SE = s / sqrt(reps) with the unbiased s (0 if < 2)."""
    reps = arr.shape[1]
    se = arr.std(axis=1, ddof=1) / np.sqrt(reps) if reps > 1 else np.zeros(arr.shape[0])
    return arr.mean(axis=1), se


MIN_COMMON_SUCCESSES = 30  # pc_gap is masked below this many common successes (section 9)


def diagnostics(outcomes, cells, reps):
    """docs/model.md section 9: the S-vs-M cost-efficiency and the M-vs-C Pareto diagnostics,
    per cell: {name: (mean (cells,), se (cells,))}; NaN where datapact writes null."""
    s, m, c = outcomes["S"], outcomes["M"], outcomes["C"]
    shape = (cells, reps)
    k2 = (s["backstoppers"] >= 2).reshape(shape)  # k is the same for S and M
    s_ok = (s["success"] > 0).reshape(shape) & k2
    m_ok = (m["success"] > 0).reshape(shape) & k2
    both = s_ok & m_ok
    count = both.sum(axis=1)
    gap = (m["privacy_cost"] - s["privacy_cost"]).reshape(shape)
    gap_mean = np.full(cells, np.nan)
    gap_se = np.full(cells, np.nan)
    for j in np.flatnonzero(count >= MIN_COMMON_SUCCESSES):
        g = gap[j, both[j]]
        gap_mean[j], gap_se[j] = g.mean(), g.std(ddof=1) / np.sqrt(g.size)
    loss = c["utility"] - m["utility"]
    n = loss.shape[1]
    losing = loss > 1e-12
    share = (losing.sum(axis=1) / n).reshape(shape)
    compensation = (np.where(losing, loss, 0.0).sum(axis=1) / n).reshape(shape)
    return {
        "s_success_k2": mean_se(s_ok.astype(float)),
        "m_success_k2": mean_se(m_ok.astype(float)),
        "common_success_k2": (count.astype(float), np.zeros(cells)),
        "pc_gap_mean": (gap_mean, gap_se),
        "pareto_loss_share": mean_se(share),
        "pareto_compensation": mean_se(compensation),
    }


# ---------------------------------------------------------------------------------------------
# --check: agreement with datapact's `cells` table
# ---------------------------------------------------------------------------------------------

# The cells where the model's details show: low V with moderate p is where M's re-assignments
# stop on the sustainability test (a wrong test, e.g. without the committed users' cost, moves
# M's withdrawals there by ~7 SE at 40000 reps and passes unnoticed at 10000); p = 0.25 is where C
# succeeds; V = 0.3 where S and M rarely cancel.
CHECK_VALUES = [0.05, 0.08, 0.15, 0.3]
CHECK_PAYMENTS = [0.0, 0.08, 0.12, 0.25]
CHECK_REPS = 40000
# metric -> (datapact mean column, datapact SE column or None for a rate without one)
DATAPACT_COLUMNS = {
    "success": ("success_rate", "success_se"),
    "welfare": ("welfare_mean", "welfare_se"),
    "privacy_cost": ("privacy_cost_mean", "privacy_cost_se"),
    "subsidy": ("subsidy_mean", "subsidy_se"),
    "leakage": ("leakage_mean", "leakage_se"),
    "data": ("data_mean", "data_se"),
    "withdrawals": ("withdrawals_mean", "withdrawals_se"),
    "null": ("null_rate", None),
    "backstoppers": ("backstoppers_mean", None),
}
RATES = {"success", "null"}  # compared with the binomial SE


def run_datapact(binary: str, out: Path, reps: int) -> tuple[list[dict], list[dict]]:
    """Runs the baseline on the check grid; returns its verified `cells` and `diagnostics` rows."""
    repo = Path(__file__).resolve().parents[2]
    fmt = lambda xs: "{values=[" + ",".join(repr(float(x)) for x in xs) + "]}"  # noqa: E731
    cmd = [
        binary, "run", str(repo / "scenarios" / "baseline.toml"), "--out", str(out), "-q",
        "--set", f"scenario.replications={reps}",
        "--set", f"sweep.game.value={fmt(CHECK_VALUES)}",
        "--set", f"sweep.game.payment={fmt(CHECK_PAYMENTS)}",
    ]  # fmt: skip
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    verify = subprocess.run([binary, "verify", str(out)], capture_output=True, text=True)
    if verify.returncode != 0:
        sys.exit(f"FAIL: {out} does not verify:\n{verify.stdout}{verify.stderr}")
    import pyarrow.dataset as ds

    def read(table):
        return ds.dataset(str(out / table), format="parquet").to_table().to_pylist()

    return read("cells"), read("diagnostics"), read("contrasts")


# diagnostics column -> (its SE column, or None for a rate / a count of replications)
DIAGNOSTIC_COLUMNS = {
    "s_success_k2": None,
    "m_success_k2": None,
    "common_success_k2": None,
    "pc_gap_mean": "pc_gap_se",
    "pareto_loss_share": "pareto_loss_share_se",
    "pareto_compensation": "pareto_compensation_se",
}
K_SE = 4.5  # ~1 100 comparisons: P(|Z| > 4.5) = 6.8e-6 each keeps a false alarm below 1 %


def binomial_se(rate1, rate2, reps1, reps2):
    """SE of the difference of two independent rates, from the pooled rate (Agresti-style +1/+2,
    so that two rates of exactly 0 or 1 still get a non-zero SE)."""
    pooled = (rate1 * reps1 + rate2 * reps2 + 1.0) / (reps1 + reps2 + 2.0)
    return np.sqrt(pooled * (1.0 - pooled) * (1.0 / reps1 + 1.0 / reps2))


def check(binary: str, reps: int = CHECK_REPS, seed: int = 20260511) -> int:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cells, diags, pairs = run_datapact(binary, Path(tmp) / "run", reps)
    t1 = time.perf_counter()
    ours = simulate_grid(CHECK_VALUES, CHECK_PAYMENTS, reps, seed, cells_per_batch=2)
    t2 = time.perf_counter()

    # (cell, mechanism, metric, numpy mean, datapact mean, SE of the difference)
    comparisons = []
    for row in cells:
        key = (row["value"], row["payment"], row["mechanism"])
        for metric, (mean_col, se_col) in DATAPACT_COLUMNS.items():
            m1, se1 = ours[key][metric]
            m2 = row[mean_col]
            if metric in RATES:
                se = binomial_se(m1, m2, reps, row["reps"])
            else:  # backstoppers_mean has no SE column: take datapact's spread to equal ours
                se = np.hypot(se1, row[se_col] if se_col else se1)
            comparisons.append((key, metric, m1, m2, se))
    for row in diags:
        key = (row["value"], row["payment"], "diagnostics")
        for metric, se_col in DIAGNOSTIC_COLUMNS.items():
            m1, se1 = ours[key][metric]
            m2 = row[metric]
            if metric == "common_success_k2":  # a count: compare as a rate
                m1, m2 = m1 / reps, m2 / row["reps"]
            if m2 is None or np.isnan(m1):
                # pc_gap is masked (< 30 common successes) on one side: the count is compared
                # above, so a real difference shows there; both masked is agreement.
                continue
            if se_col is None:
                se = binomial_se(m1, m2, reps, row["reps"])
            else:
                se = np.hypot(se1, row[se_col])
            comparisons.append((key, metric, m1, m2, se))
    for row in pairs:
        key = (row["value"], row["payment"], f"{row['mechanism_a']}-{row['mechanism_b']}")
        for metric in CONTRAST_METRICS:
            for name in (f"{metric}_diff", f"{metric}_a_better"):
                m1, se1 = ours[key][name]
                m2 = row[name]
                if name.endswith("_diff"):  # paired SEs: far smaller than the cells' SEs
                    se = np.hypot(se1, row[f"{metric}_diff_se"])
                else:
                    se = binomial_se(m1, m2, reps, row["reps"])
                comparisons.append((key, name, m1, m2, se))

    expected = {k for k in ours}
    seen = {(r["value"], r["payment"], r["mechanism"]) for r in cells}
    seen |= {(r["value"], r["payment"], "diagnostics") for r in diags}
    seen |= {(r["value"], r["payment"], f"{r['mechanism_a']}-{r['mechanism_b']}") for r in pairs}
    failures, known = [], []
    if expected != seen:
        failures.append(("cells differ", sorted(expected ^ seen)))
    worst = (0.0, None)
    for key, metric, m1, m2, se in comparisons:
        diff = abs(m1 - m2)
        z = diff / se if se > 0 else (0.0 if diff <= 1e-12 else np.inf)
        if diff > K_SE * se + 1e-12:  # 1e-12: two exact zeros (e.g. leakage) agree
            entry = (*key, metric, float(m1), float(m2), f"{z:.1f} SE")
            (known if (key[2], metric) in KNOWN_DATAPACT_ISSUES else failures).append(entry)
            continue
        if z > worst[0]:
            worst = (z, (*key, metric))
    print(
        f"numpy_reference --check: {len(cells)} cells, {len(diags)} diagnostics and "
        f"{len(pairs)} contrasts rows, "
        f"{len(comparisons)} comparisons at {reps} reps; datapact {t1 - t0:.1f} s, NumPy "
        f"{t2 - t1:.1f} s; largest |diff| (known issues aside) = {worst[0]:.2f} SE at {worst[1]}"
    )
    if known:
        print(f"KNOWN datapact issue, not a failure: {len(known)} comparisons of "
              f"{sorted(KNOWN_DATAPACT_ISSUES)}, e.g. {known[-1]}")
    elif KNOWN_DATAPACT_ISSUES:
        print(f"note: the known datapact issue {sorted(KNOWN_DATAPACT_ISSUES)} no longer shows")
    if failures:
        for f in failures:
            print("DISAGREE:", f)
        print(
            f"FAIL: {len(failures)} of {len(comparisons)} comparisons differ by more than "
            f"{K_SE:g} SE"
        )
        return 1
    print(f"OK: NumPy reference and datapact agree within {K_SE:g} SE on every comparison")
    return 0


# ---------------------------------------------------------------------------------------------
# --bench: the baseline grid, 31 x 31 cells x reps x 3 mechanisms
# ---------------------------------------------------------------------------------------------


def bench(reps: int, seed: int = 1, cells_per_batch: int = 31) -> None:
    cells = len(GRID) ** 2
    t0 = time.perf_counter()
    simulate_grid(GRID, GRID, reps, seed, cells_per_batch=cells_per_batch)
    wall = time.perf_counter() - t0
    campaigns = cells * reps * 3
    print(
        f"NumPy {np.__version__}: {cells} cells x {reps} reps x 3 mechanisms = {campaigns} "
        f"campaigns in {wall:.2f} s (single process, {cells_per_batch} cells per batch): "
        f"{campaigns / wall:,.0f} campaigns/s, {wall / campaigns * 1e6:.3f} us per campaign"
    )
    if reps != 2000:
        print(
            f"extrapolated to the baseline's 2000 reps at the same cost per campaign: "
            f"{wall / campaigns * cells * 2000 * 3:.1f} s"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", metavar="DATAPACT_BIN", help="agreement check with datapact")
    mode.add_argument("--bench", action="store_true", help="time the 31 x 31 baseline grid")
    ap.add_argument("--reps", type=int, default=None, help="replications per cell")
    ap.add_argument(
        "--cells-per-batch", type=int, default=31, help="--bench: cells stacked per batch"
    )
    args = ap.parse_args()
    if args.check:
        return check(args.check, reps=args.reps or CHECK_REPS)
    bench(args.reps or 2000, cells_per_batch=args.cells_per_batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
