//! Text and yes/no attributes as codes, made once when the leads are loaded.
//!
//! Input: the checked leads frame and its attributes. Output: per text or yes/no attribute,
//! [`AttributeCodes`]: its distinct values in byte order and each lead's value as an index
//! into them. Guarantees: a value's code is its rank among the distinct values, so any
//! ordering by value is an ordering by code; the stages that group or encode by attribute
//! value (features, segments) count codes instead of hashing a string per lead.

use std::collections::HashMap;

use polars::prelude::*;
use rayon::prelude::*;

use super::types::{Attribute, AttributeKind};
use crate::error::{Error, Result};

/// The code of a missing value.
pub const MISSING: u32 = u32::MAX;

/// One attribute's values as codes, per row of the leads frame.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeCodes {
    /// Distinct values, in byte order (yes/no values as `true` and `false`).
    pub values: Vec<String>,
    /// Each lead's code: an index into `values`, or [`MISSING`].
    pub codes: Vec<u32>,
}

impl AttributeCodes {
    /// The value of code `c`, `None` for [`MISSING`].
    pub fn value(&self, c: u32) -> Option<&str> {
        self.values.get(c as usize).map(String::as_str)
    }

    fn of(column: &Column) -> Result<Self> {
        let text = column
            .cast(&DataType::String)
            .map_err(Error::polars("attribute codes"))?;
        Ok(Self::intern(
            text.str().map_err(Error::polars("attribute codes"))?.iter(),
        ))
    }

    /// Codes for `values` (one per lead, `None` for a missing one): each value's rank among
    /// the distinct values in byte order.
    pub fn intern<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Self {
        let mut first: HashMap<&str, u32, foldhash::fast::FixedState> = HashMap::default();
        let mut seen: Vec<&str> = Vec::new();
        let codes: Vec<u32> = values
            .into_iter()
            .map(|v| match v {
                None => MISSING,
                Some(v) => *first.entry(v).or_insert_with(|| {
                    seen.push(v);
                    (seen.len() - 1) as u32
                }),
            })
            .collect();
        let mut order: Vec<u32> = (0..seen.len() as u32).collect();
        order.sort_unstable_by_key(|&k| seen[k as usize]);
        let mut rank = vec![0u32; seen.len()];
        for (r, &k) in order.iter().enumerate() {
            rank[k as usize] = r as u32;
        }
        AttributeCodes {
            values: order
                .iter()
                .map(|&k| seen[k as usize].to_string())
                .collect(),
            codes: codes
                .into_iter()
                .map(|c| if c == MISSING { c } else { rank[c as usize] })
                .collect(),
        }
    }
}

/// The codes of every text and yes/no attribute of `leads` (`None` for numeric ones), in the
/// order of `attributes`; one attribute per task.
pub(super) fn attribute_codes(
    leads: &DataFrame,
    attributes: &[Attribute],
) -> Result<Vec<Option<AttributeCodes>>> {
    attributes
        .par_iter()
        .map(|a| match a.kind {
            AttributeKind::Text | AttributeKind::Bool => {
                let c = leads
                    .column(&a.name)
                    .map_err(Error::polars("attribute codes"))?;
                AttributeCodes::of(c).map(Some)
            }
            AttributeKind::Integer | AttributeKind::Float => Ok(None),
        })
        .collect()
}
