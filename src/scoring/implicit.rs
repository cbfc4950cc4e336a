//! Implicit (behaviour) points at an as-of time, per lead and per rule.
//!
//! Input: the events the loader placed per lead, tagged with the rules they match
//! ([`MatchedEvents::tags`], evaluated by polars while the events are read), and the leads to
//! score (rows of the leads table). Output: per lead and implicit rule, how often the rule
//! fired and how many points it gave at the as-of time, after decay and caps, and the first
//! moments the running score crossed each threshold. A rayon loop over leads applies the
//! order-dependent parts (progressive points, half-life weights, caps) that need each lead's
//! events in sequence.
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
use crate::data::Dataset;
use crate::data::placed::{LeadEvents, PlacedEvents, Placer};
use crate::error::{Error, Result};
use crate::progress::Counter;

use crate::units::DAY_US_F as DAY;

/// The leads' events matched to the model's implicit rules, each lead's sorted by time: a
/// view of the events the loader placed per lead, in the caller's order of leads, up to a time.
pub struct MatchedEvents {
    placed: Arc<PlacedEvents>,
    /// The placement's lead of each of the caller's leads.
    rows: Vec<u32>,
    /// Events after this time (µs) are left out.
    until: i64,
}

/// A rule that filters on a column the events table does not have.
fn check_rule_columns(model: &ScoringModel, schema: &Schema) -> Result<()> {
    for rule in &model.implicit {
        for (column, values) in [
            ("topic", &rule.topic),
            ("asset_id", &rule.asset_id),
            ("channel", &rule.channel),
        ] {
            if !values.is_empty() && schema.get(column).is_none() {
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
        }
    }
    Ok(())
}

/// At most this many implicit rules (checked with the model, kept here as a last guard).
const MAX_RULES: usize = super::config::MAX_IMPLICIT_RULES;

impl MatchedEvents {
    /// The tags the loader keeps events by: bit r set when the event matches implicit rule r.
    /// Give it to [`crate::data::load`]; events that match no rule are not kept.
    pub fn tags(model: &ScoringModel) -> super::tags::RuleTagger {
        super::tags::RuleTagger::new(model)
    }

    /// The matched events of the leads at `rows` of the leads table (in that order), up to
    /// `until` (µs); `None` when the model has no implicit rules or the dataset no events. The
    /// dataset must have been loaded with [`Self::tags`] of this model's rules.
    pub fn of_rows(
        ds: &Dataset,
        model: &ScoringModel,
        rows: Vec<u32>,
        until: i64,
    ) -> Result<Option<Self>> {
        let n_rules = model.implicit.len();
        if n_rules > MAX_RULES {
            return Err(Error::Usage(format!(
                "the model has {n_rules} implicit rules; at most {MAX_RULES} are supported"
            )));
        }
        let (Some(columns), true) = (ds.event_columns(), n_rules > 0) else {
            return Ok(None);
        };
        check_rule_columns(model, columns)?;
        let placed = ds.placed().ok_or_else(|| {
            Error::Internal("the events were loaded without the model's tags".into())
        })?;
        Ok(Some(MatchedEvents {
            placed: placed.clone(),
            rows,
            until,
        }))
    }

    /// Events already matched in a warehouse (`leadcal sql --with-events`): `table` has
    /// `lead_id` and, per lead, the lists `lc_t` (µs) and `lc_mask` of its matched events.
    /// Placed for the leads `lead_ids` in that order; events after `until` are left out.
    /// `expected` is about how many events the table holds.
    pub fn from_lists(
        table: LazyFrame,
        lead_ids: &Column,
        until: i64,
        expected: u64,
    ) -> Result<Self> {
        let n_leads = lead_ids.len();
        let index = DataFrame::new(
            n_leads,
            vec![
                lead_ids.clone().with_name("lead_id".into()),
                Column::new("__idx".into(), (0..n_leads as u32).collect::<Vec<u32>>()),
            ],
        )
        .map_err(Error::polars("indexing leads"))?;
        let placer = Arc::new(Mutex::new(Placer::new(n_leads, expected as usize)));
        let sink = placer.clone();
        table
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
            .filter(col("mask").neq(lit(0u64)))
            .join(
                index.lazy(),
                [col("lead_id")],
                [col("lead_id")],
                JoinArgs::new(JoinType::Inner).with_build_side(Some(JoinBuildSide::ForceRight)),
            )
            .select([col("__idx"), col("t"), col("mask")])
            .sink_batches(
                PlanCallback::new(move |df: DataFrame| {
                    let mut p = sink.lock().unwrap_or_else(|e| e.into_inner());
                    let get = |c: &str| df.column(c).map(|c| c.as_materialized_series().rechunk());
                    let (i, t, m) = (get("__idx")?, get("t")?, get("mask")?);
                    for ((i, t), m) in i.u32()?.iter().zip(t.i64()?.iter()).zip(m.u64()?.iter()) {
                        if let (Some(i), Some(t), Some(m)) = (i, t, m) {
                            p.push(i, t, m).map_err(|_| {
                                PolarsError::ComputeError(
                                    "more than 65,535 combinations of rules in the table".into(),
                                )
                            })?;
                        }
                    }
                    Ok(false)
                }),
                false,
                None,
            )
            .and_then(|q| q.collect_with_engine(Engine::Streaming))
            .map_err(Error::polars("reading matched events"))?;
        let placer = Arc::try_unwrap(placer)
            .map_err(|_| Error::Internal("matched events still shared".into()))?
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        Ok(MatchedEvents {
            placed: Arc::new(placer.finish()),
            rows: (0..n_leads as u32).collect(),
            until,
        })
    }

    /// One lead's events up to `until`: (time in µs, rule mask), sorted.
    fn lead(&self, lead: usize) -> LeadEvents<'_> {
        self.placed.lead(self.rows[lead] as usize).until(self.until)
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
        self.contributions_at_counted(model, as_of, &crate::progress::Counter::none())
    }

    /// [`Self::contributions_at`], counting the leads done in `done` (per block of leads; each
    /// lead's values do not depend on the blocks).
    pub fn contributions_at_counted(
        &self,
        model: &ScoringModel,
        as_of: impl Fn(usize) -> i64 + Sync,
        done: &crate::progress::Counter,
    ) -> (Vec<u32>, Vec<f64>) {
        const BLOCK: usize = 4096;
        let n_rules = model.implicit.len();
        let n_leads = self.rows.len();
        let mut fires = vec![0u32; n_leads * n_rules];
        let mut points = vec![0f64; n_leads * n_rules];
        if n_rules == 0 {
            return (fires, points);
        }
        fires
            .par_chunks_mut(n_rules * BLOCK)
            .zip(points.par_chunks_mut(n_rules * BLOCK))
            .enumerate()
            .for_each(|(block, (fb, pb))| {
                let first = block * BLOCK;
                for (k, (f, p)) in fb
                    .chunks_mut(n_rules)
                    .zip(pb.chunks_mut(n_rules))
                    .enumerate()
                {
                    let lead = first + k;
                    rules_at(&model.implicit, self.lead(lead), as_of(lead), f, p);
                }
                done.add((fb.len() / n_rules) as u64);
            });
        (fires, points)
    }
}

impl MatchedEvents {
    /// Points per rule of `model` (row-major: one row per pair, rules as columns) for each
    /// (lead, time) pair.
    pub fn points_at_pairs(&self, model: &ScoringModel, pairs: &[(usize, i64)]) -> Vec<f64> {
        self.points_at_pairs_counted(model, pairs, &crate::progress::Counter::none())
    }

    /// [`MatchedEvents::points_at_pairs`], counting the pairs done in `done` (per block of
    /// pairs; each pair's points do not depend on the blocks).
    pub fn points_at_pairs_counted(
        &self,
        model: &ScoringModel,
        pairs: &[(usize, i64)],
        done: &crate::progress::Counter,
    ) -> Vec<f64> {
        const BLOCK: usize = 4096;
        let n_rules = model.implicit.len();
        let mut points = vec![0f64; pairs.len() * n_rules];
        if n_rules == 0 {
            return points;
        }
        points
            .par_chunks_mut(n_rules * BLOCK)
            .zip(pairs.par_chunks(BLOCK))
            .for_each_init(
                || vec![0u32; n_rules],
                |fires, (block, pairs)| {
                    for (p, &(lead, at)) in block.chunks_mut(n_rules).zip(pairs) {
                        rules_at(&model.implicit, self.lead(lead), at, fires, p);
                    }
                    done.add(pairs.len() as u64);
                },
            );
        points
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
pub fn rule_at(rule: &ImplicitRule, events: LeadEvents<'_>, bit: u64, as_of: i64) -> (u32, f64) {
    let lo = match rule.decay {
        Decay::Window { days } => as_of - (days * DAY) as i64,
        _ => i64::MIN,
    };
    let mut n = 0usize;
    let mut total = 0.0;
    for (t, m) in events.iter() {
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

/// [`rule_at`] for every rule at once, in one pass over the lead's events: `fires[r]` and
/// `points[r]` for rule r (the same additions in the same order as rule by rule).
fn rules_at(
    rules: &[ImplicitRule],
    events: LeadEvents<'_>,
    as_of: i64,
    fires: &mut [u32],
    points: &mut [f64],
) {
    let lo = |rule: &ImplicitRule| match rule.decay {
        Decay::Window { days } => as_of - (days * DAY) as i64,
        _ => i64::MIN,
    };
    let all = if rules.len() >= 64 {
        u64::MAX
    } else {
        (1u64 << rules.len()) - 1
    };
    fires.iter_mut().for_each(|f| *f = 0);
    points.iter_mut().for_each(|p| *p = 0.0);
    for (t, m) in events.iter() {
        if t > as_of {
            break;
        }
        let mut bits = m & all;
        while bits != 0 {
            let r = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let rule = &rules[r];
            if t < lo(rule) {
                continue;
            }
            fires[r] += 1;
            let w = match rule.decay {
                Decay::HalfLife { days } => 0.5f64.powf((as_of - t) as f64 / (days * DAY)),
                _ => 1.0,
            };
            points[r] += nth(&rule.points, fires[r] as usize) * w;
        }
    }
    for (p, rule) in points.iter_mut().zip(rules) {
        if let Some(c) = rule.cap {
            *p = if c > 0.0 { p.min(c) } else { p.max(c) };
        }
    }
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

/// Every model can be replayed: negative points under a half-life rise towards 0 between
/// events, and the sweep follows them ([`Replay`]'s rising gaps). Kept as the one place a
/// model the replay cannot follow would be refused.
pub fn check_replayable(_model: &ScoringModel) -> Result<()> {
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
        done: &Counter,
    ) -> Result<Vec<Vec<Option<i64>>>> {
        let all: Vec<usize> = (0..self.rows.len()).collect();
        self.first_crossings_of(model, &all, explicit, created, until, thresholds, done)
    }

    /// [`Self::first_crossings`] for the leads `leads` only (indices into the lead order;
    /// `explicit` and `created` stay indexed by lead), in that order.
    #[allow(clippy::too_many_arguments)] // first_crossings with the leads to replay
    pub fn first_crossings_of(
        &self,
        model: &ScoringModel,
        leads: &[usize],
        explicit: &[f64],
        created: &[i64],
        until: i64,
        thresholds: &[f64],
        done: &Counter,
    ) -> Result<Vec<Vec<Option<i64>>>> {
        /// Leads replayed between two counts.
        const BATCH: u64 = 4096;
        check_replayable(model)?;
        let out = leads
            .par_iter()
            .map_init(
                || (Replay::new(model), 0u64),
                |(rp, n), &lead| {
                    *n += 1;
                    if *n == BATCH {
                        done.add(BATCH);
                        *n = 0;
                    }
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

impl MatchedEvents {
    /// For each of `leads` (indices into the lead order), the highest running score at or
    /// before its `limits.0`, and at or before its `limits.1`; `-inf` without a moment or when
    /// the lead cannot reach `floor`. A threshold g is crossed by time T exactly when the
    /// highest score up to T is at least g, so one replay answers every threshold at once.
    pub fn max_scores_of(
        &self,
        model: &ScoringModel,
        leads: &[usize],
        explicit: &[f64],
        created: &[i64],
        limits: &[(i64, i64)],
        floor: f64,
    ) -> Result<Vec<(f64, f64)>> {
        check_replayable(model)?;
        Ok(leads
            .par_iter()
            .zip(limits)
            .map_init(
                || Replay::new(model),
                |rp, (&lead, &lim)| {
                    rp.max_scores(self.lead(lead), explicit[lead], created[lead], lim, floor)
                },
            )
            .collect())
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
    /// Window rules' expiry moments (just after an event leaves its window) and their rule.
    expiries: Vec<(i64, usize)>,
    /// Rules whose events do not decay by a half-life (changed only by an event or expiry).
    stepwise: u64,
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
            expiries: Vec::new(),
            stepwise: rules
                .iter()
                .enumerate()
                .filter(|(r, rule)| *r < 64 && !matches!(rule.decay, Decay::HalfLife { .. }))
                .fold(0u64, |m, (r, _)| m | (1u64 << r)),
            value: vec![0.0; n],
            tau: vec![0; n],
            points: vec![0.0; n],
        }
    }

    /// The highest score the lead could ever have: every positive point of its events at once.
    fn ceiling(&mut self, events: LeadEvents<'_>, explicit: f64, until: i64) -> f64 {
        let mut total = explicit;
        // Each rule's events up to `until`, counted in one pass.
        let counts = &mut self.seen;
        counts.iter_mut().for_each(|c| *c = 0);
        for (t, m) in events.iter() {
            if t > until {
                break;
            }
            let mut bits = m;
            while bits != 0 {
                let r = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if let Some(c) = counts.get_mut(r) {
                    *c += 1;
                }
            }
        }
        for (r, rule) in self.rules.iter().enumerate() {
            let n = self.seen[r];
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
        events: LeadEvents<'_>,
        explicit: f64,
        created: i64,
        until: i64,
        thresholds: &[f64],
    ) -> Vec<Option<i64>> {
        let mut found: Vec<Option<i64>> = vec![None; thresholds.len()];
        // Thresholds the lead can never reach are settled (None) from the start.
        let ceiling = self.ceiling(events, explicit, until);
        let mut open = thresholds.iter().filter(|thr| ceiling >= **thr).count();
        if open == 0 {
            return found;
        }
        self.sweep(events, explicit, created, until, |c, score, gap| {
            for (k, thr) in thresholds.iter().enumerate() {
                if found[k].is_none() && score >= *thr {
                    // Reached between events (negative points rising towards 0): the first
                    // moment, to the minute.
                    found[k] = Some(match gap {
                        Some(g) => g.first_reaching(*thr, c),
                        None => c,
                    });
                    open -= 1;
                }
            }
            open > 0
        });
        found
    }

    /// The highest running score at or before `until`, and at or before `before` (≤ until);
    /// `-inf` where there is no moment. A lead whose ceiling is below `floor` gets `-inf`.
    fn max_scores(
        &mut self,
        events: LeadEvents<'_>,
        explicit: f64,
        created: i64,
        (until, before): (i64, i64),
        floor: f64,
    ) -> (f64, f64) {
        let (mut all, mut early) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        if self.ceiling(events, explicit, until) < floor {
            return (all, early);
        }
        self.sweep(events, explicit, created, until, |c, score, _| {
            all = all.max(score);
            if c <= before {
                early = early.max(score);
            }
            true
        });
        (all, early)
    }

    /// Visit every moment at or before `until` at which the lead's running total score can
    /// change (creation, each event, just after each window expiry), in time order, with the
    /// score then; stop when `visit` returns false. Where a rule with negative points under a
    /// half-life rises towards 0 between two such moments, the gap is also visited at
    /// [`PROBES`] after its start and just before its end, each with the [`Gap`] that gives the
    /// score at any moment inside it.
    fn sweep(
        &mut self,
        events: LeadEvents<'_>,
        explicit: f64,
        created: i64,
        until: i64,
        mut visit: impl FnMut(i64, f64, Option<&Gap>) -> bool,
    ) {
        if created > until {
            return;
        }
        let rules = self.rules;
        // Without half-life rules the score moves only when a rule's count does, so an event
        // no rule matches is no moment to look at (a half-life's gap probes restart at every
        // event, so there every event stays one).
        let smooth = self.half_life.iter().any(Option::is_some);
        let tagged = match rules.len() {
            n if n >= 64 => u64::MAX,
            n => (1u64 << n) - 1,
        };
        self.candidates.clear();
        self.expiries.clear();
        self.candidates.push(created);
        for (t, m) in events.iter() {
            if smooth || m & tagged != 0 {
                self.candidates.push(t);
            }
            let mut bits = m & tagged;
            while bits != 0 {
                let r = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if let Some(w) = self.window[r] {
                    self.candidates.push(t + w + 1);
                    self.expiries.push((t + w + 1, r));
                }
            }
        }
        self.candidates.retain(|&c| c >= created && c <= until);
        self.candidates.sort_unstable();
        self.candidates.dedup();
        self.expiries.sort_unstable();
        self.seen.iter_mut().for_each(|v| *v = 0);
        self.expired.iter_mut().for_each(|v| *v = 0);
        self.value.iter_mut().for_each(|v| *v = 0.0);
        self.points.iter_mut().for_each(|v| *v = 0.0);
        let (mut next, mut gone) = (0usize, 0usize);
        // Rules whose points must be recomputed at this moment: all at the first.
        let mut dirty = u64::MAX;
        for ci in 0..self.candidates.len() {
            let c = self.candidates[ci];
            // Events at or before c.
            while next < events.len() && events.time(next) <= c {
                let (t, m) = (events.time(next), events.tag(next));
                let mut bits = m & tagged;
                dirty |= bits;
                while bits != 0 {
                    let r = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    self.seen[r] += 1;
                    if let Some(h) = self.half_life[r] {
                        self.value[r] = self.value[r] * 0.5f64.powf((t - self.tau[r]) as f64 / h)
                            + nth(&rules[r].points, self.seen[r]);
                        self.tau[r] = t;
                    }
                }
                next += 1;
            }
            // Window events older than the window at c (event time < c − window).
            while gone < self.expiries.len() && self.expiries[gone].0 <= c {
                let r = self.expiries[gone].1;
                self.expired[r] += 1;
                dirty |= 1u64 << r;
                gone += 1;
            }
            for (r, rule) in rules.iter().enumerate() {
                let step = r < 64 && self.stepwise & (1u64 << r) != 0;
                if step && dirty & (1u64 << r) == 0 {
                    continue;
                }
                let raw = if let Some(h) = self.half_life[r] {
                    self.value[r] * 0.5f64.powf((c - self.tau[r]) as f64 / h)
                } else {
                    prog_sum(&rule.points, self.seen[r] - self.expired[r])
                };
                self.points[r] = cap(rule, raw);
            }
            dirty = 0;
            let score = explicit + self.points.iter().sum::<f64>();
            if !visit(c, score, None) {
                break;
            }
            // Negative half-life points rise between here and the next moment.
            let rising = smooth
                && (0..rules.len()).any(|r| self.half_life[r].is_some() && self.points[r] < 0.0);
            if !rising {
                continue;
            }
            let end = self.candidates.get(ci + 1).map_or(until, |&n| n - 1);
            if end <= c {
                continue;
            }
            let mut gap = Gap {
                start: c,
                constant: explicit,
                decaying: Vec::new(),
            };
            for (r, rule) in rules.iter().enumerate() {
                match self.half_life[r] {
                    Some(h) => gap.decaying.push((self.value[r], self.tau[r], h, rule.cap)),
                    None => gap.constant += self.points[r],
                }
            }
            let mut last = c;
            for t in PROBES
                .iter()
                .map(|d| c + d)
                .filter(|&t| t < end)
                .chain(std::iter::once(end))
            {
                gap.start = last;
                if !visit(t, gap.at(t), Some(&gap)) {
                    return;
                }
                last = t;
            }
        }
    }
}

/// Offsets after an event at which a rising gap is looked at (1 hour to 2 years, then just
/// before the next event): the running score between two events is a sum of decaying terms,
/// so it is followed at these moments and a crossing is then found to the minute.
const PROBES: [i64; 12] = [
    HOUR,
    6 * HOUR,
    24 * HOUR,
    3 * 24 * HOUR,
    7 * 24 * HOUR,
    14 * 24 * HOUR,
    30 * 24 * HOUR,
    60 * 24 * HOUR,
    90 * 24 * HOUR,
    180 * 24 * HOUR,
    365 * 24 * HOUR,
    730 * 24 * HOUR,
];
const HOUR: i64 = 3_600_000_000;

/// The running score between two events when some half-life points are negative: a constant
/// (profile, windows, no-decay rules) plus each half-life rule's value decaying from its last
/// event, capped. `start` is the last moment looked at before the current one.
struct Gap {
    start: i64,
    constant: f64,
    /// (value just after the rule's last event, that event's time, half-life in µs, cap).
    decaying: Vec<(f64, i64, f64, Option<f64>)>,
}

impl Gap {
    fn at(&self, t: i64) -> f64 {
        self.constant
            + self
                .decaying
                .iter()
                .map(|&(v, tau, h, cap)| {
                    let raw = v * 0.5f64.powf((t - tau) as f64 / h);
                    match cap {
                        Some(c) if c > 0.0 => raw.min(c),
                        Some(c) => raw.max(c),
                        None => raw,
                    }
                })
                .sum::<f64>()
    }

    /// The first moment in (`start`, `t`] at which the score reaches `thr` (it does at `t`),
    /// to the minute, by bisection.
    fn first_reaching(&self, thr: f64, t: i64) -> i64 {
        const MINUTE: i64 = 60_000_000;
        let (mut lo, mut hi) = (self.start, t);
        while hi - lo > MINUTE {
            let mid = lo + (hi - lo) / 2;
            if self.at(mid) >= thr {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
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
            let decay = match decay % 3 {
                0 => "no_decay = true".to_string(),
                1 => format!("window_days = {}", 3 + r * 4),
                _ => format!("half_life_days = {}", 5 + r * 3),
            };
            text.push_str(&format!(
                "[[implicit]]\nname = \"r{r}\"\nevent_type = \"e{r}\"\n{points}\n{cap}{decay}\n"
            ));
        }
        ScoringModel::parse(&text, Path::new("generated.toml")).unwrap()
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

    /// Creation, every event and every window expiry of the matched lead: each moment its
    /// running score can change at (besides a half-life's rise between events).
    fn change_points(m: &ScoringModel, me: &MatchedEvents, created: i64) -> Vec<i64> {
        let mut moments = vec![created];
        for (t, bits) in me.lead(0).iter() {
            moments.push(t);
            for (r, rule) in m.implicit.iter().enumerate() {
                if let Decay::Window { days } = rule.decay
                    && bits & (1 << r) != 0
                {
                    moments.push(t + (days * DAY) as i64 + 1);
                }
            }
        }
        moments
    }

    /// Events as (day offset in hours, rule) pairs, sorted into the matched representation;
    /// rule 7 stands for an event no rule matches (the sweep skips it without half-lives).
    fn matched(events: &[(i64, usize)], n_rules: usize) -> MatchedEvents {
        let mut ev: Vec<(i64, u64)> = events
            .iter()
            .map(|&(h, r)| {
                let tag = if r == 7 { 0 } else { 1u64 << (r % n_rules) };
                (T0 + h * 3_600_000_000, tag)
            })
            .collect();
        ev.sort_unstable();
        MatchedEvents {
            placed: Arc::new(PlacedEvents::from_pairs(vec![ev]).expect("few tags")),
            rows: vec![0],
            until: i64::MAX,
        }
    }

    fn score_at(m: &ScoringModel, ev: LeadEvents<'_>, explicit: f64, t: i64) -> f64 {
        let implicit: f64 = (0..m.implicit.len())
            .map(|r| rule_at(&m.implicit[r], ev, 1u64 << r, t).1)
            .sum();
        explicit + implicit
    }

    #[test]
    fn negative_points_under_a_half_life_rise_to_a_threshold_between_events() {
        // Profile 50; at T0 a demo request (+30, no decay) and an unsubscribe (-40, half-life
        // 30 days): 40 at T0, then 80 - 40 x 0.5^(d / 30). 55 is reached at
        // d = 30 log2(1.6) = 20.34 days, 60 at d = 30 days; 80 is approached, never reached.
        let m = ScoringModel::parse(
            "[thresholds]\nmql = 50\nsql = 60\n[[implicit]]\nname = \"demo\"\nevent_type = \"e0\"\npoints = 30\nno_decay = true\n[[implicit]]\nname = \"unsub\"\nevent_type = \"e1\"\npoints = -40\nhalf_life_days = 30\n",
            Path::new("hand.toml"),
        )
        .unwrap();
        let me = matched(&[(0, 0), (0, 1)], 2);
        let day = 24.0 * HOUR as f64;
        let got = me
            .first_crossings(
                &m,
                &[50.0],
                &[T0 - HOUR],
                T0 + 800 * 24 * HOUR,
                &[55.0, 60.0, 80.0],
                &Counter::none(),
            )
            .unwrap()
            .remove(0);
        let mql = T0 + (30.0 * 1.6f64.log2() * day) as i64;
        let sql = T0 + (30.0 * day) as i64;
        let minute = 60_000_000;
        assert!(
            got[0].is_some_and(|t| t >= mql && t - mql <= minute),
            "{got:?} vs {mql}"
        );
        assert!(
            got[1].is_some_and(|t| t >= sql && t - sql <= minute),
            "{got:?} vs {sql}"
        );
        assert_eq!(got[2], None);
        // The peak up to 40 days is the score then (rising all the way).
        let peak = me
            .max_scores_of(
                &m,
                &[0],
                &[50.0],
                &[T0 - HOUR],
                &[(T0 + 40 * 24 * HOUR, T0)],
                f64::NEG_INFINITY,
            )
            .unwrap()[0];
        let want = 80.0 - 40.0 * 0.5f64.powf(40.0 / 30.0);
        assert!((peak.0 - want).abs() < 1e-6, "{peak:?} vs {want}");
        // Up to T0: the profile alone, at creation.
        assert_eq!(peak.1, 50.0);
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
                .first_crossings(&m, &[explicit as f64], &[created], until, &thresholds, &Counter::none())
                .unwrap()
                .remove(0);
            let mut moments = change_points(&m, &me, created);
            // Negative points under a half-life rise between events: look every hour too.
            let rising = m.implicit.iter().any(|r| {
                matches!(r.decay, Decay::HalfLife { .. })
                    && match &r.points {
                        Points::Each(p) => *p < 0.0,
                        Points::Progressive(v) => v.iter().any(|p| *p < 0.0),
                    }
            });
            if rising {
                moments.extend((0..24 * 72).map(|h| T0 - 48 * HOUR + h * HOUR));
            }
            moments.retain(|&c| c >= created && c <= until);
            moments.sort_unstable();
            moments.dedup();
            let score = |c: i64| score_at(&m, me.lead(0), explicit as f64, c);
            let want: Vec<Option<i64>> = thresholds
                .iter()
                .map(|thr| moments.iter().copied().find(|&c| score(c) >= *thr))
                .collect();
            if !rising {
                prop_assert_eq!(got, want);
            } else {
                // The replay's moment reaches the threshold, no moment looked at before it
                // does, and it is never later than the hourly look finds.
                for (k, thr) in thresholds.iter().enumerate() {
                    match (got[k], want[k]) {
                        (Some(g), w) => {
                            prop_assert!(score(g) >= thr - 1e-9, "{g}: {} < {thr}", score(g));
                            prop_assert!(moments.iter().filter(|&&c| c < g - 60_000_000).all(|&c| score(c) < *thr));
                            prop_assert!(w.is_none_or(|w| g <= w), "{g} after {w:?}");
                        }
                        (None, w) => prop_assert!(w.is_none(), "missed a crossing at {w:?}"),
                    }
                }
            }
        }

        /// The peak scores the threshold search reads are the highest score at any moment the
        /// score can change, up to each limit (models without half-lives, whose score is a
        /// step function of those moments).
        #[test]
        fn peak_scores_are_the_highest_score_at_every_change_point(
            spec in rules(),
            events in prop::collection::vec((0i64..24 * 60, 0usize..8), 0..40),
            explicit in -10i32..40,
            created_h in -48i64..48,
            limits_h in (0i64..24 * 70, 0i64..24 * 70),
        ) {
            let spec: Vec<_> = spec.into_iter().map(|(p, c, d, g)| (p, c, d % 2, g)).collect();
            let m = model(&spec);
            let me = matched(&events, spec.len());
            let created = T0 + created_h * 3_600_000_000;
            let (a, b) = (T0 + limits_h.0 * HOUR, T0 + limits_h.1 * HOUR);
            let (until, before) = (a.max(b), a.min(b));
            let got = me
                .max_scores_of(&m, &[0], &[explicit as f64], &[created], &[(until, before)], f64::NEG_INFINITY)
                .unwrap()[0];
            let mut moments = change_points(&m, &me, created);
            moments.retain(|&c| c >= created);
            let peak = |limit: i64| {
                moments
                    .iter()
                    .filter(|&&c| c <= limit)
                    .map(|&c| score_at(&m, me.lead(0), explicit as f64, c))
                    .fold(f64::NEG_INFINITY, f64::max)
            };
            prop_assert_eq!(got, (peak(until), peak(before)));
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
            let (a, b) = (score_at(&m, before.lead(0), 0.0, t), score_at(&m, after.lead(0), 0.0, t));
            prop_assert!(b >= a - 1e-9, "score fell from {a} to {b}");
        }
    }
}
