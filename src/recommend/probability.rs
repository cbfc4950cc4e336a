//! Points as probability: what a score means as a chance of converting within the horizon.
//!
//! Input: scores at the snapshot and the labels of the training and the test leads (for the
//! live config and for the recommended one). Output: [`ScoreMap`]: a monotone step function
//! from score to probability, fitted on the training leads by isotonic regression (pool
//! adjacent violators, ties pooled first, as scikit-learn's `IsotonicRegression`), its steps
//! pooled with their neighbours until each holds at least `min_leads` leads; each step with its
//! training leads, converters and Wilson 95% interval, and its reliability on the test period
//! (the test leads in the step, their observed rate and interval).
//! Guarantees: p never falls as the score rises; a step's interval is its training leads'
//! Wilson interval; the test period only checks the map, it never shapes it.

use serde::{Deserialize, Serialize};

use crate::stats::wilson;

/// One step of the map.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Step {
    /// Scores from `score_from` (inclusive; `null`: no lower bound) to `score_below`
    /// (exclusive; `null`: no upper bound).
    pub score_from: Option<f64>,
    pub score_below: Option<f64>,
    /// Probability of converting within the horizon, and its 95% interval (training leads).
    pub p: f64,
    pub ci: [f64; 2],
    pub leads: u64,
    pub converters: u64,
    /// The test period's leads in the step, their observed rate and its 95% interval.
    pub test_leads: u64,
    pub test_rate: Option<f64>,
    pub test_ci: Option<[f64; 2]>,
}

/// The map, for one config (a list of steps in JSON).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(transparent)]
pub struct ScoreMap {
    pub steps: Vec<Step>,
}

impl ScoreMap {
    /// The step holding `score`.
    pub fn at(&self, score: f64) -> Option<&Step> {
        self.steps.iter().find(|s| {
            s.score_from.is_none_or(|a| score >= a) && s.score_below.is_none_or(|b| score < b)
        })
    }

    /// The map's leads' overall conversion rate, and the lowest score from which the map's
    /// rate reaches it (the steps rise with the score, so this is where the average lead's
    /// odds sit on the scale). `None` without leads or converters.
    pub fn average(&self) -> Option<(f64, Option<f64>)> {
        let (n, k) = self
            .steps
            .iter()
            .fold((0u64, 0u64), |(n, k), s| (n + s.leads, k + s.converters));
        if n == 0 || k == 0 {
            return None;
        }
        let rate = k as f64 / n as f64;
        let from = self.steps.iter().find(|s| s.p >= rate)?.score_from;
        Some((rate, from))
    }
}

/// Both configs' maps (`recommendation.json`'s `probability`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Probability {
    /// Converting means reaching the target within this many days after the snapshot.
    pub horizon_days: i64,
    pub live: ScoreMap,
    /// The validated points' map (fitted on the training period), checked on the test period.
    pub recommended: ScoreMap,
    /// The written points' map, on the mature leads their thresholds were searched on (all of
    /// them, or every k-th): what the written thresholds mean. No test period checks it
    /// (those leads were fitted on). `None` when the written points are the validated ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<ScoreMap>,
    /// The live config's bands, each as one step (its training leads' rate).
    pub live_bands: Vec<BandRate>,
}

/// One score band's conversion.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BandRate {
    pub band: String,
    #[serde(flatten)]
    pub step: Step,
}

/// Each band `(name, from)` (ascending; the first from minus infinity) as one step.
pub fn band_rates(
    bands: &[(String, f64)],
    train: (&[f64], &[bool]),
    test: (&[f64], &[bool]),
) -> Vec<BandRate> {
    bands
        .iter()
        .enumerate()
        .map(|(k, (name, from))| {
            let score_from = from.is_finite().then_some(*from);
            let score_below = bands.get(k + 1).map(|b| b.1);
            BandRate {
                band: name.clone(),
                step: step(score_from, score_below, train, test),
            }
        })
        .collect()
}

/// The step `[score_from, score_below)` with its training and test counts.
fn step(
    score_from: Option<f64>,
    score_below: Option<f64>,
    train: (&[f64], &[bool]),
    test: (&[f64], &[bool]),
) -> Step {
    let inside = |s: f64| {
        s.is_finite() && score_from.is_none_or(|a| s >= a) && score_below.is_none_or(|b| s < b)
    };
    let count = |(scores, y): (&[f64], &[bool])| {
        scores
            .iter()
            .zip(y)
            .filter(|(s, _)| inside(**s))
            .fold((0u64, 0u64), |(n, c), (_, &y)| (n + 1, c + u64::from(y)))
    };
    counted(score_from, score_below, count(train), count(test))
}

/// A step from its training and test (leads, converters).
fn counted(
    score_from: Option<f64>,
    score_below: Option<f64>,
    (leads, conv): (u64, u64),
    (tl, tc): (u64, u64),
) -> Step {
    let ci = wilson(conv, leads).unwrap_or((0.0, 1.0));
    Step {
        score_from,
        score_below,
        p: conv as f64 / leads.max(1) as f64,
        ci: [ci.0, ci.1],
        leads,
        converters: conv,
        test_leads: tl,
        test_rate: (tl > 0).then(|| tc as f64 / tl as f64),
        test_ci: wilson(tc, tl).map(|c| [c.0, c.1]),
    }
}

/// Isotonic (non-decreasing) fit of `y` on `x`: the fitted value at each distinct x, ascending,
/// with its weight. Ties in x are pooled first, then adjacent violators.
pub fn isotonic(x: &[f64], y: &[bool]) -> Vec<(f64, f64, f64)> {
    let mut order: Vec<usize> = (0..x.len()).filter(|&i| x[i].is_finite()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    // (first x, last x, sum of y, weight) per block.
    let mut blocks: Vec<(f64, f64, f64, f64)> = Vec::new();
    for i in order {
        let v = f64::from(u8::from(y[i]));
        match blocks.last_mut() {
            Some(b) if b.1 == x[i] => {
                b.2 += v;
                b.3 += 1.0;
                continue;
            }
            _ => blocks.push((x[i], x[i], v, 1.0)),
        }
    }
    let unique: Vec<f64> = blocks.iter().map(|b| b.0).collect();
    let mut pooled: Vec<(usize, f64, f64)> = Vec::new(); // (first unique index, sum, weight)
    for (k, b) in blocks.iter().enumerate() {
        pooled.push((k, b.2, b.3));
        while pooled.len() >= 2 {
            let n = pooled.len();
            let (a, c) = (pooled[n - 2], pooled[n - 1]);
            if a.1 / a.2 <= c.1 / c.2 {
                break;
            }
            pooled.truncate(n - 2);
            pooled.push((a.0, a.1 + c.1, a.2 + c.2));
        }
    }
    let mut out = Vec::with_capacity(unique.len());
    for (j, &(first, sum, w)) in pooled.iter().enumerate() {
        let end = pooled.get(j + 1).map_or(unique.len(), |p| p.0);
        for (k, u) in unique.iter().enumerate().take(end).skip(first) {
            out.push((*u, sum / w, blocks[k].3));
        }
    }
    out
}

/// The map for `scores`: fitted on the training rows, checked on the test rows.
pub fn score_map(train: (&[f64], &[bool]), test: (&[f64], &[bool]), min_leads: u64) -> ScoreMap {
    let fit = isotonic(train.0, train.1);
    // Steps of equal fitted value, as (first score, leads, converters).
    let mut steps: Vec<(f64, f64, f64)> = Vec::new();
    for (x, p, w) in &fit {
        match steps.last_mut() {
            Some(s) if (s.2 / s.1 - p).abs() < 1e-12 => {
                s.1 += w;
                s.2 += p * w;
            }
            _ => steps.push((*x, *w, p * w)),
        }
    }
    // Pool thin steps into the neighbour whose rate is closest (a pool of adjacent monotone
    // steps stays monotone).
    // Steps before the last merge already hold enough leads: search on from there.
    let mut from = 0;
    while steps.len() > 1 {
        let Some(k) = (from..steps.len()).find(|&k| (steps[k].1 as u64) < min_leads) else {
            break;
        };
        let rate = |s: &(f64, f64, f64)| s.2 / s.1;
        let into = match (k.checked_sub(1), (k + 1 < steps.len()).then_some(k + 1)) {
            (Some(a), Some(b)) => {
                if (rate(&steps[a]) - rate(&steps[k])).abs()
                    <= (rate(&steps[b]) - rate(&steps[k])).abs()
                {
                    a
                } else {
                    b
                }
            }
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => break,
        };
        let (lo, hi) = (k.min(into), k.max(into));
        let merged = (
            steps[lo].0,
            steps[lo].1 + steps[hi].1,
            steps[lo].2 + steps[hi].2,
        );
        steps[lo] = merged;
        steps.remove(hi);
        from = lo;
    }
    // The training counts are the steps' own; each test score finds its step by bisection.
    let firsts: Vec<f64> = steps.iter().map(|s| s.0).collect();
    let mut tested = vec![(0u64, 0u64); steps.len()];
    for (s, &y) in test.0.iter().zip(test.1) {
        if s.is_finite() {
            let k = firsts.partition_point(|f| f <= s).max(1) - 1;
            tested[k].0 += 1;
            tested[k].1 += u64::from(y);
        }
    }
    let steps = steps
        .iter()
        .zip(tested)
        .enumerate()
        .map(|(k, (&(_, leads, conv), (tl, tc)))| {
            // Sums of whole counts, exact but for the rounding of p × weight.
            let (leads, conv) = (leads.round() as u64, conv.round() as u64);
            counted(
                (k > 0).then_some(firsts[k]),
                firsts.get(k + 1).copied(),
                (leads, conv),
                (tl, tc),
            )
        })
        .collect();
    ScoreMap { steps }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_lead_sits_where_the_rising_map_reaches_the_overall_rate() {
        let step = |from: Option<f64>, below: Option<f64>, leads: u64, converters: u64| Step {
            score_from: from,
            score_below: below,
            p: converters as f64 / leads as f64,
            ci: [0.0, 1.0],
            leads,
            converters,
            test_leads: 0,
            test_rate: None,
            test_ci: None,
        };
        // 60 of 600 convert (10%): the first step at or above 10% begins at 5 points.
        let map = ScoreMap {
            steps: vec![
                step(None, Some(-20.0), 200, 4),
                step(Some(-20.0), Some(5.0), 200, 16),
                step(Some(5.0), None, 200, 40),
            ],
        };
        assert_eq!(map.average(), Some((0.1, Some(5.0))));
        assert_eq!(ScoreMap::default().average(), None);
    }

    #[test]
    fn isotonic_equals_scikit_learn_on_the_fixture() {
        // tests/fixtures/probability: make_expected.py fitted IsotonicRegression on scores.csv.
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/probability");
        let text = std::fs::read_to_string(dir.join("scores.csv")).unwrap();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for line in text.lines().skip(1) {
            let (s, c) = line.split_once(',').unwrap();
            x.push(s.parse::<f64>().unwrap());
            y.push(c == "1");
        }
        let e: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let fit = isotonic(&x, &y);
        let want = e["fitted"].as_array().unwrap();
        assert_eq!(fit.len(), want.len());
        for ((u, p, _), w) in fit.iter().zip(want) {
            assert_eq!(*u, w[0].as_f64().unwrap());
            assert!(
                (p - w[1].as_f64().unwrap()).abs() < 1e-12,
                "at {u}: {p} vs {w}"
            );
        }
    }

    #[test]
    fn steps_rise_hold_enough_leads_and_cover_every_score() {
        let x: Vec<f64> = (0..2000).map(|i| (i % 100) as f64).collect();
        let y: Vec<bool> = (0..2000)
            .map(|i| (i * 7919) % 100 < (i % 100) / 2)
            .collect();
        let m = score_map((&x, &y), (&x, &y), 30);
        assert!(m.steps.windows(2).all(|w| w[0].p <= w[1].p));
        assert!(m.steps.iter().all(|s| s.leads >= 30));
        assert_eq!(m.steps.iter().map(|s| s.leads).sum::<u64>(), 2000);
        assert_eq!(m.steps.first().unwrap().score_from, None);
        assert_eq!(m.steps.last().unwrap().score_below, None);
        assert!(m.at(-5.0).is_some() && m.at(1e9).is_some());
    }
}
