//! `changes.md`: the recommended config as a readable diff, with its back-test.
//!
//! Input: the [`Recommended`] config and the current thresholds. Output: Markdown. Guarantees:
//! only formats numbers the recommendation computed; `|` in rule names is escaped.

use crate::evaluate::Estimate;
use crate::format::{pct, points, thousands};
use crate::recommend::ranking::Ranking;
use crate::recommend::{Flag, Recommended, Verdict};

fn interval_pct(e: &Estimate) -> String {
    e.show(pct)
}

fn per_month(e: &Estimate) -> String {
    e.show(|v| v.map_or("-".into(), |v| format!("{v:.0}")))
}

/// The decay choice and its evidence.
fn decay(s: &mut String, r: &Recommended) {
    let Some(g) = r.decay.first() else {
        return;
    };
    s.push_str("\n## How long behaviour points count (decay)\n\n");
    s.push_str(&format!(
        "Compared by out-of-time log-loss on {} moments of {} training leads (snapshot, hand-over, 90 and 180 days after creation; time-ordered folds). A setting replaces the current one only when it gains at least {} standard errors and 0.1% of the log-loss.\n\n",
        thousands(g.moments as u64),
        thousands(g.leads as u64),
        crate::recommend::decay::MARGIN_SE
    ));
    s.push_str("| rule | current → recommended | log-loss gain | candidates (log-loss) |\n|---|---|---|---|\n");
    for c in r
        .decay
        .iter()
        .filter(|c| c.rule == "*" || c.recommended != g.recommended)
    {
        let cands = c
            .candidates
            .iter()
            .map(|k| {
                format!(
                    "{}: {}{}",
                    k.setting,
                    k.log_loss.map_or("-".into(), |v| format!("{v:.5}")),
                    if k.eligible {
                        ""
                    } else {
                        " (not for a rule worth no points)"
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        s.push_str(&format!(
            "| {} | {} → {} | {:.5} ± {:.5} | {} |\n",
            if c.rule == "*" {
                "all rules without their own setting (`[decay]`)".to_string()
            } else {
                format!("`{}`", c.rule.replace('|', "\\|"))
            },
            c.current,
            c.recommended,
            c.gain,
            c.gain_se,
            cands
        ));
    }
}

fn est(e: &Estimate, f: fn(Option<f64>) -> String) -> String {
    e.show(f)
}

fn auc(v: Option<f64>) -> String {
    crate::format::fixed(v, 3)
}

fn lift(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| {
        format!("{}×", crate::format::fixed(Some(v), 2))
    })
}

/// What the meeting hears first: the ranking on the test period, and any large shift.
fn lead(s: &mut String, r: &Recommended) {
    let k = &r.ranking;
    if r.first_model.is_some() {
        return first_model_lead(s, r);
    }
    s.push_str(&format!(
        "On the test period ({} leads, {} converted, never seen by the fit), the recommended points rank leads with ROC AUC {} against {} for today's points (fitted model: {}).\n\n",
        thousands(k.leads),
        thousands(k.converted),
        est(&k.recommended.roc_auc, auc),
        est(&k.today.roc_auc, auc),
        est(&k.model.roc_auc, auc),
    ));
    match r.verdict {
        Verdict::Better => {}
        Verdict::Worse => s.push_str("**They rank worse than today's points out of time: keep today's points.** The changes below are what the fit would do; nothing shows them better.\n\n"),
        Verdict::WorseOnTheTestPeriod => s.push_str("**Not shown better: they rank worse than today's points on the test period and better in the walk-forward.** Check the quarters below before adopting them.\n\n"),
        Verdict::WorseInTheWalkForward => s.push_str("**Not shown better: they rank better than today's points on the test period and worse in the walk-forward.** Check the quarters below before adopting them.\n\n"),
    }
    for x in &r.shift {
        let (what, a, b) = match x.figure.as_str() {
            "recall" => ("Recall", pct(Some(x.today)), pct(Some(x.recommended))),
            _ => (
                "Hand-overs per month",
                format!("{:.0}", x.today),
                format!("{:.0}", x.recommended),
            ),
        };
        s.push_str(&format!(
            "**{what} changes by more than a third: {a} today → {b} recommended (test period).**\n\n"
        ));
    }
    ranking_table(s, k, true);
}

/// The test period's ranking table: today's points (unless there is no live score), the
/// recommended points, the fitted model.
fn ranking_table(s: &mut String, k: &crate::recommend::ranking::Compared, today: bool) {
    s.push_str(if today {
        "| test period | today's points | recommended points | fitted model |\n|---|---|---|---|\n"
    } else {
        "| test period | first model's points | fitted model |\n|---|---|---|\n"
    });
    type Pick = fn(&Ranking) -> &Estimate;
    type Show = fn(Option<f64>) -> String;
    let rows: [(&str, Pick, Show); 3] = [
        ("ROC AUC", |x| &x.roc_auc, auc),
        ("PR AUC (average precision)", |x| &x.pr_auc, auc),
        ("lift in the top tenth", |x| &x.top_tenth_lift, lift),
    ];
    for (name, f, g) in rows {
        let live = if today {
            format!(" {} |", est(f(&k.today), g))
        } else {
            String::new()
        };
        s.push_str(&format!(
            "| {name} |{live} {} | {} |\n",
            est(f(&k.recommended), g),
            est(f(&k.model), g)
        ));
    }
    s.push('\n');
}

/// A first model's ranking on the test period, for its points alone: today's constant score has
/// no ranking to set it against, and no hand-over to shift from.
fn first_model_lead(s: &mut String, r: &Recommended) {
    let k = &r.ranking;
    s.push_str(&format!(
        "On the test period ({} leads, {} converted, never seen by the fit), the first model's points (made on the training period only) rank leads with ROC AUC {} (fitted model: {}).\n\n",
        thousands(k.leads),
        thousands(k.converted),
        est(&k.recommended.roc_auc, auc),
        est(&k.model.roc_auc, auc),
    ));
    ranking_table(s, k, false);
}

/// The opening of a first model's changes.md: why there was nothing to compare against, the
/// scale, the rules selected with their evidence, and the live rules no lead matched.
pub fn first_model_text(f: &crate::recommend::FirstModel) -> String {
    let why = if f.all_zero {
        "every rule of the live model is at 0 points (init's template as written)"
    } else {
        "the live model gives every lead the same score"
    };
    let mut s = format!(
        "**This is a first model.** There was no live score to compare against: {why}. The points below are a first scoring model proposed from the data: every {:.0} points double a lead's odds of converting (`--pdo`), and 0 points is a lead with none of the selected attributes and no selected behaviour.{}

",
        f.pdo,
        match (f.average_rate, f.average_from) {
            (Some(r), Some(from)) => format!(
                " The leads converted at {:.1}% on average; from about {from:.0} points a lead converts at least that often.",
                100.0 * r
            ),
            _ => String::new(),
        }
    );
    s.push_str(&format!(
        "The written rules were chosen one at a time on the leads they were fitted on: each step took the rule that most improved the log-loss on those leads' last quarter by creation ({} leads, never fitted while choosing), among {} rules with enough leads and converters; a rule whose effect stayed within two standard errors of 0 gets 0 points. Rare values stay pooled with the others at 0 points.

",
        thousands(f.check_leads as u64),
        f.considered
    ));
    if !f.selected.is_empty() {
        s.push_str(
            "| step | rule | out-of-time log-loss gain per lead |
|---|---|---|
",
        );
        for (k, x) in f.selected.iter().enumerate() {
            s.push_str(&format!(
                "| {} | `{}` | {:.5} ± {:.5} |
",
                k + 1,
                x.feature.trim_start_matches("rule:").replace('|', "\\|"),
                x.gain,
                x.gain_se
            ));
        }
        s.push('\n');
    }
    if !f.unmatched.is_empty() {
        s.push_str(&format!(
            "**Warning: {} rule(s) of the live model match no lead in this data:** {}. Check their event types and attribute values against the export (a renamed event type or another system's values); they get 0 points.\n\n",
            f.unmatched.len(),
            f.unmatched
                .iter()
                .map(|r| format!("`{}`", r.replace('|', "\\|")))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s
}

/// Which leads the written weights were fitted on.
fn fitted_on(r: &Recommended) -> String {
    let d = &r.deployed;
    if r.first_model.is_some() && !d.same_as_validated {
        return format!(
            "The written points: rules selected and fitted the same way on all {} mature leads ({} converted), the test period included, every lead weighted alike. Their thresholds were chosen on the same leads; figures on those leads would be in-sample, so the test-period figures here are those of the same procedure on the training period only (column \"training period only\"), and the walk-forward below shows the procedure quarter by quarter.\n\n",
            thousands(d.leads),
            thousands(d.converted)
        );
    }
    if d.same_as_validated {
        return "The points below were fitted on the training period.\n\n".into();
    }
    let half = match d.half_life_days {
        None => "every lead weighted alike (no recency half-life beat it out of time)".to_string(),
        Some(h) => format!(
            "recent leads weighted more (half-life {h:.0} days, chosen by the walk-forward's out-of-time log-loss)"
        ),
    };
    let recent = if r.walk.recent_effect.is_empty() {
        String::new()
    } else {
        format!(
            " Rules whose effect drifted get their effect since the drift: {}.",
            r.walk
                .recent_effect
                .iter()
                .map(|x| format!("`{}` (since {})", x.rule.replace('|', "\\|"), x.period))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let recounted = match (d.refitted_under_decay, r.decay.first()) {
        (true, Some(g)) => format!(
            " Behaviour rules' fires were recounted under the chosen decay ({}) before the refit, so their points per fire mean what they will count.",
            g.recommended
        ),
        _ => String::new(),
    };
    format!(
        "The written points were refitted on all {} mature leads ({} converted), the test period included, with {half}.{recent}{recounted} Their thresholds were chosen on the same leads; figures on those leads would be in-sample, so the test-period figures here are those of the same procedure fitted on the training period only (column \"training period only\"), and the walk-forward below shows the procedure quarter by quarter.\n\n",
        thousands(d.leads),
        thousands(d.converted)
    )
}

fn month(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0}"))
}

/// The walk-forward table.
fn walk_forward(s: &mut String, r: &Recommended) {
    let w = &r.walk;
    if w.folds.is_empty() {
        return;
    }
    // A first model's "today" is a constant score: its cells show the first model alone.
    let first = r.first_model.is_some();
    let pair = |a: String, b: String| if first { b } else { format!("{a} → {b}") };
    s.push_str(if first {
        "\n## Walk-forward: had the first model been made before each quarter\n\nFor each quarter, the procedure ran on the leads whose outcomes had matured before it began (rules selected, points, thresholds for the objective), and its config is measured on the quarter's leads.\n\n| quarter | mature leads fitted | leads (converted) | ROC AUC | SQL | hand-overs a month | precision | recall |\n|---|---|---|---|---|---|---|---|\n"
    } else {
        "\n## Walk-forward: had the recommendation been adopted each quarter\n\nFor each quarter, the procedure ran on the leads whose outcomes had matured before it began (points, thresholds for the objective), and its config is measured on the quarter's leads beside today's config.\n\n| quarter | mature leads fitted | leads (converted) | ROC AUC today → recommended | SQL | hand-overs a month | precision | recall |\n|---|---|---|---|---|---|---|---|\n"
    });
    for f in &w.folds {
        match (&f.today, &f.recommended) {
            (Some(a), Some(b)) => s.push_str(&format!(
                "| {} | {} | {} ({}) | {} | {} | {} | {} | {} |\n",
                f.period,
                thousands(f.fitted_leads),
                thousands(f.leads),
                thousands(f.converted),
                pair(auc(a.ranking.roc_auc.value), auc(b.ranking.roc_auc.value)),
                pair(points(a.sql), points(b.sql)),
                pair(month(a.handovers_per_month), month(b.handovers_per_month)),
                pair(pct(a.precision), pct(b.precision)),
                pair(pct(a.recall), pct(b.recall)),
            )),
            _ => s.push_str(&format!(
                "| {} | {} | {} ({}) | {} | | | | |\n",
                f.period,
                thousands(f.fitted_leads),
                thousands(f.leads),
                thousands(f.converted),
                f.note.as_deref().unwrap_or("-")
            )),
        }
    }
    if let (Some(a), Some(b)) = (&w.today, &w.recommended) {
        s.push_str(&format!(
            "| all quarters | | | {} | | {} | {} | {} |\n",
            pair(auc(a.roc_auc), auc(b.roc_auc)),
            pair(month(a.handovers_per_month), month(b.handovers_per_month)),
            pair(pct(a.precision), pct(b.precision)),
            pair(pct(a.recall), pct(b.recall)),
        ));
    }
    // A first model's selection weighs every lead alike, and with no quarter measured there is
    // no evidence to show: either way the half-life table would only be noise.
    if first || w.recommended.is_none() {
        return;
    }
    s.push_str("\nRecency half-life of the written weights, by the quarters' out-of-time log-loss (from none to ever shorter half-lives, one replaces the current choice only when it gains at least 2 standard errors and 0.1% of the log-loss over it):\n\n| half-life | log-loss | gain over none |\n|---|---|---|\n");
    for h in &w.half_lives {
        s.push_str(&format!(
            "| {} | {} | {:.5} ± {:.5}{} |\n",
            h.half_life_days
                .map_or("none".into(), |d| format!("{d:.0} days")),
            h.log_loss.map_or("-".into(), |v| format!("{v:.5}")),
            h.gain,
            h.gain_se,
            if h.half_life_days == w.chosen_half_life_days {
                " **chosen**"
            } else {
                ""
            }
        ));
    }
}

/// The readable diff.
pub fn changes_md(r: &Recommended, old_mql: f64, old_sql: f64) -> String {
    let w = &r.weights;
    let mut s = String::from("# Recommended changes\n\n");
    if let Some(f) = &r.first_model {
        s.push_str(&first_model_text(f));
    }
    lead(&mut s, r);
    s.push_str(&format!(
        "Scaling: points = {:.2} × log-odds; every {:.1} points double the odds of converting (PDO). Rounding to whole points moves a lead's score by at most {:.2} points (mean {:.2}).\n\n",
        w.scaling.factor, w.scaling.pdo, w.rounding_max, w.rounding_mean
    ));
    s.push_str(&fitted_on(r));
    // A first model's "current" is 0 everywhere: its table shows the points alone.
    let first = r.first_model.is_some();
    s.push_str(if first {
        "| rule | points | training period only | why |\n|---|---|---|---|\n"
    } else {
        "| rule | current → recommended | training period only | why |\n|---|---|---|---|\n"
    });
    let change = |from: f64, to: f64| {
        if first {
            points(to)
        } else {
            format!("{} → {}", points(from), points(to))
        }
    };
    let flag = |f: &[Flag]| {
        f.iter()
            .map(|f| match f {
                Flag::LowSupport => " **low support**",
                Flag::NotExercised => " **never exercised**",
                Flag::SignContradicts => " **sign contradicts current points**",
            })
            .collect::<String>()
    };
    // A first model's table holds every rule with points in the written config or in the one
    // made on the training period only (whose figures the back-test shows); the rest are listed
    // below it with their reasons.
    let all: Vec<_> = w.implicit.iter().chain(&w.explicit).collect();
    let zero_in_both =
        |k: usize| all[k].recommended == 0.0 && r.validated.points.get(k).is_none_or(|v| *v == 0.0);
    let mut unchanged = 0;
    for (k, c) in w.implicit.iter().chain(&w.explicit).enumerate() {
        // A first model lists its rules at 0 points, with their reasons, below the table.
        let listed_below = if first {
            zero_in_both(k)
        } else {
            c.current == c.recommended && c.flags.is_empty()
        };
        if listed_below {
            unchanged += 1;
            continue;
        }
        let what = if c.kind == "implicit" { "per fire" } else { "" };
        let recent = r
            .walk
            .recent_effect
            .iter()
            .find(|x| x.rule == c.rule && c.kind == "implicit")
            .map(|x| {
                format!(
                    "; its effect since {} (drift found by rule stability)",
                    x.period
                )
            })
            .unwrap_or_default();
        s.push_str(&format!(
            "| `{}` {} | {} | {} | {}{}{} |\n",
            c.rule.replace('|', "\\|"),
            what,
            change(c.current, c.recommended),
            r.validated.points.get(k).map_or("-".into(), |v| points(*v)),
            c.reason.replace('|', "\\|"),
            recent,
            flag(&c.flags)
        ));
    }
    s.push_str(&format!(
        "| SQL threshold | {} | {} | objective: {}{} |\n| MQL threshold | {} | {} | {}, never below 1 point (a lead with no evidence either way scores 0) |\n",
        change(old_sql, r.sql),
        points(r.validated.sql),
        r.objective.describe(),
        match (r.objective_met, r.objective) {
            (true, _) => "",
            (false, crate::recommend::Objective::Volume) if r.validated.today_per_month <= 0.0 => {
                " **today's config hands over no lead: the best F1 is used instead**"
            }
            (false, _) => " **not reachable; nearest threshold used**",
        },
        change(old_mql, r.mql),
        points(r.validated.mql),
        if first {
            format!(
                "passes on about {} times as many leads as SQL (today hands over nobody, so there is no ratio to keep)",
                crate::recommend::thresholds::MQL_PER_SQL_WITHOUT_TODAY
            )
        } else {
            "keeps today's ratio of MQL to SQL hand-overs (marketing passes on as many MQLs per SQL as today)".to_string()
        }
    ));
    if unchanged > 0 && r.first_model.is_some() {
        // A first model's rules at 0 points, each with why: the reader asks about every one.
        s.push_str(&format!("\n{unchanged} rule(s) get 0 points:\n\n"));
        for (k, c) in w.implicit.iter().chain(&w.explicit).enumerate() {
            if zero_in_both(k) {
                s.push_str(&format!(
                    "- `{}`{}: {}\n",
                    c.rule.replace('|', "\\|"),
                    if c.kind == "implicit" {
                        " per fire"
                    } else {
                        ""
                    },
                    c.reason
                ));
            }
        }
    } else if unchanged > 0 {
        s.push_str(&format!("\n{unchanged} rule(s) unchanged.\n"));
    }
    if !w.suggestions.is_empty() {
        s.push_str("\nValues the live model gives no points but the model would (not written to the config; add a rule if the meeting agrees):\n\n");
        for g in w.suggestions.iter().take(15) {
            s.push_str(&format!(
                "- `{}`: {} points ({} leads, {} converted)\n",
                g.feature,
                points(g.points),
                thousands(g.leads),
                thousands(g.converters)
            ));
        }
    }
    decay(&mut s, r);
    walk_forward(&mut s, r);
    let (c, n) = (&r.current, &r.recommended);
    if first {
        // Today's constant score hands over nobody: the first model's back-test stands alone.
        s.push_str(&format!(
            "\n## Back-test on the test period (hand-over replay)\n\nThe procedure fitted on the training period only (the column \"training period only\" above), replayed on the test period it never saw.\n\n| | first model (SQL {}) |\n|---|---|\n| hand-overs | {} |\n| hand-overs per month | {} |\n| precision | {} |\n| recall | {} |\n| median days to win | {} |\n",
            points(n.threshold),
            thousands(n.handovers),
            per_month(&n.handovers_per_month),
            interval_pct(&n.precision),
            interval_pct(&n.recall),
            n.median_days_to_win.map_or("-".into(), |d| format!("{d:.0}")),
        ));
        return s;
    }
    s.push_str(&format!(
        "\n## Back-test on the test period (hand-over replay)\n\nThe procedure fitted on the training period only (the column \"training period only\" above), replayed on the test period it never saw.\n\n| | current (SQL {}) | recommended (SQL {}) |\n|---|---|---|\n| hand-overs | {} | {} |\n| hand-overs per month | {} | {} |\n| precision | {} | {} |\n| recall | {} | {} |\n| median days to win | {} | {} |\n",
        points(c.threshold),
        points(n.threshold),
        thousands(c.handovers),
        thousands(n.handovers),
        per_month(&c.handovers_per_month),
        per_month(&n.handovers_per_month),
        interval_pct(&c.precision),
        interval_pct(&n.precision),
        interval_pct(&c.recall),
        interval_pct(&n.recall),
        c.median_days_to_win.map_or("-".into(), |d| format!("{d:.0}")),
        n.median_days_to_win.map_or("-".into(), |d| format!("{d:.0}")),
    ));
    s
}
