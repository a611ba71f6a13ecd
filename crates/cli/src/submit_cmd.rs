//! `datapact submit`: a run as a Slurm job array, one shard per task, requeued when its node
//! fails, then a `report` job that starts once every task has succeeded (`afterok`).
//!
//! Before anything is queued, the scenario is checked and the output directory claimed for
//! this run in N shards (`_run.json`), so that a directory of another run is refused at once
//! and `datapact status DIR` works while the tasks wait. Everything the jobs need is written
//! to `DIR/_slurm/`: the scenario as it runs (normalised, overrides applied, so later edits of
//! the file change nothing), the array's job script (the binary's copy of
//! tools/slurm/datapact-array.sbatch) and the report's; the task logs land there too. Every
//! task runs this binary with `--resume`, so submitting the same command again after a failure
//! computes only the chunks still missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::context::{Context, load};
use crate::failure::Failure;

/// The job script of one array task (one shard), as in the repository.
const ARRAY_SCRIPT: &str = include_str!("../../../tools/slurm/datapact-array.sbatch");

/// What to submit.
pub(crate) struct Submit {
    pub(crate) scenario: String,
    pub(crate) set: Vec<String>,
    pub(crate) shards: usize,
    pub(crate) out: Option<PathBuf>,
    pub(crate) max_running: Option<usize>,
    pub(crate) sbatch_args: Vec<String>,
}

fn bad(message: String) -> Failure {
    Failure { code: 2, message }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Failure + '_ {
    move |e| Failure {
        code: 1,
        message: format!("{}: {e}", path.display()),
    }
}

pub(crate) fn submit(cx: &Context, s: Submit) -> Result<(), Failure> {
    let scenario = load(cx, &s.scenario, &s.set)?;
    let plan = datapact_runner::chunk_plan(&scenario);
    if s.shards == 0 || s.shards > plan.chunks() {
        return Err(bad(format!(
            "--shards {}: {} has {} chunks, so 1 to {} shards get work",
            s.shards,
            scenario.origin,
            plan.chunks(),
            plan.chunks()
        )));
    }
    if s.max_running == Some(0) {
        return Err(bad("--max-running must be >= 1".into()));
    }
    check_sbatch_args(&s.sbatch_args)?;
    let sbatch = find_on_path("sbatch").ok_or_else(|| Failure {
        code: 1,
        message: "sbatch not found on PATH: datapact submit needs Slurm's commands \
                  (run it where you would run sbatch)"
            .into(),
    })?;
    // The tasks run this very binary: it must be where every node can read it.
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot locate this datapact binary: {e}"),
        })?;
    let out = s
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&scenario.name));

    datapact_runner::claim(&out, &scenario, &cx.plugins, s.shards)?;
    let out = std::fs::canonicalize(&out).map_err(io(&out))?;
    if let Ok(view) = datapact_runner::RunView::open(&out)
        && view.finished().is_ok()
    {
        println!(
            "{}: already complete; nothing submitted (report it with `{} report {}`)",
            out.display(),
            exe.display(),
            out.display()
        );
        return Ok(());
    }

    // The scenario the tasks read: its normalised text, which must load back as the same run.
    let slurm = out.join("_slurm");
    std::fs::create_dir_all(&slurm).map_err(io(&slurm))?;
    let scenario_file = slurm.join("scenario.toml");
    let text = scenario.normalized();
    let again = datapact_scenario::Scenario::from_str_with(
        &cx.catalog,
        &text,
        &scenario_file.display().to_string(),
        &[],
    )?;
    if again.hash() != scenario.hash() {
        return Err(Failure {
            code: 1,
            message: format!(
                "{}: the normalised scenario does not load back as the same run (a bug: please \
                 report the scenario); run the array with tools/slurm/datapact-array.sbatch",
                scenario.origin
            ),
        });
    }
    write_file(&scenario_file, &text)?;
    let array_script = slurm.join("datapact-array.sbatch");
    write_file(&array_script, ARRAY_SCRIPT)?;
    let report_script = slurm.join("report.sbatch");
    write_file(&report_script, &report_script_text(&exe, &out))?;

    // Slurm's file patterns read `%`: a literal one in the directory's name is `%%`.
    let logs = slurm.display().to_string().replace('%', "%%");
    let array = match s.max_running {
        Some(k) => format!("--array=0-{}%{k}", s.shards - 1),
        None => format!("--array=0-{}", s.shards - 1),
    };
    let array_args: Vec<String> = [
        "--parsable",
        &array,
        "--requeue",
        "--open-mode=append",
        "--job-name=datapact",
        &format!("--output={logs}/%x-%A_%a.out"),
        "--export=ALL",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain(s.sbatch_args.iter().cloned())
    .chain([array_script.display().to_string()])
    .collect();
    let env = [
        ("DATAPACT_BIN", exe.display().to_string()),
        ("DATAPACT_SCENARIO", scenario_file.display().to_string()),
        ("DATAPACT_OUT", out.display().to_string()),
        ("DATAPACT_SHARDS", s.shards.to_string()),
        ("DATAPACT_ARGS", "-q".to_string()),
    ];
    let array_job = run_sbatch(&sbatch, &array_args, &env)?;

    let report_args: Vec<String> = [
        "--parsable".to_string(),
        format!("--dependency=afterok:{array_job}"),
        "--kill-on-invalid-dep=yes".to_string(),
        "--requeue".to_string(),
        "--job-name=datapact-report".to_string(),
        format!("--output={logs}/%x-%j.out"),
    ]
    .into_iter()
    .chain(s.sbatch_args.iter().cloned())
    .chain([report_script.display().to_string()])
    .collect();
    let report_job = run_sbatch(&sbatch, &report_args, &[]).map_err(|f| Failure {
        code: f.code,
        message: format!(
            "array job {array_job} is queued, but the report job was not: {}; submit it with \
             `sbatch --dependency=afterok:{array_job} {}`, or cancel the array with `scancel {array_job}`",
            f.message,
            report_script.display()
        ),
    })?;

    let per_shard = plan.chunks().div_ceil(s.shards);
    println!(
        "{}: {} chunks in {} shards (up to {per_shard} chunks each) -> {}",
        scenario.name,
        plan.chunks(),
        s.shards,
        out.display()
    );
    println!(
        "array job  {array_job}  tasks 0-{}, each requeued if its node fails; logs {}/datapact-{array_job}_<task>.out",
        s.shards - 1,
        slurm.display()
    );
    println!(
        "report job {report_job}  starts when every task has succeeded (afterok:{array_job}) -> {}",
        out.join("report").display()
    );
    println!("progress   {} status {}", exe.display(), out.display());
    Ok(())
}

/// Options `submit` sets itself, which extra arguments may not change.
fn check_sbatch_args(args: &[String]) -> Result<(), Failure> {
    // --quiet would hide the job id that --parsable prints.
    const OWN: [(&str, &str); 6] = [
        ("--array", "-a"),
        ("--dependency", "-d"),
        ("--export", ""),
        ("--parsable", ""),
        ("--quiet", "-Q"),
        ("--wrap", ""),
    ];
    for a in args {
        for (long, short) in OWN {
            let hit = a == long
                || a.starts_with(&format!("{long}="))
                || (!short.is_empty() && a.starts_with(short) && !a.starts_with("--"));
            if hit {
                return Err(bad(format!(
                    "sbatch argument {a:?}: datapact submit sets {long} itself (use --shards N, \
                     --max-running K; it needs sbatch's job id)"
                )));
            }
        }
    }
    Ok(())
}

/// `program` in a directory of `PATH`, if any.
fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    datapact_trace::atomic::write_atomic(path, text.as_bytes()).map_err(io(path))
}

/// `text` as one word of POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn report_script_text(exe: &Path, out: &Path) -> String {
    format!(
        "#!/bin/sh\n\
         # Written by `datapact submit`: the report of the run in {out}, once every task of its\n\
         # array has succeeded (submitted with --dependency=afterok:<array job>).\n\
         exec {} report {}\n",
        shell_quote(&exe.display().to_string()),
        shell_quote(&out.display().to_string()),
        out = out.display()
    )
}

/// Runs sbatch --parsable; the job id it printed (`ID` or `ID;CLUSTER`).
fn run_sbatch(sbatch: &Path, args: &[String], env: &[(&str, String)]) -> Result<String, Failure> {
    let output = Command::new(sbatch)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .output()
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot run {}: {e}", sbatch.display()),
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(Failure {
            code: 1,
            message: format!(
                "sbatch failed ({}): {}",
                output.status,
                stderr.trim().lines().last().unwrap_or("no message")
            ),
        });
    }
    parse_job_id(&stdout).ok_or_else(|| Failure {
        code: 1,
        message: format!(
            "sbatch exited 0 but printed no job id ({:?}); the job may be queued: see squeue",
            stdout.trim()
        ),
    })
}

/// The job id in `sbatch --parsable`'s output: the last line, `ID` or `ID;CLUSTER`.
fn parse_job_id(stdout: &str) -> Option<String> {
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let id = line.trim().split(';').next()?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_read_from_parsable_output() {
        assert_eq!(parse_job_id("12\n"), Some("12".into()));
        assert_eq!(parse_job_id("340;cluster\n"), Some("340".into()));
        assert_eq!(parse_job_id("warning: x\n77\n"), Some("77".into()));
        assert_eq!(parse_job_id("Submitted batch job 12\n"), None);
        assert_eq!(parse_job_id(""), None);
    }

    #[test]
    fn options_submit_sets_are_refused() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for refused in [
            &["--array=0-3"][..],
            &["--array", "0-3"],
            &["-a", "1"],
            &["-a1"],
            &["--dependency=afterok:3"],
            &["-d", "after:1"],
            &["--export=NONE"],
            &["--wrap=true"],
            &["--quiet"],
            &["-Q"],
        ] {
            let Err(e) = check_sbatch_args(&args(refused)) else {
                panic!("{refused:?} accepted");
            };
            assert_eq!(e.code, 2, "{refused:?}");
            assert!(e.message.contains("sets"), "{}", e.message);
        }
        let fine = check_sbatch_args(&args(&[
            "--partition=long",
            "--time=1:00:00",
            "--cpus-per-task=4",
            "--account=abc",
            "-p",
            "debug",
        ]));
        assert!(fine.is_ok());
    }

    #[test]
    fn the_report_script_quotes_its_paths() {
        let text = report_script_text(Path::new("/opt/it's/datapact"), Path::new("/a b/out"));
        assert!(
            text.ends_with("exec '/opt/it'\\''s/datapact' report '/a b/out'\n"),
            "{text}"
        );
    }
}
