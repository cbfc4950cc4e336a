//! The recommended config as text in the live config's own schema and layout.
//!
//! Input: the live config's text and the recommended [`ScoringModel`]. Output: the new text,
//! which loads back as a model. Guarantees: every comment, key order and untouched value of the
//! live config survives (toml_edit); the input file is never modified.

use crate::scoring::config::{Decay, Points, ScoringModel};

/// The live config's text with the recommended points, caps, thresholds and band starts written
/// in place (toml_edit: every comment, key order and untouched value survives; a changed value
/// keeps its trailing comment), preceded by `header` (comment lines).
pub fn write_config(original: &str, new: &ScoringModel, header: &str) -> Result<String, String> {
    write_config_with_notes(original, new, header, &[])
}

/// [`write_config`] with a comment line written above each named threshold key (`mql`, `sql`)
/// of `[thresholds]`, after any comment already there.
pub fn write_config_with_notes(
    original: &str,
    new: &ScoringModel,
    header: &str,
    threshold_notes: &[(&str, String)],
) -> Result<String, String> {
    use toml_edit::{DocumentMut, Item, Value};
    let mut doc: DocumentMut = without_leadcal_header(original)
        .parse()
        .map_err(|e| format!("the live config does not parse as TOML: {e}"))?;
    fn num(v: f64) -> Value {
        if v.fract() == 0.0 && v.abs() < 9e15 {
            Value::from(v as i64)
        } else {
            Value::from(v)
        }
    }
    fn current(item: &Item) -> Option<f64> {
        item.as_integer()
            .map(|i| i as f64)
            .or_else(|| item.as_float())
    }
    /// Set `key` of a table-like to `v` unless it already holds that number.
    fn set(t: &mut dyn toml_edit::TableLike, key: &str, v: f64) {
        match t.get_mut(key) {
            Some(item) => {
                if current(item) == Some(v) {
                    return;
                }
                if let Some(old) = item.as_value_mut() {
                    let decor = old.decor().clone();
                    *old = num(v);
                    *old.decor_mut() = decor;
                    return;
                }
                *item = Item::Value(num(v));
            }
            None => {
                t.insert(key, Item::Value(num(v)));
            }
        }
    }
    /// Write a decay setting into a table: the key it needs set, the others removed.
    fn set_decay(t: &mut dyn toml_edit::TableLike, d: Decay, rule: bool) {
        let (window, half) = match d {
            Decay::None => (None, None),
            Decay::Window { days } => (Some(days), None),
            Decay::HalfLife { days } => (None, Some(days)),
        };
        for (key, v) in [("window_days", window), ("half_life_days", half)] {
            match v {
                Some(v) => set(t, key, v),
                None => {
                    t.remove(key);
                }
            }
        }
        if rule {
            match d {
                Decay::None => {
                    t.insert("no_decay", Item::Value(Value::from(true)));
                }
                _ => {
                    t.remove("no_decay");
                }
            }
        }
    }
    if new.decay != Decay::None || doc.contains_key("decay") {
        if !doc.contains_key("decay") {
            doc.insert("decay", Item::Table(toml_edit::Table::new()));
        }
        if let Some(t) = doc.get_mut("decay").and_then(|i| i.as_table_like_mut()) {
            set_decay(t, new.decay, false);
        }
    }
    if let Some(th) = doc
        .get_mut("thresholds")
        .and_then(|i| i.as_table_like_mut())
    {
        set(th, "mql", new.mql);
        set(th, "sql", new.sql);
        for (key, note) in threshold_notes {
            if let Some(mut k) = th.key_mut(key) {
                let decor = k.leaf_decor_mut();
                // An earlier run's note (a recommended config calibrated again) is replaced,
                // never stacked above a threshold it no longer describes.
                let before: String = decor
                    .prefix()
                    .and_then(|p| p.as_str())
                    .unwrap_or("")
                    .split_inclusive('\n')
                    .filter(|l| !(l.starts_with("# at ") && l.trim_end().ends_with(", leadcal)")))
                    .collect();
                decor.set_prefix(format!("{before}# {note}\n"));
            }
        }
    }
    if let Some(bands) = doc.get_mut("band").and_then(|i| i.as_array_of_tables_mut()) {
        for t in bands.iter_mut() {
            let name = t.get("name").and_then(|n| n.as_str()).map(String::from);
            if t.contains_key("from")
                && let Some(b) = new.bands.iter().find(|b| Some(&b.name) == name.as_ref())
                && b.from.is_finite()
            {
                set(t, "from", b.from);
            }
        }
    }
    if let Some(rules) = doc
        .get_mut("implicit")
        .and_then(|i| i.as_array_of_tables_mut())
    {
        for (t, r) in rules.iter_mut().zip(&new.implicit) {
            match &r.points {
                Points::Each(p) => set(t, "points", *p),
                Points::Progressive(v) => {
                    let same = t
                        .get("progressive")
                        .and_then(|a| a.as_array())
                        .is_some_and(|a| {
                            a.len() == v.len()
                                && a.iter().zip(v).all(|(x, y)| {
                                    x.as_integer().map(|i| i as f64).or_else(|| x.as_float())
                                        == Some(*y)
                                })
                        });
                    if !same && let Some(item) = t.get_mut("progressive") {
                        let mut arr = toml_edit::Array::new();
                        for p in v {
                            arr.push(num(*p));
                        }
                        if let Some(old) = item.as_value_mut() {
                            let decor = old.decor().clone();
                            *old = Value::Array(arr);
                            *old.decor_mut() = decor;
                        }
                    }
                }
            }
            match r.cap {
                Some(c) => set(t, "cap", c),
                None => {
                    t.remove("cap");
                }
            }
            if r.own_decay {
                set_decay(t, r.decay, true);
            }
        }
    }
    // Explicit items in the order the checker reads them: values, ranges, missing.
    let mut items = new.explicit.iter();
    if let Some(rules) = doc
        .get_mut("explicit")
        .and_then(|i| i.as_array_of_tables_mut())
    {
        for t in rules.iter_mut() {
            for key in ["values", "ranges"] {
                if let Some(arr) = t.get_mut(key).and_then(|i| i.as_array_mut()) {
                    for v in arr.iter_mut() {
                        let Some(r) = items.next() else { break };
                        if let Some(it) = v.as_inline_table_mut() {
                            set(it, "points", r.points);
                        }
                    }
                }
            }
            if t.contains_key("missing")
                && let Some(r) = items.next()
            {
                set(t, "missing", r.points);
            }
        }
    }
    let mut out = String::from(header);
    out.push_str(&doc.to_string());
    Ok(out)
}

/// The config without the header an earlier `leadcal calibrate` wrote at its top (a
/// recommended config calibrated again): the new header replaces it instead of stacking on it.
fn without_leadcal_header(text: &str) -> &str {
    if !text.starts_with("# Recommended by leadcal ") {
        return text;
    }
    // The header is comment lines ending in one blank line.
    match text.find("\n\n") {
        Some(i) if text[..i].lines().all(|l| l.starts_with('#')) => &text[i + 2..],
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_recommended_config_calibrated_again_gets_one_header_and_fresh_notes() {
        let model = ScoringModel::parse(LIVE, Path::new("live.toml")).unwrap();
        let note = |v: &str| {
            vec![(
                "mql",
                format!(
                    "at {v} points about 9.0% [8.0%, 10.0%] of leads convert within 180 days (mature leads, leadcal)"
                ),
            )]
        };
        let once = write_config_with_notes(
            LIVE,
            &model,
            "# Recommended by leadcal 0.1.0 (first).\n# more\n\n",
            &note("18"),
        )
        .unwrap();
        let twice = write_config_with_notes(
            &once,
            &model,
            "# Recommended by leadcal 0.1.0 (second).\n\n",
            &note("30"),
        )
        .unwrap();
        assert_eq!(
            twice.matches("# Recommended by leadcal").count(),
            1,
            "{twice}"
        );
        assert!(
            twice.starts_with("# Recommended by leadcal 0.1.0 (second).\n\n# Our live model"),
            "{twice}"
        );
        assert!(
            !twice.contains("at 18 points") && twice.contains("at 30 points"),
            "{twice}"
        );
        // The user's own comments stay.
        assert!(twice.contains("# Our live model -- owner: marketing ops"));
    }

    const LIVE: &str = r#"# Our live model -- owner: marketing ops
[thresholds]
mql = 40   # agreed with sales in 2023
sql = 80

[[implicit]]
event_type = "webinar_attended"
points = 15          # keep: board decision
group = "content"

[[implicit]]
event_type = "pricing_page_view"
points = 3           # too low?

[[explicit]]
attribute = "job_level"
values = [
  { equals = "VP", points = 15 },   # VPs sign
  { equals = "Student", points = 10 },
]
"#;

    #[test]
    fn comments_and_order_survive_where_nothing_changed() {
        let live = ScoringModel::parse(LIVE, Path::new("live.toml")).unwrap();
        let mut new = live.clone();
        new.sql = 55.0;
        new.implicit[1].points = Points::Each(8.0);
        new.explicit[1].points = -40.0;
        let text = write_config(LIVE, &new, "# header\n").unwrap();
        assert!(text.starts_with("# header\n# Our live model -- owner: marketing ops\n"));
        // Unchanged keys keep their comments exactly.
        assert!(
            text.contains("mql = 40   # agreed with sales in 2023\n"),
            "{text}"
        );
        assert!(
            text.contains("points = 15          # keep: board decision\n"),
            "{text}"
        );
        assert!(
            text.contains("{ equals = \"VP\", points = 15 },   # VPs sign"),
            "{text}"
        );
        // Changed values are written, their trailing comments kept.
        assert!(text.contains("sql = 55\n"), "{text}");
        assert!(text.contains("points = 8           # too low?\n"), "{text}");
        assert!(
            text.contains("{ equals = \"Student\", points = -40 }"),
            "{text}"
        );
        // And it loads back as the recommended model.
        let back = ScoringModel::parse(&text, Path::new("rec.toml")).unwrap();
        assert_eq!(back.sql, 55.0);
        assert_eq!(back.implicit[1].points, Points::Each(8.0));
        assert_eq!(back.explicit[1].points, -40.0);
        assert_eq!(back.explicit[0].points, 15.0);
    }

    #[test]
    fn a_recommended_decay_is_written_globally_and_as_a_rule_override() {
        let live = ScoringModel::parse(LIVE, Path::new("live.toml")).unwrap();
        let mut new = live.clone();
        new.decay = Decay::Window { days: 90.0 };
        new.implicit[1].decay = Decay::HalfLife { days: 30.0 };
        new.implicit[1].own_decay = true;
        let text = write_config(LIVE, &new, "").unwrap();
        let back = ScoringModel::parse(&text, Path::new("rec.toml")).unwrap();
        assert_eq!(back.decay, Decay::Window { days: 90.0 });
        assert_eq!(back.implicit[0].decay, Decay::Window { days: 90.0 });
        assert!(!back.implicit[0].own_decay);
        assert_eq!(back.implicit[1].decay, Decay::HalfLife { days: 30.0 });
        assert!(text.contains("half_life_days = 30"), "{text}");
        // A note above a threshold key, after the comments already there.
        let noted = write_config_with_notes(
            LIVE,
            &live,
            "",
            &[("sql", "at 80 points about 21% convert".into())],
        )
        .unwrap();
        assert!(
            noted.contains(
                "# agreed with sales in 2023\n# at 80 points about 21% convert\nsql = 80\n"
            ),
            "{noted}"
        );
        let back = ScoringModel::parse(&noted, Path::new("n.toml")).unwrap();
        assert_eq!((back.mql, back.sql), (live.mql, live.sql));
        // Nothing changes where the decay stays.
        assert_eq!(write_config(LIVE, &live, "").unwrap(), LIVE);
    }
}
