//! Attribute values coded per evaluable lead, for the group statistics.
//!
//! Input: the loaded leads (text and yes/no attributes as the load's codes) and the feature
//! table's lead rows. Output: one [`Values`] per attribute (text values as they are, a missing
//! one as `(missing)`; numeric ones binned into quintiles). Guarantees: each attribute is coded on its own task, so the result does not
//! depend on the thread count; `--by` names that are no attribute are a usage error.

use polars::prelude::*;

use super::groups::{Values, quantile_bins};
use crate::data::{Attribute, AttributeKind, Dataset};
use crate::error::{Error, Result};

/// Attributes with more distinct values than this are left out unless named in `by`.
const MAX_DISTINCT: usize = 50;

/// The attributes named in `by` (all with at most [`MAX_DISTINCT`] values when empty), coded
/// for the leads at `rows` of the leads table.
pub fn attribute_values(
    ds: &Dataset,
    rows: &[u32],
    by: &[String],
) -> Result<Vec<(String, Values)>> {
    use rayon::prelude::*;
    let wanted: Vec<&Attribute> = ds
        .attributes
        .iter()
        .filter(|attr| by.is_empty() || by.iter().any(|b| b == &attr.name))
        .collect();
    // One attribute per task; each reads its column and interns its values.
    let coded: Vec<Option<(String, Values)>> = wanted
        .par_iter()
        .map(|attr| -> Result<Option<(String, Values)>> {
            let c = ds
                .leads
                .column(&attr.name)
                .map_err(Error::polars("attribute"))?;
            let vals = match attr.kind {
                AttributeKind::Integer | AttributeKind::Float => {
                    let all: Vec<Option<f64>> = c
                        .cast(&DataType::Float64)
                        .map_err(Error::polars("attribute"))?
                        .f64()
                        .map_err(Error::polars("attribute"))?
                        .iter()
                        .collect();
                    let v: Vec<Option<f64>> = rows.iter().map(|&r| all[r as usize]).collect();
                    quantile_bins(&v, 5).values()
                }
                _ => {
                    let codes = ds.codes(&attr.name).ok_or_else(|| {
                        Error::Internal(format!("attribute `{}` has no codes", attr.name))
                    })?;
                    Values::from_codes(codes, rows)
                }
            };
            if by.is_empty() && vals.distinct.len() > MAX_DISTINCT {
                return Ok(None);
            }
            Ok(Some((attr.name.clone(), vals)))
        })
        .collect::<Result<_>>()?;
    let out: Vec<(String, Values)> = coded.into_iter().flatten().collect();
    for b in by {
        if !out.iter().any(|(a, _)| a == b) {
            return Err(Error::Usage(format!(
                "--by `{b}`: the leads table has no such attribute (attributes: {})",
                ds.attributes
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(out)
}
