//! Stage: charts. PNG files drawn with plotters from results earlier stages computed; this
//! module formats numbers, it computes no statistics.
//!
//! Input: the evaluation ([`crate::cmd::evaluate::Metrics`]), the segments report and the
//! recommended weights. Output: PNG files (1600×900, text sized for a projector). The font
//! (DejaVu Sans, `assets/`, licence beside it) is compiled in, so no system font or fontconfig
//! is needed. Guarantees: the same inputs give byte-identical files; each file is written to a
//! temporary name and renamed.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::prelude::*;

use crate::cmd::evaluate::Metrics;
use crate::cmd::segments::Report as SegmentReport;
use crate::data::problem::thousands;
use crate::error::{Error, Result};
use crate::recommend::Weights;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const W: u32 = 1600;
const H: u32 = 900;
const LIVE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const MODEL: RGBColor = RGBColor(0xe0, 0x7b, 0x1a);
const GREY: RGBColor = RGBColor(0x80, 0x80, 0x80);

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and known to be valid; a failure would only mean that text
        // cannot be drawn, which `draw` reports as an error.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

fn err(path: &Path) -> impl Fn(String) -> Error + '_ {
    move |message| Error::Output {
        path: path.to_path_buf(),
        message: format!("drawing the chart: {message}"),
    }
}

/// Draw one chart into `path` (through a temporary file).
fn draw(
    path: &Path,
    f: impl FnOnce(
        &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    ) -> std::result::Result<(), String>,
) -> Result<()> {
    register_font();
    let tmp = path.with_extension("partial.png");
    {
        let root = BitMapBackend::new(&tmp, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(path)(e.to_string()))?;
        f(&root).map_err(err(path))?;
        root.present().map_err(|e| err(path)(e.to_string()))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| err(path)(e.to_string()))
}

fn title() -> TextStyle<'static> {
    ("sans-serif", 44).into_font().into()
}
fn label() -> TextStyle<'static> {
    ("sans-serif", 30).into_font().into()
}
fn small() -> TextStyle<'static> {
    ("sans-serif", 26).into_font().into()
}

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

type Chart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// A short line of the series' colour, for its legend entry.
fn marker(color: RGBColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x - 12, y), (x + 12, y)], color.stroke_width(width))
}

/// The legend box, in one style for every chart.
fn legend_box<'a, 'b: 'a>(
    c: &mut Chart<'a, 'b>,
    font: TextStyle<'static>,
    position: SeriesLabelPosition,
) -> std::result::Result<(), String> {
    c.configure_series_labels()
        .label_font(font)
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(s)
}

/// Observed conversion per live-score band on the test set, with Wilson intervals.
pub fn calibration(m: &Metrics, path: &Path) -> Result<()> {
    let rows = &m.test.live_calibration;
    let top = rows
        .iter()
        .filter_map(|r| r.rate_high)
        .fold(0.05f64, f64::max)
        * 1.15;
    draw(path, |root| {
        let mut c = ChartBuilder::on(root)
            .caption("Conversion by score band (test set, 95% interval)", title())
            .margin(30)
            .x_label_area_size(90)
            .y_label_area_size(130)
            .build_cartesian_2d(0f64..rows.len() as f64, 0f64..top * 100.0)
            .map_err(s)?;
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("converted within the horizon (%)")
            .axis_desc_style(label())
            .label_style(label())
            .draw()
            .map_err(s)?;
        for (k, r) in rows.iter().enumerate() {
            let x = k as f64;
            let rate = r.rate.unwrap_or(0.0) * 100.0;
            c.draw_series(std::iter::once(Rectangle::new(
                [(x + 0.2, 0.0), (x + 0.8, rate)],
                LIVE.mix(0.8).filled(),
            )))
            .map_err(s)?;
            if let (Some(lo), Some(hi)) = (r.rate_low, r.rate_high) {
                c.draw_series(std::iter::once(PathElement::new(
                    vec![(x + 0.5, lo * 100.0), (x + 0.5, hi * 100.0)],
                    BLACK.stroke_width(4),
                )))
                .map_err(s)?;
            }
            c.draw_series(std::iter::once(Text::new(
                format!("{} ({} leads): {:.1}%", r.group, thousands(r.leads), rate),
                (
                    x + 0.12,
                    r.rate_high.unwrap_or(0.0) * 100.0 + top * 100.0 * 0.06,
                ),
                small(),
            )))
            .map_err(s)?;
        }
        Ok(())
    })
}

/// Cumulative share of converters caught by decile, live score against the model.
pub fn gains(m: &Metrics, path: &Path) -> Result<()> {
    let line = |rows: &[crate::evaluate::DecileRow]| -> Vec<(f64, f64)> {
        std::iter::once((0.0, 0.0))
            .chain(rows.iter().map(|r| {
                (
                    r.decile as f64 * 10.0,
                    r.cumulative_gain.unwrap_or(0.0) * 100.0,
                )
            }))
            .collect()
    };
    draw(path, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(
                "Gains: share of converters in the top-scored leads (test set)",
                title(),
            )
            .margin(30)
            .x_label_area_size(90)
            .y_label_area_size(130)
            .build_cartesian_2d(0f64..100f64, 0f64..100f64)
            .map_err(s)?;
        c.configure_mesh()
            .x_desc("leads, highest scores first (%)")
            .y_desc("converters caught (%)")
            .axis_desc_style(label())
            .label_style(label())
            .draw()
            .map_err(s)?;
        for (name, color, width, pts) in [
            ("random order", GREY, 2, vec![(0.0, 0.0), (100.0, 100.0)]),
            ("live score", LIVE, 5, line(&m.test.live_deciles)),
            ("fitted model", MODEL, 5, line(&m.test.model_deciles)),
        ] {
            c.draw_series(LineSeries::new(pts, color.stroke_width(width)))
                .map_err(s)?
                .label(name)
                .legend(marker(color, width.max(3)));
        }
        legend_box(&mut c, label(), SeriesLabelPosition::LowerRight)?;
        Ok(())
    })
}

/// Per period: live and model AUC, and the PSI of the live score.
pub fn trend(m: &Metrics, path: &Path) -> Result<()> {
    let p = &m.periods;
    let n = p.len().max(1) as f64;
    draw(path, |root| {
        let mut c = ChartBuilder::on(root)
            .caption("Per period: ranking (AUC) and score drift (PSI)", title())
            .margin(30)
            .x_label_area_size(110)
            .y_label_area_size(130)
            .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..1f64)
            .map_err(s)?;
        c.configure_mesh()
            .x_labels(p.len())
            .x_label_formatter(&|x| {
                let k = x.round();
                if (x - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < p.len() {
                    p[k as usize].period.clone()
                } else {
                    String::new()
                }
            })
            .y_desc("AUC / PSI")
            .axis_desc_style(label())
            .label_style(small())
            .draw()
            .map_err(s)?;
        let series = |f: &dyn Fn(&crate::evaluate::PeriodRow) -> Option<f64>| -> Vec<(f64, f64)> {
            p.iter()
                .enumerate()
                .filter_map(|(k, r)| f(r).map(|v| (k as f64, v)))
                .collect()
        };
        for (name, color, pts) in [
            ("live score AUC", LIVE, series(&|r| r.live_auc)),
            (
                "model AUC (in-sample before the test period)",
                MODEL,
                series(&|r| r.model_auc),
            ),
            (
                "PSI of the live score vs the first period",
                GREY,
                series(&|r| r.psi),
            ),
        ] {
            c.draw_series(LineSeries::new(pts.clone(), color.stroke_width(4)))
                .map_err(s)?
                .label(name)
                .legend(marker(color, 4));
            c.draw_series(
                pts.iter()
                    .map(|&(x, y)| Circle::new((x, y), 7, color.filled())),
            )
            .map_err(s)?;
        }
        c.draw_series(LineSeries::new(
            vec![(-0.5, 0.5), (n - 0.5, 0.5)],
            GREY.stroke_width(1),
        ))
        .map_err(s)?;
        legend_box(&mut c, small(), SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}

/// The hand-over groups that convert worst (non-redundant, significant), with intervals.
pub fn segments(r: &SegmentReport, path: &Path) -> Result<()> {
    let q = &r.segments.non_converting;
    let rows: Vec<_> = q
        .groups
        .iter()
        .filter(|g| !g.redundant && g.significant && g.lift < 1.0)
        .take(10)
        .collect();
    let top = rows
        .iter()
        .map(|g| g.rate_high)
        .fold(q.rate * 1.3, f64::max)
        * 100.0;
    let k = rows.len().max(1) as f64;
    draw(path, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(
                format!(
                    "Hand-overs at {} that convert worst (95% interval)",
                    r.threshold_label
                ),
                title(),
            )
            .margin(30)
            .x_label_area_size(90)
            .y_label_area_size(20)
            .build_cartesian_2d(0f64..top, 0f64..k)
            .map_err(s)?;
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("converted (%)")
            .axis_desc_style(label())
            .label_style(label())
            .draw()
            .map_err(s)?;
        for (i, g) in rows.iter().enumerate() {
            let y = k - 1.0 - i as f64;
            c.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y + 0.2), (g.rate * 100.0, y + 0.8)],
                MODEL.mix(0.8).filled(),
            )))
            .map_err(s)?;
            c.draw_series(std::iter::once(PathElement::new(
                vec![
                    (g.rate_low * 100.0, y + 0.5),
                    (g.rate_high * 100.0, y + 0.5),
                ],
                BLACK.stroke_width(4),
            )))
            .map_err(s)?;
            c.draw_series(std::iter::once(Text::new(
                format!("{} ({} leads)", g.label(), thousands(g.leads)),
                (g.rate_high * 100.0 + top * 0.01, y + 0.68),
                small(),
            )))
            .map_err(s)?;
        }
        let all = q.rate * 100.0;
        c.draw_series(LineSeries::new(
            vec![(all, 0.0), (all, k)],
            LIVE.stroke_width(3),
        ))
        .map_err(s)?
        .label(format!("all hand-overs: {all:.1}%"))
        .legend(marker(LIVE, 3));
        legend_box(&mut c, label(), SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}

/// Current and recommended points per rule.
pub fn points(w: &Weights, path: &Path) -> Result<()> {
    let rows: Vec<_> = w.implicit.iter().chain(&w.explicit).collect();
    let lo = rows
        .iter()
        .map(|r| r.current.min(r.recommended))
        .fold(0f64, f64::min)
        - 5.0;
    let hi = rows
        .iter()
        .map(|r| r.current.max(r.recommended))
        .fold(0f64, f64::max)
        + 5.0;
    let k = rows.len().max(1) as f64;
    draw(path, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(
                "Points per rule: current (blue) and recommended (orange)",
                title(),
            )
            .margin(20)
            .x_label_area_size(80)
            .y_label_area_size(20)
            .build_cartesian_2d(lo..hi, 0f64..k)
            .map_err(s)?;
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("points (per fire for behaviour rules)")
            .axis_desc_style(label())
            .label_style(label())
            .draw()
            .map_err(s)?;
        for (i, r) in rows.iter().enumerate() {
            let y = k - 1.0 - i as f64;
            for (v, color, off) in [(r.current, LIVE, 0.5), (r.recommended, MODEL, 0.1)] {
                c.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y + off), (v, y + off + 0.38)],
                    color.filled(),
                )))
                .map_err(s)?;
            }
            c.draw_series(std::iter::once(Text::new(
                r.rule.clone(),
                (if lo < -20.0 { lo + 1.0 } else { hi * 0.45 }, y + 0.85),
                ("sans-serif", 20).into_font(),
            )))
            .map_err(s)?;
        }
        Ok(())
    })
}

/// Draw every chart `calibrate` has the data for into `dir`; returns the files written.
pub fn all(m: &Metrics, seg: &SegmentReport, w: &Weights, dir: &Path) -> Result<Vec<PathBuf>> {
    let _t = crate::timing::Stage::start("charts");
    let mut out = Vec::new();
    type Draw<'a> = &'a dyn Fn(&Path) -> Result<()>;
    let jobs: [(&str, Draw); 5] = [
        ("chart-calibration.png", &|p| calibration(m, p)),
        ("chart-gains.png", &|p| gains(m, p)),
        ("chart-trend.png", &|p| trend(m, p)),
        ("chart-segments.png", &|p| segments(seg, p)),
        ("chart-points.png", &|p| points(w, p)),
    ];
    for (name, f) in jobs {
        let p = dir.join(name);
        f(&p)?;
        out.push(p);
    }
    Ok(out)
}
