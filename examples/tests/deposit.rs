//! The deposit example: a zero deposit is M campaign by campaign; a deposit deters withdrawals
//! and is forfeited by those who withdraw.

use crate::example_pivotal::deposit;

use crate::common::*;

#[test]
fn a_zero_deposit_is_m_campaign_by_campaign() {
    let p = plugins(deposit::DepositPlugin);
    let game = with_params(&p, typical(), "deposit", vec![0.0]);
    let out = run(&p, game, &["M", "deposit"], Depth::Rounds);
    let (m, d) = (records(&out, 0), records(&out, 1));
    assert_eq!(m.len(), 300);
    let withdrawals: u32 = m.iter().map(|r| r.outcome.withdrawals).sum();
    assert!(withdrawals > 0, "the test must exercise withdrawals");
    for (m, d) in m.iter().zip(&d) {
        assert_eq!(m.outcome, d.outcome, "replication {}", m.rep);
        // M computes no `forfeited`; the deposit mechanism forfeits 0 when its amount is 0.
        assert!(m.metrics[0].is_nan());
        assert!(d.metrics[0] == 0.0 || d.outcome.status == datapact_model::Status::Null);
    }
}

#[test]
fn a_deposit_deters_withdrawals_and_is_forfeited_by_those_who_withdraw() {
    let p = plugins(deposit::DepositPlugin);
    let game = with_params(&p, typical(), "deposit", vec![0.2]);
    let out = run(&p, game, &["M", "deposit"], Depth::Rounds);
    let stats = &out.summaries[0].stats;
    use datapact_model::stats::Stat;
    let (m, d) = (
        stats[0].1.get(Stat::Withdrawals),
        stats[1].1.get(Stat::Withdrawals),
    );
    let se = (m.se().powi(2) + d.se().powi(2)).sqrt();
    assert!(
        m.mean() - d.mean() > 3.0 * se,
        "withdrawals M {} vs deposit {} (se {se})",
        m.mean(),
        d.mean()
    );
    for r in records(&out, 1) {
        let forfeited = r.metrics[0];
        if r.outcome.status != datapact_model::Status::Null || r.outcome.withdrawals > 0 {
            assert_eq!(forfeited > 0.0, r.outcome.withdrawals > 0, "{r:?}");
        }
    }
    // The cells summary: the metric's mean over the deposit campaigns that computed it.
    let forfeit = &out.summaries[0].metrics[1][0];
    assert!(forfeit.count > 0 && forfeit.mean() > 0.0);
    assert_eq!(out.summaries[0].metrics[0][0].count, 0, "M has no forfeits");
}

/// SE of the mean (two-pass, unbiased variance): recomputed from the per-campaign rows.
fn se(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt()
}

#[test]
fn an_adaptive_rule_can_target_a_plugin_metric() {
    // `forfeited` is computed by the deposit mechanism only; the rule reads its SE there.
    let p = plugins(deposit::DepositPlugin);
    let metric = datapact_model::stats::TargetMetric::parse("forfeited_mean", &p.catalog().metrics)
        .expect("a registered metric's cells column names it");
    assert!(matches!(
        metric,
        datapact_model::stats::TargetMetric::Plugin { index: 0, .. }
    ));
    let (target, min, batch, max) = (0.004, 20, 10, 3000);
    let catalog = p.catalog();
    for amount in [0.05, 0.2] {
        let game = with_params(&p, typical(), "deposit", vec![amount]);
        let spec = RunSpec {
            seed: 11,
            replications: max,
            first_replication: 0,
            adaptive: Some(datapact_sim::StopRule {
                target_se: target,
                metric,
                min,
                max,
                batch,
                contrast: None,
            }),
            mechanisms: ["M", "deposit"]
                .iter()
                .map(|n| catalog.mechanism(n).unwrap() as u16)
                .collect(),
            depth: Depth::Rounds,
            backend: Backend::Ecs,
            plugins: p.clone(),
            variants: Vec::new(),
        };
        let out = run_cell(&CellJob { index: 0, game }, &spec).unwrap();
        let forfeits: Vec<f64> = records(&out, 1).iter().map(|r| r.metrics[0]).collect();
        let reps = forfeits.len() as u32;
        assert!(
            reps > min && reps < max,
            "amount {amount}: {reps} replications"
        );
        // Stopped at the first batch boundary where the SE reached the target.
        assert!(se(&forfeits) <= target * (1.0 + 1e-9), "amount {amount}");
        let before = &forfeits[..(reps - batch) as usize];
        assert!(
            se(before) > target,
            "amount {amount}: should have stopped a batch earlier"
        );
        assert_eq!(out.summaries[0].stats[1].1.reps(), reps as u64);
    }
}

/// Report titles list only settings fixed in every cell: the swept deposit amount's base value
/// (`[mechanism.deposit] amount = 0.05`) is not one, the payment is.
#[test]
fn report_titles_list_only_fixed_settings() {
    let p = plugins(deposit::DepositPlugin);
    let catalog = std::sync::Arc::new(p.catalog().clone());
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/deposit.toml");
    let text = std::fs::read_to_string(file).unwrap();
    let run = datapact_scenario::Scenario::from_str_with(&catalog, &text, file, &[]).unwrap();
    let reference = datapact::paper_reference(&catalog).unwrap();
    let changed =
        datapact_report::generic::changed_settings(&run.normalized(), &reference.defaults_toml);
    assert!(
        changed.iter().any(|s| s.starts_with("game.payment = 0.05")),
        "{changed:?}"
    );
    assert!(
        !changed
            .iter()
            .any(|s| s.contains("amount") || s.starts_with("game.value")),
        "{changed:?}\n{}",
        run.normalized()
    );
}
