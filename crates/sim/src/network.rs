//! Users on a network (`[population.network]`, `docs/model.md` section 16) in the ECS: each
//! replication's graph is drawn once per batch from its own stream (the same graph for every
//! mechanism of the replication), and every campaign's withdraw protocol plays on its own
//! [`Peers`] (the graph, and the counts the protocol keeps on it), which stay readable until the
//! next batch: what each user saw at her decision and the campaign's cascade size.

use bevy_ecs::prelude::Resource;
use datapact_model::{Peers, Threshold};

use crate::batch::Batch;

/// (seed, network key, threshold key (0: one number), first replication, replications,
/// mechanisms).
type DrawnFor = (u64, u64, u64, u64, usize, usize);

/// The networks of the batch's campaigns (empty without a network).
#[derive(Resource, Default)]
pub struct Networks {
    /// What the graphs were drawn for ([`Networks::key`]).
    drawn: Option<DrawnFor>,
    /// Per campaign slot of the batch.
    peers: Vec<Peers>,
    /// Per campaign slot: whether its protocol played on its network in this round.
    played: Vec<bool>,
}

impl Networks {
    /// Campaign `c`'s network, nobody withdrawn yet (its replication's graphs are drawn first if
    /// this batch has not drawn them); `None` without a network.
    pub fn campaign(&mut self, batch: &Batch, c: usize) -> Option<&mut Peers> {
        batch.game.network.as_ref()?;
        self.draw(batch);
        if self.played.len() <= c {
            self.played.resize(c + 1, false);
        }
        self.played[c] = true;
        let peers = &mut self.peers[c];
        peers.reset();
        Some(peers)
    }

    /// What the batch's graphs and thresholds are drawn for (`None` without a network).
    fn key(batch: &Batch) -> Option<DrawnFor> {
        let network = batch.game.network.as_ref()?;
        let n = batch.game.users;
        let thresholds = batch
            .game
            .peer_threshold
            .as_ref()
            .map_or(0, |d| Threshold::Drawn(d.clone()).key(n));
        Some((
            batch.seed,
            network.key(n),
            thresholds,
            batch.first_rep,
            batch.reps,
            batch.mechanisms.len(),
        ))
    }

    /// Draws the batch's graphs unless drawn already (nothing without a network), and each
    /// replication's thresholds when they are drawn (`Threshold::draw`, their own stream): the
    /// same graph and thresholds under every mechanism of a replication.
    fn draw(&mut self, batch: &Batch) {
        let (Some(network), Some(key)) = (batch.game.network.as_ref(), Self::key(batch)) else {
            return;
        };
        let n = batch.game.users;
        let m = batch.mechanisms.len();
        if self.drawn != Some(key) {
            self.peers.clear();
            let thresholds = batch.game.peer_threshold.clone().map(Threshold::Drawn);
            for r in 0..batch.reps {
                let rep = batch.first_rep + r as u64;
                let graph = network.generate(n, batch.seed, rep);
                let mut peers = Peers::new(graph);
                if let Some(t) = &thresholds {
                    peers = peers.with_thresholds(t.draw(n, batch.seed, rep));
                }
                for _ in 1..m {
                    self.peers.push(peers.clone());
                }
                self.peers.push(peers);
            }
            self.drawn = Some(key);
        }
    }

    /// A new withdraw phase: no campaign has played yet (the batch's graphs are drawn, so that
    /// campaigns that do not play, a null outcome, still show their users' degrees).
    pub fn open(&mut self, batch: &Batch) {
        self.played.clear();
        self.draw(batch);
    }

    /// Campaign `c`'s graph (`None` without a network, or when no withdraw phase of this
    /// batch drew it: a mechanism without one, C).
    pub fn graph(&self, batch: &Batch, c: usize) -> Option<&datapact_model::Csr> {
        let key = Self::key(batch)?;
        (self.drawn == Some(key))
            .then(|| self.peers.get(c).map(|p| &p.graph))
            .flatten()
    }

    /// Campaign `c`'s cascade size: its withdrawals through ties (0 when its protocol did not
    /// play: a null outcome, or a mechanism without a withdraw phase); `None` without a network.
    pub fn cascade(&self, batch: &Batch, c: usize) -> Option<u32> {
        batch.game.network.as_ref()?;
        Some(self.of(batch, c).map_or(0, |p| p.cascade() as u32))
    }

    /// Campaign slot `c` remembers who withdrew in the round just played, for its next round
    /// (`docs/model.md` section 16: the previous round only): `withdrew(i)` for its user i, or
    /// nobody when its protocol did not play (cancelled at assignment, or no withdraw phase).
    pub fn remember(&mut self, batch: &Batch, c: usize, withdrew: impl Fn(usize) -> bool) {
        if batch.game.network.is_none() {
            return;
        }
        let played = self.played.get(c).copied().unwrap_or(false);
        if let Some(peers) = self.peers.get_mut(c) {
            if played {
                peers.remember(withdrew);
            } else {
                peers.remember(|_| false);
            }
        }
    }

    /// A new population (a batch starts): no campaign remembers an earlier round.
    pub fn forget(&mut self) {
        for peers in &mut self.peers {
            peers.forget();
        }
    }

    /// What campaign `c`'s protocol recorded (`None` without a network, or before the batch's
    /// first withdraw phase).
    pub fn of(&self, batch: &Batch, c: usize) -> Option<&Peers> {
        batch.game.network.as_ref()?;
        if !self.played.get(c).copied().unwrap_or(false) {
            return None;
        }
        self.peers.get(c)
    }
}
