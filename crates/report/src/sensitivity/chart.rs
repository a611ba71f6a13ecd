//! The bar chart of one grid cell's indices.

use std::path::Path;

use plotters::prelude::*;

use super::analysis::{Analysis, Response};
use crate::ReportError;
use crate::figures::register_font;

/// Bars per axis: for Sobol S1 (solid) and ST (light) per response, for Morris μ*; 95% whiskers.
pub(super) fn draw_chart(
    a: &Analysis,
    responses: &[&Response],
    png: &Path,
) -> Result<(), ReportError> {
    register_font();
    let err = |e: String| ReportError::Draw(format!("{}: {e}", png.display()));
    let shown: Vec<&str> = if a.method == "sobol" {
        vec!["S1", "ST"]
    } else {
        vec!["mu_star"]
    };
    let axes: Vec<String> = responses
        .first()
        .map(|r| r.axes.iter().map(|(c, _)| c.clone()).collect())
        .unwrap_or_default();
    let get = |r: &Response, axis: usize, name: &str| {
        r.axes[axis].1.iter().find(|ix| ix.name == name).cloned()
    };
    let mut hi: f64 = 0.0;
    let mut lo: f64 = 0.0;
    for r in responses {
        for i in 0..axes.len() {
            for name in &shown {
                if let Some(ix) = get(r, i, name) {
                    let c = ix.conf.unwrap_or(0.0);
                    hi = hi.max(ix.value + c);
                    lo = lo.min(ix.value - c);
                }
            }
        }
    }
    if a.method == "sobol" {
        hi = hi.clamp(1.0, 1.2);
        lo = lo.max(-0.2);
    }
    let hi = if hi > lo { hi * 1.05 } else { lo + 1.0 };
    let (w, h) = (((axes.len() * 110).max(500) + 200) as u32, 520u32);
    let root = BitMapBackend::new(png, (w, h)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let label = if a.method == "sobol" {
        "Sobol index (S1 solid, ST light; 95% bootstrap CI)"
    } else {
        "Morris mu* (95% bootstrap CI)"
    };
    let title = format!("{}: sensitivity of {}", a.scenario, a.metric);
    let mut chart = ChartBuilder::on(&root)
        .caption(&title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..(axes.len() as f64 - 0.5), lo..hi)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .x_labels(axes.len().max(1))
        .x_label_formatter(&|x: &f64| crate::charts::category_label(&axes, *x))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 15))
        .x_desc("design axis")
        .y_desc(label)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let slots = (responses.len() * shown.len()).max(1) as f64;
    let width = 0.8 / slots;
    for (ri, r) in responses.iter().enumerate() {
        let color = crate::charts::palette(ri);
        for (si, name) in shown.iter().enumerate() {
            let style = if si == 0 {
                color.filled()
            } else {
                color.mix(0.35).filled()
            };
            for i in 0..axes.len() {
                let Some(ix) = get(r, i, name) else { continue };
                let slot = (ri * shown.len() + si) as f64;
                let x0 = i as f64 - 0.4 + slot * width;
                let rect = Rectangle::new([(x0, 0.0), (x0 + width * 0.9, ix.value)], style);
                let drawn = chart
                    .draw_series(std::iter::once(rect))
                    .map_err(|e| err(e.to_string()))?;
                if i == 0 && si == 0 {
                    drawn.label(r.mechanism.clone()).legend(move |(x, y)| {
                        Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled())
                    });
                }
                if let Some(c) = ix.conf {
                    let xm = x0 + width * 0.45;
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            [(xm, ix.value - c), (xm, ix.value + c)],
                            BLACK.stroke_width(1),
                        )))
                        .map_err(|e| err(e.to_string()))?;
                }
            }
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}
