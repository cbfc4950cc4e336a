//! A scoring template for `leadcal init`: every event type and every attribute of a dataset as
//! a rule with 0 points, so the user types in the points their live system gives.
//!
//! Input: a loaded [`Dataset`]. Output: TOML in the live model's format
//! (`docs/scoring-model.md`) that loads as a model. Guarantees: each rule carries a comment
//! with how often it occurs; a text attribute with more than [`MAX_VALUES`] values is named but
//! not listed (it is likely free text); personal columns never reach it (the loader leaves them
//! out).

use polars::prelude::*;

use crate::data::{AttributeKind, Dataset};
use crate::error::{Error, Result};
use crate::format::thousands;

/// Text attributes with more distinct values than this are not listed value by value.
pub const MAX_VALUES: usize = 30;

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The template's text.
pub fn template(ds: &Dataset) -> Result<String> {
    let mut s = String::from(
        "# Written by `leadcal init`: every event type and attribute of the data as a rule with\n\
         # 0 points. Type in the points your live system gives (delete rules it does not have),\n\
         # and its thresholds; then `leadcal calibrate --model this-file`. Format:\n\
         # docs/scoring-model.md.\n\n\
         name = \"live model (from leadcal init)\"\n\n\
         # Your live MQL and SQL thresholds (mql below sql).\n\
         [thresholds]\nmql = 40\nsql = 80\n\n\
         [[band]]\nname = \"cold\"\n\n[[band]]\nname = \"warm\"\nfrom = 40\n\n[[band]]\nname = \"hot\"\nfrom = 80\n\n\
         # If your points expire or fade: [decay] window_days = 365, or half_life_days = 90.\n\n\
         # ---- Explicit (profile) points -----------------------------------------------------\n",
    );
    for a in &ds.attributes {
        let c = ds
            .leads
            .column(&a.name)
            .map_err(Error::polars("reading attributes"))?;
        s.push('\n');
        match a.kind {
            AttributeKind::Integer | AttributeKind::Float => {
                let v: Vec<f64> = c
                    .cast(&DataType::Float64)
                    .map_err(Error::polars("reading attributes"))?
                    .f64()
                    .map_err(Error::polars("reading attributes"))?
                    .iter()
                    .flatten()
                    .filter(|x| x.is_finite())
                    .collect();
                let edges = split(&v);
                s.push_str(&format!(
                    "# {}: numbers from {} to {} ({} leads); ranges at the quintiles.\n[[explicit]]\nattribute = {}\nranges = [\n",
                    a.name,
                    number(v.iter().copied().fold(f64::INFINITY, f64::min)),
                    number(v.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
                    thousands(a.non_null),
                    quoted(&a.name)
                ));
                let bounds: Vec<(Option<f64>, Option<f64>)> = std::iter::once(None)
                    .chain(edges.iter().map(|e| Some(*e)))
                    .zip(edges.iter().map(|e| Some(*e)).chain(std::iter::once(None)))
                    .collect();
                for (min, below) in bounds {
                    let mut r = Vec::new();
                    if let Some(m) = min {
                        r.push(format!("min = {}", number(m)));
                    }
                    if let Some(b) = below {
                        r.push(format!("below = {}", number(b)));
                    }
                    r.push("points = 0".into());
                    s.push_str(&format!("  {{ {} }},\n", r.join(", ")));
                }
                s.push_str("]\n");
            }
            AttributeKind::Bool | AttributeKind::Text => {
                let counts = value_counts(c)?;
                if counts.len() > MAX_VALUES {
                    s.push_str(&format!(
                        "# {}: {} distinct values (free text?); give a rule by hand if your system scores it.\n",
                        a.name,
                        thousands(counts.len() as u64)
                    ));
                    continue;
                }
                s.push_str(&format!(
                    "# {}: {} leads.\n[[explicit]]\nattribute = {}\nvalues = [\n",
                    a.name,
                    thousands(a.non_null),
                    quoted(&a.name)
                ));
                for (v, n) in &counts {
                    let value = match a.kind {
                        AttributeKind::Bool => v.clone(),
                        _ => quoted(v),
                    };
                    s.push_str(&format!(
                        "  {{ equals = {value}, points = 0 }},   # {} leads\n",
                        thousands(*n)
                    ));
                }
                s.push_str("]\n");
            }
        }
    }
    s.push_str(
        "\n# ---- Implicit (behaviour) points: per event -------------------------------------\n",
    );
    // A code the dataset names no name for is written as it is, with how to name it: a rule
    // written with the raw code stops matching once dataset.toml names the code.
    let codes = ds
        .spec
        .events
        .as_ref()
        .and_then(|e| e.codes.get("event_type"));
    for t in &ds.report.event_types {
        let unnamed = codes.is_some_and(|m| !m.values().any(|n| *n == t.value));
        s.push_str(&format!(
            "\n[[implicit]]\nevent_type = {}\npoints = 0   # {} events{}\n",
            quoted(&t.value),
            thousands(t.count),
            if unnamed {
                format!(
                    "; a code with no name: name it first in dataset.toml ([events.codes.event_type] {} = \"...\") and use that name here",
                    quoted(&t.value)
                )
            } else {
                String::new()
            }
        ));
    }
    Ok(s)
}

/// The `[labels]` section `init` appends to `dataset.toml`: every attribute, the values of
/// each text attribute with at most [`MAX_VALUES`] of them, every event type and outcome stage,
/// each labelled with its raw name for the user to overwrite with the meeting's word. A name
/// that occurs twice (a value of two columns) is written once: TOML keys are unique.
pub fn labels(ds: &Dataset) -> Result<String> {
    let mut s = String::from(
        "\n# ---- Display names for the report -------------------------------------------------\n\
         # The report and its charts show each raw name on the left as the word on its right.\n\
         # Write the words your meeting uses (job_level = \"Position\", \"Trade Show\" = \"Messe\");\n\
         # the JSON files keep the raw names. A line left as it is changes nothing.\n[labels]\n",
    );
    let mut seen = std::collections::BTreeSet::new();
    let mut group = |s: &mut String, title: String, names: Vec<String>| {
        let new: Vec<String> = names
            .into_iter()
            .filter(|n| seen.insert(n.clone()))
            .collect();
        if !new.is_empty() {
            s.push_str(&format!("# {title}\n"));
            for n in new {
                s.push_str(&format!("{} = {}\n", quoted(&n), quoted(&n)));
            }
        }
    };
    group(
        &mut s,
        "columns".into(),
        ds.attributes.iter().map(|a| a.name.clone()).collect(),
    );
    for a in ds
        .attributes
        .iter()
        .filter(|a| a.kind == AttributeKind::Text)
    {
        let c = ds
            .leads
            .column(&a.name)
            .map_err(Error::polars("reading attributes"))?;
        let counts = value_counts(c)?;
        if counts.len() <= MAX_VALUES {
            group(
                &mut s,
                format!("values of {}", a.name),
                counts.into_iter().map(|(v, _)| v).collect(),
            );
        }
    }
    if ds.attributes.iter().any(|a| a.kind == AttributeKind::Bool) {
        group(
            &mut s,
            "values of yes/no columns".into(),
            vec!["true".into(), "false".into()],
        );
    }
    group(
        &mut s,
        "event types".into(),
        ds.report
            .event_types
            .iter()
            .map(|t| t.value.clone())
            .collect(),
    );
    group(
        &mut s,
        "outcome stages".into(),
        ds.report.stages.iter().map(|t| t.value.clone()).collect(),
    );
    Ok(s)
}

/// Distinct values with their counts, most frequent first (ties by value).
fn value_counts(c: &Column) -> Result<Vec<(String, u64)>> {
    let s = c
        .cast(&DataType::String)
        .map_err(Error::polars("reading attributes"))?;
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    for v in s
        .str()
        .map_err(Error::polars("reading attributes"))?
        .iter()
        .flatten()
    {
        *counts.entry(v.to_string()).or_default() += 1;
    }
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(v)
}

/// The distinct quintile edges of `v` (at most four), rounded to 2 significant places.
fn split(v: &[f64]) -> Vec<f64> {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return Vec::new();
    }
    let mut edges: Vec<f64> = (1..5)
        .map(|k| round2(sorted[(k * (sorted.len() - 1)) / 5]))
        .filter(|e| *e > sorted[0])
        .collect();
    edges.dedup();
    edges
}

/// `x` to two significant places, with no binary noise: `999999.99` gives `1000000`, not
/// `999999.9999999999` (a division by 1e-4 is not exact; a multiplication by 10^4 is).
fn round2(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let decimals = 1 - x.abs().log10().floor() as i32;
    if decimals > 0 {
        format!("{x:.*}", decimals as usize).parse().unwrap_or(x)
    } else {
        let p = 10f64.powi(-decimals);
        (x / p).round() * p
    }
}

fn number(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_have_no_float_noise() {
        for (x, want) in [
            (999_999.99, "1000000"),
            (0.000123, "0.00012"),
            (0.29, "0.29"),
            (12_345.0, "12000"),
        ] {
            assert_eq!(super::number(super::round2(x)), want, "{x}");
        }
    }
}
