//! The outcomes table: stages reached by leads, checked.
//!
//! Input: the outcomes [`TableSpec`], its scan and what the leads give ([`Shared`]). Output:
//! valid rows (`lead_id`, `stage`, `reached_at`, optional `amount`) of known leads and the
//! latest valid timestamp. Guarantees: every left-out row is counted in a problem; a lead that
//! is both won and lost is reported.

use polars::prelude::*;

use super::problem::{Problem, Severity, list_examples};
use super::scan::{
    Bounds, Ctx, OFFSET_NOTE, ROW, Shared, TimeColumn, fmt_name, id_expr, minmax, named, read_err,
    unlisted, unlisted_note, with_names,
};
use super::table::{Table, TableSpec};
use super::types::{LoadReport, TableReport};
use crate::error::{Error, Result};
use crate::format::thousands;
use crate::timeparse;

/// Check the outcomes table and return its valid rows with the latest valid timestamp.
#[allow(clippy::too_many_arguments)] // the table, its scan, what the leads give, the step
pub(super) fn load(
    os: &TableSpec,
    lf: LazyFrame,
    schema: &Schema,
    ts: TimeColumn,
    shared: &Shared,
    problems: &mut Vec<Problem>,
    report: &mut LoadReport,
    step: &crate::progress::Step,
) -> Result<(DataFrame, Option<i64>)> {
    let Shared {
        int_ids,
        known,
        bounds: Bounds { lo, hi, range_text },
        ..
    } = shared;
    let (int_ids, lo, hi) = (*int_ids, *lo, *hi);

    let idu = os.user_name("lead_id");
    let tsu = os.user_name("reached_at").to_string();
    // An activity log: only its stage-change rows are outcomes, each keeping its line.
    let (lf, stu) = match &os.activity {
        Some(a) => (
            super::activity::stage_changes(os, a, lf, problems)?,
            match a.stage_key {
                Some(_) => super::activity::STAGE.to_string(),
                None => os.user_name("stage").to_string(),
            },
        ),
        None => (
            lf.with_row_index(ROW, None),
            os.user_name("stage").to_string(),
        ),
    };
    let lf = with_names(os, lf, "stage", &stu);
    // Messages name the user's column: the activity's attributes, not the stage read from it.
    let stu_shown = match &os.activity {
        Some(a) if a.stage_key.is_some() => a.attributes_column.clone(),
        _ => stu.clone(),
    };
    let stage = match &os.fixed_stage {
        // A table of one stage (won deals): every row reached it.
        Some(s) => lit(s.clone()),
        None => named(os, "stage", &stu).str().strip_chars(lit(NULL)),
    };
    let unlisted_stage = match &os.fixed_stage {
        Some(_) => lit(false),
        None => unlisted(os, "stage", &stu),
    };
    let mut sel = vec![
        col(ROW),
        id_expr(idu, schema.get(idu).unwrap_or(&DataType::String), int_ids).alias("lead_id"),
        // The id as written (trimmed): an id that is not a whole number reads as empty in
        // `lead_id` when the leads' ids are integers, yet it is no empty id.
        col(idu)
            .cast(DataType::String)
            .str()
            .strip_chars(lit(NULL))
            .alias("__id_raw"),
        stage.alias("stage"),
        unlisted_stage.alias("__unlisted"),
        ts.expr.alias("reached_at"),
        col(&tsu).alias("__ts_raw"),
    ];
    let has_amount = schema.get(os.user_name("amount")).is_some();
    if has_amount {
        let au = os.user_name("amount");
        let amount = super::attributes::number(os, au);
        sel.push(amount.clone().alias("amount"));
        sel.push(
            col(au)
                .is_not_null()
                .and(amount.is_null())
                .alias("__bad_amount"),
        );
    }
    step.part("reading the rows and matching them to the leads");
    let df = lf
        .select(sel)
        .join(
            known.clone(),
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Left),
        )
        .sort([ROW], Default::default())
        .collect()
        .map_err(read_err(os))?;
    step.part("checking stages, times, amounts and lead ids");
    let mut ctx = Ctx { spec: os, problems };
    if df.height() == 0 && os.activity.is_none() {
        ctx.push(
            Severity::Error,
            "empty-table",
            None,
            0,
            vec![],
            "the outcomes table has a header but no rows".into(),
        );
    }
    ctx.rows_problem(
        &df,
        col("stage").is_null(),
        Severity::Error,
        "null-stage",
        &stu_shown,
        None,
        "empty stage",
    )?;
    ctx.rows_problem(
        &df,
        col("__unlisted"),
        Severity::Warning,
        "unlisted-code",
        &stu_shown,
        Some("stage"),
        &unlisted_note(os, "stage"),
    )?;
    ctx.rows_problem(
        &df,
        col("__ts_raw").is_null(),
        Severity::Error,
        "null-timestamp",
        &tsu,
        None,
        "empty timestamp",
    )?;
    ctx.time_problems(&df, ("reached_at", "__ts_raw"), &tsu, &ts.form, "")?;
    let tsi = col("reached_at").cast(DataType::Int64);
    let oor = tsi.clone().lt(lit(lo)).or(tsi.gt(lit(hi)));
    ctx.rows_problem(
        &df,
        oor.clone(),
        Severity::Warning,
        "timestamp-out-of-range",
        &tsu,
        Some("__ts_raw"),
        &format!("timestamp outside {range_text} (these rows are left out)"),
    )?;
    if has_amount {
        ctx.rows_problem(
            &df,
            col("__bad_amount"),
            Severity::Error,
            "bad-number",
            os.user_name("amount"),
            None,
            "amount is not a number",
        )?;
    }
    let unmatched_mask = col("__created")
        .is_null()
        .and(col("__id_raw").is_not_null());
    let unmatched = ctx.rows_problem(
        &df,
        unmatched_mask.clone(),
        Severity::Warning,
        "unknown-lead",
        idu,
        Some("__id_raw"),
        "lead id not in the leads table (counted and left out)",
    )?;
    let with_id = (df.height() - df.column("__id_raw").map_or(0, |c| c.null_count())) as u64;
    if unmatched as f64 > super::id_match::MAX_UNMATCHED_SHARE * with_id as f64 {
        let examples =
            super::id_match::distinct_text(df.clone().lazy().filter(unmatched_mask), "__id_raw")?;
        let lead_examples = super::id_match::distinct_text(known.clone(), "lead_id")?;
        if let Some(p) = super::id_match::check(&super::id_match::Unmatched {
            file: os.display(),
            table: "outcomes",
            column: idu,
            with_id,
            unmatched,
            examples,
            lead_examples,
            int_ids,
        }) {
            ctx.problems.push(p);
        }
    }
    if schema.get(&tsu) == Some(&DataType::String) {
        ctx.rows_problem(
            &df,
            timeparse::with_offset_expr("__ts_raw").is_not_null(),
            Severity::Warning,
            "time-zone-offset",
            &tsu,
            Some("__ts_raw"),
            OFFSET_NOTE,
        )?;
    }
    ctx.rows_problem(
        &df,
        col("reached_at")
            .cast(DataType::Int64)
            .lt(col("__created").cast(DataType::Int64))
            .fill_null(false),
        Severity::Warning,
        "outcome-before-lead",
        &tsu,
        Some("__ts_raw"),
        "stage reached before its lead was created (kept: a lead that reaches the target stage before its snapshot counts as having come in hot)",
    )?;
    contradictory_stages(&mut ctx, &df, &stu)?;
    let mut keep = vec![col("lead_id"), col("stage"), col("reached_at")];
    if has_amount {
        keep.push(col("amount"));
    }
    let valid = df
        .clone()
        .lazy()
        .filter(
            col("__created")
                .is_not_null()
                .and(col("stage").is_not_null())
                .and(col("reached_at").is_not_null())
                .and(oor.not()),
        )
        .select(keep)
        .collect()
        .map_err(Error::polars("filtering outcomes"))?;
    let (omin, omax) = minmax(&valid, "reached_at")?;

    report.tables.push(TableReport {
        table: Table::Outcomes,
        file: os.display(),
        format: fmt_name(&os.format),
        rows: df.height() as u64,
        rows_used: valid.height() as u64,
        first: omin.map(timeparse::display_micros),
        last: omax.map(timeparse::display_micros),
    });
    Ok((valid, omax))
}

/// Warn about leads that reached both `won` and `lost` (any letter case): the label only asks
/// whether the target stage was reached, so the lead is kept, but the CRM disagrees with itself.
fn contradictory_stages(ctx: &mut Ctx, df: &DataFrame, stage_user: &str) -> Result<()> {
    let lower = col("stage").str().to_lowercase();
    let both = df
        .clone()
        .lazy()
        .filter(
            col("lead_id")
                .is_not_null()
                .and(col("__created").is_not_null()),
        )
        .group_by([col("lead_id")])
        .agg([
            lower.clone().eq(lit("won")).any(true).alias("won"),
            lower.eq(lit("lost")).any(true).alias("lost"),
            col(ROW).min().alias("first"),
            col(ROW)
                .sort(Default::default())
                .head(Some(3))
                .alias("rows"),
        ])
        .filter(col("won").and(col("lost")))
        .sort(["first"], Default::default())
        .collect()
        .map_err(Error::polars("finding contradictory stages"))?;
    let n = both.height() as u64;
    if n == 0 {
        return Ok(());
    }
    let ids = both
        .column("lead_id")
        .and_then(|c| c.cast(&DataType::String))
        .map_err(Error::polars("contradictory stages"))?;
    let ids = ids.str().map_err(Error::polars("contradictory stages"))?;
    let rows = both
        .column("rows")
        .and_then(|c| c.list().cloned())
        .map_err(Error::polars("contradictory stages"))?;
    let examples = ctx.id_examples(ids, &rows);
    let message = format!(
        "column `{stage_user}`: {} lead(s) reached both `won` and `lost`: {} (kept: a lead counts as converted when it reached the target stage)",
        thousands(n),
        list_examples(&examples, n)
    );
    ctx.push(
        Severity::Warning,
        "won-and-lost",
        Some(stage_user),
        n,
        examples,
        message,
    );
    Ok(())
}
