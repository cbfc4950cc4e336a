//! Implicit (behaviour) points at an as-of time, per lead and per rule.
//!
//! Input: the canonical events scan and the leads (their row order defines the lead index).
//! Output: per lead and implicit rule, how often the rule fired and how many points it gave at
//! the as-of time, after decay and caps. Polars matches events to rules (vectorised, streaming)
//! and sorts them by lead and time; a rayon loop over leads then applies the order-dependent
//! parts (progressive points, half-life weights, caps) that need each lead's events in sequence.
//!
//! Semantics (also in `docs/scoring-model.md`): only events at or before the as-of time count.
//! Under a window of d days an event counts while its age is at most d days; expired events are
//! forgotten, so progressive numbering restarts from the oldest event still inside the window.
//! Under a half-life h, the n-th event's progressive points are weighted by 0.5^(age / h).
//! Caps bound the rule's total after decay.

use polars::prelude::*;
use rayon::prelude::*;

use super::config::{Decay, ImplicitRule, Points, ScoringModel};
use crate::error::{Error, Result};

const DAY: f64 = 86_400_000_000.0;

/// Events matched to rules, sorted by lead and time.
pub struct MatchedEvents {
    /// Start offset of each lead's events (length = leads + 1).
    offsets: Vec<usize>,
    time: Vec<i64>,
    /// Bit r is set when the event matches implicit rule r.
    mask: Vec<u64>,
}

fn one_of(column: &str, values: &[String]) -> Expr {
    let set = Series::new("v".into(), values.to_vec());
    col(column)
        .is_in(lit(set).implode(false), false)
        .fill_null(false)
}

/// The polars predicate of one rule.
pub fn rule_predicate(model: &ScoringModel, rule: &ImplicitRule, schema: &Schema) -> Result<Expr> {
    let mut e = col("event_type")
        .eq(lit(rule.event_type.as_str()))
        .fill_null(false);
    for (column, values) in [
        ("topic", &rule.topic),
        ("asset_id", &rule.asset_id),
        ("channel", &rule.channel),
    ] {
        if values.is_empty() {
            continue;
        }
        if schema.get(column).is_none() {
            return Err(Error::Model(crate::scoring::config::ModelError {
                path: model.path.clone(),
                line: rule.line,
                key: column.to_string(),
                message: format!(
                    "rule `{}` filters on `{column}`, but the events table has no {column} column",
                    rule.name
                ),
            }));
        }
        e = e.and(one_of(column, values));
    }
    Ok(e)
}

impl MatchedEvents {
    /// Match `events` to the model's implicit rules for the leads in `lead_ids` (in that order),
    /// keeping events at or before `until` (microseconds).
    pub fn build(
        events: LazyFrame,
        lead_ids: &Column,
        model: &ScoringModel,
        until: i64,
    ) -> Result<Self> {
        let n_rules = model.implicit.len();
        if n_rules > 64 {
            return Err(Error::Usage(format!(
                "the model has {n_rules} implicit rules; at most 64 are supported"
            )));
        }
        let n_leads = lead_ids.len();
        let mut events = events;
        let schema = events
            .collect_schema()
            .map_err(Error::polars("reading the events schema"))?;
        let mut mask = lit(0u64).cast(DataType::UInt64);
        for (r, rule) in model.implicit.iter().enumerate() {
            let bit = when(rule_predicate(model, rule, &schema)?)
                .then(lit(1u64 << r))
                .otherwise(lit(0u64));
            mask = mask + bit;
        }
        let index = DataFrame::new(
            n_leads,
            vec![
                lead_ids.clone().with_name("lead_id".into()),
                Column::new("__idx".into(), (0..n_leads as u32).collect::<Vec<u32>>()),
            ],
        )
        .map_err(Error::polars("indexing leads"))?;
        let t = col("occurred_at").cast(DataType::Int64);
        let df = events
            .filter(t.clone().lt_eq(lit(until)))
            .select([col("lead_id"), t.alias("t"), mask.alias("mask")])
            .filter(col("mask").neq(lit(0u64).cast(DataType::UInt64)))
            .join(
                index.lazy(),
                [col("lead_id")],
                [col("lead_id")],
                JoinArgs::new(JoinType::Inner),
            )
            .select([col("__idx"), col("t"), col("mask")])
            .collect_with_engine(Engine::Streaming)
            .map_err(Error::polars("matching events to rules"))?
            .unwrap_single();
        let get = |c: &str| df.column(c).map_err(Error::polars("matched events"));
        let idx = get("__idx")?.u32().map_err(Error::polars("idx"))?;
        let time = get("t")?.i64().map_err(Error::polars("t"))?;
        let mask = get("mask")?.u64().map_err(Error::polars("mask"))?;
        // Counting sort by lead, then each lead's few events by time (and mask, so that ties
        // are ordered deterministically): cheaper than a global two-key sort of every event.
        // The columns are read straight into place, without intermediate copies.
        let mut offsets = vec![0usize; n_leads + 1];
        for i in idx.iter().flatten() {
            offsets[i as usize + 1] += 1;
        }
        for k in 0..n_leads {
            offsets[k + 1] += offsets[k];
        }
        let mut pairs = vec![(0i64, 0u64); offsets[n_leads]];
        let mut next = offsets.clone();
        for ((i, t), m) in idx.iter().zip(time.iter()).zip(mask.iter()) {
            let (Some(i), Some(t), Some(m)) = (i, t, m) else {
                continue;
            };
            let slot = &mut next[i as usize];
            pairs[*slot] = (t, m);
            *slot += 1;
        }
        drop(df);
        let mut rest: &mut [(i64, u64)] = &mut pairs;
        let mut slices = Vec::with_capacity(n_leads);
        for k in 0..n_leads {
            let (head, tail) = rest.split_at_mut(offsets[k + 1] - offsets[k]);
            slices.push(head);
            rest = tail;
        }
        slices.into_par_iter().for_each(|s| s.sort_unstable());
        let (time, mask) = pairs.into_iter().unzip();
        Ok(MatchedEvents {
            offsets,
            time,
            mask,
        })
    }

    /// Fire counts and points per lead (rows) and rule (columns) at `as_of`; leads created after
    /// `as_of` get zeros (the caller leaves them out).
    pub fn contributions(&self, model: &ScoringModel, as_of: i64) -> (Vec<u32>, Vec<f64>) {
        let n_rules = model.implicit.len();
        let n_leads = self.offsets.len() - 1;
        let mut fires = vec![0u32; n_leads * n_rules];
        let mut points = vec![0f64; n_leads * n_rules];
        fires
            .par_chunks_mut(n_rules.max(1))
            .zip(points.par_chunks_mut(n_rules.max(1)))
            .enumerate()
            .for_each(|(lead, (f, p))| {
                let (a, b) = (self.offsets[lead], self.offsets[lead + 1]);
                let (times, masks) = (&self.time[a..b], &self.mask[a..b]);
                for (r, rule) in model.implicit.iter().enumerate() {
                    let (n, pts) = rule_at(rule, times, masks, 1u64 << r, as_of);
                    f[r] = n;
                    p[r] = pts;
                }
            });
        (fires, points)
    }
}

/// The n-th (1-based) occurrence's points.
fn nth(points: &Points, n: usize) -> f64 {
    match points {
        Points::Each(p) => *p,
        Points::Progressive(v) => v[(n - 1).min(v.len() - 1)],
    }
}

/// One rule on one lead's time-sorted events: (fires, points) at `as_of`.
pub fn rule_at(
    rule: &ImplicitRule,
    times: &[i64],
    masks: &[u64],
    bit: u64,
    as_of: i64,
) -> (u32, f64) {
    let lo = match rule.decay {
        Decay::Window { days } => as_of - (days * DAY) as i64,
        _ => i64::MIN,
    };
    let mut n = 0usize;
    let mut total = 0.0;
    for (&t, &m) in times.iter().zip(masks) {
        if t > as_of {
            break;
        }
        if m & bit == 0 || t < lo {
            continue;
        }
        n += 1;
        let w = match rule.decay {
            Decay::HalfLife { days } => 0.5f64.powf((as_of - t) as f64 / (days * DAY)),
            _ => 1.0,
        };
        total += nth(&rule.points, n) * w;
    }
    if let Some(c) = rule.cap {
        total = if c > 0.0 { total.min(c) } else { total.max(c) };
    }
    (n as u32, total)
}

/// Sum of the points of the first `n` occurrences.
fn prog_sum(points: &Points, n: usize) -> f64 {
    match points {
        Points::Each(p) => *p * n as f64,
        Points::Progressive(v) => {
            let k = n.min(v.len());
            v[..k].iter().sum::<f64>() + (n - k) as f64 * v[v.len() - 1]
        }
    }
}

fn cap(rule: &ImplicitRule, total: f64) -> f64 {
    match rule.cap {
        Some(c) if c > 0.0 => total.min(c),
        Some(c) => total.max(c),
        None => total,
    }
}

/// Reject models whose running score can rise between events in a way the replay does not
/// solve: negative points under a half-life decay rise continuously towards 0.
pub fn check_replayable(model: &ScoringModel) -> Result<()> {
    for r in &model.implicit {
        let negative = match &r.points {
            Points::Each(p) => *p < 0.0,
            Points::Progressive(v) => v.iter().any(|p| *p < 0.0),
        };
        if negative && matches!(r.decay, Decay::HalfLife { .. }) {
            return Err(Error::Usage(format!(
                "{}: line {}: rule `{}`: the hand-over replay does not support negative points with a half-life yet (use window_days or no_decay for this rule)",
                model.path.display(),
                r.line,
                r.name
            )));
        }
    }
    Ok(())
}

impl MatchedEvents {
    /// For every lead, the first moment (µs) at or before `until` at which its running total
    /// score reached each threshold, or `None`. `explicit` and `created` are per lead, in the
    /// order the events were built with. The running score changes only at event times and,
    /// under a window, just after an event's points expire (age > window); the sweep evaluates
    /// exactly those moments, with per-rule state updated incrementally.
    pub fn first_crossings(
        &self,
        model: &ScoringModel,
        explicit: &[f64],
        created: &[i64],
        until: i64,
        thresholds: &[f64],
    ) -> Result<Vec<Vec<Option<i64>>>> {
        check_replayable(model)?;
        let n_leads = self.offsets.len() - 1;
        let out = (0..n_leads)
            .into_par_iter()
            .map(|lead| {
                let (a, b) = (self.offsets[lead], self.offsets[lead + 1]);
                replay_lead(
                    model,
                    &self.time[a..b],
                    &self.mask[a..b],
                    explicit[lead],
                    created[lead],
                    until,
                    thresholds,
                )
            })
            .collect();
        Ok(out)
    }
}

fn replay_lead(
    model: &ScoringModel,
    times: &[i64],
    masks: &[u64],
    explicit: f64,
    created: i64,
    until: i64,
    thresholds: &[f64],
) -> Vec<Option<i64>> {
    let mut found: Vec<Option<i64>> = vec![None; thresholds.len()];
    let rules = &model.implicit;
    let per_rule: Vec<Vec<i64>> = (0..rules.len())
        .map(|r| {
            times
                .iter()
                .zip(masks)
                .filter(|(_, m)| *m & (1u64 << r) != 0)
                .map(|(t, _)| *t)
                .collect()
        })
        .collect();
    let window = |r: &ImplicitRule| match r.decay {
        Decay::Window { days } => Some((days * DAY) as i64),
        _ => None,
    };
    let mut candidates = vec![created];
    for (r, ev) in rules.iter().zip(&per_rule) {
        candidates.extend(ev.iter().copied());
        if let Some(w) = window(r) {
            candidates.extend(ev.iter().map(|t| t + w + 1));
        }
    }
    candidates.retain(|&c| c >= created && c <= until);
    candidates.sort_unstable();
    candidates.dedup();
    // Per rule: events counted so far (hi), first event still in the window (lo), and the
    // half-life value at time tau.
    let mut hi = vec![0usize; rules.len()];
    let mut lo = vec![0usize; rules.len()];
    let mut value = vec![0f64; rules.len()];
    let mut tau = vec![0i64; rules.len()];
    for c in candidates {
        let mut score = explicit;
        for (r, rule) in rules.iter().enumerate() {
            let ev = &per_rule[r];
            let pts = match rule.decay {
                Decay::HalfLife { days } => {
                    let h = days * DAY;
                    while hi[r] < ev.len() && ev[hi[r]] <= c {
                        let t = ev[hi[r]];
                        value[r] = value[r] * 0.5f64.powf((t - tau[r]) as f64 / h)
                            + nth(&rule.points, hi[r] + 1);
                        tau[r] = t;
                        hi[r] += 1;
                    }
                    value[r] * 0.5f64.powf((c - tau[r]) as f64 / h)
                }
                Decay::Window { days } => {
                    while hi[r] < ev.len() && ev[hi[r]] <= c {
                        hi[r] += 1;
                    }
                    let start = c - (days * DAY) as i64;
                    while lo[r] < hi[r] && ev[lo[r]] < start {
                        lo[r] += 1;
                    }
                    prog_sum(&rule.points, hi[r] - lo[r])
                }
                Decay::None => {
                    while hi[r] < ev.len() && ev[hi[r]] <= c {
                        hi[r] += 1;
                    }
                    prog_sum(&rule.points, hi[r])
                }
            };
            score += cap(rule, pts);
        }
        for (k, thr) in thresholds.iter().enumerate() {
            if found[k].is_none() && score >= *thr {
                found[k] = Some(c);
            }
        }
        if found.iter().all(Option::is_some) {
            break;
        }
    }
    found
}
