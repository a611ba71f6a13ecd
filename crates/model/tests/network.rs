//! Networks: the generators' degree distributions against their closed forms (tolerances from
//! the standard error, fixed seeds), the CSR's invariants, edge-list validation, the network and
//! threshold streams, and the threshold contagion on small graphs and against a naive fixed point.

use datapact_model::network::{EdgeError, network_rng};
use datapact_model::{
    Cascade, CostDist, Csr, Draws, Game, Network, Threshold, campaign_rng, draw_key,
    threshold_cascade,
};
use proptest::prelude::*;
use rand::Rng;

const SEED: u64 = 20_260_428;

/// Every list strictly ascending (no multi-edges), no self-loops, every edge seen from both ends.
fn assert_simple(g: &Csr) {
    let n = g.nodes();
    let mut ends = 0;
    for i in 0..n {
        let list = g.neighbours(i);
        assert_eq!(list.len(), g.degree(i));
        assert!(list.windows(2).all(|w| w[0] < w[1]), "user {i}: {list:?}");
        for &j in list {
            let j = j as usize;
            assert!(j < n && j != i, "user {i} lists {j}");
            assert!(
                g.neighbours(j).binary_search(&(i as u32)).is_ok(),
                "{i}-{j} one way"
            );
        }
        ends += list.len();
    }
    assert_eq!(ends, 2 * g.edges());
}

fn degrees(g: &Csr) -> Vec<f64> {
    (0..g.nodes()).map(|i| g.degree(i) as f64).collect()
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// A fraction q̂ of n against its expectation q: |q̂ − q| ≤ 4 binomial SEs.
fn assert_share(what: &str, count: usize, n: usize, q: f64) {
    let se = (q * (1.0 - q) / n as f64).sqrt();
    let share = count as f64 / n as f64;
    assert!(
        (share - q).abs() <= 4.0 * se,
        "{what}: {share} vs {q} (SE {se})"
    );
}

#[test]
fn erdos_renyi_degrees_are_binomial() {
    let n = 10_000;
    for (i, z) in [0.5, 3.0, 8.0].into_iter().enumerate() {
        let g = Network::ErdosRenyi { mean_degree: z }.generate(n, SEED, i as u64);
        assert_simple(&g);
        let p = z / (n - 1) as f64;
        let pairs = (n * (n - 1) / 2) as f64;
        // Edges ~ Binomial(pairs, p): the mean degree 2·edges/n has SE 2·√(pairs·p·(1−p))/n.
        let se = 2.0 * (pairs * p * (1.0 - p)).sqrt() / n as f64;
        assert!(
            (g.mean_degree() - z).abs() <= 4.0 * se,
            "z = {z}: mean degree {} (SE {se})",
            g.mean_degree()
        );
        // Degree ~ Binomial(n − 1, p) ≈ Poisson(z): variance z(1 − p); the sample variance has
        // SE ≈ √((z + 2z²)/n).
        let (_, var) = mean_var(&degrees(&g));
        let var_se = ((z + 2.0 * z * z) / n as f64).sqrt();
        assert!(
            (var - z * (1.0 - p)).abs() <= 4.0 * var_se,
            "z = {z}: degree variance {var} (SE {var_se})"
        );
        let isolated = (0..n).filter(|&i| g.degree(i) == 0).count();
        assert_share("isolated", isolated, n, (1.0 - p).powi(n as i32 - 1));
    }
}

#[test]
fn erdos_renyi_extremes() {
    let empty = Network::ErdosRenyi { mean_degree: 0.0 }.generate(50, SEED, 0);
    assert_eq!((empty.nodes(), empty.edges()), (50, 0));
    let complete = Network::ErdosRenyi { mean_degree: 9.0 }.generate(10, SEED, 0);
    assert_simple(&complete);
    assert_eq!(complete.edges(), 45);
    for n in [0, 1] {
        let g = Network::ErdosRenyi { mean_degree: 0.0 }.generate(n, SEED, 0);
        assert_eq!((g.nodes(), g.edges()), (n, 0));
    }
}

/// The ring lattice: i tied to i ± 1, ..., i ± k/2 (mod n).
fn ring(n: usize, k: usize) -> Vec<Vec<u32>> {
    (0..n)
        .map(|i| {
            let mut list: Vec<u32> = (1..=k / 2)
                .flat_map(|j| [((i + j) % n) as u32, ((i + n - j) % n) as u32])
                .collect();
            list.sort_unstable();
            list
        })
        .collect()
}

#[test]
fn watts_strogatz_without_rewiring_is_the_ring_lattice() {
    for (n, k) in [(10, 4), (7, 6), (20, 2), (5, 0), (1, 0), (1000, 10)] {
        let g = Network::WattsStrogatz { k, rewire: 0.0 }.generate(n, SEED, 3);
        assert_simple(&g);
        let lists: Vec<Vec<u32>> = (0..n).map(|i| g.neighbours(i).to_vec()).collect();
        assert_eq!(lists, ring(n, k), "n = {n}, k = {k}");
    }
}

#[test]
fn watts_strogatz_rewires_a_share_rewire_of_the_edges() {
    let (n, k, rewire) = (10_000, 4, 0.1);
    let g = Network::WattsStrogatz { k, rewire }.generate(n, SEED, 0);
    assert_simple(&g);
    assert_eq!(g.edges(), n * k / 2);
    assert_eq!(g.mean_degree(), k as f64);
    // Each user keeps an end of each edge she owns: degree ≥ k/2.
    assert!((0..n).all(|i| g.degree(i) >= k / 2));
    // An edge between users more than k/2 apart on the ring was rewired (a rewired edge lands on
    // a lattice pair with probability ≈ k/n, negligible here).
    let far = (0..n)
        .flat_map(|i| g.neighbours(i).iter().map(move |&j| (i, j as usize)))
        .filter(|&(i, j)| i < j && (j - i).min(n - (j - i)) > k / 2)
        .count();
    assert_share("rewired edges", far, n * k / 2, rewire);
    let all = Network::WattsStrogatz { k: 6, rewire: 1.0 }.generate(500, SEED, 0);
    assert_simple(&all);
    assert_eq!(all.edges(), 500 * 3);
}

#[test]
fn barabasi_albert_attaches_preferentially() {
    let (n, m) = (10_000, 3);
    let g = Network::BarabasiAlbert { m }.generate(n, SEED, 0);
    assert_simple(&g);
    assert_eq!(g.edges(), m * (n - m));
    assert_eq!(g.mean_degree(), 2.0 * (m * (n - m)) as f64 / n as f64);
    assert!((0..n).all(|i| g.degree(i) >= m));
    // P(degree = k) = 2m(m + 1)/(k(k + 1)(k + 2)), so P(m) = 2/(m + 2) = 0.4 (uniform attachment
    // would give 1/(m + 1) = 0.25), and P(m + 1) = 2m/((m + 2)(m + 3)) = 0.2.
    let at = |d: usize| (0..n).filter(|&i| g.degree(i) == d).count();
    let mf = m as f64;
    assert_share("degree m", at(m), n, 2.0 / (mf + 2.0));
    assert_share(
        "degree m + 1",
        at(m + 1),
        n,
        2.0 * mf / ((mf + 2.0) * (mf + 3.0)),
    );
    // Hubs: the largest degree grows like m·√n (300 here); a Poisson graph of the same mean
    // degree would top out near 20.
    let max = (0..n).map(|i| g.degree(i)).max().unwrap();
    assert!(max > 100, "largest degree {max}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_model_gives_a_simple_symmetric_graph(
        n in 0usize..80, z in 0.0f64..1.0, half in 0usize..5, rewire in 0.0f64..=1.0,
        m in 1usize..6, rep in 0u64..1000,
    ) {
        let er = Network::ErdosRenyi { mean_degree: z * n.saturating_sub(1) as f64 };
        assert_simple(&er.generate(n, SEED, rep));
        let k = (2 * half).min(n.saturating_sub(1) / 2 * 2);
        let ws = Network::WattsStrogatz { k, rewire }.generate(n, SEED, rep);
        assert_simple(&ws);
        prop_assert_eq!(ws.edges(), n * k / 2);
        if m < n {
            let ba = Network::BarabasiAlbert { m }.generate(n, SEED, rep);
            assert_simple(&ba);
            prop_assert_eq!(ba.edges(), m * (n - m));
        }
    }

    #[test]
    fn an_edge_list_round_trips(n in 1usize..40, z in 0.0f64..1.0, rep in 0u64..1000) {
        let g = Network::ErdosRenyi { mean_degree: z * (n - 1) as f64 }.generate(n, SEED, rep);
        // Each edge once, in an orientation that alternates.
        let edges: Vec<(usize, usize)> = (0..n)
            .flat_map(|i| g.neighbours(i).iter().map(move |&j| (i, j as usize)))
            .filter(|&(i, j)| i < j)
            .map(|(i, j)| if (i + j) % 2 == 0 { (i, j) } else { (j, i) })
            .collect();
        prop_assert_eq!(Csr::from_edges(n, &edges).unwrap(), g);
    }
}

#[test]
fn edge_lists_are_validated_naming_the_offending_edge() {
    let g = Csr::from_edges(4, &[(0, 1), (2, 1), (3, 0)]).unwrap();
    assert_simple(&g);
    assert_eq!(g.neighbours(1), &[0, 2]);
    assert!(g.has_edge(0, 3) && g.has_edge(3, 0) && !g.has_edge(0, 2) && !g.has_edge(0, 99));
    assert_eq!(g.memory_bytes(), 5 * 8 + 6 * 4);

    let err = Csr::from_edges(4, &[(0, 1), (1, 4)]).unwrap_err();
    assert_eq!(
        err,
        EdgeError::OutOfRange {
            edge: 1,
            pair: (1, 4),
            n: 4
        }
    );
    assert_eq!(err.to_string(), "edge 1 (1, 4): users are 0..4 (0 to 3)");

    let err = Csr::from_edges(4, &[(0, 1), (2, 2)]).unwrap_err();
    assert_eq!(err, EdgeError::SelfLoop { edge: 1, node: 2 });
    assert_eq!(err.to_string(), "edge 1 (2, 2) is a self-loop");

    // A repeat in the other orientation; the earliest repeat is named, and range errors later in
    // the list come first.
    let edges = [(0, 1), (1, 2), (2, 3), (3, 2), (1, 0)];
    let err = Csr::from_edges(4, &edges).unwrap_err();
    assert_eq!(
        err,
        EdgeError::Duplicate {
            edge: 3,
            pair: (3, 2),
            first: 2,
            first_pair: (2, 3)
        }
    );
    assert_eq!(err.to_string(), "edge 3 (3, 2) repeats edge 2 (2, 3)");
    let err = Csr::from_edges(4, &[(0, 1), (1, 0), (0, 7)]).unwrap_err();
    assert!(matches!(err, EdgeError::OutOfRange { edge: 2, .. }));

    assert_eq!(Csr::from_edges(0, &[]).unwrap().nodes(), 0);
    let huge = u32::MAX as usize + 1;
    assert_eq!(
        Csr::from_edges(huge, &[]).unwrap_err(),
        EdgeError::TooManyUsers { n: huge }
    );
}

#[test]
fn bad_parameters_are_named_with_their_range() {
    let cases = [
        (
            Network::ErdosRenyi { mean_degree: 20.0 },
            20,
            "mean_degree must be in [0, n - 1 = 19]",
        ),
        (
            Network::ErdosRenyi {
                mean_degree: f64::NAN,
            },
            20,
            "mean_degree",
        ),
        (Network::ErdosRenyi { mean_degree: -1.0 }, 20, "mean_degree"),
        (
            Network::WattsStrogatz { k: 3, rewire: 0.1 },
            20,
            "k must be even",
        ),
        (
            Network::WattsStrogatz { k: 20, rewire: 0.1 },
            20,
            "n - 1 = 19",
        ),
        (
            Network::WattsStrogatz { k: 4, rewire: 1.5 },
            20,
            "rewire must be in [0, 1]",
        ),
        (
            Network::BarabasiAlbert { m: 0 },
            20,
            "m must be in [1, n - 1 = 19]",
        ),
        (Network::BarabasiAlbert { m: 20 }, 20, "got 20"),
    ];
    for (model, n, message) in cases {
        let err = model.validate(n).unwrap_err();
        assert!(err.contains(message), "{model:?}: {err}");
    }
    assert!(
        Network::WattsStrogatz { k: 18, rewire: 1.0 }
            .validate(19)
            .is_ok()
    );
    assert!(Threshold::Same(-0.1).validate().is_err());
    assert!(Threshold::Same(f64::INFINITY).validate().is_err());
    let bad_beta = Threshold::Drawn(CostDist::Beta {
        alpha: 0.0,
        beta: 1.0,
    });
    assert!(bad_beta.validate().unwrap_err().contains("beta"));
}

#[test]
#[should_panic(expected = "watts-strogatz network: k must be even")]
fn generating_from_bad_parameters_panics_with_the_reason() {
    Network::WattsStrogatz { k: 3, rewire: 0.0 }.generate(10, SEED, 0);
}

#[test]
fn a_graph_is_determined_by_seed_key_and_replication() {
    let n = 500;
    let models = [
        Network::ErdosRenyi { mean_degree: 4.0 },
        Network::WattsStrogatz { k: 4, rewire: 0.2 },
        Network::BarabasiAlbert { m: 2 },
    ];
    for model in &models {
        let g = model.generate(n, SEED, 7);
        assert_eq!(model.generate(n, SEED, 7), g);
        assert_eq!(
            model.sample(n, &mut network_rng(SEED, model.key(n), 7)),
            g,
            "generate reads the network stream"
        );
        assert_ne!(model.generate(n, SEED, 8), g);
        assert_ne!(model.generate(n, SEED + 1, 7), g);
    }
    // The key moves with n and with every parameter, and differs between models.
    let mut keys = vec![
        models[0].key(n),
        models[0].key(n + 1),
        Network::ErdosRenyi { mean_degree: 4.5 }.key(n),
        models[1].key(n),
        Network::WattsStrogatz { k: 6, rewire: 0.2 }.key(n),
        Network::WattsStrogatz { k: 4, rewire: 0.3 }.key(n),
        models[2].key(n),
        Network::BarabasiAlbert { m: 3 }.key(n),
        // Same parameter bits, another model.
        Network::BarabasiAlbert {
            m: 4.0f64.to_bits() as usize,
        }
        .key(n),
    ];
    let before = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), before);
    assert_eq!(
        Network::ErdosRenyi { mean_degree: -0.0 }.key(n),
        Network::ErdosRenyi { mean_degree: 0.0 }.key(n)
    );
}

fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let (mx, vx) = mean_var(x);
    let (my, vy) = mean_var(y);
    let cov = x
        .iter()
        .zip(y)
        .map(|(a, b)| (a - mx) * (b - my))
        .sum::<f64>()
        / (x.len() as f64 - 1.0);
    cov / (vx * vy).sqrt()
}

#[test]
fn the_network_and_threshold_streams_leave_the_cost_draws_alone() {
    let n = 10_000;
    let game = Game {
        users: n,
        ..Game::default()
    };
    let key = draw_key(&game);
    let sampler = game.cost.sampler().unwrap();
    let mut alone = Draws::default();
    alone.fill(n, &sampler, &mut campaign_rng(SEED, key, 0));

    // Drawing a graph and thresholds first moves no cost draw (separate streams, no shared state).
    let g = Network::BarabasiAlbert { m: 2 }.generate(n, SEED, 0);
    let threshold = Threshold::Drawn(CostDist::Beta {
        alpha: 2.0,
        beta: 5.0,
    });
    let phi = threshold.draw(n, SEED, 0);
    let mut after = Draws::default();
    after.fill(n, &sampler, &mut campaign_rng(SEED, key, 0));
    assert_eq!(after.cost, alone.cost);
    assert_eq!(after.order_key, alone.order_key);

    // Even on the campaign's own key, the network tag gives another stream.
    let mut campaign = campaign_rng(SEED, key, 0);
    let mut network = network_rng(SEED, key, 0);
    let first: Vec<u64> = (0..4).map(|_| campaign.next_u64()).collect();
    assert!((0..4).all(|i| network.next_u64() != first[i]));

    // Degrees (heavy-tailed here) and thresholds are uncorrelated with costs: |r| ≤ 4/√n.
    let bound = 4.0 / (n as f64).sqrt();
    let r = correlation(&degrees(&g), &alone.cost);
    assert!(r.abs() <= bound, "corr(degree, cost) = {r}");
    let r = correlation(&phi, &alone.cost);
    assert!(r.abs() <= bound, "corr(threshold, cost) = {r}");
}

#[test]
fn thresholds_are_one_number_or_drawn_on_their_own_stream() {
    assert_eq!(Threshold::Same(0.25).draw(3, SEED, 0), vec![0.25; 3]);
    let n = 10_000;
    let beta = Threshold::Drawn(CostDist::Beta {
        alpha: 2.0,
        beta: 5.0,
    });
    let phi = beta.draw(n, SEED, 1);
    assert_eq!(beta.draw(n, SEED, 1), phi);
    assert_ne!(beta.draw(n, SEED, 2), phi);
    // The key holds n: another n is another stream.
    assert_ne!(beta.draw(n + 1, SEED, 1)[..10], phi[..10]);
    // Beta(2, 5): mean 2/7, variance αβ/((α+β)²(α+β+1)) = 10/392.
    let (mean, _) = mean_var(&phi);
    let se = (10.0 / 392.0 / n as f64).sqrt();
    assert!(
        (mean - 2.0 / 7.0).abs() <= 4.0 * se,
        "mean threshold {mean}"
    );
    let other = Threshold::Drawn(CostDist::Beta {
        alpha: 2.0,
        beta: 6.0,
    });
    assert_ne!(other.key(n), beta.key(n));
    assert_ne!(Threshold::Same(0.25).key(n), Threshold::Same(0.3).key(n));
}

/// A drawn threshold must draw in [0, 1]: beta, uniform and constant within it; lognormal and
/// ranges beyond it are refused, with the range in the message.
#[test]
fn a_drawn_threshold_must_draw_in_the_unit_interval() {
    let uniform = |low, high| CostDist::Uniform { low, high };
    let cases = [
        (uniform(0.0, 1.0), true),
        (uniform(0.5, 1.2), false),
        (CostDist::Constant { value: 1.0 }, true),
        (CostDist::Constant { value: 1.5 }, false),
        (
            CostDist::Beta {
                alpha: 2.0,
                beta: 5.0,
            },
            true,
        ),
        (
            CostDist::LogNormal {
                mu: -2.0,
                sigma: 0.1,
            },
            false,
        ),
    ];
    for (d, ok) in cases {
        match Threshold::Drawn(d.clone()).validate() {
            Ok(()) => assert!(ok, "{d:?} accepted"),
            Err(e) => assert!(!ok && e.contains("[0, 1]"), "{d:?}: {e}"),
        }
    }
}

/// The `threshold` rule reads her own φ_i when drawn (`Neighbours::threshold`), else its number.
#[test]
fn the_threshold_rule_reads_her_own_drawn_threshold() {
    use datapact_model::strategy::{PeerThresholdParams, WithdrawRule};
    use datapact_model::{Deciding, Neighbours, PeerThreshold};
    let rule = PeerThreshold(PeerThresholdParams { threshold: 0.25 });
    let user = Deciding {
        realized_cost: 0.0,
        burden: 0.1,
        value: 0.1,
        payment: 0.0,
        pivotal: None,
        absorbed: false,
    };
    assert!(user.sincere());
    let one_of_four = |threshold| Neighbours {
        degree: 4,
        withdrawn: 1,
        threshold,
    };
    assert!(!rule.stays_among(&user, one_of_four(None)));
    assert!(rule.stays_among(&user, one_of_four(Some(0.3))));
    assert!(!rule.stays_among(&user, one_of_four(Some(0.25))));
    // Peers hand each user her own.
    let peers = datapact_model::Peers::new(path(3)).with_thresholds(vec![0.1, 0.2, 0.3]);
    assert_eq!(peers.neighbours(2).threshold, Some(0.3));
    assert_eq!(
        datapact_model::Peers::new(path(3)).neighbours(2).threshold,
        None
    );
}

/// Repeated rounds: a campaign starts knowing the previous round's withdrawals (and only those),
/// delivered in user order; `forget` starts a new population.
#[test]
fn peers_remember_the_previous_round_only() {
    let mut peers = datapact_model::Peers::new(path(5));
    // Round 1: users 1 and 3 withdraw.
    peers.withdrew(1);
    peers.withdrew(3);
    peers.remember(|i| i == 1 || i == 3);
    // Round 2 starts with them delivered: user 2 sees both, the last one 3; user 0 sees 1.
    peers.reset();
    assert_eq!(peers.withdrawn, vec![1, 0, 2, 0, 1]);
    assert_eq!(peers.last[2], 3);
    assert_eq!(peers.last[0], 1);
    assert_eq!(peers.cascade(), 0);
    // Round 2: only user 4 withdraws; round 3 knows of 4 alone.
    peers.remember(|i| i == 4);
    peers.reset();
    assert_eq!(peers.withdrawn, vec![0, 0, 0, 1, 0]);
    // A new population forgets.
    peers.forget();
    peers.reset();
    assert_eq!(peers.withdrawn, vec![0; 5]);
    assert_eq!(peers.last, vec![datapact_model::Peers::NOBODY; 5]);
}

/// The path 0 – 1 – ... – (n − 1).
fn path(n: usize) -> Csr {
    let edges: Vec<(usize, usize)> = (1..n).map(|i| (i - 1, i)).collect();
    Csr::from_edges(n, &edges).unwrap()
}

#[test]
fn a_cascade_runs_down_a_path_through_each_neighbour() {
    let c = threshold_cascade(&path(5), &[0], |_| 0.5);
    assert_eq!(c.order, vec![0, 1, 2, 3, 4]);
    assert_eq!(c.cause, vec![None, Some(0), Some(1), Some(2), Some(3)]);
    assert_eq!(c.size(), 5);
    // One active neighbour of two is below 0.51: nothing spreads.
    let c = threshold_cascade(&path(5), &[2], |_| 0.51);
    assert_eq!(c.order, vec![2]);
    // Per-user thresholds: user 3 holds out, so 4 is never reached.
    let c = threshold_cascade(&path(5), &[0], |i| if i == 3 { 0.9 } else { 0.5 });
    assert_eq!(c.order, vec![0, 1, 2]);
    // Repeated seeds count once; seeds are uncaused.
    let c = threshold_cascade(&path(5), &[4, 4, 0], |_| 0.5);
    assert_eq!(c.order, vec![4, 0, 3, 1, 2]);
    assert_eq!(c.cause, vec![None, None, Some(4), Some(0), Some(3)]);
    assert_eq!(
        threshold_cascade(&path(0), &[], |_| 0.0),
        Cascade::default()
    );
}

#[test]
fn the_threshold_is_reached_with_equality() {
    // A star: hub 0 with leaves 1..=4; one active leaf is exactly 1/4 of the hub's neighbours.
    let star = Csr::from_edges(5, &[(0, 1), (0, 2), (0, 3), (0, 4)]).unwrap();
    let c = threshold_cascade(&star, &[1], |_| 0.25);
    assert_eq!(c.size(), 5);
    assert_eq!(c.cause[1..], [Some(1), Some(0), Some(0), Some(0)]);
    assert_eq!(threshold_cascade(&star, &[1], |_| 0.250_000_1).size(), 1);
    // 9 of 50 is exactly the double nearest 0.18.
    let hub: Vec<(usize, usize)> = (1..=50).map(|j| (0, j)).collect();
    let g = Csr::from_edges(51, &hub).unwrap();
    let seeds: Vec<usize> = (1..=9).collect();
    assert_eq!(threshold_cascade(&g, &seeds[..8], |_| 0.18).size(), 8);
    assert_eq!(threshold_cascade(&g, &seeds, |_| 0.18).size(), 51);
    // An isolated seed spreads nothing, and a threshold of 0 still needs an active neighbour.
    let c = threshold_cascade(&Csr::from_edges(3, &[(1, 2)]).unwrap(), &[0], |_| 0.0);
    assert_eq!(c.order, vec![0]);
}

/// The final active set by sweeping to a fixed point, O(n²) and obviously right.
fn fixed_point(g: &Csr, seeds: &[usize], phi: &[f64]) -> Vec<bool> {
    let mut active = vec![false; g.nodes()];
    for &s in seeds {
        active[s] = true;
    }
    loop {
        let mut changed = false;
        for v in 0..g.nodes() {
            let on = g
                .neighbours(v)
                .iter()
                .filter(|&&u| active[u as usize])
                .count();
            if !active[v] && on > 0 && on as f64 / g.degree(v) as f64 >= phi[v] {
                active[v] = true;
                changed = true;
            }
        }
        if !changed {
            return active;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_cascade_reaches_the_fixed_point_and_names_true_causes(
        n in 1usize..60, z in 0.0f64..6.0, rep in 0u64..1000,
        phi in proptest::collection::vec(0.0f64..0.7, 60), seeds in proptest::collection::vec(0usize..60, 1..4),
    ) {
        let z = z.min(n.saturating_sub(1) as f64);
        let g = Network::ErdosRenyi { mean_degree: z }.generate(n, SEED, rep);
        let seeds: Vec<usize> = seeds.into_iter().map(|s| s % n).collect();
        let c = threshold_cascade(&g, &seeds, |i| phi[i]);
        let want = fixed_point(&g, &seeds, &phi);
        let mut got = vec![false; n];
        let mut position = vec![usize::MAX; n];
        for (k, &v) in c.order.iter().enumerate() {
            prop_assert!(!got[v as usize], "{} activated twice", v);
            got[v as usize] = true;
            position[v as usize] = k;
        }
        prop_assert_eq!(&got, &want);
        // The cause is an earlier neighbour; counting the neighbours active up to and including
        // it reaches the threshold, without it does not.
        for (k, (&v, cause)) in c.order.iter().zip(&c.cause).enumerate() {
            let v = v as usize;
            let Some(u) = *cause else {
                prop_assert!(seeds.contains(&v));
                continue;
            };
            let u = u as usize;
            prop_assert!(g.has_edge(u, v) && position[u] < k);
            let d = g.degree(v) as f64;
            let upto = g.neighbours(v).iter().filter(|&&w| position[w as usize] <= position[u]).count();
            prop_assert!(upto as f64 / d >= phi[v]);
            prop_assert!(((upto - 1) as f64 / d) < phi[v]);
        }
    }
}

/// M on a network, by hand: A (burden 0.1) stays, B (0.2, cost 100) withdraws; A's only
/// neighbour is B, so with threshold 0.5 A withdraws at B's step although staying pays her
/// (through ties), and the whole shortfall goes to the undecided C, who stays. Sincere users
/// on the same instance: A stays.
#[test]
fn under_m_a_stayer_withdraws_when_her_neighbours_share_reaches_her_threshold() {
    use datapact_model::strategy::{
        PeerThreshold, PeerThresholdParams, Rules, Sincere, Truthful, WithdrawRule,
    };
    use datapact_model::withdraw::{ProtocolScratch, WithdrawState, sequential};
    use datapact_model::{Decision, Peers, ProtocolEnd};
    use std::sync::Arc;

    let game = Game {
        users: 3,
        threshold: 0.2,
        value: 0.1,
        payment: 0.1,
        ..Game::default()
    };
    let play = |threshold_rule: bool| {
        let withdraw: Vec<Arc<dyn WithdrawRule>> = vec![
            Arc::new(Sincere),
            Arc::new(PeerThreshold(PeerThresholdParams { threshold: 0.5 })),
        ];
        let rules = Rules::new(vec![Arc::new(Truthful)], withdraw);
        let mut peers = Peers::new(Csr::from_edges(3, &[(0, 1)]).unwrap());
        let mut burden = vec![0.1, 0.2, 0.3];
        let mut decision = vec![Decision::Undecided; 3];
        let rule = vec![u16::from(threshold_rule); 3];
        let st = WithdrawState {
            observed: &[0.1, 100.0, 0.1],
            realized: &[0.1, 100.0, 0.1],
            cap: &[1.0, 1.0, 1.0],
            burden: &mut burden,
            decision: &mut decision,
            rule: &rule,
            rules: rules.withdraw(),
            absorbed: &[false; 3],
            peers: Some(&mut peers),
        };
        let end = sequential(
            st,
            &[0.0; 3],
            &game,
            &mut ProtocolScratch::default(),
            &mut datapact_model::events::NoEvents,
        );
        (end, burden, decision, peers)
    };
    let (end, burden, decision, peers) = play(true);
    assert_eq!(
        decision,
        [Decision::Withdraw, Decision::Withdraw, Decision::Stay]
    );
    assert!((burden[2] - 0.6).abs() < 1e-12, "{burden:?}");
    assert!(matches!(end, ProtocolEnd::Trained { committed } if (committed - 0.6).abs() < 1e-12));
    assert_eq!(peers.seen, [1, 0, 0]);
    assert_eq!(peers.through_ties, [true, false, false]);
    assert_eq!(peers.last[0], 1);
    assert_eq!(peers.cascade(), 1);

    let (_, _, decision, peers) = play(false);
    assert_eq!(decision[0], Decision::Stay);
    assert_eq!(peers.cascade(), 0);
}
