//! Categorical axes: enumerated keys swept with `{ values = [...] }` under `[sweep]` or
//! `[design]`: what each cell's game gets, the hash of equivalent writings, and the errors.

use datapact_model::{CostDist, CostProcess, Learning, Order};
use datapact_scenario::{Category, Scenario};

use crate::support;

fn ok(rest: &str) -> Scenario {
    support::ok_after_header("cat", rest)
}

fn err(rest: &str) -> String {
    support::err_after_header("cat", rest)
}

#[test]
fn an_order_axis_sets_each_cells_order_and_keeps_the_grid_order() {
    let s = ok(r#"
[sweep]
game.value = { values = [0.1, 0.2] }
game.order = { values = ["large-first", "small-first", "random"] }
"#);
    assert_eq!(s.cell_count(), 6);
    let a = &s.sweep[1];
    assert_eq!((a.key.as_str(), a.column.as_str()), ("game.order", "order"));
    assert_eq!(a.values, [0.0, 1.0, 2.0]);
    assert_eq!(a.labels(), ["large-first", "small-first", "random"]);
    let orders: Vec<Order> = (0..6).map(|i| s.cell(i).game.order).collect();
    assert_eq!(
        orders,
        [
            Order::LargeFirst,
            Order::SmallFirst,
            Order::Random,
            Order::LargeFirst,
            Order::SmallFirst,
            Order::Random
        ]
    );
    assert_eq!(s.cell(4).game.value, 0.2);
}

#[test]
fn a_cost_distribution_axis_is_read_by_the_population_reader() {
    let s = ok(r#"
[sweep]
population.cost.dist = { values = [{ dist = "uniform", low = 0, high = 1 }, { dist = "beta", alpha = 2, beta = 5 }, { dist = "constant", value = 0.25 }] }
"#);
    let a = &s.sweep[0];
    assert_eq!(a.column, "cost_dist");
    assert_eq!(
        a.labels(),
        [
            "uniform(low=0,high=1)",
            "beta(alpha=2,beta=5)",
            "constant(value=0.25)"
        ]
    );
    assert_eq!(
        s.cell(1).game.cost,
        CostDist::Beta {
            alpha: 2.0,
            beta: 5.0
        }
    );
    assert_eq!(s.cell(2).game.cost, CostDist::Constant { value: 0.25 });
}

#[test]
fn dynamics_axes_use_the_parameters_of_the_dynamics_table() {
    let s = ok(r#"
[dynamics]
rounds = 3
persistence = 0.7
learning_rate = 0.4
[sweep]
dynamics.cost_process = { values = ["iid", "ar1", "persistent"] }
dynamics.learning = { values = ["none", "adaptive"] }
"#);
    assert_eq!(s.sweep[0].column, "cost_process");
    assert_eq!(s.sweep[1].column, "learning");
    let g = s.cell(3).game; // (ar1, adaptive)
    assert_eq!(
        g.dynamics.cost_process,
        CostProcess::Ar1 { persistence: 0.7 }
    );
    assert_eq!(g.dynamics.learning, Learning::Adaptive { rate: 0.4 });
    assert_eq!(s.cell(0).game.dynamics.cost_process, CostProcess::Iid);
    assert_eq!(s.cell(0).game.dynamics.rounds, 3);
}

#[test]
fn equivalent_writings_hash_alike_and_the_normalized_text_loads_back() {
    let a = ok(r#"
[sweep]
population.cost.dist = { values = [{ dist = "beta", beta = 5, alpha = 2 }, { dist = "uniform", high = 1.0, low = 0.0 }] }
game.order = { values = ["random", "small-first"] }
"#);
    let b = ok(r#"
[sweep]
population.cost.dist = { values = [{ dist = "beta", alpha = 2.0, beta = 5.0 }, { high = 1, low = 0, dist = "uniform" }] }
game.order = { values = ["random", "small-first"] }
"#);
    assert_eq!(a.hash(), b.hash());
    let back = Scenario::from_str(&a.normalized(), "normalized", &[]).unwrap();
    assert_eq!(back.hash(), a.hash());
    assert_eq!(back.sweep, a.sweep);
    // Order matters: it is the grid's order (and the cells' indices).
    let c = ok(r#"
[sweep]
game.order = { values = ["small-first", "random"] }
"#);
    let d = ok(r#"
[sweep]
game.order = { values = ["random", "small-first"] }
"#);
    assert_ne!(c.hash(), d.hash());
    // A swept AR(1) writes its persistence even when the base process is i.i.d.
    let e = ok(r#"
[dynamics]
persistence = 0.3
[sweep]
dynamics.cost_process = { values = ["iid", "ar1"] }
"#);
    let back = Scenario::from_str(&e.normalized(), "normalized", &[]).unwrap();
    assert_eq!(back.sweep, e.sweep);
    assert_eq!(
        back.cell(1).game.dynamics.cost_process,
        CostProcess::Ar1 { persistence: 0.3 }
    );
}

#[test]
fn a_categorical_axis_of_a_sampled_design_is_crossed_with_its_points() {
    let s = ok(r#"
[design]
kind = "lhs"
samples = 5
game.order = { values = ["small-first", "large-first"] }
game.value = { from = 0.0, to = 0.3 }
"#);
    assert_eq!(s.cell_count(), 10);
    assert_eq!(
        s.design.first_axis, 1,
        "the categorical axis joins the grid"
    );
    for i in 0..10 {
        let c = s.cell(i);
        let expect = if i < 5 {
            Order::SmallFirst
        } else {
            Order::LargeFirst
        };
        assert_eq!(c.game.order, expect);
        // The same points under each category.
        assert_eq!(c.coords[1], s.cell(i % 5).coords[1]);
    }
    // The same cells as written under [sweep]: the same hash.
    let t = ok(r#"
[sweep]
game.order = { values = ["small-first", "large-first"] }
[design]
kind = "lhs"
samples = 5
game.value = { from = 0.0, to = 0.3 }
"#);
    assert_eq!(s.hash(), t.hash());
    let order = datapact_model::GAME_KEYS
        .iter()
        .position(|k| k.path() == "game.order")
        .expect("game.order is declared");
    assert_eq!(
        s.sweep[0].categories(),
        [
            Category::Choice {
                key: order,
                value: Order::SmallFirst.index()
            },
            Category::Choice {
                key: order,
                value: Order::LargeFirst.index()
            }
        ]
    );
}

#[test]
fn bad_categorical_axes_name_file_line_key_and_allowed_values() {
    let e = err("[sweep]\ngame.order = { values = [\"small-first\", \"sideways\"] }\n");
    assert!(e.starts_with("cat.toml:7: "), "{e}");
    assert!(e.contains("sweep.game.order.values"), "{e}");
    assert!(e.contains("\"sideways\""), "{e}");
    assert!(e.contains("\"cost-ascending\""), "{e}");

    let e = err("[sweep]\ngame.order = { values = [] }\n");
    assert!(
        e.contains("must not be empty") && e.contains("\"random\""),
        "{e}"
    );

    let e = err("[sweep]\ngame.order = { values = [\"random\", \"random\"] }\n");
    assert!(e.contains("duplicate value random"), "{e}");

    let e = err("[sweep]\ngame.order = { values = [1.0] }\n");
    assert!(e.contains("must be a string, found float"), "{e}");
    assert!(e.contains("\"small-first\""), "{e}");

    let e = err("[sweep]\ngame.order = { from = 0, to = 1, steps = 2 }\n");
    assert!(e.contains("categorical"), "{e}");

    let e = err("[sweep]\ndynamics.learning = { values = [\"adaptive\", \"greedy\"] }\n");
    assert!(e.contains("\"greedy\"") && e.contains("\"none\""), "{e}");

    // Cost distributions: the population reader's errors, and duplicates by value.
    let e = err("[sweep]\npopulation.cost.dist = { values = [{ dist = \"beta\", alpha = 2 }] }\n");
    assert!(
        e.contains("missing required key") && e.contains("beta"),
        "{e}"
    );
    let e = err("[sweep]\npopulation.cost.dist = { values = [{ dist = \"gamma\", k = 2 }] }\n");
    assert!(
        e.contains("\"gamma\"") && e.contains("\"lognormal\""),
        "{e}"
    );
    let e = err("[sweep]\npopulation.cost.dist = { values = [\"uniform\"] }\n");
    assert!(e.contains("must be a table, found string"), "{e}");
    let e = err(
        "[sweep]\npopulation.cost.dist = { values = [{ dist = \"constant\", value = 1 }, { dist = \"constant\", value = 1.0 }] }\n",
    );
    assert!(e.contains("duplicate value constant(value=1)"), "{e}");
    let e = err(
        "[sweep]\npopulation.cost.dist = { values = [{ dist = \"uniform\", low = 0.5, high = 0.1 }] }\n",
    );
    assert!(e.contains("must be >= low"), "{e}");
    let e = err(
        "[sweep]\npopulation.cost.dist = { values = [{ dist = \"lognormal\", mu = 0, sigma = 50 }] }\n",
    );
    assert!(e.contains("population.cost.sigma"), "{e}");

    // A distribution's parameters go in its values, not in axes of their own.
    let e = err(
        "[population]\ncost = { dist = \"beta\", alpha = 1, beta = 1 }\n[sweep]\npopulation.cost.alpha = { values = [1, 2] }\npopulation.cost.dist = { values = [{ dist = \"beta\", alpha = 2, beta = 5 }] }\n",
    );
    assert!(
        e.contains("cannot be swept while population.cost.dist is swept"),
        "{e}"
    );

    // The mechanism list: one per run, with the reason.
    let e = err("[sweep]\nmechanisms = { values = [[\"C\"], [\"S\", \"M\"]] }\n");
    assert!(
        e.contains("sweep.mechanisms") && e.contains("cannot be swept"),
        "{e}"
    );

    // The same key under [sweep] and [design].
    let e = err(
        "[sweep]\ngame.order = { values = [\"random\"] }\n[design]\nkind = \"lhs\"\nsamples = 2\ngame.order = { values = [\"random\"] }\ngame.value = { from = 0, to = 1 }\n",
    );
    assert!(e.contains("both under [sweep] and [design]"), "{e}");
}

#[test]
fn strategy_axes_give_each_cell_its_strategy_with_the_tables_share_and_parameters() {
    let s = ok(r#"
[population.report]
share = 0.5
factor = -0.3
[sweep]
population.withdraw.strategy = { values = ["sincere", "free-rider"] }
population.report.strategy = { values = ["shade", "truthful"] }
"#);
    assert_eq!(s.cell_count(), 4);
    let (w, r) = (&s.sweep[0], &s.sweep[1]);
    assert_eq!(
        (w.column.as_str(), r.column.as_str()),
        ("withdraw_strategy", "report_strategy")
    );
    assert_eq!(w.labels(), ["sincere", "free-rider"]);
    assert_eq!(r.labels(), ["shade", "truthful"]);
    // Cell 2: (free-rider, shade).
    let g = s.cell(2).game;
    assert_eq!(g.population.withdraw.strategy, 1);
    assert_eq!(
        g.population.withdraw.share, 1.0,
        "the withdraw default share"
    );
    assert_eq!(g.population.report.strategy, 1);
    assert_eq!(g.population.report.share, 0.5);
    assert_eq!(g.population.report.params.0, vec![-0.3]);
    assert_eq!(g.population.report.holders(g.users), 10);
    // Cell 1: (sincere, truthful): nobody holds a non-default strategy.
    let g = s.cell(1).game;
    assert_eq!(
        (g.population.withdraw.strategy, g.population.report.strategy),
        (0, 0)
    );
    assert_eq!(g.population.report.holders(g.users), 0);
    assert!(g.population.report.params.0.is_empty());

    // The cell equals the game of the strategy fixed in the table.
    let fixed = ok(r#"
[population.report]
strategy = "shade"
share = 0.5
factor = -0.3
[population.withdraw]
strategy = "free-rider"
"#);
    assert_eq!(s.cell(2).game, fixed.base);
    let sincere = ok("[population.report]\nshare = 0.5\n");
    assert_eq!(
        s.cell(1).game.population.withdraw.holders(20),
        sincere.base.population.withdraw.holders(20)
    );
}

#[test]
fn a_swept_strategy_name_hashes_alike_whatever_the_table_names_and_loads_back() {
    let a = ok(r#"
[population.report]
strategy = "shade"
share = 1
factor = 0.2
[sweep]
population.report.strategy = { values = ["truthful", "shade"] }
"#);
    let b = ok(r#"
[population.report]
factor = 0.20
share = 1.0
[sweep]
population.report.strategy = { values = ["truthful", "shade"] }
"#);
    assert_eq!(a.hash(), b.hash());
    assert_eq!(a.base, b.base);
    let back = Scenario::from_str(&a.normalized(), "normalized", &[]).unwrap();
    assert_eq!(back.hash(), a.hash());
    assert_eq!(back.sweep, a.sweep);
    assert_eq!(back.base, a.base);
    assert_eq!(back.cell(1).game, a.cell(1).game);
    // The parameters are part of the identity (they are the shade cells').
    let c = ok(r#"
[population.report]
share = 1.0
factor = 0.3
[sweep]
population.report.strategy = { values = ["truthful", "shade"] }
"#);
    assert_ne!(a.hash(), c.hash());
    // The values' order is the grid's.
    let d = ok(r#"
[population.report]
share = 1.0
factor = 0.2
[sweep]
population.report.strategy = { values = ["shade", "truthful"] }
"#);
    assert_ne!(a.hash(), d.hash());
}

#[test]
fn a_swept_strategy_name_crosses_a_share_axis_and_a_sampled_design() {
    // The share is sweepable beside the name even though the table holds the default strategy.
    let s = ok(r#"
[sweep]
population.withdraw.strategy = { values = ["sincere", "free-rider"] }
population.withdraw.share = { values = [0.25, 0.5] }
"#);
    assert_eq!(s.cell_count(), 4);
    let g = s.cell(3).game;
    assert_eq!(
        (g.population.withdraw.strategy, g.population.withdraw.share),
        (1, 0.5)
    );
    // A report share swept through 0 is fine while some cell holds the strategy.
    ok(r#"
[sweep]
population.report.strategy = { values = ["truthful", "shade"] }
population.report.share = { values = [0.0, 1.0] }
"#);

    let d = ok(r#"
[design]
kind = "lhs"
samples = 4
population.withdraw.strategy = { values = ["sincere", "free-rider"] }
game.value = { from = 0.0, to = 0.3 }
"#);
    assert_eq!(d.cell_count(), 8);
    assert_eq!(d.design.first_axis, 1);
    for i in 0..8 {
        let c = d.cell(i);
        assert_eq!(c.game.population.withdraw.strategy, i / 4);
        assert_eq!(c.coords[1], d.cell(i % 4).coords[1]);
    }
    let t = ok(r#"
[sweep]
population.withdraw.strategy = { values = ["sincere", "free-rider"] }
[design]
kind = "lhs"
samples = 4
game.value = { from = 0.0, to = 0.3 }
"#);
    assert_eq!(d.hash(), t.hash());
}

#[test]
fn bad_strategy_axes_name_file_line_key_and_allowed_values() {
    // Unknown name: the catalog's names.
    let e = err("[sweep]\npopulation.withdraw.strategy = { values = [\"sincere\", \"lazy\"] }\n");
    assert!(e.starts_with("cat.toml:7: "), "{e}");
    assert!(
        e.contains("sweep.population.withdraw.strategy.values"),
        "{e}"
    );
    assert!(
        e.contains("\"lazy\"") && e.contains("\"sincere\", \"free-rider\""),
        "{e}"
    );
    let e = err(
        "[population.report]\nshare = 1\n[sweep]\npopulation.report.strategy = { values = [\"liar\"] }\n",
    );
    assert!(e.contains("\"truthful\", \"shade\""), "{e}");

    // Duplicate, wrong type, empty, a range.
    let e = err(
        "[sweep]\npopulation.withdraw.strategy = { values = [\"free-rider\", \"free-rider\"] }\n",
    );
    assert!(e.contains("duplicate value free-rider"), "{e}");
    let e = err("[sweep]\npopulation.withdraw.strategy = { values = [1] }\n");
    assert!(
        e.contains("must be a string, found integer") && e.contains("\"free-rider\""),
        "{e}"
    );
    let e = err("[sweep]\npopulation.withdraw.strategy = { values = [] }\n");
    assert!(e.contains("must not be empty"), "{e}");
    let e = err("[sweep]\npopulation.withdraw.strategy = [\"sincere\"]\n");
    assert!(
        e.contains("categorical") && e.contains("found array"),
        "{e}"
    );
    let e = err("[sweep]\npopulation.report.strategy = { from = 0, to = 1, steps = 2 }\n");
    assert!(e.contains("categorical"), "{e}");

    // A report strategy with the default share 0 would be held by nobody.
    let e = err("[sweep]\npopulation.report.strategy = { values = [\"truthful\", \"shade\"] }\n");
    assert!(e.starts_with("cat.toml:7: "), "{e}");
    assert!(
        e.contains("population.report.share is 0 (its default")
            && e.contains("no user would hold \"shade\"")
            && e.contains("share = 1.0"),
        "{e}"
    );
    let e = err(
        "[population.withdraw]\nshare = 0\n[sweep]\npopulation.withdraw.strategy = { values = [\"free-rider\"] }\n",
    );
    assert!(e.contains("population.withdraw.share = 0"), "{e}");
    let e = err(
        "[sweep]\npopulation.report.strategy = { values = [\"shade\"] }\npopulation.report.share = { values = [0.0] }\n",
    );
    assert!(e.contains("is 0 in every cell"), "{e}");
    // Only the default: nothing to hold, no share needed.
    ok("[sweep]\npopulation.report.strategy = { values = [\"truthful\"] }\n");

    // A strategy's parameter is not an axis while the name is swept.
    let e = err(
        "[population.report]\nshare = 1\n[sweep]\npopulation.report.strategy = { values = [\"truthful\", \"shade\"] }\npopulation.report.factor = { values = [0.1, 0.2] }\n",
    );
    assert!(e.starts_with("cat.toml:10: "), "{e}");
    assert!(
        e.contains(
            "sweep.population.report.factor cannot be swept while population.report.strategy is swept"
        ) && e.contains("beside `strategy` in [population.report]"),
        "{e}"
    );
    let e = err(
        "[population.report]\nshare = 1\n[sweep]\npopulation.report.strategy = { values = [\"truthful\", \"shade\"] }\n[design]\nkind = \"lhs\"\nsamples = 2\npopulation.report.factor = { from = 0, to = 1 }\n",
    );
    assert!(
        e.contains("design.population.report.factor cannot be swept"),
        "{e}"
    );
    // A written parameter is range-checked even though the table names the default.
    let e = err(
        "[population.report]\nshare = 1\nfactor = -2\n[sweep]\npopulation.report.strategy = { values = [\"shade\"] }\n",
    );
    assert!(e.contains("population.report.factor"), "{e}");

    // Overriding the swept name directly.
    let e = Scenario::from_str(
        &format!(
            "{}[sweep]\npopulation.withdraw.strategy = {{ values = [\"sincere\"] }}\n",
            support::header("cat")
        ),
        "cat.toml",
        &["population.withdraw.strategy=\"free-rider\"".to_string()],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("override sweep.population.withdraw.strategy instead"),
        "{e}"
    );
}
