//! The audit's own settings (`scenarios/audit.toml`, `[analysis]`): which scenario is
//! audited, the strategy grid of the deviations, and the sizes of every part.

use serde::Deserialize;

use crate::AuditError;

/// The audit settings shipped with datapact.
pub const DEFAULT_SPEC: &str = include_str!("../../../scenarios/audit.toml");

/// `[analysis]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuditSpec {
    /// Everything is under `[analysis]`.
    pub analysis: Analysis,
}

/// `[analysis]`: the audited scenario and the sizes of the deviation grid.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Analysis {
    /// A paper scenario (by name), or the path of any scenario file of the app.
    pub scenario: String,
    /// Replications per cell of the deviation analysis.
    pub replications: u32,
    /// V and p each over [0, 0.3] in this many values.
    pub steps: u32,
    /// `[analysis.deviation]`.
    pub deviation: DeviationSpec,
    /// `[analysis.dynamics]`.
    pub dynamics: DynamicsSpec,
    /// `[analysis.variants]`.
    pub variants: VariantsSpec,
    /// `[analysis.bins]` (optional: the defaults of [`BinsSpec`]).
    #[serde(default)]
    pub bins: BinsSpec,
}

/// `[analysis.bins]`: the cost-dependent equilibria ([`crate::bins`]).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BinsSpec {
    /// Cost bins B (by the user's cost rank in the campaign).
    pub bins: u32,
    /// Sweeps of bin-by-bin best responses before giving up.
    pub max_sweeps: u32,
    /// Replications per evaluation (every sweep and bin, and the outcomes).
    pub replications: u32,
}

impl Default for BinsSpec {
    fn default() -> BinsSpec {
        BinsSpec {
            bins: 3,
            max_sweeps: 8,
            replications: 200,
        }
    }
}

/// `[analysis.deviation]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeviationSpec {
    /// Report = factor × true cost.
    pub report_factors: Vec<f64>,
    /// The deviator's quantile of true cost in each campaign.
    pub cost_quantiles: Vec<f64>,
}

/// `[analysis.dynamics]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DynamicsSpec {
    /// Rounds of best responses before giving up.
    pub max_rounds: u32,
    /// Replications per cell and round.
    pub replications: u32,
}

/// `[analysis.variants]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VariantsSpec {
    /// Replications per cell of every claim run.
    pub replications: u32,
    /// V and p each over [0, 0.3] in this many values.
    pub steps: u32,
}

impl AuditSpec {
    /// Parses and checks settings; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<AuditSpec, AuditError> {
        let spec: AuditSpec = toml::from_str(text).map_err(|e| AuditError::Spec {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        spec.check(origin)?;
        Ok(spec)
    }

    fn check(&self, origin: &str) -> Result<(), AuditError> {
        let a = &self.analysis;
        let bad = |key: &str, allowed: &str| AuditError::Spec {
            origin: origin.to_string(),
            message: format!("key `analysis.{key}`: must be {allowed}"),
        };
        let int = |key: &str, v: u32, lo: u32, hi: u32| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(bad(key, &format!("an integer in [{lo}, {hi}], got {v}")))
            }
        };
        int("replications", a.replications, 2, 100_000)?;
        int("steps", a.steps, 2, 31)?;
        int("dynamics.max_rounds", a.dynamics.max_rounds, 1, 100)?;
        int("dynamics.replications", a.dynamics.replications, 2, 100_000)?;
        int("variants.replications", a.variants.replications, 2, 100_000)?;
        int("variants.steps", a.variants.steps, 2, 31)?;
        int("bins.bins", a.bins.bins, 1, 8)?;
        int("bins.max_sweeps", a.bins.max_sweeps, 1, 100)?;
        int("bins.replications", a.bins.replications, 2, 100_000)?;
        let f = &a.deviation.report_factors;
        if f.is_empty()
            || f.len() > 16
            || f.iter().any(|x| !(x.is_finite() && *x > 0.0 && *x <= 10.0))
        {
            return Err(bad(
                "deviation.report_factors",
                &format!("1 to 16 numbers, each in (0, 10], got {f:?}"),
            ));
        }
        let q = &a.deviation.cost_quantiles;
        if q.is_empty() || q.len() > 16 || q.iter().any(|x| !(0.0..=1.0).contains(x)) {
            return Err(bad(
                "deviation.cost_quantiles",
                &format!("1 to 16 numbers, each in [0, 1], got {q:?}"),
            ));
        }
        Ok(())
    }
}

/// The `--set` overrides that put V and p each on `steps` values over [0, 0.3].
pub(crate) fn grid_overrides(steps: u32) -> Vec<String> {
    ["value", "payment"]
        .iter()
        .map(|k| format!("sweep.game.{k}={{ from = 0.0, to = 0.3, steps = {steps} }}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_settings_parse() {
        let s = AuditSpec::parse(DEFAULT_SPEC, "audit.toml").unwrap();
        assert_eq!(s.analysis.deviation.report_factors, [0.5, 0.8, 1.25, 2.0]);
        assert_eq!(s.analysis.bins, BinsSpec::default());
        // `[analysis.bins]` may be left out: its defaults
        let start = DEFAULT_SPEC.find("[analysis.bins]").unwrap();
        let end = start + DEFAULT_SPEC[start..].find("\n\n").unwrap();
        let text = format!("{}{}", &DEFAULT_SPEC[..start], &DEFAULT_SPEC[end..]);
        assert!(!text.contains("max_sweeps"));
        let t = AuditSpec::parse(&text, "audit.toml").unwrap();
        assert_eq!(t.analysis.bins, BinsSpec::default());
    }

    #[test]
    fn bad_settings_name_file_key_and_range() {
        let text = DEFAULT_SPEC.replace("report_factors = [0.5,", "report_factors = [-0.5,");
        let e = AuditSpec::parse(&text, "my.toml").unwrap_err().to_string();
        assert!(
            e.contains("my.toml")
                && e.contains("analysis.deviation.report_factors")
                && e.contains("(0, 10]"),
            "{e}"
        );
        let text = DEFAULT_SPEC.replace("steps = 11 ", "steps = 70 ");
        let e = AuditSpec::parse(&text, "my.toml").unwrap_err().to_string();
        assert!(e.contains("analysis.steps") && e.contains("[2, 31]"), "{e}");
        let text = DEFAULT_SPEC.replace("bins = 3 ", "bins = 9 ");
        let e = AuditSpec::parse(&text, "my.toml").unwrap_err().to_string();
        assert!(
            e.contains("analysis.bins.bins") && e.contains("[1, 8]"),
            "{e}"
        );
        let text = DEFAULT_SPEC.replace("max_rounds", "max_round");
        let e = AuditSpec::parse(&text, "my.toml").unwrap_err().to_string();
        assert!(e.contains("my.toml") && e.contains("max_round"), "{e}");
    }
}
