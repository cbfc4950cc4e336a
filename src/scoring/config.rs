//! The scoring-model format: raw TOML structs (unknown keys rejected with their line) turned
//! into a checked [`ScoringModel`] that the rest of the crate uses. The reference is
//! `docs/scoring-model.md`; `notebooks-data/demo/scoring.toml` is a fully annotated example.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// The largest number of points (either sign) a rule, cap, threshold or band start may have:
/// far beyond any points model in use, and small enough that a lead's sum over millions of
/// events stays a finite number.
pub const MAX_POINTS: f64 = 1_000_000.0;

/// The longest window or half-life, in days (100 years).
pub const MAX_DAYS: f64 = 36_500.0;

/// At most this many implicit (behaviour) rules: an event's rules are the bits of one `u64`.
pub const MAX_IMPLICIT_RULES: usize = 64;

/// A scoring model that cannot be used, with where it is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}{}{message}", path.display(), line_part(*line), key_prefix(key))]
pub struct ModelError {
    pub path: PathBuf,
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl crate::error::StageError for ModelError {
    fn status(&self) -> crate::error::ExitStatus {
        crate::error::ExitStatus::User
    }
}

impl From<ModelError> for crate::error::Error {
    fn from(e: ModelError) -> Self {
        crate::error::Error::Stage(Box::new(e))
    }
}

// ---- raw -------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    thresholds: Option<Spanned<RawThresholds>>,
    #[serde(default)]
    band: Vec<Spanned<RawBand>>,
    decay: Option<RawDecay>,
    account: Option<Spanned<RawAccount>>,
    #[serde(default)]
    explicit: Vec<Spanned<RawExplicit>>,
    #[serde(default)]
    implicit: Vec<Spanned<RawImplicit>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    mql: Spanned<f64>,
    sql: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    name: String,
    from: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecay {
    window_days: Option<Spanned<f64>>,
    half_life_days: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    aggregate: Spanned<String>,
    top_n: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExplicit {
    attribute: Spanned<String>,
    group: Option<String>,
    #[serde(default)]
    values: Vec<Spanned<RawValue>>,
    #[serde(default)]
    ranges: Vec<Spanned<RawRange>>,
    missing: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValue {
    equals: Option<toml::Value>,
    #[serde(rename = "in")]
    in_: Option<Vec<toml::Value>>,
    points: Spanned<f64>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    min: Option<f64>,
    below: Option<f64>,
    points: Spanned<f64>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImplicit {
    name: Option<String>,
    event_type: Spanned<String>,
    topic: Option<OneOrMany>,
    asset_id: Option<OneOrMany>,
    channel: Option<OneOrMany>,
    points: Option<Spanned<f64>>,
    progressive: Option<Spanned<Vec<f64>>>,
    cap: Option<Spanned<f64>>,
    group: Option<String>,
    window_days: Option<Spanned<f64>>,
    half_life_days: Option<Spanned<f64>>,
    no_decay: Option<bool>,
}

// ---- checked ---------------------------------------------------------------------------

/// How old points lose their value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decay {
    None,
    /// Points of events older than this many days no longer count.
    Window {
        days: f64,
    },
    /// Points halve every this many days.
    HalfLife {
        days: f64,
    },
}

/// How the scores of an account's leads combine into the account score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AccountAggregate {
    Sum,
    Max,
    /// Mean of the `n` highest lead scores (fewer when the account has fewer leads).
    MeanTop(usize),
}

/// What an explicit rule matches.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The attribute's value (as text) is one of these.
    OneOf(Vec<String>),
    /// `min <= value < below` (either bound may be open).
    Range {
        min: Option<f64>,
        below: Option<f64>,
    },
    /// The attribute is empty.
    Missing,
}

/// A profile rule: points when a lead's attribute matches.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplicitRule {
    /// Stable, readable name, e.g. `job_level = Director` or `company_size 50..200`.
    pub name: String,
    pub attribute: String,
    pub condition: Condition,
    pub points: f64,
    pub group: Option<String>,
    /// Line of the rule entry, and of its `attribute = ...` key.
    pub line: usize,
    pub attribute_line: usize,
}

/// Points per occurrence of a matching event.
#[derive(Debug, Clone, PartialEq)]
pub enum Points {
    Each(f64),
    /// Points for the 1st, 2nd, ... occurrence; the last value repeats after the list.
    Progressive(Vec<f64>),
}

/// A behaviour rule: points for events.
#[derive(Debug, Clone, PartialEq)]
pub struct ImplicitRule {
    /// Stable, readable name, e.g. `download` or `download [topic=analytics]`.
    pub name: String,
    pub event_type: String,
    pub topic: Vec<String>,
    pub asset_id: Vec<String>,
    pub channel: Vec<String>,
    pub points: Points,
    /// Bound on the rule's total (a ceiling for positive points, a floor for negative).
    pub cap: Option<f64>,
    pub group: Option<String>,
    pub decay: Decay,
    /// The rule sets its own decay (`window_days`, `half_life_days` or `no_decay`) rather than
    /// following the model's `[decay]`.
    pub own_decay: bool,
    pub line: usize,
}

/// A named score band; a lead is in the last band whose `from` its score reaches.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub name: String,
    pub from: f64,
}

/// A checked scoring model.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringModel {
    pub path: PathBuf,
    pub name: Option<String>,
    pub mql: f64,
    pub sql: f64,
    /// Ascending by `from`; the first starts at minus infinity.
    pub bands: Vec<Band>,
    pub explicit: Vec<ExplicitRule>,
    pub implicit: Vec<ImplicitRule>,
    pub account: AccountAggregate,
    /// The `[decay]` table: what rules without their own setting follow.
    pub decay: Decay,
}

impl ScoringModel {
    /// Read and check a model file.
    pub fn from_file(path: &Path) -> Result<ScoringModel, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError {
            path: path.to_path_buf(),
            line: 0,
            key: String::new(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "no such file: the live scoring model (your CRM's points) is read from scoring.toml beside the data, or from --model FILE; `leadcal init DIR` writes a template to fill in".into()
            } else {
                format!("cannot read the file: {e}")
            },
        })?;
        Self::parse(&text, path)
    }

    /// Parse and check model text; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<ScoringModel, ModelError> {
        let cx = Cx { text, path };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| cx.line(s.start)).unwrap_or(0);
            ModelError {
                path: path.to_path_buf(),
                line,
                key: key_of(e.message(), text, e.span().map(|s| s.start)),
                message: e
                    .message()
                    .trim()
                    .replace("expected f64", "expected a number")
                    .replace("expected i64", "expected a whole number"),
            }
        })?;
        cx.check(raw)
    }

    /// Attributes the explicit rules refer to, with the line of the first rule using each.
    pub fn attributes(&self) -> BTreeMap<&str, usize> {
        let mut out = BTreeMap::new();
        for r in &self.explicit {
            out.entry(r.attribute.as_str()).or_insert(r.attribute_line);
        }
        out
    }

    /// Reject rules on attributes the dataset does not have, and ranges on text attributes.
    pub fn check_columns(&self, attributes: &[crate::data::Attribute]) -> Result<(), ModelError> {
        use crate::data::AttributeKind;
        let names: Vec<&str> = attributes.iter().map(|a| a.name.as_str()).collect();
        for r in &self.explicit {
            let err = |message: String| ModelError {
                path: self.path.clone(),
                line: r.attribute_line,
                key: "attribute".into(),
                message,
            };
            let Some(a) = attributes.iter().find(|a| a.name == r.attribute) else {
                return Err(err(format!(
                    "the dataset has no attribute `{}`; it has: {}",
                    r.attribute,
                    names.join(", ")
                )));
            };
            if matches!(r.condition, Condition::Range { .. })
                && !matches!(a.kind, AttributeKind::Integer | AttributeKind::Float)
            {
                return Err(err(format!(
                    "`{}` holds text, but the rule gives points for numeric ranges",
                    r.attribute
                )));
            }
        }
        Ok(())
    }

    /// Whether every point of the model is 0 (init's template as written).
    pub fn all_zero(&self) -> bool {
        let zero = |p: &Points| match p {
            Points::Each(v) => *v == 0.0,
            Points::Progressive(v) => v.iter().all(|x| *x == 0.0),
        };
        self.implicit.iter().all(|r| zero(&r.points))
            && self.explicit.iter().all(|r| r.points == 0.0)
    }

    /// The model whose implicit points count fires: a rule at 0 points gets 1 point a fire
    /// (and no cap), every other rule is unchanged. The feature columns read it, so a rule the
    /// live model gives nothing is still measured (its column would otherwise be all zeros,
    /// and a first model could never give it points).
    pub fn counting(&self) -> ScoringModel {
        let mut m = self.clone();
        for r in &mut m.implicit {
            let zero = match &r.points {
                Points::Each(v) => *v == 0.0,
                Points::Progressive(v) => v.iter().all(|x| *x == 0.0),
            };
            if zero {
                r.points = Points::Each(1.0);
                r.cap = None;
            }
        }
        m
    }

    /// The band a score falls in.
    pub fn band(&self, score: f64) -> &str {
        self.bands
            .iter()
            .rev()
            .find(|b| score >= b.from)
            .map(|b| b.name.as_str())
            .unwrap_or("")
    }
}

/// `: line 3: `, or `: ` for an error about the whole file (line 0 is no line).
fn line_part(line: usize) -> String {
    if line == 0 {
        ": ".into()
    } else {
        format!(": line {line}: ")
    }
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("`{key}`: ")
    }
}

/// The key a TOML or serde error is about: named in serde's "unknown field `x`, expected ..."
/// and "missing field `x`", else the bare key at the start of the line the error points into
/// (none for a syntax error).
fn key_of(message: &str, text: &str, offset: Option<usize>) -> String {
    if message.starts_with("unknown field") || message.starts_with("missing field") {
        return message
            .split('`')
            .nth(1)
            .map(str::to_string)
            .unwrap_or_default();
    }
    let Some(offset) = offset else {
        return String::new();
    };
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("");
    match line.split_once('=') {
        Some((k, _))
            if !k.trim().is_empty()
                && k.trim()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) =>
        {
            k.trim().to_string()
        }
        _ => String::new(),
    }
}

struct Cx<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Cx<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .bytes()
            .filter(|&b| b == b'\n')
            .count()
            + 1
    }

    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        key: &str,
        message: String,
    ) -> Result<T, ModelError> {
        Err(ModelError {
            path: self.path.to_path_buf(),
            line: self.line(span.start),
            key: key.to_string(),
            message,
        })
    }

    /// A number of points (rule points, caps, thresholds, band starts): finite and at most
    /// [`MAX_POINTS`] either way, so that no sum of a lead's points overflows to ∞ or NaN.
    fn finite(&self, v: &Spanned<f64>, key: &str) -> Result<f64, ModelError> {
        let x = *v.get_ref();
        self.points_value(x, v.span(), key)
    }

    fn points_value(
        &self,
        x: f64,
        span: std::ops::Range<usize>,
        key: &str,
    ) -> Result<f64, ModelError> {
        // 1e308 as written, not as 309 digits.
        let shown = if x.abs() >= 1e7 {
            format!("{x:e}")
        } else {
            format!("{x}")
        };
        if !x.is_finite() {
            self.err(span, key, format!("{x} is not a finite number of points"))
        } else if x.abs() > MAX_POINTS {
            self.err(
                span,
                key,
                format!(
                    "{shown} is outside the supported range of points (-{} to {})",
                    crate::format::thousands(MAX_POINTS as u64),
                    crate::format::thousands(MAX_POINTS as u64)
                ),
            )
        } else {
            Ok(x)
        }
    }

    fn days(&self, v: &Spanned<f64>, key: &str) -> Result<f64, ModelError> {
        let x = *v.get_ref();
        if x.is_finite() && x > 0.0 && x <= MAX_DAYS {
            Ok(x)
        } else {
            self.err(
                v.span(),
                key,
                format!("{x}: expected a positive number of days, at most {MAX_DAYS}"),
            )
        }
    }

    fn decay(
        &self,
        window: &Option<Spanned<f64>>,
        half: &Option<Spanned<f64>>,
        key_span: std::ops::Range<usize>,
    ) -> Result<Option<Decay>, ModelError> {
        match (window, half) {
            (Some(_), Some(_)) => self.err(
                key_span,
                "half_life_days",
                "give either window_days or half_life_days, not both".into(),
            ),
            (Some(w), None) => Ok(Some(Decay::Window {
                days: self.days(w, "window_days")?,
            })),
            (None, Some(h)) => Ok(Some(Decay::HalfLife {
                days: self.days(h, "half_life_days")?,
            })),
            (None, None) => Ok(None),
        }
    }

    fn check(&self, raw: Raw) -> Result<ScoringModel, ModelError> {
        let Some(th) = raw.thresholds else {
            return self.err(
                0..0,
                "thresholds",
                "missing [thresholds] with mql and sql".into(),
            );
        };
        let mql = self.finite(&th.get_ref().mql, "mql")?;
        let sql = self.finite(&th.get_ref().sql, "sql")?;
        if mql >= sql {
            return self.err(
                th.get_ref().mql.span(),
                "mql",
                format!("the MQL threshold ({mql}) must be below the SQL threshold ({sql})"),
            );
        }
        // Bands.
        let mut bands = Vec::new();
        for (i, b) in raw.band.iter().enumerate() {
            let r = b.get_ref();
            let from = match (&r.from, i) {
                (None, 0) => f64::NEG_INFINITY,
                (Some(f), 0) => {
                    return self.err(
                        f.span(),
                        "from",
                        "the first band starts at the lowest score; leave out `from`".into(),
                    );
                }
                (None, _) => {
                    return self.err(b.span(), "from", format!("band `{}` needs `from`", r.name));
                }
                (Some(f), _) => self.finite(f, "from")?,
            };
            if let Some(prev) = bands.last().map(|p: &Band| p.from)
                && from <= prev
            {
                return self.err(
                    b.span(),
                    "from",
                    format!(
                        "band `{}` must start above the band before it ({prev})",
                        r.name
                    ),
                );
            }
            if bands.iter().any(|p: &Band| p.name == r.name) {
                return self.err(
                    b.span(),
                    "name",
                    format!("band `{}` is defined twice", r.name),
                );
            }
            bands.push(Band {
                name: r.name.clone(),
                from,
            });
        }
        if bands.is_empty() {
            bands = vec![
                Band {
                    name: "cold".into(),
                    from: f64::NEG_INFINITY,
                },
                Band {
                    name: "warm".into(),
                    from: mql,
                },
                Band {
                    name: "hot".into(),
                    from: sql,
                },
            ];
        }
        // Decay.
        let global = match &raw.decay {
            Some(d) => {
                let span = d
                    .window_days
                    .as_ref()
                    .or(d.half_life_days.as_ref())
                    .map(|s| s.span())
                    .unwrap_or(0..0);
                self.decay(&d.window_days, &d.half_life_days, span)?
                    .unwrap_or(Decay::None)
            }
            None => Decay::None,
        };
        // Account roll-up.
        let account = match &raw.account {
            None => AccountAggregate::Max,
            Some(a) => {
                let a = a.get_ref();
                match (a.aggregate.get_ref().as_str(), &a.top_n) {
                    ("sum", None) => AccountAggregate::Sum,
                    ("max", None) => AccountAggregate::Max,
                    ("mean_top", Some(n)) if *n.get_ref() >= 1 => {
                        AccountAggregate::MeanTop(*n.get_ref() as usize)
                    }
                    ("mean_top", Some(n)) => {
                        return self.err(n.span(), "top_n", "expected at least 1".into());
                    }
                    ("mean_top", None) => {
                        return self.err(
                            a.aggregate.span(),
                            "top_n",
                            "mean_top needs top_n".into(),
                        );
                    }
                    ("sum" | "max", Some(n)) => {
                        return self.err(
                            n.span(),
                            "top_n",
                            "top_n applies only to aggregate = \"mean_top\"".into(),
                        );
                    }
                    (other, _) => {
                        return self.err(
                            a.aggregate.span(),
                            "aggregate",
                            format!("`{other}`: expected \"sum\", \"max\" or \"mean_top\""),
                        );
                    }
                }
            }
        };
        // Explicit rules.
        let mut explicit = Vec::new();
        for e in &raw.explicit {
            let r = e.get_ref();
            let attr = r.attribute.get_ref().clone();
            let attribute_line = self.line(r.attribute.span().start);
            if r.values.is_empty() && r.ranges.is_empty() && r.missing.is_none() {
                return self.err(
                    e.span(),
                    "explicit",
                    format!("the rule on `{attr}` gives no points: add values, ranges or missing"),
                );
            }
            for v in &r.values {
                let vr = v.get_ref();
                let values: Vec<String> = match (&vr.equals, &vr.in_) {
                    (Some(x), None) => vec![value_text(x)],
                    (None, Some(xs)) if !xs.is_empty() => xs.iter().map(value_text).collect(),
                    _ => {
                        return self.err(
                            v.span(),
                            "values",
                            "give exactly one of `equals = ...` or `in = [...]`".into(),
                        );
                    }
                };
                let name = vr.name.clone().unwrap_or_else(|| {
                    if values.len() == 1 {
                        format!("{attr} = {}", values[0])
                    } else {
                        format!("{attr} in [{}]", values.join(", "))
                    }
                });
                explicit.push(ExplicitRule {
                    name,
                    attribute: attr.clone(),
                    condition: Condition::OneOf(values),
                    points: self.finite(&vr.points, "points")?,
                    group: r.group.clone(),
                    line: self.line(v.span().start),
                    attribute_line,
                });
            }
            let mut ranges: Vec<(f64, f64, std::ops::Range<usize>)> = Vec::new();
            for g in &r.ranges {
                let gr = g.get_ref();
                if gr.min.is_none() && gr.below.is_none() {
                    return self.err(
                        g.span(),
                        "ranges",
                        "a range needs `min`, `below` or both".into(),
                    );
                }
                let lo = gr.min.unwrap_or(f64::NEG_INFINITY);
                let hi = gr.below.unwrap_or(f64::INFINITY);
                if lo.is_nan() || hi.is_nan() || lo >= hi {
                    return self.err(
                        g.span(),
                        "ranges",
                        format!("min ({lo}) must be below `below` ({hi})"),
                    );
                }
                if let Some((a, b, _)) = ranges.iter().find(|(a, b, _)| lo < *b && *a < hi) {
                    return self.err(
                        g.span(),
                        "ranges",
                        format!(
                            "the range {} overlaps the range {} of the same rule",
                            show_range(lo, hi),
                            show_range(*a, *b)
                        ),
                    );
                }
                ranges.push((lo, hi, g.span()));
                explicit.push(ExplicitRule {
                    name: gr
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("{attr} {}", show_range(lo, hi))),
                    attribute: attr.clone(),
                    condition: Condition::Range {
                        min: gr.min,
                        below: gr.below,
                    },
                    points: self.finite(&gr.points, "points")?,
                    group: r.group.clone(),
                    line: self.line(g.span().start),
                    attribute_line,
                });
            }
            if let Some(m) = &r.missing {
                explicit.push(ExplicitRule {
                    name: format!("{attr} missing"),
                    attribute: attr.clone(),
                    condition: Condition::Missing,
                    points: self.finite(m, "missing")?,
                    group: r.group.clone(),
                    line: self.line(m.span().start),
                    attribute_line,
                });
            }
        }
        // Implicit rules.
        let mut implicit: Vec<ImplicitRule> = Vec::new();
        for i in raw.implicit {
            let span = i.span();
            let r = i.into_inner();
            let points = match (&r.points, &r.progressive) {
                (Some(p), None) => Points::Each(self.finite(p, "points")?),
                (None, Some(p)) if !p.get_ref().is_empty() => {
                    for x in p.get_ref() {
                        self.points_value(*x, p.span(), "progressive")?;
                    }
                    Points::Progressive(p.get_ref().clone())
                }
                _ => return self.err(
                    span,
                    "points",
                    format!(
                        "rule `{}`: give exactly one of `points = N` or `progressive = [N, ...]`",
                        r.event_type.get_ref()
                    ),
                ),
            };
            let cap = r.cap.as_ref().map(|c| self.finite(c, "cap")).transpose()?;
            if let (Some(c), Some(cs)) = (cap, &r.cap) {
                let sign = match &points {
                    Points::Each(p) => p.signum(),
                    Points::Progressive(v) => v.iter().sum::<f64>().signum(),
                };
                if c == 0.0 || c.signum() != sign {
                    return self.err(
                        cs.span(),
                        "cap",
                        format!("cap {c} must have the sign of the rule's points and not be 0"),
                    );
                }
            }
            let decay = if r.no_decay == Some(true) {
                if r.window_days.is_some() || r.half_life_days.is_some() {
                    return self.err(
                        span,
                        "no_decay",
                        "no_decay cannot be combined with window_days or half_life_days".into(),
                    );
                }
                Decay::None
            } else {
                self.decay(&r.window_days, &r.half_life_days, span.clone())?
                    .unwrap_or(global)
            };
            let topic = r.topic.map(OneOrMany::into_vec).unwrap_or_default();
            let asset_id = r.asset_id.map(OneOrMany::into_vec).unwrap_or_default();
            let channel = r.channel.map(OneOrMany::into_vec).unwrap_or_default();
            let name = r.name.clone().unwrap_or_else(|| {
                let mut f = Vec::new();
                for (k, v) in [
                    ("topic", &topic),
                    ("asset_id", &asset_id),
                    ("channel", &channel),
                ] {
                    if !v.is_empty() {
                        f.push(format!("{k}={}", v.join("|")));
                    }
                }
                if f.is_empty() {
                    r.event_type.get_ref().clone()
                } else {
                    format!("{} [{}]", r.event_type.get_ref(), f.join(", "))
                }
            });
            if implicit.iter().any(|o| o.name == name) || explicit.iter().any(|o| o.name == name) {
                return self.err(
                    span,
                    "name",
                    format!("two rules are named `{name}`; give one a `name`"),
                );
            }
            let own_decay =
                r.no_decay == Some(true) || r.window_days.is_some() || r.half_life_days.is_some();
            implicit.push(ImplicitRule {
                name,
                event_type: r.event_type.into_inner(),
                topic,
                asset_id,
                channel,
                points,
                cap,
                group: r.group,
                decay,
                own_decay,
                line: self.line(span.start),
            });
        }
        if let Some(r) = implicit.get(MAX_IMPLICIT_RULES) {
            return Err(ModelError {
                path: self.path.to_path_buf(),
                line: r.line,
                key: "implicit".into(),
                message: format!(
                    "the model has {} implicit rules; at most {MAX_IMPLICIT_RULES} are supported (this is the {}th)",
                    implicit.len(),
                    MAX_IMPLICIT_RULES + 1
                ),
            });
        }
        for (k, e) in explicit.iter().enumerate() {
            if explicit[..k].iter().any(|o| o.name == e.name) {
                return Err(ModelError {
                    path: self.path.to_path_buf(),
                    line: e.line,
                    key: "name".into(),
                    message: format!("two rules are named `{}`", e.name),
                });
            }
        }
        Ok(ScoringModel {
            path: self.path.to_path_buf(),
            name: raw.name,
            mql,
            sql,
            bands,
            explicit,
            implicit,
            account,
            decay: global,
        })
    }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn show_range(lo: f64, hi: f64) -> String {
    let f = |x: f64| {
        if x.is_infinite() {
            String::new()
        } else {
            format!("{x}")
        }
    };
    format!("{}..{}", f(lo), f(hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ScoringModel, ModelError> {
        ScoringModel::parse(text, Path::new("scoring.toml"))
    }

    const BASE: &str = "[thresholds]\nmql = 40\nsql = 80\n";

    #[test]
    fn the_annotated_demo_model_parses() {
        let m = parse(crate::demo::LIVE_MODEL).unwrap();
        assert_eq!((m.mql, m.sql), (40.0, 80.0));
        assert!(
            m.implicit
                .iter()
                .any(|r| r.points == Points::Progressive(vec![1.0, 2.0, 3.0]))
        );
        assert!(m.explicit.iter().any(|r| r.name == "company_size 50..1000"));
        assert_eq!(m.band(85.0), "hot");
        assert_eq!(m.band(-5.0), "cold");
    }

    #[test]
    fn mql_must_be_below_sql() {
        let e = parse("[thresholds]\nmql = 90\nsql = 80\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "mql"));
        assert!(
            e.to_string()
                .starts_with("scoring.toml: line 2: `mql`: the MQL threshold (90)"),
            "{e}"
        );
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e = parse(&format!(
            "{BASE}[[implicit]]\nevent_type = \"download\"\npoints = 10\ncapp = 3\n"
        ))
        .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (7, "capp"), "{e}");
    }

    #[test]
    fn overlapping_ranges_are_rejected() {
        let e = parse(&format!("{BASE}[[explicit]]\nattribute = \"company_size\"\nranges = [\n  {{ min = 50, below = 200, points = 5 }},\n  {{ min = 150, points = 3 }},\n]\n")).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (8, "ranges"), "{e}");
        assert!(e.message.contains("overlaps the range 50..200"), "{e}");
    }

    #[test]
    fn non_finite_points_and_zero_windows_are_rejected() {
        let e = parse(&format!(
            "{BASE}[[implicit]]\nevent_type = \"x\"\npoints = nan\n"
        ))
        .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (6, "points"), "{e}");
        let e = parse(&format!("{BASE}[decay]\nwindow_days = 0\n")).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (5, "window_days"), "{e}");
        let e = parse(&format!(
            "{BASE}[[implicit]]\nevent_type = \"x\"\npoints = 1\nhalf_life_days = -3\n"
        ))
        .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (7, "half_life_days"), "{e}");
    }

    #[test]
    fn a_rule_on_a_missing_column_is_rejected() {
        let m = parse(&format!(
            "{BASE}[[explicit]]\nattribute = \"seniority\"\nmissing = -5\n"
        ))
        .unwrap();
        let attr = |name: &str| crate::data::Attribute {
            name: name.into(),
            kind: crate::data::AttributeKind::Text,
            non_null: 1,
            distinct: 1,
        };
        let attrs = [attr("region"), attr("company_size")];
        let e = m.check_columns(&attrs).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (5, "attribute"));
        assert!(e.message.contains("no attribute `seniority`"), "{e}");
        let m = parse(&format!("{BASE}[[explicit]]\nattribute = \"company_size\"\nranges = [{{ min = 5, points = 1 }}]\n")).unwrap();
        let e = m.check_columns(&attrs).unwrap_err();
        assert!(e.message.contains("holds text"), "{e}");
    }

    #[test]
    fn rules_get_stable_readable_names() {
        let m = parse(&format!(
            "{BASE}[[explicit]]\nattribute = \"job_level\"\nvalues = [{{ in = [\"VP\", \"C-Level\"], points = 15 }}, {{ equals = \"Director\", points = 10 }}]\nmissing = -2\n[[implicit]]\nevent_type = \"download\"\ntopic = \"analytics\"\nprogressive = [10, 20]\ncap = 40\n"
        ))
        .unwrap();
        let names: Vec<&str> = m
            .explicit
            .iter()
            .map(|r| r.name.as_str())
            .chain(m.implicit.iter().map(|r| r.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                "job_level in [VP, C-Level]",
                "job_level = Director",
                "job_level missing",
                "download [topic=analytics]"
            ]
        );
    }
}
