//! The console summaries of `metrics.json` and `segments.json`, and the few lines `--quiet`
//! prints instead (the four questions' answers in a line each, and where the files are).
//!
//! Input: computed results. Output: text for a terminal. Guarantees: only formats numbers the
//! stages computed (see [`crate::format`]); shows no group the result does not show.

use std::io::Write;

use crate::evaluate::Metrics;
use crate::format::{fixed, pct, thousands};
use crate::segments::{Group, Report};

/// The day the leads' creation range ends: the last lead's, or the window's end.
fn leads_end(w: &crate::evaluate::summary::Window) -> &str {
    let d = if w.last_created.is_empty() {
        &w.until
    } else {
        &w.last_created
    };
    &d[..10.min(d.len())]
}

/// The console summary of `metrics.json`.
/// The evaluation in text. `live` is false for a first model: its live score is the same for
/// every lead, so the live columns (ROC AUC 0.5, nobody handed over, one band) are left out
/// rather than printed as findings.
pub fn metrics(out: &mut impl Write, m: &Metrics, live: bool) -> std::io::Result<()> {
    let l = &m.labels;
    writeln!(
        out,
        "Leads created {} .. {}: {} in total; {} immature (excluded), {} came in hot (counted apart), {} evaluated, {} converted ({}).",
        &m.window.since[..10.min(m.window.since.len())],
        leads_end(&m.window),
        thousands(l.leads),
        thousands(l.immature),
        thousands(l.came_in_hot),
        thousands(l.evaluable),
        thousands(l.converted),
        pct(l.conversion_rate)
    )?;
    for a in m
        .model
        .skipped_attributes
        .iter()
        .filter(|a| a.leak.is_some())
    {
        writeln!(
            out,
            "Left out: column `{}` {}.",
            a.attribute,
            a.reason.trim_end_matches('.')
        )?;
    }
    for c in &m.model.capped_counts {
        writeln!(
            out,
            "Capped: rule `{}` counted as {} fires (the most of any other training lead) for {} lead(s) far above every other lead, in the fit and the points' scale; their live scores are not changed.",
            c.rule,
            crate::format::fixed(Some(c.cap), 1),
            thousands(c.leads as u64)
        )?;
    }
    if let Some(by) = &m.window.data_end_set_by {
        writeln!(
            out,
            "Data end {} (set by {by}): a lead is mature when its snapshot and horizon end before it.",
            &m.window.data_end[..10.min(m.window.data_end.len())]
        )?;
    }
    let s = &m.split;
    writeln!(
        out,
        "Model fitted on {} leads ({} converted) created before {}; tested on the {} leads ({} converted) created since.",
        thousands(s.train_leads),
        thousands(s.train_converted),
        &s.test_from[..10.min(s.test_from.len())],
        thousands(s.test_leads),
        thousands(s.test_converted)
    )?;
    let t = &m.test;
    if !live {
        return first_model_metrics(out, m);
    }
    writeln!(
        out,
        "\nOut of time (test set)        live score               model"
    )?;
    let rows = [
        (
            "ROC AUC",
            t.live.roc_auc.show(|v| fixed(v, 3)),
            t.model.roc_auc.show(|v| fixed(v, 3)),
        ),
        ("PR AUC", fixed(t.live.pr_auc, 3), fixed(t.model.pr_auc, 3)),
        ("KS", fixed(t.live.ks, 3), fixed(t.model.ks, 3)),
        (
            "Brier / log-loss",
            "-".to_string(),
            format!(
                "{} / {}",
                fixed(t.model.brier, 4),
                fixed(t.model.log_loss, 4)
            ),
        ),
    ];
    for (what, live, model) in rows {
        writeln!(out, "  {what:<27} {live:<24} {model}")?;
    }
    let ev = &t.equal_volume;
    writeln!(
        out,
        "  at SQL volume ({} leads)     precision {} recall {}   precision {} recall {}",
        thousands(ev.handovers),
        pct(ev.live_precision),
        pct(ev.live_recall),
        pct(ev.model_precision),
        pct(ev.model_recall)
    )?;
    writeln!(out, "\nThresholds (hand-over replay, test set)")?;
    for th in &t.thresholds {
        writeln!(
            out,
            "  {} at {}: {} hand-overs ({}/month), precision {}, recall {}, median {} days to win",
            th.stage.to_uppercase(),
            th.threshold,
            thousands(th.handovers),
            fixed(th.handovers_per_month.value, 0),
            th.precision.show(pct),
            th.recall.show(pct),
            fixed(th.median_days_to_win, 0)
        )?;
    }
    writeln!(out, "\nConversion by band (test set)")?;
    for b in &t.live_calibration {
        writeln!(
            out,
            "  {:<10} {:>9} leads  {:>7} [{}, {}]",
            b.group,
            thousands(b.leads),
            pct(b.rate),
            pct(b.rate_low),
            pct(b.rate_high)
        )?;
    }
    writeln!(out, "\nLift by decile (test set)   live   model")?;
    for (a, b) in t.live_deciles.iter().zip(&t.model_deciles) {
        writeln!(
            out,
            "  decile {:>2}                {:>5}  {:>5}",
            a.decile,
            fixed(a.lift, 2),
            fixed(b.lift, 2)
        )?;
    }
    writeln!(
        out,
        "\nPer period     leads  immature  evaluable  conv.rate  live AUC  model AUC  SQL prec  SQL recall  SQL/month   PSI"
    )?;
    for p in &m.periods {
        writeln!(
            out,
            "  {:<9} {:>8} {:>9} {:>10} {:>10} {:>9} {:>9}{} {:>9} {:>11} {:>10} {:>5}",
            p.period,
            thousands(p.leads),
            thousands(p.immature),
            thousands(p.evaluable),
            pct(p.rate),
            fixed(p.live_auc, 3),
            fixed(p.model_auc, 3),
            if p.in_sample { "*" } else { " " },
            pct(p.sql_precision),
            pct(p.sql_recall),
            fixed(p.sql_handovers_per_month, 0),
            fixed(p.psi, 3)
        )?;
    }
    let b = &m.psi_baseline;
    writeln!(
        out,
        "  (* the model was fitted on this period: in-sample. PSI compares each period's live scores with the training period's: {} leads created before {}; a period with fewer than {} evaluable leads has none.)",
        thousands(b.leads),
        &b.created_before[..10.min(b.created_before.len())],
        b.min_leads
    )?;
    model_tail(out, m)
}

/// A first model's evaluation: the fitted model out of time and per period, without the
/// constant live score's columns.
fn first_model_metrics(out: &mut impl Write, m: &Metrics) -> std::io::Result<()> {
    let t = &m.test;
    writeln!(
        out,
        "\nNo live score (every lead scores the same): the live columns are left out.\nOut of time (test set), fitted model: ROC AUC {}, PR AUC {}, KS {}, Brier {}, log-loss {}",
        t.model.roc_auc.show(|v| fixed(v, 3)),
        fixed(t.model.pr_auc, 3),
        fixed(t.model.ks, 3),
        fixed(t.model.brier, 4),
        fixed(t.model.log_loss, 4)
    )?;
    writeln!(
        out,
        "\nPer period     leads  immature  evaluable  conv.rate  model AUC"
    )?;
    for p in &m.periods {
        writeln!(
            out,
            "  {:<9} {:>8} {:>9} {:>10} {:>10} {:>9}{}",
            p.period,
            thousands(p.leads),
            thousands(p.immature),
            thousands(p.evaluable),
            pct(p.rate),
            fixed(p.model_auc, 3),
            if p.in_sample { "*" } else { "" },
        )?;
    }
    writeln!(out, "  (* the model was fitted on this period: in-sample.)")?;
    model_tail(out, m)
}

/// Rule stability and the fitted model's strongest features.
fn model_tail(out: &mut impl Write, m: &Metrics) -> std::io::Result<()> {
    stability(out, m)?;
    let mut coefs: Vec<(f64, &String)> = m
        .model
        .fitted
        .coef
        .iter()
        .copied()
        .zip(&m.model.fitted.names)
        .collect();
    coefs.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()).then(a.1.cmp(b.1)));
    writeln!(
        out,
        "\nStrongest model features (log-odds per standard deviation; penalty {} chosen by time-ordered CV)",
        m.model.fitted.penalty
    )?;
    for (c, name) in coefs.iter().take(10) {
        writeln!(out, "  {c:>+7.3}  {name}")?;
    }
    Ok(())
}

/// Which rules changed their effect out of time, and which never fired.
fn stability(out: &mut impl Write, m: &Metrics) -> std::io::Result<()> {
    use crate::evaluate::stability::{DriftKind, Status};
    let r = &m.rule_stability;
    let tested = r.iter().filter(|r| r.drift.q.is_some()).count();
    let flagged: Vec<_> = r.iter().filter(|r| r.drift.detected).collect();
    writeln!(
        out,
        "
Rule stability: {} of {} rules changed their effect between training and test (Benjamini-Hochberg 5%).",
        flagged.len(),
        tested
    )?;
    let effect = |e: &crate::evaluate::stability::Effect| match (e.log_odds, e.ci) {
        (Some(b), Some(ci)) => format!("{b:+.2} [{:+.2}, {:+.2}]", ci[0], ci[1]),
        _ if e.status == Status::NeverFired => "never fired".into(),
        _ => "not enough data".into(),
    };
    for f in &flagged {
        let what = match f.drift.kind {
            Some(DriftKind::StoppedFiring) => "stopped firing",
            Some(DriftKind::SignChanged) => "reversed",
            _ => match (f.training.log_odds, f.test.log_odds) {
                (Some(a), Some(b)) if b.abs() < a.abs() => "effect weakened",
                _ => "effect grew",
            },
        };
        writeln!(
            out,
            "  {}: {what} since {}; log-odds training {}, test {}; q {}{}",
            f.rule,
            f.drift.since.as_deref().unwrap_or("?"),
            effect(&f.training),
            effect(&f.test),
            fixed(f.drift.q, 4),
            f.drift
                .carried_by
                .as_ref()
                .map(|a| format!(" (may be a shift from `{a}`: within chance or at most half as large without it)"))
                .unwrap_or_default()
        )?;
    }
    let never: Vec<&str> = r
        .iter()
        .filter(|r| r.training.status == Status::NeverFired && r.test.status == Status::NeverFired)
        .map(|r| r.rule.as_str())
        .collect();
    if !never.is_empty() {
        writeln!(out, "  Never fired in this window: {}", never.join(", "))?;
    }
    Ok(())
}

/// The worst significant, non-redundant hand-over groups (up to `top`), worst first.
fn worst_groups(r: &Report, top: usize) -> Vec<&Group> {
    r.segments
        .non_converting
        .groups
        .iter()
        .filter(|g| g.significant && !g.redundant && g.lift < 1.0)
        .take(top)
        .collect()
}

/// "a=b (1.2%); c=d (3.4%)", or that no group converts significantly worse.
fn worst_text(worst: &[&Group]) -> String {
    match worst.is_empty() {
        true => "no group converts significantly worse".to_string(),
        false => worst
            .iter()
            .map(|g| format!("{} ({})", g.label(), pct1(g.rate)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn ranking_line(out: &mut impl Write, m: &Metrics) -> std::io::Result<()> {
    let t = &m.test;
    writeln!(
        out,
        "Ranking on the test set (ROC AUC): live score {}, fitted model {}.",
        t.live.roc_auc.show(|v| fixed(v, 3)),
        t.model.roc_auc.show(|v| fixed(v, 3))
    )
}

fn drift_line(out: &mut impl Write, m: &Metrics) -> std::io::Result<()> {
    let flagged: Vec<String> = m
        .rule_stability
        .iter()
        .filter(|r| r.drift.detected)
        .map(|r| {
            format!(
                "{} (since {})",
                r.rule,
                r.drift.since.as_deref().unwrap_or("?")
            )
        })
        .collect();
    match flagged.is_empty() {
        true => writeln!(out, "Rule stability: no rule's effect changed out of time."),
        false => writeln!(
            out,
            "Rule stability: changed out of time: {}.",
            flagged.join(", ")
        ),
    }
}

/// `evaluate --quiet`: the window, the ranking, the drifted rules and the file.
pub fn metrics_brief(
    out: &mut impl Write,
    m: &Metrics,
    path: &std::path::Path,
) -> std::io::Result<()> {
    let s = &m.split;
    writeln!(
        out,
        "{} leads evaluated ({} converted); tested on the {} created from {}.",
        thousands(m.labels.evaluable),
        thousands(m.labels.converted),
        thousands(s.test_leads),
        &s.test_from[..10.min(s.test_from.len())]
    )?;
    ranking_line(out, m)?;
    drift_line(out, m)?;
    writeln!(out, "wrote {}", path.display())
}

/// `segments --quiet`: the hand-overs, the worst groups and the folder.
pub fn segments_brief(
    out: &mut impl Write,
    r: &Report,
    dir: &std::path::Path,
) -> std::io::Result<()> {
    let nc = &r.segments.non_converting;
    let worst = worst_groups(r, 3);
    writeln!(
        out,
        "Hand-overs at {} ({}): {} leads, {} converted; worst: {}.",
        r.threshold_label,
        r.threshold,
        thousands(nc.population),
        pct1(nc.rate),
        worst_text(&worst)
    )?;
    writeln!(out, "wrote {}", dir.display())
}

/// `calibrate --quiet`: one line per review question and the report's path.
pub fn calibrate_brief(
    out: &mut impl Write,
    m: &Metrics,
    seg: &Report,
    rec: &crate::recommend::Recommended,
    dir: &std::path::Path,
) -> std::io::Result<()> {
    let per_month = |e: &crate::evaluate::Estimate| fixed(e.value, 0);
    writeln!(
        out,
        "Leads created {} .. {}: {} evaluated; tested out of time on the {} created from {}.",
        &m.window.since[..10.min(m.window.since.len())],
        leads_end(&m.window),
        thousands(m.labels.evaluable),
        thousands(m.split.test_leads),
        &m.split.test_from[..10.min(m.split.test_from.len())]
    )?;
    if let Some(f) = &rec.first_model {
        writeln!(
            out,
            "First model: there was no live score to compare against ({}); {} rule(s) selected by out-of-time likelihood, every {:.0} points double the odds (changes.md).",
            if f.all_zero {
                "every rule is at 0 points"
            } else {
                "the live model gives every lead the same score"
            },
            f.selected.len(),
            f.pdo
        )?;
        if !f.unmatched.is_empty() {
            writeln!(
                out,
                "Warning: {} rule(s) of the live model match no lead in this data: {}.",
                f.unmatched.len(),
                f.unmatched.join(", ")
            )?;
        }
    }
    if rec.first_model.is_some() {
        return first_model_brief(out, m, rec, dir);
    }
    write!(out, "1. ")?;
    ranking_line(out, m)?;
    let worst = worst_groups(seg, 3);
    writeln!(
        out,
        "2. Hand-overs that convert worst: {}.",
        worst_text(&worst)
    )?;
    let (c, n) = (&rec.current, &rec.recommended);
    write!(out, "3. ")?;
    for x in &rec.shift {
        let (a, b) = if x.figure == "recall" {
            (pct(Some(x.today)), pct(Some(x.recommended)))
        } else {
            (fixed(Some(x.today), 0), fixed(Some(x.recommended), 0))
        };
        let what = if x.figure == "recall" {
            "Recall changes"
        } else {
            "Hand-overs a month change"
        };
        write!(
            out,
            "{what} by more than a third: {a} today, {b} recommended. "
        )?;
    }
    writeln!(
        out,
        "SQL {} today: precision {}, recall {}, {} hand-overs a month; recommended SQL {}: {}, {}, {} a month (test period).",
        crate::format::points(c.threshold),
        pct(c.precision.value),
        pct(c.recall.value),
        per_month(&c.handovers_per_month),
        crate::format::points(n.threshold),
        pct(n.precision.value),
        pct(n.recall.value),
        per_month(&n.handovers_per_month)
    )?;
    let w = &rec.weights;
    let changed = w
        .implicit
        .iter()
        .chain(&w.explicit)
        .filter(|c| c.current != c.recommended)
        .count();
    let decay = match rec.decay.first() {
        Some(g) if g.recommended != g.current => {
            format!("decay {} (was {})", g.recommended, g.current)
        }
        Some(g) => format!("decay kept ({})", g.current),
        None => "decay not compared".into(),
    };
    let k = &rec.ranking;
    let walk = match (&rec.walk.today, &rec.walk.recommended) {
        (Some(a), Some(b)) => {
            let n = rec
                .walk
                .folds
                .iter()
                .filter(|f| f.recommended.is_some())
                .count();
            format!(
                "; walk-forward over {n} quarter{}{}: {} against {}",
                if n == 1 { "" } else { "s" },
                if n < 3 {
                    " only (the back-test wants 3; the others had too few mature leads before them)"
                } else {
                    ""
                },
                fixed(b.roc_auc, 3),
                fixed(a.roc_auc, 3)
            )
        }
        // Said, not left out: the reader would otherwise take the test period for the whole story.
        _ => "; no walk-forward (no quarter had enough mature leads before it; the back-test wants 3)"
            .into(),
    };
    use crate::recommend::Verdict;
    let keep = match rec.verdict {
        Verdict::Better => "",
        Verdict::Worse => " They rank worse than today's out of time: keep today's points.",
        Verdict::WorseOnTheTestPeriod | Verdict::WorseInTheWalkForward => {
            " Not shown better: the test period and the walk-forward disagree."
        }
    };
    writeln!(
        out,
        "4. Recommended points rank the test period with ROC AUC {} against {} today{walk}.{keep} {changed} of {} rules change (changes.md); {decay}.",
        k.recommended.roc_auc.show(|v| fixed(v, 3)),
        k.today.roc_auc.show(|v| fixed(v, 3)),
        w.implicit.len() + w.explicit.len()
    )?;
    drift_line(out, m)?;
    writeln!(out, "Report: {}", dir.join("report.html").display())
}

/// Questions 1, 3 and 4 of a first model, answered for its points alone (there is no live
/// score; question 2 has no hand-overs to look into yet).
fn first_model_brief(
    out: &mut impl Write,
    m: &Metrics,
    rec: &crate::recommend::Recommended,
    dir: &std::path::Path,
) -> std::io::Result<()> {
    let k = &rec.ranking;
    writeln!(
        out,
        "1. Ranking on the test set (ROC AUC): the first model's points {}, fitted model {}.",
        k.recommended.roc_auc.show(|v| fixed(v, 3)),
        k.model.roc_auc.show(|v| fixed(v, 3)),
    )?;
    writeln!(
        out,
        "2. No live score handed leads over: no hand-overs to look into yet."
    )?;
    let n = &rec.recommended;
    writeln!(
        out,
        "3. SQL {}, MQL {} ({}); the same procedure on the training period only (SQL {}) handed over {} a month in the test period: precision {}, recall {}.",
        crate::format::points(rec.sql),
        crate::format::points(rec.mql),
        rec.objective.describe(),
        crate::format::points(n.threshold),
        fixed(n.handovers_per_month.value, 0),
        pct(n.precision.value),
        pct(n.recall.value),
    )?;
    let w = &rec.weights;
    let with = w
        .implicit
        .iter()
        .chain(&w.explicit)
        .filter(|c| c.recommended != 0.0)
        .count();
    let walk = match &rec.walk.recommended {
        Some(b) => format!(
            "; made before each of the last {} quarters, it ranked them with a mean ROC AUC of {}",
            rec.walk
                .folds
                .iter()
                .filter(|f| f.recommended.is_some())
                .count(),
            fixed(b.roc_auc, 3)
        ),
        None => "; no quarter-by-quarter back-test (no quarter had enough mature leads before it)"
            .into(),
    };
    writeln!(
        out,
        "4. {with} of {} rules get points (changes.md){walk}.",
        w.implicit.len() + w.explicit.len()
    )?;
    drift_line(out, m)?;
    writeln!(out, "Report: {}", dir.join("report.html").display())
}

fn pct1(v: f64) -> String {
    pct(Some(v))
}

fn table(out: &mut impl Write, groups: &[&Group], top: usize) -> std::io::Result<()> {
    writeln!(
        out,
        "  {:>3}  {:<52} {:>7} {:>20} {:>14} {:>9}",
        "#", "group", "leads", "conversion [95%]", "lift [95%]", "q"
    )?;
    for g in groups.iter().take(top) {
        writeln!(
            out,
            "  {:>3}  {:<52} {:>7} {:>20} {:>14} {:>9}{}",
            g.rank,
            g.label().chars().take(52).collect::<String>(),
            thousands(g.leads),
            format!(
                "{} [{}, {}]",
                pct1(g.rate),
                pct1(g.rate_low),
                pct1(g.rate_high)
            ),
            format!("{:.2} [{:.2}, {:.2}]", g.lift, g.lift_low, g.lift_high),
            if g.q_value > 0.0 {
                format!("{:.1e}", g.q_value)
            } else {
                // The chi-square survival function underflows below ~1e-300.
                "<1e-300".to_string()
            },
            if g.redundant { "  (redundant)" } else { "" }
        )?;
    }
    Ok(())
}

/// The console summary of `segments.json`.
fn converter_marks(
    out: &mut impl Write,
    r: &Report,
    good: &[Group],
    before: &str,
) -> std::io::Result<()> {
    let cm = &r.segments.converter_marks;
    writeln!(
        out,
        "{before}Values that mark converters, over all {} evaluated leads ({} converted; ranked by the lower bound of lift):",
        thousands(cm.population),
        pct1(cm.rate)
    )?;
    table(out, &good.iter().collect::<Vec<_>>(), 10)
}

/// The segment analysis in text. `live` is false for a first model: nobody was handed over, so
/// only the values that mark converters are shown.
pub fn segments(
    out: &mut impl Write,
    r: &Report,
    show_redundant: bool,
    live: bool,
) -> std::io::Result<()> {
    let s = &r.segments;
    let nc = &s.non_converting;
    let pick = |gs: &[Group], worse: bool| -> Vec<Group> {
        gs.iter()
            .filter(|g| {
                (show_redundant || !g.redundant)
                    && g.significant
                    && (if worse { g.lift < 1.0 } else { g.lift > 1.0 })
            })
            .cloned()
            .collect()
    };
    if !live {
        return converter_marks(out, r, &pick(&s.converter_marks.groups, false), "");
    }
    writeln!(
        out,
        "Hand-overs at {} ({}): {} leads, {} converted ({}). Groups under {} leads are not shown ({} suppressed).",
        r.threshold_label,
        r.threshold,
        thousands(nc.population),
        thousands(nc.converted),
        pct1(nc.rate),
        s.spec.min_size,
        thousands(nc.suppressed)
    )?;
    writeln!(
        out,
        "\nHand-overs that convert worst (ranked by the upper bound of lift; q = Benjamini–Hochberg):"
    )?;
    let bad = pick(&nc.groups, true);
    table(out, &bad.iter().collect::<Vec<_>>(), 15)?;
    if bad.is_empty() {
        writeln!(
            out,
            "  (no group converts significantly worse than all hand-overs)"
        )?;
    }
    converter_marks(out, r, &pick(&s.converter_marks.groups, false), "\n")?;
    writeln!(
        out,
        "\nFit × engagement (explicit × implicit score quartiles at the snapshot): leads, conversion"
    )?;
    for c in &r.matrix {
        writeln!(
            out,
            "  {:<22} {:<28} {:>8} {:>8}",
            c.fit,
            c.engagement,
            thousands(c.leads),
            pct(c.rate)
        )?;
    }
    if !r.accounts.is_empty() {
        writeln!(
            out,
            "\n{} accounts with two or more hand-overs and no conversion; the largest:",
            thousands(r.accounts.len() as u64)
        )?;
        for a in r.accounts.iter().take(10) {
            writeln!(
                out,
                "  {:<14} {} leads, {} hand-overs  {}",
                a.account_id,
                a.leads,
                a.handovers,
                a.attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
    }
    Ok(())
}
