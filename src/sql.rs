//! The live model's snapshot scoring as one SQL query, for warehouses and Spark.
//!
//! Input: a checked [`ScoringModel`], a [`Dialect`] and the table names. Output: the text of one
//! `SELECT` that reads the user's leads and events tables and returns one row per lead with the
//! columns of [`crate::scoring::score::score_at_snapshot`]: `lead_id`, `created_at`,
//! `snapshot_at`, `explicit_score`, `implicit_score`, `score`, `band`, `stage`, one `pts:<rule>`
//! per explicit rule and `fires:<rule>` / `pts:<rule>` per implicit rule.
//!
//! Guarantees: the query computes what leadcal computes. Times are compared as microseconds
//! since the epoch, as leadcal does, so windows of fractional days cut at the same instant;
//! progressive points follow each rule's events in time order (`ROW_NUMBER`); caps, windows and
//! half-lives are applied per rule. Anything a dialect cannot express is a [`SqlError`] naming
//! the rule, never a different result.

use crate::scoring::config::{Condition, Decay, ImplicitRule, Points, ScoringModel};

/// The SQL engines leadcal writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    Duckdb,
    Spark,
    Postgres,
    Bigquery,
    Snowflake,
}

/// Why no query can be written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SqlError {
    #[error("rule `{rule}`: {reason}")]
    Rule { rule: String, reason: String },
    #[error("invalid table name `{0}`: expected letters, digits, `_`, `.`, `-` or quotes")]
    Table(String),
}

/// What to read and how to judge.
#[derive(Debug, Clone)]
pub struct Options {
    pub snapshot_days: i64,
    pub leads_table: String,
    pub events_table: String,
    /// Also return each lead's matched events (`lc_t`, `lc_mask`), its latest event
    /// (`last_event_at`) and the rules' fingerprint (`lc_model`): what `calibrate --features`
    /// needs to replay hand-overs after the snapshot.
    pub with_events: bool,
}

/// What the event lists depend on: each implicit rule's event type and filters, in order.
/// `calibrate --features` refuses a table made for other rules.
pub fn model_fingerprint(model: &ScoringModel) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for r in &model.implicit {
        h.update(format!(
            "{:?}|{:?}|{:?}|{:?}\n",
            r.event_type, r.topic, r.asset_id, r.channel
        ));
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

use crate::units::DAY_US;

impl Dialect {
    fn quote(self, name: &str) -> String {
        match self {
            Dialect::Spark | Dialect::Bigquery => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// Microseconds since the epoch of a timestamp expression, as a 64-bit integer.
    fn micros(self, e: &str) -> String {
        match self {
            Dialect::Duckdb => format!("epoch_us({e})"),
            Dialect::Postgres => {
                format!("CAST(EXTRACT(EPOCH FROM {e}) * 1000000 AS BIGINT)")
            }
            Dialect::Spark => format!("unix_micros(CAST({e} AS TIMESTAMP))"),
            Dialect::Bigquery => format!("UNIX_MICROS(TIMESTAMP({e}))"),
            Dialect::Snowflake => format!("DATE_PART(epoch_microsecond, {e})"),
        }
    }

    /// A timestamp (without time zone) from microseconds since the epoch.
    fn timestamp_of_micros(self, e: &str) -> String {
        match self {
            Dialect::Duckdb => format!("make_timestamp({e})"),
            Dialect::Postgres => {
                format!("(TIMESTAMP '1970-01-01 00:00:00' + ({e}) * INTERVAL '1 microsecond')")
            }
            Dialect::Spark => format!("CAST(timestamp_micros({e}) AS TIMESTAMP_NTZ)"),
            Dialect::Bigquery => format!("DATETIME(TIMESTAMP_MICROS({e}))"),
            Dialect::Snowflake => format!("TO_TIMESTAMP_NTZ({e}, 6)"),
        }
    }

    fn double(self) -> &'static str {
        match self {
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::Bigquery => "FLOAT64",
            _ => "DOUBLE",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Dialect::Spark | Dialect::Bigquery => "STRING",
            _ => "VARCHAR",
        }
    }

    /// A text literal.
    fn string(self, s: &str) -> String {
        match self {
            Dialect::Spark | Dialect::Bigquery => {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
            _ => format!("'{}'", s.replace('\'', "''")),
        }
    }

    /// A number literal that every dialect reads as a double.
    fn number(self, x: f64) -> String {
        format!("CAST({x:?} AS {})", self.double())
    }
}

fn check_table(t: &str) -> Result<&str, SqlError> {
    let ok = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-`\"".contains(c));
    if ok {
        Ok(t)
    } else {
        Err(SqlError::Table(t.to_string()))
    }
}

/// The points of the `k`th occurrence (`k` a 1-based SQL expression).
fn nth_points(d: Dialect, points: &Points) -> String {
    match points {
        Points::Each(p) => d.number(*p),
        Points::Progressive(v) => {
            let mut s = String::from("CASE");
            for (i, p) in v.iter().enumerate().take(v.len() - 1) {
                s.push_str(&format!(" WHEN k = {} THEN {}", i + 1, d.number(*p)));
            }
            s.push_str(&format!(" ELSE {} END", d.number(v[v.len() - 1])));
            s
        }
    }
}

fn one_of(column: &str, values: &[String], d: Dialect) -> String {
    let list: Vec<String> = values.iter().map(|v| d.string(v)).collect();
    format!("{column} IN ({})", list.join(", "))
}

/// Whether an event matches `rule` by type and filters (at any time); `p` prefixes the event
/// columns (`e.` or nothing).
fn rule_matches(d: Dialect, rule: &ImplicitRule, p: &str) -> String {
    let mut c = vec![format!(
        "{p}{} = {}",
        d.quote("event_type"),
        d.string(&rule.event_type)
    )];
    for (column, values) in [
        ("topic", &rule.topic),
        ("asset_id", &rule.asset_id),
        ("channel", &rule.channel),
    ] {
        if !values.is_empty() {
            c.push(one_of(&format!("{p}{}", d.quote(column)), values, d));
        }
    }
    c.join(" AND ")
}

/// The `WHERE` condition of one rule's events (besides `t <= snapshot`).
fn rule_condition(d: Dialect, rule: &ImplicitRule) -> Result<String, SqlError> {
    let mut c = vec![rule_matches(d, rule, "")];
    match rule.decay {
        Decay::Window { days } => {
            let w = days * DAY_US as f64;
            if !(w.is_finite() && w.abs() < 9.0e18) {
                return Err(SqlError::Rule {
                    rule: rule.name.clone(),
                    reason: format!("a window of {days} days does not fit in 64-bit microseconds"),
                });
            }
            c.push(format!("t >= snap - {}", w as i64));
        }
        Decay::HalfLife { .. } | Decay::None => {}
    }
    Ok(c.join(" AND "))
}

/// One explicit rule's points for the column expression `a`.
fn explicit_case(d: Dialect, c: &Condition, a: &str, points: f64) -> String {
    let when = match c {
        Condition::OneOf(values) => {
            let list: Vec<String> = values.iter().map(|v| d.string(v)).collect();
            format!("CAST({a} AS {}) IN ({})", d.text(), list.join(", "))
        }
        Condition::Range { min, below } => {
            let x = format!("CAST({a} AS {})", d.double());
            let mut parts = vec![format!("{x} IS NOT NULL")];
            if let Some(m) = min {
                parts.push(format!("{x} >= {}", d.number(*m)));
            }
            if let Some(b) = below {
                parts.push(format!("{x} < {}", d.number(*b)));
            }
            parts.join(" AND ")
        }
        Condition::Missing => format!("{a} IS NULL"),
    };
    format!(
        "CASE WHEN {when} THEN {} ELSE {} END",
        d.number(points),
        d.number(0.0)
    )
}

/// The query for `model` in `dialect`.
pub fn query(model: &ScoringModel, dialect: Dialect, o: &Options) -> Result<String, SqlError> {
    let d = dialect;
    let q = |s: &str| d.quote(s);
    let leads_t = check_table(&o.leads_table)?;
    let events_t = check_table(&o.events_table)?;
    let snap_us = o.snapshot_days * DAY_US;
    let mut attrs: Vec<&str> = model
        .explicit
        .iter()
        .map(|r| r.attribute.as_str())
        .collect();
    attrs.sort_unstable();
    attrs.dedup();
    let mut out = String::new();
    out.push_str(&format!(
        "-- leadcal {}: the live model {} scored at each lead's snapshot (created_at + {} days).\n-- Dialect: {:?}. One row per lead; columns as leadcal's per-lead table.\n",
        env!("CARGO_PKG_VERSION"),
        model
            .name
            .as_deref()
            .map_or_else(|| model.path.display().to_string(), str::to_string),
        o.snapshot_days,
        d
    ));
    let zone = match d {
        Dialect::Spark => Some(
            "SET spark.sql.session.timeZone = UTC (Spark reads and writes times in the session's zone)",
        ),
        Dialect::Snowflake => {
            Some("ALTER SESSION SET TIMEZONE = 'UTC' when the time columns are TIMESTAMP_LTZ")
        }
        _ => None,
    };
    if let Some(z) = zone {
        out.push_str(&format!("-- Run with {z}.\n"));
    }
    // Leads with their snapshot (in microseconds) and the attributes the rules read.
    let attr_sel: String = attrs.iter().map(|a| format!(", {}", q(a))).collect();
    out.push_str(&format!(
        "WITH lc_leads AS (\n  SELECT {id}, {created}, {} + {snap_us} AS snap{attr_sel}\n  FROM {leads_t}\n),\n",
        d.micros(&q("created_at")),
        id = q("lead_id"),
        created = q("created_at"),
    ));
    let n = model.implicit.len();
    if n > 0 {
        out.push_str(&format!(
            "lc_events AS (\n  SELECT e.{id}, {t} AS t, l.snap, e.{et}{extra}\n  FROM {events_t} e JOIN lc_leads l ON e.{id} = l.{id}\n  WHERE {t} <= l.snap\n),\n",
            id = q("lead_id"),
            t = d.micros(&format!("e.{}", q("occurred_at"))),
            et = q("event_type"),
            extra = ["topic", "asset_id", "channel"]
                .iter()
                .filter(|c| model.implicit.iter().any(|r| match **c {
                    "topic" => !r.topic.is_empty(),
                    "asset_id" => !r.asset_id.is_empty(),
                    _ => !r.channel.is_empty(),
                }))
                .map(|c| format!(", e.{}", q(c)))
                .collect::<String>(),
        ));
        // One row per (event, rule it matches), numbered in time order within lead and rule.
        let mut parts = Vec::with_capacity(n);
        for (r, rule) in model.implicit.iter().enumerate() {
            let weight = match rule.decay {
                Decay::HalfLife { days } => {
                    let h = days * DAY_US as f64;
                    if !(h.is_finite() && h > 0.0) {
                        return Err(SqlError::Rule {
                            rule: rule.name.clone(),
                            reason: format!("half-life of {days} days"),
                        });
                    }
                    format!(
                        "POWER({}, CAST(snap - t AS {dbl}) / {})",
                        d.number(0.5),
                        d.number(h),
                        dbl = d.double()
                    )
                }
                _ => d.number(1.0),
            };
            parts.push(format!(
                "  SELECT {id}, {r} AS rule_no, t, {weight} AS w\n  FROM lc_events WHERE {}",
                rule_condition(d, rule)?,
                id = q("lead_id"),
            ));
        }
        out.push_str(&format!(
            "lc_matched AS (\n{}\n),\n",
            parts.join("\n  UNION ALL\n")
        ));
        out.push_str(&format!(
            "lc_ranked AS (\n  SELECT {id}, rule_no, w, ROW_NUMBER() OVER (PARTITION BY {id}, rule_no ORDER BY t) AS k\n  FROM lc_matched\n),\n",
            id = q("lead_id")
        ));
        let mut pts = String::from("CASE rule_no");
        for (r, rule) in model.implicit.iter().enumerate() {
            pts.push_str(&format!(" WHEN {r} THEN {}", nth_points(d, &rule.points)));
        }
        pts.push_str(" END");
        out.push_str(&format!(
            "lc_rules AS (\n  SELECT {id}, rule_no, COUNT(*) AS fires, SUM(({pts}) * w) AS raw\n  FROM lc_ranked GROUP BY {id}, rule_no\n),\n",
            id = q("lead_id")
        ));
    }
    if o.with_events {
        if n > 63 {
            return Err(SqlError::Rule {
                rule: model.implicit[63].name.clone(),
                reason: "event lists hold at most 63 rules (one bit each in a BIGINT)".into(),
            });
        }
        let mask: Vec<String> = model
            .implicit
            .iter()
            .enumerate()
            .map(|(r, rule)| {
                format!(
                    "CASE WHEN {} THEN {} ELSE 0 END",
                    rule_matches(d, rule, "e."),
                    1i64 << r
                )
            })
            .collect();
        let mask = if mask.is_empty() {
            "0".to_string()
        } else {
            mask.join(" + ")
        };
        out.push_str(&format!(
            "lc_all AS (\n  SELECT e.{id}, {t} AS t, {mask} AS mask\n  FROM {events_t} e JOIN lc_leads l ON e.{id} = l.{id}\n),\n",
            id = q("lead_id"),
            t = d.micros(&format!("e.{}", q("occurred_at"))),
        ));
        let (lt, lm) = match d {
            Dialect::Duckdb | Dialect::Postgres => {
                let agg = if d == Dialect::Duckdb { "list" } else { "array_agg" };
                (
                    format!("{agg}(t ORDER BY t, mask) FILTER (WHERE mask <> 0)"),
                    format!("{agg}(mask ORDER BY t, mask) FILTER (WHERE mask <> 0)"),
                )
            }
            Dialect::Spark => (
                "transform(array_sort(collect_list(CASE WHEN mask <> 0 THEN named_struct('t', t, 'm', mask) END)), x -> x.t)".to_string(),
                "transform(array_sort(collect_list(CASE WHEN mask <> 0 THEN named_struct('t', t, 'm', mask) END)), x -> x.m)".to_string(),
            ),
            Dialect::Bigquery => (
                "ARRAY_AGG(IF(mask <> 0, t, NULL) IGNORE NULLS ORDER BY t, mask)".to_string(),
                "ARRAY_AGG(IF(mask <> 0, mask, NULL) IGNORE NULLS ORDER BY t, mask)".to_string(),
            ),
            Dialect::Snowflake => (
                "ARRAY_AGG(CASE WHEN mask <> 0 THEN t END) WITHIN GROUP (ORDER BY t, mask)".to_string(),
                "ARRAY_AGG(CASE WHEN mask <> 0 THEN mask END) WITHIN GROUP (ORDER BY t, mask)".to_string(),
            ),
        };
        out.push_str(&format!(
            "lc_lists AS (\n  SELECT {id}, {lt} AS lc_t, {lm} AS lc_mask, MAX(t) AS last_event_at\n  FROM lc_all GROUP BY {id}\n),\n",
            id = q("lead_id"),
        ));
    }
    // One row per lead: explicit points, and per rule its fires and capped points.
    let mut cols = vec![
        format!("l.{}", q("lead_id")),
        format!("l.{}", q("created_at")),
        format!(
            "{} AS {}",
            d.timestamp_of_micros("l.snap"),
            q("snapshot_at")
        ),
    ];
    let mut explicit_names = vec![];
    for r in &model.explicit {
        let name = format!("pts:{}", r.name);
        cols.push(format!(
            "MAX({}) AS {}",
            explicit_case(d, &r.condition, &format!("l.{}", q(&r.attribute)), r.points),
            q(&name)
        ));
        explicit_names.push(name);
    }
    let mut implicit_names = vec![];
    for (r, rule) in model.implicit.iter().enumerate() {
        // The cap inside the CASE: LEAST and GREATEST skip nulls in most engines.
        let capped = match rule.cap {
            Some(c) if c > 0.0 => format!("LEAST(p.raw, {})", d.number(c)),
            Some(c) => format!("GREATEST(p.raw, {})", d.number(c)),
            None => "p.raw".to_string(),
        };
        let capped = format!("MAX(CASE WHEN p.rule_no = {r} THEN {capped} END)");
        let f = format!("fires:{}", rule.name);
        let p = format!("pts:{}", rule.name);
        cols.push(format!(
            "COALESCE(MAX(CASE WHEN p.rule_no = {r} THEN p.fires END), 0) AS {}",
            q(&f)
        ));
        cols.push(format!(
            "COALESCE({capped}, {}) AS {}",
            d.number(0.0),
            q(&p)
        ));
        implicit_names.push((f, p));
    }
    let join = if n > 0 {
        format!(
            "\n  LEFT JOIN lc_rules p ON p.{id} = l.{id}",
            id = q("lead_id")
        )
    } else {
        String::new()
    };
    out.push_str(&format!(
        "lc_per_lead AS (\n  SELECT {}\n  FROM lc_leads l{join}\n  GROUP BY l.{}, l.{}, l.snap\n),\n",
        cols.join(",\n    "),
        q("lead_id"),
        q("created_at")
    ));
    let sum = |names: Vec<String>| {
        if names.is_empty() {
            d.number(0.0)
        } else {
            names.join(" + ")
        }
    };
    out.push_str(&format!(
        "lc_scored AS (\n  SELECT *, {} AS explicit_score, {} AS implicit_score\n  FROM lc_per_lead\n)\n",
        sum(explicit_names.iter().map(|n| q(n)).collect()),
        sum(implicit_names.iter().map(|(_, p)| q(p)).collect()),
    ));
    let score = "(explicit_score + implicit_score)";
    let mut band = String::from("CASE");
    for b in model.bands.iter().rev().filter(|b| b.from.is_finite()) {
        band.push_str(&format!(
            " WHEN {score} >= {} THEN {}",
            d.number(b.from),
            d.string(&b.name)
        ));
    }
    band.push_str(&format!(
        " ELSE {} END",
        d.string(model.bands.first().map_or("", |b| b.name.as_str()))
    ));
    let stage = format!(
        "CASE WHEN {score} >= {} THEN 'sql' WHEN {score} >= {} THEN 'mql' ELSE 'lead' END",
        d.number(model.sql),
        d.number(model.mql)
    );
    let mut final_cols = vec![
        q("lead_id"),
        q("created_at"),
        q("snapshot_at"),
        "explicit_score".to_string(),
        "implicit_score".to_string(),
        format!("{score} AS score"),
        format!("{band} AS band"),
        format!("{stage} AS stage"),
    ];
    final_cols.extend(explicit_names.iter().map(|n| q(n)));
    for (f, p) in &implicit_names {
        final_cols.push(q(f));
        final_cols.push(q(p));
    }
    let from = if o.with_events {
        final_cols = final_cols
            .into_iter()
            .map(|c| {
                if c.starts_with(&q("lead_id")) {
                    format!("s.{c}")
                } else {
                    c
                }
            })
            .collect();
        final_cols.extend([
            format!("{} AS lc_model", d.string(&model_fingerprint(model))),
            "last_event_at".into(),
            "lc_t".into(),
            "lc_mask".into(),
        ]);
        format!(
            "lc_scored s LEFT JOIN lc_lists ev ON ev.{id} = s.{id}",
            id = q("lead_id")
        )
    } else {
        "lc_scored".to_string()
    };
    out.push_str(&format!(
        "SELECT {}\nFROM {from}\nORDER BY 1\n",
        final_cols.join(",\n  "),
    ));
    Ok(out)
}
