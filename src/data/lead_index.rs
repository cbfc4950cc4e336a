//! Where a lead id stands in the checked leads frame, looked up while the events stream by.
//!
//! Input: the checked leads frame (`lead_id` Int64 or String, `created_at`). Output: for a
//! column of ids, each id's row (`UInt32`, null for an id that is not a lead), as a polars
//! expression evaluated batch by batch on every core; and each row's creation time.
//! Guarantees: integer and text ids are looked up alike (a hash of the id, no join that
//! gathers the other columns of 50M events); dense integer ids are looked up by position; an
//! id held by several rows (an error the leads checks report) points at its first row.

use std::sync::Arc;

use polars::prelude::*;

use super::id_table::IdTable;
use crate::error::{Error, Result};

/// No lead at this position of a dense index.
const NONE: u32 = u32::MAX;

enum Ids {
    /// Integer ids spread over at most four times as many numbers as there are leads: the row
    /// of id `first + k` is `rows[k]`, a lookup without a hash.
    Dense {
        first: i64,
        rows: Vec<u32>,
    },
    /// Other integer ids, keyed on their eight bytes.
    Int(IdTable),
    Text(IdTable),
}

/// Lead id to row, and each row's creation time (µs).
pub(super) struct LeadIndex {
    ids: Ids,
    pub created: Arc<Vec<i64>>,
}

impl LeadIndex {
    pub fn new(leads: &DataFrame) -> Result<Self> {
        let err = || Error::polars("indexing lead ids");
        let id = leads.column("lead_id").map_err(err())?;
        let n = id.len();
        let ids = match id.dtype() {
            DataType::Int64 => {
                let ids = id.i64().map_err(err())?;
                match (ids.min(), ids.max()) {
                    (Some(lo), Some(hi)) if hi.abs_diff(lo) < 4 * n as u64 + 1024 => {
                        let mut rows = vec![NONE; hi.abs_diff(lo) as usize + 1];
                        for (row, v) in ids.iter().enumerate() {
                            if let Some(v) = v {
                                let slot = &mut rows[v.abs_diff(lo) as usize];
                                if *slot == NONE {
                                    *slot = row as u32;
                                }
                            }
                        }
                        Ids::Dense { first: lo, rows }
                    }
                    _ => Ids::Int(IdTable::new(ids.iter().map(|v| v.map(i64::to_le_bytes)))),
                }
            }
            _ => {
                let s = id.cast(&DataType::String).map_err(err())?;
                Ids::Text(IdTable::new(s.str().map_err(err())?.iter()))
            }
        };
        let created = leads
            .column("created_at")
            .and_then(|c| c.cast(&DataType::Int64))
            .map_err(Error::polars("creation times"))?;
        let created = created
            .i64()
            .map_err(Error::polars("creation times"))?
            .iter()
            .map(|v| v.unwrap_or(i64::MIN))
            .collect();
        Ok(LeadIndex {
            ids,
            created: Arc::new(created),
        })
    }

    /// The row of each id of `ids` (an expression of the leads' id type), null when unknown.
    pub fn expr(self: Arc<Self>, ids: Expr) -> Expr {
        ids.map(
            move |c: Column| self.rows(&c),
            |_, f| Ok(Field::new(f.name().clone(), DataType::UInt32)),
        )
    }

    /// [`Self::expr`] for text ids as read: each is trimmed first (as polars' `strip_chars`
    /// does), so that the trimmed column need not be built.
    pub fn trimmed_expr(self: Arc<Self>, ids: Expr) -> Expr {
        ids.map(
            move |c: Column| self.rows_trimmed(&c),
            |_, f| Ok(Field::new(f.name().clone(), DataType::UInt32)),
        )
    }

    fn rows(&self, c: &Column) -> PolarsResult<Column> {
        let out = match &self.ids {
            Ids::Dense { first, rows } => runs(c.i64()?.iter(), |v| {
                let k = usize::try_from(v.checked_sub(*first)?).ok()?;
                rows.get(k).copied().filter(|&r| r != NONE)
            }),
            Ids::Int(m) => int_rows(c.i64()?, m),
            Ids::Text(m) => text_rows(c.str()?, m, |v| v),
        };
        Ok(out.with_name(c.name().clone()).into_column())
    }

    fn rows_trimmed(&self, c: &Column) -> PolarsResult<Column> {
        let Ids::Text(m) = &self.ids else {
            return Err(PolarsError::ComputeError(
                "text ids looked up in an index of integer ids".into(),
            ));
        };
        let out = text_rows(c.str()?, m, str::trim);
        Ok(out.with_name(c.name().clone()).into_column())
    }
}

/// The row of each text id (after `form`), looked up in batches ([`IdTable::get_batch`]); an id
/// whose 16-byte view equals the row before's (a run of one lead's events, or one value of a
/// Parquet dictionary) reuses that row's answer, as equal views of one array are equal values.
fn text_rows(ids: &StringChunked, m: &IdTable, form: impl Fn(&str) -> &str) -> UInt32Chunked {
    let mut out: Vec<Option<u32>> = Vec::with_capacity(ids.len());
    let mut asked: Vec<&[u8]> = Vec::new();
    let mut found: Vec<Option<u32>> = Vec::new();
    // `chunks` gives each array as a trait object, whose nulls are read without naming
    // polars' array trait.
    for (arr, chunk) in ids.downcast_iter().zip(ids.chunks()) {
        let validity = chunk.validity();
        let valid = |i: usize| validity.is_none_or(|v| v.get_bit(i));
        let views = arr.views();
        // A valid id whose view is not the valid row before's: looked up, not reused.
        let starts = |i: usize| {
            valid(i) && !(i > 0 && valid(i - 1) && views[i].as_u128() == views[i - 1].as_u128())
        };
        // First the ids that start a run, then every row from their answers.
        asked.clear();
        for i in 0..views.len() {
            if starts(i) {
                asked.push(form(arr.value(i)).as_bytes());
            }
        }
        found.clear();
        m.get_batch(&asked, &mut found);
        let mut next = found.iter();
        let mut last = None;
        for i in 0..views.len() {
            if !valid(i) {
                out.push(None);
                continue;
            }
            if starts(i) {
                last = next.next().copied().flatten();
            }
            out.push(last);
        }
    }
    out.into_iter().collect()
}

/// The row of each integer id, looked up in batches ([`IdTable::get_batch`]); an id equal to the
/// one before it (a run of one lead's events) reuses that lookup.
fn int_rows(ids: &Int64Chunked, m: &IdTable) -> UInt32Chunked {
    let mut asked: Vec<[u8; 8]> = Vec::new();
    let mut last = None;
    for v in ids.iter().flatten() {
        if last != Some(v) {
            asked.push(v.to_le_bytes());
            last = Some(v);
        }
    }
    let mut found = Vec::with_capacity(asked.len());
    m.get_batch(&asked, &mut found);
    let mut next = found.into_iter();
    let (mut last, mut row) = (None, None);
    ids.iter()
        .map(|v| {
            let v = v?;
            if last != Some(v) {
                row = next.next().flatten();
                last = Some(v);
            }
            row
        })
        .collect()
}

/// `find` for each id; exports often list a lead's events together, so an id equal to the one
/// before it reuses that lookup.
fn runs<K: PartialEq + Copy>(
    ids: impl Iterator<Item = Option<K>>,
    find: impl Fn(K) -> Option<u32>,
) -> UInt32Chunked {
    let mut last: Option<(K, Option<u32>)> = None;
    ids.map(|v| {
        let v = v?;
        match last {
            Some((k, row)) if k == v => row,
            _ => {
                let row = find(v);
                last = Some((v, row));
                row
            }
        }
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(leads: DataFrame, events: Column) -> Vec<Option<u32>> {
        let index = LeadIndex::new(&leads).unwrap();
        index.rows(&events).unwrap().u32().unwrap().iter().collect()
    }

    #[test]
    fn ids_find_their_first_row_whatever_the_id_kind() {
        let created = Column::new("created_at".into(), vec![0i64; 4]);
        let events_int = Column::new(
            "lead_id".into(),
            vec![
                Some(7i64),
                Some(7),
                None,
                Some(3),
                Some(9),
                Some(8),
                Some(8),
                Some(-1),
            ],
        );
        let want = vec![
            Some(1),
            Some(1),
            None,
            Some(0),
            None,
            Some(3),
            Some(3),
            None,
        ];
        // Dense (3..8, id 7 twice) and sparse (one id far away) integer ids, and text ids.
        for far in [0i64, 8_000_000_000_000] {
            let ids: Vec<i64> = vec![3, 7, 7 + far, 8];
            let leads = DataFrame::new(
                4,
                vec![Column::new("lead_id".into(), ids.clone()), created.clone()],
            )
            .unwrap();
            assert_eq!(rows_of(leads, events_int.clone()), want, "far = {far}");
        }
        let text = |v: &[Option<&str>]| Column::new("lead_id".into(), v.to_vec());
        let leads = DataFrame::new(
            4,
            vec![text(&[Some("a"), Some("b"), Some("b"), Some("c")]), created],
        )
        .unwrap();
        let ev = text(&[
            Some("b"),
            Some("b"),
            None,
            Some("a"),
            Some("x"),
            Some("c"),
            Some("c"),
            Some(""),
        ]);
        assert_eq!(rows_of(leads, ev), want);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 200,
            rng_seed: proptest::test_runner::RngSeed::Fixed(5),
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Text ids in several arrays, in runs, with nulls, padded, short and long, some built
        /// apart and some gathered as a dictionary is decoded: each event finds the row a map
        /// of first rows gives, as read and trimmed.
        #[test]
        fn text_ids_find_the_map_of_first_rows_in_any_array(
            leads in proptest::collection::vec(
                proptest::option::weighted(0.9, "[ab ]{0,3}|[a-c]{13,15}"), 1..40),
            parts in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::option::weighted(0.85, "[ab ]{0,3}|[a-c]{13,15}"), 0..60),
                1..4),
            gather in proptest::bool::ANY,
        ) {
                        let n = leads.len();
            let frame = DataFrame::new(n, vec![
                Column::new("lead_id".into(), &leads),
                Column::new("created_at".into(), vec![0i64; n]),
            ]).unwrap();
            let mut first: std::collections::HashMap<&str, u32> = Default::default();
            for (r, v) in leads.iter().enumerate() {
                if let Some(v) = v {
                    first.entry(v.as_str()).or_insert(r as u32);
                }
            }
            // Each part its own array; gathered, each value repeats one view.
            let mut events: Option<StringChunked> = None;
            for p in &parts {
                let ca = if gather {
                    let dict = StringChunked::new("lead_id".into(), p);
                    let idx: IdxCa = (0..p.len())
                        .map(|k| Some((k * 7 % p.len().max(1)) as IdxSize))
                        .collect();
                    dict.take(&idx).unwrap()
                } else {
                    StringChunked::new("lead_id".into(), p)
                };
                match &mut events {
                    None => events = Some(ca),
                    Some(e) => { e.append(&ca).unwrap(); }
                }
            }
            let events = events.unwrap();
            let values: Vec<Option<&str>> = events.iter().collect();
            let index = LeadIndex::new(&frame).unwrap();
            let col = events.clone().into_column();
            let got: Vec<Option<u32>> = index.rows(&col).unwrap().u32().unwrap().iter().collect();
            let want: Vec<Option<u32>> =
                values.iter().map(|v| v.and_then(|v| first.get(v).copied())).collect();
            proptest::prop_assert_eq!(got, want);
            let got: Vec<Option<u32>> =
                index.rows_trimmed(&col).unwrap().u32().unwrap().iter().collect();
            let want: Vec<Option<u32>> = values
                .iter()
                .map(|v| v.and_then(|v| first.get(v.trim()).copied()))
                .collect();
            proptest::prop_assert_eq!(got, want);
        }

        /// Integer ids spread too far for the dense index (negative, zero, the extremes), in
        /// runs, with nulls and in several arrays: each event finds the row a map of first
        /// rows gives.
        #[test]
        fn sparse_integer_ids_find_the_map_of_first_rows(
            leads in proptest::collection::vec(proptest::option::weighted(0.9, -3i64..6), 1..40),
            parts in proptest::collection::vec(
                proptest::collection::vec(proptest::option::weighted(0.85, -4i64..7), 0..60),
                1..4),
        ) {
            use std::collections::HashMap;
            // Spread: each small value stands for one far apart from the others.
            let far = |v: i64| match v {
                -3 => i64::MIN,
                5 => i64::MAX,
                v => v * 1_000_000_007,
            };
            let leads: Vec<Option<i64>> = leads.iter().map(|v| v.map(far)).collect();
            let n = leads.len();
            let frame = DataFrame::new(n, vec![
                Column::new("lead_id".into(), &leads),
                Column::new("created_at".into(), vec![0i64; n]),
            ]).unwrap();
            let mut first: HashMap<i64, u32> = HashMap::new();
            for (r, v) in leads.iter().enumerate() {
                if let Some(v) = v {
                    first.entry(*v).or_insert(r as u32);
                }
            }
            let mut events: Option<Int64Chunked> = None;
            for p in &parts {
                let ca: Int64Chunked = p.iter().map(|v| v.map(far)).collect();
                match &mut events {
                    None => events = Some(ca),
                    Some(e) => { e.append(&ca).unwrap(); }
                }
            }
            let events = events.unwrap().with_name("lead_id".into());
            let want: Vec<Option<u32>> =
                events.iter().map(|v| v.and_then(|v| first.get(&v).copied())).collect();
            let got = rows_of(frame, events.into_column());
            proptest::prop_assert_eq!(got, want);
        }
    }
}
