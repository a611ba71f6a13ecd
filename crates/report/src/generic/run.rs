//! What the generic figures are drawn from: one run's statistics in its last round, and its
//! paired contrasts.

/// One statistic: its `cells` column, its standard-error column, and what it means.
#[derive(Clone, Debug, PartialEq)]
pub struct Stat {
    /// The `cells` column of its mean.
    pub column: String,
    /// The `cells` column of its standard error.
    pub se_column: String,
    /// What it means, with units (titles and axes).
    pub label: String,
}

/// One row of `cells` in the last round, with the values of the run's statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct StatRow {
    /// The mechanism of the row.
    pub mechanism: String,
    /// Swept values, aligned with [`RunStats::axes`].
    pub coords: Vec<f64>,
    /// (mean, standard error) per statistic, aligned with [`RunStats::stats`]; None = null.
    pub values: Vec<(Option<f64>, Option<f64>)>,
}

/// The statistics of one run's last round, as read from its `cells` table.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStats {
    /// The run's scenario name.
    pub name: String,
    /// Its mechanisms, in catalog order.
    pub mechanisms: Vec<String>,
    /// Swept (key, column) pairs, in grid order (first varies slowest).
    pub axes: Vec<(String, String)>,
    /// Per axis, the labels of a categorical axis (whose coordinates are their positions 0,
    /// 1, …); empty for a numeric axis (or for every axis when this is empty).
    pub categories: Vec<Vec<String>>,
    /// The round drawn (the last).
    pub round: u32,
    /// The statistics drawn, in declaration order (plugin metrics after the core's).
    pub stats: Vec<Stat>,
    /// One row per cell × mechanism.
    pub rows: Vec<StatRow>,
    /// The run's fixed settings that differ from a reference (`key = value`), shown in titles and
    /// captions; see [`super::changed_settings`].
    pub settings: Vec<String>,
    /// What `settings` are compared with, for the caption (e.g. "the defaults").
    pub settings_reference: String,
    /// The run's `contrasts` table in the same round; `None` for runs written before it existed.
    pub contrasts: Option<RunContrasts>,
}

/// One row of `contrasts` in the last round: a pair's paired differences in one cell.
#[derive(Clone, Debug, PartialEq)]
pub struct ContrastRow {
    /// Mechanism A of the difference A − B.
    pub a: String,
    /// Mechanism B.
    pub b: String,
    /// Swept values, aligned with [`RunStats::axes`].
    pub coords: Vec<f64>,
    /// (A − B, its paired SE), aligned with [`RunContrasts::metrics`].
    pub values: Vec<(f64, f64)>,
}

/// A run's `contrasts` table (last round).
#[derive(Clone, Debug, PartialEq)]
pub struct RunContrasts {
    /// Contrasted metrics: the stems `m` of the `{m}_diff` columns, in table order.
    pub metrics: Vec<String>,
    /// The pairs (A, B), in table order.
    pub pairs: Vec<(String, String)>,
    /// One row per cell × pair.
    pub rows: Vec<ContrastRow>,
}

impl RunStats {
    /// The categories of axis `a` (empty for a numeric axis).
    pub fn axis_labels(&self, a: usize) -> Vec<String> {
        self.categories.get(a).cloned().unwrap_or_default()
    }

    /// The categories of axis `a`, if it is categorical.
    pub(super) fn labels(&self, a: usize) -> Option<Vec<String>> {
        Some(self.axis_labels(a)).filter(|l| !l.is_empty())
    }

    /// Value `v` of axis `a` as text: its category, or the number.
    pub(super) fn value_text(&self, a: usize, v: f64) -> String {
        match self.categories.get(a).and_then(|l| l.get(v as usize)) {
            Some(label) => label.clone(),
            None => fmt_value(v),
        }
    }
}

pub(super) fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

pub(super) fn range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values.into_iter().fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((a, b)) => Some((a.min(v), b.max(v))),
    })
}

pub(super) fn fmt_value(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        crate::figures::unsigned_zero(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_value_in_a_title_is_never_a_negative_zero() {
        for v in [-0.0, -1e-9, -0.00004] {
            assert_eq!(super::fmt_value(v), "0", "{v}");
        }
        assert_eq!(super::fmt_value(-0.25), "-0.25");
        assert_eq!(super::fmt_value(0.1), "0.1");
    }
}
