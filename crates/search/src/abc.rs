//! ABC-SMC: approximate Bayesian computation by sequential Monte Carlo (population Monte Carlo
//! with weighted particles and an adaptive tolerance), driven generation by generation.
//!
//! # The algorithm
//! Every generation proposes [`AbcConfig::proposals`] (M) points, the caller simulates each and
//! tells back the simulated moments, and the [`AbcConfig::particles`] (N) proposals nearest the
//! targets are kept. The tolerance ε of a generation is thus the N-th smallest distance, the
//! N/M quantile of that generation's distances: an adaptive schedule (Del Moral, Doucet &
//! Jasra 2012; Drovandi & Pettitt 2011) that needs no tolerances from the user and makes every
//! generation one batch of exactly M simulations — for datapact one points design per
//! generation, with the runner's shards, resume and Slurm arrays. Generation 0 proposes from the
//! prior (uniform on the space). Generation t > 0 draws a particle of t − 1 by weight and moves
//! it with a Gaussian kernel whose covariance is twice the particles' weighted covariance
//! (Beaumont, Cornuet, Marin & Robert 2009; Filippi et al. 2013) and, for a categorical
//! variable, a move to another label with probability [`AbcConfig::label_move`]; a move that
//! leaves the space is redrawn whole. A kept particle θ weighs `π(θ) / Σⱼ wⱼ K(θ | θⱼ)` (Toni
//! et al. 2009; Beaumont et al. 2009), which corrects for proposing from the kernel mixture
//! instead of the prior; the weighted particles of the last generation are the posterior.
//!
//! # Tolerance and cost
//! With noisy moments the tolerance stops falling once it reaches the noise (a distance of
//! about √k at the truth), and the posterior is wider than the exact one by about
//! [`Abc::interval_inflation`]. The acceptance quantile N/M sets where it stops: N/M = 0.05
//! (200 of 4000) and four generations cover the truth at the nominal rate within the binomial
//! error in `tests/abc.rs`; N/M = 0.2 over-covered (98 of 100 for a nominal 90).
//!
//! # The distance
//! `d = √(Σₖ ((sₖ − tₖ) / seₖ)²)` over targets `tₖ ± seₖ` and simulated moments `sₖ`: each
//! moment counts in units of its own uncertainty, so a precisely known moment weighs more.
//!
//! # Why ABC-SMC and not the simulated method of moments
//! SMM gives a point estimate and asymptotic standard errors that need the derivative of the
//! moments in the parameters, estimated by finite differences of a noisy simulator, and
//! assume a locally linear, identified model; it has nothing to say about a categorical key, a
//! bounded parameter near its bound or a multimodal fit. ABC-SMC needs only simulations,
//! returns a whole posterior (intervals, correlations, several modes) and its batches fit the
//! runner's designs. Its price is simulations, and a posterior somewhat wider than the exact
//! one because ε > 0 (it over-covers slightly); the tests bound both.
//!
//! # Noise of the simulated moments
//! A target is an observed moment with a sampling error; the simulator should reproduce that
//! error, else the posterior shrinks to the parameters whose *expected* moment equals the
//! observed one and is too narrow. A simulator that runs one synthetic data set of the
//! observed size does reproduce it ([`SimulationNoise::AsSimulated`]). datapact averages many
//! replications, so its moments are nearly exact; [`SimulationNoise::MatchTargets`] adds to
//! each simulated moment an independent normal error of variance `seₖ² − se_simₖ²` (none when
//! the simulation's own SE is larger), so that simulated and observed moments scatter alike
//! (Wilkinson 2013: ABC with noise in the model is exact inference under that noise).

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{SearchError, pending};
use crate::estimate::Estimate;
use crate::exact;
use crate::nsga2::CandidateId;
use crate::rng::{Phase, below, normal, stream, uniform};
use crate::space::{Point, Space, Value, Variable};

/// The weighted `q`-quantile (`0 ≤ q ≤ 1`) of `(value, weight)` pairs sorted by value: the
/// smallest value whose cumulative weight reaches `q` of the total (`None` when empty).
pub fn weighted_quantile(sorted: &[(f64, f64)], q: f64) -> Option<f64> {
    let total: f64 = sorted.iter().map(|v| v.1).sum();
    let mut cumulative = 0.0;
    for (x, w) in sorted {
        cumulative += w;
        if cumulative >= q * total {
            return Some(*x);
        }
    }
    sorted.last().map(|v| v.0)
}

/// How the noise of simulated moments relates to the targets' (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SimulationNoise {
    /// The simulated moments already scatter like the observed ones (one synthetic data set
    /// of the observed size): use them as they are.
    AsSimulated,
    /// The simulated moments are (nearly) expectations: add a normal error of variance
    /// `se_target² − se_sim²` to each.
    MatchTargets,
}

/// The settings of an ABC-SMC run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbcConfig {
    /// N: particles kept per generation (the posterior sample size).
    pub particles: usize,
    /// M ≥ N: proposals simulated per generation; N/M is the tolerance quantile.
    pub proposals: usize,
    /// The seed every random draw derives from.
    pub seed: u64,
    /// The kernel covariance as a multiple of the particles' weighted covariance: 2.
    #[serde(with = "exact")]
    pub kernel_scale: f64,
    /// The probability that the kernel moves a categorical variable to another label: 0.2.
    #[serde(with = "exact")]
    pub label_move: f64,
    /// How simulated moments are compared with the targets.
    pub noise: SimulationNoise,
}

impl AbcConfig {
    /// N particles kept of M proposals per generation, the default kernel, moments as
    /// simulated.
    pub fn new(particles: usize, proposals: usize, seed: u64) -> Self {
        AbcConfig {
            particles,
            proposals,
            seed,
            kernel_scale: 2.0,
            label_move: 0.2,
            noise: SimulationNoise::AsSimulated,
        }
    }
}

/// A point to simulate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The proposal's identity (unique within the run).
    pub id: CandidateId,
    /// The parameter values.
    pub point: Point,
}

/// A weighted sample of the posterior.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Particle {
    /// The proposal it came from.
    pub id: CandidateId,
    /// The parameter values.
    pub point: Point,
    /// Its normalised weight (the weights of a generation sum to 1).
    #[serde(with = "exact")]
    pub weight: f64,
    /// Its distance to the targets.
    #[serde(with = "exact")]
    pub distance: f64,
}

/// What one [`Abc::tell`] did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbcSummary {
    /// The generation just completed (0 sampled the prior).
    pub generation: u32,
    /// Its tolerance: the largest distance kept.
    #[serde(with = "exact")]
    pub epsilon: f64,
    /// The effective sample size of the kept particles' weights, `(Σw)² / Σw²`.
    #[serde(with = "exact")]
    pub ess: f64,
    /// Every proposal's distance, in the proposals' order.
    pub distances: Vec<Distance>,
}

/// One proposal's distance and whether it was kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Distance {
    /// The proposal.
    pub id: CandidateId,
    /// Its distance to the targets.
    #[serde(with = "exact")]
    pub distance: f64,
    /// Whether it is a particle of the new generation.
    pub kept: bool,
}

/// An ABC-SMC run: its settings and state between generations (serialisable).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Abc {
    space: Space,
    targets: Vec<Estimate>,
    config: AbcConfig,
    generation: u32,
    next_id: u64,
    particles: Vec<Particle>,
    epsilons: Vec<Tolerance>,
    pending: Option<Vec<Proposal>>,
}

/// A tolerance, serialised exactly.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct Tolerance(#[serde(with = "exact")] f64);

impl Abc {
    /// A run over `space` (reals and categoricals, uniform prior) fitting `targets` (observed
    /// moments with SEs > 0); an error names the variable, target or setting at fault.
    pub fn new(
        space: Space,
        targets: Vec<Estimate>,
        config: AbcConfig,
    ) -> Result<Self, SearchError> {
        if let Some(v) = space
            .variables()
            .iter()
            .find(|v| matches!(v, Variable::Integer { .. }))
        {
            return Err(SearchError::Space(format!(
                "variable `{}`: ABC-SMC takes real ranges and label sets, not integer ranges",
                v.name()
            )));
        }
        if targets.is_empty() {
            return Err(SearchError::Config("no target moments to fit".into()));
        }
        for (k, t) in targets.iter().enumerate() {
            if !(t.mean.is_finite() && t.se.is_finite() && t.se > 0.0) {
                return Err(SearchError::Config(format!(
                    "target {k} is {} ± {}: a finite value and a finite SE > 0 are needed",
                    t.mean, t.se
                )));
            }
        }
        let c = &config;
        if c.particles < 2 || c.proposals < c.particles {
            return Err(SearchError::Config(format!(
                "particles is {} and proposals {}: 2 ≤ particles ≤ proposals is needed",
                c.particles, c.proposals
            )));
        }
        if !(c.kernel_scale.is_finite() && c.kernel_scale > 0.0) {
            return Err(SearchError::Config(format!(
                "kernel_scale is {}, it must be finite and > 0",
                c.kernel_scale
            )));
        }
        if !(0.0..1.0).contains(&c.label_move) {
            return Err(SearchError::Config(format!(
                "label_move is {}, it must be in [0, 1)",
                c.label_move
            )));
        }
        Ok(Abc {
            space,
            targets,
            config,
            generation: 0,
            next_id: 0,
            particles: Vec::new(),
            epsilons: Vec::new(),
            pending: None,
        })
    }

    /// The space.
    pub fn space(&self) -> &Space {
        &self.space
    }

    /// Generations told so far.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The tolerance of each generation told so far.
    pub fn epsilons(&self) -> Vec<f64> {
        self.epsilons.iter().map(|t| t.0).collect()
    }

    /// The weighted particles of the last generation (empty before the first tell).
    pub fn posterior(&self) -> &[Particle] {
        &self.particles
    }

    /// How much wider than the exact posterior's the intervals are, roughly, at the last
    /// tolerance ε: `√(1 + ε² / (k + 2))` for k targets. Accepting within a ball of radius ε
    /// (in SE units) adds the ball's per-axis variance, `ε² / (k + 2)`, to the unit variance of
    /// each target's error. Meaningful when the simulated moments scatter like the observed
    /// ones (see [`SimulationNoise`]); `None` before the first tell. Lower it with a smaller
    /// N/M or more generations.
    pub fn interval_inflation(&self) -> Option<f64> {
        let eps = self.epsilons.last()?.0;
        Some((1.0 + eps * eps / (self.targets.len() as f64 + 2.0)).sqrt())
    }

    /// The distance of simulated moments `simulated` (one per target) to the targets.
    pub fn distance(&self, simulated: &[f64]) -> f64 {
        simulated
            .iter()
            .zip(&self.targets)
            .map(|(s, t)| ((s - t.mean) / t.se).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    /// The weighted `q`-quantile (`0 ≤ q ≤ 1`) of real variable `variable` in the posterior:
    /// the smallest value whose cumulative weight reaches `q`. `None` before the first tell or
    /// for a categorical variable.
    pub fn quantile(&self, variable: usize, q: f64) -> Option<f64> {
        if !matches!(self.space.variables().get(variable)?, Variable::Real { .. }) {
            return None;
        }
        let mut values: Vec<(f64, f64)> = self
            .particles
            .iter()
            .map(|p| (p.point[variable].as_f64(), p.weight))
            .collect();
        values.sort_by(|a, b| a.0.total_cmp(&b.0));
        weighted_quantile(&values, q)
    }

    /// The equal-tailed posterior interval of real variable `variable` at `level` (0.9 gives
    /// the 5% and 95% quantiles).
    pub fn interval(&self, variable: usize, level: f64) -> Option<(f64, f64)> {
        let tail = (1.0 - level) / 2.0;
        Some((
            self.quantile(variable, tail)?,
            self.quantile(variable, 1.0 - tail)?,
        ))
    }

    /// The proposals of the current generation (the same ones until told).
    pub fn ask(&mut self) -> Vec<Proposal> {
        if self.pending.is_none() {
            let mut rng = stream(self.config.seed, self.generation, Phase::Ask);
            let kernel = Kernel::new(&self.space, &self.particles, &self.config);
            let proposals = (0..self.config.proposals)
                .map(|_| {
                    let point = match &kernel {
                        None => self.space.sample(&mut rng),
                        Some(k) => k.propose(&self.space, &self.particles, &mut rng),
                    };
                    let id = CandidateId(self.next_id);
                    self.next_id += 1;
                    Proposal { id, point }
                })
                .collect();
            self.pending = Some(proposals);
        }
        self.pending.clone().unwrap_or_default()
    }

    /// Takes the simulated moments of the asked proposals (one `Estimate` per target: the
    /// moment and its simulation SE), in the proposals' order, keeps the N nearest and weighs
    /// them. An error changes nothing.
    pub fn tell(&mut self, simulated: Vec<Vec<Estimate>>) -> Result<AbcSummary, SearchError> {
        let proposals = pending(
            self.pending.as_ref(),
            self.generation,
            simulated.len(),
            "simulations",
        )?;
        for (p, s) in proposals.iter().zip(&simulated) {
            if s.len() != self.targets.len() {
                return Err(SearchError::Tell(format!(
                    "proposal {}: {} moments told, {} targets",
                    p.id.0,
                    s.len(),
                    self.targets.len()
                )));
            }
            if let Some(e) = s
                .iter()
                .find(|e| !(e.mean.is_finite() && e.se.is_finite() && e.se >= 0.0))
            {
                return Err(SearchError::Tell(format!(
                    "proposal {}: moment {} ± {}: a finite value and a finite SE ≥ 0 are needed",
                    p.id.0, e.mean, e.se
                )));
            }
        }
        let proposals = self.pending.take().unwrap_or_default();
        let mut rng = stream(self.config.seed, self.generation, Phase::Tell);
        let distances: Vec<f64> = simulated
            .iter()
            .map(|s| {
                let moments: Vec<f64> = s
                    .iter()
                    .zip(&self.targets)
                    .map(|(e, t)| match self.config.noise {
                        SimulationNoise::AsSimulated => e.mean,
                        SimulationNoise::MatchTargets => {
                            let sd = (t.se * t.se - e.se * e.se).max(0.0).sqrt();
                            e.mean + sd * normal(&mut rng)
                        }
                    })
                    .collect();
                self.distance(&moments)
            })
            .collect();
        let mut order: Vec<usize> = (0..proposals.len()).collect();
        order.sort_by(|&a, &b| distances[a].total_cmp(&distances[b]).then(a.cmp(&b)));
        order.truncate(self.config.particles);
        let mut kept = vec![false; proposals.len()];
        for &i in &order {
            kept[i] = true;
        }
        let epsilon = distances[*order.last().expect("at least two particles")];
        // Importance weights π(θ)/q(θ): the prior is uniform on the space, q the kernel
        // mixture around the previous particles (or the prior itself in generation 0).
        let kernel = Kernel::new(&self.space, &self.particles, &self.config);
        let log_weights: Vec<f64> = order
            .iter()
            .map(|&i| match &kernel {
                None => 0.0,
                Some(k) => -k.log_density(&self.space, &self.particles, &proposals[i].point),
            })
            .collect();
        let top = log_weights
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let raw: Vec<f64> = log_weights.iter().map(|l| libm::exp(l - top)).collect();
        let total: f64 = raw.iter().sum();
        let particles: Vec<Particle> = order
            .iter()
            .zip(&raw)
            .map(|(&i, w)| Particle {
                id: proposals[i].id,
                point: proposals[i].point.clone(),
                weight: w / total,
                distance: distances[i],
            })
            .collect();
        let ess = 1.0 / particles.iter().map(|p| p.weight * p.weight).sum::<f64>();
        let summary = AbcSummary {
            generation: self.generation,
            epsilon,
            ess,
            distances: proposals
                .iter()
                .zip(&distances)
                .zip(&kept)
                .map(|((p, &d), &k)| Distance {
                    id: p.id,
                    distance: d,
                    kept: k,
                })
                .collect(),
        };
        self.particles = particles;
        self.epsilons.push(Tolerance(epsilon));
        self.generation += 1;
        Ok(summary)
    }
}

/// The perturbation kernel built from a generation's particles: a Gaussian on the real
/// variables (lower Cholesky factor of its covariance) and label moves on the categorical ones.
struct Kernel {
    /// Indices of the real variables.
    reals: Vec<usize>,
    /// Lower-triangular Cholesky factor of the kernel covariance, row-major, `reals.len()²`.
    chol: Vec<f64>,
    label_move: f64,
}

impl Kernel {
    /// `None` while there are no particles (proposals come from the prior).
    fn new(space: &Space, particles: &[Particle], config: &AbcConfig) -> Option<Kernel> {
        if particles.is_empty() {
            return None;
        }
        let reals: Vec<usize> = space
            .variables()
            .iter()
            .enumerate()
            .filter(|(_, v)| matches!(v, Variable::Real { .. }))
            .map(|(i, _)| i)
            .collect();
        let d = reals.len();
        let mean: Vec<f64> = reals
            .iter()
            .map(|&i| {
                particles
                    .iter()
                    .map(|p| p.weight * p.point[i].as_f64())
                    .sum()
            })
            .collect();
        let mut cov = vec![0.0; d * d];
        for p in particles {
            for a in 0..d {
                let da = p.point[reals[a]].as_f64() - mean[a];
                for b in 0..=a {
                    let db = p.point[reals[b]].as_f64() - mean[b];
                    cov[a * d + b] += p.weight * da * db;
                }
            }
        }
        for a in 0..d {
            let (lower, upper) = space.variables()[reals[a]].bounds().expect("real");
            // A floor keeps the factor positive definite when particles coincide in a variable.
            cov[a * d + a] += 1e-12 * (upper - lower).powi(2);
            for b in 0..=a {
                cov[a * d + b] *= config.kernel_scale;
                cov[b * d + a] = cov[a * d + b];
            }
        }
        Some(Kernel {
            reals,
            chol: cholesky(&cov, d),
            label_move: config.label_move,
        })
    }

    /// A particle drawn by weight and moved; redrawn whole until it lies in the space.
    fn propose(&self, space: &Space, particles: &[Particle], rng: &mut ChaCha8Rng) -> Point {
        let d = self.reals.len();
        loop {
            let u = uniform(rng);
            let mut cumulative = 0.0;
            let mut j = particles.len() - 1;
            for (k, p) in particles.iter().enumerate() {
                cumulative += p.weight;
                if u < cumulative {
                    j = k;
                    break;
                }
            }
            let mut point = particles[j].point.clone();
            let z: Vec<f64> = (0..d).map(|_| normal(rng)).collect();
            for a in 0..d {
                let shift: f64 = (0..=a).map(|b| self.chol[a * d + b] * z[b]).sum();
                let i = self.reals[a];
                point[i] = Value::Real(point[i].as_f64() + shift);
            }
            for (i, var) in space.variables().iter().enumerate() {
                if let (Variable::Categorical { labels, .. }, Value::Label(current)) =
                    (var, point[i])
                    && uniform(rng) < self.label_move
                {
                    let k = below(rng, labels.len() - 1);
                    point[i] = Value::Label(if k >= current { k + 1 } else { k });
                }
            }
            if space.contains(&point) {
                return point;
            }
        }
    }

    /// log Σⱼ wⱼ K(θ | θⱼ), up to a constant common to all θ.
    fn log_density(&self, space: &Space, particles: &[Particle], theta: &Point) -> f64 {
        let d = self.reals.len();
        let terms: Vec<f64> = particles
            .iter()
            .map(|p| {
                // Solve L y = θ − θⱼ; the Gaussian's exponent is −|y|²/2.
                let mut y = vec![0.0; d];
                for a in 0..d {
                    let diff = theta[self.reals[a]].as_f64() - p.point[self.reals[a]].as_f64();
                    let s: f64 = (0..a).map(|b| self.chol[a * d + b] * y[b]).sum();
                    y[a] = (diff - s) / self.chol[a * d + a];
                }
                let mut log_k = -0.5 * y.iter().map(|v| v * v).sum::<f64>();
                for (i, var) in space.variables().iter().enumerate() {
                    if let Variable::Categorical { labels, .. } = var {
                        log_k += if theta[i] == p.point[i] {
                            libm::log(1.0 - self.label_move)
                        } else {
                            libm::log(self.label_move / (labels.len() - 1) as f64)
                        };
                    }
                }
                libm::log(p.weight) + log_k
            })
            .collect();
        let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        top + libm::log(terms.iter().map(|t| libm::exp(t - top)).sum::<f64>())
    }
}

/// The lower Cholesky factor of a symmetric positive-definite `d × d` matrix (row-major).
fn cholesky(a: &[f64], d: usize) -> Vec<f64> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            if i == j {
                l[i * d + i] = (a[i * d + i] - s).max(f64::MIN_POSITIVE).sqrt();
            } else {
                l[i * d + j] = (a[i * d + j] - s) / l[j * d + j];
            }
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_the_matrix() {
        let a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let l = cholesky(&a, 3);
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((v - a[i * 3 + j]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn bad_settings_and_targets_are_refused() {
        let space = Space::new(vec![Variable::real("mu", 0.0, 1.0)]).unwrap();
        let t = vec![Estimate::new(0.5, 0.1)];
        let err = |targets: Vec<Estimate>, c: AbcConfig| {
            Abc::new(space.clone(), targets, c).unwrap_err().to_string()
        };
        assert!(err(vec![], AbcConfig::new(10, 20, 1)).contains("no target"));
        assert!(err(vec![Estimate::new(0.5, 0.0)], AbcConfig::new(10, 20, 1)).contains("SE > 0"));
        assert!(err(t.clone(), AbcConfig::new(30, 20, 1)).contains("particles"));
        let ints = Space::new(vec![Variable::integer("n", 1, 5)]).unwrap();
        assert!(
            Abc::new(ints, t.clone(), AbcConfig::new(10, 20, 1))
                .unwrap_err()
                .to_string()
                .contains("`n`")
        );
        let mut abc = Abc::new(space, t, AbcConfig::new(10, 20, 1)).unwrap();
        assert!(
            abc.tell(vec![])
                .unwrap_err()
                .to_string()
                .contains("before it was asked")
        );
        let asked = abc.ask();
        assert_eq!(asked.len(), 20);
        let short = vec![vec![Estimate::exact(0.5)]; 19];
        assert!(abc.tell(short).unwrap_err().to_string().contains("got 19"));
        let nan = vec![vec![Estimate::exact(f64::NAN)]; 20];
        assert!(abc.tell(nan).unwrap_err().to_string().contains("finite"));
        assert_eq!(abc.ask(), asked, "a refused tell changes nothing");
    }

    #[test]
    fn weighted_quantiles_and_intervals() {
        let space = Space::new(vec![
            Variable::real("x", 0.0, 10.0),
            Variable::categorical("c", ["a", "b"]),
        ])
        .unwrap();
        let mut abc = Abc::new(
            space,
            vec![Estimate::new(0.0, 1.0)],
            AbcConfig::new(4, 4, 1),
        )
        .unwrap();
        abc.particles = [(1.0, 0.1), (2.0, 0.2), (3.0, 0.3), (4.0, 0.4)]
            .iter()
            .enumerate()
            .map(|(i, &(x, w))| Particle {
                id: CandidateId(i as u64),
                point: vec![Value::Real(x), Value::Label(0)],
                weight: w,
                distance: 0.0,
            })
            .collect();
        assert_eq!(abc.quantile(0, 0.0), Some(1.0));
        assert_eq!(abc.quantile(0, 0.3), Some(2.0));
        assert_eq!(abc.quantile(0, 0.31), Some(3.0));
        assert_eq!(abc.quantile(0, 1.0), Some(4.0));
        assert_eq!(abc.interval(0, 0.8), Some((1.0, 4.0)));
        assert_eq!(abc.quantile(1, 0.5), None);
    }

    #[test]
    fn kernel_density_is_a_mixture_of_gaussians_and_label_moves() {
        // Two particles at 0 and 1 (weights ¼, ¾) with a unit covariance kernel: the density
        // at x relative to the density at 0 follows the Gaussian mixture exactly.
        let space = Space::new(vec![
            Variable::real("x", -10.0, 10.0),
            Variable::categorical("c", ["a", "b", "c"]),
        ])
        .unwrap();
        let particles = vec![
            Particle {
                id: CandidateId(0),
                point: vec![Value::Real(0.0), Value::Label(0)],
                weight: 0.25,
                distance: 0.0,
            },
            Particle {
                id: CandidateId(1),
                point: vec![Value::Real(1.0), Value::Label(1)],
                weight: 0.75,
                distance: 0.0,
            },
        ];
        let kernel = Kernel {
            reals: vec![0],
            chol: vec![1.0],
            label_move: 0.2,
        };
        let at = |x: f64, l: usize| {
            kernel.log_density(&space, &particles, &vec![Value::Real(x), Value::Label(l)])
        };
        let mix = |x: f64, l: usize| {
            let k = |c: f64, pl: usize| {
                libm::exp(-0.5 * (x - c).powi(2)) * if l == pl { 0.8 } else { 0.1 }
            };
            0.25 * k(0.0, 0) + 0.75 * k(1.0, 1)
        };
        for (x, l) in [(0.3, 0), (2.0, 1), (-1.0, 2)] {
            let expected = libm::log(mix(x, l)) - libm::log(mix(0.0, 0));
            assert!((at(x, l) - at(0.0, 0) - expected).abs() < 1e-12);
        }
    }
}
