//! One system per phase, in the order the schedule runs them:
//! [`draw`] (nature draws costs and shocks), [`report`] (report, observe), [`assign`] (caps and
//! burdens; C's response), [`withdraw`] (drift, then protocol S or M), [`train`] (train, settle).
//!
//! Each system gathers the components its phase reads into [`crate::batch::Columns`], calls the
//! model's function for that phase on each campaign's slice, and scatters the results back.

pub mod assign;
pub mod draw;
pub mod learn;
pub mod report;
pub mod train;
pub mod withdraw;

use std::ops::Range;

/// The column range of a campaign's users.
#[inline]
pub(crate) fn users_of(campaign: usize, n: usize) -> Range<usize> {
    campaign * n..(campaign + 1) * n
}

/// Column index of a member.
#[inline]
pub(crate) fn index(member: &crate::components::Member, n: usize) -> usize {
    member.campaign as usize * n + member.slot as usize
}
