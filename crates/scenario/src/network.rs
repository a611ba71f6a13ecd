//! `[population.network]`: the network among a campaign's users (issue 28).
//!
//! ```toml
//! [population.network]
//! model = "watts-strogatz"   # "none" (default) | "erdos-renyi" | "watts-strogatz" | "barabasi-albert" | "file"
//! mean_degree = 4.0          # erdos-renyi: expected degree, in [0, n - 1]
//! k = 4                      # watts-strogatz: lattice degree, even, in [0, n - 1]
//! rewire = 0.1               # watts-strogatz: rewiring probability, in [0, 1]
//! m = 2                      # barabasi-albert: ties per new user, in [1, n - 1] (mean degree → 2m)
//! path = "edges.csv"         # file: an edge list (CSV, or Parquet if the name ends in .parquet)
//! ```
//!
//! The keys of every model are accepted (so `model` may be swept, each value taking its own keys
//! from the table); only the chosen model's are used and written in the canonical text. The
//! numeric keys are sweepable (`population.network.k`, …), `population.network.model` is a
//! categorical axis. A scenario without the table, or with `model = "none"`, holds no network:
//! its canonical text (and hash) is that of a scenario written before networks existed.

use std::fmt::Write;

use datapact_model::{Game, Network, Rule};

use crate::read::{Cx, Res, Tbl};
use crate::toml_text::{float, string};
use crate::tree::{self, Entries, Loc};
use crate::{Category, Scenario, SweepAxis, Target};

/// The models of `population.network.model`, "none" first (the default).
pub(crate) const MODELS: [&str; 5] = [
    "none",
    "erdos-renyi",
    "watts-strogatz",
    "barabasi-albert",
    "file",
];

/// The most users a network indexes (`u32` user ids); also bounds `k` and `m`.
const MAX_INDEX: i64 = u32::MAX as i64;

/// The numeric keys of `[population.network]`: name, rule, default, and the model they belong to.
pub(crate) const KEYS: [(&str, Rule, f64, &str); 4] = [
    ("mean_degree", Rule::NonNeg, 4.0, "erdos-renyi"),
    (
        "k",
        Rule::Int {
            min: 0,
            max: MAX_INDEX,
        },
        4.0,
        "watts-strogatz",
    ),
    ("rewire", Rule::Unit, 0.0, "watts-strogatz"),
    (
        "m",
        Rule::Int {
            min: 1,
            max: MAX_INDEX,
        },
        2.0,
        "barabasi-albert",
    ),
];

/// What `[population.network]` wrote: each numeric key's value (its default where absent), in
/// [`KEYS`] order, whichever model is chosen (a swept `model` takes its keys from here), and the
/// edge list of `path` if given.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NetworkRead(pub [f64; 4], pub Option<Network>);

impl Default for NetworkRead {
    fn default() -> Self {
        NetworkRead(KEYS.map(|(_, _, d, _)| d), None)
    }
}

impl NetworkRead {
    fn get(&self, key: &str) -> f64 {
        let i = KEYS.iter().position(|(k, ..)| *k == key).expect("a key");
        self.0[i]
    }
}

/// The network named `model` with the parameters `read` gives it (`None` for "none").
pub(crate) fn model(name: &str, read: &NetworkRead) -> Option<Network> {
    Some(match name {
        "erdos-renyi" => Network::ErdosRenyi {
            mean_degree: read.get("mean_degree"),
        },
        "watts-strogatz" => Network::WattsStrogatz {
            k: read.get("k") as usize,
            rewire: read.get("rewire"),
        },
        "barabasi-albert" => Network::BarabasiAlbert {
            m: read.get("m") as usize,
        },
        "file" => return read.1.clone(),
        _ => return None,
    })
}

/// The name of a game's network model ("none" without one).
pub(crate) fn name(network: &Option<Network>) -> &'static str {
    network.as_ref().map_or("none", Network::name)
}

/// The parameters of a network as (key, value), in [`KEYS`] order.
pub(crate) fn params(network: &Network) -> Vec<(&'static str, f64)> {
    KEYS.iter()
        .filter(|(_, _, _, m)| *m == network.name())
        .map(|(k, ..)| (*k, param(network, k)))
        .collect()
}

fn param(network: &Network, key: &str) -> f64 {
    match (network, key) {
        (Network::ErdosRenyi { mean_degree }, "mean_degree") => *mean_degree,
        (Network::WattsStrogatz { k, .. }, "k") => *k as f64,
        (Network::WattsStrogatz { rewire, .. }, "rewire") => *rewire,
        (Network::BarabasiAlbert { m }, "m") => *m as f64,
        (n, k) => unreachable!("{k} is not a parameter of {n:?}"),
    }
}

/// Sets parameter `key` of the game's network to `v` (a swept `population.network.KEY`; the
/// loader refuses the key unless the network has it).
pub(crate) fn set(network: &mut Option<Network>, key: &str, v: f64) {
    match (network, key) {
        (Some(Network::ErdosRenyi { mean_degree }), "mean_degree") => *mean_degree = v,
        (Some(Network::WattsStrogatz { k, .. }), "k") => *k = v as usize,
        (Some(Network::WattsStrogatz { rewire, .. }), "rewire") => *rewire = v,
        (Some(Network::BarabasiAlbert { m }), "m") => *m = v as usize,
        (n, k) => unreachable!("{k} is not a parameter of {n:?}"),
    }
}

/// `[population.network]`: the model and its keys (range-checked; the checks that depend on n
/// come after the sweep, [`check`]).
pub(crate) fn read(cx: &Cx, t: &Tbl, game: &mut Game) -> Res<NetworkRead> {
    let mut allowed = vec!["model", "path", "edges_sha256"];
    allowed.extend(KEYS.iter().map(|(k, ..)| *k));
    t.check_keys(cx, &allowed)?;
    let chosen = t.choice(cx, "model", &MODELS, MODELS[0])?;
    let mut read = NetworkRead::default();
    if let Some(n) = t.get("path") {
        read.1 = Some(crate::edges_file::read(cx, n, t.get("edges_sha256"))?);
    } else if chosen == "file" {
        return Err(cx.err(
            &t.loc,
            "population.network.path",
            "population.network.model = \"file\" needs population.network.path: an edge list \
             (CSV: two user indices per line, 0-based; or Parquet: two integer columns)",
        ));
    } else if let Some(n) = t.get("edges_sha256") {
        return Err(cx.err(
            &n.loc,
            "population.network.edges_sha256",
            "population.network.edges_sha256 checks the edges of population.network.path, \
             which is not given",
        ));
    }
    for (i, (k, rule, default, _)) in KEYS.iter().enumerate() {
        read.0[i] = if rule.is_int() {
            t.int(cx, k, *rule, *default as i64)? as f64
        } else {
            t.num(cx, k, *rule, *default)?
        };
    }
    game.network = model(&chosen, &read);
    Ok(read)
}

/// The canonical text of the network: nothing without one (so scenarios without a network keep
/// their hash); else the model and its keys, and with `model` swept the keys of every swept
/// model (the base game then holds no network: the sweep sets each cell's).
pub(crate) fn normalized(o: &mut String, s: &Scenario) {
    let swept: Vec<&Network> = s
        .sweep
        .iter()
        .flat_map(SweepAxis::categories)
        .filter_map(|c| match c {
            Category::Network(Some(n)) => Some(n),
            _ => None,
        })
        .collect();
    let model_swept = s.sweep.iter().any(|a| a.key == "population.network.model");
    if s.base.network.is_none() && !model_swept {
        return;
    }
    let _ = writeln!(o, "\n[population.network]");
    let _ = writeln!(o, "model = {}", string(name(&s.base.network)));
    if let Some(Network::File { path, sha256, .. }) = s
        .base
        .network
        .iter()
        .chain(swept.iter().copied())
        .find(|n| matches!(n, Network::File { .. }))
    {
        let _ = writeln!(o, "path = {}", string(path));
        let hex: String = sha256.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(o, "edges_sha256 = {}", string(&hex));
    }
    let mut written: Vec<&str> = Vec::new();
    for n in s.base.network.iter().chain(swept) {
        for (k, v) in params(n) {
            if written.contains(&k) {
                continue;
            }
            written.push(k);
            let rule = KEYS.iter().find(|(key, ..)| *key == k).expect("a key").1;
            let text = if rule.is_int() {
                format!("{}", v as i64)
            } else {
                float(v)
            };
            let _ = writeln!(o, "{k} = {text}");
        }
    }
}

/// Whether some cell of `s` has a network: the base game's, or a swept model's.
pub(crate) fn any(s: &Scenario) -> bool {
    s.base.network.is_some()
        || s.sweep
            .iter()
            .flat_map(SweepAxis::categories)
            .any(|c| matches!(c, Category::Network(Some(_))))
}

/// The largest mean degree any cell's network has (`None` without a network): the base
/// network's and each swept model's, with a swept `k`, `mean_degree` or `m` at its largest value
/// (Watts–Strogatz k, Erdős–Rényi z, Barabási–Albert 2m, a file 2·edges/n at the fewest users).
pub(crate) fn max_mean_degree(s: &Scenario) -> Option<f64> {
    let swept_max = |key: &str| {
        s.sweep
            .iter()
            .find(|a| a.key == format!("population.network.{key}"))
            .map(|a| a.values.iter().copied().fold(f64::MIN, f64::max))
    };
    let fewest = match s.sweep.iter().find(|a| a.key == "population.users") {
        Some(a) => a.values.iter().copied().fold(f64::MAX, f64::min),
        None => s.base.users as f64,
    };
    s.base
        .network
        .iter()
        .chain(
            s.sweep
                .iter()
                .flat_map(SweepAxis::categories)
                .filter_map(|c| match c {
                    Category::Network(n) => n.as_ref(),
                    _ => None,
                }),
        )
        .map(|n| match n {
            Network::ErdosRenyi { mean_degree } => swept_max("mean_degree").unwrap_or(*mean_degree),
            Network::WattsStrogatz { k, .. } => swept_max("k").unwrap_or(*k as f64),
            Network::BarabasiAlbert { m } => 2.0 * swept_max("m").unwrap_or(*m as f64),
            Network::File { edges, .. } => 2.0 * edges.len() as f64 / fewest.max(1.0),
        })
        .reduce(f64::max)
}

/// A swept `population.network.model`: the base game holds no network (each cell's is the
/// sweep's), and a numeric network key cannot be swept beside it (each model takes its keys
/// from the table).
pub(crate) fn model_axis(
    cx: &Cx,
    sweep: &[SweepAxis],
    axis_locs: &[Loc],
    game: &mut Game,
) -> Res<()> {
    if !sweep.iter().any(|a| a.key == "population.network.model") {
        return Ok(());
    }
    game.network = None;
    if let Some(i) = sweep
        .iter()
        .position(|a| matches!(a.target, Target::Network(_)))
    {
        let key = &sweep[i].key;
        return Err(cx.err(
            &axis_locs[i],
            key,
            format!(
                "{key} cannot be swept while population.network.model is swept: each model \
                 takes its keys from [population.network]; to sweep {key}, fix \
                 population.network.model instead"
            ),
        ));
    }
    Ok(())
}

/// The checks that depend on n: in every cell, the network's parameters fit its users
/// (`k` even and at most n − 1, `mean_degree` at most n − 1, `m` at most n − 1), against the
/// fewest users any cell has.
pub(crate) fn check(
    cx: &Cx,
    root: &Entries,
    game: &Game,
    sweep: &[SweepAxis],
    axis_locs: &[Loc],
) -> Res<()> {
    let (users, users_where) = match sweep.iter().find(|a| a.key == "population.users") {
        Some(a) => (
            a.values.iter().copied().fold(f64::MAX, f64::min) as usize,
            "the fewest users of a cell (swept population.users)".to_string(),
        ),
        None => (game.users, format!("population.users = {}", game.users)),
    };
    // Every network a cell can hold, with where each value comes from.
    let mut networks: Vec<Network> = game.network.iter().cloned().collect();
    networks.extend(
        sweep
            .iter()
            .flat_map(SweepAxis::categories)
            .filter_map(|c| match c {
                Category::Network(n) => n.clone(),
                _ => None,
            }),
    );
    for net in &networks {
        // An edge list: every index below the fewest users of a cell.
        if let Network::File { path, .. } = net
            && let Err(e) = net.validate(users)
        {
            let loc = tree::get_path(root, &["population", "network", "path"])
                .map_or(Loc::File(None), |n| n.loc.clone());
            return Err(cx.err(
                &loc,
                "population.network.path",
                format!(
                    "population.network.path {path}: {e} (edges in file order, from 0; \
                     {users_where})"
                ),
            ));
        }
        for (k, v) in params(net) {
            let key = format!("population.network.{k}");
            let (values, loc, what) = match sweep.iter().position(|a| a.key == key) {
                Some(i) => (
                    sweep[i].values.clone(),
                    axis_locs[i].clone(),
                    format!("sweep.{key}"),
                ),
                None => (
                    vec![v],
                    tree::get_path(root, &["population", "network", k])
                        .map_or(Loc::File(None), |n| n.loc.clone()),
                    key.clone(),
                ),
            };
            for v in values {
                let mut some = Some(net.clone());
                set(&mut some, k, v);
                let one = some.expect("set keeps the network");
                if let Err(e) = one.validate(users) {
                    return Err(cx.err(
                        &loc,
                        &what,
                        format!(
                            "{what} = {}: {} network: {e} ({users_where})",
                            crate::read::fmt_num(v),
                            one.name()
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}
