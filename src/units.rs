//! Units of time: every timestamp in leadcal is microseconds since 1970 (naive UTC).
//!
//! Input and output: plain numbers. Guarantees: one definition of a day and of a month, so
//! windows, horizons and per-month rates agree across stages.

/// Microseconds in a day.
pub const DAY_US: i64 = 86_400_000_000;

/// [`DAY_US`] as a float, for fractional-day windows and half-lives (exact: below 2^53).
pub const DAY_US_F: f64 = DAY_US as f64;

/// Average month length in days (365.25 / 12).
pub const MONTH_DAYS: f64 = 30.4375;

/// Months between two times (µs), at the average month length; never negative.
pub fn months_between(from: i64, to: i64) -> f64 {
    ((to - from) as f64 / DAY_US_F / MONTH_DAYS).max(0.0)
}
