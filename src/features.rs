//! Stage: features as of each lead's snapshot (point in time).
//!
//! Input: a checked [`Dataset`], the live [`ScoringModel`], a [`LabelSpec`], the lead window
//! (`since`..=`until` on `created_at`), the data end and the start of the test period.
//! Output: [`FeatureTable`], one row per *evaluable* lead (mature, not came-in-hot) in order of
//! creation, with named features, the label, the live score at the snapshot and the replayed
//! hand-over times; plus the label counts for every selected lead.
//!
//! Guarantees:
//! - only events at or before a lead's own snapshot enter its features and live score (events
//!   after it change nothing: pinned by a test);
//! - encodings (which levels are kept, imputation values) are learned from training rows only
//!   (created before the test period), so the test period does not shape its own features;
//! - every feature has a readable name that maps back to a rule or an attribute value:
//!   `rule:<name>`, `<attribute>=<value>`, `<attribute>=(other)`, `<attribute>=(missing)`,
//!   `<attribute> in [min, below)`, `log1p(<attribute>)`.
//!
//! A rule's feature is its fire count as the live model counts it at the snapshot: inside the
//! window, weighted by the half-life, and stopped where the cap binds. It is computed as the
//! rule's points at the snapshot divided by its points per fire (for a progressive rule, its
//! first step), so a recommended weight per unit is directly a number of points.

pub mod leak;

use ndarray::Array2;
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use crate::data::{AttributeKind, Dataset, MISSING};
use crate::error::{Error, Result};
use crate::label::{self, LabelSpec, LabelSummary};
use crate::progress::Step;
use crate::scoring::config::{Condition, Points, ScoringModel};
use crate::scoring::explicit::with_explicit_points;
use crate::scoring::implicit::MatchedEvents;

use crate::units::DAY_US;

/// Where a feature comes from; the recommendation maps coefficients back through this.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// An implicit rule (index into `model.implicit`), in units of its points per fire.
    Rule { rule: usize, unit: f64 },
    /// A categorical level (or a pooled/missing pseudo-level) of an attribute.
    Level { attribute: String, value: String },
    /// A numeric attribute inside one of the live model's ranges for it.
    Range {
        attribute: String,
        min: Option<f64>,
        below: Option<f64>,
    },
    /// sign(x)·ln(1 + |x|) of a numeric attribute (missing imputed with the training median).
    Log { attribute: String },
}

/// Options of the feature builder.
#[derive(Debug, Clone)]
pub struct FeatureSpec {
    pub label: LabelSpec,
    /// Leads created in `[since, until]` (µs).
    pub since: i64,
    pub until: i64,
    /// End of the data (µs): maturity and the replay stop here.
    pub data_end: i64,
    /// Leads created at or after this time are the test period (µs).
    pub test_from: i64,
    /// A level seen on fewer training leads is pooled into `(other)`.
    pub min_level_count: usize,
    /// At most this many levels per attribute (the most frequent); the rest are pooled.
    pub max_levels: usize,
}

/// The feature table.
pub struct FeatureTable {
    pub names: Vec<String>,
    pub sources: Vec<Source>,
    /// Rows: evaluable leads in order of creation; columns: `names`.
    pub x: Array2<f64>,
    pub y: Vec<bool>,
    pub created: Vec<i64>,
    pub snapshot: Vec<i64>,
    pub converted_at: Vec<Option<i64>>,
    /// Live score at the snapshot (explicit + implicit), and its explicit part.
    pub live_score: Vec<f64>,
    /// The live score with each rule's count capped as in `x`: what the recommendation's
    /// points scale is measured on (equal to `live_score` for every lead not capped).
    pub scale_score: Vec<f64>,
    /// Rules whose count was capped for some leads (fit and scale only; every metric of the
    /// live score uses its real value).
    pub capped: Vec<CappedRule>,
    pub explicit: Vec<f64>,
    /// Replayed first crossings of MQL and SQL (any time up to the data end).
    pub mql_at: Vec<Option<i64>>,
    pub sql_at: Vec<Option<i64>>,
    /// Label counts over every lead created in the window.
    pub labels: LabelSummary,
    /// Creation times of every selected lead with its status (for per-period counts).
    pub all_created: Vec<i64>,
    pub all_status: Vec<String>,
    /// Attributes left out, with the reason.
    pub skipped: Vec<(String, Skip)>,
    /// Rows before `test_from`.
    pub n_train: usize,
    /// Row of each evaluable lead in the leads table.
    pub lead_rows: Vec<u32>,
    /// The leads' events matched to the live model's rules, up to the data end (`None` without
    /// events or implicit rules). A config with the same rules and other points reuses it.
    pub matched: Option<MatchedEvents>,
}

impl FeatureTable {
    /// Whether a hand-over at `at` (row `i`'s first crossing) lies within `horizon_days` of
    /// the row's snapshot: the one definition of "handed over" that every stage counts.
    pub fn handed_within(&self, i: usize, at: Option<i64>, horizon_days: i64) -> bool {
        at.is_some_and(|h| h <= self.snapshot[i] + horizon_days * DAY_US)
    }

    /// First crossings of each of `thresholds` for `rows` under `model`'s points (same rules
    /// as the live model), with `explicit` the rows' explicit scores under `model`. Without
    /// matched events a lead's score is its explicit score from creation on, so it crosses at
    /// creation or never.
    pub fn first_crossings(
        &self,
        model: &ScoringModel,
        explicit: &[f64],
        rows: &[usize],
        data_end: i64,
        thresholds: &[f64],
    ) -> Result<Vec<Vec<Option<i64>>>> {
        match &self.matched {
            Some(m) => m.first_crossings_of(
                model,
                rows,
                explicit,
                &self.created,
                data_end,
                thresholds,
                &crate::progress::Counter::none(),
            ),
            None => Ok(rows
                .iter()
                .map(|&i| {
                    thresholds
                        .iter()
                        .map(|g| (explicit[i] >= *g).then_some(self.created[i]))
                        .collect()
                })
                .collect()),
        }
    }

    /// For `rows`, the highest running score under `model`'s points (same rules as the live
    /// model, `explicit` its explicit scores) up to the end of the row's hand-over window
    /// (its snapshot + `horizon_days`, at most `data_end`), and up to the row's conversion
    /// when it converted (else `-inf`). A lead is handed over at threshold g exactly when the
    /// first, and caught when the second, is at least g: every threshold from one replay.
    /// Leads that cannot reach `floor` get `-inf`.
    pub fn peak_scores(
        &self,
        model: &ScoringModel,
        explicit: &[f64],
        rows: &[usize],
        data_end: i64,
        horizon_days: i64,
        floor: f64,
    ) -> Result<Vec<(f64, f64)>> {
        let limits: Vec<(i64, i64)> = rows
            .iter()
            .map(|&i| {
                let window = data_end.min(self.snapshot[i] + horizon_days * DAY_US);
                let caught = match (self.y[i], self.converted_at[i]) {
                    (true, Some(w)) => window.min(w),
                    _ => i64::MIN,
                };
                (window, caught)
            })
            .collect();
        match &self.matched {
            Some(m) => m.max_scores_of(model, rows, explicit, &self.created, &limits, floor),
            // Without events a lead's score is its explicit score from creation on.
            None => Ok(rows
                .iter()
                .zip(&limits)
                .map(|(&i, &(window, caught))| {
                    let at = |t: i64| match self.created[i] <= t {
                        true => explicit[i],
                        false => f64::NEG_INFINITY,
                    };
                    (at(window), at(caught))
                })
                .collect()),
        }
    }
}

/// Build the feature table.
pub fn build(ds: &Dataset, model: &ScoringModel, spec: &FeatureSpec) -> Result<FeatureTable> {
    let _t = crate::timing::Stage::start("features");
    let end = crate::timeparse::from_micros(spec.data_end)
        .ok_or_else(|| Error::Internal("data end out of range".into()))?;
    let _s = crate::timing::Stage::start("features: labels and lead rows");
    let labelling = Step::parts(
        format!(
            "labelling {} leads",
            crate::format::thousands(ds.leads.height() as u64)
        ),
        3,
    );
    labelling.part("converted within the horizon, as of their snapshot");
    let labelled = label::label(&ds.leads, ds.outcomes.as_ref(), &spec.label, end)?;
    // Explicit points per lead (same row order as the leads table).
    labelling.part("the points for attributes (explicit)");
    let explicit_df = with_explicit_points(ds.leads.clone().lazy(), model)
        .select([col("explicit_score")])
        .collect()
        .map_err(Error::polars("explicit points"))?;
    let mut table = labelled
        .hstack(explicit_df.columns())
        .map_err(Error::polars("explicit points"))?;
    table
        .with_column(Column::new(
            "__row".into(),
            (0..ds.leads.height() as u32).collect::<Vec<u32>>(),
        ))
        .map_err(Error::polars("row index"))?;
    labelling.part("the leads created in the window, in time order");
    let created_i = col("created_at").cast(DataType::Int64);
    let selected = table
        .lazy()
        .filter(
            created_i
                .clone()
                .gt_eq(lit(spec.since))
                .and(created_i.clone().lt_eq(lit(spec.until))),
        )
        .sort(["created_at", "__row"], Default::default())
        .collect()
        .map_err(Error::polars("selecting leads"))?;
    let labels = label::summarize(&selected)?;
    let i64s = |df: &DataFrame, c: &str| -> Result<Vec<Option<i64>>> {
        Ok(df
            .column(c)
            .and_then(|c| c.cast(&DataType::Int64))
            .map_err(Error::polars("feature table"))?
            .i64()
            .map_err(Error::polars("feature table"))?
            .iter()
            .collect())
    };
    let all_created: Vec<i64> = i64s(&selected, "created_at")?
        .into_iter()
        .flatten()
        .collect();
    let all_status: Vec<String> = selected
        .column("status")
        .and_then(|c| c.str().cloned())
        .map_err(Error::polars("status"))?
        .iter()
        .map(|s| s.unwrap_or("").to_string())
        .collect();
    let rows = selected
        .lazy()
        .filter(col("status").is_in(
            lit(Series::new("s".into(), ["converted", "not_converted"])).implode(false),
            false,
        ))
        .collect()
        .map_err(Error::polars("evaluable leads"))?;
    let n = rows.height();
    let created: Vec<i64> = i64s(&rows, "created_at")?
        .into_iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let snapshot: Vec<i64> = created
        .iter()
        .map(|c| c + spec.label.snapshot_days * DAY_US)
        .collect();
    let converted_at = i64s(&rows, "converted_at")?;
    let y: Vec<bool> = rows
        .column("status")
        .and_then(|c| c.str().cloned())
        .map_err(Error::polars("status"))?
        .iter()
        .map(|s| s == Some("converted"))
        .collect();
    let explicit: Vec<f64> = rows
        .column("explicit_score")
        .and_then(|c| c.f64().cloned())
        .map_err(Error::polars("explicit"))?
        .iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    let lead_rows: Vec<u32> = rows
        .column("__row")
        .and_then(|c| c.u32().cloned())
        .map_err(Error::polars("rows"))?
        .iter()
        .flatten()
        .collect();
    let n_train = created.iter().filter(|&&c| c < spec.test_from).count();

    // Behaviour: the events placed at load, up to the data end; each lead read at its own
    // snapshot.
    let n_rules = model.implicit.len();
    drop(_s);
    drop(labelling);
    let _s = crate::timing::Stage::start("features: match events to rules");
    let matched = match &ds.warehouse {
        _ if n_rules == 0 || n == 0 => None,
        Some(w) => {
            let ids = rows
                .column("lead_id")
                .map_err(Error::polars("ids"))?
                .clone();
            Some(MatchedEvents::from_lists(
                w.lists.clone(),
                &ids,
                spec.data_end,
                w.events,
            )?)
        }
        None => MatchedEvents::of_rows(ds, model, lead_rows.clone(), spec.data_end)?,
    };
    drop(_s);
    let _s = crate::timing::Stage::start("features: snapshot points and hand-over replay");
    let (points, crossings) = match &matched {
        Some(m) => {
            // Every lead twice: its points at the snapshot, then its hand-overs.
            let step = Step::bar(
                "replaying the live model: points at the snapshot, hand-overs",
                2 * n as u64,
                "lead replays",
            );
            // Columns count a 0-point rule's fires ([`ScoringModel::counting`]); the live
            // score below leaves those rules out, as the live model does.
            let (_, p) =
                m.contributions_at_counted(&model.counting(), |i| snapshot[i], &step.counter());
            let c = m.first_crossings(
                model,
                &explicit,
                &created,
                spec.data_end,
                &[model.mql, model.sql],
                &step.counter(),
            )?;
            (p, c)
        }
        _ => (
            vec![0.0; n * n_rules],
            explicit
                .iter()
                .zip(&created)
                .map(|(e, c)| {
                    [model.mql, model.sql]
                        .iter()
                        .map(|t| (e >= t).then_some(*c))
                        .collect()
                })
                .collect(),
        ),
    };
    let counted = model.counting();
    let scored: Vec<bool> = model
        .implicit
        .iter()
        .zip(&counted.implicit)
        .map(|(a, b)| a.points == b.points)
        .collect();
    let live_score: Vec<f64> = (0..n)
        .map(|i| {
            let row = &points[i * n_rules..(i + 1) * n_rules];
            match scored.iter().all(|s| *s) {
                true => explicit[i] + row.iter().sum::<f64>(),
                false => {
                    explicit[i]
                        + row
                            .iter()
                            .zip(&scored)
                            .map(|(p, s)| if *s { *p } else { 0.0 })
                            .sum::<f64>()
                }
            }
        })
        .collect();
    drop(_s);
    let _s = crate::timing::Stage::start("features: layout");
    let mut names = Vec::new();
    let mut sources = Vec::new();
    let mut units: Vec<f64> = Vec::new();
    for (r, rule) in model.implicit.iter().enumerate() {
        let unit = match &rule.points {
            Points::Each(p) => *p,
            Points::Progressive(v) => v[0],
        };
        let unit = if unit == 0.0 { 1.0 } else { unit };
        names.push(format!("rule:{}", rule.name));
        sources.push(Source::Rule { rule: r, unit });
        units.push(unit);
    }

    drop(_s);
    let _s = crate::timing::Stage::start("features: attribute encoders");
    let encoders = Step::bar(
        "building the design matrix: the attributes' leak checks and encoders",
        ds.attributes.len() as u64,
        "attributes",
    );
    let encoded_one = encoders.counter();
    // Profile attributes, encoded from training rows; one attribute per task (the columns' fresh
    // pages are the cost, so they are written on every core).
    struct Encoded {
        names: Vec<String>,
        sources: Vec<Source>,
        block: Option<Block>,
        skipped: Option<Skip>,
    }
    let encoded: Vec<Encoded> = ds
        .attributes
        .par_iter()
        .map(|attr| -> Result<Encoded> {
            let mut e = Encoded {
                names: Vec::new(),
                sources: Vec::new(),
                block: None,
                skipped: None,
            };
            let c = ds
                .leads
                .column(&attr.name)
                .map_err(Error::polars("attribute"))?;
            // The leak guard, on the training period, unless dataset.toml lists the attribute
            // as deliberate.
            if !ds.spec.leads.deliberate_attributes.contains(&attr.name) {
                let train = &lead_rows[..n_train];
                let y_train = &y[..n_train];
                let found = match attr.kind {
                    AttributeKind::Integer | AttributeKind::Float => {
                        let v = c
                            .cast(&DataType::Float64)
                            .map_err(Error::polars("attribute"))?;
                        let v = v.f64().map_err(Error::polars("attribute"))?;
                        let vals: Vec<Option<f64>> = train
                            .iter()
                            .map(|&r| v.get(r as usize).filter(|x| x.is_finite()))
                            .collect();
                        leak::numeric(&attr.name, &vals, y_train)
                    }
                    AttributeKind::Text | AttributeKind::Bool => {
                        let codes = ds.codes(&attr.name).ok_or_else(|| {
                            Error::Internal(format!("attribute `{}` has no codes", attr.name))
                        })?;
                        let vals: Vec<Option<u32>> = train
                            .iter()
                            .map(|&r| Some(codes.codes[r as usize]).filter(|&c| c != MISSING))
                            .collect();
                        leak::categorical(&attr.name, &vals, &codes.values, y_train)
                    }
                };
                if let Some(l) = found {
                    e.skipped = Some(Skip::Leak(l));
                    return Ok(e);
                }
            }
            let ranges: Vec<(Option<f64>, Option<f64>)> = model
                .explicit
                .iter()
                .filter(|r| r.attribute == attr.name)
                .filter_map(|r| match r.condition {
                    Condition::Range { min, below } => Some((min, below)),
                    _ => None,
                })
                .collect();
            match attr.kind {
                AttributeKind::Integer | AttributeKind::Float => {
                    let v: Vec<Option<f64>> = c
                        .cast(&DataType::Float64)
                        .map_err(Error::polars("attribute"))?
                        .f64()
                        .map_err(Error::polars("attribute"))?
                        .iter()
                        .map(|v| v.filter(|x| x.is_finite()))
                        .collect();
                    let vals: Vec<Option<f64>> = lead_rows.iter().map(|&r| v[r as usize]).collect();
                    e.block = Some(numeric_features(
                        &attr.name,
                        vals,
                        &ranges,
                        n_train,
                        &mut e.names,
                        &mut e.sources,
                    ));
                }
                AttributeKind::Text | AttributeKind::Bool => {
                    let codes = ds.codes(&attr.name).ok_or_else(|| {
                        Error::Internal(format!("attribute `{}` has no codes", attr.name))
                    })?;
                    let vals: Vec<u32> =
                        lead_rows.iter().map(|&r| codes.codes[r as usize]).collect();
                    match categorical_features(
                        &attr.name,
                        (&vals, &codes.values),
                        n_train,
                        spec,
                        &mut e.names,
                        &mut e.sources,
                    ) {
                        Ok(b) => e.block = Some(b),
                        Err(skip) => e.skipped = Some(skip),
                    }
                }
            }
            encoded_one.add(1);
            Ok(e)
        })
        .collect::<Result<_>>()?;
    drop(encoders);
    let mut skipped = Vec::new();
    let mut blocks = Vec::new();
    for (attr, e) in ds.attributes.iter().zip(encoded) {
        names.extend(e.names);
        sources.extend(e.sources);
        blocks.extend(e.block);
        if let Some(reason) = e.skipped {
            skipped.push((attr.name.clone(), reason));
        }
    }
    drop(_s);
    let _s = crate::timing::Stage::start("features: design matrix (parallel fill)");
    let design = Step::bar("building the design matrix", n as u64, "leads");
    // Row-major, written once, in parallel blocks of rows: rule columns, then each attribute's.
    let p = names.len();
    let mut x = Array2::<f64>::zeros((n, p));
    const ROWS: usize = 4096;
    let filled = design.counter();
    x.as_slice_mut()
        .ok_or_else(|| Error::Internal("design matrix not in standard layout".into()))?
        .par_chunks_mut(ROWS * p.max(1))
        .enumerate()
        .for_each(|(c, chunk)| {
            for (r, row) in chunk.chunks_mut(p.max(1)).enumerate() {
                let i = c * ROWS + r;
                for (k, unit) in units.iter().enumerate() {
                    row[k] = points[i * n_rules + k] / unit;
                }
                let mut at = units.len();
                for b in &blocks {
                    let w = b.width();
                    b.fill(i, &mut row[at..at + w]);
                    at += w;
                }
            }
            filled.add((chunk.len() / p.max(1)) as u64);
        });
    design
        .say("building the design matrix: capping each rule's count far above the training leads'");
    drop(_s);
    let _s = crate::timing::Stage::start("features: count caps");
    // One lead with millions of events must not set the fit or the points' scale: each rule's
    // count is capped at a fence far above the training leads' own (CAP_FENCE × the 99.9th
    // percentile), which ordinary data never reaches.
    let caps = count_caps(&x, units.len(), n_train);
    let mut scale_score = live_score.clone();
    let mut capped = vec![0usize; units.len()];
    for (i, mut row) in x.outer_iter_mut().enumerate() {
        let mut hit = false;
        for (k, &(fence, top)) in caps.iter().enumerate() {
            if row[k] > fence {
                row[k] = top;
                capped[k] += 1;
                hit = true;
            }
        }
        if hit {
            scale_score[i] = explicit[i]
                + (0..units.len())
                    .map(|k| if scored[k] { row[k] * units[k] } else { 0.0 })
                    .sum::<f64>();
        }
    }
    let capped: Vec<CappedRule> = model
        .implicit
        .iter()
        .zip(caps.iter().zip(&capped))
        .filter(|(_, (_, n))| **n > 0)
        .map(|(r, (&(_, top), &leads))| CappedRule {
            rule: r.name.clone(),
            cap: top,
            leads,
        })
        .collect();
    let (mql_at, sql_at) = crossings.iter().map(|c| (c[0], c[1])).unzip();
    Ok(FeatureTable {
        names,
        sources,
        x,
        y,
        created,
        snapshot,
        converted_at,
        live_score,
        scale_score,
        capped,
        explicit,
        mql_at,
        sql_at,
        labels,
        all_created,
        all_status,
        skipped,
        n_train,
        lead_rows,
        matched,
    })
}

/// A count above this many times the 99.9th percentile of the training leads' counts (at
/// least this many fires) is an outlier.
pub const CAP_FENCE: f64 = 3.0;

/// At most this many training rows (evenly spaced) estimate each rule's percentile.
const CAP_SAMPLE: usize = 100_000;

/// A rule whose count was capped: the count its outliers were given instead of theirs, and
/// how many leads that was.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CappedRule {
    pub rule: String,
    /// Fires (as the live model counts them at the snapshot): the largest count of a training
    /// lead that is no outlier.
    pub cap: f64,
    pub leads: usize,
}

/// Each rule column's outlier fence ([`CAP_FENCE`] × max(1, its 99.9th percentile over the
/// training rows)) and the count an outlier is given: the largest training count within the
/// fence, so that the outlier weighs like the busiest ordinary lead. Data without outliers is
/// left exactly as it is.
/// The implicit rules' columns of `t` under `model` (the live model's rules and points with
/// another decay): each rule's points at the lead's snapshot over its unit, capped as
/// [`build`] caps them. The recommended points are refitted on these columns when the chosen
/// decay is not today's, so a rule's points per fire mean what they will count. Returns how
/// many columns changed.
pub fn rules_under(t: &mut FeatureTable, model: &ScoringModel) -> usize {
    let Some(m) = &t.matched else { return 0 };
    let n_rules = model.implicit.len();
    let (_, points) = m.contributions_at(&model.counting(), |i| t.snapshot[i]);
    let cols: Vec<(usize, usize, f64)> = t
        .sources
        .iter()
        .enumerate()
        .filter_map(|(j, s)| match s {
            Source::Rule { rule, unit } => Some((j, *rule, *unit)),
            _ => None,
        })
        .collect();
    let mut changed = 0;
    for &(j, rule, unit) in &cols {
        let mut any = false;
        for i in 0..t.y.len() {
            let v = points[i * n_rules + rule] / unit;
            if t.x[[i, j]] != v {
                t.x[[i, j]] = v;
                any = true;
            }
        }
        changed += usize::from(any);
    }
    // The same fence as the live columns': one lead cannot set the fit.
    let caps = count_caps(&t.x, cols.len(), t.n_train);
    for mut row in t.x.outer_iter_mut() {
        for (k, &(fence, top)) in caps.iter().enumerate() {
            if row[k] > fence {
                row[k] = top;
            }
        }
    }
    changed
}

fn count_caps(x: &Array2<f64>, rules: usize, n_train: usize) -> Vec<(f64, f64)> {
    let step = n_train.div_ceil(CAP_SAMPLE).max(1);
    (0..rules)
        .into_par_iter()
        .map(|k| {
            let mut v: Vec<f64> = (0..n_train).step_by(step).map(|i| x[[i, k]]).collect();
            if v.is_empty() {
                return (f64::INFINITY, f64::INFINITY);
            }
            let at = ((0.999 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
            let (_, q, _) = v.select_nth_unstable_by(at, f64::total_cmp);
            let fence = CAP_FENCE * q.max(1.0);
            let top = (0..n_train)
                .map(|i| x[[i, k]])
                .filter(|&c| c <= fence)
                .fold(0.0, f64::max);
            (fence, top)
        })
        .collect()
}

fn numeric_features(
    name: &str,
    vals: Vec<Option<f64>>,
    ranges: &[(Option<f64>, Option<f64>)],
    n_train: usize,
    names: &mut Vec<String>,
    sources: &mut Vec<Source>,
) -> Block {
    let train_missing = vals[..n_train].iter().filter(|v| v.is_none()).count();
    let missing_column = train_missing > 0;
    let block = if ranges.is_empty() {
        let mut known: Vec<f64> = vals[..n_train].iter().flatten().copied().collect();
        known.sort_by(f64::total_cmp);
        let median = known.get(known.len() / 2).copied().unwrap_or(0.0);
        names.push(format!("log1p({name})"));
        sources.push(Source::Log {
            attribute: name.to_string(),
        });
        Block::Log {
            vals,
            median,
            missing_column,
        }
    } else {
        for &(min, below) in ranges {
            let fmt = |b: Option<f64>, open: &str| b.map_or(open.to_string(), |v| format!("{v}"));
            names.push(format!(
                "{name} in [{}, {})",
                fmt(min, "-inf"),
                fmt(below, "inf")
            ));
            sources.push(Source::Range {
                attribute: name.to_string(),
                min,
                below,
            });
        }
        Block::Ranges {
            vals,
            ranges: ranges.to_vec(),
            missing_column,
        }
    };
    if missing_column {
        names.push(format!("{name}=(missing)"));
        sources.push(Source::Level {
            attribute: name.to_string(),
            value: "(missing)".into(),
        });
    }
    block
}

/// How one attribute's columns of a row are written into the design matrix.
enum Block {
    /// sign(x)·ln(1 + |x|), missing imputed with the training median; then the missing flag.
    Log {
        vals: Vec<Option<f64>>,
        median: f64,
        missing_column: bool,
    },
    /// One indicator per live-model range (`min` inclusive, `below` exclusive); then the flag.
    Ranges {
        vals: Vec<Option<f64>>,
        ranges: Vec<(Option<f64>, Option<f64>)>,
        missing_column: bool,
    },
    /// One indicator per level; `codes[i]` is row i's column in the block (`u32::MAX`: none).
    OneHot { codes: Vec<u32>, width: usize },
}

impl Block {
    fn width(&self) -> usize {
        match self {
            Block::Log { missing_column, .. } => 1 + usize::from(*missing_column),
            Block::Ranges {
                ranges,
                missing_column,
                ..
            } => ranges.len() + usize::from(*missing_column),
            Block::OneHot { width, .. } => *width,
        }
    }

    /// Write row `i`'s values into `out` (`width()` long).
    fn fill(&self, i: usize, out: &mut [f64]) {
        match self {
            Block::Log {
                vals,
                median,
                missing_column,
            } => {
                let x = vals[i].unwrap_or(*median);
                out[0] = x.signum() * x.abs().ln_1p();
                if *missing_column {
                    out[1] = f64::from(u8::from(vals[i].is_none()));
                }
            }
            Block::Ranges {
                vals,
                ranges,
                missing_column,
            } => {
                for (k, &(min, below)) in ranges.iter().enumerate() {
                    out[k] = match vals[i] {
                        Some(x) if min.is_none_or(|m| x >= m) && below.is_none_or(|b| x < b) => 1.0,
                        _ => 0.0,
                    };
                }
                if *missing_column {
                    out[ranges.len()] = f64::from(u8::from(vals[i].is_none()));
                }
            }
            Block::OneHot { codes, .. } => {
                out.fill(0.0);
                if let Some(v) = out.get_mut(codes[i] as usize) {
                    *v = 1.0;
                }
            }
        }
    }
}

/// Why an attribute is not a model feature.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Skip {
    /// It gives the outcome away (today's state, or a near-perfect separation).
    Leak(leak::Leak),
    /// More distinct values than half the training leads that have one.
    Identifier { distinct: usize, known: usize },
    /// No value is held by `min_leads` training leads.
    Rare { min_leads: usize },
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::Leak(l) => write!(f, "{l}"),
            Skip::Identifier { distinct, known } => write!(
                f,
                "{distinct} distinct values among {known} training leads: an identifier or free text, not a segment"
            ),
            Skip::Rare { min_leads } => {
                write!(f, "no value is held by at least {min_leads} training leads")
            }
        }
    }
}

fn categorical_features(
    name: &str,
    (vals, values): (&[u32], &[String]),
    n_train: usize,
    spec: &FeatureSpec,
    names: &mut Vec<String>,
    sources: &mut Vec<Source>,
) -> std::result::Result<Block, Skip> {
    let mut counts = vec![0usize; values.len()];
    let mut missing = 0;
    for &v in &vals[..n_train] {
        match v {
            MISSING => missing += 1,
            v => counts[v as usize] += 1,
        }
    }
    let distinct = counts.iter().filter(|&&c| c > 0).count();
    let known = n_train - missing;
    if known > 0 && distinct * 2 > known && distinct > spec.max_levels {
        return Err(Skip::Identifier { distinct, known });
    }
    // Codes follow the values' order, so ties in count are broken by value.
    let mut levels: Vec<(u32, usize)> = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0 && **c >= spec.min_level_count)
        .map(|(v, c)| (v as u32, *c))
        .collect();
    levels.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    levels.truncate(spec.max_levels);
    if levels.is_empty() {
        return Err(Skip::Rare {
            min_leads: spec.min_level_count,
        });
    }
    let mut kept = vec![None; values.len()];
    for (k, (v, _)) in levels.iter().enumerate() {
        kept[*v as usize] = Some(k);
    }
    let pooled = vals[..n_train]
        .iter()
        .any(|&v| v != MISSING && kept[v as usize].is_none());
    // One indicator column per kept level, then the pooled and missing pseudo-levels.
    let mut width = 0usize;
    let mut push_level = |value: &str| -> u32 {
        names.push(format!("{name}={value}"));
        sources.push(Source::Level {
            attribute: name.to_string(),
            value: value.to_string(),
        });
        width += 1;
        (width - 1) as u32
    };
    for (v, _) in &levels {
        push_level(&values[*v as usize]);
    }
    let other = pooled.then(|| push_level("(other)"));
    let miss = (missing > 0).then(|| push_level("(missing)"));
    let codes = vals
        .iter()
        .map(|&v| {
            match v {
                MISSING => miss,
                v => kept[v as usize].map(|k| k as u32).or(other),
            }
            .unwrap_or(u32::MAX)
        })
        .collect();
    Ok(Block::OneHot { codes, width })
}
