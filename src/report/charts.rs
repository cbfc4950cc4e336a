//! The report's PNG charts, drawn with plotters from [`Data`]; this module formats numbers, it
//! computes no statistics.
//!
//! Output: PNG files (1600×900, text sized for a projector), labelled in the report's language.
//! The font (DejaVu Sans, `assets/`, licence beside it) is compiled in, so no system font or
//! fontconfig is needed. Guarantees: the same data gives byte-identical files; each file is
//! written to a temporary name and renamed, and an existing file is never replaced.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Data, Lang};
use crate::error::{Error, Result};
use crate::evaluate::PeriodRow;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
const W: u32 = 1600;
const H: u32 = 900;
const LIVE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const MODEL: RGBColor = RGBColor(0xe0, 0x7b, 0x1a);
const GREEN: RGBColor = RGBColor(0x2e, 0x8b, 0x57);
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

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type Drawn = std::result::Result<(), String>;

/// Draw one chart into `path` (through a temporary file); an existing file is never replaced.
fn draw(path: &Path, f: impl FnOnce(&Area) -> Drawn) -> Result<()> {
    register_font();
    let file = crate::output::NewFile::create(path)?;
    {
        let root = BitMapBackend::new(file.temp_path(), (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(path)(e.to_string()))?;
        f(&root).map_err(err(path))?;
        root.present().map_err(|e| err(path)(e.to_string()))?;
    }
    file.persist()
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
) -> Drawn {
    c.configure_series_labels()
        .label_font(font)
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(s)
}

/// A titled chart area with the house margins, x and y from 0-based ranges.
fn chart<'a, 'b>(
    area: &'a Area<'b>,
    caption: &str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    y_area: u32,
) -> std::result::Result<Chart<'a, 'b>, String> {
    ChartBuilder::on(area)
        .caption(caption, title())
        .margin(30)
        .x_label_area_size(90)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, y)
        .map_err(s)
}

/// A line with dots at its points, and its legend entry.
fn line<'a, 'b: 'a>(
    c: &mut Chart<'a, 'b>,
    name: &str,
    color: RGBColor,
    pts: &[(f64, f64)],
    dots: bool,
) -> Drawn {
    c.draw_series(LineSeries::new(pts.to_vec(), color.stroke_width(4)))
        .map_err(s)?
        .label(name)
        .legend(marker(color, 4));
    if dots {
        c.draw_series(
            pts.iter()
                .map(|&(x, y)| Circle::new((x, y), 7, color.filled())),
        )
        .map_err(s)?;
    }
    Ok(())
}

/// Live-score distribution, converted against not converted (each as a share of its group).
pub fn distribution(d: &Data, l: Lang, path: &Path) -> Result<()> {
    let h = &d.distribution;
    let n = h.converted.len();
    let top = h
        .converted_share
        .iter()
        .chain(&h.not_converted_share)
        .fold(0.01f64, |a, b| a.max(*b))
        * 115.0;
    let (lo, hi) = (h.edges[0], h.edges[n]);
    let width = (hi - lo) / n.max(1) as f64;
    draw(path, |root| {
        let mut c = chart(
            root,
            l.pick(
                "Live score at the snapshot: converted vs not (test set)",
                "Heutiger Score zum Stichtag: mit und ohne Abschluss (Testzeitraum)",
            ),
            lo..hi,
            0.0..top,
            130,
        )?;
        c.configure_mesh()
            .disable_x_mesh()
            .x_desc(l.pick("live score (points)", "heutiger Score (Punkte)"))
            .y_desc(l.pick("share of the group (%)", "Anteil der Gruppe (%)"))
            .x_label_formatter(&|v| l.num(*v, 0))
            .y_label_formatter(&|v| l.num(*v, 0))
            .axis_desc_style(label())
            .label_style(label())
            .draw()
            .map_err(s)?;
        for (name, color, shares, off) in [
            (
                l.pick("not converted", "ohne Abschluss"),
                GREY,
                &h.not_converted_share,
                0.05,
            ),
            (
                l.pick("converted", "mit Abschluss"),
                GREEN,
                &h.converted_share,
                0.5,
            ),
        ] {
            c.draw_series(shares.iter().enumerate().map(|(i, v)| {
                let x0 = h.edges[i] + width * off;
                Rectangle::new([(x0, 0.0), (x0 + width * 0.45, v * 100.0)], color.filled())
            }))
            .map_err(s)?
            .label(name)
            .legend(move |(x, y)| {
                Rectangle::new([(x - 12, y - 10), (x + 12, y + 10)], color.filled())
            });
        }
        legend_box(&mut c, label(), SeriesLabelPosition::UpperRight)
    })
}

/// Observed conversion per live-score band on the test set, with Wilson intervals.
pub fn calibration(d: &Data, l: Lang, path: &Path) -> Result<()> {
    let rows = &d.test.live_calibration;
    let top = rows
        .iter()
        .filter_map(|r| r.rate_high)
        .fold(0.05f64, f64::max)
        * 115.0;
    draw(path, |root| {
        let mut c = chart(
            root,
            l.pick(
                "Conversion by score band (test set, 95% interval)",
                "Abschlussquote nach Score-Band (Testzeitraum, 95-%-Intervall)",
            ),
            0.0..rows.len() as f64,
            0.0..top,
            130,
        )?;
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(l.pick(
                "converted within the horizon (%)",
                "Abschluss innerhalb des Horizonts (%)",
            ))
            .y_label_formatter(&|v| l.num(*v, 0))
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
                format!(
                    "{} ({} {}): {}",
                    r.group,
                    l.int(r.leads),
                    l.pick("leads", "Leads"),
                    l.pct_opt(r.rate, 1)
                ),
                (x + 0.12, r.rate_high.unwrap_or(0.0) * 100.0 + top * 0.06),
                small(),
            )))
            .map_err(s)?;
        }
        Ok(())
    })
}

/// ROC and precision-recall curves, live score against the model.
pub fn roc_pr(d: &Data, l: Lang, path: &Path) -> Result<()> {
    let cv = &d.curves;
    let pts = |v: &[[f64; 2]]| -> Vec<(f64, f64)> {
        v.iter().map(|p| (p[0] * 100.0, p[1] * 100.0)).collect()
    };
    let (live, model) = (
        l.pick("live score", "heutiger Score"),
        l.pick("fitted model", "Modell"),
    );
    let auc = |v: Option<f64>| v.map_or("–".into(), |v| l.num(v, 3));
    draw(path, |root| {
        let root = root
            .margin(12, 0, 0, 0)
            .titled(
                l.pick(
                    "Ranking on the test set: ROC and precision–recall",
                    "Rangfolge im Testzeitraum: ROC und Abschlussquote gegen erfasste Abschlüsse",
                ),
                title(),
            )
            .map_err(s)?;
        let panels = root.split_evenly((1, 2));
        // ROC.
        let mut c = ChartBuilder::on(&panels[0])
            .margin(30)
            .x_label_area_size(90)
            .y_label_area_size(110)
            .build_cartesian_2d(0f64..100f64, 0f64..100f64)
            .map_err(s)?;
        c.configure_mesh()
            .x_desc(l.pick(
                "non-converters above the cut (%)",
                "Leads ohne Abschluss über der Schwelle (%)",
            ))
            .y_desc(l.pick(
                "converters above the cut (%)",
                "Leads mit Abschluss über der Schwelle (%)",
            ))
            .x_label_formatter(&|v| l.num(*v, 0))
            .y_label_formatter(&|v| l.num(*v, 0))
            .axis_desc_style(small())
            .label_style(small())
            .draw()
            .map_err(s)?;
        c.draw_series(LineSeries::new(
            vec![(0.0, 0.0), (100.0, 100.0)],
            GREY.stroke_width(2),
        ))
        .map_err(s)?;
        line(
            &mut c,
            &format!("{live} (AUC {})", auc(d.test.live.roc_auc.value)),
            LIVE,
            &pts(&cv.live_roc),
            false,
        )?;
        line(
            &mut c,
            &format!("{model} (AUC {})", auc(d.test.model.roc_auc.value)),
            MODEL,
            &pts(&cv.model_roc),
            false,
        )?;
        legend_box(&mut c, small(), SeriesLabelPosition::LowerRight)?;
        // Precision-recall.
        let top = cv
            .live_pr
            .iter()
            .chain(&cv.model_pr)
            .skip_while(|p| p[0] < 0.05)
            .map(|p| p[1])
            .fold(d.test.rate.unwrap_or(0.0) * 2.0, f64::max)
            .min(1.0)
            * 110.0;
        let mut c = ChartBuilder::on(&panels[1])
            .margin(30)
            .x_label_area_size(90)
            .y_label_area_size(110)
            .build_cartesian_2d(0f64..100f64, 0f64..top)
            .map_err(s)?;
        c.configure_mesh()
            .x_desc(l.pick("recall (%)", "erfasste Abschlüsse (%)"))
            .y_desc(l.pick("precision (%)", "Abschlussquote (%)"))
            .x_label_formatter(&|v| l.num(*v, 0))
            .y_label_formatter(&|v| l.num(*v, 0))
            .axis_desc_style(small())
            .label_style(small())
            .draw()
            .map_err(s)?;
        let base = d.test.rate.unwrap_or(0.0) * 100.0;
        c.draw_series(LineSeries::new(
            vec![(0.0, base), (100.0, base)],
            GREY.stroke_width(2),
        ))
        .map_err(s)?
        .label(format!(
            "{} {}",
            l.pick("all leads:", "alle Leads:"),
            l.pct_opt(d.test.rate, 1)
        ))
        .legend(marker(GREY, 3));
        line(
            &mut c,
            &format!("{live} (AP {})", auc(d.test.live.pr_auc)),
            LIVE,
            &pts(&cv.live_pr),
            false,
        )?;
        line(
            &mut c,
            &format!("{model} (AP {})", auc(d.test.model.pr_auc)),
            MODEL,
            &pts(&cv.model_pr),
            false,
        )?;
        legend_box(&mut c, small(), SeriesLabelPosition::UpperRight)
    })
}

/// Cumulative share of converters caught by decile, live score against the model.
pub fn gains(d: &Data, l: Lang, path: &Path) -> Result<()> {
    let curve = |rows: &[crate::evaluate::DecileRow]| -> Vec<(f64, f64)> {
        std::iter::once((0.0, 0.0))
            .chain(rows.iter().map(|r| {
                (
                    r.decile as f64 * 10.0,
                    r.cumulative_gain.unwrap_or(0.0) * 100.0,
                )
            }))
            .collect()
    };
    let lift1 = |rows: &[crate::evaluate::DecileRow]| {
        rows.first()
            .and_then(|r| r.lift)
            .map_or("–".into(), |v| format!("{}×", l.num(v, 1)))
    };
    draw(path, |root| {
        let mut c = chart(
            root,
            l.pick(
                "Gains: share of converters in the top-scored leads (test set)",
                "Anteil aller Abschlüsse unter den bestbewerteten Leads",
            ),
            0.0..100.0,
            0.0..100.0,
            130,
        )?;
        c.configure_mesh()
            .x_desc(l.pick(
                "leads, highest scores first (%)",
                "Leads, höchste Scores zuerst (%)",
            ))
            .y_desc(l.pick("converters caught (%)", "erfasste Abschlüsse (%)"))
            .x_label_formatter(&|v| l.num(*v, 0))
            .y_label_formatter(&|v| l.num(*v, 0))
            .axis_desc_style(label())
            .label_style(label())
            .draw()
            .map_err(s)?;
        c.draw_series(LineSeries::new(
            vec![(0.0, 0.0), (100.0, 100.0)],
            GREY.stroke_width(2),
        ))
        .map_err(s)?
        .label(l.pick("random order", "zufällige Reihenfolge"))
        .legend(marker(GREY, 3));
        for (name, color, deciles) in [
            (
                l.pick("live score", "heutiger Score"),
                LIVE,
                &d.test.live_deciles,
            ),
            (
                l.pick("fitted model", "Modell"),
                MODEL,
                &d.test.model_deciles,
            ),
        ] {
            let name = format!(
                "{name} ({} {})",
                l.pick(
                    "lift in the top tenth",
                    "oberstes Zehntel: Faktor zum Durchschnitt"
                ),
                lift1(deciles)
            );
            line(&mut c, &name, color, &curve(deciles), true)?;
        }
        legend_box(&mut c, label(), SeriesLabelPosition::LowerRight)
    })
}

/// Precision, recall and hand-overs per month against the SQL threshold, for the current and
/// the recommended points, with each config's SQL threshold marked.
pub fn sweep(d: &Data, l: Lang, path: &Path) -> Result<()> {
    let t = &d.thresholds;
    let panels_data = [
        (
            l.pick("current points", "aktuelle Punkte"),
            &t.current_sweep,
            t.current_sql,
            BLACK,
        ),
        (
            l.pick("recommended points", "empfohlene Punkte"),
            &t.recommended_sweep,
            t.recommended_sql,
            BLACK,
        ),
    ];
    let vol_top = t
        .current_sweep
        .iter()
        .chain(&t.recommended_sweep)
        .map(|p| p.handovers_per_month)
        .fold(1.0f64, f64::max)
        * 1.1;
    draw(path, |root| {
        let root = root
            .margin(12, 0, 0, 0)
            .titled(
                l.pick(
                    "SQL threshold sweep (training period, hand-over replay)",
                    "SQL-Schwelle im Vergleich (Trainingszeitraum, Übergaben nachgespielt)",
                ),
                title(),
            )
            .map_err(s)?;
        let panels = root.split_evenly((1, 2));
        for (area, (name, pts, sql, color)) in panels.iter().zip(panels_data) {
            if pts.is_empty() {
                continue;
            }
            let x0 = pts
                .iter()
                .map(|p| p.threshold)
                .fold(f64::INFINITY, f64::min);
            let x1 = pts
                .iter()
                .map(|p| p.threshold)
                .fold(f64::NEG_INFINITY, f64::max)
                .max(x0 + 1.0);
            // The right axis' labels plus its rotated title: wide enough for the widest label
            // (300,000 hand-overs a month at 10M leads ran into the title).
            let widest = l.num(vol_top, 0).chars().count() as u32;
            let mut c = ChartBuilder::on(area)
                .caption(name, label())
                .margin(25)
                .x_label_area_size(80)
                .y_label_area_size(90)
                .right_y_label_area_size((60 + 16 * widest).max(110))
                // Headroom above 100% keeps the legend clear of the lines.
                .build_cartesian_2d(x0..x1, 0f64..150f64)
                .map_err(s)?
                .set_secondary_coord(x0..x1, 0f64..vol_top * 1.5);
            c.configure_mesh()
                .x_desc(l.pick("SQL threshold (points)", "SQL-Schwelle (Punkte)"))
                .y_desc(l.pick(
                    "precision / recall (%)",
                    "Abschlussquote / erfasste Abschlüsse (%)",
                ))
                .x_label_formatter(&|v| l.num(*v, 0))
                .y_label_formatter(&|v| {
                    if *v <= 100.0 {
                        l.num(*v, 0)
                    } else {
                        String::new()
                    }
                })
                .axis_desc_style(small())
                .label_style(small())
                .draw()
                .map_err(s)?;
            c.configure_secondary_axes()
                .y_desc(l.pick("hand-overs per month", "Übergaben pro Monat"))
                .y_label_formatter(&|v| {
                    if *v <= vol_top {
                        l.num(*v, 0)
                    } else {
                        String::new()
                    }
                })
                .axis_desc_style(small())
                .label_style(small())
                .draw()
                .map_err(s)?;
            let series = |f: &dyn Fn(&super::SweepPoint) -> Option<f64>| -> Vec<(f64, f64)> {
                pts.iter()
                    .filter_map(|p| f(p).map(|v| (p.threshold, v)))
                    .collect()
            };
            for (lab, col, v) in [
                (
                    l.pick("precision", "Abschlussquote"),
                    GREEN,
                    series(&|p| p.precision.map(|v| v * 100.0)),
                ),
                (
                    l.pick("recall", "erfasste Abschlüsse"),
                    LIVE,
                    series(&|p| p.recall.map(|v| v * 100.0)),
                ),
            ] {
                c.draw_series(LineSeries::new(v, col.stroke_width(4)))
                    .map_err(s)?
                    .label(lab)
                    .legend(marker(col, 4));
            }
            c.draw_secondary_series(LineSeries::new(
                series(&|p| Some(p.handovers_per_month)),
                GREY.stroke_width(4),
            ))
            .map_err(s)?
            .label(l.pick(
                "hand-overs per month (right)",
                "Übergaben pro Monat (rechts)",
            ))
            .legend(marker(GREY, 4));
            c.draw_series(DashedLineSeries::new(
                vec![(sql, 0.0), (sql, 100.0)],
                12,
                8,
                color.stroke_width(3),
            ))
            .map_err(s)?
            .label(format!("SQL {}", l.num(sql, 0)))
            .legend(marker(color, 3));
            c.configure_series_labels()
                .label_font(small())
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()
                .map_err(s)?;
        }
        Ok(())
    })
}

/// Per period: AUC, conversion rate and precision at SQL, PSI of the live score.
pub fn trend(d: &Data, l: Lang, path: &Path) -> Result<()> {
    let p = &d.periods;
    let n = p.len().max(1) as f64;
    let series = |f: &dyn Fn(&PeriodRow) -> Option<f64>| -> Vec<(f64, f64)> {
        p.iter()
            .enumerate()
            .filter_map(|(k, r)| f(r).map(|v| (k as f64, v)))
            .collect()
    };
    let period_label = |x: &f64| {
        let k = x.round();
        if (x - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < p.len() {
            // Q3 '24 / Q3/24: short enough for three panels.
            l.period_short(&p[k as usize].period)
        } else {
            String::new()
        }
    };
    let rate_top = p
        .iter()
        .flat_map(|r| [r.rate, r.sql_precision])
        .flatten()
        .fold(0.05f64, f64::max)
        * 115.0;
    let psi_top = p.iter().filter_map(|r| r.psi).fold(0.3f64, f64::max) * 1.15;
    draw(path, |root| {
        let root = root
            .margin(12, 0, 0, 0)
            .titled(
                l.pick(
                    "Per period: ranking, conversion and score drift",
                    "Pro Zeitraum: Rangfolge, Abschlussquote und Verschiebung der Scores",
                ),
                title(),
            )
            .map_err(s)?;
        let panels = root.split_evenly((1, 3));
        let panel_specs: [(&str, std::ops::Range<f64>, usize); 3] = [
            ("AUC", 0.4..1.0, 2),
            (l.pick("rates (%)", "Raten (%)"), 0.0..rate_top, 0),
            ("PSI", 0.0..psi_top, 2),
        ];
        for (k, (area, (ydesc, yr, dp))) in panels.iter().zip(panel_specs).enumerate() {
            let mut c = ChartBuilder::on(area)
                .margin(20)
                .x_label_area_size(70)
                .y_label_area_size(90)
                .build_cartesian_2d(-0.5f64..n - 0.5, yr.clone())
                .map_err(s)?;
            c.configure_mesh()
                .x_labels(p.len().min(8))
                .x_label_formatter(&period_label)
                .y_desc(ydesc)
                .y_label_formatter(&|v| l.num(*v, dp))
                .axis_desc_style(small())
                .label_style(("sans-serif", 20).into_font())
                .draw()
                .map_err(s)?;
            match k {
                0 => {
                    line(
                        &mut c,
                        l.pick("live score", "heutiger Score"),
                        LIVE,
                        &series(&|r| r.live_auc),
                        true,
                    )?;
                    line(
                        &mut c,
                        l.pick(
                            "model (in-sample before test)",
                            "Modell (vor dem Test zu optimistisch)",
                        ),
                        MODEL,
                        &series(&|r| r.model_auc),
                        true,
                    )?;
                    c.draw_series(LineSeries::new(
                        vec![(-0.5, 0.5), (n - 0.5, 0.5)],
                        GREY.stroke_width(1),
                    ))
                    .map_err(s)?;
                }
                1 => {
                    line(
                        &mut c,
                        l.pick("conversion rate", "Abschlussquote"),
                        GREEN,
                        &series(&|r| r.rate.map(|v| v * 100.0)),
                        true,
                    )?;
                    line(
                        &mut c,
                        l.pick("precision at SQL", "Abschlussquote bei SQL"),
                        LIVE,
                        &series(&|r| r.sql_precision.map(|v| v * 100.0)),
                        true,
                    )?;
                }
                _ => {
                    line(
                        &mut c,
                        l.pick("PSI vs training period", "Verschiebung (PSI)"),
                        GREY,
                        &series(&|r| r.psi),
                        true,
                    )?;
                    c.draw_series(DashedLineSeries::new(
                        vec![(-0.5, 0.25), (n - 0.5, 0.25)],
                        10,
                        8,
                        RED.stroke_width(2),
                    ))
                    .map_err(s)?
                    .label(l.pick("0.25: major shift", "0,25: starke Verschiebung"))
                    .legend(marker(RED, 2));
                }
            }
            legend_box(
                &mut c,
                ("sans-serif", 20).into_font().into(),
                SeriesLabelPosition::UpperLeft,
            )?;
        }
        Ok(())
    })
}

/// The hand-over groups that convert worst (significant, non-redundant), with intervals.
pub fn segments(d: &Data, l: Lang, path: &Path) -> Result<()> {
    let q = &d.segments;
    let rows: Vec<_> = q.worst.iter().take(10).collect();
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
                    "{} {} {}",
                    l.pick("Hand-overs at SQL", "Übergaben bei SQL"),
                    l.num(q.threshold, 0),
                    l.pick(
                        "that convert worst (95% interval)",
                        "mit der schlechtesten Abschlussquote (95-%-Intervall)"
                    )
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
            .x_desc(l.pick("converted (%)", "Abschlussquote (%)"))
            .x_label_formatter(&|v| l.num(*v, 0))
            .axis_desc_style(label())
            .label_style(label())
            .draw()
            .map_err(s)?;
        if rows.is_empty() {
            c.draw_series(std::iter::once(Text::new(
                l.pick(
                    "No group converts significantly worse than all hand-overs.",
                    "Keine Gruppe schließt nach Korrektur für Mehrfachtests auffällig schlechter ab als alle Übergaben.",
                )
                .to_string(),
                (top * 0.05, k * 0.5),
                label(),
            )))
            .map_err(s)?;
        }
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
            let name = g
                .values
                .iter()
                .map(|(a, v)| format!("{} = {}", d.shown(l, a), d.shown(l, v)))
                .collect::<Vec<_>>()
                .join(" & ");
            // Long names (a user's labels) are cut so that the text ends inside the chart:
            // about 115 characters fit across its width.
            let x = g.rate_high * 100.0 + top * 0.01;
            let count = format!("({} {})", l.int(g.leads), l.pick("leads", "Leads"));
            let room = ((1.0 - x / top).max(0.0) * 115.0) as usize;
            let fit = room.saturating_sub(count.chars().count() + 1).max(12);
            c.draw_series(std::iter::once(Text::new(
                format!("{} {count}", short(&name, fit)),
                (x, y + 0.68),
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
        .label(format!(
            "{} {}",
            l.pick("all hand-overs:", "alle Übergaben:"),
            l.pct(q.rate, 1)
        ))
        .legend(marker(LIVE, 3));
        legend_box(&mut c, label(), SeriesLabelPosition::UpperRight)
    })
}

/// Conversion rate by fit (explicit points) and engagement (implicit points) quartile.
pub fn matrix(d: &Data, l: Lang, path: &Path) -> Result<()> {
    let mut fits: Vec<&str> = Vec::new();
    let mut engs: Vec<&str> = Vec::new();
    for c in &d.matrix {
        if !fits.contains(&c.fit.as_str()) {
            fits.push(&c.fit);
        }
        if !engs.contains(&c.engagement.as_str()) {
            engs.push(&c.engagement);
        }
    }
    let max_rate = d
        .matrix
        .iter()
        .filter_map(|c| c.rate)
        .fold(1e-9f64, f64::max);
    let (nf, ne) = (fits.len().max(1) as f64, engs.len().max(1) as f64);
    draw(path, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(
                l.pick(
                    "Conversion by fit × engagement (quartiles of points at the snapshot)",
                    "Abschlussquote nach Fit × Engagement (Quartile der Punkte zum Stichtag)",
                ),
                ("sans-serif", 40).into_font(),
            )
            .margin(30)
            .x_label_area_size(110)
            .y_label_area_size(220)
            .build_cartesian_2d(0f64..ne, 0f64..nf)
            .map_err(s)?;
        c.configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(0)
            .x_desc(l.pick(
                "engagement: behaviour points (quartile range)",
                "Engagement: Verhaltenspunkte (Quartilsbereich)",
            ))
            .y_desc(l.pick("fit: profile points", "Fit: Profilpunkte"))
            .axis_desc_style(label())
            .draw()
            .map_err(s)?;
        for cell in &d.matrix {
            let (Some(fi), Some(ei)) = (
                fits.iter().position(|f| *f == cell.fit),
                engs.iter().position(|e| *e == cell.engagement),
            ) else {
                continue;
            };
            let (x, y) = (ei as f64, fi as f64);
            let color = match cell.rate {
                Some(r) => {
                    let t = (r / max_rate).clamp(0.0, 1.0);
                    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
                    RGBColor(mix(0xf2, 0xe0), mix(0xf2, 0x4b), mix(0xf2, 0x1a))
                }
                None => RGBColor(0xdd, 0xdd, 0xdd),
            };
            c.draw_series(std::iter::once(Rectangle::new(
                [(x + 0.02, y + 0.02), (x + 0.98, y + 0.98)],
                color.filled(),
            )))
            .map_err(s)?;
            let text = match cell.rate {
                Some(r) => format!("{} ({})", l.pct(r, 1), l.int(cell.leads)),
                None => l.pick("too few leads", "zu wenige Leads").to_string(),
            };
            c.draw_series(std::iter::once(Text::new(
                text,
                (x + 0.12, y + 0.55),
                label(),
            )))
            .map_err(s)?;
        }
        // Axis labels in pixels, outside the plotting area (which clips).
        for (i, e) in engs.iter().enumerate() {
            let (px, py) = c.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw(&Text::new(
                e.to_string(),
                (px, py + 12),
                small().pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(s)?;
        }
        for (i, f) in fits.iter().enumerate() {
            let (px, py) = c.backend_coord(&(0.0, i as f64 + 0.5));
            root.draw(&Text::new(
                f.to_string(),
                (px - 12, py),
                small().pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(s)?;
        }
        Ok(())
    })
}

/// Current and recommended points per rule.
/// Width of the rule names' column left of the points chart.
const LABELS: u32 = 420;

/// `text` cut to `max` characters, with an ellipsis when cut.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        text.chars().take(max - 1).collect::<String>() + "…"
    }
}

pub fn points(d: &Data, l: Lang, path: &Path) -> Result<()> {
    // A first model: only its rules with points, with no "current" bar of zeros.
    let first = d.first_model.is_some();
    let rows: Vec<_> = d
        .weights
        .rules
        .iter()
        .filter(|r| !first || r.recommended != 0.0)
        .collect();
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
                if first {
                    l.pick(
                        "Points per rule of the first model",
                        "Punkte pro Regel des ersten Modells",
                    )
                } else {
                    l.pick(
                        "Points per rule: current (blue) and recommended (orange)",
                        "Punkte pro Regel: aktuell (blau) und empfohlen (orange)",
                    )
                },
                title(),
            )
            .margin(20)
            .x_label_area_size(80)
            // Rule names sit left of the plot, never on a bar.
            .y_label_area_size(LABELS)
            .build_cartesian_2d(lo..hi, 0f64..k)
            .map_err(s)?;
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(l.pick(
                "points (per fire for behaviour rules)",
                "Punkte (je Ereignis bei Verhaltensregeln)",
            ))
            .x_label_formatter(&|v| l.num(*v, 0))
            .axis_desc_style(label())
            .label_style(label())
            .draw()
            .map_err(s)?;
        for (i, r) in rows.iter().enumerate() {
            let y = k - 1.0 - i as f64;
            let bars: &[(f64, RGBColor, f64)] = if first {
                &[(r.recommended, MODEL, 0.3)]
            } else {
                &[(r.current, LIVE, 0.5), (r.recommended, MODEL, 0.1)]
            };
            for &(v, color, off) in bars {
                c.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y + off), (v, y + off + 0.38)],
                    color.filled(),
                )))
                .map_err(s)?;
            }
            let (px, py) = c.backend_coord(&(lo, y + 0.5));
            root.draw(&Text::new(
                short(&d.shown(l, &r.rule), 38),
                (px - 10, py),
                TextStyle::from(("sans-serif", 20).into_font())
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(s)?;
        }
        Ok(())
    })
}

/// The rules the stability chart shows: flagged first, then by the size of their change.
pub fn stability_shown(d: &Data) -> Vec<&crate::evaluate::stability::RuleStability> {
    let mut r: Vec<_> = d
        .rule_stability
        .iter()
        .filter(|r| r.drift.z.is_some() || r.drift.detected)
        .collect();
    r.sort_by(|a, b| {
        b.drift
            .detected
            .cmp(&a.drift.detected)
            .then(
                b.drift
                    .z
                    .map_or(f64::INFINITY, f64::abs)
                    .total_cmp(&a.drift.z.map_or(f64::INFINITY, f64::abs)),
            )
            .then(a.rule.cmp(&b.rule))
    });
    r.truncate(6);
    r
}

/// Small multiples: each shown rule's effect per period with its 95% interval.
pub fn stability(d: &Data, l: Lang, path: &Path) -> Result<()> {
    let rules = stability_shown(d);
    draw(path, |root| {
        let root = root
            .margin(12, 0, 0, 0)
            .titled(
                l.pick(
                    "Effect of each rule per period (log-odds per fire or match, 95% intervals; grey: test period)",
                    "Wirkung je Regel pro Zeitraum (auf die Abschlusschance als Log-Odds, 95-%-Intervalle; grau: Testzeitraum)",
                ),
                ("sans-serif", 32).into_font(),
            )
            .map_err(s)?;
        if rules.is_empty() {
            root.draw(&Text::new(
                l.pick(
                    "No rule could be compared between the training and the test period (or this run holds no rule-stability results).",
                    "Keine Regel ließ sich zwischen Trainings- und Testzeitraum vergleichen (oder der Lauf enthält keine Ergebnisse zur Regelstabilität).",
                ),
                (60, 300),
                label(),
            ))
            .map_err(s)?;
            return Ok(());
        }
        let panels = root.split_evenly((2, 3));
        for (area, r) in panels.iter().zip(&rules) {
            let n = r.periods.len().max(1) as f64;
            let pts: Vec<(f64, f64, f64, f64)> = r
                .periods
                .iter()
                .enumerate()
                .filter_map(|(k, p)| {
                    let ci = p.effect.ci?;
                    Some((k as f64, p.effect.log_odds?, ci[0], ci[1]))
                })
                .collect();
            let lo = pts.iter().map(|p| p.2).fold(-0.5f64, f64::min);
            let hi = pts.iter().map(|p| p.3).fold(0.5f64, f64::max);
            let pad = (hi - lo) * 0.08;
            // A panel's title fits its third of the chart's width.
            let name = if r.drift.detected {
                format!(
                    "{} ({})",
                    short(&d.shown(l, &r.rule), 28),
                    l.pick("drift", "verändert")
                )
            } else {
                short(&d.shown(l, &r.rule), 38)
            };
            let mut c = ChartBuilder::on(area)
                .caption(name, ("sans-serif", 24).into_font())
                .margin(14)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(-0.5f64..n - 0.5, (lo - pad)..(hi + pad))
                .map_err(s)?;
            let labels: Vec<String> = r
                .periods
                .iter()
                .map(|p| l.period_short(&p.period))
                .collect();
            c.configure_mesh()
                .disable_x_mesh()
                .x_labels(labels.len().min(6))
                .x_label_formatter(&|x| {
                    let k = x.round();
                    match labels.get(k as usize) {
                        Some(p) if (x - k).abs() < 1e-6 && k >= 0.0 => p.clone(),
                        _ => String::new(),
                    }
                })
                .y_label_formatter(&|v| l.num(*v, 1))
                .label_style(("sans-serif", 18).into_font())
                .draw()
                .map_err(s)?;
            if let Some(first) = r.periods.iter().position(|p| !p.training) {
                c.draw_series(std::iter::once(Rectangle::new(
                    [(first as f64 - 0.5, lo - pad), (n - 0.5, hi + pad)],
                    GREY.mix(0.15).filled(),
                )))
                .map_err(s)?;
            }
            c.draw_series(LineSeries::new(
                vec![(-0.5, 0.0), (n - 0.5, 0.0)],
                GREY.stroke_width(1),
            ))
            .map_err(s)?;
            let color = if r.drift.detected { MODEL } else { LIVE };
            for &(x, y, a, b) in &pts {
                c.draw_series(std::iter::once(PathElement::new(
                    vec![(x, a), (x, b)],
                    BLACK.stroke_width(2),
                )))
                .map_err(s)?;
                c.draw_series(std::iter::once(Circle::new((x, y), 6, color.filled())))
                    .map_err(s)?;
            }
        }
        Ok(())
    })
}

/// Out-of-time log-loss of each decay candidate for the model's global setting.
/// The walk-forward: per quarter, today's config against the recommendation made before it.
pub fn walk(d: &Data, l: Lang, path: &Path) -> Result<()> {
    let folds: Vec<&crate::recommend::walk::Fold> = d
        .review
        .iter()
        .flat_map(|r| r.walk.folds.iter())
        .filter(|f| f.today.is_some() && f.recommended.is_some())
        .collect();
    draw(path, |root| {
        let root = root
            .margin(12, 0, 0, 0)
            .titled(
                l.pick(
                    "Each quarter: today's config and the recommendation made before it",
                    "Je Quartal: heutige Konfiguration und die vorher erstellte Empfehlung",
                ),
                title(),
            )
            .map_err(s)?;
        if folds.is_empty() {
            root.draw(&Text::new(
                l.pick(
                    "No walk-forward: too few mature leads before the quarters (or a run of an earlier version).",
                    "Kein Rückblick Quartal für Quartal: zu wenige auswertbare Leads vor den Quartalen (oder ein Lauf einer früheren Version).",
                ),
                (60, 300),
                label(),
            ))
            .map_err(s)?;
            return Ok(());
        }
        let n = folds.len() as f64;
        let name = |x: &f64| {
            let k = x.round();
            if (x - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < folds.len() {
                l.period(&folds[k as usize].period)
            } else {
                String::new()
            }
        };
        type Pick = fn(&crate::recommend::walk::Figures) -> Option<f64>;
        let panels = root.split_evenly((1, 3));
        let specs: [(&str, Pick, f64); 3] = [
            (
                l.pick("ROC AUC", "ROC-AUC"),
                |f| f.ranking.roc_auc.value,
                1.0,
            ),
            (
                l.pick("precision (%)", "Abschlussquote (%)"),
                |f| f.precision,
                100.0,
            ),
            (
                l.pick("recall (%)", "erfasste Abschlüsse (%)"),
                |f| f.recall,
                100.0,
            ),
        ];
        for (area, (desc, pick, scale)) in panels.iter().zip(specs) {
            let series = |rec: bool| -> Vec<(f64, f64)> {
                folds
                    .iter()
                    .enumerate()
                    .filter_map(|(k, f)| {
                        let fig = if rec {
                            f.recommended.as_ref()
                        } else {
                            f.today.as_ref()
                        }?;
                        pick(fig).map(|v| (k as f64, v * scale))
                    })
                    .collect()
            };
            let (a, b) = (series(false), series(true));
            let top = a.iter().chain(&b).map(|p| p.1).fold(0.0f64, f64::max);
            let y = if scale == 1.0 {
                0.4..1.0
            } else {
                0.0..(top * 1.3).max(1.0)
            };
            let mut c = ChartBuilder::on(area)
                .margin(20)
                .x_label_area_size(70)
                .y_label_area_size(90)
                .build_cartesian_2d(-0.5f64..n - 0.5, y)
                .map_err(s)?;
            c.configure_mesh()
                .x_labels(folds.len().min(8))
                .x_label_formatter(&name)
                .y_desc(desc)
                .y_label_formatter(&|v| l.num(*v, if scale == 1.0 { 2 } else { 0 }))
                .axis_desc_style(small())
                .label_style(("sans-serif", 20).into_font())
                .draw()
                .map_err(s)?;
            line(
                &mut c,
                l.pick("today's config", "heutige Konfiguration"),
                LIVE,
                &a,
                true,
            )?;
            line(
                &mut c,
                l.pick(
                    "recommended before the quarter",
                    "vor dem Quartal empfohlen",
                ),
                MODEL,
                &b,
                true,
            )?;
            legend_box(
                &mut c,
                ("sans-serif", 20).into_font().into(),
                SeriesLabelPosition::LowerRight,
            )?;
        }
        Ok(())
    })
}

pub fn decay(d: &Data, l: Lang, path: &Path) -> Result<()> {
    let g = d.decay.iter().find(|c| c.rule == "*");
    draw(path, |root| {
        let caption = l.pick(
            "Decay of behaviour points: out-of-time log-loss (lower is better)",
            "Punkteverfall: Vorhersagefehler je Einstellung (niedriger ist besser)",
        );
        let Some(g) = g.filter(|g| g.candidates.iter().any(|c| c.log_loss.is_some())) else {
            root.draw(&Text::new(
                l.pick(
                    "No decay comparison: no behaviour rules, events or converters to compare on (or a run of an earlier version).",
                    "Kein Vergleich: keine Verhaltensregeln, Ereignisse oder Abschlüsse (oder ein Lauf einer früheren Version).",
                ),
                (60, 300),
                label(),
            ))
            .map_err(s)?;
            return Ok(());
        };
        let v: Vec<(usize, f64)> = g
            .candidates
            .iter()
            .enumerate()
            .filter_map(|(k, c)| c.log_loss.map(|x| (k, x)))
            .collect();
        let lo = v.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = v.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let pad = ((hi - lo) * 0.15).max(1e-5);
        let n = g.candidates.len() as f64;
        let labels: Vec<String> = g
            .candidates
            .iter()
            .map(|c| l.decay_short(&c.setting))
            .collect();
        // Room above the bars for the legend.
        let mut c = chart(
            root,
            caption,
            -0.5..n - 0.5,
            (lo - pad)..(hi + 3.0 * pad),
            130,
        )?;
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len())
            .x_label_formatter(&|x| {
                let k = x.round();
                match labels.get(k as usize) {
                    Some(p) if (x - k).abs() < 1e-6 && k >= 0.0 => p.clone(),
                    _ => String::new(),
                }
            })
            .y_desc(l.pick("log-loss", "Vorhersagefehler (Log-Loss)"))
            .y_label_formatter(&|v| l.num(*v, 4))
            .axis_desc_style(label())
            .label_style(("sans-serif", 22).into_font())
            .draw()
            .map_err(s)?;
        for &(k, x) in &v {
            let cand = &g.candidates[k];
            let color = if cand.setting == g.recommended {
                MODEL
            } else if cand.setting == g.current {
                LIVE
            } else {
                GREY
            };
            c.draw_series(std::iter::once(Rectangle::new(
                [(k as f64 - 0.3, lo - pad), (k as f64 + 0.3, x)],
                if cand.eligible {
                    color.filled()
                } else {
                    color.mix(0.35).filled()
                },
            )))
            .map_err(s)?;
        }
        let entries: Vec<(RGBColor, &str)> = if g.current == g.recommended {
            vec![(
                MODEL,
                l.pick("current = recommended", "aktuell = empfohlen"),
            )]
        } else {
            vec![
                (LIVE, l.pick("current", "aktuell")),
                (MODEL, l.pick("recommended", "empfohlen")),
            ]
        };
        for (color, name) in entries {
            c.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(s)?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x - 10, y - 10), (x + 10, y + 10)], color.filled())
                });
        }
        legend_box(&mut c, small(), SeriesLabelPosition::UpperRight)
    })
}

/// The charts, in report order: file name and drawing function.
type Draw = fn(&Data, Lang, &Path) -> Result<()>;
pub const CHARTS: [(&str, Draw); 12] = [
    ("chart-distribution.png", distribution),
    ("chart-calibration.png", calibration),
    ("chart-roc-pr.png", roc_pr),
    ("chart-gains.png", gains),
    ("chart-trend.png", trend),
    ("chart-stability.png", stability),
    ("chart-segments.png", segments),
    ("chart-matrix.png", matrix),
    ("chart-sweep.png", sweep),
    ("chart-points.png", points),
    ("chart-decay.png", decay),
    ("chart-walk.png", walk),
];

/// The charts of the live score against the fitted model. A first model's live score is the
/// same for every lead, so its run folder gets none of them: a flat line or an empty hand-over
/// drawn beside the recommendation would look like a finding.
const LIVE_SCORE: [&str; 9] = [
    "chart-distribution.png",
    "chart-calibration.png",
    "chart-roc-pr.png",
    "chart-gains.png",
    "chart-trend.png",
    "chart-segments.png",
    "chart-matrix.png",
    "chart-sweep.png",
    "chart-walk.png",
];

/// Draw every chart that applies into `dir`; returns each chart's name and file.
pub fn all(d: &Data, l: Lang, dir: &Path) -> Result<Vec<(&'static str, PathBuf)>> {
    let mut out = Vec::new();
    for (name, f) in CHARTS {
        if d.first_model.is_some() && LIVE_SCORE.contains(&name) {
            continue;
        }
        let p = dir.join(name);
        f(d, l, &p)?;
        out.push((name, p));
    }
    Ok(out)
}
