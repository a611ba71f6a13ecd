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

/// The fields of a [`BinsRow`] before its profile (see [`CellRecords::encode_bins`]).
const BINS_FIELDS: usize = 31;

/// The cost-bin equilibria's records in `_cells/` (`bins-NNNNNN.json`, [`crate::resume`]), beside
/// the rows they hold.
impl CellRecords<'_> {
    /// With `--resume`, the cost-bin equilibria of `cell` (settings `s`) from its record, if it
    /// is this audit's and decodes to one row per mechanism of `s.bins` bins.
    pub fn kept_bins(&self, cell: usize, s: BinsSettings) -> Option<Vec<BinsRow>> {
        let rows = self.kept_rows("bins", cell)?;
        (rows.len() == self.mechanisms.len()).then_some(())?;
        rows.iter()
            .zip(self.mechanisms)
            .map(|(v, m)| {
                self.decode_bins(v, cell as u32, s)
                    .filter(|r| r.mechanism == m.name)
            })
            .collect()
    }

    /// Records the cost-bin equilibria of a finished `cell`.
    pub fn write_bins(&self, cell: usize, rows: &[BinsRow]) -> Result<(), crate::AuditError> {
        let rows = rows.iter().map(|r| self.encode_bins(r)).collect();
        self.write_rows("bins", cell, rows)
    }

    /// A cost-bin row: cell, mechanism, V, p, replications, then the dynamics (end, sweeps,
    /// switches, residual (mean, SE, bin, strategy), the last switch (present, sweep, bin, from,
    /// to, gain mean and SE)), the outcomes (equilibrium then truthful: success, welfare, privacy
    /// cost, each mean and SE), then the profile's strategy indices, one per bin.
    fn encode_bins(&self, r: &BinsRow) -> Vec<u64> {
        let d = &r.dynamics;
        let end = BinsEnd::ALL.iter().position(|e| *e == d.end);
        let last = d.last.unwrap_or(Switch {
            sweep: 0,
            bin: 0,
            from: 0,
            to: 0,
            gain: (0.0, 0.0),
        });
        let mut v = vec![
            u64::from(r.cell),
            self.mechanism_index(r.mechanism),
            r.value.to_bits(),
            r.payment.to_bits(),
            u64::from(r.replications),
            end.unwrap_or(usize::MAX) as u64,
            u64::from(d.sweeps),
            u64::from(d.switches),
            d.residual.0.to_bits(),
            d.residual.1.to_bits(),
            d.residual.2 as u64,
            d.residual.3 as u64,
            u64::from(d.last.is_some()),
            u64::from(last.sweep),
            last.bin as u64,
            last.from as u64,
            last.to as u64,
            last.gain.0.to_bits(),
            last.gain.1.to_bits(),
        ];
        for (m, s) in r.outcomes.iter().flatten() {
            v.extend([m.to_bits(), s.to_bits()]);
        }
        debug_assert_eq!(v.len(), BINS_FIELDS);
        v.extend(d.profile.iter().map(|&j| j as u64));
        v
    }

    fn decode_bins(&self, v: &[u64], cell: u32, s: BinsSettings) -> Option<BinsRow> {
        let (head, profile) = v.split_first_chunk::<BINS_FIELDS>()?;
        let &[
            c,
            mechanism,
            value,
            payment,
            replications,
            end,
            sweeps,
            switches,
            r0,
            r1,
            r2,
            r3,
            has_last,
            l_sweep,
            l_bin,
            l_from,
            l_to,
            l_gain0,
            l_gain1,
            ref outcomes @ ..,
        ] = head;
        let f = f64::from_bits;
        let all: Vec<Choice> = self.menu.choices().collect();
        let index = |x: u64| usize::try_from(x).ok().filter(|&j| j < all.len());
        let bin = |x: u64| usize::try_from(x).ok().filter(|&b| b < s.bins);
        (c == u64::from(cell) && profile.len() == s.bins && has_last <= 1).then_some(())?;
        let profile: Vec<usize> = profile.iter().map(|&j| index(j)).collect::<Option<_>>()?;
        let last = if has_last == 1 {
            Some(Switch {
                sweep: u32::try_from(l_sweep).ok()?,
                bin: bin(l_bin)?,
                from: index(l_from)?,
                to: index(l_to)?,
                gain: (f(l_gain0), f(l_gain1)),
            })
        } else {
            None
        };
        let mut o = outcomes.chunks_exact(2).map(|p| (f(p[0]), f(p[1])));
        let mut three = || -> Option<[(f64, f64); 3]> { Some([o.next()?, o.next()?, o.next()?]) };
        let outcomes = [three()?, three()?];
        Some(BinsRow {
            cell,
            value: f(value),
            payment: f(payment),
            mechanism: self.mechanism(mechanism)?,
            replications: u32::try_from(replications).ok()?,
            dynamics: BinsDynamics {
                end: *BinsEnd::ALL.get(usize::try_from(end).ok()?)?,
                sweeps: u32::try_from(sweeps).ok()?,
                switches: u32::try_from(switches).ok()?,
                residual: (f(r0), f(r1), bin(r2)?, index(r3)?),
                last,
                profile: profile.clone(),
            },
            profile: profile.iter().map(|&j| all[j]).collect(),
            outcomes,
        })
    }
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
