//! Stage: the predictive model. An L2-penalised logistic regression (linfa-logistic) on
//! standardised features, its penalty chosen by time-ordered cross-validation.
//!
//! Input: a dense feature matrix (rows = leads in time order of creation, columns = named
//! features), the labels, and [`LogisticParams`]. Output: [`FittedLogistic`], whose
//! coefficients are on the standardised scale and also given per unit of each raw feature.
//! Guarantees:
//! - parameters are checked before any fitting ([`LogisticParams::check`]);
//! - one class, too few converters or non-finite features are typed errors ([`FitError`]),
//!   never panics;
//! - linfa-logistic treats the *majority* class as positive; this module always returns the
//!   coefficients and probabilities of *converting* (pinned by a test);
//! - deterministic: the sample of non-converters is drawn with a seeded generator.
//!
//! Speed: linfa's L-BFGS is slow on a million rows (see STACK-NOTES). The penalty is therefore
//! chosen on a case-control sample (every converter, a seeded sample of non-converters, the
//! intercept corrected by ln(sampling rate)), and the final full fit is warm-started from the
//! sample fit, with the gradient tolerance scaled by the number of rows.
//!
//! Every fit minimises linfa-logistic's objective with the solver linfa-logistic runs (argmin's
//! L-BFGS, memory 10, More-Thuente line search, the same gradient-norm stop), through
//! [`SummedLogLoss`]: one pass gives the loss and its gradient, in parallel blocks of rows, and
//! the line search's next call for the gradient reuses it (linfa takes three single-threaded
//! passes per trial point; on 719k x 65 rows the full fit went from 11.6 s to 0.65 s, with
//! coefficients equal to 4e-14). The full fit standardises each row inside the pass instead of
//! copying the matrix (3.7 GB at 10M leads), which brings it to about 1.9 s at 1M, beside the
//! segments. [`fit_alpha`] is linfa-logistic's own fit, kept as the reference the parallel fit is
//! pinned to (`the_parallel_objective_reaches_linfas_optimum`). Blocks are summed in a fixed
//! order, so results do not depend on the thread count.

pub mod newton;

use crate::format::thousands;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;

/// Why a model could not be fitted.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum FitError {
    #[error(
        "every training lead has the same outcome ({0}); a model needs converters and non-converters"
    )]
    OneClass(&'static str),
    #[error(
        "only {found} converters in the training period; at least {needed} are needed (lower it with --min-converters, or widen --since/--until)"
    )]
    TooFewConverters { found: usize, needed: usize },
    #[error("feature `{0}` has a missing or non-finite value")]
    NonFinite(String),
    #[error("invalid model parameter: {0}")]
    Param(String),
    #[error("the logistic fit failed: {0}")]
    Solver(String),
}

impl crate::error::StageError for FitError {
    fn status(&self) -> crate::error::ExitStatus {
        match self {
            FitError::Solver(_) | FitError::Param(_) => crate::error::ExitStatus::Internal,
            _ => crate::error::ExitStatus::User,
        }
    }
    fn headline(&self) -> Option<&'static str> {
        Some("cannot fit the model")
    }
}

impl From<FitError> for crate::error::Error {
    fn from(e: FitError) -> Self {
        crate::error::Error::Stage(Box::new(e))
    }
}

/// Hyperparameters of the fit.
#[derive(Debug, Clone, Serialize)]
pub struct LogisticParams {
    /// Candidate L2 penalties per training row (alpha = penalty x rows, on standardised
    /// features; scikit-learn's C = 1 / alpha).
    pub penalties: Vec<f64>,
    /// Consecutive time blocks for cross-validation (folds = blocks - 1).
    pub time_blocks: usize,
    pub min_converters: usize,
    /// Most training rows used for choosing the penalty.
    pub cv_rows: usize,
    /// Most training rows of the sample fit that warm-starts the full fit.
    pub sample_rows: usize,
    /// Gradient tolerance per row of the final fit (linfa's tolerance is on the summed loss).
    pub tolerance: f64,
    /// Looser tolerance per row for the cross-validation fits and the warm-start fit.
    pub search_tolerance: f64,
    pub max_iterations: u64,
    pub seed: u64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            penalties: vec![1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
            time_blocks: 4,
            min_converters: 30,
            cv_rows: 40_000,
            sample_rows: 150_000,
            tolerance: 5e-5,
            search_tolerance: 1e-4,
            max_iterations: 500,
            seed: 20_230_101,
        }
    }
}

impl LogisticParams {
    pub fn check(&self) -> Result<(), FitError> {
        if self.penalties.is_empty() || self.penalties.iter().any(|p| !p.is_finite() || *p <= 0.0) {
            return Err(FitError::Param(
                "penalties must be a non-empty list of positive numbers".into(),
            ));
        }
        if self.time_blocks < 2 {
            return Err(FitError::Param("time_blocks must be at least 2".into()));
        }
        if self.min_converters < 1 {
            return Err(FitError::Param("min_converters must be at least 1".into()));
        }
        if self.sample_rows < 100 {
            return Err(FitError::Param("sample_rows must be at least 100".into()));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) || self.max_iterations == 0 {
            return Err(FitError::Param(
                "tolerance must be positive and max_iterations at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Fit on `x` (rows in order of creation time) and `y` (`true` = converted).
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        names: &[String],
    ) -> Result<FittedLogistic, FitError> {
        self.check()?;
        let _t = crate::timing::Stage::start("fit: checks and scaling");
        check_data(x, y, names, self.min_converters)?;
        let scaler = Scaler::fit(x);
        let n = y.len();
        // Case-control sample: every converter, non-converters sampled.
        let sample = CaseControl::draw(y, self.sample_rows, self.seed);
        let (xs_s, y_s) = sample.select(x, &scaler, y);
        // Penalty by time-ordered cross-validation on a smaller sample (rows stay in time
        // order); the (penalty, fold) fits run in parallel.
        let cv_sample = CaseControl::draw(y, self.cv_rows, self.seed ^ 0x5eed);
        let (xs_c, y_c) = cv_sample.select(x, &scaler, y);
        drop(_t);
        let blocks = self.time_blocks;
        let m = y_c.len();
        let bounds: Vec<usize> = (0..=blocks).map(|b| b * m / blocks).collect();
        let _t = crate::timing::Stage::start("fit: penalty by CV");
        let step = crate::progress::Step::spinner(format!(
            "fitting: the penalty by time-ordered cross-validation ({} fits on {} leads)",
            self.penalties.len() * (blocks - 1),
            thousands(y_c.len() as u64)
        ));
        let jobs: Vec<(usize, usize)> = (0..self.penalties.len())
            .flat_map(|p| (1..blocks).map(move |k| (p, k)))
            .collect();
        let losses: Vec<Option<f64>> = jobs
            .par_iter()
            .map(|&(p, k)| {
                let penalty = self.penalties[p];
                let (tr, va) = (0..bounds[k], bounds[k]..bounds[k + 1]);
                let ytr = &y_c[tr.clone()];
                let yva = &y_c[va.clone()];
                if !ytr.iter().any(|&v| v) || ytr.iter().all(|&v| v) || yva.is_empty() {
                    return Ok(None);
                }
                let xtr = xs_c.slice_axis(ndarray::Axis(0), ndarray::Slice::from(tr));
                let fit = fit_parallel(
                    xtr,
                    ytr,
                    penalty * ytr.len() as f64,
                    None,
                    self.search_tolerance * ytr.len() as f64,
                    self.max_iterations,
                )?;
                let b = fit.1 + cv_sample.log_rate;
                let xva = xs_c.slice_axis(ndarray::Axis(0), ndarray::Slice::from(va));
                let p: Vec<f64> = xva.dot(&fit.0).iter().map(|z| sigmoid(z + b)).collect();
                Ok(Some(cv_sample.weighted_log_loss(yva, &p)))
            })
            .collect::<Result<_, FitError>>()?;
        let mut cv = Vec::new();
        for (p, &penalty) in self.penalties.iter().enumerate() {
            let mut fold = Vec::new();
            for (job, loss) in jobs.iter().zip(&losses) {
                if job.0 == p
                    && let Some(l) = *loss
                {
                    fold.push(l);
                }
            }
            let mean = (!fold.is_empty()).then(|| fold.iter().sum::<f64>() / fold.len() as f64);
            cv.push(CvPoint {
                penalty,
                folds: fold.len(),
                mean_log_loss: mean,
            });
        }
        let best = cv
            .iter()
            .filter_map(|c| c.mean_log_loss.map(|l| (c.penalty, l)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(p, _)| p)
            .unwrap_or(self.penalties[self.penalties.len() / 2]);
        drop(_t);
        // Warm start from the sample fit, then the full fit.
        let _t = crate::timing::Stage::start("fit: sample");
        step.say(format!(
            "fitting: a sample of {} leads",
            thousands(y_s.len() as u64)
        ));
        let warm = fit_parallel(
            xs_s.view(),
            &y_s,
            best * y_s.len() as f64,
            None,
            self.search_tolerance * y_s.len() as f64,
            self.max_iterations,
        )?;
        drop(_t);
        let _t = crate::timing::Stage::start("fit: full, warm-started");
        drop(step);
        let step = crate::progress::Step::count(
            format!(
                "fitting: all {} training leads, {} features, until the gradient is flat",
                thousands(n as u64),
                x.ncols()
            ),
            "passes over the leads",
        );
        // The full data is standardised row by row inside each pass, not copied (3.7 GB at
        // 10M leads); the values are the ones `Scaler::transform` writes.
        let (coef, intercept) = minimise(
            SummedLogLoss::new(x.view(), y, best * n as f64)
                .standardised(&scaler)
                .counting(step.counter()),
            Some((warm.0, warm.1 + sample.log_rate)),
            self.tolerance * n as f64,
            self.max_iterations,
        )?;
        drop(_t);
        let raw_coef = &coef / &scaler.scale;
        let raw_intercept = intercept - (&scaler.mean * &raw_coef).sum();
        Ok(FittedLogistic {
            names: names.to_vec(),
            mean: scaler.mean.to_vec(),
            scale: scaler.scale.to_vec(),
            coef: coef.to_vec(),
            intercept,
            raw_coef: raw_coef.to_vec(),
            raw_intercept,
            penalty: best,
            alpha: best * n as f64,
            rows: n,
            converters: y.iter().filter(|&&v| v).count(),
            sample_rows: y_s.len(),
            cv,
        })
    }
}

fn check_data(
    x: ArrayView2<f64>,
    y: &[bool],
    names: &[String],
    min_converters: usize,
) -> Result<(), FitError> {
    if x.nrows() != y.len() || x.ncols() != names.len() {
        return Err(FitError::Param(format!(
            "{} rows x {} features, but {} labels and {} names",
            x.nrows(),
            x.ncols(),
            y.len(),
            names.len()
        )));
    }
    let pos = y.iter().filter(|&&v| v).count();
    if pos == 0 {
        return Err(FitError::OneClass("no lead converted"));
    }
    if pos == y.len() {
        return Err(FitError::OneClass("every lead converted"));
    }
    if pos < min_converters {
        return Err(FitError::TooFewConverters {
            found: pos,
            needed: min_converters,
        });
    }
    // One pass in memory order; only a matrix with a bad value is read again by column, to
    // name the first such feature.
    if x.iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    for (j, c) in x.axis_iter(Axis(1)).enumerate() {
        if c.iter().any(|v| !v.is_finite()) {
            return Err(FitError::NonFinite(names[j].clone()));
        }
    }
    Ok(())
}

/// One penalty's cross-validated loss.
#[derive(Debug, Clone, Serialize)]
pub struct CvPoint {
    pub penalty: f64,
    pub folds: usize,
    /// Mean over folds of the validation log-loss (non-converters weighted back to the full
    /// population).
    pub mean_log_loss: Option<f64>,
}

/// A fitted model.
#[derive(Debug, Clone, Serialize)]
pub struct FittedLogistic {
    pub names: Vec<String>,
    pub mean: Vec<f64>,
    /// Population standard deviation (1 for a constant feature).
    pub scale: Vec<f64>,
    /// Coefficients on standardised features: log-odds per standard deviation.
    pub coef: Vec<f64>,
    pub intercept: f64,
    /// Coefficients per unit of each raw feature.
    pub raw_coef: Vec<f64>,
    pub raw_intercept: f64,
    pub penalty: f64,
    pub alpha: f64,
    pub rows: usize,
    pub converters: usize,
    pub sample_rows: usize,
    pub cv: Vec<CvPoint>,
}

impl FittedLogistic {
    /// Probability of converting for each row of raw features.
    pub fn predict(&self, x: ArrayView2<f64>) -> Vec<f64> {
        let w = Array1::from(self.raw_coef.clone());
        x.dot(&w)
            .iter()
            .map(|z| sigmoid(z + self.raw_intercept))
            .collect()
    }
}

pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

struct Scaler {
    mean: Array1<f64>,
    scale: Array1<f64>,
}

impl Scaler {
    fn fit(x: ArrayView2<f64>) -> Self {
        let mean = x
            .mean_axis(Axis(0))
            .unwrap_or_else(|| Array1::zeros(x.ncols()));
        let scale = x
            .std_axis(Axis(0), 0.0)
            .mapv(|s| if s > 0.0 && s.is_finite() { s } else { 1.0 });
        Scaler { mean, scale }
    }
    /// `(x - mean) / scale`, element by element as ndarray's broadcasting computes it, written
    /// in parallel blocks of rows (the fresh pages are the cost).
    fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let (n, p) = x.dim();
        let mut out = Array2::<f64>::zeros((n, p));
        const ROWS: usize = 4096;
        match out.as_slice_mut() {
            Some(flat) if p > 0 => {
                flat.par_chunks_mut(ROWS * p)
                    .enumerate()
                    .for_each(|(c, block)| {
                        for (r, row) in block.chunks_mut(p).enumerate() {
                            let src = x.row(c * ROWS + r);
                            for (j, v) in row.iter_mut().enumerate() {
                                *v = (src[j] - self.mean[j]) / self.scale[j];
                            }
                        }
                    })
            }
            _ => out = (&x - &self.mean) / &self.scale,
        }
        out
    }
}

/// A seeded sample of at most `max_rows` rows in the original (time) order: every converter
/// while converters are fewer than half of `max_rows`, and non-converters sampled to fill the
/// rest; beyond that both classes are sampled to half each. The intercept fitted on the sample
/// is corrected by ln(non-converter rate) - ln(converter rate).
struct CaseControl {
    rows: Option<Vec<usize>>,
    /// Added to the sample's intercept.
    log_rate: f64,
    pos_rate: f64,
    neg_rate: f64,
}

impl CaseControl {
    fn draw(y: &[bool], max_rows: usize, seed: u64) -> Self {
        let pos: Vec<usize> = (0..y.len()).filter(|&i| y[i]).collect();
        let neg: Vec<usize> = (0..y.len()).filter(|&i| !y[i]).collect();
        if y.len() <= max_rows {
            return CaseControl {
                rows: None,
                log_rate: 0.0,
                pos_rate: 1.0,
                neg_rate: 1.0,
            };
        }
        let keep_pos = pos.len().min(max_rows / 2);
        let keep_neg = (max_rows - keep_pos).min(neg.len());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut pick = |from: &[usize], k: usize| -> Vec<usize> {
            if k == from.len() {
                from.to_vec()
            } else {
                sample(&mut rng, from.len(), k)
                    .into_iter()
                    .map(|j| from[j])
                    .collect()
            }
        };
        let mut rows = pick(&pos, keep_pos);
        rows.extend(pick(&neg, keep_neg));
        rows.sort_unstable();
        let pos_rate = keep_pos as f64 / pos.len().max(1) as f64;
        let neg_rate = keep_neg as f64 / neg.len().max(1) as f64;
        CaseControl {
            rows: Some(rows),
            log_rate: neg_rate.ln() - pos_rate.ln(),
            pos_rate,
            neg_rate,
        }
    }
    /// The sample's rows of `x`, standardised.
    fn select(&self, x: ArrayView2<f64>, scaler: &Scaler, y: &[bool]) -> (Array2<f64>, Vec<bool>) {
        match &self.rows {
            None => (scaler.transform(x), y.to_vec()),
            Some(r) => (
                scaler.transform(x.select(Axis(0), r).view()),
                r.iter().map(|&i| y[i]).collect(),
            ),
        }
    }
    /// Log-loss with each row weighted back to its share of the full data.
    fn weighted_log_loss(&self, y: &[bool], p: &[f64]) -> f64 {
        let eps = f64::EPSILON;
        let (mut s, mut w) = (0.0, 0.0);
        for (&y, &p) in y.iter().zip(p) {
            let p = p.clamp(eps, 1.0 - eps);
            let (l, wt) = if y {
                (-p.ln(), 1.0 / self.pos_rate)
            } else {
                (-(1.0 - p).ln(), 1.0 / self.neg_rate)
            };
            s += l * wt;
            w += wt;
        }
        s / w
    }
}

/// One linfa fit with penalty `alpha` on the summed loss; returns (coefficients, intercept) for
/// the log-odds of *converting*, whichever class linfa took as positive.
pub fn fit_alpha(
    x: ArrayView2<f64>,
    y: &[bool],
    alpha: f64,
    init: Option<(Array1<f64>, f64)>,
    gradient_tolerance: f64,
    max_iterations: u64,
) -> Result<(Array1<f64>, f64), FitError> {
    // linfa-logistic labels the class with more rows positive (ties: the first row's class).
    let pos = y.iter().filter(|&&v| v).count();
    let linfa_pos_is_converted = pos > y.len() - pos || (2 * pos == y.len() && y[0]);
    let sign = if linfa_pos_is_converted { 1.0 } else { -1.0 };
    let targets = Array1::from(y.to_vec());
    let ds = DatasetBase::new(x, targets);
    let mut params = LogisticRegression::default()
        .alpha(alpha)
        .gradient_tolerance(gradient_tolerance)
        .max_iterations(max_iterations);
    if let Some((w, b)) = init {
        let mut p = Array1::zeros(w.len() + 1);
        p.slice_axis_mut(ndarray::Axis(0), ndarray::Slice::from(..w.len()))
            .assign(&(&w * sign));
        p[w.len()] = b * sign;
        params = params.initial_params(p);
    }
    let fitted = params
        .fit(&ds)
        .map_err(|e| FitError::Solver(e.to_string()))?;
    let positive = fitted.labels().pos.class;
    if positive != linfa_pos_is_converted {
        return Err(FitError::Solver(
            "linfa-logistic chose an unexpected positive class".into(),
        ));
    }
    Ok((fitted.params() * sign, fitted.intercept() * sign))
}

/// The penalised logistic loss linfa-logistic minimises, `sum_i ln(1 + exp(-s_i z_i)) +
/// alpha/2 |w|^2` (intercept not penalised, `s_i` = +1 for a converter), as an argmin problem
/// over `[w, b]`. One parallel pass gives the loss and the gradient; the gradient of the point
/// whose loss was asked last is kept for the line search's next call.
pub struct SummedLogLoss<'a> {
    x: ArrayView2<'a, f64>,
    y: &'a [bool],
    alpha: f64,
    /// Standardise `x` on the fly: (mean, scale) per column.
    scale: Option<(&'a Array1<f64>, &'a Array1<f64>)>,
    /// Each row's weight in the loss (1 for every row when `None`).
    weights: Option<&'a [f64]>,
    last: Mutex<Option<Evaluated>>,
    /// Counts the passes over the rows (progress on a terminal).
    passes: crate::progress::Counter,
}

/// A point `[w, b]`, the loss there and its gradient.
type Evaluated = (Array1<f64>, f64, Array1<f64>);

impl<'a> SummedLogLoss<'a> {
    /// Rows per block: the unit of parallel work and of the fixed-order sum.
    const ROWS: usize = 8192;

    pub fn new(x: ArrayView2<'a, f64>, y: &'a [bool], alpha: f64) -> Self {
        SummedLogLoss {
            x,
            y,
            alpha,
            scale: None,
            weights: None,
            last: Mutex::new(None),
            passes: crate::progress::Counter::none(),
        }
    }

    /// Count each pass over the rows on `passes`.
    fn counting(mut self, passes: crate::progress::Counter) -> Self {
        self.passes = passes;
        self
    }

    /// The loss with row `i`'s term multiplied by `weights[i]` (scikit-learn's `sample_weight`).
    pub fn weighted(mut self, weights: &'a [f64]) -> Self {
        self.weights = Some(weights);
        self
    }

    /// The loss of the standardised rows `(x - mean) / scale`, computed inside each pass.
    fn standardised(mut self, scaler: &'a Scaler) -> Self {
        self.scale = Some((&scaler.mean, &scaler.scale));
        self
    }

    /// Loss and gradient at `p = [w, b]`.
    pub fn loss_and_gradient(&self, p: &Array1<f64>) -> (f64, Array1<f64>) {
        let (n, k) = self.x.dim();
        let w = p.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..k));
        let b = p[k];
        let blocks: Vec<(f64, Array1<f64>)> = (0..n.div_ceil(Self::ROWS))
            .into_par_iter()
            .map(|blk| {
                let rows = blk * Self::ROWS..((blk + 1) * Self::ROWS).min(n);
                let xb = self
                    .x
                    .slice_axis(ndarray::Axis(0), ndarray::Slice::from(rows.clone()));
                let mut g = Array1::<f64>::zeros(k + 1);
                let mut loss = 0.0;
                let mut buf = Array1::<f64>::zeros(k);
                let first = rows.start;
                for (r, (raw, &conv)) in xb.outer_iter().zip(&self.y[rows]).enumerate() {
                    let wt = self.weights.map_or(1.0, |w| w[first + r]);
                    let row = match self.scale {
                        None => raw.view(),
                        Some((mean, scale)) => {
                            for j in 0..k {
                                buf[j] = (raw[j] - mean[j]) / scale[j];
                            }
                            buf.view()
                        }
                    };
                    let z = row.dot(&w) + b;
                    // -ln sigmoid(m) for the margin m = s z, stably.
                    let m = if conv { z } else { -z };
                    loss += wt
                        * if m > 0.0 {
                            (-m).exp().ln_1p()
                        } else {
                            -m + m.exp().ln_1p()
                        };
                    let r = wt * (sigmoid(z) - if conv { 1.0 } else { 0.0 });
                    g.slice_axis_mut(ndarray::Axis(0), ndarray::Slice::from(..k))
                        .scaled_add(r, &row);
                    g[k] += r;
                }
                (loss, g)
            })
            .collect();
        let mut loss = 0.5 * self.alpha * w.dot(&w);
        let mut grad = Array1::<f64>::zeros(k + 1);
        grad.slice_axis_mut(ndarray::Axis(0), ndarray::Slice::from(..k))
            .scaled_add(self.alpha, &w);
        for (l, g) in &blocks {
            loss += l;
            grad += g;
        }
        (loss, grad)
    }

    fn evaluate(&self, p: &Array1<f64>) -> (f64, Array1<f64>) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((q, l, g)) = last.as_ref()
            && q == p
        {
            return (*l, g.clone());
        }
        let (l, g) = self.loss_and_gradient(p);
        self.passes.add(1);
        *last = Some((p.clone(), l, g.clone()));
        (l, g)
    }
}

impl CostFunction for SummedLogLoss<'_> {
    type Param = Array1<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.evaluate(p).0)
    }
}

impl Gradient for SummedLogLoss<'_> {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;
    fn gradient(&self, p: &Self::Param) -> Result<Array1<f64>, argmin::core::Error> {
        Ok(self.evaluate(p).1)
    }
}

/// [`fit_alpha`]'s fit (same objective, solver, stop and start) with [`SummedLogLoss`]: rows
/// in parallel. Returns (coefficients, intercept) for the log-odds of converting.
pub fn fit_parallel<'a>(
    x: ArrayView2<'a, f64>,
    y: &'a [bool],
    alpha: f64,
    init: Option<(Array1<f64>, f64)>,
    gradient_tolerance: f64,
    max_iterations: u64,
) -> Result<(Array1<f64>, f64), FitError> {
    minimise(
        SummedLogLoss::new(x, y, alpha),
        init,
        gradient_tolerance,
        max_iterations,
    )
}

/// Log-odds per unit of each raw feature, and the intercept: what a refit gives.
#[derive(Debug, Clone, Serialize)]
pub struct Coefficients {
    pub raw_coef: Vec<f64>,
    pub raw_intercept: f64,
}

impl Coefficients {
    /// Probability of converting for each of `rows` of `x`.
    pub fn predict_rows(&self, x: ArrayView2<f64>, rows: &[usize]) -> Vec<f64> {
        rows.par_iter()
            .map(|&i| {
                let z: f64 = x
                    .row(i)
                    .iter()
                    .zip(&self.raw_coef)
                    .map(|(a, b)| a * b)
                    .sum();
                sigmoid(z + self.raw_intercept)
            })
            .collect()
    }
}

impl FittedLogistic {
    pub fn coefficients(&self) -> Coefficients {
        Coefficients {
            raw_coef: self.raw_coef.clone(),
            raw_intercept: self.raw_intercept,
        }
    }
}

/// A refit at a penalty chosen before (per row, as [`FittedLogistic::penalty`]), each row's
/// loss weighted by `weights` (recency; 1 for every row when `None`): the walk-forward's and
/// the deployed weights' fit. It fits the case-control sample of at most `max_rows` rows
/// ([`LogisticParams::fit`]'s sample, the same seed), standardised by that sample, with the
/// penalty scaled by the sample's summed weight; the intercept is corrected for the sampling. Errors as [`LogisticParams::fit`]'s checks: one class, a non-finite feature.
pub fn refit(
    x: ArrayView2<f64>,
    y: &[bool],
    weights: Option<&[f64]>,
    penalty: f64,
    max_rows: usize,
    p: &LogisticParams,
) -> Result<Coefficients, FitError> {
    refit_split(x, y, weights, penalty, max_rows, p, &[])
}

/// [`refit`] where column `j` of each `(j, r)` in `split` has one effect before row `r` and
/// another from row `r` on (rows are in creation order: `r` is the first lead of a drift's
/// period). The returned coefficient of column `j` is the one from row `r` on: the effect
/// since the drift.
pub fn refit_split(
    x: ArrayView2<f64>,
    y: &[bool],
    weights: Option<&[f64]>,
    penalty: f64,
    max_rows: usize,
    p: &LogisticParams,
    split: &[(usize, usize)],
) -> Result<Coefficients, FitError> {
    let w: Vec<Option<&[f64]>> = vec![weights];
    let mut out = refit_many(x, y, &w, penalty, max_rows, p, split)?;
    Ok(out.remove(0))
}

/// [`refit_split`] once per weighting in `weights`, on one sample: the fits after the first
/// start from the first one's solution (the same rows and scaling, so the start is close and
/// the solver stops sooner). Results in `weights`' order.
pub fn refit_many(
    x: ArrayView2<f64>,
    y: &[bool],
    weights: &[Option<&[f64]>],
    penalty: f64,
    max_rows: usize,
    p: &LogisticParams,
    split: &[(usize, usize)],
) -> Result<Vec<Coefficients>, FitError> {
    let names: Vec<String> = (0..x.ncols())
        .map(|j| format!("feature {}", j + 1))
        .collect();
    check_data(x, y, &names, 1)?;
    let sample = CaseControl::draw(y, max_rows, p.seed);
    let rows: Vec<usize> = sample
        .rows
        .clone()
        .unwrap_or_else(|| (0..y.len()).collect());
    // The sample's raw rows, with each split column's recent part moved to a column of its own.
    let k = x.ncols();
    let mut raw = Array2::<f64>::zeros((rows.len(), k + split.len()));
    for (r, &i) in rows.iter().enumerate() {
        for (j, v) in x.row(i).iter().enumerate() {
            raw[[r, j]] = *v;
        }
        for (s, &(j, from)) in split.iter().enumerate() {
            if i >= from {
                raw[[r, k + s]] = raw[[r, j]];
                raw[[r, j]] = 0.0;
            }
        }
    }
    let ys: Vec<bool> = rows.iter().map(|&i| y[i]).collect();
    let scaler = Scaler::fit(raw.view());
    let xs = scaler.transform(raw.view());
    let mut start: Option<(Array1<f64>, f64)> = None;
    let mut out = Vec::with_capacity(weights.len());
    for wts in weights {
        // Each sampled row stands for 1 / (its class's sampling rate) leads, so the sample's
        // fit estimates the fit on every lead (the main fit's estimator) rather than a
        // class-balanced one, whose slopes differ when the model is misspecified (drift).
        let class = |v: bool| {
            if v {
                1.0 / sample.pos_rate
            } else {
                1.0 / sample.neg_rate
            }
        };
        let w: Vec<f64> = rows
            .iter()
            .map(|&i| wts.map_or(1.0, |w| w[i]) * class(y[i]))
            .collect();
        let total: f64 = w.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(FitError::Param("the rows' weights sum to zero".into()));
        }
        let (coef, intercept) = minimise(
            SummedLogLoss::new(xs.view(), &ys, penalty * total).weighted(&w),
            start.clone(),
            p.search_tolerance * total,
            p.max_iterations,
        )?;
        if start.is_none() {
            start = Some((coef.clone(), intercept));
        }
        let raw_coef = &coef / &scaler.scale;
        let raw_intercept = intercept - (&scaler.mean * &raw_coef).sum();
        let mut c = raw_coef.to_vec();
        for (s, &(j, _)) in split.iter().enumerate() {
            c[j] = c[k + s];
        }
        c.truncate(k);
        out.push(Coefficients {
            raw_coef: c,
            raw_intercept,
        });
    }
    Ok(out)
}

/// L-BFGS as linfa-logistic runs it, from `init` (zeros when `None`).
fn minimise(
    problem: SummedLogLoss,
    init: Option<(Array1<f64>, f64)>,
    gradient_tolerance: f64,
    max_iterations: u64,
) -> Result<(Array1<f64>, f64), FitError> {
    let k = problem.x.ncols();
    let mut start = Array1::<f64>::zeros(k + 1);
    if let Some((w, b)) = init {
        start
            .slice_axis_mut(ndarray::Axis(0), ndarray::Slice::from(..k))
            .assign(&w);
        start[k] = b;
    }
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(gradient_tolerance)
        .map_err(|e| FitError::Param(e.to_string()))?;
    let result = Executor::new(problem, solver)
        .configure(|s| s.param(start.clone()).max_iters(max_iterations))
        .run()
        .map_err(|e| FitError::Solver(e.to_string()))?;
    let best = result.state().get_best_param().cloned().unwrap_or(start);
    if best.iter().any(|v| !v.is_finite()) {
        return Err(FitError::Solver("the fit diverged".into()));
    }
    Ok((
        best.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..k))
            .to_owned(),
        best[k],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, Uniform};

    /// 6,000 rows of four features with a known logistic signal, in "time" order.
    fn world(n: usize, seed: u64) -> (Array2<f64>, Vec<bool>, Vec<String>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let u = Uniform::new(0.0f64, 1.0).unwrap();
        let x = Array2::from_shape_fn((n, 4), |(_, j)| match j {
            0 => (u.sample(&mut rng) * 5.0).floor(),
            1 => f64::from(u8::from(u.sample(&mut rng) < 0.3)),
            2 => u.sample(&mut rng) * 10.0,
            _ => f64::from(u8::from(u.sample(&mut rng) < 0.05)),
        });
        let y = (0..n)
            .map(|i| {
                let z =
                    -3.0 + 0.6 * x[[i, 0]] - 0.9 * x[[i, 1]] + 0.05 * x[[i, 2]] + 1.5 * x[[i, 3]];
                u.sample(&mut rng) < sigmoid(z)
            })
            .collect();
        let names = ["opens", "freemail", "noise", "demo"]
            .map(String::from)
            .to_vec();
        (x, y, names)
    }

    #[test]
    fn the_sampled_warm_start_ends_at_the_full_fit() {
        let (x, y, names) = world(6000, 1);
        let params = LogisticParams {
            cv_rows: 1500,
            sample_rows: 1500,
            tolerance: 1e-8,
            ..LogisticParams::default()
        };
        let fitted = params.fit(x.view(), &y, &names).unwrap();
        // A plain full fit from zero at the chosen penalty.
        let scaler = Scaler::fit(x.view());
        let xs = scaler.transform(x.view());
        let (w, b) = fit_alpha(xs.view(), &y, fitted.alpha, None, 1e-8 * 6000.0, 10_000).unwrap();
        for j in 0..4 {
            assert!(
                (fitted.coef[j] - w[j]).abs() < 1e-4,
                "{j}: {} vs {}",
                fitted.coef[j],
                w[j]
            );
        }
        assert!((fitted.intercept - b).abs() < 1e-4);
        // Signs follow the planted signal (converting direction, despite linfa's convention).
        assert!(fitted.raw_coef[0] > 0.0 && fitted.raw_coef[1] < 0.0 && fitted.raw_coef[3] > 0.0);
    }

    #[test]
    fn the_parallel_objective_reaches_linfas_optimum() {
        let (x, y, _) = world(6000, 3);
        let xs = Scaler::fit(x.view()).transform(x.view());
        // Minority class converted (linfa's flipped case) and majority class converted.
        for y in [y.clone(), y.iter().map(|v| !v).collect::<Vec<bool>>()] {
            for alpha in [0.5, 60.0] {
                let (wl, bl) =
                    fit_alpha(xs.view(), &y, alpha, None, 1e-9 * 6000.0, 10_000).unwrap();
                let (wp, bp) =
                    fit_parallel(xs.view(), &y, alpha, None, 1e-9 * 6000.0, 10_000).unwrap();
                for j in 0..4 {
                    assert!(
                        (wl[j] - wp[j]).abs() < 1e-6,
                        "{alpha} {j}: {} vs {}",
                        wl[j],
                        wp[j]
                    );
                }
                assert!((bl - bp).abs() < 1e-6, "{alpha}: {bl} vs {bp}");
            }
        }
        // The loss and gradient equal a plain sequential sum, and do not depend on threads.
        let p = Array1::from(vec![0.3, -0.2, 0.1, 0.7, -2.0]);
        let f = SummedLogLoss::new(xs.view(), &y, 2.0);
        let (l, g) = f.loss_and_gradient(&p);
        let mut l0 = 0.5
            * 2.0
            * p.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..4))
                .dot(&p.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..4)));
        let mut g0 = Array1::<f64>::zeros(5);
        for (i, row) in xs.outer_iter().enumerate() {
            let z = row.dot(&p.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..4))) + p[4];
            let q = sigmoid(z);
            l0 -= if y[i] { q.ln() } else { (1.0 - q).ln() };
            let r = q - f64::from(u8::from(y[i]));
            for j in 0..4 {
                g0[j] += r * row[j];
            }
            g0[4] += r;
        }
        for j in 0..4 {
            g0[j] += 2.0 * p[j];
        }
        assert!((l - l0).abs() < 1e-8 * l0.abs());
        assert!((&g - &g0).iter().all(|d| d.abs() < 1e-8));
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let (l1, g1) = one.install(|| f.loss_and_gradient(&p));
        assert_eq!((l1.to_bits(), g1), (l.to_bits(), g));
    }

    #[test]
    fn one_class_and_too_few_converters_are_typed_errors() {
        let (x, _, names) = world(200, 2);
        let p = LogisticParams::default();
        assert_eq!(
            p.fit(x.view(), &[false; 200], &names).unwrap_err(),
            FitError::OneClass("no lead converted")
        );
        assert_eq!(
            p.fit(x.view(), &[true; 200], &names).unwrap_err(),
            FitError::OneClass("every lead converted")
        );
        let mut y = vec![false; 200];
        y[..12].iter_mut().for_each(|v| *v = true);
        assert_eq!(
            p.fit(x.view(), &y, &names).unwrap_err(),
            FitError::TooFewConverters {
                found: 12,
                needed: 30
            }
        );
        let mut bad = x.clone();
        bad[[5, 2]] = f64::NAN;
        y[..40].iter_mut().for_each(|v| *v = true);
        assert_eq!(
            p.fit(bad.view(), &y, &names).unwrap_err(),
            FitError::NonFinite("noise".into())
        );
        let wrong = LogisticParams {
            penalties: vec![],
            ..LogisticParams::default()
        };
        assert!(matches!(
            wrong.fit(x.view(), &y, &names),
            Err(FitError::Param(_))
        ));
    }

    #[test]
    fn perfect_separation_is_held_by_the_penalty() {
        let x = Array2::from_shape_fn((400, 1), |(i, _)| i as f64);
        let y: Vec<bool> = (0..400).map(|i| i >= 300).collect();
        let fitted = LogisticParams::default()
            .fit(x.view(), &y, &["t".to_string()])
            .unwrap();
        assert!(fitted.coef[0].is_finite() && fitted.coef[0] > 0.0 && fitted.coef[0] < 100.0);
    }

    /// The walk-forward's refits read a sample of the mature leads: weighted back to the leads
    /// each row stands for, the sample's fit estimates the fit on every lead (the main fit's
    /// estimator, intercept included: no case-control correction on top of the weights), here
    /// on a world whose first effect fades halfway, which no single slope fits.
    #[test]
    fn a_refit_on_a_sample_estimates_the_refit_on_every_lead() {
        let n = 60_000;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let u = Uniform::new(0.0f64, 1.0).unwrap();
        let x = Array2::from_shape_fn((n, 2), |(_, j)| match j {
            0 => (u.sample(&mut rng) * 4.0).floor(),
            _ => f64::from(u8::from(u.sample(&mut rng) < 0.4)),
        });
        let y: Vec<bool> = (0..n)
            .map(|i| {
                let b = if i < n / 2 { 1.2 } else { 0.0 };
                u.sample(&mut rng) < sigmoid(-3.5 + b * x[[i, 0]] + 0.8 * x[[i, 1]])
            })
            .collect();
        let p = LogisticParams::default();
        let full = refit(x.view(), &y, None, 1e-4, n, &p).unwrap();
        let sampled = refit(x.view(), &y, None, 1e-4, 12_000, &p).unwrap();
        for j in 0..2 {
            let (a, b) = (full.raw_coef[j], sampled.raw_coef[j]);
            assert!(
                (a - b).abs() < 0.06,
                "feature {j}: every lead {a:.3}, sample {b:.3}"
            );
        }
        let (a, b) = (full.raw_intercept, sampled.raw_intercept);
        assert!(
            (a - b).abs() < 0.1,
            "intercept: every lead {a:.3}, sample {b:.3}"
        );
    }
}
