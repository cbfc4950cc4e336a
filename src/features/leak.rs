//! The leak guard: attributes that give the outcome away stay out of the model.
//!
//! A CRM export often carries today's state beside the lead's profile: "Lead Status" =
//! "Closed - Converted", a lifecycle stage, a customer flag. Fitted on, such a column makes a
//! model that "predicts" with AUC 0.998 and a recommendation that gives points for having
//! bought. Input: an attribute's name, its values per training lead (codes or numbers) and the
//! training labels. Output: a [`Leak`] with its evidence, or `None`. Guarantees: judged on the
//! training period only; values held by fewer than [`MIN_LEADS`] training leads are pooled, so
//! an identifier cannot look like a perfect predictor; a column is flagged
//! - by its name, when the name says today's state ([`STATE_WORDS`], English and German);
//! - by a value that says today's state and converts at 3 times the base rate or a third of it;
//! - by its effect, when it ranks converters with an AUC of [`MAX_AUC`] or more on its own, or
//!   one value held by [`MIN_LEADS`] or more leads converts [`MAX_VALUE_RATE`] or more while
//!   the base rate is below half of that.

use serde::{Deserialize, Serialize};

/// Words that name a lead's current state (compared with a name's or value's words, and with
/// the end of a compound word such as `Kundenstatus`).
pub const STATE_WORDS: &[&str] = &[
    "status",
    "stage",
    "lifecycle",
    "lifecyclestage",
    "converted",
    "closed",
    "won",
    "lost",
    "customer",
    "phase",
    "kunde",
    "gewonnen",
    "verloren",
    "abgeschlossen",
];

/// An AUC on its own at or above this gives the outcome away.
pub const MAX_AUC: f64 = 0.95;
/// A value held by this many training leads is a group; fewer are pooled.
pub const MIN_LEADS: usize = 30;
/// A value whose leads convert at least this often, at a base rate below half of it.
pub const MAX_VALUE_RATE: f64 = 0.95;

/// What marks a column as a leak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeakSign {
    /// Its name says today's state.
    Name,
    /// One of its values says today's state and converts far from the base rate.
    Value,
    /// It separates converters from the rest almost perfectly.
    Effect,
}

/// A leaking attribute's evidence, on the training period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leak {
    pub sign: LeakSign,
    /// Its ROC AUC on its own (values with fewer than [`MIN_LEADS`] leads pooled; the better
    /// of both directions for a number).
    pub auc: f64,
    /// The value (held by at least [`MIN_LEADS`] training leads, or the state-naming value)
    /// whose conversion share is farthest from the base rate, with its leads and share.
    pub value: Option<String>,
    pub value_leads: usize,
    pub value_converted_share: f64,
    pub base_rate: f64,
}

fn words(s: &str) -> Vec<String> {
    // camelCase boundaries split too (`LeadStatus`, `lifecycleStage`).
    let mut spaced = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_uppercase() && prev_lower {
            spaced.push(' ');
        }
        prev_lower = c.is_lowercase();
        spaced.push(c);
    }
    spaced
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether a name or value says a lead's current state.
pub fn says_state(s: &str) -> bool {
    words(s).iter().any(|w| {
        STATE_WORDS
            .iter()
            .any(|s| w == s || (s.len() >= 5 && w.len() > s.len() && w.ends_with(s)))
    })
}

/// A warning for each attribute of `ds` whose name says a lead's current state, for
/// `validate`, which has no fit: the run's leak guard judges it by its effect too.
pub fn state_named(ds: &crate::data::Dataset) -> Vec<crate::data::problem::Problem> {
    ds.attributes
        .iter()
        .filter(|a| says_state(&a.name) && !ds.spec.leads.deliberate_attributes.contains(&a.name))
        .map(|a| crate::data::problem::Problem {
            severity: crate::data::problem::Severity::Warning,
            code: "state-column",
            file: ds.spec.leads.display(),
            column: Some(a.name.clone()),
            rows_affected: 0,
            examples: vec![],
            message: format!(
                "{}: column `{}` is named like the lead's current state; evaluate and calibrate leave it out of the model, the segments and the recommendation as giving the outcome away (list it under deliberate_attributes in dataset.toml if it is known before a lead buys)",
                ds.spec.leads.display(),
                a.name
            ),
        })
        .collect()
}

/// ROC AUC of `score` for labels `y` (ties count half), by ranks (equal to
/// `evaluate::metrics::roc_auc`, checked there: this stage sits below it).
pub fn auc(score: &[f64], y: &[bool]) -> Option<f64> {
    let pos = y.iter().filter(|&&b| b).count();
    let neg = y.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..score.len()).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&k| y[idx[k]]).count() as f64 * mid;
        i = j + 1;
    }
    Some((rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos * neg) as f64)
}

/// The evidence against a text or yes/no attribute: `codes` per training lead (`None` for
/// missing), `values` the codes' texts, `y` the training labels.
pub fn categorical(
    name: &str,
    codes: &[Option<u32>],
    values: &[String],
    y: &[bool],
) -> Option<Leak> {
    let n = y.len();
    if n == 0 {
        return None;
    }
    let base = y.iter().filter(|&&b| b).count() as f64 / n as f64;
    // Leads and converters per code; the last slot is missing.
    let slots = values.len() + 1;
    let (mut leads, mut conv) = (vec![0usize; slots], vec![0usize; slots]);
    for (c, &b) in codes.iter().zip(y) {
        let k = c.map_or(values.len(), |c| (c as usize).min(values.len()));
        leads[k] += 1;
        conv[k] += b as usize;
    }
    // Values under MIN_LEADS pooled into one group, so a rare value cannot look perfect.
    let (mut pooled_leads, mut pooled_conv) = (0, 0);
    for k in 0..slots {
        if leads[k] < MIN_LEADS {
            pooled_leads += leads[k];
            pooled_conv += conv[k];
        }
    }
    let rate = |k: usize| {
        if leads[k] >= MIN_LEADS {
            conv[k] as f64 / leads[k] as f64
        } else if pooled_leads > 0 {
            pooled_conv as f64 / pooled_leads as f64
        } else {
            base
        }
    };
    let score: Vec<f64> = codes
        .iter()
        .map(|c| rate(c.map_or(values.len(), |c| (c as usize).min(values.len()))))
        .collect();
    let a = auc(&score, y).unwrap_or(0.5);
    // The grouped value farthest from the base rate, and a state-naming value that converts
    // far from it.
    let far = |k: usize| (conv[k] as f64 / leads[k].max(1) as f64 - base).abs();
    let top = (0..values.len())
        .filter(|&k| leads[k] >= MIN_LEADS)
        .max_by(|&a, &b| far(a).total_cmp(&far(b)).then(b.cmp(&a)));
    let state_value = (0..values.len()).find(|&k| {
        let r = conv[k] as f64 / leads[k].max(1) as f64;
        leads[k] >= 10 && says_state(&values[k]) && (r >= 3.0 * base || r <= base / 3.0)
    });
    let strong_value = (0..values.len()).find(|&k| {
        leads[k] >= MIN_LEADS
            && conv[k] as f64 / leads[k] as f64 >= MAX_VALUE_RATE
            && base < MAX_VALUE_RATE / 2.0
    });
    let sign = if says_state(name) {
        LeakSign::Name
    } else if state_value.is_some() {
        LeakSign::Value
    } else if a >= MAX_AUC || strong_value.is_some() {
        LeakSign::Effect
    } else {
        return None;
    };
    let shown = strong_value.or(state_value).or(top);
    Some(Leak {
        sign,
        auc: a,
        value: shown.map(|k| values[k].clone()),
        value_leads: shown.map_or(0, |k| leads[k]),
        value_converted_share: shown.map_or(0.0, |k| conv[k] as f64 / leads[k].max(1) as f64),
        base_rate: base,
    })
}

/// The evidence against a numeric attribute: its values per training lead (`None` for
/// missing, left out of the AUC) and the training labels.
pub fn numeric(name: &str, v: &[Option<f64>], y: &[bool]) -> Option<Leak> {
    let n = y.len();
    if n == 0 {
        return None;
    }
    let base = y.iter().filter(|&&b| b).count() as f64 / n as f64;
    let (s, l): (Vec<f64>, Vec<bool>) = v
        .iter()
        .zip(y)
        .filter_map(|(x, &b)| x.map(|x| (x, b)))
        .unzip();
    let pos = l.iter().filter(|&&b| b).count();
    let a = if pos >= 10 && l.len() - pos >= 10 {
        auc(&s, &l).map_or(0.5, |a| a.max(1.0 - a))
    } else {
        0.5
    };
    let sign = if says_state(name) {
        LeakSign::Name
    } else if a >= MAX_AUC {
        LeakSign::Effect
    } else {
        return None;
    };
    Some(Leak {
        sign,
        auc: a,
        value: None,
        value_leads: 0,
        value_converted_share: 0.0,
        base_rate: base,
    })
}

impl std::fmt::Display for Leak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match self.sign {
            LeakSign::Name => "its name says the lead's current state",
            LeakSign::Value => "a value says the lead's current state",
            LeakSign::Effect => "it separates converters from the rest almost perfectly",
        };
        write!(
            f,
            "gives the outcome away: {why}; on its own it ranks converters with ROC AUC {:.3}",
            self.auc
        )?;
        if let Some(v) = &self.value {
            write!(
                f,
                "; `{v}`: {} training leads, {:.1}% converted (base rate {:.1}%)",
                self.value_leads,
                100.0 * self.value_converted_share,
                100.0 * self.base_rate
            )?;
        }
        write!(
            f,
            ". Left out of the model, the segments and the recommendation; if it is known before a lead buys, list it under deliberate_attributes in dataset.toml"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_in_english_and_german_are_recognised() {
        for s in [
            "Lead Status",
            "LeadStatus",
            "lifecycleStage",
            "Lifecycle Stage",
            "Deal Stage",
            "Converted",
            "Is Won",
            "Kundenstatus",
            "Phase",
            "Lebenszyklusphase",
            "Gewonnen",
            "abgeschlossen",
            "Closed - Converted",
        ] {
            assert!(says_state(s), "{s}");
        }
        for s in [
            "Industry",
            "Branche",
            "Lead Source",
            "First Conversion",
            "Region",
            "Rating",
        ] {
            assert!(!says_state(s), "{s}");
        }
    }

    #[test]
    fn auc_counts_ties_half() {
        // Pairs (positive above negative): 0.35 beats 0.1; 0.8 beats all three; 0.4 beats 0.1
        // and ties twice: (1 + 3 + 2) / 9.
        let a = auc(
            &[0.1, 0.4, 0.35, 0.8, 0.4, 0.4],
            &[false, false, true, true, false, true],
        )
        .unwrap();
        assert!((a - 6.0 / 9.0).abs() < 1e-12, "{a}");
    }

    #[test]
    fn a_value_that_converts_almost_always_is_a_leak_and_a_rare_unique_one_is_not() {
        // 1,000 leads, 10% convert; `Closed - Converted` (90 leads) converts 98%.
        let mut codes = Vec::new();
        let mut y = Vec::new();
        for i in 0..1000 {
            let conv = i < 100;
            let c = if i < 88 || (100..102).contains(&i) {
                0
            } else {
                1 + (i % 3) as u32
            };
            codes.push(Some(c));
            y.push(conv);
        }
        let values: Vec<String> = ["Closed - Converted", "Open", "Working", "Nurture"]
            .map(String::from)
            .to_vec();
        let l = categorical("Rating", &codes, &values, &y).unwrap();
        assert_eq!(l.sign, LeakSign::Value);
        assert_eq!(l.value.as_deref(), Some("Closed - Converted"));
        assert!(
            l.to_string()
                .contains("90 training leads, 97.8% converted (base rate 10.0%)"),
            "{l}"
        );
        // Without the state words, the same column is a leak by its effect.
        let plain: Vec<String> = ["A", "B", "C", "D"].map(String::from).to_vec();
        assert_eq!(
            categorical("Rating", &codes, &plain, &y).unwrap().sign,
            LeakSign::Effect
        );
        // An identifier: every lead its own value, all pooled, no evidence.
        let ids: Vec<Option<u32>> = (0..1000).map(Some).collect();
        let idv: Vec<String> = (0..1000).map(|i| format!("id{i}")).collect();
        assert!(categorical("Ref", &ids, &idv, &y).is_none());
        // An ordinary attribute: no leak.
        let mild: Vec<Option<u32>> = (0..1000).map(|i| Some((i % 4) as u32)).collect();
        assert!(categorical("Region", &mild, &plain, &y).is_none());
    }

    #[test]
    fn a_number_that_orders_converters_is_a_leak() {
        let y: Vec<bool> = (0..200).map(|i| i % 5 == 0).collect();
        let days: Vec<Option<f64>> = y
            .iter()
            .map(|&b| Some(if b { 1.0 } else { 50.0 }))
            .collect();
        assert_eq!(
            numeric("Days to close", &days, &y).unwrap().sign,
            LeakSign::Effect
        );
        let size: Vec<Option<f64>> = (0..200).map(|i| Some((i * 37 % 101) as f64)).collect();
        assert!(numeric("company_size", &size, &y).is_none());
    }
}
