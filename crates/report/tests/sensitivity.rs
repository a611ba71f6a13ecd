//! Sensitivity analysis: the estimators against functions with known indices (Ishigami for
//! Sobol, a linear function for Morris) on the designs' own points, then a small designed run
//! analysed end to end.

use std::f64::consts::PI;

use datapact_report::sensitivity::{
    Request, analyze, morris_effects, sobol_indices, sobol_second_order, write_outputs,
};
use datapact_runner::RunOptions;
use datapact_scenario::design::unit_points;
use datapact_scenario::{DesignKind, Scenario};

/// Ishigami's function with a = 7, b = 0.1 on [−π, π]³.
fn ishigami(u: &[f64]) -> f64 {
    let x: Vec<f64> = u.iter().map(|u| -PI + 2.0 * PI * u).collect();
    x[0].sin() + 7.0 * x[1].sin().powi(2) + 0.1 * x[2].powi(4) * x[0].sin()
}

/// Its indices, analytically: (S1, ST) per input.
fn ishigami_indices() -> [(f64, f64); 3] {
    let (a, b) = (7.0f64, 0.1f64);
    let v1 = 0.5 * (1.0 + b * PI.powi(4) / 5.0).powi(2);
    let v2 = a * a / 8.0;
    let v13 = b * b * PI.powi(8) * (1.0 / 18.0 - 1.0 / 50.0);
    let v = v1 + v2 + v13;
    [(v1 / v, (v1 + v13) / v), (v2 / v, v2 / v), (0.0, v13 / v)]
}

#[test]
fn sobol_indices_of_ishigami_fall_in_their_intervals() {
    let truth = ishigami_indices();
    assert!((truth[0].0 - 0.314).abs() < 1e-3 && (truth[2].1 - 0.244).abs() < 1e-3);
    // Both layouts: N·(2D + 2) points, and N·(D + 2) without the BA blocks.
    for first_order_only in [false, true] {
        let points = unit_points(DesignKind::Sobol, 1024, 3, first_order_only, 20260508);
        assert_eq!(points.len(), 1024 * if first_order_only { 5 } else { 8 });
        let y: Vec<f64> = points.iter().map(|p| ishigami(p)).collect();
        let indices = sobol_indices(&y, 3, first_order_only, 1).unwrap();
        for (i, ((s1, st), ix)) in truth.iter().zip(&indices).enumerate() {
            for (want, got) in [(s1, &ix[0]), (st, &ix[1])] {
                let conf = got.conf.unwrap();
                assert!(
                    conf > 0.0 && conf < 0.1,
                    "x{i} {}: interval ±{conf}",
                    got.name
                );
                assert!(
                    (got.value - want).abs() <= conf,
                    "x{i} {} (first order only: {first_order_only}): {} ± {conf}, true {want}",
                    got.name,
                    got.value
                );
            }
        }
        // Reproducible: the bootstrap is seeded.
        assert_eq!(sobol_indices(&y, 3, first_order_only, 1).unwrap(), indices);
        // A layout that is not Saltelli's is refused.
        assert!(sobol_indices(&y[1..], 3, first_order_only, 1).is_err());
    }
}

#[test]
fn second_order_indices_of_ishigami_fall_in_their_intervals() {
    // Only x1 and x3 interact: S2₁₃ = V₁₃ / V, S2₁₂ = S2₂₃ = 0.
    let (a, b) = (7.0f64, 0.1f64);
    let v13 = b * b * PI.powi(8) * (1.0 / 18.0 - 1.0 / 50.0);
    let v = 0.5 * (1.0 + b * PI.powi(4) / 5.0).powi(2) + a * a / 8.0 + v13;
    let truth = [(0, 1, 0.0), (0, 2, v13 / v), (1, 2, 0.0)];
    let points = unit_points(DesignKind::Sobol, 1024, 3, false, 20260508);
    let y: Vec<f64> = points.iter().map(|p| ishigami(p)).collect();
    let s2 = sobol_second_order(&y, 3, 1).unwrap();
    assert_eq!(s2.len(), 3);
    for ((p, q, want), (gp, gq, got)) in truth.iter().zip(&s2) {
        assert_eq!((p, q), (gp, gq));
        let conf = got.conf.unwrap();
        assert!(conf > 0.0 && conf < 0.2, "S2 {p}{q}: interval ±{conf}");
        // Within 2.5 SE (1.3 half-widths of the 95% interval); a fixed seed.
        assert!(
            (got.value - want).abs() <= 1.3 * conf,
            "S2 {p}{q}: {} ± {conf}, true {want}",
            got.value
        );
    }
    // Its own bootstrap stream: S1 and ST are what they were without S2.
    assert_eq!(sobol_second_order(&y, 3, 1).unwrap(), s2);
    assert!(sobol_second_order(&y[1..], 3, 1).is_err());
}

#[test]
fn morris_effects_of_a_linear_function_are_its_slopes() {
    let dims = 3;
    let unit = unit_points(DesignKind::Morris, 20, dims, false, 5);
    let y: Vec<f64> = unit.iter().map(|u| 3.0 * u[0] - 2.0 * u[2]).collect();
    let e = morris_effects(&y, &unit, dims, 1).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(e[0][0].value, 3.0) && close(e[0][1].value, 3.0) && close(e[0][2].value, 0.0));
    assert!(close(e[1][0].value, 0.0) && close(e[1][2].value, 0.0));
    assert!(close(e[2][0].value, 2.0) && close(e[2][1].value, -2.0));
    // An interaction makes σ positive.
    let y: Vec<f64> = unit.iter().map(|u| u[0] * u[1]).collect();
    let e = morris_effects(&y, &unit, dims, 1).unwrap();
    assert!(e[0][2].value > 0.05 && e[2][0].value == 0.0);
}

fn run(dir: &std::path::Path, design: &str) -> std::path::PathBuf {
    let text = format!(
        "[scenario]\nname = \"sens\"\nseed = 3\nreplications = 20\n[population]\nusers = 6\n\
         [design]\n{design}\n"
    );
    let scenario = Scenario::from_str(&text, "sens.toml", &[]).unwrap();
    let out = dir.join("run");
    let opts = RunOptions {
        threads: 2,
        ..RunOptions::new(&out)
    };
    datapact_runner::run(&scenario, &opts).unwrap();
    out
}

#[test]
fn a_designed_run_is_analysed_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "kind = \"sobol\"\nsamples = 8\ngame.value = { from = 0.0, to = 0.3 }\n\
         game.payment = { from = 0.0, to = 0.3 }",
    );
    let request = welfare(Some("M"), Some("S"));
    let a = analyze(&out, &request).unwrap();
    assert_eq!(a.responses.len(), 1);
    assert!(a.responses[0].pairs.is_empty());
    let with_s2 = analyze(
        &out,
        &Request {
            second_order: true,
            ..request.clone()
        },
    )
    .unwrap();
    let pairs = &with_s2.responses[0].pairs;
    assert_eq!(pairs.len(), 1);
    assert_eq!(
        (pairs[0].0.as_str(), pairs[0].1.as_str(), pairs[0].2.name),
        ("value", "payment", "S2")
    );
    assert_eq!(with_s2.responses[0].axes, a.responses[0].axes);
    // The paired SE of M − S is there (in this tiny design, about all of M − S's spread is noise).
    let share = a.responses[0].noise_share.unwrap();
    assert!(share > 0.0 && share.is_finite(), "noise share {share}");
    assert_eq!(a.responses[0].mechanism, "M-S");
    let axes: Vec<&str> = a.responses[0]
        .axes
        .iter()
        .map(|(c, _)| c.as_str())
        .collect();
    assert_eq!(axes, ["value", "payment"]);
    let files = write_outputs(&a, &dir.path().join("sens")).unwrap();
    let table = datapact_trace::read_part(&files[0]).unwrap();
    assert_eq!(table.iter().map(|b| b.num_rows()).sum::<usize>(), 2 * 2);
    assert!(std::fs::metadata(&files[1]).unwrap().len() > 1000);
    // A Sobol design gets its bar chart and no μ*–σ plot.
    assert_eq!(files.len(), 2);
    assert!(!dir.path().join("sens/sensitivity-mu-sigma.png").exists());
    assert!(a.responses[0].contrast);

    // Every mechanism when none is named; bad requests are clear errors.
    let all = Request {
        mechanism: None,
        minus: None,
        ..request.clone()
    };
    assert_eq!(analyze(&out, &all).unwrap().responses.len(), 3);
    let bad = Request {
        metric: "nope".into(),
        ..request.clone()
    };
    assert!(
        analyze(&out, &bad)
            .unwrap_err()
            .to_string()
            .contains("no numeric column `nope`")
    );
    let bad = Request {
        mechanism: Some("X".into()),
        ..request
    };
    assert!(
        analyze(&out, &bad)
            .unwrap_err()
            .to_string()
            .contains("mechanism `X`")
    );
    let lhs = run(
        &dir.path().join("lhs"),
        "kind = \"lhs\"\nsamples = 4\ngame.value = { from = 0.0, to = 0.3 }",
    );
    assert!(
        analyze(&lhs, &all)
            .unwrap_err()
            .to_string()
            .contains("\"sobol\" or \"morris\"")
    );
}

#[test]
fn a_first_order_design_gives_s1_and_st_and_refuses_s2() {
    let dir = tempfile::tempdir().unwrap();
    let axes = "game.value = { from = 0.0, to = 0.3 }\ngame.payment = { from = 0.0, to = 0.3 }";
    let full = run(
        &dir.path().join("full"),
        &format!("kind = \"sobol\"\nsamples = 8\n{axes}"),
    );
    let first = run(
        &dir.path().join("first"),
        &format!("kind = \"sobol\"\nsamples = 8\nsecond_order = false\n{axes}"),
    );
    let request = Request {
        metric: "welfare_mean".into(),
        mechanism: Some("M".into()),
        minus: None,
        second_order: false,
    };
    let a = analyze(&first, &request).unwrap();
    let names: Vec<&str> = a.responses[0].axes[0].1.iter().map(|ix| ix.name).collect();
    assert_eq!(names, ["S1", "ST"]);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    // The manifest says so (the analysis reads 8·4 points, not 8·6).
    let m = datapact_trace::read_manifest(&first).unwrap();
    assert!(m.design.as_ref().unwrap().first_order_only);
    assert_eq!(m.cells, 8 * 4);
    assert!(
        !datapact_trace::read_manifest(&full)
            .unwrap()
            .design
            .unwrap()
            .first_order_only
    );
    let s2 = Request {
        second_order: true,
        ..request.clone()
    };
    let err = analyze(&first, &s2).unwrap_err();
    assert!(
        matches!(err, datapact_report::ReportError::Refused(_))
            && err.to_string().contains("second_order = false"),
        "{err}"
    );
    assert!(analyze(&full, &s2).is_ok());
    // A sample count that is not a power of 2 is analysed, with a warning.
    let odd = run(
        &dir.path().join("odd"),
        &format!("kind = \"sobol\"\nsamples = 6\n{axes}"),
    );
    let warned = analyze(&odd, &request).unwrap();
    assert!(
        warned.warnings.len() == 1
            && warned.warnings[0].contains("6 base samples, not a power of 2"),
        "{:?}",
        warned.warnings
    );
}

/// docs/schema.md lists the columns of `sensitivity.parquet` as declared.
#[test]
fn schema_doc_lists_the_sensitivity_columns() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema.md"))
        .unwrap();
    let section = doc
        .split("## Designed runs and `sensitivity.parquet`")
        .nth(1)
        .expect("section in docs/schema.md");
    for (name, ty, what) in datapact_report::sensitivity::SENSITIVITY_COLUMNS {
        let nullable = if matches!(name, "conf" | "axis2" | "noise_share") {
            "yes"
        } else {
            "no"
        };
        let row = format!("| `{name}` | {ty} | {nullable} | {what} |");
        assert!(section.contains(&row), "docs/schema.md lacks {row}");
    }
}

/// A paired difference of two mechanisms that agree on the base samples A and B up to rounding
/// (a few ulps) but not on the mixed points: the base variance is rounding, and the indices
/// and their intervals stay finite and small instead of ±1e31.
#[test]
fn sobol_intervals_stay_sane_when_the_base_samples_agree_to_rounding() {
    let (dims, n) = (2, 64);
    let step = 2 * dims + 2;
    let mut y = Vec::new();
    for j in 0..n {
        let tiny = f64::EPSILON * (j % 3) as f64;
        y.push(0.25 + tiny);
        for k in 0..2 * dims {
            y.push(((j * 7 + k * 3) % 11) as f64 / 11.0);
        }
        y.push(0.25 - tiny);
    }
    assert_eq!(y.len(), n * step);
    for ix in sobol_indices(&y, dims, false, 1).unwrap().iter().flatten() {
        let conf = ix.conf.unwrap();
        assert!(
            ix.value.abs() <= 10.0 && conf.is_finite() && conf <= 10.0,
            "{} = {} ± {conf}",
            ix.name,
            ix.value
        );
    }
}

#[test]
fn a_morris_run_gets_its_mu_sigma_plot() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "kind = \"morris\"\nsamples = 4\ngame.value = { from = 0.0, to = 0.3 }\n\
         game.payment = { from = 0.0, to = 0.3 }",
    );
    let a = analyze(&out, &welfare(None, None)).unwrap();
    assert!(a.responses.iter().all(|r| !r.contrast));
    let sens = dir.path().join("sens");
    let files = write_outputs(&a, &sens).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "sensitivity.parquet",
            "sensitivity.png",
            "sensitivity-mu-sigma.png"
        ]
    );
    let png = std::fs::read(sens.join("sensitivity-mu-sigma.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 1000);
    // A contrast is flagged as one (its charts wear the contrasts' colours).
    let contrast = analyze(&out, &welfare(Some("M"), Some("S"))).unwrap();
    assert!(contrast.responses.iter().all(|r| r.contrast));
}

/// The sensitivity of `welfare_mean`, first order only.
fn welfare(mechanism: Option<&str>, minus: Option<&str>) -> Request {
    Request {
        metric: "welfare_mean".into(),
        mechanism: mechanism.map(Into::into),
        minus: minus.map(Into::into),
        second_order: false,
    }
}
