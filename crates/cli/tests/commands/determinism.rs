//! Determinism across platforms (issue 25 item 8): the draws and the model's arithmetic use no
//! function of the platform's libm (`datapact_model::variates`: the `libm` crate's exp, ln,
//! log1p, pow, hypot, cos, and ports of `rand_distr`'s normal, log-normal and Beta samplers on
//! them; square roots are IEEE-exact), so a machine with another glibc, musl or macOS writes the
//! same numbers. This test pins a checksum of the values of a small run that goes through every
//! transcendental path — log-normal and Beta costs, drift and observation noise (exp), `async`
//! (exponential waiting times: ln; normal regret shocks), an Erdős–Rényi network (geometric
//! skips: log1p and ln) and a log-scale design axis (exp and ln) — so a platform whose results
//! differ fails here, not silently in a study.
//!
//! The checksum is SHA-256 over the cells table's columns in order, each value's bits (Float64,
//! Int64, UInt64, UInt32, Boolean) or bytes (Utf8), rows in cell order: independent of the
//! Parquet writer's version string. If a deliberate change of the model moves it, the value
//! guard moves too; update both together.

use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type, UInt32Type, UInt64Type};
use sha2::{Digest, Sha256};

use crate::support::{assert_refused, bin, run_ok, s, text, write};

const SCENARIO: &str = r#"mechanisms = ["C", "S", "M", "async"]
[scenario]
name = "determinism"
seed = 25
replications = 40
[population]
users = 30
cost = { dist = "lognormal", mu = -1.5, sigma = 0.8 }
[population.network]
model = "erdos-renyi"
mean_degree = 3.0
[game]
drift = 0.3
obs_noise = 0.2
[mechanism.async]
regret_rate = 1.0
regret_size = 0.5
[sweep]
population.cost.dist = { values = [
  { dist = "lognormal", mu = -1.5, sigma = 0.8 },
  { dist = "beta", alpha = 0.7, beta = 2.5 },
  { dist = "beta", alpha = 2.0, beta = 5.0 },
] }
[design]
kind = "lhs"
samples = 3
game.value = { from = 0.02, to = 0.4, log = true }
"#;

fn cells_checksum(dir: &Path) -> (String, usize) {
    let mut parts: Vec<_> = std::fs::read_dir(dir.join("cells"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    parts.sort();
    let mut h = Sha256::new();
    let mut rows = 0;
    for part in parts {
        for batch in datapact_trace::read_part(&part).unwrap() {
            rows += batch.num_rows();
            for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
                h.update(field.name().as_bytes());
                for i in 0..col.len() {
                    if col.is_null(i) {
                        h.update(b"null");
                        continue;
                    }
                    match col.data_type() {
                        DataType::Float64 => h.update(
                            col.as_primitive::<Float64Type>()
                                .value(i)
                                .to_bits()
                                .to_le_bytes(),
                        ),
                        DataType::Int64 => {
                            h.update(col.as_primitive::<Int64Type>().value(i).to_le_bytes())
                        }
                        DataType::UInt64 => {
                            h.update(col.as_primitive::<UInt64Type>().value(i).to_le_bytes())
                        }
                        DataType::UInt32 => {
                            h.update(col.as_primitive::<UInt32Type>().value(i).to_le_bytes())
                        }
                        DataType::Boolean => h.update([u8::from(col.as_boolean().value(i))]),
                        DataType::Utf8 => h.update(col.as_string::<i32>().value(i).as_bytes()),
                        other => panic!("column {}: no checksum for {other}", field.name()),
                    }
                }
            }
        }
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    (hex, rows)
}

#[test]
fn a_small_run_through_every_transcendental_path_has_the_pinned_checksum() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "determinism.toml", SCENARIO);
    let out = tmp.path().join("out");
    run_ok(&file, &out, &[]);
    let (sum, rows) = cells_checksum(&out);
    // 3 cost distributions (log-normal; Beta by Cheng's BC and BB) x 3 design points x 4
    // mechanisms.
    assert_eq!(rows, 36);
    assert_eq!(
        sum, PINNED,
        "the cells table's values moved (platform libm, or a model change?)"
    );
}

/// SHA-256 of the values above, computed on x86-64 Linux (glibc 2.36, whose libm the run no
/// longer calls).
const PINNED: &str = "da88901993ef5058d69f95b74c46a168a856739088c1944368ecf794550f479e";

/// C, S and M at n = 20, untraced: the lock-step kernels' path (issue 31), 19 replications
/// per cell so that every lane width fills its lanes and leaves a partial group.
const LANES: &str = r#"mechanisms = ["C", "S", "M"]
[scenario]
name = "lanes"
seed = 31
replications = 19
[population]
users = 20
[game]
drift = 0.2
obs_noise = 0.1
[sweep]
game.value = { from = 0.05, to = 0.4, steps = 4 }
"#;

/// `DATAPACT_ISA` picks the lock-step kernels' width; every width this CPU runs writes the
/// same values as the default, and an unknown name is refused before any work.
#[test]
fn every_instruction_set_writes_the_same_values() {
    use datapact_model::lanes::Isa;
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "lanes.toml", LANES);
    let checksum = |isa: Option<Isa>| {
        let out = tmp.path().join(isa.map_or("default", Isa::name));
        let mut cmd = bin();
        cmd.args(["run", s(&file), "--out", s(&out), "-q", "--threads", "2"]);
        if let Some(isa) = isa {
            cmd.env("DATAPACT_ISA", isa.name());
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        cells_checksum(&out)
    };
    let default = checksum(None);
    assert_eq!(default.1, 12);
    for isa in Isa::available() {
        assert_eq!(checksum(Some(isa)), default, "{isa:?}");
    }

    let out = tmp.path().join("refused");
    let o = bin()
        .args(["run", s(&file), "--out", s(&out), "-q"])
        .env("DATAPACT_ISA", "avx9")
        .output()
        .unwrap();
    assert_refused(&o, 2, "an unknown DATAPACT_ISA");
    assert!(text(&o).contains("baseline, avx2 and avx512"));
    assert!(!out.exists(), "nothing written before the refusal");
}
