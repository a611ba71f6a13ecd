//! Reading a run's `cells` and `contrasts` tables (last round) into [`RunStats`].

use std::path::Path;

use datapact_trace::arrow::array::{Array, Float64Array, RecordBatch};
use datapact_trace::{CellsColumns, ContrastsColumns, Table, read_table, typed_column};

use super::run::{ContrastRow, RunContrasts, RunStats, Stat, StatRow};
use crate::ReportError;

/// The core statistics the generic figures draw, in their order (columns and labels as
/// declared in [`datapact_model::stats::Stat::spec`]).
const CORE_STATS: [datapact_model::stats::Stat; 4] = {
    use datapact_model::stats::Stat;
    [
        Stat::Success,
        Stat::Welfare,
        Stat::Withdrawals,
        Stat::PrivacyCost,
    ]
};

/// Reads round `round` of `dir`'s `contrasts` table; `None` when the run has no such table.
pub fn load_contrasts(
    dir: &Path,
    swept: &[&str],
    categories: &std::collections::BTreeMap<String, Vec<String>>,
    round: u32,
) -> Result<Option<RunContrasts>, ReportError> {
    if !dir.join(Table::Contrasts.dir_name()).is_dir() {
        return Ok(None);
    }
    let batches = read_table(dir, Table::Contrasts)?;
    // The contrasted statistics, as declared (their `{stem}_diff` columns, in table order).
    let metrics: Vec<String> = datapact_model::stats::Stat::CONTRASTED
        .iter()
        .map(|s| s.spec().stem.to_string())
        .collect();
    let mut out = RunContrasts {
        metrics,
        pairs: Vec::new(),
        rows: Vec::new(),
    };
    for b in &batches {
        let c = ContrastsColumns::new(b)?;
        let coords = swept
            .iter()
            .map(|s| crate::tables::swept_values(b, Table::Contrasts, s, categories))
            .collect::<Result<Vec<_>, _>>()?;
        let cols = out
            .metrics
            .iter()
            .map(|m| {
                Ok((
                    typed_column::<Float64Array>(b, Table::Contrasts, &format!("{m}_diff"))?,
                    typed_column::<Float64Array>(b, Table::Contrasts, &format!("{m}_diff_se"))?,
                ))
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        for i in (0..b.num_rows()).filter(|&i| c.round.value(i) == round) {
            let pair = (
                c.mechanism_a.value(i).to_string(),
                c.mechanism_b.value(i).to_string(),
            );
            if !out.pairs.contains(&pair) {
                out.pairs.push(pair.clone());
            }
            out.rows.push(ContrastRow {
                a: pair.0,
                b: pair.1,
                coords: coords.iter().map(|x| x.value(i)).collect(),
                values: cols
                    .iter()
                    .map(|(d, se)| (d.value(i), se.value(i)))
                    .collect(),
            });
        }
    }
    Ok(Some(out))
}

fn f64_column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a Float64Array> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
}

fn value_at(a: Option<&Float64Array>, i: usize) -> Option<f64> {
    a.filter(|a| !a.is_null(i))
        .map(|a| a.value(i))
        .filter(|v| v.is_finite())
}

/// Reads the last round of `dir`'s `cells` table and the statistics to draw from it: the core
/// ones, then each plugin metric's `{m}_mean` listed in the manifest.
pub fn load_stats(dir: &Path) -> Result<RunStats, ReportError> {
    let manifest = datapact_trace::read_manifest(dir)?;
    let batches = read_table(dir, Table::Cells)?;
    let mut stats: Vec<Stat> = CORE_STATS
        .iter()
        .map(|s| {
            let spec = s.spec();
            Stat {
                column: spec.column.to_string(),
                se_column: spec
                    .se_column
                    .expect("a drawn statistic has an SE column")
                    .to_string(),
                label: spec.label.to_string(),
            }
        })
        .collect();
    stats.extend(manifest.metrics.iter().map(|m| Stat {
        column: format!("{m}_mean"),
        se_column: format!("{m}_se"),
        label: format!("{m} (mean per campaign)"),
    }));
    // A run with a network: each network statistic of `cells` (its `_mean` and `_se` columns,
    // as declared), drawn like the core ones.
    let network = Table::Cells.network_columns();
    if batches.first().is_some_and(|b| {
        network
            .iter()
            .all(|c| b.schema().field_with_name(c.name).is_ok())
    }) {
        stats.extend(
            network
                .iter()
                .filter_map(|c| c.name.strip_suffix("_mean"))
                .map(|stem| Stat {
                    column: format!("{stem}_mean"),
                    se_column: format!("{stem}_se"),
                    label: format!("{stem} (withdrawals through ties per campaign)"),
                }),
        );
    }
    let swept: Vec<&str> = manifest.sweep.iter().map(|(_, c)| c.as_str()).collect();
    let mut rows: Vec<(u32, StatRow)> = Vec::new();
    for b in &batches {
        let c = CellsColumns::new(b)?;
        let coords = swept
            .iter()
            .map(|s| crate::tables::swept_values(b, Table::Cells, s, &manifest.categories))
            .collect::<Result<Vec<_>, _>>()?;
        let cols: Vec<_> = stats
            .iter()
            .map(|s| (f64_column(b, &s.column), f64_column(b, &s.se_column)))
            .collect();
        for i in 0..b.num_rows() {
            rows.push((
                c.round.value(i),
                StatRow {
                    mechanism: c.mechanism.value(i).to_string(),
                    coords: coords.iter().map(|x| x.value(i)).collect(),
                    values: cols
                        .iter()
                        .map(|(m, se)| (value_at(*m, i), value_at(*se, i)))
                        .collect(),
                },
            ));
        }
    }
    let round = rows.iter().map(|(r, _)| *r).max().unwrap_or(0);
    let contrasts = load_contrasts(dir, &swept, &manifest.categories, round)?;
    let categories = manifest
        .sweep
        .iter()
        .map(|(_, c)| manifest.categories.get(c).cloned().unwrap_or_default())
        .collect();
    Ok(RunStats {
        name: manifest.scenario_name,
        mechanisms: manifest.mechanisms,
        axes: manifest.sweep,
        categories,
        round,
        stats,
        settings: Vec::new(),
        settings_reference: String::new(),
        contrasts,
        rows: rows
            .into_iter()
            .filter(|(r, _)| *r == round)
            .map(|(_, row)| row)
            .collect(),
    })
}
