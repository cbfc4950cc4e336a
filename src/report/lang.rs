//! The report's languages: number, percentage and date formats.
//!
//! Hand-written rather than ICU: two locales and three formats (grouped numbers, percentages,
//! dates) are a few lines each, and the ICU crates would add more to every build than the whole
//! report. Every word of the report lives beside the format it is used with, in `html.rs` and
//! `charts.rs`, as one `match` on [`Lang`], so a missing translation does not compile; the
//! technical terms both languages share live in `glossary.rs`.

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
            Setting::None => self.pick("none", "kein Verfall").into(),
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

/// One bound of a range as leadcal writes it: a number, or open (`inf`, `-inf`, nothing).
/// `None` when the text is not a bound; the number comes with its decimals.
fn bound(text: &str) -> Option<Option<(f64, usize)>> {
    let t = text.trim();
    if t.is_empty() || t == "inf" || t == "-inf" || t == "+inf" {
        return Some(None);
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        || !t.chars().any(|c| c.is_ascii_digit())
    {
        return None;
    }
    let v: f64 = t.parse().ok()?;
    let dp = t.split_once('.').map_or(0, |(_, f)| f.len().min(2));
    Some(Some((v, dp)))
}

impl Lang {
    /// A range in words: 59–133 and 345–121,676 (an en dash, grouped thousands), −83 to 8 when
    /// a bound is negative (a dash beside a minus sign misreads), under 44 and 550 or more
    /// when one side is open. `below` marks an exclusive upper bound.
    pub fn range(self, lo: Option<(f64, usize)>, hi: Option<(f64, usize)>, below: bool) -> String {
        let n = |(v, dp): (f64, usize)| self.num(v, dp);
        match (lo, hi) {
            (Some(a), Some(b)) if a.0 < 0.0 || b.0 < 0.0 => {
                format!("{} {} {}", n(a), self.pick("to", "bis"), n(b))
            }
            (Some(a), Some(b)) => format!("{}–{}", n(a), n(b)),
            (None, Some(b)) if below => format!("{} {}", self.pick("under", "unter"), n(b)),
            (None, Some(b)) => format!("{} {}", self.pick("up to", "bis"), n(b)),
            (Some(a), None) => match self {
                Lang::En => format!("{} or more", n(a)),
                Lang::De => format!("ab {}", n(a)),
            },
            (None, None) => self.pick("any value", "jeder Wert").into(),
        }
    }

    /// A rule name, group or model feature with the ranges leadcal writes in its files
    /// (`[59, 133]`, `[-inf, 2000)`, `44..100`, `..44`, `550..`) written for readers; the rest of
    /// the text is kept as it is. The JSON files keep the raw form.
    pub fn ranges(self, text: &str) -> String {
        // Bracketed: [a, b] and [a, b).
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('[') {
            out.push_str(&rest[..i]);
            let tail = &rest[i + 1..];
            let close = tail.find([']', ')']);
            let parsed = close.and_then(|j| {
                let (a, b) = tail[..j].split_once(',')?;
                Some((bound(a)?, bound(b)?, tail.as_bytes()[j] == b')', j))
            });
            match parsed {
                Some((a, b, below, j)) => {
                    // "year_established in [-inf, 2000)" reads "year_established under 2,000".
                    if out.ends_with(" in ") {
                        out.truncate(out.len() - 3);
                    }
                    out.push_str(&self.range(a, b, below));
                    rest = &tail[j + 1..];
                }
                None => {
                    out.push('[');
                    rest = tail;
                }
            }
        }
        out.push_str(rest);
        // A rule on a missing value: `company_size missing` is "ohne Angabe" in German.
        if self == Lang::De
            && let Some(name) = out.strip_suffix(" missing")
        {
            out = format!("{name} ohne Angabe");
        }
        // Dotted: a..b, ..b, a.. as a word of their own (min inclusive, upper bound exclusive).
        out.split(' ')
            .map(|word| {
                let Some((a, b)) = word.split_once("..") else {
                    return word.to_string();
                };
                match (bound(a), bound(b)) {
                    (Some(x), Some(y)) if x.is_some() || y.is_some() => self.range(x, y, true),
                    _ => word.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A period as leadcal labels it (`2024-Q3`, `2024-07`) in the language's one form:
    /// Q3 2024 and Jul 2024 (en), Q3/2024 and 07/2024 (de). Anything else is kept.
    pub fn period(self, raw: &str) -> String {
        match period_parts(raw) {
            Some((y, Part::Quarter(q))) => match self {
                Lang::En => format!("Q{q} {y}"),
                Lang::De => format!("Q{q}/{y}"),
            },
            Some((y, Part::Month(m))) => match self {
                Lang::En => format!("{} {y}", MONTHS[m as usize - 1]),
                Lang::De => format!("{m:02}/{y}"),
            },
            None => raw.to_string(),
        }
    }

    /// The short form for chart axes: Q3 '24 and Jul '24 (en), Q3/24 and 07/24 (de).
    pub fn period_short(self, raw: &str) -> String {
        match period_parts(raw) {
            Some((y, Part::Quarter(q))) => match self {
                Lang::En => format!("Q{q} '{:02}", y % 100),
                Lang::De => format!("Q{q}/{:02}", y % 100),
            },
            Some((y, Part::Month(m))) => match self {
                Lang::En => format!("{} '{:02}", MONTHS[m as usize - 1], y % 100),
                Lang::De => format!("{m:02}/{:02}", y % 100),
            },
            None => raw.to_string(),
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

enum Part {
    Quarter(u32),
    Month(u32),
}

/// `2024-Q3` → (2024, Q3); `2024-07` → (2024, July).
fn period_parts(raw: &str) -> Option<(i32, Part)> {
    let (y, rest) = raw.split_once('-')?;
    if y.len() != 4 {
        return None;
    }
    let y: i32 = y.parse().ok()?;
    if let Some(q) = rest.strip_prefix('Q') {
        let q: u32 = q.parse().ok()?;
        return (1..=4).contains(&q).then_some((y, Part::Quarter(q)));
    }
    if rest.len() != 2 {
        return None;
    }
    let m: u32 = rest.parse().ok()?;
    (1..=12).contains(&m).then_some((y, Part::Month(m)))
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
    fn ranges_read_as_ranges_not_numbers() {
        assert_eq!(
            Lang::De.ranges("company_size = [59, 133]"),
            "company_size = 59–133"
        );
        assert_eq!(Lang::De.ranges("[345, 121676]"), "345–121.676");
        assert_eq!(Lang::En.ranges("[345, 121676]"), "345–121,676");
        assert_eq!(Lang::De.ranges("[-83, 8]"), "−83 bis 8");
        assert_eq!(
            Lang::En.ranges("revenue=[2214.94, 3838.39]"),
            "revenue=2,214.94–3,838.39"
        );
        assert_eq!(
            Lang::En.ranges("year_established in [-inf, 2000)"),
            "year_established under 2,000"
        );
        assert_eq!(
            Lang::De.ranges("year_established in [2000, inf)"),
            "year_established ab 2.000"
        );
        assert_eq!(
            Lang::De.ranges("company_size 44..100"),
            "company_size 44–100"
        );
        assert_eq!(
            Lang::En.ranges("company_size ..44"),
            "company_size under 44"
        );
        assert_eq!(Lang::De.ranges("company_size 550.."), "company_size ab 550");
        assert_eq!(
            Lang::De.ranges("company_size missing"),
            "company_size ohne Angabe"
        );
        assert_eq!(
            Lang::En.ranges("company_size missing"),
            "company_size missing"
        );
        // Text that only looks like it is kept.
        assert_eq!(
            Lang::En.ranges("region = [EU, US] and a..b …"),
            "region = [EU, US] and a..b …"
        );
        assert_eq!(Lang::En.ranges("scores [0.52, 0.63"), "scores [0.52, 0.63");
    }

    #[test]
    fn periods_are_written_one_way_per_language() {
        assert_eq!(Lang::En.period("2024-Q3"), "Q3 2024");
        assert_eq!(Lang::De.period("2024-Q3"), "Q3/2024");
        assert_eq!(Lang::En.period("2024-07"), "Jul 2024");
        assert_eq!(Lang::De.period("2024-07"), "07/2024");
        assert_eq!(Lang::De.period_short("2024-Q3"), "Q3/24");
        assert_eq!(Lang::En.period_short("2024-Q3"), "Q3 '24");
        assert_eq!(Lang::De.period("2024-Q5"), "2024-Q5");
        assert_eq!(Lang::De.period("all quarters"), "all quarters");
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
