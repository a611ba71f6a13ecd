//! One test per class of invalid input: each error names the key and, from files, the line.

use std::path::Path;

use datapact_scenario::{Scenario, ScenarioError};

const HEAD: &str = "[scenario]\nname = \"e\"\nseed = 1\nreplications = 2\n";

fn err(text: &str) -> ScenarioError {
    match Scenario::from_str(text, "bad.toml", &[]) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

fn err_set(text: &str, sets: &[&str]) -> ScenarioError {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    match Scenario::from_str(text, "bad.toml", &sets) {
        Ok(_) => panic!("expected an error for {sets:?}"),
        Err(e) => e,
    }
}

/// Asserts the error is at `line` of bad.toml and its rendering names `key` and `words`.
#[track_caller]
fn at(e: &ScenarioError, line: usize, key: &str, words: &[&str]) {
    let shown = e.to_string();
    assert_eq!(e.origin, "bad.toml", "{shown}");
    assert_eq!(e.line, Some(line), "{shown}");
    assert!(shown.starts_with(&format!("bad.toml:{line}: ")), "{shown}");
    assert!(shown.contains(key), "`{key}` not in: {shown}");
    for w in words {
        assert!(shown.contains(w), "`{w}` not in: {shown}");
    }
}

/// HEAD (lines 1-4) then `rest` starting at line 5.
fn with(rest: &str) -> String {
    format!("{HEAD}{rest}")
}

#[test]
fn display_format_matches_the_spec() {
    let e = err(&with("[game]\nvalue = 0.1\nthreshold = 1.5\n"));
    assert_eq!(
        e.to_string(),
        "bad.toml:7: game.threshold = 1.5 is out of range: allowed (0, 1]"
    );
    assert_eq!(e.key.as_deref(), Some("game.threshold"));
}

#[test]
fn wrong_type() {
    at(
        &err(&with("[game]\nvalue = \"high\"\n")),
        6,
        "game.value",
        &["number", "string"],
    );
    at(
        &err(&with("[game]\norder = 3\n")),
        6,
        "game.order",
        &["string", "integer"],
    );
    at(
        &err(&with("[population]\ncost = 3\n")),
        6,
        "population.cost",
        &["table"],
    );
    at(
        &err("[scenario]\nname = 5\nseed = 1\nreplications = 2\n"),
        2,
        "scenario.name",
        &["string"],
    );
}

#[test]
fn float_for_integer_key() {
    at(
        &err(&with("[population]\nusers = 20.0\n")),
        6,
        "population.users",
        &["integer", "float"],
    );
    at(
        &err("[scenario]\nname = \"e\"\nseed = 1.5\nreplications = 2\n"),
        3,
        "scenario.seed",
        &["integer"],
    );
    at(
        &err(&with("[game]\nrecovery_rounds = 1.0\n")),
        6,
        "game.recovery_rounds",
        &["integer"],
    );
}

#[test]
fn unknown_keys() {
    at(
        &err(&with("[game]\nvalue = 0.1\ntreshold = 0.5\n")),
        7,
        "game.treshold",
        &["unknown key", "allowed: threshold, value"],
    );
    at(
        &err(&with("[gmae]\nvalue = 0.1\n")),
        5,
        "gmae",
        &["unknown key", "allowed"],
    );
    at(
        &err(&with("[output]\nformat = \"csv\"\n")),
        6,
        "output.format",
        &["unknown key", "trace"],
    );
    at(
        &err(&with(
            "[population]\ncost = { dist = \"uniform\", low = 0, high = 1, alpha = 2 }\n",
        )),
        6,
        "population.cost.alpha",
        &["unknown key", "dist, low, high"],
    );
    at(
        &err("[scenario]\nname = \"e\"\nseed = 1\nreplications = 2\nseeds = 3\n"),
        5,
        "scenario.seeds",
        &["unknown key"],
    );
    at(
        &err(&with(
            "[population.report]\nstrategy = \"shade\"\nshares = 0.5\n",
        )),
        7,
        "population.report.shares",
        &["unknown key"],
    );
}

#[test]
fn toml_syntax_error_has_line() {
    let e = err(&with("[game]\nvalue = 0.1\nthreshold = = 0.5\n"));
    assert_eq!(e.line, Some(7), "{e}");
    assert!(e.to_string().contains("TOML"), "{e}");
    let e = err(&with("[game]\nvalue = 0.1\nvalue = 0.2\n"));
    assert_eq!(e.line, Some(7), "{e}");
    assert!(e.to_string().contains("duplicate key"), "{e}");
    assert!(e.to_string().contains("`value`"), "{e}");
}

#[test]
fn missing_required_keys() {
    let e = err("[scenario]\nname = \"e\"\nreplications = 2\n");
    assert_eq!(e.line, Some(1), "{e}");
    assert!(e.to_string().contains("scenario.seed"), "{e}");
    assert!(e.to_string().contains("missing"), "{e}");
    let e = err("[game]\nvalue = 0.1\n");
    assert!(e.to_string().contains("[scenario]"), "{e}");
    assert!(e.to_string().contains("missing"), "{e}");
    at(
        &err(&with(
            "[population]\ncost = { dist = \"beta\", alpha = 2 }\n",
        )),
        6,
        "population.cost.beta",
        &["missing"],
    );
    at(
        &err(&with("[population]\ncost = { low = 0, high = 2 }\n")),
        6,
        "population.cost.dist",
        &["missing"],
    );
    at(
        &err(&with("[sweep]\ngame.value = { from = 0, steps = 3 }\n")),
        6,
        "sweep.game.value.to",
        &["missing"],
    );
}

#[test]
fn out_of_range_values() {
    at(
        &err(&with("[game]\nthreshold = 0\n")),
        6,
        "game.threshold",
        &["out of range", "(0, 1]"],
    );
    at(
        &err(&with("[game]\nthreshold = 1.0001\n")),
        6,
        "game.threshold",
        &["(0, 1]"],
    );
    at(
        &err(&with("[game]\nvalue = -0.1\n")),
        6,
        "game.value",
        &["out of range"],
    );
    at(
        &err(&with("[game]\npayment = -1\n")),
        6,
        "game.payment",
        &["out of range"],
    );
    at(
        &err(&with("[game]\nobs_noise = -0.5\n")),
        6,
        "game.obs_noise",
        &["out of range"],
    );
    at(
        &err(&with("[game]\nirreversible = 1.5\n")),
        6,
        "game.irreversible",
        &["[0, 1]"],
    );
    at(
        &err(&with("[game]\nrecovery_rounds = 1001\n")),
        6,
        "game.recovery_rounds",
        &["out of range"],
    );
    at(
        &err(&with(
            "[population.report]\nstrategy = \"shade\"\nfactor = -1\n",
        )),
        7,
        "population.report.factor",
        &["(-1, inf)"],
    );
    at(
        &err(&with("[population.report]\nshare = 1.2\n")),
        6,
        "population.report.share",
        &["[0, 1]"],
    );
    at(
        &err("[scenario]\nname = \"e\"\nseed = -1\nreplications = 2\n"),
        3,
        "scenario.seed",
        &["out of range"],
    );
    at(
        &err("[scenario]\nname = \"e\"\nseed = 1\nreplications = 0\n"),
        4,
        "scenario.replications",
        &["out of range"],
    );
}

#[test]
fn users_zero() {
    at(
        &err(&with("[population]\nusers = 0\n")),
        6,
        "population.users",
        &["out of range", "integers in [1, "],
    );
}

#[test]
fn nan_and_inf_are_rejected() {
    at(
        &err(&with("[game]\nvalue = nan\n")),
        6,
        "game.value",
        &["not finite"],
    );
    at(
        &err(&with("[game]\ndrift = inf\n")),
        6,
        "game.drift",
        &["not finite"],
    );
    at(
        &err(&with("[game]\nbelief = -inf\n")),
        6,
        "game.belief",
        &["not finite"],
    );
    at(
        &err(&with(
            "[population]\ncost = { dist = \"lognormal\", mu = nan, sigma = 1 }\n",
        )),
        6,
        "population.cost.mu",
        &["not finite"],
    );
    at(
        &err(&with("[sweep]\ngame.value = { values = [0.1, inf] }\n")),
        6,
        "game.value",
        &["not finite"],
    );
    at(
        &err(&with(
            "[sweep]\ngame.value = { from = 0, to = nan, steps = 2 }\n",
        )),
        6,
        "sweep.game.value.to",
        &["not finite"],
    );
}

#[test]
fn bad_cost_distributions() {
    at(
        &err(&with(
            "[population]\ncost = { dist = \"gamma\", shape = 2 }\n",
        )),
        6,
        "population.cost.dist",
        &["\"gamma\"", "uniform"],
    );
    at(
        &err(&with(
            "[population]\ncost = { dist = \"beta\", alpha = 0, beta = 1 }\n",
        )),
        6,
        "population.cost.alpha",
        &["out of range", "(0, inf)"],
    );
    at(
        &err(&with(
            "[population]\ncost = { dist = \"beta\", alpha = 1, beta = -2 }\n",
        )),
        6,
        "population.cost.beta",
        &["out of range"],
    );
    at(
        &err(&with(
            "[population]\ncost = { dist = \"lognormal\", mu = 0, sigma = -1 }\n",
        )),
        6,
        "population.cost.sigma",
        &["out of range"],
    );
    at(
        &err(&with(
            "[population]\ncost = { dist = \"constant\", value = -1 }\n",
        )),
        6,
        "population.cost.value",
        &["out of range"],
    );
    at(
        &err(&with(
            "[population]\ncost = { dist = \"uniform\", low = -1, high = 1 }\n",
        )),
        6,
        "population.cost.low",
        &["out of range"],
    );
    at(
        &err(&with(
            "[population]\ncost = { dist = \"uniform\", low = 0.5, high = 0.2 }\n",
        )),
        6,
        "population.cost.high",
        &[">= population.cost.low"],
    );
}

#[test]
fn bad_choices() {
    at(
        &err(&with("[game]\norder = \"smallest-first\"\n")),
        6,
        "game.order",
        &["small-first", "cost-ascending"],
    );
    at(
        &err(&with("[output]\ntrace = \"all\"\n")),
        6,
        "output.trace",
        &["cells", "events"],
    );
    at(
        &err(&with("[population.report]\nstrategy = \"lie\"\n")),
        6,
        "population.report.strategy",
        &["truthful", "shade"],
    );
    at(
        &err(&with("[population.withdraw]\nstrategy = \"strategic\"\n")),
        6,
        "population.withdraw.strategy",
        &["sincere"],
    );
}

#[test]
fn mechanisms_errors() {
    at(
        &err(&format!("mechanisms = [\"C\", \"S\", \"C\"]\n{HEAD}")),
        1,
        "mechanisms",
        &["duplicate", "\"C\""],
    );
    at(
        &err(&format!("mechanisms = []\n{HEAD}")),
        1,
        "mechanisms",
        &["empty"],
    );
    at(
        &err(&format!("mechanisms = [\"X\"]\n{HEAD}")),
        1,
        "mechanisms",
        &["\"X\""],
    );
    at(
        &err(&format!("mechanisms = \"C\"\n{HEAD}")),
        1,
        "mechanisms",
        &["array"],
    );
    at(
        &err(&format!(
            "mechanisms = [\"C\"]\n{HEAD}mechanisms = [\"S\"]\n"
        )),
        6,
        "scenario.mechanisms",
        &["both"],
    );
}

#[test]
fn empty_name() {
    at(
        &err("[scenario]\nname = \"\"\nseed = 1\nreplications = 2\n"),
        2,
        "scenario.name",
        &["non-empty"],
    );
}

#[test]
fn sweep_errors() {
    at(
        &err(&with(
            "[sweep]\ngame.value = { from = 0, to = 1, steps = 0 }\n",
        )),
        6,
        "sweep.game.value.steps",
        &["out of range"],
    );
    at(
        &err(&with(
            "[sweep]\ngame.value = { from = 0, to = 1, steps = 2.0 }\n",
        )),
        6,
        "sweep.game.value.steps",
        &["integer"],
    );
    at(
        &err(&with("[sweep]\ngame.value = { values = [] }\n")),
        6,
        "sweep.game.value.values",
        &["empty"],
    );
    at(
        &err(&with("[sweep]\ngame.treshold = { values = [0.5] }\n")),
        6,
        "game.treshold",
        &[
            "unknown sweep key",
            "allowed",
            "game.threshold",
            "population.cost.low",
            "population.report.factor",
        ],
    );
    at(
        &err(&with("[sweep]\npopulation.cost.alpha = { values = [1] }\n")),
        6,
        "population.cost.alpha",
        &["unknown sweep key", "uniform"],
    );
    at(
        &err(&with("[sweep]\ngame.order = { values = [1] }\n")),
        6,
        "sweep.game.order.values",
        &["must be a string, found integer", "\"small-first\""],
    );
    at(
        &err(&with("[sweep]\ngame.value = 0.2\n")),
        6,
        "sweep.game.value",
        &["must be a table"],
    );
    at(
        &err(&with(
            "[sweep]\ngame.value = { from = 0, to = 1, steps = 2, values = [1] }\n",
        )),
        6,
        "sweep.game.value",
        &["not both"],
    );
    at(
        &err(&with("[sweep]\ngame.value = { start = 0 }\n")),
        6,
        "sweep.game.value.start",
        &["unknown key"],
    );
    // swept values are range-checked like the key itself
    at(
        &err(&with(
            "[sweep]\ngame.threshold = { from = 0.5, to = 1.5, steps = 3 }\n",
        )),
        6,
        "game.threshold",
        &["out of range", "(0, 1]"],
    );
    at(
        &err(&with(
            "[sweep]\ngame.threshold = { values = [0.5,\n 0.0] }\n",
        )),
        7,
        "game.threshold",
        &["out of range"],
    );
    at(
        &err(&with(
            "[sweep]\npopulation.users = { values = [10, 15.5] }\n",
        )),
        6,
        "population.users",
        &["out of range", "integers"],
    );
    at(
        &err(&with(
            "[sweep]\npopulation.users = { from = 10, to = 21, steps = 3 }\n",
        )),
        6,
        "population.users",
        &["out of range"],
    );
    at(
        &err(&with("[sweep]\npopulation.users = { values = [0] }\n")),
        6,
        "population.users",
        &["out of range"],
    );
    at(
        &err(&with(
            "[sweep]\npopulation.cost.low = { values = [0.5, 2] }\n",
        )),
        6,
        "population.cost.high",
        &["low"],
    );
    at(
        &err(&with(
            "[sweep]\npopulation.report.share = { values = [0.5] }\n",
        )),
        6,
        "population.report.share",
        &["shade"],
    );
}

#[test]
fn size_guard() {
    let e = err(&with(
        "[population]\nusers = 100000\n[sweep]\ngame.value = { from = 0, to = 1, steps = 1000 }\ngame.payment = { from = 0, to = 1, steps = 1000 }\n",
    ));
    let s = e.to_string();
    // 10^6 cells * 2 reps * 3 mechanisms * 10^5 users
    assert!(s.contains("600000000000 "), "{s}");
    assert!(s.contains("too large"), "{s}");
    let e = err(&with(
        "[sweep]\ngame.value = { from = 0, to = 1, steps = 1000000000 }\n",
    ));
    assert!(e.to_string().contains("sweep.game.value.steps"), "{e}");
}

/// A repeated game plays each user-campaign once per round: the guard counts the rounds.
#[test]
fn size_guard_counts_the_rounds_of_a_repeated_game() {
    // 1 000 cells x 2 replications x 3 mechanisms x 10^6 users = 6·10^9: allowed in one round,
    // not in 100 000 (6·10^14).
    let grid =
        "[population]\nusers = 1000000\n[sweep]\ngame.value = { from = 0, to = 1, steps = 1000 }\n";
    Scenario::from_str(&with(grid), "ok.toml", &[]).unwrap();
    let e = err(&with(&format!("{grid}[dynamics]\nrounds = 100000\n"))).to_string();
    assert!(
        e.contains("too large") && e.contains("x 100000 rounds") && e.contains("600000000000000 "),
        "{e}"
    );
}

#[test]
fn override_errors_name_set() {
    let e = err_set(HEAD, &["game.threshold=1.5"]);
    assert_eq!(e.origin, "--set game.threshold");
    assert_eq!(e.line, None);
    assert!(e.to_string().starts_with("--set game.threshold: "), "{e}");
    assert!(e.to_string().contains("out of range"), "{e}");

    let e = err_set(HEAD, &["game.treshold=0.5"]);
    assert!(e.to_string().starts_with("--set game.treshold: "), "{e}");
    assert!(e.to_string().contains("unknown key `game.treshold`"), "{e}");

    let e = err_set(HEAD, &["population.users=2.5"]);
    assert!(e.to_string().starts_with("--set population.users"), "{e}");

    let e = err_set(HEAD, &["game.value"]);
    assert!(e.to_string().starts_with("--set game.value"), "{e}");
    assert!(e.to_string().contains("key=value"), "{e}");

    let e = err_set(HEAD, &["scenario.name.x=3"]);
    assert!(e.to_string().starts_with("--set scenario.name.x"), "{e}");
    assert!(e.to_string().contains("not a table"), "{e}");

    let e = err_set(HEAD, &["game..value=3"]);
    assert!(e.to_string().starts_with("--set game..value"), "{e}");

    let swept = with("[sweep]\ngame.value = { from = 0, to = 0.3, steps = 4 }\n");
    let e = err_set(&swept, &["game.value=0.2"]);
    assert_eq!(e.origin, "--set game.value");
    assert!(
        e.to_string()
            .contains("game.value is swept; override sweep.game.value instead"),
        "{e}"
    );
}

#[test]
fn unreadable_and_non_utf8_files() {
    let e = Scenario::load(Path::new("/nonexistent/dir/x.toml"), &[]).unwrap_err();
    assert_eq!(e.origin, "/nonexistent/dir/x.toml");
    assert!(e.to_string().contains("cannot read"), "{e}");

    let dir = std::env::temp_dir().join(format!("datapact-scenario-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("latin1.toml");
    let mut bytes = HEAD.as_bytes().to_vec();
    bytes.extend_from_slice(b"[game]\n# caf\xe9\n");
    std::fs::write(&path, &bytes).unwrap();
    let e = Scenario::load(&path, &[]).unwrap_err();
    assert_eq!(e.line, Some(6), "{e}");
    assert!(e.to_string().contains("UTF-8"), "{e}");
    // a directory is not readable as a file either
    let e = Scenario::load(&dir, &[]).unwrap_err();
    assert!(e.to_string().contains("cannot read"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn contrasts_must_name_two_mechanisms_of_the_run() {
    let text = format!("mechanisms = [\"S\", \"M\"]\n{HEAD}");
    for (value, words) in [
        ("[\"M-C\"]", &["\"M-C\"", "S, M"][..]),
        ("[\"M-M\"]", &["two different mechanisms"][..]),
        ("[\"M-S\", \"M-S\"]", &["duplicate pair"][..]),
        ("[]", &["must not be empty"][..]),
        ("\"M-S\"", &["array"][..]),
    ] {
        let e = err_set(&text, &[&format!("output.contrasts={value}")]);
        let shown = e.to_string();
        assert!(shown.contains("output.contrasts"), "{shown}");
        for w in words {
            assert!(shown.contains(w), "`{w}` not in: {shown}");
        }
    }
    let ok = Scenario::from_str(&text, "ok.toml", &["output.contrasts=[\"S-M\"]".into()]).unwrap();
    let pairs: Vec<String> = ok.contrast_pairs().iter().map(|p| p.label()).collect();
    assert_eq!(pairs, ["S-M"]);
    assert!(ok.normalized().contains("contrasts = [\"S-M\"]"));
    let default = Scenario::from_str(&text, "ok.toml", &[]).unwrap();
    let pairs: Vec<String> = default.contrast_pairs().iter().map(|p| p.label()).collect();
    assert_eq!(pairs, ["M-S"]);
    assert!(
        !default.normalized().contains("contrasts"),
        "the default keeps earlier hashes"
    );
}

#[test]
fn a_report_strategy_without_a_share_is_named() {
    // The default report share is 0: naming "shade" without a share would silently do nothing.
    at(
        &err(&with(
            "[population.report]\nstrategy = \"shade\"\nfactor = 0.2\n",
        )),
        6,
        "population.report.strategy",
        &[
            "\"shade\"",
            "population.report.share is not given",
            "share = 1.0",
        ],
    );
    // Written share 0 (unheld on purpose), a share, or a swept share are fine.
    for rest in [
        "[population.report]\nstrategy = \"shade\"\nshare = 0.0\n",
        "[population.report]\nstrategy = \"shade\"\nshare = 0.5\n",
        "[population.report]\nstrategy = \"shade\"\n[sweep]\npopulation.report.share = { values = [0.0, 0.5] }\n",
    ] {
        Scenario::from_str(&with(rest), "ok.toml", &[]).unwrap_or_else(|e| panic!("{rest}: {e}"));
    }
}
