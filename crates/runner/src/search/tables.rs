//! The search's own Parquet tables (`pareto`, `evaluations`, `hypervolume`, `posterior`, ...):
//! small, one record batch each, written whole through a hidden temporary file and a rename,
//! every column described in its field metadata like the run tables'.

use std::path::Path;
use std::sync::Arc;

use datapact_scenario::search::{Domain, Measure, SearchKey};
use datapact_search::Estimate;
use datapact_trace::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use datapact_trace::arrow::datatypes::{Field, Schema};
use datapact_trace::described_field;

use crate::error::RunnerError;

/// Columns of one table, in order.
#[derive(Default)]
pub(crate) struct SearchTable {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

impl SearchTable {
    fn push(&mut self, name: &str, description: &str, array: ArrayRef, nullable: bool) {
        self.fields.push(described_field(
            name,
            array.data_type().clone(),
            nullable,
            description,
        ));
        self.arrays.push(array);
    }

    pub(crate) fn f64(&mut self, name: &str, description: &str, values: Vec<f64>) {
        self.push(
            name,
            description,
            Arc::new(Float64Array::from(values)),
            false,
        );
    }

    pub(crate) fn u32(&mut self, name: &str, description: &str, values: Vec<u32>) {
        self.push(
            name,
            description,
            Arc::new(UInt32Array::from(values)),
            false,
        );
    }

    pub(crate) fn u64(&mut self, name: &str, description: &str, values: Vec<u64>) {
        self.push(
            name,
            description,
            Arc::new(UInt64Array::from(values)),
            false,
        );
    }

    pub(crate) fn bool(&mut self, name: &str, description: &str, values: Vec<bool>) {
        self.push(
            name,
            description,
            Arc::new(BooleanArray::from(values)),
            false,
        );
    }

    pub(crate) fn utf8(&mut self, name: &str, description: &str, values: Vec<String>) {
        self.push(
            name,
            description,
            Arc::new(StringArray::from(values)),
            false,
        );
    }

    /// One column per key, named as in `cells`: Float64 for a numeric key, Utf8 (the label)
    /// for a categorical one. `rows` hold a value per key (a label's index for a categorical
    /// key).
    pub(crate) fn keys(&mut self, keys: &[SearchKey], rows: &[&[f64]]) {
        for (k, key) in keys.iter().enumerate() {
            let desc = format!(
                "The value of {} (as the `{}` column of cells).",
                key.key, key.column
            );
            match &key.domain {
                Domain::Labels(c) => {
                    let labels = rows.iter().map(|r| c[r[k] as usize].label()).collect();
                    self.utf8(&key.column, &desc, labels);
                }
                _ => self.f64(&key.column, &desc, rows.iter().map(|r| r[k]).collect()),
            }
        }
    }

    /// Writes the table to `path` (whole or not at all, [`datapact_trace::write_table_file`],
    /// `datapact.table` its file's stem) with `metadata` in the file's key-value metadata. The
    /// same table always gives the same bytes.
    pub(crate) fn write(
        self,
        path: &Path,
        metadata: &[(String, String)],
    ) -> Result<(), RunnerError> {
        let schema = Arc::new(Schema::new(self.fields));
        let batch = RecordBatch::try_new(schema.clone(), self.arrays).map_err(|e| {
            RunnerError::Unreadable(format!("{}: columns do not fit: {e}", path.display()))
        })?;
        let table = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("search");
        datapact_trace::write_table_file(path, table, &batch, metadata).map_err(RunnerError::Trace)
    }
}

/// Column names: a measure's column and its SE's, or a key's, must not collide.
pub(crate) fn check_unique(names: &[String]) -> Result<(), RunnerError> {
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(RunnerError::Refused(format!(
                "two columns of the search's tables would both be named `{n}`"
            )));
        }
    }
    Ok(())
}

impl SearchTable {
    /// `<column>` and `<column>_se` of every measure: row r's values are `rows[r]`, in the
    /// measures' order; `note` ends the mean's description (how the value was obtained).
    pub(crate) fn measures(&mut self, measures: &[Measure], rows: &[&[Estimate]], note: &str) {
        for (k, m) in measures.iter().enumerate() {
            let c = m.column();
            self.f64(
                &c,
                &format!("The mean of {c} (the last round of the run's cells or contrasts){note}."),
                rows.iter().map(|r| r[k].mean).collect(),
            );
            self.f64(
                &format!("{c}_se"),
                &format!("Standard error of {c}{note}."),
                rows.iter().map(|r| r[k].se).collect(),
            );
        }
    }

    /// `run` and `cell`: the run directory (relative to the search's) and its cell that
    /// simulated each row, to join with the run's own tables.
    pub(crate) fn runs(&mut self, runs: Vec<String>, cells: Vec<u32>) {
        self.utf8(
            "run",
            "The run directory that simulated the point, relative to the search's directory.",
            runs,
        );
        self.u32(
            "cell",
            "The point's cell in that run (join with the run's tables).",
            cells,
        );
    }
}
