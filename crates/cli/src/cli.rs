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
        /// Run only the cells with these swept values, e.g. --only game.value=0.1,game.payment=0.05
        /// (each key swept, each value on its axis; a categorical axis's value by its label, e.g.
        /// game.order=random or population.withdraw.strategy=free-rider; unnamed axes stay swept).
        /// Its rows equal those cells' rows of the whole run.
        #[arg(long, value_name = "KEY=VALUE,...")]
        only: Option<String>,
        /// Play only replication R of each cell (0 ≤ R < replications, or an adaptive rule's
        /// max): its rows equal those of replication R in the whole run.
        #[arg(long, value_name = "R")]
        rep: Option<u32>,
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
    /// Sobol indices (a `kind = "sobol"` design) or Morris effects (`kind = "morris"`) of a
    /// `cells` column; writes sensitivity.parquet and sensitivity.png.
    Sensitivity {
        /// The run's output directory.
        dir: PathBuf,
        /// The `cells` column analysed, e.g. welfare_mean or success_rate.
        #[arg(long, default_value = "welfare_mean")]
        metric: String,
        /// Analyse only this mechanism (default: each of the run's).
        #[arg(long)]
        mechanism: Option<String>,
        /// Analyse the contrast MECHANISM minus this mechanism (e.g. --mechanism M --minus S).
        #[arg(long)]
        minus: Option<String>,
        /// Where to write (default: DIR/sensitivity).
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
    /// Incentive audit: unilateral deviations, best-response dynamics and the paper's claims
    /// re-decided under one changed assumption at a time (settings: scenarios/audit.toml).
    Audit {
        /// Output directory (default: results/audit).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Audit settings (default: the embedded scenarios/audit.toml).
        #[arg(long)]
        spec: Option<PathBuf>,
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

/// `--only KEY=VALUE,...` as `--set sweep.KEY={ values = [V] }` overrides: each key must be
/// swept and each value on its axis (matched to 1e-9 relative, then the axis's own value is
/// used, so the cell's game, and hence its draws, are exactly those of the whole run).
fn only_overrides(scenario: &Scenario, only: &str) -> Result<Vec<String>, Failure> {
    let bad = |message: String| Failure { code: 2, message };
    let swept: Vec<&str> = scenario.sweep.iter().map(|a| a.key.as_str()).collect();
    let mut overrides = Vec::new();
    for pair in split_pairs(only)
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad(format!("--only {pair:?}: expected KEY=VALUE")))?;
        let (key, value) = (key.trim(), value.trim());
        let axis = scenario
            .sweep
            .iter()
            .find(|a| a.key == key)
            .ok_or_else(|| {
                bad(format!(
                    "--only {key}: not swept in {} (swept keys: {})",
                    scenario.origin,
                    if swept.is_empty() {
                        "none".to_string()
                    } else {
                        swept.join(", ")
                    }
                ))
            })?;
        // A categorical axis: the value is a category's label, re-written as its TOML value.
        if !axis.categories().is_empty() {
            let labels = axis.labels();
            let Some(i) = labels.iter().position(|l| l == value) else {
                return Err(bad(format!(
                    "--only {key}={value}: not a value of the axis; {key} takes {}",
                    labels.join(", ")
                )));
            };
            overrides.push(format!(
                "sweep.{key}={{ values = [{}] }}",
                axis.categories()[i].toml()
            ));
            continue;
        }
        let v: f64 = value
            .parse()
            .map_err(|_| bad(format!("--only {key}={value}: not a number")))?;
        let on_axis = axis
            .values
            .iter()
            .find(|a| (**a - v).abs() <= 1e-9 * a.abs().max(v.abs()).max(1e-300))
            .ok_or_else(|| {
                let values: Vec<String> = axis.values.iter().map(|a| a.to_string()).collect();
                bad(format!(
                    "--only {key}={value}: not a value of the axis; {key} takes {}",
                    values.join(", ")
                ))
            })?;
        overrides.push(format!("sweep.{key}={{ values = [{on_axis}] }}"));
    }
    if overrides.is_empty() {
        return Err(bad("--only: name at least one KEY=VALUE".into()));
    }
    Ok(overrides)
}

/// What the cells of a swept strategy name hold beside the strategy: the share (the table's,
/// or "swept") and each swept strategy's parameters, e.g. `share 1; shade: factor = -0.2`.
fn strategy_axis_line(s: &Scenario, axis: &datapact_scenario::SweepAxis) -> Option<String> {
    let kind = axis
        .key
        .strip_prefix("population.")?
        .strip_suffix(".strategy")?;
    let (share, specs): (f64, Vec<&[datapact_model::ParamSpec]>) = if kind == "report" {
        let decls = s.catalog.report.iter().map(|d| d.params).collect();
        (s.base.population.report.share, decls)
    } else {
        let decls = s.catalog.withdraw.iter().map(|d| d.params).collect();
        (s.base.population.withdraw.share, decls)
    };
    let share_key = format!("population.{kind}.share");
    let mut parts = vec![if s.sweep.iter().any(|a| a.key == share_key) {
        format!("share swept ({share_key})")
    } else {
        format!("share {share}")
    }];
    for c in axis.categories().iter().filter_map(|c| c.strategy()) {
        let specs = specs[c.index];
        if c.index == 0 || specs.is_empty() {
            continue;
        }
        let values: Vec<String> = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| format!("{} = {}", spec.key, c.params.at(specs, i)))
            .collect();
        parts.push(format!("{}: {}", c.name, values.join(", ")));
    }
    Some(parts.join("; "))
}

/// `--only`'s pairs: split at the commas outside parentheses (a cost distribution's label,
/// `beta(alpha=2,beta=5)`, holds commas).
fn split_pairs(only: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in only.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&only[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&only[start..]);
    out
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
        Some(t) if t > datapact_runner::MAX_THREADS => Err(Failure {
            code: 2,
            message: format!("--threads {t}: at most {}", datapact_runner::MAX_THREADS),
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
            only,
            rep,
        } => {
            let mut loaded = load(cx, &scenario, &set)?;
            if let Some(only) = &only {
                let mut narrowed = set.clone();
                narrowed.extend(only_overrides(&loaded, only)?);
                loaded = load(cx, &scenario, &narrowed)?;
            }
            let scenario = loaded;
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
            signals.watch(out.clone(), shard);
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
                replication: rep,
            };
            let plan = datapact_runner::chunk_plan(&scenario);
            let owned = (0..plan.chunks()).filter(|c| shard.owns(*c)).count();
            if owned == 0 {
                eprintln!(
                    "datapact: shard {}/{} has no work: the scenario has {} cells in {} chunks \
                     (chunks I, I+N, ... go to shard I); use at most {} shards",
                    shard.index,
                    shard.count,
                    plan.cells,
                    plan.chunks(),
                    plan.chunks()
                );
            }
            if !quiet {
                eprintln!(
                    "datapact: {}",
                    memory_line(
                        cx,
                        &scenario,
                        threads,
                        opts.backend,
                        rep.map_or(scenario.replications, |_| 1)
                    )
                );
            }
            let started = std::time::Instant::now();
            let summary =
                datapact_runner::run(&scenario, &opts).map_err(|e| signals.exit_code(e))?;
            print_summary(&scenario, &summary, &out, shard, started.elapsed());
            Ok(())
        }
        Command::Validate { scenario, set } => {
            let s = load(cx, &scenario, &set)?;
            println!("{}: ok", s.origin);
            match &s.adaptive {
                None => println!(
                    "  scenario     {} (seed {}, {} replications)",
                    s.name, s.seed, s.replications
                ),
                Some(a) => println!(
                    "  scenario     {} (seed {}, replications {})",
                    s.name,
                    s.seed,
                    a.describe()
                ),
            }
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
                if !axis.categories().is_empty() {
                    println!(
                        "  sweep        {} -> column `{}` (Utf8): {} categories: {}",
                        axis.key,
                        axis.column,
                        axis.values.len(),
                        axis.labels().join(", ")
                    );
                    if let Some(line) = strategy_axis_line(&s, axis) {
                        println!("               {line}");
                    }
                    continue;
                }
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
            let plan = datapact_runner::chunk_plan(&s);
            println!(
                "  chunks       {} of up to {} cells (shards beyond {} get no work)",
                plan.chunks(),
                plan.chunk_cells,
                plan.chunks()
            );
            println!("  campaigns    {}", s.campaigns());
            println!("  trace        {}", s.trace.as_str());
            let threads = thread_count(None)?;
            println!(
                "  memory       {}",
                memory_line(cx, &s, threads, Backend::Ecs, s.replications)
            );
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
        Command::Sensitivity {
            dir,
            metric,
            mechanism,
            minus,
            out,
        } => report_cmd::sensitivity(&dir, metric, mechanism, minus, out),
        Command::Diff { a, b, z, out } => report_cmd::diff(&a, &b, z, out),
        Command::Reproduce {
            out,
            threads,
            quiet,
        } => {
            let threads = thread_count(threads)?;
            report_cmd::reproduce(cx, out, threads, quiet)
        }
        Command::Audit {
            out,
            spec,
            threads,
            quiet,
        } => {
            let threads = thread_count(threads)?;
            crate::audit_cmd::audit(cx, out, spec, threads, quiet)
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

/// `needs ~450 MiB at 2 threads; 22 GiB available (MemAvailable)`: the runner's estimate of the
/// peak, which it refuses to start above the available memory.
fn memory_line(
    cx: &Context,
    scenario: &Scenario,
    threads: usize,
    backend: Backend,
    replications: u32,
) -> String {
    use datapact_runner::{available_memory, estimate_peak_bytes, format_bytes};
    let kernels_only = cx.plugins.plays_kernels_only();
    let estimate = estimate_peak_bytes(scenario, threads, backend, replications, kernels_only);
    let available = match available_memory() {
        Ok(Some(a)) => format!("{} available ({})", format_bytes(a.bytes), a.source),
        Ok(None) => "available memory unknown".to_string(),
        Err(why) => why,
    };
    format!(
        "needs ~{} at {} thread(s); {available}",
        format_bytes(estimate.peak()),
        estimate.busy_threads
    )
}

/// How long a signalled run may take to stop on its own before [`Signals::watch`] ends it.
const GRACE: std::time::Duration = std::time::Duration::from_millis(500);

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

    /// Backs the cooperative stop with a deadline: the simulator checks the flag between the
    /// phases of a round, but one phase of a huge campaign (or spawning its world) can take
    /// longer than a scheduler's grace period. If the run has not returned [`GRACE`] after the
    /// signal, the chunk in flight is abandoned on the spot: its hidden temporaries are deleted
    /// and the process exits with 130/143. Nothing else can be half-written (parts appear only by
    /// rename, records are replaced atomically), which is what `kill -9` tolerance already
    /// guarantees, so `--resume` completes the run as after any interrupt.
    pub(crate) fn watch(&self, out: PathBuf, shard: Shard) {
        let (stop, terminated) = (self.stop.clone(), self.terminated.clone());
        let watcher = move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            std::thread::sleep(GRACE);
            let _ = datapact_runner::remove_stale_temporaries(&out, shard);
            eprintln!(
                "datapact: {} (the cell in flight was abandoned)",
                RunnerError::Interrupted
            );
            let code = if terminated.load(Ordering::Relaxed) {
                143
            } else {
                130
            };
            // `_exit`: no destructor may race the threads still playing the cell.
            // SAFETY: ends the process at once.
            unsafe { libc::_exit(code) }
        };
        // Without the watcher, the run still stops at the next phase.
        let _ = std::thread::Builder::new()
            .name("datapact-stop".into())
            .spawn(watcher);
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
    let view = datapact_runner::RunView::open(dir).map_err(|m| Failure {
        code: 1,
        message: m,
    })?;
    // N comes from the run's identity, never from the records found: a record of another N is
    // a problem, not the directory's shard count. Nothing here allocates by N.
    let count = view.identity.shards;
    let complete = view.complete_shards();
    println!(
        "{}: {} of {} shards complete",
        dir.display(),
        complete.len(),
        count
    );
    println!(
        "  complete: {}",
        ranges((0..count).filter(|i| view.records.contains_key(i)))
    );
    let missing = count - complete.len();
    if missing > 0 {
        println!(
            "  missing:  {}",
            ranges((0..count).filter(|i| !view.records.contains_key(i)))
        );
    }
    for p in &view.problems {
        println!("  problem:  {p}");
    }
    for f in &view.strays {
        println!("  stray:    {f} (no chunk of this run writes it)");
    }
    let manifest = if view.manifest.is_some() {
        "written"
    } else if missing == 0 {
        "missing (rerun any shard with --resume to merge)"
    } else {
        "not yet (written when every shard has finished)"
    };
    println!("  manifest: {manifest}");
    let bad = view.problems.len() + view.strays.len();
    if missing > 0 || bad > 0 || view.manifest.is_none() {
        return Err(Failure {
            code: 1,
            message: format!(
                "{missing} shard(s) not complete, {bad} problem(s){}",
                if view.manifest.is_none() {
                    ", no manifest"
                } else {
                    ""
                }
            ),
        });
    }
    Ok(())
}

/// `0-3, 5, 7-9`: indices as ranges, so a listing stays short whatever N is.
fn ranges(indices: impl Iterator<Item = usize>) -> String {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for i in indices {
        match spans.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => spans.push((i, i)),
        }
    }
    if spans.is_empty() {
        return "none".into();
    }
    spans
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
