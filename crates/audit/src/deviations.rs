//! Parts 1 and 2 of the audit on one scenario's grid: each cell's unilateral deviation gains
//! (S and M, common random numbers) and its symmetric best-response dynamics.

use datapact_model::deviation::{
    Choice, DeviationScratch, Menu, WithdrawChoice, gains, play_symmetric, succeeded,
    user_at_quantile,
};
use datapact_model::stats::Welford;
use datapact_model::{Draws, Game, Kernel, campaign_rng};

use crate::table::Value;

/// A gain counts as paying above this (the model's Pareto tolerance).
const PAYS: f64 = 1e-12;

/// The mechanisms with reports and withdrawal, where deviations apply (C has neither).
pub const KERNELS: [Kernel; 2] = [Kernel::Simultaneous, Kernel::Sequential];

/// One unilateral deviation's gain in one cell × mechanism × quantile.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviationRow {
    /// Cell index.
    pub cell: u32,
    /// V.
    pub value: f64,
    /// p.
    pub payment: f64,
    /// `S` or `M`.
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
    /// `S` or `M`.
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
    /// The scenario seed.
    pub seed: u64,
    /// The strategy menu.
    pub menu: &'a Menu,
    /// The deviators' cost quantiles.
    pub quantiles: &'a [f64],
    /// Replications of the deviation analysis.
    pub replications: u32,
    /// Replications per round of the dynamics.
    pub dynamics_replications: u32,
    /// Round limit of the dynamics.
    pub max_rounds: u32,
}

fn draws_of(game: &Game, seed: u64, cell: usize, rep: u32, draws: &mut Draws) {
    let sampler = game.cost.sampler().expect("validated cost distribution");
    let mut rng = campaign_rng(seed, cell as u64, rep as u64);
    draws.fill(game.users, &sampler, &mut rng);
}

/// Gains of every deviation in `devs` from the symmetric profile `base`: per deviator quantile
/// `(welford, pays)` at `[q * devs.len() + j]`, and per deviation the mean over the quantiles
/// (a representative deviator) at `[j]` of the second vector.
fn gain_stats(
    kernel: Kernel,
    game: &Game,
    cell: usize,
    a: &CellAudit,
    reps: u32,
    base: Choice,
    devs: &[Choice],
) -> (Vec<(Welford, u32)>, Vec<Welford>) {
    let mut stats = vec![(Welford::default(), 0u32); a.quantiles.len() * devs.len()];
    let mut pooled = vec![Welford::default(); devs.len()];
    let mut sum = vec![0.0; devs.len()];
    let (mut draws, mut scratch, mut out) =
        (Draws::default(), DeviationScratch::default(), Vec::new());
    let mut who = Vec::with_capacity(a.quantiles.len());
    for rep in 0..reps {
        draws_of(game, a.seed, cell, rep, &mut draws);
        who.clear();
        who.extend(
            a.quantiles
                .iter()
                .map(|&q| user_at_quantile(&draws.cost, q)),
        );
        gains(
            kernel,
            game,
            a.menu,
            &draws,
            base,
            &who,
            devs,
            &mut scratch,
            &mut out,
        );
        sum.fill(0.0);
        for (k, (s, &g)) in stats.iter_mut().zip(&out).enumerate() {
            s.0.push(g);
            s.1 += u32::from(g > PAYS);
            sum[k % devs.len()] += g;
        }
        for (w, g) in pooled.iter_mut().zip(&sum) {
            w.push(g / a.quantiles.len() as f64);
        }
    }
    (stats, pooled)
}

/// The unilateral deviation rows of one cell (S and M).
pub fn deviation_rows(index: usize, game: &Game, a: &CellAudit) -> Vec<DeviationRow> {
    let devs = a.menu.unilateral();
    let mut rows = Vec::new();
    for kernel in KERNELS {
        let (stats, _) = gain_stats(
            kernel,
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
                let (w, pays) = &stats[qi * devs.len() + j];
                rows.push(DeviationRow {
                    cell: index as u32,
                    value: game.value,
                    payment: game.payment,
                    mechanism: kernel.name(),
                    choice,
                    factor: a.menu.factors()[choice.report as usize],
                    quantile: q,
                    replications: a.replications,
                    gain_mean: w.mean(),
                    gain_se: w.se(),
                    pays_share: *pays as f64 / a.replications as f64,
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

/// Success rate and mean welfare when everyone plays `profile`.
fn symmetric_outcome(
    kernel: Kernel,
    game: &Game,
    cell: usize,
    a: &CellAudit,
    profile: Choice,
) -> (f64, f64) {
    let (mut draws, mut scratch) = (Draws::default(), DeviationScratch::default());
    let (mut success, mut welfare) = (Welford::default(), Welford::default());
    for rep in 0..a.dynamics_replications {
        draws_of(game, a.seed, cell, rep, &mut draws);
        let o = play_symmetric(kernel, game, a.menu, &draws, profile, &mut scratch);
        success.push(f64::from(u8::from(succeeded(&o))));
        welfare.push(o.welfare);
    }
    (success.mean(), welfare.mean())
}

/// Symmetric best-response dynamics of one cell (S and M): from truthful-sincere, the whole
/// population switches to the deviation with the largest mean gain (averaged over the
/// deviator quantiles) while one gains significantly; stops at a fixed point, a recurring
/// profile or the round limit.
pub fn equilibrium_rows(index: usize, game: &Game, a: &CellAudit) -> Vec<EquilibriumRow> {
    let all: Vec<Choice> = a.menu.choices().collect();
    KERNELS
        .iter()
        .map(|&kernel| {
            let mut profile = Choice::TRUTHFUL;
            let mut seen = vec![profile];
            let mut rounds = 0;
            let (end, residual) = loop {
                let (_, pooled) = gain_stats(
                    kernel,
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
                mechanism: kernel.name(),
                end,
                rounds,
                profile,
                factor: a.menu.factors()[profile.report as usize],
                residual,
                outcome: symmetric_outcome(kernel, game, index, a, profile),
                truthful: symmetric_outcome(kernel, game, index, a, Choice::TRUTHFUL),
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
