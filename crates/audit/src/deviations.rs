//! Parts 1 and 2 of the audit on one scenario's cells: each cell's unilateral deviation gains
//! (every audited mechanism, common random numbers) and its symmetric best-response dynamics.
//! Every campaign is played by the app's engine with the users' strategies overridden
//! (`datapact_sim::profiles`): the mechanism's own systems, plugins' included, decide.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;

use datapact_model::deviation::{Choice, Menu, WithdrawChoice, succeeded, user_at_quantile};
use datapact_model::stats::Welford;
use datapact_model::{Catalog, Game, Outcome, Stage};
use datapact_scenario::Variant;
use datapact_sim::PluginSet;
use datapact_sim::profiles::{
    Profile, ProfileCell, Strategies as ProfileStrategies, play_profiles,
};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::table::Value;

/// A gain counts as paying above this (the model's Pareto tolerance).
pub const PAYS: f64 = 1e-12;

/// A mechanism the audit measures: one with reports or withdrawal (C has neither).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audited {
    /// The catalog id of the registered mechanism the engine plays (a named variant's base).
    pub id: u16,
    /// Its name (a named variant's own).
    pub name: &'static str,
    /// For a named variant, its catalog index (its game is the cell's with its settings).
    pub variant: Option<usize>,
}

/// The mechanisms of `names` (a scenario's, in its order) whose users report or may withdraw;
/// a named variant is audited as its base plays it, with its own settings.
pub fn audited(catalog: &Catalog, names: &[&'static str]) -> Vec<Audited> {
    names
        .iter()
        .filter_map(|name| {
            let index = catalog.mechanism(name)?;
            let decl = &catalog.mechanisms[index];
            // A variant's declaration carries its base's stages.
            let (id, stages) = (catalog.plays_as(index), decl.stages);
            (stages.has(Stage::Report) || stages.has(Stage::Withdraw)).then_some(Audited {
                id: id as u16,
                name,
                variant: decl.variant_of.map(|_| index),
            })
        })
        .collect()
}

/// One unilateral deviation's gain in one cell × mechanism × quantile.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviationRow {
    /// Cell index.
    pub cell: u32,
    /// V.
    pub value: f64,
    /// p.
    pub payment: f64,
    /// The audited mechanism.
    pub mechanism: &'static str,
    /// The deviation.
    pub choice: Choice,
    /// Its report factor.
    pub factor: f64,
    /// The deviator's quantile of true cost.
    pub quantile: f64,
    /// Campaigns averaged.
    pub replications: u32,
    /// Mean gain.
    pub gain_mean: f64,
    /// Its standard error.
    pub gain_se: f64,
    /// Share of campaigns where it pays.
    pub pays_share: f64,
    /// The gain over the even and over the odd replications (the held-out ε's selection and
    /// estimation halves; not in the table).
    pub halves: [Welford; 2],
    /// The best response of its cell × mechanism × quantile.
    pub best: bool,
}

/// Whether a mean gain is a significant improvement: positive and above two standard errors.
pub fn significant(mean: f64, se: f64) -> bool {
    mean > PAYS && mean > 2.0 * se
}

/// How the dynamics ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DynamicsEnd {
    /// No deviation from the profile gains significantly.
    Fixed,
    /// A profile recurred.
    Cycle,
    /// The round limit was reached.
    Limit,
}

impl DynamicsEnd {
    /// Every end, in the order of the resume records' indices.
    pub const ALL: [DynamicsEnd; 3] = [DynamicsEnd::Fixed, DynamicsEnd::Cycle, DynamicsEnd::Limit];

    /// The name in tables.
    pub fn name(self) -> &'static str {
        match self {
            DynamicsEnd::Fixed => "fixed",
            DynamicsEnd::Cycle => "cycle",
            DynamicsEnd::Limit => "limit",
        }
    }
}

/// The outcome of the best-response dynamics of one cell × mechanism.
#[derive(Clone, Debug, PartialEq)]
pub struct EquilibriumRow {
    /// Cell index.
    pub cell: u32,
    /// V.
    pub value: f64,
    /// p.
    pub payment: f64,
    /// The audited mechanism.
    pub mechanism: &'static str,
    /// How it ended.
    pub end: DynamicsEnd,
    /// Switches made.
    pub rounds: u32,
    /// The final profile.
    pub profile: Choice,
    /// Its report factor.
    pub factor: f64,
    /// Largest mean gain of a deviation from it, and its SE.
    pub residual: (f64, f64),
    /// Success rate and mean welfare under the final profile.
    pub outcome: (f64, f64),
    /// Success rate and mean welfare when everyone is truthful and sincere.
    pub truthful: (f64, f64),
}

/// What one cell's audit needs besides its game.
pub struct CellAudit<'a> {
    /// The app's plugins (the engine that plays every campaign).
    pub plugins: &'a Arc<PluginSet>,
    /// The mechanisms audited.
    pub mechanisms: &'a [Audited],
    /// The scenario's named variants (their games).
    pub variants: &'a [Variant],
    /// The scenario seed.
    pub seed: u64,
    /// The strategy menu.
    pub menu: &'a Menu,
    /// The deviators' cost quantiles.
    pub quantiles: &'a [f64],
    /// Replications of the deviation analysis.
    pub replications: u32,
    /// Set by SIGINT/SIGTERM (or Ctrl-C in Python): every campaign loop looks at it between
    /// slices of a fraction of a second (`play_cancellable`), so a signal stops a cell,
    /// whose rows the caller then discards.
    pub cancel: Option<&'a AtomicBool>,
    /// Replications per round of the dynamics.
    pub dynamics_replications: u32,
    /// Round limit of the dynamics.
    pub max_rounds: u32,
}

impl CellAudit<'_> {
    /// The game `mechanism` plays in a cell whose game is `cell` (a named variant's settings
    /// applied; the draws are the cell's).
    pub(crate) fn game_of<'g>(&self, mechanism: Audited, cell: &'g Game) -> Cow<'g, Game> {
        match mechanism
            .variant
            .and_then(|index| self.variants.iter().find(|v| v.index == index))
        {
            Some(v) => Cow::Owned(v.game(cell)),
            None => Cow::Borrowed(cell),
        }
    }
}

/// One campaign's strategies: everyone plays the first choice, except the deviator (her index
/// and choice), if any.
type Strategies = (Choice, Option<(usize, Choice)>);

/// The engine's profile of [`Strategies`].
fn profile((base, deviator): Strategies) -> Profile {
    let of = |c: Choice| (c.report, c.withdraw as u16);
    Profile {
        base: of(base),
        deviator: deviator.map(|(who, c)| (who, of(c))),
    }
}

/// Where `mechanism`'s campaigns of cell `cell` are played: its draws are keyed by the cell's
/// index (the audit's own streams, independent of the scenario's draw keys).
pub(crate) fn cell_of<'a>(
    mechanism: Audited,
    game: &'a Game,
    cell: usize,
    a: &'a CellAudit,
) -> ProfileCell<'a> {
    ProfileCell {
        plugins: a.plugins,
        game,
        rules: a.menu.rules(),
        mechanism: mechanism.id,
        seed: a.seed,
        key: cell as u64,
    }
}

/// Plays, for each replication in `reps`, the campaigns `profiles(rep, costs)` of `mechanism` in
/// cell `cell` by the app's engine and hands each one's outcome and payoffs to `each(rep,
/// profile, outcome, payoffs)`, as [`play_profiles`] does (the cell's key and the replication
/// key the draws: common random numbers across profiles and mechanisms).
fn play(
    mechanism: Audited,
    game: &Game,
    cell: usize,
    a: &CellAudit,
    reps: Range<u32>,
    profiles: impl Fn(u32, &[f64]) -> Vec<Strategies>,
    each: impl FnMut(u32, usize, &Outcome, &[f64]),
) {
    play_cancellable(
        &cell_of(mechanism, game, cell, a),
        reps,
        a.cancel,
        SLICE_USER_CAMPAIGNS,
        |rep, cost| profiles(rep, cost).into_iter().map(profile).collect(),
        each,
    );
}

/// User-campaigns played between two looks at the cancel flag: about a third of a second at
/// the engine's 0.35 µs per user-campaign (release build).
pub(crate) const SLICE_USER_CAMPAIGNS: u64 = 1 << 20;

/// [`play_profiles`] over `reps` in slices of about `slice` user-campaigns, looking at `cancel`
/// before each: a signal stops a cell within a fraction of a second. Returns whether every
/// replication was played (if not, the caller's statistics are partial: the phases discard
/// a cell played while the flag was set). The first slice is one replication (to learn the
/// profiles per replication); every replication's draws and the order of `each`'s calls are
/// those of one call over `reps`, so the results are the same bit for bit.
pub(crate) fn play_cancellable<P: ProfileStrategies>(
    cell: &ProfileCell,
    reps: Range<u32>,
    cancel: Option<&AtomicBool>,
    slice: u64,
    profiles: impl Fn(u32, &[f64]) -> Vec<P>,
    mut each: impl FnMut(u32, usize, &Outcome, &[f64]),
) -> bool {
    let Some(cancel) = cancel else {
        play_profiles(cell, reps, profiles, each);
        return true;
    };
    let users = cell.game.users.max(1) as u64;
    let (mut start, mut step) = (reps.start, 1u32);
    while start < reps.end {
        if cancel.load(Ordering::Relaxed) {
            return false;
        }
        let end = start.saturating_add(step).min(reps.end);
        let mut campaigns = 0u64;
        play_profiles(cell, start..end, &profiles, |rep, k, o, payoffs| {
            campaigns += 1;
            each(rep, k, o, payoffs)
        });
        let per_rep = (campaigns / u64::from(end - start)).max(1) * users;
        step = u32::try_from((slice / per_rep).max(1)).unwrap_or(u32::MAX);
        start = end;
    }
    true
}

/// One deviation's gains: all replications, how many pay, and the even and odd replications.
type GainStats = (Welford, u32, [Welford; 2]);

/// Gains of every deviation in `devs` from the symmetric profile `base`: per deviator quantile
/// `(welford, pays)` at `[q * devs.len() + j]`, and per deviation the mean over the quantiles
/// (a representative deviator) at `[j]` of the second vector.
fn gain_stats(
    mechanism: Audited,
    game: &Game,
    cell: usize,
    a: &CellAudit,
    reps: u32,
    base: Choice,
    devs: &[Choice],
) -> (Vec<GainStats>, Vec<Welford>) {
    let (q, d) = (a.quantiles.len(), devs.len());
    let mut stats = vec![(Welford::default(), 0u32, [Welford::default(); 2]); q * d];
    let mut pooled = vec![Welford::default(); d];
    let mut sum = vec![0.0; d];
    // The deviators of each replication, found from its costs when its profiles are made.
    let who: RefCell<Vec<Vec<usize>>> = RefCell::new(vec![Vec::new(); reps as usize]);
    let mut base_payoff = Vec::new();
    play(
        mechanism,
        game,
        cell,
        a,
        0..reps,
        |rep, cost| {
            let deviators: Vec<usize> = a
                .quantiles
                .iter()
                .map(|&quantile| user_at_quantile(cost, quantile))
                .collect();
            let mut profiles = vec![(base, None)];
            for &i in &deviators {
                profiles.extend(devs.iter().map(|&dev| (base, Some((i, dev)))));
            }
            who.borrow_mut()[rep as usize] = deviators;
            profiles
        },
        |rep, k, _, payoffs| {
            let who = &who.borrow()[rep as usize];
            if k == 0 {
                base_payoff.clear();
                base_payoff.extend(who.iter().map(|&i| payoffs[i]));
                sum.fill(0.0);
                return;
            }
            let (qi, j) = ((k - 1) / d, (k - 1) % d);
            let gain = if devs[j] == base {
                0.0
            } else {
                payoffs[who[qi]] - base_payoff[qi]
            };
            let s = &mut stats[qi * d + j];
            s.0.push(gain);
            s.1 += u32::from(gain > PAYS);
            s.2[(rep % 2) as usize].push(gain);
            sum[j] += gain;
            if k == q * d {
                for (w, g) in pooled.iter_mut().zip(&sum) {
                    w.push(g / q as f64);
                }
            }
        },
    );
    (stats, pooled)
}

/// The unilateral deviation rows of one cell (every audited mechanism).
pub fn deviation_rows(index: usize, cell: &Game, a: &CellAudit) -> Vec<DeviationRow> {
    let devs = a.menu.unilateral();
    let mut rows = Vec::new();
    for &mechanism in a.mechanisms {
        let game = &*a.game_of(mechanism, cell);
        let (stats, _) = gain_stats(
            mechanism,
            game,
            index,
            a,
            a.replications,
            Choice::TRUTHFUL,
            &devs,
        );
        for (qi, &q) in a.quantiles.iter().enumerate() {
            let first = rows.len();
            for (j, &choice) in devs.iter().enumerate() {
                let (w, pays, halves) = &stats[qi * devs.len() + j];
                rows.push(DeviationRow {
                    cell: index as u32,
                    value: game.value,
                    payment: game.payment,
                    mechanism: mechanism.name,
                    choice,
                    factor: a.menu.factors()[choice.report as usize],
                    quantile: q,
                    replications: a.replications,
                    gain_mean: w.mean(),
                    gain_se: w.se(),
                    pays_share: *pays as f64 / a.replications as f64,
                    halves: *halves,
                    best: false,
                });
            }
            let best = rows[first..]
                .iter()
                .enumerate()
                .filter(|(_, r)| significant(r.gain_mean, r.gain_se))
                .max_by(|a, b| a.1.gain_mean.total_cmp(&b.1.gain_mean).then(b.0.cmp(&a.0)))
                .map(|(k, _)| first + k);
            if let Some(b) = best {
                rows[b].best = true;
            }
        }
    }
    rows
}

/// Success rate and mean welfare when everyone plays `symmetric`.
fn symmetric_outcome(
    mechanism: Audited,
    game: &Game,
    cell: usize,
    a: &CellAudit,
    symmetric: Choice,
) -> (f64, f64) {
    let (mut success, mut welfare) = (Welford::default(), Welford::default());
    play(
        mechanism,
        game,
        cell,
        a,
        0..a.dynamics_replications,
        |_, _| vec![(symmetric, None)],
        |_, _, o, _| {
            success.push(f64::from(u8::from(succeeded(o))));
            welfare.push(o.welfare);
        },
    );
    (success.mean(), welfare.mean())
}

/// Symmetric best-response dynamics of one cell (every audited mechanism): from truthful-sincere, the whole
/// population switches to the deviation with the largest mean gain (averaged over the
/// deviator quantiles) while one gains significantly; stops at a fixed point, a recurring
/// profile or the round limit.
pub fn equilibrium_rows(index: usize, cell: &Game, a: &CellAudit) -> Vec<EquilibriumRow> {
    let all: Vec<Choice> = a.menu.choices().collect();
    a.mechanisms
        .iter()
        .map(|&mechanism| {
            let game = &*a.game_of(mechanism, cell);
            let mut profile = Choice::TRUTHFUL;
            let mut seen = vec![profile];
            let mut rounds = 0;
            let (end, residual) = loop {
                let (_, pooled) = gain_stats(
                    mechanism,
                    game,
                    index,
                    a,
                    a.dynamics_replications,
                    profile,
                    &all,
                );
                let (best, mean, se) = pooled
                    .iter()
                    .enumerate()
                    .map(|(j, w)| (j, w.mean(), w.se()))
                    .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
                    .expect("the menu is not empty");
                if !significant(mean, se) || all[best] == profile {
                    break (DynamicsEnd::Fixed, (mean, se));
                }
                if rounds == a.max_rounds {
                    break (DynamicsEnd::Limit, (mean, se));
                }
                profile = all[best];
                rounds += 1;
                if seen.contains(&profile) {
                    break (DynamicsEnd::Cycle, (mean, se));
                }
                seen.push(profile);
            };
            EquilibriumRow {
                cell: index as u32,
                value: game.value,
                payment: game.payment,
                mechanism: mechanism.name,
                end,
                rounds,
                profile,
                factor: a.menu.factors()[profile.report as usize],
                residual,
                outcome: symmetric_outcome(mechanism, game, index, a, profile),
                truthful: symmetric_outcome(mechanism, game, index, a, Choice::TRUTHFUL),
            }
        })
        .collect()
}

/// The name of a deviation in tables and reports.
pub fn choice_name(menu: &Menu, c: Choice) -> String {
    let f = menu.factors()[c.report as usize];
    match (c.report, c.withdraw) {
        (0, WithdrawChoice::Sincere) => "truthful-sincere".into(),
        (0, w) => w.name().into(),
        (_, WithdrawChoice::Sincere) => format!("report ×{f}"),
        (_, w) => format!("report ×{f}, {}", w.name()),
    }
}

impl DeviationRow {
    /// The row's values in the order of [`crate::table::DEVIATIONS`].
    pub fn values(&self, menu: &Menu) -> Vec<Value> {
        vec![
            Value::U32(self.cell),
            Value::F64(self.value),
            Value::F64(self.payment),
            Value::Str(self.mechanism.into()),
            Value::Str(choice_name(menu, self.choice)),
            Value::F64(self.factor),
            Value::Str(self.choice.withdraw.name().into()),
            Value::F64(self.quantile),
            Value::U32(self.replications),
            Value::F64(self.gain_mean),
            Value::F64(self.gain_se),
            Value::F64(self.pays_share),
            Value::Bool(self.best),
        ]
    }
}

impl EquilibriumRow {
    /// The row's values in the order of [`crate::table::EQUILIBRIA`].
    pub fn values(&self) -> Vec<Value> {
        vec![
            Value::U32(self.cell),
            Value::F64(self.value),
            Value::F64(self.payment),
            Value::Str(self.mechanism.into()),
            Value::Str(self.end.name().into()),
            Value::U32(self.rounds),
            Value::F64(self.factor),
            Value::Str(self.profile.withdraw.name().into()),
            Value::F64(self.residual.0),
            Value::F64(self.residual.1),
            Value::F64(self.outcome.0),
            Value::F64(self.outcome.1),
            Value::F64(self.truthful.0),
            Value::F64(self.truthful.1),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every campaign of `reps` of a deviation profile in cell `cell`: (rep, profile, welfare
    /// and payoffs as bits), played by [`play_cancellable`] in slices of `slice`.
    fn played(
        cell: &ProfileCell,
        cancel: Option<&AtomicBool>,
        slice: u64,
    ) -> Vec<(u32, usize, Vec<u64>)> {
        let deviation = Choice {
            report: 1,
            withdraw: WithdrawChoice::FreeRider,
        };
        let mut seen = Vec::new();
        let done = play_cancellable(
            cell,
            3..41,
            cancel,
            slice,
            |rep, _| {
                [
                    (Choice::TRUTHFUL, None),
                    (Choice::TRUTHFUL, Some((rep as usize % 5, deviation))),
                ]
                .map(profile)
                .into()
            },
            |rep, k, o, payoffs| {
                let bits = std::iter::once(o.welfare).chain(payoffs.iter().copied());
                seen.push((rep, k, bits.map(f64::to_bits).collect()));
            },
        );
        assert!(done);
        seen
    }

    #[test]
    fn a_sliced_cancellable_play_is_the_whole_play_bit_for_bit_and_stops_on_the_flag() {
        let plugins = Arc::new(PluginSet::core());
        let catalog = Catalog::core();
        let menu = Menu::new(&[0.5, 2.0]);
        let game = Game {
            users: 7,
            ..Game::default()
        };
        for mechanism in audited(&catalog, &["S", "M"]) {
            let cell = ProfileCell {
                plugins: &plugins,
                game: &game,
                rules: menu.rules(),
                mechanism: mechanism.id,
                seed: 3,
                key: 1,
            };
            let whole = played(&cell, None, 0);
            assert_eq!(whole.len(), 2 * 38);
            let flag = AtomicBool::new(false);
            // Slices of one replication, of a few, and one slice after the first replication.
            for slice in [1, 20, 100, SLICE_USER_CAMPAIGNS] {
                assert!(played(&cell, Some(&flag), slice) == whole, "{slice}");
            }
            flag.store(true, Ordering::Relaxed);
            let mut campaigns = 0;
            let done = play_cancellable(
                &cell,
                0..10,
                Some(&flag),
                1,
                |_, _| vec![profile((Choice::TRUTHFUL, None))],
                |_, _, _, _| campaigns += 1,
            );
            assert!(!done && campaigns == 0);
        }
    }
}
