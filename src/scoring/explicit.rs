//! Explicit (profile) points: one column per rule and the explicit score, from lead attributes.
//!
//! Input: leads with their attribute columns. Output: the same rows with `explicit_score` and
//! one `pts:<rule name>` column per explicit rule; or only whether each rule matches. Guarantees: a null attribute matches only
//! `missing` rules; values compare as text; ranges are `min <= x < below` on the numeric value.

use polars::prelude::*;

use super::config::{Condition, ExplicitRule, ScoringModel};

/// Column holding one rule's points.
pub fn points_column(rule: &str) -> String {
    format!("pts:{rule}")
}

fn condition(rule: &ExplicitRule) -> Expr {
    let c = col(rule.attribute.as_str());
    match &rule.condition {
        Condition::OneOf(values) => {
            let set = Series::new("values".into(), values.clone());
            c.cast(DataType::String)
                .is_in(lit(set).implode(false), false)
                .fill_null(false)
        }
        Condition::Range { min, below } => {
            let x = c.cast(DataType::Float64);
            let mut e = x.clone().is_not_null();
            if let Some(m) = min {
                e = e.and(x.clone().gt_eq(lit(*m)));
            }
            if let Some(b) = below {
                e = e.and(x.lt(lit(*b)));
            }
            e.fill_null(false)
        }
        Condition::Missing => c.is_null(),
    }
}

/// Whether each explicit rule matches each lead: one boolean column per rule, in the model's
/// order (named `hit:<index>`: rule names need not be unique), and nothing else.
pub fn explicit_hits(leads: LazyFrame, model: &ScoringModel) -> LazyFrame {
    leads.select(
        model
            .explicit
            .iter()
            .enumerate()
            .map(|(k, r)| condition(r).alias(format!("hit:{k}")))
            .collect::<Vec<_>>(),
    )
}

/// Add `pts:<rule>` per explicit rule and `explicit_score` (their sum; 0 without rules).
pub fn with_explicit_points(leads: LazyFrame, model: &ScoringModel) -> LazyFrame {
    let cols: Vec<Expr> = model
        .explicit
        .iter()
        .map(|r| {
            when(condition(r))
                .then(lit(r.points))
                .otherwise(lit(0.0))
                .alias(points_column(&r.name))
        })
        .collect();
    let total = model
        .explicit
        .iter()
        .map(|r| col(points_column(&r.name)))
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0.0));
    leads
        .with_columns(cols)
        .with_column(total.alias("explicit_score"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn explicit_points_follow_values_ranges_and_missing() {
        let model = ScoringModel::parse(
            r#"
[thresholds]
mql = 40
sql = 80
[[explicit]]
attribute = "job_level"
values = [{ in = ["VP", "C-Level"], points = 15 }, { equals = "Student", points = -20 }]
missing = -1
[[explicit]]
attribute = "company_size"
ranges = [{ min = 50, below = 200, points = 5 }, { min = 200, points = 8 }]
[[explicit]]
attribute = "budget"
values = [{ equals = true, points = 10 }]
[[explicit]]
attribute = "region"
values = [{ equals = "NA", points = 2 }]
"#,
            Path::new("m.toml"),
        )
        .unwrap();
        let leads = df!(
            "job_level" => [Some("VP"), Some("Student"), None, Some("Manager")],
            "company_size" => [Some(50i64), Some(199), Some(200), None],
            "budget" => [Some(true), Some(false), None, Some(true)],
            "region" => ["NA", "DACH", "NA", "APAC"],
        )
        .unwrap();
        let out = with_explicit_points(leads.lazy(), &model)
            .collect()
            .unwrap();
        let s: Vec<f64> = out
            .column("explicit_score")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        // VP 15 + 50..200 5 + budget 10 + NA 2; Student -20 + 5; missing -1 + 8 + NA 2; budget 10.
        assert_eq!(s, vec![32.0, -15.0, 9.0, 10.0]);
        let vp = out
            .column("pts:job_level in [VP, C-Level]")
            .unwrap()
            .f64()
            .unwrap()
            .get(0);
        assert_eq!(vp, Some(15.0));
    }
}
