//! `REPORT.md`, `claims_variants.json` and the figures of the audit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use datapact_model::deviation::{Menu, WithdrawChoice};
use datapact_model::inference::{HeldOutAccumulator, holm, p_upper, z_statistic};
use datapact_report::audit::{
    VariantClaims, needs_markdown, render_claims_grid, variants_markdown,
};
use datapact_report::claims::Verdict;
use datapact_report::figures::{self, Figure, Grid, Panel, Scale};

use crate::AuditError;
use crate::deviations::{DeviationRow, EquilibriumRow, PAYS, choice_name, significant};
use crate::recovery::SideBySide;
use crate::spec::AuditSpec;
use crate::variants::{CLAIM_RUNS, modal_profile};

fn is_report(r: &DeviationRow) -> bool {
    r.choice.report != 0
}

/// A report deviation's mean gain violates incentive compatibility above this (a sharper bar than
/// "> 2 SE": under common random numbers, without observation noise or drift, a truthful
/// mechanism's gains are rounding) …
pub const IC_GAIN: f64 = 1e-9;
/// … when its ratio to its SE also exceeds this.
pub const IC_Z: f64 = 4.0;

/// Per mechanism, is truthful reporting optimal? The report deviations (everyone else truthful
/// and sincere) with mean gain > [`IC_GAIN`] and gain / SE > [`IC_Z`] among the cell × cost
/// quantile × report factor combinations, the largest mean gain, and the largest share of
/// campaigns in which a report deviation pays at all (a campaign-by-campaign test).
fn ic_text(menu: &Menu, mechanisms: &[&str], devs: &[DeviationRow]) -> String {
    let mut s = format!(
        "| mechanism | report deviations with gain > {IC_GAIN:e} and gain / SE > {IC_Z} | largest mean \
         gain (SE) | where | largest share of campaigns where one pays | truthful reporting |\n\
         |---|---|---|---|---|---|\n"
    );
    for &m in mechanisms {
        let rows: Vec<&DeviationRow> = devs
            .iter()
            .filter(|r| r.mechanism == m && is_report(r))
            .collect();
        let Some(top) = max_gain(rows.iter().copied()) else {
            continue;
        };
        let bad = rows
            .iter()
            .filter(|r| r.gain_mean > IC_GAIN && r.gain_mean > IC_Z * r.gain_se)
            .count();
        let ties = rows.iter().filter(|r| r.gain_mean == top.gain_mean).count();
        let pays = rows.iter().map(|r| r.pays_share).fold(0.0, f64::max);
        let _ = writeln!(
            s,
            "| {m} | {bad} of {} | {:.3e} ({:.1e}) | {}`{}` at V = {}, p = {}, cost quantile {} | {} | {} |",
            rows.len(),
            top.gain_mean,
            top.gain_se,
            if ties > 1 {
                format!("{ties} tied, e.g. ")
            } else {
                String::new()
            },
            choice_name(menu, top.choice),
            top.value,
            top.payment,
            top.quantile,
            pays,
            if bad == 0 {
                "optimal (no deviation gains)"
            } else {
                "not optimal"
            }
        );
    }
    s
}

/// The largest mean gain among `rows`, with the row: the first among exact ties (in table
/// order, as the `best` column picks within a cell × quantile).
fn max_gain<'a>(rows: impl Iterator<Item = &'a DeviationRow>) -> Option<&'a DeviationRow> {
    rows.fold(None, |top: Option<&DeviationRow>, r| match top {
        Some(t) if t.gain_mean >= r.gain_mean => Some(t),
        _ => Some(r),
    })
}

/// A row's deviation and where: "`report ×2` at V = 0.3, p = 0, quantile 0.375".
fn named(menu: &Menu, r: &DeviationRow) -> String {
    format!(
        "`{}` at V = {}, p = {}, quantile {}",
        choice_name(menu, r.choice),
        r.value,
        r.payment,
        r.quantile
    )
}

/// The rows other than `top` with exactly its mean gain, named (a few) or counted.
fn ties_text(menu: &Menu, rows: &[&DeviationRow], top: &DeviationRow) -> String {
    let tied: Vec<&&DeviationRow> = rows
        .iter()
        .filter(|r| r.gain_mean == top.gain_mean && !std::ptr::eq(**r, top))
        .collect();
    match tied.len() {
        0 => String::new(),
        1..=3 => format!(
            " (tied with {})",
            tied.iter()
                .map(|r| named(menu, r))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        n => format!(" (tied with {n} others)"),
    }
}

fn epsilon_text(menu: &Menu, devs: &[DeviationRow], mech: &str, report: bool) -> String {
    let rows: Vec<&DeviationRow> = devs
        .iter()
        .filter(|r| r.mechanism == mech && is_report(r) == report)
        .collect();
    let what = if report {
        "truthful reporting"
    } else {
        "sincere withdrawal"
    };
    let Some(top) = max_gain(rows.iter().copied()) else {
        return format!("- {what}: no deviation measured\n");
    };
    let sig = rows
        .iter()
        .filter(|r| significant(r.gain_mean, r.gain_se))
        .count();
    let eps = top.gain_mean.max(0.0);
    let verdict = if significant(top.gain_mean, top.gain_se) {
        format!(
            "is an ε-best response only for ε ≥ {eps:.5} (SE {:.5}): the largest gain, by `{}` at V = {}, p = {}, \
             deviator at cost quantile {}{}, pays in {:.0}% of campaigns",
            top.gain_se,
            choice_name(menu, top.choice),
            top.value,
            top.payment,
            top.quantile,
            ties_text(menu, &rows, top),
            100.0 * top.pays_share
        )
    } else {
        format!(
            "is an ε-best response with ε = {eps:.5} (SE {:.5}): no deviation gains significantly",
            top.gain_se
        )
    };
    format!(
        "- {what} {verdict}; a deviation gains significantly (> 0 and > 2 SE) in {sig} of {} cell × quantile × deviation combinations.\n{}",
        rows.len(),
        held_out_text(menu, &rows)
    )
}

/// Family-wise level of the Holm count and confidence level of the held-out interval.
const LEVEL: f64 = 0.05;

/// The unbiased companions of ε over `rows` (one mechanism, one kind of deviation): the held-out
/// ε (the combination with the largest mean gain over the even replications, its gain estimated
/// on the odd ones; exact ties named) and the count of gains significant after Holm's procedure
/// (one-sided, family-wise level [`LEVEL`] over the combinations).
fn held_out_text(menu: &Menu, rows: &[&DeviationRow]) -> String {
    let acc = HeldOutAccumulator::from_halves(
        rows.iter().map(|r| r.halves[0]).collect(),
        rows.iter().map(|r| r.halves[1]).collect(),
    );
    let Some(h) = acc.finish(1.0 - LEVEL, 0.0) else {
        return String::new();
    };
    let p: Vec<f64> = rows
        .iter()
        .map(|r| p_upper(z_statistic(r.gain_mean, r.gain_se)))
        .collect();
    let holm_sig = holm(&p, LEVEL)
        .iter()
        .zip(rows)
        .filter(|(rejected, r)| **rejected && r.gain_mean > PAYS)
        .count();
    let top = rows[h.best];
    let ties = match h.ties.len() {
        1 => String::new(),
        2..=3 => format!(
            " (tied on that half with {})",
            h.ties
                .iter()
                .filter(|&&k| k != h.best)
                .map(|&k| named(menu, rows[k]))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        n => format!(" (one of {n} tied on that half)"),
    };
    format!(
        "  - held out (unbiased): chosen on the even replications, `{}` at V = {}, p = {}, cost quantile {}{ties} \
         gains {:.5} (SE {:.5}, {:.0}% CI [{:.5}, {:.5}]) on the odd ones; after Holm's correction (one-sided, \
         family-wise {LEVEL}) a deviation gains significantly in {holm_sig} of {}.\n",
        choice_name(menu, top.choice),
        top.value,
        top.payment,
        top.quantile,
        h.estimate,
        h.se,
        100.0 * (1.0 - LEVEL),
        h.interval.low,
        h.interval.high,
        rows.len()
    )
}

/// Per mechanism, how often each deviation is the best response of a cell × quantile (the
/// `best` column), and how often truthful-sincere is.
fn best_response_text(menu: &Menu, mechanisms: &[&str], devs: &[DeviationRow]) -> String {
    let mut s =
        String::from("| mechanism | best response per cell × cost quantile (count) |\n|---|---|\n");
    for &k in mechanisms {
        let rows: Vec<&DeviationRow> = devs.iter().filter(|r| r.mechanism == k).collect();
        let groups: std::collections::BTreeSet<(u32, u64)> = rows
            .iter()
            .map(|r| (r.cell, r.quantile.to_bits()))
            .collect();
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.best) {
            *count.entry(choice_name(menu, r.choice)).or_default() += 1;
        }
        let deviating: usize = count.values().sum();
        let mut list: Vec<(String, usize)> = count.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut parts = vec![format!("truthful-sincere ({})", groups.len() - deviating)];
        parts.extend(list.into_iter().map(|(n, c)| format!("{n} ({c})")));
        let _ = writeln!(s, "| {k} | {} |", parts.join(", "));
    }
    s
}

fn grid_of(points: impl Iterator<Item = (f64, f64, f64)>) -> Grid {
    Grid::from_points(points.map(|(x, y, z)| (x, y, Some(z))))
}

fn max_gain_figure(mechanisms: &[&str], devs: &[DeviationRow]) -> Figure {
    let mut rows = Vec::new();
    let mut all = Vec::new();
    for report in [true, false] {
        let mut row = Vec::new();
        for &k in mechanisms {
            let mut best: BTreeMap<u32, (f64, f64, f64)> = BTreeMap::new();
            for r in devs
                .iter()
                .filter(|r| r.mechanism == k && is_report(r) == report)
            {
                let e = best
                    .entry(r.cell)
                    .or_insert((r.value, r.payment, f64::NEG_INFINITY));
                e.2 = e.2.max(r.gain_mean);
            }
            all.extend(best.values().map(|v| v.2));
            row.push(Panel {
                title: format!(
                    "{k}: best {} deviation",
                    if report { "report" } else { "withdraw" }
                ),
                grid: grid_of(best.into_values()),
                scale: Scale::diverging(0.0, 0.0),
                bar_label: "max mean gain per campaign".into(),
            });
        }
        rows.push(row);
    }
    let (lo, hi) = all
        .iter()
        .fold((0.0f64, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    for p in rows.iter_mut().flatten() {
        p.scale = Scale::diverging(lo, hi);
    }
    Figure {
        id: "max_gain".into(),
        title:
            "Largest mean utility gain of one deviating user (over deviations and cost quantiles)"
                .into(),
        rows,
        caption: String::new(),
        axes: None,
    }
}

fn equilibrium_figure(mechanisms: &[&str], eqs: &[EquilibriumRow]) -> Figure {
    let panels: Vec<Panel> = mechanisms
        .iter()
        .map(|&k| Panel {
            title: format!("{k}: welfare at the dynamics' end − truthful"),
            grid: grid_of(
                eqs.iter()
                    .filter(|e| e.mechanism == k)
                    .map(|e| (e.value, e.payment, e.outcome.1 - e.truthful.1)),
            ),
            scale: Scale::diverging(0.0, 0.0),
            bar_label: "welfare difference".into(),
        })
        .collect();
    let (lo, hi) = eqs
        .iter()
        .map(|e| e.outcome.1 - e.truthful.1)
        .fold((0.0f64, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
    Figure {
        id: "equilibrium_welfare".into(),
        title: "Best-response dynamics: welfare change against truthful-sincere play".into(),
        rows: vec![
            panels
                .into_iter()
                .map(|p| Panel {
                    scale: Scale::diverging(lo, hi),
                    ..p
                })
                .collect(),
        ],
        caption: String::new(),
        axes: None,
    }
}

fn dynamics_text(menu: &Menu, mechanisms: &[&str], eqs: &[EquilibriumRow]) -> String {
    let mut s = String::from(
        "| mechanism | fixed / cycle / limit | final profiles (cells) | success: end vs truthful | welfare: end vs truthful |\n|---|---|---|---|---|\n",
    );
    for &k in mechanisms {
        let rows: Vec<&EquilibriumRow> = eqs.iter().filter(|e| e.mechanism == k).collect();
        let n = rows.len().max(1) as f64;
        let count = |name: &str| rows.iter().filter(|e| e.end.name() == name).count();
        let mut profiles: BTreeMap<String, usize> = BTreeMap::new();
        for e in &rows {
            *profiles.entry(choice_name(menu, e.profile)).or_default() += 1;
        }
        let mut profiles: Vec<_> = profiles.into_iter().collect();
        profiles.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let list: Vec<String> = profiles.iter().map(|(p, c)| format!("{p} ({c})")).collect();
        let mean = |f: &dyn Fn(&EquilibriumRow) -> f64| rows.iter().map(|e| f(e)).sum::<f64>() / n;
        let _ = writeln!(
            s,
            "| {} | {} / {} / {} | {} | {:.4} vs {:.4} | {:.4} vs {:.4} |",
            k,
            count("fixed"),
            count("cycle"),
            count("limit"),
            list.join(", "),
            mean(&|e| e.outcome.0),
            mean(&|e| e.truthful.0),
            mean(&|e| e.outcome.1),
            mean(&|e| e.truthful.1),
        );
    }
    s
}

fn closing_note(vs: &[VariantClaims]) -> String {
    let Some(base) = vs.first() else {
        return String::new();
    };
    let mut s = String::new();
    for (k, c) in base.claims.iter().enumerate() {
        let held: Vec<&str> = vs
            .iter()
            .filter(|v| v.claims[k].verdict == Verdict::Held)
            .map(|v| v.setting.as_str())
            .collect();
        let tested = vs
            .iter()
            .filter(|v| v.claims[k].verdict != Verdict::NotTested)
            .count();
        let _ = write!(
            s,
            "claim {} {} in the baseline and holds in {} of {} tested variants",
            c.id,
            if c.verdict == Verdict::Held {
                "holds"
            } else {
                "does not hold"
            },
            held.len(),
            tested
        );
        if !held.is_empty() && held.len() < tested {
            let _ = write!(s, " ({})", held.join(", "));
        }
        s.push_str("; ");
    }
    s.trim_end_matches("; ").to_string() + "."
}

/// What was audited, for REPORT.md.
pub struct Audited<'a> {
    /// The audited mechanisms' names, in the scenario's order.
    pub mechanisms: &'a [&'static str],
    /// The scenario, as REPORT.md names it.
    pub scenario: &'a crate::AuditedScenario,
    /// The mechanisms of the scenario that have neither reports nor withdrawal.
    pub skipped: &'a [&'static str],
    /// S and M campaign by campaign at each R of [`crate::recovery::RECOVERY`] (paper scenarios).
    pub side_by_side: &'a [SideBySide],
    /// The cost-dependent equilibria and their settings.
    pub bins: (crate::bins::BinsSettings, &'a [crate::bins::BinsRow]),
}

/// Claims 3 and 4 at R = 0 and R = 1, campaign by campaign: the table and what it shows.
pub(crate) fn side_by_side_text(cells: usize, reps: u32, rows: &[SideBySide]) -> String {
    let mut s = format!(
        "\n**Which S? Claims 3 and 4 at R = 0 and R = 1, campaign by campaign.** S and M truthful and \
         sincere on the same draws ({cells} cells × {reps} replications), with S's recovery rounds R = 0 \
         (the paper's) and R = 1; PC is the privacy cost a campaign's users bear.\n\n\
         | R | S succeeds | M succeeds | S succeeds, M fails | M succeeds, S fails | both succeed | PC(M) ≠ PC(S) there | largest \\|PC(M) − PC(S)\\| there | mean PC(M) − PC(S) there |\n\
         |---|---|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        let n = r.campaigns.max(1) as f64;
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.4} | {} | {} | {} | {} | {:.4} | {:+.5} |",
            r.recovery,
            r.s_success as f64 / n,
            r.m_success as f64 / n,
            r.s_only,
            r.m_only,
            r.both,
            r.pc_differ,
            r.pc_max_gap,
            r.pc_gap_sum / r.both.max(1) as f64,
        );
    }
    s.push('\n');
    for r in rows {
        let (superset, same) = (r.s_only == 0, r.pc_differ == 0);
        let _ = write!(s, "At R = {}: ", r.recovery);
        if superset {
            s.push_str(
                "every S success is an M success on the same draws (M ⊇ S campaign by campaign)",
            );
        } else {
            let _ = write!(
                s,
                "S succeeds where M fails in {} of {} campaigns (M where S fails in {}): M ⊇ S does \
                 not hold campaign by campaign",
                r.s_only, r.campaigns, r.m_only
            );
        }
        if same {
            s.push_str(", and where both succeed they bear exactly the same privacy cost");
        } else {
            let _ = write!(
                s,
                ", and they bear different privacy costs in {} of the {} campaigns both succeed in",
                r.pc_differ, r.both
            );
        }
        if superset && same {
            s.push_str(
                ". So M's success is never below S's in a cell (claim 3's weak part is an identity; \
                 its strict part needs campaigns M rescues in every cell where S users withdraw), and \
                 S's privacy cost cannot be lower on the common successes (claim 4's conditional part \
                 fails as an identity). ",
            );
        } else {
            s.push_str(": claims 3 and 4 are decided by the data, not by an identity. ");
        }
    }
    s.trim_end().to_string() + "\n"
}

/// Writes the figures, `claims_variants.json` and `REPORT.md` into `out`.
pub fn write(
    out: &Path,
    spec: &AuditSpec,
    menu: &Menu,
    what: &Audited,
    devs: &[DeviationRow],
    eqs: &[EquilibriumRow],
    vs: &[VariantClaims],
) -> Result<PathBuf, AuditError> {
    let a = &spec.analysis;
    let mechanisms = what.mechanisms;
    let paper = what.scenario.paper;
    let figs = out.join("figures");
    if paper {
        std::fs::create_dir_all(&figs).map_err(|e| AuditError::io(&figs, e))?;
        figures::render(&max_gain_figure(mechanisms, devs), &figs)?;
        figures::render(&equilibrium_figure(mechanisms, eqs), &figs)?;
        render_claims_grid(vs, &figs)?;
        let json = serde_json::to_string_pretty(vs).map_err(|e| AuditError::Io {
            path: out.join("claims_variants.json"),
            source: e.into(),
        })?;
        write_text(&out.join("claims_variants.json"), &(json + "\n"))?;
    }

    let mut md = String::from("# Incentive audit\n\n");
    let cells = if paper {
        format!(
            "the paper scenario `{}` (uniform costs, n = 20, θ = 0.6, σ_w = 0.5) on V, p each over [0, 0.3] \
             in {} steps",
            a.scenario, a.steps
        )
    } else {
        format!(
            "the scenario `{}` ({}) on its own {} cell{}",
            what.scenario.name,
            what.scenario.origin,
            what.scenario.cells,
            if what.scenario.cells == 1 { "" } else { "s" }
        )
    };
    let skipped = if what.skipped.is_empty() {
        String::new()
    } else {
        format!(
            " {} {} neither reports nor withdrawal and {} not audited.",
            what.skipped.join(", "),
            if what.skipped.len() == 1 {
                "has"
            } else {
                "have"
            },
            if what.skipped.len() == 1 { "is" } else { "are" }
        )
    };
    let _ = writeln!(
        md,
        "Audited model: {cells}; mechanisms {}. Deviations: {} replications per cell, report factors {:?} \
         (report = factor × true cost; 1 is truthful), deviator at cost quantiles {:?}, withdraw rules {}. \
         Common random numbers: each deviation is played on the same draws as the baseline, by the app's \
         own engine (every mechanism's systems, plugins' included).{skipped} Tables: `deviations/`, \
         `equilibria/` (columns in docs/schema.md).\n",
        mechanisms.join(", "),
        a.replications,
        a.deviation.report_factors,
        a.deviation.cost_quantiles,
        WithdrawChoice::ALL[1..]
            .iter()
            .map(|w| w.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    md.push_str("## 1. Are truthful reporting and sincere withdrawal ε-best responses?\n\n");
    md.push_str(
        "ε is the largest mean gain of a unilateral deviation (everyone else truthful and sincere) over the \
         grid, the deviations and the cost quantiles; as a maximum over many noisy means it is biased \
         upwards (the winner's curse), and the count of gains above 2 SE is not corrected for the many \
         combinations. Below each, the held-out ε (the deviation chosen on half of the replications, its \
         gain estimated on the other half: unbiased for the deviation it names) with its interval, and \
         the count of significant gains after Holm's correction.\n\n",
    );
    for &k in mechanisms {
        let _ = writeln!(md, "**{k}**\n");
        md.push_str(&epsilon_text(menu, devs, k, true));
        md.push_str(&epsilon_text(menu, devs, k, false));
        md.push('\n');
    }
    md.push_str(&best_response_text(menu, mechanisms, devs));
    if paper {
        md.push_str(
            "\n![largest gain](figures/max_gain.png)\n\nBlue: every deviation of that kind loses there \
             (each side of the colour scale is scaled to its own extreme).\n\n",
        );
    } else {
        // Only here, so that the paper audit's REPORT.md stays as it was.
        let _ = writeln!(
            md,
            "\n**Is truthful reporting optimal?** A report deviation violates incentive compatibility \
             in a cell × cost quantile when its mean gain exceeds {IC_GAIN:e} and {IC_Z} SE (common random \
             numbers: under a truthful mechanism without observation noise or drift, gains are rounding). \
             A deviation pays in a campaign when it gains more than {PAYS:e} there.\n"
        );
        md.push_str(&ic_text(menu, mechanisms, devs));
        md.push('\n');
    }
    md.push_str("## 2. Best-response dynamics\n\n");
    let _ = writeln!(
        md,
        "From truthful-sincere, the whole population switches to the strategy (report factor × withdraw \
         rule) with the largest mean gain for a deviator (averaged over the cost quantiles), while that gain \
         is > 0 and > 2 SE; at most {} switches, {} replications per round.\n",
        a.dynamics.max_rounds, a.dynamics.replications
    );
    md.push_str(&dynamics_text(menu, mechanisms, eqs));
    if !paper {
        md.push('\n');
        md.push_str(&crate::bins::markdown(
            menu,
            mechanisms,
            what.bins.0,
            what.bins.1,
        ));
        md.push_str(
            "\n## 3. The paper's claims\n\nSkipped: this scenario is not one of the paper's, so the spec's \
             `steps` (the paper's V × p grid) and `[analysis.variants]` (the paper's claims re-decided \
             across model variants) were read and not used; the audit ran on the scenario's own cells. \
             The figures, drawn over the paper's V × p grid, are not drawn either.\n",
        );
        let report = out.join("REPORT.md");
        write_text(&report, &md)?;
        return Ok(report);
    }
    md.push_str("\n![equilibrium welfare](figures/equilibrium_welfare.png)\n\n");
    md.push_str(&crate::bins::markdown(
        menu,
        mechanisms,
        what.bins.0,
        what.bins.1,
    ));
    md.push_str("## 3. The claims across model variants\n\n");
    let _ = writeln!(
        md,
        "The runs the claims read ({}) re-run with one assumption changed at a time, on a reduced grid (V, p \
         each in {} steps) with {} replications per cell (claim 2's campaign-level run: at most 100), and the \
         claims decided by the same rules as REPORT.md's claims table. Not the full product of variants. \
         σ_o = 0.25 leaves claim 6's run unchanged (it sweeps σ_o itself). `claims_variants.json` has every \
         verdict with its numbers.\n",
        CLAIM_RUNS.join(", "),
        a.variants.steps,
        a.variants.replications
    );
    md.push_str(&variants_markdown(vs));
    md.push_str(&side_by_side_text(
        what.scenario.cells,
        a.replications,
        what.side_by_side,
    ));
    md.push_str("\n![claims × variants](figures/claims_variants.png)\n\n");
    md.push_str("## 4. What each claim needs\n\n");
    md.push_str(&needs_markdown(vs));
    md.push_str("\n## Closing note\n\n");
    md.push_str(&closing_note(vs));
    md.push('\n');
    if let Some((p, n)) = modal_profile(eqs) {
        let _ = writeln!(
            md,
            "\nThe most frequent end of the best-response dynamics is `{}` ({n} of {} cell × mechanism rows).",
            choice_name(menu, p),
            eqs.len()
        );
    }
    let report = out.join("REPORT.md");
    write_text(&report, &md)?;
    Ok(report)
}

/// `REPORT.md` and `claims_variants.json`: whole or absent, through the one atomic path.
fn write_text(path: &Path, text: &str) -> Result<(), AuditError> {
    datapact_trace::atomic::write_atomic(path, text.as_bytes()).map_err(|e| AuditError::io(path, e))
}

#[cfg(test)]
mod tests {
    use datapact_model::deviation::Choice;
    use datapact_model::stats::Welford;

    use super::*;

    fn welford(values: &[f64]) -> Welford {
        let mut w = Welford::default();
        for &v in values {
            w.push(v);
        }
        w
    }

    /// A report ×F row in cell `cell` whose even and odd replications are `even` and `odd`.
    fn row(cell: u32, even: &[f64], odd: &[f64]) -> DeviationRow {
        let all: Vec<f64> = even.iter().chain(odd).copied().collect();
        let w = welford(&all);
        DeviationRow {
            cell,
            value: 0.1 * f64::from(cell),
            payment: 0.0,
            mechanism: "S",
            choice: Choice {
                report: 1,
                withdraw: WithdrawChoice::Sincere,
            },
            factor: 2.0,
            quantile: 0.5,
            replications: all.len() as u32,
            gain_mean: w.mean(),
            gain_se: w.se(),
            pays_share: 0.0,
            halves: [welford(even), welford(odd)],
            best: false,
        }
    }

    /// The held-out ε names the combination with the best even half and reports its odd half
    /// (not the in-sample winner's mean); Holm counts fewer gains than "> 2 SE" over many
    /// combinations that each sit at about 3 SE.
    #[test]
    fn held_out_epsilon_reports_the_other_half_and_holm_corrects() {
        let menu = Menu::new(&[2.0]);
        // cell 0: lucky on the even half, nothing on the odd; cell 1: steady 0.01
        let lucky = row(0, &[0.05, 0.07, 0.06], &[0.0, 0.001, -0.001]);
        let steady = row(1, &[0.01, 0.011, 0.009], &[0.01, 0.011, 0.009]);
        let text = held_out_text(&menu, &[&lucky, &steady]);
        assert!(text.contains("at V = 0, p = 0"), "{text}");
        assert!(text.contains("gains 0.00000 (SE 0.00058"), "{text}");
        // 40 combinations at 2.9 SE each: all above 2 SE, none after Holm (40 · 0.0019 > 0.05)
        let noisy: Vec<DeviationRow> = (0..40)
            .map(|c| {
                let g = [0.012, 0.048, 0.012, 0.048];
                row(c, &g[..2], &g[2..])
            })
            .collect();
        let refs: Vec<&DeviationRow> = noisy.iter().collect();
        assert!(
            refs.iter()
                .all(|r| significant(r.gain_mean, r.gain_se) && r.gain_mean < 3.1 * r.gain_se)
        );
        let text = held_out_text(&menu, &refs);
        assert!(text.contains("in 0 of 40"), "{text}");
        assert!(text.contains("one of 40 tied"), "{text}");
    }
}
