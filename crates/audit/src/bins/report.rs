//! The cost-bin equilibria in words: REPORT.md's section, and `datapact reproduce`'s reduced run
//! of them on the paper's `f3_welfare`.

use datapact_model::deviation::{Choice, Menu};

use super::{BinsEnd, BinsRow, BinsSettings, all_cells, settings, write};
use crate::deviations::choice_name;

fn pm((m, s): (f64, f64)) -> String {
    format!("{m:.4} ± {s:.4}")
}

/// At most four values of `all` (sorted, distinct), evenly spaced: the cells REPORT.md lists.
fn shown(mut all: Vec<f64>) -> Vec<f64> {
    all.sort_by(f64::total_cmp);
    all.dedup();
    if all.len() <= 4 {
        return all;
    }
    let k = all.len() - 1;
    (0..4).map(|j| all[j * k / 3]).collect()
}

/// REPORT.md's section on the cost-dependent equilibria: the method, per mechanism a summary
/// over cells, the cells that did not converge, and a table of cells (at most 4 × 4 values of
/// V × p; every cell is in `equilibria_bins/`).
pub fn markdown(menu: &Menu, mechanisms: &[&str], s: BinsSettings, rows: &[BinsRow]) -> String {
    use std::fmt::Write as _;
    let strategies = menu.factors().len() * datapact_model::deviation::WithdrawChoice::ALL.len();
    let mut md = String::from("### Cost-dependent equilibria\n\n");
    let _ = writeln!(
        md,
        "A strategy per cost bin: a user's cost quantile is her rank r among the campaign's n users \
         (ascending true cost), and she is in bin ⌊r·B/n⌋ of B = {b}. Each bin plays one of the {strategies} \
         strategies above ({f} report factors × {w} withdraw rules): {strategies}^{b} = {size} profiles. \
         From truthful-sincere in every bin, Gauss–Seidel best responses: bin by bin, the bin switches to \
         the strategy with the largest mean gain for a deviator of that bin (everyone else playing the \
         current profile; the deviator cycles through the bin's ranks over the replications, so the gain \
         is the bin's average) if that gain is > 0 and > 2 SE; a sweep without a switch is converged (no \
         bin deviation gains significantly: an approximate Bayesian–Nash equilibrium, its ε the residual \
         gain below); a profile recurring after a sweep is a cycle, and {max} sweeps are the limit. \
         {reps} replications per evaluation, the same draws for every candidate and every sweep (common \
         random numbers: a gain is a deterministic function of the profile, so a recurring profile cycles \
         for ever); success, welfare and privacy cost at the final profile beside truthful play on the \
         same draws, each ± its SE. Table `equilibria_bins/` (columns in docs/schema.md).",
        b = s.bins,
        f = menu.factors().len(),
        w = datapact_model::deviation::WithdrawChoice::ALL.len(),
        size = (strategies as f64).powi(s.bins as i32),
        max = s.max_sweeps,
        reps = s.replications,
    );
    md.push_str(
        "\n| mechanism | converged / cycle / limit | most frequent profiles, bins from low to high cost (cells) | largest residual gain | success: equilibrium vs truthful | welfare: equilibrium vs truthful | privacy cost: equilibrium vs truthful |\n|---|---|---|---|---|---|---|\n",
    );
    for &k in mechanisms {
        let these: Vec<&BinsRow> = rows.iter().filter(|r| r.mechanism == k).collect();
        if these.is_empty() {
            continue;
        }
        let count = |e: BinsEnd| these.iter().filter(|r| r.dynamics.end == e).count();
        let mut profiles: std::collections::BTreeMap<String, usize> = Default::default();
        for r in &these {
            *profiles.entry(r.profile_name(menu)).or_default() += 1;
        }
        let mut profiles: Vec<_> = profiles.into_iter().collect();
        profiles.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let list: Vec<String> = profiles
            .iter()
            .take(3)
            .map(|(p, c)| format!("{p} ({c})"))
            .collect();
        let more = profiles.len().saturating_sub(3);
        let worst = these
            .iter()
            .max_by(|a, b| a.dynamics.residual.0.total_cmp(&b.dynamics.residual.0))
            .expect("not empty");
        // the mean over cells, its SE from the cells' (independent draws per cell)
        let n = these.len() as f64;
        let mean = |side: usize, stat: usize| {
            let m = these.iter().map(|r| r.outcomes[side][stat].0).sum::<f64>() / n;
            let v = these
                .iter()
                .map(|r| r.outcomes[side][stat].1.powi(2))
                .sum::<f64>();
            (m, v.sqrt() / n)
        };
        let _ = writeln!(
            md,
            "| {k} | {} / {} / {} | {}{} | {} (V = {}, p = {}) | {} vs {} | {} vs {} | {} vs {} |",
            count(BinsEnd::Converged),
            count(BinsEnd::Cycle),
            count(BinsEnd::Limit),
            list.join(", "),
            if more > 0 {
                format!(", {more} others")
            } else {
                String::new()
            },
            pm((worst.dynamics.residual.0, worst.dynamics.residual.1)),
            worst.value,
            worst.payment,
            pm(mean(0, 0)),
            pm(mean(1, 0)),
            pm(mean(0, 1)),
            pm(mean(1, 1)),
            pm(mean(0, 2)),
            pm(mean(1, 2)),
        );
    }
    md.push_str("\nMeans over the cells, each ± the SE of that mean.\n");
    let unconverged: Vec<&BinsRow> = rows
        .iter()
        .filter(|r| r.dynamics.end != BinsEnd::Converged)
        .collect();
    if unconverged.is_empty() {
        md.push_str("\nEvery cell converged.\n");
    } else {
        let all: Vec<Choice> = menu.choices().collect();
        md.push_str("\nNot converged:\n\n");
        for r in unconverged {
            let d = &r.dynamics;
            let last = d.last.map_or(String::from("no switch"), |s| {
                format!(
                    "last switch in sweep {}: bin {} {} → {}",
                    s.sweep,
                    s.bin,
                    choice_name(menu, all[s.from]),
                    choice_name(menu, all[s.to])
                )
            });
            let _ = writeln!(
                md,
                "- {} at V = {}, p = {}: {} after {} sweeps ({last}); residual gain {}.",
                r.mechanism,
                r.value,
                r.payment,
                d.end.name(),
                d.sweeps,
                pm((d.residual.0, d.residual.1))
            );
        }
    }
    let values = shown(rows.iter().map(|r| r.value).collect());
    let payments = shown(rows.iter().map(|r| r.payment).collect());
    let listed: Vec<&BinsRow> = rows
        .iter()
        .filter(|r| values.contains(&r.value) && payments.contains(&r.payment))
        .collect();
    let _ = writeln!(
        md,
        "\nCells at V ∈ {values:?}, p ∈ {payments:?}:\n\n| V | p | mechanism | equilibrium profile (bins from low to high cost) | converged (sweeps) | residual gain | success: equilibrium vs truthful | welfare: equilibrium vs truthful | privacy cost: equilibrium vs truthful |\n|---|---|---|---|---|---|---|---|---|"
    );
    for r in listed {
        let [eq, tr] = r.outcomes;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} ({}) | {} | {} vs {} | {} vs {} | {} vs {} |",
            r.value,
            r.payment,
            r.mechanism,
            r.profile_name(menu),
            if r.dynamics.end == BinsEnd::Converged {
                "yes"
            } else {
                "no"
            },
            r.dynamics.sweeps,
            pm((r.dynamics.residual.0, r.dynamics.residual.1)),
            pm(eq[0]),
            pm(tr[0]),
            pm(eq[1]),
            pm(tr[1]),
            pm(eq[2]),
            pm(tr[2]),
        );
    }
    md.push('\n');
    md
}

/// The grid of `datapact reproduce`'s cost-dependent equilibria: `f3_welfare` at V ∈ {0.1, 0.2,
/// 0.3} × p ∈ {0, 0.05, 0.1} (9 cells: a reduced size, for the time CI gives the reproduction).
pub const REPRODUCE_GRID: [&str; 2] = [
    "sweep.game.value={ from = 0.1, to = 0.3, steps = 3 }",
    "sweep.game.payment={ from = 0.0, to = 0.1, steps = 3 }",
];

/// `datapact reproduce`'s cost-dependent equilibria: the paper scenario `f3_welfare` (its text
/// `f3`) on [`REPRODUCE_GRID`], with the shipped audit settings' menu and `[analysis.bins]`;
/// writes `out/equilibria_bins/` and returns REPORT.md's section. `cancel` stops it between cells
/// ([`crate::AuditError::Interrupted`]).
pub fn reproduce(
    catalog: &std::sync::Arc<datapact_model::Catalog>,
    plugins: &std::sync::Arc<datapact_sim::PluginSet>,
    f3: &str,
    out: &std::path::Path,
    threads: usize,
    cancel: Option<&std::sync::atomic::AtomicBool>,
) -> Result<String, crate::AuditError> {
    let spec = crate::AuditSpec::parse(crate::DEFAULT_SPEC, "<embedded>/audit.toml")?;
    let a = &spec.analysis;
    let overrides: Vec<String> = REPRODUCE_GRID.iter().map(|s| s.to_string()).collect();
    let scenario = datapact_scenario::Scenario::from_str_with(
        catalog,
        f3,
        "<embedded>/paper/f3_welfare.toml",
        &overrides,
    )?;
    let names = scenario.mechanism_names();
    let mechanisms = crate::deviations::audited(&scenario.catalog, &names);
    let audited: Vec<&'static str> = mechanisms.iter().map(|m| m.name).collect();
    let menu = Menu::new(&a.deviation.report_factors);
    let cx = crate::cell_audit(plugins, &mechanisms, &scenario, &menu, a, cancel);
    let s = settings(&a.bins);
    let pool = crate::pool(threads, out)?;
    let stopped = || cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed));
    let rows = pool.install(|| all_cells(&scenario, &cx, s, &stopped, None))?;
    write(out, &menu, &rows)?;
    Ok(format!(
        "## Equilibria with cost-dependent strategies\n\nThe incentive audit's cost-dependent equilibria \
         (`datapact audit`, docs/model.md §11) of `{}` at a reduced size: V ∈ {{0.1, 0.2, 0.3}} × \
         p ∈ {{0, 0.05, 0.1}}, the audit's strategy menu (report factors {:?} and truthful × the \
         withdraw rules). `datapact audit` has every cell of its grid.\n\n{}",
        scenario.name,
        a.deviation.report_factors,
        markdown(&menu, &audited, s, &rows)
    ))
}
