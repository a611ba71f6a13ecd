//! Canonical TOML of an effective scenario.

use std::fmt::Write;

use crate::Scenario;
use crate::validate::linspace;

/// A float as TOML: shortest round-trip form, `-0.0` folded into `0.0`.
pub(crate) fn float(v: f64) -> String {
    let v = if v == 0.0 { 0.0 } else { v };
    format!("{v:?}")
}

/// A TOML basic string.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn axis_spec(values: &[f64]) -> String {
    let n = values.len();
    if n >= 2 {
        let (from, to) = (values[0], values[n - 1]);
        let lin = linspace(from, to, n);
        if lin
            .iter()
            .zip(values)
            .all(|(a, b)| a.to_bits() == b.to_bits())
        {
            return format!(
                "{{ from = {}, to = {}, steps = {n} }}",
                float(from),
                float(to)
            );
        }
    }
    let vals: Vec<String> = values.iter().map(|&v| float(v)).collect();
    format!("{{ values = [{}] }}", vals.join(", "))
}

pub(crate) fn normalized(s: &Scenario) -> String {
    let g = &s.base;
    let mut o = String::new();
    let mechs: Vec<String> = s.mechanisms.iter().map(|m| string(m.as_str())).collect();
    let _ = writeln!(o, "mechanisms = [{}]", mechs.join(", "));

    let _ = writeln!(o, "\n[scenario]");
    let _ = writeln!(o, "name = {}", string(&s.name));
    let _ = writeln!(o, "seed = {}", s.seed);
    let _ = writeln!(o, "replications = {}", s.replications);
    if let Some(d) = &s.description {
        let _ = writeln!(o, "description = {}", string(d));
    }

    let _ = writeln!(o, "\n[population]");
    let _ = writeln!(o, "users = {}", g.users);
    let params: Vec<String> = g
        .cost
        .params()
        .iter()
        .map(|(k, v)| format!("{k} = {}", float(*v)))
        .collect();
    let _ = writeln!(
        o,
        "cost = {{ dist = {}, {} }}",
        string(g.cost.name()),
        params.join(", ")
    );

    // Truthful reporting and shading with share = factor = 0 (and no report sweep) are the same
    // game; both are written as truthful.
    let report_swept = s
        .sweep
        .iter()
        .any(|a| a.key.starts_with("population.report."));
    let shade = report_swept || g.shade_share != 0.0 || g.shade_factor != 0.0;
    let _ = writeln!(o, "\n[population.report]");
    let _ = writeln!(
        o,
        "strategy = {}",
        string(if shade { "shade" } else { "truthful" })
    );
    let _ = writeln!(o, "share = {}", float(g.shade_share));
    let _ = writeln!(o, "factor = {}", float(g.shade_factor));
    let _ = writeln!(o, "\n[population.withdraw]");
    let free_riders = g.free_rider_share != 0.0
        || s.sweep
            .iter()
            .any(|a| a.key.starts_with("population.withdraw."));
    if free_riders {
        let _ = writeln!(o, "strategy = \"free-rider\"");
        let _ = writeln!(o, "share = {}", float(g.free_rider_share));
    } else {
        let _ = writeln!(o, "strategy = \"sincere\"");
    }
    // Written only when not the single-campaign default, so `rounds = 1` hashes like no [dynamics].
    if g.dynamics != datapact_model::Dynamics::default() {
        let d = &g.dynamics;
        let _ = writeln!(o, "\n[dynamics]");
        let _ = writeln!(o, "rounds = {}", d.rounds);
        match d.cost_process {
            datapact_model::CostProcess::Iid => {
                let _ = writeln!(o, "cost_process = \"iid\"");
            }
            datapact_model::CostProcess::Persistent => {
                let _ = writeln!(o, "cost_process = \"persistent\"");
            }
            datapact_model::CostProcess::Ar1 { persistence } => {
                let _ = writeln!(
                    o,
                    "cost_process = \"ar1\"\npersistence = {}",
                    float(persistence)
                );
            }
        }
        match d.learning {
            datapact_model::Learning::None => {
                let _ = writeln!(o, "learning = \"none\"");
            }
            datapact_model::Learning::Adaptive { rate } => {
                let _ = writeln!(
                    o,
                    "learning = \"adaptive\"\nlearning_rate = {}",
                    float(rate)
                );
            }
        }
    }

    let _ = writeln!(o, "\n[game]");
    let _ = writeln!(o, "threshold = {}", float(g.threshold));
    let _ = writeln!(o, "value = {}", float(g.value));
    let _ = writeln!(o, "payment = {}", float(g.payment));
    let _ = writeln!(o, "belief = {}", float(g.belief));
    let _ = writeln!(o, "obs_noise = {}", float(g.obs_noise));
    let _ = writeln!(o, "drift = {}", float(g.drift));
    let _ = writeln!(o, "irreversible = {}", float(g.irreversible));
    let _ = writeln!(o, "recovery_rounds = {}", g.recovery_rounds);
    let _ = writeln!(o, "order = {}", string(g.order.as_str()));

    if !s.sweep.is_empty() {
        let _ = writeln!(o, "\n[sweep]");
        for a in &s.sweep {
            let _ = writeln!(o, "{} = {}", a.key, axis_spec(&a.values));
        }
    }

    let _ = writeln!(o, "\n[output]");
    let _ = writeln!(o, "trace = {}", string(s.trace.as_str()));
    if let Some(k) = s.chunk_cells {
        let _ = writeln!(o, "chunk_cells = {k}");
    }
    o
}
