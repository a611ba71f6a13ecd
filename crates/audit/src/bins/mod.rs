//! Cost-dependent equilibria: strategies as functions of the user's cost bin, iterated bin by
//! bin towards an approximate Bayesian–Nash equilibrium.
//!
//! **Bins.** A user's cost quantile is her rank r (ascending true cost, ties by user index, as
//! [`datapact_model::deviation::user_at_quantile`] ranks) among the campaign's n users, over n:
//! the empirical distribution of the population's costs. With B bins she is in bin ⌊r·B/n⌋
//! ([`cost_bins`]); bin b holds the ranks [⌈b·n/B⌉, ⌈(b+1)·n/B⌉) ([`bin_ranks`]). A profile
//! gives each bin one strategy of the audit's menu (a report factor and a withdraw rule): with
//! F factors and W rules there are (F·W)^B profiles.
//!
//! **Dynamics** ([`best_responses`], pure). Gauss–Seidel best responses: bins in order, each
//! switching to the strategy with the largest mean gain for a deviator of that bin (everyone
//! else playing the current profile) if that gain is > 0 and > 2 SE; a sweep that switches no
//! bin ends it (converged: no bin's unilateral deviation gains significantly, an ε-equilibrium
//! with ε the reported residual), a profile recurring at the end of a sweep is a cycle and the
//! sweep limit ends it too (both reported as not converged, with the last switch). With common
//! random numbers (the same replications, draws and deviators for every evaluation) a gain is a
//! deterministic function of the profile, so a recurring profile cycles for ever; the 2 SE
//! threshold damps switches driven by noise (a smoothed best response with a step only where the
//! gain is resolved).
//!
//! **Gains** ([`bin_gains`], on the app's engine). In replication `rep` the deviator of bin b is
//! the user of rank ⌈b·n/B⌉ + (rep mod |bin b|): over the replications every rank of the bin
//! deviates equally often, so the mean gain is the bin's average (the payoff of a bin-constant
//! strategy is the mean over its types). Every candidate of a replication is played on the same
//! draws with the same deviator.

use std::ops::Range;
use std::rc::Rc;

use datapact_model::deviation::{Choice, Menu, by_cost, succeeded};
use datapact_model::stats::Welford;
use datapact_model::{Game, Outcome};
use datapact_sim::profiles::Strategies;

use crate::deviations::{SLICE_USER_CAMPAIGNS, play_cancellable};

use crate::deviations::{Audited, CellAudit, choice_name, significant};
use crate::resume::CellRecords;
use crate::table::Value;

mod record;
mod report;

pub use report::{REPRODUCE_GRID, markdown, reproduce};

/// The ranks (0-based, ascending cost) of bin `b` of `bins` among `n` users:
/// [⌈b·n/B⌉, ⌈(b+1)·n/B⌉).
pub fn bin_ranks(n: usize, bins: usize, b: usize) -> Range<usize> {
    (b * n).div_ceil(bins)..((b + 1) * n).div_ceil(bins)
}

/// Each user's cost bin: ⌊rank·B/n⌋, rank in ascending true cost (ties by user index).
pub fn cost_bins(cost: &[f64], bins: usize) -> Vec<usize> {
    let n = cost.len();
    let mut out = vec![0; n];
    for (rank, i) in by_cost(cost).into_iter().enumerate() {
        out[i] = rank * bins / n;
    }
    out
}

/// The deviator of bin `b` in replication `rep`: the user of rank ⌈b·n/B⌉ + (rep mod |bin|);
/// `None` when the bin is empty (fewer users than bins).
pub fn bin_deviator(cost: &[f64], bins: usize, b: usize, rep: u32) -> Option<usize> {
    let ranks = bin_ranks(cost.len(), bins, b);
    let size = ranks.len();
    (size > 0).then(|| by_cost(cost)[ranks.start + rep as usize % size])
}

/// How the bin dynamics ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinsEnd {
    /// A sweep switched no bin: no unilateral bin deviation gains significantly.
    Converged,
    /// A profile recurred at the end of a sweep (not converged).
    Cycle,
    /// The sweep limit was reached (not converged).
    Limit,
}

impl BinsEnd {
    /// Every end, in a fixed order (the resume records store the position).
    pub const ALL: [BinsEnd; 3] = [BinsEnd::Converged, BinsEnd::Cycle, BinsEnd::Limit];

    /// The name in tables.
    pub fn name(self) -> &'static str {
        match self {
            BinsEnd::Converged => "converged",
            BinsEnd::Cycle => "cycle",
            BinsEnd::Limit => "limit",
        }
    }
}

/// One bin's switch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Switch {
    /// The sweep (from 1).
    pub sweep: u32,
    /// The bin.
    pub bin: usize,
    /// Its strategy before and after.
    pub from: usize,
    /// Its new strategy.
    pub to: usize,
    /// The mean gain that made it switch, and its SE.
    pub gain: (f64, f64),
}

/// The end of [`best_responses`].
#[derive(Clone, Debug, PartialEq)]
pub struct BinsDynamics {
    /// How it ended.
    pub end: BinsEnd,
    /// Sweeps made (each evaluates every bin once).
    pub sweeps: u32,
    /// Switches made.
    pub switches: u32,
    /// The final profile: a strategy index per bin.
    pub profile: Vec<usize>,
    /// The last switch, if any.
    pub last: Option<Switch>,
    /// The largest mean gain of a unilateral bin deviation from the final profile: (mean, SE,
    /// bin, strategy).
    pub residual: (f64, f64, usize, usize),
}

/// The strategy with the largest mean gain (the first of equal ones), its mean and SE.
fn best_of(gains: &[(f64, f64)]) -> (usize, f64, f64) {
    gains
        .iter()
        .enumerate()
        .map(|(j, &(m, s))| (j, m, s))
        .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
        .expect("the menu is not empty")
}

/// Gauss–Seidel best responses over bins from `start` (see the module): `gains(profile, b)` is,
/// per strategy, the (mean, SE) of a bin-`b` deviator's gain from playing it instead of
/// `profile[b]` while everyone else plays `profile` (0 for `profile[b]` itself).
pub fn best_responses(
    start: Vec<usize>,
    max_sweeps: u32,
    mut gains: impl FnMut(&[usize], usize) -> Vec<(f64, f64)>,
) -> BinsDynamics {
    let bins = start.len();
    let mut profile = start;
    let mut seen = vec![profile.clone()];
    let (mut sweeps, mut switches, mut last) = (0, 0, None);
    let end = loop {
        sweeps += 1;
        let mut changed = false;
        let mut residual: Option<(f64, f64, usize, usize)> = None;
        for b in 0..bins {
            let (best, mean, se) = best_of(&gains(&profile, b));
            if residual.is_none_or(|r| mean > r.0) {
                residual = Some((mean, se, b, best));
            }
            if significant(mean, se) && best != profile[b] {
                last = Some(Switch {
                    sweep: sweeps,
                    bin: b,
                    from: profile[b],
                    to: best,
                    gain: (mean, se),
                });
                profile[b] = best;
                changed = true;
                switches += 1;
            }
        }
        if !changed {
            return BinsDynamics {
                end: BinsEnd::Converged,
                sweeps,
                switches,
                profile,
                last,
                residual: residual.unwrap_or((0.0, 0.0, 0, 0)),
            };
        }
        if seen.contains(&profile) {
            break BinsEnd::Cycle;
        }
        if sweeps >= max_sweeps {
            break BinsEnd::Limit;
        }
        seen.push(profile.clone());
    };
    // the largest gain of a bin deviation from the final profile
    let residual = (0..bins)
        .map(|b| {
            let (j, m, s) = best_of(&gains(&profile, b));
            (m, s, b, j)
        })
        .max_by(|x, y| x.0.total_cmp(&y.0).then(y.2.cmp(&x.2)))
        .unwrap_or((0.0, 0.0, 0, 0));
    BinsDynamics {
        end,
        sweeps,
        switches,
        profile,
        last,
        residual,
    }
}

/// One campaign's strategies: each user her bin's, except one deviator.
struct ByBin {
    each: Rc<Vec<(u16, u16)>>,
    deviator: Option<(usize, (u16, u16))>,
}

impl Strategies for ByBin {
    fn of(&self, user: usize) -> (u16, u16) {
        match self.deviator {
            Some((who, s)) if who == user => s,
            _ => self.each[user],
        }
    }
}

fn indices(c: Choice) -> (u16, u16) {
    (c.report, c.withdraw as u16)
}

/// Every user's strategy indices under `profile` (a menu choice per bin).
fn per_user(cost: &[f64], profile: &[Choice]) -> Vec<(u16, u16)> {
    cost_bins(cost, profile.len())
        .into_iter()
        .map(|b| indices(profile[b]))
        .collect()
}

/// Per strategy of `all`, the gain of a bin-`b` deviator (see the module) from playing it
/// instead of `profile[b]`, everyone else playing `profile`, over `reps` replications.
#[allow(clippy::too_many_arguments)]
pub fn bin_gains(
    mechanism: Audited,
    game: &Game,
    cell: usize,
    a: &CellAudit,
    reps: u32,
    all: &[Choice],
    profile: &[Choice],
    b: usize,
) -> Vec<Welford> {
    let bins = profile.len();
    let mut out = vec![Welford::default(); all.len()];
    let who = std::cell::RefCell::new(vec![None; reps as usize]);
    let mut base = 0.0;
    play_cancellable(
        &crate::deviations::cell_of(mechanism, game, cell, a),
        0..reps,
        a.cancel,
        SLICE_USER_CAMPAIGNS,
        |rep, cost| {
            let each = Rc::new(per_user(cost, profile));
            let deviator = bin_deviator(cost, bins, b, rep);
            who.borrow_mut()[rep as usize] = deviator;
            let mut ps = vec![ByBin {
                each: each.clone(),
                deviator: None,
            }];
            ps.extend(all.iter().map(|&c| ByBin {
                each: each.clone(),
                deviator: deviator.map(|i| (i, indices(c))),
            }));
            ps
        },
        |rep, k, _, payoffs| {
            let Some(i) = who.borrow()[rep as usize] else {
                if k > 0 {
                    out[k - 1].push(0.0);
                }
                return;
            };
            if k == 0 {
                base = payoffs[i];
            } else if all[k - 1] == profile[b] {
                out[k - 1].push(0.0);
            } else {
                out[k - 1].push(payoffs[i] - base);
            }
        },
    );
    out
}

/// Success, welfare and privacy cost (each mean and SE) under `profile` and under truthful
/// play, on the same draws.
pub type Outcomes = [[(f64, f64); 3]; 2];

fn outcomes(
    mechanism: Audited,
    game: &Game,
    cell: usize,
    a: &CellAudit,
    reps: u32,
    profile: &[Choice],
) -> Outcomes {
    let mut w = [[Welford::default(); 3]; 2];
    let truthful = vec![Choice::TRUTHFUL; profile.len()];
    play_cancellable(
        &crate::deviations::cell_of(mechanism, game, cell, a),
        0..reps,
        a.cancel,
        SLICE_USER_CAMPAIGNS,
        |_, cost| {
            [profile, &truthful[..]]
                .map(|p| ByBin {
                    each: Rc::new(per_user(cost, p)),
                    deviator: None,
                })
                .into()
        },
        |_, k, o: &Outcome, _| {
            w[k][0].push(f64::from(u8::from(succeeded(o))));
            w[k][1].push(o.welfare);
            w[k][2].push(o.privacy_cost);
        },
    );
    w.map(|row| row.map(|x| (x.mean(), x.se())))
}

/// The cost-dependent equilibrium of one cell × mechanism.
#[derive(Clone, Debug, PartialEq)]
pub struct BinsRow {
    /// Cell index.
    pub cell: u32,
    /// V.
    pub value: f64,
    /// p.
    pub payment: f64,
    /// The audited mechanism.
    pub mechanism: &'static str,
    /// Replications per evaluation.
    pub replications: u32,
    /// The dynamics, strategy indices into the menu's [`Menu::choices`].
    pub dynamics: BinsDynamics,
    /// The final profile: a choice per bin.
    pub profile: Vec<Choice>,
    /// Outcomes under the final profile and under truthful play.
    pub outcomes: Outcomes,
}

/// Settings of the bin dynamics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BinsSettings {
    /// Bins B.
    pub bins: usize,
    /// Sweep limit.
    pub max_sweeps: u32,
    /// Replications per evaluation.
    pub replications: u32,
}

/// The cost-dependent equilibria of one cell: every audited mechanism, from truthful-sincere
/// in every bin.
pub fn bins_rows(index: usize, cell: &Game, a: &CellAudit, s: BinsSettings) -> Vec<BinsRow> {
    let all: Vec<Choice> = a.menu.choices().collect();
    let truthful = all
        .iter()
        .position(|&c| c == Choice::TRUTHFUL)
        .expect("the menu has truthful-sincere");
    a.mechanisms
        .iter()
        .map(|&mechanism| {
            let game = &*a.game_of(mechanism, cell);
            let dynamics = best_responses(vec![truthful; s.bins], s.max_sweeps, |p, b| {
                let profile: Vec<Choice> = p.iter().map(|&j| all[j]).collect();
                bin_gains(mechanism, game, index, a, s.replications, &all, &profile, b)
                    .iter()
                    .map(|w| (w.mean(), w.se()))
                    .collect()
            });
            let profile: Vec<Choice> = dynamics.profile.iter().map(|&j| all[j]).collect();
            BinsRow {
                cell: index as u32,
                value: game.value,
                payment: game.payment,
                mechanism: mechanism.name,
                replications: s.replications,
                outcomes: outcomes(mechanism, game, index, a, s.replications, &profile),
                dynamics,
                profile,
            }
        })
        .collect()
}

impl BinsRow {
    /// The rows of [`crate::table::EQUILIBRIA_BINS`]: one per bin.
    pub fn values(&self, menu: &Menu) -> Vec<Vec<Value>> {
        let d = &self.dynamics;
        let bins = self.profile.len();
        let all: Vec<Choice> = menu.choices().collect();
        let last = d.last.map_or(String::new(), |s| {
            format!(
                "sweep {}: bin {} {} → {} (gain {:.4} ± {:.4})",
                s.sweep,
                s.bin,
                choice_name(menu, all[s.from]),
                choice_name(menu, all[s.to]),
                s.gain.0,
                s.gain.1
            )
        });
        let [eq, tr] = self.outcomes;
        self.profile
            .iter()
            .enumerate()
            .map(|(b, c)| {
                let mut v = vec![
                    Value::U32(self.cell),
                    Value::F64(self.value),
                    Value::F64(self.payment),
                    Value::Str(self.mechanism.into()),
                    Value::U32(bins as u32),
                    Value::U32(b as u32),
                    Value::F64(b as f64 / bins as f64),
                    Value::F64((b + 1) as f64 / bins as f64),
                    Value::F64(menu.factors()[c.report as usize]),
                    Value::Str(c.withdraw.name().into()),
                    Value::Bool(d.end == BinsEnd::Converged),
                    Value::Str(d.end.name().into()),
                    Value::U32(d.sweeps),
                    Value::U32(d.switches),
                    Value::Str(last.clone()),
                    Value::F64(d.residual.0),
                    Value::F64(d.residual.1),
                    Value::U32(d.residual.2 as u32),
                    Value::U32(self.replications),
                ];
                for (m, s) in eq.iter().chain(&tr) {
                    v.push(Value::F64(*m));
                    v.push(Value::F64(*s));
                }
                v
            })
            .collect()
    }

    /// The profile in words: each bin's strategy.
    pub fn profile_name(&self, menu: &Menu) -> String {
        self.profile
            .iter()
            .map(|&c| choice_name(menu, c))
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// The settings of `[analysis.bins]`.
pub fn settings(spec: &crate::spec::BinsSpec) -> BinsSettings {
    BinsSettings {
        bins: spec.bins as usize,
        max_sweeps: spec.max_sweeps,
        replications: spec.replications,
    }
}

/// The rows of every cell of `scenario`, in cell order (the same whatever the threads);
/// [`crate::AuditError::Interrupted`] when `stopped` says so. With `records`, each finished
/// cell's rows are recorded, and a cell whose record is this audit's (`--resume`) is read back
/// instead of played ([`crate::resume`]). Run inside the caller's thread pool.
pub fn all_cells(
    scenario: &datapact_scenario::Scenario,
    a: &CellAudit,
    s: BinsSettings,
    stopped: &(dyn Fn() -> bool + Sync),
    records: Option<&CellRecords>,
) -> Result<Vec<BinsRow>, crate::AuditError> {
    use rayon::prelude::*;
    let per_cell: Vec<Vec<BinsRow>> = (0..scenario.cell_count())
        .into_par_iter()
        .map(|i| {
            if let Some(kept) = records.and_then(|r| r.kept_bins(i, s)) {
                return Ok(kept);
            }
            // A cell played while the flag was set is partial: discarded, never recorded.
            let rows = (!stopped())
                .then(|| bins_rows(i, &scenario.cell(i).game, a, s))
                .ok_or(crate::AuditError::Interrupted)?;
            if stopped() {
                return Err(crate::AuditError::Interrupted);
            }
            if let Some(r) = records {
                r.write_bins(i, &rows)?;
            }
            Ok(rows)
        })
        .collect::<Result<_, _>>()?;
    Ok(per_cell.into_iter().flatten().collect())
}

/// Writes [`crate::table::EQUILIBRIA_BINS`].
pub fn write(
    out: &std::path::Path,
    menu: &Menu,
    rows: &[BinsRow],
) -> Result<(), crate::AuditError> {
    let values: Vec<Vec<Value>> = rows.iter().flat_map(|r| r.values(menu)).collect();
    crate::table::EQUILIBRIA_BINS.write(out, &values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_partition_the_ranks() {
        for n in 1..40 {
            for bins in 1..6 {
                let mut covered = 0;
                for b in 0..bins {
                    let r = bin_ranks(n, bins, b);
                    assert_eq!(r.start, covered, "n {n} B {bins} b {b}");
                    for rank in r.clone() {
                        assert_eq!(rank * bins / n, b);
                    }
                    covered = r.end;
                }
                assert_eq!(covered, n);
            }
        }
        // n = 20, B = 3: ranks 0–6, 7–13, 14–19
        assert_eq!(bin_ranks(20, 3, 0), 0..7);
        assert_eq!(bin_ranks(20, 3, 1), 7..14);
        assert_eq!(bin_ranks(20, 3, 2), 14..20);
    }

    #[test]
    fn users_are_binned_by_cost_rank_and_deviators_cycle_through_the_bin() {
        let cost = [0.9, 0.1, 0.5, 0.1, 0.3, 0.7];
        // ranks: user 1 (0), 3 (1), 4 (2), 2 (3), 5 (4), 0 (5)
        assert_eq!(cost_bins(&cost, 3), [2, 0, 1, 0, 1, 2]);
        assert_eq!(cost_bins(&cost, 1), [0; 6]);
        let devs: Vec<_> = (0..4).map(|r| bin_deviator(&cost, 3, 1, r)).collect();
        assert_eq!(devs, [Some(4), Some(2), Some(4), Some(2)]);
        // n = 2, B = 3: ranks 0 | 1 | none
        assert_eq!(bin_deviator(&cost[..2], 3, 1, 0), Some(0));
        assert_eq!(bin_deviator(&cost[..2], 3, 2, 0), None);
    }

    /// A constructed game of two bins and two strategies in which bin 1 wants to match bin 0
    /// and bin 0 prefers strategy 1 whatever bin 1 plays: from (0, 0), sweep 1 switches bin 0,
    /// then bin 1 (Gauss–Seidel: bin 1 answers the new profile), sweep 2 switches nothing.
    #[test]
    fn best_responses_reach_the_known_equilibrium_of_a_constructed_game() {
        let payoff = |profile: &[usize], b: usize, s: usize| -> f64 {
            match b {
                0 => [0.0, 1.0][s],
                _ => f64::from(u8::from(s == profile[0])),
            }
        };
        let mut calls = 0;
        let d = best_responses(vec![0, 0], 10, |p, b| {
            calls += 1;
            (0..2)
                .map(|s| (payoff(p, b, s) - payoff(p, b, p[b]), 0.0))
                .collect()
        });
        assert_eq!(d.end, BinsEnd::Converged);
        assert_eq!(d.profile, [1, 1]);
        assert_eq!((d.sweeps, d.switches, calls), (2, 2, 4));
        let last = d.last.unwrap();
        assert_eq!((last.sweep, last.bin, last.from, last.to), (1, 1, 0, 1));
        assert_eq!(d.residual.0, 0.0);
    }

    /// Matching pennies between two bins (bin 0 matches, bin 1 mismatches): no pure equilibrium;
    /// the dynamics cycle and say so, with the residual gain at the final profile.
    #[test]
    fn a_game_without_pure_equilibrium_is_reported_as_a_cycle() {
        let gain = |p: &[usize], b: usize| -> Vec<(f64, f64)> {
            let u = |s: usize| match b {
                0 => f64::from(u8::from(s == p[1])),
                _ => f64::from(u8::from(s != p[0])),
            };
            (0..2).map(|s| (u(s) - u(p[b]), 0.01)).collect()
        };
        let d = best_responses(vec![0, 0], 10, gain);
        assert_eq!(d.end, BinsEnd::Cycle);
        assert!(d.sweeps <= 4, "{d:?}");
        assert_eq!(d.residual.0, 1.0);
        let d = best_responses(vec![0, 0], 1, gain);
        assert_eq!((d.end, d.sweeps), (BinsEnd::Limit, 1));
    }

    /// A gain within 2 SE does not switch a bin: noise alone does not move the profile.
    #[test]
    fn gains_within_two_standard_errors_do_not_switch() {
        let d = best_responses(vec![0, 0, 0], 5, |_, _| vec![(0.0, 0.0), (0.019, 0.01)]);
        assert_eq!((d.end, d.switches, d.sweeps), (BinsEnd::Converged, 0, 1));
        assert_eq!(d.residual, (0.019, 0.01, 0, 1));
        let d = best_responses(vec![0, 0, 0], 5, |p, b| {
            let g = if p[b] == 0 { 0.021 } else { 0.0 };
            vec![(-g, 0.01), (g, 0.01)]
        });
        assert_eq!((d.end, d.profile), (BinsEnd::Converged, vec![1, 1, 1]));
    }
}
