//! Stage: segments. Which hand-overs do not buy, and what marks the leads that do.
//!
//! Input: the loaded [`Dataset`], the live [`ScoringModel`] and the [`FeatureTable`] (one row
//! per evaluable lead with its replayed hand-over times). Output: a serialisable [`Report`]
//! (`segments.json`, `segments.csv`; schema in `docs/segments.md`): the group statistics
//! ([`groups`]) over coded attributes ([`coding`]), the fit × engagement matrix ([`matrix`])
//! and accounts with hand-overs and no conversion ([`accounts`]).
//! Guarantees: groups under the minimum size are never shown; the result does not depend on
//! the order of the rows or the thread count.

pub mod accounts;
pub mod coding;
pub mod groups;
pub mod matrix;
pub mod table;

use std::str::FromStr;

use serde::Serialize;

pub use accounts::Account;
pub use groups::{Group, Question, Rows, SegmentSpec, Segments, Values, analyse, quantile_bins};
pub use matrix::Cell;

use crate::data::Dataset;
use crate::error::Result;
use crate::features::FeatureTable;
use crate::scoring::config::ScoringModel;

/// The hand-over threshold whose hand-overs are examined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// The live model's SQL threshold (its replayed hand-overs).
    Sql,
    /// The live model's MQL threshold.
    Mql,
    /// Any number of points, replayed over the live model's rules.
    Points(f64),
}

impl FromStr for Threshold {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sql" => Ok(Threshold::Sql),
            "mql" => Ok(Threshold::Mql),
            other => other
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Threshold::Points)
                .ok_or_else(|| format!("`{other}`: expected sql, mql or a number of points")),
        }
    }
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

/// What [`compute`] reads: the loaded data, the live model and the feature table (also what
/// any task beside the fit reads, see `pipeline::analyse_with`).
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub ds: &'a Dataset,
    pub model: &'a ScoringModel,
    pub table: &'a FeatureTable,
    pub data_end: i64,
}

/// The whole segments analysis for the hand-overs at `threshold`.
pub fn compute(
    p: Inputs<'_>,
    threshold: Threshold,
    by: &[String],
    spec: &SegmentSpec,
    horizon_days: i64,
) -> Result<Report> {
    let _t = crate::timing::Stage::start("segments");
    let step = crate::progress::Step::parts("segments", 5);
    step.part("which leads were handed over at the threshold");
    let t = p.table;
    let n = t.y.len();
    let (thr, label, crossing): (f64, String, Vec<Option<i64>>) = match threshold {
        Threshold::Sql => (p.model.sql, "SQL".into(), t.sql_at.clone()),
        Threshold::Mql => (p.model.mql, "MQL".into(), t.mql_at.clone()),
        Threshold::Points(v) => {
            let all: Vec<usize> = (0..n).collect();
            let c = t
                .first_crossings(p.model, &t.explicit, &all, p.data_end, &[v])?
                .into_iter()
                .map(|c| c[0])
                .collect();
            (v, format!("{v} points"), c)
        }
    };
    let handed: Vec<bool> = (0..n)
        .map(|i| t.handed_within(i, crossing[i], horizon_days))
        .collect();
    step.part("reading each lead's attribute values");
    let _a = crate::timing::Stage::start("segments: attribute values");
    let attributes = coding::attribute_values(p.ds, &t.lead_rows, by)?;
    drop(_a);
    step.part(format!(
        "which values and pairs of {} attributes the hand-overs that do not buy share",
        attributes.len()
    ));
    let _a = crate::timing::Stage::start("segments: statistics");
    let names = attributes.iter().map(|(a, _)| a.clone()).collect();
    let segs = analyse(
        &Rows {
            attributes: &attributes,
            converted: &t.y,
            handed: &handed,
        },
        spec,
    );
    drop(_a);
    step.part("the fit × engagement matrix");
    let _a = crate::timing::Stage::start("segments: matrix");
    let matrix = matrix::fit_by_engagement(t, spec.min_size);
    drop(_a);
    step.part("accounts with hand-overs and no conversion");
    let _a = crate::timing::Stage::start("segments: accounts");
    let grouping = crate::progress::Step::bar(
        "segments: accounts with hand-overs and no conversion, their leads grouped and summed",
        2 * t.lead_rows.len() as u64,
        "leads",
    );
    let accounts = accounts::without_conversion(
        &p.ds.leads,
        &t.lead_rows,
        &handed,
        &t.y,
        &attributes,
        &grouping.counter(),
    )?;
    drop(grouping);
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

#[cfg(test)]
mod tests {
    use super::Threshold;

    #[test]
    fn thresholds_parse_or_explain() {
        assert_eq!("sql".parse::<Threshold>(), Ok(Threshold::Sql));
        assert_eq!("mql".parse::<Threshold>(), Ok(Threshold::Mql));
        assert_eq!("62.5".parse::<Threshold>(), Ok(Threshold::Points(62.5)));
        for bad in ["SQL ", "inf", "NaN", "sixty"] {
            assert!(
                bad.parse::<Threshold>()
                    .unwrap_err()
                    .contains("expected sql, mql")
            );
        }
    }
}
