//! One verified view of an output directory, the only way datapact reads a run back
//! (`report`, `status`, `verify`, `--resume`): `_run.json` is the reference (the normalised
//! scenario, its hash, seed, grid size, chunk plan, tables and number of shards, checked against
//! the scenario by every run into the directory); the manifest, the shard records and every
//! part's embedded metadata are cross-checked against it, and files no run wrote are named.
//! A problem is a sentence naming the file; a reader refuses a run with any.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::identity::{RunIdentity, read_identity};
use crate::layout::{CHUNK_KEY, ChunkPlan, chunk_of_file};
use crate::manifest::{
    Manifest, ShardRecord, read_manifest, read_shard_record, shard_record_path, shard_records,
};
use crate::{FileError, Table, keys};

/// An output directory as its identity says it must be, with every disagreement found.
#[derive(Clone, Debug)]
pub struct RunView {
    /// The directory.
    pub dir: PathBuf,
    /// `_run.json`: what the directory holds outputs of.
    pub identity: RunIdentity,
    /// `manifest.json`, if the run has finished (and it reads).
    pub manifest: Option<Manifest>,
    /// The shard records of the directory's N, by shard index (only those present).
    pub records: BTreeMap<usize, ShardRecord>,
    /// What disagrees with the identity: each names the file and says why.
    pub problems: Vec<String>,
    /// Files in the table directories that no chunk of the run writes.
    pub strays: Vec<String>,
    /// Whether the manifest agrees with the identity (its checksums can be trusted).
    manifest_consistent: bool,
}

impl RunView {
    /// Reads and cross-checks `dir` without opening any part file (cheap). Errs if `dir` is not
    /// a datapact run (no readable `_run.json`).
    pub fn open(dir: &Path) -> Result<RunView, FileError> {
        let identity = read_identity(dir)?;
        let mut view = RunView {
            dir: dir.to_path_buf(),
            identity,
            manifest: None,
            records: BTreeMap::new(),
            problems: Vec::new(),
            strays: Vec::new(),
            manifest_consistent: false,
        };
        view.check_identity();
        view.read_records();
        view.read_manifest();
        view.find_strays();
        Ok(view)
    }

    /// The chunk layout of the run.
    pub fn plan(&self) -> ChunkPlan {
        self.identity.plan()
    }

    /// The tables the run writes.
    pub fn tables(&self) -> Vec<Table> {
        Table::ALL
            .into_iter()
            .filter(|t| self.identity.tables.iter().any(|n| n == t.dir_name()))
            .collect()
    }

    /// Every part file the run must have, in manifest order (sorted by path).
    pub fn expected_parts(&self) -> BTreeSet<String> {
        self.parts_of_chunks(0..self.plan().chunks())
    }

    fn parts_of_chunks(&self, chunks: impl Iterator<Item = usize> + Clone) -> BTreeSet<String> {
        self.tables()
            .iter()
            .flat_map(|t| {
                chunks
                    .clone()
                    .map(move |c| format!("{}/{}.parquet", t.dir_name(), ChunkPlan::part_name(c)))
            })
            .collect()
    }

    /// The manifest, if it agrees with the identity.
    pub fn trusted_manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref().filter(|_| self.manifest_consistent)
    }

    /// Shards whose record is present and consistent, ascending.
    pub fn complete_shards(&self) -> Vec<usize> {
        self.records.keys().copied().collect()
    }

    /// The manifest of a finished run with no problem found so far; otherwise why not (a
    /// [`crate::FileErrorKind::Damaged`] error: an inconsistent or unfinished run).
    pub fn finished(&self) -> Result<&Manifest, FileError> {
        let strays = self
            .strays
            .iter()
            .map(|f| format!("{f}: no chunk of this run writes this file"));
        let problems: Vec<String> = self.problems.iter().cloned().chain(strays).collect();
        if !problems.is_empty() {
            return Err(FileError::damaged(format!(
                "{}: {} problem(s): {}",
                self.dir.display(),
                problems.len(),
                problems.join("; ")
            )));
        }
        self.manifest.as_ref().ok_or_else(|| {
            FileError::damaged(format!(
                "{}: the run has not finished (no manifest.json; {} of {} shards recorded; \
                 see `datapact status`)",
                self.dir.display(),
                self.records.len(),
                self.identity.shards
            ))
        })
    }

    fn problem(&mut self, file: &str, why: String) {
        self.problems.push(format!("{file}: {why}"));
    }

    fn check_identity(&mut self) {
        use sha2::{Digest, Sha256};
        let id = &self.identity;
        let hash: String = Sha256::digest(id.scenario.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        // (The counts readers loop over were checked when `_run.json` was read.)
        let mut why = Vec::new();
        if hash != id.scenario_hash {
            why.push("its scenario does not hash to its scenario_hash".to_string());
        }
        let known: Vec<&str> = Table::ALL.iter().map(|t| t.dir_name()).collect();
        for t in &id.tables {
            if !known.contains(&t.as_str()) {
                why.push(format!("tables lists {:?}, which is no table", short(t)));
            }
        }
        let distinct: BTreeSet<&String> = id.tables.iter().collect();
        if distinct.len() != id.tables.len() {
            why.push("tables lists a table twice".to_string());
        }
        if id.mechanisms.is_empty() {
            why.push("no mechanisms".to_string());
        }
        // Readers open the run's points file by its one name: a record naming another is not
        // the run's (found by the run-metadata fuzz: it passed `verify`).
        if let Some(points) = &id.design_points
            && points.file != crate::DESIGN_POINTS_FILE
        {
            why.push(format!(
                "design_points names {:?}; a run's listed design points are {}",
                short(&points.file),
                crate::DESIGN_POINTS_FILE
            ));
        }
        for w in why {
            self.problem("_run.json", w);
        }
    }

    fn read_records(&mut self) {
        let n = self.identity.shards;
        let Ok(found) = shard_records(&self.dir) else {
            return;
        };
        for (index, count) in found {
            let path = shard_record_path(&self.dir, index, count);
            let file = format!("_shards/{}", path.file_name().unwrap_or_default().display());
            if count != n || index >= n {
                self.problem(
                    &file,
                    format!("a record of shard {index}/{count}, but this run has {n} shard(s)"),
                );
                continue;
            }
            let record = match read_shard_record(&path) {
                Ok(r) => r,
                Err(e) => {
                    self.problems.push(e.message);
                    continue;
                }
            };
            // Shard I of N owns chunks I, I + N, …: stepped, not filtered, so that N records
            // cost N × chunks / N, not N × chunks.
            let chunks: Vec<usize> = (index..self.plan().chunks()).step_by(count).collect();
            let files: BTreeSet<String> = record.parts.iter().map(|p| p.file.clone()).collect();
            let mut why = Vec::new();
            if (record.shard, record.shards) != (index, count) {
                why.push(format!("says shard {}/{}", record.shard, record.shards));
            }
            if record.scenario_hash != self.identity.scenario_hash {
                why.push("another scenario's hash".to_string());
            }
            if record.version != self.identity.version {
                why.push(format!(
                    "written by datapact {}, the run's is {}",
                    short(&record.version),
                    short(&self.identity.version)
                ));
            }
            if record.chunks != chunks {
                why.push("not the chunks this shard owns".to_string());
            }
            if files != self.parts_of_chunks(chunks.iter().copied())
                || files.len() != record.parts.len()
            {
                why.push("its parts are not exactly this shard's chunks' parts".to_string());
            }
            if why.is_empty() {
                self.records.insert(index, record);
            } else {
                self.problem(&file, why.join(", "));
            }
        }
    }

    fn read_manifest(&mut self) {
        // `symlink_metadata`: a dangling symlink named manifest.json is a problem, not absent.
        if std::fs::symlink_metadata(self.dir.join("manifest.json")).is_err() {
            return;
        }
        let m = match read_manifest(&self.dir) {
            Ok(m) => m,
            Err(e) => {
                self.problems.push(e.message);
                return;
            }
        };
        let id = &self.identity;
        let plan = self.plan();
        let mut why = Vec::new();
        let mut differs = |what: &str, found: String, expected: String| {
            if found != expected {
                why.push(format!(
                    "{what} = {}, the run's is {}",
                    crate::files::clip(&found, 80),
                    crate::files::clip(&expected, 80)
                ));
            }
        };
        differs(
            "scenario_name",
            m.scenario_name.clone(),
            id.scenario_name.clone(),
        );
        differs(
            "scenario_hash",
            m.scenario_hash.clone(),
            id.scenario_hash.clone(),
        );
        differs("seed", m.seed.to_string(), id.seed.to_string());
        differs(
            "replications",
            m.replications.to_string(),
            id.replications.to_string(),
        );
        differs(
            "mechanisms",
            m.mechanisms.join(","),
            id.mechanisms.join(","),
        );
        differs("cells", m.cells.to_string(), plan.cells.to_string());
        differs(
            "chunk_cells",
            m.chunk_cells.to_string(),
            plan.chunk_cells.to_string(),
        );
        differs("chunks", m.chunks.to_string(), plan.chunks().to_string());
        differs("shards", m.shards.to_string(), id.shards.to_string());
        differs(
            "datapact_version",
            m.datapact_version.clone(),
            id.version.clone(),
        );
        differs("plugins", m.plugins.join(", "), id.plugins.join(", "));
        let traced: Vec<&str> = match m.trace.as_str() {
            "cells" => vec!["cells", "diagnostics", "contrasts"],
            "rounds" => vec!["cells", "diagnostics", "contrasts", "rounds"],
            "users" => vec!["cells", "diagnostics", "contrasts", "rounds", "users"],
            "events" => vec![
                "cells",
                "diagnostics",
                "contrasts",
                "rounds",
                "users",
                "events",
            ],
            _ => vec![],
        };
        differs("trace's tables", traced.join(","), id.tables.join(","));
        if m.scenario != id.scenario {
            why.push("its scenario is not the run's".to_string());
        }
        // Every other field (the design's points and axes, the sweep, the plugins, …) against
        // the digests the run recorded when it started.
        if id.manifest_fields.is_empty() {
            why.push(
                "_run.json records no digest of the manifest's fields (written by an older \
                 datapact): run the scenario again into a new directory"
                    .to_string(),
            );
        } else {
            let found = m.field_digests();
            let keys: BTreeSet<&String> = found.keys().chain(id.manifest_fields.keys()).collect();
            for key in keys {
                let named = why.iter().any(|w| w.starts_with(&format!("{key} ")));
                if !named && found.get(key) != id.manifest_fields.get(key) {
                    why.push(format!(
                        "{} is not the run's (it differs from what _run.json records)",
                        crate::files::clip(key, 40)
                    ));
                }
            }
        }
        let files: BTreeSet<String> = m.parts.iter().map(|p| p.file.clone()).collect();
        let expected = self.expected_parts();
        for missing in expected.difference(&files).take(5) {
            why.push(format!("{missing} is not listed"));
        }
        for extra in files.difference(&expected).take(5) {
            why.push(format!("lists {extra}, which no chunk of the run writes"));
        }
        if files.len() != m.parts.len() {
            why.push("lists a part twice".to_string());
        }
        let mut rows: BTreeMap<String, u64> = BTreeMap::new();
        for p in &m.parts {
            let table = p.file.split('/').next().unwrap_or("").to_string();
            *rows.entry(table).or_insert(0) += p.rows;
        }
        if rows != m.rows {
            why.push("its row totals are not the sums of its parts' rows".to_string());
        }
        // Every cell writes the same number of summary rows per mechanism: a part whose row
        // count is not its chunk's cells × mechanisms × that number is not this run's.
        let per_cell = m.mechanisms.len().max(1) as u64;
        let mut rows_per_cell = BTreeSet::new();
        for p in m.parts.iter().filter(|p| p.file.starts_with("cells/")) {
            let Some(chunk) = chunk_of_file(&p.file) else {
                continue;
            };
            let cells = plan.cells_of(chunk).len() as u64 * per_cell;
            if cells == 0 || p.rows % cells != 0 {
                why.push(format!(
                    "{} has {} rows, not a multiple of its {cells} cell-mechanisms",
                    p.file, p.rows
                ));
            } else {
                rows_per_cell.insert(p.rows / cells);
            }
        }
        if rows_per_cell.len() > 1 {
            why.push("the cells table's parts disagree on rows per cell".to_string());
        }
        self.manifest_consistent = why.is_empty();
        for w in why {
            self.problem("manifest.json", w);
        }
        // A consistent manifest and the shard records it was merged from must agree part by
        // part (a record edited afterwards would mislead a later merge or resume).
        if self.manifest_consistent {
            let listed: BTreeMap<&str, &crate::PartEntry> =
                m.parts.iter().map(|p| (p.file.as_str(), p)).collect();
            let mut disagree = Vec::new();
            for (index, record) in &self.records {
                if let Some(p) = record
                    .parts
                    .iter()
                    .find(|p| listed.get(p.file.as_str()) != Some(p))
                {
                    disagree.push((
                        *index,
                        format!(
                            "_shards/shard-{index:05}-of-{:05}.json",
                            self.identity.shards
                        ),
                        format!(
                            "its entry for {} (rows, checksum) is not the manifest's",
                            crate::files::clip(&p.file, 80)
                        ),
                    ));
                }
            }
            for (index, file, why) in disagree {
                self.records.remove(&index);
                self.problem(&file, why);
            }
        }
        self.manifest = Some(m);
    }

    /// Files in the table directories that no chunk of the run writes (hidden temporaries of
    /// an interrupted run excepted), and table directories the run does not write.
    fn find_strays(&mut self) {
        let expected = self.expected_parts();
        let tables = self.tables();
        for table in Table::ALL {
            let Ok(entries) = std::fs::read_dir(self.dir.join(table.dir_name())) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let rel = format!("{}/{name}", table.dir_name());
                if name.starts_with('.') {
                    continue;
                }
                if !tables.contains(&table) || !expected.contains(&rel) {
                    self.strays.push(rel);
                }
            }
        }
    }

    /// A finished, consistent run whose parts of `tables` all match the manifest (checksum,
    /// rows read back) and carry this run's metadata, and whose `design_points.parquet` (a
    /// listed design's) matches `_run.json`: what a reader of those tables needs.
    /// The error names the directory and every problem found.
    pub fn verified(&self, tables: &[Table]) -> Result<&Manifest, FileError> {
        let manifest = self.finished()?;
        let mut problems = Vec::new();
        if let Err(why) = crate::check_design_points(&self.dir, &self.identity) {
            problems.push(format!("{}: {why}", crate::DESIGN_POINTS_FILE));
        }
        for p in &manifest.parts {
            if !tables
                .iter()
                .any(|t| p.file.starts_with(&format!("{}/", t.dir_name())))
            {
                continue;
            }
            let checked =
                crate::read::inspect_part_and_metadata(&self.dir.join(&p.file), Some(&p.sha256))
                    .and_then(|(info, metadata)| {
                        if info.rows == p.rows {
                            self.check_metadata(&p.file, &metadata)
                        } else {
                            Err(format!("{} rows, manifest says {}", info.rows, p.rows))
                        }
                    });
            if let Err(why) = checked {
                problems.push(format!("{}: {why}", p.file));
            }
        }
        if problems.is_empty() {
            Ok(manifest)
        } else {
            Err(FileError::damaged(format!(
                "{}: {} damaged part(s) (`datapact verify` lists them): {}",
                self.dir.display(),
                problems.len(),
                problems.join("; ")
            )))
        }
    }

    /// Checks one part file's embedded metadata: this run's seed and scenario hash, and the
    /// table and chunk its name says.
    pub fn check_part_metadata(&self, file: &str) -> Result<(), String> {
        let meta = crate::read_metadata(&self.dir.join(file)).map_err(|e| e.to_string())?;
        self.check_metadata(file, &meta)
    }

    /// [`Self::check_part_metadata`] of metadata already read from the part `file` (by
    /// [`crate::inspect_part_and_metadata`], which reads the part once for both).
    pub fn check_metadata(
        &self,
        file: &str,
        meta: &std::collections::HashMap<String, String>,
    ) -> Result<(), String> {
        let table = file.split('/').next().unwrap_or("");
        let chunk = chunk_of_file(file)
            .map(|c| c.to_string())
            .unwrap_or_default();
        let seed = self.identity.seed.to_string();
        let replication = self
            .identity
            .replication
            .map_or("<absent>".to_string(), |r| r.to_string());
        // A listed design's parts name its points by the checksum of the run's one points file.
        let design_points = self
            .identity
            .design_points
            .as_ref()
            .map_or("<absent>", |e| e.sha256.as_str());
        for (key, expected) in [
            (keys::SEED, seed.as_str()),
            (keys::SCENARIO_HASH, self.identity.scenario_hash.as_str()),
            (keys::TABLE, table),
            (CHUNK_KEY, chunk.as_str()),
            (keys::REPLICATION, replication.as_str()),
            (keys::DESIGN_POINTS, design_points),
        ] {
            let found = meta.get(key).map(String::as_str).unwrap_or("<absent>");
            if found != expected {
                return Err(format!(
                    "metadata {key} = {}, this run's is {}",
                    short(found),
                    short(expected)
                ));
            }
        }
        Ok(())
    }
}

fn short(s: &str) -> String {
    crate::files::clip(s, 16)
}
