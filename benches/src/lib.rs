//! Shared fixtures of the datapact benchmarks (`cargo bench -p datapact-benches`).
//!
//! The benches live in `benches/benches/`: `waterfill` (exact water-filling at n = 20, 10^3,
//! 10^5), `campaign` (one campaign of C, S and M at n = 20, S and M at n = 10^5, and M with its
//! fresh and incremental re-assignment at n = 32 … 4096) and
//! `pipeline` (a small grid of cells through the ECS, through the direct kernel, and through the
//! simplest possible direct loop). See BENCHMARKS.md at the repository root.

#![warn(missing_docs)]

use datapact_model::{Draws, Game, Kernel, NoEvents, Rules, Workspace, campaign_rng};

/// A deterministic water-filling instance of `n` users: costs in (0.01, 1.01), caps in
/// [0.2, 1), and the need θ·n·E\[cap\] of the default game (feasible, with some users capped).
pub fn fill_instance(n: usize) -> (Vec<f64>, Vec<f64>, f64) {
    let cost: Vec<f64> = (0..n)
        .map(|i| 0.01 + (i as f64 * 0.618_033_988_7).fract())
        .collect();
    let cap: Vec<f64> = (0..n)
        .map(|i| 0.2 + 0.8 * (i as f64 * 0.414_213_562).fract())
        .collect();
    let need = 0.6 * n as f64 * 0.5;
    (cost, cap, need)
}

/// The default game (uniform costs, θ = 0.6, b0 = 0.15, σ_w = 0.5) at V = p = 0.15 with `n` users.
pub fn typical_game(n: usize) -> Game {
    Game {
        users: n,
        value: 0.15,
        payment: 0.15,
        ..Game::default()
    }
}

/// The small grid of the pipeline benches: V and p each over {0.05, 0.15, 0.25}, n = 20.
pub fn small_grid() -> Vec<Game> {
    let steps = [0.05, 0.15, 0.25];
    steps
        .iter()
        .flat_map(|&value| {
            steps.iter().map(move |&payment| Game {
                value,
                payment,
                ..Game::default()
            })
        })
        .collect()
}

/// The simplest possible direct loop over one cell: draw, assign, decide, accumulate; no ECS,
/// no statistics, no output. Returns the sum of welfare over campaigns (to keep it observable).
pub fn plain_loop(
    game: &Game,
    cell: u64,
    seed: u64,
    reps: u32,
    kernels: &[Kernel],
    draws: &mut Draws,
    ws: &mut Workspace,
) -> f64 {
    let sampler = game.cost.sampler().expect("valid cost distribution");
    let mut total = 0.0;
    for rep in 0..reps {
        let mut rng = campaign_rng(seed, cell, rep as u64);
        draws.fill(game.users, &sampler, &mut rng);
        for &k in kernels {
            total += datapact_model::run_campaign(k, game, &CORE_RULES, draws, ws, &mut NoEvents)
                .welfare;
        }
    }
    total
}

/// Everyone truthful and sincere, built once (so that no bench times building strategies).
pub static CORE_RULES: std::sync::LazyLock<Rules> = std::sync::LazyLock::new(Rules::default);

/// The core kernels C, S, M in output order.
pub const CORE_KERNELS: [Kernel; 3] = [Kernel::Subsidy, Kernel::Simultaneous, Kernel::Sequential];

/// A run spec over the core plugins' C, S and M (catalog ids 0, 1, 2).
pub fn core_spec(
    seed: u64,
    replications: u32,
    mechanisms: Vec<u16>,
    backend: datapact_sim::Backend,
) -> datapact_sim::RunSpec {
    datapact_sim::RunSpec {
        seed,
        replications,
        first_replication: 0,
        adaptive: None,
        mechanisms,
        depth: datapact_sim::Depth::Cells,
        backend,
        plugins: std::sync::Arc::new(datapact_sim::PluginSet::core()),
        variants: Vec::new(),
    }
}

/// One assigned campaign of the default game (V = p = 0.15, σ_w = 0.5) ready to be played by
/// protocol `async` with its default parameters (T = 1, λ = 1, σ_r = 0.5, d = 0.05, s = 0.5):
/// the `calendar` bench and the `async_campaign` example.
pub struct AsyncCampaign {
    game: Game,
    observed: Vec<f64>,
    realized: Vec<f64>,
    cap: Vec<f64>,
    assigned: Vec<f64>,
    order_key: Vec<f64>,
    burden: Vec<f64>,
    cost: Vec<f64>,
    decision: Vec<datapact_model::Decision>,
    rule: Vec<u16>,
    absorbed: Vec<bool>,
    rules: Rules,
    scratch: datapact_model::withdraw::ProtocolScratch,
    calendar: datapact_model::asynchronous::AsyncScratch,
    /// The protocol's parameters.
    pub params: datapact_model::asynchronous::AsyncParams,
}

impl AsyncCampaign {
    /// Draws and assigns replication `rep` of an `n`-user campaign.
    pub fn new(n: usize, rep: u64) -> Self {
        use datapact_model::draws::mean_one_factor;
        let game = typical_game(n);
        let mut d = Draws::default();
        d.fill(
            n,
            &game.cost.sampler().expect("valid"),
            &mut campaign_rng(7, 0, rep),
        );
        let realized = (0..n)
            .map(|i| d.cost[i] * mean_one_factor(game.drift, d.drift_shock[i]))
            .collect();
        let (mut cap, mut assigned) = (vec![0.0; n], vec![0.0; n]);
        datapact_model::assign::assign(
            &d.cost,
            &game,
            &mut cap,
            &mut assigned,
            &mut Default::default(),
            &mut NoEvents,
        );
        AsyncCampaign {
            observed: d.cost.clone(),
            realized,
            cap,
            burden: assigned.clone(),
            assigned,
            order_key: d.order_key.clone(),
            cost: vec![0.0; n],
            decision: vec![datapact_model::Decision::Undecided; n],
            rule: vec![0; n],
            absorbed: vec![false; n],
            rules: Rules::default(),
            scratch: Default::default(),
            calendar: Default::default(),
            params: Default::default(),
            game,
        }
    }

    /// Plays the campaign from its assignment; returns how it ended and the events popped.
    pub fn play(&mut self) -> (datapact_model::ProtocolEnd, u64) {
        self.burden.copy_from_slice(&self.assigned);
        self.decision.fill(datapact_model::Decision::Undecided);
        let st = datapact_model::withdraw::WithdrawState {
            observed: &self.observed,
            realized: &self.realized,
            cap: &self.cap,
            burden: &mut self.burden,
            decision: &mut self.decision,
            rule: &self.rule,
            rules: self.rules.withdraw(),
            absorbed: &self.absorbed,
            peers: None,
        };
        let mut rng = datapact_model::asynchronous::regret_rng(7, 0, 0, 0);
        let end = datapact_model::asynchronous::asynchronous(
            st,
            &mut self.cost,
            &self.params,
            &self.order_key,
            &self.game,
            &mut rng,
            &mut self.scratch,
            &mut self.calendar,
            &mut NoEvents,
        );
        (end, self.calendar.events)
    }

    /// Users who withdrew in the last play.
    pub fn withdrawals(&self) -> usize {
        self.decision
            .iter()
            .filter(|d| **d == datapact_model::Decision::Withdraw)
            .count()
    }
}
