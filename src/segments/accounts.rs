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
/// they are counted by account, once as the kept accounts' members are gathered.
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
    // Each account a number (one hash per lead, no list per account): its leads, hand-overs
    // and whether one converted are counted by number.
    const NONE: u32 = u32::MAX;
    let mut number: HashMap<&str, u32, foldhash::fast::FixedState> = Default::default();
    let mut ids: Vec<&str> = Vec::new();
    let mut of_lead: Vec<u32> = Vec::with_capacity(lead_rows.len());
    let (mut size, mut ho, mut conv) = (Vec::<u64>::new(), Vec::<u64>::new(), Vec::<bool>::new());
    for (i, &r) in lead_rows.iter().enumerate() {
        let k = match all[r as usize] {
            Some(a) => {
                let k = *number.entry(a).or_insert_with(|| {
                    ids.push(a);
                    size.push(0);
                    ho.push(0);
                    conv.push(false);
                    (ids.len() - 1) as u32
                });
                let ku = k as usize;
                size[ku] += 1;
                ho[ku] += u64::from(handed[i]);
                conv[ku] |= converted[i];
                k
            }
            None => NONE,
        };
        of_lead.push(k);
        if i % 65_536 == 65_535 {
            done.add(65_536);
        }
    }
    done.add((lead_rows.len() % 65_536) as u64);
    drop(number);
    // Members, in lead order, of the accounts with two hand-overs and no converter only.
    let kept: Vec<usize> = (0..ids.len()).filter(|&k| ho[k] >= 2 && !conv[k]).collect();
    let mut slot = vec![NONE; ids.len()];
    for (s, &k) in kept.iter().enumerate() {
        slot[k] = s as u32;
    }
    let mut members: Vec<Vec<usize>> = kept
        .iter()
        .map(|&k| Vec::with_capacity(size[k] as usize))
        .collect();
    for (i, &k) in of_lead.iter().enumerate() {
        if k != NONE && slot[k as usize] != NONE {
            members[slot[k as usize] as usize].push(i);
        }
        if i % 65_536 == 65_535 {
            done.add(65_536);
        }
    }
    done.add((of_lead.len() % 65_536) as u64);
    for (&k, members) in kept.iter().zip(&members) {
        let attrs = attributes
            .iter()
            .map(|(name, vals)| {
                let mut c: BTreeMap<&str, usize> = Default::default();
                for &i in members {
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
            account_id: ids[k].to_string(),
            leads: size[k],
            handovers: ho[k],
            attributes: attrs,
        });
    }
    accounts.sort_by(|x, y| {
        y.handovers
            .cmp(&x.handovers)
            .then(y.leads.cmp(&x.leads))
            .then(x.account_id.cmp(&y.account_id))
    });
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An account as compared: id, leads, hand-overs, each attribute's most common value.
    type Row = (String, u64, u64, Vec<(String, String)>);

    /// The plain definition: every account's members listed, then counted.
    fn by_definition(
        accounts: &[Option<&str>],
        lead_rows: &[u32],
        handed: &[bool],
        converted: &[bool],
        attributes: &[(String, Values)],
    ) -> Vec<Row> {
        let mut per: BTreeMap<&str, Vec<usize>> = Default::default();
        for (i, &r) in lead_rows.iter().enumerate() {
            if let Some(a) = accounts[r as usize] {
                per.entry(a).or_default().push(i);
            }
        }
        let mut out = Vec::new();
        for (a, m) in per {
            let ho = m.iter().filter(|&&i| handed[i]).count() as u64;
            if ho < 2 || m.iter().any(|&i| converted[i]) {
                continue;
            }
            let attrs = attributes
                .iter()
                .map(|(name, vals)| {
                    let mut c: BTreeMap<&str, usize> = Default::default();
                    for &i in &m {
                        *c.entry(vals.get(i)).or_default() += 1;
                    }
                    let best = c.values().copied().max().unwrap_or(0);
                    let top = c
                        .iter()
                        .find(|(_, n)| **n == best)
                        .map(|(v, _)| v.to_string());
                    (name.clone(), top.unwrap_or_default())
                })
                .collect();
            out.push((a.to_string(), m.len() as u64, ho, attrs));
        }
        out.sort_by(|x, y| y.2.cmp(&x.2).then(y.1.cmp(&x.1)).then(x.0.cmp(&y.0)));
        out
    }

    proptest! {
        #[test]
        fn accounts_without_conversion_are_those_of_the_definition(
            leads in prop::collection::vec((prop::option::of(0u8..12), 0u8..3), 1..200),
            flags in prop::collection::vec((any::<bool>(), prop::bool::weighted(0.1)), 200),
            skip in 0usize..3,
        ) {
            let names: Vec<Option<String>> =
                leads.iter().map(|(a, _)| a.map(|a| format!("A{a}"))).collect();
            let accounts: Vec<Option<&str>> = names.iter().map(|a| a.as_deref()).collect();
            // Evaluable leads: every row but every third from `skip`, in reverse order.
            let lead_rows: Vec<u32> = (0..leads.len() as u32)
                .rev()
                .filter(|r| !(*r as usize + skip).is_multiple_of(3))
                .collect();
            let n = lead_rows.len();
            let handed: Vec<bool> = (0..n).map(|i| flags[i].0).collect();
            let converted: Vec<bool> = (0..n).map(|i| flags[i].1).collect();
            let region = Values::from_strs(
                lead_rows.iter().map(|&r| ["NA", "EMEA", "APAC"][leads[r as usize].1 as usize]),
            );
            let attributes = vec![("region".to_string(), region)];
            let df = DataFrame::new(
                names.len(),
                vec![Column::new("account_id".into(), names.clone())],
            )
            .unwrap();
            let got = without_conversion(
                &df,
                &lead_rows,
                &handed,
                &converted,
                &attributes,
                &crate::progress::Counter::none(),
            )
            .unwrap();
            let got: Vec<_> = got
                .into_iter()
                .map(|a| (a.account_id, a.leads, a.handovers, a.attributes))
                .collect();
            let want = by_definition(&accounts, &lead_rows, &handed, &converted, &attributes);
            prop_assert_eq!(got, want);
        }
    }
}
