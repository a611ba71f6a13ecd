//! `datapact optimize`: NSGA-II over a scenario's design keys, one step (a generation, or a
//! round of re-evaluations of the final front) at a time through the runner.

use std::collections::BTreeMap;
use std::path::PathBuf;

use datapact_scenario::search::{Domain, Measure, Optimize, SearchFile, Sense};
use datapact_search::pareto::{non_dominated, violation};
use datapact_search::{Estimate, Evaluation, NoiseHandling, Nsga2, Nsga2Config, hypervolume};
use serde::{Deserialize, Serialize};

use crate::error::RunnerError;
use crate::search::batch::{PointRequest, evaluate, scenarios, step_dir, write_scenarios};
use crate::search::tables::SearchTable;
use crate::search::{SearchOptions, as_number, key_values, start, table_metadata, write_state};

/// One evaluation of one candidate (one replication block), as `evaluations.parquet` holds it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    step: u32,
    polish: bool,
    candidate: u64,
    block: u32,
    /// One value per key (a label's index for a categorical key).
    values: Vec<f64>,
    /// One estimate per measure, in the metric's units (this block's replications only).
    measures: Vec<Estimate>,
    reps: u64,
    rank: u32,
    survived: bool,
    /// The constraint violation of this evaluation's means (0: feasible).
    violation: f64,
    run: String,
    cell: u32,
}

/// One step: what it did and its front (feasible first-front members' pooled objectives, all
/// minimised).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Step {
    polish: bool,
    evaluated: usize,
    reevaluated: usize,
    front: Vec<Vec<f64>>,
}

/// What `state.json` holds between steps.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct State {
    nsga: Nsga2,
    records: Vec<Record>,
    steps: Vec<Step>,
    done: bool,
}

/// One step of the search, as reported while it runs and in the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct StepSummary {
    /// The step (0 is the initial sample).
    pub step: u32,
    /// A re-evaluation round after the last generation (no offspring).
    pub polish: bool,
    /// New candidates evaluated.
    pub evaluated: usize,
    /// Front members re-evaluated with a further block of replications.
    pub reevaluated: usize,
    /// Feasible members of the first front after the step.
    pub front: usize,
    /// The front's hypervolume, with the reference of [`OptimizeSummary::reference`] (while the
    /// search runs: the reference of the evaluations so far).
    pub hypervolume: f64,
}

/// What a search did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizeSummary {
    /// Every step so far.
    pub steps: Vec<StepSummary>,
    /// Evaluations so far.
    pub evaluations: usize,
    /// The hypervolume's reference point, in the objectives' own units.
    pub reference: Vec<f64>,
    /// The objectives' columns (`M_welfare_mean`, ...).
    pub objectives: Vec<String>,
    /// The final front: per member, its key values as text and its objectives (mean, SE).
    pub front: Vec<(Vec<String>, Vec<Estimate>)>,
    /// The files written (empty while the search is not finished).
    pub files: Vec<PathBuf>,
    /// With `prepare`: the runs (relative to the directory) to compute before the search can
    /// go on; empty when the search finished.
    pub prepared: Vec<String>,
}

/// The measures read from every run: the objectives', then the constraints' not already read.
fn measures(opt: &Optimize) -> (Vec<Measure>, Vec<usize>) {
    let mut list: Vec<Measure> = opt.objectives.iter().map(|o| o.measure).collect();
    let mut of_constraint = Vec::new();
    for c in &opt.constraints {
        let i = match list.iter().position(|m| m.column() == c.measure.column()) {
            Some(i) => i,
            None => {
                list.push(c.measure);
                list.len() - 1
            }
        };
        of_constraint.push(i);
    }
    (list, of_constraint)
}

/// The crate's evaluation of one result: objectives minimised, constraints `≤ 0` when met.
fn evaluation(opt: &Optimize, of_constraint: &[usize], m: &[Estimate], reps: u64) -> Evaluation {
    let objectives = opt
        .objectives
        .iter()
        .zip(m)
        .map(|(o, e)| match o.sense {
            Sense::Max => e.negated(),
            Sense::Min => *e,
        })
        .collect();
    let mut constraints = Vec::new();
    for (c, &i) in opt.constraints.iter().zip(of_constraint) {
        if let Some(min) = c.min {
            constraints.push(m[i].at_least(min));
        }
        if let Some(max) = c.max {
            constraints.push(m[i].at_most(max));
        }
    }
    Evaluation {
        objectives,
        constraints,
        replications: reps,
    }
}

fn constraint_count(opt: &Optimize) -> usize {
    opt.constraints
        .iter()
        .map(|c| usize::from(c.min.is_some()) + usize::from(c.max.is_some()))
        .sum()
}

/// Runs (or resumes) the `[optimize]` search of `file` into `opts.out`; `on_step` hears of every
/// step as it completes.
pub fn optimize(
    file: &SearchFile,
    opts: &SearchOptions,
    on_step: &mut dyn FnMut(&StepSummary),
) -> Result<OptimizeSummary, RunnerError> {
    let Some(opt) = &file.optimize else {
        return Err(RunnerError::Refused(format!(
            "{}: no [optimize] table (docs/optimize.md)",
            file.scenario.origin
        )));
    };
    let (measures, of_constraint) = measures(opt);
    let (space, saved) = start::<State>(file, "optimize", &opt.keys, &measures, opts)?;
    let mut state: State = match saved {
        Some(s) => s,
        None => {
            let mut config = Nsga2Config::new(opt.population, opt.seed);
            config.noise = NoiseHandling {
                reevaluations: opt.reevaluations,
                max_batches: opt.max_batches,
            };
            State {
                nsga: Nsga2::new(space, opt.objectives.len(), constraint_count(opt), config)
                    .map_err(|e| RunnerError::Refused(e.to_string()))?,
                records: Vec::new(),
                steps: Vec::new(),
                done: false,
            }
        }
    };
    let mut summary = OptimizeSummary {
        objectives: opt.objectives.iter().map(|o| o.measure.column()).collect(),
        ..Default::default()
    };
    let mut stepped = false;
    while !state.done {
        if opts.cancelled() {
            return Err(RunnerError::Interrupted);
        }
        let polish = state.nsga.generation() >= opt.generations;
        let requests = if polish {
            state.nsga.ask_polish()
        } else {
            state.nsga.ask()
        };
        if requests.is_empty() {
            state.done = true;
            write_state(&opts.out, &state)?;
            break;
        }
        let step = state.steps.len() as u32;
        let points: Vec<PointRequest> = requests
            .iter()
            .map(|r| PointRequest {
                values: key_values(&opt.keys, &r.point),
                block: r.batch,
            })
            .collect();
        let runs = scenarios(&file.scenario, &opt.keys, &points, &step_dir(step))?;
        let pending = write_scenarios(&opts.out, &runs)?;
        if opts.prepare && !pending.is_empty() {
            summary.prepared = pending;
            fill(&mut summary, opt, &state);
            return Ok(summary);
        }
        let results = evaluate(opts, &runs, &measures, requests.len())?;
        let evaluations: Vec<Evaluation> = results
            .iter()
            .map(|r| evaluation(opt, &of_constraint, &r.measures, r.reps))
            .collect();
        let violations: Vec<f64> = evaluations
            .iter()
            .map(|e| violation(&e.constraints.iter().map(|c| c.mean).collect::<Vec<_>>()))
            .collect();
        let told = state
            .nsga
            .tell(evaluations)
            .map_err(|e| RunnerError::Refused(e.to_string()))?;
        let ranks: BTreeMap<u64, (usize, bool)> = told
            .ranked
            .iter()
            .map(|r| (r.id.0, (r.rank, r.survived)))
            .collect();
        for ((r, p), (res, v)) in requests
            .iter()
            .zip(&points)
            .zip(results.into_iter().zip(violations))
        {
            let (rank, survived) = ranks.get(&r.id.0).copied().unwrap_or((usize::MAX, false));
            state.records.push(Record {
                step,
                polish,
                candidate: r.id.0,
                block: r.batch,
                values: p.values.iter().map(as_number).collect(),
                measures: res.measures,
                reps: res.reps,
                rank: rank.min(u32::MAX as usize) as u32,
                survived,
                violation: v,
                run: res.run,
                cell: res.cell,
            });
        }
        state.steps.push(Step {
            polish,
            evaluated: told.evaluated,
            reevaluated: told.reevaluated,
            front: state
                .nsga
                .front()
                .iter()
                .map(|m| m.objective_means())
                .collect(),
        });
        write_tables(file, opt, &measures, &state, opts, true, false)?;
        stepped = true;
        write_state(&opts.out, &state)?;
        fill(&mut summary, opt, &state);
        if let Some(last) = summary.steps.last() {
            on_step(last);
        }
    }
    summary.files = write_tables(file, opt, &measures, &state, opts, !stepped, true)?;
    fill(&mut summary, opt, &state);
    Ok(summary)
}

/// The hypervolume's reference point, minimised: an objective's `reference` if given (negated
/// for a maximised one), else the worst value over every feasible evaluation (all evaluations
/// when none is feasible) plus a tenth of the objectives' range over them (a tenth of its
/// magnitude, or 1, when the range is 0), so that every front member counts.
fn reference(opt: &Optimize, state: &State) -> Vec<f64> {
    let feasible: Vec<&Record> = state
        .records
        .iter()
        .filter(|r| r.violation == 0.0)
        .collect();
    let pool: Vec<&Record> = if feasible.is_empty() {
        state.records.iter().collect()
    } else {
        feasible
    };
    opt.objectives
        .iter()
        .enumerate()
        .map(|(k, o)| {
            let sign = if o.sense == Sense::Max { -1.0 } else { 1.0 };
            if let Some(r) = o.reference {
                return sign * r;
            }
            let values = pool.iter().map(|r| sign * r.measures[k].mean);
            let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            if !hi.is_finite() {
                return 1.0;
            }
            let margin = if hi > lo {
                0.1 * (hi - lo)
            } else {
                0.1 * hi.abs().max(1.0)
            };
            hi + margin
        })
        .collect()
}

fn fill(summary: &mut OptimizeSummary, opt: &Optimize, state: &State) {
    let reference = reference(opt, state);
    summary.steps = state
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| StepSummary {
            step: i as u32,
            polish: s.polish,
            evaluated: s.evaluated,
            reevaluated: s.reevaluated,
            front: s.front.len(),
            hypervolume: hypervolume(&s.front, &reference),
        })
        .collect();
    summary.evaluations = state.records.len();
    summary.reference = opt
        .objectives
        .iter()
        .zip(&reference)
        .map(|(o, r)| if o.sense == Sense::Max { -r } else { *r })
        .collect();
    summary.front = front(opt, state)
        .into_iter()
        .map(|m| {
            let keys = opt
                .keys
                .iter()
                .zip(&m.values)
                .map(|(k, v)| match &k.domain {
                    Domain::Labels(c) => c[*v as usize].label(),
                    Domain::Integer { .. } => format!("{v}"),
                    Domain::Real { .. } => format!("{v:.6}"),
                })
                .collect();
            (keys, m.measures[..opt.objectives.len()].to_vec())
        })
        .collect();
}

/// A front member, pooled over its evaluations (as the optimiser pools them).
struct Pooled {
    candidate: u64,
    values: Vec<f64>,
    measures: Vec<Estimate>,
    reps: u64,
    batches: u32,
    born: u32,
}

/// The final non-dominated set: the optimiser's feasible first front, each member's measures
/// pooled over its evaluations, kept only if no other member dominates it in those pooled
/// means; sorted by the first objective.
fn front(opt: &Optimize, state: &State) -> Vec<Pooled> {
    let mut members: Vec<Pooled> = state
        .nsga
        .front()
        .iter()
        .filter_map(|m| {
            let mut pooled: Option<Pooled> = None;
            for r in state.records.iter().filter(|r| r.candidate == m.id.0) {
                pooled = Some(match pooled {
                    None => Pooled {
                        candidate: r.candidate,
                        values: r.values.clone(),
                        measures: r.measures.clone(),
                        reps: r.reps,
                        batches: 1,
                        born: r.step,
                    },
                    Some(mut p) => {
                        for (a, b) in p.measures.iter_mut().zip(&r.measures) {
                            *a = a.pooled(p.reps, *b, r.reps);
                        }
                        p.reps += r.reps;
                        p.batches += 1;
                        p
                    }
                });
            }
            pooled
        })
        .collect();
    let minimised: Vec<Vec<f64>> = members
        .iter()
        .map(|p| {
            opt.objectives
                .iter()
                .zip(&p.measures)
                .map(|(o, e)| {
                    if o.sense == Sense::Max {
                        -e.mean
                    } else {
                        e.mean
                    }
                })
                .collect()
        })
        .collect();
    let keep = non_dominated(&minimised);
    let mut kept: Vec<Pooled> = Vec::with_capacity(keep.len());
    let mut slots: Vec<Option<Pooled>> = members.drain(..).map(Some).collect();
    for i in keep {
        if let Some(p) = slots[i].take() {
            kept.push(p);
        }
    }
    kept.sort_by(|a, b| {
        a.measures[0]
            .mean
            .total_cmp(&b.measures[0].mean)
            .then(a.candidate.cmp(&b.candidate))
    });
    kept
}

/// Writes `evaluations.parquet` and `hypervolume.parquet` (and, when `last`, `pareto.parquet`);
/// returns the files written.
fn write_tables(
    file: &SearchFile,
    opt: &Optimize,
    measures: &[Measure],
    state: &State,
    opts: &SearchOptions,
    steps: bool,
    last: bool,
) -> Result<Vec<PathBuf>, RunnerError> {
    let objectives: Vec<(String, &str)> = opt
        .objectives
        .iter()
        .map(|o| (o.measure.column(), o.sense.as_str()))
        .collect();
    let metadata = table_metadata(file, &opt.keys, &objectives, opts);
    let mut files = Vec::new();
    let recs = &state.records;

    // The step tables; a search that stepped in this call has already written them.
    if steps {
        // evaluations.parquet
        let mut t = SearchTable::default();
        t.u32("generation", "Step of the search: generation 0 is the initial sample; steps after the last generation re-evaluate the final front (polish = true).", recs.iter().map(|r| r.step).collect());
        t.bool(
            "polish",
            "Whether the step re-evaluated the final front after the last generation (no offspring).",
            recs.iter().map(|r| r.polish).collect(),
        );
        t.u64(
            "candidate",
            "The candidate's id (stable across its re-evaluations).",
            recs.iter().map(|r| r.candidate).collect(),
        );
        t.u32("block", "Replication block of this evaluation: 0 for a candidate's first, k for its k-th re-evaluation; block k of every candidate plays the same draws (common random numbers), different blocks independent ones.", recs.iter().map(|r| r.block).collect());
        let values: Vec<&[f64]> = recs.iter().map(|r| r.values.as_slice()).collect();
        t.keys(&opt.keys, &values);
        let rows: Vec<&[Estimate]> = recs.iter().map(|r| r.measures.as_slice()).collect();
        t.measures(measures, &rows, " of this evaluation alone");
        t.u64(
            "reps",
            "Replications of this evaluation.",
            recs.iter().map(|r| r.reps).collect(),
        );
        t.u32("rank", "The candidate's front in this step's survival among parents and offspring, by constrained domination of pooled means (0 is the first front).", recs.iter().map(|r| r.rank).collect());
        t.bool(
            "survived",
            "Whether the candidate is in the population after this step.",
            recs.iter().map(|r| r.survived).collect(),
        );
        t.f64(
            "violation",
            "Total constraint violation of this evaluation's means (0: every constraint met).",
            recs.iter().map(|r| r.violation).collect(),
        );
        t.runs(
            recs.iter().map(|r| r.run.clone()).collect(),
            recs.iter().map(|r| r.cell).collect(),
        );
        let path = opts.out.join("evaluations.parquet");
        t.write(&path, &metadata)?;

        // hypervolume.parquet
        let reference = reference(opt, state);
        let mut t = SearchTable::default();
        let steps = &state.steps;
        t.u32(
            "generation",
            "Step of the search (see evaluations.generation).",
            (0..steps.len() as u32).collect(),
        );
        t.bool(
            "polish",
            "Whether the step re-evaluated the final front.",
            steps.iter().map(|s| s.polish).collect(),
        );
        t.u64(
            "evaluated",
            "New candidates evaluated in the step.",
            steps.iter().map(|s| s.evaluated as u64).collect(),
        );
        t.u64(
            "reevaluated",
            "Front members re-evaluated in the step.",
            steps.iter().map(|s| s.reevaluated as u64).collect(),
        );
        t.u64(
            "front",
            "Feasible members of the first front after the step.",
            steps.iter().map(|s| s.front.len() as u64).collect(),
        );
        t.f64("hypervolume", "Hypervolume of the front's pooled means after the step, with the reference point of the reference_* columns (the same for every step).", steps.iter().map(|s| hypervolume(&s.front, &reference)).collect());
        for (o, r) in opt.objectives.iter().zip(&reference) {
            let natural = if o.sense == Sense::Max { -r } else { *r };
            let c = o.measure.column();
            t.f64(&format!("reference_{c}"), &format!("The reference point's {c} (objective to {}): the worst value of any feasible evaluation plus a tenth of the range, unless the objective sets reference.", o.sense.as_str()), vec![natural; steps.len()]);
        }
        let path = opts.out.join("hypervolume.parquet");
        t.write(&path, &metadata)?;
    }
    files.push(opts.out.join("evaluations.parquet"));
    files.push(opts.out.join("hypervolume.parquet"));

    if last {
        let members = front(opt, state);
        let mut t = SearchTable::default();
        t.u64(
            "candidate",
            "The candidate's id (its rows in evaluations.parquet).",
            members.iter().map(|m| m.candidate).collect(),
        );
        let values: Vec<&[f64]> = members.iter().map(|m| m.values.as_slice()).collect();
        t.keys(&opt.keys, &values);
        let rows: Vec<&[Estimate]> = members.iter().map(|m| m.measures.as_slice()).collect();
        t.measures(measures, &rows, ", pooled over the candidate's evaluations");
        t.u64(
            "reps",
            "Replications pooled.",
            members.iter().map(|m| m.reps).collect(),
        );
        t.u32(
            "batches",
            "Evaluations pooled (replication blocks).",
            members.iter().map(|m| m.batches).collect(),
        );
        t.u32(
            "generation",
            "The step that first evaluated the candidate.",
            members.iter().map(|m| m.born).collect(),
        );
        let path = opts.out.join("pareto.parquet");
        t.write(&path, &metadata)?;
        files.push(path);
    }
    Ok(files)
}
