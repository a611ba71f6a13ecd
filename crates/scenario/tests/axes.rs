//! `{ from, to, steps }` sweep axes hold the decimal values a person writes, so that a query such
//! as `WHERE value = 0.07` finds its cells: each expected value below is the parsed decimal
//! literal, never recomputed by the loader's own arithmetic.

use datapact_scenario::Scenario;

const MIN: &str = r#"
[scenario]
name = "axes"
seed = 1
replications = 10
"#;

/// The values of one swept key, loaded through the scenario loader.
fn axis(key: &str, spec: &str) -> Vec<f64> {
    let mut text = MIN.to_string();
    if key.starts_with("population.report.") {
        text.push_str("[population.report]\nstrategy = \"shade\"\nshare = 1.0\n");
    }
    text.push_str(&format!("[sweep]\n{key} = {spec}\n"));
    match Scenario::from_str(&text, "t.toml", &[]) {
        Ok(s) => s.sweep[0].values.clone(),
        Err(e) => panic!("unexpected error for {key} = {spec}: {e}"),
    }
}

fn literal(text: &str) -> f64 {
    text.parse::<f64>()
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// Exact equality, bit for bit, with a message naming the step.
fn assert_values(got: &[f64], expected: &[f64], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(g.to_bits(), e.to_bits(), "{what}: step {i}: {g:?} != {e:?}");
    }
}

fn assert_monotone(v: &[f64], what: &str) {
    assert!(
        v.windows(2).all(|w| w[1] > w[0]) || v.windows(2).all(|w| w[1] < w[0]),
        "{what}: not strictly monotone: {v:?}"
    );
}

#[test]
fn tenths_from_zero_to_one_are_the_decimal_literals() {
    let v = axis("game.value", "{ from = 0, to = 1, steps = 11 }");
    let expected: Vec<f64> = (0..=10)
        .map(|i| literal(&format!("{}.{}", i / 10, i % 10)))
        .collect();
    assert_values(&v, &expected, "0..1 in 11");
}

#[test]
fn hundredths_from_zero_to_point_three_are_the_decimal_literals() {
    // The paper's grid: 0.03, 0.06, 0.12, 0.17, 0.23, 0.24 and 0.27 were one ulp off before.
    let v = axis("game.value", "{ from = 0.0, to = 0.3, steps = 31 }");
    let expected: Vec<f64> = (0..=30)
        .map(|i| literal(&format!("{}.{:02}", i / 100, i % 100)))
        .collect();
    assert_values(&v, &expected, "0..0.3 in 31");
    assert!(v.contains(&0.07) && v.contains(&0.17) && v.contains(&0.27));
}

#[test]
fn offset_and_negative_axes_are_decimal() {
    let v = axis("game.value", "{ from = 0.05, to = 0.3, steps = 11 }");
    let expected: Vec<f64> = (0..=10)
        .map(|i| literal(&format!("0.{:03}", 50 + 25 * i)))
        .collect();
    assert_values(&v, &expected, "0.05..0.3 in 11");

    let v = axis(
        "population.report.factor",
        "{ from = -0.5, to = 0.7, steps = 13 }",
    );
    let expected: Vec<f64> = [
        "-0.5", "-0.4", "-0.3", "-0.2", "-0.1", "0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6",
        "0.7",
    ]
    .iter()
    .map(|s| literal(s))
    .collect();
    assert_values(&v, &expected, "-0.5..0.7 in 13");

    // Descending axes too.
    let v = axis("game.drift", "{ from = 0.9, to = 0.1, steps = 9 }");
    let expected: Vec<f64> = (1..=9).rev().map(|i| literal(&format!("0.{i}"))).collect();
    assert_values(&v, &expected, "0.9..0.1 in 9");
}

#[test]
fn long_axis_of_small_steps_is_decimal() {
    let steps = 100_001;
    let v = axis(
        "game.value",
        &format!("{{ from = 0, to = 1, steps = {steps} }}"),
    );
    let expected: Vec<f64> = (0..steps).map(|i| literal(&format!("{i}e-5"))).collect();
    assert_values(&v, &expected, "0..1 in 100001");
}

#[test]
fn endpoints_exact_and_values_monotone() {
    for spec in [
        // decimal steps
        "{ from = 0.0, to = 0.3, steps = 31 }",
        "{ from = 0.1, to = 0.7, steps = 7 }",
        "{ from = 1e-3, to = 0.9, steps = 1000 }",
        "{ from = 2.5, to = 0.25, steps = 10 }",
        // steps that are not finite decimals (1/3, 1/7): the plain formula
        "{ from = 0, to = 1, steps = 4 }",
        "{ from = 0.1, to = 0.9, steps = 8 }",
        "{ from = 0, to = 1, steps = 8 }",
        // more than 15 significant digits: the plain formula
        "{ from = 0.1, to = 0.30000000000000004, steps = 3 }",
        "{ from = 1e-30, to = 3e-30, steps = 5 }",
        // the largest magnitude a key may take (`MAX_MAGNITUDE`)
        "{ from = 0, to = 1e6, steps = 5 }",
    ] {
        let v = axis("population.report.factor", spec);
        let text = spec.replace(['{', '}'], "");
        let field = |k: &str| {
            text.split(',')
                .find_map(|p| p.trim().strip_prefix(k))
                .and_then(|p| p.trim().strip_prefix('='))
                .map(|p| p.trim().to_string())
                .unwrap_or_else(|| panic!("{k} in {spec}"))
        };
        let (from, to) = (literal(&field("from")), literal(&field("to")));
        let steps: usize = field("steps").parse().unwrap();
        assert_eq!(v.len(), steps, "{spec}");
        assert_eq!(v[0].to_bits(), from.to_bits(), "{spec}: first value");
        assert_eq!(v[steps - 1].to_bits(), to.to_bits(), "{spec}: last value");
        assert_monotone(&v, spec);
        // Every point is within a few ulps of the exact linear point.
        for (i, x) in v.iter().enumerate() {
            let exact = from + (to - from) * i as f64 / (steps - 1) as f64;
            assert!(
                (x - exact).abs() <= 4.0 * f64::EPSILON * exact.abs().max(from.abs()),
                "{spec}: step {i}: {x} far from {exact}"
            );
        }
    }
}

#[test]
fn thirds_fall_back_to_the_plain_formula() {
    let v = axis("game.value", "{ from = 0, to = 1, steps = 4 }");
    assert_values(&v, &[0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0], "0..1 in 4");
}

#[test]
fn integer_axes_hold_integers() {
    let v = axis("population.users", "{ from = 10, to = 100, steps = 10 }");
    let expected: Vec<f64> = (1..=10).map(|i| (10 * i) as f64).collect();
    assert_values(&v, &expected, "users 10..100 in 10");
    let v = axis("game.recovery_rounds", "{ from = 0, to = 1000, steps = 5 }");
    assert_values(
        &v,
        &[0.0, 250.0, 500.0, 750.0, 1000.0],
        "rounds 0..1000 in 5",
    );
    // A step of 1/3 of a user is still refused, not rounded away.
    let text = format!("{MIN}[sweep]\npopulation.users = {{ from = 1, to = 2, steps = 4 }}\n");
    let err = Scenario::from_str(&text, "t.toml", &[]).unwrap_err();
    assert!(err.to_string().contains("step 2 of 4"), "{err}");
}

#[test]
fn decimal_axes_normalize_and_load_back() {
    for spec in [
        "{ from = 0.0, to = 0.3, steps = 31 }",
        "{ from = 0, to = 1, steps = 4 }",
        "{ from = 0.05, to = 0.3, steps = 11 }",
    ] {
        let text = format!("{MIN}[sweep]\ngame.value = {spec}\n");
        let s = Scenario::from_str(&text, "t.toml", &[]).unwrap();
        let normalized = s.normalized();
        assert!(
            normalized.contains("steps = "),
            "{spec}: not written back as a range:\n{normalized}"
        );
        let again = Scenario::from_str(&normalized, "normalized", &[]).unwrap();
        assert_eq!(again.sweep, s.sweep, "{spec}");
    }
}
