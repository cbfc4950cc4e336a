//! Outcomes inside an activity log (Marketo's bulk activity export): the rows of the activity
//! types that change a stage ("Change Status in Progression", 104; "Change Data Value", 13),
//! with the new stage read from the row.
//!
//! Input: the outcomes [`TableSpec`] and its [`Activity`] (the type column, the types, the
//! JSON attributes column and the key that holds the new stage). Output: the log's
//! stage-change rows, each with its row index (so messages name the file's lines) and, when a
//! key is given, the new stage as the column [`STAGE`]. Guarantees: rows of other types are
//! not outcomes and are counted; a stage-change row whose attributes are not JSON, or lack
//! the key, is counted and gets no stage (an error row like an empty stage). The attributes
//! are read in both forms Marketo writes: an object (`{"New Status": "MQL"}`, the bulk export)
//! and a list of name/value pairs (the REST API).

use polars::prelude::*;
use rayon::prelude::*;

use super::problem::{Problem, Severity};
use super::scan::{Ctx, ROW, read_err};
use super::table::{Activity, TableSpec};
use crate::error::{Error, Result};
use crate::format::thousands;

/// The column the new stage is read into.
pub const STAGE: &str = "__activity_stage";

/// The stage-change rows of `lf`, with their row index and, with a `stage_key`, the stage.
pub(super) fn stage_changes(
    os: &TableSpec,
    a: &Activity,
    lf: LazyFrame,
    problems: &mut Vec<Problem>,
) -> Result<LazyFrame> {
    let types = Series::new(
        "types".into(),
        a.types
            .iter()
            .map(|t| t.trim().to_string())
            .collect::<Vec<_>>(),
    );
    let is_change = col(a.type_column.as_str())
        .cast(DataType::String)
        .str()
        .strip_chars(lit(NULL))
        .is_in(lit(types).implode(false), false)
        .fill_null(false);
    // "Change Data Value" (13) is a change of any field: only the listed fields are stages.
    let is_change = match &a.fields {
        Some((column, fields)) => {
            let fields = Series::new("fields".into(), fields.clone());
            is_change.and(
                col(column.as_str())
                    .cast(DataType::String)
                    .str()
                    .strip_chars(lit(NULL))
                    .is_in(lit(fields).implode(false), false)
                    .fill_null(false),
            )
        }
        None => is_change,
    };
    let df = lf
        .with_row_index(ROW, None)
        .with_column(is_change.alias("__change"))
        .collect()
        .map_err(read_err(os))?;
    let df = df
        .lazy()
        .filter(col("__change"))
        .drop(cols(["__change"]))
        .collect()
        .map_err(read_err(os))?;
    let mut ctx = Ctx { spec: os, problems };
    let changes = df.height() as u64;
    if changes == 0 {
        ctx.push(
            Severity::Error,
            "no-stage-changes",
            Some(&a.type_column),
            0,
            vec![],
            match &a.fields {
                None => format!(
                    "no row of `{}` has an activity type of activity.types ({}): the log holds no stage change",
                    a.type_column,
                    a.types.join(", ")
                ),
                Some((column, fields)) => format!(
                    "no row has an activity type of activity.types ({}) in `{}` together with a field of activity.fields ({}) in `{column}`: the log holds no such stage change",
                    a.types.join(", "),
                    a.type_column,
                    fields.join(", ")
                ),
            },
        );
    }
    let Some(key) = &a.stage_key else {
        return Ok(df.lazy());
    };
    let err = || Error::polars("reading the activities' attributes");
    let text = df
        .column(&a.attributes_column)
        .map_err(err())?
        .cast(&DataType::String)
        .map_err(err())?;
    let text = text.str().map_err(err())?;
    let values: Vec<Option<&str>> = text.iter().collect();
    let stages: Vec<Option<String>> = values
        .par_iter()
        .map(|v| v.and_then(|v| new_stage(v, key)))
        .collect();
    let missing = stages.iter().filter(|s| s.is_none()).count() as u64;
    let mut df = df;
    df.with_column(Column::new(STAGE.into(), stages))
        .map_err(err())?;
    if missing > 0 {
        // Reported here, once; the rows are left out so the outcomes' own empty-stage check
        // does not report them again under an internal column name.
        ctx.rows_problem(
            &df,
            col(STAGE).is_null(),
            Severity::Error,
            "no-stage-in-attributes",
            &a.attributes_column,
            None,
            &format!(
                "a stage change whose attributes hold no \"{key}\" (of {} stage changes)",
                thousands(changes)
            ),
        )?;
        return Ok(df.lazy().filter(col(STAGE).is_not_null()));
    }
    Ok(df.lazy())
}

/// The value of `key` in a Marketo attributes field: an object, or a list of
/// `{"name": …, "value": …}` pairs. Text as it is; numbers and booleans as written.
pub(super) fn new_stage(json: &str, key: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let found = match &v {
        serde_json::Value::Object(m) => m.get(key).cloned(),
        serde_json::Value::Array(items) => items
            .iter()
            .find_map(|i| (i.get("name")?.as_str()? == key).then(|| i.get("value").cloned())?),
        _ => None,
    }?;
    let s = match found {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => return None,
        other => other.to_string(),
    };
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_stage_is_read_from_both_forms() {
        let key = "New Status";
        assert_eq!(
            new_stage(r#"{"New Status":"MQL","Old Status":"Lead"}"#, key).as_deref(),
            Some("MQL")
        );
        assert_eq!(
            new_stage(
                r#"[{"name":"Old Status","value":"Lead"},{"name":"New Status","value":"SQL"}]"#,
                key
            )
            .as_deref(),
            Some("SQL")
        );
        assert_eq!(new_stage(r#"{"Old Status":"Lead"}"#, key), None);
        assert_eq!(new_stage("not json", key), None);
        assert_eq!(new_stage(r#"{"New Status":" "}"#, key), None);
    }
}
