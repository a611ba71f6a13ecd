//! NSGA-II on ZDT1 and ZDT2, printing per seed the final front and its hypervolume as JSON, for
//! `tools/search/zdt_vs_pymoo.py` to compare with pymoo's NSGA-II at the same budget.
//!
//! ```text
//! cargo run -p datapact-search --example zdt -- --seeds 10 --population 100 --generations 100
//! ```
//! `--generations G` counts the initial sample as the first generation, as pymoo's `n_gen`
//! does: the budget is `population × G` evaluations. The reference point is `(r, r)` with
//! `--reference r` (1.1 by default).

use datapact_search::problems::Zdt;
use datapact_search::{Nsga2, Nsga2Config};
use serde_json::json;

fn main() {
    let mut seeds = 5u64;
    let mut population = 100usize;
    let mut generations = 100u32;
    let mut n_var = 30usize;
    let mut reference = 1.1f64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| fail(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--seeds" => seeds = number(&flag, &value),
            "--population" => population = number(&flag, &value),
            "--generations" => generations = number(&flag, &value),
            "--n-var" => n_var = number(&flag, &value),
            "--reference" => reference = number(&flag, &value),
            _ => fail(&format!(
                "unknown flag {flag} (--seeds, --population, --generations, --n-var, --reference)"
            )),
        }
    }
    let mut runs = Vec::new();
    for mut problem in [Zdt::Zdt1, Zdt::Zdt2] {
        for seed in 0..seeds {
            let config = Nsga2Config::new(population, seed);
            let mut run = Nsga2::new(problem.space(n_var), 2, 0, config)
                .unwrap_or_else(|e| fail(&e.to_string()));
            for _ in 0..generations {
                run.step(&mut problem)
                    .unwrap_or_else(|e| fail(&e.to_string()));
            }
            let front: Vec<Vec<f64>> = run.front().iter().map(|m| m.objective_means()).collect();
            runs.push(json!({
                "problem": problem.name(),
                "seed": seed,
                "hypervolume": run.hypervolume(&[reference, reference]),
                "front": front,
            }));
        }
    }
    let out = json!({
        "population": population,
        "generations": generations,
        "n_var": n_var,
        "reference": [reference, reference],
        "runs": runs,
    });
    println!("{out}");
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|_| fail(&format!("{flag}: `{value}` is not a valid number")))
}

fn fail(message: &str) -> ! {
    eprintln!("zdt: {message}");
    std::process::exit(2);
}
