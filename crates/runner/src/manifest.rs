//! Writing `manifest.json`, the per-shard records and `_run.json` (their types and readers are
//! in `datapact_trace::manifest`).
//!
//! Each is written atomically ([`crate::json`]), so a reader sees either nothing or a whole
//! file; the merged manifest is sorted, so concurrent writers write equal bytes.

use std::path::Path;

use datapact_scenario::Scenario;
use datapact_sim::PluginSet;

use crate::VERSION;
use crate::error::{RunnerError, io_err};
use crate::json::write_json_atomic;
use crate::plan::ChunkPlan;
use crate::spec::plugin_list;

pub use datapact_trace::manifest::{
    Manifest, PartEntry, ShardRecord, read_shard_record, shard_record_path, shard_records,
};

/// The design's points for the manifest (`None` for a grid).
fn design_record(scenario: &Scenario) -> Option<datapact_trace::manifest::DesignRecord> {
    let d = &scenario.design;
    if d.points == 0 {
        return None;
    }
    let axes = &scenario.sweep[d.first_axis..];
    Some(datapact_trace::manifest::DesignRecord {
        kind: d.kind.as_str().to_string(),
        samples: d.samples,
        keys: axes.iter().map(|a| a.key.clone()).collect(),
        columns: axes.iter().map(|a| a.column.clone()).collect(),
        grid_cells: scenario.cell_count() / d.points,
        points: (0..d.points)
            .map(|p| axes.iter().map(|a| a.values[p]).collect())
            .collect(),
        unit: d.unit.clone(),
    })
}

/// Writes `manifest.json` if every shard of `shards` has recorded its parts. Returns whether it did.
pub fn merge_manifest(
    out: &Path,
    scenario: &Scenario,
    plugins: &PluginSet,
    plan: &ChunkPlan,
    shards: usize,
) -> Result<bool, RunnerError> {
    let mut parts = Vec::new();
    for shard in 0..shards {
        let path = shard_record_path(out, shard, shards);
        if !path.is_file() {
            return Ok(false);
        }
        let record = read_shard_record(&path).map_err(RunnerError::Unreadable)?;
        parts.extend(record.parts);
    }
    parts.sort();
    let mut rows = std::collections::BTreeMap::new();
    for p in &parts {
        let table = p.file.split('/').next().unwrap_or("").to_string();
        *rows.entry(table).or_insert(0) += p.rows;
    }
    let manifest = Manifest {
        datapact_version: VERSION.to_string(),
        schema_version: datapact_trace::SCHEMA_VERSION.to_string(),
        scenario_name: scenario.name.clone(),
        scenario_hash: scenario.hash(),
        seed: scenario.seed,
        replications: scenario.replications,
        adaptive: scenario
            .adaptive
            .as_ref()
            .map(|a| datapact_trace::manifest::AdaptiveRecord {
                target_se: a.target_se,
                metric: a.metric.column(),
                min: a.min,
                max: a.max,
                batch: a.batch,
                contrast: a.contrast.map(|p| p.label()),
            }),
        mechanisms: scenario
            .mechanisms
            .iter()
            .map(|m| m.name.to_string())
            .collect(),
        plugins: plugin_list(plugins),
        metrics: plugins
            .metrics()
            .iter()
            .map(|m| m.name.to_string())
            .collect(),
        trace: scenario.trace.as_str().to_string(),
        sweep: scenario
            .sweep
            .iter()
            .map(|a| (a.key.clone(), a.column.clone()))
            .collect(),
        categories: scenario
            .sweep
            .iter()
            .filter(|a| !a.categories().is_empty())
            .map(|a| (a.column.clone(), a.labels()))
            .collect(),
        cells: plan.cells,
        chunk_cells: plan.chunk_cells,
        chunks: plan.chunks(),
        shards,
        rows,
        parts,
        scenario: scenario.normalized(),
        design: design_record(scenario),
    };
    let path = out.join("manifest.json");
    write_json_atomic(&path, &manifest).map_err(io_err(&path))?;
    Ok(true)
}
