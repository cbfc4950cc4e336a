//! Which implicit rules an event matches, as a bit mask, computed while the events are read.
//!
//! Input: the model's implicit rules and a batch of canonical event columns (`event_type` and
//! whichever of `topic`, `asset_id`, `channel` a rule filters on). Output: one `UInt64` per
//! event, bit r set when the event matches rule r (at most 64 rules). Guarantees: the same
//! result as the rule's predicate written as polars comparisons (event type equal, the filter
//! column's value in the rule's list, a missing value or column matching no filtered rule), at
//! one or two hash lookups per event instead of a comparison per rule and value: over 50M
//! events the comparisons and their intermediate columns cost seconds.

use std::collections::HashMap;
use std::sync::Arc;

use polars::prelude::*;

use super::config::ScoringModel;

/// The columns a rule can filter on besides the event type.
const FILTERS: [&str; 3] = ["topic", "asset_id", "channel"];

/// One filter column: the rules that do not filter on it, and for each listed value the rules
/// that list it.
struct Filter {
    column: &'static str,
    open: u64,
    values: HashMap<String, u64, foldhash::fast::FixedState>,
}

/// The rules as lookups: event type to the rules on it, and the filters.
pub struct RuleTags {
    by_type: HashMap<String, u64, foldhash::fast::FixedState>,
    /// Rules with at least one filter.
    filtered: u64,
    filters: Vec<Filter>,
}

/// The loader's tags for a model: the rules' lookups and the text that names them.
pub struct RuleTagger {
    tags: Arc<RuleTags>,
    key: String,
}

impl RuleTagger {
    pub fn new(model: &ScoringModel) -> Self {
        // What `RuleTags::new` reads, rule by rule in order: the rules' names and points do not
        // change which rules an event matches.
        let key = model
            .implicit
            .iter()
            .take(64)
            .map(|r| format!("{:?}", (&r.event_type, &r.topic, &r.asset_id, &r.channel)))
            .collect::<Vec<_>>()
            .join("\n");
        RuleTagger {
            tags: Arc::new(RuleTags::new(model)),
            key,
        }
    }
}

impl crate::data::Tagger for RuleTagger {
    fn expr(&self, schema: &Schema) -> Expr {
        self.tags.clone().expr(schema)
    }

    fn key(&self) -> String {
        format!("rule tags v1\n{}", self.key)
    }

    fn reads(&self) -> Vec<&'static str> {
        self.tags.filters.iter().map(|f| f.column).collect()
    }
}

impl RuleTags {
    /// The first 64 implicit rules of `model` (more are refused before any use).
    pub fn new(model: &ScoringModel) -> Self {
        let mut by_type: HashMap<String, u64, _> = HashMap::default();
        let mut filters: Vec<Filter> = FILTERS
            .iter()
            .map(|&column| Filter {
                column,
                open: 0,
                values: HashMap::default(),
            })
            .collect();
        let mut filtered = 0u64;
        for (r, rule) in model.implicit.iter().take(64).enumerate() {
            let bit = 1u64 << r;
            *by_type.entry(rule.event_type.clone()).or_default() |= bit;
            for (f, list) in filters
                .iter_mut()
                .zip([&rule.topic, &rule.asset_id, &rule.channel])
            {
                if list.is_empty() {
                    f.open |= bit;
                } else {
                    filtered |= bit;
                    for v in list {
                        *f.values.entry(v.clone()).or_default() |= bit;
                    }
                }
            }
        }
        // A column no rule filters on needs no lookup.
        filters.retain(|f| !f.values.is_empty());
        RuleTags {
            by_type,
            filtered,
            filters,
        }
    }

    /// The tag expression over the canonical columns in `schema`: a rule filtering on a column
    /// the events do not have matches nothing.
    pub fn expr(self: Arc<Self>, schema: &Schema) -> Expr {
        let present: Vec<bool> = self
            .filters
            .iter()
            .map(|f| schema.get(f.column).is_some())
            .collect();
        let args: Vec<Expr> = self
            .filters
            .iter()
            .zip(&present)
            .filter(|(_, p)| **p)
            .map(|(f, _)| col(f.column).cast(DataType::String))
            .collect();
        col("event_type").cast(DataType::String).map_many(
            move |c: &mut [Column]| self.tag(c, &present),
            &args,
            |_, _| Ok(Field::new("__tag".into(), DataType::UInt64)),
        )
    }

    /// Tags of one batch: `c[0]` the event types, then the present filter columns in order.
    fn tag(&self, c: &mut [Column], present: &[bool]) -> PolarsResult<Column> {
        let n = c[0].len();
        // Each column's lookups, once per distinct value as the batch holds it
        // ([`crate::views`]); a filter column the events do not have matches no value.
        let mut out = crate::views::lookup(c[0].str()?, |t| {
            t.and_then(|t| self.by_type.get(t)).copied().unwrap_or(0)
        });
        let mut columns = c[1..].iter();
        for (f, p) in self.filters.iter().zip(present) {
            let column = if *p { columns.next() } else { None };
            let listed = match column {
                Some(c) => crate::views::lookup(c.str()?, |v| {
                    v.and_then(|v| f.values.get(v)).copied().unwrap_or(0)
                }),
                None => vec![0; n],
            };
            for (m, l) in out.iter_mut().zip(listed) {
                if *m & self.filtered != 0 {
                    *m &= f.open | l;
                }
            }
        }
        Ok(Column::new(c[0].name().clone(), out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The rule as a polars predicate: the definition the lookups must agree with.
    fn predicate(rule: &crate::scoring::config::ImplicitRule, schema: &Schema) -> Expr {
        let mut e = col("event_type")
            .eq(lit(rule.event_type.as_str()))
            .fill_null(false);
        for (column, values) in FILTERS
            .iter()
            .zip([&rule.topic, &rule.asset_id, &rule.channel])
        {
            if values.is_empty() {
                continue;
            }
            let any = match schema.get(column) {
                None => lit(false),
                Some(_) => values
                    .iter()
                    .map(|v| col(*column).eq(lit(v.as_str())))
                    .reduce(|a, b| a.or(b))
                    .unwrap_or(lit(false))
                    .fill_null(false),
            };
            e = e.and(any);
        }
        e
    }

    #[test]
    fn tags_equal_the_rules_as_polars_predicates() {
        let model = ScoringModel::parse(
            r#"
[thresholds]
mql = 10
sql = 20
[[implicit]]
name = "open"
event_type = "email_open"
points = 1
[[implicit]]
name = "case"
event_type = "download"
asset_id = ["cs-a", "cs-b"]
points = 5
[[implicit]]
name = "download"
event_type = "download"
points = 3
[[implicit]]
name = "web-topic"
event_type = "webinar"
topic = ["ai"]
channel = ["event", "web"]
points = 9
[[implicit]]
name = "no-channel-col"
event_type = "email_open"
channel = ["email"]
points = 2
"#,
            Path::new("t.toml"),
        )
        .unwrap();
        let types = [
            Some("email_open"),
            Some("download"),
            Some("webinar"),
            None,
            Some("x"),
        ];
        let values = [
            Some("cs-a"),
            Some("cs-b"),
            Some("ai"),
            Some("event"),
            Some("web"),
            None,
        ];
        let (mut et, mut topic, mut asset, mut channel) = (vec![], vec![], vec![], vec![]);
        for (k, t) in types.iter().enumerate() {
            for (j, a) in values.iter().enumerate() {
                for b in values {
                    et.push(*t);
                    asset.push(*a);
                    topic.push(b);
                    channel.push(values[(j + k) % values.len()]);
                }
            }
        }
        for with_channel in [true, false] {
            let mut df = df!(
                "event_type" => &et,
                "topic" => &topic,
                "asset_id" => &asset,
                "channel" => &channel,
            )
            .unwrap();
            if !with_channel {
                df = df.drop("channel").unwrap();
            }
            let schema = df.schema().as_ref().clone();
            let tags = Arc::new(RuleTags::new(&model));
            let got = df
                .clone()
                .lazy()
                .select([tags.expr(&schema).alias("t")])
                .collect()
                .unwrap();
            let mut want = lit(0u64).cast(DataType::UInt64);
            for (r, rule) in model.implicit.iter().enumerate() {
                want = want
                    + when(predicate(rule, &schema))
                        .then(lit(1u64 << r))
                        .otherwise(lit(0u64));
            }
            let want = df.lazy().select([want.alias("t")]).collect().unwrap();
            assert_eq!(got, want, "with a channel column: {with_channel}");
            let tagged = got.column("t").unwrap().u64().unwrap().clone();
            assert!(tagged.iter().any(|m| m.is_some_and(|m| m.count_ones() > 1)));
        }
    }
}
