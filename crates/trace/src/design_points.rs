//! A listed design's points, stored once per run: `design_points.parquet` at the run's root,
//! one Float64 column per design key (named by the key, so the file is itself a valid
//! `[design] file = …` points file), one row per point in point order. `_run.json` records its
//! rows and SHA-256 ([`crate::RunIdentity::design_points`]) and every part names the same
//! SHA-256 under [`crate::keys::DESIGN_POINTS`], in place of the points its embedded scenario
//! would otherwise list inline (`file = "design_points.parquet"` instead).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use sha2::{Digest, Sha256};

use crate::manifest::PartEntry;
use crate::{RunIdentity, SCHEMA_VERSION, keys};

/// The file's name, relative to the run directory.
pub const DESIGN_POINTS_FILE: &str = "design_points.parquet";

/// The `datapact.table` value in the file's metadata.
pub const DESIGN_POINTS_TABLE: &str = "design_points";

/// The file's bytes for a listed design over `keys` with `points` (point by point, each in the
/// keys' order), stamped with the run's scenario hash, seed and datapact version: a pure
/// function of its arguments, so every shard and every resume writes the same bytes.
pub fn design_points_bytes(
    keys: &[String],
    points: &[Vec<f64>],
    scenario_hash: &str,
    seed: u64,
    version: &str,
) -> Result<Vec<u8>, String> {
    let fields: Vec<Field> = keys
        .iter()
        .map(|k| Field::new(k, DataType::Float64, false))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let columns: Vec<ArrayRef> = (0..keys.len())
        .map(|i| {
            Arc::new(Float64Array::from_iter_values(
                points.iter().map(|p| p.get(i).copied().unwrap_or(f64::NAN)),
            )) as ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
    let kv = vec![
        KeyValue::new(keys::SCENARIO_HASH.into(), scenario_hash.to_string()),
        KeyValue::new(keys::VERSION.into(), version.to_string()),
        KeyValue::new(keys::SEED.into(), seed.to_string()),
        KeyValue::new(keys::TABLE.into(), DESIGN_POINTS_TABLE.to_string()),
        KeyValue::new(keys::SCHEMA_VERSION.into(), SCHEMA_VERSION.to_string()),
    ];
    let props = crate::writer::properties(kv);
    let mut bytes = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut bytes, schema, Some(props)).map_err(|e| e.to_string())?;
    writer.write(&batch).map_err(|e| e.to_string())?;
    writer.close().map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// What `_run.json` records of the file: its name, rows and SHA-256.
pub fn design_points_entry(bytes: &[u8], rows: usize) -> PartEntry {
    PartEntry {
        file: DESIGN_POINTS_FILE.to_string(),
        rows: rows as u64,
        sha256: crate::writer::hex(&Sha256::digest(bytes)),
    }
}

/// Checks a run's `design_points.parquet` against what its identity records: present, the
/// recorded SHA-256 and rows, this run's scenario hash, seed and table in its metadata, and its
/// points the ones the run's scenario names (`points_sha256` in its `[design]` table, which the
/// scenario hash covers). `Ok` for a run without one.
pub fn check_design_points(dir: &Path, identity: &RunIdentity) -> Result<(), String> {
    let Some(entry) = &identity.design_points else {
        return Ok(());
    };
    let path = dir.join(DESIGN_POINTS_FILE);
    if std::fs::symlink_metadata(&path).is_err() {
        return Err("missing (the run's listed design points)".to_string());
    }
    let (info, meta) = crate::read::inspect_part_and_metadata(&path, Some(&entry.sha256))?;
    if info.rows != entry.rows {
        return Err(format!("{} rows, _run.json says {}", info.rows, entry.rows));
    }
    let seed = identity.seed.to_string();
    for (key, expected) in [
        (keys::SEED, seed.as_str()),
        (keys::SCENARIO_HASH, identity.scenario_hash.as_str()),
        (keys::TABLE, DESIGN_POINTS_TABLE),
    ] {
        let found = meta.get(key).map(String::as_str).unwrap_or("<absent>");
        if found != expected {
            return Err(format!(
                "metadata {key} = {}, this run's is {}",
                crate::files::clip(found, 16),
                crate::files::clip(expected, 16)
            ));
        }
    }
    let named = named_points_sha256(&identity.scenario)
        .ok_or("the run's scenario names no points_sha256 in its [design] table")?;
    let found = points_sha256_of(&path)?;
    if found != named {
        return Err(format!(
            "its points have digest {}…, the run's scenario names points_sha256 = {}…",
            &found[..12],
            crate::files::clip(named, 12)
        ));
    }
    Ok(())
}

/// The `points_sha256` a canonical scenario text names in its `[design]` table (the text is
/// datapact's own: one `key = value` line each).
pub fn named_points_sha256(scenario: &str) -> Option<&str> {
    let mut in_design = false;
    for line in scenario.lines().map(str::trim) {
        if line.starts_with('[') {
            in_design = line == "[design]";
        } else if in_design && let Some(v) = line.strip_prefix("points_sha256 = ") {
            return v.strip_prefix('"')?.strip_suffix('"');
        }
    }
    None
}

/// The digest of the points a `design_points.parquet` holds
/// ([`datapact_model::points::points_sha256_hex`] of its columns' names and values).
fn points_sha256_of(path: &Path) -> Result<String, String> {
    let batches = crate::read_part(path).map_err(|e| e.to_string())?;
    let Some(first) = batches.first() else {
        return Err("no columns".to_string());
    };
    let schema = first.schema();
    let keys: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); keys.len()];
    for b in &batches {
        for (i, c) in b.columns().iter().enumerate() {
            let c = c
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| format!("column {:?} is not Float64", keys[i]))?;
            columns[i].extend(c.values().iter());
        }
    }
    let points = columns.first().map_or(0, Vec::len);
    let values = (0..points).flat_map(|p| columns.iter().map(move |c| &c[p]));
    Ok(datapact_model::points::points_sha256_hex(
        &keys, points, values,
    ))
}
