//! Reading back a JSON file leadcal saved (`report-data.json`, `metrics.json`,
//! `recommendation.json`), which a person may have edited or a copy may have damaged.
//!
//! Input: the file's path and text. Output: the parsed value, or an error naming the file and
//! the key (`distribution.edges[3]`) with what was expected. Guarantees: every number that
//! comes back is finite and of a size a run can hold ([`MAX_MAGNITUDE`]), and every share is
//! within 0..1, so no renderer meets a number that makes it loop, allocate or divide without
//! end; a wrong type names its key (serde_path_to_error), not only a line and column.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

/// No number a run saves is larger than this (counts, points, days, log-odds, shares).
pub const MAX_MAGNITUDE: f64 = 1e12;

/// Keys whose numbers are shares (0..1).
fn is_share(key: &str) -> bool {
    key.ends_with("share") || key == "precision" || key == "recall"
}

/// Parse `text` (the contents of `path`) as a `T`, checking every number first.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    let value = parse_value(path, text)?;
    serde_path_to_error::deserialize(value).map_err(|e| Error::Input {
        path: path.to_path_buf(),
        message: format!(
            "`{}`: {}; not a file of this leadcal version, or edited",
            e.path(),
            e.inner()
        ),
    })
}

/// Parse `text` as JSON and check every number (see the module header).
pub fn parse_value(path: &Path, text: &str) -> Result<Value> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json's message ends with its own "at line L column C"; the position is given
        // once, first.
        let what = e.to_string();
        let what = what.split(" at line ").next().unwrap_or(&what).to_string();
        Error::Input {
            path: path.to_path_buf(),
            message: format!(
                "line {}, column {}: not a leadcal run file: {what}",
                e.line(),
                e.column()
            ),
        }
    })?;
    check_numbers(&value, "", false).map_err(|message| Error::Input {
        path: path.to_path_buf(),
        message,
    })?;
    Ok(value)
}

/// The first number of `v` that no run holds, as a message naming its key.
fn check_numbers(v: &Value, at: &str, share: bool) -> std::result::Result<(), String> {
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::INFINITY);
            let key = if at.is_empty() { "(top)" } else { at };
            if !x.is_finite() || x.abs() > MAX_MAGNITUDE {
                return Err(format!(
                    "`{key}`: {n} is larger than any number a leadcal run holds (at most 1e12); the file was edited or damaged"
                ));
            }
            if share && !(0.0..=1.0).contains(&x) {
                return Err(format!(
                    "`{key}`: {n} is a share and must be within 0 and 1; the file was edited or damaged"
                ));
            }
            Ok(())
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| check_numbers(x, &format!("{at}[{i}]"), share)),
        Value::Object(o) => o.iter().try_for_each(|(k, x)| {
            let key = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            check_numbers(x, &key, is_share(k))
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)] // read only through Debug
    struct T {
        a: Vec<f64>,
        converted_share: Vec<f64>,
    }

    fn err(text: &str) -> String {
        parse::<T>(Path::new("x.json"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_damaged_number_or_type_names_its_key() {
        assert!(
            parse::<T>(
                Path::new("x.json"),
                r#"{"a":[1.5],"converted_share":[0.25]}"#
            )
            .is_ok()
        );
        let e = err(r#"{"a":[1e308],"converted_share":[]}"#);
        assert!(e.contains("`a[0]`: 1e+308 is larger"), "{e}");
        let e = err(r#"{"a":[],"converted_share":[2.0]}"#);
        assert!(e.contains("`converted_share[0]`: 2.0 is a share"), "{e}");
        let e = err(r#"{"a":["x"],"converted_share":[]}"#);
        assert!(e.contains("`a[0]`: invalid type: string"), "{e}");
        assert!(err(r#"{"a":[NaN]}"#).contains("line 1, column 7"));
        assert!(err("").contains("not a leadcal run file"));
    }
}
