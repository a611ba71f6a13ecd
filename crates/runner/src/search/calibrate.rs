//! `datapact calibrate`: ABC-SMC fitting a scenario's keys to target moments, one generation (a
//! points design of the generation's proposals) at a time through the runner.

use std::path::PathBuf;

use datapact_scenario::search::{Calibrate, Domain, Measure, SearchFile};
use datapact_search::{Abc, AbcConfig, Estimate, SimulationNoise, weighted_quantile};
use serde::{Deserialize, Serialize};

use crate::error::RunnerError;
use crate::search::batch::{PointRequest, evaluate, scenarios, step_dir, write_scenarios};
use crate::search::tables::SearchTable;
use crate::search::{SearchOptions, as_number, key_values, start, table_metadata, write_state};

/// The columns of `tolerances.parquet` (name, meaning).
pub const TOLERANCES_COLUMNS: [(&str, &str); 4] = [
    ("generation", "ABC-SMC generation (0 sampled the prior)."),
    (
        "epsilon",
        "The generation's tolerance: the largest distance kept (the particles/proposals quantile of its distances).",
    ),
    (
        "ess",
        "Effective sample size of the kept particles' weights, (Σw)²/Σw².",
    ),
    (
        "inflation",
        "How much wider than exact the posterior intervals are at this tolerance, about √(1 + ε²/(k + 2)) for k targets.",
    ),
];

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    generation: u32,
    candidate: u64,
    values: Vec<f64>,
    simulated: Vec<Estimate>,
    distance: f64,
    kept: bool,
    run: String,
    cell: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Tolerance {
    epsilon: f64,
    ess: f64,
    inflation: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct State {
    abc: Abc,
    records: Vec<Record>,
    tolerances: Vec<Tolerance>,
}

/// The posterior of one key.
#[derive(Clone, Debug, PartialEq)]
pub struct KeySummary {
    /// The key (`population.cost.high`).
    pub key: String,
    /// Its column (`cost_high`).
    pub column: String,
    /// For a numeric key: weighted mean, SD, and the 5%, 50% and 95% quantiles (the 90%
    /// interval is q05..q95); `None` for a categorical key.
    pub numeric: Option<[f64; 5]>,
    /// For a categorical key: each label's posterior probability.
    pub labels: Vec<(String, f64)>,
}

/// What a calibration did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CalibrateSummary {
    /// Generations completed.
    pub generations: u32,
    /// Each generation's tolerance ε and effective sample size.
    pub tolerances: Vec<(f64, f64)>,
    /// The posterior of each key (after the last generation completed).
    pub keys: Vec<KeySummary>,
    /// The interval inflation at the last tolerance ([`Abc::interval_inflation`]).
    pub inflation: Option<f64>,
    /// The files written (empty while the calibration is not finished).
    pub files: Vec<PathBuf>,
    /// With `prepare`: the runs to compute before it can go on.
    pub prepared: Vec<String>,
}

/// Runs (or resumes) the `[calibrate]` search of `file` into `opts.out`; `on_generation` hears
/// of every generation as it completes (its index and tolerance).
pub fn calibrate(
    file: &SearchFile,
    opts: &SearchOptions,
    on_generation: &mut dyn FnMut(u32, f64, f64),
) -> Result<CalibrateSummary, RunnerError> {
    let Some(cal) = &file.calibrate else {
        return Err(RunnerError::Refused(format!(
            "{}: no [calibrate] table (docs/optimize.md)",
            file.scenario.origin
        )));
    };
    let measures: Vec<Measure> = cal.targets.iter().map(|t| t.measure).collect();
    let (space, saved) = start::<State>(file, "calibrate", &cal.keys, &measures, opts)?;
    let mut state: State = match saved {
        Some(s) => s,
        None => {
            let mut config = AbcConfig::new(cal.particles, cal.proposals, cal.seed);
            // datapact's moments are means over many replications, nearly exact: noisy ABC.
            config.noise = SimulationNoise::MatchTargets;
            let targets = cal
                .targets
                .iter()
                .map(|t| Estimate::new(t.value, t.se))
                .collect();
            State {
                abc: Abc::new(space, targets, config)
                    .map_err(|e| RunnerError::Refused(e.to_string()))?,
                records: Vec::new(),
                tolerances: Vec::new(),
            }
        }
    };
    let mut summary = CalibrateSummary::default();
    let mut stepped = false;
    while state.abc.generation() < cal.generations {
        if opts.cancelled() {
            return Err(RunnerError::Interrupted);
        }
        let generation = state.abc.generation();
        let proposals = state.abc.ask();
        let points: Vec<PointRequest> = proposals
            .iter()
            .map(|p| PointRequest {
                values: key_values(&cal.keys, &p.point),
                block: 0,
            })
            .collect();
        let runs = scenarios(&file.scenario, &cal.keys, &points, &step_dir(generation))?;
        let pending = write_scenarios(&opts.out, &runs)?;
        if opts.prepare && !pending.is_empty() {
            summary.prepared = pending;
            fill(&mut summary, cal, &state);
            return Ok(summary);
        }
        let results = evaluate(opts, &runs, &measures, proposals.len())?;
        let told = state
            .abc
            .tell(results.iter().map(|r| r.measures.clone()).collect())
            .map_err(|e| RunnerError::Refused(e.to_string()))?;
        for ((p, pr), (res, d)) in proposals
            .iter()
            .zip(&points)
            .zip(results.into_iter().zip(&told.distances))
        {
            state.records.push(Record {
                generation,
                candidate: p.id.0,
                values: pr.values.iter().map(as_number).collect(),
                simulated: res.measures,
                distance: d.distance,
                kept: d.kept,
                run: res.run,
                cell: res.cell,
            });
        }
        state.tolerances.push(Tolerance {
            epsilon: told.epsilon,
            ess: told.ess,
            inflation: state.abc.interval_inflation().unwrap_or(1.0),
        });
        write_tables(file, cal, &measures, &state, opts, true, false)?;
        stepped = true;
        write_state(&opts.out, &state)?;
        on_generation(generation, told.epsilon, told.ess);
    }
    summary.files = write_tables(file, cal, &measures, &state, opts, !stepped, true)?;
    fill(&mut summary, cal, &state);
    Ok(summary)
}

/// The particles' values on the keys' own scales, with their weights.
fn particles(cal: &Calibrate, state: &State) -> Vec<(Vec<f64>, f64)> {
    state
        .abc
        .posterior()
        .iter()
        .map(|p| {
            let values = key_values(&cal.keys, &p.point)
                .iter()
                .map(as_number)
                .collect();
            (values, p.weight)
        })
        .collect()
}

fn fill(summary: &mut CalibrateSummary, cal: &Calibrate, state: &State) {
    summary.generations = state.abc.generation();
    summary.tolerances = state
        .tolerances
        .iter()
        .map(|t| (t.epsilon, t.ess))
        .collect();
    summary.inflation = state.abc.interval_inflation();
    let parts = particles(cal, state);
    summary.keys = cal
        .keys
        .iter()
        .enumerate()
        .map(|(k, key)| {
            let mut s = KeySummary {
                key: key.key.clone(),
                column: key.column.clone(),
                numeric: None,
                labels: Vec::new(),
            };
            if parts.is_empty() {
                return s;
            }
            match &key.domain {
                Domain::Labels(c) => {
                    s.labels = c
                        .iter()
                        .enumerate()
                        .map(|(i, cat)| {
                            let p = parts
                                .iter()
                                .filter(|(v, _)| v[k] as usize == i)
                                .map(|(_, w)| w)
                                .sum();
                            (cat.label(), p)
                        })
                        .collect();
                }
                _ => {
                    let mut sorted: Vec<(f64, f64)> =
                        parts.iter().map(|(v, w)| (v[k], *w)).collect();
                    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let total: f64 = sorted.iter().map(|v| v.1).sum();
                    let mean = sorted.iter().map(|(x, w)| x * w).sum::<f64>() / total;
                    let var = sorted
                        .iter()
                        .map(|(x, w)| w * (x - mean).powi(2))
                        .sum::<f64>()
                        / total;
                    s.numeric = Some([
                        mean,
                        var.sqrt(),
                        weighted_quantile(&sorted, 0.05).unwrap_or(f64::NAN),
                        weighted_quantile(&sorted, 0.5).unwrap_or(f64::NAN),
                        weighted_quantile(&sorted, 0.95).unwrap_or(f64::NAN),
                    ]);
                }
            }
            s
        })
        .collect();
}

fn write_tables(
    file: &SearchFile,
    cal: &Calibrate,
    measures: &[Measure],
    state: &State,
    opts: &SearchOptions,
    steps: bool,
    last: bool,
) -> Result<Vec<PathBuf>, RunnerError> {
    let metadata = table_metadata(file, &cal.keys, &[], opts);
    let mut files = Vec::new();
    let recs = &state.records;

    // The step tables; a search that stepped in this call has already written them.
    if steps {
        let mut t = SearchTable::default();
        t.u32(
            "generation",
            "ABC-SMC generation that proposed the point (0: from the prior).",
            recs.iter().map(|r| r.generation).collect(),
        );
        t.u64(
            "candidate",
            "The proposal's id.",
            recs.iter().map(|r| r.candidate).collect(),
        );
        let values: Vec<&[f64]> = recs.iter().map(|r| r.values.as_slice()).collect();
        t.keys(&cal.keys, &values);
        let rows: Vec<&[Estimate]> = recs.iter().map(|r| r.simulated.as_slice()).collect();
        t.measures(
            measures,
            &rows,
            ", simulated, before the matching noise is added",
        );
        t.f64("distance", "Distance to the targets, √Σ((simulated + noise − target)/se)², each simulated moment with a normal error of variance se_target² − se_sim² added (noisy ABC).", recs.iter().map(|r| r.distance).collect());
        t.bool(
            "kept",
            "Whether the proposal is a particle of its generation (one of the nearest).",
            recs.iter().map(|r| r.kept).collect(),
        );
        t.runs(
            recs.iter().map(|r| r.run.clone()).collect(),
            recs.iter().map(|r| r.cell).collect(),
        );
        let path = opts.out.join("proposals.parquet");
        t.write(&path, &metadata)?;

        let tols = &state.tolerances;
        let mut t = SearchTable::default();
        t.u32(
            TOLERANCES_COLUMNS[0].0,
            TOLERANCES_COLUMNS[0].1,
            (0..tols.len() as u32).collect(),
        );
        t.f64(
            TOLERANCES_COLUMNS[1].0,
            TOLERANCES_COLUMNS[1].1,
            tols.iter().map(|x| x.epsilon).collect(),
        );
        t.f64(
            TOLERANCES_COLUMNS[2].0,
            TOLERANCES_COLUMNS[2].1,
            tols.iter().map(|x| x.ess).collect(),
        );
        t.f64(
            TOLERANCES_COLUMNS[3].0,
            TOLERANCES_COLUMNS[3].1,
            tols.iter().map(|x| x.inflation).collect(),
        );
        let path = opts.out.join("tolerances.parquet");
        t.write(&path, &metadata)?;
    }
    files.push(opts.out.join("proposals.parquet"));
    files.push(opts.out.join("tolerances.parquet"));

    if last {
        let posterior = state.abc.posterior();
        let parts = particles(cal, state);
        let mut t = SearchTable::default();
        t.u64(
            "candidate",
            "The proposal the particle came from (its row in proposals.parquet).",
            posterior.iter().map(|p| p.id.0).collect(),
        );
        let values: Vec<&[f64]> = parts.iter().map(|p| p.0.as_slice()).collect();
        t.keys(&cal.keys, &values);
        t.f64("weight", "The particle's importance weight (the weights sum to 1): weighted, the particles are a sample of the posterior.", posterior.iter().map(|p| p.weight).collect());
        t.f64(
            "distance",
            "The particle's distance to the targets.",
            posterior.iter().map(|p| p.distance).collect(),
        );
        let path = opts.out.join("posterior.parquet");
        t.write(&path, &metadata)?;
        files.push(path);
    }
    Ok(files)
}
