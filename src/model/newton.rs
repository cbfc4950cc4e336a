//! A small L2-penalised logistic fit by Newton steps, with the covariance of its estimates.
//!
//! Input: a dense row-major matrix of a few raw columns (rule fire counts, indicators), the
//! labels and a penalty λ on the coefficients (the intercept is not penalised). Output:
//! [`NewtonFit`]: intercept, coefficients and the inverse of the penalised Hessian at the
//! optimum, whose diagonal gives each coefficient's standard error.
//!
//! It minimises Σ log-loss + λ/2·|β|², scikit-learn's `LogisticRegression(C = 1/λ)` objective
//! (pinned against it in `tests/fixtures/stability/`). The main model's L-BFGS is built for
//! a million rows and 60+ columns; here there are at most a few dozen columns, and Newton's
//! Hessian is needed anyway for the intervals. Rows are summed in blocks in a fixed order, so
//! the result does not depend on the thread count.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::{FitError, sigmoid};

/// A fitted small model.
#[derive(Debug, Clone)]
pub struct NewtonFit {
    pub intercept: f64,
    pub coef: Vec<f64>,
    /// (1 + p)² inverse penalised Hessian, intercept first, row-major.
    pub cov: Vec<f64>,
    pub iterations: usize,
}

impl NewtonFit {
    /// Standard error of coefficient `j`.
    pub fn se(&self, j: usize) -> f64 {
        let d = self.coef.len() + 1;
        self.cov[(j + 1) * d + j + 1].max(0.0).sqrt()
    }

    /// Log-odds of one row.
    pub fn logit(&self, row: &[f64]) -> f64 {
        self.intercept + row.iter().zip(&self.coef).map(|(a, b)| a * b).sum::<f64>()
    }
}

const BLOCK: usize = 8192;
const MAX_ITERATIONS: usize = 50;

/// Some rows and columns of a row-major matrix, without copying them.
#[derive(Clone, Copy)]
pub struct Design<'a> {
    pub x: &'a [f64],
    /// Columns of `x`.
    pub width: usize,
    pub y: &'a [bool],
    pub rows: &'a [usize],
    pub cols: &'a [usize],
}

/// Loss, gradient and Hessian (intercept first) at `beta`.
fn sums(m: Design<'_>, beta: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
    let d = m.cols.len() + 1;
    let parts: Vec<(f64, Vec<f64>, Vec<f64>)> = m
        .rows
        .par_chunks(BLOCK)
        .map(|rows| {
            let mut loss = 0.0;
            let mut g = vec![0.0; d];
            let mut h = vec![0.0; d * d];
            let mut z = vec![0.0; d];
            for &r in rows {
                let yi = m.y[r];
                z[0] = 1.0;
                let row = &m.x[r * m.width..(r + 1) * m.width];
                for (k, &c) in m.cols.iter().enumerate() {
                    z[k + 1] = row[c];
                }
                let eta: f64 = z.iter().zip(beta).map(|(a, b)| a * b).sum();
                let q = sigmoid(eta);
                // log(1 + e^eta) - y·eta, stable on both sides.
                loss += eta.max(0.0) + (-eta.abs()).exp().ln_1p() - if yi { eta } else { 0.0 };
                let resid = q - f64::from(u8::from(yi));
                let w = q * (1.0 - q);
                for a in 0..d {
                    g[a] += resid * z[a];
                    let wa = w * z[a];
                    if wa != 0.0 {
                        for b in a..d {
                            h[a * d + b] += wa * z[b];
                        }
                    }
                }
            }
            (loss, g, h)
        })
        .collect();
    let mut loss = 0.0;
    let mut g = vec![0.0; d];
    let mut h = vec![0.0; d * d];
    for (l, gb, hb) in parts {
        loss += l;
        g.iter_mut().zip(gb).for_each(|(a, b)| *a += b);
        h.iter_mut().zip(hb).for_each(|(a, b)| *a += b);
    }
    for a in 0..d {
        for b in 0..a {
            h[a * d + b] = h[b * d + a];
        }
    }
    (loss, g, h)
}

/// Fit the design's labels on its columns with penalty `lambda` (≥ 0).
pub fn fit(m: Design<'_>, lambda: f64) -> Result<NewtonFit, FitError> {
    fit_from(m, lambda, None)
}

/// [`fit`] started at `start` (intercept first, one value per column): a nearby fit's
/// estimates save most of the Newton steps. The optimum does not depend on the start.
pub fn fit_from(m: Design<'_>, lambda: f64, start: Option<&[f64]>) -> Result<NewtonFit, FitError> {
    if m.x.len() != m.y.len() * m.width
        || m.cols.iter().any(|&c| c >= m.width)
        || m.rows.iter().any(|&r| r >= m.y.len())
        || !(lambda >= 0.0 && lambda.is_finite())
    {
        return Err(FitError::Param("matrix shape or penalty".into()));
    }
    if m.rows.is_empty() {
        return Err(FitError::OneClass("no rows"));
    }
    if m.x.iter().any(|v| !v.is_finite()) {
        return Err(FitError::NonFinite("a rule column".into()));
    }
    let d = m.cols.len() + 1;
    let penalised = |beta: &[f64], loss: f64| {
        loss + 0.5 * lambda * beta[1..].iter().map(|b| b * b).sum::<f64>()
    };
    // Start at the base rate.
    let k = m.rows.iter().filter(|&&r| m.y[r]).count() as f64;
    let n = m.rows.len() as f64;
    let mut beta = match start {
        Some(b) if b.len() == d && b.iter().all(|v| v.is_finite()) => b.to_vec(),
        _ => {
            let mut b = vec![0.0; d];
            b[0] = ((k + 0.5) / (n - k + 0.5)).ln();
            b
        }
    };
    let (loss, mut g, mut h) = sums(m, &beta);
    let mut obj = penalised(&beta, loss);
    for it in 1..=MAX_ITERATIONS {
        let (gp, hp) = penalise(&g, &h, &beta, lambda);
        let chol = DMatrix::from_row_slice(d, d, &hp)
            .cholesky()
            .ok_or_else(|| FitError::Solver("the Hessian is not positive definite".into()))?;
        let step = chol.solve(&DVector::from_vec(gp));
        // The next Newton step would move no estimate by 1e-8: this is the optimum.
        if step.iter().all(|s| s.abs() < 1e-8) {
            return finish(beta, &g, &h, lambda, it);
        }
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = beta
                .iter()
                .zip(step.iter())
                .map(|(b, s)| b - t * s)
                .collect();
            let (l2, g2, h2) = sums(m, &trial);
            let o2 = penalised(&trial, l2);
            if o2 <= obj + 1e-12 * obj.abs() || t < 1e-6 {
                (beta, g, h, obj) = (trial, g2, h2, o2);
                break;
            }
            t *= 0.5;
        }
    }
    Err(FitError::Solver(format!(
        "Newton steps did not converge in {MAX_ITERATIONS} iterations"
    )))
}

fn penalise(g: &[f64], h: &[f64], beta: &[f64], lambda: f64) -> (Vec<f64>, Vec<f64>) {
    let d = beta.len();
    let mut gp = g.to_vec();
    let mut hp = h.to_vec();
    for a in 1..d {
        gp[a] += lambda * beta[a];
        hp[a * d + a] += lambda;
    }
    (gp, hp)
}

fn finish(
    beta: Vec<f64>,
    g: &[f64],
    h: &[f64],
    lambda: f64,
    iterations: usize,
) -> Result<NewtonFit, FitError> {
    let d = beta.len();
    let (_, hp) = penalise(g, h, &beta, lambda);
    let inv = DMatrix::from_row_slice(d, d, &hp)
        .cholesky()
        .ok_or_else(|| FitError::Solver("the Hessian is not positive definite".into()))?
        .inverse();
    let cov: Vec<f64> = (0..d * d).map(|i| inv[(i / d, i % d)]).collect();
    Ok(NewtonFit {
        intercept: beta[0],
        coef: beta[1..].to_vec(),
        cov,
        iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn all<'a>(x: &'a [f64], y: &'a [bool]) -> Design<'a> {
        let rows: &'static [usize] = Box::leak((0..y.len()).collect::<Vec<_>>().into_boxed_slice());
        Design {
            x,
            width: 3,
            y,
            rows,
            cols: &[0, 1, 2],
        }
    }

    fn simulate(n: usize, beta: &[f64], b0: f64, seed: u64) -> (Vec<f64>, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let p = beta.len();
        let mut x = Vec::with_capacity(n * p);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            // A count, a correlated count and an indicator, as rule columns are.
            let a = (rng.random::<f64>() * 4.0).floor();
            let b = (a * 0.5 + rng.random::<f64>() * 3.0).floor();
            let c = f64::from(u8::from(rng.random::<f64>() < 0.3));
            let row = [a, b, c];
            let eta = b0 + row[..p].iter().zip(beta).map(|(x, b)| x * b).sum::<f64>();
            y.push(rng.random::<f64>() < sigmoid(eta));
            x.extend_from_slice(&row[..p]);
        }
        (x, y)
    }

    #[test]
    fn one_period_s_fit_equals_scikit_learn_and_statsmodels() {
        // tests/fixtures/stability: make_expected.py wrote rules.csv and expected.json.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stability");
        let text = std::fs::read_to_string(dir.join("rules.csv")).unwrap();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for line in text.lines().skip(1) {
            let v: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
            x.extend_from_slice(&v[..4]);
            y.push(v[4] == 1.0);
        }
        let e: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let rows: Vec<usize> = (0..y.len()).collect();
        let m = Design {
            x: &x,
            width: 4,
            y: &y,
            rows: &rows,
            cols: &[0, 1, 2, 3],
        };
        let num = |v: &serde_json::Value| v.as_f64().unwrap();
        // At the per-period penalty, against LogisticRegression(C = 1).
        let ridge = fit(m, num(&e["ridge"]["penalty"])).unwrap();
        assert!((ridge.intercept - num(&e["ridge"]["intercept"])).abs() < 1e-6);
        for (j, c) in e["ridge"]["coef"].as_array().unwrap().iter().enumerate() {
            assert!(
                (ridge.coef[j] - num(c)).abs() < 1e-6,
                "coef {j}: {} vs {c}",
                ridge.coef[j]
            );
        }
        // Without penalty, coefficients and standard errors against statsmodels' Logit.
        let mle = fit(m, 0.0).unwrap();
        assert!((mle.intercept - num(&e["mle"]["intercept"])).abs() < 1e-8);
        for j in 0..4 {
            assert!((mle.coef[j] - num(&e["mle"]["coef"][j])).abs() < 1e-8);
            assert!((mle.se(j) - num(&e["mle"]["se"][j])).abs() < 1e-8, "se {j}");
        }
    }

    #[test]
    fn intervals_cover_known_effects_at_their_nominal_rate() {
        // 400 simulated data sets with known effects: each 95% interval should hold its true
        // coefficient about 95% of the time (binomial sd over 1,200 intervals: 0.6 points).
        let beta = [0.4, -0.3, 0.8];
        let (mut covered, mut total) = (0, 0);
        let z = crate::stats::z95();
        for s in 0..400 {
            let (x, y) = simulate(1500, &beta, -2.0, s);
            let f = fit(all(&x, &y), 1.0).unwrap();
            for (j, b) in beta.iter().enumerate() {
                total += 1;
                covered += usize::from((f.coef[j] - b).abs() <= z * f.se(j));
            }
        }
        let rate = covered as f64 / total as f64;
        assert!((0.93..=0.97).contains(&rate), "coverage {rate}");
    }

    #[test]
    fn the_same_fit_at_any_thread_count() {
        let (x, y) = simulate(30_000, &[0.4, -0.3, 0.8], -2.0, 7);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let a = one.install(|| fit(all(&x, &y), 1.0).unwrap());
        let b = fit(all(&x, &y), 1.0).unwrap();
        assert_eq!(a.coef, b.coef);
        assert_eq!(a.cov, b.cov);
    }

    #[test]
    fn a_column_that_never_varies_still_fits_under_a_penalty() {
        let (mut x, y) = simulate(2000, &[0.4, -0.3, 0.8], -2.0, 3);
        for r in 0..2000 {
            x[r * 3 + 2] = 0.0;
        }
        let f = fit(all(&x, &y), 1.0).unwrap();
        assert_eq!(f.coef[2], 0.0);
        assert!(fit(all(&x, &y), 0.0).is_err());
        // Leaving the column out fits the same as a penalised zero column.
        let rows: Vec<usize> = (0..2000).collect();
        let without = fit(
            Design {
                cols: &[0, 1],
                rows: &rows,
                ..all(&x, &y)
            },
            1.0,
        )
        .unwrap();
        assert!((without.coef[0] - f.coef[0]).abs() < 1e-9);
    }
}
