//! Scenario files name plugins' mechanisms and strategies: `[mechanism.NAME]` tables validated
//! against the declared parameters, `mechanism.NAME.KEY` swept, strategy keys beside `strategy`
//! and `share`, and every error names the file, line, key and allowed range.

use std::sync::Arc;

use datapact_model::catalog::{MechanismDecl, Stages};
use datapact_model::param::{ParamSpec, Rule};
use datapact_model::strategy::{Deciding, WithdrawRule, WithdrawStrategy};
use datapact_model::{Catalog, NoParams};
use datapact_scenario::{Scenario, ScenarioError};

const BONUS_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        key: "amount",
        rule: Rule::NonNeg,
        default: 0.05,
        doc: "bonus per unit",
    },
    ParamSpec {
        key: "limit",
        rule: Rule::Int { min: 1, max: 10 },
        default: 3.0,
        doc: "users paid",
    },
    ParamSpec {
        key: "rule",
        rule: Rule::OneOf(&["none", "proportional", "utilization"]),
        default: 0.0,
        doc: "rebate rule",
    },
];

#[derive(Debug)]
struct Half;

impl datapact_model::AmountRule for Half {
    fn choose(&self, _: &datapact_model::Choosing) -> f64 {
        0.5
    }
}

impl datapact_model::AmountStrategy for Half {
    const KIND: datapact_model::AmountKind = datapact_model::AmountKind::Pledge;
    const NAME: &'static str = "half";
    const DESCRIPTION: &'static str = "pledges half";
    type Params = NoParams;
    fn new(_: NoParams) -> Self {
        Half
    }
}

#[derive(Debug)]
struct All;

impl datapact_model::AmountRule for All {
    fn choose(&self, _: &datapact_model::Choosing) -> f64 {
        1.0
    }
}

impl datapact_model::AmountStrategy for All {
    const KIND: datapact_model::AmountKind = datapact_model::AmountKind::Pledge;
    const NAME: &'static str = "all";
    const DESCRIPTION: &'static str = "pledges everything";
    type Params = NoParams;
    fn new(_: NoParams) -> Self {
        All
    }
}

#[derive(Debug)]
struct Stubborn;

impl WithdrawRule for Stubborn {
    fn stays(&self, _: &Deciding) -> bool {
        true
    }
}

impl WithdrawStrategy for Stubborn {
    const NAME: &'static str = "stubborn";
    const DESCRIPTION: &'static str = "never withdraws";
    type Params = NoParams;
    fn new(_: NoParams) -> Self {
        Stubborn
    }
}

fn catalog() -> Arc<Catalog> {
    let mut c = Catalog::core();
    c.add_mechanism(MechanismDecl {
        name: "bonus",
        description: "a test mechanism",
        params: BONUS_PARAMS,
        stages: Stages::REPORTING,
        pays_only_on_success: true,
        variant_of: None,
    })
    .unwrap();
    c.add_withdraw_strategy::<Stubborn>().unwrap();
    c.add_amount_strategy::<Half>().unwrap();
    c.add_amount_strategy::<All>().unwrap();
    Arc::new(c)
}

const HEAD: &str =
    "mechanisms = [\"M\", \"bonus\"]\n[scenario]\nname = \"t\"\nseed = 1\nreplications = 2\n";

fn load(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_str_with(&catalog(), text, "t.toml", &[])
}

fn error(text: &str) -> String {
    load(text).expect_err("must be refused").to_string()
}

#[test]
fn plugin_parameters_are_read_defaulted_and_hashed() {
    let s = load(&format!("{HEAD}[mechanism.bonus]\namount = 0.2\n")).unwrap();
    assert_eq!(s.mechanism_names(), ["M", "bonus"]);
    let bonus = s.mechanisms[1].index;
    assert_eq!(s.base.mechanism_params(bonus).0, vec![0.2, 3.0, 0.0]);
    let default = load(HEAD).unwrap();
    assert_ne!(
        s.hash(),
        default.hash(),
        "parameters are part of the identity"
    );
    // The normalized text loads back to the same scenario.
    let again = Scenario::from_str_with(&catalog(), &s.normalized(), "n.toml", &[]).unwrap();
    assert_eq!(again.base, s.base);
    assert_eq!(again.hash(), s.hash());
}

#[test]
fn plugin_parameters_sweep_and_override() {
    let s = load(&format!(
        "{HEAD}[sweep]\nmechanism.bonus.amount = {{ values = [0.0, 0.5] }}\nmechanism.bonus.limit = {{ from = 1, to = 3, steps = 3 }}\n"
    ))
    .unwrap();
    assert_eq!(s.cell_count(), 6);
    assert_eq!(s.sweep[0].column, "bonus_amount");
    let bonus = s.mechanisms[1].index;
    assert_eq!(
        s.cell(5).game.mechanism_params(bonus).0,
        vec![0.5, 3.0, 0.0]
    );
    let set = Scenario::from_str_with(
        &catalog(),
        HEAD,
        "t.toml",
        &["mechanism.bonus.amount=0.7".into()],
    )
    .unwrap();
    assert_eq!(set.base.mechanism_params(bonus).0[0], 0.7);
}

#[test]
fn bad_plugin_parameters_name_file_line_key_and_range() {
    let e = error(&format!("{HEAD}[mechanism.bonus]\namount = -1\n"));
    assert!(
        e.contains("t.toml:7") && e.contains("mechanism.bonus.amount") && e.contains("[0, inf)"),
        "{e}"
    );
    let e = error(&format!("{HEAD}[mechanism.bonus]\nlimit = 2.5\n"));
    assert!(
        e.contains("mechanism.bonus.limit") && e.contains("integer"),
        "{e}"
    );
    let e = error(&format!("{HEAD}[mechanism.bonus]\nbogus = 1\n"));
    assert!(
        e.contains("unknown key `mechanism.bonus.bogus`") && e.contains("amount, limit"),
        "{e}"
    );
    let e = error(&format!("{HEAD}[mechanism.nope]\namount = 1\n"));
    assert!(
        e.contains("unknown mechanism `nope`") && e.contains("bonus"),
        "{e}"
    );
    let e = error(&format!("{HEAD}[mechanism.S]\n"));
    assert!(
        e.contains("has no effect") && e.contains("\"S\" is not in mechanisms"),
        "{e}"
    );
    let e = error(&format!(
        "{HEAD}[sweep]\nmechanism.bonus.limit = {{ values = [0] }}\n"
    ));
    assert!(e.contains("integers in [1, 10]"), "{e}");
    let e = error("mechanisms = [\"X\"]\n[scenario]\nname = \"t\"\nseed = 1\nreplications = 2\n");
    assert!(
        e.contains("\"bonus\""),
        "the allowed names include plugins: {e}"
    );
}

#[test]
fn plugin_strategies_take_shares_and_are_refused_where_they_do_nothing() {
    let s = load(&format!(
        "{HEAD}[population.withdraw]\nstrategy = \"stubborn\"\nshare = 0.5\n"
    ))
    .unwrap();
    let w = &s.base.population.withdraw;
    let stubborn = s.catalog.withdraw_strategy("stubborn").unwrap();
    assert_eq!((w.strategy, w.share), (stubborn, 0.5));
    let e = error(&format!(
        "{HEAD}[population.withdraw]\nstrategy = \"bold\"\n"
    ));
    assert!(
        e.contains("\"stubborn\"") && e.contains("\"free-rider\""),
        "{e}"
    );
    let e = error(&format!(
        "{HEAD}[sweep]\npopulation.withdraw.share = {{ values = [0.5] }}\n"
    ));
    assert!(
        e.contains("has no effect unless population.withdraw.strategy"),
        "{e}"
    );
}

#[test]
fn a_plugin_strategy_is_a_value_of_a_swept_strategy_name() {
    let s = load(&format!(
        "{HEAD}[sweep]\npopulation.withdraw.strategy = {{ values = [\"stubborn\", \"sincere\", \"free-rider\"] }}\n"
    ))
    .unwrap();
    assert_eq!(s.sweep[0].labels(), ["stubborn", "sincere", "free-rider"]);
    let stubborn = s.catalog.withdraw_strategy("stubborn").unwrap();
    assert_eq!(s.cell(0).game.population.withdraw.strategy, stubborn);
    assert_eq!(s.cell(0).game.population.withdraw.share, 1.0);
    // The core catalog does not know it: its names are the allowed values.
    let e = Scenario::from_str(
        &format!("{HEAD}[sweep]\npopulation.withdraw.strategy = {{ values = [\"stubborn\"] }}\n")
            .replace(", \"bonus\"", ""),
        "t.toml",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("\"stubborn\" is not allowed") && e.contains("\"sincere\", \"free-rider\""),
        "{e}"
    );
    let e = error(&format!(
        "{HEAD}[sweep]\npopulation.withdraw.strategy = {{ values = [\"free-rider\", \"fickle\"] }}\n"
    ));
    assert!(
        e.contains("t.toml:7")
            && e.contains("\"sincere\", \"free-rider\", \"threshold\", \"stubborn\""),
        "{e}"
    );
}

#[test]
fn categorical_parameters_are_read_by_label_swept_by_label_and_hashed_as_labels() {
    let s = load(&format!(
        "{HEAD}[mechanism.bonus]\nrule = \"utilization\"\n"
    ))
    .unwrap();
    let bonus = s.mechanisms[1].index;
    assert_eq!(s.base.mechanism_params(bonus).0[2], 2.0);
    assert!(
        s.normalized().contains("rule = \"utilization\""),
        "{}",
        s.normalized()
    );
    let again = Scenario::from_str_with(&catalog(), &s.normalized(), "n.toml", &[]).unwrap();
    assert_eq!(again.hash(), s.hash());

    let swept = load(&format!(
        "{HEAD}[sweep]\nmechanism.bonus.rule = {{ values = [\"none\", \"utilization\"] }}\n"
    ))
    .unwrap();
    let axis = &swept.sweep[0];
    assert_eq!(
        (axis.column.as_str(), axis.labels()),
        (
            "bonus_rule",
            vec!["none".to_string(), "utilization".to_string()]
        )
    );
    assert_eq!(swept.cell(1).game.mechanism_params(bonus).0[2], 2.0);
    assert_eq!(swept.cell(0).game.mechanism_params(bonus).0[2], 0.0);
    let again = Scenario::from_str_with(&catalog(), &swept.normalized(), "n.toml", &[]).unwrap();
    assert_eq!(again.hash(), swept.hash());
}

#[test]
fn bad_categorical_parameters_name_the_allowed_labels() {
    let e = error(&format!(
        "{HEAD}[mechanism.bonus]\nrule = \"proportionl\"\n"
    ));
    assert!(
        e.contains("t.toml:7")
            && e.contains("mechanism.bonus.rule")
            && e.contains("\"none\", \"proportional\", \"utilization\""),
        "{e}"
    );
    let e = error(&format!("{HEAD}[mechanism.bonus]\nrule = 1\n"));
    assert!(e.contains("must be one of") && e.contains("integer"), "{e}");
    let e = error(&format!(
        "{HEAD}[sweep]\nmechanism.bonus.rule = {{ from = 0, to = 2, steps = 3 }}\n"
    ));
    assert!(
        e.contains("categorical") && e.contains("\"proportional\""),
        "{e}"
    );
    let e = error(&format!(
        "{HEAD}[sweep]\nmechanism.bonus.rule = {{ values = [\"none\", \"x\"] }}\n"
    ));
    assert!(
        e.contains("\"x\" is not allowed") && e.contains("\"utilization\""),
        "{e}"
    );
}

#[test]
fn amount_strategies_are_tables_of_their_kind_written_only_when_held() {
    let plain = load(HEAD).unwrap();
    assert!(!plain.normalized().contains("[population.pledge]"));
    assert!(!plain.normalized().contains("[population.contribute]"));
    let s = load(&format!(
        "{HEAD}[population.pledge]\nstrategy = \"all\"\nshare = 0.5\n"
    ))
    .unwrap();
    let held = &s.base.population.amount[datapact_model::AmountKind::Pledge.index()];
    assert_eq!((held.strategy, held.share), (1, 0.5));
    assert!(
        s.normalized()
            .contains("[population.pledge]\nstrategy = \"all\"\nshare = 0.5")
    );
    let again = Scenario::from_str_with(&catalog(), &s.normalized(), "n.toml", &[]).unwrap();
    assert_eq!(again.base, s.base);
    let swept = load(&format!(
        "{HEAD}[population.pledge]\nshare = 1.0\n[sweep]\npopulation.pledge.strategy = {{ values = [\"half\", \"all\"] }}\n"
    ))
    .unwrap();
    assert_eq!(swept.sweep[0].column, "pledge_strategy");
    assert_eq!(swept.cell(1).game.population.amount[1].strategy, 1);
    // A strategy named without a share would be held by nobody.
    let e = error(&format!("{HEAD}[population.pledge]\nstrategy = \"all\"\n"));
    assert!(e.contains("population.pledge.share is not given"), "{e}");
    // A kind without registered strategies is refused, naming it.
    let e = Scenario::from_str_with(
        &Arc::new(Catalog::core()),
        &format!(
            "{}[population.bid]\nstrategy = \"x\"\n",
            HEAD.replace(", \"bonus\"", "")
        ),
        "t.toml",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("population.bid") && e.contains("no bid strategy is registered"),
        "{e}"
    );
}
