//! Which S? Claims 3 and 4 turn on one modelling choice, S's recovery rounds R. S and M are
//! played truthful and sincere on the same draws (the audit's common random numbers), campaign
//! by campaign, at R = 0 (the paper's) and R = 1: how often one succeeds where the other fails,
//! and whether they bear the same privacy cost where both succeed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datapact_model::deviation::{Menu, succeeded};
use datapact_model::{Catalog, Game};
use datapact_scenario::Scenario;
use datapact_sim::PluginSet;
use datapact_sim::profiles::{Profile, ProfileCell};

use crate::deviations::{SLICE_USER_CAMPAIGNS, play_cancellable};
use rayon::prelude::*;

use crate::AuditError;
use crate::resume::CellRecords;

/// The recovery rounds compared: the paper's R = 0 and R = 1.
pub const RECOVERY: [u32; 2] = [0, 1];

/// S against M, campaign by campaign, at one R, summed over cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SideBySide {
    /// S's recovery rounds.
    pub recovery: u32,
    /// Campaign pairs (the same draws under S and under M).
    pub campaigns: u64,
    /// Campaigns S succeeds in.
    pub s_success: u64,
    /// Campaigns M succeeds in.
    pub m_success: u64,
    /// S succeeds and M fails (what "M ⊇ S" rules out).
    pub s_only: u64,
    /// M succeeds and S fails.
    pub m_only: u64,
    /// Both succeed.
    pub both: u64,
    /// Among `both`: campaigns where PC(M) ≠ PC(S) (exactly, no tolerance).
    pub pc_differ: u64,
    /// Among `both`: the largest |PC(M) − PC(S)|.
    pub pc_max_gap: f64,
    /// Among `both`: Σ (PC(M) − PC(S)), summed in cell and replication order.
    pub pc_gap_sum: f64,
}

impl SideBySide {
    fn add(&mut self, other: &SideBySide) {
        self.campaigns += other.campaigns;
        self.s_success += other.s_success;
        self.m_success += other.m_success;
        self.s_only += other.s_only;
        self.m_only += other.m_only;
        self.both += other.both;
        self.pc_differ += other.pc_differ;
        self.pc_max_gap = self.pc_max_gap.max(other.pc_max_gap);
        self.pc_gap_sum += other.pc_gap_sum;
    }

    /// Sums per-cell comparisons in the given (cell) order.
    pub fn total(recovery: u32, cells: &[SideBySide]) -> SideBySide {
        let mut t = SideBySide {
            recovery,
            ..SideBySide::default()
        };
        for c in cells {
            t.add(c);
        }
        t
    }
}

/// S and M truthful and sincere in one cell (its game with S's recovery rounds set to
/// `recovery`), replications `0..reps` on the cell's draws (key `cell`, as the deviations).
/// `cancel` cuts the campaigns short within a fraction of a second (the result is then partial:
/// [`side_by_side`] discards it).
///
/// # Panics
/// If the app does not register S or M.
#[allow(clippy::too_many_arguments)]
pub fn compare_cell(
    plugins: &Arc<PluginSet>,
    catalog: &Catalog,
    cell: usize,
    game: &Game,
    seed: u64,
    reps: u32,
    recovery: u32,
    cancel: Option<&AtomicBool>,
) -> SideBySide {
    let game = Game {
        recovery_rounds: recovery,
        ..game.clone()
    };
    let menu = Menu::new(&[]);
    let play = |name: &str| {
        let id = catalog
            .mechanism(name)
            .expect("S and M are core mechanisms") as u16;
        let mut out = Vec::with_capacity(reps as usize);
        play_cancellable(
            &ProfileCell {
                plugins,
                game: &game,
                rules: menu.rules(),
                mechanism: id,
                seed,
                key: cell as u64,
            },
            0..reps,
            cancel,
            SLICE_USER_CAMPAIGNS,
            |_, _| {
                vec![Profile {
                    base: (0, 0),
                    deviator: None,
                }]
            },
            |_, _, o, _| out.push((succeeded(o), o.privacy_cost)),
        );
        out
    };
    let (s, m) = (play("S"), play("M"));
    let mut r = SideBySide {
        recovery,
        campaigns: u64::from(reps),
        ..SideBySide::default()
    };
    for (&(s_ok, s_pc), &(m_ok, m_pc)) in s.iter().zip(&m) {
        r.s_success += u64::from(s_ok);
        r.m_success += u64::from(m_ok);
        match (s_ok, m_ok) {
            (true, false) => r.s_only += 1,
            (false, true) => r.m_only += 1,
            (true, true) => {
                r.both += 1;
                let gap = m_pc - s_pc;
                r.pc_differ += u64::from(gap != 0.0);
                r.pc_max_gap = r.pc_max_gap.max(gap.abs());
                r.pc_gap_sum += gap;
            }
            (false, false) => {}
        }
    }
    r
}

/// "Which S?"'s records in `_cells/` (`which-s-rR-NNNNNN.json`, [`crate::resume`]), beside the
/// comparison they hold.
impl CellRecords<'_> {
    /// With `--resume`, "which S?"'s comparison of `cell` at recovery rounds `recovery` from its
    /// record, if it is this audit's.
    pub fn kept_side_by_side(&self, recovery: u32, cell: usize) -> Option<SideBySide> {
        let rows = self.kept_rows(&format!("which-s-r{recovery}"), cell)?;
        let [row] = &rows[..] else {
            return None;
        };
        // As `write_side_by_side` lays it out.
        let v: &[u64; 10] = row.as_slice().try_into().ok()?;
        (v[0] == u64::from(recovery)).then_some(SideBySide {
            recovery,
            campaigns: v[1],
            s_success: v[2],
            m_success: v[3],
            s_only: v[4],
            m_only: v[5],
            both: v[6],
            pc_differ: v[7],
            pc_max_gap: f64::from_bits(v[8]),
            pc_gap_sum: f64::from_bits(v[9]),
        })
    }

    /// Records "which S?"'s comparison of a finished `cell`.
    pub fn write_side_by_side(&self, cell: usize, r: &SideBySide) -> Result<(), AuditError> {
        let row = vec![
            u64::from(r.recovery),
            r.campaigns,
            r.s_success,
            r.m_success,
            r.s_only,
            r.m_only,
            r.both,
            r.pc_differ,
            r.pc_max_gap.to_bits(),
            r.pc_gap_sum.to_bits(),
        ];
        self.write_rows(&format!("which-s-r{}", r.recovery), cell, vec![row])
    }
}

/// S against M campaign by campaign over every cell of `scenario` (a paper scenario on the
/// audit's grid), `reps` replications each, at each R of [`RECOVERY`], the cells in parallel on
/// `pool` and summed in cell order (the same totals whatever the threads). `cancel` stops it
/// within a fraction of a second ([`AuditError::Interrupted`]). With `records`, each finished
/// (cell, R) is recorded, and one whose record is this audit's (`--resume`) is read back instead
/// of played ([`crate::resume`]).
pub fn side_by_side(
    pool: &rayon::ThreadPool,
    plugins: &Arc<PluginSet>,
    scenario: &Scenario,
    reps: u32,
    cancel: Option<&Arc<AtomicBool>>,
    records: Option<&CellRecords>,
) -> Result<Vec<SideBySide>, AuditError> {
    let stopped = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    RECOVERY
        .iter()
        .map(|&r| {
            let cells: Vec<SideBySide> = pool.install(|| {
                (0..scenario.cell_count())
                    .into_par_iter()
                    .map(|i| {
                        if let Some(kept) = records.and_then(|k| k.kept_side_by_side(r, i)) {
                            return Ok(kept);
                        }
                        let cell = (!stopped())
                            .then(|| {
                                compare_cell(
                                    plugins,
                                    &scenario.catalog,
                                    i,
                                    &scenario.cell(i).game,
                                    scenario.seed,
                                    reps,
                                    r,
                                    cancel.map(|c| &**c),
                                )
                            })
                            .ok_or(AuditError::Interrupted)?;
                        // A cell played while the flag was set is partial: discarded, never
                        // recorded.
                        if stopped() {
                            return Err(AuditError::Interrupted);
                        }
                        if let Some(k) = records {
                            k.write_side_by_side(i, &cell)?;
                        }
                        Ok(cell)
                    })
                    .collect::<Result<Vec<_>, AuditError>>()
            })?;
            Ok(SideBySide::total(r, &cells))
        })
        .collect()
}
