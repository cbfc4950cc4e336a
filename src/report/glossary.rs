//! The report's technical terms, once, for both languages.
//!
//! Input: a [`Term`] and a [`Lang`]. Output: the word the page uses for it, the established
//! (mostly English) technical name, and one sentence that says what it measures. The page, its
//! charts and `compare` take their terms from here, so a section cannot use a term the
//! glossary does not explain, and the test of the German page takes its list of English
//! fragments from [`Term::ALL`].
//!
//! The German words are the ones German marketing and sales teams use (Abschlussquote,
//! Übergabe an den Vertrieb, Punkteverfall); the technical name appears once, in brackets, in
//! the glossary at the end of the page and where a table names the statistic.

use super::Lang;

/// A technical term of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// Share of hand-overs that reach the target.
    Precision,
    /// Share of all leads that reached the target that were handed over.
    Recall,
    /// Ranking: how often a lead that reached the target outranks one that did not.
    RocAuc,
    /// Precision averaged over every threshold.
    PrAuc,
    /// Largest gap between the score distributions of the two groups.
    Ks,
    /// A group's rate divided by the average rate.
    Lift,
    /// Mean squared error of the probabilities.
    Brier,
    /// How far a period's score distribution moved from the training period's.
    Psi,
    /// Prediction error of probabilities, used to choose decay.
    LogLoss,
    /// A p-value corrected for testing many groups.
    QValue,
    /// Multiple-testing correction.
    BenjaminiHochberg,
    /// Score-to-probability map that never goes down.
    Isotonic,
    /// Measured on the data a model was fitted on.
    InSample,
    /// Measured on later leads the model never saw.
    OutOfTime,
    /// Time-ordered slices of the training period for choosing decay.
    Folds,
    /// Decay by halving.
    HalfLife,
    /// The recommendation replayed quarter by quarter.
    WalkForward,
    /// A rule's effect on the log of the odds.
    LogOdds,
    /// Cumulative share of target leads by score rank.
    Gains,
    /// Points that double a lead's odds.
    Pdo,
    /// The range a figure is given with.
    Interval,
}

impl Term {
    /// Every term, in the order of the glossary on the page.
    pub const ALL: [Term; 21] = [
        Term::Interval,
        Term::Precision,
        Term::Recall,
        Term::RocAuc,
        Term::PrAuc,
        Term::Lift,
        Term::Gains,
        Term::Ks,
        Term::Brier,
        Term::Psi,
        Term::LogOdds,
        Term::Pdo,
        Term::QValue,
        Term::BenjaminiHochberg,
        Term::Isotonic,
        Term::InSample,
        Term::OutOfTime,
        Term::WalkForward,
        Term::Folds,
        Term::LogLoss,
        Term::HalfLife,
    ];

    /// The word the page uses in running text and table headers.
    pub fn name(self, l: Lang) -> &'static str {
        use Term::*;
        match (self, l) {
            (Precision, Lang::En) => "precision",
            (Precision, Lang::De) => "Abschlussquote",
            (Recall, Lang::En) => "recall",
            (Recall, Lang::De) => "erfasste Abschlüsse",
            (RocAuc, Lang::En) => "ROC AUC",
            (RocAuc, Lang::De) => "ROC-AUC",
            (PrAuc, Lang::En) => "PR AUC (average precision)",
            (PrAuc, Lang::De) => "mittlere Abschlussquote",
            (Ks, Lang::En) => "KS",
            (Ks, Lang::De) => "KS-Abstand",
            (Lift, Lang::En) => "lift",
            (Lift, Lang::De) => "Faktor zum Durchschnitt",
            (Brier, Lang::En) => "Brier score",
            (Brier, Lang::De) => "Brier-Score",
            (Psi, Lang::En) => "PSI",
            (Psi, Lang::De) => "Verschiebung",
            (LogLoss, Lang::En) => "log-loss",
            (LogLoss, Lang::De) => "Vorhersagefehler",
            (QValue, Lang::En) => "q-value",
            (QValue, Lang::De) => "q-Wert",
            (BenjaminiHochberg, Lang::En) => "Benjamini–Hochberg",
            (BenjaminiHochberg, Lang::De) => "Korrektur für Mehrfachtests",
            (Isotonic, Lang::En) => "isotonic fit",
            (Isotonic, Lang::De) => "monotone Stufenanpassung",
            (InSample, Lang::En) => "in-sample",
            (InSample, Lang::De) => "an den eigenen Trainingsdaten gemessen",
            (OutOfTime, Lang::En) => "out of time",
            (OutOfTime, Lang::De) => "an Leads getestet, die das Modell nicht kannte",
            (Folds, Lang::En) => "time-ordered folds",
            (Folds, Lang::De) => "zeitlich geordnete Abschnitte",
            (HalfLife, Lang::En) => "half-life",
            (HalfLife, Lang::De) => "Halbwertszeit",
            (WalkForward, Lang::En) => "walk-forward",
            (WalkForward, Lang::De) => "Rückblick Quartal für Quartal",
            (LogOdds, Lang::En) => "log-odds",
            (LogOdds, Lang::De) => "Wirkung",
            (Gains, Lang::En) => "gains",
            (Gains, Lang::De) => "erfasste Abschlüsse nach Rang",
            (Pdo, Lang::En) => "points to double the odds",
            (Pdo, Lang::De) => "Punkte je Verdopplung",
            (Interval, Lang::En) => "range (95% interval)",
            (Interval, Lang::De) => "Spanne",
        }
    }

    /// The technical name as statisticians write it: the bracketed mention on a German page,
    /// and what the check of the German page looks for outside brackets.
    pub fn technical(self) -> &'static str {
        use Term::*;
        match self {
            Precision => "Precision",
            Recall => "Recall",
            RocAuc => "ROC AUC",
            PrAuc => "Average Precision",
            Ks => "Kolmogorow-Smirnow",
            Lift => "Lift",
            Brier => "Brier",
            Psi => "PSI",
            LogLoss => "Log-Loss",
            QValue => "q-Wert",
            BenjaminiHochberg => "Benjamini–Hochberg",
            Isotonic => "isotone Regression",
            InSample => "in-sample",
            OutOfTime => "out of time",
            Folds => "Folds",
            HalfLife => "Halbwertszeit",
            WalkForward => "Walk-forward",
            LogOdds => "Log-Odds",
            Gains => "Gains",
            Pdo => "PDO",
            Interval => "95-%-Intervall",
        }
    }

    /// Whether the technical name is an English word a German page must not use outside its
    /// bracketed mention (acronyms, names and German statistical terms are not).
    pub fn english(self) -> bool {
        use Term::*;
        matches!(
            self,
            Precision
                | Recall
                | PrAuc
                | Lift
                | LogLoss
                | InSample
                | OutOfTime
                | Folds
                | WalkForward
                | LogOdds
                | Gains
        )
    }

    /// The name with the technical one in brackets where they differ: "Abschlussquote
    /// (Precision)".
    pub fn first(self, l: Lang) -> String {
        let (name, tech) = (self.name(l), self.technical());
        let plain = |s: &str| s.replace('-', " ").to_lowercase();
        if plain(name).contains(&plain(tech)) || l == Lang::En {
            name.to_string()
        } else {
            format!("{name} ({tech})")
        }
    }

    /// The page anchor of the term's glossary entry.
    pub fn anchor(self) -> &'static str {
        use Term::*;
        match self {
            Precision => "g-precision",
            Recall => "g-recall",
            RocAuc => "g-roc-auc",
            PrAuc => "g-pr-auc",
            Ks => "g-ks",
            Lift => "g-lift",
            Brier => "g-brier",
            Psi => "g-psi",
            LogLoss => "g-log-loss",
            QValue => "g-q-value",
            BenjaminiHochberg => "g-bh",
            Isotonic => "g-isotonic",
            InSample => "g-in-sample",
            OutOfTime => "g-out-of-time",
            Folds => "g-folds",
            HalfLife => "g-half-life",
            WalkForward => "g-walk-forward",
            LogOdds => "g-log-odds",
            Gains => "g-gains",
            Pdo => "g-pdo",
            Interval => "g-interval",
        }
    }

    /// One sentence: what the term measures, for the glossary at the end of the page.
    pub fn means(self, l: Lang) -> &'static str {
        use Term::*;
        match (self, l) {
            (Precision, Lang::En) => {
                "Of the leads handed over at a threshold, the share that reached the target stage."
            }
            (Precision, Lang::De) => {
                "Von den bei einer Schwelle übergebenen Leads der Anteil, der die Zielstufe erreichte."
            }
            (Recall, Lang::En) => {
                "Of all leads that reached the target stage, the share the threshold handed over."
            }
            (Recall, Lang::De) => {
                "Von allen Leads, die die Zielstufe erreichten, der Anteil, den die Schwelle übergeben hat."
            }
            (RocAuc, Lang::En) => {
                "Take one lead that reached the target and one that did not: how often the first has the higher score. 0.5 is chance, 1 is a perfect order."
            }
            (RocAuc, Lang::De) => {
                "Vergleicht man je einen Lead mit und einen ohne Abschluss: wie oft der mit Abschluss den höheren Score hat. 0,5 ist Zufall, 1 eine perfekte Reihenfolge."
            }
            (PrAuc, Lang::En) => {
                "The precision averaged over every possible threshold; the base rate is what chance reaches."
            }
            (PrAuc, Lang::De) => {
                "Die Abschlussquote, gemittelt über alle möglichen Schwellen; die Durchschnittsquote ist, was Zufall erreicht."
            }
            (Ks, Lang::En) => {
                "The largest gap between the score distributions of leads with and without the target stage; 0 means no separation."
            }
            (Ks, Lang::De) => {
                "Der größte Abstand zwischen den Score-Verteilungen der Leads mit und ohne Abschluss; 0 heißt keine Trennung."
            }
            (Lift, Lang::En) => {
                "A group's rate divided by the average rate: 2× converts twice as often as the average lead."
            }
            (Lift, Lang::De) => {
                "Die Quote einer Gruppe geteilt durch die Durchschnittsquote: 2× schließt doppelt so oft ab wie ein durchschnittlicher Lead."
            }
            (Brier, Lang::En) => {
                "The mean squared gap between predicted probability and outcome (0 or 1); lower is better."
            }
            (Brier, Lang::De) => {
                "Die mittlere quadrierte Abweichung zwischen vorhergesagter Wahrscheinlichkeit und Ergebnis (0 oder 1); kleiner ist besser."
            }
            (Psi, Lang::En) => {
                "How far a period's score distribution moved from the training period's; above 0.25 is a major shift."
            }
            (Psi, Lang::De) => {
                "Wie weit sich die Score-Verteilung eines Zeitraums von der des Trainingszeitraums entfernt hat; über 0,25 ist eine starke Verschiebung."
            }
            (LogLoss, Lang::En) => {
                "The average prediction error of probabilities, punishing confident mistakes most; lower is better."
            }
            (LogLoss, Lang::De) => {
                "Der mittlere Fehler vorhergesagter Wahrscheinlichkeiten, der sichere Fehlurteile am stärksten bestraft; kleiner ist besser."
            }
            (QValue, Lang::En) => {
                "A p-value corrected for testing many groups at once; below 0.05 the difference is unlikely to be chance."
            }
            (QValue, Lang::De) => {
                "Ein p-Wert, korrigiert dafür, dass viele Gruppen zugleich geprüft werden; unter 0,05 ist der Unterschied kaum Zufall."
            }
            (BenjaminiHochberg, Lang::En) => {
                "The correction behind the q-values: it keeps the expected share of false findings at 5%."
            }
            (BenjaminiHochberg, Lang::De) => {
                "Die Korrektur hinter den q-Werten: Sie hält den erwarteten Anteil falscher Befunde bei 5 %."
            }
            (Isotonic, Lang::En) => {
                "The map from score to probability: steps of at least 30 leads whose rates never go down as the score rises."
            }
            (Isotonic, Lang::De) => {
                "Die Zuordnung von Score zu Wahrscheinlichkeit: Stufen von mindestens 30 Leads, deren Quoten mit dem Score nie sinken."
            }
            (InSample, Lang::En) => {
                "Measured on the same leads the model was fitted on, and therefore too optimistic."
            }
            (InSample, Lang::De) => {
                "An denselben Leads gemessen, an denen das Modell angepasst wurde, und daher zu optimistisch."
            }
            (OutOfTime, Lang::En) => {
                "Measured on leads created after the training period, which the model never saw: the test of how it would have done live."
            }
            (OutOfTime, Lang::De) => {
                "An Leads gemessen, die nach dem Trainingszeitraum erstellt wurden und die das Modell nicht kannte: der Test, wie es sich im Einsatz geschlagen hätte."
            }
            (Folds, Lang::En) => {
                "The training period cut into consecutive slices; each slice is predicted from the ones before it."
            }
            (Folds, Lang::De) => {
                "Der Trainingszeitraum in aufeinanderfolgende Abschnitte geteilt; jeder wird aus den vorangehenden vorhergesagt."
            }
            (HalfLife, Lang::En) => {
                "Behaviour points halve after this many days instead of dropping to 0 at once."
            }
            (HalfLife, Lang::De) => {
                "Verhaltenspunkte halbieren sich nach so vielen Tagen, statt auf einmal auf 0 zu fallen (Punkteverfall)."
            }
            (WalkForward, Lang::En) => {
                "Each quarter, the recommendation made from the leads known before it began, measured on that quarter's leads."
            }
            (WalkForward, Lang::De) => {
                "Für jedes Quartal die Empfehlung aus den vor Quartalsbeginn bekannten Leads, gemessen an den Leads dieses Quartals."
            }
            (LogOdds, Lang::En) => {
                "A rule's effect on the logarithm of the odds of reaching the target, the other rules held fixed; ×1.3 means the odds rise by 30%."
            }
            (LogOdds, Lang::De) => {
                "Die Wirkung einer Regel auf den Logarithmus der Chancen (Odds), bei festen übrigen Regeln; ×1,3 heißt: die Chancen steigen um 30 %."
            }
            (Gains, Lang::En) => {
                "The share of all leads that reached the target found among the top x% of scores."
            }
            (Gains, Lang::De) => {
                "Der Anteil aller Abschlüsse, der unter den obersten x % der Scores liegt."
            }
            (Interval, Lang::En) => {
                "The range given with a figure, \"between … and …\": with other leads of the same kind the figure would fall inside it in 95 of 100 cases (bootstrap for rankings, Wilson for shares); a narrow range means a firm figure."
            }
            (Interval, Lang::De) => {
                "Die Spanne zu einer Zahl, „zwischen … und …“: Mit anderen Leads gleicher Art läge die Zahl in 95 von 100 Fällen darin (Bootstrap für Rangfolgen, Wilson für Anteile); eine enge Spanne heißt, die Zahl ist belastbar."
            }
            (Pdo, Lang::En) => {
                "How many more points double a lead's odds of converting (converting against not converting); for small rates that is roughly twice the rate."
            }
            (Pdo, Lang::De) => {
                "Wie viele Punkte mehr das Verhältnis von Abschluss zu Nichtabschluss (die Odds) eines Leads verdoppeln; solange die Abschlussquote klein ist, verdoppelt sich etwa die Abschlussquote selbst."
            }
        }
    }
}

/// A threshold objective as it reads on the page ("keep today's hand-over volume"); the raw
/// form (`volume`, `precision:0.3`) stays in the JSON files and on the command line. Text that
/// does not parse as an objective is shown as it is.
pub fn objective(l: Lang, raw: &str) -> String {
    use crate::recommend::thresholds::Objective;
    let Ok(o) = raw.parse::<Objective>() else {
        return raw.to_string();
    };
    match (l, o) {
        (Lang::En, Objective::Volume) => "keep today's hand-overs per month".into(),
        (Lang::De, Objective::Volume) => "heutige Übergaben pro Monat halten".into(),
        (Lang::En, Objective::F1) => "best balance of precision and recall (F1)".into(),
        (Lang::De, Objective::F1) => {
            "bestes Gleichgewicht aus Abschlussquote und erfassten Abschlüssen (F1)".into()
        }
        (Lang::En, Objective::Precision(x)) => {
            format!("the most recall at a precision of at least {}", l.pct(x, 0))
        }
        (Lang::De, Objective::Precision(x)) => format!(
            "möglichst viele Abschlüsse bei einer Abschlussquote von mindestens {}",
            l.pct(x, 0)
        ),
        (Lang::En, Objective::Recall(x)) => {
            format!(
                "the best precision catching at least {} of conversions",
                l.pct(x, 0)
            )
        }
        (Lang::De, Objective::Recall(x)) => format!(
            "beste Abschlussquote bei mindestens {} erfassten Abschlüssen",
            l.pct(x, 0)
        ),
        (Lang::En, Objective::CapacityPerMonth(n)) => {
            format!("at most {} hand-overs a month", l.num(n, 0))
        }
        (Lang::De, Objective::CapacityPerMonth(n)) => {
            format!("höchstens {} Übergaben pro Monat", l.num(n, 0))
        }
        (Lang::En, Objective::Share(x)) => format!("{} of leads handed over as SQL", l.pct(x, 0)),
        (Lang::De, Objective::Share(x)) => {
            format!("{} der Leads als SQL übergeben", l.pct(x, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_has_words_in_both_languages_and_its_own_anchor() {
        let mut anchors = std::collections::HashSet::new();
        for t in Term::ALL {
            for l in [Lang::En, Lang::De] {
                assert!(!t.name(l).is_empty() && t.means(l).ends_with('.'), "{t:?}");
            }
            assert!(anchors.insert(t.anchor()), "{t:?}");
        }
        assert_eq!(
            Term::Precision.first(Lang::De),
            "Abschlussquote (Precision)"
        );
        assert_eq!(Term::Precision.first(Lang::En), "precision");
        assert_eq!(
            objective(Lang::De, "volume"),
            "heutige Übergaben pro Monat halten"
        );
        assert_eq!(
            objective(Lang::De, "share:0.1"),
            "10\u{a0}% der Leads als SQL übergeben"
        );
        assert_eq!(
            objective(Lang::En, "capacity:400/month"),
            "at most 400 hand-overs a month"
        );
        assert_eq!(objective(Lang::En, "something else"), "something else");
    }
}
