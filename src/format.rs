//! Number formatting for the console and Markdown outputs (the HTML report has its own,
//! localised, in `report::lang`).
//!
//! Input: numbers an earlier stage computed. Output: text. Guarantees: a missing value is `-`,
//! never `NaN`; the same number is written the same way in every command's output.

/// `1234567` -> `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `-0`, `-0.0%` and the like, which rounding a small negative number (or `-0.0` itself)
/// writes, as `0`, `0.0%`: a sign on a zero reads as a change that is not there.
fn unsigned_zero(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) if !rest.chars().any(|c| c.is_ascii_digit() && c != '0') => rest.to_string(),
        _ => s,
    }
}

/// A share as a percentage with one decimal (`0.1234` -> `12.3%`), `-` when missing.
pub fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| unsigned_zero(format!("{:.1}%", 100.0 * v)))
}

/// A number with `digits` decimals, `-` when missing.
pub fn fixed(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |v| unsigned_zero(format!("{v:.digits$}")))
}

/// Points as a config shows them: whole numbers without decimals, others with two.
pub fn points(v: f64) -> String {
    unsigned_zero(if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    })
}

/// `value [low, high]` when both bounds exist, else the value alone, each written by `f`.
pub fn with_interval(
    value: Option<f64>,
    low: Option<f64>,
    high: Option<f64>,
    f: impl Fn(Option<f64>) -> String,
) -> String {
    match (low, high) {
        (Some(_), Some(_)) => format!("{} [{}, {}]", f(value), f(low), f(high)),
        _ => f(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_never_carries_a_minus_sign() {
        // changes.md printed `3 → -0`; the per-period table `recall -0.0%`.
        assert_eq!(points(-0.0), "0");
        assert_eq!(points(-0.4_f64.round()), "0");
        assert_eq!(pct(Some(-0.0)), "0.0%");
        assert_eq!(pct(Some(-0.00001)), "0.0%");
        assert_eq!(fixed(Some(-0.0001), 2), "0.00");
        assert_eq!(points(-3.0), "-3");
        assert_eq!(pct(Some(-0.012)), "-1.2%");
    }

    #[test]
    fn numbers_are_written_one_way() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(pct(Some(0.1234)), "12.3%");
        assert_eq!(pct(None), "-");
        assert_eq!(fixed(Some(0.5), 3), "0.500");
        assert_eq!(points(20.0), "20");
        assert_eq!(points(-2.5), "-2.50");
        assert_eq!(
            with_interval(Some(0.2), Some(0.1), Some(0.3), pct),
            "20.0% [10.0%, 30.0%]"
        );
        assert_eq!(with_interval(Some(0.2), None, Some(0.3), pct), "20.0%");
    }
}
