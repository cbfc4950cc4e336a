//! `changes.md`: the recommended config as a readable diff, with its back-test.
//!
//! Input: the [`Recommended`] config and the current thresholds. Output: Markdown. Guarantees:
//! only formats numbers the recommendation computed; `|` in rule names is escaped.

use crate::evaluate::Estimate;
use crate::format::{pct, points, thousands};
use crate::recommend::{Flag, Recommended};

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
                    if k.eligible { "" } else { " (not replayable)" }
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

/// The readable diff.
pub fn changes_md(r: &Recommended, old_mql: f64, old_sql: f64) -> String {
    let w = &r.weights;
    let mut s = String::from("# Recommended changes\n\n");
    s.push_str(&format!(
        "Scaling: points = {:.2} × log-odds; every {:.1} points double the odds of converting (PDO). Rounding to whole points moves a lead's score by at most {:.2} points (mean {:.2}).\n\n",
        w.scaling.factor, w.scaling.pdo, w.rounding_max, w.rounding_mean
    ));
    s.push_str("| rule | current → recommended | why |\n|---|---|---|\n");
    let flag = |f: &[Flag]| {
        f.iter()
            .map(|f| match f {
                Flag::LowSupport => " **low support**",
                Flag::NotExercised => " **never exercised**",
                Flag::SignContradicts => " **sign contradicts current points**",
            })
            .collect::<String>()
    };
    let mut unchanged = 0;
    for c in w.implicit.iter().chain(&w.explicit) {
        if c.current == c.recommended && c.flags.is_empty() {
            unchanged += 1;
            continue;
        }
        let what = if c.kind == "implicit" { "per fire" } else { "" };
        s.push_str(&format!(
            "| `{}` {} | {} → {} | {}{} |\n",
            c.rule.replace('|', "\\|"),
            what,
            points(c.current),
            points(c.recommended),
            c.reason.replace('|', "\\|"),
            flag(&c.flags)
        ));
    }
    s.push_str(&format!(
        "| SQL threshold | {} → {} | objective {}{} |\n| MQL threshold | {} → {} | keeps the current MQL's share of hand-overs |\n",
        points(old_sql),
        points(r.sql),
        r.objective.describe(),
        if r.objective_met { "" } else { " **not reachable on the training period; nearest threshold used**" },
        points(old_mql),
        points(r.mql)
    ));
    if unchanged > 0 {
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
    let (c, n) = (&r.current, &r.recommended);
    s.push_str(&format!(
        "\n## Back-test on the test period (hand-over replay)\n\n| | current (SQL {}) | recommended (SQL {}) |\n|---|---|---|\n| hand-overs | {} | {} |\n| hand-overs per month | {} | {} |\n| precision | {} | {} |\n| recall | {} | {} |\n| median days to win | {} | {} |\n",
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
