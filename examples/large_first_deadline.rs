//! Extending datapact without touching its core crates: a new withdrawal protocol and a new
//! strategy, as plain bevy_ecs systems and components, run through the same sweep, Parquet
//! traces and report.
//!
//! - Protocol **large-first with a deadline** replaces M's withdraw phase: users decide one at a
//!   time, largest assigned burden first; only the first `deadline` deciders may withdraw, and each
//!   withdrawal re-assigns the remaining need (water-filling) over those still to decide; users
//!   after the deadline are bound by their burden.
//! - Strategy **stubborn**: a marker component on users who never withdraw (here every fifth).
//!
//! Run: `cargo run --release -p datapact-examples --example large_first_deadline -- OUT_DIR`,
//! then `datapact report OUT_DIR` or read `OUT_DIR/deadline/cells/*.parquet` with any Arrow tool.

use bevy_ecs::prelude::*;
use datapact_model::caps::sincere_stays;
use datapact_model::waterfill::{FillScratch, water_fill};
use datapact_model::{Decision, Mechanism, ProtocolEnd, kappa};
use datapact_sim::batch::{Batch, CampaignTable, ProtocolOverride};
use datapact_sim::components::{Burden, Cap, Choice, Member, ObservedCost, RealizedCost};
use datapact_sim::{CoreProtocol, Extension, Phase};

/// A user who never withdraws (the new strategy). Sparse-set storage, as for any component only
/// some users carry: the users stay in their table, in campaign order (see `Extension`).
#[derive(Component)]
#[component(storage = "SparseSet")]
pub struct Stubborn;

/// The protocol's parameters.
#[derive(Resource, Clone, Copy)]
pub struct Deadline {
    /// Deciders allowed to withdraw.
    pub deadline: usize,
    /// Every `stubborn_every`-th user (by index) is stubborn; 0 = nobody.
    pub stubborn_every: u32,
}

/// The extension as the runner takes it: a deadline of 5 deciders, every fifth user stubborn.
pub const EXTENSION: Extension = Extension {
    name: "large-first-deadline",
    systems: add_systems,
    setup: |world| {
        setup(
            world,
            Deadline {
                deadline: 5,
                stubborn_every: 5,
            },
        )
    },
};

/// Adds the protocol system to `Phase::Withdraw`, after the core protocols.
pub fn add_systems(schedule: &mut Schedule) {
    schedule.add_systems(
        large_first_with_deadline
            .in_set(Phase::Withdraw)
            .after(CoreProtocol),
    );
}

/// Takes over M's withdraw phase and marks the stubborn users.
pub fn setup(world: &mut World, params: Deadline) {
    world.insert_resource(ProtocolOverride(vec![Mechanism::M]));
    world.insert_resource(params);
    if params.stubborn_every > 0 {
        let mut users = world.query_filtered::<(Entity, &Member), With<Choice>>();
        let stubborn: Vec<Entity> = users
            .iter(world)
            .filter(|(_, m)| m.slot % params.stubborn_every == params.stubborn_every - 1)
            .map(|(e, _)| e)
            .collect();
        for e in stubborn {
            world.entity_mut(e).insert(Stubborn);
        }
    }
}

/// One campaign's users, gathered from the ECS.
#[derive(Default)]
struct Users {
    observed: Vec<f64>,
    realized: Vec<f64>,
    cap: Vec<f64>,
    burden: Vec<f64>,
    decision: Vec<Decision>,
    stubborn: Vec<bool>,
}

#[allow(clippy::type_complexity)]
fn large_first_with_deadline(
    batch: Res<Batch>,
    params: Res<Deadline>,
    mut table: ResMut<CampaignTable>,
    mut users: Query<(
        &Member,
        &ObservedCost,
        &RealizedCost,
        &Cap,
        &mut Burden,
        &mut Choice,
        Has<Stubborn>,
    )>,
    mut campaigns: Local<Vec<Users>>,
    mut fill: Local<FillScratch>,
) {
    let (n, game) = (batch.users(), &batch.game);
    campaigns.resize_with(batch.campaigns(), Users::default);
    for u in campaigns.iter_mut() {
        *u = Users {
            decision: vec![Decision::Undecided; n],
            stubborn: vec![false; n],
            ..Default::default()
        };
        for v in [&mut u.observed, &mut u.realized, &mut u.cap, &mut u.burden] {
            v.resize(n, 0.0);
        }
    }
    for (m, observed, realized, cap, burden, _, stubborn) in &users {
        if let Some(u) = campaigns.get_mut(m.campaign as usize) {
            let i = m.slot as usize;
            (
                u.observed[i],
                u.realized[i],
                u.cap[i],
                u.burden[i],
                u.stubborn[i],
            ) = (observed.0, realized.0, cap.0, burden.0, stubborn);
        }
    }
    for (c, u) in campaigns.iter_mut().enumerate() {
        if batch.mechanism(c) != Mechanism::M {
            continue;
        }
        let sustainable = table.assignment[c].is_some_and(|a| a.sustainable);
        table.end[c] = if sustainable {
            decide(u, game, params.deadline, &mut fill)
        } else {
            ProtocolEnd::Cancelled
        };
    }
    for (m, _, _, _, mut burden, mut choice, _) in &mut users {
        if let Some(u) = campaigns
            .get(m.campaign as usize)
            .filter(|_| batch.mechanism(m.campaign as usize) == Mechanism::M)
        {
            burden.0 = u.burden[m.slot as usize];
            choice.0 = u.decision[m.slot as usize];
        }
    }
}

/// The protocol on one campaign's slices, using the model's water-filling and sincere rule.
fn decide(
    u: &mut Users,
    game: &datapact_model::Game,
    deadline: usize,
    fill: &mut FillScratch,
) -> ProtocolEnd {
    let n = u.burden.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| u.burden[b].total_cmp(&u.burden[a]).then(a.cmp(&b)));
    let (mut committed, mut committed_estimate) = (0.0, 0.0);
    for pos in 0..n {
        let i = order[pos];
        let may_withdraw = pos < deadline && !u.stubborn[i];
        if !may_withdraw || sincere_stays(u.realized[i], u.burden[i], game.payment, game.value) {
            u.decision[i] = Decision::Stay;
            committed += u.burden[i];
            committed_estimate += kappa(u.observed[i], u.burden[i]);
            continue;
        }
        u.decision[i] = Decision::Withdraw;
        let rest = &order[pos + 1..];
        if rest.is_empty() {
            break;
        }
        let cost: Vec<f64> = rest.iter().map(|&j| u.observed[j]).collect();
        let cap: Vec<f64> = rest.iter().map(|&j| u.cap[j]).collect();
        let mut x = vec![0.0; rest.len()];
        let feasible = water_fill(
            &cost,
            &cap,
            (game.need() - committed).max(0.0),
            game.tolerance(),
            &mut x,
            fill,
        )
        .is_ok();
        let estimate: f64 = cost.iter().zip(&x).map(|(c, x)| kappa(*c, *x)).sum();
        if !feasible || committed_estimate + estimate > n as f64 * game.value {
            return ProtocolEnd::Aborted;
        }
        for (k, &j) in rest.iter().enumerate() {
            u.burden[j] = x[k];
        }
    }
    ProtocolEnd::Trained { committed }
}

/// Runs a small sweep with the extension and writes its outputs and report.
#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "results/examples".into()),
    );
    let scenario = datapact_scenario::Scenario::from_str(
        r#"
        [scenario]
        name = "deadline"
        seed = 7
        replications = 500
        [sweep]
        game.value = { from = 0.0, to = 0.3, steps = 16 }
        game.payment = { from = 0.0, to = 0.3, steps = 16 }
        "#,
        "<example>",
        &[],
    )?;
    let options = datapact_runner::RunOptions {
        out: out.join("deadline"),
        threads: 2,
        shard: datapact_runner::Shard::WHOLE,
        resume: false,
        progress: true,
        backend: datapact_sim::Backend::Ecs,
        cancel: None,
        extension: Some(EXTENSION),
    };
    datapact_runner::run(&scenario, &options)?;
    let report = datapact_report::render_report(&out, &out.join("report"))?;
    println!("outputs in {}, report {:?}", out.display(), report);
    Ok(())
}
