//! `[population.network]`: the model and its keys read into the game, sweepable numeric keys,
//! `model` as a categorical axis, the canonical text (a network left at "none" never enters
//! it), and errors naming the file, key and allowed range.

use crate::support::{self, write_parquet};

use datapact_model::Network;
use datapact_scenario::{Category, Scenario, ScenarioError};

fn ok(rest: &str) -> Scenario {
    support::ok_after_header("net", rest)
}

fn err(rest: &str) -> String {
    support::err_after_header("net", rest)
}

#[test]
fn the_issues_network_is_read_into_the_game() {
    let s = ok(r#"
[population]
users = 40
[population.network]
model = "watts-strogatz"
k = 4
rewire = 0.1
"#);
    assert_eq!(
        s.base.network,
        Some(Network::WattsStrogatz { k: 4, rewire: 0.1 })
    );
    let text = s.normalized();
    assert!(
        text.contains("[population.network]\nmodel = \"watts-strogatz\"\nk = 4\nrewire = 0.1\n"),
        "{text}"
    );
    // Only the chosen model's keys are written: equal games hash alike.
    let with_other_keys = ok(r#"
[population]
users = 40
[population.network]
model = "watts-strogatz"
k = 4
rewire = 0.1
m = 3
mean_degree = 7.0
"#);
    assert_eq!(s.hash(), with_other_keys.hash());
}

#[test]
fn no_network_and_model_none_keep_the_hash_of_a_scenario_without_the_table() {
    let plain = ok("[population]\nusers = 40\n");
    let none = ok("[population]\nusers = 40\n[population.network]\nmodel = \"none\"\nk = 6\n");
    let empty = ok("[population]\nusers = 40\n[population.network]\n");
    assert_eq!(plain.base.network, None);
    assert_eq!(none.base.network, None);
    assert_eq!(plain.hash(), none.hash());
    assert_eq!(plain.hash(), empty.hash());
    assert!(!plain.normalized().contains("network"));
}

#[test]
fn each_model_reads_its_own_keys() {
    let er = ok("[population.network]\nmodel = \"erdos-renyi\"\nmean_degree = 3.5\n");
    assert_eq!(
        er.base.network,
        Some(Network::ErdosRenyi { mean_degree: 3.5 })
    );
    let ba = ok("[population.network]\nmodel = \"barabasi-albert\"\nm = 3\n");
    assert_eq!(ba.base.network, Some(Network::BarabasiAlbert { m: 3 }));
    // Defaults: mean_degree 4, k 4, rewire 0, m 2.
    let ws = ok("[population.network]\nmodel = \"watts-strogatz\"\n");
    assert_eq!(
        ws.base.network,
        Some(Network::WattsStrogatz { k: 4, rewire: 0.0 })
    );
}

#[test]
fn numeric_keys_are_sweepable() {
    let s = ok(r#"
[population]
users = 40
[population.network]
model = "watts-strogatz"
[sweep]
population.network.k = { values = [2, 4, 8] }
population.network.rewire = { from = 0.0, to = 1.0, steps = 3 }
"#);
    assert_eq!(s.cell_count(), 9);
    assert_eq!(s.sweep[0].column, "network_k");
    assert_eq!(s.sweep[1].column, "network_rewire");
    let games: Vec<_> = (0..9).map(|i| s.cell(i).game.network.unwrap()).collect();
    assert_eq!(games[0], Network::WattsStrogatz { k: 2, rewire: 0.0 });
    assert_eq!(games[5], Network::WattsStrogatz { k: 4, rewire: 1.0 });
    assert_eq!(games[7], Network::WattsStrogatz { k: 8, rewire: 0.5 });
    assert!(
        s.normalized()
            .contains("population.network.k = { values = [2.0, 4.0, 8.0] }")
    );
}

#[test]
fn the_model_is_a_categorical_axis_whose_values_take_their_keys_from_the_table() {
    let s = ok(r#"
[population]
users = 40
[population.network]
model = "watts-strogatz"
k = 6
rewire = 0.2
mean_degree = 5.0
[sweep]
population.network.model = { values = ["none", "erdos-renyi", "watts-strogatz"] }
"#);
    assert_eq!(s.sweep[0].column, "network_model");
    assert_eq!(
        s.sweep[0].labels(),
        ["none", "erdos-renyi", "watts-strogatz"]
    );
    assert_eq!(s.base.network, None);
    assert_eq!(s.cell(0).game.network, None);
    assert_eq!(
        s.cell(1).game.network,
        Some(Network::ErdosRenyi { mean_degree: 5.0 })
    );
    assert_eq!(
        s.cell(2).game.network,
        Some(Network::WattsStrogatz { k: 6, rewire: 0.2 })
    );
    assert!(matches!(
        s.sweep[0].categories()[1],
        Category::Network(Some(_))
    ));
    let text = s.normalized();
    assert!(
        text.contains(
            "[population.network]\nmodel = \"none\"\nmean_degree = 5.0\nk = 6\nrewire = 0.2\n"
        ),
        "{text}"
    );
    // The canonical text loads back to the same scenario.
    let back = Scenario::from_str(&text, "back.toml", &[]).unwrap();
    assert_eq!(back.hash(), s.hash());
    assert_eq!(back.cell(2).game, s.cell(2).game);
}

#[test]
fn errors_name_the_file_key_and_allowed_range() {
    let e = err("[population.network]\nmodel = \"small-world\"\n");
    assert!(
        e.contains("net.toml") && e.contains("population.network.model"),
        "{e}"
    );
    assert!(e.contains("\"watts-strogatz\""), "{e}");

    let e = err("[population.network]\nmodel = \"watts-strogatz\"\nrewire = 1.5\n");
    assert!(
        e.contains("population.network.rewire") && e.contains("[0, 1]"),
        "{e}"
    );

    let e = err("[population.network]\nmodel = \"watts-strogatz\"\nk = 3\n");
    assert!(
        e.contains("population.network.k") && e.contains("even"),
        "{e}"
    );

    let e =
        err("[population]\nusers = 5\n[population.network]\nmodel = \"watts-strogatz\"\nk = 6\n");
    assert!(
        e.contains("population.network.k") && e.contains("n - 1 = 4"),
        "{e}"
    );

    let e =
        err("[population]\nusers = 3\n[population.network]\nmodel = \"barabasi-albert\"\nm = 3\n");
    assert!(
        e.contains("population.network.m") && e.contains("[1, n - 1 = 2]"),
        "{e}"
    );

    let e = err("[population.network]\nmodel = \"erdos-renyi\"\nmean_degree = -1.0\n");
    assert!(e.contains("population.network.mean_degree"), "{e}");

    let e = err("[population.network]\nmodel = \"watts-strogatz\"\nradius = 2\n");
    assert!(e.contains("unknown key `population.network.radius`"), "{e}");

    // Against the fewest users of a swept population.
    let e = err(r#"
[population.network]
model = "watts-strogatz"
k = 8
[sweep]
population.users = { values = [40, 6] }
"#);
    assert!(
        e.contains("population.network.k") && e.contains("fewest users"),
        "{e}"
    );

    // An odd swept k.
    let e = err(r#"
[population.network]
model = "watts-strogatz"
[sweep]
population.network.k = { values = [2, 3] }
"#);
    assert!(
        e.contains("sweep.population.network.k") && e.contains("even"),
        "{e}"
    );

    // A key of another model swept, and a key swept beside a swept model.
    let e = err(r#"
[population.network]
model = "watts-strogatz"
[sweep]
population.network.m = { values = [1, 2] }
"#);
    assert!(
        e.contains("no effect") && e.contains("barabasi-albert"),
        "{e}"
    );
    let e = err(r#"
[population.network]
model = "watts-strogatz"
[sweep]
population.network.model = { values = ["none", "watts-strogatz"] }
population.network.k = { values = [2, 4] }
"#);
    assert!(
        e.contains("cannot be swept while population.network.model"),
        "{e}"
    );
}

/// Writes `rest` (after the header) and `files` (name, contents) into a temp dir and loads it.
fn load_in_dir(
    rest: &str,
    files: &[(&str, &str)],
) -> (tempfile::TempDir, Result<Scenario, ScenarioError>) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let path = dir.path().join("net.toml");
    std::fs::write(&path, format!("{}{rest}", support::header("net"))).unwrap();
    let s = Scenario::load(&path, &[]);
    (dir, s)
}

const FILE_NET: &str = r#"
[population]
users = 5
[population.network]
model = "file"
path = "edges.csv"
"#;

#[test]
fn an_edge_list_file_is_read_into_the_game_and_its_digest_into_the_canonical_text() {
    let csv = "# a ring of five\nsource,target\n0,1\n1,2\n\n2,3\n3,4\n4,0\n";
    let (_dir, s) = load_in_dir(FILE_NET, &[("edges.csv", csv)]);
    let s = s.unwrap();
    let Some(Network::File {
        path,
        edges,
        sha256,
    }) = &s.base.network
    else {
        panic!("{:?}", s.base.network)
    };
    assert_eq!(path, "edges.csv");
    assert_eq!(&edges[..], &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)]);
    let hex: String = sha256.iter().map(|b| format!("{b:02x}")).collect();
    let text = s.normalized();
    assert!(
        text.contains(&format!(
            "[population.network]\nmodel = \"file\"\npath = \"edges.csv\"\nedges_sha256 = \"{hex}\"\n"
        )),
        "{text}"
    );
    // The same edges as Parquet (any integer type): the same graph.
    let g = s.base.network.as_ref().unwrap().generate(5, 1, 0);
    assert_eq!(g.mean_degree(), 2.0);
    let dir = tempfile::tempdir().unwrap();
    {
        use arrow::array::{ArrayRef, Int32Array, UInt64Array};
        use std::sync::Arc;
        write_parquet(
            &dir.path().join("edges.parquet"),
            vec![
                (
                    "i",
                    Arc::new(Int32Array::from(vec![0, 1, 2, 3, 4])) as ArrayRef,
                ),
                (
                    "j",
                    Arc::new(UInt64Array::from(vec![1, 2, 3, 4, 0])) as ArrayRef,
                ),
            ],
        );
    }
    let path = dir.path().join("net.toml");
    std::fs::write(
        &path,
        format!(
            "{}{}",
            support::header("net"),
            FILE_NET.replace("edges.csv", "edges.parquet")
        ),
    )
    .unwrap();
    let p = Scenario::load(&path, &[]).unwrap();
    let Some(Network::File { sha256: p_sha, .. }) = &p.base.network else {
        panic!()
    };
    assert_eq!(p_sha, sha256);
    assert_eq!(p.base.network.as_ref().unwrap().generate(5, 9, 3), g);
    // Other edges: another digest, so another scenario hash; the digest written back is checked.
    let (_d, other) = load_in_dir(FILE_NET, &[("edges.csv", "0,1\n1,2\n2,3\n3,4\n")]);
    assert_ne!(other.unwrap().hash(), s.hash());
    let pinned = format!("{FILE_NET}edges_sha256 = \"{hex}\"\n");
    let (_d, again) = load_in_dir(&pinned, &[("edges.csv", csv)]);
    assert_eq!(again.unwrap().hash(), s.hash());
    let (_d, changed) = load_in_dir(&pinned, &[("edges.csv", "0,1\n1,2\n")]);
    let e = changed.unwrap_err();
    assert_eq!(e.key.as_deref(), Some("population.network.edges_sha256"));
    assert!(
        e.message
            .contains("not the one the scenario was written with"),
        "{e}"
    );
}

#[test]
fn a_bad_edge_list_names_the_file_its_line_the_key_and_the_allowed_range() {
    let cases: [(&str, Option<usize>, &str); 6] = [
        ("0,1\n1,2\n2,2\n", Some(3), "self-loop"),
        ("0,1\n1,2\n2,1\n", Some(3), "repeats the edge of line 2"),
        (
            "0,1\n1,x\n",
            Some(2),
            "\"x\" is not a user index: an integer in [0, 4294967294]",
        ),
        ("0,1\n1,2,3\n", Some(2), "line has 3 values"),
        ("# nothing\n", None, "no edges"),
        // Users are 0..5: index 5 is out of range (checked against population.users).
        ("0,1\n1,5\n", None, "users are 0..5 (0 to 4)"),
    ];
    for (csv, line, what) in cases {
        let (dir, s) = load_in_dir(FILE_NET, &[("edges.csv", csv)]);
        let e = s.expect_err(csv);
        assert_eq!(e.key.as_deref(), Some("population.network.path"), "{e}");
        assert!(e.message.contains(what), "{csv:?}: {e}");
        assert_eq!(e.line, line.or(e.line), "{e}");
        if line.is_some() {
            // The error points into the edge file, at the offending line.
            assert_eq!(e.origin, dir.path().join("edges.csv").display().to_string());
        } else {
            assert!(e.to_string().contains("edges.csv"), "{e}");
        }
    }
    let (_d, s) = load_in_dir(FILE_NET, &[]);
    let e = s.unwrap_err();
    assert!(e.message.contains("cannot read it"), "{e}");
    let e = err("[population.network]\nmodel = \"file\"\n");
    assert!(e.contains("needs population.network.path"), "{e}");
    // A swept users count below the file's indices: the fewest users of a cell decide.
    let swept = format!("{FILE_NET}[sweep]\npopulation.users = {{ values = [5, 3] }}\n");
    let (_d, s) = load_in_dir(&swept, &[("edges.csv", "0,1\n1,4\n")]);
    let e = s.unwrap_err();
    assert!(e.message.contains("users are 0..3"), "{e}");
}

const DRAWN: &str = r#"
[population]
users = 40
[population.withdraw]
strategy = "threshold"
share = 1.0
threshold = { dist = "beta", alpha = 2.0, beta = 5.0 }
[population.network]
model = "watts-strogatz"
"#;

/// `[population.withdraw] threshold = { dist = ... }`: read as a cost distribution is, into the
/// game; the canonical text holds the table only when it is given (a number keeps today's text
/// and hash), and only where the `threshold` strategy is held or swept.
#[test]
fn a_drawn_threshold_is_read_as_a_distribution_and_written_only_when_given() {
    use datapact_model::CostDist;
    let s = ok(DRAWN);
    let beta = CostDist::Beta {
        alpha: 2.0,
        beta: 5.0,
    };
    assert_eq!(s.base.peer_threshold, Some(beta.clone()));
    let text = s.normalized();
    assert!(
        text.contains(
            "[population.withdraw]\nstrategy = \"threshold\"\nshare = 1.0\n\
             threshold = { dist = \"beta\", alpha = 2.0, beta = 5.0 }\n"
        ),
        "{text}"
    );
    // The canonical text loads back to the same game.
    let population = text.split_once("\n[population]").unwrap().1;
    let back = support::ok_after_header("net", &format!("[population]{population}"));
    assert_eq!(back.base.peer_threshold, Some(beta.clone()));
    // A number (the default 0.25 written or not) is as before: no distribution, its own text.
    let number = ok(&DRAWN.replace(
        "threshold = { dist = \"beta\", alpha = 2.0, beta = 5.0 }",
        "threshold = 0.25",
    ));
    let absent = ok(&DRAWN.replace(
        "threshold = { dist = \"beta\", alpha = 2.0, beta = 5.0 }\n",
        "",
    ));
    assert_eq!(number.base.peer_threshold, None);
    assert_eq!(number.hash(), absent.hash());
    assert_ne!(number.hash(), s.hash());
    assert!(number.normalized().contains("threshold = 0.25\n"));
    // Other distributions in [0, 1].
    let uniform = ok(&DRAWN.replace(
        "{ dist = \"beta\", alpha = 2.0, beta = 5.0 }",
        "{ dist = \"uniform\", low = 0.1, high = 0.4 }",
    ));
    assert_eq!(
        uniform.base.peer_threshold,
        Some(CostDist::Uniform {
            low: 0.1,
            high: 0.4
        })
    );
    // Nobody holds the threshold strategy: the distribution is dropped, the hash is sincere's.
    let sincere = ok(&DRAWN.replace("strategy = \"threshold\"", "strategy = \"sincere\""));
    let sincere_plain = ok(&absent_text(
        &DRAWN.replace("strategy = \"threshold\"", "strategy = \"sincere\""),
    ));
    assert_eq!(sincere.base.peer_threshold, None);
    assert_eq!(sincere.hash(), sincere_plain.hash());
    // A swept strategy keeps it (the cells holding `threshold` draw), and writes it.
    let swept = ok(&format!(
        "{}[sweep]\npopulation.withdraw.strategy = {{ values = [\"sincere\", \"threshold\"] }}\n",
        DRAWN
    ));
    assert_eq!(swept.base.peer_threshold, Some(beta));
    assert!(
        swept
            .normalized()
            .contains("threshold = { dist = \"beta\", alpha = 2.0, beta = 5.0 }"),
        "{}",
        swept.normalized()
    );
}

fn absent_text(text: &str) -> String {
    text.replace(
        "threshold = { dist = \"beta\", alpha = 2.0, beta = 5.0 }\n",
        "",
    )
}

#[test]
fn a_bad_drawn_threshold_names_the_file_key_and_allowed_range() {
    let key = "population.withdraw.threshold";
    let cases: [(&str, &[&str]); 8] = [
        (
            "{ dist = \"lognormal\", mu = -1.0, sigma = 0.5 }",
            &["net.toml", key, "[0, 1]"],
        ),
        (
            "{ dist = \"uniform\", low = 0.2, high = 1.5 }",
            &[key, "[0, 1]"],
        ),
        ("{ dist = \"constant\", value = 2.0 }", &[key, "[0, 1]"]),
        (
            "{ dist = \"beta\", alpha = -1.0, beta = 5.0 }",
            &["population.withdraw.threshold.alpha"],
        ),
        (
            "{ dist = \"gamma\", k = 2.0 }",
            &["population.withdraw.threshold.dist", "\"beta\""],
        ),
        (
            "{ dist = \"beta\", alpha = 2.0, beta = 5.0, mean = 0.3 }",
            &["unknown key `population.withdraw.threshold.mean`"],
        ),
        (
            "{ alpha = 2.0, beta = 5.0 }",
            &["population.withdraw.threshold.dist"],
        ),
        // A number out of range is checked as before.
        ("1.5", &[key, "[0, 1]"]),
    ];
    for (table, expected) in cases {
        let e = err(&DRAWN.replace("{ dist = \"beta\", alpha = 2.0, beta = 5.0 }", table));
        for x in expected {
            assert!(e.contains(x), "{table}: {e} lacks {x}");
        }
    }
    // Its number cannot also be swept.
    let e = err(&format!(
        "{DRAWN}[sweep]\npopulation.withdraw.threshold = {{ values = [0.2, 0.3] }}\n"
    ));
    assert!(e.contains(key) && e.contains("distribution"), "{e}");
}
