//! The leads table: read once, its ids and creation times checked, an outcome column inside it
//! turned into outcomes, personal columns left out, attributes typed.
//!
//! Input: the leads [`TableSpec`] and the plausible time range. Output: [`Leads`]: the checked
//! frame (`lead_id`, `created_at`, optional `account_id`, then the attributes), its attributes,
//! outcomes from an outcome column, the id type and the table's report row. Guarantees: rows
//! with an empty or duplicate id or an unusable creation time are errors naming their lines;
//! `lead_id` is Int64 when every id is an integer, else String.

use polars::prelude::*;

use super::attributes::{
    check_attributes, describe, infer_attribute, infer_text_attributes, normalised_number,
};
use super::personal::{is_personal, personal_by_content};
use super::problem::{Invalid, Problem, Severity, list_examples};
use super::scan::{
    Bounds, Ctx, OFFSET_NOTE, ROW, fmt_name, id_expr, key_expr, minmax, narrow, read_err, scan,
    time_expr,
};
use super::table::{NumberFormat, Table, TableSpec};
use super::types::{Attribute, AttributeKind, TableReport};
use crate::error::{Error, Result};
use crate::format::thousands;
use crate::timeparse::{self, DateForm};

/// How many of a text column's first values decide whether it holds personal data.
const CONTENT_SAMPLE: usize = 2_000;

/// The checked leads and what the other tables need from them.
pub(super) struct Leads {
    pub leads: DataFrame,
    pub attributes: Vec<Attribute>,
    /// From an outcome column or per-stage date columns inside the leads table.
    pub outcomes: Option<DataFrame>,
    pub int_ids: bool,
    /// For events keyed by a leads column: key -> lead (see `scan::Shared::keys`).
    pub keys: Option<DataFrame>,
    pub report: TableReport,
    /// Latest creation time (µs).
    pub last: Option<i64>,
}

/// Read and check the leads table.
pub(super) fn load(
    ls: &TableSpec,
    key: Option<&str>,
    bounds: &Bounds,
    problems: &mut Vec<Problem>,
) -> Result<Leads> {
    let Some((lf, schema)) = scan(ls, problems)? else {
        return Err(Invalid(std::mem::take(problems)).into());
    };
    let step = crate::progress::Step::parts(format!("reading and checking {}", ls.display()), 4);
    step.part("reading the rows");
    let _t = crate::timing::Stage::start("leads: read");
    let df = lf
        .with_row_index(ROW, None)
        .collect()
        .map_err(read_err(ls))?;
    drop(_t);
    let n_leads = df.height() as u64;
    if n_leads == 0 {
        Ctx { spec: ls, problems }.push(
            Severity::Error,
            "empty-table",
            None,
            0,
            vec![],
            "the leads table has a header but no rows".into(),
        );
        return Err(Invalid(std::mem::take(problems)).into());
    }
    let df = lead_rows(ls, &schema, df, problems)?;
    let _t = crate::timing::Stage::start("leads: id type");
    let int_ids = integer_ids(ls, &schema, &df)?;
    drop(_t);
    let _t = crate::timing::Stage::start("leads: select");
    let as_read = df.clone().lazy();
    let Some(created) = time_expr(ls, &schema, &as_read, "created_at", problems) else {
        return Err(Invalid(std::mem::take(problems)).into());
    };
    let created_form = created.form.clone();
    let (df, attr_names, forms) = select(ls, &schema, df, created.expr, int_ids, key, problems)?;
    drop(_t);
    step.part("ids and creation times");
    let _t = crate::timing::Stage::start("leads: ids and times");
    check_ids_and_times(ls, &schema, &df, bounds, &created_form, problems)?;
    drop(_t);
    step.part("keys and outcome columns");
    let keys = match key {
        Some(k) if df.column("__lead_key").is_ok() => Some(lead_keys(ls, &df, k, problems)?),
        _ => None,
    };
    let (df, outcomes) = if ls.pipeline.is_some() || !ls.stage_dates.is_empty() {
        let o = stage_dates(ls, &df, bounds, &forms, problems)?;
        (df, Some(o))
    } else {
        outcome_column(ls, df, &forms, problems)?
    };
    // Attributes are typed and checked over every row as read: rows left out for a bad id
    // or creation time must not make a column look empty.
    step.part("typing and profiling the attributes");
    let _t = crate::timing::Stage::start("leads: attributes");
    let (df, attributes) = typed_attributes(ls, df, &attr_names, problems)?;
    drop(_t);
    let _t = crate::timing::Stage::start("leads: valid rows");
    let leads = valid_rows(&df, bounds)?;
    drop(_t);
    let (first, last) = minmax(&leads, "created_at")?;
    let report = TableReport {
        table: Table::Leads,
        file: ls.display(),
        format: fmt_name(&ls.format),
        rows: n_leads,
        rows_used: leads.height() as u64,
        first: first.map(timeparse::display_micros),
        last: last.map(timeparse::display_micros),
    };
    Ok(Leads {
        leads,
        attributes,
        outcomes,
        int_ids,
        keys,
        report,
        last,
    })
}

/// Integer ids when every non-null id is an integer.
fn integer_ids(ls: &TableSpec, schema: &Schema, df: &DataFrame) -> Result<bool> {
    let id_user = ls.user_name("lead_id");
    let id_dtype = schema.get(id_user).cloned().unwrap_or(DataType::String);
    Ok(match &id_dtype {
        DataType::String => {
            let t = df
                .clone()
                .lazy()
                .select([
                    col(id_user)
                        .str()
                        .strip_chars(lit(NULL))
                        .is_not_null()
                        .sum()
                        .alias("nn"),
                    col(id_user)
                        .str()
                        .strip_chars(lit(NULL))
                        .cast(DataType::Int64)
                        .is_not_null()
                        .sum()
                        .alias("ni"),
                ])
                .collect()
                .map_err(Error::polars("inspecting lead ids"))?;
            let get = |c: &str| {
                t.column(c)
                    .ok()
                    .and_then(|s| s.get(0).ok())
                    .and_then(|v| v.extract::<u64>())
                    .unwrap_or(0)
            };
            get("nn") == get("ni")
        }
        d => d.is_integer(),
    })
}

/// The canonical columns and the attribute columns (personal ones left out with a warning);
/// returns the frame, the attribute names, and the form of each further time column read
/// (by the name of its raw column).
fn select(
    ls: &TableSpec,
    schema: &Schema,
    df: DataFrame,
    created: Expr,
    int_ids: bool,
    key: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Result<(DataFrame, Vec<String>, Forms)> {
    let as_read = df.clone().lazy();
    let mut forms = Forms::new();
    let id_user = ls.user_name("lead_id");
    let id_dtype = schema.get(id_user).cloned().unwrap_or(DataType::String);
    let created_user = ls.user_name("created_at");
    let mut sel = vec![
        col(ROW),
        id_expr(id_user, &id_dtype, int_ids).alias("lead_id"),
        created.alias("created_at"),
        col(created_user).alias("__created_raw"),
    ];
    if ls.columns.contains_key("account_id") || schema.get("account_id").is_some() {
        sel.push(
            col(ls.user_name("account_id"))
                .cast(DataType::String)
                .alias("account_id"),
        );
    }
    if ls.columns.contains_key("converted") {
        let u = ls.user_name("converted");
        sel.push(
            col(u)
                .cast(DataType::String)
                .str()
                .strip_chars(lit(NULL))
                .str()
                .to_lowercase()
                .alias("__conv_raw"),
        );
    }
    if ls.columns.contains_key("converted_at")
        && let Some(t) = time_expr(ls, schema, &as_read, "converted_at", problems)
    {
        sel.push(t.expr.alias("__conv_at"));
        sel.push(col(ls.user_name("converted_at")).alias("__conv_at_raw"));
        forms.insert("__conv_at_raw".into(), t.form);
    }
    if let Some(p) = &ls.pipeline {
        sel.push(
            col(p.stage_column.as_str())
                .cast(DataType::String)
                .str()
                .strip_chars(lit(NULL))
                .alias("__pipe_stage"),
        );
    }
    for (k, (_, column)) in dated_stages(ls).iter().enumerate() {
        if let Some(t) = time_expr(ls, schema, &as_read, column, problems) {
            sel.push(t.expr.alias(format!("__stage_at_{k}")));
            sel.push(col(column.as_str()).alias(format!("__stage_raw_{k}")));
            forms.insert(format!("__stage_raw_{k}"), t.form);
        }
    }
    if let Some(k) = key {
        if schema.get(k).is_some() {
            sel.push(key_expr(k).alias("__lead_key"));
        } else {
            Ctx { spec: ls, problems }.push(
                Severity::Error,
                "missing-column",
                Some(k),
                0,
                vec![],
                format!("the events are keyed by `{k}` ([events] lead_key), but the leads table has no such column"),
            );
        }
    }
    // The join key is never an attribute, whatever its name.
    let reserved: Vec<String> = Table::Leads
        .required()
        .iter()
        .chain(Table::Leads.optional())
        .map(|c| ls.user_name(c).to_string())
        .chain(ls.stage_dates.iter().map(|(_, c)| c.clone()))
        // A pipeline's stage is today's state and its date the outcome: never attributes.
        .chain(
            ls.pipeline
                .iter()
                .flat_map(|p| [p.stage_column.clone(), p.stage_date.clone()]),
        )
        .chain(key.map(str::to_string))
        .collect();
    let attr_names: Vec<String> = schema
        .iter_names()
        .map(|n| n.to_string())
        .filter(|n| !reserved.contains(n) && !ls.ignore_columns.contains(n) && !n.starts_with("__"))
        .collect();
    let attr_names = without_personal(ls, &df, attr_names, problems);
    let attr_names = without_pipeline_outcomes(ls, &df, attr_names, problems)?;
    for a in &attr_names {
        sel.push(col(a.as_str()));
    }
    let df = df
        .lazy()
        .select(sel)
        .collect()
        .map_err(Error::polars("selecting lead columns"))?;
    Ok((df, attr_names, forms))
}

/// `names` less the columns that hold personal data, by their name or by their first values'
/// content (e-mail addresses, phone numbers, free text, a value per row), each left out with a
/// warning.
pub(super) fn without_personal(
    ls: &TableSpec,
    df: &DataFrame,
    attr_names: Vec<String>,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    let (personal, attr_names): (Vec<String>, Vec<String>) =
        attr_names.into_iter().partition(|n| is_personal(n));
    for name in &personal {
        Ctx { spec: ls, problems }.push(
            Severity::Warning,
            "personal-column",
            Some(name),
            0,
            vec![],
            format!("column `{name}` holds personal data (by its name); it is not read, and no output shows it. List it under ignore_columns in a dataset.toml to silence this"),
        );
    }
    // By content: e-mail addresses, phone numbers, free text, a value per lead, whatever the
    // column's name. The first values of each text column decide.
    let (by_content, attr_names): (Vec<(String, String)>, Vec<String>) = {
        let mut kept = Vec::new();
        let mut found = Vec::new();
        for a in attr_names {
            let why = df
                .column(&a)
                .ok()
                .and_then(|c| c.str().ok())
                .and_then(|s| personal_by_content(s.iter().flatten().take(CONTENT_SAMPLE)));
            match why {
                Some(w) => found.push((a, w)),
                None => kept.push(a),
            }
        }
        (found, kept)
    };
    for (name, why) in &by_content {
        Ctx { spec: ls, problems }.push(
            Severity::Warning,
            "personal-column",
            Some(name),
            0,
            vec![],
            format!("column `{name}` holds personal data (by its content: {why}); it is not read, and no output shows it. List it under ignore_columns in a dataset.toml to silence this"),
        );
    }
    attr_names
}

/// `names` less, in a pipeline table, the columns filled exactly where the stage date is (a
/// deal's `close_value`: set when the deal closes, 0 when lost): they are the outcome, written
/// at the stage's date, not something known when the lead came in. Each is left out with a
/// warning.
fn without_pipeline_outcomes(
    ls: &TableSpec,
    df: &DataFrame,
    names: Vec<String>,
    problems: &mut Vec<Problem>,
) -> Result<Vec<String>> {
    let Some(p) = &ls.pipeline else {
        return Ok(names);
    };
    if names.is_empty() || df.column(&p.stage_date).is_err() {
        return Ok(names);
    }
    let filled = |c: &str| {
        let e = col(c).is_not_null();
        match df.column(c).map(|x| x.dtype().clone()) {
            Ok(DataType::String) => e.and(col(c).str().strip_chars(lit(NULL)).neq(lit(""))),
            _ => e,
        }
    };
    let dated = filled(&p.stage_date);
    let mut sel = vec![
        dated.clone().sum().alias("__dated"),
        dated.clone().not().sum().alias("__undated"),
    ];
    for (k, n) in names.iter().enumerate() {
        let f = filled(n);
        sel.push(f.clone().and(dated.clone()).sum().alias(format!("d{k}")));
        sel.push(f.and(dated.clone().not()).sum().alias(format!("u{k}")));
    }
    let t = df
        .clone()
        .lazy()
        .select(sel)
        .collect()
        .map_err(Error::polars("comparing columns with the stage date"))?;
    let get = |c: &str| {
        t.column(c)
            .ok()
            .and_then(|x| x.get(0).ok())
            .and_then(|v| v.extract::<u64>())
            .unwrap_or(0) as f64
    };
    let (dated_n, undated_n) = (get("__dated"), get("__undated"));
    if dated_n == 0.0 || undated_n == 0.0 {
        return Ok(names);
    }
    let mut kept = Vec::new();
    for (k, n) in names.into_iter().enumerate() {
        let (d, u) = (get(&format!("d{k}")), get(&format!("u{k}")));
        if d >= 0.95 * dated_n && u <= 0.01 * undated_n && !ls.deliberate_attributes.contains(&n) {
            Ctx { spec: ls, problems }.push(
                Severity::Warning,
                "pipeline-outcome-column",
                Some(&n),
                0,
                vec![],
                format!(
                    "column `{n}` is filled on {:.0}% of the rows that reached a stage (`{}` set) and on {:.0}% of the others: it is written when a deal closes, so it gives the outcome away and is not an attribute (list it under deliberate_attributes if it is known earlier)",
                    100.0 * d / dated_n,
                    p.stage_date,
                    100.0 * u / undated_n
                ),
            );
        } else {
            kept.push(n);
        }
    }
    Ok(kept)
}

/// The text form of each time column read besides `created_at`, by its raw column's name.
type Forms = std::collections::BTreeMap<String, DateForm>;

/// Empty and duplicate ids; empty, unreadable, implausible and offset creation times.
fn check_ids_and_times(
    ls: &TableSpec,
    schema: &Schema,
    df: &DataFrame,
    bounds: &Bounds,
    created_form: &DateForm,
    problems: &mut Vec<Problem>,
) -> Result<()> {
    let id_user = ls.user_name("lead_id");
    let created_user = ls.user_name("created_at");
    let mut ctx = Ctx { spec: ls, problems };
    ctx.rows_problem(
        df,
        col("lead_id").is_null(),
        Severity::Error,
        "null-lead-id",
        id_user,
        None,
        "empty lead id",
    )?;
    // Only ids that occur twice are grouped: grouping a million distinct ids with their rows
    // costs a second, and none of them is reported.
    let repeated = df
        .clone()
        .lazy()
        .filter(col("lead_id").is_not_null())
        .group_by([col("lead_id")])
        .agg([len().alias("n")])
        .filter(col("n").gt(lit(1)))
        .select([col("lead_id")]);
    let dups = df
        .clone()
        .lazy()
        .join(
            repeated,
            [col("lead_id")],
            [col("lead_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by([col("lead_id")])
        .agg([
            len().alias("n"),
            col(ROW).min().alias("first"),
            col(ROW)
                .sort(Default::default())
                .head(Some(3))
                .alias("rows"),
        ])
        .filter(col("n").gt(lit(1)))
        .sort(["first"], Default::default())
        .collect()
        .map_err(Error::polars("finding duplicate ids"))?;
    if dups.height() > 0 {
        let ids = dups
            .column("lead_id")
            .map_err(Error::polars("dups"))?
            .cast(&DataType::String)
            .map_err(Error::polars("dups"))?;
        let ids = ids.str().map_err(Error::polars("dups"))?.clone();
        let rows = dups
            .column("rows")
            .map_err(Error::polars("dups"))?
            .list()
            .map_err(Error::polars("dups"))?
            .clone();
        let examples = ctx.id_examples(&ids, &rows);
        let n = dups.height() as u64;
        ctx.push(
            Severity::Error,
            "duplicate-lead-id",
            Some(id_user),
            n,
            examples.clone(),
            format!(
                "column `{id_user}`: {} lead id(s) occur more than once: {}",
                thousands(n),
                list_examples(&examples, n)
            ),
        );
    }
    ctx.rows_problem(
        df,
        col("__created_raw").is_null(),
        Severity::Error,
        "null-timestamp",
        created_user,
        None,
        "empty timestamp",
    )?;
    ctx.time_problems(
        df,
        ("created_at", "__created_raw"),
        created_user,
        created_form,
        "",
    )?;
    let ts = col("created_at").cast(DataType::Int64);
    ctx.rows_problem(
        df,
        ts.clone().lt(lit(bounds.lo)).or(ts.gt(lit(bounds.hi))),
        Severity::Error,
        "timestamp-out-of-range",
        created_user,
        Some("__created_raw"),
        &format!("timestamp outside {}", bounds.range_text),
    )?;
    if schema.get(created_user) == Some(&DataType::String) {
        ctx.rows_problem(
            df,
            timeparse::with_offset_expr("__created_raw").is_not_null(),
            Severity::Warning,
            "time-zone-offset",
            created_user,
            Some("__created_raw"),
            OFFSET_NOTE,
        )?;
    }
    Ok(())
}

/// An outcome column inside the leads table: yes/no (with an optional conversion date), or a
/// conversion date alone (non-empty means converted). Checked; its converted leads become
/// outcomes of stage `converted`.
fn outcome_column(
    ls: &TableSpec,
    df: DataFrame,
    forms: &Forms,
    problems: &mut Vec<Problem>,
) -> Result<(DataFrame, Option<DataFrame>)> {
    let yes_no = ls.columns.contains_key("converted");
    let dated = df.column("__conv_at").is_ok();
    if !yes_no && !dated {
        return Ok((df, None));
    }
    let truthy = lit(Series::new("t".into(), ["true", "1", "yes", "y", "t"]));
    let falsy = lit(Series::new("f".into(), ["false", "0", "no", "n", "f"]));
    let converted = if yes_no {
        when(col("__conv_raw").is_in(truthy.implode(false), false))
            .then(lit(true))
            .when(col("__conv_raw").is_in(falsy.implode(false), false))
            .then(lit(false))
            .otherwise(lit(NULL).cast(DataType::Boolean))
    } else {
        // A lone conversion date: a lead converted when it has one.
        col("__conv_at_raw").is_not_null()
    };
    let df = df
        .lazy()
        .with_column(converted.alias("__conv"))
        .collect()
        .map_err(Error::polars("reading the outcome column"))?;
    let mut ctx = Ctx { spec: ls, problems };
    if yes_no {
        ctx.rows_problem(
            &df,
            col("__conv_raw").is_not_null().and(col("__conv").is_null()),
            Severity::Error,
            "bad-boolean",
            ls.user_name("converted"),
            Some("__conv_raw"),
            "not a yes/no value (expected true/false, 1/0 or yes/no)",
        )?;
    }
    if let (true, Some(form)) = (dated, forms.get("__conv_at_raw")) {
        ctx.time_problems(
            &df,
            ("__conv_at", "__conv_at_raw"),
            ls.user_name("converted_at"),
            form,
            "",
        )?;
    }
    let at = if dated {
        col("__conv_at")
    } else {
        lit(NULL).cast(timeparse::dtype())
    };
    let outcomes = df
        .clone()
        .lazy()
        .filter(col("__conv").eq(lit(true)))
        .select([
            col("lead_id"),
            lit("converted").alias("stage"),
            at.alias("reached_at"),
        ])
        .collect()
        .map_err(Error::polars("building outcomes"))?;
    Ok((df, Some(outcomes)))
}

/// The date columns that say when a stage was reached, with the stage each names: one per
/// stage (`stage_dates`), or a pipeline's one date (its stage in the stage column, `None`).
fn dated_stages(ls: &TableSpec) -> Vec<(Option<String>, String)> {
    match &ls.pipeline {
        Some(p) => vec![(None, p.stage_date.clone())],
        None => ls
            .stage_dates
            .iter()
            .map(|(s, c)| (Some(s.clone()), c.clone()))
            .collect(),
    }
}

/// Outcomes from date columns inside the leads table: one per stage (a non-empty date means
/// the lead reached that stage then), or a pipeline's stage column and its date (the row
/// reached the stage it names then; no date, not reached). Unreadable dates are errors naming
/// their lines; implausible ones are counted and left out, ones before the lead's creation
/// counted and kept (as in an outcomes table); a pipeline date without a stage is counted
/// and left out.
fn stage_dates(
    ls: &TableSpec,
    df: &DataFrame,
    bounds: &Bounds,
    forms: &Forms,
    problems: &mut Vec<Problem>,
) -> Result<DataFrame> {
    let mut ctx = Ctx { spec: ls, problems };
    let mut parts = Vec::new();
    for (k, (named, column)) in dated_stages(ls).iter().enumerate() {
        let what = match named {
            Some(s) => format!("the date of stage `{s}`: "),
            None => "the date the pipeline's stage was reached: ".into(),
        };
        let stage = named.clone().unwrap_or_else(|| "its stage".into());
        let (at, raw) = (format!("__stage_at_{k}"), format!("__stage_raw_{k}"));
        let Some(form) = forms.get(&raw) else {
            // Its type cannot hold a date; time_expr has reported it.
            continue;
        };
        ctx.time_problems(df, (&at, &raw), column, form, &what)?;
        let tsi = col(&at).cast(DataType::Int64);
        let oor = tsi
            .clone()
            .lt(lit(bounds.lo))
            .or(tsi.clone().gt(lit(bounds.hi)));
        ctx.rows_problem(
            df,
            oor.clone(),
            Severity::Warning,
            "timestamp-out-of-range",
            column,
            Some(&raw),
            &format!(
                "timestamp outside {} (these rows are left out)",
                bounds.range_text
            ),
        )?;
        ctx.rows_problem(
            df,
            tsi.clone()
                .lt(col("created_at").cast(DataType::Int64))
                .fill_null(false),
            Severity::Warning,
            "outcome-before-lead",
            column,
            Some(&raw),
            &format!("{} reached before its lead was created (kept: a lead that reaches the target stage before its snapshot counts as having come in hot)", if named.is_some() { format!("stage `{stage}`") } else { "a stage".to_string() }),
        )?;
        let (stage_expr, has_stage) = match named {
            Some(s) => (lit(s.clone()), lit(true)),
            None => {
                let p = ls.pipeline.as_ref().expect("a pipeline");
                ctx.rows_problem(
                    df,
                    col(&at).is_not_null().and(col("__pipe_stage").is_null()),
                    Severity::Warning,
                    "date-without-stage",
                    &p.stage_column,
                    Some(&raw),
                    &format!(
                        "a date in `{column}` but no stage in `{}` (these rows reach no stage)",
                        p.stage_column
                    ),
                )?;
                (col("__pipe_stage"), col("__pipe_stage").is_not_null())
            }
        };
        parts.push(
            df.clone()
                .lazy()
                .filter(
                    col(&at)
                        .is_not_null()
                        .and(oor.fill_null(false).not())
                        .and(col("lead_id").is_not_null())
                        .and(has_stage),
                )
                .select([
                    col("lead_id"),
                    stage_expr.alias("stage"),
                    col(&at).alias("reached_at"),
                ]),
        );
    }
    let none = || {
        df.clone().lazy().limit(0).select([
            col("lead_id"),
            lit("").alias("stage"),
            lit(NULL).cast(timeparse::dtype()).alias("reached_at"),
        ])
    };
    let all = if parts.is_empty() {
        none()
    } else {
        concat(parts, UnionArgs::default()).map_err(Error::polars("stage dates"))?
    };
    let all = all
        .collect()
        .map_err(Error::polars("building outcomes from stage dates"))?;
    name_stages(ls, all, problems)
}

/// The stages of `outcomes` as names: `[leads.codes.stage]` maps a pipeline's stage value to
/// its name (`Won` to `won`), and a value it does not list keeps its own.
fn name_stages(
    ls: &TableSpec,
    outcomes: DataFrame,
    problems: &mut Vec<Problem>,
) -> Result<DataFrame> {
    let Some(map) = ls.codes.get("stage").filter(|m| !m.is_empty()) else {
        return Ok(outcomes);
    };
    // A stage the list does not name keeps its text (`Closed Won` is not `won`): counted, so a
    // sale that no longer matches the target is seen.
    let mut unlisted: std::collections::BTreeMap<String, u64> = Default::default();
    if let Ok(st) = outcomes.column("stage").and_then(|c| c.str().cloned()) {
        for v in st.iter().flatten() {
            if !map.contains_key(v) && !map.values().any(|n| n == v) {
                *unlisted.entry(v.to_string()).or_default() += 1;
            }
        }
    }
    if !unlisted.is_empty() {
        let n: u64 = unlisted.values().sum();
        let column = ls
            .pipeline
            .as_ref()
            .map(|p| p.stage_column.clone())
            .unwrap_or_default();
        let list: Vec<String> = unlisted
            .iter()
            .map(|(v, c)| format!("`{v}` ({})", thousands(*c)))
            .collect();
        Ctx { spec: ls, problems }.push(
            Severity::Warning,
            "unlisted-code",
            Some(&column),
            n,
            vec![],
            format!(
                "column `{column}`: {} row(s) reached a stage [leads.codes.stage] does not name; kept as written, so only a target of that exact text matches them: {}",
                thousands(n),
                list.join(", ")
            ),
        );
    }
    let err = || Error::polars("naming the pipeline's stages");
    let stage = outcomes
        .column("stage")
        .map_err(err())?
        .str()
        .map_err(err())?;
    let named: StringChunked = stage
        .iter()
        .map(|v| v.map(|v| map.get(v).map(String::as_str).unwrap_or(v)))
        .collect();
    let mut out = outcomes.clone();
    out.with_column(named.with_name("stage".into()).into_column())
        .map_err(err())?;
    Ok(out)
}

/// The rows of the leads table that are leads: `[leads.rows]` leaves out the rows of some
/// pipeline stages (`Prospecting`) and the rows without a creation date, each counted by reason
/// in one warning; a listed stage no row has is a warning of its own (a misspelt stage).
fn lead_rows(
    ls: &TableSpec,
    schema: &Schema,
    df: DataFrame,
    problems: &mut Vec<Problem>,
) -> Result<DataFrame> {
    if !ls.rows.filters() {
        return Ok(df);
    }
    let err = Error::polars("choosing the rows that are leads");
    let mut ctx = Ctx { spec: ls, problems };
    let text = |c: &str| col(c).cast(DataType::String).str().strip_chars(lit(NULL));
    let mut reasons: Vec<(Expr, String)> = Vec::new();
    if let Some(p) = &ls.pipeline
        && schema.get(&p.stage_column).is_some()
    {
        for stage in &ls.rows.skip_stages {
            reasons.push((
                text(&p.stage_column).eq(lit(stage.trim().to_string())),
                format!("of stage `{stage}` in `{}`", p.stage_column),
            ));
        }
    }
    let created = ls.user_name("created_at");
    if ls.rows.skip_undated && schema.get(created).is_some() {
        let empty = text(created).is_null().or(text(created).eq(lit("")));
        reasons.push((empty, format!("without a date in `{created}`")));
    }
    if reasons.is_empty() {
        return Ok(df);
    }
    // Each row is counted under the first reason it meets.
    let mut seen = lit(false);
    let mut counts = Vec::new();
    for (k, (mask, _)) in reasons.iter().enumerate() {
        let m = mask.clone().fill_null(false);
        counts.push(
            m.clone()
                .and(seen.clone().not())
                .sum()
                .alias(format!("r{k}")),
        );
        seen = seen.or(m);
    }
    let t = df.clone().lazy().select(counts).collect().map_err(err)?;
    let mut parts = Vec::new();
    let mut total = 0u64;
    for (k, (_, what)) in reasons.iter().enumerate() {
        let n = t
            .column(&format!("r{k}"))
            .ok()
            .and_then(|c| c.get(0).ok())
            .and_then(|v| v.extract::<u64>())
            .unwrap_or(0);
        total += n;
        if n == 0 && what.starts_with("of stage") {
            ctx.push(
                Severity::Warning,
                "unknown-stage",
                ls.pipeline.as_ref().map(|p| p.stage_column.as_str()),
                0,
                vec![],
                format!("rows.skip_stages: no row is {what}; is the stage spelt as in the file?"),
            );
        }
        if n > 0 {
            parts.push(format!("{} {what}", thousands(n)));
        }
    }
    if total > 0 && total == df.height() as u64 {
        ctx.push(
            Severity::Error,
            "no-lead-rows",
            None,
            total,
            vec![],
            format!(
                "[leads.rows] leaves out every row ({}), so no row is a lead: {}",
                thousands(total),
                parts.join(", ")
            ),
        );
        return Err(Invalid(std::mem::take(problems)).into());
    }
    if total > 0 {
        ctx.push(
            Severity::Warning,
            "rows-not-leads",
            None,
            total,
            vec![],
            format!(
                "{} of {} rows are not leads ([leads.rows]) and are left out: {}",
                thousands(total),
                thousands(df.height() as u64),
                parts.join(", ")
            ),
        );
    }
    df.lazy()
        .filter(seen.not())
        .collect()
        .map_err(Error::polars("choosing the rows that are leads"))
}

/// Each key of the leads (`__lead_key`) that belongs to exactly one lead with its id and
/// creation time. A key shared by several leads matches none of them: counted in a warning
/// that names no value (keys are personal data such as e-mail addresses).
fn lead_keys(
    ls: &TableSpec,
    df: &DataFrame,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Result<DataFrame> {
    let grouped = df
        .clone()
        .lazy()
        .filter(
            col("__lead_key")
                .is_not_null()
                .and(col("lead_id").is_not_null())
                .and(col("created_at").is_not_null()),
        )
        .group_by([col("__lead_key").alias("__key")])
        .agg([
            len().alias("__n"),
            col("lead_id").first().alias("__keyed_id"),
            col("created_at").first().alias("__created"),
        ])
        .collect()
        .map_err(Error::polars("matching lead keys"))?;
    let shared = grouped
        .column("__n")
        .and_then(|c| c.as_materialized_series().gt(1))
        .map(|m| m.sum().unwrap_or(0) as u64)
        .map_err(Error::polars("matching lead keys"))?;
    if shared > 0 {
        Ctx { spec: ls, problems }.push(
            Severity::Warning,
            "shared-lead-key",
            Some(key),
            shared,
            vec![],
            format!(
                "column `{key}`: {} value(s) belong to more than one lead; events keyed by them match no lead (counted with the events)",
                thousands(shared)
            ),
        );
    }
    grouped
        .lazy()
        .filter(col("__n").eq(lit(1)))
        .select([col("__key"), col("__keyed_id"), col("__created")])
        .collect()
        .map_err(Error::polars("matching lead keys"))
}

/// Rows with an id and a plausible creation time; the errors above block analysis anyway.
fn valid_rows(df: &DataFrame, bounds: &Bounds) -> Result<DataFrame> {
    let ts = col("created_at").cast(DataType::Int64);
    df.clone()
        .lazy()
        .filter(
            col("lead_id")
                .is_not_null()
                .and(col("created_at").is_not_null())
                .and(ts.clone().gt_eq(lit(bounds.lo)))
                .and(ts.lt_eq(lit(bounds.hi))),
        )
        .collect()
        .map_err(Error::polars("filtering leads"))
}

/// Each attribute typed from its values and checked; the row index dropped.
pub(super) fn typed_attributes(
    ls: &TableSpec,
    leads: DataFrame,
    attr_names: &[String],
    problems: &mut Vec<Problem>,
) -> Result<(DataFrame, Vec<Attribute>)> {
    let mut keys = vec![ROW, "lead_id", "created_at"];
    if leads.column("account_id").is_ok() {
        keys.push("account_id");
    }
    typed_columns(ls, leads, &keys, attr_names, problems)
}

/// `attr_names` of `leads` typed and checked, beside the `keys` columns (the first of which
/// is the row index, dropped at the end); each attribute's profile.
pub(super) fn typed_columns(
    ls: &TableSpec,
    leads: DataFrame,
    keys: &[&str],
    attr_names: &[String],
    problems: &mut Vec<Problem>,
) -> Result<(DataFrame, Vec<Attribute>)> {
    // Numbers in a declared form (`1.234,50`) are rewritten before their type is inferred.
    // The table's form applies to the columns that are numbers in it; a column given its own
    // form must be numbers.
    let written: Vec<(&String, NumberFormat)> = attr_names
        .iter()
        .filter_map(|a| ls.number_format_of(a).map(|nf| (a, nf)))
        .collect();
    // Each such column's rewritten text stands beside it as `__num_<name>`.
    let num = |a: &str| format!("__num_{a}");
    let leads = if written.is_empty() {
        leads
    } else {
        leads
            .lazy()
            .with_columns(
                written
                    .iter()
                    .map(|(a, nf)| normalised_number(a, *nf).alias(num(a)))
                    .collect::<Vec<_>>(),
            )
            .collect()
            .map_err(Error::polars("reading declared number formats"))?
    };
    let _t = crate::timing::Stage::start("leads: attributes: types");
    // The text columns without a declared number form are typed together (a few queries for
    // all of them, whatever their number).
    let plain_text: Vec<&str> = attr_names
        .iter()
        .filter(|a| {
            !written.iter().any(|(d, _)| d == a)
                && leads
                    .column(a)
                    .is_ok_and(|c| c.dtype() == &DataType::String)
        })
        .map(String::as_str)
        .collect();
    let plain_set: std::collections::HashSet<&str> = plain_text.iter().copied().collect();
    let mut plain_kinds =
        infer_text_attributes(&mut Ctx { spec: ls, problems }, &leads, &plain_text)?.into_iter();
    let mut kinds: Vec<(String, AttributeKind)> = Vec::new();
    let mut cast_exprs = Vec::new();
    for a in attr_names {
        let numeric = |k: AttributeKind| matches!(k, AttributeKind::Integer | AttributeKind::Float);
        let form = written.iter().find(|(d, _)| *d == a).map(|(_, nf)| *nf);
        let (kind, expr) = match form {
            None if plain_set.contains(a.as_str()) => plain_kinds
                .next()
                .ok_or_else(|| Error::Internal("attribute types out of step".into()))?,
            None => {
                let one = narrow(&leads, &[ROW, a])?;
                let dtype = leads.column(a).map_err(Error::polars("attribute"))?.dtype();
                infer_attribute(a, dtype, &one)?
            }
            Some(nf) => {
                let n = num(a);
                let one = narrow(&leads, &[ROW, a, &n])?;
                let (kind, expr) = infer_attribute(&n, &DataType::String, &one)?;
                if numeric(kind) {
                    (kind, expr)
                } else if !ls.number_formats.contains_key(a) {
                    // Not numbers in the table's form: the column is read as it is.
                    let dtype = leads.column(a).map_err(Error::polars("attribute"))?.dtype();
                    infer_attribute(a, dtype, &one)?
                } else {
                    // Given its own form, the column must be numbers.
                    let number = col(n.as_str()).cast(DataType::Float64);
                    Ctx { spec: ls, problems }.rows_problem(
                        &one,
                        col(a.as_str()).is_not_null().and(number.clone().is_null()),
                        Severity::Error,
                        "bad-number",
                        a,
                        Some(a),
                        &format!("not a number written with {}", describe(nf)),
                    )?;
                    (AttributeKind::Float, number)
                }
            }
        };
        cast_exprs.push(expr.alias(a.as_str()));
        kinds.push((a.clone(), kind));
    }
    let mut keep: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    keep.extend(cast_exprs);
    drop(_t);
    let _t = crate::timing::Stage::start("leads: attributes: casts");
    let leads = leads
        .lazy()
        .select(keep)
        .collect()
        .map_err(Error::polars("typing attributes"))?;
    drop(_t);
    let _t = crate::timing::Stage::start("leads: attributes: checks");
    let leads = check_attributes(&mut Ctx { spec: ls, problems }, leads, &kinds)?
        .drop(ROW)
        .map_err(Error::polars("typing attributes"))?;
    drop(_t);
    let _t = crate::timing::Stage::start("leads: attributes: profile");
    let attributes = kinds
        .into_iter()
        .map(|(name, kind)| profile(&leads, name, kind))
        .collect::<Result<_>>()?;
    Ok((leads, attributes))
}

/// An attribute's kind with how many rows of `df` have a value and how many values it takes.
pub(super) fn profile(df: &DataFrame, name: String, kind: AttributeKind) -> Result<Attribute> {
    let c = df.column(&name).map_err(Error::polars("attribute"))?;
    Ok(Attribute {
        non_null: (c.len() - c.null_count()) as u64,
        distinct: c
            .as_materialized_series()
            .drop_nulls()
            .n_unique()
            .unwrap_or(0) as u64,
        name,
        kind,
    })
}
