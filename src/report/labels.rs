//! Display names for the data's raw names: `dataset.toml`'s `[labels]`.
//!
//! Input: the labels (raw column name, value or event type → the word the meeting uses) and a
//! name leadcal wrote from raw names: an event type (`email_open`), a rule or model feature
//! (`job_level = Student`, `role=Decision Maker`, `industry in [Software, Retail]`,
//! `company_size missing`, `company_size [59, 133]`). Output: the name with each raw part that
//! has a label written as that label. The JSON files keep the raw names; only the page and the
//! charts show labels.
//!
//! Only whole names are replaced, never a piece of one: values hold spaces and commas
//! (`Content Syndication`, `VP Sales`), so a label for `VP` must not change `VP Sales`. The
//! name is split the way leadcal writes it, and each part is looked up as a whole.

use std::collections::BTreeMap;

use super::Lang;

/// One raw name's label, or the name itself.
pub fn one<'a>(labels: &'a BTreeMap<String, String>, raw: &'a str) -> &'a str {
    labels.get(raw).map_or(raw, String::as_str)
}

/// A rule, feature or event-type name with its parts labelled.
pub fn apply(labels: &BTreeMap<String, String>, text: &str) -> String {
    if labels.is_empty() {
        return text.to_string();
    }
    if let Some(l) = labels.get(text) {
        return l.clone();
    }
    let label = |s: &str| one(labels, s).to_string();
    // `attribute in [a, b]`: a set of values.
    if let Some((a, set)) = text.split_once(" in [")
        && let Some(set) = set.strip_suffix(']')
        && labels.contains_key(a) | set.split(", ").any(|v| labels.contains_key(v))
    {
        let values: Vec<String> = set.split(", ").map(label).collect();
        return format!("{} in [{}]", label(a), values.join(", "));
    }
    // `attribute = value` and `attribute=value`.
    for sep in [" = ", "="] {
        if let Some((a, v)) = text.split_once(sep) {
            return format!("{}{sep}{}", label(a), label(v));
        }
    }
    // `attribute missing`, `attribute [59, 133]`, `attribute 44..100`: the attribute alone.
    if let Some((a, rest)) = text.split_once(' ')
        && labels.contains_key(a)
        && (rest == "missing" || rest.starts_with('[') || rest.contains(".."))
    {
        return format!("{} {rest}", label(a));
    }
    text.to_string()
}

/// A name as a page shows it: `a=b` spaced like a rule (before the labels, so that a label
/// holding "=" stays as written), each part of a pair (`a=b & c=d`) labelled, and ranges and
/// missing-value rules written for readers ([`Lang::ranges`]).
pub fn shown(l: Lang, labels: &BTreeMap<String, String>, raw: &str) -> String {
    raw.split(" & ")
        .map(|part| {
            let spaced = match part.split_once('=') {
                Some((a, v)) if !part.contains(" = ") => format!("{a} = {v}"),
                _ => part.to_string(),
            };
            l.ranges(&apply(labels, &spaced))
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn whole_names_get_their_labels_and_pieces_of_names_do_not() {
        let l = labels(&[
            ("job_level", "Position"),
            ("Student", "Studierende"),
            ("Content Syndication", "Content-Syndizierung"),
            ("source", "Quelle"),
            ("VP", "Vorstand"),
            ("email_open", "E-Mail geöffnet"),
            ("company_size", "Mitarbeitende"),
        ]);
        assert_eq!(apply(&l, "job_level = Student"), "Position = Studierende");
        assert_eq!(
            apply(&l, "source=Content Syndication"),
            "Quelle=Content-Syndizierung"
        );
        assert_eq!(
            apply(&l, "job_level in [C-Level, VP]"),
            "Position in [C-Level, Vorstand]"
        );
        assert_eq!(apply(&l, "email_open"), "E-Mail geöffnet");
        assert_eq!(apply(&l, "company_size missing"), "Mitarbeitende missing");
        assert_eq!(
            apply(&l, "company_size [59, 133]"),
            "Mitarbeitende [59, 133]"
        );
        // A piece of a longer name keeps its raw form.
        assert_eq!(apply(&l, "job_level = VP Sales"), "Position = VP Sales");
        assert_eq!(apply(&l, "VP Sales"), "VP Sales");
        assert_eq!(
            apply(&BTreeMap::new(), "job_level = Student"),
            "job_level = Student"
        );
        assert_eq!(
            shown(
                Lang::De,
                &l,
                "job_level=Student & source=Content Syndication"
            ),
            "Position = Studierende & Quelle = Content-Syndizierung"
        );
        assert_eq!(
            shown(Lang::De, &l, "company_size missing"),
            "Mitarbeitende ohne Angabe"
        );
    }
}
