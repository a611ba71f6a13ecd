//! Small multiples for the swept axes beyond the first two.

use super::run::{RunStats, close};

/// Most rows of panels a figure gets for the axes beyond the first two.
pub const MAX_FACETS: usize = 8;

/// How the swept axes beyond the first two are shown: small multiples, one row of panels per
/// combination of their values (grid order), when there are at most [`MAX_FACETS`] combinations;
/// otherwise one row per value of the third axis (thinned evenly to [`MAX_FACETS`]) with the
/// fourth and later axes fixed at their first value.
#[derive(Clone, Debug, Default)]
pub struct Facets {
    /// One entry per row of panels: the (axis, value) pairs its panels hold.
    pub rows: Vec<Vec<(usize, f64)>>,
    /// Axes held at one value in every panel.
    pub fixed: Vec<(usize, f64)>,
    /// Values of the third axis left out by thinning.
    pub thinned: usize,
}

impl Facets {
    /// The facets of `run`'s sweep (a single empty row for two axes or fewer).
    pub fn of(run: &RunStats) -> Facets {
        let distinct = |a: usize| {
            let mut v: Vec<f64> = run.rows.iter().map(|r| r.coords[a]).collect();
            v.sort_by(f64::total_cmp);
            v.dedup_by(|x, y| close(*x, *y));
            v
        };
        let extra: Vec<Vec<f64>> = (2..run.axes.len()).map(distinct).collect();
        let combinations: usize = extra.iter().map(Vec::len).product();
        if extra.is_empty() {
            return Facets {
                rows: vec![Vec::new()],
                ..Facets::default()
            };
        }
        if combinations <= MAX_FACETS {
            // Odometer over the extra axes, the first varying slowest (grid order).
            let mut rows = vec![Vec::new()];
            for (i, values) in extra.iter().enumerate() {
                rows = rows
                    .into_iter()
                    .flat_map(|row: Vec<(usize, f64)>| {
                        values.iter().map(move |&v| {
                            let mut r = row.clone();
                            r.push((2 + i, v));
                            r
                        })
                    })
                    .collect();
            }
            return Facets {
                rows,
                ..Facets::default()
            };
        }
        let third = &extra[0];
        let kept: Vec<f64> = if third.len() <= MAX_FACETS {
            third.clone()
        } else {
            (0..MAX_FACETS)
                .map(|i| third[(i * (third.len() - 1) + (MAX_FACETS - 1) / 2) / (MAX_FACETS - 1)])
                .collect()
        };
        Facets {
            rows: kept.iter().map(|&v| vec![(2, v)]).collect(),
            fixed: extra[1..]
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.first().map(|&f| (3 + i, f)))
                .collect(),
            thinned: third.len() - kept.len(),
        }
    }

    /// Whether a cell at `coords` belongs to the facet row `facet`.
    pub(super) fn holds(facet: &[(usize, f64)], coords: &[f64]) -> bool {
        facet.iter().all(|&(a, v)| close(coords[a], v))
    }

    /// A panel's title: `name`, then the facet's values.
    pub(super) fn title(&self, run: &RunStats, facet: &[(usize, f64)], name: &str) -> String {
        facet.iter().fold(name.to_string(), |t, &(a, v)| {
            format!("{t} · {} = {}", run.axes[a].0, run.value_text(a, v))
        })
    }

    /// What the caption says about the axes beyond two (empty for two or fewer); `fixed_notes`
    /// are the fixed axes as `key = value`.
    pub(super) fn caption(&self, run: &RunStats, fixed_notes: &[String]) -> String {
        if run.axes.len() <= 2 {
            return String::new();
        }
        let faceted: Vec<&str> = self.rows[0]
            .iter()
            .map(|&(a, _)| run.axes[a].0.as_str())
            .collect();
        let mut s = format!(
            " Small multiples: one row of panels per value of {}.",
            faceted.join(" × ")
        );
        if self.thinned > 0 {
            s += &format!(
                " It has {} values: the {} shown are evenly spaced among them.",
                self.rows.len() + self.thinned,
                self.rows.len()
            );
        }
        if !self.fixed.is_empty() {
            s += &format!(
                " The other swept axes are fixed at their first value: {}.",
                fixed_notes.join(", ")
            );
        }
        s
    }
}
