//! Networks among a campaign's users and the threshold contagion of Watts (2002) over them.
//!
//! A graph over the n users of one campaign is stored as [`Csr`] (compressed sparse rows:
//! `offsets` and sorted neighbour indices, O(n + edges) memory): undirected, no self-loops, no
//! multi-edges. It is drawn by a random model ([`Network`]: Erdős–Rényi, Watts–Strogatz,
//! Barabási–Albert) or built from an edge list ([`Csr::from_edges`]). Per-user thresholds come
//! from [`Threshold`]. [`threshold_cascade`] runs the contagion on a graph.
//!
//! Randomness: a graph is drawn from its own ChaCha8 stream keyed by (seed, [`Network::key`],
//! replication) with the tag `"network"` ([`network_rng`]), thresholds from theirs keyed by
//! (seed, [`Threshold::key`], replication) with the tag `"thresh"` ([`threshold_rng`]); neither
//! touches the campaign's cost draws (`docs/model.md` section 2, "Networks and thresholds").

use rand::{Rng, RngExt};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::cost::CostDist;
use crate::draws::{stream, unit_f64};

/// The tag of the network stream (`"network\0"` as a little-endian `u64`).
const NETWORK_TAG: u64 = u64::from_le_bytes(*b"network\0");
/// The tag of the threshold stream (`"thresh\0\0"` as a little-endian `u64`).
const THRESHOLD_TAG: u64 = u64::from_le_bytes(*b"thresh\0\0");

/// A graph model over the n users of a campaign (the models of `[population.network]`; `"none"`
/// lives in the scenario layer): three random models, and a fixed edge list read from a file.
#[derive(Clone, Debug, PartialEq)]
pub enum Network {
    /// Erdős–Rényi G(n, p): each of the n(n − 1)/2 pairs is an edge independently with
    /// probability p = mean_degree / (n − 1).
    ErdosRenyi {
        /// The expected degree z = p·(n − 1), in [0, n − 1].
        mean_degree: f64,
    },
    /// Watts–Strogatz: the ring lattice where each user is tied to the k/2 nearest on either
    /// side, then each lattice edge (i, i + j) rewired with probability `rewire` to (i, w), w
    /// uniform, redrawn while it would make a self-loop or a duplicate.
    WattsStrogatz {
        /// The lattice degree (even, at most n − 1); every graph has n·k/2 edges.
        k: usize,
        /// The probability that a lattice edge is rewired, in [0, 1].
        rewire: f64,
    },
    /// Barabási–Albert: a star of m + 1 users, then each new user ties to m distinct earlier
    /// users drawn with probability proportional to their degree; m(n − m) edges, mean degree
    /// 2m(n − m)/n → 2m.
    BarabasiAlbert {
        /// Edges per new user (1 ≤ m < n).
        m: usize,
    },
    /// A fixed edge list (`model = "file"`): the same graph in every replication, no draw.
    File {
        /// The file's path as the scenario wrote it (relative to the scenario's folder).
        path: String,
        /// The undirected edges (a simple graph: no self-loop, no pair twice), in file order.
        edges: std::sync::Arc<[(u32, u32)]>,
        /// SHA-256 of the edges ([`edges_sha256`]): what the network key holds of them.
        sha256: [u8; 32],
    },
}

/// SHA-256 of an edge list: `"datapact.edges.v1"`, then each edge's two ends as little-endian
/// `u32`, in order. Two files holding the same edges in the same order (CSV or Parquet) have
/// the same digest.
pub fn edges_sha256(edges: &[(u32, u32)]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"datapact.edges.v1");
    for (a, b) in edges {
        h.update(a.to_le_bytes());
        h.update(b.to_le_bytes());
    }
    h.finalize().into()
}

impl Network {
    /// The model's name as written in scenarios (`population.network.model`).
    pub fn name(&self) -> &'static str {
        match self {
            Network::ErdosRenyi { .. } => "erdos-renyi",
            Network::WattsStrogatz { .. } => "watts-strogatz",
            Network::BarabasiAlbert { .. } => "barabasi-albert",
            Network::File { .. } => "file",
        }
    }

    /// Checks the parameters for n users; the error names the parameter and its allowed range.
    pub fn validate(&self, n: usize) -> Result<(), String> {
        if n > u32::MAX as usize {
            return Err(format!("a network has at most {} users, got {n}", u32::MAX));
        }
        let most = n.saturating_sub(1);
        match self {
            &Network::ErdosRenyi { mean_degree } => {
                if !(mean_degree >= 0.0 && mean_degree <= most as f64) {
                    return Err(format!(
                        "mean_degree must be in [0, n - 1 = {most}] for n = {n}, got {mean_degree}"
                    ));
                }
            }
            &Network::WattsStrogatz { k, rewire } => {
                if k % 2 != 0 || k > most {
                    return Err(format!(
                        "k must be even and in [0, n - 1 = {most}] for n = {n}, got {k}"
                    ));
                }
                if !(0.0..=1.0).contains(&rewire) {
                    return Err(format!("rewire must be in [0, 1], got {rewire}"));
                }
            }
            &Network::BarabasiAlbert { m } => {
                if m == 0 || m >= n {
                    return Err(format!(
                        "m must be in [1, n - 1 = {most}] for n = {n}, got {m}"
                    ));
                }
            }
            Network::File { edges, .. } => {
                let pairs: Vec<(usize, usize)> = edges
                    .iter()
                    .map(|&(a, b)| (a as usize, b as usize))
                    .collect();
                Csr::from_edges(n, &pairs).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// The network key of this model over n users: the first 8 bytes (little-endian) of the
    /// SHA-256 of `"datapact.network.v1"`, then `;population.users=` ‖ le(n as `u64`),
    /// `;population.network.model=` ‖ the model's name, and per parameter
    /// `;population.network.NAME=` ‖ its value's 8 little-endian bytes (`f64` bits for
    /// `mean_degree` and `rewire`, `u64` for `k` and `m`).
    ///
    /// The key depends on nothing else (not on the costs, the mechanism or the grid), so every
    /// mechanism and every cell with the same n and network meets the same graph.
    pub fn key(&self, n: usize) -> u64 {
        let params: Vec<(&str, u64)> = match self {
            &Network::ErdosRenyi { mean_degree } => vec![("mean_degree", f64_key(mean_degree))],
            &Network::WattsStrogatz { k, rewire } => {
                vec![("k", k as u64), ("rewire", f64_key(rewire))]
            }
            &Network::BarabasiAlbert { m } => vec![("m", m as u64)],
            Network::File { sha256, .. } => vec![(
                "edges_sha256",
                u64::from_le_bytes(sha256[..8].try_into().expect("32 bytes")),
            )],
        };
        spec_key(
            b"datapact.network.v1",
            n,
            "population.network.model",
            self.name(),
            "population.network.",
            &params,
        )
    }

    /// The graph of replication `replication` over n users: drawn from
    /// [`network_rng`]`(seed, self.key(n), replication)`.
    ///
    /// # Panics
    /// If [`Network::validate`] rejects the parameters for n (the scenario loader checks them
    /// first).
    pub fn generate(&self, n: usize, seed: u64, replication: u64) -> Csr {
        self.sample(n, &mut network_rng(seed, self.key(n), replication))
    }

    /// A graph over n users drawn from `rng` (what [`Network::generate`] does on the network
    /// stream). O(n + edges) time and memory.
    ///
    /// # Panics
    /// If [`Network::validate`] rejects the parameters for n.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Csr {
        if let Err(e) = self.validate(n) {
            panic!("{} network: {e}", self.name());
        }
        match self {
            &Network::ErdosRenyi { mean_degree } => erdos_renyi(n, mean_degree, rng),
            &Network::WattsStrogatz { k, rewire } => watts_strogatz(n, k, rewire, rng),
            &Network::BarabasiAlbert { m } => barabasi_albert(n, m, rng),
            Network::File { edges, .. } => {
                let pairs: Vec<(usize, usize)> = edges
                    .iter()
                    .map(|&(a, b)| (a as usize, b as usize))
                    .collect();
                Csr::from_edges(n, &pairs).expect("validated edge list")
            }
        }
    }
}

/// The network stream: ChaCha8 keyed by `le(seed) ‖ le(key) ‖ le(replication) ‖ "network\0"`,
/// `key` being [`Network::key`]. Independent of the campaign's draws (another tag and key).
pub fn network_rng(seed: u64, key: u64, replication: u64) -> ChaCha8Rng {
    stream(seed, key, replication, NETWORK_TAG)
}

/// The threshold stream: ChaCha8 keyed by `le(seed) ‖ le(key) ‖ le(replication) ‖ "thresh\0\0"`,
/// `key` being [`Threshold::key`].
pub fn threshold_rng(seed: u64, key: u64, replication: u64) -> ChaCha8Rng {
    stream(seed, key, replication, THRESHOLD_TAG)
}

/// `+0.0` and `-0.0` draw alike; give them one key.
fn f64_key(v: f64) -> u64 {
    (v + 0.0).to_bits()
}

/// SHA-256 of `domain ‖ ";population.users=" ‖ le(n) ‖ ";" what "=" name`, then per parameter
/// `";" prefix NAME "=" le(value)`; its first 8 bytes as a little-endian `u64`.
fn spec_key(
    domain: &[u8],
    n: usize,
    what: &str,
    name: &str,
    prefix: &str,
    params: &[(&str, u64)],
) -> u64 {
    let mut h = Sha256::new();
    h.update(domain);
    h.update(b";population.users=");
    h.update((n as u64).to_le_bytes());
    h.update(b";");
    h.update(what.as_bytes());
    h.update(b"=");
    h.update(name.as_bytes());
    for (param, bits) in params {
        h.update(b";");
        h.update(prefix.as_bytes());
        h.update(param.as_bytes());
        h.update(b"=");
        h.update(bits.to_le_bytes());
    }
    let digest = h.finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"))
}

/// An undirected simple graph over users `0..n` in compressed sparse rows: the neighbours of
/// user i are `neighbours[offsets[i]..offsets[i + 1]]`, sorted ascending. Every edge is stored
/// twice (once per end): (n + 1)·8 + 2·edges·4 bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Csr {
    offsets: Vec<usize>,
    neighbours: Vec<u32>,
}

/// Why an edge list is not a simple graph over users `0..n`. `edge` is the 0-based position in
/// the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EdgeError {
    /// More users than a `u32` indexes.
    TooManyUsers {
        /// The number of users asked for.
        n: usize,
    },
    /// An end is not a user index.
    OutOfRange {
        /// Position of the edge in the list.
        edge: usize,
        /// The edge as given.
        pair: (usize, usize),
        /// The number of users (valid indices are `0..n`).
        n: usize,
    },
    /// An edge from a user to herself.
    SelfLoop {
        /// Position of the edge in the list.
        edge: usize,
        /// The user.
        node: usize,
    },
    /// An edge given twice (in either orientation).
    Duplicate {
        /// Position of the repeat in the list.
        edge: usize,
        /// The repeat as given.
        pair: (usize, usize),
        /// Position of the first occurrence.
        first: usize,
        /// The first occurrence as given.
        first_pair: (usize, usize),
    },
}

impl std::fmt::Display for EdgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            EdgeError::TooManyUsers { n } => {
                write!(f, "a network has at most {} users, got {n}", u32::MAX)
            }
            EdgeError::OutOfRange { edge, pair, n } => write!(
                f,
                "edge {edge} ({}, {}): users are 0..{n} (0 to {})",
                pair.0,
                pair.1,
                n as i128 - 1
            ),
            EdgeError::SelfLoop { edge, node } => {
                write!(f, "edge {edge} ({node}, {node}) is a self-loop")
            }
            EdgeError::Duplicate {
                edge,
                pair,
                first,
                first_pair,
            } => write!(
                f,
                "edge {edge} ({}, {}) repeats edge {first} ({}, {})",
                pair.0, pair.1, first_pair.0, first_pair.1
            ),
        }
    }
}

impl std::error::Error for EdgeError {}

impl Csr {
    /// The graph over users `0..n` with the given undirected edges, each once in either
    /// orientation. Errors name the first offending edge (by position): out-of-range ends and
    /// self-loops in list order first, then the earliest repeat of an edge.
    pub fn from_edges(n: usize, edges: &[(usize, usize)]) -> Result<Csr, EdgeError> {
        if n > u32::MAX as usize {
            return Err(EdgeError::TooManyUsers { n });
        }
        for (edge, &(a, b)) in edges.iter().enumerate() {
            if a >= n || b >= n {
                return Err(EdgeError::OutOfRange {
                    edge,
                    pair: (a, b),
                    n,
                });
            }
            if a == b {
                return Err(EdgeError::SelfLoop { edge, node: a });
            }
        }
        let graph = Csr::from_pairs(n, edges.iter().map(|&(a, b)| (a as u32, b as u32)));
        if graph.has_repeats() {
            return Err(first_repeat(edges));
        }
        Ok(graph)
    }

    /// CSR from pairs known to be in range and free of self-loops (repeats are kept: callers
    /// that may have them check [`Csr::has_repeats`]).
    fn from_pairs<I>(n: usize, pairs: I) -> Csr
    where
        I: Iterator<Item = (u32, u32)> + Clone,
    {
        let mut offsets = vec![0usize; n + 1];
        for (a, b) in pairs.clone() {
            offsets[a as usize + 1] += 1;
            offsets[b as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut next = offsets[..n].to_vec();
        let mut neighbours = vec![0u32; offsets[n]];
        for (a, b) in pairs {
            neighbours[next[a as usize]] = b;
            next[a as usize] += 1;
            neighbours[next[b as usize]] = a;
            next[b as usize] += 1;
        }
        for i in 0..n {
            neighbours[offsets[i]..offsets[i + 1]].sort_unstable();
        }
        Csr {
            offsets,
            neighbours,
        }
    }

    /// CSR from adjacency lists that are already symmetric and simple.
    fn from_lists(lists: Vec<Vec<u32>>) -> Csr {
        let mut offsets = Vec::with_capacity(lists.len() + 1);
        offsets.push(0);
        let mut neighbours = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        for mut list in lists {
            list.sort_unstable();
            neighbours.extend_from_slice(&list);
            offsets.push(neighbours.len());
        }
        Csr {
            offsets,
            neighbours,
        }
    }

    /// Whether some user lists a neighbour twice (neighbour lists are sorted).
    fn has_repeats(&self) -> bool {
        (0..self.nodes()).any(|i| self.neighbours(i).windows(2).any(|w| w[0] == w[1]))
    }

    /// The number of users n.
    pub fn nodes(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The number of (undirected) edges.
    pub fn edges(&self) -> usize {
        self.neighbours.len() / 2
    }

    /// The neighbours of user i, ascending.
    #[inline]
    pub fn neighbours(&self, i: usize) -> &[u32] {
        &self.neighbours[self.offsets[i]..self.offsets[i + 1]]
    }

    /// The degree of user i (her number of neighbours).
    #[inline]
    pub fn degree(&self, i: usize) -> usize {
        self.offsets[i + 1] - self.offsets[i]
    }

    /// The mean degree 2·edges / n (0 for no users).
    pub fn mean_degree(&self) -> f64 {
        if self.nodes() == 0 {
            0.0
        } else {
            self.neighbours.len() as f64 / self.nodes() as f64
        }
    }

    /// Whether users i and j are neighbours (binary search, O(log degree)).
    pub fn has_edge(&self, i: usize, j: usize) -> bool {
        u32::try_from(j).is_ok_and(|j| self.neighbours(i).binary_search(&j).is_ok())
    }

    /// The bytes the graph holds on the heap: (n + 1)·8 + 2·edges·4 on a 64-bit target.
    pub fn memory_bytes(&self) -> usize {
        self.offsets.len() * std::mem::size_of::<usize>()
            + self.neighbours.len() * std::mem::size_of::<u32>()
    }
}

/// The earliest edge (by position) that repeats an earlier one, in either orientation.
fn first_repeat(edges: &[(usize, usize)]) -> EdgeError {
    let mut seen = std::collections::HashMap::with_capacity(edges.len());
    for (edge, &(a, b)) in edges.iter().enumerate() {
        if let Some(&first) = seen.get(&(a.min(b), a.max(b))) {
            return EdgeError::Duplicate {
                edge,
                pair: (a, b),
                first,
                first_pair: edges[first],
            };
        }
        seen.insert((a.min(b), a.max(b)), edge);
    }
    unreachable!("first_repeat is called on a list with a repeated edge")
}

/// G(n, p) by geometric skipping over the pairs (Batagelj and Brandes 2005): the gap to the next
/// edge in the row-major order of pairs (v, w), w < v, is Geometric(p), so the cost is
/// O(n + edges) draws, one uniform per edge plus one.
fn erdos_renyi<R: Rng + ?Sized>(n: usize, mean_degree: f64, rng: &mut R) -> Csr {
    if n < 2 || mean_degree == 0.0 {
        return Csr::from_pairs(n, std::iter::empty());
    }
    let p = mean_degree / (n - 1) as f64;
    // 1/ln(1 − p); −0 when p = 1, when every gap is 0 (the complete graph).
    let inv_log_q = 1.0 / crate::variates::ln_1p(-p);
    let total_pairs = (n as u64) * (n as u64 - 1) / 2;
    let mut pairs: Vec<(u32, u32)> =
        Vec::with_capacity((p * total_pairs as f64 * 1.05) as usize + 16);
    // The next candidate pair is (v, c), c < v.
    let (mut v, mut c) = (1u64, 0u64);
    let n64 = n as u64;
    loop {
        // Geometric(p) by inversion, ⌊ln(1 − U)/ln(1 − p)⌋ (≥ 0, so `as` truncates to the
        // floor). A gap past every remaining pair ends the graph; clamping keeps c in range.
        let gap = (crate::variates::ln(1.0 - unit_f64(rng)) * inv_log_q) as u64;
        c += gap.min(total_pairs);
        while c >= v && v < n64 {
            c -= v;
            v += 1;
        }
        if v >= n64 {
            break;
        }
        pairs.push((v as u32, c as u32));
        c += 1;
    }
    // Rows ascend and columns ascend within a row, so every neighbour list comes out sorted.
    Csr::from_pairs(n, pairs.iter().copied())
}

/// Watts–Strogatz as in NetworkX's `watts_strogatz_graph`: the ring lattice, then for j = 1..k/2
/// (outer) and i = 0..n (inner) the edge (i, i + j mod n) is rewired with probability `rewire` to
/// (i, w), w uniform and redrawn while w = i or (i, w) is already an edge; a user tied to every
/// other keeps her edge.
fn watts_strogatz<R: Rng + ?Sized>(n: usize, k: usize, rewire: f64, rng: &mut R) -> Csr {
    let half = k / 2;
    let mut adjacency: Vec<Vec<u32>> = (0..n)
        .map(|i| {
            let mut list = Vec::with_capacity(k);
            for j in 1..=half {
                list.push(((i + j) % n) as u32);
                list.push(((i + n - j) % n) as u32);
            }
            list
        })
        .collect();
    if rewire > 0.0 {
        for j in 1..=half {
            for i in 0..n {
                if unit_f64(rng) >= rewire || adjacency[i].len() >= n - 1 {
                    continue;
                }
                let mut w = rng.random_range(0..n);
                while w == i || adjacency[i].contains(&(w as u32)) {
                    w = rng.random_range(0..n);
                }
                let v = (i + j) % n;
                remove(&mut adjacency[i], v as u32);
                remove(&mut adjacency[v], i as u32);
                adjacency[i].push(w as u32);
                adjacency[w].push(i as u32);
            }
        }
    }
    Csr::from_lists(adjacency)
}

/// Removes one occurrence of `x` from `list` (order is restored when the CSR sorts).
fn remove(list: &mut Vec<u32>, x: u32) {
    let at = list
        .iter()
        .position(|&y| y == x)
        .expect("a lattice edge is rewired once, while it is still there");
    list.swap_remove(at);
}

/// Barabási–Albert as in NetworkX's `barabasi_albert_graph`: user m is tied to users 0..m (a
/// star), then each user s = m + 1..n ties to m distinct users drawn from the list in which every
/// user appears once per edge end (probability ∝ degree), redrawing repeats.
fn barabasi_albert<R: Rng + ?Sized>(n: usize, m: usize, rng: &mut R) -> Csr {
    let edges = m * (n - m);
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(edges);
    let mut ends: Vec<u32> = Vec::with_capacity(2 * edges);
    for t in 0..m {
        pairs.push((m as u32, t as u32));
        ends.push(t as u32);
    }
    ends.extend(std::iter::repeat_n(m as u32, m));
    let mut chosen = vec![false; n];
    let mut targets: Vec<u32> = Vec::with_capacity(m);
    for s in m + 1..n {
        targets.clear();
        while targets.len() < m {
            let t = ends[rng.random_range(0..ends.len())];
            if !chosen[t as usize] {
                chosen[t as usize] = true;
                targets.push(t);
            }
        }
        for &t in &targets {
            chosen[t as usize] = false;
            pairs.push((s as u32, t));
            ends.push(t);
        }
        ends.extend(std::iter::repeat_n(s as u32, m));
    }
    Csr::from_pairs(n, pairs.iter().copied())
}

/// Users' thresholds φ_i: one number for all, or drawn per user from a distribution (any of the
/// cost distributions: `Beta` for thresholds in [0, 1], ...).
#[derive(Clone, Debug, PartialEq)]
pub enum Threshold {
    /// Every user has the same threshold (nothing is drawn).
    Same(f64),
    /// φ_i drawn independently from the distribution, per user in user order.
    Drawn(CostDist),
}

impl Threshold {
    /// Checks the threshold (finite, ≥ 0) or the distribution: its parameters, and that it
    /// draws in [0, 1] ([`CostDist::support`]: `beta`, `uniform` with `high` ≤ 1, `constant`
    /// with `value` ≤ 1; not `lognormal`, unbounded).
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Threshold::Same(phi) if !(phi.is_finite() && *phi >= 0.0) => {
                Err(format!("threshold must be a finite number >= 0, got {phi}"))
            }
            Threshold::Same(_) => Ok(()),
            Threshold::Drawn(dist) => {
                dist.sampler()?;
                let (low, high) = dist.support();
                if low >= 0.0 && high <= 1.0 {
                    Ok(())
                } else {
                    Err(format!(
                        "a drawn threshold must lie in [0, 1]: {} draws in [{low}, {high}] \
                         (allowed: beta, uniform with 0 <= low <= high <= 1, constant with \
                         value in [0, 1])",
                        dist.name()
                    ))
                }
            }
        }
    }

    /// The threshold key over n users: as [`Network::key`] with the domain
    /// `"datapact.threshold.v1"`, `;population.users=` ‖ le(n),
    /// `;population.withdraw.threshold.dist=` ‖ the distribution's name (`"same"` for one
    /// number), and per parameter `;population.withdraw.threshold.NAME=` ‖ le(its `f64` bits)
    /// (`value` for one number). It depends on neither the network nor the costs, so every
    /// network density meets the same thresholds.
    pub fn key(&self, n: usize) -> u64 {
        let (name, params): (&str, Vec<(&str, u64)>) = match self {
            Threshold::Same(phi) => ("same", vec![("value", f64_key(*phi))]),
            Threshold::Drawn(dist) => (
                dist.name(),
                dist.params()
                    .into_iter()
                    .map(|(name, v)| (name, f64_key(v)))
                    .collect(),
            ),
        };
        spec_key(
            b"datapact.threshold.v1",
            n,
            "population.withdraw.threshold.dist",
            name,
            "population.withdraw.threshold.",
            &params,
        )
    }

    /// The thresholds of n users in replication `replication`: `vec![φ; n]` for
    /// [`Threshold::Same`], else n draws in user order from
    /// [`threshold_rng`]`(seed, self.key(n), replication)`.
    ///
    /// # Panics
    /// If [`Threshold::validate`] rejects it.
    pub fn draw(&self, n: usize, seed: u64, replication: u64) -> Vec<f64> {
        if let Err(e) = self.validate() {
            panic!("threshold: {e}");
        }
        match self {
            Threshold::Same(phi) => vec![*phi; n],
            Threshold::Drawn(dist) => {
                let sampler = dist.sampler().expect("validated above");
                let mut rng = threshold_rng(seed, self.key(n), replication);
                (0..n).map(|_| sampler.sample(&mut rng)).collect()
            }
        }
    }
}

/// The outcome of a threshold contagion: who became active, in order, and through whom.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cascade {
    /// Active users in activation order, the seeds first (in the order given, repeats dropped).
    pub order: Vec<u32>,
    /// Per entry of `order`, the neighbour whose activation pushed her share of active
    /// neighbours to her threshold (an earlier entry of `order`); `None` for seeds.
    pub cause: Vec<Option<u32>>,
}

impl Cascade {
    /// The number of active users at the end (seeds included).
    pub fn size(&self) -> usize {
        self.order.len()
    }
}

/// The threshold contagion of Watts (2002) from `seeds`: an inactive user i becomes active
/// when the share of her active neighbours reaches her threshold, (active neighbours) / degree
/// ≥ `threshold(i)` (the share is computed as an `f64` division, so 1/4 ≥ 0.25 holds exactly);
/// activation is permanent. A user becomes active only through a neighbour's activation (a
/// user without neighbours never does; one with a threshold ≤ 0 does at her first active
/// neighbour): pass spontaneous adopters as seeds.
///
/// Activations are processed first in, first out, so `order` is breadth-first and each
/// activation's cause is the neighbour processed last before it. The final active set does not
/// depend on that order (activation is monotone). O(n + edges) time, O(n) extra memory.
///
/// # Panics
/// If a seed is not a user of the graph.
pub fn threshold_cascade(
    graph: &Csr,
    seeds: &[usize],
    threshold: impl Fn(usize) -> f64,
) -> Cascade {
    let n = graph.nodes();
    let mut active = vec![false; n];
    let mut active_neighbours = vec![0u32; n];
    let mut cascade = Cascade::default();
    for &s in seeds {
        assert!(s < n, "seed {s} is not a user of a network of {n}");
        if !active[s] {
            active[s] = true;
            cascade.order.push(s as u32);
            cascade.cause.push(None);
        }
    }
    let mut next = 0;
    while next < cascade.order.len() {
        let u = cascade.order[next];
        next += 1;
        for &v in graph.neighbours(u as usize) {
            let v = v as usize;
            if active[v] {
                continue;
            }
            active_neighbours[v] += 1;
            if active_neighbours[v] as f64 / graph.degree(v) as f64 >= threshold(v) {
                active[v] = true;
                cascade.order.push(v as u32);
                cascade.cause.push(Some(u));
            }
        }
    }
    cascade
}

/// A campaign's network as the withdraw protocols read it, and what they record on it
/// (`docs/model.md`, "Users on a network"): each user's count of neighbours known to have
/// withdrawn, what she saw at her decision, and whether she withdrew through her ties.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Peers {
    /// The graph over the campaign's users.
    pub graph: Csr,
    /// Per user: her neighbours known to have withdrawn (grown by [`Peers::withdrew`]).
    pub withdrawn: Vec<u32>,
    /// Per user: `withdrawn` at her (last) decision.
    pub seen: Vec<u32>,
    /// Per user: the neighbour whose withdrawal she learned of last ([`Peers::NOBODY`]: none).
    pub last: Vec<u32>,
    /// Per user: whether she withdrew through her ties (her rule would have kept her without
    /// what she saw of her neighbours).
    pub through_ties: Vec<bool>,
    /// Per user who withdrew through her ties: `last` at her withdrawal, the neighbour whose
    /// withdrawal set it off (kept, unlike `last`, when later withdrawals reach her);
    /// [`Peers::NOBODY`] for everyone else.
    pub trigger: Vec<u32>,
    /// Per user: her own threshold φ_i when the population's thresholds are drawn
    /// ([`Threshold::Drawn`], [`Peers::with_thresholds`]); empty when they are one number
    /// (the `threshold` strategy's parameter).
    pub thresholds: Vec<f64>,
    /// The users who withdrew in the previous round on this graph (repeated games,
    /// [`Peers::remember`]), in user order: each campaign starts with their withdrawals known
    /// to their neighbours ([`Peers::reset`]). Empty in a first round.
    pub previous: Vec<u32>,
}

impl Peers {
    /// "Nobody" in [`Peers::last`].
    pub const NOBODY: u32 = u32::MAX;

    /// The protocols' view of `graph`, nobody withdrawn yet.
    pub fn new(graph: Csr) -> Peers {
        let mut p = Peers {
            graph,
            ..Peers::default()
        };
        p.reset();
        p
    }

    /// A new campaign on the same graph: forgets the last campaign's records, and starts with
    /// the previous round's withdrawals ([`Peers::previous`]) known to the withdrawers'
    /// neighbours, delivered in user order (so [`Peers::last`] is the highest-indexed of them).
    /// Nobody is withdrawn in a first round.
    pub fn reset(&mut self) {
        self.clear();
        for k in 0..self.previous.len() {
            self.withdrew(self.previous[k] as usize);
        }
    }

    /// Forgets every withdrawal, the previous round's included (a new population on the graph).
    pub fn forget(&mut self) {
        self.previous.clear();
        self.clear();
    }

    /// Remembers who withdrew in the round just played (`withdrew(i)` for user i), for the
    /// campaign of the next round ([`Peers::reset`]): the previous round only, earlier rounds
    /// are forgotten.
    pub fn remember(&mut self, withdrew: impl Fn(usize) -> bool) {
        self.previous.clear();
        self.previous.extend(
            (0..self.graph.nodes())
                .filter(|&i| withdrew(i))
                .map(|i| i as u32),
        );
    }

    /// Nobody withdrawn, nothing recorded.
    fn clear(&mut self) {
        let n = self.graph.nodes();
        for (v, x) in [(&mut self.withdrawn, 0), (&mut self.seen, 0)] {
            v.clear();
            v.resize(n, x);
        }
        for v in [&mut self.last, &mut self.trigger] {
            v.clear();
            v.resize(n, Self::NOBODY);
        }
        self.through_ties.clear();
        self.through_ties.resize(n, false);
    }

    /// These peers with each user's own threshold φ_i (`thresholds[i]`, one per user: a
    /// [`Threshold::draw`]).
    ///
    /// # Panics
    /// If there is not one threshold per user.
    pub fn with_thresholds(mut self, thresholds: Vec<f64>) -> Peers {
        assert_eq!(
            thresholds.len(),
            self.graph.nodes(),
            "one threshold per user"
        );
        self.thresholds = thresholds;
        self
    }

    /// What user `i` sees of her neighbours now (and her own threshold, when drawn).
    #[inline]
    pub fn neighbours(&self, i: usize) -> crate::strategy::Neighbours {
        crate::strategy::Neighbours {
            degree: self.graph.degree(i) as u32,
            withdrawn: self.withdrawn[i],
            threshold: self.thresholds.get(i).copied(),
        }
    }

    /// Records that user `u`'s withdrawal reached her neighbours.
    pub fn withdrew(&mut self, u: usize) {
        for &v in self.graph.neighbours(u) {
            self.withdrawn[v as usize] += 1;
            self.last[v as usize] = u as u32;
        }
    }

    /// Withdrawals through ties so far (the campaign's cascade size).
    pub fn cascade(&self) -> usize {
        self.through_ties.iter().filter(|&&t| t).count()
    }
}
