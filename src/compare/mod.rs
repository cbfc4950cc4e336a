//! Review over review: what changed between two calibrate runs, from their saved files alone.
//!
//! Input: two run folders written by `leadcal calibrate` (their `metrics.json`,
//! `recommendation.json` and `report-data.json`; nothing is loaded, replayed or refitted).
//! Output: [`Comparison`] (`compare.json`, schema `leadcal.compare/1`, documented in
//! `docs/compare.md`), rendered by [`html`] into `compare.html`.
//! Guarantees: every number comes from the two runs' saved aggregates, so the comparison holds
//! no lead or account id and no group the runs did not show; a run that lacks a part (an older
//! version, a file removed) is compared where it can be, and `missing` says what could not be.

pub mod html;
pub mod missing;

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
pub use missing::Missing;
use missing::{Expected, NoLive, RulesError, Side};

/// One run as the comparison reads it.
struct Run {
    name: String,
    metrics: Option<Value>,
    recommendation: Option<Value>,
    report: Option<Value>,
    first_model: bool,
}

fn read(
    dir: &Path,
    file: &'static str,
    missing: &mut Vec<Missing>,
    side: Side,
) -> Result<Option<Value>> {
    let path = dir.join(file);
    if !path.is_file() {
        missing.push(Missing::NoFile { side, file });
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(Error::read(&path, "cannot read"))?;
    crate::saved::parse_value(&path, &text).map(Some)
}

impl Run {
    fn load(dir: &Path, which: Side, missing: &mut Vec<Missing>) -> Result<Run> {
        if !dir.is_dir() {
            return Err(Error::Input {
                path: dir.to_path_buf(),
                message: "not a folder; expected a run folder written by `leadcal calibrate`"
                    .into(),
            });
        }
        let mut run = Run {
            first_model: false,
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| dir.display().to_string()),
            metrics: read(dir, "metrics.json", missing, which)?,
            recommendation: read(dir, "recommendation.json", missing, which)?,
            report: read(dir, "report-data.json", missing, which)?,
        };
        if run.metrics.is_none() && run.recommendation.is_none() && run.report.is_none() {
            return Err(Error::Input {
                path: dir.to_path_buf(),
                message: "holds none of metrics.json, recommendation.json, report-data.json: not a run folder of `leadcal calibrate`".into(),
            });
        }
        run.first_model = first_model(dir, &run.recommendation, &run.metrics)?;
        Ok(run)
    }
}

/// A figure with its interval, as the runs saved it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figure {
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

fn figure(v: &Value) -> Figure {
    Figure {
        value: v.get("value").and_then(Value::as_f64),
        low: v.get("low").and_then(Value::as_f64),
        high: v.get("high").and_then(Value::as_f64),
    }
}

/// Whether a difference is larger than the two intervals allow.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Higher,
    Lower,
    /// The difference lies within what the two intervals allow.
    WithinIntervals,
    /// A figure or an interval is missing.
    Unknown,
}

/// z = Δ / √(se₁² + se₂²), each se read off its 95% interval as (high − low) / 3.92.
pub fn verdict(old: &Figure, new: &Figure) -> (Verdict, Option<f64>) {
    let se = |f: &Figure| Some((f.high? - f.low?) / (2.0 * crate::stats::z95()));
    let (Some(a), Some(b), Some(sa), Some(sb)) = (old.value, new.value, se(old), se(new)) else {
        return (Verdict::Unknown, None);
    };
    let d = (sa * sa + sb * sb).sqrt();
    if d <= 0.0 {
        return (Verdict::Unknown, None);
    }
    let z = (b - a) / d;
    let v = if z.abs() <= crate::stats::z95() {
        Verdict::WithinIntervals
    } else if z > 0.0 {
        Verdict::Higher
    } else {
        Verdict::Lower
    };
    (v, Some(z))
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub name: String,
    pub version: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub test_from: Option<String>,
    pub evaluable: Option<u64>,
    pub converted: Option<u64>,
    pub test_leads: Option<u64>,
    pub test_converted: Option<u64>,
    /// The run recommended a first model: its live score was the same for every lead (init's
    /// all-zero template, or rules that matched nothing), so it had no live figures.
    pub first_model: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct QualityRow {
    /// `recommended_roc_auc` (the recommendation's points on the test period), `live_roc_auc`,
    /// `sql_precision`, `sql_recall`, `sql_handovers_per_month`.
    pub figure: String,
    pub old: Figure,
    pub new: Figure,
    pub verdict: Verdict,
    pub z: Option<f64>,
}

/// How a rule's recommendation was taken up.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Adoption {
    /// Today's points are the recommended ones.
    Adopted,
    /// Moved from the old points towards the recommended ones, not all the way.
    PartlyAdopted,
    /// Still the old points.
    NotAdopted,
    /// Changed, but not towards the recommendation.
    ChangedOtherwise,
    /// Nothing was recommended for it, and nothing changed.
    Unchanged,
    /// The rule is not in the old run.
    New,
    /// The rule is no longer in the config.
    Removed,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleAdoption {
    pub rule: String,
    /// `implicit`, `explicit` or `threshold`.
    pub kind: String,
    pub old_current: Option<f64>,
    pub old_recommended: Option<f64>,
    pub new_current: Option<f64>,
    pub status: Adoption,
}

fn adoption_status(old_current: Option<f64>, old_rec: Option<f64>, now: Option<f64>) -> Adoption {
    match (old_current, old_rec, now) {
        (None, _, Some(_)) | (None, _, None) => Adoption::New,
        (Some(_), _, None) => Adoption::Removed,
        (Some(c), Some(r), Some(n)) => {
            if r == c {
                if n == c {
                    Adoption::Unchanged
                } else {
                    Adoption::ChangedOtherwise
                }
            } else if n == r {
                Adoption::Adopted
            } else if n == c {
                Adoption::NotAdopted
            } else if (n - c).signum() == (r - c).signum() && (n - c).abs() < (r - c).abs() {
                Adoption::PartlyAdopted
            } else {
                Adoption::ChangedOtherwise
            }
        }
        (Some(c), None, Some(n)) => {
            if n == c {
                Adoption::Unchanged
            } else {
                Adoption::ChangedOtherwise
            }
        }
    }
}

/// What the old back-test promised for the recommended config, against what the new run
/// measured for its live config (the same, when the recommendation was adopted).
#[derive(Debug, Clone, Serialize)]
pub struct PromiseRow {
    pub figure: String,
    pub promised: Figure,
    pub measured: Figure,
    pub verdict: Verdict,
    pub z: Option<f64>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    StillFlagged,
    NoLongerFlagged,
    NewlyFlagged,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentChange {
    pub group: String,
    pub status: Presence,
    pub old_rate: Option<f64>,
    pub new_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DriftChange {
    pub rule: String,
    pub old_detected: bool,
    pub new_detected: bool,
    pub new_since: Option<String>,
}

/// How much of the new run's test period the old run's written points were fitted on.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum FitOverlap {
    /// The test period begins after the old run's last lead: measured fairly.
    None,
    /// It begins inside the old data and ends after it.
    Part,
    /// It lies wholly inside the old data.
    Whole,
}

/// `compare.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub schema: &'static str,
    pub old: RunSummary,
    pub new: RunSummary,
    /// Whether the two runs' lead windows overlap, and the shared part.
    pub windows_overlap: Option<bool>,
    /// The old run was a first model and the new one has a live score: the first review of the
    /// model it recommended. There is no live quality "then"; the promise is what counts.
    pub first_review: bool,
    /// How much of the new run's test period lies within the leads the old run's written points
    /// were fitted on (created up to its last lead): there, "measured" is in-sample and flatters
    /// them.
    pub measured_in_fit: Option<FitOverlap>,
    pub quality: Vec<QualityRow>,
    pub adoption: Vec<RuleAdoption>,
    /// Filled when at least one change was adopted (fully or partly).
    pub promised_vs_measured: Vec<PromiseRow>,
    pub segments: Vec<SegmentChange>,
    /// Rules whose drift verdict differs between the runs.
    pub drift: Vec<DriftChange>,
    /// What could not be compared, and why.
    pub missing: Vec<Missing>,
    /// Display names for raw names, from the newer run's report-data.json (the older run's
    /// when the newer has none), so that the page uses the words the report does.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}

fn at<'a>(v: &'a Option<Value>, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v.as_ref()?;
    for p in path {
        cur = cur.get(p)?;
    }
    Some(cur)
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(|s| s.get(..10).unwrap_or(s).to_string())
}

fn summary(r: &Run) -> RunSummary {
    let m = &r.metrics;
    RunSummary {
        name: r.name.clone(),
        version: at(m, &["tool", "version"])
            .and_then(Value::as_str)
            .map(String::from),
        since: text(at(m, &["window", "since"])),
        // The last lead created (what "leads created" means); older runs saved only `until`.
        until: text(
            at(m, &["window", "last_created"])
                .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                .or_else(|| at(m, &["window", "until"])),
        ),
        test_from: text(at(m, &["split", "test_from"])),
        evaluable: at(m, &["labels", "evaluable"]).and_then(Value::as_u64),
        converted: at(m, &["labels", "converted"]).and_then(Value::as_u64),
        test_leads: at(m, &["split", "test_leads"]).and_then(Value::as_u64),
        test_converted: at(m, &["split", "test_converted"]).and_then(Value::as_u64),
        first_model: r.first_model,
    }
}

/// Whether a run recommended a first model: its recommendation.json says so, or its live score
/// was the same for every test lead (ROC AUC 0.5 with no spread: a constant score), which holds
/// for runs that did not write the key too. A `first_model` that is not an object is an error.
fn first_model(dir: &Path, rec: &Option<Value>, metrics: &Option<Value>) -> Result<bool> {
    let said = match at(rec, &["first_model"]) {
        None | Some(Value::Null) => false,
        Some(Value::Object(_)) => true,
        Some(other) => {
            return Err(Error::Input {
                path: dir.join("recommendation.json"),
                message: format!(
                    "key `first_model`: expected an object (as calibrate writes it) or no key, found {other}"
                ),
            });
        }
    };
    let auc = |k: &str| at(metrics, &["test", "live", "roc_auc", k]).and_then(Value::as_f64);
    let constant = auc("value") == Some(0.5) && auc("low") == Some(0.5) && auc("high") == Some(0.5);
    Ok(said || constant)
}

fn stage_metrics<'a>(m: &'a Option<Value>, stage: &str) -> Option<&'a Value> {
    at(m, &["test", "thresholds"])?
        .as_array()?
        .iter()
        .find(|t| t.get("stage").and_then(Value::as_str) == Some(stage))
}

fn sql_metrics(m: &Option<Value>) -> Option<&Value> {
    stage_metrics(m, "sql")
}

/// Rules' points as (kind, name, current, recommended); the error names the key that is not
/// what a run writes.
fn rules(
    rec: &Option<Value>,
    side: Side,
) -> std::result::Result<Vec<(String, String, f64, f64)>, RulesError> {
    let bad = |key: String, expected: Expected| RulesError::Bad {
        side,
        key,
        expected,
    };
    let w = at(rec, &["weights"]).ok_or(RulesError::NoWeights(side))?;
    let mut out = Vec::new();
    for kind in ["implicit", "explicit"] {
        let list = w
            .get(kind)
            .and_then(Value::as_array)
            .ok_or_else(|| bad(format!("weights.{kind}"), Expected::List))?;
        for (i, r) in list.iter().enumerate() {
            let field = |f: &str| format!("weights.{kind}[{i}].{f}");
            let num = |f: &str| {
                r.get(f)
                    .and_then(Value::as_f64)
                    .ok_or_else(|| bad(field(f), Expected::Number))
            };
            out.push((
                kind.to_string(),
                r.get("rule")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(field("rule"), Expected::Text))?
                    .to_string(),
                num("current")?,
                num("recommended")?,
            ));
        }
    }
    Ok(out)
}

/// Compare the runs in `old_dir` and `new_dir`.
pub fn compare(old_dir: &Path, new_dir: &Path) -> Result<Comparison> {
    let mut missing = Vec::new();
    if let (Ok(a), Ok(b)) = (old_dir.canonicalize(), new_dir.canonicalize())
        && a == b
    {
        return Err(Error::Input {
            path: new_dir.to_path_buf(),
            message: "is the same run folder as the old run: compare needs two different runs (an earlier review and a later one)".into(),
        });
    }
    let old = Run::load(old_dir, Side::Old, &mut missing)?;
    let new = Run::load(new_dir, Side::New, &mut missing)?;
    let (so, sn) = (summary(&old), summary(&new));
    let windows_overlap = match (&so.since, &so.until, &sn.since, &sn.until) {
        (Some(a0), Some(a1), Some(b0), Some(b1)) => Some(a0 <= b1 && b0 <= a1),
        _ => None,
    };
    // A first model's run had a constant live score: its ROC AUC of 0.5 and its empty hand-over
    // are not a quality "then" that the next run improved on, so they are not compared.
    let first_review = so.first_model && !sn.first_model;
    let no_live = match (so.first_model, sn.first_model) {
        (true, true) => Some(NoLive::Both),
        (true, false) => Some(NoLive::Old),
        (false, true) => Some(NoLive::New),
        (false, false) => None,
    };
    let measured_in_fit = match (&so.until, &sn.test_from, &sn.until) {
        (Some(fit_end), Some(from), Some(end)) => Some(if from > fit_end {
            FitOverlap::None
        } else if end <= fit_end {
            FitOverlap::Whole
        } else {
            FitOverlap::Part
        }),
        _ => None,
    };
    // Live-score quality on each run's own test period.
    let mut quality = Vec::new();
    let pairs: [(&str, Option<&Value>, Option<&Value>); 5] = [
        (
            "recommended_roc_auc",
            at(&old.recommendation, &["ranking", "recommended", "roc_auc"]),
            at(&new.recommendation, &["ranking", "recommended", "roc_auc"]),
        ),
        (
            "live_roc_auc",
            at(&old.metrics, &["test", "live", "roc_auc"]),
            at(&new.metrics, &["test", "live", "roc_auc"]),
        ),
        (
            "sql_precision",
            sql_metrics(&old.metrics).and_then(|t| t.get("precision")),
            sql_metrics(&new.metrics).and_then(|t| t.get("precision")),
        ),
        (
            "sql_recall",
            sql_metrics(&old.metrics).and_then(|t| t.get("recall")),
            sql_metrics(&new.metrics).and_then(|t| t.get("recall")),
        ),
        (
            "sql_handovers_per_month",
            sql_metrics(&old.metrics).and_then(|t| t.get("handovers_per_month")),
            sql_metrics(&new.metrics).and_then(|t| t.get("handovers_per_month")),
        ),
    ];
    for (name, a, b) in pairs {
        if name != "recommended_roc_auc" && no_live.is_some() {
            continue;
        }
        match (a, b) {
            (Some(a), Some(b)) => {
                let (oa, nb) = (figure(a), figure(b));
                let (verdict, z) = verdict(&oa, &nb);
                quality.push(QualityRow {
                    figure: name.into(),
                    old: oa,
                    new: nb,
                    verdict,
                    z,
                });
            }
            _ => missing.push(Missing::Figure {
                name,
                in_recommendation: name == "recommended_roc_auc",
            }),
        }
    }
    if let Some(which) = no_live {
        missing.push(Missing::NoLiveScore(which));
    }
    // What was adopted: the old run's recommendation against the new run's current config.
    let mut adoption = Vec::new();
    let rules_of_both = if sn.first_model {
        Err(RulesError::NewIsFirstModel)
    } else {
        rules(&old.recommendation, Side::Old)
            .and_then(|o| Ok((o, rules(&new.recommendation, Side::New)?)))
    };
    match rules_of_both {
        Ok((o, n)) => {
            for (kind, name, cur, rec) in &o {
                let now = n.iter().find(|r| &r.0 == kind && &r.1 == name).map(|r| r.2);
                adoption.push(RuleAdoption {
                    rule: name.clone(),
                    kind: kind.clone(),
                    old_current: Some(*cur),
                    old_recommended: Some(*rec),
                    new_current: now,
                    status: adoption_status(Some(*cur), Some(*rec), now),
                });
            }
            for (kind, name, cur, _) in &n {
                if !o.iter().any(|r| &r.0 == kind && &r.1 == name) {
                    adoption.push(RuleAdoption {
                        rule: name.clone(),
                        kind: kind.clone(),
                        old_current: None,
                        old_recommended: None,
                        new_current: Some(*cur),
                        status: Adoption::New,
                    });
                }
            }
            for (stage, name) in [("mql", "MQL threshold"), ("sql", "SQL threshold")] {
                let threshold = |m: &Option<Value>| {
                    stage_metrics(m, stage)
                        .and_then(|t| t.get("threshold"))
                        .and_then(Value::as_f64)
                };
                let recommended = at(&old.recommendation, &[stage]).and_then(Value::as_f64);
                if recommended.is_none() && at(&old.recommendation, &[stage]).is_some() {
                    missing.push(Missing::Threshold { name, key: stage });
                }
                let (oc, nc) = (threshold(&old.metrics), threshold(&new.metrics));
                if oc.is_some() && nc.is_some() {
                    adoption.push(RuleAdoption {
                        rule: name.into(),
                        kind: "threshold".into(),
                        old_current: oc,
                        old_recommended: recommended,
                        new_current: nc,
                        status: adoption_status(oc, recommended, nc),
                    });
                }
            }
        }
        Err(why) => missing.push(Missing::Adoption(why)),
    }
    // For adopted changes: what the old back-test promised against what the new run measured.
    let mut promised_vs_measured = Vec::new();
    let adopted = adoption
        .iter()
        .any(|a| matches!(a.status, Adoption::Adopted | Adoption::PartlyAdopted));
    if adopted {
        // Ranking first: the old run's out-of-time ROC AUC for its recommended points against
        // the new run's live ROC AUC, each on its own test period.
        if let (Some(a), Some(b)) = (
            at(&old.recommendation, &["ranking", "recommended", "roc_auc"]),
            at(&new.metrics, &["test", "live", "roc_auc"]),
        ) {
            let (pa, mb) = (figure(a), figure(b));
            let (verdict, z) = verdict(&pa, &mb);
            promised_vs_measured.push(PromiseRow {
                figure: "roc_auc".into(),
                promised: pa,
                measured: mb,
                verdict,
                z,
            });
        }
        let promised = at(&old.recommendation, &["recommended"]);
        let measured = sql_metrics(&new.metrics);
        match (promised, measured) {
            (Some(p), Some(m)) => {
                for f in ["precision", "recall", "handovers_per_month"] {
                    if let (Some(a), Some(b)) = (p.get(f), m.get(f)) {
                        let (pa, mb) = (figure(a), figure(b));
                        let (verdict, z) = verdict(&pa, &mb);
                        promised_vs_measured.push(PromiseRow {
                            figure: format!("sql_{f}"),
                            promised: pa,
                            measured: mb,
                            verdict,
                            z,
                        });
                    }
                }
            }
            _ => missing.push(Missing::Promise),
        }
    }
    // Segments flagged then and now.
    let worst = |r: &Option<Value>| -> Option<Vec<(String, f64)>> {
        at(r, &["segments", "worst"])?
            .as_array()?
            .iter()
            .map(|g| {
                let label = g
                    .get("values")?
                    .as_array()?
                    .iter()
                    .map(|p| Some(format!("{}={}", p.get(0)?.as_str()?, p.get(1)?.as_str()?)))
                    .collect::<Option<Vec<_>>>()?
                    .join(" & ");
                Some((label, g.get("rate")?.as_f64()?))
            })
            .collect()
    };
    let mut segments = Vec::new();
    match (worst(&old.report), worst(&new.report)) {
        (Some(o), Some(n)) => {
            for (g, r) in &o {
                let now = n.iter().find(|x| &x.0 == g).map(|x| x.1);
                segments.push(SegmentChange {
                    group: g.clone(),
                    status: if now.is_some() {
                        Presence::StillFlagged
                    } else {
                        Presence::NoLongerFlagged
                    },
                    old_rate: Some(*r),
                    new_rate: now,
                });
            }
            for (g, r) in &n {
                if !o.iter().any(|x| &x.0 == g) {
                    segments.push(SegmentChange {
                        group: g.clone(),
                        status: Presence::NewlyFlagged,
                        old_rate: None,
                        new_rate: Some(*r),
                    });
                }
            }
        }
        _ => missing.push(Missing::Segments),
    }
    // Rules whose drift status changed.
    let stability = |m: &Option<Value>| -> Option<Vec<(String, bool, Option<String>)>> {
        at(m, &["rule_stability"])?
            .as_array()?
            .iter()
            .map(|r| {
                let d = r.get("drift")?;
                Some((
                    r.get("rule")?.as_str()?.to_string(),
                    d.get("detected")?.as_bool()?,
                    d.get("since").and_then(Value::as_str).map(String::from),
                ))
            })
            .collect()
    };
    let mut drift = Vec::new();
    match (stability(&old.metrics), stability(&new.metrics)) {
        (Some(o), Some(n)) => {
            for (rule, now, since) in &n {
                let then = o.iter().find(|x| &x.0 == rule).is_some_and(|x| x.1);
                if then != *now {
                    drift.push(DriftChange {
                        rule: rule.clone(),
                        old_detected: then,
                        new_detected: *now,
                        new_since: since.clone(),
                    });
                }
            }
        }
        _ => missing.push(Missing::Drift),
    }
    Ok(Comparison {
        schema: "leadcal.compare/1",
        old: so,
        new: sn,
        windows_overlap,
        first_review,
        measured_in_fit,
        quality,
        adoption,
        promised_vs_measured,
        segments,
        drift,
        missing,
        labels: run_labels(&new.report)
            .or_else(|| run_labels(&old.report))
            .unwrap_or_default(),
    })
}

/// A run's display labels (`labels` in report-data.json), when it has any.
fn run_labels(report: &Option<Value>) -> Option<std::collections::BTreeMap<String, String>> {
    let labels: std::collections::BTreeMap<String, String> = at(report, &["labels"])?
        .as_object()?
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    (!labels.is_empty()).then_some(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adoption_is_told_from_the_three_numbers() {
        assert_eq!(
            adoption_status(Some(3.0), Some(8.0), Some(8.0)),
            Adoption::Adopted
        );
        assert_eq!(
            adoption_status(Some(3.0), Some(8.0), Some(5.0)),
            Adoption::PartlyAdopted
        );
        assert_eq!(
            adoption_status(Some(3.0), Some(8.0), Some(3.0)),
            Adoption::NotAdopted
        );
        assert_eq!(
            adoption_status(Some(3.0), Some(8.0), Some(1.0)),
            Adoption::ChangedOtherwise
        );
        assert_eq!(
            adoption_status(Some(3.0), Some(3.0), Some(3.0)),
            Adoption::Unchanged
        );
        assert_eq!(adoption_status(None, None, Some(3.0)), Adoption::New);
        assert_eq!(
            adoption_status(Some(3.0), Some(8.0), None),
            Adoption::Removed
        );
    }

    #[test]
    fn a_difference_beyond_the_intervals_is_called() {
        let f = |v: f64, h: f64| Figure {
            value: Some(v),
            low: Some(v - h),
            high: Some(v + h),
        };
        assert_eq!(verdict(&f(0.60, 0.03), &f(0.70, 0.03)).0, Verdict::Higher);
        assert_eq!(
            verdict(&f(0.60, 0.05), &f(0.63, 0.05)).0,
            Verdict::WithinIntervals
        );
        assert_eq!(
            verdict(
                &f(0.60, 0.03),
                &Figure {
                    value: Some(0.5),
                    low: None,
                    high: None
                }
            )
            .0,
            Verdict::Unknown
        );
    }
}
