//! The incentive audit's report parts: the claims × model variants table, the "What each
//! claim needs" section generated from it, and its held / not-held grid figure. Works on claims
//! already decided by [`crate::claims`] for each variant; knows nothing of how they were run.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ReportError;
use crate::claims::{Claim, STATEMENTS, Verdict};
use crate::figures::{FigureFiles, render_png_svg};

/// The six claims decided under one variant of the model's assumptions.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VariantClaims {
    /// Short id (`baseline`, `recovery_1`, …).
    pub id: String,
    /// The assumption it changes (`baseline` for none).
    pub assumption: String,
    /// The changed setting in words, e.g. `R = 1`.
    pub setting: String,
    /// The `--set` overrides that make it from the paper scenarios.
    pub overrides: Vec<String>,
    /// The claims, in id order.
    pub claims: Vec<Claim>,
}

fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Held => "held",
        Verdict::NotHeld => "**not held**",
        Verdict::NotTested => "not tested",
    }
}

/// The claims × variants table (one row per variant, one column per claim) and, below it, the
/// deciding numbers of every verdict that differs from the baseline's.
pub fn variants_markdown(vs: &[VariantClaims]) -> String {
    let mut s = String::from("| variant | changed | ");
    for i in 1..=STATEMENTS.len() {
        s.push_str(&format!("claim {i} | "));
    }
    s.push_str("\n|---|---|");
    s.push_str(&"---|".repeat(STATEMENTS.len()));
    s.push('\n');
    for v in vs {
        s.push_str(&format!("| {} | {} | ", v.id, v.setting));
        for c in &v.claims {
            s.push_str(mark(c.verdict));
            s.push_str(" | ");
        }
        s.push('\n');
    }
    let Some(base) = vs.first() else {
        return s;
    };
    s.push_str("\nThe numbers that decide each verdict (baseline, then every verdict that differs from it):\n\n");
    for (k, c) in base.claims.iter().enumerate() {
        s.push_str(&format!(
            "- claim {} — baseline: {} ({})\n",
            c.id,
            c.verdict.as_str(),
            c.numbers
        ));
        for v in &vs[1..] {
            let d = &v.claims[k];
            if d.verdict != c.verdict {
                s.push_str(&format!(
                    "  - {}: {} ({})\n",
                    v.setting,
                    d.verdict.as_str(),
                    d.numbers
                ));
            }
        }
    }
    s
}

/// "What each claim needs": per claim, whether it holds in the baseline, the changed
/// assumptions that break it (or make it hold) and those it survives. Variants change one
/// assumption at a time, so the assumptions a claim needs are the baseline values of the
/// assumptions whose change breaks it.
pub fn needs_markdown(vs: &[VariantClaims]) -> String {
    let Some(base) = vs.first() else {
        return String::new();
    };
    let mut s = String::new();
    for (k, c) in base.claims.iter().enumerate() {
        let flips: Vec<&VariantClaims> = vs[1..]
            .iter()
            .filter(|v| {
                v.claims[k].verdict != c.verdict && v.claims[k].verdict != Verdict::NotTested
            })
            .collect();
        let untested: Vec<&str> = vs[1..]
            .iter()
            .filter(|v| v.claims[k].verdict == Verdict::NotTested)
            .map(|v| v.setting.as_str())
            .collect();
        let same: Vec<&str> = vs[1..]
            .iter()
            .filter(|v| v.claims[k].verdict == c.verdict)
            .map(|v| v.setting.as_str())
            .collect();
        let mut needed: Vec<&str> = flips.iter().map(|v| v.assumption.as_str()).collect();
        needed.dedup();
        let list = |xs: &[&str]| {
            if xs.is_empty() {
                "none".to_string()
            } else {
                xs.join(", ")
            }
        };
        let flipped: Vec<&str> = flips.iter().map(|v| v.setting.as_str()).collect();
        let text = match c.verdict {
            Verdict::Held if flips.is_empty() => format!(
                "holds in the baseline and under every variant tested ({}): it needs none of the varied assumptions.",
                list(&same)
            ),
            Verdict::Held => format!(
                "holds in the baseline; it needs the baseline's {} — it breaks under {}; it survives {}.",
                list(&needed),
                list(&flipped),
                list(&same)
            ),
            Verdict::NotHeld if flips.is_empty() => format!(
                "does not hold in the baseline, nor under any variant ({}): no single change of these assumptions rescues it.",
                list(&same)
            ),
            Verdict::NotHeld => format!(
                "does not hold in the baseline; it holds only under {} (a change of {}); it stays broken under {}.",
                list(&flipped),
                list(&needed),
                list(&same)
            ),
            Verdict::NotTested => "not tested in the baseline.".to_string(),
        };
        s.push_str(&format!("- **Claim {}** ({}) {text}", c.id, STATEMENTS[k]));
        if !untested.is_empty() {
            s.push_str(&format!(" Not tested under {}.", untested.join(", ")));
        }
        s.push('\n');
    }
    s
}

const CELL_W: i32 = 118;
const CELL_H: i32 = 54;
const LEFT: i32 = 330;
const TOP: i32 = 110;

/// The held / not-held grid: claims as rows, variants as columns; written to
/// `<dir>/claims_variants.png` and `.svg`.
pub fn render_claims_grid(vs: &[VariantClaims], dir: &Path) -> Result<FigureFiles, ReportError> {
    let rows = STATEMENTS.len() as i32;
    let size = (
        (LEFT + CELL_W * vs.len() as i32 + 20) as u32,
        (TOP + CELL_H * rows + 70) as u32,
    );
    render_png_svg!(dir, "claims_variants", size, |root| draw_grid(vs, &root))
}

fn draw_grid<DB: DrawingBackend>(
    vs: &[VariantClaims],
    root: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let font = |px: f64| ("sans-serif", px).into_font().color(&BLACK);
    let centered = |px: f64| font(px).pos(Pos::new(HPos::Center, VPos::Center));
    root.draw_text(
        "The paper's claims under one changed assumption at a time",
        &font(24.0),
        (20, 20),
    )?;
    for (j, v) in vs.iter().enumerate() {
        let x = LEFT + CELL_W * j as i32 + CELL_W / 2;
        root.draw_text(&v.id, &centered(14.0), (x, TOP - 40))?;
        root.draw_text(&v.setting, &centered(13.0), (x, TOP - 18))?;
    }
    let short = [
        "1 no leakage in S, M; C leaks",
        "2 unsustainable → null",
        "3 M succeeds ≥ S (> if withdraw)",
        "4 PC of S < PC of M",
        "5 welfare M ≥ S > C",
        "6 noise hurts M less than S",
    ];
    for (i, label) in short.iter().enumerate() {
        let y = TOP + CELL_H * i as i32;
        root.draw_text(
            label,
            &font(16.0).pos(Pos::new(HPos::Left, VPos::Center)),
            (12, y + CELL_H / 2),
        )?;
        for (j, v) in vs.iter().enumerate() {
            let x = LEFT + CELL_W * j as i32;
            let verdict = v.claims.get(i).map_or(Verdict::NotTested, |c| c.verdict);
            let (fill, text) = match verdict {
                Verdict::Held => (RGBColor(120, 190, 120), "held"),
                Verdict::NotHeld => (RGBColor(225, 110, 100), "not held"),
                Verdict::NotTested => (RGBColor(200, 200, 200), "not tested"),
            };
            root.draw(&Rectangle::new(
                [(x + 2, y + 2), (x + CELL_W - 2, y + CELL_H - 2)],
                fill.filled(),
            ))?;
            root.draw_text(text, &centered(15.0), (x + CELL_W / 2, y + CELL_H / 2))?;
        }
    }
    root.draw_text(
        "Each column changes one assumption of the baseline (first column); reduced grids and replications (see REPORT.md).",
        &font(14.0),
        (12, TOP + CELL_H * short.len() as i32 + 25),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(verdicts: [Verdict; 6]) -> Vec<Claim> {
        verdicts
            .iter()
            .enumerate()
            .map(|(i, &verdict)| Claim {
                id: i as u8 + 1,
                statement: STATEMENTS[i],
                rule: "",
                verdict,
                numbers: format!("n{i}"),
                test_verdict: verdict,
                test_rule: "",
                test_numbers: String::new(),
                seeds: 1,
                seeds_held: u32::from(verdict == Verdict::Held),
            })
            .collect()
    }

    #[test]
    fn needs_names_the_assumptions_whose_change_flips_a_claim() {
        use Verdict::*;
        let v = |id: &str, assumption: &str, verdicts| VariantClaims {
            id: id.into(),
            assumption: assumption.into(),
            setting: id.into(),
            overrides: vec![],
            claims: claims(verdicts),
        };
        let vs = vec![
            v(
                "baseline",
                "baseline",
                [Held, Held, Held, NotHeld, Held, Held],
            ),
            v(
                "R=1",
                "recovery rounds",
                [Held, Held, NotHeld, NotHeld, Held, Held],
            ),
            v(
                "rho",
                "irreversibility",
                [Held, Held, Held, Held, Held, NotTested],
            ),
        ];
        let needs = needs_markdown(&vs);
        let line = |k: usize| needs.lines().nth(k).unwrap().to_string();
        assert!(line(0).contains("needs none"), "{needs}");
        assert!(
            line(2).contains("breaks under R=1") && line(2).contains("recovery rounds"),
            "{needs}"
        );
        assert!(line(3).contains("holds only under rho"), "{needs}");
        assert!(line(5).contains("Not tested under rho"), "{needs}");
        let table = variants_markdown(&vs);
        assert!(
            table.contains("| R=1 | R=1 | held | held | **not held** |"),
            "{table}"
        );
        assert!(table.contains("  - R=1: not held (n2)"), "{table}");
    }
}
