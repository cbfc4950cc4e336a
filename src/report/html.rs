//! `report.html`: one self-contained page (CSS and PNG charts inline, no scripts, no external
//! requests) that answers the four review questions, in English or German.
//!
//! Templating is maud: every value interpolated into the page is HTML-escaped by the macro,
//! so strings from the data (attribute values, segment and rule names, file names) can only
//! ever come out as text. The page is built from [`Data`] alone; the only arithmetic here is
//! choosing words (e.g. "partly" for an AUC between 0.65 and 0.75) and half-widths of
//! intervals for "±".

use base64::Engine;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::glossary::{self, Term};
use super::rich::{link, name, rich};
use super::{Data, Lang, RuleRow, SegmentRow};
use crate::evaluate::{Estimate, ThresholdMetrics};
use crate::features::Skip;
use crate::recommend::Flag;

/// The report's style sheet (also `compare.html`'s).
pub const CSS: &str = r#"
:root { --live: #1f5fa8; --model: #e07b1a; --ink: #1d2430; --muted: #5b6473; --rule: #d9dee7; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f9; color: var(--ink);
  font: 16px/1.5 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 32px 40px 48px; background: #fff; }
h1 { font-size: 30px; margin: 0 0 4px; }
h2 { font-size: 23px; margin: 40px 0 12px; padding-top: 12px; border-top: 2px solid var(--rule); }
h3 { font-size: 18px; margin: 24px 0 8px; }
p.sub { color: var(--muted); margin: 0 0 16px; }
.summary { background: #eef3fa; border-left: 5px solid var(--live); padding: 12px 20px 12px 16px; }
.summary ol { margin: 0; padding-left: 22px; }
.summary li { margin: 8px 0; }
.q { font-weight: bold; }
/* A table wider than the page scrolls inside itself; the page never scrolls sideways. */
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 15px; display: block; max-width: 100%; overflow-x: auto; }
th, td { border-bottom: 1px solid var(--rule); padding: 5px 10px; text-align: left; vertical-align: top; }
th { background: #f0f2f6; }
td.n, th.n { text-align: right; white-space: nowrap; }
figure { margin: 16px 0 24px; }
figure img { width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 14px; }
.flag { color: #a33; font-weight: bold; }
/* A number in the body links to the appendix; it reads as a number, not as a button. */
a.n { color: inherit; text-decoration: underline dotted var(--muted); text-underline-offset: 3px; }
p.more { color: var(--muted); font-size: 14px; }
dl.terms { display: grid; grid-template-columns: minmax(12em, 18em) 1fr; gap: 4px 16px; margin: 8px 0; }
dl.terms dt { font-weight: bold; }
dl.terms dd { margin: 0; }
footer { margin-top: 40px; padding-top: 12px; border-top: 2px solid var(--rule); color: var(--muted); font-size: 13px; }
footer code { font-size: 12px; word-break: break-all; }
@media print { body { background: #fff; } main { padding: 0; } h2 { break-before: page; } figure { break-inside: avoid; } }
"#;

/// An estimate with its interval: 0.584 [0.571, 0.597].
fn est(l: Lang, e: &Estimate, dp: usize) -> String {
    let f = |v: Option<f64>| v.map_or("–".into(), |v| l.num(v, dp));
    match (e.low, e.high) {
        (Some(_), Some(_)) => format!("{} {}", f(e.value), l.interval(&f(e.low), &f(e.high))),
        _ => f(e.value),
    }
}

/// A ROC AUC said as what it is: the share of pairs (one lead that converted, one that did
/// not) the score puts in the right order, with its interval in words. The figure links to
/// the glossary's entry for ROC AUC, the bounds to the one for ranges.
fn pairs_words(l: Lang, e: &Estimate) -> String {
    let f = |v: f64| link(Term::RocAuc.anchor(), l.pct(v, 1));
    match (e.value, e.low, e.high) {
        (Some(v), Some(lo), Some(hi)) => format!(
            "{} ({} {} {} {})",
            f(v),
            l.pick("between", "zwischen"),
            link(Term::Interval.anchor(), l.pct(lo, 1)),
            l.pick("and", "und"),
            link(Term::Interval.anchor(), l.pct(hi, 1))
        ),
        (Some(v), ..) => f(v),
        _ => "–".into(),
    }
}

/// A share with its interval, as percentages.
fn pct_est(l: Lang, e: &Estimate) -> String {
    match (e.value, e.low, e.high) {
        (Some(v), Some(lo), Some(hi)) => {
            format!(
                "{} {}",
                l.pct(v, 1),
                l.interval(&l.pct(lo, 1), &l.pct(hi, 1))
            )
        }
        (v, _, _) => l.pct_opt(v, 1),
    }
}

/// A share's interval in words, each bound linked to the glossary's entry for ranges:
/// " (between 7.2% and 11.7%)".
fn interval_words(l: Lang, e: &Estimate) -> String {
    let anchor = Term::Interval.anchor();
    match (e.low, e.high) {
        (Some(lo), Some(hi)) => format!(
            " ({} {} {} {})",
            l.pick("between", "zwischen"),
            link(anchor, l.pct(lo, 1)),
            l.pick("and", "und"),
            link(anchor, l.pct(hi, 1))
        ),
        _ => String::new(),
    }
}

fn group_name(l: Lang, d: &Data, g: &SegmentRow) -> String {
    name(group_text(l, d, g))
}

fn group_text(l: Lang, d: &Data, g: &SegmentRow) -> String {
    g.values
        .iter()
        .map(|(a, v)| format!("{} = {}", d.shown(l, a), d.shown(l, v)))
        .collect::<Vec<_>>()
        .join(" & ")
}

fn table_name(l: Lang, t: &str) -> String {
    match (l, t) {
        (Lang::De, "leads") => "Leads".into(),
        (Lang::De, "events") => "Ereignisse".into(),
        (Lang::De, "outcomes") => "Ergebnisse".into(),
        _ => t.to_string(),
    }
}

fn changed(r: &RuleRow) -> bool {
    r.current != r.recommended
}

fn period_text(l: Lang, d: &Data) -> String {
    let w = &d.window;
    let last = if w.last_created.is_empty() {
        &w.until
    } else {
        &w.last_created
    };
    let (since, last, test_leads, test_from, target) = (
        link("a-data", l.date(&w.since)),
        link("a-data", l.date(last)),
        l.int(d.quality.test_leads),
        link("a-data", l.date(&w.test_from)),
        name(super::labels::one(&d.labels, &w.target)),
    );
    let (horizon, snapshot) = (w.horizon_days, w.snapshot_days);
    match l {
        Lang::En => format!(
            "Leads created {since} to {last}; tested on the {test_leads} leads created from {test_from}, which the model never saw. A lead counts as converted when it reached “{target}” within {horizon} days of its snapshot ({snapshot} days after creation)."
        ),
        Lang::De => format!(
            "Leads erstellt vom {since} bis {last}; getestet an den {test_leads} Leads, die ab {test_from} erstellt wurden und die das Modell nicht kannte. Ein Lead zählt als Abschluss, wenn er die Stufe „{target}“ innerhalb von {horizon} Tagen nach seinem Stichtag erreicht hat ({snapshot} Tage nach Erstellung)."
        ),
    }
}

/// Question 1 in one paragraph.
/// Question 1 for a first model: there is no live score, so the recommended points alone.
fn answer_ranking_first(l: Lang, d: &Data, f: &crate::recommend::FirstModel) -> String {
    let why = match (l, f.all_zero) {
        (Lang::En, true) => "every rule of the live model was at 0 points",
        (Lang::En, false) => "the live model gave every lead the same score",
        (Lang::De, true) => "alle Regeln des heutigen Modells standen auf 0 Punkten",
        (Lang::De, false) => "das heutige Modell gab jedem Lead denselben Score",
    };
    let Some(r) = &d.review else {
        return String::new();
    };
    let k = &r.ranking;
    let (rec, model) = (
        pairs_words(l, &k.recommended.roc_auc),
        pairs_words(l, &k.model.roc_auc),
    );
    let lift = k
        .recommended
        .top_tenth_lift
        .value
        .map_or("–".into(), |v| link(Term::Lift.anchor(), l.num(v, 1)));
    match l {
        Lang::En => format!(
            "This is a first model: there was no live score to compare against ({why}). Take one test-period lead that converted and one that did not: the points leadcal proposes, whose fit never saw these leads, put the one that converted ahead in {rec} of such pairs (half would be chance). The top-scored tenth converts {lift} times as often as the average. A model on every column puts it ahead in {model}."
        ),
        Lang::De => format!(
            "Dies ist ein erstes Modell: Es gab keinen Score zum Vergleich ({why}). Vergleicht man im Testzeitraum je einen Lead mit und einen ohne Abschluss, liegt der mit Abschluss nach den von leadcal vorgeschlagenen Punkten, deren Schätzung diese Leads nicht kannte, in {rec} der Fälle vorn (die Hälfte entspräche reinem Zufall). Das bestbewertete Zehntel schließt {lift}-mal so oft ab wie der Durchschnitt. Ein Modell auf allen Spalten liegt in {model} der Fälle richtig."
        ),
    }
}

fn answer_ranking(l: Lang, d: &Data) -> String {
    if let Some(f) = &d.first_model {
        return answer_ranking_first(l, d, f);
    }
    let t = &d.test;
    let live = t.live.roc_auc.value.unwrap_or(0.5);
    let model = t.model.roc_auc.value.unwrap_or(0.5);
    let verdict = if live >= 0.75 {
        l.pick("Yes, largely.", "Ja, weitgehend.")
    } else if live >= 0.65 {
        l.pick("Partly.", "Teilweise.")
    } else {
        l.pick("Mostly not.", "Überwiegend nicht.")
    };
    let top = t.live_deciles.first();
    let top_rate = top.map_or("–".into(), |r| l.pct(r.rate, 1));
    let top_lift = top
        .and_then(|r| r.lift)
        .map_or("–".into(), |v| link(Term::Lift.anchor(), l.num(v, 1)));
    let better = model - live >= 0.03;
    let (pairs, average, model_pairs) = (
        pairs_words(l, &t.live.roc_auc),
        l.pct_opt(t.rate, 1),
        pairs_words(l, &t.model.roc_auc),
    );
    let end = match (l, better) {
        (Lang::En, true) => ": the same data supports a clearly better ranking.",
        (Lang::En, false) => {
            ", about the same: the live weights already use what the data can tell."
        }
        (Lang::De, true) => ": dieselben Daten erlauben eine deutlich bessere Rangfolge.",
        (Lang::De, false) => {
            ", etwa gleich viel: die Live-Gewichte nutzen schon, was die Daten hergeben."
        }
    };
    match l {
        Lang::En => format!(
            "{verdict} Take one test-period lead that converted and one that did not: today's score puts the one that converted ahead in {pairs} of such pairs (half would be chance). The top-scored tenth converted at {top_rate}, {top_lift} times the average of {average}. A model fitted on earlier leads puts it ahead in {model_pairs}{end}"
        ),
        Lang::De => format!(
            "{verdict} Vergleicht man im Testzeitraum je einen Lead mit und einen ohne Abschluss, liegt der mit Abschluss nach dem heutigen Score in {pairs} der Fälle vorn (die Hälfte entspräche reinem Zufall). Das bestbewertete Zehntel schloss zu {top_rate} ab, {top_lift}-mal so oft wie der Durchschnitt von {average}. Ein an früheren Leads angepasstes Modell liegt in {model_pairs} der Fälle richtig{end}"
        ),
    }
}

/// Question 2 in one paragraph.
fn answer_segments(l: Lang, d: &Data) -> String {
    if d.first_model.is_some() && d.segments.handovers == 0 {
        // No live score handed anyone over: there is no hand-over to look into yet.
        return l
            .pick(
                "No live score handed leads over, so there are no high-scoring non-buyers to look into yet. The next review, with the first model live, answers this; what marks the leads that did buy is below.",
                "Da bisher kein Scoring im Einsatz war, lässt sich noch nicht auswerten, welche hoch bewerteten Leads nicht gekauft haben. Das beantwortet das nächste Review, wenn das erste Modell im Einsatz ist; was die Käufer auszeichnet, steht unten.",
            )
            .to_string();
    }
    let s = &d.segments;
    let worst: Vec<String> = s
        .worst
        .iter()
        .take(3)
        .map(|g| {
            format!(
                "{} ({} {}, {} {})",
                group_name(l, d, g),
                l.int(g.leads),
                l.pick("hand-overs", "Übergaben"),
                l.pct(g.rate, 1),
                l.pick("converted", "mit Abschluss")
            )
        })
        .collect();
    let head = match l {
        Lang::En => format!(
            "Over the whole window, of the {} leads handed over at SQL {}, {} converted.",
            l.int(s.handovers),
            l.num(s.threshold, 0),
            l.pct(s.rate, 1)
        ),
        Lang::De => format!(
            "Über das ganze Zeitfenster schlossen von den {} bei SQL {} übergebenen Leads {} ab.",
            l.int(s.handovers),
            l.num(s.threshold, 0),
            l.pct(s.rate, 1)
        ),
    };
    if worst.is_empty() {
        return match l {
            Lang::En => format!(
                "{head} No attribute value or pair of values converts worse than that beyond what chance explains, after correcting for testing many groups ({} groups tested).",
                l.int(s.tested)
            ),
            Lang::De => format!(
                "{head} Kein Attributwert und kein Wertepaar schließt nach Korrektur für Mehrfachtests auffällig schlechter ab ({} Gruppen geprüft).",
                l.int(s.tested)
            ),
        };
    }
    match l {
        Lang::En => format!(
            "{head} {} groups convert worse beyond what chance explains, after correcting for testing many groups; the worst: {}.",
            l.int(s.worst.len() as u64),
            worst.join("; ")
        ),
        Lang::De => format!(
            "{head} {} Gruppen schließen nach Korrektur für Mehrfachtests auffällig schlechter ab; am schlechtesten: {}.",
            l.int(s.worst.len() as u64),
            worst.join("; ")
        ),
    }
}

/// Question 3 in one paragraph.
/// Question 3 for a first model: its own hand-over, no threshold of today's.
fn answer_threshold_first(l: Lang, d: &Data) -> String {
    let t = &d.thresholds;
    let r = &t.recommended;
    let per_month = r
        .handovers_per_month
        .value
        .map_or("–".into(), |v| l.num(v, 0));
    let (sql, mql, prec, rec) = (
        l.num(t.recommended_sql, 0),
        l.num(t.recommended_mql, 0),
        l.pct_opt(r.precision.value, 1),
        l.pct_opt(r.recall.value, 1),
    );
    let (vsql, objective) = (l.num(r.threshold, 0), glossary::objective(l, &t.objective));
    let miss = if t.objective_met {
        ""
    } else {
        l.pick(
            " The whole-point thresholds cannot hit the objective exactly; the nearest is used.",
            " Die ganzzahligen Schwellen treffen das Ziel nicht genau; die nächstliegende wird verwendet.",
        )
    };
    match l {
        Lang::En => format!(
            "There is no threshold of today's to keep: the first model's SQL threshold is {sql} points and MQL {mql} (objective: {objective}; MQL passes on two and a half times as many leads as SQL). On the test period the same procedure on the training period only (SQL {vsql}) handed over {per_month} leads a month; {prec} of them converted after the hand-over, and they were {rec} of all converters.{miss}"
        ),
        Lang::De => format!(
            "Es gibt keine heutige Schwelle zu halten: Die SQL-Schwelle des ersten Modells liegt bei {sql} Punkten, MQL bei {mql} (Ziel: {objective}; MQL gibt zweieinhalbmal so viele Leads weiter wie SQL). Im Testzeitraum übergab dasselbe Verfahren nur auf dem Trainingszeitraum (SQL {vsql}) {per_month} Leads pro Monat; {prec} davon schlossen nach der Übergabe ab, und sie waren {rec} aller Abschlüsse.{miss}"
        ),
    }
}

fn answer_threshold(l: Lang, d: &Data) -> String {
    if d.first_model.is_some() {
        return answer_threshold_first(l, d);
    }
    let t = &d.thresholds;
    let (c, r) = (&t.current, &t.recommended);
    let hpm = |m: &ThresholdMetrics| {
        m.handovers_per_month
            .value
            .map_or("–".into(), |v| l.num(v, 0))
    };
    let nobody = t.objective == "volume" && c.handovers == 0;
    let miss = if t.objective_met {
        ""
    } else if nobody {
        l.pick(
            " Today's config hands over no lead, so there is no volume to keep: the threshold that best balances the share converting against the share caught (F-score) is used.",
            " Die heutige Konfiguration übergibt keinen Lead, es gibt also keine Menge zu halten: Verwendet wird die Schwelle, die Abschlussquote und erfasste Abschlüsse am besten ausgleicht (F-Maß).",
        )
    } else {
        l.pick(
            " The objective cannot be reached on the training period; the nearest threshold is used.",
            " Das Ziel ist im Trainingszeitraum nicht erreichbar; die nächstliegende Schwelle wird verwendet.",
        )
    };
    let (thr, prec, pm, rec, per_month) = (
        l.num(c.threshold, 0),
        link(Term::Precision.anchor(), l.pct_opt(c.precision.value, 1)),
        interval_words(l, &c.precision),
        link(Term::Recall.anchor(), l.pct_opt(c.recall.value, 1)),
        hpm(c),
    );
    let (new_thr, objective, new_prec, new_rec, new_per_month) = (
        l.num(r.threshold, 0),
        glossary::objective(l, &t.objective),
        link(Term::Precision.anchor(), l.pct_opt(r.precision.value, 1)),
        link(Term::Recall.anchor(), l.pct_opt(r.recall.value, 1)),
        hpm(r),
    );
    let shift: String = d
        .review
        .iter()
        .flat_map(|r| r.shift.iter())
        .map(|x| {
            let (a, b) = if x.figure == "recall" {
                (l.pct_opt(Some(x.today), 1), l.pct_opt(Some(x.recommended), 1))
            } else {
                (l.num(x.today, 0), l.num(x.recommended, 0))
            };
            match (l, x.figure.as_str()) {
                (Lang::En, "recall") => format!("The share of converters caught {} by more than a third: from {a} today to {b} with the recommendation. ", if x.recommended > x.today { "rises" } else { "falls" }),
                (Lang::En, _) => format!("Hand-overs per month {} by more than a third: from {a} today to {b} with the recommendation. ", if x.recommended > x.today { "rise" } else { "fall" }),
                (Lang::De, "recall") => format!("Der Anteil erfasster Abschlüsse {} um mehr als ein Drittel: von heute {a} auf {b} mit der Empfehlung. ", if x.recommended > x.today { "steigt" } else { "sinkt" }),
                (Lang::De, _) => format!("Die Übergaben pro Monat {} um mehr als ein Drittel: von heute {a} auf {b} mit der Empfehlung. ", if x.recommended > x.today { "steigen" } else { "sinken" }),
            }
        })
        .collect();
    shift
        + &match l {
            Lang::En => format!(
                "In the test period, of the leads handed over at {thr} points, {prec} converted after the hand-over{pm}; the threshold caught {rec} of all converters, at {per_month} hand-overs a month. With the recommended points computed from the training period alone, the SQL threshold would be {new_thr} (objective: {objective}); in the same test period that would have handed over {new_per_month} leads a month; {new_prec} of them converted, and they were {new_rec} of all converters.{miss}"
            ),
            Lang::De => format!(
                "Im Testzeitraum schlossen von den bei {thr} Punkten übergebenen Leads {prec} nach der Übergabe ab{pm}; die Schwelle erfasste {rec} aller Abschlüsse, bei {per_month} Übergaben pro Monat. Mit den empfohlenen Punkten, nur aus dem Trainingszeitraum berechnet, läge die SQL-Schwelle bei {new_thr} (Ziel: {objective}); im selben Testzeitraum ergibt das eine Abschlussquote von {new_prec}, erfasst {new_rec} der Abschlüsse und übergibt {new_per_month} Leads pro Monat.{miss}"
            ),
        }
}

/// The ranking sentence that opens the answer to question 4.
/// `first`: a first model, with no points of today's to compare against.
fn ranking_sentence(l: Lang, r: &super::Review, first: bool) -> String {
    let k = &r.ranking;
    let auc = |e: &Estimate| pairs_words(l, e);
    let share = |v: Option<f64>| {
        v.map_or("–".into(), |v| {
            link(Term::WalkForward.anchor(), l.pct(v, 1))
        })
    };
    let quarters = r
        .walk
        .folds
        .iter()
        .filter(|f| f.recommended.is_some())
        .count();
    let walk = match (&r.walk.today, &r.walk.recommended) {
        (Some(a), Some(b)) => match l {
            // One quarter has no mean and no "each of": its own figure, said as one.
            Lang::En if quarters == 1 => format!(
                " Had the recommendation been made before the last quarter, it would have put the lead that converted ahead in {} of that quarter's pairs, against {} with today's points.",
                share(b.roc_auc),
                share(a.roc_auc)
            ),
            Lang::De if quarters == 1 => format!(
                " Vor dem letzten Quartal erstellt, hätte die Empfehlung in diesem Quartal den Lead mit Abschluss in {} der Paare vorn gesehen, gegenüber {} mit den heutigen Punkten.",
                share(b.roc_auc),
                share(a.roc_auc)
            ),
            Lang::En => format!(
                " Quarter by quarter, had the recommendation been made before each of the last {} quarters, it would have put the lead that converted ahead in {} of pairs on average, against {} with today's points.",
                link(Term::WalkForward.anchor(), l.int(quarters as u64)),
                share(b.roc_auc),
                share(a.roc_auc)
            ),
            Lang::De => format!(
                " Für jedes der letzten {} Quartale, jeweils nur mit den Daten bis Quartalsbeginn berechnet, hätte die Empfehlung den Lead mit Abschluss im Mittel in {} der Paare vorn gesehen, gegenüber {} mit den heutigen Punkten.",
                link(Term::WalkForward.anchor(), l.int(quarters as u64)),
                share(b.roc_auc),
                share(a.roc_auc)
            ),
        },
        _ => l
            .pick(
                " No quarter-by-quarter back-test: no quarter had enough mature leads before it.",
                " Kein Rückblick Quartal für Quartal: kein Quartal hatte davor genug auswertbare Leads.",
            )
            .to_string(),
    };
    // Fewer quarters than the back-test wants: the figure stands on less, and says so.
    let walk = if (1..3).contains(&quarters) {
        walk + l.pick(
            " Only the quarters shown had enough mature leads before them; the back-test wants three quarters.",
            " Nur die gezeigten Quartale hatten davor genug auswertbare Leads; der Rückblick sieht drei Quartale vor.",
        )
    } else {
        walk
    };
    if first {
        let b = r.walk.recommended.as_ref().and_then(|b| b.roc_auc);
        if quarters == 0 || b.is_none() {
            return l
                .pick(
                    "No quarter-by-quarter back-test: no quarter had enough mature leads before it. ",
                    "Kein Rückblick Quartal für Quartal: Kein Quartal hatte davor genug auswertbare Leads. ",
                )
                .to_string();
        }
        return match l {
            Lang::En => format!(
                "Quarter by quarter, had the first model been made before each of the last {} quarters, it would have put the lead that converted ahead in {} of pairs on average. ",
                link(Term::WalkForward.anchor(), l.int(quarters as u64)),
                share(b)
            ),
            Lang::De => format!(
                "Für jedes der letzten {} Quartale, jeweils nur mit den Daten bis Quartalsbeginn berechnet, hätte das erste Modell den Lead mit Abschluss im Mittel in {} der Paare vorn gesehen. ",
                link(Term::WalkForward.anchor(), l.int(quarters as u64)),
                share(b)
            ),
        };
    }
    match l {
        Lang::En => format!(
            "On the test period, which the fit never saw, the recommended points put the lead that converted ahead in {} of pairs, against {} with today's points; the fitted model reaches {}.{walk} ",
            auc(&k.recommended.roc_auc),
            auc(&k.today.roc_auc),
            auc(&k.model.roc_auc)
        ),
        Lang::De => format!(
            "Im Testzeitraum, den die Schätzung nicht kannte, liegt mit den empfohlenen Punkten der Lead mit Abschluss in {} der Paare vorn, mit den heutigen Punkten in {}; ein statistisches Vergleichsmodell auf allen Spalten erreicht {}.{walk} ",
            auc(&k.recommended.roc_auc),
            auc(&k.today.roc_auc),
            auc(&k.model.roc_auc)
        ),
    }
}

/// Why a quarter of the walk-forward has no figures, in the page's language. The note in the
/// JSON files is English; the German page says the same from the quarter's counts.
fn fold_note(l: Lang, f: &crate::recommend::walk::Fold) -> String {
    let Some(note) = f.note.as_deref() else {
        return "–".into();
    };
    if l == Lang::En {
        return note.to_string();
    }
    if f.leads == 0 {
        return "in diesem Quartal wurde kein auswertbarer Lead erstellt".into();
    }
    // "… at least 30 converters are needed to fit": the minimum the note names.
    let needed = note
        .split("at least ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok());
    format!(
        "{} auswertbare Leads ({} mit Abschluss) vor Quartalsbeginn: {}",
        l.int(f.fitted_leads),
        l.int(f.fitted_converted),
        needed.map_or(
            "zu wenige Abschlüsse für eine Schätzung".to_string(),
            |n| {
                format!(
                    "für eine Schätzung sind mindestens {} Abschlüsse nötig",
                    l.int(n)
                )
            }
        )
    )
}

/// The walk-forward table and chart, and what the written points were fitted on.
/// `first`: a first model (no points of today's: their columns are left out).
fn walk_section(
    l: Lang,
    d: &Data,
    r: &super::Review,
    images: &[(&str, Vec<u8>)],
    first: bool,
) -> Markup {
    let k = &r.ranking;
    let fmt = |e: &Estimate, dp: usize| est(l, e, dp);
    let folds: Vec<&crate::recommend::walk::Fold> = r.walk.folds.iter().collect();
    let fitted = match (l, r.deployed.same_as_validated, r.deployed.half_life_days) {
        (Lang::En, true, _) => "The written points were fitted on the training period.".to_string(),
        (Lang::De, true, _) => "Die geschriebenen Punkte wurden auf dem Trainingszeitraum geschätzt.".to_string(),
        (Lang::En, false, h) => format!(
            "The written points were refitted on all {} mature leads, the test period included ({}){}. Figures of those points on those leads would be in-sample; the test-period figures are those of the same procedure on the training period only, and the walk-forward shows the procedure quarter by quarter.",
            l.int(r.deployed.leads),
            h.map_or("every lead weighted alike: no recency half-life beat that out of time".to_string(), |h| format!("recent leads weighted more, half-life {} days, chosen by the walk-forward's out-of-time log-loss", l.num(h, 0))),
            if r.walk.recent_effect.is_empty() { String::new() } else { format!("; rules whose effect drifted get their effect since the drift: {}", r.walk.recent_effect.iter().map(|x| format!("{} (since {})", d.shown(l, &x.rule), l.period(&x.period))).collect::<Vec<_>>().join(", ")) }
        ),
        (Lang::De, false, h) => format!(
            "Die geschriebenen Punkte wurden auf allen {} auswertbaren Leads neu geschätzt, den Testzeitraum eingeschlossen ({}){}. Zahlen dieser Punkte auf diesen Leads wären zu optimistisch, da an den eigenen Trainingsdaten gemessen; die Zahlen des Testzeitraums stammen vom selben Verfahren nur auf dem Trainingszeitraum, und der Rückblick unten zeigt das Verfahren Quartal für Quartal.",
            l.int(r.deployed.leads),
            h.map_or("alle Leads gleich gewichtet: keine Halbwertszeit schnitt in den späteren Quartalen besser ab".to_string(), |h| format!("jüngere Leads stärker gewichtet, Halbwertszeit {} Tage, gewählt nach dem Vorhersagefehler im Rückblick Quartal für Quartal", l.num(h, 0))),
            if r.walk.recent_effect.is_empty() { String::new() } else { format!("; Regeln, deren Wirkung sich verändert hat, erhalten ihre Wirkung seit der Änderung: {}", r.walk.recent_effect.iter().map(|x| format!("{} (seit {})", d.shown(l, &x.rule), l.period(&x.period))).collect::<Vec<_>>().join(", ")) }
        ),
    };
    let fitted = match (first, l) {
        (true, Lang::En) => format!(
            "The written points: rules selected and fitted the same way on all {} mature leads, the test period included, every lead weighted alike. Figures of those points on those leads would be in-sample; the test-period figures are those of the same procedure on the training period only, and the back-test below repeats it quarter by quarter.",
            l.int(r.deployed.leads)
        ),
        (true, Lang::De) => format!(
            "Die geschriebenen Punkte: Regeln auf dieselbe Weise auf allen {} auswertbaren Leads gewählt und geschätzt, den Testzeitraum eingeschlossen, alle Leads gleich gewichtet. Zahlen dieser Punkte auf diesen Leads wären zu optimistisch; die Zahlen des Testzeitraums stammen vom selben Verfahren nur auf dem Trainingszeitraum, und der Rückblick unten wiederholt es Quartal für Quartal.",
            l.int(r.deployed.leads)
        ),
        _ => fitted,
    };
    let fitted = if r.deployed.refitted_under_decay {
        fitted
            + l.pick(
                " Behaviour rules' fires were recounted under the recommended decay before that refit, so their points per fire mean what they will count.",
                " Die Auslösungen der Verhaltensregeln wurden vor dieser Schätzung mit dem empfohlenen Verfall neu gezählt, damit ihre Punkte je Auslösung dem entsprechen, was künftig zählt.",
            )
    } else {
        fitted
    };
    let opt_pct = |v: Option<f64>| l.pct_opt(v, 1);
    let per_month = |v: Option<f64>| v.map_or("–".into(), |v| l.num(v, 0));
    // A cell: today's figure → the recommendation's; a first model's alone.
    let pair = |a: String, b: String| if first { b } else { format!("{a} → {b}") };
    let fitted_min = folds.iter().map(|f| f.fitted_leads).min().unwrap_or(0);
    let fitted_max = folds.iter().map(|f| f.fitted_leads).max().unwrap_or(0);
    // How many leads the quarters were made from; nothing when no quarter had any.
    let span = match (fitted_max, l) {
        (0, _) => String::new(),
        (_, Lang::En) => format!(" ({} to {} leads)", l.int(fitted_min), l.int(fitted_max)),
        (_, Lang::De) => format!(" ({} bis {} Leads)", l.int(fitted_min), l.int(fitted_max)),
    };
    html! {
        table {
            thead { tr {
                th { (l.pick("test period", "Testzeitraum")) }
                @if !first { th.n { (l.pick("today's points", "heutige Punkte")) } }
                th.n { (l.pick("recommended points", "empfohlene Punkte")) }
                th.n { (l.pick("fitted model", "Modell")) }
            } }
            tbody {
                tr { td { (l.pick("ROC AUC", "ROC-AUC")) } @if !first { td.n { (fmt(&k.today.roc_auc, 3)) } } td.n { (fmt(&k.recommended.roc_auc, 3)) } td.n { (fmt(&k.model.roc_auc, 3)) } }
                tr { td { (l.pick("PR AUC (average precision)", "mittlere Abschlussquote (Average Precision)")) } @if !first { td.n { (fmt(&k.today.pr_auc, 3)) } } td.n { (fmt(&k.recommended.pr_auc, 3)) } td.n { (fmt(&k.model.pr_auc, 3)) } }
                tr { td { (l.pick("lift in the top tenth", "oberstes Zehntel: Faktor zum Durchschnitt")) } @if !first { td.n { (fmt(&k.today.top_tenth_lift, 2)) } } td.n { (fmt(&k.recommended.top_tenth_lift, 2)) } td.n { (fmt(&k.model.top_tenth_lift, 2)) } }
            }
        }
        p { (fitted) }
        @if !folds.is_empty() {
            h3 { (match (first, l) {
                (true, _) => l.pick("Back-test: had the first model been made before each quarter", "Rückblick Quartal für Quartal: wäre das erste Modell vor jedem Quartal erstellt worden"),
                (false, _) => l.pick("Walk-forward: had the recommendation been adopted each quarter", "Rückblick Quartal für Quartal: wäre die Empfehlung jedes Quartal übernommen worden"),
            }) }
            p { (match (first, l) {
                (true, Lang::En) => format!("Each quarter's first model was made from the leads whose outcome was known before the quarter began{span}, then measured on the quarter's leads."),
                (true, Lang::De) => format!("Das erste Modell jedes Quartals entstand aus den Leads, deren Ergebnis vor Quartalsbeginn feststand{span}, und wurde an den Leads des Quartals gemessen."),
                (false, Lang::En) => format!("Each quarter's recommendation was made from the leads whose outcome was known before the quarter began{span}, then measured on the quarter's leads. Each cell: today's config → the recommendation."),
                (false, Lang::De) => format!("Die Empfehlung jedes Quartals entstand aus den Leads, deren Ergebnis vor Quartalsbeginn feststand{span}, und wurde an den Leads des Quartals gemessen. Jede Zelle: heutige Konfiguration → Empfehlung."),
            }) }
            table {
                thead { tr {
                    th { (l.pick("quarter", "Quartal")) }
                    th.n { (l.pick("leads (converted)", "Leads (mit Abschluss)")) }
                    th.n { (l.pick("ROC AUC", "ROC-AUC")) }
                    th.n { "SQL" }
                    th.n { (l.pick("hand-overs a month", "Übergaben pro Monat")) }
                    th.n { (Term::Precision.name(l)) }
                    th.n { (Term::Recall.name(l)) }
                } }
                tbody {
                    @for f in &folds {
                        tr {
                            td { (l.period(&f.period)) }
                            td.n { (l.int(f.leads)) " (" (l.int(f.converted)) ")" }
                            @if let (Some(a), Some(b)) = (&f.today, &f.recommended) {
                                td.n { (pair(l.num(a.ranking.roc_auc.value.unwrap_or(f64::NAN), 3), l.num(b.ranking.roc_auc.value.unwrap_or(f64::NAN), 3))) }
                                td.n { (pair(l.num(a.sql, 0), l.num(b.sql, 0))) }
                                td.n { (pair(per_month(a.handovers_per_month), per_month(b.handovers_per_month))) }
                                td.n { (pair(opt_pct(a.precision), opt_pct(b.precision))) }
                                td.n { (pair(opt_pct(a.recall), opt_pct(b.recall))) }
                            } @else {
                                td colspan="5" { (fold_note(l, f)) }
                            }
                        }
                    }
                    @if let (Some(a), Some(b)) = (&r.walk.today, &r.walk.recommended) {
                        tr {
                            td { b { (l.pick("all quarters", "alle Quartale")) } }
                            td.n {}
                            td.n { b { (pair(l.num(a.roc_auc.unwrap_or(f64::NAN), 3), l.num(b.roc_auc.unwrap_or(f64::NAN), 3))) } }
                            td.n {}
                            td.n { (pair(per_month(a.handovers_per_month), per_month(b.handovers_per_month))) }
                            td.n { (pair(opt_pct(a.precision), opt_pct(b.precision))) }
                            td.n { (pair(opt_pct(a.recall), opt_pct(b.recall))) }
                        }
                    }
                }
            }
            // A first model's run has no chart-walk.png: today's line would be its constant score.
            (figure(l, images, "chart-walk.png", l.pick("For each quarter, the recommendation made from the leads whose outcomes were known before it began (orange), against today's config (blue).", "Je Quartal die Empfehlung aus den Leads, deren Ergebnis vor Quartalsbeginn bekannt war (orange), gegenüber der heutigen Konfiguration (blau).")))
        }
    }
}

/// Question 4 for a first model: which rules earn points, and why only those.
fn answer_weights_first(l: Lang, d: &Data, f: &crate::recommend::FirstModel) -> String {
    let w = &d.weights;
    let with: Vec<&RuleRow> = w.rules.iter().filter(|r| r.recommended != 0.0).collect();
    let (n, all, pdo) = (
        l.int(with.len() as u64),
        l.int(w.rules.len() as u64),
        link(Term::Pdo.anchor(), l.num(f.pdo, 0)),
    );
    let unmatched = if f.unmatched.is_empty() {
        String::new()
    } else {
        match l {
            Lang::En => format!(
                " Warning: {} rule(s) of the live model match no lead in this data: {}.",
                f.unmatched.len(),
                f.unmatched.iter().map(name).collect::<Vec<_>>().join(", ")
            ),
            Lang::De => format!(
                " Achtung: {} Regel(n) des heutigen Modells treffen in diesen Daten keinen Lead: {}.",
                f.unmatched.len(),
                f.unmatched.iter().map(name).collect::<Vec<_>>().join(", ")
            ),
        }
    };
    let ranking = d
        .review
        .as_ref()
        .map_or(String::new(), |r| ranking_sentence(l, r, true));
    match l {
        Lang::En => format!(
            "{ranking}{n} of {all} rules get points, taken one at a time while each improved the prediction of leads the fit had not seen; the others stay at 0 (within their noise, or too rare). Every {pdo} more points double a lead's odds of converting (for small rates, roughly the rate itself); 0 points is a lead with none of the selected attributes or behaviour; negative points mark what lowers the chance.{unmatched}"
        ),
        Lang::De => format!(
            "{ranking}{n} von {all} Regeln erhalten Punkte, eine nach der anderen aufgenommen, solange jede die Vorhersage für Leads verbesserte, die die Schätzung nicht kannte; die übrigen bleiben bei 0 (im Rauschen oder zu selten). Je {pdo} Punkte mehr verdoppeln das Verhältnis von Abschluss zu Nichtabschluss eines Leads (solange die Abschlussquote klein ist, etwa die Abschlussquote selbst); 0 Punkte hat ein Lead ohne eines der gewählten Merkmale oder Verhalten; negative Punkte markieren, was die Aussicht senkt.{unmatched}"
        ),
    }
}

/// Question 4 in one paragraph.
fn answer_weights(l: Lang, d: &Data) -> String {
    if let Some(f) = &d.first_model {
        return answer_weights_first(l, d, f);
    }
    let w = &d.weights;
    let mut moved: Vec<&RuleRow> = w.rules.iter().filter(|r| changed(r)).collect();
    moved.sort_by(|a, b| {
        (b.recommended - b.current)
            .abs()
            .total_cmp(&(a.recommended - a.current).abs())
            .then(a.rule.cmp(&b.rule))
    });
    let kept = w
        .rules
        .iter()
        .filter(|r| {
            r.flags
                .iter()
                .any(|f| matches!(f, Flag::LowSupport | Flag::NotExercised))
        })
        .count() as u64;
    let biggest: Vec<String> = moved
        .iter()
        .take(4)
        .map(|r| {
            format!(
                "{} {} → {}",
                name(d.shown(l, &r.rule)),
                l.num(r.current, 0),
                l.num(r.recommended, 0)
            )
        })
        .collect();
    let (moved, all, pdo) = (
        l.int(moved.len() as u64),
        l.int(w.rules.len() as u64),
        link(Term::Pdo.anchor(), l.num(w.pdo, 1)),
    );
    let biggest = if biggest.is_empty() {
        l.pick("none", "keine").to_string()
    } else {
        biggest.join("; ")
    };
    let kept = match (l, kept) {
        (Lang::En, 0) => "Every rule has enough evidence behind it.".to_string(),
        (Lang::En, 1) => "1 rule keeps its points for lack of evidence.".to_string(),
        (Lang::En, k) => format!("{} rules keep their points for lack of evidence.", l.int(k)),
        (Lang::De, 0) => "Jede Regel ist ausreichend belegt.".to_string(),
        (Lang::De, 1) => "1 Regel behält mangels Belegen ihre Punkte.".to_string(),
        (Lang::De, k) => format!("{} Regeln behalten mangels Belegen ihre Punkte.", l.int(k)),
    };
    let first = d
        .review
        .as_ref()
        .map_or(String::new(), |r| ranking_sentence(l, r, false));
    // Points not shown better than today's out of time are not a recommendation: said first,
    // and the changes are what the fit would do, not what should be done.
    use crate::recommend::Verdict;
    let verdict = d.review.as_ref().and_then(|r| r.verdict);
    let keep = match (l, verdict) {
        (Lang::En, Some(Verdict::Worse)) => {
            "The recommended points rank worse than today's on leads they never saw: keep today's points; nothing here shows the new ones better. "
        }
        (Lang::De, Some(Verdict::Worse)) => {
            "Die empfohlenen Punkte ordnen außerhalb der Trainingsdaten schlechter als die heutigen: Behalten Sie die heutigen Punkte; nichts hier zeigt die neuen besser. "
        }
        (Lang::En, Some(Verdict::WorseOnTheTestPeriod)) => {
            "The recommended points are not shown better: they rank worse than today's on the test period and better in the walk-forward. Adopt them only after checking the quarters below. "
        }
        (Lang::De, Some(Verdict::WorseOnTheTestPeriod)) => {
            "Die empfohlenen Punkte sind nicht nachweislich besser: Im Testzeitraum ordnen sie schlechter als die heutigen, im Rückblick Quartal für Quartal besser. Übernehmen Sie sie erst nach Prüfung der Quartale unten. "
        }
        (Lang::En, Some(Verdict::WorseInTheWalkForward)) => {
            "The recommended points are not shown better: they rank better than today's on the test period and worse in the walk-forward. Adopt them only after checking the quarters below. "
        }
        (Lang::De, Some(Verdict::WorseInTheWalkForward)) => {
            "Die empfohlenen Punkte sind nicht nachweislich besser: Im Testzeitraum ordnen sie besser als die heutigen, im Rückblick Quartal für Quartal schlechter. Übernehmen Sie sie erst nach Prüfung der Quartale unten. "
        }
        _ => "",
    };
    let shown = keep.is_empty();
    let verb = match (l, shown) {
        (Lang::En, false) => "would change",
        (Lang::En, true) => "should change",
        (Lang::De, false) => "würden sich ändern",
        (Lang::De, true) => "sollten sich ändern",
    };
    keep.to_string()
        + &first
        + &match l {
            Lang::En => format!(
                "{moved} of {all} rules {verb}; every {pdo} more points double a lead's odds of converting (for small rates, roughly the rate itself). Largest changes: {biggest}. {kept}"
            ),
            Lang::De => format!(
                "{moved} von {all} Regeln {verb}; je {pdo} Punkte mehr verdoppeln das Verhältnis von Abschluss zu Nichtabschluss eines Leads (solange die Abschlussquote klein ist, etwa die Abschlussquote selbst). Größte Änderungen: {biggest}. {kept}"
            ),
        }
}

/// Why a rule gets its points. `plain`: for the body, the effect as a factor on the chance of
/// converting; otherwise (the appendix) with its log-odds.
fn why(l: Lang, r: &RuleRow, plain: bool) -> String {
    let mut parts = Vec::new();
    for f in &r.flags {
        parts.push(match f {
            Flag::NotExercised => l
                .pick(
                    "never matched a training lead: kept",
                    "traf auf keinen Trainings-Lead zu: beibehalten",
                )
                .to_string(),
            Flag::LowSupport => format!(
                "{} ({} {}, {} {})",
                l.pick("too little evidence: kept", "zu wenig Belege: beibehalten"),
                l.int(r.leads),
                l.pick("leads", "Leads"),
                l.int(r.converters),
                l.pick("converted", "mit Abschluss")
            ),
            Flag::SignContradicts => l
                .pick(
                    "the data points the other way",
                    "die Daten zeigen in die Gegenrichtung",
                )
                .to_string(),
        });
    }
    if let (Some(b), Some(or)) = (r.coefficient, r.odds_ratio)
        && !r
            .flags
            .iter()
            .any(|f| matches!(f, Flag::LowSupport | Flag::NotExercised))
    {
        let unit = if r.kind == "implicit" {
            l.pick("per fire", "je Ereignis")
        } else {
            l.pick(
                "against leads without it",
                "gegenüber Leads ohne dieses Merkmal",
            )
        };
        parts.push(match l {
            Lang::En if plain => format!(
                "odds of converting {} {unit}",
                link(Term::LogOdds.anchor(), format!("×{}", l.num(or, 2)))
            ),
            Lang::De if plain => format!(
                "Abschlusschance {} {unit}",
                link(Term::LogOdds.anchor(), format!("×{}", l.num(or, 2)))
            ),
            Lang::En => format!(
                "log-odds {} {unit} (×{} odds; {} leads, {} converted)",
                l.num(b, 2),
                l.num(or, 2),
                l.int(r.leads),
                l.int(r.converters),
            ),
            // "Chance" is the word a sales team uses; the glossary says it is counted as odds.
            Lang::De => format!(
                "Abschlusschance ×{} {unit} (Log-Odds {}; {} Leads, {} mit Abschluss)",
                l.num(or, 2),
                l.num(b, 2),
                l.int(r.leads),
                l.int(r.converters),
            ),
        });
    }
    parts.join("; ")
}

fn figure(l: Lang, images: &[(&str, Vec<u8>)], name: &str, caption: &str) -> Markup {
    let Some((_, bytes)) = images.iter().find(|(n, _)| *n == name) else {
        return html! {};
    };
    let src = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    );
    html! {
        figure {
            img src=(src) alt=(caption) width="1600" height="900";
            figcaption { (caption) " " span lang=(l.code()) { "(" (name) ")" } }
        }
    }
}

fn segment_table(l: Lang, d: &Data, rows: &[SegmentRow]) -> Markup {
    html! {
        table {
            thead { tr {
                th { (l.pick("group", "Gruppe")) }
                th.n { (l.pick("leads", "Leads")) }
                th.n { (l.pick("converted", "mit Abschluss")) }
                th.n { (l.pick("rate [95% interval]", "Abschlussquote [95 %]")) }
                th.n { (l.pick("lift", "Faktor")) }
                th.n { (l.pick("q-value", "q-Wert")) }
            } }
            tbody {
                @for g in rows {
                    tr {
                        td { (group_name(l, d, g)) }
                        td.n { (l.int(g.leads)) }
                        td.n { (l.int(g.converted)) }
                        td.n { (l.pct(g.rate, 1)) " " (l.interval(&l.pct(g.rate_low, 1), &l.pct(g.rate_high, 1))) }
                        td.n { (l.num(g.lift, 2)) "×" }
                        td.n { (if g.q_value < 0.001 { format!("< {}", l.num(0.001, 3)) } else { l.num(g.q_value, 3) }) }
                    }
                }
            }
        }
    }
}

fn threshold_row(l: Lang, name: &str, m: &ThresholdMetrics) -> Markup {
    html! {
        tr {
            td { (name) }
            td.n { (l.num(m.threshold, 0)) }
            td.n { (l.int(m.handovers)) }
            td.n { (est(l, &m.handovers_per_month, 0)) }
            td.n { (pct_est(l, &m.precision)) }
            td.n { (pct_est(l, &m.recall)) }
            td.n { (m.median_days_to_win.map_or("–".into(), |v| l.num(v, 0))) }
        }
    }
}

/// Where each answer's numbers are explained in the appendix.
const ANSWER_ANCHORS: [&str; 4] = ["a-q1", "a-q2", "a-q3", "a-q4"];

/// The line that closes a question's section: where its figures and method are.
fn more(l: Lang, anchor: &str) -> Markup {
    let part = anchor.trim_start_matches("a-q");
    html! {
        p.more { (l.pick("Figures and method: ", "Zahlen und Methode: ")) a href=(format!("#{anchor}")) { (l.pick("Appendix A", "Anhang A")) (part) } }
    }
}

/// A table's number as a link to the appendix place that explains it.
fn num_link(anchor: &str, text: String) -> Markup {
    html! { a.n href=(format!("#{anchor}")) { (text) } }
}

/// The rules' points. `plain`: the body's table, each effect as a factor on the chance of
/// converting and each number linked to the appendix; otherwise the appendix's, with
/// log-odds and counts.
fn rules_table(l: Lang, d: &Data, plain: bool) -> Markup {
    let first = d.first_model.is_some();
    let cell = |text: String| {
        if plain {
            num_link("a-q4-rules", text)
        } else {
            html! { (text) }
        }
    };
    html! {
        table {
            thead { tr {
                th { (l.pick("rule", "Regel")) }
                @if !first { th.n { (l.pick("current", "aktuell")) } }
                th.n { (l.pick("recommended", "empfohlen")) }
                th { (l.pick("why", "Begründung")) }
            } }
            tbody { @for r in d.weights.rules.iter().filter(|r| !first || r.recommended != 0.0) {
                tr {
                    td { span.nm { (d.shown(l, &r.rule)) } @if r.kind == "implicit" { " " span.sub { (l.pick("(per fire)", "(je Ereignis)")) } } }
                    @if !first { td.n { (cell(l.num(r.current, 0))) } }
                    td.n { @if changed(r) { b { (cell(l.num(r.recommended, 0))) } } @else { (cell(l.num(r.recommended, 0))) } }
                    td { @if r.flags.contains(&Flag::SignContradicts) { span.flag { "! " } }
                        @if plain { (rich(&why(l, r, true), "a-q4-rules")) } @else { (why(l, r, false)) } }
                }
            } }
        }
    }
}

/// The decay finding in words for the body; the log-loss figures are in the appendix.
fn decay_plain(l: Lang, d: &Data) -> String {
    let Some(g) = d.decay.iter().find(|c| c.rule == "*") else {
        return l.pick("No decay comparison in this run: no behaviour rules, events or converters to compare on.", "Kein Vergleich der Verfallseinstellungen in diesem Lauf: keine Verhaltensregeln, Ereignisse oder Abschlüsse zum Vergleichen.").to_string();
    };
    let own = d
        .decay
        .iter()
        .filter(|c| c.rule != "*" && c.recommended != c.current && c.recommended != g.recommended)
        .count() as u64;
    let own = match (l, own) {
        (_, 0) => String::new(),
        (Lang::En, n) => format!(
            " {} rule(s) get a setting of their own (appendix).",
            l.int(n)
        ),
        (Lang::De, n) => format!(
            " {} Regel(n) erhalten eine eigene Einstellung (Anhang).",
            l.int(n)
        ),
    };
    match (l, g.recommended == g.current) {
        (Lang::En, false) => format!(
            "Behaviour points should count {}; today they count {}. Tested on leads the choice never saw, this predicts conversions better.{own}",
            l.decay_counts(&g.recommended),
            l.decay_counts(&g.current)
        ),
        (Lang::De, false) => format!(
            "Verhaltenspunkte sollten {} zählen; heute zählen sie {}. An Leads geprüft, die die Wahl nicht kannte, sagt das Abschlüsse besser voraus.{own}",
            l.decay_counts(&g.recommended),
            l.decay_counts(&g.current)
        ),
        (Lang::En, true) => format!(
            "Keep today's setting: behaviour points count {}. No other setting predicted conversions clearly better on leads it never saw.{own}",
            l.decay_counts(&g.current)
        ),
        (Lang::De, true) => format!(
            "Behalten Sie die heutige Einstellung bei: Verhaltenspunkte zählen {}. Keine andere Einstellung sagte Abschlüsse bei Leads, die sie nicht kannte, klar besser voraus.{own}",
            l.decay_counts(&g.current)
        ),
    }
}

/// The whole page. `images` are the chart PNGs by file name.
fn effect(l: Lang, e: &crate::evaluate::stability::Effect) -> String {
    use crate::evaluate::stability::Status;
    match (e.status, e.log_odds, e.ci) {
        (Status::Estimated, Some(b), Some(ci)) => format!(
            "{} {}",
            l.num(b, 2),
            l.interval(&l.num(ci[0], 2), &l.num(ci[1], 2))
        ),
        (Status::NeverFired, ..) => l.pick("never fired", "nie ausgelöst").into(),
        _ => l.pick("not enough data", "zu wenig Daten").into(),
    }
}

/// The rules whose drift was detected, in the config's order.
fn flagged(d: &Data) -> Vec<&crate::evaluate::stability::RuleStability> {
    d.rule_stability
        .iter()
        .filter(|r| r.drift.detected)
        .collect()
}

fn stability_text(l: Lang, d: &Data) -> Markup {
    if d.rule_stability.is_empty() {
        return html! { p { (l.pick("No rule-stability results in this run: the live model has no rules, or the run was made by an earlier leadcal version.", "Keine Ergebnisse zur Stabilität der Regeln in diesem Lauf: Das Live-Modell hat keine Regeln, oder der Lauf stammt von einer früheren leadcal-Version.")) } };
    }
    let flagged = flagged(d);
    let tested = d
        .rule_stability
        .iter()
        .filter(|r| r.drift.q.is_some())
        .count();
    let never: Vec<String> = d
        .rule_stability
        .iter()
        .filter(|r| {
            r.training.status == crate::evaluate::stability::Status::NeverFired
                && r.test.status == crate::evaluate::stability::Status::NeverFired
        })
        .map(|r| name(d.shown(l, &r.rule)))
        .collect();
    let since = |r: &&crate::evaluate::stability::RuleStability| {
        r.drift
            .since
            .as_deref()
            .map_or("?".to_string(), |p| l.period(p))
    };
    html! {
        p { (rich(&match (l, flagged.is_empty()) {
            (Lang::En, true) => format!("No rule's effect changed between the training periods and the test period beyond what chance explains, after correcting for testing many rules ({tested} rules tested)."),
            (Lang::De, true) => format!("Bei keiner Regel hat sich die Wirkung zwischen Trainings- und Testzeitraum stärker verändert, als der Zufall erklärt ({tested} Regeln geprüft, nach Korrektur für Mehrfachtests)."),
            (Lang::En, false) => format!("{} of {tested} rules changed their effect between the training periods and the test period beyond what chance explains, after correcting for testing many rules: {}.", flagged.len(), flagged.iter().map(|r| format!("{} (since {})", name(d.shown(l, &r.rule)), since(r))).collect::<Vec<_>>().join(", ")),
            (Lang::De, false) => format!("{} von {tested} Regeln {} ihre Wirkung zwischen Trainings- und Testzeitraum verändert, stärker als der Zufall erklärt (nach Korrektur für Mehrfachtests): {}.", flagged.len(), if flagged.len() == 1 { "hat" } else { "haben" }, flagged.iter().map(|r| format!("{} (seit {})", name(d.shown(l, &r.rule)), since(r))).collect::<Vec<_>>().join(", ")),
        }, "a-q1-rules")) }
        @if !never.is_empty() {
            p { (rich(&(l.pick("Rules that never fired in this window (a renamed form, a retired asset, or a value the data does not hold): ", "Regeln, die in diesem Zeitraum nie ausgelöst wurden (umbenanntes Formular, entferntes Asset oder ein Wert, den die Daten nicht enthalten): ").to_string() + &never.join(", ")), "a-q1-rules")) }
        }
    }
}

fn range(l: Lang, s: &crate::recommend::probability::Step) -> String {
    match (s.score_from, s.score_below) {
        (None, Some(b)) => format!("< {}", l.num(b, 0)),
        (Some(a), None) => format!("≥ {}", l.num(a, 0)),
        (Some(a), Some(b)) => format!("{} – {}", l.num(a, 0), l.num(b, 0)),
        (None, None) => l.pick("all", "alle").into(),
    }
}

fn chance(l: Lang, s: &crate::recommend::probability::Step) -> String {
    format!(
        "{} {}",
        l.pct(s.p, 1),
        l.interval(&l.pct(s.ci[0], 1), &l.pct(s.ci[1], 1))
    )
}

fn observed(l: Lang, s: &crate::recommend::probability::Step) -> String {
    match (s.test_rate, s.test_ci) {
        (Some(r), Some(c)) => format!(
            "{} {}",
            l.pct(r, 1),
            l.interval(&l.pct(c[0], 1), &l.pct(c[1], 1))
        ),
        _ => "–".into(),
    }
}

fn reliability(l: Lang, steps: &[crate::recommend::probability::Step]) -> Markup {
    html! {
        table {
            thead { tr {
                th { (l.pick("points", "Punkte")) }
                th.n { (l.pick("training leads", "Trainings-Leads")) }
                th.n { (l.pick("convert (training) [95%]", "Abschlussquote (Training) [95 %]")) }
                th.n { (l.pick("test leads", "Test-Leads")) }
                th.n { (l.pick("observed in the test period [95%]", "beobachtet im Testzeitraum [95 %]")) }
            } }
            tbody { @for s in steps {
                tr { td { (range(l, s)) } td.n { (l.int(s.leads)) } td.n { (chance(l, s)) } td.n { (l.int(s.test_leads)) } td.n { (observed(l, s)) } }
            } }
        }
    }
}

/// "What a score means": the chance of converting at the thresholds, per band, and the map's
/// check on the test period.
fn probability_section(l: Lang, d: &Data) -> Markup {
    let Some(p) = &d.probability else {
        return html! {};
    };
    let th = &d.thresholds;
    let at = |map: &crate::recommend::probability::ScoreMap, points: f64| {
        map.at(points).map_or("–".to_string(), |s| chance(l, s))
    };
    let h = l.int(p.horizon_days.max(0) as u64);
    // The written thresholds are read on the written points' own map.
    let written = p.written.as_ref().unwrap_or(&p.recommended);
    let whose = match (l, p.written.is_some()) {
        (Lang::En, true) => {
            " For the recommended points, which were refitted on every mature lead, the figures are those leads' conversion; no later period checks them, so the check below is of the points fitted on the training period only."
        }
        (Lang::De, true) => {
            " Für die empfohlenen Punkte, die auf allen auswertbaren Leads neu angepasst wurden, ist es die Abschlussquote dieser Leads; kein späterer Zeitraum prüft sie, daher prüft die Tabelle unten die nur auf dem Trainingszeitraum angepassten Punkte."
        }
        _ => "",
    };
    let first = d.first_model.is_some();
    // Where the average lead's odds sit on a first model's scale.
    let average = |f: &crate::recommend::FirstModel| match (f.average_rate, f.average_from) {
        (Some(r), Some(from)) => match l {
            Lang::En => format!(
                " The leads converted at {} on average; from about {} points a lead converts at least that often.",
                l.pct(r, 1),
                l.num(from, 0)
            ),
            Lang::De => format!(
                " Im Durchschnitt schlossen {} der Leads ab; ab etwa {} Punkten schließt ein Lead mindestens so oft ab.",
                l.pct(r, 1),
                l.num(from, 0)
            ),
        },
        _ => String::new(),
    };
    html! {
        h3 { (l.pick("What a score means", "Was ein Score bedeutet")) }
        @if let Some(f) = &d.first_model { p { (match l {
            Lang::En => format!("With the first model's points, a lead at the SQL threshold ({} points) converts within {h} days with a probability of about {}; at the MQL threshold ({} points) about {}. A lead with none of the selected rules scores 0 points (about {}).{} Each figure is the conversion of the leads with about that score (isotonic fit, steps of at least 30 leads), with its 95% interval.{whose}",
                l.num(th.recommended_sql, 0), at(written, th.recommended_sql), l.num(th.recommended_mql, 0), at(written, th.recommended_mql),
                at(written, 0.0), average(f)),
            Lang::De => format!("Mit den Punkten des ersten Modells schließt ein Lead an der SQL-Schwelle ({} Punkte) innerhalb von {h} Tagen mit einer Wahrscheinlichkeit von etwa {} ab; an der MQL-Schwelle ({} Punkte) mit etwa {}. Ein Lead ohne eine der ausgewählten Regeln hat 0 Punkte (etwa {}).{} Jede Zahl ist die Abschlussquote der Leads mit etwa diesem Score (schrittweise angepasst, Stufen von mindestens 30 Leads), mit ihrem 95-%-Intervall.{whose}",
                l.num(th.recommended_sql, 0), at(written, th.recommended_sql), l.num(th.recommended_mql, 0), at(written, th.recommended_mql),
                at(written, 0.0), average(f)),
        }) } }
        @if !first { p { (match l {
            Lang::En => format!("With today's points, a lead at the SQL threshold ({} points) converts within {h} days with a probability of about {}; at the MQL threshold ({} points) about {}. With the recommended points: at SQL {} about {}; at MQL {} about {}. Each figure is the conversion of the training leads with about that score (isotonic fit, steps of at least 30 leads), with its 95% interval.{whose}",
                l.num(th.current_sql, 0), at(&p.live, th.current_sql), l.num(th.current_mql, 0), at(&p.live, th.current_mql),
                l.num(th.recommended_sql, 0), at(written, th.recommended_sql), l.num(th.recommended_mql, 0), at(written, th.recommended_mql)),
            Lang::De => format!("Mit den heutigen Punkten schließt ein Lead an der SQL-Schwelle ({} Punkte) innerhalb von {h} Tagen mit einer Wahrscheinlichkeit von etwa {} ab; an der MQL-Schwelle ({} Punkte) etwa {}. Mit den empfohlenen Punkten: bei SQL {} etwa {}; bei MQL {} etwa {}. Jede Zahl ist die Abschlussquote der Trainings-Leads mit etwa diesem Score (monotone Stufenanpassung, Stufen von mindestens 30 Leads), mit ihrem 95-%-Intervall.{whose}",
                l.num(th.current_sql, 0), at(&p.live, th.current_sql), l.num(th.current_mql, 0), at(&p.live, th.current_mql),
                l.num(th.recommended_sql, 0), at(written, th.recommended_sql), l.num(th.recommended_mql, 0), at(written, th.recommended_mql)),
        }) } }
        @if !p.live_bands.is_empty() && !first {
            table {
                thead { tr {
                    th { (l.pick("band (today's points)", "Band (heutige Punkte)")) }
                    th { (l.pick("points", "Punkte")) }
                    th.n { (l.pick("training leads", "Trainings-Leads")) }
                    th.n { (match l { Lang::En => format!("convert within {h} days [95%]"), Lang::De => format!("Abschluss binnen {h} Tagen [95 %]") }) }
                    th.n { (l.pick("observed in the test period [95%]", "beobachtet im Testzeitraum [95 %]")) }
                } }
                tbody { @for b in &p.live_bands {
                    tr { td { (b.band) } td { (range(l, &b.step)) } td.n { (l.int(b.step.leads)) } td.n { (chance(l, &b.step)) } td.n { (observed(l, &b.step)) } }
                } }
            }
        }
        h3 { (l.pick("Is the map right? Its check on the test period", "Stimmt die Zuordnung? Überprüfung im Testzeitraum")) }
        p.sub { (l.pick("Each step of the map fitted on the training period beside what the test period's leads with those scores did. Where the test interval holds the training figure, the map is calibrated.", "Jede Stufe der im Trainingszeitraum angepassten Zuordnung neben dem, was die Leads des Testzeitraums mit diesen Scores taten. Wo das Testintervall die Trainingszahl enthält, ist die Zuordnung kalibriert.")) }
        @if !first {
            h3 { (l.pick("Today's points", "Heutige Punkte")) }
            (reliability(l, &p.live.steps))
        }
        h3 { (if p.written.is_some() {
            l.pick("Recommended points, fitted on the training period only", "Empfohlene Punkte, nur auf dem Trainingszeitraum angepasst")
        } else {
            l.pick("Recommended points", "Empfohlene Punkte")
        }) }
        (reliability(l, &p.recommended.steps))
    }
}

/// The test effect lies closer to 0 than the training effect.
fn weakened(r: &crate::evaluate::stability::RuleStability) -> bool {
    matches!((r.training.log_odds, r.test.log_odds), (Some(a), Some(b)) if b.abs() < a.abs())
}

fn stability_table(l: Lang, d: &Data) -> Markup {
    use crate::evaluate::stability::DriftKind;
    let flagged = flagged(d);
    html! {
        @if !flagged.is_empty() {
            table {
                thead { tr {
                    th { (l.pick("rule", "Regel")) }
                    th.n { (l.pick("training effect [95%]", "Wirkung Training [95 %]")) }
                    th.n { (l.pick("test effect [95%]", "Wirkung Test [95 %]")) }
                    th { (l.pick("since", "seit")) }
                    th.n { "q" }
                    th { (l.pick("what changed", "was sich geändert hat")) }
                } }
                tbody { @for r in &flagged {
                    tr {
                        td { (d.shown(l, &r.rule)) }
                        td.n { (effect(l, &r.training)) }
                        td.n { (effect(l, &r.test)) }
                        td { (r.drift.since.as_deref().map_or("–".to_string(), |p| l.period(p))) }
                        td.n { (r.drift.q.map_or("–".into(), |q| if q < 0.001 { format!("< {}", l.num(0.001, 3)) } else { l.num(q, 3) })) }
                        td { (match r.drift.kind {
                            Some(DriftKind::StoppedFiring) => l.pick("stopped firing", "löst nicht mehr aus").to_string(),
                            Some(DriftKind::SignChanged) => l.pick("the effect reversed", "die Wirkung hat sich umgekehrt").to_string(),
                            _ if weakened(r) => l.pick("the effect weakened", "die Wirkung hat nachgelassen").to_string(),
                            _ => l.pick("the effect grew", "die Wirkung hat zugenommen").to_string(),
                        })
                        @if let Some(a) = &r.drift.carried_by {
                            br; span.sub { (match l {
                                Lang::En => format!("may be a shift from {a} rather than a drift of its own: without {a} in the fits the change is within chance or at most half as large"),
                                Lang::De => format!("womöglich eine Verschiebung von {a} statt einer eigenen Drift: ohne {a} in den Modellen liegt die Änderung im Zufallsbereich oder ist höchstens halb so groß"),
                            }) }
                        } }
                    }
                } }
            }
        }
    }
}

fn decay_text(l: Lang, d: &Data) -> Markup {
    let Some(g) = d.decay.iter().find(|c| c.rule == "*") else {
        return html! { p { (l.pick("No decay comparison in this run: no behaviour rules, events or converters to compare on, or the run was made by an earlier leadcal version.", "Kein Vergleich der Verfallseinstellungen in diesem Lauf: keine Verhaltensregeln, Ereignisse oder Abschlüsse zum Vergleichen, oder der Lauf stammt von einer früheren leadcal-Version.")) } };
    };
    let overrides: Vec<_> = d
        .decay
        .iter()
        .filter(|c| c.rule != "*" && c.recommended != c.current && c.recommended != g.recommended)
        .collect();
    html! {
        p { (match (l, g.recommended == g.current) {
            (Lang::En, false) => format!("Behaviour points should count {}; today they count {}. Out of time this lowers the log-loss by {} (± {}) per lead and moment, over {} moments of {} training leads.", l.decay_counts(&g.recommended), l.decay_counts(&g.current), l.num(g.gain, 5), l.num(g.gain_se, 5), l.int(g.moments as u64), l.int(g.leads as u64)),
            (Lang::De, false) => format!("Verhaltenspunkte sollten {} zählen; heute zählen sie {}. An Leads, die das Modell nicht kannte, senkt das den Vorhersagefehler (Log-Loss) um {} (± {}) je Lead und Zeitpunkt, über {} Zeitpunkte von {} Trainings-Leads.", l.decay_counts(&g.recommended), l.decay_counts(&g.current), l.num(g.gain, 5), l.num(g.gain_se, 5), l.int(g.moments as u64), l.int(g.leads as u64)),
            (Lang::En, true) => format!("Keep today's setting: behaviour points count {}. No other setting predicts clearly better out of time ({} moments of {} training leads; a change needs a gain of three standard errors and 0.1% of the log-loss).", l.decay_counts(&g.current), l.int(g.moments as u64), l.int(g.leads as u64)),
            (Lang::De, true) => format!("Behalten Sie die heutige Einstellung bei: Verhaltenspunkte zählen {}. Keine andere Einstellung sagt später erstellte Leads klar besser voraus ({} Zeitpunkte von {} Trainings-Leads; eine Änderung braucht einen Gewinn von drei Standardfehlern und 0,1 % des Vorhersagefehlers).", l.decay_counts(&g.current), l.int(g.moments as u64), l.int(g.leads as u64)),
        }) }
        @if !overrides.is_empty() {
            table {
                thead { tr {
                    th { (l.pick("rule with its own setting", "Regel mit eigener Einstellung")) }
                    th { (l.pick("today", "heute")) }
                    th { (l.pick("recommended", "empfohlen")) }
                    th.n { (l.pick("log-loss gain [± se]", "weniger Vorhersagefehler [± Standardfehler]")) }
                } }
                tbody { @for c in &overrides {
                    tr { td { (d.shown(l, &c.rule)) } td { (l.decay(&c.current)) } td { b { (l.decay(&c.recommended)) } } td.n { (l.num(c.gain, 5)) " ± " (l.num(c.gain_se, 5)) } }
                } }
            }
        }
    }
}

pub fn page(d: &Data, l: Lang, images: &[(&str, Vec<u8>)]) -> String {
    let t = &d.test;
    let q = &d.quality;
    let title = l.pick("Lead-scoring review", "Lead-Scoring-Review");
    let questions = [
        l.pick(
            "Were the highest-scored leads really the most ready to buy?",
            "Waren die am höchsten bewerteten Leads wirklich die kaufbereitesten?",
        ),
        l.pick(
            "What do high-scoring leads that never bought have in common?",
            "Was verbindet hoch bewertete Leads, die nie gekauft haben?",
        ),
        l.pick(
            "Is the SQL hand-over threshold in the right place?",
            "Liegt die SQL-Schwelle für die Übergabe an den Vertrieb richtig?",
        ),
        l.pick(
            "Which point weights should change?",
            "Welche Punktwerte sollten wir anpassen?",
        ),
    ];
    let answers = [
        answer_ranking(l, d),
        answer_segments(l, d),
        answer_threshold(l, d),
        answer_weights(l, d),
    ];
    let excluded_total: u64 = q.tables.iter().map(|r| r.rows - r.used.min(r.rows)).sum();
    // A first model has no live score: its questions are answered for the recommended points
    // alone, without columns of today's (all 0) figures.
    let first = d.first_model.is_some();
    let first_ranking = d.review.as_ref().filter(|_| first).map(|r| &r.ranking);
    let markup = html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (l.date(&d.window.since)) " – " (l.date(&d.window.until)) }
                style { (PreEscaped(CSS)) }
            }
            body { main {
                h1 { (title) }
                p.sub { (rich(&period_text(l, d), "a-data")) }
                section.summary id="summary" {
                    h2 style="border:0;margin-top:8px;padding-top:0" { (l.pick("Summary", "Zusammenfassung")) }
                    ol {
                        @for (k, (qq, a)) in questions.iter().zip(&answers).enumerate() {
                            li { span.q { (qq) } " " a href=(format!("#q{}", k + 1)) { "→" } br; (rich(a, ANSWER_ANCHORS[k])) }
                        }
                    }
                }

                section id="q1" {
                    h2 { "1. " (questions[0]) }
                    p { (rich(&answers[0], "a-q1")) }
                    @if !first {
                        (figure(l, images, "chart-distribution.png", l.pick("Converted leads should sit to the right of the others; the more the two shapes overlap, the less the score separates them.", "Leads mit Abschluss sollten rechts von den übrigen liegen; je stärker sich die Formen überlappen, desto schlechter trennt der Score.")))
                        (figure(l, images, "chart-gains.png", l.pick("How many of all converters are among the top x% of leads.", "Wie viele aller Abschlüsse unter den obersten x % der Leads liegen.")))
                    }
                    h3 { (l.pick("Which rules stopped or started working", "Welche Regeln nicht mehr (oder neu) wirken")) }
                    (stability_text(l, d))
                    (more(l, "a-q1"))
                }

                section id="q2" {
                    h2 { "2. " (questions[1]) }
                    p { (rich(&answers[1], "a-q2")) }
                    (figure(l, images, "chart-segments.png", l.pick("Hand-over groups that convert worse than all hand-overs beyond what chance explains, after correcting for testing many groups; pairs that add nothing to their single values are left out.", "Übergabegruppen, die nach Korrektur für Mehrfachtests auffällig schlechter abschließen als alle Übergaben; Paare ohne Mehrwert gegenüber ihren Einzelwerten sind ausgelassen.")))
                    @if !first { p { (rich(&match l {
                        Lang::En => format!("{} accounts had two or more hand-overs and no conversion (listed in segments.csv, not in this report).", l.int(d.segments.accounts_without_conversion)),
                        Lang::De => format!("{} Accounts hatten zwei oder mehr Übergaben und keinen Abschluss (aufgeführt in segments.csv, nicht in diesem Bericht).", l.int(d.segments.accounts_without_conversion)),
                    }, "a-q2")) } }
                    (more(l, "a-q2"))
                }

                section id="q3" {
                    h2 { "3. " (questions[2]) }
                    p { (rich(&answers[2], "a-q3")) }
                    @if !first { p { (rich(&match l {
                        Lang::En => format!("Recommended thresholds: MQL {} (now {}), SQL {} (now {}), chosen for the objective “{}” on the leads the written points were fitted on; the MQL threshold keeps today's ratio of MQL to SQL hand-overs.{}", l.num(d.thresholds.recommended_mql, 0), l.num(d.thresholds.current_mql, 0), l.num(d.thresholds.recommended_sql, 0), l.num(d.thresholds.current_sql, 0), glossary::objective(l, &d.thresholds.objective), d.review.as_ref().filter(|r| !r.deployed.same_as_validated).map_or(String::new(), |r| format!(" The figures of the recommended points above are those of the same procedure run on the training period only (SQL {}), measured on the test period it never saw.", l.num(r.validated_sql, 0)))),
                        Lang::De => format!("Empfohlene Schwellen: MQL {} (jetzt {}), SQL {} (jetzt {}), für das Ziel „{}“ auf den Leads gewählt, auf denen die geschriebenen Punkte geschätzt wurden; die MQL-Schwelle hält das heutige Verhältnis von MQL- zu SQL-Übergaben.{}", l.num(d.thresholds.recommended_mql, 0), l.num(d.thresholds.current_mql, 0), l.num(d.thresholds.recommended_sql, 0), l.num(d.thresholds.current_sql, 0), glossary::objective(l, &d.thresholds.objective), d.review.as_ref().filter(|r| !r.deployed.same_as_validated).map_or(String::new(), |r| format!(" Die Zahlen zu den empfohlenen Punkten oben stammen vom selben Verfahren nur auf dem Trainingszeitraum (SQL {}), gemessen im Testzeitraum, den es nicht kannte.", l.num(r.validated_sql, 0)))),
                    }, "a-q3")) } }
                    (figure(l, images, "chart-sweep.png", l.pick("A higher threshold: fewer, better hand-overs, and fewer of all converters caught. The dashed line marks each config's SQL threshold.", "Höhere Schwelle: weniger, aber bessere Übergaben. Die gestrichelte Linie markiert die SQL-Schwelle der jeweiligen Konfiguration.")))
                    (more(l, "a-q3"))
                }

                section id="q4" {
                    h2 { "4. " (questions[3]) }
                    p { (rich(&answers[3], "a-q4")) }
                    (figure(l, images, "chart-points.png", if first { l.pick("The first model's points per rule, for the rules that get points.", "Punkte des ersten Modells pro Regel, für die Regeln mit Punkten.") } else { l.pick("Current (blue) and recommended (orange) points per rule.", "Aktuelle (blau) und empfohlene (orange) Punkte pro Regel.") }))
                    (rules_table(l, d, true))
                    @if first {
                        p.sub { (rich(&match l {
                            Lang::En => format!("The other {} rules get 0 points: their effect stayed within its noise, or too few leads had them. changes.md gives each rule's reason.", l.int(d.weights.rules.iter().filter(|r| r.recommended == 0.0).count() as u64)),
                            Lang::De => format!("Die übrigen {} Regeln erhalten 0 Punkte: Ihre Wirkung blieb im Rauschen, oder zu wenige Leads hatten sie. changes.md nennt den Grund je Regel.", l.int(d.weights.rules.iter().filter(|r| r.recommended == 0.0).count() as u64)),
                        }, "a-q4-rules")) }
                    }
                    @if !d.weights.suggestions.is_empty() {
                        h3 { (l.pick("Values the live model gives no points but the data would", "Werte ohne Punkte im heutigen Modell, denen die Daten Punkte geben würden")) }
                        table {
                            thead { tr { th { (l.pick("value", "Wert")) } th.n { (l.pick("points", "Punkte")) } th.n { (l.pick("leads", "Leads")) } th.n { (l.pick("converted", "mit Abschluss")) } } }
                            tbody { @for g in &d.weights.suggestions {
                                tr { td { span.nm { (d.shown(l, &g.feature)) } } td.n { (num_link("a-q4-rules", l.num(g.points, 0))) } td.n { (num_link("a-q4-rules", l.int(g.leads))) } td.n { (num_link("a-q4-rules", l.int(g.converters))) } }
                            } }
                        }
                    }
                    h3 { (l.pick("How long behaviour points should count", "Wie lange Verhaltenspunkte zählen sollten")) }
                    p { (rich(&decay_plain(l, d), "a-q4-decay")) }
                    p { (l.pick(
                        "The recommended config is recommended-scoring.toml in this run folder (your config's layout and comments, new points).",
                        "Die empfohlene Konfiguration steht in recommended-scoring.toml in diesem Ordner (Aufbau und Kommentare Ihrer Konfiguration, neue Punkte).",
                    )) }
                    (more(l, "a-q4"))
                }

                // The appendix: every figure behind the answers, for the analyst. The body's
                // numbers link here.
                section id="appendix" {
                    h2 id="a-q1" { (l.pick("Appendix A1: the ranking in figures", "Anhang A1: Rangfolge in Zahlen")) }
                    p.sub { (l.pick("For the analyst: the statistics behind the answers above. What each one measures is in Appendix C.", "Für die Analyse: die Kennzahlen hinter den Antworten oben. Was jede misst, steht in Anhang C.")) }
                    @if let Some(k) = first_ranking {
                        table {
                            thead { tr {
                                th { (l.pick("test period", "Testzeitraum")) }
                                th.n { (l.pick("first model's points", "Punkte des ersten Modells")) }
                                th.n { (l.pick("fitted model", "Modell")) }
                            } }
                            tbody {
                                tr { td { (Term::RocAuc.first(l)) } td.n { (est(l, &k.recommended.roc_auc, 3)) } td.n { (est(l, &k.model.roc_auc, 3)) } }
                                tr { td { (Term::PrAuc.first(l)) } td.n { (est(l, &k.recommended.pr_auc, 3)) } td.n { (est(l, &k.model.pr_auc, 3)) } }
                                tr { td { (l.pick("lift in the top tenth", "oberstes Zehntel: Faktor zum Durchschnitt")) } td.n { (est(l, &k.recommended.top_tenth_lift, 2)) } td.n { (est(l, &k.model.top_tenth_lift, 2)) } }
                            }
                        }
                    }
                    @if !first {
                    table {
                        thead { tr {
                            th { (l.pick("test set", "Testzeitraum")) }
                            th.n { (l.pick("live score", "heutiger Score")) }
                            th.n { (l.pick("fitted model", "Modell")) }
                        } }
                        tbody {
                            tr { td { (l.pick("ROC AUC [95%]", "ROC-AUC [95 %]")) } td.n { (est(l, &t.live.roc_auc, 3)) } td.n { (est(l, &t.model.roc_auc, 3)) } }
                            tr { td { (Term::PrAuc.first(l)) } td.n { (t.live.pr_auc.map_or("–".into(), |v| l.num(v, 3))) } td.n { (t.model.pr_auc.map_or("–".into(), |v| l.num(v, 3))) } }
                            tr { td { (Term::Ks.first(l)) } td.n { (t.live.ks.map_or("–".into(), |v| l.num(v, 3))) } td.n { (t.model.ks.map_or("–".into(), |v| l.num(v, 3))) } }
                            tr { td { (l.pick("lift in the top tenth", "oberstes Zehntel: Faktor zum Durchschnitt")) }
                                 td.n { (t.live_deciles.first().and_then(|r| r.lift).map_or("–".into(), |v| l.num(v, 2) + "×")) }
                                 td.n { (t.model_deciles.first().and_then(|r| r.lift).map_or("–".into(), |v| l.num(v, 2) + "×")) } }
                            tr { td { (l.pick("Brier score (probabilities)", "Brier-Score (Wahrscheinlichkeiten)")) } td.n { "–" } td.n { (t.model.brier.map_or("–".into(), |v| l.num(v, 4))) } }
                            tr { td { (l.pick("at the same hand-over volume: precision", "bei gleicher Übergabemenge: Abschlussquote")) }
                                 td.n { (l.pct_opt(t.equal_volume.live_precision, 1)) } td.n { (l.pct_opt(t.equal_volume.model_precision, 1)) } }
                        }
                    }
                    (figure(l, images, "chart-calibration.png", l.pick("Higher bands should convert more often. The black bars are 95% intervals.", "Höhere Score-Stufen sollten häufiger abschließen. Die schwarzen Balken sind 95-%-Intervalle.")))
                    (figure(l, images, "chart-roc-pr.png", l.pick("Further up and to the left is better (ROC); further up is better (precision–recall).", "Weiter oben links ist besser (ROC); weiter oben ist besser (Abschlussquote gegen erfasste Abschlüsse).")))
                    (figure(l, images, "chart-trend.png", l.pick("Per period. The model's AUC before the test period is in-sample. PSI compares each period's live scores with the whole training period's (none for a period under 30 evaluable leads); above 0.25 the score distribution has shifted strongly.", "Pro Zeitraum. Die ROC-AUC des Modells vor dem Testzeitraum ist an den eigenen Trainingsdaten gemessen und daher zu optimistisch. Die Verschiebung (PSI) vergleicht die heutigen Scores jedes Zeitraums mit denen des ganzen Trainingszeitraums (keine für Zeiträume unter 30 auswertbaren Leads); über 0,25 hat sich die Score-Verteilung stark verschoben.")))
                    }
                    h3 { (l.pick("Per period", "Pro Zeitraum")) }
                    table {
                        thead { tr {
                            th { (l.pick("period", "Zeitraum")) }
                            th.n { (l.pick("leads", "Leads")) }
                            th.n { (l.pick("immature", "noch nicht auswertbar")) }
                            th.n { (l.pick("converted", "Abschlussquote")) }
                            @if !first { th.n { (l.pick("live AUC", "ROC-AUC heute")) } }
                            th.n { (l.pick("model AUC", "ROC-AUC Modell")) }
                            @if !first {
                                th.n { (l.pick("precision at SQL", "Abschlussquote bei SQL")) }
                                th.n { (l.pick("PSI", "Verschiebung (PSI)")) }
                            }
                        } }
                        tbody { @for p in &d.periods {
                            tr {
                                td { (l.period(&p.period)) @if p.in_sample { " *" } }
                                td.n { (l.int(p.leads)) }
                                td.n { (l.int(p.immature)) }
                                td.n { (l.pct_opt(p.rate, 1)) }
                                @if !first { td.n { (p.live_auc.map_or("–".into(), |v| l.num(v, 3))) } }
                                td.n { (p.model_auc.map_or("–".into(), |v| l.num(v, 3))) }
                                @if !first {
                                    td.n { (l.pct_opt(p.sql_precision, 1)) }
                                    td.n { (p.psi.map_or("–".into(), |v| l.num(v, 3))) }
                                }
                            }
                        } }
                    }
                    p.sub { "* " (l.pick("the model was fitted on this period's leads (in-sample).", "das Modell wurde an den Leads dieses Zeitraums angepasst; seine ROC-AUC ist dort zu optimistisch.")) }
                    h3 id="a-q1-rules" { (l.pick("Each rule's effect, training against test period", "Wirkung jeder Regel, Trainings- gegen Testzeitraum")) }
                    @if !d.rule_stability.is_empty() {
                        (figure(l, images, "chart-stability.png", l.pick("Each rule's effect per period, adjusted for the other rules: log-odds per fire (behaviour) or per match (profile), with 95% intervals. Periods with too few leads or converters for the rule are left empty.", "Wirkung jeder Regel auf die Abschlusschance pro Zeitraum (Log-Odds), bereinigt um die übrigen Regeln, je Auslösung (Verhalten) oder je Treffer (Profil), mit 95-%-Intervallen. Zeiträume mit zu wenigen Leads oder Abschlüssen für die Regel bleiben leer.")))
                    }
                    (stability_table(l, d))
                    p.sub { (match l {
                        Lang::En => format!("A rule counts as changed when the difference between its training and test effect has a q-value under 5% over all {} rules tested (Benjamini–Hochberg).", d.rule_stability.iter().filter(|r| r.drift.q.is_some()).count()),
                        Lang::De => format!("Eine Regel gilt als verändert, wenn der Unterschied zwischen ihrer Wirkung in Training und Test über alle {} geprüften Regeln einen q-Wert unter 5 % hat (Benjamini–Hochberg).", d.rule_stability.iter().filter(|r| r.drift.q.is_some()).count()),
                    }) }

                    h2 id="a-q2" { (l.pick("Appendix A2: groups in figures", "Anhang A2: Gruppen in Zahlen")) }
                    p.sub { (l.pick("A group is shown when its conversion differs from all hand-overs' with a q-value under 5% (Benjamini–Hochberg over every group tested).", "Eine Gruppe erscheint, wenn ihre Abschlussquote von der aller Übergaben mit einem q-Wert unter 5 % abweicht (Benjamini–Hochberg über alle geprüften Gruppen).")) }
                    @if !d.segments.worst.is_empty() {
                        h3 { (l.pick("Hand-overs that convert worst", "Übergaben mit der schlechtesten Abschlussquote")) }
                        (segment_table(l, d, &d.segments.worst))
                    }
                    @if !d.segments.converter_marks.is_empty() {
                        h3 { (l.pick("What marks the leads that did buy (all evaluable leads)", "Was die Leads auszeichnet, die gekauft haben (alle auswertbaren Leads)")) }
                        (segment_table(l, d, &d.segments.converter_marks))
                    }
                    (figure(l, images, "chart-matrix.png", l.pick("Conversion by quartile of profile points (fit) and behaviour points (engagement) at the snapshot; cells with too few leads are not shown.", "Abschlussquote nach Quartil der Profilpunkte (Fit) und Verhaltenspunkte (Engagement) zum Stichtag; Zellen mit zu wenigen Leads werden nicht gezeigt.")))

                    h2 id="a-q3" { (l.pick("Appendix A3: thresholds in figures", "Anhang A3: Schwellen in Zahlen")) }
                    table {
                        thead { tr {
                            th { (l.pick("test period", "Testzeitraum")) }
                            th.n { (l.pick("threshold", "Schwelle")) }
                            th.n { (l.pick("hand-overs", "Übergaben")) }
                            th.n { (l.pick("per month", "pro Monat")) }
                            th.n { (l.pick("precision [95%]", "Abschlussquote [95 %]")) }
                            th.n { (l.pick("recall [95%]", "erfasste Abschlüsse [95 %]")) }
                            th.n { (l.pick("median days to win", "Median Tage bis Abschluss")) }
                        } }
                        tbody {
                            @if !first {
                                @if let Some(m) = &d.thresholds.current_mql_metrics {
                                    (threshold_row(l, l.pick("MQL, current points", "MQL, aktuelle Punkte"), m))
                                }
                                (threshold_row(l, l.pick("SQL, current points", "SQL, aktuelle Punkte"), &d.thresholds.current))
                            }
                            (threshold_row(l, l.pick("SQL, recommended points", "SQL, empfohlene Punkte"), &d.thresholds.recommended))
                        }
                    }
                    @if !first { p.sub { (l.pick("The MQL threshold is never below 1 point.", "Die MQL-Schwelle liegt nie unter 1 Punkt.")) } }
                    (probability_section(l, d))

                    h2 id="a-q4" { (l.pick("Appendix A4: points and decay in figures", "Anhang A4: Punkte und Verfall in Zahlen")) }
                    @if let Some(r) = &d.review {
                        (walk_section(l, d, r, images, d.first_model.is_some()))
                    }
                    h3 id="a-q4-rules" { (l.pick("Each rule's effect as fitted", "Wirkung jeder Regel, wie geschätzt")) }
                    (rules_table(l, d, false))
                    h3 id="a-q4-decay" { (l.pick("Decay: how long behaviour points count", "Punkteverfall: wie lange Verhaltenspunkte zählen")) }
                    (decay_text(l, d))
                    @if d.decay.iter().any(|c| c.rule == "*") {
                        (figure(l, images, "chart-decay.png", l.pick("Each setting's out-of-time log-loss at the snapshot, the hand-over and 90 and 180 days after creation (training period, time-ordered folds). Settings in days. Blue: today's setting; orange: the recommended one. A half-life shrinks negative points toward 0 too.", "Vorhersagefehler (Log-Loss) jeder Einstellung an Leads, die sie nicht kannte: zum Stichtag, bei Übergabe sowie 90 und 180 Tage nach Anlage (Trainingszeitraum in zeitlich geordneten Abschnitten). Einstellungen in Tagen, HWZ: Halbwertszeit. Blau: heutige Einstellung; orange: empfohlene. Eine Halbwertszeit lässt auch negative Punkte gegen 0 abklingen.")))
                    }
                }
                section id="a-data" {
                    h2 { (l.pick("Appendix B: data quality", "Anhang B: Datenqualität")) }
                    table {
                        thead { tr {
                            th { (l.pick("table", "Tabelle")) }
                            th { (l.pick("file", "Datei")) }
                            th.n { (l.pick("rows", "Zeilen")) }
                            th.n { (l.pick("used", "verwendet")) }
                            th.n { (l.pick("excluded", "ausgeschlossen")) }
                        } }
                        tbody { @for r in &q.tables {
                            tr { td { (table_name(l, &r.table)) } td { (r.file) } td.n { (l.int(r.rows)) } td.n { (l.int(r.used)) } td.n { (l.int(r.rows - r.used.min(r.rows))) } }
                        } }
                    }
                    @if excluded_total > 0 || !q.warnings.is_empty() {
                        h3 { (l.pick("Why rows were excluded or flagged", "Warum Zeilen ausgeschlossen oder markiert wurden")) }
                        table {
                            thead { tr {
                                th { (l.pick("file", "Datei")) }
                                th { (l.pick("column", "Spalte")) }
                                th { (l.pick("check", "Prüfung")) }
                                th.n { (l.pick("rows", "Zeilen")) }
                                @if l == Lang::En { th { "detail" } }
                            } }
                            tbody { @for w in &q.warnings {
                                tr {
                                    td { (w.file) }
                                    td { (w.column.as_deref().unwrap_or("–")) }
                                    td { code { (w.code) } }
                                    td.n { (l.int(w.rows)) }
                                    @if l == Lang::En { td { (w.message) } }
                                }
                            } }
                        }
                    }
                    h3 { (l.pick("Which leads were evaluated", "Welche Leads ausgewertet wurden")) }
                    table { tbody {
                        tr { td { (l.pick("leads created in the window", "im Zeitfenster erstellte Leads")) } td.n { (l.int(q.leads)) } }
                        tr { td { (l.pick("immature: too recent to know whether they convert (left out)", "noch nicht auswertbar (zu jung; ausgelassen)")) } td.n { (l.int(q.immature)) } }
                        tr { td { (match l { Lang::En => "came in hot: converted before their snapshot (left out)".to_string(), Lang::De => format!("vor dem Stichtag schon am Ziel „{}“ (ausgelassen)", super::labels::one(&d.labels, &d.window.target)) }) } td.n { (l.int(q.came_in_hot)) } }
                        tr { td { (l.pick("evaluated", "ausgewertet")) } td.n { (l.int(q.evaluable)) } }
                        tr { td { (l.pick("… of which converted", "… davon mit Abschluss")) } td.n { (l.int(q.converted)) } }
                        tr { td { (l.pick("training period (model fitted, threshold chosen)", "Trainingszeitraum (Modell angepasst, Schwelle gewählt)")) } td.n { (l.int(q.train_leads)) " / " (l.int(q.train_converted)) } }
                        tr { td { (l.pick("test period (all figures above unless marked)", "Testzeitraum (alle Zahlen oben, sofern nicht anders markiert)")) } td.n { (l.int(q.test_leads)) " / " (l.int(q.test_converted)) } }
                        @if q.undated_conversions > 0 {
                            tr { td { (l.pick("conversions without a date (counted as converted)", "Abschlüsse ohne Datum (als Abschluss gezählt)")) } td.n { (l.int(q.undated_conversions)) } }
                        }
                        tr { td { (l.pick("segment groups under the minimum size (not shown)", "Segmentgruppen unter der Mindestgröße (nicht gezeigt)")) } td.n { (l.int(q.suppressed_groups)) " (< " (l.int(q.min_group_size)) ")" } }
                    } }
                    @if !q.capped_counts.is_empty() {
                        h3 { (l.pick("Leads with extreme activity (capped for the fit)", "Leads mit extremer Aktivität (für die Anpassung gekappt)")) }
                        ul { @for c in &q.capped_counts {
                            li { code { (c.rule) } ": " (match l {
                                Lang::En => format!("{} lead(s) far above every other lead counted as {} fires (the most of any other training lead) when fitting and scaling the points; their live scores are not changed", l.int(c.leads as u64), l.num(c.cap, 1)),
                                Lang::De => format!("{} Lead(s) weit über allen anderen mit {} Ereignissen gezählt (so viele wie der aktivste übrige Trainings-Lead), für Anpassung und Punkteskala; ihre Live-Scores bleiben unverändert", l.int(c.leads as u64), l.num(c.cap, 1)),
                            }) }
                        } }
                    }
                    @let leaks: Vec<_> = q.skipped_attributes.iter().filter(|(_, w)| matches!(w, Skip::Leak(_))).collect();
                    @if !leaks.is_empty() {
                        h3 { (l.pick("Columns that give the outcome away (left out)", "Spalten, die das Ergebnis verraten (herausgenommen)")) }
                        ul { @for (a, why) in &leaks {
                            @if let Skip::Leak(x) = why {
                                li { code { (a) } ": " (leak_text(l, x)) }
                            }
                        } }
                    }
                    @if q.skipped_attributes.len() > leaks.len() {
                        h3 { (l.pick("Attributes not used by the model", "Vom Modell nicht genutzte Attribute")) }
                        ul { @for (a, why) in q.skipped_attributes.iter().filter(|(_, w)| !matches!(w, Skip::Leak(_))) {
                            li { code { (a) } ": " (match (l, why) {
                                (_, Skip::Leak(x)) => leak_text(l, x),
                                (Lang::En, w) => w.to_string(),
                                (Lang::De, Skip::Identifier { distinct, known }) => format!("{} verschiedene Werte bei {} Trainings-Leads: eine Kennung oder Freitext, kein Segment", l.int(*distinct as u64), l.int(*known as u64)),
                                (Lang::De, Skip::Rare { min_leads }) => format!("kein Wert kommt bei mindestens {} Trainings-Leads vor", l.int(*min_leads as u64)),
                            }) }
                        } }
                    }
                }

                section id="terms" {
                    h2 { (l.pick("Appendix C: terms and methods", "Anhang C: Begriffe und Methoden")) }
                    p.sub { (l.pick("What each statistic in this report measures, in one sentence.", "Was jede Kennzahl dieses Berichts misst, in einem Satz.")) }
                    dl.terms { @for t in Term::ALL {
                        dt id=(t.anchor()) { (t.first(l)) }
                        dd { (t.means(l)) }
                    } }
                    h3 id="rounding" { (l.pick("Whole points", "Ganze Punkte")) }
                    // Not in the body: a maximum over every training lead reads as alarming
                    // beside a threshold, and what counts there is already computed on the
                    // rounded points.
                    p { (match l {
                        Lang::En => format!("The written points are whole numbers. Against the unrounded weights this moves a training lead's score by at most {} points, since the rounding adds up over every rule and every fire; changes.md gives the mean over all training leads as well. The thresholds and every figure of the recommended points are computed on the whole points as written.", l.num(d.weights.rounding_max, 2)),
                        Lang::De => format!("Die geschriebenen Punkte sind ganze Zahlen. Gegenüber den ungerundeten Gewichten verschiebt das den Score eines Trainings-Leads um höchstens {} Punkte, weil sich die Rundung über alle Regeln und jede Auslösung summiert; changes.md nennt auch den Mittelwert über alle Trainings-Leads. Die Schwellen und alle Zahlen zu den empfohlenen Punkten sind mit den ganzen Punkten gerechnet, wie sie geschrieben sind.", l.num(d.weights.rounding_max, 2)),
                    }) }
                }

                footer {
                    p { (l.pick("Made by", "Erstellt mit")) " leadcal " (d.provenance.version) " · "
                        (l.pick("data window", "Datenfenster")) " " (l.date(&d.window.since)) " – " (l.date(&d.window.until)) " · "
                        (l.pick("settings", "Einstellungen")) " " code { (d.provenance.settings) } }
                    p { (l.pick("Inputs (SHA-256):", "Eingaben (SHA-256):")) }
                    ul { @for f in &d.provenance.inputs { li { (f.file) " " code { (f.sha256) } } } }
                    p { (l.pick("recommended-scoring.toml (SHA-256):", "recommended-scoring.toml (SHA-256):")) " " code { (d.provenance.recommended_config_sha256) } }
                    p { (l.pick("This report holds aggregates only: no lead ids, account ids, e-mail addresses or names.", "Dieser Bericht enthält nur aggregierte Werte: keine Lead-IDs, Account-IDs, E-Mail-Adressen oder Namen.")) }
                }
            } }
        }
    };
    markup.into_string()
}

/// A leaking column's evidence in words, under the heading that says it gives the outcome
/// away.
fn leak_text(l: Lang, x: &crate::features::leak::Leak) -> String {
    use crate::features::leak::LeakSign;
    let why = match (l, x.sign) {
        (Lang::En, LeakSign::Name) => "Its name says the lead's current state",
        (Lang::En, LeakSign::Value) => "One of its values says the lead's current state",
        (Lang::En, LeakSign::Effect) => "It separates converters from the rest almost perfectly",
        (Lang::De, LeakSign::Name) => "Der Name beschreibt den heutigen Stand des Leads",
        (Lang::De, LeakSign::Value) => "Ein Wert beschreibt den heutigen Stand des Leads",
        (Lang::De, LeakSign::Effect) => "Die Spalte trennt Käufer fast perfekt vom Rest",
    };
    let mut t = match l {
        Lang::En => format!(
            "{why}; on its own it ranks converters with ROC AUC {}",
            l.num(x.auc, 3)
        ),
        Lang::De => format!(
            "{why}; allein ordnet die Spalte Käufer mit ROC-AUC {} ein",
            l.num(x.auc, 3)
        ),
    };
    if let Some(v) = &x.value {
        t += &match l {
            Lang::En => format!(
                "; “{v}”: {} training leads, {} converted (base rate {})",
                l.int(x.value_leads as u64),
                l.pct(x.value_converted_share, 1),
                l.pct(x.base_rate, 1)
            ),
            Lang::De => format!(
                "; „{v}“: {} Trainings-Leads, davon {} konvertiert (Basisrate {})",
                l.int(x.value_leads as u64),
                l.pct(x.value_converted_share, 1),
                l.pct(x.base_rate, 1)
            ),
        };
    }
    t + l.pick(
        ". Left out of the model, the segments and the recommendation; if it is known before a lead buys, list it under deliberate_attributes in dataset.toml.",
        ". Aus Modell, Segmenten und Empfehlung herausgenommen; ist sie vor dem Kauf bekannt, tragen Sie sie in dataset.toml unter deliberate_attributes ein.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quarter without figures says why in German too: the JSON's note is English
    /// (found on the Maven CRM export, where no quarter had 30 converters before it).
    #[test]
    fn a_walk_forward_quarter_without_figures_says_why_in_german() {
        let fold = |leads, note: &str| crate::recommend::walk::Fold {
            period: "2017-Q1".into(),
            from: "2017-01-01".into(),
            until: "2017-03-31".into(),
            fitted_leads: 1234,
            fitted_converted: 12,
            leads,
            converted: 0,
            half_life_days: None,
            log_loss: vec![],
            today: None,
            recommended: None,
            note: Some(note.into()),
        };
        let short = fold(
            900,
            "1234 mature leads (12 converted) before the quarter began: at least 30 converters are needed to fit",
        );
        assert_eq!(
            fold_note(Lang::De, &short),
            "1.234 auswertbare Leads (12 mit Abschluss) vor Quartalsbeginn: für eine Schätzung sind mindestens 30 Abschlüsse nötig"
        );
        assert!(fold_note(Lang::En, &short).starts_with("1234 mature leads"));
        let empty = fold(0, "no evaluable lead was created in this quarter");
        assert_eq!(
            fold_note(Lang::De, &empty),
            "in diesem Quartal wurde kein auswertbarer Lead erstellt"
        );
    }
}
