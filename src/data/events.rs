//! The events table: checked in one streaming pass, returned as a lazy scan.
//!
//! Input: the events [`TableSpec`], its scan and what the leads give ([`Shared`]). Output: the
//! canonical lazy scan of valid events (`lead_id`, `occurred_at`, `event_type`, optional
//! `topic`, `asset_id`, `channel`, `value`) and the latest valid timestamp. Guarantees: every
//! left-out row is counted in a problem; events of unknown leads stay in the scan (every
//! stage joins on leads) and are counted.

use polars::prelude::*;

use super::dataset::{LoadReport, TableReport};
use super::problem::{MAX_EXAMPLES, Problem, Severity, list_examples};
use super::scan::{
    Bounds, Ctx, DOTTED_NOTE, OFFSET_NOTE, ROW, Shared, TimeColumn, ambiguous_time, counts,
    expected_time, fmt_name, id_expr, key_expr, named, read_err, unlisted, unlisted_note,
    with_names,
};
use super::spec::Table;
use super::spec::TableSpec;
use crate::error::Result;
use crate::format::thousands;
use crate::timeparse;
use crate::timeparse::DateForm;

/// Check the events table in one streaming pass and return its canonical lazy scan (valid
/// rows only) with the latest valid timestamp.
pub(super) fn load(
    es: &TableSpec,
    lf: LazyFrame,
    schema: &Schema,
    ts: TimeColumn,
    shared: &Shared,
    problems: &mut Vec<Problem>,
    report: &mut LoadReport,
) -> Result<(LazyFrame, Option<i64>)> {
    let Shared {
        int_ids,
        known,
        keys,
        bounds: Bounds { lo, hi, range_text },
    } = shared;
    let (int_ids, lo, hi) = (*int_ids, *lo, *hi);
    let TimeColumn { expr: ts, form } = ts;
    let declared = matches!(form, DateForm::Declared(_));
    let dotted = matches!(form, DateForm::IsoOrDotted | DateForm::Dotted);

    let idu = es.user_name("lead_id");
    let tsu = es.user_name("occurred_at").to_string();
    let etu = es.user_name("event_type").to_string();
    let lf = with_names(es, lf, "event_type", &etu);
    // Keyed by another leads column (an e-mail address): the key is joined to its lead and
    // used for nothing else; a key that matches no lead is an unknown lead.
    let lf = match keys {
        Some(keys) => {
            let mut args = JoinArgs::new(JoinType::Left);
            args.maintain_order = MaintainOrderJoin::Left;
            lf.join(
                keys.clone().select([col("__key"), col("__keyed_id")]),
                [key_expr(idu)],
                [col("__key")],
                args,
            )
        }
        None => lf,
    };
    let keyed = keys.is_some();
    let lead_id = if keyed {
        col("__keyed_id")
    } else {
        id_expr(idu, schema.get(idu).unwrap_or(&DataType::String), int_ids)
    };
    let mut sel = vec![
        lead_id.clone().alias("lead_id"),
        ts.alias("occurred_at"),
        named(es, "event_type", &etu).alias("event_type"),
    ];
    for c in ["topic", "asset_id", "channel"] {
        if schema.get(es.user_name(c)).is_some() {
            sel.push(col(es.user_name(c)).cast(DataType::String).alias(c));
        }
    }
    let has_value = schema.get(es.user_name("value")).is_some();
    if has_value {
        let v = super::attributes::number(es, es.user_name("value"));
        sel.push(
            when(v.clone().is_finite())
                .then(v)
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("value"),
        );
    }
    let canon = lf.clone().select(sel.clone());
    let mut check_sel = sel.clone();
    check_sel.push(col(&tsu).is_null().alias("__ts_null"));
    check_sel.push(col(idu).is_null().alias("__raw_id_null"));
    check_sel.push(unlisted(es, "event_type", &etu).alias("__unlisted"));
    // Only undeclared text is checked for slashes, and only a dotted column for dots: typed
    // times (Parquet) have neither, and turning 50M of them into text costs seconds.
    let ts_is_text = schema.get(&tsu) == Some(&DataType::String);
    check_sel.push(if declared || !ts_is_text {
        lit(false).alias("__ts_slashed")
    } else {
        timeparse::slashed_expr(&tsu).alias("__ts_slashed")
    });
    check_sel.push(if dotted && ts_is_text {
        timeparse::dotted_expr(&tsu).alias("__ts_dotted")
    } else {
        lit(false).alias("__ts_dotted")
    });
    if has_value {
        check_sel.push(
            col(es.user_name("value"))
                .is_not_null()
                .and(super::attributes::number(es, es.user_name("value")).is_null())
                .alias("__bad_value"),
        );
    } else {
        check_sel.push(lit(false).alias("__bad_value"));
    }
    if has_value {
        let v = super::attributes::number(es, es.user_name("value"));
        check_sel.push(
            v.clone()
                .is_not_null()
                .and(v.is_finite().not())
                .alias("__nonfinite_value"),
        );
    } else {
        check_sel.push(lit(false).alias("__nonfinite_value"));
    }
    let ts_text = schema.get(&tsu) == Some(&DataType::String);
    check_sel.push(if ts_text {
        timeparse::with_offset_expr(&tsu)
            .is_not_null()
            .alias("__ts_offset")
    } else {
        lit(false).alias("__ts_offset")
    });
    let tsi = col("occurred_at").cast(DataType::Int64);
    // Every aggregate below is a plain sum, min or max of a column: aggregates with their own
    // filters made the streaming engine split the scan in two and buffer one branch.
    let valid = col("occurred_at")
        .is_not_null()
        .and(col("__oor").not())
        .and(col("event_type").is_not_null())
        .and(col("__bad_value").not());
    // An empty id; keyed, an empty key (a key that matches no lead is an unknown lead).
    let id_null = if keyed {
        col("__raw_id_null")
    } else {
        col("lead_id").is_null()
    };
    let checked = lf
        .clone()
        .select(check_sel)
        .join(
            known.clone(),
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Left).with_build_side(Some(JoinBuildSide::ForceRight)),
        )
        .with_columns([
            col("__ts_null")
                .not()
                .and(col("occurred_at").is_null())
                .alias("__ts_bad"),
            col("__ts_null")
                .not()
                .and(col("occurred_at").is_null())
                .and(col("__ts_slashed"))
                .alias("__ts_bad_slashed"),
            col("__ts_dotted")
                .and(col("occurred_at").is_not_null())
                .alias("__ts_dotted_read"),
            tsi.clone()
                .lt(lit(lo))
                .or(tsi.clone().gt(lit(hi)))
                .fill_null(false)
                .alias("__oor"),
            col("__created").is_null().alias("__unknown"),
        ])
        .with_columns([valid.alias("__valid")])
        .with_columns([
            col("__unknown")
                .and(col("__valid"))
                .alias("__unknown_valid"),
            id_null.clone().alias("__id_null"),
            id_null.and(col("__valid")).alias("__id_null_valid"),
            col("__valid")
                .and(tsi.clone().lt(col("__created").cast(DataType::Int64)))
                .fill_null(false)
                .alias("__early"),
            when(col("__valid"))
                .then(col("occurred_at"))
                .otherwise(lit(NULL))
                .alias("__valid_at"),
        ]);
    let agg = checked
        .group_by([col("event_type")])
        .agg([
            len().alias("n"),
            col("__ts_null").sum().alias("ts_null"),
            col("__ts_bad").sum().alias("ts_bad"),
            col("__ts_bad_slashed").sum().alias("ts_bad_slashed"),
            col("__ts_dotted_read").sum().alias("ts_dotted"),
            col("__oor").sum().alias("oor"),
            col("__bad_value").sum().alias("bad_value"),
            col("__unknown_valid").sum().alias("unknown"),
            col("__id_null").sum().alias("id_null"),
            col("__id_null_valid").sum().alias("id_null_valid"),
            col("__early").sum().alias("early"),
            col("__ts_offset").sum().alias("ts_offset"),
            col("__nonfinite_value").sum().alias("nonfinite_value"),
            col("__valid").sum().alias("valid"),
            col("__unlisted").sum().alias("unlisted"),
            col("__valid_at").min().alias("min"),
            col("__valid_at").max().alias("max"),
        ])
        .collect_with_engine(Engine::Streaming)
        .map_err(read_err(es))?
        .unwrap_single();
    let sum = |c: &str| -> u64 {
        agg.column(c)
            .ok()
            .and_then(|s| s.as_materialized_series().sum::<u64>().ok())
            .unwrap_or(0)
    };
    let total = sum("n");
    let mut ctx = Ctx { spec: es, problems };
    if total == 0 {
        ctx.push(
            Severity::Error,
            "empty-table",
            None,
            0,
            vec![],
            "the events table has a header but no rows".into(),
        );
    }
    let examples = |mask: Expr, show: Option<&str>| -> Result<DataFrame> {
        let mut s = vec![col(ROW)];
        if let Some(v) = show {
            s.push(col(v).cast(DataType::String).alias("__v"));
        }
        lf.clone()
            .with_row_index(ROW, None)
            .filter(mask)
            .select(s)
            .limit(MAX_EXAMPLES as IdxSize)
            .collect()
            .map_err(read_err(es))
    };
    let lazy_problem = |ctx: &mut Ctx,
                        n: u64,
                        mask: Expr,
                        show: Option<&str>,
                        sev,
                        code,
                        column: &str,
                        what: &str|
     -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let ex = examples(mask, show)?;
        ctx.report_rows(n, &ex, sev, code, column, what)
    };
    let ts_raw_null = col(&tsu).is_null();
    let ts_parsed = sel[1].clone();
    lazy_problem(
        &mut ctx,
        sum("ts_null"),
        ts_raw_null.clone(),
        None,
        Severity::Error,
        "null-timestamp",
        &tsu,
        "empty timestamp",
    )?;
    let unread = ts_raw_null.clone().not().and(ts_parsed.clone().is_null());
    let slashed = timeparse::slashed_expr(&tsu);
    lazy_problem(
        &mut ctx,
        sum("ts_bad_slashed"),
        unread.clone().and(slashed.clone()),
        Some(&tsu),
        Severity::Error,
        "ambiguous-date",
        &tsu,
        &ambiguous_time(es, &tsu),
    )?;
    lazy_problem(
        &mut ctx,
        sum("ts_bad") - sum("ts_bad_slashed"),
        if declared {
            unread
        } else {
            unread.and(slashed.not())
        },
        Some(&tsu),
        Severity::Error,
        "bad-timestamp",
        &tsu,
        &expected_time(&form),
    )?;
    lazy_problem(
        &mut ctx,
        sum("ts_dotted"),
        timeparse::dotted_expr(&tsu).and(ts_parsed.clone().is_not_null()),
        Some(&tsu),
        Severity::Warning,
        "dotted-date",
        &tsu,
        DOTTED_NOTE,
    )?;
    let tpi = ts_parsed.clone().cast(DataType::Int64);
    lazy_problem(
        &mut ctx,
        sum("oor"),
        tpi.clone().lt(lit(lo)).or(tpi.gt(lit(hi))),
        Some(&tsu),
        Severity::Warning,
        "timestamp-out-of-range",
        &tsu,
        &format!("timestamp outside {range_text} (these rows are left out)"),
    )?;
    let null_types = agg
        .clone()
        .lazy()
        .filter(col("event_type").is_null())
        .select([col("n")])
        .collect()
        .ok()
        .and_then(|d| {
            d.column("n")
                .ok()
                .and_then(|c| c.get(0).ok())
                .and_then(|v| v.extract::<u64>())
        })
        .unwrap_or(0);
    lazy_problem(
        &mut ctx,
        null_types,
        col(&etu).is_null(),
        None,
        Severity::Error,
        "null-event-type",
        &etu,
        "empty event type",
    )?;
    if has_value {
        let vu = es.user_name("value");
        lazy_problem(
            &mut ctx,
            sum("bad_value"),
            col(vu)
                .is_not_null()
                .and(super::attributes::number(es, vu).is_null()),
            Some(vu),
            Severity::Error,
            "bad-number",
            vu,
            "not a number",
        )?;
        let v = super::attributes::number(es, vu);
        lazy_problem(
            &mut ctx,
            sum("nonfinite_value"),
            v.clone().is_not_null().and(v.is_finite().not()),
            Some(vu),
            Severity::Warning,
            "non-finite-number",
            vu,
            "NaN or infinite value, treated as missing (no scoring rule reads values)",
        )?;
    }
    let id_expr_e = lead_id.clone();
    lazy_problem(
        &mut ctx,
        sum("id_null"),
        if keyed {
            col(idu).is_null()
        } else {
            id_expr_e.clone().is_null()
        },
        None,
        Severity::Warning,
        "null-lead-id",
        idu,
        "empty lead id (these rows are left out)",
    )?;
    if ts_text {
        lazy_problem(
            &mut ctx,
            sum("ts_offset"),
            timeparse::with_offset_expr(&tsu).is_not_null(),
            Some(&tsu),
            Severity::Warning,
            "time-zone-offset",
            &tsu,
            OFFSET_NOTE,
        )?;
    }
    let early = sum("early");
    if early > 0 {
        let ex = lf
            .clone()
            .with_row_index(ROW, None)
            .select([
                col(ROW),
                id_expr_e.clone().alias("lead_id"),
                sel[1].clone().alias("__t"),
                col(&tsu).cast(DataType::String).alias("__v"),
            ])
            .join(
                known.clone(),
                [col("lead_id")],
                [col("lead_id")],
                JoinArgs::new(JoinType::Inner).with_build_side(Some(JoinBuildSide::ForceRight)),
            )
            .filter(
                col("__t")
                    .cast(DataType::Int64)
                    .lt(col("__created").cast(DataType::Int64)),
            )
            .sort([ROW], Default::default())
            .limit(MAX_EXAMPLES as IdxSize)
            .collect()
            .map_err(read_err(es))?;
        ctx.report_rows(
            early,
            &ex,
            Severity::Warning,
            "event-before-lead",
            &tsu,
            "event before its lead was created (kept: activity recorded before the lead, such as an anonymous visit, counts like any other event)",
        )?;
    }
    let unknown = sum("unknown") - sum("id_null_valid");
    if unknown > 0 {
        let ids = if keyed {
            lf.clone()
                .filter(col(idu).is_not_null().and(col("__keyed_id").is_null()))
                .select([key_expr(idu).n_unique().alias("n")])
                .collect_with_engine(Engine::Streaming)
        } else {
            lf.clone()
                .select([lead_id.clone().alias("lead_id")])
                .join(
                    known.clone(),
                    [col("lead_id")],
                    [col("lead_id")],
                    JoinArgs::new(JoinType::Left).with_build_side(Some(JoinBuildSide::ForceRight)),
                )
                .filter(col("__created").is_null().and(col("lead_id").is_not_null()))
                .select([col("lead_id").n_unique().alias("n")])
                .collect_with_engine(Engine::Streaming)
        }
        .map_err(read_err(es))?
        .unwrap_single();
        let distinct = ids
            .column("n")
            .ok()
            .and_then(|c| c.get(0).ok())
            .and_then(|v| v.extract::<u64>())
            .unwrap_or(0);
        let what = match &es.lead_key {
            Some(k) if keyed => format!("`{k}` value(s) that match no lead"),
            _ => "lead id(s) not in the leads table".into(),
        };
        ctx.push(Severity::Warning, "unknown-lead", Some(idu), unknown, vec![],
                        format!("column `{idu}`: {} event(s) of {} {what}; they are counted here and left out of the analysis", thousands(unknown), thousands(distinct)));
    }
    let unlisted_total = sum("unlisted");
    if unlisted_total > 0 {
        let codes = agg
            .clone()
            .lazy()
            .filter(col("unlisted").gt(lit(0)))
            .sort(
                ["unlisted"],
                SortMultipleOptions::default().with_order_descending(true),
            )
            .collect()
            .map_err(read_err(es))?;
        let examples: Vec<String> = counts(&codes, "event_type", "unlisted")?
            .iter()
            .take(MAX_EXAMPLES)
            .map(|c| format!("`{}` ({})", c.value, thousands(c.count)))
            .collect();
        ctx.push(
            Severity::Warning,
            "unlisted-code",
            Some(&etu),
            unlisted_total,
            examples.clone(),
            format!(
                "column `{etu}`: {} event(s) with a {}: {}",
                thousands(unlisted_total),
                unlisted_note(es, "event_type"),
                list_examples(&examples, codes.height() as u64)
            ),
        );
    }
    let valid_total = sum("valid");
    // The per-event-type first and last valid times, as microseconds.
    let times = |c: &str| -> Vec<i64> {
        agg.column(c)
            .ok()
            .and_then(|c| c.cast(&DataType::Int64).ok())
            .and_then(|c| c.i64().ok().map(|a| a.iter().flatten().collect()))
            .unwrap_or_default()
    };
    let (emin, emax) = (
        times("min").into_iter().min(),
        times("max").into_iter().max(),
    );

    report.tables.push(TableReport {
        table: Table::Events,
        file: es.display(),
        format: fmt_name(&es.format),
        rows: total,
        rows_used: valid_total - sum("unknown"),
        first: emin.map(timeparse::display_micros),
        last: emax.map(timeparse::display_micros),
    });
    report.event_types = counts(&agg, "event_type", "valid")?;
    let tsc = col("occurred_at").cast(DataType::Int64);
    let events = canon.filter(
        col("occurred_at")
            .is_not_null()
            .and(tsc.clone().gt_eq(lit(lo)))
            .and(tsc.lt_eq(lit(hi)))
            .and(col("event_type").is_not_null()),
    );
    Ok((events, emax))
}
