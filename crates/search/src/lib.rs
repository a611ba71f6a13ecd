//! Search over a model's settings and parameters: multi-objective optimisation with NSGA-II and
//! calibration with ABC-SMC, both driven generation by generation (ask/tell), so that whoever
//! evaluates the points decides how: a closure, a pool of threads, or — for datapact — one
//! points design per generation run by the runner, with its shards, resume and Slurm arrays.
//!
//! Invariants: this crate knows nothing of scenarios, ECS or files. Every random draw comes
//! from a ChaCha8 stream fixed by the seed, the generation and the phase (ask or tell),
//! so a run is deterministic from its seed, and the states ([`Nsga2`], [`Abc`]) serialise with
//! serde (floats as exact decimal text) so that a run stopped between generations resumes to
//! the same result as an uninterrupted one.
//!
//! # Pieces
//! - [`space`]: the variables — real ranges, integer ranges and categorical label sets — and
//!   their points.
//! - [`nsga2`]: NSGA-II (Deb et al. 2002) with pymoo 0.6's operators and defaults (SBX η_c = 15
//!   with probability 0.9, polynomial mutation η_m = 20 with per-variable probability 1/n,
//!   binary tournaments, duplicate elimination), constraints by constrained domination, and
//!   protection of the front against noisy objectives by re-evaluating its members with more
//!   replications (its module doc says why that, and not dominance beyond k·SE).
//! - [`operators`]: the crossover and mutation, including the categorical ones (uniform
//!   crossover, mutation to another label).
//! - [`pareto`]: dominance, constrained domination, the fast non-dominated sort, crowding
//!   distances.
//! - [`hypervolume`](mod@hypervolume): exact hypervolume, a sweep for two objectives and WFG
//!   above.
//! - [`abc`]: ABC-SMC with weighted particles and an adaptive tolerance; its module doc says
//!   why ABC-SMC rather than the simulated method of moments.
//! - [`estimate`]: means with standard errors, pooled over batches of replications.
//! - [`problems`]: ZDT1 and ZDT2, the test problems the optimiser is validated on against
//!   pymoo (`tools/search/zdt_vs_pymoo.py`).
//!
//! # For the integration
//! A scenario key with a numeric range maps to [`Variable::Real`] (or [`Variable::Integer`]),
//! one with a set of labels to [`Variable::Categorical`]; a [`Request`]'s point gives each key
//! its value ([`Space::label`] turns a label index back into its label). A `cells` metric of a
//! mechanism is an [`Estimate`] (mean and SE); an objective to maximise is
//! [`Estimate::negated`], a constraint "metric ≥ b" is [`Estimate::at_least`]. A request's
//! [`Request::batch`] says which block of replications to run, so that re-evaluations add
//! fresh replications while candidates of one block share their random numbers.
//!
//! ```
//! use datapact_search::{Evaluation, Nsga2, Nsga2Config, Space, Variable, hypervolume};
//!
//! let space = Space::new(vec![Variable::real("x", 0.0, 2.0)]).unwrap();
//! let mut run = Nsga2::new(space, 2, 0, Nsga2Config::new(12, 7)).unwrap();
//! for _ in 0..10 {
//!     let asked = run.ask();
//!     let told = asked
//!         .iter()
//!         .map(|r| {
//!             let x = r.point[0].as_f64();
//!             Evaluation::exact(&[x * x, (x - 2.0) * (x - 2.0)])
//!         })
//!         .collect();
//!     run.tell(told).unwrap();
//! }
//! // Schaffer's problem: every x in [0, 2] is Pareto-optimal, so the front spreads out.
//! assert!(run.front().len() >= 6);
//! assert!(run.hypervolume(&[4.0, 4.0]) > 0.0);
//! ```

#![warn(missing_docs)]

pub mod abc;
pub mod error;
pub mod estimate;
mod exact;
pub mod hypervolume;
pub mod nsga2;
pub mod operators;
pub mod pareto;
pub mod problems;
mod rng;
pub mod space;

pub use abc::{Abc, AbcConfig, AbcSummary, Particle, Proposal, SimulationNoise, weighted_quantile};
pub use error::SearchError;
pub use estimate::Estimate;
pub use hypervolume::hypervolume;
pub use nsga2::{
    CandidateId, Evaluation, Evaluator, GenerationSummary, Member, NoiseHandling, Nsga2,
    Nsga2Config, Ranked, Request,
};
pub use space::{Point, Space, Value, Variable};
