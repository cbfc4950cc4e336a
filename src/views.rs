//! A function of a text column's values, looked up once per distinct 16-byte view.
//!
//! Input: a polars text column and a function of one value (`None` for a null). Output: the
//! function's result for every row, in order. Guarantees: the same result as calling the
//! function on every value (`ca.iter().map(find)`), for any column, however it was built; the
//! function is called again only for a value whose view was not among the last few seen.
//!
//! Why: polars holds each text value as a 16-byte view (its length and, up to 12 bytes, the
//! value itself; longer, its first bytes and where it sits in the array's buffers). A value a
//! Parquet dictionary page decodes is the same view at every row, and equal views of one array
//! are always equal values. The events pass looks up the event type and the rules' filter
//! columns of every event (the lead id has a table of its own, `data/id_table.rs`): keyed on
//! the view, a lookup is a compare of 16 bytes in a small table instead of hashing and
//! comparing the text. Unequal views of equal values (a CSV
//! read, a long value stored twice) only cost the function's call.

use polars::prelude::*;

/// Slots of the memo: enough for the event types, topics and channels of an export in a
/// table that stays in the first-level cache (16 KiB for a `u32` result).
const SLOTS: usize = 512;

/// `find` of every value of `ca`, in order; see the module's header.
pub fn lookup<'a, T: Copy>(
    ca: &'a StringChunked,
    mut find: impl FnMut(Option<&'a str>) -> T,
) -> Vec<T> {
    let mut out = Vec::with_capacity(ca.len());
    let mut null: Option<T> = None;
    // `chunks` gives each array as a trait object, whose nulls are read without naming
    // polars' array trait.
    for (arr, chunk) in ca.downcast_iter().zip(ca.chunks()) {
        // A view names a buffer of its own array, so the memo starts empty for each array.
        let mut memo: Vec<Option<(u128, T)>> = vec![None; SLOTS];
        let validity = chunk.validity();
        for (i, view) in arr.views().iter().enumerate() {
            if validity.is_some_and(|v| !v.get_bit(i)) {
                let t = *null.get_or_insert_with(|| find(None));
                out.push(t);
                continue;
            }
            let key = view.as_u128();
            let slot = &mut memo[slot_of(key)];
            let t = match *slot {
                Some((k, t)) if k == key => t,
                _ => {
                    let t = find(Some(arr.value(i)));
                    *slot = Some((key, t));
                    t
                }
            };
            out.push(t);
        }
    }
    out
}

/// A view's slot: both halves folded and spread by a multiplication (Fibonacci hashing).
fn slot_of(key: u128) -> usize {
    let folded = (key as u64) ^ ((key >> 64) as u64);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOTS.trailing_zeros())) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each value's index in a list, or a marker for a value not in it or a null.
    fn rank(list: &[String]) -> impl FnMut(Option<&str>) -> u32 + '_ {
        move |v| match v {
            None => u32::MAX,
            Some(v) => list
                .iter()
                .position(|x| x == v)
                .map_or(u32::MAX - 1, |k| k as u32),
        }
    }

    /// The values at `rows` of `dict`, gathered as a dictionary page is decoded: a value
    /// repeats its view, and a long value points at one place in a shared buffer.
    fn gathered(dict: &[String], rows: &[Option<usize>]) -> StringChunked {
        let dict = StringChunked::new("v".into(), dict);
        let idx: IdxCa = rows.iter().map(|r| r.map(|r| r as IdxSize)).collect();
        dict.take(&idx).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 300,
            rng_seed: proptest::test_runner::RngSeed::Fixed(7),
            ..ProptestConfig::default()
        })]

        /// Short (inline) and long values, nulls, several arrays, values built apart (unequal
        /// views of equal values) and gathered from a dictionary (a value repeats its view):
        /// the lookup is the plain map of every value.
        #[test]
        fn lookup_is_the_map_of_every_value(
            parts in prop::collection::vec(
                prop::collection::vec(prop::option::weighted(0.9, 0usize..40), 0..300), 1..4),
            words in prop::collection::vec("[a-zé]{0,3}|ab[ab]{2}[a-c]{9,11}|[a-z]{10,30}", 1..40),
        ) {
            let rows = |part: &[Option<usize>]| -> Vec<Option<usize>> {
                part.iter().map(|v| v.map(|k| k % words.len())).collect()
            };
            let mut ca: Option<StringChunked> = None;
            let mut want = Vec::new();
            for (j, part) in parts.iter().enumerate() {
                let rows = rows(part);
                let vals: Vec<Option<&str>> =
                    rows.iter().map(|r| r.map(|r| words[r].as_str())).collect();
                let mut f = rank(&words);
                want.extend(vals.iter().map(|v| f(*v)));
                let piece = if j % 2 == 0 {
                    StringChunked::new("v".into(), &vals)
                } else {
                    gathered(&words, &rows)
                };
                match ca.as_mut() {
                    None => ca = Some(piece),
                    Some(ca) => {
                        ca.append(&piece).unwrap();
                    }
                }
            }
            let got = lookup(&ca.unwrap(), rank(&words));
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn a_value_gathered_from_a_dictionary_is_looked_up_once_per_array() {
        let dict: Vec<String> = ["email_open", "a_value_longer_than_twelve_bytes", "web"]
            .map(String::from)
            .to_vec();
        let rows: Vec<Option<usize>> = (0..1000)
            .map(|i| match i % 4 {
                0 => None,
                k => Some(k - 1),
            })
            .collect();
        let ca = gathered(&dict, &rows);
        assert_eq!(ca.chunks().len(), 1);
        let mut calls = 0;
        let got = lookup(&ca, |v| {
            calls += 1;
            v.map_or(0, |v| v.len())
        });
        let want: Vec<usize> = rows
            .iter()
            .map(|r| r.map_or(0, |r| dict[r].len()))
            .collect();
        assert_eq!(got, want);
        // A null, the inline values and the long one: one call each.
        assert_eq!(calls, 4);
    }
}
