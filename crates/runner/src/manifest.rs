//! Writing `manifest.json`, the per-shard records and `_run.json` (their types and readers are
//! in `datapact_trace::manifest`).
//!
//! Each is written atomically ([`datapact_trace::atomic`]), so a reader sees either nothing or a whole
//! file; the merged manifest is sorted, so concurrent writers write equal bytes.

use std::path::Path;

use datapact_scenario::Scenario;
use datapact_sim::PluginSet;

use crate::VERSION;
use crate::error::{RunnerError, io_err};
use crate::plan::ChunkPlan;
use crate::spec::plugin_list;
use datapact_trace::atomic::write_json_atomic;
use datapact_trace::{design_points_bytes, design_points_entry};

pub use datapact_trace::manifest::{
    Manifest, PartEntry, ShardRecord, shard_record_path, shard_records,
};

/// A listed design's `design_points.parquet`: its bytes and what `_run.json` records of them
/// (`None` for any other design).
pub(crate) fn design_points_of(scenario: &Scenario) -> Option<(Vec<u8>, PartEntry)> {
    let (keys, points) = scenario.listed_points()?;
    // Float64 columns of checked values: encoding them cannot fail.
    let bytes = design_points_bytes(&keys, &points, &scenario.hash(), scenario.seed, VERSION)
        .expect("a listed design's points encode as Parquet");
    let entry = design_points_entry(&bytes, points.len());
    Some((bytes, entry))
}

/// The design's points for the manifest (`None` for a grid). A listed design's are named, not
/// listed: `points_file` (its `design_points.parquet`, rows and SHA-256), as `_run.json` names
/// them.
fn design_record(scenario: &Scenario) -> Option<datapact_trace::manifest::DesignRecord> {
    let d = &scenario.design;
    if d.points == 0 {
        return None;
    }
    let points_file = design_points_of(scenario).map(|(_, entry)| entry);
    let axes = &scenario.sweep[d.first_axis..];
    Some(datapact_trace::manifest::DesignRecord {
        kind: d.kind.as_str().to_string(),
        samples: d.samples,
        first_order_only: d.first_order_only,
        keys: axes.iter().map(|a| a.key.clone()).collect(),
        columns: axes.iter().map(|a| a.column.clone()).collect(),
        grid_cells: scenario.cell_count() / d.points,
        points: match points_file {
            Some(_) => Vec::new(),
            None => (0..d.points)
                .map(|p| axes.iter().map(|a| a.values[p]).collect())
                .collect(),
        },
        unit: d.unit.clone(),
        points_file,
    })
}

/// The manifest of a run of `scenario` in `shards` shards whose parts are `parts` (sorted):
/// everything but the parts is fixed when the run starts (`_run.json` records its digests).
pub(crate) fn manifest_of(
    scenario: &Scenario,
    plugins: &PluginSet,
    plan: &ChunkPlan,
    shards: usize,
    parts: Vec<PartEntry>,
) -> Manifest {
    let mut rows = std::collections::BTreeMap::new();
    for p in &parts {
        let table = p.file.split('/').next().unwrap_or("").to_string();
        *rows.entry(table).or_insert(0) += p.rows;
    }
    Manifest {
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
        plugins: plugin_list(plugins, scenario),
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
        scenario: scenario.canonical(),
        design: design_record(scenario),
    }
}

/// Writes `manifest.json` if every shard of `shards` has recorded its parts, each record
/// consistent with the run ([`datapact_trace::RunView`]: its shard, chunks and exactly their
/// parts; a record that is not is left out, and no manifest is written until it is rewritten).
/// Returns whether it did.
pub fn merge_manifest(
    out: &Path,
    scenario: &Scenario,
    plugins: &PluginSet,
    plan: &ChunkPlan,
    shards: usize,
) -> Result<bool, RunnerError> {
    let view = datapact_trace::RunView::open(out)?;
    if view.identity.shards != shards || view.records.len() != shards {
        return Ok(false);
    }
    let mut parts: Vec<PartEntry> = view.records.into_values().flat_map(|r| r.parts).collect();
    parts.sort();
    let manifest = manifest_of(scenario, plugins, plan, shards, parts);
    let path = out.join("manifest.json");
    write_json_atomic(&path, &manifest).map_err(io_err(&path))?;
    Ok(true)
}
