//! The command line of every datapact app: argument parsing, subcommands, exit codes. Exit
//! codes: 0 success; 1 runtime failure (I/O, damaged outputs); 2 bad input (scenario, arguments,
//! refused directory, a plugin registered twice); 3 a model invariant was violated; 130/143
//! interrupted by SIGINT/SIGTERM.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};
use datapact_runner::{RunOptions, RunSummary, RunnerError, Shard};
use datapact_scenario::{Scenario, ScenarioError};
use datapact_sim::{Backend, PluginSet};
use datapact_trace::Table;

use crate::{embedded, report_cmd};

#[derive(Parser)]
#[command(
    name = "datapact",
    version,
    about = "Agent-based simulation of incentive mechanisms for user data contribution"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What the subcommands share: the app's plugins and the catalog scenarios are loaded against.
pub(crate) struct Context {
    pub(crate) plugins: Arc<PluginSet>,
    pub(crate) catalog: Arc<datapact_model::Catalog>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario (a TOML file, or the name of an embedded one such as `baseline`).
    Run {
        scenario: String,
        /// Output directory (default: results/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Override a scenario key, e.g. --set game.drift=0.2 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Compute only shard I of N (chunks I, I+N, …). Default: from SLURM_ARRAY_TASK_ID/COUNT, else 0/1.
        #[arg(long)]
        shard: Option<String>,
        /// Keep complete chunks of an interrupted run and compute only the rest.
        #[arg(long)]
        resume: bool,
        /// Run campaigns with the direct kernel instead of the ECS world (identical numbers; for comparison).
        #[arg(long, hide = true)]
        direct: bool,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Check a scenario file and print what it would run.
    Validate {
        scenario: String,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Print the Arrow schemas of the output tables.
    Schema,
    /// Say which shards of an output directory are complete.
    Status { dir: PathBuf },
    /// Check every output file against manifest.json (exit 1 naming what is missing or damaged).
    Verify { dir: PathBuf },
    /// List the embedded scenarios.
    Scenarios,
    /// List the registered plugins, mechanisms, strategies and metrics with their parameters.
    Plugins,
    /// Render the paper's figures (PNG, SVG) and the claims table from the runs under DIR.
    Report {
        /// A directory of runs (subdirectories with a manifest.json), or one run.
        dir: PathBuf,
        /// Report directory (default: DIR/report).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Compare two runs of the same grid cell by cell: for every statistic with an SE, the
    /// difference B − A and z = diff/√(se_a² + se_b²). Exit 0 when no |z| exceeds --z, 1 when
    /// some does, 2 when the runs are not the same grid.
    Diff {
        /// Run A (a directory with a manifest.json).
        a: PathBuf,
        /// Run B.
        b: PathBuf,
        /// |z| above which a difference counts (exit code 1).
        #[arg(long, default_value_t = 4.0)]
        z: f64,
        /// Where to write the cell-by-cell comparison (default: ./diff.parquet).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run every embedded paper scenario (skipping finished ones), then render the report.
    Reproduce {
        /// Output directory (default: results/paper); the report goes to DIR/report.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// No progress bars.
        #[arg(long, short)]
        quiet: bool,
    },
}

/// An error with its exit code.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure {
            code: 2,
            message: e.to_string(),
        }
    }
}

impl From<RunnerError> for Failure {
    fn from(e: RunnerError) -> Self {
        let code = match &e {
            RunnerError::Refused(_) => 2,
            RunnerError::Invariant(_) => 3,
            RunnerError::Interrupted => 130,
            _ => 1,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

pub(crate) fn load(cx: &Context, scenario: &str, set: &[String]) -> Result<Scenario, Failure> {
    let path = Path::new(scenario);
    if !path.exists()
        && let Some(text) = embedded::find(scenario)
    {
        return Ok(Scenario::from_str_with(
            &cx.catalog,
            text,
            &format!("<embedded>/{scenario}"),
            set,
        )?);
    }
    Ok(Scenario::load_with(&cx.catalog, path, set)?)
}

/// The shard of a Slurm array task. Only a whole array `--array=0-(N-1)` maps task IDs to shards
/// unambiguously; a partial array (say a resubmitted `--array=2`) must pass `--shard I/N` itself.
fn shard_from_env() -> Result<Shard, Failure> {
    let var = |k: &str| std::env::var(k).ok();
    let (Some(id), Some(count)) = (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT"))
    else {
        return Ok(Shard::WHOLE);
    };
    let refuse = |m: String| Failure {
        code: 2,
        message: format!("from SLURM_ARRAY_TASK_ID/COUNT: {m}"),
    };
    let shard = Shard::parse(&format!("{id}/{count}")).map_err(refuse)?;
    let (min, max) = (var("SLURM_ARRAY_TASK_MIN"), var("SLURM_ARRAY_TASK_MAX"));
    let whole = min.as_deref().is_none_or(|m| m == "0")
        && max
            .as_deref()
            .is_none_or(|m| m.parse::<usize>().ok() == Some(shard.count - 1));
    if !whole {
        return Err(refuse(format!(
            "the job array is not 0-{} (min {}, max {}); pass --shard I/N explicitly when re-running part of an array",
            shard.count - 1,
            min.unwrap_or_default(),
            max.unwrap_or_default()
        )));
    }
    Ok(shard)
}

/// `--threads`: at least 1; all cores when not given.
fn thread_count(threads: Option<usize>) -> Result<usize, Failure> {
    match threads {
        Some(0) => Err(Failure {
            code: 2,
            message: "--threads must be >= 1".into(),
        }),
        Some(t) => Ok(t),
        None => Ok(std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)),
    }
}

/// Parses the process's arguments and runs the subcommand with `plugins`.
pub(crate) fn main(plugins: Arc<PluginSet>) -> ExitCode {
    let cli = Cli::parse();
    let result = plugins
        .validate()
        .map_err(|e| Failure {
            code: 2,
            message: e.to_string(),
        })
        .and_then(|()| {
            let catalog = Arc::new(plugins.catalog().clone());
            dispatch(&Context { plugins, catalog }, cli.command)
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("datapact: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn dispatch(cx: &Context, command: Command) -> Result<(), Failure> {
    match command {
        Command::Run {
            scenario,
            out,
            threads,
            set,
            shard,
            resume,
            direct,
            quiet,
        } => {
            let scenario = load(cx, &scenario, &set)?;
            let shard = match shard {
                Some(s) => Shard::parse(&s).map_err(|m| Failure {
                    code: 2,
                    message: m,
                })?,
                None => shard_from_env()?,
            };
            let threads = thread_count(threads)?;
            let out = out.unwrap_or_else(|| PathBuf::from("results").join(&scenario.name));
            let signals = Signals::install()?;
            let opts = RunOptions {
                out: out.clone(),
                threads,
                shard,
                resume,
                progress: !quiet,
                backend: if direct {
                    Backend::Direct
                } else {
                    Backend::Ecs
                },
                cancel: Some(signals.stop.clone()),
                plugins: cx.plugins.clone(),
                cells_done: None,
            };
            let started = std::time::Instant::now();
            let summary =
                datapact_runner::run(&scenario, &opts).map_err(|e| signals.exit_code(e))?;
            print_summary(&scenario, &summary, &out, shard, started.elapsed());
            Ok(())
        }
        Command::Validate { scenario, set } => {
            let s = load(cx, &scenario, &set)?;
            println!("{}: ok", s.origin);
            println!(
                "  scenario     {} (seed {}, {} replications)",
                s.name, s.seed, s.replications
            );
            println!("  mechanisms   {}", s.mechanism_names().join(", "));
            for m in &s.mechanisms {
                let specs = s.catalog.mechanisms[m.index].params;
                let values = s.base.mechanism_params(m.index);
                for (i, spec) in specs.iter().enumerate() {
                    println!(
                        "  mechanism.{}.{} = {}",
                        m.name,
                        spec.key,
                        values.at(specs, i)
                    );
                }
            }
            for axis in &s.sweep {
                let (lo, hi) = axis
                    .values
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                        (a.min(*v), b.max(*v))
                    });
                println!(
                    "  sweep        {} -> column `{}`: {} values in [{lo}, {hi}]",
                    axis.key,
                    axis.column,
                    axis.values.len()
                );
            }
            println!("  cells        {}", s.cell_count());
            println!("  campaigns    {}", s.campaigns());
            println!("  trace        {}", s.trace.as_str());
            println!("  hash         {}", s.hash());
            Ok(())
        }
        Command::Plugins => {
            crate::plugins_cmd::print(&cx.plugins);
            Ok(())
        }
        Command::Schema => {
            let swept = vec!["<swept>".to_string()];
            for table in Table::ALL {
                println!("{} ({}/*.parquet)", table, table.dir_name());
                let metrics = datapact_runner::metric_columns(&cx.plugins);
                let schema =
                    datapact_trace::schema(table, &swept, &metrics).map_err(|e| Failure {
                        code: 2,
                        message: e.to_string(),
                    })?;
                for field in schema.fields() {
                    let description = field
                        .metadata()
                        .get(datapact_trace::DESCRIPTION_KEY)
                        .cloned()
                        .unwrap_or_default();
                    let name = if field.name() == "<swept>" {
                        "<each swept key>"
                    } else {
                        field.name()
                    };
                    let nullable = if field.is_nullable() { "nullable" } else { "" };
                    println!(
                        "  {name:<24} {:<8} {nullable:<8} {description}",
                        format!("{}", field.data_type())
                    );
                }
                println!();
            }
            Ok(())
        }
        Command::Status { dir } => status(&dir),
        Command::Verify { dir } => verify(&dir),
        Command::Report { dir, out } => report_cmd::report(cx, &dir, out),
        Command::Diff { a, b, z, out } => report_cmd::diff(&a, &b, z, out),
        Command::Reproduce {
            out,
            threads,
            quiet,
        } => {
            let threads = thread_count(threads)?;
            report_cmd::reproduce(cx, out, threads, quiet)
        }
        Command::Scenarios => {
            for (name, text) in embedded::SCENARIOS.iter().chain(embedded::PAPER) {
                let first = text
                    .lines()
                    .find(|l| l.starts_with('#'))
                    .unwrap_or("")
                    .trim_start_matches('#')
                    .trim();
                println!("{name:<24} {first}");
            }
            Ok(())
        }
    }
}

/// SIGINT and SIGTERM ask the run to stop cleanly: finished chunks stay, the chunk in progress
/// is discarded, and the exit code says which signal (130 or 143).
pub(crate) struct Signals {
    pub(crate) stop: Arc<AtomicBool>,
    terminated: Arc<AtomicBool>,
}

impl Signals {
    pub(crate) fn install() -> Result<Signals, Failure> {
        let stop = Arc::new(AtomicBool::new(false));
        let terminated = Arc::new(AtomicBool::new(false));
        let failed = |e: std::io::Error| Failure {
            code: 1,
            message: format!("cannot install signal handlers: {e}"),
        };
        signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone()).map_err(failed)?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone()).map_err(failed)?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, terminated.clone())
            .map_err(failed)?;
        Ok(Signals { stop, terminated })
    }

    pub(crate) fn exit_code(&self, e: RunnerError) -> Failure {
        let interrupted = matches!(e, RunnerError::Interrupted);
        let mut failure = Failure::from(e);
        if interrupted && self.terminated.load(Ordering::Relaxed) {
            failure.code = 143;
        }
        failure
    }
}

fn verify(dir: &Path) -> Result<(), Failure> {
    let v = datapact_runner::verify(dir).map_err(|m| Failure {
        code: 1,
        message: m,
    })?;
    for file in &v.missing {
        println!("missing     {file}");
    }
    for (file, why) in &v.damaged {
        println!("damaged     {file}: {why}");
    }
    for file in &v.unexpected {
        println!("unexpected  {file}");
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
        let bad = v.missing.len() + v.damaged.len() + v.unexpected.len();
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

fn print_summary(
    scenario: &Scenario,
    s: &RunSummary,
    out: &Path,
    shard: Shard,
    elapsed: std::time::Duration,
) {
    println!(
        "{}: {} cells computed, {} chunks kept, shard {}/{}, {:.2} s -> {}",
        scenario.name,
        s.cells_run,
        s.chunks_kept,
        shard.index,
        shard.count,
        elapsed.as_secs_f64(),
        out.display()
    );
    if s.cells_run > 0 {
        println!(
            "{:<10} {:>8} {:>14} {:>14} {:>14} {:>12}",
            "mechanism", "cells", "success rate", "welfare", "leakage", "leaky cells"
        );
        for (m, x) in &s.mechanisms {
            let k = x.cells.max(1) as f64;
            println!(
                "{:<10} {:>8} {:>14.4} {:>14.4} {:>14.6} {:>12}",
                m,
                x.cells,
                x.success / k,
                x.welfare / k,
                x.leakage / k,
                x.leaky_cells
            );
        }
        println!("(means over computed cells of the per-cell means)");
    }
    if s.manifest_written {
        println!("manifest: {}", out.join("manifest.json").display());
    } else {
        println!(
            "shard done; manifest.json is written when every shard has finished (see `datapact status {}`)",
            out.display()
        );
    }
}

fn status(dir: &Path) -> Result<(), Failure> {
    let shards_dir = dir.join("_shards");
    let done = datapact_runner::shard_records(dir).map_err(|e| Failure {
        code: 1,
        message: format!(
            "{}: {e} (no run has finished a shard here)",
            shards_dir.display()
        ),
    })?;
    let Some(&(_, count)) = done.last() else {
        return Err(Failure {
            code: 1,
            message: format!("{}: no shard records", shards_dir.display()),
        });
    };
    let complete: Vec<usize> = done
        .iter()
        .filter(|(_, n)| *n == count)
        .map(|(i, _)| *i)
        .collect();
    let missing: Vec<usize> = (0..count).filter(|i| !complete.contains(i)).collect();
    println!(
        "{}: {} of {} shards complete",
        dir.display(),
        complete.len(),
        count
    );
    println!("  complete: {complete:?}");
    if missing.is_empty() {
        let manifest = dir.join("manifest.json");
        println!(
            "  manifest: {}",
            if manifest.is_file() {
                "written"
            } else {
                "missing (rerun any shard to merge)"
            }
        );
        Ok(())
    } else {
        println!("  missing:  {missing:?}");
        Err(Failure {
            code: 1,
            message: format!("{} shard(s) not complete", missing.len()),
        })
    }
}
