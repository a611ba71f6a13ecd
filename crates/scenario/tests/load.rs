//! Valid scenarios: defaults, full files, grid expansion, overrides, normalization.

use std::path::Path;

use datapact_model::{CostDist, Game, Order};
use datapact_scenario::{Scenario, TraceLevel};

const MIN: &str = r#"
[scenario]
name = "min"
seed = 1
replications = 10
"#;

fn load(text: &str) -> Scenario {
    match Scenario::from_str(text, "t.toml", &[]) {
        Ok(s) => s,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn load_set(text: &str, sets: &[&str]) -> Scenario {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    match Scenario::from_str(text, "t.toml", &sets) {
        Ok(s) => s,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[test]
fn defaults_fill_the_documented_values() {
    let s = load(MIN);
    assert_eq!(s.name, "min");
    assert_eq!(s.seed, 1);
    assert_eq!(s.replications, 10);
    assert_eq!(s.description, None);
    assert_eq!(s.mechanism_names(), vec!["C", "S", "M"]);
    assert_eq!(s.trace, TraceLevel::Cells);
    assert!(s.sweep.is_empty());
    assert_eq!(s.cell_count(), 1);
    assert_eq!(s.campaigns(), 30);
    let g = &s.base;
    assert_eq!(g.users, 20);
    assert_eq!(
        g.cost,
        CostDist::Uniform {
            low: 0.0,
            high: 1.0
        }
    );
    assert_eq!(g.threshold, 0.6);
    assert_eq!(g.value, 0.1);
    assert_eq!(g.payment, 0.1);
    assert_eq!(g.belief, 0.15);
    assert_eq!(g.obs_noise, 0.0);
    assert_eq!(g.drift, 0.5);
    assert_eq!(g.irreversible, 0.0);
    assert_eq!(g.recovery_rounds, 0);
    assert_eq!(g.order, Order::SmallFirst);
    assert_eq!(g.population, datapact_model::Population::default());
    assert_eq!(*g, Game::default());
    let c = s.cell(0);
    assert_eq!(c.index, 0);
    assert!(c.coords.is_empty());
    assert_eq!(c.game, Game::default());
    assert_eq!(s.origin, "t.toml");
    assert_eq!(s.source, MIN);
}

const FULL: &str = r#"
mechanisms = ["M", "S"]
[scenario]
name = "full"
seed = 20260508
replications = 7
description = "every key"
[population]
users = 35
cost = { dist = "beta", alpha = 2, beta = 5.5 }
[population.report]
strategy = "shade"
share = 0.25
factor = -0.2
[population.withdraw]
strategy = "sincere"
[game]
threshold = 0.8
value = 0.2
payment = 0.05
belief = 0.3
obs_noise = 0.1
drift = 0.0
irreversible = 0.5
recovery_rounds = 3
order = "cost-ascending"
[sweep]
game.drift = { values = [0.0, 0.25] }
population.cost.alpha = { from = 1, to = 3, steps = 3 }
[output]
trace = "events"
"#;

#[test]
fn full_file_maps_every_key() {
    let s = load(FULL);
    assert_eq!(s.name, "full");
    assert_eq!(s.seed, 20260508);
    assert_eq!(s.replications, 7);
    assert_eq!(s.description.as_deref(), Some("every key"));
    assert_eq!(s.mechanism_names(), vec!["S", "M"]);
    assert_eq!(s.trace, TraceLevel::Events);
    let g = &s.base;
    assert_eq!(g.users, 35);
    assert_eq!(
        g.cost,
        CostDist::Beta {
            alpha: 2.0,
            beta: 5.5
        }
    );
    assert_eq!(g.population.report.strategy, 1, "shade");
    assert_eq!(g.population.report.share, 0.25);
    assert_eq!(g.population.report.params.0, vec![-0.2]);
    assert_eq!(g.threshold, 0.8);
    assert_eq!(g.value, 0.2);
    assert_eq!(g.payment, 0.05);
    assert_eq!(g.belief, 0.3);
    assert_eq!(g.obs_noise, 0.1);
    assert_eq!(g.drift, 0.0);
    assert_eq!(g.irreversible, 0.5);
    assert_eq!(g.recovery_rounds, 3);
    assert_eq!(g.order, Order::CostAscending);
    assert_eq!(s.sweep.len(), 2);
    assert_eq!(s.sweep[0].key, "game.drift");
    assert_eq!(s.sweep[0].column, "drift");
    assert_eq!(s.sweep[1].key, "population.cost.alpha");
    assert_eq!(s.sweep[1].column, "cost_alpha");
    assert_eq!(s.sweep[1].values, vec![1.0, 2.0, 3.0]);
    assert_eq!(s.cell_count(), 6);
    assert_eq!(s.campaigns(), 6 * 7 * 2);
    // cost-param sweep sets the parameter of the chosen dist
    let c = s.cell(5);
    assert_eq!(c.coords, vec![0.25, 3.0]);
    assert_eq!(
        c.game.cost,
        CostDist::Beta {
            alpha: 3.0,
            beta: 5.5
        }
    );
    assert_eq!(c.game.drift, 0.25);
    assert_eq!(c.game.users, 35);
}

#[test]
fn truthful_report_means_no_shading() {
    let s = load(&format!(
        "{MIN}[population.report]\nstrategy = \"truthful\"\nshare = 0.5\nfactor = 0.3\n"
    ));
    assert_eq!(s.base.population, datapact_model::Population::default());
}

#[test]
fn mechanisms_under_scenario_are_accepted() {
    let s =
        load("[scenario]\nname = \"x\"\nseed = 0\nreplications = 1\nmechanisms = [\"S\", \"C\"]\n");
    assert_eq!(s.mechanism_names(), vec!["C", "S"]);
}

#[test]
fn each_dist_maps() {
    for (spec, want) in [
        (
            "{ dist = \"uniform\", low = 0.5, high = 2 }",
            CostDist::Uniform {
                low: 0.5,
                high: 2.0,
            },
        ),
        (
            "{ dist = \"lognormal\", mu = -1, sigma = 0.5 }",
            CostDist::LogNormal {
                mu: -1.0,
                sigma: 0.5,
            },
        ),
        (
            "{ dist = \"constant\", value = 0.3 }",
            CostDist::Constant { value: 0.3 },
        ),
    ] {
        let s = load(&format!("{MIN}[population]\ncost = {spec}\n"));
        assert_eq!(s.base.cost, want);
    }
}

const GRID: &str = r#"
[scenario]
name = "grid"
seed = 3
replications = 2
[population]
users = 10
[game]
value = 0.9
[sweep]
game.value = { from = 0.0, to = 0.3, steps = 4 }
population.users = { values = [5, 8] }
game.payment = { from = 0.7, to = 0.1, steps = 3 }
"#;

#[test]
fn grid_is_row_major_first_axis_slowest() {
    let s = load(GRID);
    assert_eq!(s.cell_count(), 4 * 2 * 3);
    assert_eq!(s.campaigns(), 24 * 2 * 3);
    let keys: Vec<&str> = s.sweep.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["game.value", "population.users", "game.payment"]);
    let cols: Vec<&str> = s.sweep.iter().map(|a| a.column.as_str()).collect();
    assert_eq!(cols, ["value", "users", "payment"]);
    // endpoints are exact
    let v = &s.sweep[0].values;
    assert_eq!(v.len(), 4);
    assert_eq!(v[0], 0.0);
    assert_eq!(v[3], 0.3);
    assert!((v[1] - 0.1).abs() < 1e-15 && (v[2] - 0.2).abs() < 1e-15);
    assert_eq!(s.sweep[2].values[0], 0.7);
    assert_eq!(s.sweep[2].values[2], 0.1);

    let mut idx = 0;
    for &value in &s.sweep[0].values {
        for &users in &s.sweep[1].values {
            for &payment in &s.sweep[2].values {
                let c = s.cell(idx);
                assert_eq!(c.index, idx);
                assert_eq!(c.coords, vec![value, users, payment]);
                assert_eq!(c.game.value, value);
                assert_eq!(c.game.users, users as usize);
                assert_eq!(c.game.payment, payment);
                idx += 1;
            }
        }
    }
    assert_eq!(idx, s.cell_count());
    // the sweep wins over the table value, which stays in base
    assert_eq!(s.base.value, 0.9);
    assert_eq!(s.cell(0).game.value, 0.0);
    assert_eq!(s.base.users, 10);
}

#[test]
fn single_step_axis_is_from() {
    let s = load(&format!(
        "{MIN}[sweep]\ngame.drift = {{ from = 0.2, to = 0.9, steps = 1 }}\n"
    ));
    assert_eq!(s.sweep[0].values, vec![0.2]);
    assert_eq!(s.cell_count(), 1);
}

#[test]
fn linspace_endpoints_exact_for_long_axes() {
    for (from, to, steps) in [
        (0.0, 0.3, 31),
        (0.1, 0.7, 7),
        (1e-3, 0.9, 1000),
        (-0.5, 2.0, 3),
    ] {
        let text = format!(
            "{MIN}[population.report]\nstrategy = \"shade\"\nshare = 1.0\n[sweep]\npopulation.report.factor = {{ from = {from:?}, to = {to:?}, steps = {steps} }}\n"
        );
        let s = load(&text);
        let v = &s.sweep[0].values;
        assert_eq!(s.sweep[0].column, "report_factor");
        assert_eq!(v.len(), steps);
        assert_eq!(v[0], from);
        assert_eq!(v[steps - 1], to);
        assert!(v.windows(2).all(|w| w[1] > w[0]));
    }
}

#[test]
fn report_and_uniform_param_sweeps_set_the_game() {
    let text = format!(
        "{MIN}[population]\ncost = {{ dist = \"uniform\", low = 0, high = 2 }}\n[population.report]\nstrategy = \"shade\"\n[sweep]\npopulation.cost.high = {{ values = [1.5, 3] }}\npopulation.report.share = {{ values = [0.1, 0.9] }}\n"
    );
    let s = load(&text);
    let c = s.cell(1);
    assert_eq!(
        c.game.cost,
        CostDist::Uniform {
            low: 0.0,
            high: 1.5
        }
    );
    assert_eq!(c.game.population.report.share, 0.9);
    let c = s.cell(2);
    assert_eq!(
        c.game.cost,
        CostDist::Uniform {
            low: 0.0,
            high: 3.0
        }
    );
    assert_eq!(c.game.population.report.share, 0.1);
    assert_eq!(s.sweep[0].column, "cost_high");
    assert_eq!(s.sweep[1].column, "report_share");
}

#[test]
fn integer_sweep_over_recovery_rounds() {
    let s = load(&format!(
        "{MIN}[sweep]\ngame.recovery_rounds = {{ from = 0, to = 10, steps = 6 }}\n"
    ));
    assert_eq!(s.sweep[0].values, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    assert_eq!(s.cell(3).game.recovery_rounds, 6);
}

#[test]
fn overrides_apply_before_validation() {
    let s = load_set(
        GRID,
        &[
            "game.drift=0.2",
            "scenario.replications=100",
            "output.trace=events",
            "mechanisms=[\"S\"]",
            "sweep.game.value.steps=5",
        ],
    );
    assert_eq!(s.base.drift, 0.2);
    assert_eq!(s.replications, 100);
    assert_eq!(s.trace, TraceLevel::Events);
    assert_eq!(s.mechanism_names(), vec!["S"]);
    assert_eq!(s.sweep[0].values.len(), 5);
    assert_eq!(s.sweep[0].values[4], 0.3);
    // overrides show up in normalized() and change the hash
    assert!(s.normalized().contains("drift = 0.2"));
    assert_ne!(s.hash(), load(GRID).hash());

    let s = load_set(
        MIN,
        &[
            "output.trace=\"rounds\"",
            "population.cost={ dist = \"beta\", alpha = 1, beta = 1 }",
            "population.cost.alpha=2",
            "scenario.mechanisms=[\"M\"]",
            "game.order=large-first",
            "game.recovery_rounds = 4",
        ],
    );
    assert_eq!(s.trace, TraceLevel::Rounds);
    assert_eq!(
        s.base.cost,
        CostDist::Beta {
            alpha: 2.0,
            beta: 1.0
        }
    );
    assert_eq!(s.mechanism_names(), vec!["M"]);
    assert_eq!(s.base.order, Order::LargeFirst);
    assert_eq!(s.base.recovery_rounds, 4);
    // a string value that does not parse as TOML is taken as a string
    let s = load_set(MIN, &["scenario.name=my run"]);
    assert_eq!(s.name, "my run");
    // an override of top-level mechanisms replaces scenario.mechanisms
    let s = load_set(
        "[scenario]\nname = \"x\"\nseed = 0\nreplications = 1\nmechanisms = [\"S\", \"C\"]\n",
        &["mechanisms=[\"M\",\"C\"]"],
    );
    assert_eq!(s.mechanism_names(), vec!["C", "M"]);
}

const A: &str = r#"
# a comment
mechanisms = ["C","S","M"]
[scenario]
name = "n"
seed = 5
replications = 3
[game]
value = 0.2
drift = 0.5
[sweep]
game.payment = { from = 0, to = 0.3, steps = 4 }
"#;

const B: &str = r#"
[scenario]
replications   = 3
name="n"   # trailing comment
seed=5

[game]
drift = 0.5
value = 0.2
threshold = 0.6

[sweep.game]
payment = { steps = 4, to = 0.3, from = 0.0 }
"#;

#[test]
fn normalized_ignores_order_whitespace_comments() {
    let a = load(A);
    let b = load(B);
    assert_eq!(a.normalized(), b.normalized());
    assert_eq!(a.hash(), b.hash());
    assert_eq!(a.hash().len(), 64);
    assert!(a.hash().chars().all(|c| c.is_ascii_hexdigit()));
    // a changed value changes it
    let c = load(&A.replace("value = 0.2", "value = 0.25"));
    assert_ne!(a.normalized(), c.normalized());
    assert_ne!(a.hash(), c.hash());
    // a values list equal to the linspace normalizes the same
    let d = load(&A.replace(
        "{ from = 0, to = 0.3, steps = 4 }",
        &format!("{{ values = {:?} }}", a.sweep[0].values),
    ));
    assert_eq!(a.normalized(), d.normalized());
}

#[test]
fn normalized_round_trips() {
    for text in [MIN, FULL, GRID, A] {
        let s = load(text);
        let n = s.normalized();
        let again = Scenario::from_str(&n, "normalized", &[])
            .unwrap_or_else(|e| panic!("normalized text does not load: {e}\n{n}"));
        assert_eq!(again.normalized(), n);
        assert_eq!(again.base, s.base);
        assert_eq!(again.sweep, s.sweep);
        assert_eq!(again.mechanisms, s.mechanisms);
    }
}

#[test]
fn baseline_file_loads_with_961_cells() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/baseline.toml");
    let s = Scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.name, "baseline");
    assert_eq!(s.seed, 20260508);
    assert_eq!(s.replications, 2000);
    assert_eq!(s.cell_count(), 961);
    assert_eq!(s.campaigns(), 961 * 2000 * 3);
    assert_eq!(s.mechanism_names(), vec!["C", "S", "M"]);
    assert_eq!(s.trace, TraceLevel::Cells);
    assert_eq!(s.base, Game::default());
    let cols: Vec<&str> = s.sweep.iter().map(|a| a.column.as_str()).collect();
    assert_eq!(cols, ["value", "payment"]);
    let last = s.cell(960);
    assert_eq!((last.game.value, last.game.payment), (0.3, 0.3));
    let c = s.cell(31);
    assert_eq!(c.game.payment, 0.0);
    assert!((c.game.value - 0.01).abs() < 1e-15);
}

#[test]
fn trace_levels_are_ordered() {
    assert!(TraceLevel::Cells < TraceLevel::Rounds);
    assert!(TraceLevel::Rounds < TraceLevel::Events);
    assert_eq!(TraceLevel::Events.as_str(), "events");
}

#[test]
fn overriding_an_axis_keeps_its_place() {
    let s = load_set(
        GRID,
        &[
            "sweep.game.value={ values = [0.5] }",
            "sweep.game.drift={ values = [0.1, 0.2] }",
        ],
    );
    let keys: Vec<&str> = s.sweep.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "game.value",
            "population.users",
            "game.payment",
            "game.drift"
        ]
    );
    assert_eq!(s.sweep[0].values, vec![0.5]);
    assert_eq!(s.cell_count(), 2 * 3 * 2);
}

/// Every key declared in `GAME_KEYS` and every parameter of every declared cost distribution
/// reaches the scenario hash (two scenarios that differ only in it hash apart), set in its table
/// or swept, and changes the draw key exactly when it is declared drawn: a key missing from the
/// canonical text would make two different runs look identical to `--resume`, `verify` and the
/// report; a drawn key missing from the draw key would make cells silently reuse another cell's
/// draws, and a key wrongly in it would break common random numbers across cells.
#[test]
fn every_declared_key_reaches_the_hash_and_the_draw_key_when_drawn() {
    use datapact_model::{COST_DISTS, GAME_KEYS, draw_key};
    const HEAD: &str = "[scenario]\nname = \"keys\"\nseed = 1\nreplications = 1\n";
    let base = load(HEAD);
    let base_key = draw_key(&base.cell(0).game);
    for k in &GAME_KEYS {
        let (v, other) = match k.choice(k.default) {
            Some(name) => {
                let other = k
                    .choice((k.default + 1.0) % k.choices.len() as f64)
                    .unwrap();
                (format!("\"{name}\""), format!("\"{other}\""))
            }
            None if k.rule.is_int() => (
                format!("{}", k.default as i64),
                format!("{}", k.default as i64 + 1),
            ),
            None => {
                let other = [k.default + 0.05, k.default - 0.05]
                    .into_iter()
                    .find(|v| k.rule.ok(*v))
                    .expect("a valid neighbour");
                (format!("{:?}", k.default), format!("{other:?}"))
            }
        };
        let path = k.path();
        let set = load_set(HEAD, &[&format!("{path}={other}")]);
        assert_ne!(set.hash(), base.hash(), "{path} does not reach the hash");
        let moved = draw_key(&set.cell(0).game) != base_key;
        assert_eq!(moved, k.drawn, "{path}: drawn = {}", k.drawn);
        let swept = load(&format!(
            "{HEAD}[sweep]\n{path} = {{ values = [{v}, {other}] }}\n"
        ));
        assert_ne!(swept.hash(), base.hash(), "{path} swept");
        let keys = [0, 1].map(|c| draw_key(&swept.cell(c).game));
        assert_eq!(keys[0], base_key, "{path} swept: its default cell");
        assert_eq!(
            keys[0] != keys[1],
            k.drawn,
            "{path} swept: drawn = {}",
            k.drawn
        );
    }
    for spec in &COST_DISTS {
        let table = |values: &[f64]| {
            let params: Vec<String> = spec
                .params
                .iter()
                .zip(values)
                .map(|(p, v)| format!("{} = {v:?}", p.name))
                .collect();
            format!(
                "{HEAD}[population]\ncost = {{ dist = \"{}\", {} }}\n",
                spec.name,
                params.join(", ")
            )
        };
        let values: Vec<f64> = (0..spec.params.len())
            .map(|i| 0.3 + 0.2 * i as f64)
            .collect();
        let s = load(&table(&values));
        let key = draw_key(&s.cell(0).game);
        assert_ne!(
            key, base_key,
            "{}: its name is not in the draw key",
            spec.name
        );
        for (i, p) in spec.params.iter().enumerate() {
            let mut moved = values.clone();
            moved[i] += 0.05;
            let t = load(&table(&moved));
            let what = format!("{} {}", spec.name, p.name);
            assert_ne!(t.hash(), s.hash(), "{what} does not reach the hash");
            assert_ne!(
                draw_key(&t.cell(0).game),
                key,
                "{what} is not in the draw key"
            );
            let swept = load(&format!(
                "{}[sweep]\npopulation.cost.{} = {{ values = [{:?}, {:?}] }}\n",
                table(&values),
                p.name,
                values[i],
                moved[i]
            ));
            let keys = [0, 1].map(|c| draw_key(&swept.cell(c).game));
            assert_eq!(keys, [key, draw_key(&t.cell(0).game)], "{what} swept");
        }
    }
}

/// The docs name every declared key and cost distribution: `docs/model.md`'s parameter table
/// has a row per key, its list of distributions each distribution and parameter, and
/// `scenarios/baseline.toml` (which documents every key) mentions each `[game]` key.
#[test]
fn docs_name_every_declared_key() {
    use datapact_model::{COST_DISTS, GAME_KEYS};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let model = std::fs::read_to_string(root.join("docs/model.md")).unwrap();
    let baseline = std::fs::read_to_string(root.join("scenarios/baseline.toml")).unwrap();
    for k in &GAME_KEYS {
        let row = format!("| `{}` |", k.path());
        assert!(model.contains(&row), "docs/model.md has no row {row}");
        assert!(
            baseline.contains(k.name),
            "scenarios/baseline.toml does not mention {}",
            k.name
        );
    }
    for spec in &COST_DISTS {
        let mut names = vec![spec.name];
        names.extend(spec.params.iter().map(|p| p.name));
        for name in names {
            assert!(
                model.contains(&format!("`{name}`")),
                "docs/model.md does not name `{name}` (cost distribution {})",
                spec.name
            );
        }
    }
}
