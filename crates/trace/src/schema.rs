//! The stable Arrow schemas of datapact's six datasets.
//!
//! Every table starts with the identity columns ([`IDENTITY_COLUMNS`]: `scenario`, `seed`,
//! `cell`), then one non-null `Float64` column per swept scenario key (names given at run time,
//! in sweep order), then the table's own columns ([`Table::columns`], declared once in
//! `rows.rs`), then, for `cells` and `rounds`, the metric columns declared at run time
//! ([`MetricColumn`]). Every field carries its meaning in its Arrow field metadata under
//! [`DESCRIPTION_KEY`].

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::TraceError;
pub use crate::table::Table;

/// Version of the table layouts below; written to every file as `datapact.schema_version`.
/// Bump it whenever a column is added, removed, renamed or changes type or meaning.
pub const SCHEMA_VERSION: &str = "2";

/// Field-metadata key holding a column's description.
pub const DESCRIPTION_KEY: &str = "description";

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

const fn col(name: &'static str, ty: ColumnType, description: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        nullable: false,
        description,
    }
}

/// The columns every table starts with (the swept columns follow them). The builders fill
/// them from their constant scenario and seed and from each row's `cell`.
pub const IDENTITY_COLUMNS: &[ColumnSpec] = &[
    col(
        "scenario",
        ColumnType::Utf8,
        "Name of the scenario that produced the row.",
    ),
    col(
        "seed",
        ColumnType::UInt64,
        "Master seed of the run; with scenario and cell it identifies every random draw.",
    ),
    col(
        "cell",
        ColumnType::UInt32,
        "Index (0-based) of the parameter-sweep cell, i.e. of one point of the scenario's grid.",
    ),
];

/// A swept column as the writers need it: its name and, for a categorical key, the labels of
/// its values (the column is then Utf8, and a row's coordinate is the position of its label).
/// A plain `String` is a numeric (Float64) swept column.
pub trait SweptColumn {
    /// The column's name.
    fn name(&self) -> &str;
    /// The labels of a categorical column's values; empty for a numeric column.
    fn labels(&self) -> &[String] {
        &[]
    }
}

impl SweptColumn for String {
    fn name(&self) -> &str {
        self
    }
}

/// A categorical (Utf8) swept column, or a numeric one when `labels` is empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Categorical {
    /// The column's name.
    pub name: String,
    /// The canonical text of each value, in axis order.
    pub labels: Vec<String>,
}

impl SweptColumn for Categorical {
    fn name(&self) -> &str {
        &self.name
    }
    fn labels(&self) -> &[String] {
        &self.labels
    }
}

/// Description of a categorical swept column (stored in its field metadata).
pub fn categorical_description(name: &str) -> String {
    format!(
        "Swept categorical key `{name}`: the canonical text of its value in this cell (e.g. `small-first`, `beta(alpha=2,beta=5)`)."
    )
}

/// Description of a swept column (stored in its field metadata).
pub fn swept_description(name: &str) -> String {
    format!(
        "Swept parameter `{name}`: its value in this cell (one Float64 column per swept scenario key, in sweep order)."
    )
}

/// An Arrow field with its description in the field metadata (under [`DESCRIPTION_KEY`]), as
/// every column of every table datapact writes carries it.
pub fn described_field(
    name: &str,
    data_type: DataType,
    nullable: bool,
    description: &str,
) -> Field {
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
            .chain(
                Table::ALL
                    .iter()
                    .flat_map(|t| t.columns().iter().chain(t.network_columns())),
            )
            .any(|c| c.name == name);
        if name.is_empty() || fixed || swept_columns[..i].contains(name) {
            return Some(name);
        }
    }
    None
}

/// A metric declared at run time (by a plugin): it adds nullable `Float64` columns after the
/// fixed columns of `cells` (`{name}_mean`, `{name}_se`) and `rounds` (`{name}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricColumn {
    /// The metric's name, `[a-z][a-z0-9_]*`; the columns are named after it.
    pub name: String,
    /// What the metric measures (a sentence); the column descriptions are derived from it.
    pub description: String,
}

impl MetricColumn {
    /// A metric column.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        MetricColumn {
            name: name.into(),
            description: description.into(),
        }
    }
}

/// The metric fields of `table`, in order (none for tables without metric columns).
pub(crate) fn metric_fields(table: Table, metrics: &[MetricColumn]) -> Vec<Field> {
    let described = |name: String, description: String| {
        described_field(&name, DataType::Float64, true, &description)
    };
    match table {
        Table::Cells => metrics
            .iter()
            .flat_map(|m| {
                let (name, what) = (&m.name, m.description.trim());
                [
                    described(
                        format!("{name}_mean"),
                        format!("Mean over the replications of metric `{name}`: {what} Null when no replication of this cell × mechanism produced it."),
                    ),
                    described(
                        format!("{name}_se"),
                        format!("Standard error of {name}_mean (metric `{name}`: {what}); null when no replication of this cell × mechanism produced it."),
                    ),
                ]
            })
            .collect(),
        Table::Rounds => metrics
            .iter()
            .map(|m| {
                described(
                    m.name.clone(),
                    format!("Metric `{}` of the campaign: {} Null when the campaign's mechanism does not compute it.", m.name, m.description.trim()),
                )
            })
            .collect(),
        Table::Diagnostics | Table::Contrasts | Table::Users | Table::Events => Vec::new(),
    }
}

/// Whether `name` is a valid metric name: `[a-z][a-z0-9_]*`.
fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks the metric columns of `table`: every name valid, none repeated, and none of the
/// columns they add equal to another column of the table (identity, swept, fixed).
fn check_metrics(
    table: Table,
    swept_columns: &[&str],
    metrics: &[MetricColumn],
) -> Result<(), TraceError> {
    let error = |metric: &MetricColumn, reason: String| TraceError::MetricColumn {
        table,
        metric: metric.name.clone(),
        reason,
    };
    for (i, m) in metrics.iter().enumerate() {
        if !valid_metric_name(&m.name) {
            return Err(error(m, "the name must match [a-z][a-z0-9_]*".into()));
        }
        if metrics[..i].iter().any(|o| o.name == m.name) {
            return Err(error(m, "declared twice".into()));
        }
        for field in metric_fields(table, std::slice::from_ref(m)) {
            let name = field.name();
            let taken = IDENTITY_COLUMNS
                .iter()
                .chain(table.columns())
                .chain(table.network_columns())
                .any(|c| c.name == name)
                || swept_columns.iter().any(|c| c == name);
            if taken {
                return Err(error(
                    m,
                    format!("its column `{name}` collides with an existing column"),
                ));
            }
        }
    }
    Ok(())
}

/// The Arrow schema of `table` with the given swept columns and metric columns: identity,
/// swept, own, then metric columns. Only `cells` and `rounds` have metric columns; the other
/// tables ignore `metrics`.
///
/// # Errors
/// [`TraceError::MetricColumn`] if a metric name is not `[a-z][a-z0-9_]*`, is repeated, or
/// makes a column that collides with another column of the table.
///
/// # Panics
/// If [`swept_columns_conflict`] reports a name (an empty, repeated or reserved column name
/// would make an unreadable or ambiguous file).
pub fn schema<S: SweptColumn>(
    table: Table,
    swept_columns: &[S],
    metrics: &[MetricColumn],
) -> Result<SchemaRef, TraceError> {
    schema_of(table, swept_columns, metrics, false)
}

/// [`schema`], with the table's network columns ([`Table::network_columns`]) after its own
/// columns when `network` (a run whose scenario has a network).
///
/// # Errors
/// As [`schema`].
///
/// # Panics
/// As [`schema`].
pub fn schema_of<S: SweptColumn>(
    table: Table,
    swept_columns: &[S],
    metrics: &[MetricColumn],
    network: bool,
) -> Result<SchemaRef, TraceError> {
    let names: Vec<String> = swept_columns.iter().map(|c| c.name().to_string()).collect();
    if let Some(bad) = swept_columns_conflict(&names) {
        panic!("swept column name {bad:?} is empty, repeated, or a reserved column name");
    }
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    check_metrics(table, &name_refs, metrics)?;
    let metric_fields = metric_fields(table, metrics);
    let mut fields: Vec<Field> = Vec::with_capacity(
        IDENTITY_COLUMNS.len() + swept_columns.len() + table.columns().len() + metric_fields.len(),
    );
    fields.extend(IDENTITY_COLUMNS.iter().map(ColumnSpec::field));
    fields.extend(swept_columns.iter().map(|c| {
        let n = c.name();
        if c.labels().is_empty() {
            described_field(n, DataType::Float64, false, &swept_description(n))
        } else {
            described_field(n, DataType::Utf8, false, &categorical_description(n))
        }
    }));
    fields.extend(table.columns().iter().map(ColumnSpec::field));
    if network {
        fields.extend(table.network_columns().iter().map(ColumnSpec::field));
    }
    fields.extend(metric_fields);
    Ok(Arc::new(Schema::new(fields)))
}

/// The markdown column table of `table` in `docs/schema.md`, generated from the declarations:
/// identity columns, a row for the swept columns, the own columns, and a row for the metric
/// columns of the tables that have them.
pub fn markdown_columns(table: Table) -> String {
    let row = |name: &str, ty: &str, nullable: bool, meaning: &str| {
        format!(
            "| {name} | {ty} | {} | {} |\n",
            if nullable { "yes" } else { "no" },
            meaning.replace('|', "\\|")
        )
    };
    let spec_row = |c: &ColumnSpec| {
        row(
            &format!("`{}`", c.name),
            &format!("{:?}", c.ty.data_type()),
            c.nullable,
            c.description,
        )
    };
    let mut s = String::from("| column | type | nullable | meaning |\n|---|---|---|---|\n");
    s.extend(IDENTITY_COLUMNS.iter().map(spec_row));
    s.push_str(&row(
        "*swept columns*",
        "Float64 or Utf8",
        false,
        "One column per swept scenario key, named after it (e.g. `value`, `payment`, `order`, `cost_dist`), in sweep order: the key's value in this cell. Float64 for a numeric key; Utf8 for a categorical key (`game.order`, `population.cost.dist`, `dynamics.cost_process`, `dynamics.learning`, `population.report.strategy`, `population.withdraw.strategy`), holding the canonical text of its value (e.g. `small-first`, `beta(alpha=2,beta=5)`, `ar1`, `free-rider`). Present in every table, right after `cell`.",
    ));
    s.extend(table.columns().iter().map(spec_row));
    s.extend(table.network_columns().iter().map(spec_row));
    match table {
        Table::Cells => s.push_str(&row(
            "*metric columns*",
            "Float64",
            true,
            "Two columns per metric declared at run time by a plugin, in declaration order: `<metric>_mean`, the metric's mean over the replications, and `<metric>_se`, its standard error; null when no replication of the cell × mechanism produced the metric. Their descriptions come from the plugin. None when no plugin declares a metric.",
        )),
        Table::Rounds => s.push_str(&row(
            "*metric columns*",
            "Float64",
            true,
            "One column `<metric>` per metric declared at run time by a plugin, in declaration order: the metric's value for the campaign; null when the campaign's mechanism does not compute it. Their descriptions come from the plugin. None when no plugin declares a metric.",
        )),
        Table::Diagnostics | Table::Contrasts | Table::Users | Table::Events => {}
    }
    s
}
