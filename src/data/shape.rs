//! Which table a file is by its shape, for `leadcal init` when no preset names its columns:
//! leads (an id of one value per row and a date), outcomes (ids that are the leads' ids, and a
//! date: a table of won deals), a pipeline (leads whose stage column and second date say which
//! stage each reached, and when), companies (a key the leads' column refers to).
//!
//! Input: each file's columns as text (every row). Output: [`Roles`]: the tables found, with
//! the columns they map and why. Guarantees: nothing is guessed without evidence in the
//! values: an outcomes table's ids must be the leads' (95 %), a companies key must be what a
//! leads column holds (half of its values or more), a pipeline's skipped stages are the
//! stages whose rows have no creation date; every choice carries a sentence for dataset.toml.

use std::collections::{BTreeMap, HashSet};

/// One file's columns, every value as text (empty ones as `None`).
pub struct Columns {
    pub file: String,
    pub names: Vec<String>,
    pub values: Vec<Vec<Option<String>>>,
}

impl Columns {
    fn col(&self, name: &str) -> Option<&Vec<Option<String>>> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.values[i])
    }

    fn rows(&self) -> usize {
        self.values.first().map_or(0, Vec::len)
    }

    fn filled(&self, name: &str) -> f64 {
        self.col(name).map_or(0.0, |v| {
            v.iter().filter(|x| x.is_some()).count() as f64 / v.len().max(1) as f64
        })
    }

    /// Columns whose filled values are all distinct (and at least 95 % filled).
    fn unique(&self) -> Vec<&str> {
        self.names
            .iter()
            .zip(&self.values)
            .filter(|(_, v)| {
                let filled: Vec<&str> = v.iter().flatten().map(String::as_str).collect();
                !filled.is_empty()
                    && filled.len() as f64 >= 0.95 * v.len() as f64
                    && filled.iter().collect::<HashSet<_>>().len() == filled.len()
            })
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// Columns whose filled values (at least one) are nearly all dates.
    fn dates(&self) -> Vec<&str> {
        self.names
            .iter()
            .zip(&self.values)
            .filter(|(_, v)| {
                let filled: Vec<&str> =
                    v.iter().flatten().map(String::as_str).take(2_000).collect();
                !filled.is_empty()
                    && filled.iter().filter(|x| looks_date(x)).count() as f64
                        >= 0.95 * filled.len() as f64
            })
            .map(|(n, _)| n.as_str())
            .collect()
    }

    fn distinct(&self, name: &str) -> HashSet<&str> {
        self.col(name)
            .map(|v| v.iter().flatten().map(|s| s.trim()).collect())
            .unwrap_or_default()
    }
}

/// `2018-02-01`, `2018-02-26 19:58:54`, `2024-03-14T10:22:31Z`, `14.03.2024`, `3/14/2024`.
pub fn looks_date(v: &str) -> bool {
    let v = v.trim();
    let b = v.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let iso = b.len() >= 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10);
    let slashed = {
        let date = v.split(' ').next().unwrap_or("");
        let p: Vec<&str> = date.split('/').collect();
        p.len() == 3
            && p[2].len() == 4
            && p.iter()
                .all(|x| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit()))
    };
    iso || slashed || crate::timeparse::looks_dotted(v)
}

fn id_like(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "id"
        || n.ends_with("_id")
        || n.ends_with(" id")
        || n.ends_with("id") && name.ends_with("Id")
        || n.contains("guid")
        || n.ends_with("key")
}

fn company_like(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "account",
        "company",
        "compan",
        "organi",
        "firm",
        "unternehmen",
        "firma",
    ]
    .iter()
    .any(|k| n.contains(k))
}

/// A leads table found by its shape.
#[derive(Debug, Clone, Default)]
pub struct LeadsShape {
    pub file: String,
    pub lead_id: String,
    pub created_at: String,
    /// A pipeline: the stage column, its date, the stages that are not leads (no creation
    /// date on their rows) and each stage value's name (lowercase).
    pub pipeline: Option<(String, String)>,
    pub skip_stages: Vec<String>,
    pub stage_names: BTreeMap<String, String>,
    pub account_id: Option<String>,
    pub notes: Vec<String>,
}

/// An outcomes table of one stage (won deals).
#[derive(Debug, Clone)]
pub struct OutcomesShape {
    pub file: String,
    pub lead_id: String,
    pub reached_at: String,
    pub stage: String,
    pub note: String,
}

/// A companies table.
#[derive(Debug, Clone)]
pub struct AccountsShape {
    pub file: String,
    pub key: String,
    /// The leads' column that holds the key.
    pub leads_column: String,
    pub note: String,
}

/// What the shapes of a folder's files say.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    pub leads: Option<LeadsShape>,
    pub outcomes: Option<OutcomesShape>,
    pub accounts: Option<AccountsShape>,
    /// Files with a reason they are not read (`sales_teams.csv`: a lookup of `sales_agent`).
    pub lookups: Vec<(String, String)>,
}

/// The roles of `files` by their shapes; `leads_given` is a leads table a preset found (its
/// columns), which the companies key is then matched against.
pub fn roles(files: &[Columns], leads_given: Option<&Columns>) -> Roles {
    let mut roles = Roles::default();
    // Leads candidates: an id column of one value per row, and a date column.
    let candidates: Vec<(usize, &str, Vec<&str>)> = files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let ids: Vec<&str> = f.unique().into_iter().filter(|n| id_like(n)).collect();
            let dates = f.dates();
            (!ids.is_empty() && !dates.is_empty()).then(|| (i, ids[0], dates))
        })
        .collect();
    let mut leads_at: Option<usize> = None;
    if leads_given.is_none() {
        // Of two candidates, the one whose ids are the other's is the outcomes.
        let mut outcome_of: Option<(usize, usize, String)> = None;
        for (a, a_id, _) in &candidates {
            for (b, _, _) in &candidates {
                if a == b {
                    continue;
                }
                let ours = files[*a].distinct(a_id);
                let theirs = files[*b].distinct(a_id);
                if !theirs.is_empty()
                    && ours.len() < theirs.len()
                    && ours.iter().filter(|v| theirs.contains(*v)).count() as f64
                        >= 0.95 * ours.len() as f64
                {
                    outcome_of = Some((*a, *b, a_id.to_string()));
                }
            }
        }
        if let Some((o, l, key)) = &outcome_of {
            let f = &files[*o];
            let date = f
                .dates()
                .into_iter()
                .max_by(|x, y| f.filled(x).total_cmp(&f.filled(y)))
                .unwrap_or_default()
                .to_string();
            let stage = stage_from_name(&date);
            roles.outcomes = Some(OutcomesShape {
                file: f.file.clone(),
                lead_id: key.clone(),
                reached_at: date.clone(),
                note: format!(
                    "every `{key}` of {} is a lead's id in {}, one row each: a table of one stage, reached at `{date}`{}",
                    f.file,
                    files[*l].file,
                    if stage.1 {
                        ""
                    } else {
                        "; CHECK the stage name"
                    }
                ),
                stage: stage.0,
            });
            leads_at = Some(*l);
        } else {
            leads_at = candidates
                .iter()
                .max_by_key(|(i, _, _)| files[*i].rows())
                .map(|(i, _, _)| *i);
        }
        if let Some(l) = leads_at {
            let (_, id, _) = candidates
                .iter()
                .find(|(i, _, _)| *i == l)
                .expect("a candidate");
            roles.leads = Some(leads_shape(&files[l], id));
        }
    }
    // Companies: a file with a key that a leads column holds, named like a company.
    let leads_cols: Option<&Columns> = leads_given.or(leads_at.map(|l| &files[l]));
    if let Some(lc) = leads_cols {
        for (i, f) in files.iter().enumerate() {
            if Some(i) == leads_at
                || roles.outcomes.as_ref().is_some_and(|o| o.file == f.file)
                || f.file == lc.file
            {
                continue;
            }
            let found = f.unique().into_iter().find_map(|key| {
                let keys = f.distinct(key);
                lc.names.iter().find_map(|ln| {
                    let vals = lc.distinct(ln);
                    let hit = vals.iter().filter(|v| keys.contains(*v)).count();
                    (vals.len() >= 2 && hit as f64 >= 0.5 * vals.len() as f64)
                        .then(|| (key.to_string(), ln.clone()))
                })
            });
            let Some((key, leads_col)) = found else {
                continue;
            };
            let is_company =
                company_like(&key) || company_like(&leads_col) || company_like(&f.file);
            if is_company && roles.accounts.is_none() {
                roles.accounts = Some(AccountsShape {
                    file: f.file.clone(),
                    key: key.clone(),
                    leads_column: leads_col.clone(),
                    note: format!(
                        "one row per `{key}`, the companies the leads' `{leads_col}` names: their columns become the leads' attributes"
                    ),
                });
                if let Some(l) = roles.leads.as_mut() {
                    l.account_id = Some(leads_col);
                }
            } else {
                roles.lookups.push((
                    f.file.clone(),
                    format!("a lookup of the leads' `{leads_col}` (one row per `{key}`), not a company; not read"),
                ));
            }
        }
    }
    roles
}

/// A stage name from a date column's name (`won_date` → `won`), and whether it was clear.
fn stage_from_name(column: &str) -> (String, bool) {
    let n = column.to_ascii_lowercase();
    for (k, stage) in [
        ("won", "won"),
        ("closed", "won"),
        ("customer", "won"),
        ("convert", "converted"),
        ("sale", "won"),
        ("deal", "won"),
    ] {
        if n.contains(k) {
            return (stage.to_string(), true);
        }
    }
    ("won".to_string(), false)
}

/// The leads of `f` with id `id`: the creation date, and a pipeline when a stage column and a
/// second date say which stage a row reached and when.
fn leads_shape(f: &Columns, id: &str) -> LeadsShape {
    let dates = f.dates();
    // The creation date: the most filled date column, earlier first among equals.
    let created = dates
        .iter()
        .copied()
        .max_by(|a, b| {
            f.filled(a).total_cmp(&f.filled(b)).then_with(|| {
                f.names
                    .iter()
                    .position(|n| n == b)
                    .cmp(&f.names.iter().position(|n| n == a))
            })
        })
        .unwrap_or_default()
        .to_string();
    let mut s = LeadsShape {
        file: f.file.clone(),
        lead_id: id.to_string(),
        created_at: created.clone(),
        ..Default::default()
    };
    let stage_col = f.names.iter().find(|n| {
        let l = n.to_ascii_lowercase();
        (l.contains("stage") || l.contains("status")) && {
            let d = f.distinct(n);
            (2..=30).contains(&d.len())
        }
    });
    let second = dates.iter().copied().find(|d| *d != created);
    if let (Some(stage), Some(at)) = (stage_col, second) {
        let (Some(sv), Some(cv), Some(av)) = (f.col(stage), f.col(&created), f.col(at)) else {
            return s;
        };
        // Per stage value: rows, rows with a creation date, rows with the stage date.
        let mut per: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
        for ((st, c), a) in sv.iter().zip(cv).zip(av) {
            let Some(st) = st else { continue };
            let e = per.entry(st.trim()).or_default();
            e.0 += 1;
            e.1 += usize::from(c.is_some());
            e.2 += usize::from(a.is_some());
        }
        // A pipeline when some stages have the date on (nearly) every row and others never.
        let dated = per
            .values()
            .filter(|(n, _, a)| *a as f64 >= 0.95 * *n as f64)
            .count();
        let undated = per.values().filter(|(_, _, a)| *a == 0).count();
        if dated >= 1 && undated >= 1 {
            s.skip_stages = per
                .iter()
                .filter(|(_, (n, c, _))| *c as f64 <= 0.05 * *n as f64)
                .map(|(k, _)| k.to_string())
                .collect();
            s.stage_names = per
                .keys()
                .map(|k| (k.to_string(), k.to_lowercase().replace(' ', "_")))
                .collect();
            s.notes.push(format!(
                "a pipeline: each row is a lead created at `{created}` that reached the stage in `{stage}` at `{at}` (rows of {} have that date; rows of {} do not)",
                join(per.iter().filter(|(_, (n, _, a))| *a as f64 >= 0.95 * *n as f64).map(|(k, _)| *k)),
                join(per.iter().filter(|(_, (_, _, a))| *a == 0).map(|(k, _)| *k)),
            ));
            if !s.skip_stages.is_empty() {
                s.notes.push(format!(
                    "rows of {} have no `{created}`: not leads yet, left out and counted",
                    join(s.skip_stages.iter().map(String::as_str))
                ));
            }
            s.pipeline = Some((stage.clone(), at.to_string()));
        }
    }
    s
}

fn join<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(file: &str, names: &[&str], rows: &[&[&str]]) -> Columns {
        Columns {
            file: file.into(),
            names: names.iter().map(|s| s.to_string()).collect(),
            values: (0..names.len())
                .map(|c| {
                    rows.iter()
                        .map(|r| Some(r[c].to_string()).filter(|v| !v.is_empty()))
                        .collect()
                })
                .collect(),
        }
    }

    #[test]
    fn won_deals_whose_ids_are_the_leads_are_outcomes() {
        let leads = cols(
            "mql.csv",
            &["mql_id", "first_contact_date", "origin"],
            &[
                &["a1", "2018-01-02", "x"],
                &["a2", "2018-01-03", "y"],
                &["a3", "2018-01-04", "x"],
            ],
        );
        let won = cols(
            "deals.csv",
            &["mql_id", "won_date"],
            &[&["a2", "2018-02-03 10:00:00"]],
        );
        let r = roles(&[won, leads], None);
        let l = r.leads.unwrap();
        assert_eq!(
            (l.file.as_str(), l.lead_id.as_str(), l.created_at.as_str()),
            ("mql.csv", "mql_id", "first_contact_date")
        );
        let o = r.outcomes.unwrap();
        assert_eq!(
            (o.file.as_str(), o.reached_at.as_str(), o.stage.as_str()),
            ("deals.csv", "won_date", "won")
        );
    }

    #[test]
    fn a_pipeline_and_its_companies_are_found() {
        let p = cols(
            "sales_pipeline.csv",
            &[
                "opportunity_id",
                "account",
                "deal_stage",
                "engage_date",
                "close_date",
            ],
            &[
                &["O1", "Acme", "Won", "2017-01-02", "2017-02-02"],
                &["O2", "Beta", "Lost", "2017-01-03", "2017-02-09"],
                &["O3", "", "Prospecting", "", ""],
                &["O4", "Acme", "Engaging", "2017-01-05", ""],
            ],
        );
        let a = cols(
            "accounts.csv",
            &["account", "sector"],
            &[&["Acme", "retail"], &["Beta", "software"]],
        );
        let r = roles(&[a, p], None);
        let l = r.leads.unwrap();
        assert_eq!(l.pipeline, Some(("deal_stage".into(), "close_date".into())));
        assert_eq!(l.skip_stages, ["Prospecting"]);
        assert_eq!(l.stage_names["Won"], "won");
        assert_eq!(l.account_id.as_deref(), Some("account"));
        assert_eq!(r.accounts.unwrap().key, "account");
    }
}
