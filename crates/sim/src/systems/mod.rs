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

use std::ops::Range;

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
