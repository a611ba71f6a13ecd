//! Mechanism `vcg` as a core plugin (`docs/model.md`, section 13): the shared report stage (and
//! its observation noise), then its own phases, each the model's function of `datapact_model::vcg`
//! on one campaign's block of components: **allocate and price** in `Phase::Assign` (exact
//! water-filling with unit caps, go iff K ≤ n·V, Clarke payments), **decide at once** in
//! `Phase::Withdraw` (no recovery rounds) and **settle** in `Phase::Train` (a stayer of a
//! success is paid t_i). The contracts (allocation, payments) pass from phase to phase in the
//! [`Contracts`] resource, which [`Vcg::init`](crate::Mechanism::init) inserts only into worlds
//! that play `vcg`: in the others its systems return at once.
//!
//! Invariant: a campaign's outcome, payoffs, records and events equal the direct kernel's
//! (`datapact_model::vcg::run_vcg`) on the same draws, bit for bit (`tests/vcg.rs`): the
//! systems call the same functions in the same order. Its randomness is the replication's draws,
//! shared with C, S and M (common random numbers); it draws nothing of its own.

use bevy_ecs::prelude::*;
use bytemuck::TransparentWrapper;
use datapact_model::vcg::{
    Allocation, VCG, VcgScratch, allocate, decide_at_once, price, record_vcg, settle_vcg,
};
use datapact_model::{NoParams, ProtocolEnd, Stages};

use crate::batch::{Batch, CampaignTable, Columns, Sinks};
use crate::components::{
    Burden, Choice, Member, ObservedCost, Payoff, RealizedCost, Remembers, WithdrawsBy,
};
use crate::phase::Phase;
use crate::plugin::{Mechanism, PhaseSystems, Sink, This};
use crate::systems::campaign_blocks_of;

/// Mechanism `vcg`: the reported-welfare-maximising allocation with unit caps and Clarke
/// payments; one simultaneous withdraw decision on the posted contracts.
pub struct Vcg;

impl Mechanism for Vcg {
    const NAME: &'static str = VCG.name;
    const DESCRIPTION: &'static str = VCG.description;
    const STAGES: Stages = VCG.stages;
    const PAYS_ONLY_ON_SUCCESS: bool = VCG.pays_only_on_success;
    type Params = NoParams;
    fn systems<S: Sink>(systems: &mut PhaseSystems) {
        systems
            .add(Phase::Assign, allocate_and_price::<S>)
            .add(Phase::Withdraw, decide_on_contracts::<S>)
            .add(Phase::Train, settle_contracts::<S>);
    }
    fn init(world: &mut World) {
        world.init_resource::<Contracts>();
    }
}

/// The batch's `vcg` contracts, from allocation to settlement.
#[derive(Resource, Default)]
pub struct Contracts {
    /// Per campaign slot: its allocation (`None`: not a `vcg` campaign).
    allocation: Vec<Option<Allocation>>,
    /// Per user, indexed `campaign·n + slot`: her Clarke payment t_i (0 when cancelled).
    payment: Vec<f64>,
    /// One campaign's K₋ᵢ.
    without: Vec<f64>,
    /// One campaign's "past withdrawals were absorbed", from its users' memories.
    absorbed: Vec<bool>,
    scratch: VcgScratch,
}

/// Allocates every `vcg` campaign on its observed costs and, where the provider goes ahead,
/// prices each user's burden.
pub fn allocate_and_price<S: Sink>(
    me: Res<This<Vcg>>,
    batch: Res<Batch>,
    contracts: Option<ResMut<Contracts>>,
    mut sinks: ResMut<Sinks<S>>,
    mut users: Query<(&Member, &ObservedCost, &mut Burden)>,
) {
    let Some(mut contracts) = contracts else {
        return;
    };
    let (n, active) = (batch.users(), batch.campaigns());
    let contracts = &mut *contracts;
    contracts.allocation.clear();
    contracts.allocation.resize(active, None);
    contracts.payment.clear();
    contracts.payment.resize(active * n, 0.0);
    contracts.without.resize(n, 0.0);
    for (members, observed, mut burden) in users.contiguous_iter_mut().expect("dense query") {
        let observed = ObservedCost::peel_slice(observed);
        let burden = Burden::peel_slice_mut(burden.bypass_change_detection());
        for (c, rows) in campaign_blocks_of(members, &batch, me.id) {
            let (observed, burden) = (&observed[rows.clone()], &mut burden[rows]);
            let allocation = allocate(observed, &batch.game, burden, &mut contracts.scratch);
            contracts.allocation[c] = Some(allocation);
            if allocation.go {
                price(
                    observed,
                    burden,
                    allocation,
                    &batch.game,
                    &mut contracts.without,
                    &mut contracts.payment[c * n..(c + 1) * n],
                    &mut contracts.scratch,
                    &mut sinks.0[c],
                );
            }
        }
    }
}

/// Every user of a `vcg` campaign the provider goes ahead with decides at once on her contract;
/// the others stay cancelled.
pub fn decide_on_contracts<S: Sink>(
    me: Res<This<Vcg>>,
    batch: Res<Batch>,
    contracts: Option<ResMut<Contracts>>,
    mut table: ResMut<CampaignTable>,
    mut sinks: ResMut<Sinks<S>>,
    mut users: Query<(
        &Member,
        &RealizedCost,
        &Burden,
        &mut Choice,
        &WithdrawsBy,
        &Remembers,
    )>,
) {
    let Some(mut contracts) = contracts else {
        return;
    };
    let n = batch.users();
    let contracts = &mut *contracts;
    for (members, realized, burden, mut choice, rule, memory) in
        users.contiguous_iter_mut().expect("dense query")
    {
        let decision = Choice::peel_slice_mut(choice.bypass_change_detection());
        for (c, rows) in campaign_blocks_of(members, &batch, me.id) {
            if !contracts.allocation[c].is_some_and(|a| a.go) {
                continue;
            }
            contracts.absorbed.clear();
            contracts.absorbed.extend(
                memory[rows.clone()]
                    .iter()
                    .map(|m| m.0.withdrawals_absorbed()),
            );
            let committed = decide_at_once(
                RealizedCost::peel_slice(&realized[rows.clone()]),
                Burden::peel_slice(&burden[rows.clone()]),
                &contracts.payment[c * n..(c + 1) * n],
                WithdrawsBy::peel_slice(&rule[rows.clone()]),
                batch.rules.withdraw(),
                &contracts.absorbed,
                &batch.game,
                &mut decision[rows],
                &mut sinks.0[c],
            );
            table.end[c] = ProtocolEnd::Trained { committed };
        }
    }
}

/// Settles every `vcg` campaign: section 6's table with p·x replaced by t_i.
pub fn settle_contracts<S: Sink>(
    me: Res<This<Vcg>>,
    batch: Res<Batch>,
    contracts: Option<Res<Contracts>>,
    mut columns: ResMut<Columns>,
    mut table: ResMut<CampaignTable>,
    mut sinks: ResMut<Sinks<S>>,
    mut users: Query<(&Member, &RealizedCost, &Burden, &Choice, &mut Payoff)>,
) {
    let Some(contracts) = contracts else {
        return;
    };
    let n = batch.users();
    let (columns, table) = (&mut *columns, &mut *table);
    for (members, realized, burden, choice, mut payoff) in
        users.contiguous_iter_mut().expect("dense query")
    {
        let (realized, burden, decision) = (
            RealizedCost::peel_slice(realized),
            Burden::peel_slice(burden),
            Choice::peel_slice(choice),
        );
        let payoff = Payoff::peel_slice_mut(payoff.bypass_change_detection());
        for (c, rows) in campaign_blocks_of(members, &batch, me.id) {
            let backstoppers = contracts.allocation[c].map_or(0, |a| a.backstoppers);
            let payment = &contracts.payment[c * n..(c + 1) * n];
            let outcome = settle_vcg(
                table.end[c],
                &realized[rows.clone()],
                &burden[rows.clone()],
                payment,
                &decision[rows.clone()],
                &batch.game,
                backstoppers,
                &mut payoff[rows.clone()],
                &mut sinks.0[c],
            );
            if S::ENABLED {
                record_vcg(
                    &outcome,
                    &realized[rows.clone()],
                    &burden[rows.clone()],
                    payment,
                    &decision[rows.clone()],
                    &batch.game,
                    &mut columns.settled[c * n..(c + 1) * n],
                );
            }
            table.outcome[c] = Some(outcome);
            columns.payoff[c * n..(c + 1) * n].copy_from_slice(&payoff[rows]);
        }
    }
}
