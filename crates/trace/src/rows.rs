//! Plain row structs and the column builders that turn them into Arrow record batches, all
//! generated from one column declaration per table ([`declare_table!`]).
//!
//! A builder is created once per output part with the scenario name, the seed, the swept
//! column names and (for `cells` and `rounds`) the metric columns; the identity values are
//! constant for the builder and are materialised only when a batch is taken, so a row costs a
//! few appends to column builders and no allocation. Take a batch with `finish_batch` whenever
//! [`BatchBuilder::len`] reaches your batch size (e.g. 64Ki rows) and hand it to
//! [`crate::PartWriter::write`]; the builder is then empty and reusable.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Builder, RecordBatch, StringArray, StringBuilder, UInt32Builder, UInt64Array,
};
use arrow::datatypes::SchemaRef;

use crate::columns::ColumnValue;
use crate::columns::INITIAL_CAPACITY;
use crate::error::TraceError;
use crate::schema::{
    ColumnSpec, ColumnType, IDENTITY_COLUMNS, MetricColumn, SweptColumn, metric_fields, schema,
};
use crate::stat_columns::{PairedSummaries, StatSummaries, StatValues, own_columns};
use crate::table::Table;

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

impl ColumnValue for RoundStatus {
    const TYPE: ColumnType = ColumnType::Utf8;
    const NULLABLE: bool = false;
    type Builder = StringBuilder;
    type Array = StringArray;
    fn builder() -> StringBuilder {
        <&str as ColumnValue>::builder()
    }
    #[inline]
    fn append_to(self, builder: &mut StringBuilder) {
        builder.append_value(self.as_str());
    }
}

impl Table {
    /// The table's own columns, which follow the identity and swept columns: its declared
    /// columns, then (`cells`, `rounds`, `contrasts`) its statistic columns, derived from the
    /// model's statistic declarations (`Stat::spec`).
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            Table::Cells => own_columns(self, CELLS_COLUMNS),
            Table::Diagnostics => DIAGNOSTICS_COLUMNS,
            Table::Contrasts => own_columns(self, CONTRASTS_COLUMNS),
            Table::Rounds => own_columns(self, ROUNDS_COLUMNS),
            Table::Users => USERS_COLUMNS,
            Table::Events => EVENTS_COLUMNS,
        }
    }

    /// The table's network columns: present, after the own columns, only in the output of a run
    /// whose scenario has a network (`[population.network]`); none for `diagnostics` and
    /// `contrasts`.
    pub fn network_columns(self) -> &'static [ColumnSpec] {
        match self {
            Table::Cells => CELLS_NETWORK_COLUMNS,
            Table::Rounds => ROUNDS_NETWORK_COLUMNS,
            Table::Users => USERS_NETWORK_COLUMNS,
            Table::Events => EVENTS_NETWORK_COLUMNS,
            Table::Diagnostics | Table::Contrasts => &[],
        }
    }
}

/// One metric of one `cells` row: its mean and standard error over the cell × mechanism's
/// replications, `None` when no replication produced the metric.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MetricSummary {
    /// Goes to `{metric}_mean`.
    pub mean: Option<f64>,
    /// Goes to `{metric}_se`.
    pub se: Option<f64>,
}

/// A row's value of one metric, filling as many metric columns as the table gives a metric.
pub trait MetricValue: Copy {
    /// Columns per metric in the table.
    const COLUMNS: usize;
    /// Appends the value to the metric's builders (`COLUMNS` of them).
    fn append_to(self, builders: &mut [Float64Builder]);
}

impl MetricValue for MetricSummary {
    const COLUMNS: usize = 2;
    #[inline]
    fn append_to(self, builders: &mut [Float64Builder]) {
        builders[0].append_option(self.mean);
        builders[1].append_option(self.se);
    }
}

impl MetricValue for Option<f64> {
    const COLUMNS: usize = 1;
    #[inline]
    fn append_to(self, builders: &mut [Float64Builder]) {
        builders[0].append_option(self);
    }
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

/// The identity, swept and metric columns shared by all builders.
#[derive(Debug)]
pub(crate) struct Identity {
    pub(crate) schema: SchemaRef,
    scenario: String,
    seed: u64,
    pub(crate) rows: usize,
    cell: UInt32Builder,
    coords: Vec<SweptBuilder>,
    metrics: Vec<Float64Builder>,
}

/// The builder of one swept column: a number, or the label at a categorical coordinate's
/// position.
#[derive(Debug)]
enum SweptBuilder {
    Number(Float64Builder),
    Category(StringBuilder, Vec<String>),
}

impl Identity {
    pub(crate) fn new<S: SweptColumn>(
        table: Table,
        scenario: &str,
        seed: u64,
        swept_columns: &[S],
        metrics: &[MetricColumn],
    ) -> Result<Self, TraceError> {
        let f64s = |n: usize| {
            (0..n)
                .map(|_| Float64Builder::with_capacity(INITIAL_CAPACITY))
                .collect()
        };
        Ok(Identity {
            schema: schema(table, swept_columns, metrics)?,
            scenario: scenario.to_string(),
            seed,
            rows: 0,
            cell: UInt32Builder::with_capacity(INITIAL_CAPACITY),
            coords: swept_columns
                .iter()
                .map(|c| {
                    if c.labels().is_empty() {
                        SweptBuilder::Number(Float64Builder::with_capacity(INITIAL_CAPACITY))
                    } else {
                        SweptBuilder::Category(StringBuilder::new(), c.labels().to_vec())
                    }
                })
                .collect(),
            metrics: f64s(metric_fields(table, metrics).len()),
        })
    }

    #[inline]
    pub(crate) fn append(&mut self, cell: u32, coords: &[f64]) {
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
            match b {
                SweptBuilder::Number(b) => b.append_value(v),
                SweptBuilder::Category(b, labels) => b.append_value(&labels[v as usize]),
            }
        }
    }

    #[inline]
    pub(crate) fn append_metrics<M: MetricValue>(&mut self, values: &[M]) {
        assert_eq!(
            values.len() * M::COLUMNS,
            self.metrics.len(),
            "row has {} metric values, the table has {} metric columns",
            values.len(),
            self.metrics.len() / M::COLUMNS
        );
        for (builders, &v) in self.metrics.chunks_exact_mut(M::COLUMNS).zip(values) {
            v.append_to(builders);
        }
    }

    /// The identity and swept arrays of the pending rows, with room for `own` more columns
    /// and the metric columns.
    pub(crate) fn finish(&mut self, own: usize) -> Vec<ArrayRef> {
        let n = std::mem::take(&mut self.rows);
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(
            IDENTITY_COLUMNS.len() + self.coords.len() + own + self.metrics.len(),
        );
        cols.push(Arc::new(StringArray::from_iter_values(
            std::iter::repeat_n(self.scenario.as_str(), n),
        )));
        cols.push(Arc::new(UInt64Array::from_value(self.seed, n)));
        cols.push(Arc::new(self.cell.finish()));
        for b in &mut self.coords {
            cols.push(match b {
                SweptBuilder::Number(b) => Arc::new(b.finish()),
                SweptBuilder::Category(b, _) => Arc::new(b.finish()),
            });
        }
        cols
    }

    /// Adds `table`'s network columns to the schema, right after its own columns (before any
    /// metric column).
    pub(crate) fn insert_network(&mut self, table: Table) {
        let at = IDENTITY_COLUMNS.len() + self.coords.len() + table.columns().len();
        let mut fields: Vec<arrow::datatypes::FieldRef> = self.schema.fields().to_vec();
        fields.splice(
            at..at,
            table.network_columns().iter().map(|c| Arc::new(c.field())),
        );
        self.schema = Arc::new(arrow::datatypes::Schema::new_with_metadata(
            fields,
            self.schema.metadata().clone(),
        ));
    }

    /// Appends the metric arrays of the pending rows (after the table's own columns).
    pub(crate) fn finish_metrics(&mut self, cols: &mut Vec<ArrayRef>) {
        for b in &mut self.metrics {
            cols.push(Arc::new(b.finish()));
        }
    }

    pub(crate) fn batch(&self, cols: Vec<ArrayRef>) -> RecordBatch {
        RecordBatch::try_new(self.schema.clone(), cols)
            .expect("datapact-trace: builder columns always match the table schema")
    }
}

/// `round` of the per-cell tables (`cells`, `diagnostics`).
const CELL_ROUND: &str = "Round (0-based) of the repeated game ([dynamics] rounds); 0 for single campaigns. Statistics aggregate this round over the replications.";
/// `round` of the per-campaign tables (`rounds`, `events`).
const CAMPAIGN_ROUND: &str = "Round (0-based) of the repeated game within the replication ([dynamics] rounds); 0 for single campaigns.";
/// `mechanism` of the per-campaign tables (`rounds`, `events`).
const CAMPAIGN_MECHANISM: &str =
    "Mechanism that ran the campaign: \"C\", \"S\", \"M\", \"async\", \"vcg\" or a plugin's.";

declare_table! {
    /// One row of the `cells` table (one cell × mechanism).
    table Cells, row CellRow, builder CellsBuilder, builders CellBuilders,
        reader CellsColumns, specs CELLS_COLUMNS, stats StatSummaries, metrics MetricSummary;
    {
        round: u32 => CELL_ROUND,
        mechanism: &'a str => "Mechanism evaluated: \"C\" (posted subsidy), \"S\" (simultaneous withdrawal), \"M\" (sequential withdrawal), \"async\" (event-driven withdrawal), \"vcg\" (Clarke payments) or a plugin's.",
        reps: u32 => "Number of replications (independent campaigns) aggregated in this row.",
        // Then each statistic's mean and SE columns (`stats`: `success_rate`, `success_se`,
        // `welfare_mean`, …, `backstoppers_mean`), from the model's `Stat` declarations.
    }
    /// The network columns of one `cells` row.
    network CellNetwork, builders CellNetworkBuilders, specs CELLS_NETWORK_COLUMNS;
    {
        cascade_mean: Option<f64> => "Network runs only. Mean cascade size per campaign: the number of users who withdrew through their ties (withdrawals their own rule alone would not have made; docs/model.md section 16). Null for a cell without a network.",
        cascade_se: Option<f64> => "Network runs only. Standard error of cascade_mean; null for a cell without a network.",
    }
}

declare_table! {
    /// One row of the `diagnostics` table (one cell).
    table Diagnostics, row DiagnosticsRow, builder DiagnosticsBuilder, builders DiagnosticsBuilders,
        reader DiagnosticsColumns, specs DIAGNOSTICS_COLUMNS;
    {
        round: u32 => CELL_ROUND,
        reps: u32 => "Number of replications the diagnostics are computed over.",
        s_success_k2: Option<f64> => "Pr(S succeeds and at least 2 backstoppers); null when S was not run.",
        m_success_k2: Option<f64> => "Pr(M succeeds and at least 2 backstoppers); null when M was not run.",
        common_success_k2: Option<u32> => "Number of replications where both S and M succeed with at least 2 backstoppers; null when S or M was not run.",
        pc_gap_mean: Option<f64> => "Mean of PC(M) − PC(S), the privacy-cost gap, over the common-success replications; null when fewer than 30 (masked) or not computable.",
        pc_gap_se: Option<f64> => "Standard error of pc_gap_mean; null whenever pc_gap_mean is null or there are fewer than 2 observations.",
        pareto_loss_share: Option<f64> => "Mean over replications of the share of users with utility under M below their utility under C; null when M or C was not run.",
        pareto_loss_share_se: Option<f64> => "Standard error of pareto_loss_share.",
        pareto_compensation: Option<f64> => "Mean over replications of the per-user compensation (1/n)·Σ max(0, u_C − u_M) that removes every individual loss of M vs C; null when M or C was not run.",
        pareto_compensation_se: Option<f64> => "Standard error of pareto_compensation.",
    }
}

declare_table! {
    /// One row of the `contrasts` table (one cell × ordered pair of mechanisms).
    table Contrasts, row ContrastRow, builder ContrastsBuilder, builders ContrastBuilders,
        reader ContrastsColumns, specs CONTRASTS_COLUMNS, stats PairedSummaries;
    {
        round: u32 => CELL_ROUND,
        mechanism_a: &'a str => "Mechanism A of the contrast (the minuend of every difference).",
        mechanism_b: &'a str => "Mechanism B of the contrast (the subtrahend): by default every pair of the run's mechanisms with A after B in the scenario's order (M−S, M−C, S−C), or the pairs of [output] contrasts.",
        reps: u32 => "Number of paired replications (the cell's replications: A and B play the same draws in each).",
        // Then each contrasted statistic's `{stem}_diff`, `{stem}_diff_se` and
        // `{stem}_a_better` (`stats`), from the model's `Stat` declarations.
    }
}

declare_table! {
    /// One row of the `rounds` table (one campaign × mechanism). The `success` column is
    /// derived from `status`.
    table Rounds, row RoundRow, builder RoundsBuilder, builders RoundBuilders,
        reader RoundsColumns, specs ROUNDS_COLUMNS, stats StatValues, metrics Option<f64>;
    {
        rep: u32 => "Replication index (0-based) within the cell; all mechanisms of one (cell, rep) share the same random draws.",
        round: u32 => CAMPAIGN_ROUND,
        mechanism: &'a str => CAMPAIGN_MECHANISM,
        status: RoundStatus => "Outcome: \"success\" (model improved), \"failure\" (data fell short) or \"null\" (unsustainable instance: no data, no payment).",
        success: bool = |row| row.status == RoundStatus::Success
            => "Whether the model improved; equals status = \"success\".",
        // Then each statistic's value in the campaign (`stats`: `welfare`, …, `backstoppers`;
        // success and null outcomes are `status`), from the model's `Stat` declarations.
    }
    /// The network columns of one `rounds` row.
    network RoundNetwork, builders RoundNetworkBuilders, specs ROUNDS_NETWORK_COLUMNS;
    {
        cascade: Option<u32> => "Network runs only. Cascade size: the number of users who withdrew through their ties (their own rule alone would have kept them; docs/model.md section 16), at most withdrawals; 0 for a campaign nobody withdrew from through ties (C, a null outcome). Null for a cell without a network.",
    }
}

declare_table! {
    /// One row of the `users` table (one user of one campaign × mechanism). C is the posted
    /// subsidy; S, M and `async` the reporting mechanisms (report, assignment, withdrawal).
    table Users, row UserRow, builder UsersBuilder, builders UserBuilders,
        reader UsersColumns, specs USERS_COLUMNS;
    {
        rep: u32 => "Replication index (0-based) within the cell; the users of one (cell, rep, round) are the same people, with the same draws, under every mechanism.",
        round: u32 => CAMPAIGN_ROUND,
        mechanism: &'a str => "Mechanism that ran the campaign: \"C\", \"S\", \"M\", \"async\", \"vcg\" or a plugin's.",
        user: u32 => "Index i (0-based) of the user in her campaign (the `user` of her events).",
        true_cost: f64 => "c_i, her true unit cost at reporting time (after the [dynamics] cost process in rounds ≥ 1); the same under every mechanism of the replication.",
        reported_cost: Option<f64> => "ĉ_i, the cost she reports (S, M, async, reporting plugins); null for C and contributing plugins, which take no reports.",
        observed_cost: Option<f64> => "c̃_i = ĉ_i·exp(σ_o·η_i − σ_o²/2), the provider's observation of her report; null where reported_cost is.",
        drifted_cost: f64 => "c^w_i = c_i·exp(σ_w·ζ_i − σ_w²/2), her realised cost at training after drift.",
        settled_cost: f64 => "The unit cost her privacy cost is borne at: c^w_i, except under async, her cost after its regret shocks: when she withdrew, else at the deadline.",
        cap: Option<f64> => "x̄_i, her individual-rationality cap by the provider's estimate c̃_i (docs/model.md u_i); null where reported_cost is.",
        assigned_burden: Option<f64> => "x_i of the initial assignment (the burden of her `assign` event, before any withdrawal or re-assignment); null for C (no assignment) and when the campaign was cancelled at assignment.",
        decision: Option<&'a str> => "Her last answer in the withdraw phase, as the events' kinds: \"stay\" or \"withdraw\" (S, M, async, reporting plugins); null when she never decided: C (no withdrawal right), a campaign cancelled at assignment, or a user not yet asked when the provider stopped.",
        decision_time: Option<f64> => "Model time of her last decision: the `time` of her last stay/withdraw event (S: 2 + 2r in recovery round r; M: 2 + her position; async: 1 + t); null when decision is null.",
        decided_burden: Option<f64> => "x_i at her last decision (the burden settled: κ and payment are of it); null when decision is null.",
        final_burden: Option<f64> => "The data she contributes at training. C: her contribution x_i = min(1, (p + b_i·V)/c_i), delivered whatever the outcome. S, M, async: decided_burden if she stayed and training ran (success or failure), else 0 (withdrew, never asked, null outcome). Null for contributing plugins. rounds.data is its sum under C, and its sum on success (0 otherwise) under S, M, async.",
        paid: Option<f64> => "paid_i, the payment she received. C: p·x_i. S, M, async: p·x_i if she stayed and the model improved, else 0. Null for contributing plugins (settled by the plugin). Sums to rounds.subsidy.",
        privacy_cost: Option<f64> => "borne_i, the privacy cost she bears, with κ(c, x) = c·x²/2 at settled_cost. C: κ(c^w_i, x_i). S, M, async: κ if she stayed and the model improved; ρ·κ if she withdrew, or stayed in a failure or a stopped campaign; 0 if she never decided. Null for contributing plugins. Sums to rounds.privacy_cost.",
        utility: f64 => "U_i = V·1{success} + paid_i − borne_i (what the mechanism's settlement leaves her; a plugin's settlement may adjust it). rounds.welfare = Σ utility − Σ paid.",
    }
    /// The network columns of one `users` row.
    network UserNetwork, builders UserNetworkBuilders, specs USERS_NETWORK_COLUMNS;
    {
        degree: Option<u32> => "Network runs only. d_i, her number of neighbours in the campaign's graph (the same graph under every mechanism of the replication). Null for a cell without a network.",
        withdrawn_neighbours: Option<u32> => "Network runs only. w_i at her last decision: how many of her neighbours she knew to have withdrawn (what the protocol lets her see, docs/model.md section 16). Null when decision is null or the cell has no network.",
        through_ties: Option<bool> => "Network runs only. Whether she withdrew through her ties: she withdrew, and her rule would have kept her without what she saw of her neighbours; rounds.cascade is its count. Null when decision is null or the cell has no network.",
    }
}

declare_table! {
    /// One row of the `events` table (one event).
    table Events, row EventRow, builder EventsBuilder, builders EventBuilders,
        reader EventsColumns, specs EVENTS_COLUMNS;
    {
        rep: u32 => "Replication index (0-based) within the cell.",
        round: u32 => CAMPAIGN_ROUND,
        mechanism: &'a str => CAMPAIGN_MECHANISM,
        time: f64 => "Model time of the campaign at which the event happened; events of a campaign are in non-decreasing time. Round-based mechanisms (C, S, M, vcg) write their logical step (report 0, assign 1, decisions from 2, training last); event-driven ones (async) continuous time (assignment at 1, deadline T at 1 + T).",
        seq: u32 => "Sequence number (0-based) of the event within the campaign; orders events totally.",
        kind: &'a str => "Kind of event: report, respond, assign, reassign, stay, withdraw, null, train_success, train_failure, or a plugin's pledge or bid (see Event kinds below).",
        user: Option<u32> => "Index (0-based) of the user concerned; null for campaign-level events.",
        burden: Option<f64> => "Data (units of data) the event concerns: a user's burden, or the campaign's data for train_* (see Event kinds below); null when not applicable.",
        cost: Option<f64> => "Unit cost the event concerns (reported, observed, true or realised, per kind: see Event kinds below); null for campaign-level events.",
    }
    /// The network columns of one `events` row.
    network EventNetwork, builders EventNetworkBuilders, specs EVENTS_NETWORK_COLUMNS;
    {
        trigger: Option<u32> => "Network runs only. The neighbour (user index) whose withdrawal, reaching the user, set off her decision: on the withdraw event of a user who withdrew through her ties (the last withdrawal she learned of), and on every stay_again event (the withdrawal that made her decide again). Null on every other event and for a cell without a network.",
    }
}

impl CellsBuilder {
    /// A builder for rows of `scenario` run with `seed`, with the given swept columns and, after
    /// the fixed columns, `{m}_mean` and `{m}_se` for each metric `m`.
    ///
    /// # Errors
    /// [`TraceError::MetricColumn`] on an invalid or colliding metric name.
    ///
    /// # Panics
    /// As [`schema`] does, on an invalid swept column name.
    pub fn new(
        scenario: &str,
        seed: u64,
        swept_columns: &[impl SweptColumn],
        metrics: &[MetricColumn],
    ) -> Result<Self, TraceError> {
        Self::with_metrics(scenario, seed, swept_columns, metrics)
    }
}

impl RoundsBuilder {
    /// A builder for rows of `scenario` run with `seed`, with the given swept columns and, after
    /// the fixed columns, one column `{m}` per metric `m`.
    ///
    /// # Errors
    /// [`TraceError::MetricColumn`] on an invalid or colliding metric name.
    ///
    /// # Panics
    /// As [`schema`] does, on an invalid swept column name.
    pub fn new(
        scenario: &str,
        seed: u64,
        swept_columns: &[impl SweptColumn],
        metrics: &[MetricColumn],
    ) -> Result<Self, TraceError> {
        Self::with_metrics(scenario, seed, swept_columns, metrics)
    }
}

impl DiagnosticsBuilder {
    /// A builder for rows of `scenario` run with `seed`, with the given swept columns.
    ///
    /// # Panics
    /// As [`schema`] does, on an invalid swept column name.
    pub fn new(scenario: &str, seed: u64, swept_columns: &[impl SweptColumn]) -> Self {
        Self::with_metrics(scenario, seed, swept_columns, &[])
            .expect("datapact-trace: a table without metric columns has no metric error")
    }
}

impl ContrastsBuilder {
    /// A builder for rows of `scenario` run with `seed`, with the given swept columns.
    ///
    /// # Panics
    /// As [`schema`] does, on an invalid swept column name.
    pub fn new(scenario: &str, seed: u64, swept_columns: &[impl SweptColumn]) -> Self {
        Self::with_metrics(scenario, seed, swept_columns, &[])
            .expect("datapact-trace: a table without metric columns has no metric error")
    }
}

impl UsersBuilder {
    /// A builder for rows of `scenario` run with `seed`, with the given swept columns.
    ///
    /// # Panics
    /// As [`schema`] does, on an invalid swept column name.
    pub fn new(scenario: &str, seed: u64, swept_columns: &[impl SweptColumn]) -> Self {
        Self::with_metrics(scenario, seed, swept_columns, &[])
            .expect("datapact-trace: a table without metric columns has no metric error")
    }
}

impl EventsBuilder {
    /// A builder for rows of `scenario` run with `seed`, with the given swept columns.
    ///
    /// # Panics
    /// As [`schema`] does, on an invalid swept column name.
    pub fn new(scenario: &str, seed: u64, swept_columns: &[impl SweptColumn]) -> Self {
        Self::with_metrics(scenario, seed, swept_columns, &[])
            .expect("datapact-trace: a table without metric columns has no metric error")
    }
}
