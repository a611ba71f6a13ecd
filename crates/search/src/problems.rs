//! Test problems with known Pareto fronts, for validating the optimiser (and its example).

use crate::nsga2::{Evaluation, Evaluator, Request};
use crate::space::{Space, Variable};

/// Zitzler, Deb & Thiele's (2000) two-objective problems on `[0, 1]^n`, as pymoo defines them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zdt {
    /// Convex front `f₂ = 1 − √f₁` (at `g = 1`).
    Zdt1,
    /// Non-convex front `f₂ = 1 − f₁²`.
    Zdt2,
}

impl Zdt {
    /// The problem's name, lower case (`"zdt1"`).
    pub fn name(self) -> &'static str {
        match self {
            Zdt::Zdt1 => "zdt1",
            Zdt::Zdt2 => "zdt2",
        }
    }

    /// The space: `n_var` reals `x1 … xn` on `[0, 1]` (pymoo uses 30).
    pub fn space(self, n_var: usize) -> Space {
        Space::new(
            (1..=n_var)
                .map(|i| Variable::real(format!("x{i}"), 0.0, 1.0))
                .collect(),
        )
        .expect("a valid space")
    }

    /// The two objectives at `x` (`x.len() ≥ 2`).
    pub fn objectives(self, x: &[f64]) -> [f64; 2] {
        let f1 = x[0];
        let g = 1.0 + 9.0 * x[1..].iter().sum::<f64>() / (x.len() - 1) as f64;
        let h = match self {
            Zdt::Zdt1 => 1.0 - (f1 / g).sqrt(),
            Zdt::Zdt2 => 1.0 - (f1 / g).powi(2),
        };
        [f1, g * h]
    }

    /// The hypervolume of the true front with respect to `(r, r)`, `r ≥ 1`: over `f₁ ∈ [0, 1]`
    /// the front dominates up to `r`, `r − ∫₀¹ f₂ df₁` with `∫ f₂ = 1/3` (ZDT1) or `2/3`
    /// (ZDT2); over `f₁ ∈ [1, r]` the front's end `(1, 0)` dominates a strip of `(r − 1)·r`.
    /// With `r = 1`: 2/3 and 1/3.
    pub fn ideal_hypervolume(self, r: f64) -> f64 {
        let area_under_front = match self {
            Zdt::Zdt1 => 1.0 / 3.0,
            Zdt::Zdt2 => 2.0 / 3.0,
        };
        (r - area_under_front) + (r - 1.0) * r
    }
}

impl Evaluator for Zdt {
    fn evaluate(&mut self, requests: &[Request]) -> Vec<Evaluation> {
        requests
            .iter()
            .map(|r| {
                let x: Vec<f64> = r.point.iter().map(|v| v.as_f64()).collect();
                Evaluation::exact(&self.objectives(&x))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hypervolume::hypervolume;

    #[test]
    fn objectives_on_the_front_and_off_it() {
        let mut x = vec![0.25; 30];
        x[1..].iter_mut().for_each(|v| *v = 0.0);
        assert_eq!(Zdt::Zdt1.objectives(&x), [0.25, 0.5]);
        assert_eq!(Zdt::Zdt2.objectives(&x), [0.25, 1.0 - 0.0625]);
        x[1..].iter_mut().for_each(|v| *v = 1.0);
        // g = 10.
        let f = Zdt::Zdt1.objectives(&x);
        assert!((f[1] - 10.0 * (1.0 - (0.025f64).sqrt())).abs() < 1e-12);
    }

    #[test]
    fn ideal_hypervolume_matches_a_fine_sample_of_the_front() {
        for zdt in [Zdt::Zdt1, Zdt::Zdt2] {
            let n = 20_000;
            let front: Vec<Vec<f64>> = (0..=n)
                .map(|i| {
                    let mut x = vec![0.0; 3];
                    x[0] = f64::from(i) / f64::from(n);
                    zdt.objectives(&x).to_vec()
                })
                .collect();
            let hv = hypervolume(&front, &[1.1, 1.1]);
            assert!((hv - zdt.ideal_hypervolume(1.1)).abs() < 1e-4, "{hv}");
        }
    }
}
