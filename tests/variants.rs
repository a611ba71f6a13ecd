//! Named variants end to end: `[mechanism.S_R1] of = "S"`, `set = { "game.recovery_rounds" = 1 }`
//! is a mechanism of its own in every table, plays campaign by campaign as S does with one
//! recovery round on the same draws, and is paired with S in `contrasts`; a variant that
//! changes V gets its own assignment.

use std::collections::HashMap;

use datapact_runner::Shard;
use datapact_tests::*;
use datapact_trace::Table;

const VARIANTS: &str = r#"
mechanisms = ["S", "M", "S_R1", "S_V"]

[scenario]
name = "variants"
seed = 7
replications = 300

[game]
threshold = 0.8
value = 0.15
payment = 0.05

[mechanism.S_R1]
of = "S"
set = { "game.recovery_rounds" = 1 }

[mechanism.S_V]
of = "S"
set = { "game.value" = 0.3 }

[output]
trace = "rounds"

[sweep]
game.drift = { values = [0.5, 1.0] }
"#;

/// Per (cell, rep) outcome columns of `mechanism` in a `rounds` table.
fn outcomes(out: &std::path::Path, mechanism: &str) -> HashMap<(u32, u32), (String, u64, u64)> {
    let rounds = read(out, Table::Rounds);
    let (cell, rep, mech) = (
        u32s(&rounds, "cell"),
        u32s(&rounds, "rep"),
        strings(&rounds, "mechanism"),
    );
    let (status, welfare, data) = (
        strings(&rounds, "status"),
        f64s(&rounds, "welfare"),
        f64s(&rounds, "data"),
    );
    (0..cell.len())
        .filter(|&i| mech[i] == mechanism)
        .map(|i| {
            (
                (cell[i], rep[i]),
                (status[i].clone(), welfare[i].to_bits(), data[i].to_bits()),
            )
        })
        .collect()
}

#[test]
fn a_variant_is_a_mechanism_of_its_own_paired_with_the_others() {
    let s = scenario(VARIANTS, &[]);
    assert_eq!(s.mechanism_names(), ["S", "M", "S_R1", "S_V"]);
    let dir = tempfile::tempdir().unwrap();
    run(&s, dir.path(), 2, Shard::WHOLE);

    // S_R1 is S with one recovery round, campaign by campaign on the same draws.
    let (head, tail) = VARIANTS.split_once("[mechanism.S_R1]").unwrap();
    let plain_text = format!("{head}{}", &tail[tail.find("[output]").unwrap()..]);
    let with_recovery = scenario(
        &plain_text,
        &["mechanisms=[\"S\"]", "game.recovery_rounds=1"],
    );
    let reference = tempfile::tempdir().unwrap();
    run(&with_recovery, reference.path(), 1, Shard::WHOLE);
    let (variant, s_r) = (
        outcomes(dir.path(), "S_R1"),
        outcomes(reference.path(), "S"),
    );
    assert_eq!(variant.len(), 600);
    assert_eq!(variant, s_r);
    // ... and recovery rounds matter here: some campaigns differ from S's.
    let plain = outcomes(dir.path(), "S");
    assert!(plain.iter().any(|(k, v)| variant[k] != *v));

    // contrasts pair every two mechanisms, variants included, on the same draws.
    let contrasts = read(dir.path(), Table::Contrasts);
    let pairs: Vec<(String, String)> = strings(&contrasts, "mechanism_a")
        .into_iter()
        .zip(strings(&contrasts, "mechanism_b"))
        .collect();
    assert!(pairs.contains(&("S_R1".into(), "S".into())), "{pairs:?}");
    assert!(pairs.contains(&("S_V".into(), "S_R1".into())), "{pairs:?}");
    // cells list the variants by name.
    let cells = strings(&read(dir.path(), Table::Cells), "mechanism");
    assert_eq!(cells.iter().filter(|m| *m == "S_V").count(), 2);

    // A variant with a higher V gets its own assignment: it is sustainable more often.
    let null = |m: &str| {
        outcomes(dir.path(), m)
            .values()
            .filter(|o| o.0 == "null")
            .count()
    };
    assert!(null("S_V") < null("S"), "{} vs {}", null("S_V"), null("S"));
}

#[test]
fn a_scenario_without_variants_hashes_as_before_and_a_variant_round_trips() {
    let plain = baseline(&[]);
    assert!(!plain.normalized().contains("of ="));
    let s = scenario(VARIANTS, &[]);
    let text = s.normalized();
    assert!(
        text.contains("[mechanism.\"S_R1\"]\nof = \"S\"\nset = { \"game.recovery_rounds\" = 1 }"),
        "{text}"
    );
    let again = scenario(&text, &[]);
    assert_eq!(again.hash(), s.hash());
    assert_eq!(again.variants, s.variants);
}

#[test]
fn variants_refuse_keys_that_change_the_draws_or_are_swept() {
    let refuse = |set: &str| {
        datapact_scenario::Scenario::from_str(
            &VARIANTS.replace("{ \"game.value\" = 0.3 }", set),
            "v.toml",
            &[],
        )
        .expect_err("refused")
        .to_string()
    };
    let e = refuse("{ \"population.users\" = 30 }");
    assert!(
        e.contains("v.toml") && e.contains("changes the draws") && e.contains("game.value"),
        "{e}"
    );
    let e = refuse("{ \"game.drift\" = 0.2 }");
    assert!(e.contains("also swept"), "{e}");
    let e = refuse("{ \"game.value\" = -1 }");
    assert!(e.contains("[0, inf)"), "{e}");
    let e = refuse("{ \"game.order\" = \"sideways\" }");
    assert!(e.contains("small-first"), "{e}");
    let e = datapact_scenario::Scenario::from_str(
        &VARIANTS.replace(
            "of = \"S\"\nset = { \"game.value\"",
            "of = \"Q\"\nset = { \"game.value\"",
        ),
        "v.toml",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("mechanism.S_V.of") && e.contains("\"M\""), "{e}");
}

/// The users table of a run on `backend`, row by row.
fn users_rows(
    s: &datapact_scenario::Scenario,
    backend: datapact_sim::Backend,
) -> Vec<Vec<(String, String)>> {
    let dir = tempfile::tempdir().unwrap();
    let opts = datapact_runner::RunOptions {
        threads: 2,
        shard: Shard::WHOLE,
        backend,
        ..datapact_runner::RunOptions::new(dir.path())
    };
    datapact_runner::run(s, &opts).expect("run succeeds");
    rows(&read(dir.path(), Table::Users), &[])
}

#[test]
fn a_variant_settles_its_users_in_its_own_game_on_both_backends() {
    let s = scenario(
        r#"
mechanisms = ["S", "S_P"]
[scenario]
name = "variant-users"
seed = 3
replications = 40
[population]
users = 10
[game]
value = 0.2
payment = 0.05
[mechanism.S_P]
of = "S"
set = { "game.payment" = 0.2 }
[output]
trace = "users"
"#,
        &[],
    );
    let ecs = users_rows(&s, datapact_sim::Backend::Ecs);
    let direct = users_rows(&s, datapact_sim::Backend::Direct);
    assert_eq!(ecs.len(), 2 * 40 * 10);
    assert_eq!(ecs, direct);
    // The variant's stayers are paid at its own payment: more than S's.
    let paid = |m: &str| -> f64 {
        ecs.iter()
            .filter(|r| r.iter().any(|(k, v)| k == "mechanism" && v == m))
            .filter_map(|r| r.iter().find(|(k, _)| k == "paid")?.1.parse::<f64>().ok())
            .sum()
    };
    assert!(paid("S_P") > paid("S"), "{} vs {}", paid("S_P"), paid("S"));
}
