//! A first model's rules: which columns earn points when there is no live score to start from,
//! chosen by forward selection on out-of-time likelihood.
//!
//! Input: the [`FeatureTable`]'s design matrix, its first `n` rows (the leads the first model
//! is fitted on, in creation order) and the columns that may earn points (those with enough
//! support; rare values stay pooled at 0). Output: [`Selection`]: the chosen columns in the
//! order they were taken, each with the out-of-time log-loss it gained, and the
//! [`Coefficients`] of the fit on the chosen columns alone (every other column 0).
//!
//! Method: the rows' earlier three quarters (by creation) are fitted, the last quarter is the
//! out-of-time check. Each step ranks the columns not yet taken by their score statistic
//! (U² / I at the current fit: how much one Newton step on that column alone would gain) and
//! refits with the best ones in turn; the first whose out-of-time log-loss gain over the
//! current fit is positive (and at least [`Settings::margin_se`] standard errors; 0 by default,
//! the gain of one more column being small against its noise on a few thousand leads) is
//! taken. Selection stops at [`Settings::max_rules`] columns or when none of
//! [`Settings::tries`] candidates gains. The chosen columns are then fitted on every row; one
//! whose estimate is within [`Settings::noise_z`] standard errors of 0 is dropped (within its
//! noise: 0 points) and the rest refitted. Guarantees: deterministic (evenly spaced samples,
//! fixed-order sums); the check rows are never fitted while columns are chosen.

use serde::Serialize;

use crate::features::FeatureTable;
use crate::model::newton::{self, Design};
use crate::model::{Coefficients, FitError, sigmoid};

/// How the first model's rules are chosen.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Most columns with points (a model a meeting can read).
    pub max_rules: usize,
    /// Most rows in the fitted part and in the check part (evenly spaced).
    pub sample_rows: usize,
    /// Standard errors of out-of-time log-loss gain a column needs to be taken.
    pub margin_se: f64,
    /// Candidates refitted per step before selection stops.
    pub tries: usize,
    /// L2 penalty of the small fits (scikit-learn's C = 1 / lambda).
    pub lambda: f64,
    /// Most rows of the final fit on the chosen columns.
    pub final_rows: usize,
    /// A chosen column whose final estimate is within this many standard errors of 0 gets 0
    /// points.
    pub noise_z: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_rules: 30,
            sample_rows: 60_000,
            margin_se: 0.0,
            tries: 3,
            lambda: 1.0,
            final_rows: 200_000,
            noise_z: 2.0,
        }
    }
}

/// One column taken.
#[derive(Debug, Clone, Serialize)]
pub struct Taken {
    pub column: usize,
    /// Out-of-time log-loss gain per check lead over the model without it, and its standard
    /// error.
    pub gain: f64,
    pub gain_se: f64,
}

/// The chosen columns and the fit on them.
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    pub taken: Vec<Taken>,
    /// Check leads (the last quarter of the rows, sampled) the gains are measured on.
    pub check_leads: usize,
    /// Columns that could be taken.
    pub considered: usize,
    /// Columns taken, then dropped: their estimate on every row was within its noise.
    pub noisy: Vec<usize>,
    #[serde(skip)]
    pub coefficients: Coefficients,
}

impl Selection {
    pub fn has(&self, column: usize) -> bool {
        self.taken.iter().any(|t| t.column == column)
    }
}

/// Every k-th of `rows`, at most `cap` of them.
fn spaced(rows: std::ops::Range<usize>, cap: usize) -> Vec<usize> {
    let stride = rows.len().div_ceil(cap.max(1)).max(1);
    rows.step_by(stride).collect()
}

fn losses(
    fit: &newton::NewtonFit,
    x: &[f64],
    width: usize,
    cols: &[usize],
    y: &[bool],
    rows: &[usize],
) -> Vec<f64> {
    rows.iter()
        .map(|&r| {
            let eta = logit(fit, &x[r * width..(r + 1) * width], cols);
            // log(1 + e^eta) − y·eta, stable on both sides.
            eta.max(0.0) + (-eta.abs()).exp().ln_1p() - if y[r] { eta } else { 0.0 }
        })
        .collect()
}

/// A fit on the columns `cols` of a full design row: its log-odds.
fn logit(fit: &newton::NewtonFit, row: &[f64], cols: &[usize]) -> f64 {
    fit.intercept
        + cols
            .iter()
            .zip(&fit.coef)
            .map(|(&c, b)| row[c] * b)
            .sum::<f64>()
}

/// Choose the first model's columns among `candidates` on the table's first `n` rows.
pub fn select(
    t: &FeatureTable,
    n: usize,
    candidates: &[usize],
    s: &Settings,
) -> Result<Selection, FitError> {
    let width = t.x.ncols();
    let x =
        t.x.as_slice()
            .ok_or_else(|| FitError::Param("design matrix not in standard layout".into()))?;
    let cut = n * 3 / 4;
    let fit_rows = spaced(0..cut, s.sample_rows);
    let check_rows = spaced(cut..n, s.sample_rows);
    let y = &t.y;
    fn design<'a>(
        x: &'a [f64],
        width: usize,
        y: &'a [bool],
        cols: &'a [usize],
        rows: &'a [usize],
    ) -> Design<'a> {
        Design {
            x,
            width,
            y,
            rows,
            cols,
        }
    }
    let mut cols: Vec<usize> = Vec::new();
    let mut current = newton::fit(design(x, width, y, &cols, &fit_rows), s.lambda)?;
    let mut current_loss = losses(&current, x, width, &cols, y, &check_rows);
    let mut taken = Vec::new();
    while cols.len() < s.max_rules {
        // Score statistic of every remaining column at the current fit, one pass over the rows.
        let rest: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|c| !cols.contains(c))
            .collect();
        if rest.is_empty() {
            break;
        }
        let mut u = vec![0.0; rest.len()];
        let mut info = vec![0.0; rest.len()];
        for &r in &fit_rows {
            let row = &x[r * width..(r + 1) * width];
            let eta = logit(&current, row, &cols);
            let p = sigmoid(eta);
            let resid = f64::from(u8::from(y[r])) - p;
            let w = p * (1.0 - p);
            for (k, &c) in rest.iter().enumerate() {
                let v = row[c];
                if v != 0.0 {
                    u[k] += resid * v;
                    info[k] += w * v * v;
                }
            }
        }
        let mut order: Vec<usize> = (0..rest.len()).filter(|&k| info[k] > 0.0).collect();
        let stat = |k: usize| u[k] * u[k] / info[k];
        order.sort_by(|&a, &b| stat(b).total_cmp(&stat(a)).then(rest[a].cmp(&rest[b])));
        let mut step = None;
        for &k in order.iter().take(s.tries) {
            let mut with = cols.clone();
            with.push(rest[k]);
            let mut start = vec![current.intercept];
            start.extend(&current.coef);
            start.push(0.0);
            let Ok(fit) = newton::fit_from(
                design(x, width, y, &with, &fit_rows),
                s.lambda,
                Some(&start),
            ) else {
                continue;
            };
            let l = losses(&fit, x, width, &with, y, &check_rows);
            let Some((gain, se)) = crate::stats::paired_gain(&current_loss, &l) else {
                continue;
            };
            if gain > 0.0 && gain >= s.margin_se * se {
                step = Some((rest[k], fit, l, gain, se));
                break;
            }
        }
        let Some((c, fit, l, gain, gain_se)) = step else {
            break;
        };
        cols.push(c);
        current = fit;
        current_loss = l;
        taken.push(Taken {
            column: c,
            gain,
            gain_se,
        });
    }
    // The written fit: every row (evenly spaced, at most final_rows), the chosen columns only;
    // a column whose estimate there is within two standard errors of 0 is dropped (within its
    // noise: 0 points) and the rest refitted.
    let all = spaced(0..n, s.final_rows);
    let mut start = vec![current.intercept];
    start.extend(&current.coef);
    let mut fit = newton::fit_from(design(x, width, y, &cols, &all), s.lambda, Some(&start))?;
    let noisy: Vec<usize> = (0..cols.len())
        .filter(|&k| fit.coef[k].abs() < s.noise_z * fit.se(k))
        .collect();
    let dropped: Vec<usize> = noisy.iter().map(|&k| cols[k]).collect();
    if !noisy.is_empty() {
        let keep: Vec<usize> = (0..cols.len()).filter(|k| !noisy.contains(k)).collect();
        let mut start = vec![fit.intercept];
        start.extend(keep.iter().map(|&k| fit.coef[k]));
        taken.retain(|t| keep.iter().any(|&k| cols[k] == t.column));
        cols = keep.iter().map(|&k| cols[k]).collect();
        fit = newton::fit_from(design(x, width, y, &cols, &all), s.lambda, Some(&start))?;
    }
    let mut raw_coef = vec![0.0; width];
    for (&c, b) in cols.iter().zip(&fit.coef) {
        raw_coef[c] = *b;
    }
    Ok(Selection {
        taken,
        check_leads: check_rows.len(),
        considered: candidates.len(),
        noisy: dropped,
        coefficients: Coefficients {
            raw_coef,
            raw_intercept: fit.intercept,
        },
    })
}
