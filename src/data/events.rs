//! The events table: read once, checked and placed per lead in the same streamed pass.
//!
//! Input: the events [`TableSpec`], its scan, what the leads give ([`Shared`]) and, when the
//! caller asks for them, the tags to keep events by ([`Tags`]). Output: [`Events`]: the
//! canonical columns the table has (`lead_id`, `occurred_at`, `event_type`, optional `topic`,
//! `asset_id`, `channel`, `value`), the latest valid timestamp and, with tags, every valid
//! event of a known lead with a non-zero tag placed under its lead ([`PlacedEvents`]).
//! Guarantees: every left-out row is counted in a problem; events of unknown leads are
//! counted and never placed; the file is scanned once (rows are read again only to name the
//! examples of a problem found). A CSV file is read in chunks of whole rows, each parsed and
//! checked on its own core ([`super::csv_chunks`]); other formats stream through polars.

use polars::prelude::*;

use std::sync::{Arc, Mutex};

use super::cache::{CacheOptions, Found, Key, Watched};
use super::event_tally::{CHECKS, Tally, TypeCodes, TypeCount};
use super::placed::{PlacedEvents, Placer};
use super::problem::{MAX_EXAMPLES, Problem, Severity, list_examples};
use super::scan::{
    Bounds, Ctx, DOTTED_NOTE, OFFSET_NOTE, ROW, Shared, TimeColumn, ambiguous_time, expected_time,
    fmt_name, id_expr, key_expr, named, read_err, unlisted, unlisted_note, with_names,
};
use super::table::{Format, Table, TableSpec};
use super::types::{Count, LoadReport, TableReport};
use crate::error::{Error, Result};
use crate::format::thousands;
use crate::progress::Step;
use crate::timeparse;
use crate::timeparse::DateForm;

/// How a caller tags events as they are read: an expression over the canonical columns
/// (given their schema) giving a `UInt64` per event; events tagged 0 are not kept.
pub trait Tagger: Sync {
    fn expr(&self, schema: &Schema) -> Expr;
    /// Text that differs whenever the tags an event gets could differ (the cache's key).
    fn key(&self) -> String;
    /// The canonical columns the expression reads besides `event_type` (the others need
    /// not be read from a CSV file).
    fn reads(&self) -> Vec<&'static str>;
}

pub type Tags<'a> = &'a dyn Tagger;

/// What the one pass over the events leaves.
pub(super) struct Events {
    /// The canonical columns the table has, with their types.
    pub columns: Schema,
    /// Every valid event of a known lead with a non-zero tag, by lead row (with tags only).
    pub placed: Option<Arc<PlacedEvents>>,
    /// The valid events as a lazy scan of the file, with canonical names.
    pub scan: LazyFrame,
    /// The latest valid timestamp (µs).
    pub last: Option<i64>,
    /// The SHA-256 of the user's events file, when the cache learnt it.
    pub sha256: Option<String>,
    /// The cache file being written beside the run; join it before the process ends.
    pub storing: Option<std::thread::JoinHandle<()>>,
}

/// Check the events table and, given `tags`, place its tagged events per lead, in one
/// streamed pass.
/// With `cache`, a stored result of the same pass is used in its place, and a fresh one is
/// stored ([`super::cache`]).
#[allow(clippy::too_many_arguments)] // the table, its scan, what the leads give, the cache
pub(super) fn load(
    es: &TableSpec,
    lf: LazyFrame,
    schema: &Schema,
    ts: TimeColumn,
    shared: &Shared,
    tags: Option<Tags>,
    cache: Option<(&CacheOptions, &Key, &Watched)>,
    problems: &mut Vec<Problem>,
    report: &mut LoadReport,
) -> Result<Events> {
    let Shared {
        int_ids,
        known,
        keys,
        bounds: Bounds { lo, hi, range_text },
        index,
    } = shared;
    let n_leads = index.created.len();
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
    let mut check_sel = sel.clone();
    check_sel.push(col(&tsu).is_null().alias("__ts_null"));
    check_sel.push(col(idu).is_null().alias("__raw_id_null"));
    check_sel.push(col(idu).alias("__raw_id"));
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
    // Text ids as read are looked up trimmed, as `lead_id` holds them, without building that
    // column for every event.
    let raw_text_ids =
        !keyed && !int_ids && schema.get(idu).unwrap_or(&DataType::String) == &DataType::String;
    // An empty id; keyed, an empty key (a key that matches no lead is an unknown lead).
    // Trimming never empties a text id, so its emptiness is the raw value's.
    let id_null = if keyed || raw_text_ids {
        col("__raw_id_null")
    } else {
        col("lead_id").is_null()
    };
    let row = if raw_text_ids {
        index.clone().trimmed_expr(col("__raw_id"))
    } else {
        index.clone().expr(col("lead_id"))
    };
    // The tags read the canonical columns, which the check query carries under their names.
    let tag_schema = lf
        .clone()
        .select(sel.clone())
        .collect_schema()
        .map_err(read_err(es))?
        .as_ref()
        .clone();
    let finish = |found: Found, problems: &mut Vec<Problem>, report: &mut LoadReport| {
        problems.extend(found.problems);
        report.tables.push(TableReport {
            table: Table::Events,
            file: es.display(),
            format: fmt_name(&es.format),
            rows: found.rows,
            rows_used: found.rows_used,
            first: found.first.map(timeparse::display_micros),
            last: found.last.map(timeparse::display_micros),
        });
        report.event_types = found.event_types;
        let tsc = col("occurred_at").cast(DataType::Int64);
        let scan = lf.clone().select(sel.clone()).filter(
            col("occurred_at")
                .is_not_null()
                .and(tsc.clone().gt_eq(lit(lo)))
                .and(tsc.lt_eq(lit(hi)))
                .and(col("event_type").is_not_null()),
        );
        Events {
            columns: tag_schema.clone(),
            placed: found.placed,
            scan,
            last: found.last,
            sha256: found.sha256,
            storing: None,
        }
    };
    if let Some((opts, key, _)) = cache
        && let Some(found) = super::cache::lookup(opts, key, hi)
    {
        return Ok(finish(found, problems, report));
    }
    let expected = expected_rows(es, &lf);
    let step = Step::bar(
        format!("reading {}", es.display()),
        expected as u64,
        "events",
    );
    let counter = step.counter();
    let before = problems.len();
    // Stored with the pass, the file's SHA-256 spares provenance reading it on later runs; it
    // is computed beside the pass (which provenance would otherwise do beside the fit).
    let sha256 = cache.map(|_| {
        let shown = es.shown.clone();
        std::thread::spawn(move || super::cache::file_sha256(&shown).ok())
    });
    // One pass: every check, the lead's row, the event type's code and the caller's tag are
    // computed batch by batch on every core; each batch is then counted on its core, and its
    // counts added and the tagged events of known leads placed under the pass's one lock.
    let codes = Arc::new(TypeCodes::default());
    let tag = match tags {
        Some(tags) => tags.expr(&tag_schema),
        None => lit(0u64).cast(DataType::UInt64),
    };
    // The one pass's query, over the whole scan or over one chunk of the file's rows.
    let pass_of = |lf: LazyFrame| {
        lf.select(check_sel.clone())
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
            ])
            .with_columns([valid.clone().alias("__valid")])
            .with_columns([
                id_null.clone().alias("__id_null"),
                id_null.clone().and(col("__valid")).alias("__id_null_valid"),
                codes.clone().expr(col("event_type")).alias("__type"),
                row.clone().alias("__idx"),
                tag.clone().alias("__tag"),
                tsi.clone().alias("__t"),
            ])
            .select(
                ["__type", "__idx", "__t", "__tag", "__valid"]
                    .iter()
                    .chain(CHECKS.iter())
                    .map(|c| col(*c))
                    .collect::<Vec<_>>(),
            )
    };
    let tally = Arc::new(Mutex::new(Tally::new(
        tags.map(|_| Placer::new(n_leads, expected)),
        index.created.clone(),
    )));
    // Each batch is counted on its own core; only adding its counts and placing its events
    // take the lock.
    let (created, place) = (index.created.clone(), tags.is_some());
    match (&es.format, keyed) {
        // CSV (not keyed by another column): the file is cut into chunks of whole rows and
        // each chunk is parsed and checked on its own core ([`super::csv_chunks`]).
        (Format::Csv { delimiter }, false) => {
            let sniffed = super::sniff::sniff(&es.path, *delimiter)
                .map_err(Error::read(&es.shown, "cannot read"))?;
            let parse = super::scan::csv_parse_options(es, sniffed.delimiter);
            // The columns the pass reads: the id, time, type and value, and those the tags
            // filter on. The others are left unparsed, as polars' scan leaves the columns a
            // query does not use.
            let mut read: Vec<&str> = vec![idu, &tsu, &etu];
            if has_value {
                read.push(es.user_name("value"));
            }
            read.extend(tags.iter().flat_map(|t| t.reads()).map(|c| es.user_name(c)));
            let mut projection: Vec<usize> =
                read.iter().filter_map(|c| schema.index_of(c)).collect();
            projection.sort_unstable();
            projection.dedup();
            super::csv_chunks::for_each_chunk(
                &es.path,
                &parse,
                schema,
                &projection,
                rayon::current_num_threads(),
                super::csv_chunks::CHUNK_BYTES,
                |_, df: DataFrame| {
                    let raw = with_names(es, df.lazy(), "event_type", &etu);
                    let out = pass_of(raw).collect()?;
                    let batch = Tally::batch(&out, created.clone(), place)?;
                    tally.lock().unwrap_or_else(|e| e.into_inner()).add(batch)?;
                    counter.add(out.height() as u64);
                    Ok(())
                },
            )
            .map_err(read_err(es))?;
        }
        // Parquet, a sheet, or events keyed by another column (a join per chunk would hash
        // the keys again for every chunk): polars' streaming engine, batch by batch.
        _ => {
            let sink = tally.clone();
            pass_of(lf.clone())
                .sink_batches(
                    PlanCallback::new(move |df: DataFrame| {
                        let batch = Tally::batch(&df, created.clone(), place)?;
                        sink.lock().unwrap_or_else(|e| e.into_inner()).add(batch)?;
                        counter.add(df.height() as u64);
                        Ok(false)
                    }),
                    false,
                    None,
                )
                .and_then(|q| q.collect_with_engine(Engine::Streaming))
                .map_err(read_err(es))?;
        }
    }
    let mut tally = Arc::try_unwrap(tally)
        .map_err(|_| Error::Internal("the events tally is still shared".into()))?
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let names = codes.names();
    drop(step);
    let placed = {
        let _t = crate::timing::Stage::start("load events: place per lead");
        tally.placer.take().map(|p| {
            let placing = Step::bar("placing the events per lead", p.events(), "events");
            Arc::new(p.finish_counted(&placing.counter()))
        })
    };
    let sum = |c: &str| tally.check(&format!("__{c}"));
    let total = tally.rows;
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
        sum("ts_dotted_read"),
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
    let null_types = tally.no_type;
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
    if tally.early > 0 {
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
            tally.early,
            &ex,
            Severity::Warning,
            "event-before-lead",
            &tsu,
            "event before its lead was created (kept: activity recorded before the lead, such as an anonymous visit, counts like any other event)",
        )?;
    }
    let unknown = tally.unknown - sum("id_null_valid");
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
    // Most events naming no lead (ids of another kind, a prefix, leading zeros): refused.
    // `tally.unknown` holds events whose id reads as empty too, which is what an id that is
    // not a whole number becomes when the leads' ids are; the examples are the ids as written.
    if !keyed
        && tally.valid > 0
        && tally.unknown as f64 > super::id_match::MAX_UNMATCHED_SHARE * tally.valid as f64
    {
        let raw = col(idu).cast(DataType::String).str().strip_chars(lit(NULL));
        let examples = super::id_match::distinct_text(
            lf.clone()
                .filter(raw.clone().is_not_null())
                .select([raw.alias("__id_raw"), lead_id.clone().alias("lead_id")])
                .join(
                    known.clone(),
                    [col("lead_id")],
                    [col("lead_id")],
                    JoinArgs::new(JoinType::Left),
                )
                .filter(col("__created").is_null()),
            "__id_raw",
        )?;
        let lead_examples = super::id_match::distinct_text(known.clone(), "lead_id")?;
        // No event has an id at all (a column of empty fields, quoted or not, mapped as the
        // lead id): nothing could be scored, so the table is refused rather than read as a
        // world without behaviour. Fewer empty ids stay a warning: anonymous visits before a
        // lead is known are common in activity exports.
        if examples.is_empty() && tally.unknown == tally.valid {
            ctx.push(
                Severity::Error,
                "no-lead-ids",
                Some(idu),
                tally.valid,
                vec![],
                format!(
                    "column `{idu}`: every one of the {} events row(s) has an empty lead id, so no event can be used; check that dataset.toml maps the events' lead id to the column that holds it",
                    thousands(tally.valid)
                ),
            );
        }
        if !examples.is_empty()
            && let Some(p) = super::id_match::check(&super::id_match::Unmatched {
                file: es.display(),
                table: "events",
                column: idu,
                with_id: tally.valid,
                unmatched: tally.unknown,
                examples,
                lead_examples,
                int_ids,
            })
        {
            ctx.problems.push(p);
        }
    }
    let unlisted = type_counts(&names, &tally.by_type, |c| c.unlisted);
    let unlisted_total = sum("unlisted");
    if unlisted_total > 0 {
        let examples: Vec<String> = unlisted
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
                list_examples(&examples, unlisted.len() as u64)
            ),
        );
    }
    let found = Found {
        placed,
        problems: problems.split_off(before),
        rows: total,
        rows_used: tally.valid - tally.unknown,
        first: tally.first,
        last: tally.last,
        event_types: type_counts(&names, &tally.by_type, |c| c.valid),
        out_of_range: sum("oor"),
        sha256: sha256.and_then(|h| h.join().ok().flatten()),
    };
    let storing = cache
        .map(|(opts, key, file)| super::cache::store_beside(opts, key, hi, &found, file.clone()));
    let mut events = finish(found, problems, report);
    events.storing = storing;
    Ok(events)
}

/// `(event type, count)` pairs with a count, by count (descending), then name.
fn type_counts(
    names: &[String],
    by_type: &[TypeCount],
    n: impl Fn(&TypeCount) -> u64,
) -> Vec<Count> {
    let mut out: Vec<Count> = names
        .iter()
        .zip(by_type)
        .map(|(name, c)| Count {
            value: name.clone(),
            count: n(c),
        })
        .filter(|c| c.count > 0)
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    out
}

/// About how many rows the table has, read without scanning it: Parquet's metadata, or a
/// CSV file's size over the mean length of its first lines. Only sizes the placement's
/// buckets; a wrong guess costs growing, never a wrong result.
fn expected_rows(es: &TableSpec, lf: &LazyFrame) -> usize {
    use std::io::Read;
    match es.format {
        Format::Csv { .. } => {
            let mut head = Vec::new();
            let sample =
                std::fs::File::open(&es.path).and_then(|f| f.take(1 << 20).read_to_end(&mut head));
            let lines = head.iter().filter(|&&b| b == b'\n').count();
            let size = std::fs::metadata(&es.path).map(|m| m.len()).unwrap_or(0);
            match (sample, lines) {
                (Ok(_), 1..) => (size as f64 / (head.len() as f64 / lines as f64)) as usize,
                _ => 0,
            }
        }
        Format::Parquet | Format::Xlsx { .. } => lf
            .clone()
            .select([len()])
            .collect()
            .ok()
            .and_then(|d| d.column("len").ok()?.get(0).ok()?.extract::<usize>())
            .unwrap_or(0),
    }
}
