//! Train and settle: success iff the committed data reaches Q; payments, borne privacy costs and
//! each user's payoff; the campaign's outcome.

use bevy_ecs::prelude::*;
use datapact_model::settle::{settle_subsidy, settle_withdrawal};
use datapact_model::{Decision, EventSink, Mechanism};

use super::{index, users_of};
use crate::batch::{Batch, CampaignTable, Columns, Sinks};
use crate::components::{Burden, Campaign, Choice, Member, Payoff, RealizedCost, Settled};

pub fn train_and_settle<S: EventSink + Send + Sync + 'static>(
    batch: Res<Batch>,
    mut columns: ResMut<Columns>,
    mut table: ResMut<CampaignTable>,
    mut sinks: ResMut<Sinks<S>>,
    mut users: Query<(
        &Member,
        &RealizedCost,
        &Burden,
        Option<&Choice>,
        &mut Payoff,
    )>,
    mut campaigns: Query<(&Campaign, &mut Settled)>,
) {
    let n = batch.users();
    let columns = &mut *columns;
    users
        .iter()
        .for_each(|(member, realized, burden, choice, _)| {
            let i = index(member, n);
            columns.realized[i] = realized.0;
            columns.burden[i] = burden.0;
            columns.decision[i] = choice.map_or(Decision::Undecided, |c| c.0);
        });
    let table = &mut *table;
    table.outcome.clear();
    for c in 0..batch.campaigns() {
        let r = users_of(c, n);
        let sink = &mut sinks.0[c];
        let outcome = if batch.mechanism(c) == Mechanism::C {
            settle_subsidy(
                &columns.realized[r.clone()],
                &columns.burden[r.clone()],
                &batch.game,
                &mut columns.payoff[r],
                sink,
            )
        } else {
            let backstoppers = table.assignment[c].map_or(0, |a| a.backstoppers);
            settle_withdrawal(
                table.end[c],
                &columns.realized[r.clone()],
                &columns.burden[r.clone()],
                &columns.decision[r.clone()],
                &batch.game,
                backstoppers,
                &mut columns.payoff[r],
                sink,
            )
        };
        table.outcome.push(Some(outcome));
    }
    users.iter_mut().for_each(|(member, _, _, _, mut payoff)| {
        if batch.active(member.campaign) {
            payoff.0 = columns.payoff[index(member, n)];
        }
    });
    campaigns.iter_mut().for_each(|(campaign, mut settled)| {
        if let Some(Some(o)) = table.outcome.get(campaign.slot as usize) {
            settled.0 = *o;
        }
    });
}
