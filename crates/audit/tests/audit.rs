//! The audit end to end on a tiny grid: every output is written, the claims of every variant
//! are decided, and the tables are identical whatever the thread count.

use std::path::Path;
use std::sync::Arc;

use datapact_audit::{AuditInputs, DEFAULT_SPEC};
use datapact_model::Catalog;
use datapact_sim::PluginSet;

fn tiny_spec() -> String {
    DEFAULT_SPEC
        .replace("replications = 500 ", "replications = 6 ")
        .replace("steps = 11 ", "steps = 2 ")
        .replace("replications = 200 ", "replications = 4 ")
        .replace("replications = 1000 ", "replications = 4 ")
        .replace("steps = 16 ", "steps = 2 ")
}

fn paper() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/paper");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn run(
    out: &Path,
    threads: usize,
    spec: &str,
) -> Result<datapact_audit::AuditSummary, datapact_audit::AuditError> {
    run_from(out, threads, spec, "tiny.toml")
}

/// [`run`] with the settings read as if from the file `origin`.
fn run_from(
    out: &Path,
    threads: usize,
    spec: &str,
    origin: &str,
) -> Result<datapact_audit::AuditSummary, datapact_audit::AuditError> {
    let paper = paper();
    let paper: Vec<(&str, &str)> = paper
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    datapact_audit::run(&AuditInputs {
        spec: (spec, origin),
        paper: &paper,
        catalog: Arc::new(Catalog::core()),
        plugins: Arc::new(PluginSet::core()),
        out: out.to_path_buf(),
        threads,
        progress: false,
        cancel: None,
        resume: false,
    })
}

/// A cell's audit of `mechanisms` with the strategy `menu` and deviators at `quantiles` (seed
/// 11 unless given; 10 replications per round of the dynamics, at most 2 rounds).
fn cell_audit<'a>(
    plugins: &'a Arc<PluginSet>,
    mechanisms: &'a [datapact_audit::deviations::Audited],
    menu: &'a datapact_model::deviation::Menu,
    quantiles: &'a [f64],
    replications: u32,
) -> datapact_audit::deviations::CellAudit<'a> {
    datapact_audit::deviations::CellAudit {
        plugins,
        mechanisms,
        variants: &[],
        seed: 11,
        menu,
        quantiles,
        replications,
        dynamics_replications: 10,
        max_rounds: 2,
        cancel: None,
    }
}

/// The engine's `name` as an audited mechanism.
fn engine_mechanism(
    plugins: &PluginSet,
    name: &'static str,
) -> datapact_audit::deviations::Audited {
    datapact_audit::deviations::Audited {
        id: plugins.catalog().mechanism(name).unwrap() as u16,
        name,
        variant: None,
    }
}

#[test]
fn audit_writes_every_output_and_is_thread_independent() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let spec = tiny_spec();
    let summary = run(&one, 1, &spec).unwrap();
    run(&two, 2, &spec).unwrap();
    assert!(summary.variants.len() >= 8, "{:?}", summary.variants.len());
    assert_eq!(summary.variants[0].id, "baseline");
    for v in &summary.variants {
        assert_eq!(v.claims.len(), 6, "{}", v.id);
    }
    for table in ["deviations", "equilibria", "equilibria_bins"] {
        let file = |d: &Path| std::fs::read(d.join(table).join("part-00000.parquet")).unwrap();
        assert_eq!(
            file(&one),
            file(&two),
            "{table} differs between 1 and 2 threads"
        );
    }
    let report = std::fs::read_to_string(one.join("REPORT.md")).unwrap();
    for section in [
        "ε-best response",
        "## 4. What each claim needs",
        "**Which S? Claims 3 and 4 at R = 0 and R = 1, campaign by campaign.**",
        "| baseline | paper settings |",
        "### Cost-dependent equilibria",
        "20^3 = 8000 profiles",
    ] {
        assert!(report.contains(section), "REPORT.md lacks {section:?}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("claims_variants.json")).unwrap())
            .unwrap();
    assert_eq!(json.as_array().unwrap().len(), summary.variants.len());
    for f in ["claims_variants", "max_gain", "equilibrium_welfare"] {
        assert!(
            one.join("figures").join(format!("{f}.png")).is_file(),
            "{f}.png"
        );
    }
}

#[test]
fn bad_settings_stop_before_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let spec = tiny_spec().replace("cost_quantiles = [0.125,", "cost_quantiles = [1.5,");
    let e = run(&out, 1, &spec).unwrap_err().to_string();
    assert!(
        e.contains("tiny.toml") && e.contains("analysis.deviation.cost_quantiles"),
        "{e}"
    );
    assert!(!out.exists(), "nothing may be written on bad input");
    let spec = tiny_spec().replace("scenario = \"f3_welfare\"", "scenario = \"nope\"");
    let e = run(&out, 1, &spec).unwrap_err().to_string();
    assert!(
        e.contains("analysis.scenario") && e.contains("f3_welfare"),
        "{e}"
    );
}

/// The acceptance test of `vcg`: a scenario file (a path in the settings, relative to the
/// settings file) with S and `vcg`, no observation noise, no drift, R = 0, on V, p ∈ {0, 0.15,
/// 0.3}, 300 replications. Under `vcg` no report deviation gains more than 1e-9 with gain / SE > 4
/// in any cell × cost quantile, and none pays in any single campaign (Clarke payments on the
/// welfare-maximising allocation: truthful reporting is dominant); under S some does
/// (over-reporting raises her payment where her cap binds).
#[test]
fn vcg_shows_no_profitable_report_deviation_and_s_does() {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/baseline.toml"),
    )
    .unwrap();
    let scenario = base
        .replace(
            "mechanisms = [\"C\", \"S\", \"M\"]",
            "mechanisms = [\"S\", \"vcg\"]",
        )
        .replace("drift = 0.5 ", "drift = 0.0 ")
        .replace("steps = 31 }", "steps = 3 }");
    assert!(scenario.contains("\"vcg\"") && scenario.contains("drift = 0.0 "));
    assert!(scenario.contains("obs_noise = 0.0 ") && scenario.contains("recovery_rounds = 0 "));
    assert_eq!(scenario.matches("steps = 3 }").count(), 2);
    std::fs::write(tmp.path().join("s_vcg.toml"), &scenario).unwrap();
    let spec = tiny_spec()
        .replace("scenario = \"f3_welfare\"", "scenario = \"s_vcg.toml\"")
        .replace("replications = 6 ", "replications = 300 ");
    let out = tmp.path().join("out");
    let spec_path = tmp.path().join("spec.toml");
    run_from(&out, 2, &spec, spec_path.to_str().unwrap()).unwrap();
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        report.contains("s_vcg.toml") && report.contains("mechanisms S, vcg"),
        "{report}"
    );
    let row = |m: &str| -> Vec<String> {
        report
            .lines()
            .find(|l| {
                l.starts_with(&format!("| {m} | "))
                    && l.contains(" of ")
                    && l.contains("cost quantile")
            })
            .unwrap_or_else(|| panic!("no incentive-compatibility row for {m}:\n{report}"))
            .split(" | ")
            .map(str::to_string)
            .collect()
    };
    // 9 cells × 4 cost quantiles × 4 report factors
    let vcg = row("vcg");
    println!("{vcg:?}");
    assert!(vcg[1].starts_with("0 of 144"), "{vcg:?}");
    let largest: f64 = vcg[2].split(' ').next().unwrap().parse().unwrap();
    assert!(largest <= 1e-9, "{vcg:?}");
    let pays: f64 = vcg[4].parse().unwrap();
    assert_eq!(
        pays, 0.0,
        "a report deviation pays in some campaign: {vcg:?}"
    );
    assert!(vcg[5].starts_with("optimal"), "{vcg:?}");
    let s = row("S");
    println!("{s:?}");
    let bad: u32 = s[1].split(' ').next().unwrap().parse().unwrap();
    assert!(bad > 0 && s[1].ends_with(" of 144"), "{s:?}");
    assert!(s[5].starts_with("not optimal"), "{s:?}");
    // the held-out ε of report deviations (the first held-out line of each mechanism) and Holm
    let held = |m: &str| -> &str {
        report
            .split(&format!("**{m}**"))
            .nth(1)
            .and_then(|t| t.lines().find(|l| l.starts_with("  - held out")))
            .unwrap_or_else(|| panic!("no held-out line for {m}"))
    };
    let (v, s) = (held("vcg"), held("S"));
    println!("{v}\n{s}");
    assert!(
        v.contains(" gains 0.00000 (SE 0.00000") && v.ends_with(" in 0 of 144."),
        "{v}"
    );
    assert!(
        !s.contains(" gains 0.0000") && !s.ends_with(" in 0 of 144."),
        "{s}"
    );
}

/// The audit plays every mechanism, `vcg` included, by the engine, on the draws its direct
/// kernel plays: the engine's deviation rows of S and of `vcg` equal, bit for bit, a replay by
/// the model's direct kernels (`datapact_model::deviation`, `datapact_model::vcg`) on the
/// replications' draws (so `vcg` and S are compared on common random numbers).
#[test]
fn a_direct_kernel_plays_the_engines_draws() {
    use datapact_audit::deviations::{Audited, CellAudit, deviation_rows};
    use datapact_model::deviation::{Choice, DeviationScratch, Menu, Played, user_at_quantile};
    use datapact_model::dynamics::round_rng;
    use datapact_model::stats::Welford;
    use datapact_model::{Draws, Game, Kernel};

    let plugins = Arc::new(PluginSet::core());
    let menu = Menu::new(&[0.5, 2.0]);
    let game = Game {
        value: 0.2,
        payment: 0.05,
        obs_noise: 0.1,
        ..Game::default()
    };
    let (seed, cell, reps, quantiles) = (11, 3, 50, [0.25, 0.75]);
    for (name, played) in [
        ("S", Played::Kernel(Kernel::Simultaneous)),
        ("vcg", Played::Vcg),
    ] {
        let mechanisms = [Audited {
            id: plugins.catalog().mechanism(name).unwrap() as u16,
            name,
            variant: None,
        }];
        let a = CellAudit {
            plugins: &plugins,
            mechanisms: &mechanisms,
            variants: &[],
            seed,
            menu: &menu,
            quantiles: &quantiles,
            replications: reps,
            dynamics_replications: 10,
            max_rounds: 2,
            cancel: None,
        };
        let rows = deviation_rows(cell, &game, &a);
        assert_eq!(rows.len(), 2 * 5);
        assert!(rows.iter().any(|r| r.gain_mean != 0.0), "{name}");
        // The replay: the same draws, the deviators at the same quantiles, the same gains.
        let devs = menu.unilateral();
        let mut gains = vec![Welford::default(); quantiles.len() * devs.len()];
        let (mut draws, mut scratch) = (Draws::default(), DeviationScratch::default());
        let sampler = game.cost.sampler().unwrap();
        for rep in 0..reps {
            draws.fill(
                game.users,
                &sampler,
                &mut round_rng(seed, cell as u64, u64::from(rep), 0),
            );
            scratch.play(played, &game, &menu, &draws, Choice::TRUTHFUL, None);
            let base = scratch.payoffs().to_vec();
            for (qi, &q) in quantiles.iter().enumerate() {
                let who = user_at_quantile(&draws.cost, q);
                for (j, &dev) in devs.iter().enumerate() {
                    let gain = if dev == Choice::TRUTHFUL {
                        0.0
                    } else {
                        scratch.play(
                            played,
                            &game,
                            &menu,
                            &draws,
                            Choice::TRUTHFUL,
                            Some((who, dev)),
                        );
                        scratch.payoffs()[who] - base[who]
                    };
                    gains[qi * devs.len() + j].push(gain);
                }
            }
        }
        for (r, w) in rows.iter().zip(&gains) {
            assert_eq!(r.gain_mean.to_bits(), w.mean().to_bits(), "{name}: {r:?}");
            assert_eq!(r.gain_se.to_bits(), w.se().to_bits(), "{name}: {r:?}");
        }
    }
}

/// Which S? At R = 0, M ⊇ S campaign by campaign and the two bear the same privacy cost on the
/// common successes (exactly: claims 3 and 4 are identities there); at R = 1 S succeeds in
/// campaigns M fails. The model's defaults (σ_w = 0.5) at V = 0.1, p = 0.05, where users withdraw.
#[test]
fn m_contains_s_campaign_by_campaign_at_r0_but_not_at_r1() {
    use datapact_audit::recovery::{SideBySide, compare_cell};
    use datapact_model::Game;

    let plugins = Arc::new(PluginSet::core());
    let catalog = plugins.catalog().clone();
    let game = Game {
        value: 0.1,
        payment: 0.05,
        ..Game::default()
    };
    assert!(game.drift > 0.0);
    let side = |r: u32| {
        let cells: Vec<SideBySide> = (0..4)
            .map(|cell| compare_cell(&plugins, &catalog, cell, &game, 20260508, 400, r, None))
            .collect();
        SideBySide::total(r, &cells)
    };
    let (r0, r1) = (side(0), side(1));
    println!("{r0:?}\n{r1:?}");
    assert_eq!(r0.campaigns, 1600);
    // withdrawals happen: M rescues campaigns S loses
    assert!(r0.m_only > 0 && r0.both > 0, "{r0:?}");
    assert_eq!(r0.s_only, 0, "{r0:?}");
    assert_eq!(r0.pc_differ, 0, "{r0:?}");
    assert_eq!(r0.pc_max_gap, 0.0, "{r0:?}");
    // M does not depend on S's R
    assert_eq!((r0.m_success, r1.m_success), (r0.m_success, r0.m_success));
    assert!(r1.s_only > 0, "{r1:?}");
    assert!(r1.s_success > r0.s_success, "{r0:?} {r1:?}");
}

/// With as many bins as users each bin is one cost rank, so a bin's deviator is the user the
/// unilateral deviations put at quantile b/n: from truthful play in every bin, the engine's
/// per-user profiles give the deviation rows' gains bit for bit (same draws, same deviators).
#[test]
fn one_user_per_bin_gives_the_unilateral_deviation_gains() {
    use datapact_audit::bins::bin_gains;
    use datapact_audit::deviations::deviation_rows;
    use datapact_model::Game;
    use datapact_model::deviation::{Choice, Menu};

    let plugins = Arc::new(PluginSet::core());
    let menu = Menu::new(&[0.5, 2.0]);
    let game = Game {
        users: 4,
        value: 0.2,
        payment: 0.05,
        obs_noise: 0.1,
        ..Game::default()
    };
    for name in ["S", "M"] {
        let mechanisms = [engine_mechanism(&plugins, name)];
        let quantiles = [0.0, 0.25, 0.5, 0.75];
        let a = cell_audit(&plugins, &mechanisms, &menu, &quantiles, 60);
        let rows = deviation_rows(3, &game, &a);
        let all: Vec<Choice> = menu.choices().collect();
        let profile = [Choice::TRUTHFUL; 4];
        let mut compared = 0;
        for (b, q) in quantiles.iter().enumerate() {
            let gains = bin_gains(mechanisms[0], &game, 3, &a, 60, &all, &profile, b);
            assert_eq!(gains[0].mean(), 0.0, "truthful against itself");
            for r in rows.iter().filter(|r| r.quantile == *q) {
                let j = all.iter().position(|&c| c == r.choice).unwrap();
                assert_eq!(gains[j].count, 60);
                assert_eq!(
                    gains[j].mean().to_bits(),
                    r.gain_mean.to_bits(),
                    "{name} {r:?}"
                );
                assert_eq!(gains[j].se().to_bits(), r.gain_se.to_bits(), "{name} {r:?}");
                compared += 1;
            }
        }
        assert_eq!(compared, 4 * 5);
        assert!(rows.iter().any(|r| r.gain_mean != 0.0));
    }
}

/// The tiny audit's `equilibria_bins/`: B rows per cell × mechanism, each cell's bins agreeing
/// on its columns; a converged cell's residual gain is not significant, and a profile truthful
/// in every bin has the truthful outcomes exactly (the same draws).
#[test]
fn bin_equilibria_rows_are_consistent() {
    use datapact_audit::bins::{BinsEnd, bins_rows};
    use datapact_audit::deviations::significant;
    use datapact_model::Game;
    use datapact_model::deviation::{Choice, Menu};

    let plugins = Arc::new(PluginSet::core());
    let menu = Menu::new(&[0.5, 0.8, 1.25, 2.0]);
    let mechanisms = ["S", "M"].map(|name| engine_mechanism(&plugins, name));
    let mut a = cell_audit(&plugins, &mechanisms, &menu, &[0.5], 10);
    a.seed = 20260508;
    let settings = datapact_audit::bins::BinsSettings {
        bins: 3,
        max_sweeps: 6,
        replications: 120,
    };
    let mut moved = 0;
    for (cell, (v, p)) in [(0.1, 0.05), (0.3, 0.0)].into_iter().enumerate() {
        let game = Game {
            users: 20,
            threshold: 0.6,
            value: v,
            payment: p,
            ..Game::default()
        };
        let rows = bins_rows(cell, &game, &a, settings);
        assert_eq!(rows.len(), 2);
        for r in &rows {
            let d = &r.dynamics;
            assert_eq!(r.profile.len(), 3);
            assert_eq!(r.values(&menu).len(), 3);
            if d.end == BinsEnd::Converged {
                assert!(!significant(d.residual.0, d.residual.1), "{r:?}");
            } else {
                assert!(d.last.is_some(), "{r:?}");
            }
            if r.profile.iter().all(|&c| c == Choice::TRUTHFUL) {
                assert_eq!(r.outcomes[0], r.outcomes[1], "{r:?}");
            } else {
                moved += 1;
                assert!(d.switches > 0 && d.last.is_some(), "{r:?}");
            }
        }
    }
    // truthful play is not an equilibrium of S or M there (the audit's unilateral gains)
    assert!(moved > 0);
}

/// `datapact reproduce`'s "Which S?" section is the audit's: the claims at R = 0 and R = 1
/// (its `baseline` and `recovery_1` rows, decided on the same runs) and S against M campaign by
/// campaign, word for word as the audit's REPORT.md says them under the same settings.
#[test]
fn which_s_section_is_the_audits() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tiny_spec();
    run(&tmp.path().join("audit"), 2, &spec).unwrap();
    let report = std::fs::read_to_string(tmp.path().join("audit/REPORT.md")).unwrap();
    let paper = paper();
    let paper: Vec<(&str, &str)> = paper
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let section = datapact_audit::which_s::section(&AuditInputs {
        spec: (&spec, "tiny.toml"),
        paper: &paper,
        catalog: Arc::new(Catalog::core()),
        plugins: Arc::new(PluginSet::core()),
        out: tmp.path().join("which_s"),
        threads: 2,
        progress: false,
        cancel: None,
        resume: false,
    })
    .unwrap();
    println!("{section}");
    assert!(section.starts_with("## Which S? The claims at R = 0 and R = 1"));
    for row in ["| baseline | paper settings | ", "| recovery_1 | R = 1 | "] {
        let line = |text: &str| {
            text.lines()
                .find(|l| l.starts_with(row))
                .unwrap_or_else(|| panic!("no row {row:?}"))
                .to_string()
        };
        assert_eq!(line(&section), line(&report));
    }
    let which = section
        .find("**Which S?")
        .expect("the campaign-level comparison");
    let text = section[which..].trim_end();
    assert!(report.contains(text), "{text}");
    assert!(text.contains("At R = 0: ") && text.contains("At R = 1: "));
}
