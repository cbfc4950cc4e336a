//! Accounts with several hand-overs and no conversion.
//!
//! Input: the leads' `account_id` column, the feature table's lead rows, who was handed over
//! and who converted, and the coded attributes. Output: [`Account`]s, most hand-overs first
//! (ties by leads, then account id). Guarantees: no lead ids; the order does not depend on
//! hashing or threads.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::Serialize;

use super::groups::Values;
use crate::error::{Error, Result};

/// An account with several hand-overs and no conversion (no lead ids).
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub account_id: String,
    pub leads: u64,
    pub handovers: u64,
    /// The most common value of each attribute among its leads.
    pub attributes: Vec<(String, String)>,
}

/// Accounts of `leads` (none when it has no `account_id`) with two or more hand-overs among
/// the evaluable leads at `lead_rows` and no converter. `done` counts leads twice: once as
/// they are grouped by account, once as their account is summed up.
pub fn without_conversion(
    leads: &DataFrame,
    lead_rows: &[u32],
    handed: &[bool],
    converted: &[bool],
    attributes: &[(String, Values)],
    done: &crate::progress::Counter,
) -> Result<Vec<Account>> {
    let mut accounts = Vec::new();
    let Ok(acc) = leads.column("account_id") else {
        return Ok(accounts);
    };
    let acc = acc
        .cast(&DataType::String)
        .map_err(Error::polars("accounts"))?;
    let all: Vec<Option<&str>> = acc
        .str()
        .map_err(Error::polars("accounts"))?
        .iter()
        .collect();
    // Members per account (accounts are sorted below, so the map's order does not matter).
    let mut per: HashMap<&str, Vec<usize>, foldhash::fast::FixedState> = Default::default();
    for (i, &r) in lead_rows.iter().enumerate() {
        if let Some(a) = all[r as usize] {
            per.entry(a).or_default().push(i);
        }
        if i % 65_536 == 65_535 {
            done.add(65_536);
        }
    }
    done.add((lead_rows.len() % 65_536) as u64);
    let mut summed = 0usize;
    for (a, members) in per {
        summed += members.len();
        if summed >= 65_536 {
            done.add(summed as u64);
            summed = 0;
        }
        let ho = members.iter().filter(|&&i| handed[i]).count() as u64;
        let conv = members.iter().any(|&i| converted[i]);
        if ho >= 2 && !conv {
            let attrs = attributes
                .iter()
                .map(|(name, vals)| {
                    let mut c: BTreeMap<&str, usize> = Default::default();
                    for &i in &members {
                        *c.entry(vals.get(i)).or_default() += 1;
                    }
                    let top = c
                        .into_iter()
                        .max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(x.0)))
                        .map(|x| x.0.to_string())
                        .unwrap_or_default();
                    (name.clone(), top)
                })
                .collect();
            accounts.push(Account {
                account_id: a.to_string(),
                leads: members.len() as u64,
                handovers: ho,
                attributes: attrs,
            });
        }
    }
    accounts.sort_by(|x, y| {
        y.handovers
            .cmp(&x.handovers)
            .then(y.leads.cmp(&x.leads))
            .then(x.account_id.cmp(&y.account_id))
    });
    Ok(accounts)
}
