//! The systems of each phase, one file per phase, in the order the schedule runs them:
//! [`draw`] (nature draws costs and shocks), [`report`] (report, observe), [`assign`] (caps and
//! burdens; C's response), [`withdraw`] (protocol S, M or C's commitment; costs drift in the draw),
//! [`train`] (train, settle), [`learn`] (repeated games). Shared systems serve every mechanism
//! of their kind of users; the systems of C, S and M are registered by their plugins
//! ([`crate::core`]).
//!
//! Each system iterates its query table by table (`contiguous_iter`): a table's component columns
//! are slices, one campaign's users a block of rows (see [`campaign_blocks`]), so the model's
//! function for the phase runs on each campaign's block of components directly, without copies.

pub mod assign;
pub mod draw;
pub mod learn;
pub mod report;
pub mod train;
pub mod withdraw;

use std::borrow::Cow;
use std::ops::Range;

use bevy_ecs::prelude::*;

use crate::batch::Batch;
use crate::components::Member;

/// Whether `members` (one table's rows) are whole campaigns, each campaign's users in slot order:
/// the layout [`campaign_blocks`] checks only at each block's ends.
pub(crate) fn whole_campaigns(members: &[Member], n: usize) -> bool {
    members.len().is_multiple_of(n)
        && members.chunks_exact(n).all(|block| {
            block
                .iter()
                .enumerate()
                .all(|(i, m)| m.slot as usize == i && m.campaign == block[0].campaign)
        })
}

/// The campaigns of one table of users, as (campaign slot, rows). The engine spawns each
/// campaign's users together in slot order, and bevy keeps a table's rows in that order as long as
/// no user moves to another table, so rows k·n..(k+1)·n are one campaign's users, slot i at row
/// k·n + i. Each block's first and last member are checked (a plugin that gave some users a
/// table-stored component would break the order; per-user markers are `SparseSet`, see
/// [`crate::PluginSet::add_setup`]). Campaigns beyond the batch's `active` count (a short last
/// batch) are skipped.
///
/// This is the fast path for plugin systems: iterate a query table by table with
/// `Query::contiguous_iter_mut`, peel each component column to a slice (`Burden::peel_slice_mut`,
/// the components are `#[repr(transparent)]`), and hand each campaign's `rows` of those slices
/// to a plain function. See [`campaign_blocks_of`] for one mechanism's campaigns. The core's
/// systems take mutable columns with `bypass_change_detection()`: every batch rewrites every
/// user's components, so bevy's change ticks would say nothing (no core system filters on
/// `Changed<T>`), and marking them cost about 4 % of a baseline run. A plugin that wants change
/// detection on its own components gets it as usual.
pub fn campaign_blocks(
    members: &[Member],
    n: usize,
    active: usize,
) -> impl Iterator<Item = (usize, Range<usize>)> + '_ {
    assert!(
        members.len().is_multiple_of(n),
        "a table holds {} users, not whole campaigns of {n}",
        members.len()
    );
    members
        .chunks_exact(n)
        .enumerate()
        .filter_map(move |(k, block)| {
            let (first, last) = (block[0], block[n - 1]);
            assert!(
                first.slot == 0 && last.slot as usize == n - 1 && last.campaign == first.campaign,
                "users out of campaign order in their table (an extension moved users between \
                 tables: give per-user components `#[component(storage = \"SparseSet\")]`)"
            );
            let campaign = first.campaign as usize;
            (campaign < active).then_some((campaign, k * n..(k + 1) * n))
        })
}

/// The campaigns of mechanism `mechanism` (a catalog id, `This::<T>::id`) in one table of users,
/// as (campaign slot, rows): [`campaign_blocks`] filtered by the batch's mechanism of each slot.
pub fn campaign_blocks_of<'a>(
    members: &'a [Member],
    batch: &'a crate::batch::Batch,
    mechanism: u16,
) -> impl Iterator<Item = (usize, Range<usize>)> + 'a {
    campaign_blocks(members, batch.users(), batch.campaigns())
        .filter(move |(c, _)| batch.mechanism(*c) == mechanism)
}

/// One campaign's block of rows in a table of users: its slot and first row.
#[derive(Clone, Copy, Debug)]
struct Block {
    campaign: u32,
    start: u32,
}

/// The campaigns of each table of users in the round being played, listed by nature's draw
/// (which visits every table first: [`draw::draw_nature`]) as [`campaign_blocks`] finds them,
/// each block's ends checked, so that the core systems after it walk a list of (slot, first row)
/// for their mechanism instead of every table's blocks again. A table is known by the address
/// and length of its `Member` column; its list is kept from round to round (a world's users keep
/// their rows) and made afresh, checked, when either changed: a table some of whose users moved
/// to another (a plugin's doing) is not found, and its campaigns are walked and checked again.
#[derive(Resource, Default)]
pub struct Blocks {
    tables: Vec<Listed>,
    /// The round being played (counted by [`Blocks::start_round`]): tables the draw has not
    /// visited in it are not read.
    round: u64,
}

/// One table's campaigns, all of them and by mechanism.
#[derive(Default)]
struct Listed {
    at: usize,
    len: usize,
    /// The last round the draw visited the table in.
    round: u64,
    /// Whether its campaigns are in slot order (as the engine spawns them), so that those of a
    /// short batch are a prefix of each list.
    in_order: bool,
    /// Every campaign of the table (of the world's, not only the batch's).
    all: Vec<Block>,
    by_mechanism: Vec<(u16, Vec<Block>)>,
}

impl Blocks {
    /// Starts a round: the tables the draw visits next are the ones read.
    pub(crate) fn start_round(&mut self) {
        self.round += 1;
    }

    /// The campaigns of the table whose users are `members`, listed for this round (checked as
    /// [`campaign_blocks`] checks them, unless listed in an earlier round of the same table).
    pub(crate) fn list<'a>(
        &'a mut self,
        members: &[Member],
        batch: &Batch,
    ) -> impl Iterator<Item = (usize, Range<usize>)> + 'a {
        let key = (members.as_ptr() as usize, members.len());
        let k = match self.tables.iter().position(|t| (t.at, t.len) == key) {
            Some(k) => k,
            None => {
                let k = self
                    .tables
                    .iter()
                    .position(|t| t.round != self.round)
                    .unwrap_or_else(|| {
                        self.tables.push(Listed::default());
                        self.tables.len() - 1
                    });
                self.tables[k].fill(members, batch);
                (self.tables[k].at, self.tables[k].len) = key;
                k
            }
        };
        let table = &mut self.tables[k];
        table.round = self.round;
        let n = batch.users();
        let active = batch.campaigns();
        table
            .all
            .iter()
            .filter(move |b| (b.campaign as usize) < active)
            .map(move |b| b.rows(n))
    }

    /// The campaigns of mechanism `mechanism` (every mechanism's for `None`) in the table whose
    /// users are `members`, as (campaign slot, rows): listed by the draw, or, if the table
    /// changed since, [`campaign_blocks`] (or [`campaign_blocks_of`]) afresh.
    pub fn campaigns<'a>(
        &'a self,
        members: &'a [Member],
        batch: &'a Batch,
        mechanism: Option<u16>,
    ) -> Campaigns<'a> {
        let key = (members.as_ptr() as usize, members.len());
        let listed = self
            .tables
            .iter()
            .find(|t| t.round == self.round && t.in_order && (t.at, t.len) == key);
        // The batch's campaigns: a prefix of the world's, in slot order.
        let active = |blocks: &'a [Block]| {
            &blocks[..blocks.partition_point(|b| (b.campaign as usize) < batch.campaigns())]
        };
        let list: Cow<'a, [Block]> = match (listed, mechanism) {
            (Some(t), None) => Cow::Borrowed(active(&t.all)),
            (Some(t), Some(id)) => Cow::Borrowed(
                t.by_mechanism
                    .iter()
                    .find(|(m, _)| *m == id)
                    .map_or(&[][..], |(_, b)| active(b)),
            ),
            (None, _) => Cow::Owned(
                campaign_blocks(members, batch.users(), batch.campaigns())
                    .filter(|(c, _)| mechanism.is_none_or(|id| batch.mechanism(*c) == id))
                    .map(|(c, rows)| Block::of(c, &rows))
                    .collect(),
            ),
        };
        Campaigns {
            list,
            next: 0,
            n: batch.users(),
        }
    }
}

impl Listed {
    /// Lists `members`' campaigns ([`campaign_blocks`], checked), all and by mechanism, those of
    /// the world's slots beyond the batch's too (a later batch may be longer).
    fn fill(&mut self, members: &[Member], batch: &Batch) {
        self.all.clear();
        self.by_mechanism.iter_mut().for_each(|(_, b)| b.clear());
        for (c, rows) in campaign_blocks(members, batch.users(), usize::MAX) {
            let block = Block::of(c, &rows);
            self.all.push(block);
            let id = batch.mechanism(c);
            match self.by_mechanism.iter_mut().find(|(m, _)| *m == id) {
                Some((_, blocks)) => blocks.push(block),
                None => self.by_mechanism.push((id, vec![block])),
            }
        }
        self.in_order = self.all.is_sorted_by_key(|b| b.campaign);
    }
}

impl Block {
    fn of(campaign: usize, rows: &Range<usize>) -> Block {
        Block {
            campaign: campaign as u32,
            start: rows.start as u32,
        }
    }

    #[inline]
    fn rows(&self, n: usize) -> (usize, Range<usize>) {
        let start = self.start as usize;
        (self.campaign as usize, start..start + n)
    }
}

/// The campaigns of one table (see [`Blocks::campaigns`]), as (campaign slot, rows).
pub struct Campaigns<'a> {
    list: Cow<'a, [Block]>,
    next: usize,
    n: usize,
}

impl Iterator for Campaigns<'_> {
    type Item = (usize, Range<usize>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let block = self.list.get(self.next)?;
        self.next += 1;
        Some(block.rows(self.n))
    }
}
