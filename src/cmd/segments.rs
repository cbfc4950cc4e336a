//! `leadcal segments`: which hand-overs do not buy, and what marks the leads that do.

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cmd::evaluate as ev;
use crate::data::AttributeKind;
use crate::data::problem::thousands;
use crate::error::{Error, Result};
use crate::evaluate::metrics::wilson;
use crate::segments::{self, Group, Rows, SegmentSpec, Segments};

/// High-score leads that never bought: the groups (one attribute value, or a pair) whose
/// hand-overs convert worst, with Wilson intervals, lift, Fisher / chi-square p-values and
/// Benjamini–Hochberg q-values; the values that mark converters; the fit × engagement matrix;
/// and accounts with several hand-overs and no conversion.
///
/// Groups under --min-size leads are never shown. Pairs that add nothing beyond their worse
/// single value are marked redundant and listed after the others (all of them with
/// --show-redundant). Writes segments.json and segments.csv (schema: docs/segments.md).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  leadcal segments --since 2023-01 --pairs\n  leadcal segments --since 2023-01 --threshold 60 --by region,industry,source --pairs\n  leadcal segments --since 2024-01 --threshold mql --min-size 50 --out reports/segments-q3"
)]
pub struct Args {
    #[command(flatten)]
    pub inputs: ev::Inputs,
    /// Hand-over threshold: sql, mql or a number of points.
    #[arg(long, default_value = "sql")]
    pub threshold: String,
    /// Attributes to group by (comma-separated); default: every attribute with at most 50
    /// distinct values (numeric ones binned into quintiles).
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    /// Also test pairs of attribute values.
    #[arg(long)]
    pub pairs: bool,
    /// Smallest group shown (and tested).
    #[arg(long, default_value_t = 30)]
    pub min_size: u64,
    /// Print redundant pairs too.
    #[arg(long)]
    pub show_redundant: bool,
    /// Folder for segments.json and segments.csv (a suffix -2, -3 ... if it exists).
    #[arg(long, default_value = "reports/segments")]
    pub out: PathBuf,
}

/// One cell of the fit × engagement matrix.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    pub fit: String,
    pub engagement: String,
    pub leads: u64,
    /// `null` when the cell has fewer than the minimum group size.
    pub converted: Option<u64>,
    pub rate: Option<f64>,
    pub rate_low: Option<f64>,
    pub rate_high: Option<f64>,
}

/// An account with several hand-overs and no conversion (no lead ids).
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub account_id: String,
    pub leads: u64,
    pub handovers: u64,
    /// The most common value of each attribute among its leads.
    pub attributes: Vec<(String, String)>,
}

/// `segments.json`.
#[derive(Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub threshold: f64,
    pub threshold_label: String,
    pub attributes: Vec<String>,
    pub segments: Segments,
    pub matrix: Vec<Cell>,
    pub accounts: Vec<Account>,
}

fn attribute_values(
    ds: &crate::data::Dataset,
    rows: &[u32],
    by: &[String],
) -> Result<Vec<(String, segments::Values)>> {
    use rayon::prelude::*;
    let wanted: Vec<&crate::data::Attribute> = ds
        .attributes
        .iter()
        .filter(|attr| by.is_empty() || by.iter().any(|b| b == &attr.name))
        .collect();
    // One attribute per task; each reads its column and interns its values.
    let coded: Vec<Option<(String, segments::Values)>> = wanted
        .par_iter()
        .map(|attr| -> Result<Option<(String, segments::Values)>> {
            let c = ds
                .leads
                .column(&attr.name)
                .map_err(Error::polars("attribute"))?;
            let vals = match attr.kind {
                AttributeKind::Integer | AttributeKind::Float => {
                    let all: Vec<Option<f64>> = c
                        .cast(&DataType::Float64)
                        .map_err(Error::polars("attribute"))?
                        .f64()
                        .map_err(Error::polars("attribute"))?
                        .iter()
                        .collect();
                    let v: Vec<Option<f64>> = rows.iter().map(|&r| all[r as usize]).collect();
                    let bins = segments::quantile_bins(&v, 5);
                    segments::Values::from_strs(bins.iter().map(String::as_str))
                }
                _ => {
                    let s = c
                        .cast(&DataType::String)
                        .map_err(Error::polars("attribute"))?;
                    let all: Vec<Option<&str>> = s
                        .str()
                        .map_err(Error::polars("attribute"))?
                        .iter()
                        .collect();
                    segments::Values::from_strs(
                        rows.iter().map(|&r| all[r as usize].unwrap_or("(missing)")),
                    )
                }
            };
            if by.is_empty() && vals.distinct.len() > 50 {
                return Ok(None);
            }
            Ok(Some((attr.name.clone(), vals)))
        })
        .collect::<Result<_>>()?;
    let out: Vec<(String, segments::Values)> = coded.into_iter().flatten().collect();
    for b in by {
        if !out.iter().any(|(a, _)| a == b) {
            return Err(Error::Usage(format!(
                "--by `{b}`: the leads table has no such attribute (attributes: {})",
                ds.attributes
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(out)
}

/// What [`compute`] reads.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub ds: &'a crate::data::Dataset,
    pub model: &'a crate::scoring::config::ScoringModel,
    pub table: &'a crate::features::FeatureTable,
    pub data_end: i64,
}

/// Everything `segments` computes, for `calibrate` too.
pub fn compute(
    p: Inputs<'_>,
    threshold: &str,
    by: &[String],
    spec: &SegmentSpec,
    horizon_days: i64,
) -> Result<Report> {
    let _t = crate::timing::Stage::start("segments");
    let t = p.table;
    let n = t.y.len();
    let (thr, label, crossing): (f64, String, Vec<Option<i64>>) = match threshold {
        "sql" => (p.model.sql, "SQL".into(), t.sql_at.clone()),
        "mql" => (p.model.mql, "MQL".into(), t.mql_at.clone()),
        other => {
            let v: f64 = other
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "--threshold `{other}`: expected sql, mql or a number of points"
                    ))
                })?;
            let c = match &t.matched {
                Some(m) => {
                    let all: Vec<usize> = (0..n).collect();
                    m.first_crossings_of(p.model, &all, &t.explicit, &t.created, p.data_end, &[v])?
                        .into_iter()
                        .map(|c| c[0])
                        .collect()
                }
                None => (0..n)
                    .map(|i| (t.explicit[i] >= v).then_some(t.created[i]))
                    .collect(),
            };
            (v, format!("{v} points"), c)
        }
    };
    let horizon = horizon_days * 86_400_000_000;
    let handed: Vec<bool> = (0..n)
        .map(|i| crossing[i].is_some_and(|h| h <= t.snapshot[i] + horizon))
        .collect();
    let _a = crate::timing::Stage::start("segments: attribute values");
    let attributes = attribute_values(p.ds, &t.lead_rows, by)?;
    drop(_a);
    let _a = crate::timing::Stage::start("segments: statistics");
    let names = attributes.iter().map(|(a, _)| a.clone()).collect();
    let segs = segments::analyse(
        &Rows {
            attributes: &attributes,
            converted: &t.y,
            handed: &handed,
        },
        spec,
    );
    drop(_a);
    let _a = crate::timing::Stage::start("segments: matrix and accounts");
    // Fit × engagement: quartiles of the explicit and implicit scores at the snapshot.
    let implicit: Vec<f64> = (0..n).map(|i| t.live_score[i] - t.explicit[i]).collect();
    let fit_bins =
        segments::quantile_bins(&t.explicit.iter().map(|v| Some(*v)).collect::<Vec<_>>(), 4);
    let eng_bins =
        segments::quantile_bins(&implicit.iter().map(|v| Some(*v)).collect::<Vec<_>>(), 4);
    let mut cells: std::collections::BTreeMap<(&str, &str), (u64, u64)> = Default::default();
    for i in 0..n {
        let e = cells
            .entry((fit_bins[i].as_str(), eng_bins[i].as_str()))
            .or_default();
        e.0 += 1;
        e.1 += u64::from(t.y[i]);
    }
    let first_num = |s: &str| -> f64 {
        s.trim_start_matches('[')
            .split(',')
            .next()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    let mut matrix: Vec<Cell> = cells
        .into_iter()
        .map(|((f, e), (leads, k))| {
            let shown = leads >= spec.min_size;
            let ci = wilson(k, leads).filter(|_| shown);
            Cell {
                fit: format!("fit {f}"),
                engagement: format!("engagement {e}"),
                leads,
                converted: shown.then_some(k),
                rate: shown.then(|| k as f64 / leads as f64),
                rate_low: ci.map(|c| c.0),
                rate_high: ci.map(|c| c.1),
            }
        })
        .collect();
    matrix.sort_by(|a, b| {
        first_num(&a.fit[4..])
            .total_cmp(&first_num(&b.fit[4..]))
            .then(first_num(&a.engagement[11..]).total_cmp(&first_num(&b.engagement[11..])))
    });
    // Accounts with several hand-overs and no conversion.
    let mut accounts = Vec::new();
    if let Ok(acc) = p.ds.leads.column("account_id") {
        let acc = acc
            .cast(&DataType::String)
            .map_err(Error::polars("accounts"))?;
        let all: Vec<Option<&str>> = acc
            .str()
            .map_err(Error::polars("accounts"))?
            .iter()
            .collect();
        // Members per account (accounts are sorted below, so the map's order does not matter).
        let mut per: std::collections::HashMap<&str, Vec<usize>> = Default::default();
        for (i, &r) in t.lead_rows.iter().enumerate() {
            if let Some(a) = all[r as usize] {
                per.entry(a).or_default().push(i);
            }
        }
        for (a, members) in per {
            let ho = members.iter().filter(|&&i| handed[i]).count() as u64;
            let conv = members.iter().any(|&i| t.y[i]);
            if ho >= 2 && !conv {
                let attrs = attributes
                    .iter()
                    .map(|(name, vals)| {
                        let mut c: std::collections::BTreeMap<&str, usize> = Default::default();
                        for &i in &members {
                            *c.entry(vals.get(i)).or_default() += 1;
                        }
                        let top = c
                            .into_iter()
                            .max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(x.0)))
                            .map(|x| x.0.to_string())
                            .unwrap_or_default();
                        (name.clone(), top)
                    })
                    .collect();
                accounts.push(Account {
                    account_id: a.to_string(),
                    leads: members.len() as u64,
                    handovers: ho,
                    attributes: attrs,
                });
            }
        }
        accounts.sort_by(|x, y| {
            y.handovers
                .cmp(&x.handovers)
                .then(y.leads.cmp(&x.leads))
                .then(x.account_id.cmp(&y.account_id))
        });
    }
    Ok(Report {
        schema: "leadcal.segments/1",
        threshold: thr,
        threshold_label: label,
        attributes: names,
        segments: segs,
        matrix,
        accounts,
    })
}

/// Write `segments.json` and `segments.csv` into `dir`.
pub fn write(report: &Report, dir: &Path) -> Result<()> {
    let json = serde_json::to_string_pretty(report)
        .map_err(|e| Error::Internal(format!("serialising segments: {e}")))?;
    crate::output::write_new(&dir.join("segments.json"), format!("{json}\n").as_bytes())?;
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); 19];
    let head = [
        "question",
        "rank",
        "group",
        "attribute_1",
        "value_1",
        "attribute_2",
        "value_2",
        "leads",
        "converted",
        "rate",
        "rate_low",
        "rate_high",
        "lift",
        "lift_low",
        "lift_high",
        "p_value",
        "test",
        "q_value",
        "redundant",
    ];
    for (q, groups) in [
        (
            "non_converting_handovers",
            &report.segments.non_converting.groups,
        ),
        ("converter_marks", &report.segments.converter_marks.groups),
    ] {
        for g in groups {
            let v = |k: usize| g.values.get(k).cloned().unwrap_or_default();
            let row = [
                q.to_string(),
                g.rank.to_string(),
                spreadsheet_text(g.label()),
                spreadsheet_text(v(0).0),
                spreadsheet_text(v(0).1),
                spreadsheet_text(v(1).0),
                spreadsheet_text(v(1).1),
                g.leads.to_string(),
                g.converted.to_string(),
                format!("{:.6}", g.rate),
                format!("{:.6}", g.rate_low),
                format!("{:.6}", g.rate_high),
                format!("{:.6}", g.lift),
                format!("{:.6}", g.lift_low),
                format!("{:.6}", g.lift_high),
                format!("{:.6e}", g.p_value),
                g.test.to_string(),
                format!("{:.6e}", g.q_value),
                g.redundant.to_string(),
            ];
            for (c, v) in cols.iter_mut().zip(row) {
                c.push(v);
            }
        }
    }
    let columns: Vec<Column> = head
        .iter()
        .zip(cols)
        .map(|(h, c)| Column::new((*h).into(), c))
        .collect();
    let mut df = DataFrame::new(columns.first().map_or(0, |c| c.len()), columns)
        .map_err(Error::polars("segments table"))?;
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(Error::polars("segments.csv"))?;
    crate::output::write_new(&dir.join("segments.csv"), &buf)
}

/// A text cell from the data, safe to open in a spreadsheet: a value that starts like a
/// formula (`=`, `+`, `-`, `@`, tab, carriage return) gets a leading `'`, so Excel and
/// LibreOffice show it instead of evaluating it (CSV injection).
fn spreadsheet_text(s: String) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

fn pct(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

fn table(out: &mut impl Write, groups: &[&Group], top: usize) -> std::io::Result<()> {
    writeln!(
        out,
        "  {:>3}  {:<52} {:>7} {:>20} {:>14} {:>9}",
        "#", "group", "leads", "conversion [95%]", "lift [95%]", "q"
    )?;
    for g in groups.iter().take(top) {
        writeln!(
            out,
            "  {:>3}  {:<52} {:>7} {:>20} {:>14} {:>9}{}",
            g.rank,
            g.label().chars().take(52).collect::<String>(),
            thousands(g.leads),
            format!(
                "{} [{}, {}]",
                pct(g.rate),
                pct(g.rate_low),
                pct(g.rate_high)
            ),
            format!("{:.2} [{:.2}, {:.2}]", g.lift, g.lift_low, g.lift_high),
            if g.q_value > 0.0 {
                format!("{:.1e}", g.q_value)
            } else {
                // The chi-square survival function underflows below ~1e-300.
                "<1e-300".to_string()
            },
            if g.redundant { "  (redundant)" } else { "" }
        )?;
    }
    Ok(())
}

/// The readable summary.
pub fn print(out: &mut impl Write, r: &Report, show_redundant: bool) -> std::io::Result<()> {
    let s = &r.segments;
    let nc = &s.non_converting;
    writeln!(
        out,
        "Hand-overs at {} ({}): {} leads, {} converted ({}). Groups under {} leads are not shown ({} suppressed).",
        r.threshold_label,
        r.threshold,
        thousands(nc.population),
        thousands(nc.converted),
        pct(nc.rate),
        s.spec.min_size,
        thousands(nc.suppressed)
    )?;
    writeln!(
        out,
        "\nHand-overs that convert worst (ranked by the upper bound of lift; q = Benjamini–Hochberg):"
    )?;
    let pick = |gs: &[Group], worse: bool| -> Vec<Group> {
        gs.iter()
            .filter(|g| {
                (show_redundant || !g.redundant)
                    && g.significant
                    && (if worse { g.lift < 1.0 } else { g.lift > 1.0 })
            })
            .cloned()
            .collect()
    };
    let bad = pick(&nc.groups, true);
    table(out, &bad.iter().collect::<Vec<_>>(), 15)?;
    if bad.is_empty() {
        writeln!(
            out,
            "  (no group converts significantly worse than all hand-overs)"
        )?;
    }
    let cm = &s.converter_marks;
    writeln!(
        out,
        "\nValues that mark converters, over all {} evaluated leads ({} converted; ranked by the lower bound of lift):",
        thousands(cm.population),
        pct(cm.rate)
    )?;
    let good = pick(&cm.groups, false);
    table(out, &good.iter().collect::<Vec<_>>(), 10)?;
    writeln!(
        out,
        "\nFit × engagement (explicit × implicit score quartiles at the snapshot): leads, conversion"
    )?;
    for c in &r.matrix {
        writeln!(
            out,
            "  {:<22} {:<28} {:>8} {:>8}",
            c.fit,
            c.engagement,
            thousands(c.leads),
            c.rate.map_or("-".into(), pct)
        )?;
    }
    if !r.accounts.is_empty() {
        writeln!(
            out,
            "\n{} accounts with two or more hand-overs and no conversion; the largest:",
            thousands(r.accounts.len() as u64)
        )?;
        for a in r.accounts.iter().take(10) {
            writeln!(
                out,
                "  {:<14} {} leads, {} hand-overs  {}",
                a.account_id,
                a.leads,
                a.handovers,
                a.attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
    }
    Ok(())
}

pub fn run(a: Args) -> Result<()> {
    let _t = crate::timing::Stage::start("segments command");
    let prep = ev::prepare(&a.inputs)?;
    let p = Inputs {
        ds: &prep.ds,
        model: &prep.model,
        table: &prep.table,
        data_end: prep.data_end,
    };
    let spec = SegmentSpec {
        min_size: a.min_size.max(1),
        pairs: a.pairs,
        ..SegmentSpec::default()
    };
    let report = compute(p, &a.threshold, &a.by, &spec, a.inputs.label.horizon_days)?;
    let staged = crate::output::Staged::fresh(&a.out)?;
    write(&report, staged.path())?;
    let dir = staged.commit()?;
    let mut out = std::io::stdout().lock();
    print(&mut out, &report, a.show_redundant).map_err(Error::Stdout)?;
    writeln!(out, "\nwrote {}", dir.display()).map_err(Error::Stdout)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_text;

    #[test]
    fn values_that_look_like_formulas_are_not_evaluated_by_a_spreadsheet() {
        for (raw, cell) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("Student", "Student"),
            ("(missing)", "(missing)"),
        ] {
            assert_eq!(spreadsheet_text(raw.to_string()), cell);
        }
    }
}
