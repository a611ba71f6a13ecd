//! The statistic columns of `cells`, `rounds` and `contrasts`, derived from the model's
//! declarations ([`Stat::spec`]), so that adding an outcome statistic is one declaration there
//! plus its formula: no column to write here.
//!
//! Each table's statistic columns are one walk over [`Stat::ALL`] ([`columns`]): for each
//! statistic, the columns the table makes of it (its mean and SE in `cells`, its value in
//! `rounds`, its paired difference, SE and share in `contrasts`), each with the [`Part`] of the
//! statistic it holds. The schema ([`crate::Table::columns`]) and the builders
//! ([`StatBuilders`]) both read that walk, and a row gives its values by statistic and part
//! ([`StatRow::value`]), never by column position: a column cannot receive another
//! statistic's value.

use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, Float64Builder, UInt32Builder};
use datapact_model::settle::Outcome;
use datapact_model::stats::{Better, RoundsColumn, Stat};

use crate::columns::INITIAL_CAPACITY;
use crate::schema::{ColumnSpec, ColumnType};
use crate::table::Table;

/// Which value of a statistic a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// `cells`: the mean over the replications (`{column}`).
    Mean,
    /// `cells`: its standard error (`{se_column}`).
    Se,
    /// `rounds`: the campaign's value (`{stem}`).
    Value,
    /// `contrasts`: the paired mean difference A − B (`{stem}_diff`).
    Diff,
    /// `contrasts`: its standard error (`{stem}_diff_se`).
    DiffSe,
    /// `contrasts`: the share of replications where A is strictly better (`{stem}_a_better`).
    ABetter,
}

/// One statistic column: the statistic, the part of it the column holds, and the column.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StatColumn {
    pub(crate) stat: Stat,
    pub(crate) part: Part,
    pub(crate) spec: ColumnSpec,
}

/// A description made at run time from a declaration's words, kept for the process's life (the
/// column specs hold `&'static str`; each table's columns are made once).
fn leak(s: String) -> &'static str {
    s.leak()
}

fn column(
    stat: Stat,
    part: Part,
    name: &'static str,
    ty: ColumnType,
    doc: &'static str,
) -> StatColumn {
    StatColumn {
        stat,
        part,
        spec: ColumnSpec {
            name,
            ty,
            nullable: false,
            description: doc,
        },
    }
}

/// The statistic columns of `table`, in schema order (after its fixed own columns); none for a
/// table without statistics.
pub(crate) fn columns(table: Table) -> &'static [StatColumn] {
    static MADE: [OnceLock<Vec<StatColumn>>; 3] = [const { OnceLock::new() }; 3];
    let Some(cell) = once_for(table, &MADE) else {
        return &[];
    };
    cell.get_or_init(|| Stat::ALL.into_iter().flat_map(|s| of(table, s)).collect())
}

/// `table`'s slot among `made` (one per table with statistics: `cells`, `rounds`,
/// `contrasts`), or `None` for a table without statistics.
fn once_for<T>(table: Table, made: &'static [OnceLock<T>; 3]) -> Option<&'static OnceLock<T>> {
    match table {
        Table::Cells => Some(&made[0]),
        Table::Rounds => Some(&made[1]),
        Table::Contrasts => Some(&made[2]),
        Table::Diagnostics | Table::Users | Table::Events => None,
    }
}

/// The columns `table` makes of `stat`.
fn of(table: Table, stat: Stat) -> Vec<StatColumn> {
    use ColumnType::{Float64, UInt32};
    let spec = stat.spec();
    let stem = spec.stem;
    match table {
        Table::Cells => {
            let mut out = vec![column(stat, Part::Mean, spec.column, Float64, spec.doc)];
            if let Some(se) = spec.se_column {
                let doc = leak(format!("Standard error of {}.", spec.column));
                out.push(column(stat, Part::Se, se, Float64, doc));
            }
            out
        }
        Table::Rounds => match spec.rounds {
            RoundsColumn::Real(doc) => vec![column(stat, Part::Value, stem, Float64, doc)],
            RoundsColumn::Count(doc) => vec![column(stat, Part::Value, stem, UInt32, doc)],
            RoundsColumn::Status => Vec::new(),
        },
        Table::Contrasts => {
            let Some(c) = spec.contrast else {
                return Vec::new();
            };
            let way = match c.better {
                Better::Higher => "higher",
                Better::Lower => "lower",
            };
            vec![
                column(
                    stat,
                    Part::Diff,
                    leak(format!("{stem}_diff")),
                    Float64,
                    leak(format!(
                        "Paired mean difference of {}, A − B: the mean over the replications of (value under mechanism_a) − (value under mechanism_b), the two campaigns sharing the replication's draws.",
                        c.of
                    )),
                ),
                column(
                    stat,
                    Part::DiffSe,
                    leak(format!("{stem}_diff_se")),
                    Float64,
                    leak(format!(
                        "Standard error of {stem}_diff: the standard deviation of the per-replication differences / √reps (0 when reps < 2)."
                    )),
                ),
                column(
                    stat,
                    Part::ABetter,
                    leak(format!("{stem}_a_better")),
                    Float64,
                    leak(format!(
                        "Share of replications where A is strictly better ({way} is better): {}. Ties count as not better.",
                        c.a_better
                    )),
                ),
            ]
        }
        Table::Diagnostics | Table::Users | Table::Events => Vec::new(),
    }
}

/// The own columns of `table`: `fixed` (its declared columns) then its statistic columns, made
/// once.
pub(crate) fn own_columns(table: Table, fixed: &'static [ColumnSpec]) -> &'static [ColumnSpec] {
    static MADE: [OnceLock<Vec<ColumnSpec>>; 3] = [const { OnceLock::new() }; 3];
    let Some(cell) = once_for(table, &MADE) else {
        return fixed;
    };
    cell.get_or_init(|| {
        let stats = columns(table).iter().map(|c| c.spec);
        fixed.iter().copied().chain(stats).collect()
    })
}

/// A row's values of its table's statistic columns, by statistic and part.
pub(crate) trait StatRow {
    /// The table whose statistic columns the row fills.
    const TABLE: Table;
    /// The value of `part` of `stat` (only the parts [`columns`] lists for the table are asked).
    fn value(&self, stat: Stat, part: Part) -> f64;
}

/// One `cells` statistic: its mean over the replications and the mean's standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StatSummary {
    /// Goes to the statistic's `cells` column (`welfare_mean`).
    pub mean: f64,
    /// Goes to its SE column (`welfare_se`), if it has one.
    pub se: f64,
}

/// One value of type `T` per core statistic, indexed by [`Stat`] (in [`Stat::ALL`]'s order): a
/// row's statistics, given by statistic, never by position.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PerStat<T>([T; Stat::ALL.len()]);

impl<T> PerStat<T> {
    /// Each statistic's value, as `value` gives it.
    pub fn from_fn(value: impl FnMut(Stat) -> T) -> Self {
        PerStat(Stat::ALL.map(value))
    }
}

impl<T> std::ops::Index<Stat> for PerStat<T> {
    type Output = T;
    fn index(&self, stat: Stat) -> &T {
        &self.0[stat.index()]
    }
}

/// The statistics of one `cells` row: every core statistic's [`StatSummary`], by statistic.
pub type StatSummaries = PerStat<StatSummary>;

impl StatRow for StatSummaries {
    const TABLE: Table = Table::Cells;
    #[inline]
    fn value(&self, stat: Stat, part: Part) -> f64 {
        let s = self[stat];
        if part == Part::Se { s.se } else { s.mean }
    }
}

/// The statistics of one `rounds` row: every core statistic's value in the campaign, by
/// statistic (each declaration's [`value`](datapact_model::stats::StatSpec::value)).
pub type StatValues = PerStat<f64>;

impl StatValues {
    /// The statistics of one campaign's outcome, as the `cells` table averages them.
    pub fn of(outcome: &Outcome) -> Self {
        PerStat(Stat::values(outcome))
    }
}

impl StatRow for StatValues {
    const TABLE: Table = Table::Rounds;
    #[inline]
    fn value(&self, stat: Stat, _: Part) -> f64 {
        self[stat]
    }
}

/// One `contrasts` statistic of a pair (A, B): the paired mean difference A − B, its standard
/// error, and the share of replications where A is strictly better.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PairedSummary {
    /// Goes to `{stem}_diff`.
    pub diff: f64,
    /// Goes to `{stem}_diff_se`.
    pub se: f64,
    /// Goes to `{stem}_a_better`.
    pub a_better: f64,
}

/// The statistics of one `contrasts` row: every contrasted statistic's [`PairedSummary`]
/// ([`Stat::CONTRASTED`]), by statistic.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PairedSummaries([PairedSummary; Stat::CONTRASTED.len()]);

impl PairedSummaries {
    /// Each contrasted statistic's summary, as `summary` gives it.
    pub fn from_fn(summary: impl FnMut(Stat) -> PairedSummary) -> Self {
        PairedSummaries(Stat::CONTRASTED.map(summary))
    }
}

impl std::ops::Index<Stat> for PairedSummaries {
    type Output = PairedSummary;
    /// # Panics
    /// For a statistic the `contrasts` table does not compare.
    fn index(&self, stat: Stat) -> &PairedSummary {
        let k = stat
            .contrast_index()
            .unwrap_or_else(|| panic!("{stat:?} is not contrasted"));
        &self.0[k]
    }
}

impl StatRow for PairedSummaries {
    const TABLE: Table = Table::Contrasts;
    #[inline]
    fn value(&self, stat: Stat, part: Part) -> f64 {
        let p = self[stat];
        match part {
            Part::Diff => p.diff,
            Part::DiffSe => p.se,
            _ => p.a_better,
        }
    }
}

/// The builder of one statistic column.
#[derive(Debug)]
enum ColumnBuilder {
    Float64(Float64Builder),
    UInt32(UInt32Builder),
}

/// The builders of a table's statistic columns, filled from rows of type `R`.
#[derive(Debug)]
pub(crate) struct StatBuilders<R> {
    columns: Vec<(Stat, Part, ColumnBuilder)>,
    _row: std::marker::PhantomData<fn(&R)>,
}

impl<R: StatRow> StatBuilders<R> {
    pub(crate) fn new() -> Self {
        let columns = columns(R::TABLE)
            .iter()
            .map(|c| {
                let builder = match c.spec.ty {
                    ColumnType::UInt32 => {
                        ColumnBuilder::UInt32(UInt32Builder::with_capacity(INITIAL_CAPACITY))
                    }
                    _ => ColumnBuilder::Float64(Float64Builder::with_capacity(INITIAL_CAPACITY)),
                };
                (c.stat, c.part, builder)
            })
            .collect();
        StatBuilders {
            columns,
            _row: std::marker::PhantomData,
        }
    }

    /// Appends `row`'s value to each statistic column. A count column holds the value as an
    /// integer (exact: the statistic is a count, below 2^32).
    #[inline]
    pub(crate) fn append(&mut self, row: &R) {
        for (stat, part, builder) in &mut self.columns {
            let v = row.value(*stat, *part);
            match builder {
                ColumnBuilder::Float64(b) => b.append_value(v),
                ColumnBuilder::UInt32(b) => b.append_value(v as u32),
            }
        }
    }

    /// Pushes the statistic columns' arrays of the pending rows onto `cols`.
    pub(crate) fn finish(&mut self, cols: &mut Vec<ArrayRef>) {
        for (_, _, builder) in &mut self.columns {
            cols.push(match builder {
                ColumnBuilder::Float64(b) => Arc::new(b.finish()),
                ColumnBuilder::UInt32(b) => Arc::new(b.finish()),
            });
        }
    }
}
