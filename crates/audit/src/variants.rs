//! Part 3: the paper's claims re-decided under one changed assumption at a time. Each variant
//! is a list of `--set` overrides applied to the paper runs the claims read; the claims are
//! decided by the report's own functions ([`datapact_report::evaluate_claims`]), never copied.

use std::collections::BTreeMap;

use datapact_model::deviation::{Choice, Menu, WithdrawChoice};
use datapact_report::audit::VariantClaims;
use datapact_report::load::load_runs;
use datapact_report::registry::runs;
use datapact_runner::RunOptions;
use datapact_scenario::Scenario;

use crate::deviations::{EquilibriumRow, choice_name};
use crate::spec::AuditSpec;
use crate::spec::grid_overrides;
use crate::{AuditError, AuditInputs};

/// The paper runs the six claims read.
pub const CLAIM_RUNS: [&str; 7] = [
    runs::F3,
    runs::F4,
    runs::F5,
    runs::F6,
    runs::F7,
    runs::F9,
    runs::NULLS,
];

/// One variant of the model's assumptions.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// Short id, also its directory under `variants/`.
    pub id: String,
    /// The assumption it changes.
    pub assumption: &'static str,
    /// The changed setting in words.
    pub setting: String,
    /// `--set` overrides applied to every claim run.
    pub overrides: Vec<String>,
}

fn variant(id: &str, assumption: &'static str, setting: &str, overrides: &[&str]) -> Variant {
    Variant {
        id: id.into(),
        assumption,
        setting: setting.into(),
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
    }
}

/// The most frequent final profile of the best-response dynamics over cells and mechanisms
/// (ties: the first in menu order), and how many rows reached it.
pub fn modal_profile(eqs: &[EquilibriumRow]) -> Option<(Choice, usize)> {
    modal(eqs.iter().map(|e| e.profile))
}

fn modal(profiles: impl Iterator<Item = Choice>) -> Option<(Choice, usize)> {
    let mut count: BTreeMap<Choice, usize> = BTreeMap::new();
    for p in profiles {
        *count.entry(p).or_default() += 1;
    }
    count
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
}

/// The profile the equilibrium variant plays: the most frequent report factor among the
/// dynamics' ends that left truthful reporting, with free-riding if that is the most frequent
/// withdraw rule among them (the other rules are not core strategies a scenario can name).
pub fn equilibrium_profile(eqs: &[EquilibriumRow]) -> Option<Choice> {
    let moved: Vec<Choice> = eqs
        .iter()
        .map(|e| e.profile)
        .filter(|p| *p != Choice::TRUTHFUL)
        .collect();
    let report = modal(moved.iter().map(|p| Choice {
        report: p.report,
        withdraw: WithdrawChoice::Sincere,
    }))?
    .0
    .report;
    let withdraw = modal(moved.iter().map(|p| Choice {
        report: 0,
        withdraw: p.withdraw,
    }))
    .map(|(c, _)| c.withdraw)
    .filter(|w| *w == WithdrawChoice::FreeRider)
    .unwrap_or(WithdrawChoice::Sincere);
    Some(Choice { report, withdraw })
}

/// The variants, baseline first: the paper's settings (R = 0, ρ = 0, small-first, sincere,
/// σ_o = 0) and one change at a time. The equilibrium variant plays the modal profile of the
/// dynamics by everyone (a report factor as `shade` with share 1; a withdraw rule only if the
/// core has it: sincere or free-rider).
pub fn variants(eqs: &[EquilibriumRow], menu: &Menu) -> Vec<Variant> {
    let mut v = vec![
        variant("baseline", "baseline", "paper settings", &[]),
        variant(
            "recovery_1",
            "recovery rounds R = 0",
            "R = 1",
            &["game.recovery_rounds=1"],
        ),
        variant(
            "recovery_3",
            "recovery rounds R = 0",
            "R = 3",
            &["game.recovery_rounds=3"],
        ),
        variant(
            "irreversible_0.5",
            "reversible deletion ρ = 0",
            "ρ = 0.5",
            &["game.irreversible=0.5"],
        ),
        variant(
            "order_random",
            "small-first order of M",
            "random order",
            &["game.order=\"random\""],
        ),
        variant(
            "order_large_first",
            "small-first order of M",
            "large-first order",
            &["game.order=\"large-first\""],
        ),
        variant(
            "free_rider_0.3",
            "sincere withdrawal",
            "free-riders 0.3",
            &[
                "population.withdraw.strategy=\"free-rider\"",
                "population.withdraw.share=0.3",
            ],
        ),
    ];
    if let Some(profile) = equilibrium_profile(eqs) {
        let mut overrides = Vec::new();
        let f = menu.factors()[profile.report as usize];
        if profile.report != 0 {
            overrides.push("population.report.strategy=\"shade\"".to_string());
            overrides.push("population.report.share=1.0".to_string());
            overrides.push(format!("population.report.factor={}", f - 1.0));
        }
        if profile.withdraw == WithdrawChoice::FreeRider {
            overrides.push("population.withdraw.strategy=\"free-rider\"".to_string());
            overrides.push("population.withdraw.share=1.0".to_string());
        }
        if !overrides.is_empty() {
            v.push(Variant {
                id: "equilibrium".into(),
                assumption: if profile.withdraw == WithdrawChoice::Sincere {
                    "truthful reports"
                } else {
                    "truthful reports and sincere withdrawal"
                },
                setting: format!("everyone: {}", choice_name(menu, profile)),
                overrides,
            });
        }
    }
    v.push(variant(
        "obs_noise_0.25",
        "exact observation σ_o = 0",
        "σ_o = 0.25",
        &["game.obs_noise=0.25"],
    ));
    v
}

/// The embedded text of paper scenario `name`.
pub fn paper_text<'a>(paper: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    paper.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Runs the claim runs of every variant (skipping those already computed with the same
/// scenario hash) and decides the claims of each.
pub fn decide_all(
    inputs: &AuditInputs,
    spec: &AuditSpec,
    list: &[Variant],
) -> Result<Vec<VariantClaims>, AuditError> {
    let vs = &spec.analysis.variants;
    let mut out = Vec::new();
    for v in list {
        let dir = inputs.out.join("variants").join(&v.id);
        for name in CLAIM_RUNS {
            let text = paper_text(inputs.paper, name).ok_or_else(|| AuditError::Spec {
                origin: "<embedded>".into(),
                message: format!("paper scenario {name} is missing from the app"),
            })?;
            // claim 2 reads every campaign: keep its run as small as the paper's
            let reps = if name == runs::NULLS {
                vs.replications.min(100)
            } else {
                vs.replications
            };
            let mut overrides = grid_overrides(vs.steps);
            overrides.push(format!("scenario.replications={reps}"));
            let origin = format!("<embedded>/paper/{name}.toml");
            // a run that sweeps the changed key keeps its sweep (claim 6's run sweeps σ_o)
            let swept: Vec<String> =
                Scenario::from_str_with(&inputs.catalog, text, &origin, &overrides)?
                    .sweep
                    .into_iter()
                    .map(|a| a.key)
                    .collect();
            overrides.extend(
                v.overrides
                    .iter()
                    .filter(|o| !swept.iter().any(|k| o.split('=').next() == Some(k)))
                    .cloned(),
            );
            let scenario = Scenario::from_str_with(&inputs.catalog, text, &origin, &overrides)?;
            let run_dir = dir.join(name);
            if datapact_runner::read_manifest(&run_dir)
                .is_ok_and(|m| m.scenario_hash == scenario.hash())
            {
                continue;
            }
            let opts = RunOptions {
                threads: inputs.threads,
                resume: true,
                progress: inputs.progress,
                cancel: inputs.cancel.clone(),
                plugins: inputs.plugins.clone(),
                ..RunOptions::new(run_dir)
            };
            match datapact_runner::run(&scenario, &opts) {
                // The audit's own advice: its claim runs resume when the audit is rerun.
                Err(datapact_runner::RunnerError::Interrupted) => {
                    return Err(AuditError::Interrupted);
                }
                other => other?,
            };
        }
        let loaded = load_runs(&dir, &[runs::NULLS])?;
        out.push(VariantClaims {
            id: v.id.clone(),
            assumption: v.assumption.into(),
            setting: v.setting.clone(),
            overrides: v.overrides.clone(),
            claims: datapact_report::evaluate_claims(&loaded),
        });
    }
    Ok(out)
}
