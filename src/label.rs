//! Stage 2, labels: snapshot time, conversion label and maturity per lead (DATA-CONTRACT.md).
//!
//! Input: checked leads (`lead_id`, `created_at`) and outcomes (`lead_id`, `stage`,
//! `reached_at`). Output: one status per lead and the counts every report states.
//! Guarantees: a lead is *immature* when snapshot + horizon lies after the data's end; it
//! *came in hot* when it reached the target stage at or before its snapshot; otherwise it
//! converted when the target stage was reached within the horizon after the snapshot.

use chrono::NaiveDateTime;
use polars::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::timeparse;

/// How leads are judged.
#[derive(Debug, Clone, Serialize)]
pub struct LabelSpec {
    pub snapshot_days: i64,
    pub horizon_days: i64,
    /// Stage that counts as converted (`won` by default).
    pub target_stage: String,
}

impl Default for LabelSpec {
    fn default() -> Self {
        LabelSpec {
            snapshot_days: 30,
            horizon_days: 180,
            target_stage: "won".into(),
        }
    }
}

/// Counts of the label statuses.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct LabelSummary {
    pub leads: u64,
    pub immature: u64,
    pub came_in_hot: u64,
    /// Mature leads that did not come in hot: the population that is evaluated.
    pub evaluable: u64,
    pub converted: u64,
    /// converted / evaluable.
    pub conversion_rate: Option<f64>,
    /// Target-stage rows without a date (an outcome column without conversion dates): their
    /// leads count as converted, and horizon and came-in-hot cannot be applied to them.
    pub undated_conversions: u64,
}

/// One row per lead: `lead_id`, `created_at`, `snapshot_at`, `status` (`immature`,
/// `came_in_hot`, `converted`, `not_converted`), `undated` and `converted_at` (the first time the
/// target stage was reached, if ever; it may lie outside the horizon).
pub fn label(
    leads: &DataFrame,
    outcomes: Option<&DataFrame>,
    spec: &LabelSpec,
    data_end: NaiveDateTime,
) -> Result<DataFrame> {
    let snap =
        col("created_at").cast(DataType::Int64) + lit(spec.snapshot_days * crate::units::DAY_US);
    let mut lf = leads
        .clone()
        .lazy()
        .select([col("lead_id"), col("created_at")])
        .with_column(snap.alias("__snap"));
    let first = match outcomes {
        Some(o) => o
            .clone()
            .lazy()
            .filter(col("stage").eq(lit(spec.target_stage.as_str())))
            .group_by([col("lead_id")])
            .agg([
                col("reached_at")
                    .cast(DataType::Int64)
                    .min()
                    .alias("__reached"),
                len().alias("__n"),
            ]),
        None => DataFrame::empty_with_schema(&Schema::from_iter([
            Field::new(
                "lead_id".into(),
                leads
                    .column("lead_id")
                    .map_err(Error::polars("label"))?
                    .dtype()
                    .clone(),
            ),
            Field::new("__reached".into(), DataType::Int64),
            Field::new("__n".into(), IDX_DTYPE),
        ]))
        .lazy(),
    };
    lf = lf.join(
        first,
        [col("lead_id")],
        [col("lead_id")],
        JoinArgs {
            maintain_order: MaintainOrderJoin::Left,
            ..JoinArgs::new(JoinType::Left)
        },
    );
    let end = timeparse::to_micros(data_end);
    let horizon_end = col("__snap") + lit(spec.horizon_days * crate::units::DAY_US);
    let has = col("__n").is_not_null();
    let status = when(
        has.clone()
            .and(col("__reached").is_not_null())
            .and(col("__reached").lt_eq(col("__snap"))),
    )
    .then(lit("came_in_hot"))
    .when(horizon_end.clone().gt(lit(end)))
    .then(lit("immature"))
    .when(
        has.clone().and(
            col("__reached")
                .is_null()
                .or(col("__reached").lt_eq(horizon_end)),
        ),
    )
    .then(lit("converted"))
    .otherwise(lit("not_converted"));
    lf.with_columns([
        status.alias("status"),
        col("__snap").cast(timeparse::dtype()).alias("snapshot_at"),
        has.and(col("__reached").is_null()).alias("undated"),
        col("__reached")
            .cast(timeparse::dtype())
            .alias("converted_at"),
    ])
    .select([
        col("lead_id"),
        col("created_at"),
        col("snapshot_at"),
        col("status"),
        col("undated"),
        col("converted_at"),
    ])
    .collect()
    .map_err(Error::polars("labelling leads"))
}

/// Count the statuses of [`label`]'s output.
pub fn summarize(labelled: &DataFrame) -> Result<LabelSummary> {
    let s = labelled
        .column("status")
        .map_err(Error::polars("summary"))?
        .str()
        .map_err(Error::polars("summary"))?
        .clone();
    let mut out = LabelSummary {
        leads: labelled.height() as u64,
        ..Default::default()
    };
    for v in s.iter().flatten() {
        match v {
            "immature" => out.immature += 1,
            "came_in_hot" => out.came_in_hot += 1,
            "converted" => out.converted += 1,
            _ => {}
        }
    }
    out.undated_conversions = labelled
        .column("undated")
        .ok()
        .and_then(|c| c.bool().ok().map(|b| b.sum().unwrap_or(0) as u64))
        .unwrap_or(0);
    out.evaluable = out.leads - out.immature - out.came_in_hot;
    out.conversion_rate = (out.evaluable > 0).then(|| out.converted as f64 / out.evaluable as f64);
    Ok(out)
}
