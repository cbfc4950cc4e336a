//! The synthetic demo world: a seeded B2B lead database with a documented ground truth
//! (see `notebooks-data/README.md`).
//!
//! Output: `leads`, `events`, `outcomes` (CSV or Parquet) and the demo company's live scoring
//! model `scoring.toml`. Guarantees: the same seed and size give byte-identical files,
//! whatever the number of threads (each chunk of leads has its own random stream); memory stays
//! bounded because chunks are written as they are made.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal, Poisson, StandardNormal};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Output format of the demo tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoFormat {
    Csv,
    Parquet,
}

/// How lead ids are written: CRM ids are often text (Salesforce's 18-character ids, UUIDs,
/// HubSpot numbers exported as text), and leadcal must be as fast on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoIds {
    /// 1, 2, 3, ...
    Int,
    /// `L0000001`, `L0000002`, ... (the same leads, written as text)
    Text,
}

/// Whether the world changes over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoDrift {
    /// The documented ground truth: e-mail opens 2.5x as frequent from 2024-07, and from
    /// 2024-10 the webinar platform records every registrant as attended.
    Webinar,
    /// Neither change: every rule keeps its effect throughout (a world to check that nothing
    /// is found where nothing changed).
    None,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoParams {
    pub leads: u64,
    pub seed: u64,
    pub format: DemoFormat,
    pub ids: DemoIds,
    pub drift: DemoDrift,
    /// Mean events per lead.
    pub events_per_lead: f64,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    pub leads: u64,
    pub events: u64,
    pub outcomes: u64,
    pub files: Vec<PathBuf>,
}

use crate::units::DAY_US as DAY;
const CHUNK: u64 = 20_000;

fn micros(y: i32, m: u32, d: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d)
        .expect("valid")
        .and_hms_opt(0, 0, 0)
        .expect("valid")
        .and_utc()
        .timestamp_micros()
}

/// First lead creation, last lead creation, the behaviour change and the end of the data.
pub fn world_dates() -> (i64, i64, i64, i64) {
    (
        micros(2023, 1, 1),
        micros(2025, 10, 1),
        micros(2024, 7, 1),
        micros(2026, 1, 1),
    )
}

/// The planted drift: from this date on, the webinar platform records every registrant as
/// attended, so `webinar_attended` stops saying anything about intent (for leads created then).
pub fn webinar_change() -> i64 {
    micros(2024, 10, 1)
}
/// Webinars attended in the first 25 days, by whether the lead will buy: before the change
/// buyers attend far more; after it every lead is recorded at the same rate.
const WEBINARS_BUYER: f64 = 1.2;
const WEBINARS_OTHER: f64 = 0.1;
const WEBINARS_AFTER: f64 = 0.2;

const REGIONS: [(&str, &[&str], f64); 6] = [
    ("DACH", &["DE", "AT", "CH"], 0.30),
    ("UKI", &["GB", "IE"], 0.15),
    ("BENELUX", &["NL", "BE", "LU"], 0.10),
    ("NORDICS", &["SE", "DK", "NO", "FI"], 0.10),
    ("NA", &["US", "CA"], 0.20),
    ("APAC", &["SG", "AU", "JP", "IN"], 0.15),
];
// (industry, share, effect on log-odds)
const INDUSTRIES: [(&str, f64, f64); 8] = [
    ("Software", 0.18, 0.6),
    ("Financial Services", 0.12, 0.4),
    ("Manufacturing", 0.20, 0.3),
    ("Healthcare", 0.10, 0.1),
    ("Logistics", 0.10, 0.0),
    ("Retail", 0.12, -0.2),
    ("Public Sector", 0.08, -0.5),
    ("Education", 0.10, -0.6),
];
const JOB_LEVELS: [(&str, f64, f64); 6] = [
    ("C-Level", 0.06, 0.4),
    ("VP", 0.08, 0.6),
    ("Director", 0.16, 0.5),
    ("Manager", 0.30, 0.2),
    ("Individual Contributor", 0.32, -0.3),
    ("Student", 0.08, -3.0),
];
const ROLES: [(&str, f64, f64); 4] = [
    ("Decision Maker", 0.20, 0.6),
    ("Influencer", 0.30, 0.2),
    ("User", 0.35, -0.1),
    ("Unknown", 0.15, -0.2),
];
const SOURCES: [(&str, f64, f64); 6] = [
    ("Organic Search", 0.25, 0.0),
    ("Paid Social", 0.15, -0.3),
    ("Webinar", 0.15, 0.1),
    ("Trade Show", 0.10, 0.3),
    ("Referral", 0.10, 0.6),
    ("Content Syndication", 0.25, -0.2),
];
const TOPICS: [&str; 4] = ["analytics", "automation", "security", "integration"];
const EVENT_TYPES: [&str; 10] = [
    "email_open",
    "email_click",
    "blog_view",
    "download",
    "webinar_attended",
    "pricing_page_view",
    "demo_request",
    "careers_page_view",
    "offer_ignored",
    "email_unsubscribe",
];
// (base weight, effect of intent on the log weight)
const EVENT_MIX: [(f64, f64); 10] = [
    (0.40, 0.0),
    (0.08, 0.4),
    (0.15, 0.0),
    (0.08, 0.3),
    (0.03, 0.3),
    (0.03, 0.9),
    (0.004, 1.3),
    (0.02, -0.6),
    (0.05, 0.0),
    (0.003, -0.8),
];

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T], share: impl Fn(&T) -> f64) -> &'a T {
    let total: f64 = items.iter().map(&share).sum();
    let mut u = rng.random::<f64>() * total;
    for it in items {
        u -= share(it);
        if u <= 0.0 {
            return it;
        }
    }
    items.last().expect("non-empty")
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One chunk of the world as column vectors.
#[derive(Default)]
struct Chunk {
    l_id: Vec<i64>,
    l_created: Vec<i64>,
    l_account: Vec<String>,
    l_region: Vec<&'static str>,
    l_country: Vec<&'static str>,
    l_industry: Vec<&'static str>,
    l_size: Vec<i64>,
    l_job: Vec<&'static str>,
    l_role: Vec<&'static str>,
    l_source: Vec<&'static str>,
    l_email: Vec<&'static str>,
    l_budget: Vec<Option<bool>>,
    e_id: Vec<i64>,
    e_at: Vec<i64>,
    e_type: Vec<&'static str>,
    e_topic: Vec<Option<&'static str>>,
    e_asset: Vec<Option<String>>,
    e_channel: Vec<&'static str>,
    e_value: Vec<Option<f64>>,
    o_id: Vec<i64>,
    o_stage: Vec<&'static str>,
    o_at: Vec<i64>,
    o_amount: Vec<Option<f64>>,
}

fn make_chunk(p: &DemoParams, index: u64) -> Chunk {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    rng.set_stream(index);
    let (start, last, change, end) = world_dates();
    let first = index * CHUNK;
    let n = CHUNK.min(p.leads - first);
    let mut c = Chunk::default();
    let size_dist = LogNormal::new(5.0, 1.5).expect("valid");
    let engage = Gamma::new(2.0, 0.5).expect("valid");
    let event_gap = Exp::new(1.0 / 75.0).expect("valid");
    let win_delay = Gamma::new(2.0, 45.0).expect("valid");
    let sql_delay = Gamma::new(2.0, 25.0).expect("valid");
    let secs = LogNormal::new(3.5, 1.0).expect("valid");
    let mut i = 0;
    while i < n {
        // An account and its leads share region, industry and size.
        let k = (1 + (rng.random::<f64>().ln() / 0.55f64.ln()) as u64)
            .min(6)
            .min(n - i);
        let (region, countries, _) = *pick(&mut rng, &REGIONS, |r| r.2);
        let country = countries[rng.random_range(0..countries.len())];
        let &(industry, _, ind_eff) = pick(&mut rng, &INDUSTRIES, |r| r.1);
        let size = (size_dist.sample(&mut rng) as i64).clamp(1, 250_000);
        let account = format!("A{:08}", first + i + 1);
        for _ in 0..k {
            let id = (first + i + 1) as i64;
            i += 1;
            let created = start + (rng.random::<f64>() * (last - start) as f64) as i64;
            let &(job, _, job_eff) = pick(&mut rng, &JOB_LEVELS, |r| r.1);
            let &(role, _, role_eff) = pick(&mut rng, &ROLES, |r| r.1);
            let &(source, _, src_eff) = pick(&mut rng, &SOURCES, |r| r.1);
            let freemail = rng.random::<f64>() < 0.25;
            let budget = match rng.random::<f64>() {
                u if u < 0.6 => None,
                u => Some(u < 0.75),
            };
            let size_eff = match size {
                0..=9 => -0.6,
                10..=49 => -0.1,
                50..=999 => 0.4,
                1000..=9999 => 0.2,
                _ => -0.1,
            };
            let fit = ind_eff
                + job_eff
                + role_eff
                + src_eff
                + size_eff
                + if freemail { -0.1 } else { 0.0 }
                + if budget == Some(true) { 0.5 } else { 0.0 };
            let mut intent: f64 = StandardNormal.sample(&mut rng);
            let mut activity = engage.sample(&mut rng);
            // The trap: APAC leads from content syndication engage heavily and rarely buy.
            if region == "APAC" && source == "Content Syndication" {
                activity *= 3.0;
                intent -= 2.5;
            }
            let converts = rng.random::<f64>() < sigmoid(-3.3 + fit + 1.2 * intent);
            c.l_id.push(id);
            c.l_created.push(created);
            c.l_account.push(account.clone());
            c.l_region.push(region);
            c.l_country.push(country);
            c.l_industry.push(industry);
            c.l_size.push(size);
            c.l_job.push(job);
            c.l_role.push(role);
            c.l_source.push(source);
            c.l_email
                .push(if freemail { "freemail" } else { "corporate" });
            c.l_budget.push(budget);
            // Events.
            let after_change = p.drift == DemoDrift::Webinar && created >= change;
            let weights: Vec<f64> = EVENT_MIX
                .iter()
                .enumerate()
                .map(|(t, &(w, b))| {
                    let w = if t == 0 && after_change { w * 2.5 } else { w };
                    w * (b * intent).exp()
                })
                .collect();
            let total_w: f64 = weights.iter().sum();
            let n_events = Poisson::new((p.events_per_lead * activity).max(1e-9))
                .expect("valid")
                .sample(&mut rng) as u64;
            for _ in 0..n_events {
                let at = created + (event_gap.sample(&mut rng) * DAY as f64) as i64;
                let mut u = rng.random::<f64>() * total_w;
                let mut t = 0;
                while t < 9 && u > weights[t] {
                    u -= weights[t];
                    t += 1;
                }
                if at >= end {
                    continue;
                }
                let topic = TOPICS[rng.random_range(0..TOPICS.len())];
                let (ch, tp, asset, value) = match t {
                    0 | 1 | 9 => ("email", Some(topic), None, None),
                    2 => (
                        "web",
                        Some(topic),
                        None,
                        Some(f64::round(secs.sample(&mut rng))),
                    ),
                    3 => (
                        "web",
                        Some(topic),
                        Some(if rng.random::<f64>() < 0.3 {
                            format!("cs-{topic}")
                        } else {
                            format!("wp-{topic}-{}", rng.random_range(1..4))
                        }),
                        None,
                    ),
                    4 => ("event", Some(topic), Some(format!("webinar-{topic}")), None),
                    5 | 7 => ("web", None, None, Some(f64::round(secs.sample(&mut rng)))),
                    6 => ("web", None, None, None),
                    _ => (
                        if rng.random::<f64>() < 0.5 {
                            "email"
                        } else {
                            "social"
                        },
                        Some(topic),
                        None,
                        None,
                    ),
                };
                c.e_id.push(id);
                c.e_at.push(at);
                c.e_type.push(EVENT_TYPES[t]);
                c.e_topic.push(tp);
                c.e_asset.push(asset);
                c.e_channel.push(ch);
                c.e_value.push(value);
            }
            // The planted drift: webinars early in the lead's life, by the platform of the day.
            let drifted = p.drift == DemoDrift::Webinar && created >= webinar_change();
            let rate = match (drifted, converts) {
                (true, _) => WEBINARS_AFTER,
                (false, true) => WEBINARS_BUYER,
                (false, false) => WEBINARS_OTHER,
            };
            for _ in 0..Poisson::new(rate).expect("valid").sample(&mut rng) as u64 {
                let at = created + (rng.random_range(0.0..25.0) * DAY as f64) as i64;
                let topic = TOPICS[rng.random_range(0..TOPICS.len())];
                if at < end {
                    c.e_id.push(id);
                    c.e_at.push(at);
                    c.e_type.push(EVENT_TYPES[4]);
                    c.e_topic.push(Some(topic));
                    c.e_asset.push(Some(format!("webinar-{topic}")));
                    c.e_channel.push("event");
                    c.e_value.push(None);
                }
            }
            // Outcomes.
            let mut push_o = |stage, at: i64, amount| {
                if at < end {
                    c.o_id.push(id);
                    c.o_stage.push(stage);
                    c.o_at.push(at);
                    c.o_amount.push(amount);
                }
            };
            if converts {
                let won = created + ((win_delay.sample(&mut rng) + 3.0) * DAY as f64) as i64;
                let sql =
                    (won - (rng.random_range(10.0..40.0) * DAY as f64) as i64).max(created + DAY);
                push_o("sql", sql, None);
                let amount =
                    (8_000.0 * (size as f64).powf(0.25) * (0.5 + rng.random::<f64>())).round();
                push_o("won", won, Some(amount));
            } else if rng.random::<f64>()
                < sigmoid(-1.8 + 0.5 * fit + 0.6 * intent + 0.4 * activity)
            {
                let sql = created + ((sql_delay.sample(&mut rng) + 2.0) * DAY as f64) as i64;
                push_o("sql", sql, None);
                if rng.random::<f64>() < 0.7 {
                    push_o(
                        "lost",
                        sql + (rng.random_range(20.0..120.0) * DAY as f64) as i64,
                        None,
                    );
                }
            }
        }
    }
    c
}

/// Whole seconds, so that CSV (written to the second) and Parquet hold the same values.
fn ts(name: &str, mut v: Vec<i64>) -> PolarsResult<Column> {
    v.iter_mut().for_each(|t| *t -= t.rem_euclid(1_000_000));
    Ok(Int64Chunked::from_vec(name.into(), v)
        .into_datetime(TimeUnit::Microseconds, None)
        .into_series()
        .into())
}

/// A lead id column in the chosen form; the same random draws make the same world either way.
fn ids(ids: DemoIds, v: Vec<i64>) -> Column {
    match ids {
        DemoIds::Int => Column::new("lead_id".into(), v),
        DemoIds::Text => Column::new(
            "lead_id".into(),
            v.iter()
                .map(|i| format!("L{i:07}"))
                .collect::<Vec<String>>(),
        ),
    }
}

impl Chunk {
    fn frames(self, id_form: DemoIds) -> PolarsResult<[DataFrame; 3]> {
        let leads = DataFrame::new_infer_height(vec![
            ids(id_form, self.l_id),
            ts("created_at", self.l_created)?,
            Column::new("account_id".into(), self.l_account),
            Column::new("region".into(), self.l_region),
            Column::new("country".into(), self.l_country),
            Column::new("industry".into(), self.l_industry),
            Column::new("company_size".into(), self.l_size),
            Column::new("job_level".into(), self.l_job),
            Column::new("role".into(), self.l_role),
            Column::new("source".into(), self.l_source),
            Column::new("email_type".into(), self.l_email),
            Column::new("budget_confirmed".into(), self.l_budget),
        ])?;
        let events = DataFrame::new_infer_height(vec![
            ids(id_form, self.e_id),
            ts("occurred_at", self.e_at)?,
            Column::new("event_type".into(), self.e_type),
            Column::new("topic".into(), self.e_topic),
            Column::new("asset_id".into(), self.e_asset),
            Column::new("channel".into(), self.e_channel),
            Column::new("value".into(), self.e_value),
        ])?;
        let outcomes = DataFrame::new_infer_height(vec![
            ids(id_form, self.o_id),
            Column::new("stage".into(), self.o_stage),
            ts("reached_at", self.o_at)?,
            Column::new("amount".into(), self.o_amount),
        ])?;
        Ok([leads, events, outcomes])
    }
}

enum Sink {
    Csv(BufWriter<File>, bool),
    Parquet(Box<polars::io::parquet::write::BatchedWriter<BufWriter<File>>>),
}

impl Sink {
    fn write(&mut self, df: &mut DataFrame) -> PolarsResult<()> {
        match self {
            Sink::Csv(w, header_written) => {
                CsvWriter::new(&mut *w)
                    .include_header(!*header_written)
                    .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S".into()))
                    .finish(df)?;
                *header_written = true;
                Ok(())
            }
            Sink::Parquet(w) => w.write_batch(df),
        }
    }
    fn finish(self) -> PolarsResult<()> {
        match self {
            Sink::Csv(mut w, _) => w.flush().map_err(PolarsError::from),
            Sink::Parquet(w) => w.finish().map(|_| ()),
        }
    }
}

/// Generate the world into `dir`, which must not already hold any of the demo's files.
pub fn generate(dir: &Path, p: &DemoParams) -> Result<DemoSummary> {
    if p.leads == 0 {
        return Err(Error::Usage("--leads must be at least 1".into()));
    }
    let ext = match p.format {
        DemoFormat::Csv => "csv",
        DemoFormat::Parquet => "parquet",
    };
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Output {
            path: dir.to_path_buf(),
            message: "is a file, not a folder; leadcal never replaces a file it did not write (choose another --out)".into(),
        });
    }
    let names = ["leads", "events", "outcomes"].map(|t| dir.join(format!("{t}.{ext}")));
    let model = dir.join("scoring.toml");
    for f in names.iter().chain(std::iter::once(&model)) {
        if f.exists() {
            return Err(Error::Output { path: f.clone(), message: "already exists; leadcal never overwrites an earlier output (choose another --out)".into() });
        }
    }
    std::fs::create_dir_all(dir).map_err(Error::write(dir, "cannot create the folder"))?;
    let out_err = |path: &Path| {
        let path = path.to_path_buf();
        move |e: PolarsError| Error::Output {
            path,
            message: e.to_string(),
        }
    };
    // Write to temporary files that get their names at the end, so a failed run leaves no
    // partial table.
    let mut files = names
        .iter()
        .map(|n| crate::output::NewFile::create(n))
        .collect::<Result<Vec<_>>>()?;
    let tmp: Vec<PathBuf> = names.to_vec();
    let mut sinks = Vec::new();
    let mut first_frames = None;
    let n_chunks = p.leads.div_ceil(CHUNK);
    let batch = (rayon::current_num_threads() as u64 * 2).max(2);
    let mut summary = DemoSummary {
        leads: p.leads,
        ..Default::default()
    };
    let mut c0 = 0;
    while c0 < n_chunks {
        let c1 = (c0 + batch).min(n_chunks);
        let frames: Vec<PolarsResult<[DataFrame; 3]>> = (c0..c1)
            .into_par_iter()
            .map(|i| make_chunk(p, i).frames(p.ids))
            .collect();
        for f in frames {
            let mut f = f.map_err(Error::polars("building demo frames"))?;
            if first_frames.is_none() {
                for (k, df) in f.iter().enumerate() {
                    let file = files[k]
                        .file()
                        .try_clone()
                        .map_err(Error::write(&tmp[k], "cannot write"))?;
                    let w = BufWriter::with_capacity(1 << 20, file);
                    sinks.push(match p.format {
                        DemoFormat::Csv => Sink::Csv(w, false),
                        DemoFormat::Parquet => Sink::Parquet(Box::new(
                            ParquetWriter::new(w)
                                .with_compression(ParquetCompression::Zstd(None))
                                .with_row_group_size(Some(1 << 20))
                                .batched(df.schema())
                                .map_err(out_err(&tmp[k]))?,
                        )),
                    });
                }
                first_frames = Some(());
            }
            summary.events += f[1].height() as u64;
            summary.outcomes += f[2].height() as u64;
            for (k, df) in f.iter_mut().enumerate() {
                sinks[k].write(df).map_err(out_err(&tmp[k]))?;
            }
        }
        c0 = c1;
    }
    for (k, s) in sinks.into_iter().enumerate() {
        s.finish().map_err(out_err(&tmp[k]))?;
    }
    for f in files {
        f.persist()?;
    }
    crate::output::write_new(&model, LIVE_MODEL.as_bytes())?;
    summary.files = names.into_iter().chain(std::iter::once(model)).collect();
    Ok(summary)
}

/// The demo company's live points model (format: `docs/scoring-model.md`), with some weights
/// wrong on purpose.
pub const LIVE_MODEL: &str = include_str!("live-model.toml");
