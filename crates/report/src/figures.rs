//! Heatmap figures over (V, p) with plotters, to PNG and SVG.
//!
//! A figure is a grid of panels; each panel is a heatmap with its own colour bar. Panels that
//! are compared (e.g. C, S, M welfare) share one colour scale. Text in PNGs is drawn with the
//! DejaVu Sans font embedded in this crate (plotters' `ab_glyph` feature), never a system font.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor;

use crate::ReportError;

/// Axis descriptions of every heatmap.
pub const X_DESC: &str = "value of improvement V (per user)";
/// Axis description of every heatmap's y axis.
pub const Y_DESC: &str = "payment p (per unit of data)";

/// Pixel size of one panel (heatmap plus its colour bar) in the PNG.
pub const PANEL_W: u32 = 600;
/// Pixel height of one panel.
pub const PANEL_H: u32 = 500;
/// Height of the figure title band.
pub const TITLE_H: u32 = 56;

/// Colour of masked (null) cells.
pub const MASK: RGBColor = RGBColor(150, 150, 150);

/// Stroke of hatched cells (contrasts not distinguishable from 0).
pub const HATCH: RGBColor = RGBColor(90, 90, 90);

static FONT: Once = Once::new();

/// Registers the embedded font for the `sans-serif` family (idempotent).
pub fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/DejaVuSans.ttf");
        for style in [FontStyle::Normal, FontStyle::Bold] {
            if plotters::style::register_font("sans-serif", style, bytes).is_err() {
                panic!("embedded DejaVuSans.ttf is not a valid font");
            }
        }
    });
}

/// A value grid over (x, y): `z[iy * xs.len() + ix]`, None = masked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grid {
    /// The x values (columns), ascending.
    pub xs: Vec<f64>,
    /// The y values (rows), ascending.
    pub ys: Vec<f64>,
    /// The value of each cell, row by row; None = masked.
    pub z: Vec<Option<f64>>,
    /// For an axis whose values are unevenly spaced: those values, drawn as equally wide
    /// columns (rows) at positions 0, 1, …, which `xs` (`ys`) then hold; see [`Grid::evenly`].
    pub x_values: Option<Vec<f64>>,
    /// As `x_values`, for the rows.
    pub y_values: Option<Vec<f64>>,
    /// For a categorical axis: the label of each column (row), drawn at positions 0, 1, …,
    /// which `xs` (`ys`) then hold; see [`Grid::labelled`].
    pub x_labels: Option<Vec<String>>,
    /// As `x_labels`, for the rows.
    pub y_labels: Option<Vec<String>>,
    /// Cells drawn hatched over their colour, aligned with `z` (empty: none): a contrast not
    /// distinguishable from 0.
    pub hatched: Vec<bool>,
}

impl Grid {
    /// Builds a grid from (x, y, z) points; x and y values are the distinct values seen
    /// (compared to 1e-9); missing points are masked.
    pub fn from_points(points: impl IntoIterator<Item = (f64, f64, Option<f64>)>) -> Grid {
        let pts: Vec<_> = points.into_iter().collect();
        let uniq = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
            v
        };
        let xs = uniq(pts.iter().map(|p| p.0).collect());
        let ys = uniq(pts.iter().map(|p| p.1).collect());
        let find = |v: &[f64], x: f64| v.iter().position(|a| (a - x).abs() < 1e-9);
        let mut z = vec![None; xs.len() * ys.len()];
        for (x, y, v) in pts {
            if let (Some(ix), Some(iy)) = (find(&xs, x), find(&ys, y)) {
                z[iy * xs.len() + ix] = v;
            }
        }
        Grid {
            xs,
            ys,
            z,
            ..Grid::default()
        }
    }

    /// The same grid with each unevenly spaced axis drawn as equally wide columns (rows)
    /// labelled with their values: a sweep like `[0, 0.025, 0.05, 0.1, 0.2]` then has no holes
    /// or overlaps.
    pub fn evenly(mut self) -> Grid {
        let uneven = |v: &[f64]| {
            let d = step(v);
            v.windows(2)
                .any(|w| ((w[1] - w[0]) - d).abs() > 1e-6 * d.abs().max(1e-12))
        };
        let positions = |n: usize| (0..n).map(|i| i as f64).collect::<Vec<_>>();
        if uneven(&self.xs) {
            let n = self.xs.len();
            self.x_values = Some(std::mem::replace(&mut self.xs, positions(n)));
        }
        if uneven(&self.ys) {
            let n = self.ys.len();
            self.y_values = Some(std::mem::replace(&mut self.ys, positions(n)));
        }
        self
    }

    /// The same grid with a categorical axis (whose values are positions in `x_labels` or
    /// `y_labels`; an empty list leaves that axis numeric) drawn as equally wide columns (rows)
    /// labelled with its categories.
    pub fn labelled(mut self, x_labels: &[String], y_labels: &[String]) -> Grid {
        let label = |labels: &[String], v: &mut Vec<f64>| {
            let names = v
                .iter()
                .map(|p| labels.get(*p as usize).cloned().unwrap_or_default())
                .collect();
            *v = (0..v.len()).map(|i| i as f64).collect();
            names
        };
        if !x_labels.is_empty() {
            self.x_labels = Some(label(x_labels, &mut self.xs));
        }
        if !y_labels.is_empty() {
            self.y_labels = Some(label(y_labels, &mut self.ys));
        }
        self
    }

    /// Smallest and largest unmasked value.
    pub fn range(&self) -> Option<(f64, f64)> {
        self.z.iter().flatten().fold(None, |acc, &v| match acc {
            None => Some((v, v)),
            Some((a, b)) => Some((a.min(v), b.max(v))),
        })
    }
}

/// How values map to colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Viridis from `min` (dark) to `max` (yellow).
    Sequential {
        /// The value drawn darkest.
        min: f64,
        /// The value drawn yellow.
        max: f64,
    },
    /// Blue below zero, white exactly at zero, orange to red above; each side scaled to its own
    /// extreme, so zero is white whatever the range.
    Diverging {
        /// The most negative value (deepest blue).
        min: f64,
        /// The most positive value (deepest red).
        max: f64,
    },
}

impl Scale {
    /// A sequential scale over the given range (widened if empty).
    pub fn sequential(min: f64, max: f64) -> Scale {
        let max = if max > min { max } else { min + 1.0 };
        Scale::Sequential { min, max }
    }

    /// A diverging scale covering `[min, max]` and zero.
    pub fn diverging(min: f64, max: f64) -> Scale {
        let (min, max) = (min.min(0.0), max.max(0.0));
        let (min, max) = if min == max { (-1.0, 1.0) } else { (min, max) };
        Scale::Diverging { min, max }
    }

    /// The range the scale covers, (min, max).
    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            Scale::Sequential { min, max } | Scale::Diverging { min, max } => (min, max),
        }
    }

    /// The colour of `v`.
    pub fn color(&self, v: f64) -> RGBColor {
        match *self {
            Scale::Sequential { min, max } => {
                let t = ((v - min) / (max - min)).clamp(0.0, 1.0);
                ViridisRGB.get_color(t as f32)
            }
            Scale::Diverging { min, max } => {
                if v == 0.0 {
                    WHITE
                } else if v > 0.0 {
                    let t = if max > 0.0 { (v / max).min(1.0) } else { 1.0 };
                    ramp(
                        &[(255, 255, 255), (253, 174, 97), (215, 48, 39), (127, 0, 0)],
                        t,
                    )
                } else {
                    let t = if min < 0.0 { (v / min).min(1.0) } else { 1.0 };
                    ramp(
                        &[
                            (255, 255, 255),
                            (171, 217, 233),
                            (69, 117, 180),
                            (8, 48, 107),
                        ],
                        t,
                    )
                }
            }
        }
    }
}

/// Piecewise-linear interpolation through equally spaced stops; `t = 0` is the first stop exactly.
fn ramp(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0) * (stops.len() - 1) as f64;
    let i = (t.floor() as usize).min(stops.len() - 2);
    let f = t - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// One heatmap.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Title above the heatmap.
    pub title: String,
    /// The values drawn.
    pub grid: Grid,
    /// How they map to colours.
    pub scale: Scale,
    /// Label of the colour bar (what the colour means, with units).
    pub bar_label: String,
}

/// A figure: rows of panels under one title.
#[derive(Clone, Debug)]
pub struct Figure {
    /// E.g. "F1"; also the file stem.
    pub id: String,
    /// Title above the panels.
    pub title: String,
    /// The panels, row by row.
    pub rows: Vec<Vec<Panel>>,
    /// One paragraph for the report: what is shown and from which run.
    pub caption: String,
    /// Axis descriptions (x, y); `None` means V and p, the paper's axes.
    pub axes: Option<(String, String)>,
}

impl Figure {
    /// The number of panel columns (the longest row; at least 1).
    pub fn cols(&self) -> usize {
        self.rows.iter().map(Vec::len).max().unwrap_or(1).max(1)
    }

    /// Pixel size of the PNG.
    pub fn size(&self) -> (u32, u32) {
        (
            PANEL_W * self.cols() as u32,
            TITLE_H + PANEL_H * self.rows.len().max(1) as u32,
        )
    }
}

/// Files written for one figure.
#[derive(Clone, Debug)]
pub struct FigureFiles {
    /// The figure's id, also the files' stem.
    pub id: String,
    /// The PNG written.
    pub png: PathBuf,
    /// The SVG written.
    pub svg: PathBuf,
}

pub(crate) fn draw_err<E: std::fmt::Debug>(id: &str) -> impl Fn(E) -> ReportError + '_ {
    move |e| ReportError::Draw(format!("{id}: {e:?}"))
}

/// Draws one figure twice, into `<dir>/<id>.png` and `<dir>/<id>.svg` (`size` in pixels), each
/// written to a hidden temporary and renamed into place (`datapact_trace::atomic`): a full disk
/// or a signal never leaves a truncated figure under its final name. `|root| draw(…, root)` is
/// called with each backend's drawing area. Evaluates to `Result<FigureFiles, ReportError>`.
macro_rules! render_png_svg {
    ($dir:expr, $id:expr, $size:expr, |$root:ident| $draw:expr) => {{
        (|| -> Result<$crate::figures::FigureFiles, $crate::ReportError> {
            use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};
            let (dir, id, size): (&std::path::Path, &str, (u32, u32)) = ($dir, $id, $size);
            $crate::figures::register_font();
            let png = dir.join(format!("{id}.png"));
            let svg = dir.join(format!("{id}.svg"));
            let io = |path: &std::path::Path| {
                let path = path.to_path_buf();
                move |e: std::io::Error| $crate::ReportError::io(&path, e)
            };
            datapact_trace::atomic::render_atomic(&png, io(&png), |tmp| {
                let $root = BitMapBackend::new(tmp, size).into_drawing_area();
                $draw.map_err($crate::figures::draw_err(id))?;
                $root.present().map_err($crate::figures::draw_err(id))
            })?;
            datapact_trace::atomic::render_atomic(&svg, io(&svg), |tmp| {
                let $root = SVGBackend::new(tmp, size).into_drawing_area();
                $draw.map_err($crate::figures::draw_err(id))?;
                $root.present().map_err($crate::figures::draw_err(id))
            })?;
            Ok($crate::figures::FigureFiles {
                id: id.to_string(),
                png,
                svg,
            })
        })()
    }};
}
pub(crate) use render_png_svg;

/// Renders `fig` to `<dir>/<id>.png` and `<dir>/<id>.svg`.
pub fn render(fig: &Figure, dir: &Path) -> Result<FigureFiles, ReportError> {
    render_png_svg!(dir, &fig.id, fig.size(), |root| draw_figure(fig, &root))
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw_figure<DB: DrawingBackend>(fig: &Figure, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(TITLE_H);
    title.draw_text(
        &fig.title,
        &TextStyle::from(
            (
                "sans-serif",
                title_size(&fig.title, PANEL_W * fig.cols() as u32),
            )
                .into_font(),
        )
        .color(&BLACK)
        .pos(text_anchor::Pos::new(
            text_anchor::HPos::Center,
            text_anchor::VPos::Center,
        )),
        (
            (PANEL_W * fig.cols() as u32 / 2) as i32,
            (TITLE_H / 2) as i32,
        ),
    )?;
    let rows = body.split_evenly((fig.rows.len().max(1), 1));
    for (row, area) in fig.rows.iter().zip(rows) {
        let cells = area.split_evenly((1, fig.cols()));
        for (panel, cell) in row.iter().zip(cells) {
            draw_panel(panel, &cell, fig.axes.as_ref())?;
        }
    }
    Ok(())
}

/// Title font size: 26 px, smaller if the title would not fit in `width` (DejaVu Sans averages
/// about 0.58 em per character).
fn title_size(title: &str, width: u32) -> f64 {
    let chars = title.chars().count().max(1) as f64;
    (f64::from(width) * 0.92 / (0.58 * chars)).min(26.0)
}

fn tick(v: &f64) -> String {
    unsigned_zero(format!("{v:.2}"))
}

/// Tick label of an axis drawn at positions 0, 1, …: the value at a whole position, else none.
fn value_tick(values: &[f64], v: f64) -> String {
    let i = v.round();
    if (v - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    values.get(i as usize).map_or_else(String::new, |x| {
        let s = format!("{x:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        unsigned_zero(if s.is_empty() || s == "-" { "0" } else { s }.to_string())
    })
}

/// Tick label of a categorical axis drawn at positions 0, 1, …: the category at a whole
/// position, else none.
pub fn label_tick(labels: &[String], v: f64) -> String {
    let i = v.round();
    if (v - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    labels.get(i as usize).cloned().unwrap_or_default()
}

/// Decimals that tell apart ticks about `range / 8` apart.
fn tick_decimals(range: f64) -> usize {
    let step = (range / 8.0).abs();
    if step <= 0.0 || !step.is_finite() {
        return 2;
    }
    (-step.log10()).ceil().clamp(0.0, 6.0) as usize
}

fn bar_tick(v: f64, decimals: usize) -> String {
    if v == 0.0 {
        "0".into()
    } else {
        unsigned_zero(format!("{v:.decimals$}"))
    }
}

fn step(v: &[f64]) -> f64 {
    if v.len() < 2 {
        1.0
    } else {
        (v[v.len() - 1] - v[0]) / (v.len() - 1) as f64
    }
}

fn draw_panel<DB: DrawingBackend>(
    p: &Panel,
    area: &DrawingArea<DB, Shift>,
    axes: Option<&(String, String)>,
) -> DrawResult<DB> {
    let (x_desc, y_desc) = axes.map_or((X_DESC, Y_DESC), |(x, y)| (x.as_str(), y.as_str()));
    let (map_area, bar_area) = area.split_horizontally(PANEL_W - 150);
    let g = &p.grid;
    let (dx, dy) = (step(&g.xs), step(&g.ys));
    let x0 = g.xs.first().copied().unwrap_or(0.0) - dx / 2.0;
    let x1 = g.xs.last().copied().unwrap_or(0.0) + dx / 2.0;
    let y0 = g.ys.first().copied().unwrap_or(0.0) - dy / 2.0;
    let y1 = g.ys.last().copied().unwrap_or(0.0) + dy / 2.0;
    let caption_font = ("sans-serif", 19).into_font();
    let mut chart = ChartBuilder::on(&map_area)
        .caption(&p.title, caption_font.clone())
        .margin(8)
        .margin_right(4)
        .x_label_area_size(52)
        .y_label_area_size(66)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let x_tick = |v: &f64| match (&g.x_labels, &g.x_values) {
        (Some(l), _) => label_tick(l, *v),
        (None, Some(xs)) => value_tick(xs, *v),
        (None, None) => tick(v),
    };
    let y_tick = |v: &f64| match (&g.y_labels, &g.y_values) {
        (Some(l), _) => label_tick(l, *v),
        (None, Some(ys)) => value_tick(ys, *v),
        (None, None) => tick(v),
    };
    let ticks = |labels: &Option<Vec<String>>, values: &Option<Vec<f64>>| {
        labels
            .as_ref()
            .map(Vec::len)
            .or(values.as_ref().map(Vec::len))
            .map_or(7, |n| n * 2 + 1)
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(ticks(&g.x_labels, &g.x_values))
        .y_labels(ticks(&g.y_labels, &g.y_values))
        .x_label_formatter(&x_tick)
        .y_label_formatter(&y_tick)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()?;
    let nx = g.xs.len();
    chart.draw_series(g.z.iter().enumerate().map(|(i, v)| {
        let (x, y) = (g.xs[i % nx], g.ys[i / nx]);
        let color = v.map(|v| p.scale.color(v)).unwrap_or(MASK);
        Rectangle::new(
            [(x - dx / 2.0, y - dy / 2.0), (x + dx / 2.0, y + dy / 2.0)],
            color.filled(),
        )
    }))?;
    // Hatching: diagonal strokes across the cell, so its colour stays readable underneath.
    for (i, _) in g.hatched.iter().enumerate().filter(|(_, h)| **h) {
        let (x, y) = (g.xs[i % nx], g.ys[i / nx]);
        let (l, b) = (x - dx / 2.0, y - dy / 2.0);
        chart.draw_series((1..4).map(|k| {
            let t = k as f64 / 4.0;
            PathElement::new(
                [(l, b + dy * t), (l + dx * (1.0 - t), b + dy)],
                HATCH.stroke_width(1),
            )
        }))?;
        chart.draw_series((0..4).map(|k| {
            let t = k as f64 / 4.0;
            PathElement::new(
                [(l + dx * t, b), (l + dx, b + dy * (1.0 - t))],
                HATCH.stroke_width(1),
            )
        }))?;
    }
    // frame around the plotting area
    chart.draw_series(std::iter::once(Rectangle::new(
        [(x0, y0), (x1, y1)],
        BLACK.stroke_width(1),
    )))?;

    // colour bar: same caption and bottom label area, so it lines up with the heatmap
    let (lo, hi) = p.scale.bounds();
    let decimals = tick_decimals(hi - lo);
    let mut bar = ChartBuilder::on(&bar_area)
        .caption(" ", caption_font)
        .margin(8)
        .margin_left(4)
        .margin_right(40)
        .x_label_area_size(52)
        .set_label_area_size(LabelAreaPosition::Right, 72)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    let steps = 256;
    bar.draw_series((0..steps).map(|k| {
        let a = lo + (hi - lo) * k as f64 / steps as f64;
        let b = lo + (hi - lo) * (k + 1) as f64 / steps as f64;
        let mid = (a + b) / 2.0;
        // the band holding zero is drawn at zero, so white is visible on diverging bars
        let v = if a <= 0.0 && b >= 0.0 { 0.0 } else { mid };
        Rectangle::new([(0.0, a), (1.0, b)], p.scale.color(v).filled())
    }))?;
    bar.draw_series(std::iter::once(Rectangle::new(
        [(0.0, lo), (1.0, hi)],
        BLACK.stroke_width(1),
    )))?;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .x_labels(0)
        .y_labels(8)
        .y_label_formatter(&|v: &f64| bar_tick(*v, decimals))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .y_desc(&p.bar_label)
        .draw()?;
    Ok(())
}

/// `s` without its minus sign if the number it writes is zero ("-0.00" → "0.00").
pub fn unsigned_zero(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest)
            if rest.chars().any(|c| c.is_ascii_digit())
                && rest.chars().all(|c| c == '0' || c == '.') =>
        {
            rest.to_string()
        }
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heatmap_and_colour_bar_ticks_are_never_negative_zeros() {
        for v in [-0.0, -1e-17, -0.004] {
            assert_eq!(tick(&v), "0.00", "{v}");
            assert!(!bar_tick(v, 2).starts_with('-'), "{v}");
        }
        assert_eq!(bar_tick(-0.004, 2), "0.00");
        assert_eq!(bar_tick(-0.25, 2), "-0.25");
        assert_eq!(value_tick(&[-0.0, -1e-7, -0.5], 0.0), "0");
        assert_eq!(value_tick(&[-0.0, -1e-7, -0.5], 1.0), "0");
        assert_eq!(value_tick(&[-0.0, -1e-7, -0.5], 2.0), "-0.5");
    }
}
