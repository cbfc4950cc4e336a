//! How well a score ranks leads on a set of leads: ROC AUC, PR AUC (average precision) and
//! the lift in the top tenth, each with its bootstrap interval.
//!
//! Input: the leads' outcomes, one or more scores for the same leads, and the bootstrap draws
//! of those leads. Output: [`Ranking`] per score, [`Compared`] for today's points, the
//! recommended points and the fitted model side by side. Guarantees: every score is measured
//! on the same leads with the same draws, so the intervals compare like with like; metrics are
//! [`crate::evaluate::metrics`]'s (equal to scikit-learn's).

use serde::{Deserialize, Serialize};

use crate::evaluate::metrics as m;
use crate::evaluate::{Draw, Estimate, estimates};

/// One score's ranking quality.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ranking {
    pub roc_auc: Estimate,
    pub pr_auc: Estimate,
    /// Conversion rate of the highest-scored tenth over the overall rate.
    pub top_tenth_lift: Estimate,
}

/// Today's points, the recommended points and the fitted model on the same leads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Compared {
    /// What the leads are (`test period`).
    pub leads: u64,
    pub converted: u64,
    pub today: Ranking,
    pub recommended: Ranking,
    pub model: Ranking,
}

/// The ranking quality of `scores` for outcomes `y`, with intervals from `draws` (one weight
/// per lead, in the same order). Without draws the intervals are left out.
pub fn ranking(y: &[bool], scores: &[f64], draws: &[Draw]) -> Ranking {
    let ranked = m::Ranked::new(y, scores);
    let [roc_auc, pr_auc, top_tenth_lift] = estimates(draws, |w| m::ranking_figures(&ranked, w));
    Ranking {
        roc_auc,
        pr_auc,
        top_tenth_lift,
    }
}

/// The three scores side by side on one set of leads.
pub fn compared(
    y: &[bool],
    today: &[f64],
    recommended: &[f64],
    model: &[f64],
    draws: &[Draw],
) -> Compared {
    Compared {
        leads: y.len() as u64,
        converted: y.iter().filter(|&&v| v).count() as u64,
        today: ranking(y, today, draws),
        recommended: ranking(y, recommended, draws),
        model: ranking(y, model, draws),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lift_counts_ties_at_the_edge_in_proportion() {
        // 20 leads; the top tenth is 2 leads. Scores: one lead at 9 (converted), then four tied
        // at 5 of which two converted: the second place is half a converter on average.
        let mut s = vec![1.0; 20];
        let mut y = vec![false; 20];
        s[0] = 9.0;
        y[0] = true;
        for v in &mut s[1..5] {
            *v = 5.0;
        }
        y[1] = true;
        y[2] = true;
        let o = m::order_desc(&s);
        // Rate in the tenth (1 + 0.5) / 2 = 0.75; overall 3 / 20 = 0.15; lift 5.
        let lift = m::top_tenth_lift::<f64>(&y, &s, &o, None).unwrap();
        assert!((lift - 5.0).abs() < 1e-12, "{lift}");
        // The same leads in another order give the same figure.
        let mut s2 = s.clone();
        s2.reverse();
        let mut y2 = y.clone();
        y2.reverse();
        let o2 = m::order_desc(&s2);
        assert_eq!(m::top_tenth_lift::<f64>(&y2, &s2, &o2, None), Some(lift));
        assert_eq!(
            m::top_tenth_lift::<f64>(&[false; 3], &[1.0, 2.0, 3.0], &[2, 1, 0], None),
            None
        );
    }

    #[test]
    fn the_figures_together_equal_each_function() {
        // Ties, weights and both classes: the two-pass form gives each function's value.
        let s: Vec<f64> = (0..500).map(|i| ((i * 37) % 23) as f64).collect();
        let y: Vec<bool> = (0..500).map(|i| (i * 13) % 7 == 0).collect();
        let w: Vec<u8> = (0..500).map(|i| ((i * 11) % 4) as u8).collect();
        let o = m::order_desc(&s);
        let ranked = m::Ranked::new(&y, &s);
        for w in [None, Some(&w[..])] {
            let [a, p, l] = m::ranking_figures(&ranked, w);
            assert_eq!(a, m::roc_auc(&y, &s, &o, w));
            assert_eq!(p, m::average_precision(&y, &s, &o, w));
            let (l0, l1) = (l.unwrap(), m::top_tenth_lift(&y, &s, &o, w).unwrap());
            assert!((l0 - l1).abs() < 1e-12, "{l0} {l1}");
        }
    }
}
