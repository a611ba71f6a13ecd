//! Plain row structs and the column builders that turn them into Arrow record batches.
//!
//! A builder is created once per output part with the scenario name, the seed and the swept
//! column names; those identity values are constant for the builder and are materialised only
//! when a batch is taken, so a row costs a few appends to column builders and no allocation.
//! Take a batch with `finish_batch` whenever [`BatchBuilder::len`] reaches your batch size (e.g.
//! 64Ki rows) and hand it to [`crate::PartWriter::write`]; the builder is then empty and reusable.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, RecordBatch, StringArray, StringBuilder,
    UInt32Builder, UInt64Array,
};
use arrow::datatypes::SchemaRef;

use crate::schema::{Table, schema};

/// Initial row capacity of the column builders (they grow as needed).
const INITIAL_CAPACITY: usize = 1024;

/// Outcome of one campaign, as stored in `rounds.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoundStatus {
    /// The model improved.
    Success,
    /// The data kept fell short of the need.
    Failure,
    /// Null outcome: the instance was unsustainable, nothing collected, nothing paid.
    Null,
}

impl RoundStatus {
    /// The string stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RoundStatus::Success => "success",
            RoundStatus::Failure => "failure",
            RoundStatus::Null => "null",
        }
    }
}

/// One row of the `cells` table (one cell × mechanism).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellRow<'a> {
    pub cell: u32,
    /// Values of the swept parameters, in the builder's swept-column order.
    pub coords: &'a [f64],
    pub round: u32,
    pub mechanism: &'a str,
    pub reps: u32,
    pub success_rate: f64,
    pub success_se: f64,
    pub welfare_mean: f64,
    pub welfare_se: f64,
    pub privacy_cost_mean: f64,
    pub privacy_cost_se: f64,
    pub subsidy_mean: f64,
    pub subsidy_se: f64,
    pub leakage_mean: f64,
    pub leakage_se: f64,
    pub data_mean: f64,
    pub data_se: f64,
    pub withdrawals_mean: f64,
    pub withdrawals_se: f64,
    pub null_rate: f64,
    pub backstoppers_mean: f64,
}

/// One row of the `diagnostics` table (one cell).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiagnosticsRow<'a> {
    pub cell: u32,
    /// Values of the swept parameters, in the builder's swept-column order.
    pub coords: &'a [f64],
    pub round: u32,
    pub reps: u32,
    pub s_success_k2: Option<f64>,
    pub m_success_k2: Option<f64>,
    pub common_success_k2: Option<u32>,
    pub pc_gap_mean: Option<f64>,
    pub pc_gap_se: Option<f64>,
    pub pareto_loss_share: Option<f64>,
    pub pareto_loss_share_se: Option<f64>,
    pub pareto_compensation: Option<f64>,
    pub pareto_compensation_se: Option<f64>,
}

/// One row of the `rounds` table (one campaign × mechanism). The `success` column is derived
/// from `status`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoundRow<'a> {
    pub cell: u32,
    /// Values of the swept parameters, in the builder's swept-column order.
    pub coords: &'a [f64],
    pub rep: u32,
    pub round: u32,
    pub mechanism: &'a str,
    pub status: RoundStatus,
    pub welfare: f64,
    pub privacy_cost: f64,
    pub subsidy: f64,
    pub leakage: f64,
    pub data: f64,
    pub withdrawals: u32,
    pub backstoppers: u32,
}

/// One row of the `events` table (one event).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventRow<'a> {
    pub cell: u32,
    /// Values of the swept parameters, in the builder's swept-column order.
    pub coords: &'a [f64],
    pub rep: u32,
    pub round: u32,
    pub mechanism: &'a str,
    pub time: u32,
    pub seq: u32,
    pub kind: &'a str,
    pub user: Option<u32>,
    pub burden: Option<f64>,
    pub cost: Option<f64>,
}

/// What every table builder offers, so a writer loop can be generic over tables.
pub trait BatchBuilder {
    /// The schema of the batches this builder yields.
    fn schema(&self) -> &SchemaRef;
    /// Rows appended since the last batch was taken.
    fn len(&self) -> usize;
    /// Whether no row was appended since the last batch was taken.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Takes the appended rows as a record batch and empties the builder.
    fn finish_batch(&mut self) -> RecordBatch;
}

/// The identity and swept columns shared by all builders.
#[derive(Debug)]
struct Identity {
    schema: SchemaRef,
    scenario: String,
    seed: u64,
    rows: usize,
    cell: UInt32Builder,
    coords: Vec<Float64Builder>,
}

impl Identity {
    fn new(table: Table, scenario: &str, seed: u64, swept_columns: &[String]) -> Self {
        Identity {
            schema: schema(table, swept_columns),
            scenario: scenario.to_string(),
            seed,
            rows: 0,
            cell: UInt32Builder::with_capacity(INITIAL_CAPACITY),
            coords: swept_columns
                .iter()
                .map(|_| Float64Builder::with_capacity(INITIAL_CAPACITY))
                .collect(),
        }
    }

    #[inline]
    fn append(&mut self, cell: u32, coords: &[f64]) {
        assert_eq!(
            coords.len(),
            self.coords.len(),
            "row has {} swept coordinates, the table has {} swept columns",
            coords.len(),
            self.coords.len()
        );
        self.rows += 1;
        self.cell.append_value(cell);
        for (b, &v) in self.coords.iter_mut().zip(coords) {
            b.append_value(v);
        }
    }

    /// The identity and swept arrays of the pending rows, with room for `own` more columns.
    fn finish(&mut self, own: usize) -> Vec<ArrayRef> {
        let n = std::mem::take(&mut self.rows);
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(3 + self.coords.len() + own);
        cols.push(Arc::new(StringArray::from_iter_values(
            std::iter::repeat_n(self.scenario.as_str(), n),
        )));
        cols.push(Arc::new(UInt64Array::from_value(self.seed, n)));
        cols.push(Arc::new(self.cell.finish()));
        for b in &mut self.coords {
            cols.push(Arc::new(b.finish()));
        }
        cols
    }

    fn batch(&self, cols: Vec<ArrayRef>) -> RecordBatch {
        RecordBatch::try_new(self.schema.clone(), cols)
            .expect("datapact-trace: builder columns always match the table schema")
    }
}

fn f64s<const N: usize>() -> [Float64Builder; N] {
    std::array::from_fn(|_| Float64Builder::with_capacity(INITIAL_CAPACITY))
}

fn strings() -> StringBuilder {
    StringBuilder::with_capacity(INITIAL_CAPACITY, INITIAL_CAPACITY)
}

fn u32s() -> UInt32Builder {
    UInt32Builder::with_capacity(INITIAL_CAPACITY)
}

macro_rules! impl_batch_builder {
    ($ty:ident) => {
        impl BatchBuilder for $ty {
            fn schema(&self) -> &SchemaRef {
                &self.id.schema
            }
            fn len(&self) -> usize {
                self.id.rows
            }
            fn finish_batch(&mut self) -> RecordBatch {
                $ty::finish_batch(self)
            }
        }

        impl $ty {
            /// The schema of the batches this builder yields.
            pub fn schema(&self) -> &SchemaRef {
                &self.id.schema
            }
            /// Rows appended since the last batch was taken.
            pub fn len(&self) -> usize {
                self.id.rows
            }
            /// Whether no row was appended since the last batch was taken.
            pub fn is_empty(&self) -> bool {
                self.id.rows == 0
            }
        }
    };
}

/// Builds `cells` batches.
#[derive(Debug)]
pub struct CellsBuilder {
    id: Identity,
    round: UInt32Builder,
    mechanism: StringBuilder,
    reps: UInt32Builder,
    /// success_rate .. backstoppers_mean, in schema order.
    values: [Float64Builder; 16],
}

impl CellsBuilder {
    /// A builder for rows of `scenario` run with `seed`, with the given swept columns.
    ///
    /// # Panics
    /// As [`schema`] does, on an invalid swept column name.
    pub fn new(scenario: &str, seed: u64, swept_columns: &[String]) -> Self {
        CellsBuilder {
            id: Identity::new(Table::Cells, scenario, seed, swept_columns),
            round: u32s(),
            mechanism: strings(),
            reps: u32s(),
            values: f64s(),
        }
    }

    /// Appends one row.
    ///
    /// # Panics
    /// If `row.coords` does not have one value per swept column.
    #[inline]
    pub fn append(&mut self, row: &CellRow<'_>) {
        self.id.append(row.cell, row.coords);
        self.round.append_value(row.round);
        self.mechanism.append_value(row.mechanism);
        self.reps.append_value(row.reps);
        let vals = [
            row.success_rate,
            row.success_se,
            row.welfare_mean,
            row.welfare_se,
            row.privacy_cost_mean,
            row.privacy_cost_se,
            row.subsidy_mean,
            row.subsidy_se,
            row.leakage_mean,
            row.leakage_se,
            row.data_mean,
            row.data_se,
            row.withdrawals_mean,
            row.withdrawals_se,
            row.null_rate,
            row.backstoppers_mean,
        ];
        for (b, v) in self.values.iter_mut().zip(vals) {
            b.append_value(v);
        }
    }

    /// Takes the appended rows as a record batch and empties the builder.
    pub fn finish_batch(&mut self) -> RecordBatch {
        let mut cols = self.id.finish(3 + self.values.len());
        cols.push(Arc::new(self.round.finish()));
        cols.push(Arc::new(self.mechanism.finish()));
        cols.push(Arc::new(self.reps.finish()));
        for b in &mut self.values {
            cols.push(Arc::new(b.finish()));
        }
        self.id.batch(cols)
    }
}
impl_batch_builder!(CellsBuilder);

/// Builds `diagnostics` batches.
#[derive(Debug)]
pub struct DiagnosticsBuilder {
    id: Identity,
    round: UInt32Builder,
    reps: UInt32Builder,
    s_success_k2: Float64Builder,
    m_success_k2: Float64Builder,
    common_success_k2: UInt32Builder,
    /// pc_gap_mean .. pareto_compensation_se, in schema order.
    rest: [Float64Builder; 6],
}

impl DiagnosticsBuilder {
    /// A builder for rows of `scenario` run with `seed`, with the given swept columns.
    ///
    /// # Panics
    /// As [`schema`] does, on an invalid swept column name.
    pub fn new(scenario: &str, seed: u64, swept_columns: &[String]) -> Self {
        DiagnosticsBuilder {
            id: Identity::new(Table::Diagnostics, scenario, seed, swept_columns),
            round: u32s(),
            reps: u32s(),
            s_success_k2: Float64Builder::with_capacity(INITIAL_CAPACITY),
            m_success_k2: Float64Builder::with_capacity(INITIAL_CAPACITY),
            common_success_k2: u32s(),
            rest: f64s(),
        }
    }

    /// Appends one row.
    ///
    /// # Panics
    /// If `row.coords` does not have one value per swept column.
    #[inline]
    pub fn append(&mut self, row: &DiagnosticsRow<'_>) {
        self.id.append(row.cell, row.coords);
        self.round.append_value(row.round);
        self.reps.append_value(row.reps);
        self.s_success_k2.append_option(row.s_success_k2);
        self.m_success_k2.append_option(row.m_success_k2);
        self.common_success_k2.append_option(row.common_success_k2);
        let vals = [
            row.pc_gap_mean,
            row.pc_gap_se,
            row.pareto_loss_share,
            row.pareto_loss_share_se,
            row.pareto_compensation,
            row.pareto_compensation_se,
        ];
        for (b, v) in self.rest.iter_mut().zip(vals) {
            b.append_option(v);
        }
    }

    /// Takes the appended rows as a record batch and empties the builder.
    pub fn finish_batch(&mut self) -> RecordBatch {
        let mut cols = self.id.finish(5 + self.rest.len());
        cols.push(Arc::new(self.round.finish()));
        cols.push(Arc::new(self.reps.finish()));
        cols.push(Arc::new(self.s_success_k2.finish()));
        cols.push(Arc::new(self.m_success_k2.finish()));
        cols.push(Arc::new(self.common_success_k2.finish()));
        for b in &mut self.rest {
            cols.push(Arc::new(b.finish()));
        }
        self.id.batch(cols)
    }
}
impl_batch_builder!(DiagnosticsBuilder);

/// Builds `rounds` batches.
#[derive(Debug)]
pub struct RoundsBuilder {
    id: Identity,
    rep: UInt32Builder,
    round: UInt32Builder,
    mechanism: StringBuilder,
    status: StringBuilder,
    success: BooleanBuilder,
    /// welfare, privacy_cost, subsidy, leakage, data.
    values: [Float64Builder; 5],
    withdrawals: UInt32Builder,
    backstoppers: UInt32Builder,
}

impl RoundsBuilder {
    /// A builder for rows of `scenario` run with `seed`, with the given swept columns.
    ///
    /// # Panics
    /// As [`schema`] does, on an invalid swept column name.
    pub fn new(scenario: &str, seed: u64, swept_columns: &[String]) -> Self {
        RoundsBuilder {
            id: Identity::new(Table::Rounds, scenario, seed, swept_columns),
            rep: u32s(),
            round: u32s(),
            mechanism: strings(),
            status: strings(),
            success: BooleanBuilder::with_capacity(INITIAL_CAPACITY),
            values: f64s(),
            withdrawals: u32s(),
            backstoppers: u32s(),
        }
    }

    /// Appends one row.
    ///
    /// # Panics
    /// If `row.coords` does not have one value per swept column.
    #[inline]
    pub fn append(&mut self, row: &RoundRow<'_>) {
        self.id.append(row.cell, row.coords);
        self.rep.append_value(row.rep);
        self.round.append_value(row.round);
        self.mechanism.append_value(row.mechanism);
        self.status.append_value(row.status.as_str());
        self.success
            .append_value(row.status == RoundStatus::Success);
        let vals = [
            row.welfare,
            row.privacy_cost,
            row.subsidy,
            row.leakage,
            row.data,
        ];
        for (b, v) in self.values.iter_mut().zip(vals) {
            b.append_value(v);
        }
        self.withdrawals.append_value(row.withdrawals);
        self.backstoppers.append_value(row.backstoppers);
    }

    /// Takes the appended rows as a record batch and empties the builder.
    pub fn finish_batch(&mut self) -> RecordBatch {
        let mut cols = self.id.finish(12);
        cols.push(Arc::new(self.rep.finish()));
        cols.push(Arc::new(self.round.finish()));
        cols.push(Arc::new(self.mechanism.finish()));
        cols.push(Arc::new(self.status.finish()));
        cols.push(Arc::new(self.success.finish()));
        for b in &mut self.values {
            cols.push(Arc::new(b.finish()));
        }
        cols.push(Arc::new(self.withdrawals.finish()));
        cols.push(Arc::new(self.backstoppers.finish()));
        self.id.batch(cols)
    }
}
impl_batch_builder!(RoundsBuilder);

/// Builds `events` batches.
#[derive(Debug)]
pub struct EventsBuilder {
    id: Identity,
    rep: UInt32Builder,
    round: UInt32Builder,
    mechanism: StringBuilder,
    time: UInt32Builder,
    seq: UInt32Builder,
    kind: StringBuilder,
    user: UInt32Builder,
    burden: Float64Builder,
    cost: Float64Builder,
}

impl EventsBuilder {
    /// A builder for rows of `scenario` run with `seed`, with the given swept columns.
    ///
    /// # Panics
    /// As [`schema`] does, on an invalid swept column name.
    pub fn new(scenario: &str, seed: u64, swept_columns: &[String]) -> Self {
        EventsBuilder {
            id: Identity::new(Table::Events, scenario, seed, swept_columns),
            rep: u32s(),
            round: u32s(),
            mechanism: strings(),
            time: u32s(),
            seq: u32s(),
            kind: strings(),
            user: u32s(),
            burden: Float64Builder::with_capacity(INITIAL_CAPACITY),
            cost: Float64Builder::with_capacity(INITIAL_CAPACITY),
        }
    }

    /// Appends one row.
    ///
    /// # Panics
    /// If `row.coords` does not have one value per swept column.
    #[inline]
    pub fn append(&mut self, row: &EventRow<'_>) {
        self.id.append(row.cell, row.coords);
        self.rep.append_value(row.rep);
        self.round.append_value(row.round);
        self.mechanism.append_value(row.mechanism);
        self.time.append_value(row.time);
        self.seq.append_value(row.seq);
        self.kind.append_value(row.kind);
        self.user.append_option(row.user);
        self.burden.append_option(row.burden);
        self.cost.append_option(row.cost);
    }

    /// Takes the appended rows as a record batch and empties the builder.
    pub fn finish_batch(&mut self) -> RecordBatch {
        let mut cols = self.id.finish(9);
        cols.push(Arc::new(self.rep.finish()));
        cols.push(Arc::new(self.round.finish()));
        cols.push(Arc::new(self.mechanism.finish()));
        cols.push(Arc::new(self.time.finish()));
        cols.push(Arc::new(self.seq.finish()));
        cols.push(Arc::new(self.kind.finish()));
        cols.push(Arc::new(self.user.finish()));
        cols.push(Arc::new(self.burden.finish()));
        cols.push(Arc::new(self.cost.finish()));
        self.id.batch(cols)
    }
}
impl_batch_builder!(EventsBuilder);
