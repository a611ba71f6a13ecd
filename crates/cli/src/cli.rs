//! The command line of every datapact app: the arguments (clap) and the dispatch to one file per
//! subcommand (`*_cmd.rs`). Exit codes are in `failure.rs`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use datapact_sim::PluginSet;

use crate::context::{Context, thread_count};
use crate::failure::Failure;
use crate::optimize_cmd::SearchArgs;
use crate::{
    audit_cmd, calibrate_cmd, diff_cmd, new_cmd, optimize_cmd, plugins_cmd, report_cmd,
    reproduce_cmd, run_cmd, scenarios_cmd, schema_cmd, sensitivity_cmd, status_cmd, submit_cmd,
    validate_cmd, verify_cmd,
};

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
        /// Run campaigns with the direct kernel instead of the ECS world (identical numbers; the
        /// slower reference, for comparison).
        ///
        /// The reference the ECS path is tested against, not the path to time: it draws every
        /// replication afresh in every cell (no draw bank shared across cells) and recomputes the
        /// drift and observation multipliers per campaign, so it is slower than the default.
        #[arg(long)]
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
    /// Search a scenario's design keys for the Pareto front of its [optimize] objectives
    /// (NSGA-II, constraints by constrained domination); each generation is a points design
    /// run like `run` (chunks, shards, resume), and front members are re-evaluated with fresh
    /// replications. Writes pareto.parquet, evaluations.parquet, hypervolume.parquet and
    /// front.png into DIR (docs/optimize.md).
    Optimize {
        /// A scenario file with an [optimize] table (and no [sweep] or [design]).
        file: PathBuf,
        #[command(flatten)]
        search: SearchFlags,
    },
    /// Fit a scenario's [calibrate] keys to target moments by ABC-SMC (a uniform prior on
    /// their ranges); each generation is a points design run like `run`. Writes
    /// posterior.parquet (weighted particles), proposals.parquet, tolerances.parquet and
    /// posterior.png into DIR (docs/optimize.md).
    Calibrate {
        /// A scenario file with a [calibrate] table (and no [sweep] or [design]).
        file: PathBuf,
        #[command(flatten)]
        search: SearchFlags,
    },
    /// Check a scenario file and print what it would run.
    Validate {
        scenario: String,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Print the Arrow schemas of the output tables.
    Schema,
    /// Say which shards of an output directory are complete, and how many chunks each has done.
    Status { dir: PathBuf },
    /// Submit a run to Slurm: a job array of N shards, then a report job after it.
    ///
    /// Each task is requeued if its node fails; the report job starts once every task has
    /// succeeded. Prints the job ids and the command that shows progress. Arguments after `--`
    /// go to both sbatch calls. See tools/slurm/README.md.
    Submit {
        /// A scenario file, or the name of an embedded one.
        scenario: String,
        /// Shards N: array tasks 0 to N-1 (at most the scenario's chunks).
        #[arg(long)]
        shards: usize,
        /// Output directory, on a filesystem every node sees (default: results/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a scenario key, e.g. --set game.drift=0.2 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Run at most K tasks at once (--array=0-(N-1)%K).
        #[arg(long, value_name = "K")]
        max_running: Option<usize>,
        /// sbatch options for both jobs, e.g. -- --partition=long --time=2:00:00 --cpus-per-task=4.
        #[arg(last = true, value_name = "SBATCH_ARGS")]
        sbatch: Vec<String>,
    },
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
    /// `cells` column; writes sensitivity.parquet and sensitivity.png (and, for Morris, the
    /// μ*–σ plot sensitivity-mu-sigma.png).
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
        /// Also the second-order Sobol indices S2 of each pair of axes (Sobol designs run without
        /// `second_order = false`).
        #[arg(long)]
        second_order: bool,
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
        /// Decide every claim under K independent seeds: seed s (the paper's) in DIR, and seeds
        /// s + 1, …, s + K − 1 of the runs the claims read in DIR/seeds/<k>; claims.json counts
        /// `seeds` and `seeds_held` (1 to 1000).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        seeds: u32,
        /// No progress bars.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Incentive audit: unilateral deviations, best-response dynamics and the paper's claims
    /// re-decided under one changed assumption at a time (settings: scenarios/audit.toml).
    /// Interrupted, the same command with --resume continues it.
    Audit {
        /// Output directory (default: results/audit): created, or adopted if empty or an
        /// earlier audit's; never a user's non-empty directory nor inside a run.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Audit settings (default: the embedded scenarios/audit.toml).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Continue an interrupted audit into the same --out with the same --spec: the cells it
        /// finished in every phase (deviations and dynamics, "which S?", cost-bin equilibria;
        /// their records in OUT/_cells, used only when they are this audit's) and its finished
        /// claim runs are kept. Without it every cell is computed again (the claim runs resume
        /// either way).
        #[arg(long)]
        resume: bool,
        /// No progress bars.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Write a new plugin crate: docs/extending.md's deposit mechanism, to change into yours.
    ///
    /// PATH gets Cargo.toml (depending on datapact by path, with datapact's build profiles),
    /// the checkout's Cargo.lock, src/main.rs (the tutorial's part 1: a mechanism, a metric, a
    /// plugin, `run_cli` and tests), scenario.toml and .gitignore. Then: `cd PATH && cargo
    /// test --release && cargo run --release -- run scenario.toml`. If PATH exists or its name
    /// is not a valid crate name, nothing is written (exit code 2).
    New {
        /// The new crate's directory (must not exist; its parent must). Its last component is
        /// the crate's name: letters, digits, - and _, starting with a letter; not a Rust
        /// keyword nor the name of a datapact crate.
        path: PathBuf,
        /// The datapact checkout the crate depends on (by path), and whose Cargo.lock and
        /// docs/extending.md (the code and the scenario) it copies.
        #[arg(long, value_name = "DIR", default_value_os_t = new_cmd::default_checkout())]
        datapact_path: PathBuf,
    },
}

/// The flags of `optimize` and `calibrate`.
#[derive(clap::Args)]
struct SearchFlags {
    /// The search's directory (default: results/<scenario name>-optimize or -calibrate).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads of each run (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Override a key of the file, e.g. --set game.value=0.2 or --set optimize.generations=4
    /// (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Continue the search in DIR (interrupted, or prepared): finished steps and runs are
    /// kept; the result equals an uninterrupted search's.
    #[arg(long)]
    resume: bool,
    /// Run nothing: write the scenarios of the next step's runs under DIR/generations/ and
    /// stop, for `datapact run` (e.g. a Slurm array per run) to compute; then --resume.
    #[arg(long)]
    prepare: bool,
    /// No progress lines.
    #[arg(long, short)]
    quiet: bool,
}

impl SearchFlags {
    fn args(self, file: PathBuf) -> SearchArgs {
        SearchArgs {
            file,
            out: self.out,
            threads: self.threads,
            set: self.set,
            resume: self.resume,
            prepare: self.prepare,
            quiet: self.quiet,
        }
    }
}

/// Parses the process's arguments and runs the subcommand with `plugins`.
pub(crate) fn main(plugins: Arc<PluginSet>) -> ExitCode {
    quiet_on_closed_pipe();
    ExitCode::from(main_from(plugins, std::env::args_os()))
}

/// The command line on `args` (the program's name first); returns the exit code. Help,
/// `--version` and argument errors print as clap prints them (exit 0, or 2 for an error).
pub(crate) fn main_from(
    plugins: Arc<PluginSet>,
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    let result = plugins
        .validate()
        .map_err(|e| Failure {
            code: 2,
            message: e.to_string(),
        })
        .and_then(|()| choose_isa_from_env())
        .and_then(|()| {
            let catalog = Arc::new(plugins.catalog().clone());
            dispatch(&Context { plugins, catalog }, cli.command)
        });
    match result {
        Ok(()) => 0,
        Err(f) => {
            eprintln!("datapact: {}", f.message);
            f.code
        }
    }
}

/// `DATAPACT_ISA` (`baseline`, `avx2` or `avx512`), when set, is the instruction set of the
/// lock-step kernels instead of the default (AVX2 where the CPU runs it): for timing one width
/// against another.
/// Outputs are the same bits under every width.
fn choose_isa_from_env() -> Result<(), Failure> {
    use datapact_model::lanes::Isa;
    let Some(value) = std::env::var_os("DATAPACT_ISA") else {
        return Ok(());
    };
    let refused = |why: String| Failure {
        code: 2,
        message: format!("DATAPACT_ISA={}: {why}", value.to_string_lossy()),
    };
    let isa = value
        .to_str()
        .and_then(Isa::from_name)
        .ok_or_else(|| refused("allowed values are baseline, avx2 and avx512".into()))?;
    Isa::choose(isa).map_err(refused)
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
        } => run_cmd::run(
            cx, scenario, out, threads, set, shard, resume, direct, quiet, only, rep,
        ),
        Command::Optimize { file, search } => optimize_cmd::run(cx, search.args(file)),
        Command::Calibrate { file, search } => calibrate_cmd::run(cx, search.args(file)),
        Command::Validate { scenario, set } => validate_cmd::validate(cx, scenario, set),
        Command::Plugins => {
            plugins_cmd::print(&cx.plugins);
            Ok(())
        }
        Command::Schema => schema_cmd::schema(cx),
        Command::Status { dir } => status_cmd::status(&dir),
        Command::Submit {
            scenario,
            shards,
            out,
            set,
            max_running,
            sbatch,
        } => submit_cmd::submit(
            cx,
            submit_cmd::Submit {
                scenario,
                set,
                shards,
                out,
                max_running,
                sbatch_args: sbatch,
            },
        ),
        Command::Verify { dir } => verify_cmd::verify(&dir),
        Command::Report { dir, out } => report_cmd::report(cx, &dir, out),
        Command::Sensitivity {
            dir,
            metric,
            mechanism,
            minus,
            second_order,
            out,
        } => sensitivity_cmd::sensitivity(
            &dir,
            datapact_report::sensitivity::Request {
                metric,
                mechanism,
                minus,
                second_order,
            },
            out,
        ),
        Command::Diff { a, b, z, out } => diff_cmd::diff(&a, &b, z, out),
        Command::Reproduce {
            out,
            threads,
            seeds,
            quiet,
        } => {
            let threads = thread_count(threads)?;
            reproduce_cmd::reproduce(cx, out, threads, seeds, quiet)
        }
        Command::Audit {
            out,
            spec,
            threads,
            resume,
            quiet,
        } => {
            let threads = thread_count(threads)?;
            audit_cmd::audit(cx, out, spec, threads, resume, quiet)
        }
        Command::Scenarios => {
            scenarios_cmd::list();
            Ok(())
        }
        Command::New {
            path,
            datapact_path,
        } => new_cmd::new(&path, &datapact_path),
    }
}

/// Output to a closed pipe (`datapact validate FILE | head -4`) ends the process quietly, as
/// coreutils do: the default action of SIGPIPE, which Rust's runtime replaces by "ignore" so
/// that `println!` panics with "failed printing to stdout: Broken pipe" and a backtrace. Every
/// file datapact writes appears by rename only, so a process ended this way leaves nothing
/// half-written (at most hidden temporaries, which the next writer of the directory deletes).
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restores a signal's default disposition before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
