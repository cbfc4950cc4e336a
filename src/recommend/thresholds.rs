//! The recommended thresholds: SQL for the stated objective (by default today's hand-overs per
//! month), MQL keeping today's ratio of MQL to SQL hand-overs, and the bands that follow them.
//!
//! Input: the recommended config's scores and replayed peak scores on the training period.
//! Output: candidate thresholds with their hand-over metrics ([`Candidate`]), the chosen SQL
//! and MQL, and the moved bands. Guarantees: candidates are the distinct whole-point 2nd..98th
//! percentiles of the training leads' scores; the search replays an evenly spaced sample of at
//! most [`SEARCH_LEADS`] training leads and scales volumes back to all of them; an objective
//! no candidate meets falls back to the nearest miss, and says so.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::features::FeatureTable;
use crate::scoring::config::Band;

/// What the SQL threshold should achieve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "target", rename_all = "snake_case")]
pub enum Objective {
    /// Today's hand-overs per month (sales capacity as it is), with the best precision and
    /// recall the recommended points give at that volume. The default.
    Volume,
    /// The best F1 on the training period.
    F1,
    /// The most recall with at least this precision.
    Precision(f64),
    /// The most precision with at least this recall.
    Recall(f64),
    /// The most hand-overs within this many per month.
    CapacityPerMonth(f64),
    /// This share of the leads handed over as SQL: a first model's default, when there is no
    /// volume of today to keep.
    Share(f64),
}

/// A first model's SQL share when the objective is left at its default.
pub const FIRST_MODEL_SHARE: f64 = 0.1;

/// MQL hand-overs per SQL hand-over when today's config hands over nobody (a first model):
/// marketing passes on two and a half times as many leads as reach sales.
pub const MQL_PER_SQL_WITHOUT_TODAY: f64 = 2.5;

impl FromStr for Objective {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{s}`: expected volume, f1, precision:0.3, recall:0.7, capacity:400/month or share:0.1"
            )
        };
        let share = |v: &str| -> Result<f64, String> {
            let x: f64 = v.trim().parse().map_err(|_| bad())?;
            if x > 0.0 && x <= 1.0 {
                Ok(x)
            } else {
                Err(bad())
            }
        };
        match s.split_once(':') {
            None if s == "f1" => Ok(Objective::F1),
            None if s == "volume" => Ok(Objective::Volume),
            Some(("precision", v)) => Ok(Objective::Precision(share(v)?)),
            Some(("recall", v)) => Ok(Objective::Recall(share(v)?)),
            Some(("share", v)) => Ok(Objective::Share(share(v)?)),
            Some(("capacity", v)) => {
                let n: f64 = v
                    .trim()
                    .trim_end_matches("/month")
                    .parse()
                    .map_err(|_| bad())?;
                if n > 0.0 && n.is_finite() {
                    Ok(Objective::CapacityPerMonth(n))
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        }
    }
}

/// The form the command line takes (`--objective`), which parses back to the same objective.
impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Objective::Volume => write!(f, "volume"),
            Objective::F1 => write!(f, "f1"),
            Objective::Precision(p) => write!(f, "precision:{p}"),
            Objective::Recall(r) => write!(f, "recall:{r}"),
            Objective::CapacityPerMonth(n) => write!(f, "capacity:{n}/month"),
            Objective::Share(p) => write!(f, "share:{p}"),
        }
    }
}

impl Objective {
    /// The objective as a reader says it: "the best F1 (precision and recall balanced)".
    pub fn describe(&self) -> String {
        match self {
            Objective::Volume => {
                "today's hand-overs per month (sales capacity as it is), ranked by the new points"
                    .into()
            }
            Objective::F1 => "the best F1 (precision and recall balanced)".into(),
            Objective::Precision(p) => {
                format!(
                    "the most recall with a precision of at least {:.0}%",
                    p * 100.0
                )
            }
            Objective::Recall(r) => {
                format!(
                    "the most precision with a recall of at least {:.0}%",
                    r * 100.0
                )
            }
            Objective::CapacityPerMonth(n) => {
                format!("the most hand-overs within {n} a month (sales capacity)")
            }
            Objective::Share(p) => {
                format!("the top {:.0}% of leads handed over to sales", p * 100.0)
            }
        }
    }
}

/// One candidate threshold on the training period.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Candidate {
    pub threshold: f64,
    pub handovers: u64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub handovers_per_month: f64,
    pub f1: Option<f64>,
}

/// At most this many training leads are replayed for the threshold search.
pub const SEARCH_LEADS: usize = 150_000;

/// The training leads the threshold search replays: every k-th in creation order.
pub struct SearchSample {
    pub rows: Vec<usize>,
    /// All training leads per sampled lead (volumes are scaled back by it).
    pub scale: f64,
}

impl SearchSample {
    pub fn of(n_train: usize) -> SearchSample {
        SearchSample::at_most(n_train, SEARCH_LEADS)
    }

    /// Every k-th of the first `n_train` rows, at most `cap` of them.
    pub fn at_most(n_train: usize, cap: usize) -> SearchSample {
        let stride = n_train.div_ceil(cap.max(1)).max(1);
        let rows: Vec<usize> = (0..n_train).step_by(stride).collect();
        let scale = n_train as f64 / rows.len().max(1) as f64;
        SearchSample { rows, scale }
    }
}

/// Candidate thresholds: the distinct whole-point 2nd..98th percentiles of `sorted` (ascending).
pub fn grid(sorted: &[f64]) -> Vec<f64> {
    let mut g: Vec<f64> = (1..50)
        .map(|k| sorted[(k * 2 * (sorted.len() - 1)) / 100].round())
        .collect();
    g.dedup();
    g
}

/// Hand-over metrics on the training period at each threshold of `grid`, from the search
/// sample's peak scores (one `(handed over by, caught by)` pair per sampled lead, see
/// [`FeatureTable::peak_scores`]): the leads at or above each threshold, counted along the
/// sorted peaks. The counts are those of replaying the sample at every threshold.
pub fn sweep(
    t: &FeatureTable,
    search: &SearchSample,
    grid: &[f64],
    peaks: &[(f64, f64)],
    train_months: f64,
) -> Vec<Candidate> {
    let sorted = |pick: fn(&(f64, f64)) -> f64| {
        let mut v: Vec<f64> = peaks.iter().map(pick).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (handed, caught) = (sorted(|p| p.0), sorted(|p| p.1));
    let at_or_above = |v: &[f64], g: f64| (v.len() - v.partition_point(|&x| x < g)) as f64;
    let converted = search.rows.iter().filter(|&&i| t.y[i]).count() as f64;
    let months = train_months / search.scale;
    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    grid.iter()
        .map(|&thr| {
            let (n, k) = (at_or_above(&handed, thr), at_or_above(&caught, thr));
            let (p, r) = (ratio(k, n), ratio(k, converted));
            Candidate {
                threshold: thr,
                handovers: (n * search.scale).round() as u64,
                precision: p,
                recall: r,
                handovers_per_month: if months > 0.0 { n / months } else { 0.0 },
                f1: match (p, r) {
                    (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
                    _ => None,
                },
            }
        })
        .collect()
}

/// How far from today's hand-overs per month a [`Objective::Volume`] candidate may lie and
/// still meet it (the grid is whole points, so an exact match is rare).
pub const VOLUME_TOLERANCE: f64 = 0.1;

/// The candidate `objective` picks, and whether it meets it. When none does: the best F1 for
/// precision and recall targets, the highest threshold for a capacity, the nearest volume for
/// today's volume (the best F1 when today's config hands over nobody). `today_per_month` is
/// today's config's hand-overs per month on the same leads.
pub fn choose(
    objective: Objective,
    candidates: &[Candidate],
    today_per_month: f64,
) -> (usize, bool) {
    let pick = |ok: &dyn Fn(&Candidate) -> bool,
                better: &dyn Fn(&Candidate, &Candidate) -> bool| {
        let mut best: Option<usize> = None;
        for (k, c) in candidates.iter().enumerate() {
            if ok(c) && best.is_none_or(|b| better(c, &candidates[b])) {
                best = Some(k);
            }
        }
        best
    };
    let best_f1 = || pick(&|c| c.f1.is_some(), &|c, b| c.f1 > b.f1);
    let last = candidates.len() - 1;
    if objective == Objective::Volume && today_per_month <= 0.0 {
        // Today's config hands over nobody: there is no volume to keep; the best F1 instead,
        // reported as not met.
        return (best_f1().unwrap_or(last), false);
    }
    if matches!(objective, Objective::Volume | Objective::Share(_)) {
        // The nearest volume; between two as near, the higher threshold.
        let gap = |c: &Candidate| (c.handovers_per_month - today_per_month).abs();
        let k = (0..candidates.len())
            .min_by(|&a, &b| {
                gap(&candidates[a])
                    .total_cmp(&gap(&candidates[b]))
                    .then(b.cmp(&a))
            })
            .unwrap_or(0);
        let met = gap(&candidates[k]) <= VOLUME_TOLERANCE * today_per_month.max(f64::MIN_POSITIVE);
        return (k, met);
    }
    let found = match objective {
        Objective::Volume | Objective::Share(_) => None,
        Objective::F1 => best_f1(),
        Objective::Precision(p) => pick(&|c| c.precision.is_some_and(|v| v >= p), &|c, b| {
            c.recall > b.recall
        }),
        Objective::Recall(r) => pick(&|c| c.recall.is_some_and(|v| v >= r), &|c, b| {
            c.precision > b.precision
        }),
        Objective::CapacityPerMonth(cap) => pick(&|c| c.handovers_per_month <= cap, &|c, b| {
            c.handovers > b.handovers
        }),
    };
    match found {
        Some(k) => (k, true),
        None => match objective {
            Objective::CapacityPerMonth(_) => (last, false),
            _ => (best_f1().unwrap_or(last), false),
        },
    }
}

/// The lowest MQL threshold: a lead with no evidence either way scores 0, and a marketer does
/// not qualify a lead on that (the ratio rule alone gave MQL −30 on a 1M-lead world whose
/// points include large negative ones).
pub const MQL_FLOOR: f64 = 1.0;

/// MQL: the candidate below SQL (`chosen`) whose hand-overs stand to the recommended SQL's
/// as today's MQL hand-overs stand to today's SQL hand-overs (`ratio_now`, at least 1): marketing
/// keeps passing on as many MQLs per SQL as today; at least [`MQL_FLOOR`], at most SQL − 1
/// (which wins when SQL itself is at or below the floor).
pub fn mql(grid: &[f64], candidates: &[Candidate], chosen: usize, ratio_now: f64) -> f64 {
    let sql = grid[chosen];
    let want = candidates[chosen].handovers as f64 * ratio_now;
    let mql_k = (0..chosen).min_by(|&x, &y| {
        let d = |k: usize| (candidates[k].handovers as f64 - want).abs();
        d(x).total_cmp(&d(y))
    });
    mql_k
        .map(|k| grid[k])
        .unwrap_or(sql - 1.0)
        .max(MQL_FLOOR)
        .min(sql - 1.0)
}

/// Bands that start at a threshold follow it; others keep the share of training leads' live
/// snapshot scores above them, read off the recommended scores (`sorted`, ascending).
pub fn move_bands(
    bands: &mut [Band],
    (old_mql, old_sql): (f64, f64),
    (mql, sql): (f64, f64),
    live_train: &[f64],
    sorted: &[f64],
) {
    let n_train = live_train.len();
    for b in bands.iter_mut() {
        if !b.from.is_finite() {
            continue;
        }
        b.from = if b.from == old_sql {
            sql
        } else if b.from == old_mql {
            mql
        } else {
            let share =
                live_train.iter().filter(|&&s| s >= b.from).count() as f64 / n_train.max(1) as f64;
            let k = (((1.0 - share) * (sorted.len() - 1) as f64).round() as usize)
                .min(sorted.len() - 1);
            sorted[k].round()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_read_as_words() {
        assert_eq!(
            Objective::F1.describe(),
            "the best F1 (precision and recall balanced)"
        );
        assert_eq!(
            Objective::Precision(0.3).describe(),
            "the most recall with a precision of at least 30%"
        );
        assert_eq!(
            Objective::CapacityPerMonth(400.0).describe(),
            "the most hand-overs within 400 a month (sales capacity)"
        );
    }

    #[test]
    fn objectives_parse_or_explain() {
        assert_eq!("f1".parse::<Objective>().unwrap(), Objective::F1);
        assert_eq!(
            "precision:0.3".parse::<Objective>().unwrap(),
            Objective::Precision(0.3)
        );
        assert_eq!(
            "recall:0.7".parse::<Objective>().unwrap(),
            Objective::Recall(0.7)
        );
        assert_eq!(
            "capacity:400/month".parse::<Objective>().unwrap(),
            Objective::CapacityPerMonth(400.0)
        );
        for bad in ["precision:30", "recall:", "capacity:-4/month", "auc", "f2"] {
            let e = bad.parse::<Objective>().unwrap_err();
            assert!(
                e.contains("expected volume, f1, precision:0.3"),
                "{bad}: {e}"
            );
        }
        for text in [
            "volume",
            "f1",
            "precision:0.3",
            "recall:0.7",
            "capacity:400/month",
        ] {
            assert_eq!(text.parse::<Objective>().unwrap().to_string(), text);
        }
    }

    fn candidate(threshold: f64, per_month: f64) -> Candidate {
        Candidate {
            threshold,
            handovers: (per_month * 10.0) as u64,
            precision: Some(0.1),
            recall: Some(0.5),
            handovers_per_month: per_month,
            f1: Some(0.2),
        }
    }

    #[test]
    fn the_volume_objective_keeps_todays_hand_overs_and_mql_keeps_its_ratio() {
        let c: Vec<Candidate> = [(10.0, 300.0), (20.0, 200.0), (30.0, 130.0), (40.0, 60.0)]
            .map(|(t, v)| candidate(t, v))
            .to_vec();
        // Today 126 a month: 130 is within 10%.
        assert_eq!(choose(Objective::Volume, &c, 126.0), (2, true));
        // Today 90: 60 and 130 are both far; the nearest (60, gap 30) is used, not met.
        assert_eq!(choose(Objective::Volume, &c, 90.0), (3, false));
        // Today's config hands over nobody (a template's first points): the best F1, not met.
        let mut f = c.clone();
        f[1].f1 = Some(0.3);
        assert_eq!(choose(Objective::Volume, &f, 0.0), (1, false));
        let grid: Vec<f64> = c.iter().map(|c| c.threshold).collect();
        // Today's MQL hands over 2.3 times as many leads as SQL: 1,300 x 2.3 = 2,990 -> 3,000.
        assert_eq!(mql(&grid, &c, 2, 2.3), 10.0);
        assert_eq!(mql(&grid, &c, 2, 1.5), 20.0);
        // Nothing below the lowest candidate: SQL - 1.
        assert_eq!(mql(&grid, &c, 0, 2.0), 9.0);
    }

    /// The ratio rule put MQL at −30 points on a world with large negative points: every lead
    /// with no evidence either way (score 0) would have been a marketing-qualified lead.
    #[test]
    fn the_mql_threshold_never_falls_to_a_lead_with_no_evidence() {
        let c: Vec<Candidate> = [(-30.0, 900.0), (-10.0, 600.0), (5.0, 300.0), (20.0, 200.0)]
            .map(|(t, v)| candidate(t, v))
            .to_vec();
        let grid: Vec<f64> = c.iter().map(|c| c.threshold).collect();
        // 200 x 4.5 = 900: the ratio alone picks -30.
        assert_eq!(mql(&grid, &c, 3, 4.5), 1.0);
        assert_eq!(mql(&grid, &c, 3, 1.5), 5.0);
        // SQL 1 leaves no room above the floor: SQL - 1.
        let low = [candidate(-5.0, 400.0), candidate(1.0, 200.0)];
        assert_eq!(mql(&[-5.0, 1.0], &low, 1, 2.0), 0.0);
    }

    #[test]
    fn the_grid_is_distinct_whole_points() {
        let sorted: Vec<f64> = (0..1000).map(|i| (i / 10) as f64 + 0.4).collect();
        let g = grid(&sorted);
        assert!(g.windows(2).all(|w| w[0] < w[1]), "{g:?}");
        assert!(g.iter().all(|v| v.fract() == 0.0));
        // The 2nd percentile of 0.4 ..= 99.4 is 1.4.
        assert_eq!(g.first(), Some(&1.0));
    }
}
