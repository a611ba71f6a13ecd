//! The charts of one grid cell's indices: bars per axis (Sobol S1 and ST, Morris μ*), and for
//! Morris the μ*–σ plane.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::analysis::{Analysis, Response};
use crate::ReportError;
use crate::charts::{LEGEND_H, Marker, Palette, legend_strip, num_label, title_band};
use crate::figures::register_font;

/// The colour of the `i`-th response: a mechanism's, or a contrast's (never a mechanism's).
fn color(r: &Response, i: usize) -> RGBColor {
    if r.contrast {
        Palette::Contrasts.color(i)
    } else {
        Palette::Mechanisms.color(i)
    }
}

/// The legend of the responses, in their colours.
fn legend(responses: &[&Response]) -> Vec<(String, Option<RGBColor>)> {
    responses
        .iter()
        .enumerate()
        .map(|(i, r)| (r.mechanism.replace('-', " − "), Some(color(r, i))))
        .collect()
}

/// Draws the title band and, under it, the legend of the responses in a strip of its own
/// (inside the plot it would cover bars or dots); returns the area left for the plot.
fn head<'a>(
    root: &DrawingArea<BitMapBackend<'a>, Shift>,
    title: &str,
    responses: &[&Response],
    marker: Marker,
) -> Result<DrawingArea<BitMapBackend<'a>, Shift>, String> {
    let body = title_band(root, title).map_err(|e| e.to_string())?;
    let (strip, body) = body.split_vertically(LEGEND_H);
    legend_strip(&strip, &legend(responses), marker).map_err(|e| e.to_string())?;
    Ok(body)
}

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
    let label = if a.method == "sobol" {
        "Sobol index (S1 solid, ST light; 95% bootstrap CI)"
    } else {
        "Morris μ* (95% bootstrap CI)"
    };
    let title = format!("{}: sensitivity of {}", a.scenario, a.metric);
    let body = head(&root, &title, responses, Marker::Square).map_err(err)?;
    let mut chart = ChartBuilder::on(&body)
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
        .y_label_formatter(&|y: &f64| num_label(*y))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 15))
        .x_desc("design axis")
        .y_desc(label)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let slots = (responses.len() * shown.len()).max(1) as f64;
    let width = 0.8 / slots;
    for (ri, r) in responses.iter().enumerate() {
        let color = color(r, ri);
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
                chart
                    .draw_series(std::iter::once(rect))
                    .map_err(|e| err(e.to_string()))?;
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
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// The ratios σ/μ* drawn as dashed rays in the μ*–σ plane (as in SALib's `covariance_plot`):
/// below 0.1 an axis acts almost linearly, above 1 mostly through interactions or curvature.
pub const MU_SIGMA_RAYS: [f64; 3] = [0.1, 0.5, 1.0];

/// Morris's μ*–σ plane: one labelled dot per (response, axis), μ* across, σ up, with the rays
/// σ/μ* = 0.1, 0.5 and 1.
pub(super) fn draw_mu_sigma(
    a: &Analysis,
    responses: &[&Response],
    png: &Path,
) -> Result<(), ReportError> {
    register_font();
    let err = |e: String| ReportError::Draw(format!("{}: {e}", png.display()));
    let value = |ixs: &[super::Index], name: &str| {
        ixs.iter()
            .find(|ix| ix.name == name)
            .map(|ix| ix.value)
            .filter(|v| v.is_finite())
    };
    // (response, axis label, μ*, σ)
    let dots: Vec<(usize, &str, f64, f64)> = responses
        .iter()
        .enumerate()
        .flat_map(|(ri, r)| {
            r.axes.iter().filter_map(move |(axis, ixs)| {
                Some((
                    ri,
                    axis.as_str(),
                    value(ixs, "mu_star")?,
                    value(ixs, "sigma")?,
                ))
            })
        })
        .collect();
    let top = |f: fn(&(usize, &str, f64, f64)) -> f64| {
        let m = dots.iter().map(f).fold(0.0f64, f64::max);
        if m > 0.0 { m * 1.15 } else { 1.0 }
    };
    let (x1, y1) = (top(|d| d.2), top(|d| d.3));
    let root = BitMapBackend::new(png, (760, 600)).into_drawing_area();
    let title = format!("{}: Morris μ* and σ of {}", a.scenario, a.metric);
    let body = head(&root, &title, responses, Marker::Dot).map_err(err)?;
    let mut chart = ChartBuilder::on(&body)
        .margin(14)
        .margin_right(30)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x1, 0.0..y1)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .x_label_formatter(&|v: &f64| num_label(*v))
        .y_label_formatter(&|v: &f64| num_label(*v))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .x_desc("μ* (mean |elementary effect|, output units per axis range)")
        .y_desc("σ (sd of the elementary effects)")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let grey = RGBColor(150, 150, 150);
    for k in MU_SIGMA_RAYS {
        // The ray σ = k·μ*, clipped to the plot, labelled where it leaves it.
        let end = if k * x1 <= y1 {
            (x1, k * x1)
        } else {
            (y1 / k, y1)
        };
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, 0.0), end],
                5,
                4,
                grey.stroke_width(1),
            ))
            .map_err(|e| err(e.to_string()))?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("σ/μ* = {}", num_label(k)),
                (end.0 * 0.97, end.1 * 0.97),
                ("sans-serif", 12).into_font().color(&grey).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Right,
                        plotters::style::text_anchor::VPos::Bottom,
                    ),
                ),
            )))
            .map_err(|e| err(e.to_string()))?;
    }
    // Each label above and right of its dot, moved up a line while it would overlap one
    // already placed (dots of unimportant axes crowd the origin).
    let mut placed: Vec<(i32, i32)> = Vec::new();
    for &(ri, axis, x, y) in &dots {
        let (px, py) = chart.backend_coord(&(x, y));
        let mut dy = -16;
        while placed
            .iter()
            .any(|&(qx, qy)| (qx - px).abs() < 70 && (qy - (py + dy)).abs() < 13)
        {
            dy -= 13;
        }
        placed.push((px, py + dy));
        let c = color(responses[ri], ri);
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x, y))
                    + Circle::new((0, 0), 5, c.filled())
                    + Text::new(
                        axis.to_string(),
                        (7, dy),
                        ("sans-serif", 13).into_font().color(&c),
                    ),
            ))
            .map_err(|e| err(e.to_string()))?;
    }
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}
