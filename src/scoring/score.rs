//! Scores as of a point in time: per lead (explicit, implicit, total, groups, band, stage and
//! per-rule contributions) and per account.
//!
//! Input: a checked dataset and model, and the as-of time. Output: [`Scores`]. Guarantees: only
//! leads created and events occurred at or before the as-of time count; the result does not
//! depend on the order of input rows (rows follow the leads table, events are sorted).

use chrono::NaiveDateTime;
use polars::prelude::*;

use super::config::{AccountAggregate, ScoringModel};
use super::explicit::{points_column, with_explicit_points};
use super::implicit::MatchedEvents;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::timeparse;

/// Column with one implicit rule's fire count.
pub fn fires_column(rule: &str) -> String {
    format!("fires:{rule}")
}

/// Column with one score group's points.
pub fn group_column(group: &str) -> String {
    format!("group:{group}")
}

/// The scoring result.
pub struct Scores {
    /// One row per lead created at or before the as-of time.
    pub leads: DataFrame,
    /// One row per account (when the leads have an `account_id`).
    pub accounts: Option<DataFrame>,
}

fn band_expr(model: &ScoringModel, score: Expr) -> Expr {
    let lowest = model
        .bands
        .first()
        .map(|b| b.name.clone())
        .unwrap_or_default();
    model
        .bands
        .iter()
        .filter(|b| b.from.is_finite())
        .fold(lit(lowest), |below, b| {
            when(score.clone().gt_eq(lit(b.from)))
                .then(lit(b.name.clone()))
                .otherwise(below)
        })
}

/// `sql`, `mql` or `lead` by the `score` column and the model's thresholds.
fn stage_expr(model: &ScoringModel) -> Expr {
    when(col("score").gt_eq(lit(model.sql)))
        .then(lit("sql"))
        .when(col("score").gt_eq(lit(model.mql)))
        .then(lit("mql"))
        .otherwise(lit("lead"))
}

/// The `__row` column (each lead's row in the leads table), taken out of `df`.
fn lead_rows(df: &mut DataFrame) -> Result<Vec<u32>> {
    let rows = df
        .drop_in_place("__row")
        .and_then(|c| c.cast(&DataType::UInt32))
        .map_err(Error::polars("lead rows"))?;
    Ok(rows
        .u32()
        .map_err(Error::polars("lead rows"))?
        .iter()
        .map(|r| r.unwrap_or(0))
        .collect())
}

/// Score every lead as of `as_of`.
pub fn score_as_of(ds: &Dataset, model: &ScoringModel, as_of: NaiveDateTime) -> Result<Scores> {
    let t = timeparse::to_micros(as_of);
    let leads = ds
        .leads
        .clone()
        .lazy()
        .with_row_index("__row", None)
        .filter(col("created_at").cast(DataType::Int64).lt_eq(lit(t)));
    let mut keep = vec![col("lead_id")];
    let has_account = ds.leads.column("account_id").is_ok();
    if has_account {
        keep.push(col("account_id"));
    }
    keep.push(col("created_at"));
    keep.push(col("explicit_score"));
    keep.extend(model.explicit.iter().map(|r| col(points_column(&r.name))));
    keep.push(col("__row"));
    let mut df = with_explicit_points(leads, model)
        .select(keep)
        .collect()
        .map_err(Error::polars("explicit points"))?;
    let rows = lead_rows(&mut df)?;
    let n = df.height();
    let n_rules = model.implicit.len();
    let explicit: Vec<f64> = df
        .column("explicit_score")
        .and_then(|c| c.f64().cloned())
        .map_err(Error::polars("explicit scores"))?
        .iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    let created: Vec<i64> = df
        .column("created_at")
        .and_then(|c| c.cast(&DataType::Int64))
        .and_then(|c| c.i64().cloned())
        .map_err(Error::polars("creation times"))?
        .iter()
        .map(|v| v.unwrap_or(i64::MIN))
        .collect();
    let matched = MatchedEvents::of_rows(ds, model, rows, t)?;
    let (fires, points, crossings) = match &matched {
        Some(m) => {
            let (f, p) = {
                let _t = crate::timing::Stage::start("contributions");
                m.contributions(model, t)
            };
            let _t = crate::timing::Stage::start("hand-over replay");
            let step = crate::progress::Step::bar("replaying the hand-overs", n as u64, "leads");
            let c = m.first_crossings(
                model,
                &explicit,
                &created,
                t,
                &[model.mql, model.sql],
                &step.counter(),
            )?;
            (f, p, c)
        }
        None => {
            let c = (0..n)
                .map(|i| {
                    [model.mql, model.sql]
                        .iter()
                        .map(|thr| (explicit[i] >= *thr).then_some(created[i]))
                        .collect()
                })
                .collect();
            (vec![0; n * n_rules], vec![0.0; n * n_rules], c)
        }
    };
    let crossing_col = |k: usize, name: &str| -> Result<Column> {
        let v: Vec<Option<i64>> = crossings.iter().map(|c: &Vec<Option<i64>>| c[k]).collect();
        Ok(Int64Chunked::from_iter_options(name.into(), v.into_iter())
            .into_datetime(TimeUnit::Microseconds, None)
            .into_series()
            .into())
    };
    df.hstack_mut(&[crossing_col(0, "mql_at")?, crossing_col(1, "sql_at")?])
        .map_err(Error::polars("hand-over times"))?;
    let mut implicit = vec![0.0; n];
    for (i, row) in points.chunks(n_rules.max(1)).enumerate().take(n) {
        implicit[i] = row.iter().sum();
    }
    let mut cols = vec![Column::new("implicit_score".into(), implicit)];
    for (r, rule) in model.implicit.iter().enumerate() {
        let f: Vec<u32> = (0..n).map(|i| fires[i * n_rules + r]).collect();
        let p: Vec<f64> = (0..n).map(|i| points[i * n_rules + r]).collect();
        cols.push(Column::new(fires_column(&rule.name).into(), f));
        cols.push(Column::new(points_column(&rule.name).into(), p));
    }
    df.hstack_mut(&cols)
        .map_err(Error::polars("implicit points"))?;
    // Groups, in order of first appearance.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let rules = model
        .explicit
        .iter()
        .map(|r| (&r.group, &r.name))
        .chain(model.implicit.iter().map(|r| (&r.group, &r.name)));
    for (g, name) in rules {
        if let Some(g) = g {
            match groups.iter_mut().find(|(k, _)| k == g) {
                Some((_, v)) => v.push(name.clone()),
                None => groups.push((g.clone(), vec![name.clone()])),
            }
        }
    }
    let score = col("explicit_score") + col("implicit_score");
    let stage = stage_expr(model);
    let group_exprs: Vec<Expr> = groups
        .iter()
        .map(|(g, names)| {
            names
                .iter()
                .map(|n| col(points_column(n)))
                .reduce(|a, b| a + b)
                .expect("a group has a rule")
                .alias(group_column(g))
        })
        .collect();
    let mut order = vec![col("lead_id")];
    if has_account {
        order.push(col("account_id"));
    }
    order.extend([
        col("created_at"),
        col("explicit_score"),
        col("implicit_score"),
        col("score"),
        col("band"),
        col("stage"),
        col("mql_at"),
        col("sql_at"),
    ]);
    order.extend(groups.iter().map(|(g, _)| col(group_column(g))));
    order.extend(model.explicit.iter().map(|r| col(points_column(&r.name))));
    for r in &model.implicit {
        order.push(col(fires_column(&r.name)));
        order.push(col(points_column(&r.name)));
    }
    let leads = df
        .lazy()
        .with_column(score.alias("score"))
        .with_columns([
            band_expr(model, col("score")).alias("band"),
            stage.alias("stage"),
        ])
        .with_columns(group_exprs)
        .select(order)
        .collect()
        .map_err(Error::polars("total scores"))?;
    let accounts = if has_account {
        let agg = match model.account {
            AccountAggregate::Sum => col("score").sum(),
            AccountAggregate::Max => col("score").max(),
            AccountAggregate::MeanTop(k) => col("score")
                .sort(SortOptions::default().with_order_descending(true))
                .head(Some(k))
                .mean(),
        };
        Some(
            leads
                .clone()
                .lazy()
                .filter(col("account_id").is_not_null())
                .group_by([col("account_id")])
                .agg([len().alias("leads"), agg.alias("score")])
                .with_column(band_expr(model, col("score")).alias("band"))
                .sort(["account_id"], Default::default())
                .collect()
                .map_err(Error::polars("account scores"))?,
        )
    } else {
        None
    };
    Ok(Scores { leads, accounts })
}

/// Every lead scored at its own snapshot, `created_at` + `snapshot_days`: one row per lead with
/// `lead_id`, `created_at`, `snapshot_at`, `explicit_score`, `implicit_score`, `score`, `band`,
/// `stage`, `pts:<rule>` per explicit rule and `fires:<rule>`, `pts:<rule>` per implicit rule,
/// in the leads table's order. The table `leadcal sql` computes inside a warehouse.
pub fn score_at_snapshot(
    ds: &Dataset,
    model: &ScoringModel,
    snapshot_days: i64,
) -> Result<DataFrame> {
    let mut keep = vec![
        col("lead_id"),
        col("created_at"),
        (col("created_at").cast(DataType::Int64) + lit(snapshot_days * crate::units::DAY_US))
            .alias("__snap"),
        col("explicit_score"),
    ];
    keep.extend(model.explicit.iter().map(|r| col(points_column(&r.name))));
    keep.push(col("__row"));
    let mut df = with_explicit_points(ds.leads.clone().lazy().with_row_index("__row", None), model)
        .select(keep)
        .collect()
        .map_err(Error::polars("explicit points"))?;
    let n = df.height();
    let n_rules = model.implicit.len();
    let snaps: Vec<i64> = df
        .column("__snap")
        .and_then(|c| c.i64().cloned())
        .map_err(Error::polars("snapshots"))?
        .iter()
        .map(|v| v.unwrap_or(i64::MIN))
        .collect();
    let rows = lead_rows(&mut df)?;
    let until = snaps.iter().copied().max().unwrap_or(i64::MIN);
    let (fires, points) = match MatchedEvents::of_rows(ds, model, rows, until)? {
        Some(m) if n > 0 => m.contributions_at(model, |i| snaps[i]),
        _ => (vec![0; n * n_rules], vec![0.0; n * n_rules]),
    };
    let mut implicit = vec![0.0; n];
    for (i, row) in points.chunks(n_rules.max(1)).enumerate().take(n) {
        implicit[i] = row.iter().sum();
    }
    let mut cols = vec![Column::new("implicit_score".into(), implicit)];
    let mut order = vec![
        col("lead_id"),
        col("created_at"),
        col("__snap").cast(timeparse::dtype()).alias("snapshot_at"),
        col("explicit_score"),
        col("implicit_score"),
        col("score"),
        col("band"),
        col("stage"),
    ];
    order.extend(model.explicit.iter().map(|r| col(points_column(&r.name))));
    for (r, rule) in model.implicit.iter().enumerate() {
        let f: Vec<u32> = (0..n).map(|i| fires[i * n_rules + r]).collect();
        let p: Vec<f64> = (0..n).map(|i| points[i * n_rules + r]).collect();
        cols.push(Column::new(fires_column(&rule.name).into(), f));
        cols.push(Column::new(points_column(&rule.name).into(), p));
        order.push(col(fires_column(&rule.name)));
        order.push(col(points_column(&rule.name)));
    }
    df.hstack_mut(&cols)
        .map_err(Error::polars("implicit points"))?;
    let stage = stage_expr(model);
    df.lazy()
        .with_column((col("explicit_score") + col("implicit_score")).alias("score"))
        .with_columns([
            band_expr(model, col("score")).alias("band"),
            stage.alias("stage"),
        ])
        .select(order)
        .collect()
        .map_err(Error::polars("snapshot scores"))
}
