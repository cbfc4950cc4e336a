//! What the one pass over the events counts and keeps, batch by batch.
//!
//! Input: streamed batches of the events' check columns: the event type as a code
//! ([`TypeCodes`]), the lead's row (null when unknown), the time, the caller's tag and one
//! boolean per check. Output: [`Tally`]: per event type the rows, valid rows and unlisted
//! codes; the sum of every check; unknown leads and events before their lead; the first and
//! last valid time; and, with tags, the kept events for [`Placer`]. Guarantees: counts do not
//! depend on how the rows are cut into batches or on the order the batches arrive in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use super::placed::Placer;

/// Event types as small codes, assigned while the batches are read on several cores: each
/// batch looks its types up in a small map of its own and asks the shared one only for types
/// it has not seen. A code says nothing about order; [`TypeCodes::names`] turns them back.
#[derive(Default)]
pub(super) struct TypeCodes {
    shared: Mutex<(
        HashMap<String, u32, foldhash::fast::FixedState>,
        Vec<String>,
    )>,
}

/// The code of an empty event type.
pub(super) const NO_TYPE: u32 = u32::MAX;

impl TypeCodes {
    /// The code of each event type of `types` (text), [`NO_TYPE`] for an empty one.
    pub fn expr(self: Arc<Self>, types: Expr) -> Expr {
        types.map(
            move |c: Column| self.codes(&c),
            |_, f| Ok(Field::new(f.name().clone(), DataType::UInt32)),
        )
    }

    fn codes(&self, c: &Column) -> PolarsResult<Column> {
        let mut local: HashMap<&str, u32, foldhash::fast::FixedState> = HashMap::default();
        let out = crate::views::lookup(c.str()?, |t| match t {
            None => NO_TYPE,
            Some(t) => *local.entry(t).or_insert_with(|| self.code(t)),
        });
        Ok(Column::new(c.name().clone(), out))
    }

    fn code(&self, t: &str) -> u32 {
        let mut g = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let (map, names) = &mut *g;
        if let Some(&k) = map.get(t) {
            return k;
        }
        let k = names.len() as u32;
        map.insert(t.to_string(), k);
        names.push(t.to_string());
        k
    }

    /// The name of each code.
    pub fn names(&self) -> Vec<String> {
        self.shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }
}

/// The boolean check columns a batch carries, summed over every row.
pub(super) const CHECKS: [&str; 11] = [
    "__ts_null",
    "__ts_bad",
    "__ts_bad_slashed",
    "__ts_dotted_read",
    "__oor",
    "__bad_value",
    "__id_null",
    "__id_null_valid",
    "__ts_offset",
    "__nonfinite_value",
    "__unlisted",
];

fn too_many_tags() -> PolarsError {
    PolarsError::ComputeError(
        "the model's rules match the events in more than 65,535 combinations".into(),
    )
}

/// Per event type (by code): rows, valid rows, unlisted codes.
#[derive(Default, Clone, Copy)]
pub(super) struct TypeCount {
    pub rows: u64,
    pub valid: u64,
    pub unlisted: u64,
}

/// Everything the pass counts, and the events it keeps.
pub(super) struct Tally {
    /// The pass's tally, when events are placed: what [`Tally::add`] places them in.
    pub placer: Option<Placer>,
    /// A batch's tally: the `(lead row, time, tag)` of each event to place, placed when the
    /// batch is added to the pass's tally ([`Tally::add`]).
    kept: Option<Vec<(u32, i64, u64)>>,
    pub created: Arc<Vec<i64>>,
    pub by_type: Vec<TypeCount>,
    /// Rows with an empty event type.
    pub no_type: u64,
    pub rows: u64,
    pub valid: u64,
    /// Sum of each of [`CHECKS`].
    pub checks: [u64; CHECKS.len()],
    /// Valid events whose lead is not in the leads table (an empty id among them).
    pub unknown: u64,
    /// Valid events of a known lead dated before its creation.
    pub early: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
}

impl Tally {
    pub fn new(placer: Option<Placer>, created: Arc<Vec<i64>>) -> Self {
        Tally {
            placer,
            kept: None,
            created,
            by_type: Vec::new(),
            no_type: 0,
            rows: 0,
            valid: 0,
            checks: [0; CHECKS.len()],
            unknown: 0,
            early: 0,
            first: None,
            last: None,
        }
    }

    /// One batch's tally, counted apart from the pass's (on the batch's own core, without the
    /// pass's lock); `place` keeps its tagged events for [`Tally::add`] to place.
    pub fn batch(df: &DataFrame, created: Arc<Vec<i64>>, place: bool) -> PolarsResult<Self> {
        let mut t = Tally::new(None, created);
        t.kept = place.then(|| Vec::with_capacity(df.height()));
        t.take(df)?;
        Ok(t)
    }

    /// Add a batch's tally ([`Tally::batch`]): every count is a sum, a minimum or a maximum,
    /// so the order batches are added in does not matter; its kept events are placed.
    pub fn add(&mut self, b: Tally) -> PolarsResult<()> {
        if self.by_type.len() < b.by_type.len() {
            self.by_type.resize(b.by_type.len(), TypeCount::default());
        }
        for (t, c) in self.by_type.iter_mut().zip(&b.by_type) {
            t.rows += c.rows;
            t.valid += c.valid;
            t.unlisted += c.unlisted;
        }
        self.no_type += b.no_type;
        self.rows += b.rows;
        self.valid += b.valid;
        for (s, c) in self.checks.iter_mut().zip(b.checks) {
            *s += c;
        }
        self.unknown += b.unknown;
        self.early += b.early;
        self.first = match (self.first, b.first) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        self.last = match (self.last, b.last) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        if let (Some(p), Some(kept)) = (self.placer.as_mut(), b.kept) {
            for (row, time, tag) in kept {
                p.push(row, time, tag).map_err(|_| too_many_tags())?;
            }
        }
        Ok(())
    }

    /// Count one batch (`__type`, `__idx`, `__t`, `__tag`, `__valid` and the [`CHECKS`]) into
    /// this batch's tally.
    fn take(&mut self, df: &DataFrame) -> PolarsResult<()> {
        let get = |c: &str| df.column(c).map(|c| c.as_materialized_series().rechunk());
        for (sum, name) in self.checks.iter_mut().zip(CHECKS) {
            *sum += get(name)?.bool()?.sum().unwrap_or(0) as u64;
        }
        let (types, idx, t, tag, valid) = (
            get("__type")?,
            get("__idx")?,
            get("__t")?,
            get("__tag")?,
            get("__valid")?,
        );
        let (types, idx, t, tag, valid) = (
            types.u32()?,
            idx.u32()?,
            t.i64()?,
            tag.u64()?,
            valid.bool()?,
        );
        let n = df.height();
        self.rows += n as u64;
        let missing = || PolarsError::ComputeError("an event check column has a gap".into());
        let types = types.cont_slice().map_err(|_| missing())?;
        let tag = tag.cont_slice().map_err(|_| missing())?;
        let idx = idx.downcast_as_array();
        let (rows, known) = (idx.values().as_slice(), idx.validity());
        let t = t.downcast_as_array();
        let (times, has_time) = (t.values().as_slice(), t.validity());
        let valid = valid.downcast_as_array();
        // The events of known leads, whose creation times are compared after the loop.
        let mut of_known: Vec<u32> = Vec::with_capacity(n);
        for i in 0..n {
            let code = types[i];
            let ok = valid.value(i) && valid.validity().is_none_or(|v| v.get_bit(i));
            let c = if code == NO_TYPE {
                self.no_type += 1;
                None
            } else {
                let k = code as usize;
                if k >= self.by_type.len() {
                    self.by_type.resize(k + 1, TypeCount::default());
                }
                self.by_type[k].rows += 1;
                Some(k)
            };
            if !ok {
                continue;
            }
            // A valid event has a type and a time.
            if let Some(k) = c {
                self.by_type[k].valid += 1;
            }
            if has_time.is_some_and(|v| !v.get_bit(i)) {
                return Err(missing());
            }
            let time = times[i];
            self.valid += 1;
            self.first = Some(self.first.map_or(time, |f| f.min(time)));
            self.last = Some(self.last.map_or(time, |l| l.max(time)));
            if known.is_some_and(|v| !v.get_bit(i)) {
                self.unknown += 1;
                continue;
            }
            let row = rows[i];
            of_known.push(i as u32);
            if tag[i] != 0
                && let Some(kept) = self.kept.as_mut()
            {
                kept.push((row, time, tag[i]));
            }
        }
        // Apart from the loop above: in time order each event's lead is another one, and in
        // this short loop the loads of their creation times wait for memory together.
        let created = &self.created[..];
        self.early += of_known
            .iter()
            .map(|&i| (times[i as usize] < created[rows[i as usize] as usize]) as u64)
            .sum::<u64>();
        let unlisted = get("__unlisted")?;
        let unlisted = unlisted.bool()?;
        if unlisted.any() {
            for (i, u) in unlisted.iter().enumerate() {
                if u == Some(true) && types[i] != NO_TYPE {
                    self.by_type[types[i] as usize].unlisted += 1;
                }
            }
        }
        Ok(())
    }

    /// The sum of check `name` (one of [`CHECKS`]).
    pub fn check(&self, name: &str) -> u64 {
        let k = CHECKS.iter().position(|c| *c == name);
        debug_assert!(k.is_some(), "no check `{name}`");
        k.map_or(0, |k| self.checks[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch of the pass's columns from a simple generator: types (some empty), leads (some
    /// unknown), times (some before the lead's creation), tags (some zero), validity and checks.
    fn batch(n: usize, seed: u64) -> DataFrame {
        let mut x = seed;
        let mut next = move |m: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % m
        };
        let mut cols = Vec::new();
        let mut types = Vec::new();
        let (mut idx, mut t, mut tag, mut valid) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            types.push(if next(9) == 0 {
                NO_TYPE
            } else {
                next(5) as u32
            });
            idx.push((next(7) != 0).then(|| next(20) as u32));
            t.push(Some(next(1000) as i64));
            tag.push(next(4));
            valid.push(next(5) != 0);
        }
        cols.push(Column::new("__type".into(), types));
        cols.push(Column::new("__idx".into(), idx));
        cols.push(Column::new("__t".into(), t));
        cols.push(Column::new("__tag".into(), tag));
        cols.push(Column::new("__valid".into(), valid));
        for c in CHECKS {
            let v: Vec<bool> = (0..n).map(|_| next(6) == 0).collect();
            cols.push(Column::new(c.into(), v));
        }
        DataFrame::new(n, cols).unwrap()
    }

    fn counts(t: &Tally) -> impl PartialEq + std::fmt::Debug {
        let types: Vec<_> = t
            .by_type
            .iter()
            .map(|c| (c.rows, c.valid, c.unlisted))
            .collect();
        (
            types,
            (t.no_type, t.rows, t.valid, t.checks, t.unknown, t.early),
            (t.first, t.last),
        )
    }

    #[test]
    fn batches_counted_apart_and_added_in_any_order_equal_one_tally() {
        let created: Arc<Vec<i64>> = Arc::new((0..20).map(|k| k * 40).collect());
        let parts: Vec<DataFrame> = (0..6).map(|k| batch(50 + 37 * k, k as u64)).collect();
        let mut all = parts[0].clone();
        for p in &parts[1..] {
            all.vstack_mut(p).unwrap();
        }
        let mut whole = Tally::new(Some(Placer::new(20, 0)), created.clone());
        whole
            .add(Tally::batch(&all, created.clone(), true).unwrap())
            .unwrap();
        let mut added = Tally::new(Some(Placer::new(20, 0)), created.clone());
        for p in parts.iter().rev() {
            added
                .add(Tally::batch(p, created.clone(), true).unwrap())
                .unwrap();
        }
        assert_eq!(counts(&whole), counts(&added));
        assert!(whole.rows > 0 && whole.early > 0 && whole.unknown > 0);
        let (a, b) = (whole.placer.take().unwrap(), added.placer.take().unwrap());
        assert!(a.events() > 0);
        assert_eq!(a.finish(), b.finish());
        // Checked only: nothing is kept to place.
        let checked = Tally::batch(&parts[0], created, false).unwrap();
        assert!(checked.kept.is_none());
    }
}
