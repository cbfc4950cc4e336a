//! What a comparison could not compare, and why, in either language.
//!
//! Input: the reasons `compare` meets (a file a run lacks, a key that is not what calibrate
//! writes, a run with no live score). Output: [`Missing`], written to `compare.json` as its
//! English sentence (the schema's `missing[]` of strings) and shown on the page and console in
//! the page's language. Guarantees: names of files and keys are kept as they are in both
//! languages, so a reader can find them.

use serde::{Serialize, Serializer};

use crate::report::Lang;

/// Which of the two runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Side {
    Old,
    New,
}

impl Side {
    fn word(self, l: Lang) -> &'static str {
        match (self, l) {
            (Side::Old, Lang::En) => "old",
            (Side::New, Lang::En) => "new",
            (Side::Old, Lang::De) => "frühere",
            (Side::New, Lang::De) => "neue",
        }
    }
}

/// What a key holds instead of what calibrate writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expected {
    List,
    Number,
    Text,
}

/// Why the runs' rules cannot be read for "what was adopted".
#[derive(Debug, Clone, PartialEq)]
pub enum RulesError {
    /// recommendation.json has no `weights`.
    NoWeights(Side),
    /// A key under `weights` is not what calibrate writes.
    Bad {
        side: Side,
        key: String,
        expected: Expected,
    },
    /// The new run recommended a first model: nothing of the old recommendation is live.
    NewIsFirstModel,
}

/// Which run had no live score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoLive {
    Old,
    New,
    Both,
}

/// One thing the comparison could not compare.
#[derive(Debug, Clone, PartialEq)]
pub enum Missing {
    /// A run folder lacks one of calibrate's files.
    NoFile { side: Side, file: &'static str },
    /// A quality figure is not in both runs (`in_recommendation`: it lives in
    /// recommendation.json, which runs before the walk-forward did not fill).
    Figure {
        name: &'static str,
        in_recommendation: bool,
    },
    /// A run recommended a first model: it had no live score.
    NoLiveScore(NoLive),
    /// What was adopted could not be read.
    Adoption(RulesError),
    /// The old recommendation's threshold is not a number.
    Threshold {
        name: &'static str,
        key: &'static str,
    },
    /// Something was adopted, but the old back-test or the new SQL metrics are missing.
    Promise,
    /// report-data.json with segments is not in both runs.
    Segments,
    /// metrics.json with rule_stability is not in both runs.
    Drift,
}

impl Missing {
    /// The sentence in `l`.
    pub fn text(&self, l: Lang) -> String {
        match (self, l) {
            (Missing::NoFile { side, file }, Lang::En) => {
                format!("the {} run has no {file}", side.word(l))
            }
            (Missing::NoFile { side, file }, Lang::De) => {
                format!("dem {}n Lauf fehlt {file}", side.word(l))
            }
            (Missing::Figure { name, in_recommendation }, Lang::En) => format!(
                "{name}: not in both runs' {}",
                if *in_recommendation {
                    "recommendation.json (runs before the walk-forward did not measure it)"
                } else {
                    "metrics.json"
                }
            ),
            (Missing::Figure { name, in_recommendation }, Lang::De) => format!(
                "{name}: nicht in der {} beider Läufe",
                if *in_recommendation {
                    "recommendation.json (Läufe vor dem Rücktest je Quartal haben sie nicht gemessen)"
                } else {
                    "metrics.json"
                }
            ),
            (Missing::NoLiveScore(which), Lang::En) => format!(
                "live-score quality then and now: {}",
                match which {
                    NoLive::Both => "neither run had a live score: both recommended a first model",
                    NoLive::Old => "the old run recommended a first model and had no live score: this is the first review of a live model",
                    NoLive::New => "the new run recommended a first model and has no live score (every rule at 0 points, or rules that match nothing)",
                }
            ),
            (Missing::NoLiveScore(which), Lang::De) => format!(
                "Qualität des Live-Scores damals und heute: {}",
                match which {
                    NoLive::Both => "keiner der beiden Läufe hatte einen Live-Score: beide empfahlen ein erstes Modell",
                    NoLive::Old => "der frühere Lauf empfahl ein erstes Modell und hatte keinen Live-Score: Dies ist das erste Review eines Live-Modells",
                    NoLive::New => "der neue Lauf empfahl ein erstes Modell und hat keinen Live-Score (alle Regeln mit 0 Punkten oder Regeln ohne Treffer)",
                }
            ),
            (Missing::Adoption(why), _) => {
                let why = match (why, l) {
                    (RulesError::NoWeights(side), Lang::En) => format!(
                        "the {} run's recommendation.json has no `weights`",
                        side.word(l)
                    ),
                    (RulesError::NoWeights(side), Lang::De) => format!(
                        "die recommendation.json des {}n Laufs hat kein `weights`",
                        side.word(l)
                    ),
                    (RulesError::Bad { side, key, expected }, Lang::En) => format!(
                        "the {} run's recommendation.json: `{key}` is not {}",
                        side.word(l),
                        match expected {
                            Expected::List => "a list",
                            Expected::Number => "a number",
                            Expected::Text => "a text",
                        }
                    ),
                    (RulesError::Bad { side, key, expected }, Lang::De) => format!(
                        "die recommendation.json des {}n Laufs: `{key}` ist {}",
                        side.word(l),
                        match expected {
                            Expected::List => "keine Liste",
                            Expected::Number => "keine Zahl",
                            Expected::Text => "kein Text",
                        }
                    ),
                    (RulesError::NewIsFirstModel, Lang::En) => "the new run's config gives every lead the same score: nothing of the old recommendation is live".into(),
                    (RulesError::NewIsFirstModel, Lang::De) => "die Konfiguration des neuen Laufs gibt jedem Lead denselben Score: Von der früheren Empfehlung ist nichts in Betrieb".into(),
                };
                format!("{} {why}", l.pick("what was adopted:", "was übernommen wurde:"))
            }
            (Missing::Threshold { name, key }, Lang::En) => format!(
                "{name}: the old run's recommendation.json: `{key}` is not a number"
            ),
            (Missing::Threshold { name, key }, Lang::De) => format!(
                "{}: die recommendation.json des früheren Laufs: `{key}` ist keine Zahl",
                name.replace(" threshold", "-Schwelle")
            ),
            (Missing::Promise, Lang::En) => {
                "promised against measured: the old back-test or the new SQL metrics are missing"
                    .into()
            }
            (Missing::Promise, Lang::De) => "Versprochen gegen gemessen: Der frühere Rücktest oder die neuen SQL-Kennzahlen fehlen".into(),
            (Missing::Segments, Lang::En) => {
                "flagged segments: report-data.json with segments is needed in both runs".into()
            }
            (Missing::Segments, Lang::De) => "auffällige Segmente: Beide Läufe brauchen eine report-data.json mit Segmenten".into(),
            (Missing::Drift, Lang::En) => "rule drift: metrics.json with rule_stability (leadcal 0.1 from issue 20 on) is needed in both runs".into(),
            (Missing::Drift, Lang::De) => "Veränderte Wirkung der Regeln: Beide Läufe brauchen eine metrics.json mit rule_stability (ab leadcal 0.1)".into(),
        }
    }
}

/// compare.json keeps the English sentence (its `missing[]` is a list of strings).
impl Serialize for Missing {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_in_both_languages_and_json_keeps_the_english() {
        let all = [
            Missing::NoFile {
                side: Side::Old,
                file: "report-data.json",
            },
            Missing::Figure {
                name: "live_roc_auc",
                in_recommendation: false,
            },
            Missing::NoLiveScore(NoLive::Old),
            Missing::Adoption(RulesError::Bad {
                side: Side::New,
                key: "weights.implicit".into(),
                expected: Expected::List,
            }),
            Missing::Adoption(RulesError::NewIsFirstModel),
            Missing::Threshold {
                name: "SQL threshold",
                key: "sql",
            },
            Missing::Promise,
            Missing::Segments,
            Missing::Drift,
        ];
        for m in &all {
            let (en, de) = (m.text(Lang::En), m.text(Lang::De));
            assert_ne!(en, de);
            assert_eq!(
                serde_json::to_value(m).unwrap(),
                serde_json::Value::String(en)
            );
        }
        assert_eq!(all[0].text(Lang::En), "the old run has no report-data.json");
        assert_eq!(
            all[0].text(Lang::De),
            "dem früheren Lauf fehlt report-data.json"
        );
        assert_eq!(
            all[5].text(Lang::De),
            "SQL-Schwelle: die recommendation.json des früheren Laufs: `sql` ist keine Zahl"
        );
    }
}
