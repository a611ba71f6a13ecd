//! The output tables: their names and directories. Each table's own columns are declared in
//! `rows.rs` ([`Table::columns`]).

/// One of datapact's six output datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// One row per cell × mechanism: aggregates over the cell's replications.
    Cells,
    /// One row per cell: the S-vs-M cost-efficiency and M-vs-C Pareto diagnostics.
    Diagnostics,
    /// One row per cell × ordered pair of mechanisms: CRN-paired differences A − B.
    Contrasts,
    /// One row per campaign × mechanism: the outcome of every simulated campaign.
    Rounds,
    /// One row per user of every campaign × mechanism: her costs, burdens, decision and settlement.
    Users,
    /// One row per event of every campaign.
    Events,
}

impl Table {
    /// All tables, in documentation order.
    pub const ALL: [Table; 6] = [
        Table::Cells,
        Table::Diagnostics,
        Table::Contrasts,
        Table::Rounds,
        Table::Users,
        Table::Events,
    ];

    /// Name of the table's directory under the output directory (also its name in metadata).
    pub fn dir_name(self) -> &'static str {
        match self {
            Table::Cells => "cells",
            Table::Diagnostics => "diagnostics",
            Table::Contrasts => "contrasts",
            Table::Rounds => "rounds",
            Table::Users => "users",
            Table::Events => "events",
        }
    }

    /// Whether the table has metric columns ([`crate::MetricColumn`]) after its own columns.
    pub fn has_metrics(self) -> bool {
        matches!(self, Table::Cells | Table::Rounds)
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.dir_name())
    }
}
