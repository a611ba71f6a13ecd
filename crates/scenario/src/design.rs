//! Experiment designs: the `[design]` table, and the points of each kind.
//!
//! A design is a list of points over named axes. The grid (`[sweep]`, or `kind = "grid"`) is the
//! Cartesian product of its axes; the sampled kinds (`lhs`, `sobol`, `morris`) draw their points
//! in the unit cube as a pure function of (kind, samples, axis count, scenario seed) and map each
//! coordinate onto its axis's `{ from, to, log }` range; `points` lists them. A scenario may cross
//! a grid with one list of points: the grid's axes vary slowest, the point fastest.
//!
//! The sampled kinds read a ChaCha8 stream keyed by SHA-256 of a tag and the scenario seed, so
//! it is independent of every campaign's stream (those are keyed by the seed and the cell).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use datapact_model::Rule;

use crate::read::{Cx, Res, as_table, check, integer, raw_number, string};
use crate::tree::{Loc, Node, Val};

/// How a scenario's points are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DesignKind {
    /// The Cartesian product of the axes (`[sweep]`).
    #[default]
    Grid,
    /// `samples` points of a Latin hypercube: each axis's `samples` equal strata hit once.
    Lhs,
    /// Saltelli's scheme on an Owen-scrambled Sobol sequence: `samples`·(2D + 2) points for D
    /// axes, in blocks of 2D + 2 (A, AB₁..AB_D, BA₁..BA_D, B), the layout of SALib's
    /// `saltelli.sample` with second-order terms.
    Sobol,
    /// `samples` Morris trajectories of D + 1 points: each step moves one axis by ±Δ.
    Morris,
    /// An explicit list (`points = [...]` or `file = "points.csv"`).
    Points,
}

impl DesignKind {
    /// Every kind, in the order of the documentation.
    pub const ALL: [DesignKind; 5] = [
        DesignKind::Grid,
        DesignKind::Lhs,
        DesignKind::Sobol,
        DesignKind::Morris,
        DesignKind::Points,
    ];

    /// The kind's name in scenario files and the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            DesignKind::Grid => "grid",
            DesignKind::Lhs => "lhs",
            DesignKind::Sobol => "sobol",
            DesignKind::Morris => "morris",
            DesignKind::Points => "points",
        }
    }

    /// Parse a kind's name.
    pub fn parse(s: &str) -> Option<DesignKind> {
        DesignKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the points are drawn (`lhs`, `sobol`, `morris`).
    pub fn is_sampled(self) -> bool {
        matches!(
            self,
            DesignKind::Lhs | DesignKind::Sobol | DesignKind::Morris
        )
    }
}

/// Levels of the Morris grid: coordinates are multiples of 1/(levels − 1).
pub const MORRIS_LEVELS: u32 = 4;

/// The Morris step in the unit cube: levels / (2·(levels − 1)) = 2/3.
pub const MORRIS_DELTA: f64 = MORRIS_LEVELS as f64 / (2.0 * (MORRIS_LEVELS as f64 - 1.0));

/// Largest base sample count of a Sobol design (the scrambled sequence's length).
pub const MAX_SOBOL_SAMPLES: usize = 1 << 16;

/// Largest axis count of a Sobol design: A and B take 2D of the sequence's 256 dimensions.
pub const MAX_SOBOL_AXES: usize = 128;

/// Largest number of points of any design.
pub const MAX_POINTS: usize = 10_000_000;

/// A sampled axis's range: a unit coordinate u maps to from + u·(to − from), or on a log scale
/// to from·(to/from)^u.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AxisRange {
    /// Lower end.
    pub from: f64,
    /// Upper end (> from).
    pub to: f64,
    /// Log scale (from > 0).
    pub log: bool,
}

impl AxisRange {
    /// The value at unit coordinate `u` ∈ [0, 1], rounded for integer keys, within [from, to].
    pub fn at(&self, u: f64, rule: Rule) -> f64 {
        let v = if self.log {
            // libm's exp and ln (datapact_model::variates): the same points on every platform.
            use datapact_model::variates::{exp, ln};
            exp(ln(self.from) + u * (ln(self.to) - ln(self.from)))
        } else {
            self.from + u * (self.to - self.from)
        };
        let v = v.clamp(self.from, self.to);
        if rule.is_int() { v.round() } else { v }
    }
}

/// A scenario's design: its kind, and which of [`crate::Scenario::sweep`]'s axes are its points'.
///
/// The axes before `first_axis` are grid axes (their values are crossed); the axes from
/// `first_axis` on hold one value per point (all of the same length, `points`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Design {
    /// The kind written in `[design]` (`Grid` without one).
    pub kind: DesignKind,
    /// `samples` of a sampled kind (0 otherwise).
    pub samples: usize,
    /// A Sobol design without the BA blocks (`[design] second_order = false`): N·(D + 2) points
    /// (A, AB₁..AB_D, B), enough for S1 and ST but not S2, as SALib's
    /// `saltelli.sample(calc_second_order=False)` lays them out.
    pub first_order_only: bool,
    /// Index in `Scenario::sweep` of the first point axis.
    pub first_axis: usize,
    /// Number of points (0 when there are no point axes).
    pub points: usize,
    /// The range of each point axis, for the sampled kinds.
    pub ranges: Vec<AxisRange>,
    /// Each point's unit-cube coordinates, for the sampled kinds (what the analysis of a Morris
    /// design reads).
    pub unit: Vec<Vec<f64>>,
}

/// The points of a sampled design in the unit cube: `dims` coordinates each, a pure function of
/// the arguments.
///
/// # Panics
/// `first_order_only` (Sobol only) leaves out the BA blocks ([`Design::first_order_only`]).
///
/// # Panics
/// If `kind` is not sampled, or a Sobol design exceeds [`MAX_SOBOL_SAMPLES`] or
/// [`MAX_SOBOL_AXES`] (the loader rejects those first).
pub fn unit_points(
    kind: DesignKind,
    samples: usize,
    dims: usize,
    first_order_only: bool,
    seed: u64,
) -> Vec<Vec<f64>> {
    let mut rng = design_rng(seed);
    match kind {
        DesignKind::Lhs => lhs(samples, dims, &mut rng),
        DesignKind::Sobol => saltelli(samples, dims, !first_order_only, rng.next_u32()),
        DesignKind::Morris => morris(samples, dims, &mut rng),
        _ => panic!("{} designs are not sampled", kind.as_str()),
    }
}

/// Number of points of a sampled design with `samples` and `dims` axes.
pub fn point_count(kind: DesignKind, samples: usize, dims: usize, first_order_only: bool) -> usize {
    match kind {
        DesignKind::Sobol if first_order_only => samples.saturating_mul(dims + 2),
        DesignKind::Sobol => samples.saturating_mul(2 * dims + 2),
        DesignKind::Morris => samples.saturating_mul(dims + 1),
        _ => samples,
    }
}

/// The design's random stream: ChaCha8 keyed by SHA-256("datapact design" ‖ le(seed)).
fn design_rng(seed: u64) -> ChaCha8Rng {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"datapact design");
    h.update(seed.to_le_bytes());
    ChaCha8Rng::from_seed(h.finalize().into())
}

/// A uniform draw in [0, 1) with 53 random bits.
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform index in 0..n (rejection sampling: no modulo bias).
fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let n = n as u64;
    let zone = u64::MAX - u64::MAX % n;
    loop {
        let x = rng.next_u64();
        if x < zone {
            return (x % n) as usize;
        }
    }
}

/// Fisher–Yates.
fn shuffle<T>(rng: &mut ChaCha8Rng, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        v.swap(i, below(rng, i + 1));
    }
}

/// Latin hypercube: axis by axis, a random permutation of the n strata, a uniform point in each.
fn lhs(n: usize, dims: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<f64>> {
    let mut points = vec![vec![0.0; dims]; n];
    for d in 0..dims {
        let mut strata: Vec<usize> = (0..n).collect();
        shuffle(rng, &mut strata);
        for (p, s) in points.iter_mut().zip(strata) {
            p[d] = (s as f64 + uniform(rng)) / n as f64;
        }
    }
    points
}

/// Saltelli's A/B cross-sampling on the first 2D dimensions of an Owen-scrambled Sobol sequence
/// (A = dimensions 0..D, B = D..2D), in SALib's order: per base sample A, AB₁..AB_D (A with
/// column i from B), BA₁..BA_D (B with column i from A; only with `second_order`), B.
fn saltelli(n: usize, dims: usize, second_order: bool, scramble: u32) -> Vec<Vec<f64>> {
    assert!(n <= MAX_SOBOL_SAMPLES && dims <= MAX_SOBOL_AXES);
    let mut points = Vec::with_capacity(n * (2 * dims + 2));
    for j in 0..n {
        let row = |d: usize| f64::from(sobol_burley::sample(j as u32, d as u32, scramble));
        let a: Vec<f64> = (0..dims).map(row).collect();
        let b: Vec<f64> = (dims..2 * dims).map(row).collect();
        points.push(a.clone());
        for i in 0..dims {
            let mut ab = a.clone();
            ab[i] = b[i];
            points.push(ab);
        }
        for i in (0..dims).filter(|_| second_order) {
            let mut ba = b.clone();
            ba[i] = a[i];
            points.push(ba);
        }
        points.push(b);
    }
    points
}

/// Morris trajectories (Morris 1991): a base point on the levels' grid, then each axis in a
/// random order moves by +Δ if that stays in [0, 1], else by −Δ.
fn morris(r: usize, dims: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<f64>> {
    let top = (MORRIS_LEVELS - 1) as usize;
    let mut points = Vec::with_capacity(r * (dims + 1));
    for _ in 0..r {
        let mut x: Vec<f64> = (0..dims)
            .map(|_| below(rng, top + 1) as f64 / top as f64)
            .collect();
        let mut order: Vec<usize> = (0..dims).collect();
        shuffle(rng, &mut order);
        points.push(x.clone());
        for i in order {
            x[i] = if x[i] + MORRIS_DELTA <= 1.0 + 1e-12 {
                (x[i] + MORRIS_DELTA).min(1.0)
            } else {
                (x[i] - MORRIS_DELTA).max(0.0)
            };
            points.push(x.clone());
        }
    }
    points
}

/// The keys `[design]` reserves; every other entry is an axis.
pub(crate) const RESERVED: [&str; 6] = [
    "kind",
    "samples",
    "second_order",
    "points",
    "file",
    "points_sha256",
];

/// `kind`, `samples` and `second_order` of a `[design]` table, checked against each other;
/// `second_order = false` is returned as `first_order_only`.
pub(crate) fn kind_and_samples(
    cx: &Cx,
    t: &crate::read::Tbl,
    axes: usize,
) -> Res<(DesignKind, usize, bool)> {
    let kn = t.require(cx, "kind")?;
    let names: Vec<&str> = DesignKind::ALL.iter().map(|k| k.as_str()).collect();
    let kind =
        DesignKind::parse(&crate::read::choice(cx, "design.kind", kn, &names)?).unwrap_or_default();
    let samples = match (kind.is_sampled(), t.get("samples")) {
        (true, None) => {
            return Err(cx.err(
                &t.loc,
                "design.samples",
                format!("design.kind = \"{}\" needs design.samples", kind.as_str()),
            ));
        }
        (true, Some(n)) => {
            let max = if kind == DesignKind::Sobol {
                MAX_SOBOL_SAMPLES
            } else {
                MAX_POINTS
            };
            let min = if kind == DesignKind::Lhs { 1 } else { 2 };
            integer(
                cx,
                "design.samples",
                n,
                Rule::Int {
                    min,
                    max: max as i64,
                },
            )? as usize
        }
        (false, Some(n)) => {
            return Err(cx.err(
                &n.loc,
                "design.samples",
                format!(
                    "design.samples has no effect with design.kind = \"{}\" (only lhs, sobol, morris)",
                    kind.as_str()
                ),
            ));
        }
        (false, None) => 0,
    };
    let first_order_only = match t.get("second_order") {
        None => false,
        Some(n) => match (&n.val, kind) {
            (Val::Bool(b), DesignKind::Sobol) => !*b,
            (Val::Bool(_), _) => {
                return Err(cx.err(
                    &n.loc,
                    "design.second_order",
                    format!(
                        "design.second_order is only for design.kind = \"sobol\" (found kind = \"{}\")",
                        kind.as_str()
                    ),
                ));
            }
            (other, _) => {
                return Err(cx.err(
                    &n.loc,
                    "design.second_order",
                    format!(
                        "design.second_order must be a boolean (true: N·(2D + 2) points for S1, ST and S2; false: N·(D + 2) for S1 and ST), found {}",
                        other.type_name()
                    ),
                ));
            }
        },
    };
    for k in ["points", "file", "points_sha256"] {
        if kind != DesignKind::Points
            && let Some(n) = t.get(k)
        {
            return Err(cx.err(
                &n.loc,
                &format!("design.{k}"),
                format!(
                    "design.{k} is only for design.kind = \"points\" (found kind = \"{}\")",
                    kind.as_str()
                ),
            ));
        }
    }
    if kind.is_sampled() && axes == 0 {
        return Err(cx.err(
            &t.loc,
            "design",
            format!(
                "design.kind = \"{}\" needs at least one axis, e.g. game.value = {{ from = 0.0, to = 0.3 }}",
                kind.as_str()
            ),
        ));
    }
    if kind == DesignKind::Sobol && axes > MAX_SOBOL_AXES {
        return Err(cx.err(
            &t.loc,
            "design",
            format!("a sobol design takes at most {MAX_SOBOL_AXES} axes, found {axes}"),
        ));
    }
    let count = point_count(kind, samples, axes, first_order_only);
    if count > MAX_POINTS {
        return Err(cx.err(
            &t.loc,
            "design.samples",
            format!("design has {count} points, more than the limit of {MAX_POINTS}"),
        ));
    }
    Ok((kind, samples, first_order_only))
}

/// A sampled axis: `{ from, to, log = false }`, both ends valid values of the key.
pub(crate) fn parse_range(
    cx: &Cx,
    section: &str,
    key: &str,
    rule: Rule,
    n: &Node,
) -> Res<AxisRange> {
    let dkey = format!("{section}.{key}");
    let t = as_table(cx, &dkey, n)?;
    t.check_keys(cx, &["from", "to", "log"])?;
    let from_n = t.require(cx, "from")?;
    let to_n = t.require(cx, "to")?;
    // The ends are checked against the key's own rule and bound (finite, its range, its
    // magnitude bound for a real key), not a generic one: `population.users` may go to its own
    // maximum, above the 1e6 that bounds real-valued keys.
    let from = raw_number(cx, &format!("{dkey}.from"), from_n)?;
    let to = raw_number(cx, &format!("{dkey}.to"), to_n)?;
    check(
        cx,
        key,
        &from_n.loc,
        from,
        rule,
        &format!(" (in {dkey}.from)"),
    )?;
    check(cx, key, &to_n.loc, to, rule, &format!(" (in {dkey}.to)"))?;
    if to <= from {
        return Err(cx.err(
            &to_n.loc,
            &format!("{dkey}.to"),
            format!("{dkey}: to = {to} must be greater than from = {from}"),
        ));
    }
    let log = match t.get("log") {
        None => false,
        Some(ln) => match &ln.val {
            Val::Bool(b) => *b,
            other => {
                return Err(cx.err(
                    &ln.loc,
                    &format!("{dkey}.log"),
                    format!("{dkey}.log must be a boolean, found {}", other.type_name()),
                ));
            }
        },
    };
    if log && from <= 0.0 {
        return Err(cx.err(
            &from_n.loc,
            &format!("{dkey}.from"),
            format!("{dkey}: a log axis needs from > 0, found {from}"),
        ));
    }
    Ok(AxisRange { from, to, log })
}

/// The listed points: `(key, values per point, location)` per axis, keys in first-seen order.
pub(crate) type Listed = Vec<(String, Vec<f64>, Loc)>;

/// `design.points_sha256`, if given: the digest of the listed points
/// ([`datapact_model::points::points_sha256_hex`]) must be the one written (a run's canonical
/// scenario names its points file this way; a user may pin a points file with it). `shown`
/// names where the points came from.
pub(crate) fn check_points_sha256(
    cx: &Cx,
    given: Option<&Node>,
    listed: &Listed,
    shown: &str,
) -> Res<()> {
    let Some(n) = given else {
        return Ok(());
    };
    let given = string(cx, "design.points_sha256", n)?;
    let keys: Vec<String> = listed.iter().map(|(k, ..)| k.clone()).collect();
    let points = listed.first().map_or(0, |(_, v, _)| v.len());
    let values = (0..points).flat_map(|p| listed.iter().map(move |(_, v, _)| &v[p]));
    let found = datapact_model::points::points_sha256_hex(&keys, points, values);
    if !given.eq_ignore_ascii_case(&found) {
        return Err(cx.err(
            &n.loc,
            "design.points_sha256",
            format!(
                "design.points_sha256 = {given:?}, but the {points} points of {shown} ({}) have \
                 {found}: the points are not the ones this scenario names",
                keys.join(", ")
            ),
        ));
    }
    Ok(())
}

/// `points = [{ game.value = 0.1, ... }, ...]`: every point sets the same keys.
pub(crate) fn inline_points(cx: &Cx, n: &Node) -> Res<Listed> {
    let Val::Array(items) = &n.val else {
        return Err(cx.err(
            &n.loc,
            "design.points",
            format!(
                "design.points must be an array of tables, found {}",
                n.val.type_name()
            ),
        ));
    };
    let mut rows: Vec<(Vec<(String, f64)>, Loc)> = Vec::with_capacity(items.len());
    for item in items {
        let mut row = Vec::new();
        flatten(cx, String::new(), item, &mut row)?;
        rows.push((row, item.loc.clone()));
    }
    collect_rows(cx, "design.points", rows)
}

fn flatten(cx: &Cx, path: String, n: &Node, out: &mut Vec<(String, f64)>) -> Res<()> {
    match &n.val {
        Val::Table(t) => {
            for (k, child) in t {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(cx, p, child, out)?;
            }
            Ok(())
        }
        _ if path.is_empty() => Err(cx.err(
            &n.loc,
            "design.points",
            format!(
                "each of design.points must be a table like {{ game.value = 0.1 }}, found {}",
                n.val.type_name()
            ),
        )),
        _ => {
            let v = raw_number(cx, &format!("design.points.{path}"), n)?;
            out.push((path, v));
            Ok(())
        }
    }
}

/// Rows of (key, value) into columns; every row must set the same keys.
/// The first key that appears twice in `keys`, if any.
fn duplicate(keys: &[String]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    keys.iter()
        .find(|k| !seen.insert(k.as_str()))
        .map(String::as_str)
}

fn collect_rows(cx: &Cx, what: &str, rows: Vec<(Vec<(String, f64)>, Loc)>) -> Res<Listed> {
    let Some((first, first_loc)) = rows.first() else {
        return Err(cx.err(&Loc::File(None), what, format!("{what} lists no points")));
    };
    // (a Parquet file may name a column twice; a CSV header is checked where it is read)
    let first_keys: Vec<String> = first.iter().map(|(k, _)| k.clone()).collect();
    if let Some(k) = duplicate(&first_keys) {
        return Err(cx.err(
            first_loc,
            what,
            format!("{what} names `{k}` twice; each key is one column"),
        ));
    }
    let mut cols: Listed = first
        .iter()
        .map(|(k, _)| (k.clone(), Vec::with_capacity(rows.len()), first_loc.clone()))
        .collect();
    for (row, loc) in &rows {
        let mut keys: Vec<&str> = row.iter().map(|(k, _)| k.as_str()).collect();
        let mut want: Vec<&str> = cols.iter().map(|(k, _, _)| k.as_str()).collect();
        keys.sort_unstable();
        want.sort_unstable();
        if keys != want {
            return Err(cx.err(
                loc,
                what,
                format!(
                    "every point of {what} must set the same keys: found [{}], the first point sets [{}]",
                    keys.join(", "),
                    want.join(", ")
                ),
            ));
        }
        for (k, v) in row {
            let col = cols.iter_mut().find(|(c, _, _)| c == k).expect("same keys");
            col.1.push(*v);
        }
    }
    Ok(cols)
}

/// `file = "points.csv"`: a header of keys, then one point per line (numbers, comma-separated);
/// blank lines and lines starting with `#` are skipped. `file = "points.parquet"` (any name
/// ending in `.parquet`): one numeric column per key, one row per point. A relative path is
/// relative to the scenario file's folder.
/// Returns the points, the file's path as shown in errors and each point's line (or row).
pub(crate) fn file_points(cx: &Cx, n: &Node) -> Res<(Listed, String, Vec<Loc>)> {
    let name = string(cx, "design.file", n)?;
    let base = std::path::Path::new(cx.origin)
        .parent()
        .unwrap_or(std::path::Path::new("."));
    let path = base.join(name);
    let shown = path.display().to_string();
    if shown.to_ascii_lowercase().ends_with(".parquet") {
        let fcx = Cx { origin: &shown };
        let rows = crate::points_file::parquet_rows(&path, MAX_POINTS)
            .map_err(|why| cx.err(&n.loc, "design.file", format!("design.file {shown}: {why}")))?;
        let lines: Vec<Loc> = rows.iter().map(|r| r.1.clone()).collect();
        return collect_rows(&fcx, "design.file", rows)
            .map(|listed| (listed, shown.clone(), lines))
            .map_err(|mut e| {
                if e.origin == shown {
                    e.message = format!("{} (in design.file of {})", e.message, cx.origin);
                }
                e
            });
    }
    // Streamed line by line: a regular file of bounded size (never a FIFO or /dev/zero), its
    // points counted in a first pass before any is kept (a second pass reads them).
    let refused =
        |why: String| cx.err(&n.loc, "design.file", format!("design.file {shown}: {why}"));
    let (file, _) = crate::points_file::open_bounded(&path).map_err(refused)?;
    let fcx = Cx { origin: &shown };
    let lines = || {
        let reader = std::io::BufReader::new(std::io::Read::take(
            &file,
            crate::points_file::MAX_POINTS_FILE_BYTES,
        ));
        std::io::BufRead::lines(reader)
            .enumerate()
            .map(|(i, l)| {
                l.map(|l| (i, l)).map_err(|e| {
                    fcx.err(
                        &Loc::File(Some(i + 1)),
                        "design.file",
                        format!("cannot read design.file {shown}: {e}"),
                    )
                })
            })
            .filter(|l| {
                l.as_ref().map_or(true, |(_, l)| {
                    !l.trim().is_empty() && !l.trim_start().starts_with('#')
                })
            })
    };
    // the header, then at most MAX_POINTS points (a line that cannot be read ends the count:
    // the second pass names it)
    if let Some(beyond) = lines().take_while(Result::is_ok).nth(MAX_POINTS + 1) {
        let (i, _) = beyond?;
        return Err(fcx.err(
            &Loc::File(Some(i + 1)),
            "design.file",
            format!("more than the limit of {MAX_POINTS} design points"),
        ));
    }
    std::io::Seek::rewind(&mut &file).map_err(|e| refused(format!("cannot read it again: {e}")))?;
    let mut lines = lines();
    let Some(header) = lines.next() else {
        return Err(fcx.err(&Loc::File(None), "design.file", "the file is empty"));
    };
    let (at, header) = header?;
    // A UTF-8 byte-order mark (spreadsheet exports write one) is no part of the first key.
    let header = header.strip_prefix('\u{feff}').unwrap_or(&header);
    let keys: Vec<String> = header.split(',').map(|k| k.trim().to_string()).collect();
    if let Some(k) = duplicate(&keys) {
        return Err(fcx.err(
            &Loc::File(Some(at + 1)),
            "design.file",
            format!("the header names `{k}` twice; each key is one column"),
        ));
    }
    let mut rows = Vec::new();
    for line in lines {
        let (i, line) = line?;
        let loc = Loc::File(Some(i + 1));
        if rows.len() == MAX_POINTS {
            return Err(fcx.err(
                &loc,
                "design.file",
                format!("more than the limit of {MAX_POINTS} design points"),
            ));
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != keys.len() {
            return Err(fcx.err(
                &loc,
                "design.file",
                format!(
                    "line has {} values, the header names {} keys",
                    cells.len(),
                    keys.len()
                ),
            ));
        }
        let mut row = Vec::with_capacity(keys.len());
        for (k, c) in keys.iter().zip(cells) {
            let v: f64 = c
                .parse()
                .map_err(|_| fcx.err(&loc, k, format!("{k}: `{c}` is not a number")))?;
            row.push((k.clone(), v));
        }
        rows.push((row, loc));
    }
    let lines: Vec<Loc> = rows.iter().map(|r| r.1.clone()).collect();
    collect_rows(&fcx, "design.file", rows)
        .map(|listed| (listed, shown.clone(), lines))
        .map_err(|mut e| {
            if e.origin == shown {
                e.message = format!("{} (in design.file of {})", e.message, cx.origin);
            }
            e
        })
}
