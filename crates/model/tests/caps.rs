//! Closed forms: caps are individually rational and maximal; C's response is the private optimum.

use datapact_model::caps::{ir_cap, subsidy_response};
use datapact_model::kappa;
use proptest::prelude::*;

proptest! {
    #[test]
    fn cap_is_individually_rational_and_maximal(c in 0.0f64..5.0, p in 0.0f64..1.0, v in 0.0f64..1.0) {
        let u = ir_cap(c, p, v);
        prop_assert!((0.0..=1.0).contains(&u));
        // At the cap the user is willing: V + p·u − κ(c, u) ≥ 0.
        prop_assert!(v + p * u - kappa(c, u) >= -1e-12, "cap {u} not IR");
        // Any larger burden (if allowed) is refused.
        if u < 1.0 {
            let x = u + 1e-6;
            prop_assert!(v + p * x - kappa(c, x) < 0.0, "cap {u} not maximal");
        }
    }

    #[test]
    fn subsidy_response_is_the_private_optimum(c in 0.001f64..5.0, p in 0.0f64..1.0, v in 0.0f64..1.0, b in 0.0f64..1.0) {
        // Private objective with perceived marginal impact b: (p + b·V)·x − c·x²/2 on [0, 1].
        let x = subsidy_response(c, p, b, v);
        let f = |x: f64| (p + b * v) * x - kappa(c, x);
        for k in 0..=100 {
            let y = k as f64 / 100.0;
            prop_assert!(f(x) >= f(y) - 1e-12, "x = {x} beaten by {y}");
        }
    }
}

#[test]
fn zero_cost_edge_cases() {
    assert_eq!(ir_cap(0.0, 0.0, 0.0), 1.0);
    assert_eq!(subsidy_response(0.0, 0.0, 0.0, 0.0), 1.0);
    assert_eq!(ir_cap(1.0, 0.0, 0.0), 0.0);
}
