//! The `datapact.Scenario` class: a validated scenario and its read-only properties.

use datapact_scenario::Scenario;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A validated scenario: what `datapact.validate` returns and `datapact.run` runs.
#[pyclass(frozen, name = "Scenario", module = "datapact")]
pub(crate) struct PyScenario {
    pub(crate) inner: Scenario,
    /// The overrides it was loaded with: more overrides reload the same text with all of them,
    /// so the outputs record the original source, as from the command line.
    pub(crate) overrides: Vec<String>,
}

#[pymethods]
impl PyScenario {
    /// `[scenario] name`.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// The master seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.seed
    }
    /// Campaigns per cell and mechanism.
    #[getter]
    fn replications(&self) -> u32 {
        self.inner.replications
    }
    /// The mechanisms, in canonical order (`"C"`, `"S"`, `"M"`).
    #[getter]
    fn mechanisms(&self) -> Vec<&'static str> {
        self.inner.mechanisms.iter().map(|m| m.name).collect()
    }
    /// The grid axes (`[sweep]`, and the categories a design is crossed with): `(key, output
    /// column, values)`, first axis slowest. A design's points are not listed here (a Sobol
    /// design has tens of thousands): see `design`.
    #[getter]
    fn sweep(&self) -> Vec<(String, String, Vec<f64>)> {
        let d = &self.inner.design;
        let grid = if d.points > 0 {
            &self.inner.sweep[..d.first_axis]
        } else {
            &self.inner.sweep[..]
        };
        grid.iter()
            .map(|a| (a.key.clone(), a.column.clone(), a.values.clone()))
            .collect()
    }
    /// The design's summary, or `None` without points: `kind`, `samples`, `points` (how many),
    /// `second_order` (Sobol) and `axes`, one dict per axis with `key`, `column` and, for a sampled
    /// kind, `from`, `to`, `log`. The points themselves are in a run's `experiments()` table and
    /// `manifest["design"]["points"]` (a listed design's, once, in its `design_points.parquet`).
    #[getter]
    fn design<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let d = &self.inner.design;
        if d.points == 0 {
            return Ok(None);
        }
        let out = PyDict::new(py);
        out.set_item("kind", d.kind.as_str())?;
        out.set_item("samples", d.samples)?;
        out.set_item("points", d.points)?;
        if d.kind == datapact_scenario::DesignKind::Sobol {
            out.set_item("second_order", !d.first_order_only)?;
        }
        let axes = self.inner.sweep[d.first_axis..]
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let axis = PyDict::new(py);
                axis.set_item("key", &a.key)?;
                axis.set_item("column", &a.column)?;
                if let Some(r) = d.ranges.get(i) {
                    axis.set_item("from", r.from)?;
                    axis.set_item("to", r.to)?;
                    axis.set_item("log", r.log)?;
                }
                Ok(axis)
            })
            .collect::<PyResult<Vec<_>>>()?;
        out.set_item("axes", axes)?;
        Ok(Some(out))
    }
    /// Number of grid cells.
    #[getter]
    fn cells(&self) -> usize {
        self.inner.cell_count()
    }
    /// cells × replications × mechanisms.
    #[getter]
    fn campaigns(&self) -> u128 {
        self.inner.campaigns()
    }
    /// `"cells"`, `"rounds"`, `"users"` or `"events"`.
    #[getter]
    fn trace(&self) -> &'static str {
        self.inner.trace.as_str()
    }
    /// Hex SHA-256 of the effective scenario (the hash written into every output).
    #[getter]
    fn hash(&self) -> String {
        self.inner.hash()
    }
    /// Where it came from: a file path, `<embedded>/NAME`, `<string>` or `<dict>`.
    #[getter]
    fn origin(&self) -> &str {
        &self.inner.origin
    }
    /// The effective scenario (defaults filled, overrides applied) as normalised TOML, a listed
    /// design's points inline (its `hash` is of the text a run stores, which names them by
    /// digest instead).
    #[getter]
    fn toml(&self) -> String {
        self.inner.normalized()
    }
    fn __repr__(&self) -> String {
        format!(
            "<datapact.Scenario {:?}: {} cells x {} replications x {} mechanisms, trace={}, from {}>",
            self.inner.name,
            self.inner.cell_count(),
            self.inner.replications,
            self.inner.mechanisms.len(),
            self.inner.trace.as_str(),
            self.inner.origin
        )
    }
}
