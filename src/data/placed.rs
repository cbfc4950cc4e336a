//! Events placed per lead: what the one streamed pass over the events table leaves behind.
//!
//! Input: `(lead row, time, tag)` triples in any order, pushed batch by batch while the events
//! are read ([`Placer`]). Output: [`PlacedEvents`], each lead's events (by its row in the
//! leads table) as `(time in µs, tag)`, sorted by time and then tag ([`LeadEvents`]).
//! Guarantees: the result does not depend on the order the triples arrive in or on the thread
//! count; every event is held once, in a bucket of 4,096 neighbouring leads that is sorted
//! where it stands (no second copy of the events, and no fresh memory to fault in after the
//! pass), in 10 bytes: its time and the index of its tag among the few distinct tags.

use std::collections::HashMap;
use std::io::{self, Read, Write};

use rayon::prelude::*;

/// Leads per bucket (a power of two, so a lead's bucket and place in it are bit operations).
const BUCKET_BITS: u32 = 12;
const BUCKET: usize = 1 << BUCKET_BITS;

/// One bucket's events, and after placing, where each of its leads' events start.
#[derive(Debug, Default, PartialEq)]
struct Bucket {
    times: Vec<i64>,
    /// Index of each event's tag in [`PlacedEvents::tags`].
    kinds: Vec<u16>,
    /// While collecting: each event's lead within the bucket. Emptied by placing.
    lead: Vec<u16>,
    /// After placing: start of each lead's events (length = leads + 1).
    starts: Vec<u32>,
}

/// Each lead's events, sorted, by lead row.
#[derive(Debug, Default, PartialEq)]
pub struct PlacedEvents {
    leads: usize,
    /// The distinct tags, in the order first seen.
    tags: Vec<u64>,
    buckets: Vec<Bucket>,
}

/// One lead's events as `(time µs, tag)` pairs, sorted by time and then tag.
#[derive(Debug, Clone, Copy)]
pub struct LeadEvents<'a> {
    times: &'a [i64],
    kinds: &'a [u16],
    tags: &'a [u64],
}

impl<'a> LeadEvents<'a> {
    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The `i`-th event's time.
    #[inline]
    pub fn time(&self, i: usize) -> i64 {
        self.times[i]
    }

    /// The `i`-th event's tag.
    #[inline]
    pub fn tag(&self, i: usize) -> u64 {
        self.tags[self.kinds[i] as usize]
    }

    /// The events in order.
    pub fn iter(self) -> impl Iterator<Item = (i64, u64)> + 'a {
        let tags = self.tags;
        self.times
            .iter()
            .zip(self.kinds)
            .map(move |(&t, &k)| (t, tags[k as usize]))
    }

    /// The events at or before `until`.
    pub fn until(self, until: i64) -> Self {
        let n = self.times.partition_point(|&t| t <= until);
        LeadEvents {
            times: &self.times[..n],
            kinds: &self.kinds[..n],
            tags: self.tags,
        }
    }
}

impl PlacedEvents {
    /// The events of lead row `row`.
    pub fn lead(&self, row: usize) -> LeadEvents<'_> {
        let b = &self.buckets[row >> BUCKET_BITS];
        let k = row & (BUCKET - 1);
        let (lo, hi) = (b.starts[k] as usize, b.starts[k + 1] as usize);
        LeadEvents {
            times: &b.times[lo..hi],
            kinds: &b.kinds[lo..hi],
            tags: &self.tags,
        }
    }

    /// How many leads the placement is indexed by.
    pub fn leads(&self) -> usize {
        self.leads
    }

    /// How many events are placed.
    pub fn len(&self) -> usize {
        self.buckets.iter().map(|b| b.times.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events already placed by lead (each lead's `(time, tag)` pairs in any order).
    #[cfg(test)]
    pub fn from_pairs(per_lead: Vec<Vec<(i64, u64)>>) -> Option<Self> {
        let mut p = Placer::new(per_lead.len(), per_lead.iter().map(Vec::len).sum());
        for (row, events) in per_lead.into_iter().enumerate() {
            for (t, g) in events {
                p.push(row as u32, t, g).ok()?;
            }
        }
        Some(p.finish())
    }
}

/// The cache's form of a placement (see `cache`): counts as `u64`, then each bucket's arrays,
/// in the machine's byte order (the cache records the order and refuses another).
impl PlacedEvents {
    pub(super) fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        let n = |w: &mut dyn Write, v: usize| w.write_all(&(v as u64).to_ne_bytes());
        n(w, self.leads)?;
        n(w, self.tags.len())?;
        w.write_all(bytemuck::cast_slice(&self.tags))?;
        n(w, self.buckets.len())?;
        for b in &self.buckets {
            n(w, b.times.len())?;
            w.write_all(bytemuck::cast_slice(&b.times))?;
            w.write_all(bytemuck::cast_slice(&b.kinds))?;
            w.write_all(bytemuck::cast_slice(&b.starts))?;
        }
        Ok(())
    }

    /// Read what [`Self::write_to`] wrote, at most `budget` bytes of it. Every count is checked
    /// against the budget before memory is taken for it, and every index against what it
    /// indexes, so a damaged file is an error, never a panic or a wrong lookup.
    pub(super) fn read_from(r: &mut impl Read, budget: u64) -> io::Result<Self> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        let mut left = budget;
        let mut take = |bytes: u64| -> io::Result<()> {
            left = left
                .checked_sub(bytes)
                .ok_or_else(|| bad("counts beyond the file"))?;
            Ok(())
        };
        fn array<T: bytemuck::Pod + Default + Clone>(
            r: &mut impl Read,
            n: usize,
        ) -> io::Result<Vec<T>> {
            let mut v = vec![T::default(); n];
            r.read_exact(bytemuck::cast_slice_mut(&mut v))?;
            Ok(v)
        }
        let count = |r: &mut dyn Read, take: &mut dyn FnMut(u64) -> io::Result<()>| {
            take(8)?;
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            usize::try_from(u64::from_ne_bytes(b)).map_err(|_| bad("a count beyond memory"))
        };
        let leads = count(r, &mut take)?;
        let n_tags = count(r, &mut take)?;
        take((n_tags as u64).saturating_mul(8))?;
        if n_tags > u16::MAX as usize + 1 {
            return Err(bad("more tags than an index holds"));
        }
        let tags: Vec<u64> = array(r, n_tags)?;
        let n_buckets = count(r, &mut take)?;
        if n_buckets != leads.div_ceil(BUCKET).max(1) {
            return Err(bad("bucket count does not fit the leads"));
        }
        // Not reserved from the count: each bucket's bytes are taken from the budget first.
        let mut buckets = Vec::new();
        for b in 0..n_buckets {
            let width = (leads - (b * BUCKET).min(leads)).min(BUCKET);
            let n = count(r, &mut take)?;
            take(
                (n as u64)
                    .saturating_mul(10)
                    .saturating_add((width as u64 + 1) * 4),
            )?;
            let times: Vec<i64> = array(r, n)?;
            let kinds: Vec<u16> = array(r, n)?;
            let starts: Vec<u32> = array(r, width + 1)?;
            let ordered = starts.first() == Some(&0)
                && starts.last().map(|&s| s as usize) == Some(n)
                && starts.windows(2).all(|w| w[0] <= w[1]);
            if !ordered || kinds.iter().any(|&k| k as usize >= n_tags) {
                return Err(bad("a bucket's index does not fit its events"));
            }
            buckets.push(Bucket {
                times,
                kinds,
                lead: Vec::new(),
                starts,
            });
        }
        if left != 0 {
            return Err(bad("bytes after the placement"));
        }
        Ok(PlacedEvents {
            leads,
            tags,
            buckets,
        })
    }
}

/// More distinct tags than an event's 16-bit index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyTags;

/// Collects `(lead row, time, tag)` triples while the events stream by; [`Placer::finish`]
/// places them.
pub struct Placer {
    leads: usize,
    tags: Vec<u64>,
    index: HashMap<u64, u16, foldhash::fast::FixedState>,
    /// The last tag seen and its index (events come in runs of few tags).
    last: Option<(u64, u16)>,
    buckets: Vec<Bucket>,
}

impl Placer {
    /// For `leads` leads and about `expected` events in all: each bucket reserves its share
    /// (address space only; a page counts once it is written), so that growing does not copy.
    pub fn new(leads: usize, expected: usize) -> Self {
        let n = leads.div_ceil(BUCKET).max(1);
        let share = expected / n + expected / n / 4 + 64;
        Placer {
            leads,
            tags: Vec::new(),
            index: HashMap::default(),
            last: None,
            buckets: (0..n)
                .map(|_| Bucket {
                    times: Vec::with_capacity(share),
                    kinds: Vec::with_capacity(share),
                    lead: Vec::with_capacity(share),
                    starts: Vec::new(),
                })
                .collect(),
        }
    }

    fn kind(&mut self, tag: u64) -> Result<u16, TooManyTags> {
        if let Some((t, k)) = self.last
            && t == tag
        {
            return Ok(k);
        }
        let k = match self.index.get(&tag) {
            Some(&k) => k,
            None => {
                let k = u16::try_from(self.tags.len()).map_err(|_| TooManyTags)?;
                self.tags.push(tag);
                self.index.insert(tag, k);
                k
            }
        };
        self.last = Some((tag, k));
        Ok(k)
    }

    /// Keep one event of lead row `row` (< the number of leads).
    #[inline]
    pub fn push(&mut self, row: u32, time: i64, tag: u64) -> Result<(), TooManyTags> {
        let kind = self.kind(tag)?;
        let b = &mut self.buckets[(row >> BUCKET_BITS) as usize];
        b.times.push(time);
        b.kinds.push(kind);
        b.lead.push((row as usize & (BUCKET - 1)) as u16);
        Ok(())
    }

    /// Place every kept event: inside each bucket (buckets in parallel), a counting sort by
    /// lead done in place, then each lead's few events sorted by time and tag.
    pub fn finish(self) -> PlacedEvents {
        self.finish_counted(&crate::progress::Counter::none())
    }

    /// The events taken so far (what [`Placer::finish`] places).
    pub fn events(&self) -> u64 {
        self.buckets.iter().map(|b| b.lead.len() as u64).sum()
    }

    /// [`Placer::finish`], counting the events placed in `done` (per bucket).
    pub fn finish_counted(self, done: &crate::progress::Counter) -> PlacedEvents {
        let Placer {
            leads,
            tags,
            mut buckets,
            ..
        } = self;
        buckets.par_iter_mut().enumerate().for_each(|(b, bucket)| {
            let width = (leads - (b * BUCKET).min(leads)).min(BUCKET);
            let events = bucket.lead.len() as u64;
            place_bucket(bucket, width, &tags);
            done.add(events);
        });
        PlacedEvents {
            leads,
            tags,
            buckets,
        }
    }
}

/// Sort one bucket's events by lead where they stand (each event moved to its lead's part by
/// following cycles), then each lead's part by time and tag.
fn place_bucket(b: &mut Bucket, width: usize, tags: &[u64]) {
    let mut starts = vec![0u32; width + 1];
    for &l in &b.lead {
        starts[l as usize + 1] += 1;
    }
    for k in 0..width {
        starts[k + 1] += starts[k];
    }
    // next[k]: the first place of lead k's part not yet holding one of its events.
    let mut next: Vec<u32> = starts[..width].to_vec();
    for k in 0..width {
        let end = starts[k + 1];
        while next[k] < end {
            let i = next[k] as usize;
            let owner = b.lead[i] as usize;
            if owner == k {
                next[k] += 1;
            } else {
                // Send this event to its lead's next free place, and take what stood there.
                let j = next[owner] as usize;
                next[owner] += 1;
                b.times.swap(i, j);
                b.kinds.swap(i, j);
                b.lead.swap(i, j);
            }
        }
    }
    let mut pairs: Vec<(i64, u64, u16)> = Vec::new();
    for w in starts.windows(2) {
        let (lo, hi) = (w[0] as usize, w[1] as usize);
        if hi - lo < 2 {
            continue;
        }
        pairs.clear();
        pairs.extend(
            b.times[lo..hi]
                .iter()
                .zip(&b.kinds[lo..hi])
                .map(|(&t, &k)| (t, tags[k as usize], k)),
        );
        pairs.sort_unstable();
        for (i, &(t, _, k)) in pairs.iter().enumerate() {
            b.times[lo + i] = t;
            b.kinds[lo + i] = k;
        }
    }
    b.lead = Vec::new();
    b.starts = starts;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_does_not_depend_on_arrival_order() {
        // 9,000 leads over three buckets, events of every lead in a scrambled order, ties.
        let leads = 9_000usize;
        let mut triples = Vec::new();
        for k in 0..60_000u64 {
            let row = ((k * 7_919) % leads as u64) as u32;
            triples.push((row, ((k * 104_729) % 50) as i64, 1u64 << (k % 5)));
        }
        let place = |order: &mut dyn Iterator<Item = &(u32, i64, u64)>, expected| {
            let mut p = Placer::new(leads, expected);
            for &(r, t, g) in order {
                p.push(r, t, g).unwrap();
            }
            p.finish()
        };
        let a = place(&mut triples.iter(), triples.len());
        // Too small an estimate only costs growing; tags seen in another order get other
        // indices, but each lead reads the same pairs.
        let b = place(&mut triples.iter().rev(), 10);
        assert_eq!(a.len(), triples.len());
        assert_eq!(a.leads(), leads);
        for row in 0..leads {
            let mut want: Vec<(i64, u64)> = triples
                .iter()
                .filter(|x| x.0 as usize == row)
                .map(|x| (x.1, x.2))
                .collect();
            want.sort_unstable();
            let got: Vec<(i64, u64)> = a.lead(row).iter().collect();
            assert_eq!(got, want, "lead {row}");
            assert_eq!(b.lead(row).iter().collect::<Vec<_>>(), want, "lead {row}");
        }
        let empty = Placer::new(0, 0).finish();
        assert_eq!((empty.leads(), empty.len()), (0, 0));
    }

    #[test]
    fn a_placement_reads_back_equal_from_its_bytes() {
        let p = PlacedEvents::from_pairs(
            (0..9_000u64)
                .map(|k| {
                    (0..k % 4)
                        .map(|e| ((k * 31 + e) as i64, 1 << (e % 3)))
                        .collect()
                })
                .collect(),
        )
        .unwrap();
        let mut bytes = Vec::new();
        p.write_to(&mut bytes).unwrap();
        let back = PlacedEvents::read_from(&mut &bytes[..], bytes.len() as u64).unwrap();
        assert_eq!(back, p);
        // A budget that is not the placement's length is refused.
        assert!(PlacedEvents::read_from(&mut &bytes[..], bytes.len() as u64 + 1).is_err());
        assert!(PlacedEvents::read_from(&mut &bytes[..], bytes.len() as u64 - 1).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_read_as_a_placement_are_an_error_or_a_valid_one(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)
        ) {
            if let Ok(p) = PlacedEvents::read_from(&mut &bytes[..], bytes.len() as u64) {
                for row in 0..p.leads() {
                    let _ = p.lead(row).iter().count();
                }
            }
        }
    }

    #[test]
    fn more_tags_than_an_index_holds_are_refused() {
        let mut p = Placer::new(1, 0);
        for tag in 0..=u16::MAX as u64 {
            p.push(0, 0, tag).unwrap();
        }
        assert_eq!(p.push(0, 0, 1 << 40), Err(TooManyTags));
    }
}
