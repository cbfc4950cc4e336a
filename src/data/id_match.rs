//! Ids that cannot match: when most rows of a table (outcomes, events) name no lead, the
//! dataset is refused with the two tables, the count, examples of each side and the likely
//! cause, instead of leaving every outcome out and reporting "no lead converted".
//!
//! Input: the count of rows with a non-empty id, how many of them match no lead, and a few
//! ids of each side. Output: an error [`Problem`] or nothing. Guarantees: the rule for
//! leading zeros is the one the readers apply (`docs/input-checks.md`): when every lead id is
//! a whole number, ids are compared as numbers in every table (`007` = `7`); otherwise as text,
//! trimmed of surrounding spaces (`007` ≠ `7`).

use polars::prelude::*;

use super::problem::{Problem, Severity};
use crate::error::{Error, Result};
use crate::format::thousands;

/// More than this share of a table's rows with an id naming no lead is an error.
pub const MAX_UNMATCHED_SHARE: f64 = 0.5;

/// How many ids of each side the message shows.
pub(super) const EXAMPLES: usize = 3;

/// What a check needs to know of one table.
pub(super) struct Unmatched<'a> {
    /// The table's file, as problems name it.
    pub file: String,
    /// `outcomes` or `events`.
    pub table: &'a str,
    /// The id column as the user named it.
    pub column: &'a str,
    /// Rows with a non-empty id.
    pub with_id: u64,
    /// Of those, rows whose id names no lead.
    pub unmatched: u64,
    /// A few of the ids that name no lead, as written.
    pub examples: Vec<String>,
    /// A few lead ids of the leads table, as leadcal holds them.
    pub lead_examples: Vec<String>,
    /// Whether the leads' ids are whole numbers (compared as numbers).
    pub int_ids: bool,
}

/// The error for a table most of whose ids name no lead, or `None`.
pub(super) fn check(u: &Unmatched) -> Option<Problem> {
    if u.with_id == 0 || (u.unmatched as f64) <= MAX_UNMATCHED_SHARE * u.with_id as f64 {
        return None;
    }
    let quote = |v: &[String]| {
        v.iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let message = format!(
        "{}: column `{}`: {} of {} {} row(s) ({:.0}%) name no lead of the leads table, so they cannot be used. {} ids: {}; lead ids: {}. {}",
        u.file,
        u.column,
        thousands(u.unmatched),
        thousands(u.with_id),
        u.table,
        100.0 * u.unmatched as f64 / u.with_id as f64,
        capitalise(u.table),
        quote(&u.examples),
        quote(&u.lead_examples),
        cause(&u.examples, &u.lead_examples, u.int_ids)
    );
    Some(Problem {
        severity: Severity::Error,
        code: "ids-do-not-match",
        file: u.file.clone(),
        column: Some(u.column.to_string()),
        rows_affected: u.unmatched,
        examples: u.examples.clone(),
        message,
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The letters (and separators) before the digits of `s`, when `s` is such a prefix
/// followed by digits only.
fn prefix(s: &str) -> Option<&str> {
    let at = s.find(|c: char| c.is_ascii_digit())?;
    (at > 0 && is_number(&s[at..])).then(|| &s[..at])
}

/// The start all of `ids` share, cut after its last character that is not a letter or digit
/// (`X-`, `SF_`); `None` when there is no such separator in the shared start.
fn common_prefix(ids: &[String]) -> Option<String> {
    let first = ids.first()?;
    if ids.len() < 2 {
        return None;
    }
    // Byte length of the shared start, counted in whole characters.
    let mut n = first.len();
    for s in &ids[1..] {
        n = n.min(
            first
                .char_indices()
                .zip(s.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, a), _)| i + a.len_utf8()),
        );
    }
    let shared = &first[..n];
    let (at, sep) = shared.char_indices().rfind(|(_, c)| !c.is_alphanumeric())?;
    Some(shared[..at + sep.len_utf8()].to_string())
}

fn padded(s: &str) -> bool {
    s.len() > 1 && s.starts_with('0') && is_number(s)
}

/// The likeliest reason the two sides' ids differ, in words.
pub(super) fn cause(others: &[String], leads: &[String], int_ids: bool) -> String {
    let all = |v: &[String], f: &dyn Fn(&str) -> bool| !v.is_empty() && v.iter().all(|s| f(s));
    if let Some(p) = others.first().and_then(|s| prefix(s))
        && all(others, &|s| prefix(s) == Some(p))
        && all(leads, &is_number)
    {
        return format!(
            "Likely cause: a prefix. These ids carry `{p}` before the number, the lead ids are plain numbers; export the same id in both tables (or remove the prefix)."
        );
    }
    if let Some(p) = leads.first().and_then(|s| prefix(s))
        && all(leads, &|s| prefix(s) == Some(p))
        && all(others, &is_number)
    {
        return format!(
            "Likely cause: a prefix. The lead ids carry `{p}` before the number, these ids are plain numbers; export the same id in both tables."
        );
    }
    if !int_ids && (all(leads, &padded) && all(others, &is_number) && !all(others, &padded)) {
        return "Likely cause: leading zeros. The lead ids are text written with leading zeros, these ids have none; text ids are compared as written (`007` is not `7`): export both with the same padding.".into();
    }
    if !int_ids && all(others, &padded) && !all(leads, &padded) {
        return "Likely cause: leading zeros. These ids are written with leading zeros and the lead ids are not; text ids are compared as written (`007` is not `7`): export both with the same padding.".into();
    }
    if int_ids && !others.iter().any(|s| is_number(s)) {
        return "Likely cause: integers against text. The lead ids are whole numbers, these ids are text: they look like ids of another kind (a contact, account or opportunity id, or another system's) — map the column that holds the lead's id.".into();
    }
    if !int_ids && all(others, &is_number) && !leads.iter().any(|s| is_number(s)) {
        return "Likely cause: integers against text. The lead ids are text, these ids are whole numbers: they look like ids of another kind — map the column that holds the lead's id.".into();
    }
    // A prefix before ids of any form (`X-009ff…`, `SF_12`): the examples' common start, up
    // to its last separator, that no lead id has.
    for (these, those, whose) in [
        (others, leads, "These ids"),
        (leads, others, "The lead ids"),
    ] {
        if let Some(p) = common_prefix(these)
            && !those.iter().any(|s| s.starts_with(&p))
        {
            let other = if whose == "These ids" {
                "the lead ids"
            } else {
                "these ids"
            };
            return format!(
                "Likely cause: a prefix. {whose} all start with `{p}`, {other} do not; export the same id in both tables (or remove the prefix)."
            );
        }
    }
    "Likely cause: ids of another kind or of another export (a contact, account or opportunity id, or a different period's leads); map the column that holds the lead's id.".into()
}

/// The smallest few distinct values of a one-column frame, as text (sorted, so the same
/// whatever order a join or a unique left the rows in).
pub(super) fn distinct_text(lf: LazyFrame, column: &str) -> Result<Vec<String>> {
    let df = lf
        .select([col(column).cast(DataType::String)])
        .unique(None, UniqueKeepStrategy::Any)
        .sort([column], Default::default())
        .limit(EXAMPLES as IdxSize)
        .collect()
        .map_err(Error::polars("taking example ids"))?;
    let c = df.columns().first().map(|c| c.cast(&DataType::String));
    Ok(match c {
        Some(Ok(c)) => c
            .str()
            .map(|s| s.iter().flatten().map(str::to_string).collect())
            .unwrap_or_default(),
        _ => vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn the_likely_cause_is_named_for_each_kind_of_mismatch() {
        let c = cause(&v(&["L0000007", "L0000012"]), &v(&["7", "12"]), true);
        assert!(c.contains("a prefix") && c.contains("`L`"), "{c}");
        let c = cause(&v(&["7", "12"]), &v(&["L0000007", "L0000012"]), false);
        assert!(
            c.contains("a prefix") && c.contains("lead ids carry `L`"),
            "{c}"
        );
        let c = cause(&v(&["7", "12"]), &v(&["007", "012"]), false);
        assert!(c.contains("leading zeros"), "{c}");
        let c = cause(&v(&["007", "012"]), &v(&["7", "x12"]), false);
        assert!(c.contains("leading zeros"), "{c}");
        let c = cause(
            &v(&["X-009ff", "X-1a2b", "X-77c"]),
            &v(&["009ff", "0a1b"]),
            false,
        );
        assert!(c.contains("These ids all start with `X-`"), "{c}");
        let c = cause(&v(&["abc-1", "def-2"]), &v(&["7", "12"]), true);
        assert!(c.contains("integers against text"), "{c}");
        let c = cause(&v(&["7", "12"]), &v(&["a7", "b12x"]), false);
        assert!(c.contains("integers against text"), "{c}");
    }

    #[test]
    fn half_of_the_rows_unmatched_is_still_allowed() {
        let u = |unmatched| Unmatched {
            file: "outcomes.csv".into(),
            table: "outcomes",
            column: "lead_id",
            with_id: 10,
            unmatched,
            examples: v(&["x"]),
            lead_examples: v(&["1"]),
            int_ids: true,
        };
        assert!(check(&u(5)).is_none());
        let p = check(&u(6)).unwrap();
        assert!(
            p.message.contains("6 of 10 outcomes row(s) (60%)"),
            "{}",
            p.message
        );
    }
}
