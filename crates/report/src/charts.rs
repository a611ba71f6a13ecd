//! Line charts (one swept axis) and bar charts (no swept axis) of the generic figures, with
//! plotters, to PNG and SVG, in the style of [`crate::figures`] (same font, title band).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ReportError;
use crate::figures::{FigureFiles, TITLE_H, render_png_svg, unsigned_zero};

/// Pixel size of a line or bar chart.
pub const CHART_W: u32 = 900;
/// Pixel height of a line or bar chart.
pub const CHART_H: u32 = 560;

/// z of a two-sided 95% normal interval.
pub const Z95: f64 = 1.96;

/// One mechanism's line: (x, mean, standard error), None = null.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The mechanism's (or pair's) name, in the legend.
    pub name: String,
    /// (x, mean, standard error) per point; None = null.
    pub points: Vec<(f64, Option<f64>, Option<f64>)>,
}

/// All mechanisms' lines over one swept axis, in one panel.
#[derive(Clone, Debug)]
pub struct LineChart {
    /// Title above the panel.
    pub title: String,
    /// What the x axis shows, with units.
    pub x_desc: String,
    /// What the y axis shows, with units.
    pub y_desc: String,
    /// One line per mechanism (or pair).
    pub series: Vec<Series>,
    /// Draw a dashed line at y = 0 (and keep 0 in range): for differences.
    pub zero_line: bool,
    /// For a categorical x axis (x = a category's position 0, 1, …): the labels of the ticks.
    pub x_labels: Option<Vec<String>>,
    /// Mechanisms' colours, or contrasts'.
    pub colors: Palette,
}

/// One bar per mechanism: (name, mean, standard error), None = null.
#[derive(Clone, Debug)]
pub struct BarChart {
    /// Title above the chart.
    pub title: String,
    /// What the y axis shows, with units.
    pub y_desc: String,
    /// (name, mean, standard error) per bar; None = null.
    pub bars: Vec<(String, Option<f64>, Option<f64>)>,
    /// Mechanisms' colours, or contrasts'.
    pub colors: Palette,
}

/// One mechanism's (or pair's) dots in a scatter panel: its name and (x, value) per point.
pub type ScatterSeries = (String, Vec<(f64, f64)>);

/// One axis's panel of a [`ScatterChart`]: per mechanism, (x, value) at every design point.
#[derive(Clone, Debug)]
pub struct ScatterPanel {
    /// What the panel's x axis shows, with units.
    pub x_desc: String,
    /// One series of dots per mechanism (or pair).
    pub series: Vec<ScatterSeries>,
    /// A categorical axis's labels: x = 0, 1, … is drawn as these (None: a numeric axis).
    pub x_labels: Option<Vec<String>>,
}

/// A design's values against each of its axes: one panel per axis, on a shared y scale.
#[derive(Clone, Debug)]
pub struct ScatterChart {
    /// Title above the panels.
    pub title: String,
    /// What the shared y axis shows, with units.
    pub y_desc: String,
    /// One panel per axis of the design.
    pub panels: Vec<ScatterPanel>,
    /// Mechanisms' colours, or contrasts'.
    pub colors: Palette,
}

/// Pixel size of one scatter panel, and panels per row.
const SCATTER_W: u32 = 440;
const SCATTER_H: u32 = 360;
const SCATTER_COLS: usize = 3;

impl ScatterChart {
    fn grid(&self) -> (usize, usize) {
        let cols = self.panels.len().clamp(1, SCATTER_COLS);
        (self.panels.len().max(1).div_ceil(cols), cols)
    }

    /// Pixel size of the PNG.
    pub fn size(&self) -> (u32, u32) {
        let (rows, cols) = self.grid();
        (
            (SCATTER_W * cols as u32).max(CHART_W),
            TITLE_H + LEGEND_H + SCATTER_H * rows as u32,
        )
    }
}

/// The label of a categorical axis at `x`: `names[i]` at the integer positions, nothing
/// between them (plotters asks for labels at fractional positions too).
pub fn category_label(names: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 {
        names.get(i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// The colour lists of every chart, declared once. Mechanisms (C, S, M, …) wear Tableau 10;
/// contrasts (M − S, …) wear colours of their own (Paul Tol's muted scheme, less the hues near
/// Tableau's), so that a contrast panel never reads as a mechanism's.
const MECHANISM_COLORS: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];
const CONTRAST_COLORS: [(u8, u8, u8); 6] = [
    (136, 34, 85),
    (51, 34, 136),
    (68, 170, 153),
    (221, 204, 119),
    (170, 68, 153),
    (0, 0, 0),
];

/// Which colours a chart's series wear.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Palette {
    /// One colour per mechanism.
    #[default]
    Mechanisms,
    /// One colour per contrast A − B, none of them a mechanism's.
    Contrasts,
}

impl Palette {
    /// The colour of the `i`-th series.
    pub fn color(self, i: usize) -> RGBColor {
        let list: &[(u8, u8, u8)] = match self {
            Palette::Mechanisms => &MECHANISM_COLORS,
            Palette::Contrasts => &CONTRAST_COLORS,
        };
        let (r, g, b) = list[i % list.len()];
        RGBColor(r, g, b)
    }

    /// How many distinct colours it has.
    pub fn count(self) -> usize {
        match self {
            Palette::Mechanisms => MECHANISM_COLORS.len(),
            Palette::Contrasts => CONTRAST_COLORS.len(),
        }
    }
}

/// Colour of the `i`-th mechanism.
pub fn palette(i: usize) -> RGBColor {
    Palette::Mechanisms.color(i)
}

/// A number as a tick label or in a title: plotters' shortest form (at most 5 decimals), and
/// never a negative zero ("-0", "-0.0"): a tick computed as −1e-17 or −0.0 reads 0.
pub fn num_label(v: f64) -> String {
    let s = plotters::data::float::FloatPrettyPrinter {
        allow_scientific: false,
        min_decimal: 1,
        max_decimal: 5,
    }
    .print(v);
    unsigned_zero(s)
}

/// Opacity of one dot in a scatter-like plot of `n` dots: 0.8 up to 200 dots, then falling as
/// 1/√n to 0.1 (about 13,000 dots), so that where dots pile up their density shows and the
/// series drawn last does not hide the others.
pub fn point_alpha(n: usize) -> f64 {
    (0.8 * (200.0 / n.max(1) as f64).sqrt()).clamp(0.1, 0.8)
}

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// A short line (a series with its band).
    Line,
    /// A filled circle.
    Dot,
    /// A filled square.
    Square,
    /// A cross (a hatched or masked cell).
    Cross,
}

/// Height of a legend strip.
pub const LEGEND_H: u32 = 30;

/// A legend in a strip of its own (outside every data area): `items` centred in one row,
/// each a marker in its colour (None: grey, a series with no value) and its name.
pub fn legend_strip<DB: DrawingBackend>(
    strip: &DrawingArea<DB, Shift>,
    items: &[(String, Option<RGBColor>)],
    marker: Marker,
) -> DrawResult<DB> {
    let grey = RGBColor(150, 150, 150);
    let items: Vec<(String, RGBColor, Marker)> = items
        .iter()
        .map(|(n, c)| (n.clone(), c.unwrap_or(grey), marker))
        .collect();
    legend_row(strip, &items)
}

/// A legend in a strip of its own, each entry with its own marker: centred in one row, in a
/// font small enough (down from 16 px) for the row to fit the strip's width.
pub fn legend_row<DB: DrawingBackend>(
    strip: &DrawingArea<DB, Shift>,
    items: &[(String, RGBColor, Marker)],
) -> DrawResult<DB> {
    let (width, height) = strip.dim_in_pixel();
    // Per entry: 38 px of marker and gap, the name (DejaVu Sans as plotters draws it: about
    // 0.5 em a character), 22 px.
    let chars: usize = items.iter().map(|i| i.0.chars().count()).sum();
    let fixed = 60.0 * items.len() as f64;
    let size = ((f64::from(width) - fixed) / (0.5 * chars.max(1) as f64)).clamp(9.0, 16.0);
    let item_w = |name: &str| (name.chars().count() as f64 * 0.5 * size + 60.0) as i32;
    let total: i32 = items.iter().map(|i| item_w(&i.0)).sum();
    let mut x = (width as i32 - total).max(0) / 2;
    let y = (height / 2) as i32;
    for (name, color, marker) in items {
        let color = *color;
        match marker {
            Marker::Line => strip.draw(&PathElement::new(
                [(x, y), (x + 30, y)],
                color.stroke_width(3),
            ))?,
            Marker::Dot => strip.draw(&Circle::new((x + 15, y), 5, color.filled()))?,
            Marker::Square => strip.draw(&Rectangle::new(
                [(x + 8, y - 7), (x + 22, y + 7)],
                color.filled(),
            ))?,
            Marker::Cross => strip.draw(&Cross::new((x + 15, y), 4, color.stroke_width(1)))?,
        }
        strip.draw(&Text::new(
            name.clone(),
            (x + 38, y),
            TextStyle::from(("sans-serif", size).into_font())
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += item_w(name);
    }
    Ok(())
}

/// The interval drawn around a mean: ± 1.96·SE, or the mean alone without a standard error.
fn interval(mean: f64, se: Option<f64>) -> (f64, f64) {
    let half = se.filter(|s| s.is_finite()).unwrap_or(0.0) * Z95;
    (mean - half, mean + half)
}

/// A y range holding every interval, padded by 5% (and never empty).
fn y_range(intervals: impl Iterator<Item = (f64, f64)>, with_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = intervals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (x, y)| {
        (a.min(x), b.max(y))
    });
    if with_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Renders `chart` to `<dir>/<id>.png` and `.svg`.
pub fn render_lines(chart: &LineChart, dir: &Path, id: &str) -> Result<FigureFiles, ReportError> {
    render_png_svg!(dir, id, (CHART_W, CHART_H), |root| draw_lines(chart, &root))
}

/// Renders `chart` to `<dir>/<id>.png` and `.svg`.
pub fn render_bars(chart: &BarChart, dir: &Path, id: &str) -> Result<FigureFiles, ReportError> {
    render_png_svg!(dir, id, (CHART_W, CHART_H), |root| draw_bars(chart, &root))
}

/// Renders `chart` to `<dir>/<id>.png` and `.svg`.
pub fn render_scatter(
    chart: &ScatterChart,
    dir: &Path,
    id: &str,
) -> Result<FigureFiles, ReportError> {
    render_png_svg!(dir, id, chart.size(), |root| draw_scatter(chart, &root))
}

fn draw_scatter<DB: DrawingBackend>(
    c: &ScatterChart,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let body = title_band(root, &c.title)?;
    // The legend in a strip of its own: inside a panel it would hide dots.
    let (strip, body) = body.split_vertically(LEGEND_H);
    let names = c.panels.first().map_or_else(Vec::new, |p| {
        p.series
            .iter()
            .enumerate()
            .map(|(k, s)| (s.0.clone(), Some(c.colors.color(k))))
            .collect()
    });
    legend_strip(&strip, &names, Marker::Dot)?;
    // One y scale for every panel, so that the axes' effects compare by eye.
    let (y0, y1) = y_range(
        c.panels
            .iter()
            .flat_map(|p| p.series.iter().flat_map(|s| s.1.iter()))
            .map(|&(_, y)| (y, y)),
        false,
    );
    let (rows, cols) = c.grid();
    for (i, (panel, area)) in c
        .panels
        .iter()
        .zip(body.split_evenly((rows, cols)))
        .enumerate()
    {
        let (x0, x1) = match &panel.x_labels {
            // Categories: one tick each, half a step of margin on both sides.
            Some(l) => (-0.5, l.len().max(1) as f64 - 0.5),
            None => y_range(
                panel
                    .series
                    .iter()
                    .flat_map(|s| s.1.iter())
                    .map(|&(x, _)| (x, x)),
                false,
            ),
        };
        let mut chart = ChartBuilder::on(&area)
            .margin(10)
            .margin_right(18)
            .x_label_area_size(44)
            .y_label_area_size(if i % cols == 0 { 72 } else { 48 })
            .build_cartesian_2d(x0..x1, y0..y1)?;
        let label = |x: &f64| {
            panel
                .x_labels
                .as_deref()
                .map_or_else(|| num_label(*x), |l| crate::figures::label_tick(l, *x))
        };
        let y_label = |y: &f64| num_label(*y);
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(RGBColor(235, 235, 235))
            .x_labels(5)
            .x_label_formatter(&label)
            .y_label_formatter(&y_label)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .x_desc(&panel.x_desc)
            .y_desc(if i % cols == 0 { c.y_desc.as_str() } else { "" });
        if let Some(l) = &panel.x_labels {
            mesh.x_labels(l.len() * 2 + 1);
        }
        mesh.draw()?;
        let alpha = point_alpha(panel.series.iter().map(|s| s.1.len()).sum());
        for (k, (_, points)) in panel.series.iter().enumerate() {
            let color = c.colors.color(k);
            chart.draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, 3, color.mix(alpha).filled())),
            )?;
        }
    }
    Ok(())
}

pub(crate) fn title_band<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (width, _) = root.dim_in_pixel();
    let (band, body) = root.split_vertically(TITLE_H);
    let chars = title.chars().count().max(1) as f64;
    let size = (f64::from(width) * 0.92 / (0.58 * chars)).min(24.0);
    band.draw_text(
        title,
        &TextStyle::from(("sans-serif", size).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center)),
        ((width / 2) as i32, (TITLE_H / 2) as i32),
    )?;
    Ok(body)
}

fn draw_lines<DB: DrawingBackend>(c: &LineChart, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    let body = title_band(root, &c.title)?;
    // The legend in a strip of its own, under the title: inside the panel it would hide data.
    let (strip, body) = body.split_vertically(LEGEND_H);
    legend_strip(&strip, &line_legend(c), Marker::Line)?;
    draw_line_panel(c, &body, false)
}

/// The legend entries of a line chart: each series in its colour, or grey and "n/a (not
/// computed)" when it has no value at all.
fn line_legend(c: &LineChart) -> Vec<(String, Option<RGBColor>)> {
    c.series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if s.points.iter().all(|p| p.1.is_none()) {
                (format!("{}: n/a (not computed)", s.name), None)
            } else {
                (s.name.clone(), Some(c.colors.color(i)))
            }
        })
        .collect()
}

/// Several line charts side by side under one title: e.g. one panel per metric of a scaling
/// study, mechanisms as lines in each.
#[derive(Clone, Debug)]
pub struct LineFigure {
    /// File stem, e.g. "F11".
    pub id: String,
    /// Title above the panels.
    pub title: String,
    /// One panel each, left to right; each panel's `title` is drawn above it.
    pub panels: Vec<LineChart>,
    /// Draw x on a log10 scale (x values must be > 0), ticks labelled at powers of 10.
    pub log_x: bool,
}

/// Pixel size of one panel of a [`LineFigure`].
pub const LINE_PANEL_W: u32 = 620;
/// Pixel height of one panel of a [`LineFigure`].
pub const LINE_PANEL_H: u32 = 520;

impl LineFigure {
    /// Pixel size of the PNG.
    pub fn size(&self) -> (u32, u32) {
        (
            LINE_PANEL_W * self.panels.len().max(1) as u32,
            TITLE_H + LEGEND_H + LINE_PANEL_H,
        )
    }
}

/// Renders `fig` to `<dir>/<id>.png` and `.svg`.
pub fn render_line_figure(fig: &LineFigure, dir: &Path) -> Result<FigureFiles, ReportError> {
    render_png_svg!(dir, &fig.id, fig.size(), |root| draw_line_figure(
        fig, &root
    ))
}

fn draw_line_figure<DB: DrawingBackend>(
    fig: &LineFigure,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let body = title_band(root, &fig.title)?;
    // One legend for every panel, in a strip of its own: inside a panel it would hide data.
    let (strip, body) = body.split_vertically(LEGEND_H);
    if let Some(first) = fig.panels.first() {
        legend_strip(&strip, &line_legend(first), Marker::Line)?;
    }
    let areas = body.split_evenly((1, fig.panels.len().max(1)));
    for (panel, area) in fig.panels.iter().zip(&areas) {
        let (band, plot) = area.split_vertically(PANEL_TITLE_H);
        band.draw_text(
            &panel.title,
            &TextStyle::from(("sans-serif", 17).into_font())
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center)),
            ((LINE_PANEL_W / 2) as i32, (PANEL_TITLE_H / 2) as i32),
        )?;
        draw_line_panel(panel, &plot, fig.log_x)?;
    }
    Ok(())
}

/// Height of a panel's title band in a [`LineFigure`].
const PANEL_TITLE_H: u32 = 30;

/// A tick label of a log10 axis at exponent `e`: "10³" at integer exponents, else the value.
fn log_tick(e: f64) -> String {
    const SUP: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let k = e.round();
    if (e - k).abs() < 1e-9 && k >= 0.0 {
        let digits: String = (k as u64)
            .to_string()
            .chars()
            .map(|d| SUP[d.to_digit(10).unwrap_or(0) as usize])
            .collect();
        format!("10{digits}")
    } else {
        let v = 10f64.powf(e);
        num_label((v * 100.0).round() / 100.0)
    }
}

fn draw_line_panel<DB: DrawingBackend>(
    c: &LineChart,
    body: &DrawingArea<DB, Shift>,
    log_x: bool,
) -> DrawResult<DB> {
    // On a log axis points are placed at log10(x); ticks say 10^k.
    let tx = |x: f64| if log_x { x.log10() } else { x };
    let xs: Vec<f64> = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| tx(p.0)))
        .collect();
    let (x0, x1) = match &c.x_labels {
        // Categories: one tick each, half a step of margin on both sides.
        Some(l) => (-0.5, l.len().max(1) as f64 - 0.5),
        None => y_range(xs.iter().map(|&x| (x, x)), false),
    };
    let (y0, y1) = y_range(
        c.series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter_map(|&(_, m, se)| m.map(|m| interval(m, se))),
        c.zero_line,
    );
    let mut chart = ChartBuilder::on(body)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(52)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let mut mesh = chart.configure_mesh();
    let label = |x: &f64| {
        c.x_labels
            .as_deref()
            .map_or_else(|| num_label(*x), |l| crate::figures::label_tick(l, *x))
    };
    let y_label = |y: &f64| num_label(*y);
    mesh.x_label_formatter(&label).y_label_formatter(&y_label);
    if let Some(l) = &c.x_labels {
        mesh.x_labels(l.len() * 2 + 1);
    }
    mesh.light_line_style(RGBColor(235, 235, 235))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .x_desc(&c.x_desc)
        .y_desc(&c.y_desc);
    let log_fmt = |e: &f64| log_tick(*e);
    if log_x {
        // One label per decade: plotters then puts its ticks on whole exponents.
        let decades = (x1.floor() - x0.ceil()).max(0.0) as usize + 1;
        mesh.x_labels(decades).x_label_formatter(&log_fmt);
    }
    mesh.draw()?;
    if c.zero_line {
        chart.draw_series(DashedLineSeries::new(
            [(x0, 0.0), (x1, 0.0)],
            6,
            4,
            BLACK.stroke_width(1),
        ))?;
    }
    for (i, s) in c.series.iter().enumerate() {
        let color = c.colors.color(i);
        // Consecutive non-null points form one segment; a null makes a gap, never a zero.
        let mut segments: Vec<Vec<(f64, f64, f64, f64)>> = vec![Vec::new()];
        for &(x, m, se) in &s.points {
            let x = tx(x);
            match m {
                Some(m) => {
                    let (lo, hi) = interval(m, se);
                    if let Some(seg) = segments.last_mut() {
                        seg.push((x, m, lo, hi));
                    }
                }
                None => segments.push(Vec::new()),
            }
        }
        segments.retain(|seg| !seg.is_empty());
        for seg in &segments {
            let band: Vec<(f64, f64)> = seg
                .iter()
                .map(|p| (p.0, p.3))
                .chain(seg.iter().rev().map(|p| (p.0, p.2)))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                band,
                color.mix(0.18).filled(),
            )))?;
            chart.draw_series(
                seg.iter()
                    .map(|p| Circle::new((p.0, p.1), 3, color.filled())),
            )?;
            chart.draw_series(LineSeries::new(
                seg.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))?;
        }
    }
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(c: &BarChart, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    let body = title_band(root, &c.title)?;
    let n = c.bars.len().max(1);
    let (y0, y1) = y_range(
        c.bars
            .iter()
            .filter_map(|&(_, m, se)| m.map(|m| interval(m, se))),
        true,
    );
    let names: Vec<String> = c.bars.iter().map(|b| b.0.clone()).collect();
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(52)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), y0..y1)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .x_labels(n)
        .x_label_formatter(&|x: &f64| category_label(&names, *x))
        .y_label_formatter(&|y: &f64| num_label(*y))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .x_desc(match c.colors {
            Palette::Mechanisms => "mechanism",
            Palette::Contrasts => "pair (A − B)",
        })
        .y_desc(&c.y_desc)
        .draw()?;
    for (i, (_, mean, se)) in c.bars.iter().enumerate() {
        let x = i as f64;
        match mean {
            Some(m) => {
                let (lo, hi) = interval(*m, *se);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.3, 0.0), (x + 0.3, *m)],
                    c.colors.color(i).filled(),
                )))?;
                chart.draw_series(std::iter::once(PathElement::new(
                    [(x, lo), (x, hi)],
                    BLACK.stroke_width(2),
                )))?;
                for y in [lo, hi] {
                    chart.draw_series(std::iter::once(PathElement::new(
                        [(x - 0.08, y), (x + 0.08, y)],
                        BLACK.stroke_width(2),
                    )))?;
                }
            }
            None => {
                let y = if y0 <= 0.0 && y1 >= 0.0 { 0.0 } else { y0 };
                chart.draw_series(std::iter::once(Text::new(
                    "n/a",
                    (x - 0.06, y + (y1 - y0) * 0.06),
                    ("sans-serif", 18)
                        .into_font()
                        .color(&RGBColor(110, 110, 110)),
                )))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_label_is_a_negative_zero() {
        // What plotters' own formatter prints "-0.0" for: −0.0 and ticks a rounding error below 0.
        let plotters_default = |v: f64| {
            plotters::data::float::FloatPrettyPrinter {
                allow_scientific: false,
                min_decimal: 1,
                max_decimal: 5,
            }
            .print(v)
        };
        assert_eq!(plotters_default(-0.0), "-0.0");
        for v in [-0.0, -1e-17, -2.7e-12, -4e-7, 0.0, 1e-17] {
            assert_eq!(num_label(v), "0.0", "{v}");
        }
        assert_eq!(num_label(-0.2), "-0.2");
        assert_eq!(num_label(-1e-4), "-0.0001");
        assert_eq!(num_label(1.5), "1.5");
        for s in ["-0", "-0.0", "-0.000", "-.0"] {
            assert!(!unsigned_zero(s.into()).starts_with('-'), "{s}");
        }
        for s in ["-0.01", "-1", "-10.0", "-", "-e"] {
            assert_eq!(unsigned_zero(s.into()), s);
        }
    }

    #[test]
    fn contrast_colours_are_none_of_the_mechanisms() {
        let dist = |a: RGBColor, b: RGBColor| {
            let d = |x: u8, y: u8| (f64::from(x) - f64::from(y)).powi(2);
            (d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)).sqrt()
        };
        for i in 0..Palette::Contrasts.count() {
            for j in 0..Palette::Mechanisms.count() {
                let (c, m) = (Palette::Contrasts.color(i), Palette::Mechanisms.color(j));
                assert!(
                    dist(c, m) > 50.0,
                    "contrast {i} {c:?} ~ mechanism {j} {m:?}"
                );
            }
        }
        // Within each palette the colours differ, and the default is the mechanisms'.
        for p in [Palette::Mechanisms, Palette::Contrasts] {
            for i in 0..p.count() {
                for j in 0..i {
                    assert!(dist(p.color(i), p.color(j)) > 50.0, "{p:?} {i} {j}");
                }
            }
        }
        assert_eq!(Palette::default().color(2), palette(2));
    }

    #[test]
    fn dots_fade_as_they_multiply() {
        assert_eq!(point_alpha(0), 0.8);
        assert_eq!(point_alpha(200), 0.8);
        let counts = [200, 500, 1_000, 3_000, 10_000];
        for w in counts.windows(2) {
            assert!(point_alpha(w[1]) < point_alpha(w[0]), "{w:?}");
        }
        assert!(point_alpha(30_000) >= 0.1 && point_alpha(30_000) < point_alpha(10_000) + 1e-12);
        assert_eq!(point_alpha(1_000_000), 0.1);
    }

    #[test]
    fn legends_are_drawn_above_the_plot_not_in_it() {
        // The legend sits in a strip between the title band and the plot, never over data.
        let chart = LineChart {
            title: "t".into(),
            x_desc: "x".into(),
            y_desc: "y".into(),
            series: vec![Series {
                name: "M − S".into(),
                points: (0..5).map(|i| (f64::from(i), Some(1.0), None)).collect(),
            }],
            zero_line: false,
            x_labels: None,
            colors: Palette::Contrasts,
        };
        let dir = tempfile::tempdir().unwrap();
        render_lines(&chart, dir.path(), "c").unwrap();
        let svg = std::fs::read_to_string(dir.path().join("c.svg")).unwrap();
        // The legend's name is written once, in the strip.
        let at = svg.find("M − S").expect("legend text");
        let tag = &svg[svg[..at].rfind("<text").unwrap()..at];
        let y: f64 = tag
            .split("y=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .unwrap();
        // Centred in the strip; drawn inside the plot's corner (as before), it sat at y = 83,
        // under the plot's top edge at TITLE_H + 12 = 68.
        let mid = f64::from(TITLE_H + LEGEND_H / 2);
        assert!(
            (y - mid).abs() < 2.0,
            "legend at y = {y}, strip centre {mid}"
        );
        assert_eq!(svg.matches("M − S").count(), 1);
        // Drawn in the contrast colour, not the first mechanism's.
        let c = Palette::Contrasts.color(0);
        let hex = format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        assert!(svg.contains(&hex), "{hex}");
        let m = palette(0);
        let mech = format!("#{:02X}{:02X}{:02X}", m.0, m.1, m.2);
        assert!(!svg.contains(&mech), "{mech}");
    }

    #[test]
    fn a_long_legend_fits_its_width() {
        // Three long entries on a 960 px strip: before the font shrank they ran to x ≈ 1180.
        let items: Vec<(String, RGBColor, Marker)> = [
            "evaluations (one replication block each)",
            "evaluations violating a constraint",
            "Pareto front (pooled means, ±1.96 SE)",
        ]
        .iter()
        .map(|n| (n.to_string(), palette(0), Marker::Dot))
        .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.svg");
        {
            let root = SVGBackend::new(&path, (960, 30)).into_drawing_area();
            legend_row(&root, &items).unwrap();
            root.present().unwrap();
        }
        let svg = std::fs::read_to_string(&path).unwrap();
        let attr = |tag: &str, name: &str| -> f64 {
            tag.split(&format!("{name}=\""))
                .nth(1)
                .and_then(|s| s.split('"').next())
                .and_then(|s| s.parse().ok())
                .unwrap()
        };
        let texts: Vec<&str> = svg.split("<text").skip(1).collect();
        assert_eq!(texts.len(), 3);
        let last = texts[2];
        let (x, size) = (attr(last, "x"), attr(last, "font-size"));
        let chars = items[2].0.chars().count() as f64;
        assert!(x + 0.5 * size * chars <= 960.0, "x {x}, size {size}");
        assert!((9.0..16.0).contains(&size), "{size}");
        assert!(attr(texts[0], "x") >= 0.0);
    }
}
