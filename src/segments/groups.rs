//! Groups of hand-overs that do not buy, and values that mark converters: the statistics.
//!
//! Input: one row per evaluable lead with its attribute values (numeric ones already binned),
//! whether it converted, and whether it was handed over. Output: [`Segments`] (serialisable;
//! `segments.json`, `segments.csv`, schema in `docs/segments.md`).
//!
//! Statistics: each group (one attribute value, or a pair of values of two attributes) is
//! compared with the rest of its population in a 2×2 table. Fisher's exact test (two-sided, as
//! `scipy.stats.fisher_exact`) when an expected count is below 5, otherwise Pearson's chi-square
//! with Yates' correction (as `scipy.stats.chi2_contingency`). Benjamini–Hochberg q-values over
//! every group tested. Conversion rates carry Wilson 95% intervals; lift = group rate / overall
//! rate, with the interval's bounds divided by the overall rate.
//!
//! Ranking (documented rule): non-converting groups of hand-overs by the *upper* bound of their
//! lift, lowest first (the groups that surely convert worst); converter-marking groups by the
//! *lower* bound of their lift, highest first. A pair is *redundant* when it is no more extreme
//! than its worse single value, or does not differ from it significantly, or does not differ
//! significantly from what its two values predict together (their odds ratios multiplied: no
//! interaction); both tests are [`binomial_test`]s at p < 0.01, stricter than 0.05 because many
//! pairs are tested. Redundant pairs are kept but ranked after the others.
//!
//! Privacy and honesty: groups with fewer than `min_size` leads are never tested or shown, only
//! counted. The result does not depend on the order of the rows (pinned by a property test).

use std::collections::BTreeMap;

use crate::data::{AttributeCodes, MISSING};
use crate::stats::{benjamini_hochberg, binomial_test, two_by_two, wilson};

/// How a missing value is shown in a group.
const MISSING_VALUE: &str = "(missing)";
use serde::Serialize;

/// One row per lead.
pub struct Rows<'a> {
    /// Attribute names and, per attribute, each lead's value (`(missing)` for none).
    pub attributes: &'a [(String, Values)],
    pub converted: &'a [bool],
    /// Handed over (reached the threshold); the non-conversion question looks only at these.
    pub handed: &'a [bool],
}

/// Settings.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentSpec {
    pub min_size: u64,
    pub pairs: bool,
    /// Level for the `significant` mark (on the Benjamini–Hochberg q-value).
    pub alpha: f64,
    /// Level a pair must reach against its worse single value and against what its two values
    /// predict together, or it is redundant.
    pub redundancy_alpha: f64,
}

impl Default for SegmentSpec {
    fn default() -> Self {
        SegmentSpec {
            min_size: 30,
            pairs: true,
            alpha: 0.05,
            redundancy_alpha: 0.01,
        }
    }
}

/// One group.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    /// `(attribute, value)`, one or two.
    pub values: Vec<(String, String)>,
    pub leads: u64,
    pub converted: u64,
    pub rate: f64,
    pub rate_low: f64,
    pub rate_high: f64,
    pub lift: f64,
    pub lift_low: f64,
    pub lift_high: f64,
    pub p_value: f64,
    pub test: &'static str,
    /// Benjamini–Hochberg over every group tested in this question.
    pub q_value: f64,
    pub significant: bool,
    /// Pairs only: not significantly different from the worse of its two single values.
    pub redundant: bool,
    /// 1 = first in the documented ranking.
    pub rank: usize,
}

impl Group {
    pub fn label(&self) -> String {
        self.values
            .iter()
            .map(|(a, v)| format!("{a}={v}"))
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

/// The answer to one question.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub population: u64,
    pub converted: u64,
    pub rate: f64,
    pub groups: Vec<Group>,
    /// Groups left out for having fewer than `min_size` leads.
    pub suppressed: u64,
}

/// Both questions.
#[derive(Debug, Clone, Serialize)]
pub struct Segments {
    pub spec: SegmentSpec,
    /// Hand-overs: groups that convert worst.
    pub non_converting: Question,
    /// All evaluable leads: values and pairs over-represented among converters.
    pub converter_marks: Question,
}

/// Answer both questions.
pub fn analyse(rows: &Rows, spec: &SegmentSpec) -> Segments {
    let all: Vec<bool> = vec![true; rows.converted.len()];
    let coded: Vec<&Values> = rows.attributes.iter().map(|(_, v)| v).collect();
    Segments {
        spec: spec.clone(),
        non_converting: question(rows, &coded, rows.handed, spec, false),
        converter_marks: question(rows, &coded, &all, spec, true),
    }
}

/// One attribute's value per lead, as a code into its distinct values. The distinct values are
/// sorted, so the codes do not depend on the order of the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    pub distinct: Vec<String>,
    pub codes: Vec<u32>,
}

impl Values {
    /// Interns `values` (one per lead).
    pub fn from_strs<'a>(values: impl IntoIterator<Item = &'a str>) -> Values {
        let c = AttributeCodes::intern(values.into_iter().map(Some));
        Values {
            distinct: c.values,
            codes: c.codes,
        }
    }

    /// The values of the leads at `rows` of the leads table, from the load's codes: the same
    /// as interning their texts, a missing value as `(missing)`.
    pub fn from_codes(codes: &AttributeCodes, rows: &[u32]) -> Values {
        let mut present = vec![false; codes.values.len()];
        let mut missing = false;
        for &r in rows {
            match codes.codes[r as usize] {
                MISSING => missing = true,
                c => present[c as usize] = true,
            }
        }
        // The load's codes are in byte order, as interning sorts its values.
        let mut distinct: Vec<&str> = codes
            .values
            .iter()
            .zip(&present)
            .filter(|(_, p)| **p)
            .map(|(v, _)| v.as_str())
            .collect();
        if missing && let Err(at) = distinct.binary_search(&MISSING_VALUE) {
            distinct.insert(at, MISSING_VALUE);
        }
        let new_code = |value: &str| distinct.binary_search(&value).unwrap_or(0) as u32;
        let map: Vec<u32> = codes
            .values
            .iter()
            .zip(&present)
            .map(|(v, p)| if *p { new_code(v) } else { 0 })
            .collect();
        let missing_code = if missing { new_code(MISSING_VALUE) } else { 0 };
        Values {
            codes: rows
                .iter()
                .map(|&r| match codes.codes[r as usize] {
                    MISSING => missing_code,
                    c => map[c as usize],
                })
                .collect(),
            distinct: distinct.into_iter().map(str::to_string).collect(),
        }
    }

    /// Lead `i`'s value.
    pub fn get(&self, i: usize) -> &str {
        &self.distinct[self.codes[i] as usize]
    }
}

type Key = Vec<(usize, String)>;

fn question(
    rows: &Rows,
    coded: &[&Values],
    member: &[bool],
    spec: &SegmentSpec,
    high_first: bool,
) -> Question {
    let idx: Vec<usize> = (0..member.len()).filter(|&i| member[i]).collect();
    let total = idx.len() as u64;
    let conv_total = idx.iter().filter(|&&i| rows.converted[i]).count() as u64;
    let overall = if total > 0 {
        conv_total as f64 / total as f64
    } else {
        0.0
    };
    // Dense counts per value and per pair of values.
    let n_attr = rows.attributes.len();
    let mut single: Vec<Vec<(u64, u64)>> = coded
        .iter()
        .map(|v| vec![(0, 0); v.distinct.len()])
        .collect();
    let pairs: Vec<(usize, usize)> = if spec.pairs {
        (0..n_attr)
            .flat_map(|a| (a + 1..n_attr).map(move |b| (a, b)))
            .collect()
    } else {
        Vec::new()
    };
    let mut pair: Vec<Vec<(u64, u64)>> = pairs
        .iter()
        .map(|&(a, b)| vec![(0, 0); coded[a].distinct.len() * coded[b].distinct.len()])
        .collect();
    for &i in &idx {
        let c = u64::from(rows.converted[i]);
        for (a, v) in coded.iter().enumerate() {
            let e = &mut single[a][v.codes[i] as usize];
            e.0 += 1;
            e.1 += c;
        }
        for (p, &(a, b)) in pairs.iter().enumerate() {
            let k =
                coded[a].codes[i] as usize * coded[b].distinct.len() + coded[b].codes[i] as usize;
            let e = &mut pair[p][k];
            e.0 += 1;
            e.1 += c;
        }
    }
    let mut counts: BTreeMap<Key, (u64, u64)> = BTreeMap::new();
    for (a, cs) in single.iter().enumerate() {
        for (v, &c) in cs.iter().enumerate() {
            if c.0 > 0 {
                counts.insert(vec![(a, coded[a].distinct[v].clone())], c);
            }
        }
    }
    for (p, &(a, b)) in pairs.iter().enumerate() {
        let lb = coded[b].distinct.len();
        for (k, &c) in pair[p].iter().enumerate() {
            if c.0 > 0 {
                counts.insert(
                    vec![
                        (a, coded[a].distinct[k / lb].clone()),
                        (b, coded[b].distinct[k % lb].clone()),
                    ],
                    c,
                );
            }
        }
    }
    let mut suppressed = 0;
    let mut groups = Vec::new();
    let mut keys = Vec::new();
    for (key, &(n, k)) in &counts {
        if n < spec.min_size {
            suppressed += 1;
            continue;
        }
        // Everyone in the population belongs to exactly one value per attribute, so a group
        // that is the whole population tells nothing.
        if n == total {
            continue;
        }
        let (p, test) = two_by_two(k, n - k, conv_total - k, total - n - (conv_total - k));
        let (lo, hi) = wilson(k, n).unwrap_or((0.0, 1.0));
        let rate = k as f64 / n as f64;
        let div = |v: f64| if overall > 0.0 { v / overall } else { 0.0 };
        groups.push(Group {
            values: key
                .iter()
                .map(|(a, v)| (rows.attributes[*a].0.clone(), v.clone()))
                .collect(),
            leads: n,
            converted: k,
            rate,
            rate_low: lo,
            rate_high: hi,
            lift: div(rate),
            lift_low: div(lo),
            lift_high: div(hi),
            p_value: p,
            test,
            q_value: 1.0,
            significant: false,
            redundant: false,
            rank: 0,
        });
        keys.push(key.clone());
    }
    let q = benjamini_hochberg(&groups.iter().map(|g| g.p_value).collect::<Vec<_>>());
    for (g, q) in groups.iter_mut().zip(q) {
        g.q_value = q;
        g.significant = q < spec.alpha;
    }
    // Redundant pairs: compare with the rest of the worse single value.
    let mut pair_tests: Vec<(usize, f64, f64, bool)> = Vec::new();
    for (gi, (g, key)) in groups.iter().zip(&keys).enumerate() {
        if key.len() != 2 {
            continue;
        }
        let single = |k: &(usize, String)| counts.get(&vec![k.clone()]).copied().unwrap_or((0, 0));
        let (s1, s2) = (single(&key[0]), single(&key[1]));
        let r = |s: (u64, u64)| {
            if s.0 > 0 {
                s.1 as f64 / s.0 as f64
            } else {
                0.0
            }
        };
        // "Worse" in the direction of the question.
        let worse = if high_first {
            if r(s1) >= r(s2) { s1 } else { s2 }
        } else if r(s1) <= r(s2) {
            s1
        } else {
            s2
        };
        let p = binomial_test(g.converted, g.leads, r(worse));
        // What the two values predict together without any interaction: their odds ratios
        // against the population multiply.
        let odds = |x: f64| x.clamp(1e-9, 1.0 - 1e-9) / (1.0 - x.clamp(1e-9, 1.0 - 1e-9));
        let o = odds(r(s1)) * odds(r(s2)) / odds(overall);
        let expected = o / (1.0 + o);
        let p_joint = binomial_test(g.converted, g.leads, expected);
        let beyond_joint = if high_first {
            g.rate > expected
        } else {
            g.rate < expected
        };
        // Also redundant when the pair is no more extreme than the single value itself.
        let not_more_extreme = if high_first {
            g.rate <= r(worse)
        } else {
            g.rate >= r(worse)
        };
        pair_tests.push((gi, p, p_joint, not_more_extreme || !beyond_joint));
    }
    // Many pairs are tested, so a pair is a finding of its own only at the stricter level.
    for &(gi, p_single, p_joint, weak) in &pair_tests {
        groups[gi].redundant =
            weak || p_single >= spec.redundancy_alpha || p_joint >= spec.redundancy_alpha;
    }
    // Ranking.
    let direction_ok = |g: &Group| {
        if high_first {
            g.rate > overall
        } else {
            g.rate < overall
        }
    };
    groups.sort_by(|a, b| {
        let key = |g: &Group| {
            (
                !direction_ok(g),
                g.redundant,
                if high_first { -g.lift_low } else { g.lift_high },
            )
        };
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.cmp(&kb.1))
            .then(ka.2.total_cmp(&kb.2))
            .then(a.label().cmp(&b.label()))
    });
    for (r, g) in groups.iter_mut().enumerate() {
        g.rank = r + 1;
    }
    Question {
        population: total,
        converted: conv_total,
        rate: overall,
        groups,
        suppressed,
    }
}

/// Quantile bins of a numeric attribute, as codes: labels like `[50, 199]` for up to `bins`
/// groups, then `(missing)`, and each value's label as an index into them (no string per
/// value: 10M leads would hold 10M of them).
pub struct Bins {
    pub labels: Vec<String>,
    pub codes: Vec<u32>,
}

impl Bins {
    /// As [`Values`]: the same as interning each value's label.
    pub fn values(&self) -> Values {
        let mut present = vec![false; self.labels.len()];
        for &k in &self.codes {
            present[k as usize] = true;
        }
        let mut distinct: Vec<&str> = (0..self.labels.len())
            .filter(|&k| present[k])
            .map(|k| self.labels[k].as_str())
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        let rank: Vec<u32> = self
            .labels
            .iter()
            .map(|l| distinct.binary_search(&l.as_str()).unwrap_or(0) as u32)
            .collect();
        Values {
            codes: self.codes.iter().map(|&k| rank[k as usize]).collect(),
            distinct: distinct.into_iter().map(str::to_string).collect(),
        }
    }
}

/// Quantile bins of a numeric attribute: labels like `[50, 199]` for up to `bins` groups.
pub fn quantile_bins(values: &[Option<f64>], bins: usize) -> Bins {
    let mut known: Vec<f64> = values.iter().flatten().copied().collect();
    known.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = match known.is_empty() {
        true => vec![],
        false => (1..bins).map(|k| known[k * known.len() / bins]).collect(),
    };
    edges.dedup();
    // Bin k holds values in [edges[k-1], edges[k]).
    let mut lo_hi: Vec<(f64, f64)> = vec![(f64::INFINITY, f64::NEG_INFINITY); edges.len() + 1];
    for &v in &known {
        let b = edges.partition_point(|&e| e <= v);
        lo_hi[b].0 = lo_hi[b].0.min(v);
        lo_hi[b].1 = lo_hi[b].1.max(v);
    }
    let fmt = |v: f64| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.2}")
        }
    };
    let mut labels: Vec<String> = match known.is_empty() {
        true => vec![],
        false => lo_hi
            .iter()
            .map(|(lo, hi)| format!("[{}, {}]", fmt(*lo), fmt(*hi)))
            .collect(),
    };
    let missing = labels.len() as u32;
    labels.push("(missing)".to_string());
    let codes = values
        .iter()
        .map(|v| match v {
            None => missing,
            Some(x) => edges.partition_point(|&e| e <= *x) as u32,
        })
        .collect();
    Bins { labels, codes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn binned_values_equal_their_labels_interned() {
        // Values that round to the same label in two bins, and missing ones.
        let v: Vec<Option<f64>> = [1.001, 1.004, 2.0, 2.0, 3.5, 7.0, 9.0, 12.0]
            .iter()
            .map(|x| Some(*x))
            .chain([None, None])
            .collect();
        for bins in [2, 4, 5] {
            let b = quantile_bins(&v, bins);
            let strings: Vec<&str> = b
                .codes
                .iter()
                .map(|&k| b.labels[k as usize].as_str())
                .collect();
            let want = Values::from_strs(strings.iter().copied());
            let got = b.values();
            assert_eq!(
                (got.distinct, got.codes),
                (want.distinct, want.codes),
                "{bins} bins"
            );
        }
        let empty = quantile_bins(&[None, None], 5);
        assert_eq!(empty.values().distinct, vec!["(missing)".to_string()]);
    }

    #[test]
    fn values_from_the_load_s_codes_equal_values_from_their_texts() {
        // A real value that reads like the missing one merges with it, as the texts do.
        let texts = [
            Some("b"),
            None,
            Some("(missing)"),
            Some("a"),
            Some("zz"),
            None,
            Some("a"),
        ];
        let mut distinct: Vec<&str> = texts.iter().flatten().copied().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let codes = AttributeCodes {
            values: distinct.iter().map(|v| v.to_string()).collect(),
            codes: texts
                .iter()
                .map(|t| t.map_or(MISSING, |t| distinct.binary_search(&t).unwrap() as u32))
                .collect(),
        };
        for rows in [
            vec![0u32, 1, 2, 3, 4, 5, 6],
            vec![3, 0, 6],
            vec![1, 5, 0],
            vec![],
        ] {
            let want = Values::from_strs(
                rows.iter()
                    .map(|&r| texts[r as usize].unwrap_or("(missing)")),
            );
            let got = Values::from_codes(&codes, &rows);
            assert_eq!(
                (got.distinct, got.codes),
                (want.distinct, want.codes),
                "{rows:?}"
            );
        }
    }

    type Columns = (Vec<(String, Values)>, Vec<bool>, Vec<bool>);

    fn data(rows: &[(u8, u8, bool, bool)]) -> Columns {
        let a: Vec<String> = rows.iter().map(|r| format!("a{}", r.0)).collect();
        let b: Vec<String> = rows.iter().map(|r| format!("b{}", r.1)).collect();
        let (a, b) = (
            Values::from_strs(a.iter().map(String::as_str)),
            Values::from_strs(b.iter().map(String::as_str)),
        );
        (
            vec![("x".into(), a), ("y".into(), b)],
            rows.iter().map(|r| r.2).collect(),
            rows.iter().map(|r| r.3).collect(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 64,
            rng_seed: proptest::test_runner::RngSeed::Fixed(6),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// The output does not depend on the order of the rows.
        #[test]
        fn row_order_changes_nothing(
            rows in prop::collection::vec((0u8..3, 0u8..3, any::<bool>(), any::<bool>()), 60..300),
            seed in any::<u64>(),
        ) {
            use rand::seq::SliceRandom;
            use rand::SeedableRng;
            let spec = SegmentSpec { min_size: 10, ..SegmentSpec::default() };
            let (at, conv, handed) = data(&rows);
            let a = analyse(&Rows { attributes: &at, converted: &conv, handed: &handed }, &spec);
            let mut shuffled = rows.clone();
            shuffled.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
            let (at, conv, handed) = data(&shuffled);
            let b = analyse(&Rows { attributes: &at, converted: &conv, handed: &handed }, &spec);
            prop_assert_eq!(&a.non_converting.groups, &b.non_converting.groups);
            prop_assert_eq!(&a.converter_marks.groups, &b.converter_marks.groups);
            // And no group below the minimum size is ever reported.
            prop_assert!(a.converter_marks.groups.iter().all(|g| g.leads >= 10));
        }
    }
}
