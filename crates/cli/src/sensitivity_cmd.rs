//! `datapact sensitivity`: Sobol indices or Morris effects of a designed run.

use std::path::{Path, PathBuf};

use crate::failure::Failure;

/// `datapact sensitivity DIR --metric M [--mechanism X [--minus Y]] [--second-order] [--out OUT]`.
pub(crate) fn sensitivity(
    dir: &Path,
    request: datapact_report::sensitivity::Request,
    out: Option<PathBuf>,
) -> Result<(), Failure> {
    use datapact_report::sensitivity::{analyze, write_outputs};
    crate::run_arg::require_run_dir(dir)?;
    let out = out.unwrap_or_else(|| dir.join("sensitivity"));
    let _signals = crate::signals::Signals::stop_and_rerun("redo the analysis")?;
    let analysis = analyze(dir, &request)?;
    for w in &analysis.warnings {
        eprintln!("warning: {w}");
    }
    let files = write_outputs(&analysis, &out)?;
    for r in &analysis.responses {
        println!(
            "{} of {} ({}, grid cell {}):",
            analysis.method, analysis.metric, r.mechanism, r.grid_cell
        );
        for (axis, indices) in &r.axes {
            let shown: Vec<String> = indices
                .iter()
                .map(|ix| match ix.conf {
                    Some(c) => format!("{} = {:.3} ± {:.3}", ix.name, ix.value, c),
                    None => format!("{} = {:.3}", ix.name, ix.value),
                })
                .collect();
            println!("  {axis:<16} {}", shown.join("   "));
        }
        if let Some(share) = r.noise_share {
            println!(
                "  replication noise: {:.1}% of the variance across points (mean SE² / variance)",
                100.0 * share
            );
        }
        for (p, q, ix) in &r.pairs {
            let conf = ix.conf.map(|c| format!(" ± {c:.3}")).unwrap_or_default();
            println!("  {:<16} S2 = {:.3}{conf}", format!("{p} × {q}"), ix.value);
        }
    }
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}
