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

use std::sync::{Arc, Mutex};

use polars::prelude::*;
use rayon::prelude::*;

use super::config::{Decay, ImplicitRule, Points, ScoringModel};
use crate::error::{Error, Result};

use crate::units::DAY_US_F as DAY;

/// Events matched to rules, sorted by lead and time.
pub struct MatchedEvents {
    /// Start offset of each lead's events (length = leads + 1).
    offsets: Vec<usize>,
    /// (time in µs, rule mask): bit r is set when the event matches implicit rule r.
    events: Vec<(i64, u64)>,
}

/// `column` equals one of `values` (false for null). An `or` of equalities, not `is_in` with a
/// literal list: the list is a scalar beside the event columns, and the streaming engine then
/// splits the scan into two branches and buffers one of them (10 GB at 525M events).
fn one_of(column: &str, values: &[String]) -> Expr {
    values
        .iter()
        .map(|v| col(column).eq(lit(v.as_str())))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false))
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
            return Err(Error::from(crate::scoring::config::ModelError {
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
    /// Most matched events collected into one polars result (20 bytes each) before they are
    /// sorted into the per-lead buffer (16 bytes each). Above it (10M leads / 525M events) the
    /// events are scanned twice instead, once to count them per lead and once to write each
    /// batch straight into its place, so the query's result and the buffer are never both
    /// whole in memory.
    pub const EVENTS_IN_ONE_RESULT: u64 = 150_000_000;

    /// Match `events` to the model's implicit rules for the leads in `lead_ids` (in that order),
    /// keeping events at or before `until` (microseconds). `max_events` bounds how many events
    /// can match (the events table's usable rows) and decides between one scan and two; the
    /// result is the same either way.
    pub fn build(
        events: LazyFrame,
        lead_ids: &Column,
        model: &ScoringModel,
        until: i64,
        max_events: u64,
    ) -> Result<Self> {
        let two_scans = max_events > Self::EVENTS_IN_ONE_RESULT;
        Self::build_with(events, lead_ids, model, until, two_scans)
    }

    fn build_with(
        events: LazyFrame,
        lead_ids: &Column,
        model: &ScoringModel,
        until: i64,
        two_scans: bool,
    ) -> Result<Self> {
        let n_rules = model.implicit.len();
        if n_rules > 64 {
            return Err(Error::Usage(format!(
                "the model has {n_rules} implicit rules; at most 64 are supported"
            )));
        }
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
        let t = col("occurred_at").cast(DataType::Int64);
        let matched = events.filter(t.clone().lt_eq(lit(until))).select([
            col("lead_id"),
            t.alias("t"),
            mask.alias("mask"),
        ]);
        Self::from_matched(matched, lead_ids, two_scans)
    }

    /// Events already matched in a warehouse (`leadcal sql --with-events`): `table` has
    /// `lead_id` and, per lead, the lists `lc_t` (µs) and `lc_mask` of its matched events.
    /// Events after `until` are left out, as [`Self::build`] leaves them out.
    pub fn from_lists(
        table: LazyFrame,
        lead_ids: &Column,
        until: i64,
        max_events: u64,
    ) -> Result<Self> {
        let matched = table
            .select([col("lead_id"), col("lc_t"), col("lc_mask")])
            .explode(
                by_name(["lc_t", "lc_mask"], true, false),
                ExplodeOptions {
                    empty_as_null: false,
                    keep_nulls: false,
                },
            )
            .select([
                col("lead_id"),
                col("lc_t").cast(DataType::Int64).alias("t"),
                col("lc_mask").cast(DataType::UInt64).alias("mask"),
            ])
            .filter(col("t").lt_eq(lit(until)));
        Self::from_matched(matched, lead_ids, max_events > Self::EVENTS_IN_ONE_RESULT)
    }

    /// Place matched events (`lead_id`, `t`, `mask`) by lead, in `lead_ids` order, each lead's
    /// sorted by time and mask.
    fn from_matched(matched: LazyFrame, lead_ids: &Column, two_scans: bool) -> Result<Self> {
        let n_leads = lead_ids.len();
        let index = DataFrame::new(
            n_leads,
            vec![
                lead_ids.clone().with_name("lead_id".into()),
                Column::new("__idx".into(), (0..n_leads as u32).collect::<Vec<u32>>()),
            ],
        )
        .map_err(Error::polars("indexing leads"))?;
        let matched = matched
            .filter(col("mask").neq(lit(0u64).cast(DataType::UInt64)))
            .join(
                index.lazy(),
                [col("lead_id")],
                [col("lead_id")],
                JoinArgs::new(JoinType::Inner).with_build_side(Some(JoinBuildSide::ForceRight)),
            )
            .select([col("__idx"), col("t"), col("mask")]);
        let (offsets, mut events) = if two_scans {
            Self::scatter_streamed(matched, n_leads)?
        } else {
            Self::scatter_collected(matched, n_leads)?
        };
        // Each lead's few events by time (and mask, so that ties are ordered
        // deterministically): cheaper than a global two-key sort of every event.
        let _t = crate::timing::Stage::start("match: sort per lead");
        let mut rest: &mut [(i64, u64)] = &mut events;
        let mut slices = Vec::with_capacity(n_leads);
        for k in 0..n_leads {
            let (head, tail) = rest.split_at_mut(offsets[k + 1] - offsets[k]);
            slices.push(head);
            rest = tail;
        }
        slices.into_par_iter().for_each(|s| s.sort_unstable());
        Ok(MatchedEvents { offsets, events })
    }

    /// A zeroed buffer of `n` events whose pages are touched in parallel: on this class of
    /// (virtual) machine a first-touch page fault costs microseconds, and taking 170k of them
    /// inside the sequential scatter doubled its time.
    fn touched(n: usize) -> Vec<(i64, u64)> {
        let mut events = vec![(0i64, 0u64); n];
        events.par_chunks_mut(1 << 16).for_each(|c| c.fill((0, 0)));
        events
    }

    /// One scan: collect every matched event, then a counting sort by lead.
    fn scatter_collected(matched: LazyFrame, n_leads: usize) -> Result<Sorted> {
        let _t = crate::timing::Stage::start("match: query");
        let mut df = matched
            .collect_with_engine(Engine::Streaming)
            .map_err(Error::polars("matching events to rules"))?
            .unwrap_single();
        if aligned_chunks(&df).is_err() {
            df.rechunk_mut_par();
        }
        drop(_t);
        let _t = crate::timing::Stage::start("match: scatter");
        let chunks = aligned_chunks(&df)?;
        let mut offsets = vec![0usize; n_leads + 1];
        for (idx, _, _) in &chunks {
            for &i in *idx {
                offsets[i as usize + 1] += 1;
            }
        }
        for k in 0..n_leads {
            offsets[k + 1] += offsets[k];
        }
        let mut events = Self::touched(offsets[n_leads]);
        let mut next = offsets.clone();
        for (idx, time, mask) in &chunks {
            for ((&i, &t), &m) in idx.iter().zip(*time).zip(*mask) {
                let slot = &mut next[i as usize];
                events[*slot] = (t, m);
                *slot += 1;
            }
        }
        Ok((offsets, events))
    }

    /// Two scans: count the matched events per lead, then write each streamed batch straight
    /// into its leads' places.
    fn scatter_streamed(matched: LazyFrame, n_leads: usize) -> Result<Sorted> {
        let _t = crate::timing::Stage::start("match: counting scan");
        let counts = matched
            .clone()
            .group_by([col("__idx")])
            .agg([len().cast(DataType::UInt64).alias("n")])
            .collect_with_engine(Engine::Streaming)
            .map_err(Error::polars("counting matched events"))?
            .unwrap_single();
        let mut offsets = vec![0usize; n_leads + 1];
        let get = |c: &str| {
            counts
                .column(c)
                .map(|c| c.as_materialized_series().clone())
                .map_err(Error::polars("counting matched events"))
        };
        let (idx, n) = (get("__idx")?, get("n")?);
        let (idx, n) = (
            idx.u32().map_err(Error::polars("lead index"))?,
            n.u64().map_err(Error::polars("counts"))?,
        );
        for (i, k) in idx.iter().zip(n.iter()) {
            if let (Some(i), Some(k)) = (i, k) {
                offsets[i as usize + 1] = k as usize;
            }
        }
        for k in 0..n_leads {
            offsets[k + 1] += offsets[k];
        }
        let total = offsets[n_leads];
        drop(_t);
        let _t = crate::timing::Stage::start("match: scan writing into place");
        let state = Arc::new(Mutex::new((
            offsets[..n_leads].to_vec(),
            Self::touched(total),
        )));
        let (sink_state, ends) = (state.clone(), Arc::new(offsets[1..].to_vec()));
        let overflow = || PolarsError::ComputeError("matched events changed between scans".into());
        matched
            .sink_batches(
                PlanCallback::new(move |mut df: DataFrame| {
                    if aligned_chunks(&df).is_err() {
                        df.rechunk_mut_par();
                    }
                    let chunks = aligned_chunks(&df)
                        .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
                    let mut guard = sink_state.lock().unwrap_or_else(|e| e.into_inner());
                    let (next, events) = &mut *guard;
                    for (idx, time, mask) in &chunks {
                        for ((&i, &t), &m) in idx.iter().zip(*time).zip(*mask) {
                            let slot = &mut next[i as usize];
                            if *slot >= ends[i as usize] {
                                return Err(overflow());
                            }
                            events[*slot] = (t, m);
                            *slot += 1;
                        }
                    }
                    Ok(false)
                }),
                false,
                None,
            )
            .and_then(|q| q.collect_with_engine(Engine::Streaming))
            .map_err(Error::polars("matching events to rules"))?;
        let (next, events) = Arc::try_unwrap(state)
            .map_err(|_| Error::Internal("matched events still shared".into()))?
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        if next != offsets[1..] {
            return Err(Error::Internal(
                "matched events changed between scans".into(),
            ));
        }
        Ok((offsets, events))
    }

    /// One lead's events: (time in µs, rule mask), sorted.
    fn lead(&self, lead: usize) -> &[(i64, u64)] {
        &self.events[self.offsets[lead]..self.offsets[lead + 1]]
    }

    /// Fire counts and points per lead (rows) and rule (columns) at `as_of`; leads created after
    /// `as_of` get zeros (the caller leaves them out).
    pub fn contributions(&self, model: &ScoringModel, as_of: i64) -> (Vec<u32>, Vec<f64>) {
        self.contributions_at(model, |_| as_of)
    }

    /// [`Self::contributions`] with a time per lead (each lead's snapshot, for example).
    pub fn contributions_at(
        &self,
        model: &ScoringModel,
        as_of: impl Fn(usize) -> i64 + Sync,
    ) -> (Vec<u32>, Vec<f64>) {
        let n_rules = model.implicit.len();
        let n_leads = self.offsets.len() - 1;
        let mut fires = vec![0u32; n_leads * n_rules];
        let mut points = vec![0f64; n_leads * n_rules];
        if n_rules == 0 {
            return (fires, points);
        }
        fires
            .par_chunks_mut(n_rules)
            .zip(points.par_chunks_mut(n_rules))
            .enumerate()
            .for_each(|(lead, (f, p))| {
                let events = self.lead(lead);
                let t = as_of(lead);
                for (r, rule) in model.implicit.iter().enumerate() {
                    let (n, pts) = rule_at(rule, events, 1u64 << r, t);
                    f[r] = n;
                    p[r] = pts;
                }
            });
        (fires, points)
    }
}

/// Per-lead offsets and the events placed by lead (each lead's events not yet sorted).
type Sorted = (Vec<usize>, Vec<(i64, u64)>);

/// The matched events' columns (`__idx`, `t`, `mask`) as aligned slices, chunk by chunk,
/// without copying them into one buffer first.
type Slices<'a> = Vec<(&'a [u32], &'a [i64], &'a [u64])>;

fn aligned_chunks(df: &DataFrame) -> Result<Slices<'_>> {
    let internal = |what: &str| Error::Internal(format!("matched events: {what}"));
    let get = |c: &str| {
        df.column(c)
            .map(|c| c.as_materialized_series())
            .map_err(Error::polars("matched events"))
    };
    let idx = get("__idx")?.u32().map_err(Error::polars("lead index"))?;
    let time = get("t")?.i64().map_err(Error::polars("times"))?;
    let mask = get("mask")?.u64().map_err(Error::polars("masks"))?;
    if idx.null_count() + time.null_count() + mask.null_count() > 0 {
        return Err(internal("unexpected nulls"));
    }
    let out: Slices = idx
        .downcast_iter()
        .zip(time.downcast_iter())
        .zip(mask.downcast_iter())
        .map(|((i, t), m)| {
            (
                i.values().as_slice(),
                t.values().as_slice(),
                m.values().as_slice(),
            )
        })
        .collect();
    let aligned = idx.chunks().len() == time.chunks().len()
        && idx.chunks().len() == mask.chunks().len()
        && out
            .iter()
            .all(|(i, t, m)| i.len() == t.len() && i.len() == m.len());
    if !aligned {
        return Err(internal("columns are not chunked alike"));
    }
    Ok(out)
}

/// The n-th (1-based) occurrence's points.
fn nth(points: &Points, n: usize) -> f64 {
    match points {
        Points::Each(p) => *p,
        Points::Progressive(v) => v[(n - 1).min(v.len() - 1)],
    }
}

/// One rule on one lead's time-sorted events: (fires, points) at `as_of`.
pub fn rule_at(rule: &ImplicitRule, events: &[(i64, u64)], bit: u64, as_of: i64) -> (u32, f64) {
    let lo = match rule.decay {
        Decay::Window { days } => as_of - (days * DAY) as i64,
        _ => i64::MIN,
    };
    let mut n = 0usize;
    let mut total = 0.0;
    for &(t, m) in events {
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
    /// exactly those moments, with per-rule state updated incrementally. A lead whose score
    /// cannot reach a threshold even with every positive point at once is skipped.
    pub fn first_crossings(
        &self,
        model: &ScoringModel,
        explicit: &[f64],
        created: &[i64],
        until: i64,
        thresholds: &[f64],
    ) -> Result<Vec<Vec<Option<i64>>>> {
        let all: Vec<usize> = (0..self.offsets.len() - 1).collect();
        self.first_crossings_of(model, &all, explicit, created, until, thresholds)
    }

    /// [`Self::first_crossings`] for the leads `leads` only (indices into the lead order;
    /// `explicit` and `created` stay indexed by lead), in that order.
    pub fn first_crossings_of(
        &self,
        model: &ScoringModel,
        leads: &[usize],
        explicit: &[f64],
        created: &[i64],
        until: i64,
        thresholds: &[f64],
    ) -> Result<Vec<Vec<Option<i64>>>> {
        check_replayable(model)?;
        let out = leads
            .par_iter()
            .map_init(
                || Replay::new(model),
                |rp, &lead| {
                    rp.lead(
                        self.lead(lead),
                        explicit[lead],
                        created[lead],
                        until,
                        thresholds,
                    )
                },
            )
            .collect();
        Ok(out)
    }
}

/// Scratch state of the hand-over replay, reused across the leads one thread handles.
struct Replay<'m> {
    rules: &'m [ImplicitRule],
    /// Window length in µs per rule, if the rule decays by a window.
    window: Vec<Option<i64>>,
    /// Half-life in µs per rule, if the rule decays by a half-life.
    half_life: Vec<Option<f64>>,
    candidates: Vec<i64>,
    /// Events of the rule seen so far, and (window rules) those expired.
    seen: Vec<usize>,
    expired: Vec<usize>,
    /// Per window rule: position of the next event not yet expired.
    lo: Vec<usize>,
    /// Half-life rules: value just after the last event, and that event's time.
    value: Vec<f64>,
    tau: Vec<i64>,
    /// Current contribution of each rule after decay and cap.
    points: Vec<f64>,
}

impl<'m> Replay<'m> {
    fn new(model: &'m ScoringModel) -> Self {
        let rules = &model.implicit[..];
        let n = rules.len();
        Replay {
            rules,
            window: rules
                .iter()
                .map(|r| match r.decay {
                    Decay::Window { days } => Some((days * DAY) as i64),
                    _ => None,
                })
                .collect(),
            half_life: rules
                .iter()
                .map(|r| match r.decay {
                    Decay::HalfLife { days } => Some(days * DAY),
                    _ => None,
                })
                .collect(),
            candidates: Vec::new(),
            seen: vec![0; n],
            expired: vec![0; n],
            lo: vec![0; n],
            value: vec![0.0; n],
            tau: vec![0; n],
            points: vec![0.0; n],
        }
    }

    /// The highest score the lead could ever have: every positive point of its events at once.
    fn ceiling(&self, events: &[(i64, u64)], explicit: f64, until: i64) -> f64 {
        let mut total = explicit;
        for (r, rule) in self.rules.iter().enumerate() {
            let bit = 1u64 << r;
            let n = events
                .iter()
                .take_while(|(t, _)| *t <= until)
                .filter(|(_, m)| m & bit != 0)
                .count();
            let positive: f64 = (1..=n).map(|k| nth(&rule.points, k).max(0.0)).sum();
            total += match rule.cap {
                Some(c) if c > 0.0 => positive.min(c),
                _ => positive,
            };
        }
        total
    }

    fn lead(
        &mut self,
        events: &[(i64, u64)],
        explicit: f64,
        created: i64,
        until: i64,
        thresholds: &[f64],
    ) -> Vec<Option<i64>> {
        let mut found: Vec<Option<i64>> = vec![None; thresholds.len()];
        // Thresholds the lead can never reach are settled (None) from the start.
        let ceiling = self.ceiling(events, explicit, until);
        let mut open = thresholds.iter().filter(|thr| ceiling >= **thr).count();
        if open == 0 || created > until {
            return found;
        }
        let rules = self.rules;
        self.candidates.clear();
        self.candidates.push(created);
        for &(t, m) in events {
            self.candidates.push(t);
            for (r, w) in self.window.iter().enumerate() {
                if let Some(w) = w
                    && m & (1u64 << r) != 0
                {
                    self.candidates.push(t + w + 1);
                }
            }
        }
        self.candidates.retain(|&c| c >= created && c <= until);
        self.candidates.sort_unstable();
        self.candidates.dedup();
        self.seen.iter_mut().for_each(|v| *v = 0);
        self.expired.iter_mut().for_each(|v| *v = 0);
        self.lo.iter_mut().for_each(|v| *v = 0);
        self.value.iter_mut().for_each(|v| *v = 0.0);
        self.points.iter_mut().for_each(|v| *v = 0.0);
        let mut next = 0usize;
        for ci in 0..self.candidates.len() {
            let c = self.candidates[ci];
            // Events at or before c.
            while next < events.len() && events[next].0 <= c {
                let (t, m) = events[next];
                let mut bits = m;
                while bits != 0 {
                    let r = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if r >= rules.len() {
                        continue;
                    }
                    self.seen[r] += 1;
                    if let Some(h) = self.half_life[r] {
                        self.value[r] = self.value[r] * 0.5f64.powf((t - self.tau[r]) as f64 / h)
                            + nth(&rules[r].points, self.seen[r]);
                        self.tau[r] = t;
                    }
                }
                next += 1;
            }
            for (r, rule) in rules.iter().enumerate() {
                let raw = if let Some(h) = self.half_life[r] {
                    self.value[r] * 0.5f64.powf((c - self.tau[r]) as f64 / h)
                } else if let Some(w) = self.window[r] {
                    let start = c - w;
                    let bit = 1u64 << r;
                    while self.lo[r] < next && events[self.lo[r]].0 < start {
                        if events[self.lo[r]].1 & bit != 0 {
                            self.expired[r] += 1;
                        }
                        self.lo[r] += 1;
                    }
                    prog_sum(&rule.points, self.seen[r] - self.expired[r])
                } else {
                    prog_sum(&rule.points, self.seen[r])
                };
                self.points[r] = cap(rule, raw);
            }
            let score = explicit + self.points.iter().sum::<f64>();
            for (k, thr) in thresholds.iter().enumerate() {
                if found[k].is_none() && score >= *thr {
                    found[k] = Some(c);
                    open -= 1;
                }
            }
            if open == 0 {
                break;
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::Path;

    const T0: i64 = 1_700_000_000_000_000;

    /// A model with rules 0..n of every decay kind, from generated points.
    fn model(rules: &[(i32, Option<i32>, u8, bool)]) -> ScoringModel {
        let mut text = String::from("[thresholds]\nmql = 20\nsql = 45\n");
        for (r, (p, cap, decay, progressive)) in rules.iter().enumerate() {
            let points = if *progressive {
                format!("progressive = [{p}, {}, {}]", p * 2, p * 3)
            } else {
                format!("points = {p}")
            };
            let cap = cap
                .map(|c| format!("cap = {}\n", c * p.signum()))
                .unwrap_or_default();
            // Negative points under a half-life are rejected by the replay: use a window.
            let decay = match (decay % 3, *p < 0) {
                (0, _) => "no_decay = true".to_string(),
                (1, _) | (2, true) => format!("window_days = {}", 3 + r * 4),
                _ => format!("half_life_days = {}", 5 + r * 3),
            };
            text.push_str(&format!(
                "[[implicit]]\nname = \"r{r}\"\nevent_type = \"e{r}\"\n{points}\n{cap}{decay}\n"
            ));
        }
        ScoringModel::parse(&text, Path::new("generated.toml")).unwrap()
    }

    #[test]
    fn matching_in_two_scans_gives_the_one_scan_result() {
        let m = model(&[
            (5, None, 0, false),
            (3, Some(2), 1, true),
            (-2, None, 1, false),
        ]);
        // 40 leads (ids 100..140, one without events), events in no particular order, ties.
        let mut lead = Vec::new();
        let mut time = Vec::new();
        let mut kind = Vec::new();
        for k in 0..400i64 {
            let id = 100 + (k * 37) % 39;
            lead.push(id);
            time.push(T0 + ((k * 7919) % 50) * 1_000_000);
            kind.push(format!("e{}", k % 4));
        }
        let n_events = lead.len() as u64;
        let events = df!(
            "lead_id" => lead,
            "occurred_at" => time,
            "event_type" => kind,
        )
        .unwrap()
        .lazy()
        .with_column(col("occurred_at").cast(DataType::Datetime(TimeUnit::Microseconds, None)));
        let ids = Column::new("lead_id".into(), (100i64..140).rev().collect::<Vec<i64>>());
        let until = T0 + 40 * 1_000_000;
        let one = MatchedEvents::build_with(events.clone(), &ids, &m, until, false).unwrap();
        assert!(one.events.len() > 100 && one.events.len() < 400);
        let two = MatchedEvents::build_with(events, &ids, &m, until, true).unwrap();
        assert_eq!(two.offsets, one.offsets);
        assert_eq!(two.events, one.events);
        assert!(MatchedEvents::EVENTS_IN_ONE_RESULT > n_events);
    }

    fn rules() -> impl Strategy<Value = Vec<(i32, Option<i32>, u8, bool)>> {
        prop::collection::vec(
            (
                prop_oneof![-12i32..=-1, 1i32..=15],
                prop::option::of(5i32..=40),
                0u8..3,
                any::<bool>(),
            ),
            1..5,
        )
    }

    /// Events as (day offset in hours, rule) pairs, sorted into the matched representation.
    fn matched(events: &[(i64, usize)], n_rules: usize) -> MatchedEvents {
        let mut ev: Vec<(i64, u64)> = events
            .iter()
            .map(|(h, r)| (T0 + h * 3_600_000_000, 1u64 << (r % n_rules)))
            .collect();
        ev.sort_unstable();
        MatchedEvents {
            offsets: vec![0, ev.len()],
            events: ev,
        }
    }

    fn score_at(m: &ScoringModel, ev: &[(i64, u64)], explicit: f64, t: i64) -> f64 {
        let implicit: f64 = (0..m.implicit.len())
            .map(|r| rule_at(&m.implicit[r], ev, 1u64 << r, t).1)
            .sum();
        explicit + implicit
    }

    proptest! {
        // Seeded, and failures are printed rather than saved, so runs are repeatable.
        #![proptest_config(ProptestConfig {
            cases: 400,
            rng_seed: proptest::test_runner::RngSeed::Fixed(20261122),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// The incremental sweep (with its ceiling shortcut) finds the same first crossings as
        /// evaluating the full score at every moment the score can change.
        #[test]
        fn replay_agrees_with_scoring_at_every_change_point(
            spec in rules(),
            events in prop::collection::vec((0i64..24 * 60, 0usize..8), 0..40),
            explicit in -10i32..40,
            created_h in -48i64..48,
        ) {
            let m = model(&spec);
            let me = matched(&events, spec.len());
            let created = T0 + created_h * 3_600_000_000;
            let until = T0 + 24 * 70 * 3_600_000_000;
            let thresholds = [m.mql, m.sql];
            let got = me
                .first_crossings(&m, &[explicit as f64], &[created], until, &thresholds)
                .unwrap()
                .remove(0);
            let mut moments = vec![created];
            for &(t, bits) in &me.events {
                moments.push(t);
                for (r, rule) in m.implicit.iter().enumerate() {
                    if let Decay::Window { days } = rule.decay && bits & (1 << r) != 0 {
                        moments.push(t + (days * DAY) as i64 + 1);
                    }
                }
            }
            moments.retain(|&c| c >= created && c <= until);
            moments.sort_unstable();
            moments.dedup();
            let want: Vec<Option<i64>> = thresholds
                .iter()
                .map(|thr| {
                    moments
                        .iter()
                        .copied()
                        .find(|&c| score_at(&m, &me.events, explicit as f64, c) >= *thr)
                })
                .collect();
            prop_assert_eq!(got, want);
        }

        /// Adding an event of a rule whose points are all positive never lowers the score at
        /// any later time, under any decay or cap.
        #[test]
        fn an_event_with_positive_points_never_lowers_a_later_score(
            spec in rules(),
            events in prop::collection::vec((0i64..24 * 60, 0usize..8), 0..40),
            extra in (0i64..24 * 60, 0usize..8),
            later_h in 0i64..24 * 70,
        ) {
            let m = model(&spec);
            let r = extra.1 % spec.len();
            prop_assume!(spec[r].0 > 0);
            let before = matched(&events, spec.len());
            let mut with = events.clone();
            with.push(extra);
            let after = matched(&with, spec.len());
            let t = T0 + (extra.0 + later_h) * 3_600_000_000;
            let (a, b) = (score_at(&m, &before.events, 0.0, t), score_at(&m, &after.events, 0.0, t));
            prop_assert!(b >= a - 1e-9, "score fell from {a} to {b}");
        }
    }
}
