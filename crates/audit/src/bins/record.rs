//! The cost-bin equilibria's resume records (`_cells/bins-NNNNNN.json`, [`crate::resume`]): a
//! [`BinsRow`] encoded as bit-exact integers and decoded back, beside the rows they hold.

use datapact_model::deviation::Choice;

use super::{BinsDynamics, BinsEnd, BinsRow, BinsSettings, Switch};
use crate::resume::CellRecords;

/// The fields of a [`BinsRow`] before its profile (see [`CellRecords::encode_bins`]).
const BINS_FIELDS: usize = 31;

/// The cost-bin equilibria's records in `_cells/` (`bins-NNNNNN.json`, [`crate::resume`]), beside
/// the rows they hold.
impl CellRecords<'_> {
    /// With `--resume`, the cost-bin equilibria of `cell` (settings `s`) from its record, if it
    /// is this audit's and decodes to one row per mechanism of `s.bins` bins.
    pub fn kept_bins(&self, cell: usize, s: BinsSettings) -> Option<Vec<BinsRow>> {
        let rows = self.kept_rows("bins", cell)?;
        (rows.len() == self.mechanisms.len()).then_some(())?;
        rows.iter()
            .zip(self.mechanisms)
            .map(|(v, m)| {
                self.decode_bins(v, cell as u32, s)
                    .filter(|r| r.mechanism == m.name)
            })
            .collect()
    }

    /// Records the cost-bin equilibria of a finished `cell`.
    pub fn write_bins(&self, cell: usize, rows: &[BinsRow]) -> Result<(), crate::AuditError> {
        let rows = rows.iter().map(|r| self.encode_bins(r)).collect();
        self.write_rows("bins", cell, rows)
    }

    /// A cost-bin row: cell, mechanism, V, p, replications, then the dynamics (end, sweeps,
    /// switches, residual (mean, SE, bin, strategy), the last switch (present, sweep, bin, from,
    /// to, gain mean and SE)), the outcomes (equilibrium then truthful: success, welfare, privacy
    /// cost, each mean and SE), then the profile's strategy indices, one per bin.
    fn encode_bins(&self, r: &BinsRow) -> Vec<u64> {
        let d = &r.dynamics;
        let end = BinsEnd::ALL.iter().position(|e| *e == d.end);
        let last = d.last.unwrap_or(Switch {
            sweep: 0,
            bin: 0,
            from: 0,
            to: 0,
            gain: (0.0, 0.0),
        });
        let mut v = vec![
            u64::from(r.cell),
            self.mechanism_index(r.mechanism),
            r.value.to_bits(),
            r.payment.to_bits(),
            u64::from(r.replications),
            end.unwrap_or(usize::MAX) as u64,
            u64::from(d.sweeps),
            u64::from(d.switches),
            d.residual.0.to_bits(),
            d.residual.1.to_bits(),
            d.residual.2 as u64,
            d.residual.3 as u64,
            u64::from(d.last.is_some()),
            u64::from(last.sweep),
            last.bin as u64,
            last.from as u64,
            last.to as u64,
            last.gain.0.to_bits(),
            last.gain.1.to_bits(),
        ];
        for (m, s) in r.outcomes.iter().flatten() {
            v.extend([m.to_bits(), s.to_bits()]);
        }
        debug_assert_eq!(v.len(), BINS_FIELDS);
        v.extend(d.profile.iter().map(|&j| j as u64));
        v
    }

    fn decode_bins(&self, v: &[u64], cell: u32, s: BinsSettings) -> Option<BinsRow> {
        let (head, profile) = v.split_first_chunk::<BINS_FIELDS>()?;
        let &[
            c,
            mechanism,
            value,
            payment,
            replications,
            end,
            sweeps,
            switches,
            r0,
            r1,
            r2,
            r3,
            has_last,
            l_sweep,
            l_bin,
            l_from,
            l_to,
            l_gain0,
            l_gain1,
            ref outcomes @ ..,
        ] = head;
        let f = f64::from_bits;
        let all: Vec<Choice> = self.menu.choices().collect();
        let index = |x: u64| usize::try_from(x).ok().filter(|&j| j < all.len());
        let bin = |x: u64| usize::try_from(x).ok().filter(|&b| b < s.bins);
        (c == u64::from(cell) && profile.len() == s.bins && has_last <= 1).then_some(())?;
        let profile: Vec<usize> = profile.iter().map(|&j| index(j)).collect::<Option<_>>()?;
        let last = if has_last == 1 {
            Some(Switch {
                sweep: u32::try_from(l_sweep).ok()?,
                bin: bin(l_bin)?,
                from: index(l_from)?,
                to: index(l_to)?,
                gain: (f(l_gain0), f(l_gain1)),
            })
        } else {
            None
        };
        let mut o = outcomes.chunks_exact(2).map(|p| (f(p[0]), f(p[1])));
        let mut three = || -> Option<[(f64, f64); 3]> { Some([o.next()?, o.next()?, o.next()?]) };
        let outcomes = [three()?, three()?];
        Some(BinsRow {
            cell,
            value: f(value),
            payment: f(payment),
            mechanism: self.mechanism(mechanism)?,
            replications: u32::try_from(replications).ok()?,
            dynamics: BinsDynamics {
                end: *BinsEnd::ALL.get(usize::try_from(end).ok()?)?,
                sweeps: u32::try_from(sweeps).ok()?,
                switches: u32::try_from(switches).ok()?,
                residual: (f(r0), f(r1), bin(r2)?, index(r3)?),
                last,
                profile: profile.clone(),
            },
            profile: profile.iter().map(|&j| all[j]).collect(),
            outcomes,
        })
    }
}
