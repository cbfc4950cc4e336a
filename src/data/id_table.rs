//! Lead ids to rows: an open-addressing table that looks ids up a batch at a time.
//!
//! Input: the leads' ids in row order, each as its bytes (a text id's UTF-8, an integer id's
//! eight bytes), a null id never found. Output: for each id
//! looked up, the row where it first occurs, or none. Guarantees: the same answer as a hash map
//! from each id to its first row, for any ids and any hash (a property test checks it with
//! hashes that collide on purpose); an id is matched by comparing its bytes, never by its hash
//! alone.
//!
//! Why not a `HashMap<Box<str>, u32>` (or `<i64, u32>`): activity exports list events in time
//! order, so each
//! event's lead is another one of a million, and a lookup in such a map waits for memory three
//! times, one after the other (the control bytes, the slot, the boxed text). On the 1M world
//! in time order those waits were 56% of the events pass. Here a slot is 16 bytes: the row
//! and an id of up to 11 bytes itself, or part of a longer id's hash and where its bytes sit in
//! one buffer. A batch is looked up in steps: every hash, then every first slot, then the
//! compares. Each step's loads do not depend on one another, so the processor waits for a
//! batch's misses together instead of one after the other.

/// A slot's row when it is empty.
const EMPTY: u32 = u32::MAX;
/// Ids looked up together: enough loads in flight to cover a miss's latency, few enough for
/// the batch's arrays to stay in registers and the first-level cache.
const BATCH: usize = 32;

/// Aligned to its size, so a slot never straddles two cache lines.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Slot {
    /// An id of up to [`INLINE`] bytes is held in the slot itself, `a` and `b` together: its
    /// length with [`SHORT`] set, then its bytes. A longer id has part of its hash here, with
    /// [`SHORT`] clear, and a probe compares bytes only when it matches.
    a: u32,
    row: u32,
    /// A longer id's start in the buffer, shifted past [`LEN_BITS`], then its length (or
    /// [`LONG`] for a longer id, whose length `starts` keeps). The buffer cannot reach 2^40
    /// bytes, so the start always fits.
    b: u64,
}

/// The longest id held in a slot: common CRM ids (`L0000001`, a 10-digit number as text) are
/// compared without reading the buffer, which would be one more wait for memory.
const INLINE: usize = 11;
const SHORT: u32 = 0x80;
const LEN_BITS: u32 = 24;
const LONG: u64 = (1 << LEN_BITS) - 1;

const FREE: Slot = Slot {
    a: 0,
    row: EMPTY,
    b: 0,
};

/// A value as the slots compare it.
#[derive(Clone, Copy, Default)]
struct Probe {
    /// The hash: its place in the table.
    h: u64,
    /// A short value's `a` and `b`, or the hash's part a longer id's slot holds.
    a: u32,
    b: u64,
    short: bool,
}

impl Probe {
    fn new(v: &[u8], h: u64) -> Self {
        if v.len() <= INLINE {
            let mut k = [0u8; 12];
            k[0] = v.len() as u8 | SHORT as u8;
            k[1..1 + v.len()].copy_from_slice(v);
            let (a, b) = k.split_at(4);
            Probe {
                h,
                a: u32::from_le_bytes(a.try_into().unwrap_or_default()),
                b: u64::from_le_bytes(b.try_into().unwrap_or_default()),
                short: true,
            }
        } else {
            Probe {
                h,
                a: h as u32 & !SHORT,
                b: 0,
                short: false,
            }
        }
    }
}

/// Lead id → first row.
pub(super) struct IdTable {
    slots: Vec<Slot>,
    mask: usize,
    /// Row `r`'s id is `bytes[starts[r]..starts[r + 1]]` (empty for a null id).
    starts: Vec<usize>,
    bytes: Vec<u8>,
    hash: fn(&[u8]) -> u64,
}

fn xxh3(b: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(b)
}

impl IdTable {
    /// The table of `ids` (row `r` is the `r`-th item); rows must fit in a `u32` below
    /// `u32::MAX`, as every row index of the events pass does.
    pub fn new<B: AsRef<[u8]>>(ids: impl ExactSizeIterator<Item = Option<B>>) -> Self {
        Self::with_hash(ids, xxh3)
    }

    fn with_hash<B: AsRef<[u8]>>(
        ids: impl ExactSizeIterator<Item = Option<B>>,
        hash: fn(&[u8]) -> u64,
    ) -> Self {
        let n = ids.len();
        // At most half full: a probe rarely goes past its first slot.
        let cap = (2 * n).max(BATCH).next_power_of_two();
        let mut t = IdTable {
            slots: vec![FREE; cap],
            mask: cap - 1,
            starts: Vec::with_capacity(n + 1),
            bytes: Vec::new(),
            hash,
        };
        t.starts.push(0);
        for (row, v) in ids.enumerate() {
            if let Some(v) = &v {
                t.bytes.extend_from_slice(v.as_ref());
            }
            t.starts.push(t.bytes.len());
            if let Some(v) = &v {
                t.insert(row as u32, v.as_ref());
            }
        }
        t
    }

    /// The bytes of the id a longer id's slot holds.
    fn id(&self, s: Slot) -> &[u8] {
        let start = (s.b >> LEN_BITS) as usize;
        let len = match s.b & LONG {
            LONG => self.starts[s.row as usize + 1] - start,
            n => n as usize,
        };
        &self.bytes[start..start + len]
    }

    /// Whether slot `s` (not empty) holds `v`.
    fn holds(&self, s: Slot, v: &[u8], p: Probe) -> bool {
        match (s.a & SHORT != 0, p.short) {
            (true, true) => s.a == p.a && s.b == p.b,
            (false, false) => s.a == p.a && self.id(s) == v,
            _ => false,
        }
    }

    /// Adds `v` at `row` unless it is already there (its first row wins).
    fn insert(&mut self, row: u32, v: &[u8]) {
        let p = Probe::new(v, (self.hash)(v));
        let mut i = p.h as usize & self.mask;
        loop {
            let s = self.slots[i];
            if s.row == EMPTY {
                let start = self.starts[row as usize] as u64;
                let b = match p.short {
                    true => p.b,
                    false => (start << LEN_BITS) | (v.len() as u64).min(LONG),
                };
                self.slots[i] = Slot { a: p.a, row, b };
                return;
            }
            if self.holds(s, v, p) {
                return;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The row of `v`, probing from slot `i`.
    fn probe(&self, v: &[u8], p: Probe, mut i: usize) -> Option<u32> {
        loop {
            let s = self.slots[i];
            if s.row == EMPTY {
                return None;
            }
            if self.holds(s, v, p) {
                return Some(s.row);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The row of one id.
    #[cfg(test)]
    pub fn get(&self, v: &str) -> Option<u32> {
        let p = Probe::new(v.as_bytes(), (self.hash)(v.as_bytes()));
        self.probe(v.as_bytes(), p, p.h as usize & self.mask)
    }

    /// The row of each of `values`, pushed onto `out` in order.
    pub fn get_batch<B: AsRef<[u8]>>(&self, values: &[B], out: &mut Vec<Option<u32>>) {
        for chunk in values.chunks(BATCH) {
            let mut p = [Probe::default(); BATCH];
            let mut first = [FREE; BATCH];
            for (k, v) in chunk.iter().enumerate() {
                let v = v.as_ref();
                p[k] = Probe::new(v, (self.hash)(v));
            }
            for k in 0..chunk.len() {
                first[k] = self.slots[p[k].h as usize & self.mask];
            }
            for (k, v) in chunk.iter().enumerate() {
                let (v, s) = (v.as_ref(), first[k]);
                let row = if s.row == EMPTY {
                    None
                } else if self.holds(s, v, p[k]) {
                    Some(s.row)
                } else {
                    self.probe(v, p[k], ((p[k].h as usize & self.mask) + 1) & self.mask)
                };
                out.push(row);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Hashes that send many ids to one slot, and to the last slots so that probes wrap.
    fn by_length(b: &[u8]) -> u64 {
        (b.len() % 3) as u64
    }
    fn at_the_end(b: &[u8]) -> u64 {
        u64::MAX - (b.first().copied().unwrap_or(0) % 4) as u64
    }

    fn id() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            1 => Just(None),
            1 => Just(Some(String::new())),
            6 => "[ab]{1,3}".prop_map(Some),
            2 => "[a-zé ]{4,20}".prop_map(Some),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 300,
            rng_seed: proptest::test_runner::RngSeed::Fixed(11),
            ..ProptestConfig::default()
        })]

        /// Every id, a lead or not, finds the row a map of first rows gives, one at a time and
        /// in batches, under a good hash and under hashes that collide.
        #[test]
        fn lookups_are_the_map_of_first_rows(
            leads in proptest::collection::vec(id(), 0..90),
            asked in proptest::collection::vec(id(), 0..150),
            which in 0..3usize,
        ) {
            let hash: fn(&[u8]) -> u64 = [xxh3, by_length, at_the_end][which];
            let t = IdTable::with_hash(leads.iter().map(|v| v.as_deref()), hash);
            let mut map: HashMap<&str, u32> = HashMap::new();
            for (r, v) in leads.iter().enumerate() {
                if let Some(v) = v {
                    map.entry(v.as_str()).or_insert(r as u32);
                }
            }
            // Every lead id is asked too, so that found ids are common.
            let all: Vec<&str> = asked
                .iter()
                .chain(&leads)
                .flatten()
                .map(String::as_str)
                .collect();
            let want: Vec<Option<u32>> = all.iter().map(|v| map.get(v).copied()).collect();
            let one: Vec<Option<u32>> = all.iter().map(|v| t.get(v)).collect();
            prop_assert_eq!(&one, &want);
            let bytes: Vec<&[u8]> = all.iter().map(|v| v.as_bytes()).collect();
            let mut batch = Vec::new();
            t.get_batch(&bytes, &mut batch);
            prop_assert_eq!(&batch, &want);
        }
    }

    /// An id of 16 MiB or more keeps its length outside the slot; ids around that length,
    /// equal in all but their length, each find their own row.
    #[test]
    fn ids_longer_than_a_slot_can_say_find_their_row() {
        let n = LONG as usize;
        let ids: Vec<String> = [n - 1, n, n + 1].iter().map(|&k| "x".repeat(k)).collect();
        let t = IdTable::new(ids.iter().map(|v| Some(v.as_str())));
        for (r, v) in ids.iter().enumerate() {
            assert_eq!(t.get(v), Some(r as u32));
        }
        assert_eq!(t.get(&"x".repeat(n + 2)), None);
        let bytes: Vec<&[u8]> = ids.iter().rev().map(|v| v.as_bytes()).collect();
        let mut out = Vec::new();
        t.get_batch(&bytes, &mut out);
        assert_eq!(out, vec![Some(2), Some(1), Some(0)]);
    }
}
