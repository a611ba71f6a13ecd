//! `[scenario] replications`: a fixed count per cell, or an adaptive rule that plays each cell
//! in deterministic batches until the standard error of a metric reaches a target
//! (`docs/designs.md`, "Adaptive replications").

use datapact_model::Rule;
use datapact_model::stats::{Stat, TargetMetric};

use crate::MechanismRef;
use crate::read::{Cx, Res, as_table, integer, number, string};
use crate::tree::{Node, Val};
pub use crate::types::Adaptive;

/// Largest adaptive `max`: 10^8 replications bring an SE to 10^-4 of the metric's standard
/// deviation; beyond, a target is better met by a less noisy metric than by more runs.
pub const MAX_ADAPTIVE_REPLICATIONS: u32 = 100_000_000;

/// The keys of an adaptive `replications` table.
const KEYS: [&str; 6] = ["target_se", "metric", "min", "max", "batch", "contrast"];

impl Adaptive {
    /// The rule as one line, for `datapact validate` and run summaries.
    pub fn describe(&self) -> String {
        let of = match &self.contrast {
            Some(p) => format!("the {} contrast of {}", p.label(), self.metric.column()),
            None => format!("{} of every mechanism", self.metric.column()),
        };
        format!(
            "adaptive: until the SE of {of} is <= {} in every round; {} first, then batches of \
             {}, at most {}",
            self.target_se, self.min, self.batch, self.max
        )
    }
}

/// `scenario.replications`: an integer >= 1, or an adaptive table.
/// Returns the most replications a cell may play, and the adaptive rule if there is one.
/// `plugin_metrics`: the names of the app's registered metrics, which may be targeted too.
pub(crate) fn read(
    cx: &Cx,
    n: &Node,
    mechs: &[MechanismRef],
    plugin_metrics: &[&'static str],
) -> Res<(u32, Option<Adaptive>)> {
    const KEY: &str = "scenario.replications";
    match &n.val {
        Val::Int(_) => {
            let count = Rule::Int {
                min: 1,
                max: u32::MAX as i64,
            };
            Ok((integer(cx, KEY, n, count)? as u32, None))
        }
        Val::Table(_) => {
            let t = as_table(cx, KEY, n)?;
            t.check_keys(cx, &KEYS)?;
            let target_se = number(
                cx,
                &t.full("target_se"),
                t.require(cx, "target_se")?,
                Rule::Pos,
            )?;
            let metric_key = t.full("metric");
            let metric_n = t.require(cx, "metric")?;
            let name = string(cx, &metric_key, metric_n)?;
            let allowed = || {
                Stat::WITH_SE
                    .iter()
                    .map(|m| m.column().to_string())
                    .chain(plugin_metrics.iter().map(|m| format!("{m}_mean")))
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let Some(metric) = TargetMetric::parse(name, plugin_metrics) else {
                return Err(cx.err(
                    &metric_n.loc,
                    &metric_key,
                    format!(
                        "{metric_key} = {name:?} is not a cells column with a standard error; \
                         allowed: {}",
                        allowed()
                    ),
                ));
            };
            let max_rule = Rule::Int {
                min: 2,
                max: MAX_ADAPTIVE_REPLICATIONS as i64,
            };
            let max = integer(cx, &t.full("max"), t.require(cx, "max")?, max_rule)? as u32;
            // One replication has no SE (0 by convention), which would stop every cell at once.
            let min_n = t.require(cx, "min")?;
            let min = integer(
                cx,
                &t.full("min"),
                min_n,
                Rule::Int {
                    min: 2,
                    max: max as i64,
                },
            )? as u32;
            let batch = match t.get("batch") {
                None => min,
                Some(b) => integer(
                    cx,
                    &t.full("batch"),
                    b,
                    Rule::Int {
                        min: 1,
                        max: MAX_ADAPTIVE_REPLICATIONS as i64,
                    },
                )? as u32,
            };
            let contrast = match t.get("contrast") {
                None => None,
                Some(c) => {
                    let key = t.full("contrast");
                    let pair = crate::sections::contrast_pair(cx, &key, c, mechs)?;
                    // The `contrasts` table pairs the core statistics declared contrasted.
                    if !matches!(metric, TargetMetric::Core(m) if m.contrast_index().is_some()) {
                        return Err(cx.err(
                            &metric_n.loc,
                            &metric_key,
                            format!(
                                "{metric_key} = {name:?} has no paired contrast; with {key}, \
                                 allowed: {}",
                                Stat::CONTRASTED
                                    .iter()
                                    .map(|m| format!("\"{}\"", m.column()))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ));
                    }
                    Some(pair)
                }
            };
            let rule = Adaptive {
                target_se,
                metric,
                min,
                max,
                batch,
                contrast,
            };
            Ok((max, Some(rule)))
        }
        other => Err(cx.err(
            &n.loc,
            KEY,
            format!(
                "{KEY} must be an integer >= 1 or a table {{ target_se, metric, min, max[, \
                 batch, contrast] }}, found {}",
                other.type_name()
            ),
        )),
    }
}
