//! How long behaviour points should count: the decay setting chosen by out-of-time likelihood.
//!
//! Input: the live [`ScoringModel`] and the [`FeatureTable`] (its placed events, creation,
//! conversion and replayed SQL hand-over times). Output: [`DecayEvidence`] (every candidate's
//! out-of-time log-loss, for the model's `[decay]` and for each implicit rule with enough
//! support), turned by [`choose`] into [`DecayChoice`]s (`recommendation.json`'s `decay`).
//!
//! Design (docs/recommendations.md): at a 30-day snapshot every event is young, so candidates
//! are compared at moments where old events exist: each lead's snapshot, its live SQL
//! hand-over, and 90 and 180 days after its creation. A (lead, moment) row is kept when the
//! lead has not converted by then and the horizon after it lies inside the data; its label is
//! "converts within the horizon after the moment". Its features are each rule's points under
//! the candidate decay (in fires, as the main model's), the live explicit score and the moment
//! kind. Only training leads are used, in creation order, cut into three time blocks: fit on
//! the older blocks, score the next (two forward folds, as the penalty is chosen), so the test
//! period stays untouched for the back-test. A candidate replaces the current setting only
//! when it beats it by a clear margin: a paired mean log-loss gain of at least two standard
//! errors (three: the best of ten candidates is picked) over the scored rows and of at least 0.1% of its log-loss; a rule's own setting replaces the global one by the same rule.
//! A half-life shrinks negative points toward 0 as it does positive ones (as HubSpot's decay
//! does), and the hand-over replay follows them between events, so every candidate is eligible
//! (a rule worth no points gets no setting of its own).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::{FeatureTable, Source};
use crate::model::newton::{self, Design};
use crate::scoring::config::{Decay, Points, ScoringModel};
use crate::units::DAY_US;

/// A decay setting as `recommendation.json` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Setting {
    None,
    Window { days: f64 },
    HalfLife { days: f64 },
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Setting::None => write!(f, "no decay"),
            Setting::Window { days } => write!(f, "{days}-day window"),
            Setting::HalfLife { days } => write!(f, "{days}-day half-life"),
        }
    }
}

impl From<Decay> for Setting {
    fn from(d: Decay) -> Self {
        match d {
            Decay::None => Setting::None,
            Decay::Window { days } => Setting::Window { days },
            Decay::HalfLife { days } => Setting::HalfLife { days },
        }
    }
}

impl From<Setting> for Decay {
    fn from(s: Setting) -> Self {
        match s {
            Setting::None => Decay::None,
            Setting::Window { days } => Decay::Window { days },
            Setting::HalfLife { days } => Decay::HalfLife { days },
        }
    }
}

/// The candidates every analysis compares (and the current setting when it is not one).
pub fn candidates(current: Decay) -> Vec<Decay> {
    let mut c = vec![Decay::None];
    c.extend([30.0, 60.0, 90.0, 180.0, 365.0].map(|days| Decay::Window { days }));
    c.extend([30.0, 90.0, 180.0].map(|days| Decay::HalfLife { days }));
    if !c.contains(&current) {
        c.push(current);
    }
    c
}

/// Moments after creation, besides the snapshot and the hand-over.
const LATER_DAYS: [i64; 2] = [90, 180];
/// Most training leads the comparison reads (every k-th in creation order above it).
const MAX_LEADS: usize = 6_000;
const BLOCKS: usize = 3;
/// Ridge penalty of the comparison fits.
const PENALTY: f64 = 1.0;
/// Paired gain, in standard errors, a candidate needs over the setting it would replace, and
/// as a share of that setting's log-loss (a gain too small to matter is not worth a change).
pub const MARGIN_SE: f64 = 3.0;
pub const MARGIN_SHARE: f64 = 0.001;

/// One candidate's out-of-time loss, with its per-row losses for paired comparisons.
#[derive(Debug, Clone)]
pub struct Scored {
    pub decay: Decay,
    pub log_loss: Option<f64>,
    losses: Vec<f64>,
}

/// Every candidate for the global setting and for each rule with enough support.
#[derive(Debug, Clone)]
pub struct DecayEvidence {
    pub global: Vec<Scored>,
    /// Per implicit rule (model order): `None` without enough support.
    pub rules: Vec<Option<Vec<Scored>>>,
    pub leads: usize,
    pub rows: usize,
}

/// One rule's (or `*`'s) choice, as `recommendation.json` writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecayChoice {
    /// The rule's name as in the config, or `*` for the `[decay]` table.
    pub rule: String,
    pub current: Setting,
    pub recommended: Setting,
    pub candidates: Vec<DecayCandidate>,
    /// Mean out-of-time log-loss gain of the recommended setting over the one it replaces,
    /// and its standard error (0 when nothing changes).
    pub gain: f64,
    pub gain_se: f64,
    pub leads: usize,
    pub moments: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecayCandidate {
    pub setting: Setting,
    /// Mean out-of-time log-loss (`None`: the fits failed).
    pub log_loss: Option<f64>,
    /// Whether the replay supports it for this rule (half-lives need non-negative points).
    pub eligible: bool,
}

struct Rows {
    /// (table row, moment) per comparison row, in creation order.
    pairs: Vec<(usize, i64)>,
    y: Vec<bool>,
    /// Fixed columns: explicit score, moment kind (hand-over, +90, +180).
    fixed: Vec<[f64; 4]>,
    /// First row of each time block.
    bounds: Vec<usize>,
    leads: usize,
}

fn rows(t: &FeatureTable, data_end: i64, horizon_days: i64) -> Rows {
    let step = t.n_train.div_ceil(MAX_LEADS).max(1);
    let leads: Vec<usize> = (0..t.n_train).step_by(step).collect();
    let h = horizon_days * DAY_US;
    let mut out = Rows {
        pairs: Vec::new(),
        y: Vec::new(),
        fixed: Vec::new(),
        bounds: Vec::new(),
        leads: leads.len(),
    };
    for (k, &i) in leads.iter().enumerate() {
        if k * BLOCKS / leads.len() >= out.bounds.len() {
            out.bounds.push(out.pairs.len());
        }
        let mut moments = vec![(t.snapshot[i], 0)];
        if let Some(s) = t.sql_at[i].filter(|&s| s > t.snapshot[i]) {
            moments.push((s, 1));
        }
        moments.extend(
            LATER_DAYS
                .iter()
                .zip(2..)
                .map(|(d, k)| (t.created[i] + d * DAY_US, k)),
        );
        for (at, kind) in moments {
            let done = t.converted_at[i].is_some_and(|c| c <= at);
            if done || at + h > data_end {
                continue;
            }
            out.pairs.push((i, at));
            out.y.push(t.converted_at[i].is_some_and(|c| c <= at + h));
            let mut f = [t.explicit[i], 0.0, 0.0, 0.0];
            if kind > 0 {
                f[kind] = 1.0;
            }
            out.fixed.push(f);
        }
    }
    out.bounds.push(out.pairs.len());
    out
}

/// Each rule's value (in fires) under each candidate: `values[d][row * n_rules + r]`.
fn values(t: &FeatureTable, live: &ScoringModel, cands: &[Decay], r: &Rows) -> Vec<Vec<f64>> {
    let Some(m) = &t.matched else {
        return cands
            .iter()
            .map(|_| vec![0.0; r.pairs.len() * live.implicit.len()])
            .collect();
    };
    let units: Vec<f64> = t
        .sources
        .iter()
        .filter_map(|s| match s {
            Source::Rule { unit, .. } => Some(*unit),
            _ => None,
        })
        .collect();
    cands
        .iter()
        .map(|&d| {
            let mut model = live.counting();
            model.implicit.iter_mut().for_each(|rule| rule.decay = d);
            let mut v = m.points_at_pairs(&model, &r.pairs);
            let n = units.len().max(1);
            v.iter_mut()
                .enumerate()
                .for_each(|(k, x)| *x /= units[k % n]);
            v
        })
        .collect()
}

/// Per-row out-of-time losses of one feature layout, over the forward folds, and each fold's
/// fit (intercept first) for others to start from.
fn score(
    x: &[f64],
    width: usize,
    r: &Rows,
    start: Option<&[Vec<f64>]>,
) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
    let cols: Vec<usize> = (0..width).collect();
    let mut losses = Vec::new();
    let mut fits = Vec::new();
    for b in 1..BLOCKS {
        let train: Vec<usize> = (0..r.bounds[b]).collect();
        let fit = newton::fit_from(
            Design {
                x,
                width,
                y: &r.y,
                rows: &train,
                cols: &cols,
            },
            PENALTY,
            start.and_then(|s| s.get(b - 1)).map(Vec::as_slice),
        )
        .ok()?;
        for i in r.bounds[b]..r.bounds[b + 1] {
            let z = fit.logit(&x[i * width..(i + 1) * width]);
            let p = crate::model::sigmoid(z).clamp(1e-15, 1.0 - 1e-15);
            losses.push(-if r.y[i] { p.ln() } else { (1.0 - p).ln() });
        }
        fits.push(std::iter::once(fit.intercept).chain(fit.coef).collect());
    }
    (!losses.is_empty()).then_some((losses, fits))
}

/// The design for per-rule decays `pick[r]` (index into the candidates).
fn layout(vals: &[Vec<f64>], pick: &[usize], r: &Rows) -> (Vec<f64>, usize) {
    let nr = pick.len();
    let width = nr + 4;
    let mut x = vec![0.0; r.pairs.len() * width];
    x.par_chunks_mut(width).enumerate().for_each(|(i, row)| {
        for (k, &d) in pick.iter().enumerate() {
            row[k] = vals[d][i * nr + k];
        }
        row[nr..].copy_from_slice(&r.fixed[i]);
    });
    (x, width)
}

fn scored(decay: Decay, losses: Option<Vec<f64>>) -> Scored {
    Scored {
        decay,
        log_loss: losses
            .as_ref()
            .map(|l| l.iter().sum::<f64>() / l.len() as f64),
        losses: losses.unwrap_or_default(),
    }
}

/// Compare every candidate, for the global setting and per rule (rules with at least
/// `min_leads` sampled leads that fired, and `min_converters` converters among them).
pub fn evidence(
    live: &ScoringModel,
    t: &FeatureTable,
    data_end: i64,
    horizon_days: i64,
    min_leads: usize,
    min_converters: usize,
) -> DecayEvidence {
    let _t = crate::timing::Stage::start("recommend: decay by out-of-time likelihood");
    let r = rows(t, data_end, horizon_days);
    let nr = live.implicit.len();
    let cands = candidates(live.decay);
    let empty = DecayEvidence {
        global: Vec::new(),
        rules: vec![None; nr],
        leads: r.leads,
        rows: r.pairs.len(),
    };
    let converters = r.y.iter().filter(|&&v| v).count();
    if nr == 0 || t.matched.is_none() || converters < min_converters || r.bounds.len() <= BLOCKS {
        return empty;
    }
    let step = crate::progress::Step::bar(
        "comparing decay settings by out-of-time likelihood",
        (1 + cands.len() * (nr + 1)) as u64,
        "fits",
    );
    let done = step.counter();
    let vals = values(t, live, &cands, &r);
    // Rules following the global setting take the candidate; the others keep their own.
    let own: Vec<Option<usize>> = live
        .implicit
        .iter()
        .map(|rule| {
            rule.own_decay
                .then(|| cands.iter().position(|c| *c == rule.decay))
                .flatten()
        })
        .collect();
    // Every rule at its current setting first: each other fit starts from its estimates.
    let current: Vec<usize> = live
        .implicit
        .iter()
        .map(|rule| cands.iter().position(|c| *c == rule.decay).unwrap_or(0))
        .collect();
    let base = {
        let (x, w) = layout(&vals, &current, &r);
        let s = score(&x, w, &r, None).map(|(_, fits)| fits);
        done.add(1);
        s
    };
    let start = base.as_deref();
    let global: Vec<Scored> = (0..cands.len())
        .into_par_iter()
        .map(|d| {
            let pick: Vec<usize> = own.iter().map(|o| o.unwrap_or(d)).collect();
            let (x, w) = layout(&vals, &pick, &r);
            let s = scored(cands[d], score(&x, w, &r, start).map(|s| s.0));
            done.add(1);
            s
        })
        .collect();
    // Per rule: its candidates, every other rule at its current setting.
    let none = cands.iter().position(|c| *c == Decay::None).unwrap_or(0);
    let rules: Vec<Option<Vec<Scored>>> = (0..nr)
        .into_par_iter()
        .map(|k| {
            let fired: Vec<usize> = (0..r.pairs.len())
                .filter(|&i| vals[none][i * nr + k] != 0.0)
                .collect();
            let leads = {
                let mut l: Vec<usize> = fired.iter().map(|&i| r.pairs[i].0).collect();
                l.dedup();
                l.len()
            };
            let conv = fired.iter().filter(|&&i| r.y[i]).count();
            if leads < min_leads || conv < min_converters {
                done.add(cands.len() as u64);
                return None;
            }
            Some(
                (0..cands.len())
                    .map(|d| {
                        let mut pick = current.clone();
                        pick[k] = d;
                        let (x, w) = layout(&vals, &pick, &r);
                        let s = scored(cands[d], score(&x, w, &r, start).map(|s| s.0));
                        done.add(1);
                        s
                    })
                    .collect(),
            )
        })
        .collect();
    DecayEvidence {
        global,
        rules,
        leads: r.leads,
        rows: r.pairs.len(),
    }
}

/// Mean and standard error of `a − b` per row (b's gain over a).
fn paired(a: &Scored, b: &Scored) -> Option<(f64, f64)> {
    crate::stats::paired_gain(&a.losses, &b.losses)
}

/// The best eligible candidate if it beats `base` by the margin, else `base`.
fn pick(list: &[Scored], base: Decay, eligible: impl Fn(Decay) -> bool) -> (Decay, f64, f64) {
    let Some(b) = list.iter().find(|s| s.decay == base) else {
        return (base, 0.0, 0.0);
    };
    let best = list
        .iter()
        .filter(|s| eligible(s.decay) && s.log_loss.is_some())
        .min_by(|x, y| {
            x.log_loss
                .unwrap_or(f64::INFINITY)
                .total_cmp(&y.log_loss.unwrap_or(f64::INFINITY))
        });
    match best.and_then(|s| paired(b, s).map(|g| (s, g))) {
        Some((s, (gain, se)))
            if s.decay != base
                && gain >= MARGIN_SE * se
                && gain >= MARGIN_SHARE * b.log_loss.unwrap_or(0.0) =>
        {
            (s.decay, gain, se)
        }
        _ => (base, 0.0, 0.0),
    }
}

/// Choose the settings and apply them to `model` (the recommended config, whose points decide
/// which half-lives can be replayed). Returns the global choice first, then one per rule.
pub fn choose(
    ev: &DecayEvidence,
    live: &ScoringModel,
    model: &mut ScoringModel,
) -> Vec<DecayChoice> {
    if ev.global.is_empty() {
        return Vec::new();
    }
    let list = |scored: &[Scored], ok: &dyn Fn(Decay) -> bool| -> Vec<DecayCandidate> {
        scored
            .iter()
            .map(|s| DecayCandidate {
                setting: s.decay.into(),
                log_loss: s.log_loss,
                eligible: ok(s.decay),
            })
            .collect()
    };
    let global_ok = |_: Decay| true;
    let (g, gain, se) = pick(&ev.global, live.decay, global_ok);
    let mut out = vec![DecayChoice {
        rule: "*".into(),
        current: live.decay.into(),
        recommended: g.into(),
        candidates: list(&ev.global, &global_ok),
        gain,
        gain_se: se,
        leads: ev.leads,
        moments: ev.rows,
    }];
    model.decay = g;
    for rule in model.implicit.iter_mut().filter(|r| !r.own_decay) {
        rule.decay = g;
    }
    for (k, scored) in ev.rules.iter().enumerate() {
        let Some(scored) = scored else { continue };
        let rule = &mut model.implicit[k];
        // A rule worth no points gains nothing from its own decay.
        let zero = match &rule.points {
            Points::Each(v) => *v == 0.0,
            Points::Progressive(v) => v.iter().all(|x| *x == 0.0),
        };
        let ok = |_: Decay| !zero;
        // A rule's own setting must beat what it would follow: the new global setting.
        let base = rule.decay;
        let (d, gain, se) = pick(scored, base, ok);
        if d != base {
            rule.decay = d;
            rule.own_decay = true;
        }
        out.push(DecayChoice {
            rule: rule.name.clone(),
            current: live.implicit[k].decay.into(),
            recommended: rule.decay.into(),
            candidates: list(scored, &ok),
            gain,
            gain_se: se,
            leads: ev.leads,
            moments: ev.rows,
        });
    }
    out
}
