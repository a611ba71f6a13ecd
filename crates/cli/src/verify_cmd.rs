//! `datapact verify`: every output file checked against `manifest.json`.

use std::path::Path;

use crate::failure::Failure;

/// `datapact verify DIR`.
pub(crate) fn verify(dir: &Path) -> Result<(), Failure> {
    crate::run_arg::require_run_dir(dir)?;
    let v = datapact_runner::verify(dir)?;
    for file in &v.missing {
        println!("missing     {file}");
    }
    for (file, why) in &v.damaged {
        println!("damaged     {file}: {why}");
    }
    for file in &v.unexpected {
        println!("unexpected  {file}");
    }
    for why in &v.inconsistent {
        println!("inconsistent {why}");
    }
    for file in &v.partial {
        println!("partial     {file} (left by an interrupted run; readers skip it)");
    }
    if v.ok() {
        println!(
            "{}: all {} files match manifest.json",
            dir.display(),
            v.checked
        );
        Ok(())
    } else {
        let bad = v.missing.len() + v.damaged.len() + v.unexpected.len() + v.inconsistent.len();
        Err(Failure {
            code: 1,
            message: format!(
                "{}: {bad} of {} files do not match manifest.json",
                dir.display(),
                v.checked
            ),
        })
    }
}
