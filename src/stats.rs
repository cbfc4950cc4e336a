//! Shared statistics: interval estimates and hypothesis tests, each with scipy's definition.
//!
//! Inputs: counts (per-row losses for paired gains). Outputs: intervals, p-values and paired
//! gains. Guarantees: no function panics on zero counts; each test is checked against scipy
//! (`tests/fixtures/segments/`, `tests/fixtures/metrics/`, with the scripts that made the
//! expected values beside them). Used by evaluate, segments and
//! recommend (paired log-loss gains).

use statrs::distribution::{ChiSquared, ContinuousCDF, Discrete, Hypergeometric, Normal};

/// The two-sided standard-normal quantile for a 95% interval.
pub fn z95() -> f64 {
    Normal::standard().inverse_cdf(0.975)
}

/// Wilson score interval for `k` successes out of `n` at 95%.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (n, p, z) = (n as f64, k as f64 / n as f64, z95());
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    // At k = 0 (k = n) the bound is exactly 0 (1); the formula leaves a rounding residue.
    let low = if k == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if k as f64 == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((low, high))
}

/// p-value of a 2×2 table `[[a, b], [c, d]]` and the test used.
pub fn two_by_two(a: u64, b: u64, c: u64, d: u64) -> (f64, &'static str) {
    let n = (a + b + c + d) as f64;
    if n == 0.0 {
        return (1.0, "none");
    }
    let (r1, r2, c1, c2) = (
        (a + b) as f64,
        (c + d) as f64,
        (a + c) as f64,
        (b + d) as f64,
    );
    let min_expected = [r1 * c1, r1 * c2, r2 * c1, r2 * c2]
        .iter()
        .fold(f64::INFINITY, |m, v| m.min(v / n));
    if min_expected < 5.0 {
        (fisher(a, b, c, d), "fisher")
    } else {
        (chi_square_yates(a, b, c, d), "chi2")
    }
}

/// Two-sided Fisher exact test (scipy's definition: the sum of the probabilities of every table
/// with the same margins that is no more likely than the observed one, relative tolerance 1e-7).
pub fn fisher(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let population = a + b + c + d;
    let successes = a + c;
    let draws = a + b;
    let Ok(h) = Hypergeometric::new(population, successes, draws) else {
        return 1.0;
    };
    let lo = (draws + successes).saturating_sub(population);
    let hi = draws.min(successes);
    let observed = h.ln_pmf(a);
    let mut p = 0.0;
    for x in lo..=hi {
        let l = h.ln_pmf(x);
        if l <= observed + 1e-7f64.ln_1p() {
            p += l.exp();
        }
    }
    p.min(1.0)
}

/// Pearson chi-square with Yates' continuity correction, 1 degree of freedom.
pub fn chi_square_yates(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let n = (a + b + c + d) as f64;
    let (a, b, c, d) = (a as f64, b as f64, c as f64, d as f64);
    let (r1, r2, c1, c2) = (a + b, c + d, a + c, b + d);
    if r1 == 0.0 || r2 == 0.0 || c1 == 0.0 || c2 == 0.0 {
        return 1.0;
    }
    let mut stat = 0.0;
    for (obs, row, col) in [(a, r1, c1), (b, r1, c2), (c, r2, c1), (d, r2, c2)] {
        let e = row * col / n;
        // scipy: the correction never moves an observation past its expectation.
        let diff = ((obs - e).abs() - 0.5).max(0.0);
        stat += diff * diff / e;
    }
    ChiSquared::new(1.0).map(|chi| chi.sf(stat)).unwrap_or(1.0)
}

/// Two-sided test of `k` successes in `n` against the rate `p0` (for a pair against its worse
/// single value): exact binomial (as `scipy.stats.binomtest`, summed from the tails outward)
/// while n·p0·(1−p0) < 1000, beyond that the normal approximation with continuity correction.
pub fn binomial_test(k: u64, n: u64, p0: f64) -> f64 {
    use statrs::distribution::{Binomial, Normal};
    if n == 0 || !(0.0..=1.0).contains(&p0) {
        return 1.0;
    }
    if p0 == 0.0 || p0 == 1.0 {
        let expected = if p0 == 0.0 { 0 } else { n };
        return if k == expected { 1.0 } else { 0.0 };
    }
    let var = n as f64 * p0 * (1.0 - p0);
    if var < 1000.0 {
        let Ok(b) = Binomial::new(p0, n) else {
            return 1.0;
        };
        let limit = b.ln_pmf(k) + 1e-7f64.ln_1p();
        let mode = (((n + 1) as f64 * p0).floor() as u64).min(n);
        // Sum a tail from `start`, walking away from the mode until the terms vanish.
        let tail = |start: u64, up: bool| -> f64 {
            let (mut x, mut sum) = (start, 0.0f64);
            loop {
                let term = b.ln_pmf(x).exp();
                sum += term;
                if term <= sum * 1e-17 || (up && x == n) || (!up && x == 0) {
                    return sum;
                }
                x = if up { x + 1 } else { x - 1 };
            }
        };
        // The first point on the other side of the mode as unlikely as the observation.
        let p = if k <= mode {
            let mut x = mode.max(k + 1).min(n);
            while x < n && b.ln_pmf(x) > limit {
                x += 1;
            }
            let right = if b.ln_pmf(x) <= limit && x > k {
                tail(x, true)
            } else {
                0.0
            };
            tail(k, false) + right
        } else {
            let mut x = mode.min(k - 1);
            while x > 0 && b.ln_pmf(x) > limit {
                x -= 1;
            }
            let left = if b.ln_pmf(x) <= limit && x < k {
                tail(x, false)
            } else {
                0.0
            };
            tail(k, true) + left
        };
        p.min(1.0)
    } else {
        let z = (((k as f64) - n as f64 * p0).abs() - 0.5).max(0.0) / var.sqrt();
        let normal = Normal::standard();
        (2.0 * normal.sf(z)).min(1.0)
    }
}

/// Mean and standard error of the paired differences `a[i] − b[i]` (b's per-row gain over a,
/// for losses); `None` when the lengths differ or fewer than two rows pair up.
pub fn paired_gain(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len() as f64;
    let m = d.iter().sum::<f64>() / n;
    let v = d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    Some((m, (v / n).sqrt()))
}

/// Benjamini–Hochberg q-values, in the order of `p`.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&x, &y| p[x].total_cmp(&p[y]).then(x.cmp(&y)));
    let mut q = vec![0.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p[i] * m as f64 / (rank + 1) as f64);
        q[i] = running.min(1.0);
    }
    q
}
