//! Which S? in `datapact reproduce`'s REPORT.md (issue 26, item 2): the paper's claims decided at
//! S's recovery rounds R = 0 and R = 1 side by side — the audit's `baseline` and `recovery_1`
//! variants, run and decided by [`crate::variants::decide_all`] on the reduced grid of the
//! default settings ([`crate::DEFAULT_SPEC`]) — and S against M campaign by campaign at both R
//! ([`crate::recovery::side_by_side`]): the campaign-level reason why claims 3 and 4 are
//! identities at R = 0. Rendered by the functions that write the audit's REPORT.md, so the two
//! reports say the same.

use datapact_model::deviation::Menu;

use crate::recovery::RECOVERY;
use crate::spec::AuditSpec;
use crate::spec::grid_overrides;
use crate::variants::{CLAIM_RUNS, decide_all, paper_text, variants};
use crate::{AuditError, AuditInputs, recovery};

/// The variants compared: the paper's R = 0 and R = 1.
const IDS: [&str; 2] = ["baseline", "recovery_1"];

/// Where `datapact reproduce` keeps these runs, under its output directory (beside the paper
/// runs, one level down, so the report does not draw them as runs of its own).
pub const DIR: &str = "which_s";

/// Runs (or finds, same scenario hash) the claim runs at R = 0 and R = 1 under
/// `inputs.out/variants/`, decides the claims of each, plays S and M side by side on the
/// audited scenario's grid, and returns the REPORT.md section. `inputs.spec` gives the grid and
/// replications (`analysis.steps`, `analysis.replications`, `[analysis.variants]`).
pub fn section(inputs: &AuditInputs) -> Result<String, AuditError> {
    let spec = AuditSpec::parse(inputs.spec.0, inputs.spec.1)?;
    let a = &spec.analysis;
    let list: Vec<_> = variants(&[], &Menu::new(&[]))
        .into_iter()
        .filter(|v| IDS.contains(&v.id.as_str()))
        .collect();
    debug_assert_eq!(list.len(), RECOVERY.len());
    let claims = decide_all(inputs, &spec, &list)?;
    let text = paper_text(inputs.paper, &a.scenario).ok_or_else(|| AuditError::Spec {
        origin: inputs.spec.1.to_string(),
        message: format!(
            "key `analysis.scenario`: paper scenario {:?} is missing from the app",
            a.scenario
        ),
    })?;
    let origin = format!("<embedded>/paper/{}.toml", a.scenario);
    let scenario = datapact_scenario::Scenario::from_str_with(
        &inputs.catalog,
        text,
        &origin,
        &grid_overrides(a.steps),
    )?;
    let pool = crate::pool(inputs.threads, &inputs.out)?;
    let rows = recovery::side_by_side(
        &pool,
        &inputs.plugins,
        &scenario,
        a.replications,
        inputs.cancel.as_ref(),
        None,
    )?;
    let mut md = format!(
        "## Which S? The claims at R = 0 and R = 1\n\n\
         Claims 3–6 turn on one modelling choice, S's recovery rounds R. The runs the claims read \
         ({}) at R = 0 (the paper's) and at R = 1, on a reduced grid (V, p each in {} steps) with {} \
         replications per cell (claim 2's campaign-level run: at most 100), the claims decided by \
         the same rules as the claims table above (so the R = 0 row may differ from it where the \
         grid matters); the runs are kept in `{DIR}/variants/` of the output directory. The same \
         table as `datapact audit`'s REPORT.md.\n\n",
        CLAIM_RUNS.join(", "),
        a.variants.steps,
        a.variants.replications,
    );
    md.push_str(&datapact_report::audit::variants_markdown(&claims));
    md.push_str(&crate::render::side_by_side_text(
        scenario.cell_count(),
        a.replications,
        &rows,
    ));
    Ok(md)
}
