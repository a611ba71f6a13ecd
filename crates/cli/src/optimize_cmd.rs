//! `datapact optimize`: the Pareto front of a scenario's `[optimize]` objectives over its
//! design keys, by NSGA-II, each generation a points design run by the runner
//! (`docs/optimize.md`).

use std::path::PathBuf;

use datapact_runner::search::{SearchOptions, StepSummary, optimize};
use datapact_scenario::search::SearchFile;

use crate::context::{Context, thread_count};
use crate::failure::Failure;
use crate::signals::Signals;

/// What `datapact optimize` and `datapact calibrate` take.
pub(crate) struct SearchArgs {
    pub(crate) file: PathBuf,
    pub(crate) out: Option<PathBuf>,
    pub(crate) threads: Option<usize>,
    pub(crate) set: Vec<String>,
    pub(crate) resume: bool,
    pub(crate) prepare: bool,
    pub(crate) quiet: bool,
}

impl SearchArgs {
    /// The file read against the app's catalog, the output directory and the options.
    pub(crate) fn open(
        &self,
        cx: &Context,
        kind: &str,
    ) -> Result<(SearchFile, SearchOptions, Signals), Failure> {
        let file = SearchFile::load_with(&cx.catalog, &self.file, &self.set)?;
        let missing = match kind {
            "optimize" => file.optimize.is_none(),
            _ => file.calibrate.is_none(),
        };
        if missing {
            return Err(Failure {
                code: 2,
                message: format!(
                    "{}: no [{kind}] table; `datapact {kind}` reads one (docs/optimize.md)",
                    self.file.display()
                ),
            });
        }
        let out = self.out.clone().unwrap_or_else(|| {
            PathBuf::from("results").join(format!("{}-{kind}", file.scenario.name))
        });
        let signals = Signals::install()?;
        signals.watch_search();
        let opts = SearchOptions {
            out,
            threads: thread_count(self.threads)?,
            resume: self.resume,
            prepare: self.prepare,
            cancel: Some(signals.stop.clone()),
            plugins: cx.plugins.clone(),
        };
        Ok((file, opts, signals))
    }
}

/// Prints the runs `--prepare` left to compute.
pub(crate) fn print_prepared(opts: &SearchOptions, runs: &[String]) {
    println!(
        "prepared: {} run(s) to compute before the search goes on (each a scenario beside its \
         directory; shard them freely, e.g. as a Slurm array):",
        runs.len()
    );
    // The program as invoked: an app's runs need its plugins.
    let program = std::env::args().next().unwrap_or_else(|| "datapact".into());
    for r in runs {
        let dir = opts.out.join(r);
        println!(
            "  {program} run {}.toml --out {}",
            dir.display(),
            dir.display()
        );
    }
    println!("then continue with --resume (again with --prepare to prepare the next step).");
}

/// `datapact optimize FILE [--out DIR] [--threads N] [--set K=V]... [--resume] [--prepare]`.
pub(crate) fn run(cx: &Context, args: SearchArgs) -> Result<(), Failure> {
    let (file, opts, signals) = args.open(cx, "optimize")?;
    let Some(opt) = &file.optimize else {
        return Ok(());
    };
    let started = std::time::Instant::now();
    let quiet = args.quiet;
    let total = opt.generations;
    let mut on_step = |s: &StepSummary| {
        if !quiet {
            let what = if s.polish {
                format!("re-evaluation {}", s.step + 1 - total)
            } else {
                format!("generation {}/{total}", s.step + 1)
            };
            eprintln!(
                "datapact: {what}: {} new, {} re-evaluated, front {}, hypervolume {:.6} ({:.1} s)",
                s.evaluated,
                s.reevaluated,
                s.front,
                s.hypervolume,
                started.elapsed().as_secs_f64()
            );
        }
    };
    let summary = optimize(&file, &opts, &mut on_step).map_err(|e| signals.exit_code(e))?;
    if !summary.prepared.is_empty() {
        print_prepared(&opts, &summary.prepared);
        return Ok(());
    }
    let polish = summary.steps.iter().filter(|s| s.polish).count();
    println!(
        "{}: {} generations x {} + {polish} re-evaluation round(s), {} evaluations, {:.2} s -> {}",
        file.scenario.name,
        opt.generations,
        opt.population,
        summary.evaluations,
        started.elapsed().as_secs_f64(),
        opts.out.display()
    );
    let reference: Vec<String> = opt
        .objectives
        .iter()
        .zip(&summary.reference)
        .map(|(o, r)| format!("{} = {r:.6} ({})", o.measure.column(), o.sense.as_str()))
        .collect();
    println!(
        "hypervolume: {:.6} after the last step; reference point {}",
        summary.steps.last().map_or(0.0, |s| s.hypervolume),
        reference.join(", ")
    );
    if summary.front.is_empty() {
        println!(
            "no candidate met every constraint: pareto.parquet is empty; evaluations.parquet \
             shows each one's violation"
        );
    } else {
        println!(
            "Pareto front ({} points; mean ± SE over the pooled replications):",
            summary.front.len()
        );
        let mut header: Vec<String> = opt.keys.iter().map(|k| k.column.clone()).collect();
        header.extend(summary.objectives.iter().cloned());
        println!(
            "  {}",
            header
                .iter()
                .map(|h| format!("{h:>22}"))
                .collect::<String>()
        );
        for (keys, objectives) in &summary.front {
            let mut row: Vec<String> = keys.clone();
            row.extend(
                objectives
                    .iter()
                    .map(|e| format!("{:.5} ± {:.5}", e.mean, e.se)),
            );
            println!(
                "  {}",
                row.iter().map(|c| format!("{c:>22}")).collect::<String>()
            );
        }
    }
    let mut files = summary.files.clone();
    files.push(datapact_report::search::front_figure(&opts.out)?);
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}
