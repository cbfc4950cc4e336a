//! The companies (accounts) table: firmographics that live on the company, not the contact
//! (industry, employees, revenue, region), become attributes of each of its leads.
//!
//! Input: the accounts [`TableSpec`] (`[accounts] file = ...`, its key mapped to
//! `account_id`) and the checked leads, whose `account_id` names their company. Output: the
//! leads with the accounts' columns joined on as typed attributes, and the table's report row.
//! Guarantees: a key that occurs twice is an error naming its lines (a lead must not get two
//! companies' values); rows without a key are counted and left out; leads without an account,
//! and leads whose account the table lacks, are counted in a warning; personal columns (by
//! name or content) and columns that hold other accounts' keys (`subsidiary_of`: a join key)
//! are left out with a warning; the leads keep their order.

use polars::prelude::*;

use super::leads::{Leads, profile, typed_columns, without_personal};
use super::problem::{Invalid, Problem, Severity, list_examples};
use super::scan::{Ctx, ROW, fmt_name, read_err, scan};
use super::table::{Table, TableSpec};
use super::types::TableReport;
use crate::error::{Error, Result};
use crate::format::thousands;

/// Join the accounts of `accounts` onto `leads` as attributes.
pub(super) fn attach(
    accounts: &TableSpec,
    leads: &mut Leads,
    problems: &mut Vec<Problem>,
) -> Result<TableReport> {
    if leads.leads.column("account_id").is_err() {
        Ctx {
            spec: accounts,
            problems,
        }
        .push(
            Severity::Error,
            "no-account-column",
            None,
            0,
            vec![],
            "an accounts table is given, but the leads have no account column: map the leads' company id in [leads.columns] account_id = \"...\"".into(),
        );
        return Err(Invalid(std::mem::take(problems)).into());
    }
    let Some((lf, schema)) = scan(accounts, problems)? else {
        return Err(Invalid(std::mem::take(problems)).into());
    };
    let _step =
        crate::progress::Step::spinner(format!("reading and checking {}", accounts.display()));
    let key_user = accounts.user_name("account_id").to_string();
    let df = lf
        .with_row_index(ROW, None)
        .with_column(
            col(key_user.as_str())
                .cast(DataType::String)
                .str()
                .strip_chars(lit(NULL))
                .alias("__key"),
        )
        .collect()
        .map_err(read_err(accounts))?;
    let rows = df.height() as u64;
    let mut ctx = Ctx {
        spec: accounts,
        problems,
    };
    if rows == 0 {
        // Not "most leads name an unknown account": there is no company to name.
        ctx.push(
            Severity::Error,
            "empty-table",
            None,
            0,
            vec![],
            "the accounts table has a header but no rows".into(),
        );
        return Err(Invalid(std::mem::take(problems)).into());
    }
    ctx.rows_problem(
        &df,
        col("__key").is_null(),
        Severity::Warning,
        "null-account-id",
        &key_user,
        None,
        "no account id (these rows are left out)",
    )?;
    let df = df
        .lazy()
        .filter(col("__key").is_not_null())
        .collect()
        .map_err(Error::polars("joining the accounts"))?;
    duplicate_keys(&mut ctx, &df, &key_user)?;
    // Columns that hold other accounts' keys (a parent company) are join keys, not groups.
    let keys: std::collections::HashSet<&str> = df
        .column("__key")
        .map_err(Error::polars("accounts"))?
        .str()
        .map_err(Error::polars("accounts"))?
        .iter()
        .flatten()
        .collect();
    let mut names = Vec::new();
    for n in schema.iter_names() {
        let n = n.to_string();
        if n == key_user || n.starts_with("__") || accounts.ignore_columns.contains(&n) {
            continue;
        }
        let refers = df
            .column(&n)
            .ok()
            .and_then(|c| c.str().ok())
            .is_some_and(|s| {
                let vals: Vec<&str> = s.iter().flatten().map(str::trim).collect();
                !vals.is_empty() && vals.iter().all(|v| v.is_empty() || keys.contains(v))
            });
        if refers {
            ctx.push(
                Severity::Warning,
                "account-key-column",
                Some(&n),
                0,
                vec![],
                format!("column `{n}` holds other accounts' ids (`{key_user}` values): a join key, not a group of companies; it is not read"),
            );
        } else {
            names.push(n);
        }
    }
    let names = without_personal(accounts, &df, names, problems);
    // An accounts column named like a lead attribute is told apart by a prefix.
    let taken: Vec<String> = leads
        .leads
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let renamed: Vec<(String, String)> = names
        .iter()
        .map(|n| {
            let shown = if taken.contains(n) {
                format!("account_{n}")
            } else {
                n.clone()
            };
            (n.clone(), shown)
        })
        .collect();
    let (typed, kinds) = typed_columns(accounts, df.clone(), &[ROW, "__key"], &names, problems)?;
    let typed = typed
        .lazy()
        .select(
            std::iter::once(col("__key"))
                .chain(
                    renamed
                        .iter()
                        .map(|(n, s)| col(n.as_str()).alias(s.as_str())),
                )
                .collect::<Vec<_>>(),
        )
        .collect()
        .map_err(Error::polars("joining the accounts"))?;
    let n_leads = leads.leads.height() as u64;
    let joined = leads
        .leads
        .clone()
        .lazy()
        .with_row_index("__order", None)
        .join(
            typed.clone().lazy().with_column(lit(true).alias("__found")),
            [col("account_id")],
            [col("__key")],
            JoinArgs::new(JoinType::Left),
        )
        .sort(["__order"], Default::default())
        .collect()
        .map_err(Error::polars("joining the accounts"))?;
    let count = |mask: Expr| -> Result<u64> {
        let t = joined
            .clone()
            .lazy()
            .select([mask.sum().alias("n")])
            .collect()
            .map_err(Error::polars("counting leads by account"))?;
        Ok(t.column("n")
            .ok()
            .and_then(|c| c.get(0).ok())
            .and_then(|v| v.extract::<u64>())
            .unwrap_or(0))
    };
    let without = count(col("account_id").is_null())?;
    let unknown = count(
        col("account_id")
            .is_not_null()
            .and(col("__found").is_null()),
    )?;
    let with_account = n_leads - without;
    if with_account > 0 && unknown as f64 > 0.5 * with_account as f64 {
        // Most leads naming an account the table lacks is ids written two ways (`123.0`
        // against `123`, another case), not missing companies: refused, with both sides.
        let side = |df: &DataFrame, c: &str| -> Vec<String> {
            df.column(c)
                .ok()
                .and_then(|c| c.cast(&DataType::String).ok())
                .map(|c| {
                    c.str()
                        .map(|s| {
                            s.iter()
                                .flatten()
                                .take(3)
                                .map(|v| format!("`{v}`"))
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .unwrap_or_default()
        };
        let theirs = joined
            .clone()
            .lazy()
            .filter(
                col("account_id")
                    .is_not_null()
                    .and(col("__found").is_null()),
            )
            .select([col("account_id")])
            .unique_stable(None, UniqueKeepStrategy::First)
            .limit(3)
            .collect()
            .map_err(Error::polars("accounts"))?;
        let ours = typed
            .clone()
            .lazy()
            .select([col("__key")])
            .limit(3)
            .collect()
            .map_err(Error::polars("accounts"))?;
        problems.push(Problem {
            severity: Severity::Error,
            code: "account-ids-unmatched",
            file: accounts.display(),
            column: Some(key_user.clone()),
            rows_affected: unknown,
            examples: vec![],
            message: format!(
                "{} of {} leads with an account ({:.0}%) name one that column `{key_user}` does not hold, so their companies' columns would be empty: the leads' accounts are written like {}, the table's keys like {}. Are the ids written two ways (`123.0` against `123`, another case)?",
                thousands(unknown),
                thousands(with_account),
                100.0 * unknown as f64 / with_account as f64,
                side(&theirs, "account_id").join(", "),
                side(&ours, "__key").join(", "),
            ),
        });
    } else if without + unknown > 0 {
        let mut parts = Vec::new();
        if without > 0 {
            parts.push(format!("{} have no account", thousands(without)));
        }
        if unknown > 0 {
            parts.push(format!(
                "{} name an account {} does not have",
                thousands(unknown),
                accounts.display()
            ));
        }
        problems.push(Problem {
            severity: Severity::Warning,
            code: "lead-without-account",
            file: accounts.display(),
            column: Some(key_user.clone()),
            rows_affected: without + unknown,
            examples: vec![],
            message: format!(
                "of {} leads, {}: their account columns are empty (they fall in the `missing` group)",
                thousands(n_leads),
                parts.join(" and ")
            ),
        });
    }
    leads.leads = joined
        .drop_many(["__order", "__found"])
        .lazy()
        .collect()
        .map_err(Error::polars("joining the accounts"))?;
    for ((_, shown), a) in renamed.into_iter().zip(kinds) {
        leads.attributes.push(profile(&leads.leads, shown, a.kind)?);
    }
    Ok(TableReport {
        table: Table::Accounts,
        file: accounts.display(),
        format: fmt_name(&accounts.format),
        rows,
        rows_used: typed.height() as u64,
        first: None,
        last: None,
    })
}

/// A key on two rows is an error naming the first few of them.
fn duplicate_keys(ctx: &mut Ctx, df: &DataFrame, key_user: &str) -> Result<()> {
    let dups = df
        .clone()
        .lazy()
        .group_by([col("__key")])
        .agg([len().alias("n"), col(ROW).min().alias("first")])
        .filter(col("n").gt(lit(1)))
        .sort(["first"], Default::default())
        .collect()
        .map_err(Error::polars("finding duplicate account ids"))?;
    if dups.height() == 0 {
        return Ok(());
    }
    let n = dups.height() as u64;
    let keys: Vec<String> = dups
        .column("__key")
        .map_err(Error::polars("dups"))?
        .str()
        .map_err(Error::polars("dups"))?
        .iter()
        .flatten()
        .take(3)
        .map(|k| format!("`{k}`"))
        .collect();
    ctx.rows_problem(
        &df.clone()
            .lazy()
            .join(
                dups.lazy().select([col("__key")]),
                [col("__key")],
                [col("__key")],
                JoinArgs::new(JoinType::Inner),
            )
            .sort([ROW], Default::default())
            .collect()
            .map_err(Error::polars("dups"))?,
        lit(true),
        Severity::Error,
        "duplicate-account-id",
        key_user,
        None,
        &format!(
            "{} account id(s) occur more than once ({}): each account must be one row, or its leads would get two companies' values",
            thousands(n),
            list_examples(&keys, n)
        ),
    )?;
    Ok(())
}
