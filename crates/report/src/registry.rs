//! The registry of the paper's figures and claims: which run each figure and claim is drawn
//! from, and how its panels are built from the typed tables. Only runs whose scenario hash is a
//! paper scenario's ([`Reference::paper_of`]) reach it; among those, figures are looked up by
//! scenario name.

use crate::ReportError;
use crate::charts::{LineChart, LineFigure, Series};
use crate::claims::{self, Claim, Trend};
use crate::figures::{Figure, Grid, Panel, Scale};
use crate::generic::{self, RunStats};
use crate::load::Run;
use crate::tables::{CellRecord, CellTable, DiagRecord, DiagTable};
use crate::verdicts;
use datapact_model::catalog::CoreMechanism;

/// Scenario names of the paper runs the report looks for.
pub mod runs {
    /// F1: M's success over V × p.
    pub const F1: &str = "f1_success_m";
    /// F2: C's success over V × p.
    pub const F2: &str = "f2_success_c";
    /// F3: welfare of C, S and M (uniform costs; the baseline).
    pub const F3: &str = "f3_welfare";
    /// F4: success and welfare under Beta(2,5) costs.
    pub const F4: &str = "f4_beta25";
    /// F5: success and welfare under Beta(5,2) costs.
    pub const F5: &str = "f5_beta52";
    /// F6: success under noisy cost observation.
    pub const F6: &str = "f6_obs_noise";
    /// F7: privacy cost of S and M (cost efficiency).
    pub const F7: &str = "f7_cost_efficiency";
    /// F8: the Pareto comparison with C.
    pub const F8: &str = "f8_pareto";
    /// F9: C's leakage (subsidies paid without improvement).
    pub const F9: &str = "f9_leakage";
    /// Campaign-level run for claim 2.
    pub const NULLS: &str = "claims_nulls";
    /// Free-riders in repeated games (an extension beyond the paper).
    pub const F10: &str = "f10_free_riders";
    /// The scaling study (an extension): small populations, many replications.
    pub const F11: &str = "f11_scaling";
    /// The scaling study's large populations, few replications (outcomes are nearly
    /// deterministic there, so few suffice).
    pub const F11_LARGE: &str = "f11_scaling_large";
    /// The runs the six claims are decided from (what `reproduce --seeds K` reruns per seed).
    pub const CLAIMS: [&str; 7] = [F3, F4, F5, F6, F7, F9, NULLS];
    /// Every paper run: these get the paper's figures and claims, never generic figures.
    pub const ALL: [&str; 13] = [
        F1, F2, F3, F4, F5, F6, F7, F8, F9, NULLS, F10, F11, F11_LARGE,
    ];
}

/// An embedded paper scenario: its name, the hash of its normalized text, and that text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaperScenario {
    /// The scenario's name.
    pub name: String,
    /// The SHA-256 of its normalized text.
    pub hash: String,
    /// Its normalized text.
    pub toml: String,
}

/// What the report compares runs with: the paper's scenarios (a run gets the paper's figures
/// only if its scenario hash equals one of theirs) and the normalized text of a scenario with
/// every default, which other runs' changed settings are listed against.
#[derive(Clone, Debug, Default)]
pub struct Reference {
    /// The paper's embedded scenarios.
    pub paper: Vec<PaperScenario>,
    /// The normalized text of a scenario with every default.
    pub defaults_toml: String,
}

impl Reference {
    /// The paper scenario `run` is, by scenario hash (never by name alone).
    pub fn paper_of(&self, run: &Run) -> Option<&PaperScenario> {
        self.paper.iter().find(|p| p.hash == run.scenario_hash)
    }

    /// The paper scenario whose name `run` carries although its scenario differs.
    pub fn renamed_paper_of(&self, run: &Run) -> Option<&PaperScenario> {
        self.paper
            .iter()
            .find(|p| p.name == run.name && p.hash != run.scenario_hash)
    }
}

fn find<'a>(runs: &'a [Run], name: &str) -> Option<&'a Run> {
    runs.iter().find(|r| r.name == name)
}

/// The six claims evaluated on `runs`: the literal rules and, beside them, the tests
/// ([`crate::verdicts`]); `seeds` = 1, `seeds_held` = 1 iff the test held.
pub fn evaluate_claims(runs: &[Run]) -> Vec<Claim> {
    let cells = |n: &str| find(runs, n).map(|r| &r.cells);
    let con = |n: &str| find(runs, n).map(|r| &r.contrasts);
    let all: Vec<&CellTable> = runs.iter().map(|r| &r.cells).collect();
    let tests = [
        verdicts::claim1(cells(runs::F9), &all),
        verdicts::claim2(find(runs, runs::NULLS).and_then(|r| r.rounds.as_ref())),
        verdicts::claim3(cells(runs::F3), con(runs::F3)),
        verdicts::claim4(con(runs::F3), find(runs, runs::F7).map(|r| &r.diagnostics)),
        verdicts::claim5(&[
            ("uniform", con(runs::F3)),
            ("Beta(2,5)", con(runs::F4)),
            ("Beta(5,2)", con(runs::F5)),
        ]),
        verdicts::claim6(cells(runs::F6), con(runs::F6)),
    ];
    let mut claims = literal_claims(runs);
    for (c, t) in claims.iter_mut().zip(tests) {
        c.seeds = 1;
        c.seeds_held = u32::from(t.verdict == claims::Verdict::Held);
        c.test_verdict = t.verdict;
        c.test_rule = t.rule;
        c.test_numbers = t.numbers;
    }
    claims
}

/// Adds the claims decided under further independent seeds (`datapact reproduce --seeds K`):
/// `seeds` counts every seed, `seeds_held` those whose test held.
pub fn add_seeds(claims: &mut [Claim], others: &[Vec<Claim>]) {
    for other in others {
        for c in claims.iter_mut() {
            if let Some(o) = other.iter().find(|o| o.id == c.id) {
                c.seeds += o.seeds;
                c.seeds_held += o.seeds_held;
            }
        }
    }
}

/// The six claims under their literal (point-estimate) rules.
fn literal_claims(runs: &[Run]) -> Vec<Claim> {
    let cells = |n: &str| find(runs, n).map(|r| &r.cells);
    let all: Vec<&CellTable> = runs.iter().map(|r| &r.cells).collect();
    vec![
        claims::claim1(cells(runs::F9), &all),
        claims::claim2(find(runs, runs::NULLS).and_then(|r| r.rounds.as_ref())),
        claims::claim3(cells(runs::F3)),
        claims::claim4(
            cells(runs::F3),
            find(runs, runs::F7).map(|r| &r.diagnostics),
        ),
        claims::claim5(&[
            ("uniform", cells(runs::F3)),
            ("Beta(2,5)", cells(runs::F4)),
            ("Beta(5,2)", cells(runs::F5)),
        ]),
        claims::claim6(cells(runs::F6)),
    ]
}

/// The paper's mechanisms, by their one declaration.
const C: &str = CoreMechanism::Subsidy.name();
const S: &str = CoreMechanism::Simultaneous.name();
const M: &str = CoreMechanism::Sequential.name();

/// Full name of a mechanism for panel titles: "C (posted subsidy)", from its declaration.
fn mech_name(m: &str) -> String {
    match CoreMechanism::named(m) {
        Some(core) => format!("{m} ({})", core.label()),
        None => m.to_string(),
    }
}

/// Grid of `metric` for mechanism `mech` (cells where the swept `filter` column equals the
/// given value, if any).
fn cell_grid(
    t: &CellTable,
    mech: &str,
    filter: Option<(&str, f64)>,
    metric: fn(&CellRecord) -> f64,
) -> Grid {
    Grid::from_points(
        t.of(mech)
            .filter(|r| {
                filter.is_none_or(|(k, v)| t.coord(r, k).is_some_and(|x| (x - v).abs() < 1e-9))
            })
            .map(|r| {
                (
                    t.coord(r, "value").unwrap_or(0.0),
                    t.coord(r, "payment").unwrap_or(0.0),
                    Some(metric(r)),
                )
            }),
    )
}

fn diag_grid(t: &DiagTable, metric: fn(&DiagRecord) -> Option<f64>) -> Grid {
    Grid::from_points(t.rows.iter().map(|r| {
        (
            t.coord(r, "value").unwrap_or(0.0),
            t.coord(r, "payment").unwrap_or(0.0),
            metric(r),
        )
    }))
}

const SUCCESS: &str = "success probability";
const WELFARE: &str = "expected welfare per campaign";

fn success_panel(t: &CellTable, m: &str, filter: Option<(&str, f64)>, title: String) -> Panel {
    Panel {
        title,
        grid: cell_grid(t, m, filter, |r| r.success_rate),
        scale: Scale::sequential(0.0, 1.0),
        bar_label: SUCCESS.into(),
    }
}

/// Welfare panels of C, S, M on one diverging scale (zero white).
fn welfare_row(t: &CellTable) -> Vec<Panel> {
    let grids: Vec<_> = [C, S, M]
        .iter()
        .map(|m| (*m, cell_grid(t, m, None, |r| r.welfare_mean)))
        .collect();
    let (lo, hi) = grids
        .iter()
        .filter_map(|(_, g)| g.range())
        .fold((0.0f64, 0.0f64), |(a, b), (x, y)| (a.min(x), b.max(y)));
    grids
        .into_iter()
        .map(|(m, grid)| Panel {
            title: format!("{}: welfare", mech_name(m)),
            grid,
            scale: Scale::diverging(lo, hi),
            bar_label: WELFARE.into(),
        })
        .collect()
}

fn reps_note(run: &Run) -> String {
    format!(
        "run `{}`, {} replications per cell, scenario hash {}",
        run.name,
        run.reps_text(),
        short(&run.scenario_hash)
    )
}

/// The figures that can be drawn from `runs`, and the ids of those that cannot.
pub fn build_figures(runs: &[Run]) -> (Vec<Figure>, Vec<String>) {
    let mut figs = Vec::new();
    let mut missing = Vec::new();
    let mut need = |id: &str, name: &str| {
        let r = find(runs, name);
        if r.is_none() {
            missing.push(format!("{id}: run `{name}` not found"));
        }
        r
    };
    if let Some(r) = need("F1", runs::F1) {
        figs.push(Figure {
            id: "F1".into(),
            axes: None,
            title: "F1 · Success probability of M (uniform costs)".into(),
            rows: vec![vec![success_panel(&r.cells, M, None, format!("{}: success", mech_name(M)))]],
            caption: format!("Share of campaigns in which the model improves under the small-first sequential protocol M; {}.", reps_note(r)),
        });
    }
    if let Some(r) = need("F2", runs::F2) {
        figs.push(Figure {
            id: "F2".into(),
            axes: None,
            title: "F2 · Success probability of C (uniform costs)".into(),
            rows: vec![vec![success_panel(
                &r.cells,
                C,
                None,
                format!("{}: success", mech_name(C)),
            )]],
            caption: format!(
                "Share of campaigns in which the model improves under the posted subsidy C; {}.",
                reps_note(r)
            ),
        });
    }
    if let Some(r) = need("F3", runs::F3) {
        figs.push(Figure {
            id: "F3".into(),
            axes: None,
            title: "F3 · Expected welfare of C, S and M (uniform costs)".into(),
            rows: vec![welfare_row(&r.cells)],
            caption: format!("Mean welfare n·V·1{{success}} − privacy cost borne; one diverging scale for the three panels, zero white, negative blue; {}.", reps_note(r)),
        });
    }
    for (id, name, dist) in [
        ("F4", runs::F4, "Beta(2,5) costs: mass at low cost"),
        ("F5", runs::F5, "Beta(5,2) costs: mass at high cost"),
    ] {
        if let Some(r) = need(id, name) {
            let success = [C, S, M]
                .iter()
                .map(|m| success_panel(&r.cells, m, None, format!("{}: success", mech_name(m))))
                .collect();
            figs.push(Figure {
                id: id.into(),
                axes: None,
                title: format!("{id} · Success and welfare of C, S and M ({dist})"),
                rows: vec![success, welfare_row(&r.cells)],
                caption: format!("Top: success probability; bottom: expected welfare (zero white, negative blue); {}.", reps_note(r)),
            });
        }
    }
    if let Some(r) = need("F6", runs::F6) {
        let t = &r.cells;
        let mut sigmas: Vec<f64> = t
            .rows
            .iter()
            .filter_map(|x| t.coord(x, "obs_noise"))
            .collect();
        sigmas.sort_by(f64::total_cmp);
        sigmas.dedup();
        let rows = if sigmas.is_empty() {
            vec![
                [S, M, C]
                    .iter()
                    .filter(|m| t.has(m))
                    .map(|m| success_panel(t, m, None, format!("{}: success", mech_name(m))))
                    .collect(),
            ]
        } else {
            sigmas
                .iter()
                .map(|s| {
                    [S, M, C]
                        .iter()
                        .filter(|m| t.has(m))
                        .map(|m| {
                            success_panel(
                                t,
                                m,
                                Some(("obs_noise", *s)),
                                format!("{m}: success, σ_o = {s}"),
                            )
                        })
                        .collect()
                })
                .collect()
        };
        figs.push(Figure {
            id: "F6".into(),
            axes: None,
            title: "F6 · Success of S, M and C under noisy cost observation σ_o".into(),
            rows,
            caption: format!("One row per observation noise σ_o (σ_o = 0 is the noiseless reference); C ignores reports, so its row is the same at every σ_o; {}.", reps_note(r)),
        });
    }
    if let Some(r) = need("F7", runs::F7) {
        let d = &r.diagnostics;
        let gap = diag_grid(d, |x| x.pc_gap_mean);
        let (lo, hi) = gap.range().unwrap_or((0.0, 0.0));
        figs.push(Figure {
            id: "F7".into(),
            axes: None,
            title: "F7 · Cost efficiency of S vs M (k ≥ 2 backstoppers)".into(),
            rows: vec![vec![
                Panel { title: "Pr(S succeeds, k ≥ 2)".into(), grid: diag_grid(d, |x| x.s_success_k2), scale: Scale::sequential(0.0, 1.0), bar_label: "probability".into() },
                Panel { title: "Pr(M succeeds, k ≥ 2)".into(), grid: diag_grid(d, |x| x.m_success_k2), scale: Scale::sequential(0.0, 1.0), bar_label: "probability".into() },
                Panel { title: "PC(M) − PC(S), common successes".into(), grid: gap, scale: Scale::diverging(lo, hi), bar_label: "mean privacy-cost gap per campaign".into() },
            ]],
            caption: format!("Right: mean privacy-cost gap over replications where both S and M succeed with k ≥ 2; gray = masked (fewer than 30 such replications); zero white; {}.", reps_note(r)),
        });
    }
    if let Some(r) = need("F8", runs::F8) {
        let d = &r.diagnostics;
        let loss = diag_grid(d, |x| x.pareto_loss_share);
        let comp = diag_grid(d, |x| x.pareto_compensation);
        let top = |g: &Grid| g.range().map(|(_, b)| b).unwrap_or(1.0);
        figs.push(Figure {
            id: "F8".into(),
            axes: None,
            title: "F8 · Pareto diagnostic: M vs C".into(),
            rows: vec![vec![
                Panel { title: "share of users worse off under M".into(), scale: Scale::sequential(0.0, top(&loss)), grid: loss, bar_label: "share of users with u_M < u_C".into() },
                Panel { title: "compensation removing every loss".into(), scale: Scale::sequential(0.0, top(&comp)), grid: comp, bar_label: "mean per-user compensation".into() },
            ]],
            caption: format!("Left: mean share of users whose utility under M is below their utility under C; right: (1/n)·Σ max(0, u_C − u_M); {}.", reps_note(r)),
        });
    }
    if let Some(r) = need("F9", runs::F9) {
        let g = cell_grid(&r.cells, C, None, |x| x.leakage_mean);
        let top = g.range().map(|(_, b)| b).unwrap_or(1.0);
        figs.push(Figure {
            id: "F9".into(),
            axes: None,
            title: "F9 · Leakage of C: subsidy paid without improvement".into(),
            rows: vec![vec![Panel {
                title: "C (posted subsidy): leakage".into(),
                grid: g,
                scale: Scale::sequential(0.0, top),
                bar_label: "mean leakage per campaign".into(),
            }]],
            caption: format!(
                "Mean subsidy paid in campaigns where the model does not improve; {}.",
                reps_note(r)
            ),
        });
    }
    if let Some(r) = runs.iter().find(|r| r.name == runs::F10) {
        figs.push(free_rider_figure(r));
    }
    (figs, missing)
}

/// F10: how a growing share of free-riders changes success, privacy cost and the S-vs-M cost
/// gap, over (free-rider share, V), in the last round of the repeated game.
fn free_rider_figure(r: &Run) -> Figure {
    let last = r.cells.rows.iter().map(|x| x.round).max().unwrap_or(0);
    let cells = |m: &'static str, metric: fn(&CellRecord) -> f64| {
        Grid::from_points(
            r.cells
                .rows
                .iter()
                .filter(|x| x.round == last && x.mechanism == m)
                .map(|x| {
                    (
                        r.cells.coord(x, "withdraw_share").unwrap_or(0.0),
                        r.cells.coord(x, "value").unwrap_or(0.0),
                        Some(metric(x)),
                    )
                }),
        )
    };
    let gap = Grid::from_points(
        r.diagnostics
            .rows
            .iter()
            .filter(|x| x.round == last)
            .map(|x| {
                (
                    r.diagnostics.coord(x, "withdraw_share").unwrap_or(0.0),
                    r.diagnostics.coord(x, "value").unwrap_or(0.0),
                    x.pc_gap_mean,
                )
            }),
    );
    let (pc_s, pc_m) = (
        cells(S, |x| x.privacy_cost_mean),
        cells(M, |x| x.privacy_cost_mean),
    );
    let pc_top = [&pc_s, &pc_m]
        .iter()
        .filter_map(|g| g.range())
        .fold(0.0f64, |a, (_, b)| a.max(b));
    let (glo, ghi) = gap.range().unwrap_or((-1.0, 1.0));
    let panel = |title: &str, grid: Grid, scale: Scale, bar: &str| Panel {
        title: title.into(),
        grid,
        scale,
        bar_label: bar.into(),
    };
    let mut fig = Figure {
        id: "F10".into(),
        axes: Some((
            "share of free-riders in the population".into(),
            "value of improvement V (per user)".into(),
        )),
        title: format!(
            "F10 · Free-riders: success, privacy cost and PC(M) − PC(S), round {}",
            last + 1
        ),
        rows: vec![
            vec![
                panel(
                    "S: success",
                    cells(S, |x| x.success_rate),
                    Scale::sequential(0.0, 1.0),
                    SUCCESS,
                ),
                panel(
                    "M: success",
                    cells(M, |x| x.success_rate),
                    Scale::sequential(0.0, 1.0),
                    SUCCESS,
                ),
                panel(
                    "M: withdrawals",
                    cells(M, |x| x.withdrawals_mean),
                    Scale::sequential(0.0, 20.0),
                    "mean withdrawals per campaign",
                ),
            ],
            vec![
                panel(
                    "S: privacy cost",
                    pc_s,
                    Scale::sequential(0.0, pc_top.max(1e-9)),
                    "mean privacy cost per campaign",
                ),
                panel(
                    "M: privacy cost",
                    pc_m,
                    Scale::sequential(0.0, pc_top.max(1e-9)),
                    "mean privacy cost per campaign",
                ),
                panel(
                    "PC(M) − PC(S), common successes",
                    gap,
                    Scale::diverging(glo.min(0.0), ghi.max(0.0)),
                    "mean privacy-cost gap (gray: < 30 common successes)",
                ),
            ],
        ],
        caption: format!(
            "x: share of users who free-ride (withdraw when, by what the protocol reveals, their data is not pivotal); y: value V; payment fixed. Last round of the repeated game, so S's free-riders act on what they remember; {}.",
            reps_note(r)
        ),
    };
    for row in &mut fig.rows {
        for p in row.iter_mut() {
            p.title = p.title.replace("  ", " ");
        }
    }
    fig
}

/// F11, the scaling study, and what it finds about M's advantage over S.
#[derive(Clone, Debug)]
pub struct Scaling {
    /// The figure: success, welfare and withdrawals over log n.
    pub figure: LineFigure,
    /// One paragraph for the report.
    pub caption: String,
    /// One line per contrasted metric: "M − S success: … : grows with n", from `contrasts`.
    pub findings: Vec<(String, Option<Trend>)>,
}

/// F11 from the scaling runs present in `runs` (either or both of [`runs::F11`] and
/// [`runs::F11_LARGE`]); `None` when neither is.
pub fn scaling(runs: &[Run]) -> Result<Option<Scaling>, ReportError> {
    let stats = [runs::F11, runs::F11_LARGE]
        .iter()
        .filter_map(|name| find(runs, name))
        .map(|r| Ok((generic::load_stats(&r.dir)?, r.replications)))
        .collect::<Result<Vec<_>, ReportError>>()?;
    Ok((!stats.is_empty()).then(|| scaling_figure(&stats)))
}

/// The population size of a row of a run sweeping `population.users`.
fn users_axis(run: &RunStats) -> Option<usize> {
    run.axes
        .iter()
        .position(|(key, _)| key == "population.users")
}

/// (metric index in `RunStats::stats`, panel title, y label, divide by n) of F11's panels.
const SCALING_PANELS: [(&str, &str, &str, bool); 3] = [
    (
        "success_rate",
        "success probability",
        "share of campaigns that succeed",
        false,
    ),
    (
        "welfare_mean",
        "welfare per user",
        "mean welfare per campaign / n",
        true,
    ),
    (
        "withdrawals_mean",
        "withdrawals per user",
        "mean withdrawals per campaign / n",
        true,
    ),
];

/// F11 from the statistics of the scaling runs (merged over n), each with its replications per
/// cell: success, welfare per user and withdrawals per user of each mechanism over log n with
/// 95% bands; and, from the `contrasts` table, whether M's advantage over S grows or vanishes
/// with n.
pub fn scaling_figure(runs: &[(RunStats, u32)]) -> Scaling {
    let stats: Vec<&RunStats> = runs.iter().map(|(r, _)| r).collect();
    let stats = stats.as_slice();
    let mut mechanisms: Vec<String> = Vec::new();
    for m in stats.iter().flat_map(|r| &r.mechanisms) {
        if !mechanisms.contains(m) {
            mechanisms.push(m.clone());
        }
    }
    let panels = SCALING_PANELS
        .iter()
        .map(|&(column, title, y_desc, per_user)| {
            let series = mechanisms
                .iter()
                .map(|m| {
                    let mut points: Vec<(f64, Option<f64>, Option<f64>)> = stats
                        .iter()
                        .filter_map(|&run| {
                            let (u, k) = (
                                users_axis(run)?,
                                run.stats.iter().position(|s| s.column == column)?,
                            );
                            Some((run, u, k))
                        })
                        .flat_map(|(run, u, k)| {
                            run.rows.iter().filter(|r| &r.mechanism == m).map(move |r| {
                                let n = r.coords[u];
                                let scale = if per_user { n } else { 1.0 };
                                let (mean, se) = r.values[k];
                                (n, mean.map(|v| v / scale), se.map(|v| v / scale))
                            })
                        })
                        .collect();
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    Series {
                        name: mech_name(m).to_string(),
                        points,
                    }
                })
                .collect();
            LineChart {
                title: title.to_string(),
                x_desc: "users n (log scale)".into(),
                y_desc: y_desc.to_string(),
                series,
                zero_line: per_user && column == "welfare_mean",
                x_labels: None,
                colors: crate::charts::Palette::Mechanisms,
            }
        })
        .collect();
    let findings = ["success", "welfare"]
        .iter()
        .map(|metric| advantage_line(stats, metric))
        .collect();
    let runs_note = stats
        .iter()
        .map(|r| {
            let ns: Vec<f64> = users_axis(r)
                .map(|u| r.rows.iter().map(|x| x.coords[u]).collect())
                .unwrap_or_default();
            let (lo, hi) = ns
                .iter()
                .fold((f64::INFINITY, 0.0f64), |(a, b), &n| (a.min(n), b.max(n)));
            format!("`{}` (n = {lo}–{hi})", r.name)
        })
        .collect::<Vec<_>>()
        .join(" and ");
    let caption = format!(
        "Mechanisms as lines over the number of users n (log scale), at fixed θ, V and p; bands: 95% intervals \
         (mean ± 1.96·SE over replications). Welfare and withdrawals are divided by n so that populations of \
         every size share one scale. Runs {runs_note}; replications per cell: {}.",
        runs.iter()
            .map(|(r, reps)| format!("{reps} in `{}`", r.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Scaling {
        figure: LineFigure {
            id: "F11".into(),
            title: "F11 · Scaling: success, welfare and withdrawals of C, S and M as n grows"
                .into(),
            panels,
            log_x: true,
        },
        caption,
        findings,
    }
}

/// "M − S {metric}: d ± SE at the smallest n, … at the largest: {trend}", from the contrasts of
/// every scaling run (welfare per user).
fn advantage_line(stats: &[&RunStats], metric: &str) -> (String, Option<Trend>) {
    let mut points: Vec<(f64, f64, f64)> = Vec::new();
    for run in stats {
        let (Some(u), Some(c)) = (users_axis(run), &run.contrasts) else {
            continue;
        };
        let Some(k) = c.metrics.iter().position(|m| m == metric) else {
            continue;
        };
        for r in c.rows.iter().filter(|r| r.a == M && r.b == S) {
            let n = r.coords[u];
            let scale = if metric == "welfare" { n } else { 1.0 };
            points.push((n, r.values[k].0 / scale, r.values[k].1 / scale));
        }
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let label = if metric == "welfare" {
        "M − S welfare per user".to_string()
    } else {
        format!("M − S {metric}")
    };
    let trend = claims::advantage_trend(&points);
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return (
            format!("{label}: no M − S contrast in the scaling runs"),
            None,
        );
    };
    let peak = points
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or(last);
    // −0 prints as "-0.0000"; a difference of exactly 0 is +0.
    let z = |x: f64| x + 0.0;
    let text = format!(
        "{label}: {:+.4} (SE {:.4}) at n = {}, {:+.4} (SE {:.4}) at n = {}; largest {:+.4} at n = {}: \
         M's advantage over S {}",
        z(first.1),
        first.2,
        first.0,
        z(last.1),
        last.2,
        last.0,
        z(peak.1),
        peak.0,
        trend.map_or("cannot be decided", Trend::as_str)
    );
    (text, trend)
}

/// The first 12 hex digits of a hash (a hash that is not hex text is shown whole).
pub(crate) fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
