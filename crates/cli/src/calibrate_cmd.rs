//! `datapact calibrate`: a scenario's `[calibrate]` keys fitted to target moments by ABC-SMC,
//! each generation a points design run by the runner (`docs/optimize.md`).

use datapact_runner::search::calibrate;

use crate::context::Context;
use crate::failure::Failure;
use crate::optimize_cmd::{SearchArgs, print_prepared};

/// `datapact calibrate FILE [--out DIR] [--threads N] [--set K=V]... [--resume] [--prepare]`.
pub(crate) fn run(cx: &Context, args: SearchArgs) -> Result<(), Failure> {
    let (file, opts, signals) = args.open(cx, "calibrate")?;
    let Some(cal) = &file.calibrate else {
        return Ok(());
    };
    let started = std::time::Instant::now();
    let quiet = args.quiet;
    let total = cal.generations;
    let mut on_generation = |g: u32, epsilon: f64, ess: f64| {
        if !quiet {
            eprintln!(
                "datapact: generation {}/{total}: tolerance {epsilon:.4}, effective sample size \
                 {ess:.1} ({:.1} s)",
                g + 1,
                started.elapsed().as_secs_f64()
            );
        }
    };
    let summary = calibrate(&file, &opts, &mut on_generation).map_err(|e| signals.exit_code(e))?;
    if !summary.prepared.is_empty() {
        print_prepared(&opts, &summary.prepared);
        return Ok(());
    }
    println!(
        "{}: {} generations x {} proposals ({} particles kept), {:.2} s -> {}",
        file.scenario.name,
        summary.generations,
        cal.proposals,
        cal.particles,
        started.elapsed().as_secs_f64(),
        opts.out.display()
    );
    if let Some(inflation) = summary.inflation {
        println!(
            "last tolerance {:.4}: intervals about {inflation:.2}x as wide as exact",
            summary.tolerances.last().map_or(f64::NAN, |t| t.0)
        );
    }
    println!("posterior (weighted particles):");
    for k in &summary.keys {
        match k.numeric {
            Some([mean, sd, q05, q50, q95]) => println!(
                "  {:<28} mean {mean:.5}  sd {sd:.5}  median {q50:.5}  90% interval [{q05:.5}, {q95:.5}]",
                k.key
            ),
            None => {
                let labels: Vec<String> = k
                    .labels
                    .iter()
                    .map(|(l, p)| format!("{l} {p:.3}"))
                    .collect();
                println!("  {:<28} {}", k.key, labels.join(", "));
            }
        }
    }
    let mut files = summary.files.clone();
    files.push(datapact_report::search::posterior_figure(&opts.out)?);
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}
