//! `datapact diff`: two runs of the same grid compared cell by cell.

use std::path::{Path, PathBuf};

use crate::failure::Failure;

/// `datapact diff A B [--z Z] [--out FILE]`: exit 0 when no |z| exceeds `threshold`, 1 when
/// some does, 2 when the runs cannot be compared.
pub(crate) fn diff(
    a: &Path,
    b: &Path,
    threshold: f64,
    out: Option<PathBuf>,
) -> Result<(), Failure> {
    if !(threshold.is_finite() && threshold > 0.0) {
        return Err(Failure {
            code: 2,
            message: format!("--z must be a positive number, got {threshold}"),
        });
    }
    let _signals = crate::signals::Signals::stop_and_rerun("redo the comparison")?;
    let d = datapact_report::diff::diff_runs(a, b, threshold).map_err(|e| Failure {
        code: 2,
        message: format!("diff {} {}: {e}", a.display(), b.display()),
    })?;
    let out = out.unwrap_or_else(|| PathBuf::from("diff.parquet"));
    datapact_report::diff::write_diff(&d, &out)?;
    println!(
        "{:<22} {:>8} {:>9} {:>8} {:>8}",
        "statistic",
        "compared",
        "max |z|",
        "|z| > 3",
        format!("|z| > {threshold}")
    );
    for s in &d.summary {
        println!(
            "{:<22} {:>8} {:>9.2} {:>8} {:>8}",
            s.statistic, s.compared, s.max_abs_z, s.over_3, s.over_threshold
        );
    }
    let over = d.over_threshold();
    println!(
        "{} cells compared; max |z| = {:.2}; {over} differences with |z| > {threshold} -> {}",
        d.cells,
        d.max_abs_z(),
        out.display()
    );
    if over > 0 {
        return Err(Failure {
            code: 1,
            message: format!(
                "{over} differences with |z| > {threshold}: the runs differ beyond noise"
            ),
        });
    }
    Ok(())
}
