//! `from_str` never panics: random text, arbitrary bytes and random mutations of a valid file.
//!
//! Case counts are bounded for CI (about 2 300 inputs in all, seconds in the debug profile);
//! `DATAPACT_FUZZ_CASES=N` runs N cases of each property instead, e.g. a local run of > 10^6
//! inputs: `DATAPACT_FUZZ_CASES=250000 cargo test --release -p datapact-scenario --test scenario fuzz::`.

use datapact_scenario::Scenario;
use proptest::prelude::*;

const VALID: &str = r#"mechanisms = ["C", "S", "M"]
[scenario]
name = "fuzz"
seed = 7
replications = 3
[population]
users = 20
cost = { dist = "beta", alpha = 2.0, beta = 3.0 }
[population.report]
strategy = "shade"
share = 0.5
factor = 0.1
[game]
threshold = 0.6
value = 0.1
recovery_rounds = 2
order = "random"
[sweep]
game.value = { from = 0.0, to = 0.3, steps = 4 }
population.cost.alpha = { values = [1, 2] }
[output]
trace = "rounds"
"#;

fn check(text: &str, sets: &[String]) {
    match Scenario::from_str(text, "fuzz.toml", sets) {
        Ok(s) => {
            assert!(s.cell_count() >= 1);
            let _ = s.cell(s.cell_count() - 1);
            let _ = s.hash();
        }
        Err(e) => {
            assert!(!e.message.is_empty());
            assert!(!e.to_string().is_empty());
        }
    }
}

#[test]
fn the_valid_base_loads() {
    let s = Scenario::from_str(VALID, "fuzz.toml", &[]).unwrap();
    assert_eq!(s.cell_count(), 8);
}

const TOKENS: &[&str] = &[
    "=",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"",
    ".",
    "\n",
    "#",
    "-",
    "0",
    "1.5",
    "nan",
    "inf",
    "1e400",
    "99999999999999999999",
    "0x10",
    "true",
    "[[game]]",
    "'",
    "\"\"\"",
    "\\",
    "é",
    "\u{0}",
    "steps",
];

/// `default` cases, or `DATAPACT_FUZZ_CASES` when set.
fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("DATAPACT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    // Shrinking a failure at a million cases must not take hours; the failing input is printed.
    ProptestConfig {
        cases,
        max_shrink_iters: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases(300))]

    #[test]
    fn random_strings_never_panic(text in "\\PC{0,200}") {
        check(&text, &[]);
    }

    #[test]
    fn mutations_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..4, prop::sample::select(TOKENS)), 1..5)
    ) {
        let mut text = VALID.to_string();
        for (at, kind, tok) in edits {
            let mut pos = at.index(text.len() + 1);
            while !text.is_char_boundary(pos) { pos -= 1; }
            match kind {
                0 => text.insert_str(pos, tok),
                1 => {
                    let mut end = (pos + tok.len()).min(text.len());
                    while !text.is_char_boundary(end) { end -= 1; }
                    text.replace_range(pos..end, "");
                }
                2 => {
                    let mut end = (pos + 3).min(text.len());
                    while !text.is_char_boundary(end) { end -= 1; }
                    text.replace_range(pos..end, tok);
                }
                _ => {
                    // replace a whole value
                    if let Some(eq) = text[pos..].find('=') {
                        let start = pos + eq + 1;
                        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
                        text.replace_range(start..end, &format!(" {tok}"));
                    }
                }
            }
        }
        check(&text, &[]);
    }

    #[test]
    fn random_overrides_never_panic(
        key in prop::sample::select(&["game.value", "game", "sweep.game.value.steps", "population.cost.alpha",
            "mechanisms", "scenario.mechanisms", "sweep", "output.trace", "population.users", "a.b.c", ""][..]),
        value in prop::sample::select(TOKENS),
    ) {
        check(VALID, &[format!("{key}={value}")]);
    }
}

#[test]
fn deep_nesting_does_not_overflow() {
    for open in ["[", "{a="] {
        let text = format!("x = {}", open.repeat(100_000));
        check(&text, &[]);
        let text = format!(
            "[scenario]\nname = \"d\"\nseed = 1\nreplications = 1\n[game]\nvalue = {}1{}",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        check(&text, &[]);
    }
}

proptest! {
    #![proptest_config(cases(200))]

    /// Arbitrary bytes, read as a file is (UTF-8 checked first), never panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        match String::from_utf8(bytes) {
            Ok(text) => check(&text, &[]),
            Err(e) => check(&String::from_utf8_lossy(e.as_bytes()), &[]),
        }
    }

    /// Mutations of every value of the valid file by numbers at and beyond the range bounds:
    /// a scenario that validates has only finite, bounded numbers.
    #[test]
    fn boundary_numbers_validate_or_are_refused(
        line in 0usize..40,
        value in prop::sample::select(&["1e6", "1e6.0", "1000001", "-1e6", "1e308", "-0.0",
            "100.0", "10.0", "10.5", "1e-320", "5e-324", "1.7976931348623157e308"][..]),
    ) {
        let lines: Vec<&str> = VALID.lines().collect();
        let at = line % lines.len();
        let mut text = String::new();
        for (i, l) in lines.iter().enumerate() {
            match l.split_once(" = ") {
                Some((k, _)) if i == at => text.push_str(&format!("{k} = {value}\n")),
                _ => text.push_str(&format!("{l}\n")),
            }
        }
        if let Ok(s) = Scenario::from_str(&text, "fuzz.toml", &[]) {
            let game = &s.cell(0).game;
            for v in [game.value, game.payment, game.belief, game.obs_noise, game.drift] {
                prop_assert!(v.is_finite() && v.abs() <= datapact_scenario::MAX_MAGNITUDE, "{v}");
            }
        }
    }

    /// Raw bytes from disk: the valid file with random bytes spliced in (non-UTF-8 included) and
    /// some of its lines repeated (duplicate keys and tables). Loading never panics and an error
    /// always names the file.
    #[test]
    fn raw_bytes_and_duplicated_lines_never_panic(
        splice in proptest::collection::vec(any::<u8>(), 0..12),
        at in 0usize..400,
        repeat in 0usize..30,
    ) {
        let mut bytes = VALID.as_bytes().to_vec();
        let lines: Vec<&str> = VALID.lines().collect();
        let line = lines[repeat % lines.len()];
        bytes.extend_from_slice(format!("\n{line}\n").as_bytes());
        let at = at.min(bytes.len());
        bytes.splice(at..at, splice);
        let dir = std::env::temp_dir().join(format!("datapact-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fuzz.toml");
        std::fs::write(&path, &bytes).unwrap();
        if let Err(e) = Scenario::load(&path, &[]) {
            prop_assert!(e.to_string().contains("fuzz.toml"), "{e}");
        }
    }
}
