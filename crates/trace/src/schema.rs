//! The stable Arrow schemas of datapact's four datasets.
//!
//! Every table starts with the identity columns ([`IDENTITY_COLUMNS`]: `scenario`, `seed`,
//! `cell`), then one non-null `Float64` column per swept scenario key (names given at run time,
//! in sweep order), then the table's own columns ([`Table::columns`]). Every field carries its
//! meaning in its Arrow field metadata under [`DESCRIPTION_KEY`].

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// Version of the table layouts below; written to every file as `datapact.schema_version`.
/// Bump it whenever a column is added, removed, renamed or changes type or meaning.
pub const SCHEMA_VERSION: &str = "1";

/// Field-metadata key holding a column's description.
pub const DESCRIPTION_KEY: &str = "description";

/// One of datapact's four output datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// One row per cell × mechanism: aggregates over the cell's replications.
    Cells,
    /// One row per cell: the S-vs-M cost-efficiency and M-vs-C Pareto diagnostics.
    Diagnostics,
    /// One row per campaign × mechanism: the outcome of every simulated campaign.
    Rounds,
    /// One row per event of every campaign.
    Events,
}

impl Table {
    /// All tables, in documentation order.
    pub const ALL: [Table; 4] = [
        Table::Cells,
        Table::Diagnostics,
        Table::Rounds,
        Table::Events,
    ];

    /// Name of the table's directory under the output directory (also its name in metadata).
    pub fn dir_name(self) -> &'static str {
        match self {
            Table::Cells => "cells",
            Table::Diagnostics => "diagnostics",
            Table::Rounds => "rounds",
            Table::Events => "events",
        }
    }

    /// The table's own columns, which follow the identity and swept columns.
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            Table::Cells => CELLS_COLUMNS,
            Table::Diagnostics => DIAGNOSTICS_COLUMNS,
            Table::Rounds => ROUNDS_COLUMNS,
            Table::Events => EVENTS_COLUMNS,
        }
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.dir_name())
    }
}

/// The Arrow type of a fixed column (the subset of Arrow types datapact uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// `Utf8`
    Utf8,
    /// `Boolean`
    Boolean,
    /// `UInt32`
    UInt32,
    /// `UInt64`
    UInt64,
    /// `Float64`
    Float64,
}

impl ColumnType {
    /// The Arrow data type.
    pub fn data_type(self) -> DataType {
        match self {
            ColumnType::Utf8 => DataType::Utf8,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::UInt32 => DataType::UInt32,
            ColumnType::UInt64 => DataType::UInt64,
            ColumnType::Float64 => DataType::Float64,
        }
    }
}

/// A fixed column: name, type, nullability and meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Column name.
    pub name: &'static str,
    /// Arrow type.
    pub ty: ColumnType,
    /// Whether the column may hold nulls.
    pub nullable: bool,
    /// What the column means (stored in the field metadata under [`DESCRIPTION_KEY`]).
    pub description: &'static str,
}

impl ColumnSpec {
    /// The Arrow field, with its description in the field metadata.
    pub fn field(&self) -> Field {
        described_field(
            self.name,
            self.ty.data_type(),
            self.nullable,
            self.description,
        )
    }
}

const fn col(
    name: &'static str,
    ty: ColumnType,
    nullable: bool,
    description: &'static str,
) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        nullable,
        description,
    }
}

use ColumnType::{Boolean, Float64, UInt32, UInt64, Utf8};

/// The columns every table starts with (the swept columns follow them).
pub const IDENTITY_COLUMNS: &[ColumnSpec] = &[
    col(
        "scenario",
        Utf8,
        false,
        "Name of the scenario that produced the row.",
    ),
    col(
        "seed",
        UInt64,
        false,
        "Master seed of the run; with scenario and cell it identifies every random draw.",
    ),
    col(
        "cell",
        UInt32,
        false,
        "Index (0-based) of the parameter-sweep cell, i.e. of one point of the scenario's grid.",
    ),
];

/// Description of a swept column (stored in its field metadata).
pub fn swept_description(name: &str) -> String {
    format!(
        "Swept parameter `{name}`: its value in this cell (one Float64 column per swept scenario key, in sweep order)."
    )
}

/// `round` of the per-cell tables (`cells`, `diagnostics`).
const CELL_ROUND: ColumnSpec = col(
    "round",
    UInt32,
    false,
    "Round (0-based) of the repeated game ([dynamics] rounds); 0 for single campaigns. Statistics aggregate this round over the replications.",
);

/// `round` and `mechanism` of the per-campaign tables (`rounds`, `events`).
const CAMPAIGN_ROUND: ColumnSpec = col(
    "round",
    UInt32,
    false,
    "Round (0-based) of the repeated game within the replication ([dynamics] rounds); 0 for single campaigns.",
);
const CAMPAIGN_MECHANISM: ColumnSpec = col(
    "mechanism",
    Utf8,
    false,
    "Mechanism that ran the campaign: \"C\", \"S\" or \"M\".",
);

const CELLS_COLUMNS: &[ColumnSpec] = &[
    CELL_ROUND,
    col(
        "mechanism",
        Utf8,
        false,
        "Mechanism evaluated: \"C\" (posted subsidy), \"S\" (simultaneous withdrawal) or \"M\" (sequential withdrawal).",
    ),
    col(
        "reps",
        UInt32,
        false,
        "Number of replications (independent campaigns) aggregated in this row.",
    ),
    col(
        "success_rate",
        Float64,
        false,
        "Fraction of replications whose campaign succeeded (the model improved).",
    ),
    col(
        "success_se",
        Float64,
        false,
        "Standard error of success_rate.",
    ),
    col(
        "welfare_mean",
        Float64,
        false,
        "Mean social welfare per campaign: n·V·1{success} minus the privacy cost borne.",
    ),
    col(
        "welfare_se",
        Float64,
        false,
        "Standard error of welfare_mean.",
    ),
    col(
        "privacy_cost_mean",
        Float64,
        false,
        "Mean total privacy cost actually borne by users per campaign.",
    ),
    col(
        "privacy_cost_se",
        Float64,
        false,
        "Standard error of privacy_cost_mean.",
    ),
    col(
        "subsidy_mean",
        Float64,
        false,
        "Mean total payment made by the provider per campaign.",
    ),
    col(
        "subsidy_se",
        Float64,
        false,
        "Standard error of subsidy_mean.",
    ),
    col(
        "leakage_mean",
        Float64,
        false,
        "Mean subsidy paid in campaigns where the model did not improve.",
    ),
    col(
        "leakage_se",
        Float64,
        false,
        "Standard error of leakage_mean.",
    ),
    col(
        "data_mean",
        Float64,
        false,
        "Mean total data kept for training per campaign (units of data).",
    ),
    col("data_se", Float64, false, "Standard error of data_mean."),
    col(
        "withdrawals_mean",
        Float64,
        false,
        "Mean number of users who withdrew per campaign.",
    ),
    col(
        "withdrawals_se",
        Float64,
        false,
        "Standard error of withdrawals_mean.",
    ),
    col(
        "null_rate",
        Float64,
        false,
        "Fraction of replications that ended in a null outcome (unsustainable: no data, no payment).",
    ),
    col(
        "backstoppers_mean",
        Float64,
        false,
        "Mean number of backstoppers per campaign (users assigned a burden below their cap).",
    ),
];

const DIAGNOSTICS_COLUMNS: &[ColumnSpec] = &[
    CELL_ROUND,
    col(
        "reps",
        UInt32,
        false,
        "Number of replications the diagnostics are computed over.",
    ),
    col(
        "s_success_k2",
        Float64,
        true,
        "Pr(S succeeds and at least 2 backstoppers); null when S was not run.",
    ),
    col(
        "m_success_k2",
        Float64,
        true,
        "Pr(M succeeds and at least 2 backstoppers); null when M was not run.",
    ),
    col(
        "common_success_k2",
        UInt32,
        true,
        "Number of replications where both S and M succeed with at least 2 backstoppers; null when S or M was not run.",
    ),
    col(
        "pc_gap_mean",
        Float64,
        true,
        "Mean of PC(M) − PC(S), the privacy-cost gap, over the common-success replications; null when fewer than 30 (masked) or not computable.",
    ),
    col(
        "pc_gap_se",
        Float64,
        true,
        "Standard error of pc_gap_mean; null whenever pc_gap_mean is null or there are fewer than 2 observations.",
    ),
    col(
        "pareto_loss_share",
        Float64,
        true,
        "Mean over replications of the share of users with utility under M below their utility under C; null when M or C was not run.",
    ),
    col(
        "pareto_loss_share_se",
        Float64,
        true,
        "Standard error of pareto_loss_share.",
    ),
    col(
        "pareto_compensation",
        Float64,
        true,
        "Mean over replications of the per-user compensation (1/n)·Σ max(0, u_C − u_M) that removes every individual loss of M vs C; null when M or C was not run.",
    ),
    col(
        "pareto_compensation_se",
        Float64,
        true,
        "Standard error of pareto_compensation.",
    ),
];

const ROUNDS_COLUMNS: &[ColumnSpec] = &[
    col(
        "rep",
        UInt32,
        false,
        "Replication index (0-based) within the cell; all mechanisms of one (cell, rep) share the same random draws.",
    ),
    CAMPAIGN_ROUND,
    CAMPAIGN_MECHANISM,
    col(
        "status",
        Utf8,
        false,
        "Outcome: \"success\" (model improved), \"failure\" (data fell short) or \"null\" (unsustainable instance: no data, no payment).",
    ),
    col(
        "success",
        Boolean,
        false,
        "Whether the model improved; equals status = \"success\".",
    ),
    col(
        "welfare",
        Float64,
        false,
        "Social welfare of the campaign: n·V·1{success} minus the privacy cost borne.",
    ),
    col(
        "privacy_cost",
        Float64,
        false,
        "Total privacy cost actually borne by users.",
    ),
    col(
        "subsidy",
        Float64,
        false,
        "Total payment made by the provider.",
    ),
    col(
        "leakage",
        Float64,
        false,
        "Subsidy paid although the model did not improve.",
    ),
    col(
        "data",
        Float64,
        false,
        "Total data kept for training (units of data).",
    ),
    col(
        "withdrawals",
        UInt32,
        false,
        "Number of users who withdrew.",
    ),
    col(
        "backstoppers",
        UInt32,
        false,
        "Number of backstoppers: users whose assigned burden is below their cap.",
    ),
];

const EVENTS_COLUMNS: &[ColumnSpec] = &[
    col(
        "rep",
        UInt32,
        false,
        "Replication index (0-based) within the cell.",
    ),
    CAMPAIGN_ROUND,
    CAMPAIGN_MECHANISM,
    col(
        "time",
        UInt32,
        false,
        "Logical time step of the campaign at which the event happened (phase or decision step).",
    ),
    col(
        "seq",
        UInt32,
        false,
        "Sequence number (0-based) of the event within the campaign; orders events totally.",
    ),
    col(
        "kind",
        Utf8,
        false,
        "Kind of event (e.g. report, assign, withdraw, stay, settle), as named by the simulator.",
    ),
    col(
        "user",
        UInt32,
        true,
        "Index (0-based) of the user concerned; null for campaign-level events.",
    ),
    col(
        "burden",
        Float64,
        true,
        "Data burden (units of data) the event concerns; null when not applicable.",
    ),
    col(
        "cost",
        Float64,
        true,
        "Cost the event concerns (unit cost or privacy cost, per kind); null when not applicable.",
    ),
];

fn described_field(name: &str, data_type: DataType, nullable: bool, description: &str) -> Field {
    Field::new(name, data_type, nullable).with_metadata(HashMap::from([(
        DESCRIPTION_KEY.to_string(),
        description.to_string(),
    )]))
}

/// Why a list of swept column names cannot be used: the first name that is empty, repeated, or
/// equal to a fixed column of any table (e.g. `cell`, `data`, `cost`). `None` when all are fine.
pub fn swept_columns_conflict(swept_columns: &[String]) -> Option<&str> {
    for (i, name) in swept_columns.iter().enumerate() {
        let fixed = IDENTITY_COLUMNS
            .iter()
            .chain(Table::ALL.iter().flat_map(|t| t.columns()))
            .any(|c| c.name == name);
        if name.is_empty() || fixed || swept_columns[..i].contains(name) {
            return Some(name);
        }
    }
    None
}

/// The Arrow schema of `table` with the given swept columns (identity, swept, then own columns).
///
/// # Panics
/// If [`swept_columns_conflict`] reports a name (an empty, repeated or reserved column name
/// would make an unreadable or ambiguous file).
pub fn schema(table: Table, swept_columns: &[String]) -> SchemaRef {
    if let Some(bad) = swept_columns_conflict(swept_columns) {
        panic!("swept column name {bad:?} is empty, repeated, or a reserved column name");
    }
    let mut fields: Vec<Field> =
        Vec::with_capacity(IDENTITY_COLUMNS.len() + swept_columns.len() + table.columns().len());
    fields.extend(IDENTITY_COLUMNS.iter().map(ColumnSpec::field));
    fields.extend(
        swept_columns
            .iter()
            .map(|n| described_field(n, DataType::Float64, false, &swept_description(n))),
    );
    fields.extend(table.columns().iter().map(ColumnSpec::field));
    Arc::new(Schema::new(fields))
}
