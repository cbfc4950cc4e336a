//! The loaded dataset and its report, and [`load`], which reads the three tables in order:
//! the leads first ([`super::leads`]), then the events and outcomes checked against them.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use polars::prelude::*;

use super::cache::{self, CacheOptions, Key};
use super::codes::AttributeCodes;
use super::events::Tags;
use super::lead_index::LeadIndex;
use super::placed::PlacedEvents;
use super::problem::Invalid;
use super::scan::{Bounds, Shared, counts, scan, time_expr};
use super::spec::{self, DatasetSpec};
use super::table::{Table, TableSpec};
use super::types::{Attribute, LoadReport, TableReport};
use crate::error::{Error, Result};
use crate::timeparse;

/// Bounds outside which a timestamp is taken to be an export error, and where the events pass
/// is kept for the next run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub earliest: NaiveDateTime,
    pub now: NaiveDateTime,
    /// With tags, the events cache ([`super::cache`]); `None`: the events are always read.
    pub cache: Option<CacheOptions>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            earliest: timeparse::parse_bound("1990-01-01").expect("valid"),
            now: chrono::Utc::now().naive_utc(),
            cache: None,
        }
    }
}

/// A loaded dataset. Leads and outcomes are checked frames; events are a lazy scan.
pub struct Dataset {
    pub spec: DatasetSpec,
    /// `lead_id`, `created_at`, optional `account_id`, then the attributes.
    pub leads: DataFrame,
    /// `lead_id`, `stage`, `reached_at` (null only for an outcome column without dates),
    /// optional `amount`; only rows of known leads with valid timestamps.
    pub outcomes: Option<DataFrame>,
    /// Valid events of known leads with a non-zero tag, by row of `leads` (loaded with tags).
    placed: Option<Arc<PlacedEvents>>,
    /// The events table's canonical columns (`None` without an events table).
    event_columns: Option<Schema>,
    events: Option<LazyFrame>,
    /// Events matched in a warehouse, in place of the events table (`--features`).
    pub warehouse: Option<super::warehouse::WarehouseTable>,
    pub attributes: Vec<Attribute>,
    /// The codes of each text and yes/no attribute (in the order of `attributes`).
    codes: Vec<Option<AttributeCodes>>,
    /// Latest valid timestamp in any table.
    pub data_end: Option<NaiveDateTime>,
    pub report: LoadReport,
    /// SHA-256 of input files already known (the events file's, from the cache): provenance
    /// does not read them again.
    hashed: Vec<(std::path::PathBuf, String)>,
    /// The events cache's file being written beside the run: joined when the dataset is
    /// dropped, so that the process never ends halfway through it.
    storing: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Dataset {
    fn drop(&mut self) {
        if let Some(h) = self.storing.take() {
            let _ = h.join();
        }
    }
}

impl Dataset {
    /// The SHA-256 of `path` when the load already knows it.
    pub fn known_sha256(&self, path: &Path) -> Option<&str> {
        self.hashed
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, h)| h.as_str())
    }

    /// Read the behaviour from a warehouse table (`leadcal sql --with-events`) instead of the
    /// events table: the raw events, if the dataset has them, are not used.
    pub fn with_warehouse(mut self, path: &Path, fingerprint: &str) -> Result<Self> {
        let int_ids = self
            .leads
            .column("lead_id")
            .is_ok_and(|c| c.dtype().is_integer());
        let w = super::warehouse::load(path, fingerprint, int_ids)?;
        self.placed = None;
        self.events = None;
        let end = w.last_event.and_then(timeparse::from_micros);
        if let Some(b) = end
            && self.data_end.is_none_or(|a| b > a)
        {
            self.data_end = Some(b);
            self.report.data_end_set_by = Some(format!(
                "{}, its latest event",
                path.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string())
            ));
        }
        self.report.tables.retain(|t| t.table != Table::Events);
        self.report.tables.push(TableReport {
            table: Table::Events,
            file: w.path.display().to_string(),
            format: "warehouse",
            rows: w.events,
            rows_used: w.events,
            first: None,
            last: w.last_event.map(timeparse::display_micros),
        });
        self.warehouse = Some(w);
        Ok(self)
    }

    /// The events placed per lead (row of `leads`) under the tags given to [`load`]: `None`
    /// without an events table, without tags, or with a warehouse table in their place.
    pub fn placed(&self) -> Option<&Arc<PlacedEvents>> {
        self.placed.as_ref()
    }

    /// The valid events with canonical names, as a lazy scan of the file: collecting it reads
    /// the file again (the analysis reads [`Self::placed`]); for inspection and tests. Events of
    /// unknown leads are in it.
    pub fn events(&self) -> Option<LazyFrame> {
        self.events.clone()
    }

    /// Attribute `name`'s values as codes per lead row, for a text or yes/no attribute.
    pub fn codes(&self, name: &str) -> Option<&AttributeCodes> {
        self.attributes
            .iter()
            .position(|a| a.name == name)
            .and_then(|k| self.codes.get(k)?.as_ref())
    }

    /// Leave the attributes `names` out of every later stage (segments, accounts, the report's
    /// profile): the leak guard's finding. The leads table keeps the columns, so a live model
    /// that scores on one still replays as it does in the CRM.
    pub fn leave_out(&mut self, names: &[&str]) {
        let mut k = 0;
        while k < self.attributes.len() {
            if names.contains(&self.attributes[k].name.as_str()) {
                self.attributes.remove(k);
                if k < self.codes.len() {
                    self.codes.remove(k);
                }
            } else {
                k += 1;
            }
        }
    }

    /// The events table's canonical columns (`lead_id`, `occurred_at`, `event_type` and
    /// whichever of `topic`, `asset_id`, `channel`, `value` it has), with their types.
    pub fn event_columns(&self) -> Option<&Schema> {
        self.event_columns.as_ref()
    }

    /// Fail with every error found, or return the dataset.
    pub fn require_valid(mut self) -> Result<Self> {
        if self.report.has_errors() {
            Err(Invalid(std::mem::take(&mut self.report.problems)).into())
        } else {
            Ok(self)
        }
    }
}

/// Load and check a dataset. Problems are collected in the report; use
/// [`Dataset::require_valid`] before analysis. Only failures that leave nothing to check
/// (an unreadable path or spec, an unusable leads table) are returned as `Err`.
///
/// With `tags`, the events read for the checks are also placed per lead: every valid event of
/// a known lead whose tag is not 0 ([`Dataset::placed`]). Without, they are only checked.
pub fn load(path: &Path, opts: &LoadOptions, tags: Option<Tags>) -> Result<Dataset> {
    let _t = crate::timing::Stage::start("load (all tables)");
    let spec = spec::resolve(path)?;
    let mut problems = Vec::new();
    let mut report = LoadReport::default();
    let bounds = Bounds {
        lo: timeparse::to_micros(opts.earliest),
        hi: timeparse::to_micros(opts.now),
        range_text: format!(
            "{} to {}",
            timeparse::display(opts.earliest),
            opts.now.format("%Y-%m-%d")
        ),
    };
    // The events file and this program are hashed for the cache's key while the leads load.
    let hashing = match (&opts.cache, &spec.events, tags) {
        (Some(_), Some(es), Some(_)) => {
            let path = es.path.clone();
            Some(std::thread::spawn(move || {
                Some((cache::Watched::take(&path)?, cache::build_id()?))
            }))
        }
        _ => None,
    };
    let key = spec.events.as_ref().and_then(|e| e.lead_key.as_deref());
    let mut leads = super::leads::load(&spec.leads, key, &bounds, &mut problems)?;
    report.tables.push(leads.report.clone());
    if let Some(a) = &spec.accounts {
        let r = super::accounts::attach(a, &mut leads, &mut problems)?;
        report.tables.push(r);
    }
    // The data end is the latest valid time of every date the mapping reads: creation, stage
    // dates and a lone conversion date in the leads table, events, outcomes. Which one set it
    // is said, since a wrong end silently changes which leads are mature.
    let mut end = End::default();
    end.consider(leads.last, &spec.leads, spec.leads.user_name("created_at"));
    if let Some(o) = &leads.outcomes {
        for (stage, at) in latest_per_stage(o)? {
            let column = spec
                .leads
                .stage_dates
                .iter()
                .find(|(s, _)| *s == stage)
                .map(|(_, c)| c.as_str())
                .or(spec.leads.pipeline.as_ref().map(|p| p.stage_date.as_str()))
                .unwrap_or_else(|| spec.leads.user_name("converted_at"));
            end.consider(Some(at), &spec.leads, column);
        }
    }
    // The keys' frame comes in no fixed order (a join by key never depends on it): sorted for
    // the key, so the same leads give the same key.
    let keys_sorted = match (&hashing, &leads.keys) {
        (Some(_), Some(k)) => Some(
            k.sort(["__key", "__keyed_id"], Default::default())
                .map_err(Error::polars("the events cache's key"))?,
        ),
        _ => None,
    };
    let lead_rows = match hashing {
        Some(_) => Some(cache::frame_hash(
            std::iter::once((&leads.leads, ["lead_id", "created_at"]))
                .chain(keys_sorted.as_ref().map(|k| (k, ["__key", "__keyed_id"]))),
        )?),
        None => None,
    };
    let known = leads
        .leads
        .clone()
        .lazy()
        .select([col("lead_id"), col("created_at").alias("__created")])
        .unique(Some(cols(["lead_id"])), UniqueKeepStrategy::Any);
    let shared = Shared {
        int_ids: leads.int_ids,
        known,
        keys: leads.keys.map(DataFrame::lazy),
        bounds,
        index: Arc::new(LeadIndex::new(&leads.leads)?),
    };
    let (mut placed, mut event_columns, mut events) = (None, None, None);
    let mut hashed = Vec::new();
    let mut storing = None;
    let _s = crate::timing::Stage::start("load events: scan and time form");
    if let Some(es) = &spec.events
        && let Some((lf, schema)) = scan(es, &mut problems)?
        && let Some(ts) = time_expr(es, &schema, &lf, "occurred_at", &mut problems)
    {
        drop(_s);
        let _t = crate::timing::Stage::start("load events (checked and placed)");
        let cache_key = match (hashing, lead_rows, tags) {
            (Some(h), Some(lead_rows), Some(tags)) => {
                h.join().ok().flatten().map(|(events, build)| {
                    let key = cache_key(es, events.digest, build, lead_rows, &shared, tags);
                    (key, events)
                })
            }
            _ => None,
        };
        let ev = super::events::load(
            es,
            lf,
            &schema,
            ts,
            &shared,
            tags,
            opts.cache
                .as_ref()
                .zip(cache_key.as_ref())
                .map(|(o, (k, w))| (o, k, w)),
            &mut problems,
            &mut report,
        )?;
        end.consider(ev.last, es, es.user_name("occurred_at"));
        placed = ev.placed;
        storing = ev.storing;
        if let Some(sha) = ev.sha256 {
            hashed.push((es.shown.clone(), sha));
        }
        event_columns = Some(ev.columns);
        events = Some(ev.scan);
    }
    let _o = crate::timing::Stage::start("load outcomes");
    let step = crate::progress::Step::parts("reading and checking the outcomes", 3);
    let mut outcomes = leads.outcomes;
    if let Some(os) = &spec.outcomes
        && let Some((lf, schema)) = scan(os, &mut problems)?
        && let Some(ts) = time_expr(os, &schema, &lf, "reached_at", &mut problems)
    {
        let (valid, last) = super::outcomes::load(
            os,
            lf,
            &schema,
            ts,
            &shared,
            &mut problems,
            &mut report,
            &step,
        )?;
        end.consider(last, os, os.user_name("reached_at"));
        outcomes = Some(valid);
    }
    if let Some(o) = &outcomes {
        step.part("counting the stages reached");
        let agg = o
            .clone()
            .lazy()
            .group_by([col("stage")])
            .agg([len().alias("n")])
            .collect()
            .map_err(Error::polars("counting stages"))?;
        report.stages = counts(&agg, "stage", "n")?;
    }
    drop(_o);
    report.problems = problems;
    report.data_end_set_by = end.set_by;
    let data_end = end.at;
    let codes = {
        let _t = crate::timing::Stage::start("load: attribute codes");
        super::codes::attribute_codes(&leads.leads, &leads.attributes)?
    };
    Ok(Dataset {
        spec,
        leads: leads.leads,
        outcomes,
        placed,
        event_columns,
        events,
        warehouse: None,
        codes,
        attributes: leads.attributes,
        data_end: data_end.and_then(timeparse::from_micros),
        report,
        hashed,
        storing,
    })
}

/// The events cache's key: the events file's content and mapping, every lead id and creation
/// time the pass checks events against (in the order that gives each lead its row), the
/// earliest valid time, the caller's tags and this program.
fn cache_key(
    es: &TableSpec,
    events: [u8; 16],
    build: [u8; 16],
    lead_rows: [u8; 32],
    shared: &Shared,
    tags: Tags,
) -> Key {
    let mut mapping = es.clone();
    mapping.path = Default::default();
    mapping.decoded = None;
    let mapping = format!("{mapping:?}");
    let flags = [u8::from(shared.int_ids)];
    let lo = shared.bounds.lo.to_le_bytes();
    let tags = tags.key();
    Key::new(
        &[
            &events,
            mapping.as_bytes(),
            &lead_rows,
            &flags,
            &lo,
            tags.as_bytes(),
        ],
        build,
    )
}

/// The latest time seen so far and the table and column it came from.
#[derive(Default)]
struct End {
    at: Option<i64>,
    set_by: Option<String>,
}

impl End {
    /// Take `t` when it is later than every time before it (the first of equal times stays).
    fn consider(&mut self, t: Option<i64>, table: &TableSpec, column: &str) {
        if let Some(t) = t
            && self.at.is_none_or(|a| t > a)
        {
            self.at = Some(t);
            let file = table
                .shown
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| table.display());
            self.set_by = Some(format!("{file}, column `{column}`"));
        }
    }
}

/// Each stage's latest `reached_at` (µs) of an outcomes frame, by stage name.
fn latest_per_stage(o: &DataFrame) -> Result<Vec<(String, i64)>> {
    let agg = o
        .clone()
        .lazy()
        .group_by_stable([col("stage")])
        .agg([col("reached_at").cast(DataType::Int64).max().alias("at")])
        .collect()
        .map_err(Error::polars("the latest stage dates"))?;
    let stages = agg.column("stage").and_then(|c| c.str().cloned());
    let at = agg.column("at").and_then(|c| c.i64().cloned());
    let (Ok(stages), Ok(at)) = (stages, at) else {
        return Ok(vec![]);
    };
    Ok(stages
        .iter()
        .zip(at.iter())
        .filter_map(|(s, t)| Some((s?.to_string(), t?)))
        .collect())
}
