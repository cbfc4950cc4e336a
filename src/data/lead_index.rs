//! Where a lead id stands in the checked leads frame, looked up while the events stream by.
//!
//! Input: the checked leads frame (`lead_id` Int64 or String, `created_at`). Output: for a
//! column of ids, each id's row (`UInt32`, null for an id that is not a lead), as a polars
//! expression evaluated batch by batch on every core; and each row's creation time.
//! Guarantees: integer and text ids are looked up alike (a hash of the id, no join that
//! gathers the other columns of 50M events); dense integer ids are looked up by position; an
//! id held by several rows (an error the leads checks report) points at its first row.

use std::collections::HashMap;
use std::sync::Arc;

use polars::prelude::*;

use crate::error::{Error, Result};

type Map<K> = HashMap<K, u32, foldhash::fast::FixedState>;

/// No lead at this position of a dense index.
const NONE: u32 = u32::MAX;

enum Ids {
    /// Integer ids spread over at most four times as many numbers as there are leads: the row
    /// of id `first + k` is `rows[k]`, a lookup without a hash.
    Dense {
        first: i64,
        rows: Vec<u32>,
    },
    Int(Map<i64>),
    Text(Map<Box<str>>),
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
                    _ => {
                        let mut m = Map::with_capacity_and_hasher(n, Default::default());
                        for (row, v) in ids.iter().enumerate() {
                            if let Some(v) = v {
                                m.entry(v).or_insert(row as u32);
                            }
                        }
                        Ids::Int(m)
                    }
                }
            }
            _ => {
                let s = id.cast(&DataType::String).map_err(err())?;
                let mut m = Map::with_capacity_and_hasher(n, Default::default());
                for (row, v) in s.str().map_err(err())?.iter().enumerate() {
                    if let Some(v) = v {
                        m.entry(Box::from(v)).or_insert(row as u32);
                    }
                }
                Ids::Text(m)
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
            Ids::Int(m) => runs(c.i64()?.iter(), |v| m.get(&v).copied()),
            Ids::Text(m) => text_rows(c.str()?, |v| m.get(v).copied()),
        };
        Ok(out.with_name(c.name().clone()).into_column())
    }

    fn rows_trimmed(&self, c: &Column) -> PolarsResult<Column> {
        let Ids::Text(m) = &self.ids else {
            return Err(PolarsError::ComputeError(
                "text ids looked up in an index of integer ids".into(),
            ));
        };
        let out = text_rows(c.str()?, |v| m.get(v.trim()).copied());
        Ok(out.with_name(c.name().clone()).into_column())
    }
}

/// `find` for each text id, looked up once per run of equal views ([`crate::views`]): a run
/// of one lead's events, or an id a Parquet dictionary repeats.
fn text_rows(ids: &StringChunked, find: impl Fn(&str) -> Option<u32>) -> UInt32Chunked {
    crate::views::lookup(ids, |v| v.and_then(&find))
        .into_iter()
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
}
