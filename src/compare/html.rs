//! `compare.html`: the comparison as one self-contained page in the report's style.
//!
//! Input: a [`Comparison`]. Output: HTML (no scripts, no external requests). Guarantees: only
//! formats numbers the comparison holds; every string from the runs is escaped (maud).

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Adoption, Comparison, Figure, FitOverlap, Presence, RuleAdoption, Verdict};
use crate::report::Lang;

fn fig(l: Lang, f: &Figure, pct: bool) -> String {
    let one = |v: Option<f64>| match (v, pct) {
        (Some(v), true) => l.pct(v, 1),
        (Some(v), false) => l.num(v, if v.abs() >= 10.0 { 0 } else { 3 }),
        (None, _) => "–".into(),
    };
    match (f.low, f.high) {
        (Some(_), Some(_)) => format!("{} {}", one(f.value), l.interval(&one(f.low), &one(f.high))),
        _ => one(f.value),
    }
}

fn verdict(l: Lang, v: Verdict) -> &'static str {
    match v {
        Verdict::Higher => l.pick(
            "higher, beyond the intervals",
            "höher, jenseits der Intervalle",
        ),
        Verdict::Lower => l.pick(
            "lower, beyond the intervals",
            "niedriger, jenseits der Intervalle",
        ),
        Verdict::WithinIntervals => l.pick("within the intervals", "innerhalb der Intervalle"),
        Verdict::Unknown => l.pick("cannot tell", "nicht bestimmbar"),
    }
}

fn figure_name(l: Lang, f: &str) -> &'static str {
    match f {
        "live_roc_auc" => l.pick(
            "live score ROC AUC (test period)",
            "Live-Score ROC-AUC (Testzeitraum)",
        ),
        "roc_auc" => l.pick("ROC AUC (test period)", "ROC-AUC (Testzeitraum)"),
        "recommended_roc_auc" => l.pick(
            "recommended points' ROC AUC (test period)",
            "ROC-AUC der empfohlenen Punkte (Testzeitraum)",
        ),
        "sql_precision" => l.pick("precision at SQL", "Abschlussquote bei SQL"),
        "sql_recall" => l.pick("recall at SQL", "erfasste Abschlüsse bei SQL"),
        _ => l.pick("hand-overs per month at SQL", "Übergaben pro Monat bei SQL"),
    }
}

fn adoption(l: Lang, a: Adoption) -> &'static str {
    match a {
        Adoption::Adopted => l.pick("adopted", "übernommen"),
        Adoption::PartlyAdopted => l.pick("partly adopted", "teilweise übernommen"),
        Adoption::NotAdopted => l.pick("not adopted", "nicht übernommen"),
        Adoption::ChangedOtherwise => l.pick("changed otherwise", "anders geändert"),
        Adoption::Unchanged => l.pick(
            "unchanged (nothing recommended)",
            "unverändert (keine Empfehlung)",
        ),
        Adoption::New => l.pick("new rule", "neue Regel"),
        Adoption::Removed => l.pick("removed", "entfernt"),
    }
}

/// Precision and recall are shares; the rest are numbers.
fn is_share(figure: &str) -> bool {
    figure.ends_with("precision") || figure.ends_with("recall")
}

/// A run's day (ISO in compare.json) in the language's form; a dash when unknown.
fn day(l: Lang, iso: &Option<String>) -> String {
    iso.as_deref().map_or("–".to_string(), |d| l.date(d))
}

/// A rule as the page names it: the thresholds in the language, ranges written for readers.
fn rule_name(l: Lang, c: &Comparison, rule: &str) -> String {
    match rule {
        "MQL threshold" => l.pick("MQL threshold", "MQL-Schwelle").into(),
        "SQL threshold" => l.pick("SQL threshold", "SQL-Schwelle").into(),
        _ => crate::report::labels::shown(l, &c.labels, rule),
    }
}

fn opt_num(l: Lang, v: Option<f64>) -> String {
    v.map_or("–".into(), |v| l.num(v, 0))
}

fn all_zero(a: &RuleAdoption) -> bool {
    [a.old_current, a.old_recommended, a.new_current] == [Some(0.0); 3]
}

/// The whole page.
pub fn page(c: &Comparison, l: Lang) -> String {
    let title = l.pick("Review over review", "Review im Vergleich");
    let count = |s: Adoption| c.adoption.iter().filter(|a| a.status == s).count();
    let rules_recommended = c
        .adoption
        .iter()
        .filter(|a| {
            a.old_current.is_some()
                && a.old_recommended.is_some()
                && a.old_current != a.old_recommended
        })
        .count();
    // A first model leaves most rules at 0: rows of three zeros say nothing.
    let zero_rows = c.adoption.iter().filter(|a| all_zero(a)).count();
    let markup: Markup = html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) ": " (c.old.name) " → " (c.new.name) }
                style { (PreEscaped(crate::report::html::CSS)) }
            }
            body { main {
                h1 { (title) }
                p.sub { (c.old.name) " → " (c.new.name) }
                section.summary {
                    @if c.first_review { p { (match l {
                        Lang::En => "The earlier run recommended a first model: there was no live score then. So this is the first review of the model it recommended. Its quality then cannot be compared; what the earlier back-test promised for it is set against what the live score measures now.",
                        Lang::De => "Der frühere Lauf empfahl ein erstes Modell: Damals gab es keinen Live-Score. Dies ist also das erste Review des damals empfohlenen Modells. Seine Qualität damals lässt sich nicht vergleichen; dem, was der frühere Backtest für das Modell versprach, steht gegenüber, was der Live-Score jetzt misst.",
                    }) } }
                    @if c.new.first_model { p { (l.pick(
                        "The new run recommended a first model: its config gives every lead the same score, so nothing of the earlier recommendation is live.",
                        "Der neue Lauf empfahl ein erstes Modell: Seine Konfiguration gibt jedem Lead denselben Score; von der früheren Empfehlung ist also nichts in Betrieb.",
                    )) } } @else if c.adoption.is_empty() { p { (l.pick(
                        "What was adopted could not be compared; the end of the page says why.",
                        "Was übernommen wurde, ließ sich nicht vergleichen; das Ende der Seite nennt den Grund.",
                    )) } } @else {
                    p { (match l {
                            Lang::En => format!("Of the {rules_recommended} changes the earlier review recommended, {} were adopted, {} partly and {} not.", count(Adoption::Adopted), count(Adoption::PartlyAdopted), count(Adoption::NotAdopted)),
                            Lang::De => format!("Von den {rules_recommended} Änderungen, die das frühere Review empfahl, wurden {} übernommen, {} teilweise und {} nicht.", count(Adoption::Adopted), count(Adoption::PartlyAdopted), count(Adoption::NotAdopted)),
                        }) }
                    }
                }
                h2 { (l.pick("The two runs", "Die beiden Läufe")) }
                table {
                    thead { tr { th {} th { (l.pick("earlier", "früher")) } th { (l.pick("now", "jetzt")) } } }
                    tbody {
                        tr { td { (l.pick("leads created", "Leads angelegt")) } td { (day(l, &c.old.since)) " – " (day(l, &c.old.until)) } td { (day(l, &c.new.since)) " – " (day(l, &c.new.until)) } }
                        tr { td { (l.pick("evaluated leads (converted)", "ausgewertete Leads (mit Abschluss)")) } td { (opt_num(l, c.old.evaluable.map(|v| v as f64))) " (" (opt_num(l, c.old.converted.map(|v| v as f64))) ")" } td { (opt_num(l, c.new.evaluable.map(|v| v as f64))) " (" (opt_num(l, c.new.converted.map(|v| v as f64))) ")" } }
                        tr { td { (l.pick("test period from (leads, converted)", "Testzeitraum ab (Leads, mit Abschluss)")) } td { (day(l, &c.old.test_from)) " (" (opt_num(l, c.old.test_leads.map(|v| v as f64))) ", " (opt_num(l, c.old.test_converted.map(|v| v as f64))) ")" } td { (day(l, &c.new.test_from)) " (" (opt_num(l, c.new.test_leads.map(|v| v as f64))) ", " (opt_num(l, c.new.test_converted.map(|v| v as f64))) ")" } }
                        tr { td { "leadcal" } td { (c.old.version.clone().unwrap_or_else(|| "–".into())) } td { (c.new.version.clone().unwrap_or_else(|| "–".into())) } }
                    }
                }
                p { (match (l, c.windows_overlap) {
                    (Lang::En, Some(true)) => "The two windows overlap: part of the same leads is judged twice, so differences understate what changed.",
                    (Lang::De, Some(true)) => "Die beiden Zeitfenster überlappen: Ein Teil derselben Leads wird zweimal bewertet, Unterschiede fallen daher kleiner aus.",
                    (Lang::En, Some(false)) => "The two windows do not overlap.",
                    (Lang::De, Some(false)) => "Die beiden Zeitfenster überlappen nicht.",
                    (Lang::En, None) => "Whether the windows overlap is not known.",
                    (Lang::De, None) => "Ob sich die Zeitfenster überlappen, ist nicht bekannt.",
                }) }
                h2 { (l.pick("Live-score quality then and now", "Qualität des Live-Scores damals und heute")) }
                @if c.old.first_model || c.new.first_model { p { (l.pick(
                    "A run that recommended a first model had no live score, so only the recommended points' ranking is compared here.",
                    "Ein Lauf, der ein erstes Modell empfahl, hatte keinen Live-Score; verglichen wird hier nur die Rangfolge der empfohlenen Punkte.",
                )) } }
                table {
                    thead { tr { th {} th.n { (l.pick("earlier [95%]", "früher [95 %]")) } th.n { (l.pick("now [95%]", "jetzt [95 %]")) } th { (l.pick("difference", "Unterschied")) } } }
                    tbody { @for q in &c.quality {
                        tr { td { (figure_name(l, &q.figure)) } td.n { (fig(l, &q.old, is_share(&q.figure))) } td.n { (fig(l, &q.new, is_share(&q.figure))) } td { (verdict(l, q.verdict)) } }
                    } }
                }
                h2 { (l.pick("What was adopted", "Was übernommen wurde")) }
                @if c.adoption.is_empty() {
                    p { (l.pick("Nothing to compare (see the summary above).", "Nichts zu vergleichen (siehe die Zusammenfassung oben).")) }
                } @else { table {
                    thead { tr { th { (l.pick("rule", "Regel")) } th.n { (l.pick("points then", "Punkte damals")) } th.n { (l.pick("recommended then", "damals empfohlen")) } th.n { (l.pick("points now", "Punkte jetzt")) } th { "" } } }
                    tbody { @for a in c.adoption.iter().filter(|a| !all_zero(a)) {
                        tr { td { (rule_name(l, c, &a.rule)) } td.n { (opt_num(l, a.old_current)) } td.n { (opt_num(l, a.old_recommended)) } td.n { (opt_num(l, a.new_current)) } td { (adoption(l, a.status)) } }
                    } }
                } }
                @if zero_rows > 0 { p.sub { (match l {
                    Lang::En => format!("{} rules at 0 points then, recommended and now are not listed.", l.int(zero_rows as u64)),
                    Lang::De => format!("{} {} mit 0 Punkten damals, empfohlen und jetzt {} nicht aufgeführt.", l.int(zero_rows as u64), if zero_rows == 1 { "Regel" } else { "Regeln" }, if zero_rows == 1 { "ist" } else { "sind" }),
                }) } }
                @if !c.promised_vs_measured.is_empty() {
                    h3 { (l.pick("Did the adopted changes deliver what the back-test promised?", "Haben die übernommenen Änderungen gehalten, was der Rücktest versprach?")) }
                    table {
                        thead { tr { th {} th.n { (l.pick("promised (earlier back-test) [95%]", "versprochen (früherer Rücktest) [95 %]")) } th.n { (l.pick("measured now [95%]", "jetzt gemessen [95 %]")) } th { (l.pick("difference", "Unterschied")) } } }
                        tbody { @for p in &c.promised_vs_measured {
                            tr { td { (figure_name(l, &p.figure)) } td.n { (fig(l, &p.promised, is_share(&p.figure))) } td.n { (fig(l, &p.measured, is_share(&p.figure))) } td { (verdict(l, p.verdict)) } }
                        } }
                    }
                    @match c.measured_in_fit {
                        Some(FitOverlap::Whole) => p { (match l {
                            Lang::En => "The new run's whole test period lies inside the earlier run's data: the points the earlier run wrote were fitted on the very leads they are measured on now. \"Measured now\" is in-sample and flatters them; only a run on leads created after the earlier run's last lead measures them fairly.",
                            Lang::De => "Der ganze Testzeitraum des neuen Laufs liegt in den Daten des früheren Laufs: Die damals geschriebenen Punkte wurden an genau den Leads angepasst, an denen sie jetzt gemessen werden. „Jetzt gemessen“ ist daher an den eigenen Trainingsdaten gemessen und fällt zu günstig aus; fair misst erst ein Lauf auf Leads, die nach dem letzten Lead des früheren Laufs angelegt wurden.",
                        }) },
                        Some(FitOverlap::Part) => p { (match l {
                            Lang::En => "The new run's test period begins before the earlier run's last lead: the points the earlier run wrote were fitted on part of the leads they are measured on now. \"Measured now\" is partly in-sample and flatters them; a run on leads created after the earlier run's last lead measures them fairly.",
                            Lang::De => "Der Testzeitraum des neuen Laufs beginnt vor dem letzten Lead des früheren Laufs: Die damals geschriebenen Punkte wurden an einem Teil der Leads angepasst, an denen sie jetzt gemessen werden. „Jetzt gemessen“ stammt daher teilweise aus den eigenen Trainingsdaten und fällt zu günstig aus; fair misst erst ein Lauf auf Leads, die nach dem letzten Lead des früheren Laufs angelegt wurden.",
                        }) },
                        _ => {}
                    }
                }
                h2 { (l.pick("Segments of hand-overs that convert worst", "Übergabe-Segmente mit der schlechtesten Abschlussquote")) }
                @if c.old.first_model && !c.new.first_model { p { (l.pick(
                    "The earlier run handed no leads over (a first model), so every group flagged now is flagged for the first time.",
                    "Der frühere Lauf übergab keine Leads (ein erstes Modell); jede jetzt auffällige Gruppe ist daher zum ersten Mal auffällig.",
                )) } }
                @if c.segments.is_empty() {
                    p { (l.pick("None in either run.", "In keinem der beiden Läufe.")) }
                } @else { table {
                    thead { tr { th { (l.pick("group", "Gruppe")) } th.n { (l.pick("converted then", "damals mit Abschluss")) } th.n { (l.pick("converted now", "jetzt mit Abschluss")) } th { "" } } }
                    tbody { @for s in &c.segments {
                        tr { td { (crate::report::labels::shown(l, &c.labels, &s.group)) } td.n { (s.old_rate.map_or("–".into(), |v| l.pct(v, 1))) } td.n { (s.new_rate.map_or("–".into(), |v| l.pct(v, 1))) } td { (match s.status {
                            Presence::StillFlagged => l.pick("still flagged", "weiterhin auffällig"),
                            Presence::NoLongerFlagged => l.pick("no longer flagged", "nicht mehr auffällig"),
                            Presence::NewlyFlagged => l.pick("newly flagged", "neu auffällig"),
                        }) } }
                    } }
                } }
                h2 { (l.pick("Rules whose drift status changed", "Regeln, deren Wirkung sich neu (oder nicht mehr) verändert zeigt")) }
                @if c.drift.is_empty() {
                    p { (l.pick("None.", "Keine.")) }
                } @else {
                    table {
                        thead { tr { th { (l.pick("rule", "Regel")) } th { (l.pick("drift then", "Wirkung damals verändert")) } th { (l.pick("drift now", "Wirkung jetzt verändert")) } } }
                        tbody { @for d in &c.drift {
                            tr { td { (crate::report::labels::shown(l, &c.labels, &d.rule)) } td { (if d.old_detected { l.pick("yes", "ja") } else { l.pick("no", "nein") }) } td { (if d.new_detected { format!("{} {}", l.pick("yes, since", "ja, seit"), d.new_since.as_deref().map_or("–".to_string(), |p| l.period(p))) } else { l.pick("no", "nein").to_string() }) } }
                        } }
                    }
                }
                @if !c.missing.is_empty() {
                    h2 { (l.pick("What could not be compared", "Was nicht verglichen werden konnte")) }
                    ul { @for m in &c.missing { li { (m.text(l)) } } }
                }
                footer { (l.pick("Made by leadcal compare from the two run folders' saved files; nothing was refitted. Aggregates only.", "Erstellt von leadcal compare aus den gespeicherten Dateien der beiden Läufe; nichts wurde neu angepasst. Nur Aggregate.")) }
            } }
        }
    };
    markup.into_string()
}
