//! The audit's resume (`datapact audit --resume`), for every phase that plays campaigns: each
//! cell's rows are written, when the cell finishes, to a record in `_cells/` (atomically: a
//! signal leaves the record whole or absent): `cell-NNNNNN.json` the deviation and dynamics rows,
//! `which-s-rR-NNNNNN.json` the "which S?" comparison at recovery rounds R, `bins-NNNNNN.json`
//! the cost-bin equilibria. With `--resume`, a cell whose record is this audit's is read instead
//! of computed: the record's `key` (SHA-256 of the settings' text, the audited scenario's
//! normalised text, datapact's version and the plugins), phase and cell must be this audit's, its
//! `sha256` must be the digest of its contents, and its rows must decode to the shape the
//! settings give (mechanisms × quantiles × deviations, one dynamics or bins row per mechanism,
//! B bins, every index in range). Any other cell is computed again. Every number is stored as
//! the bits of its `f64`, so a resumed audit writes the bytes of an uninterrupted one.
//!
//! [`CellRecords`] encodes the deviation and dynamics rows here; the cost-bin rows and "which
//! S?"'s comparison are encoded in `bins/record.rs` and `recovery.rs` (`impl CellRecords`
//! blocks beside those types), so that neither phase and this file import each other.

use std::path::{Path, PathBuf};

use datapact_model::deviation::{Choice, Menu, WithdrawChoice};
use datapact_model::stats::Welford;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AuditError;
use crate::deviations::{Audited, DeviationRow, DynamicsEnd, EquilibriumRow};

/// The directory of the records, in the audit's output directory.
pub const CELLS_DIR: &str = "_cells";

/// One cell's record.
#[derive(Serialize, Deserialize)]
struct CellRecord {
    /// What the rows were computed for (see the module).
    key: String,
    /// The cell.
    cell: u32,
    /// The deviation rows, each as [`encode_deviation`] lays it out.
    deviations: Vec<Vec<u64>>,
    /// The dynamics rows, each as [`encode_equilibrium`] lays it out.
    equilibria: Vec<Vec<u64>>,
    /// SHA-256 of the JSON of (key, cell, deviations, equilibria).
    sha256: String,
}

fn digest(key: &str, cell: u32, deviations: &[Vec<u64>], equilibria: &[Vec<u64>]) -> String {
    let json = serde_json::to_vec(&(key, cell, deviations, equilibria)).unwrap_or_default();
    Sha256::digest(&json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One cell's record of a later phase ("which S?", cost-bin equilibria): its rows, each laid
/// out as the phase's encoder lays it out.
#[derive(Serialize, Deserialize)]
struct RowsRecord {
    /// What the rows were computed for (see the module).
    key: String,
    /// The phase (the record's name without the cell).
    phase: String,
    /// The cell.
    cell: u32,
    /// The rows.
    rows: Vec<Vec<u64>>,
    /// SHA-256 of the JSON of (key, phase, cell, rows).
    sha256: String,
}

fn rows_digest(key: &str, phase: &str, cell: u32, rows: &[Vec<u64>]) -> String {
    let json = serde_json::to_vec(&(key, phase, cell, rows)).unwrap_or_default();
    Sha256::digest(&json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the records of an audit are, and what they must match.
pub struct CellRecords<'a> {
    dir: PathBuf,
    key: String,
    /// Read records back (`--resume`), or only write them.
    resume: bool,
    pub(crate) mechanisms: &'a [Audited],
    pub(crate) menu: &'a Menu,
    /// Deviation rows per cell.
    deviation_rows: usize,
}

impl<'a> CellRecords<'a> {
    /// The records of the audit with settings `spec_text` of `scenario` with `plugins`, whose
    /// cells `cx` plays, into `out` (the directory is created).
    pub fn new(
        out: &Path,
        spec_text: &str,
        scenario: &datapact_scenario::Scenario,
        plugins: &[String],
        cx: &crate::deviations::CellAudit<'a>,
        resume: bool,
    ) -> Result<CellRecords<'a>, AuditError> {
        let dir = out.join(CELLS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| AuditError::io(&dir, e))?;
        let mut h = Sha256::new();
        for part in [
            spec_text,
            &scenario.normalized(),
            env!("CARGO_PKG_VERSION"),
            &plugins.join("\n"),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let key = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(CellRecords {
            dir,
            key,
            resume,
            mechanisms: cx.mechanisms,
            menu: cx.menu,
            deviation_rows: cx.mechanisms.len() * cx.quantiles.len() * cx.menu.unilateral().len(),
        })
    }

    fn path(&self, cell: usize) -> PathBuf {
        self.dir.join(format!("cell-{cell:06}.json"))
    }

    /// With `--resume`, the rows of `cell` from its record, if it is this audit's (see the
    /// module); `None` otherwise (the cell is then computed).
    pub fn kept(&self, cell: usize) -> Option<(Vec<DeviationRow>, Vec<EquilibriumRow>)> {
        if !self.resume {
            return None;
        }
        let path = self.path(cell);
        // A regular file of bounded size (never a FIFO or a symlink's target).
        let bytes = datapact_trace::files::read_regular(&path, 1 << 30).ok()?;
        let r: CellRecord = serde_json::from_slice(&bytes).ok()?;
        if r.key != self.key
            || r.cell as usize != cell
            || r.sha256 != digest(&r.key, r.cell, &r.deviations, &r.equilibria)
            || r.deviations.len() != self.deviation_rows
            || r.equilibria.len() != self.mechanisms.len()
        {
            return None;
        }
        let devs = r
            .deviations
            .iter()
            .map(|v| self.decode_deviation(v, r.cell))
            .collect::<Option<Vec<_>>>()?;
        let eqs = r
            .equilibria
            .iter()
            .map(|v| self.decode_equilibrium(v, r.cell))
            .collect::<Option<Vec<_>>>()?;
        Some((devs, eqs))
    }

    /// Writes the record of a finished cell (atomically).
    pub fn write(
        &self,
        cell: usize,
        devs: &[DeviationRow],
        eqs: &[EquilibriumRow],
    ) -> Result<(), AuditError> {
        let deviations: Vec<Vec<u64>> = devs.iter().map(|r| self.encode_deviation(r)).collect();
        let equilibria: Vec<Vec<u64>> = eqs.iter().map(|r| self.encode_equilibrium(r)).collect();
        let sha256 = digest(&self.key, cell as u32, &deviations, &equilibria);
        let record = CellRecord {
            key: self.key.clone(),
            cell: cell as u32,
            deviations,
            equilibria,
            sha256,
        };
        let path = self.path(cell);
        datapact_trace::atomic::write_json_atomic(&path, &record)
            .map_err(|e| AuditError::io(&path, e))
    }

    fn phase_path(&self, phase: &str, cell: usize) -> PathBuf {
        self.dir.join(format!("{phase}-{cell:06}.json"))
    }

    /// With `--resume`, the rows of `phase`'s record of `cell`, if it is this audit's (key,
    /// phase, cell, digest); their shape is the caller's to check.
    pub(crate) fn kept_rows(&self, phase: &str, cell: usize) -> Option<Vec<Vec<u64>>> {
        if !self.resume {
            return None;
        }
        let bytes =
            datapact_trace::files::read_regular(&self.phase_path(phase, cell), 1 << 30).ok()?;
        let r: RowsRecord = serde_json::from_slice(&bytes).ok()?;
        (r.key == self.key
            && r.phase == phase
            && r.cell as usize == cell
            && r.sha256 == rows_digest(&r.key, &r.phase, r.cell, &r.rows))
        .then_some(r.rows)
    }

    /// Writes `phase`'s record of a finished `cell` (atomically).
    pub(crate) fn write_rows(
        &self,
        phase: &str,
        cell: usize,
        rows: Vec<Vec<u64>>,
    ) -> Result<(), AuditError> {
        let record = RowsRecord {
            key: self.key.clone(),
            phase: phase.to_string(),
            cell: cell as u32,
            sha256: rows_digest(&self.key, phase, cell as u32, &rows),
            rows,
        };
        let path = self.phase_path(phase, cell);
        datapact_trace::atomic::write_json_atomic(&path, &record)
            .map_err(|e| AuditError::io(&path, e))
    }

    pub(crate) fn mechanism_index(&self, name: &str) -> u64 {
        self.mechanisms
            .iter()
            .position(|m| m.name == name)
            .unwrap_or(usize::MAX) as u64
    }

    pub(crate) fn mechanism(&self, index: u64) -> Option<&'static str> {
        self.mechanisms
            .get(usize::try_from(index).ok()?)
            .map(|m| m.name)
    }

    fn choice(&self, report: u64, withdraw: u64) -> Option<Choice> {
        let report = u16::try_from(report).ok()?;
        (usize::from(report) < self.menu.factors().len()).then_some(())?;
        Some(Choice {
            report,
            withdraw: *WithdrawChoice::ALL.get(usize::try_from(withdraw).ok()?)?,
        })
    }

    /// The fields every row starts with: cell, mechanism, choice (report, withdraw), V, p.
    fn encode_head(
        &self,
        cell: u32,
        mechanism: &str,
        choice: Choice,
        value: f64,
        payment: f64,
    ) -> Vec<u64> {
        vec![
            u64::from(cell),
            self.mechanism_index(mechanism),
            u64::from(choice.report),
            choice.withdraw as u64,
            value.to_bits(),
            payment.to_bits(),
        ]
    }

    /// [`CellRecords::encode_head`] read back (the cell must be `cell`), and the row's other
    /// fields.
    fn decode_head<'v>(
        &self,
        v: &'v [u64],
        cell: u32,
    ) -> Option<(&'static str, Choice, f64, f64, &'v [u64])> {
        let (&[c, mechanism, report, withdraw, value, payment], rest) = v.split_first_chunk()?;
        (c == u64::from(cell)).then_some(())?;
        Some((
            self.mechanism(mechanism)?,
            self.choice(report, withdraw)?,
            f64::from_bits(value),
            f64::from_bits(payment),
            rest,
        ))
    }

    fn encode_deviation(&self, r: &DeviationRow) -> Vec<u64> {
        let [h0, h1] = r.halves.map(|w| w.parts());
        let mut v = self.encode_head(r.cell, r.mechanism, r.choice, r.value, r.payment);
        v.extend([
            r.factor.to_bits(),
            r.quantile.to_bits(),
            u64::from(r.replications),
            r.gain_mean.to_bits(),
            r.gain_se.to_bits(),
            r.pays_share.to_bits(),
            h0.0,
            h0.1.to_bits(),
            h0.2.to_bits(),
            h1.0,
            h1.1.to_bits(),
            h1.2.to_bits(),
            u64::from(r.best),
        ]);
        v
    }

    fn decode_deviation(&self, v: &[u64], cell: u32) -> Option<DeviationRow> {
        let (mechanism, choice, value, payment, rest) = self.decode_head(v, cell)?;
        let &[
            factor,
            quantile,
            replications,
            gain_mean,
            gain_se,
            pays_share,
            n0,
            mean0,
            m0,
            n1,
            mean1,
            m1,
            best,
        ] = rest
        else {
            return None;
        };
        let f = f64::from_bits;
        (best <= 1).then_some(())?;
        Some(DeviationRow {
            cell,
            value,
            payment,
            mechanism,
            choice,
            factor: f(factor),
            quantile: f(quantile),
            replications: u32::try_from(replications).ok()?,
            gain_mean: f(gain_mean),
            gain_se: f(gain_se),
            pays_share: f(pays_share),
            halves: [
                Welford::from_parts(n0, f(mean0), f(m0)),
                Welford::from_parts(n1, f(mean1), f(m1)),
            ],
            best: best == 1,
        })
    }

    fn encode_equilibrium(&self, r: &EquilibriumRow) -> Vec<u64> {
        let mut v = self.encode_head(r.cell, r.mechanism, r.profile, r.value, r.payment);
        let end = DynamicsEnd::ALL.iter().position(|e| *e == r.end);
        v.extend([
            end.unwrap_or(usize::MAX) as u64,
            u64::from(r.rounds),
            r.factor.to_bits(),
            r.residual.0.to_bits(),
            r.residual.1.to_bits(),
            r.outcome.0.to_bits(),
            r.outcome.1.to_bits(),
            r.truthful.0.to_bits(),
            r.truthful.1.to_bits(),
        ]);
        v
    }

    fn decode_equilibrium(&self, v: &[u64], cell: u32) -> Option<EquilibriumRow> {
        let (mechanism, profile, value, payment, rest) = self.decode_head(v, cell)?;
        let &[end, rounds, factor, r0, r1, o0, o1, t0, t1] = rest else {
            return None;
        };
        let f = f64::from_bits;
        Some(EquilibriumRow {
            cell,
            value,
            payment,
            mechanism,
            end: *DynamicsEnd::ALL.get(usize::try_from(end).ok()?)?,
            rounds: u32::try_from(rounds).ok()?,
            profile,
            factor: f(factor),
            residual: (f(r0), f(r1)),
            outcome: (f(o0), f(o1)),
            truthful: (f(t0), f(t1)),
        })
    }
}
