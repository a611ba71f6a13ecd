//! The `users` table (`trace = "users"`, and under `"events"`): one row per user per campaign,
//! checked against the `rounds` table campaign by campaign (its sums are the campaign's data,
//! subsidy, privacy cost and welfare), against the `events` table (decisions and their times),
//! and as the input of a hand pairing of M − S that reproduces the `contrasts` table.

use std::collections::HashMap;

use datapact_runner::Shard;
use datapact_tests::*;
use datapact_trace::Table;
use datapact_trace::arrow::array::{Array, AsArray, RecordBatch};
use datapact_trace::arrow::datatypes::Float64Type;

/// C, S, M and async on 12 users, two rounds with AR(1) costs and learning, drift, observation
/// noise, ρ > 0 (withdrawers bear a share) and an S recovery round: every settlement case occurs.
const SCENARIO: &str = r#"
mechanisms = ["C", "S", "M", "async"]
[scenario]
name = "users_table"
seed = 11
replications = 60
[population]
users = 12
[game]
threshold = 0.7
payment = 0.05
drift = 0.8
obs_noise = 0.3
irreversible = 0.3
recovery_rounds = 1
[dynamics]
rounds = 2
cost_process = "ar1"
learning = "adaptive"
[mechanism.async]
regret_rate = 2.0
[sweep]
game.value = { values = [0.05, 0.12] }
[output]
trace = "users"
"#;

fn users_run(trace: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(SCENARIO, &[&format!("output.trace={trace}")]);
    run(&s, dir.path(), 2, Shard::WHOLE);
    dir
}

/// A nullable Float64 column.
fn opt_f64s(batches: &[RecordBatch], column: &str) -> Vec<Option<f64>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b
                .column_by_name(column)
                .unwrap()
                .as_primitive::<Float64Type>();
            (0..a.len())
                .map(|i| (!a.is_null(i)).then(|| a.value(i)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A nullable Utf8 column.
fn opt_strings(batches: &[RecordBatch], column: &str) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(column).unwrap().as_string::<i32>();
            (0..a.len())
                .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A campaign: (cell, rep, round, mechanism).
type Key = (u32, u32, u32, String);

fn keys(batches: &[RecordBatch]) -> Vec<Key> {
    let (cell, rep, round, mech) = (
        u32s(batches, "cell"),
        u32s(batches, "rep"),
        u32s(batches, "round"),
        strings(batches, "mechanism"),
    );
    (0..cell.len())
        .map(|i| (cell[i], rep[i], round[i], mech[i].clone()))
        .collect()
}

/// Per campaign, the users' sums: (Σ final burden, Σ payment, Σ privacy cost, Σ utility,
/// withdrawals, users).
#[derive(Default, Debug)]
struct Sums {
    data: f64,
    paid: f64,
    borne: f64,
    utility: f64,
    withdrawals: u32,
    users: u32,
}

fn sums(users: &[RecordBatch]) -> HashMap<Key, Sums> {
    let k = keys(users);
    let user = u32s(users, "user");
    let (fin, paid, borne) = (
        opt_f64s(users, "final_burden"),
        opt_f64s(users, "paid"),
        opt_f64s(users, "privacy_cost"),
    );
    let utility = f64s(users, "utility");
    let decision = opt_strings(users, "decision");
    let mut out: HashMap<Key, Sums> = HashMap::new();
    for i in 0..k.len() {
        let s = out.entry(k[i].clone()).or_default();
        assert_eq!(user[i], s.users, "users of {:?} in index order", k[i]);
        // Every core mechanism defines the settlement terms.
        s.data += fin[i].expect("final_burden of a core mechanism");
        s.paid += paid[i].expect("payment of a core mechanism");
        s.borne += borne[i].expect("privacy_cost of a core mechanism");
        s.utility += utility[i];
        s.withdrawals += (decision[i].as_deref() == Some("withdraw")) as u32;
        s.users += 1;
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn users_add_up_to_their_campaign_in_rounds() {
    let dir = users_run("users");
    let out = dir.path();
    assert!(
        !out.join("events").exists(),
        "trace = users writes no events"
    );
    let users = read(out, Table::Users);
    let by = sums(&users);
    let rounds = read(out, Table::Rounds);
    let k = keys(&rounds);
    let (status, welfare, privacy, subsidy, data) = (
        strings(&rounds, "status"),
        f64s(&rounds, "welfare"),
        f64s(&rounds, "privacy_cost"),
        f64s(&rounds, "subsidy"),
        f64s(&rounds, "data"),
    );
    let withdrawals = u32s(&rounds, "withdrawals");
    assert_eq!(by.len(), k.len(), "one group of users per campaign");
    // 2 cells × 60 reps × 2 rounds × 4 mechanisms.
    assert_eq!(k.len(), 960);
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for i in 0..k.len() {
        let s = &by[&k[i]];
        let what = format!("{:?} ({})", k[i], status[i]);
        assert_eq!(s.users, 12, "{what}");
        // Σ privacy cost borne, and Σ payments, are the campaign's (summed in user order, as
        // the settlement does: equal bits).
        assert_eq!(s.borne, privacy[i], "privacy cost of {what}");
        assert_eq!(s.paid, subsidy[i], "subsidy of {what}");
        // W = n·V·1{success} − Σ borne and U_i = V·1{success} + paid_i − borne_i.
        assert!(
            close(s.utility - s.paid, welfare[i]),
            "welfare of {what}: Σ U − Σ paid = {} vs {}",
            s.utility - s.paid,
            welfare[i]
        );
        // data: C delivers Σ x whatever happens; S, M, async keep the committed data on success.
        let kept = if k[i].3 == "C" || status[i] == "success" {
            s.data
        } else {
            0.0
        };
        assert!(
            close(kept, data[i]),
            "data of {what}: {kept} vs {}",
            data[i]
        );
        assert_eq!(s.withdrawals, withdrawals[i], "withdrawals of {what}");
        *seen.entry((k[i].3.clone(), status[i].clone())).or_default() += 1;
    }
    // The sample exercises every outcome the sums distinguish.
    for (m, st) in [
        ("C", "failure"),
        ("S", "success"),
        ("S", "null"),
        ("M", "success"),
        ("async", "success"),
    ] {
        assert!(
            seen.contains_key(&(m.into(), st.into())),
            "no {m} campaign ended {st}: {seen:?}"
        );
    }
    assert!(
        withdrawals.iter().sum::<u32>() > 0 && by.values().any(|s| s.borne > 0.0 && s.paid == 0.0),
        "withdrawals with ρ > 0 must occur"
    );

    // What is defined per mechanism: C has no report, cap, assignment or decision.
    let mech = strings(&users, "mechanism");
    let (reported, cap, assigned, decision, time) = (
        opt_f64s(&users, "reported_cost"),
        opt_f64s(&users, "cap"),
        opt_f64s(&users, "assigned_burden"),
        opt_strings(&users, "decision"),
        opt_f64s(&users, "decision_time"),
    );
    for i in 0..mech.len() {
        let c = mech[i] == "C";
        assert_eq!(reported[i].is_none(), c);
        assert_eq!(cap[i].is_none(), c);
        assert!(!c || (assigned[i].is_none() && decision[i].is_none()));
        assert_eq!(decision[i].is_none(), time[i].is_none());
    }
    // The true cost and its drift are the replication's, whatever the mechanism.
    let (true_cost, drifted) = (f64s(&users, "true_cost"), f64s(&users, "drifted_cost"));
    let key = keys(&users);
    let user = u32s(&users, "user");
    let mut cost: HashMap<(u32, u32, u32, u32), (f64, f64)> = HashMap::new();
    for i in 0..key.len() {
        let id = (key[i].0, key[i].1, key[i].2, user[i]);
        let v = *cost.entry(id).or_insert((true_cost[i], drifted[i]));
        assert_eq!(
            v,
            (true_cost[i], drifted[i]),
            "draws of {id:?} differ by mechanism"
        );
    }
}

#[test]
fn events_traces_write_the_same_users_whose_decisions_are_their_events() {
    let (u, e) = (users_run("users"), users_run("events"));
    let users = read(u.path(), Table::Users);
    assert_eq!(
        rows(&users, &[]),
        rows(&read(e.path(), Table::Users), &[]),
        "trace = events writes the users table of trace = users"
    );
    // Each decided user's last stay/withdraw event has her decision, time and burden; her
    // first assign event her assigned burden.
    let events = read(e.path(), Table::Events);
    let (ek, kind, euser) = (
        keys(&events),
        strings(&events, "kind"),
        opt_u32s(&events, "user"),
    );
    let (etime, eburden) = (f64s(&events, "time"), opt_f64s(&events, "burden"));
    let mut last: HashMap<(Key, u32), (String, f64, Option<f64>)> = HashMap::new();
    let mut assigned: HashMap<(Key, u32), Option<f64>> = HashMap::new();
    for i in 0..ek.len() {
        let Some(who) = euser[i] else { continue };
        let id = (ek[i].clone(), who);
        match kind[i].as_str() {
            "stay" | "withdraw" => {
                last.insert(id, (kind[i].clone(), etime[i], eburden[i]));
            }
            "assign" => {
                assigned.entry(id).or_insert(eburden[i]);
            }
            _ => {}
        }
    }
    let (k, user) = (keys(&users), u32s(&users, "user"));
    let (decision, time, decided, assign) = (
        opt_strings(&users, "decision"),
        opt_f64s(&users, "decision_time"),
        opt_f64s(&users, "decided_burden"),
        opt_f64s(&users, "assigned_burden"),
    );
    let mut decided_users = 0;
    for i in 0..k.len() {
        let id = (k[i].clone(), user[i]);
        match (&decision[i], last.get(&id)) {
            (Some(d), Some((kind, t, x))) => {
                assert_eq!((d, time[i], decided[i]), (kind, Some(*t), *x), "{id:?}");
                decided_users += 1;
            }
            (None, None) => {}
            (d, ev) => panic!("{id:?}: users says {d:?}, events {ev:?}"),
        }
        assert_eq!(assign[i], assigned.get(&id).copied().flatten(), "{id:?}");
    }
    assert!(decided_users > 1000);
}

#[test]
fn paired_se_of_m_minus_s_from_users_matches_contrasts_and_beats_the_naive_se() {
    let dir = users_run("users");
    let out = dir.path();
    let by = sums(&read(out, Table::Users));
    let contrasts = read(out, Table::Contrasts);
    let (cell, round, a, b) = (
        u32s(&contrasts, "cell"),
        u32s(&contrasts, "round"),
        strings(&contrasts, "mechanism_a"),
        strings(&contrasts, "mechanism_b"),
    );
    let (w_diff, w_se, p_se) = (
        f64s(&contrasts, "welfare_diff"),
        f64s(&contrasts, "welfare_diff_se"),
        f64s(&contrasts, "privacy_cost_diff_se"),
    );
    let cells = read(out, Table::Cells);
    let (cc, cr, cm, cse) = (
        u32s(&cells, "cell"),
        u32s(&cells, "round"),
        strings(&cells, "mechanism"),
        f64s(&cells, "welfare_se"),
    );
    let naive_se = |c: u32, r: u32, m: &str| {
        (0..cc.len())
            .find(|&i| (cc[i], cr[i], cm[i].as_str()) == (c, r, m))
            .map(|i| cse[i])
            .unwrap()
    };
    // Mean and SE of the per-replication differences A − B of `pick`, by hand.
    let hand = |c: u32, r: u32, pick: fn(&Sums) -> f64| {
        let d: Vec<f64> = (0..60)
            .map(|rep| {
                let of = |m: &str| pick(&by[&(c, rep, r, m.to_string())]);
                of("M") - of("S")
            })
            .collect();
        let n = d.len() as f64;
        let mean = d.iter().sum::<f64>() / n;
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    };
    let mut compared = 0;
    for i in 0..cell.len() {
        if (a[i].as_str(), b[i].as_str()) != ("M", "S") {
            continue;
        }
        let (mean, se) = hand(cell[i], round[i], |s| s.utility - s.paid);
        let tol = |x: f64, y: f64| (x - y).abs() <= 1e-9 * (1e-3 + x.abs().max(y.abs()));
        assert!(
            tol(w_diff[i], mean),
            "welfare M − S {} vs {mean}",
            w_diff[i]
        );
        assert!(tol(w_se[i], se), "welfare SE {} vs {se}", w_se[i]);
        let (_, se) = hand(cell[i], round[i], |s| s.borne);
        assert!(tol(p_se[i], se), "privacy cost SE {} vs {se}", p_se[i]);
        let naive = naive_se(cell[i], round[i], "M").hypot(naive_se(cell[i], round[i], "S"));
        if naive == 0.0 {
            continue; // every campaign of the cell null under S and M: nothing to compare
        }
        assert!(
            w_se[i] < naive,
            "cell {} round {}: paired SE {} not below the naive {naive}",
            cell[i],
            round[i],
            w_se[i]
        );
        compared += 1;
    }
    assert!(compared >= 2, "M − S compared in {compared} cells × rounds");
}

/// A nullable UInt32 column.
fn opt_u32s(batches: &[RecordBatch], column: &str) -> Vec<Option<u32>> {
    use datapact_trace::arrow::datatypes::UInt32Type;
    batches
        .iter()
        .flat_map(|b| {
            let a = b
                .column_by_name(column)
                .unwrap()
                .as_primitive::<UInt32Type>();
            (0..a.len())
                .map(|i| (!a.is_null(i)).then(|| a.value(i)))
                .collect::<Vec<_>>()
        })
        .collect()
}
