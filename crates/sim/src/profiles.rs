//! Strategy profiles on the plugin path: campaigns of one mechanism in which each user plays a
//! given report and withdraw strategy, several profiles of a replication on the same draws
//! (common random numbers). The incentive audit measures a deviator's gain this way under any
//! mechanism of the app, plugins included: each profile is a campaign of the engine, played by
//! the mechanism's own systems with the users' strategies overridden
//! ([`Engine::set_strategies`]).

use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;

use datapact_model::dynamics::round_rng;
use datapact_model::{Draws, Game, NoEvents, Outcome, Rules};

use crate::engine::Engine;
use crate::plugin::PluginSet;
use crate::sweep::batch_capacity;

/// One campaign's strategies: every user plays `base` (report and withdraw strategy indices
/// into the rules), except `deviator`, who plays her own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Everyone's (report, withdraw) strategy indices.
    pub base: (u16, u16),
    /// One user's index and her (report, withdraw) strategy indices.
    pub deviator: Option<(usize, (u16, u16))>,
}

/// Who plays what in one campaign: each user's (report, withdraw) strategy indices into the
/// rules. [`Profile`] is a symmetric profile with at most one deviator; the audit's
/// cost-dependent profiles give each cost bin its own strategies.
pub trait Strategies {
    /// The (report, withdraw) strategy indices of `user`.
    fn of(&self, user: usize) -> (u16, u16);
}

impl Strategies for Profile {
    fn of(&self, user: usize) -> (u16, u16) {
        match self.deviator {
            Some((who, s)) if who == user => s,
            _ => self.base,
        }
    }
}

/// Where profiles are played: the app's plugins and one cell.
pub struct ProfileCell<'a> {
    /// The app's plugins.
    pub plugins: &'a Arc<PluginSet>,
    /// The cell's game (its strategy shares are ignored: the profiles say who plays what).
    pub game: &'a Game,
    /// The strategies the profiles index (report and withdraw rules).
    pub rules: &'a Rules,
    /// The mechanism (catalog id) every profile plays.
    pub mechanism: u16,
    /// The scenario seed.
    pub seed: u64,
    /// The key of the draws (with the seed and the replication, it keys every stream).
    pub key: u64,
}

thread_local! {
    // Apart from the sweep's engines: profiles override the users' strategies.
    static ENGINE: RefCell<Vec<Engine<NoEvents>>> = const { RefCell::new(Vec::new()) };
}

/// Plays, for each replication in `reps`, the profiles `profiles(rep, costs)` (the same number
/// for every replication; `costs` are the replication's true costs) as campaigns of
/// `cell.mechanism` on the replication's draws, and hands each campaign's outcome and its users'
/// payoffs to `each(rep, profile, outcome, payoffs)`, in replication and profile order.
pub fn play_profiles<P: Strategies>(
    cell: &ProfileCell,
    reps: Range<u32>,
    profiles: impl Fn(u32, &[f64]) -> Vec<P>,
    mut each: impl FnMut(u32, usize, &Outcome, &[f64]),
) {
    let n = cell.game.users;
    let sampler = cell
        .game
        .cost
        .sampler()
        .expect("validated cost distribution");
    let mut draws = Draws::default();
    let mut batch: Vec<Vec<P>> = Vec::new();
    ENGINE.with(|slot| {
        let mut slots = slot.borrow_mut();
        let engine = &mut crate::sweep::engines_for(&mut slots, cell.plugins, 1)[0];
        // Profiles per replication, and replications per world (known from the first).
        let (mut k, mut capacity) = (0, 1);
        let mut first = reps.start;
        while first < reps.end {
            // The profiles of the batch's replications, from each one's costs.
            batch.clear();
            while first + (batch.len() as u32) < reps.end && batch.len() < capacity {
                let rep = first + batch.len() as u32;
                draws.fill(
                    n,
                    &sampler,
                    &mut round_rng(cell.seed, cell.key, rep as u64, 0),
                );
                let these = profiles(rep, &draws.cost);
                if k == 0 {
                    k = these.len().max(1);
                    capacity = batch_capacity(n, k, reps.end - reps.start);
                }
                assert_eq!(
                    these.len(),
                    k,
                    "the same number of profiles per replication"
                );
                batch.push(these);
            }
            let count = batch.len();
            let mechanisms = vec![cell.mechanism; k];
            engine.start_batch(
                cell.game,
                cell.rules,
                &sampler,
                &mechanisms,
                cell.seed,
                cell.key,
                first as u64,
                count,
                capacity,
            );
            engine.set_strategies(|campaign, user| {
                batch
                    .get(campaign / k)
                    .map_or((0, 0), |p| p[campaign % k].of(user))
            });
            let view = engine.run_round(0);
            for (r, these) in batch.iter().enumerate() {
                for j in 0..these.len() {
                    let c = r * k + j;
                    each(first + r as u32, j, &view.outcome(c), view.payoffs(c));
                }
            }
            first += count as u32;
        }
    });
}
