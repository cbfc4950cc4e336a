//! The report's languages: number, percentage and date formats.
//!
//! Hand-written rather than ICU: two locales and three formats (grouped numbers, percentages,
//! dates) are a few lines each, and the ICU crates would add more to every build than the whole
//! report. Every word of the report lives beside the format it is used with, in `html.rs` and
//! `charts.rs`, as one `match` on [`Lang`], so a missing translation does not compile.

use serde::{Deserialize, Serialize};

/// A report language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    De,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// Pick the text for this language.
    pub fn pick<'a>(self, en: &'a str, de: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::De => de,
        }
    }

    fn separators(self) -> (char, char) {
        match self {
            Lang::En => (',', '.'),
            Lang::De => ('.', ','),
        }
    }

    /// `v` with `dp` decimals and grouped thousands: 12,345.6 (en), 12.345,6 (de).
    pub fn num(self, v: f64, dp: usize) -> String {
        if !v.is_finite() {
            return "–".into();
        }
        let (group, decimal) = self.separators();
        let s = format!("{:.*}", dp, v.abs());
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        let mut out = String::new();
        // "-0" after rounding is shown as 0.
        if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
            out.push('−');
        }
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i).is_multiple_of(3) {
                out.push(group);
            }
            out.push(c);
        }
        if !frac.is_empty() {
            out.push(decimal);
            out.push_str(frac);
        }
        out
    }

    /// A count: 12,345 (en), 12.345 (de).
    pub fn int(self, n: u64) -> String {
        self.num(n as f64, 0)
    }

    /// A share as a percentage: 31.2% (en), 31,2 % (de, with a no-break space).
    pub fn pct(self, share: f64, dp: usize) -> String {
        let n = self.num(100.0 * share, dp);
        match self {
            Lang::En => format!("{n}%"),
            Lang::De => format!("{n}\u{a0}%"),
        }
    }

    /// A decay setting in words: "a 90-day window" / "ein Fenster von 90 Tagen".
    pub fn decay(self, s: &crate::recommend::decay::Setting) -> String {
        use crate::recommend::decay::Setting;
        let d = |days: &f64| self.num(*days, 0);
        match (self, s) {
            (Lang::En, Setting::None) => "no decay".into(),
            (Lang::En, Setting::Window { days }) => format!("a {}-day window", d(days)),
            (Lang::En, Setting::HalfLife { days }) => format!("a {}-day half-life", d(days)),
            (Lang::De, Setting::None) => "kein Verfall".into(),
            (Lang::De, Setting::Window { days }) => format!("ein Fenster von {} Tagen", d(days)),
            (Lang::De, Setting::HalfLife { days }) => {
                format!("eine Halbwertszeit von {} Tagen", d(days))
            }
        }
    }

    /// How long points count under a setting, to follow "count": "for 90 days" / "90 Tage lang".
    pub fn decay_counts(self, s: &crate::recommend::decay::Setting) -> String {
        use crate::recommend::decay::Setting;
        let d = |days: &f64| self.num(*days, 0);
        match (self, s) {
            (Lang::En, Setting::None) => "without decay".into(),
            (Lang::En, Setting::Window { days }) => format!("for {} days", d(days)),
            (Lang::En, Setting::HalfLife { days }) => format!("with a {}-day half-life", d(days)),
            (Lang::De, Setting::None) => "unbegrenzt (ohne Verfall)".into(),
            (Lang::De, Setting::Window { days }) => format!("{} Tage lang", d(days)),
            (Lang::De, Setting::HalfLife { days }) => {
                format!("mit einer Halbwertszeit von {} Tagen", d(days))
            }
        }
    }

    /// A decay setting as a short axis label.
    pub fn decay_short(self, s: &crate::recommend::decay::Setting) -> String {
        use crate::recommend::decay::Setting;
        match s {
            Setting::None => self.pick("none", "keiner").into(),
            Setting::Window { days } => {
                format!("{} {}", self.pick("window", "Fenster"), self.num(*days, 0))
            }
            Setting::HalfLife { days } => {
                format!("{} {}", self.pick("half-life", "HWZ"), self.num(*days, 0))
            }
        }
    }

    /// An optional share; a dash when undefined.
    pub fn pct_opt(self, share: Option<f64>, dp: usize) -> String {
        share.map_or("–".into(), |v| self.pct(v, dp))
    }

    /// An interval: [0.52, 0.63] (en), [0,52; 0,63] (de, where the comma is the decimal sign).
    pub fn interval(self, low: &str, high: &str) -> String {
        match self {
            Lang::En => format!("[{low}, {high}]"),
            Lang::De => format!("[{low}; {high}]"),
        }
    }

    /// An ISO date (`2025-07-01`, or a longer timestamp starting with one): 1 Jul 2025 (en),
    /// 01.07.2025 (de). Anything else is returned as it is.
    pub fn date(self, iso: &str) -> String {
        let d = iso.get(..10).and_then(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .map(|x| (x, d))
        });
        let Some((d, _)) = d else {
            return iso.to_string();
        };
        match self {
            Lang::En => d.format("%-d %b %Y").to_string(),
            Lang::De => d.format("%d.%m.%Y").to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(Lang::En.num(1_234_567.891, 1), "1,234,567.9");
        assert_eq!(Lang::De.num(1_234_567.891, 1), "1.234.567,9");
        assert_eq!(Lang::En.num(-1234.0, 0), "−1,234");
        assert_eq!(Lang::En.num(-0.04, 1), "0.0");
        assert_eq!(Lang::De.num(999.0, 0), "999");
        assert_eq!(Lang::De.int(1000), "1.000");
        assert_eq!(Lang::En.pct(0.3126, 1), "31.3%");
        assert_eq!(Lang::De.pct(0.3126, 1), "31,3\u{a0}%");
        assert_eq!(Lang::En.pct_opt(None, 1), "–");
        assert_eq!(Lang::En.num(f64::NAN, 2), "–");
        assert_eq!(Lang::En.interval("0.52", "0.63"), "[0.52, 0.63]");
        assert_eq!(Lang::De.interval("0,52", "0,63"), "[0,52; 0,63]");
    }

    #[test]
    fn dates_follow_the_language() {
        assert_eq!(Lang::En.date("2025-07-01"), "1 Jul 2025");
        assert_eq!(Lang::De.date("2025-07-01 00:00:00"), "01.07.2025");
        assert_eq!(Lang::De.date("2024-Q3"), "2024-Q3");
        assert_eq!(Lang::parse("DE"), Some(Lang::De));
        assert_eq!(Lang::parse("fr"), None);
    }
}
