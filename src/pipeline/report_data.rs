//! The report's data: the figures every stage computed, gathered into [`report::Data`].
//!
//! Input: the analysis, the segments and the recommendation. Output: `report-data.json`'s
//! value, from which `report` draws the charts and the page. Guarantees: aggregates only (no
//! lead or account ids; groups under the minimum size are counted, not shown); nothing is
//! computed here that a stage did not compute.

use super::Analysis;
use crate::recommend::{Candidate, InputHash, Recommended};
use crate::report;
use crate::segments;
use crate::timeparse;

/// Everything the report shows, from what the stages computed.
pub fn report_data(
    an: &Analysis,
    seg: &segments::Report,
    rec: &Recommended,
    inputs: &[InputHash],
    recommended_sha256: String,
) -> report::Data {
    let t = &an.table;
    let m = &an.metrics;
    let n_train = t.n_train;
    let test_y = &t.y[n_train..];
    let point = |c: &Candidate| report::SweepPoint {
        threshold: c.threshold,
        precision: c.precision,
        recall: c.recall,
        handovers_per_month: c.handovers_per_month,
    };
    let spec = &seg.segments.spec;
    let row = |g: &segments::Group| report::SegmentRow {
        values: g.values.clone(),
        leads: g.leads,
        converted: g.converted,
        rate: g.rate,
        rate_low: g.rate_low,
        rate_high: g.rate_high,
        lift: g.lift,
        q_value: g.q_value,
    };
    let (nc, cm) = (&seg.segments.non_converting, &seg.segments.converter_marks);
    let shown = |g: &&segments::Group| g.significant && !g.redundant;
    let w = &rec.weights;
    let mut data = report::Data {
        schema: report::SCHEMA.into(),
        window: report::Window {
            since: day(an.since),
            until: day(an.data_end),
            last_created: m.window.last_created[..10.min(m.window.last_created.len())].to_string(),
            test_from: day(an.test_from),
            snapshot_days: m.window.snapshot_days,
            horizon_days: m.window.horizon_days,
            target: m.window.target.clone(),
            test_months: an.test.months,
        },
        quality: report::Quality {
            tables: an
                .ds
                .report
                .tables
                .iter()
                .map(|r| report::TableRow {
                    table: r.table.name_str().into(),
                    file: r.file.clone(),
                    rows: r.rows,
                    used: r.rows_used,
                })
                .collect(),
            warnings: an
                .ds
                .report
                .problems
                .iter()
                .map(|p| report::Warning {
                    code: p.code.into(),
                    file: p.file.clone(),
                    column: p.column.clone(),
                    rows: p.rows_affected,
                    message: p.message.clone(),
                })
                .collect(),
            leads: m.labels.leads,
            immature: m.labels.immature,
            came_in_hot: m.labels.came_in_hot,
            evaluable: m.labels.evaluable,
            converted: m.labels.converted,
            undated_conversions: m.labels.undated_conversions,
            train_leads: m.split.train_leads,
            train_converted: m.split.train_converted,
            test_leads: m.split.test_leads,
            test_converted: m.split.test_converted,
            skipped_attributes: t.skipped.clone(),
            capped_counts: t.capped.clone(),
            min_group_size: spec.min_size,
            suppressed_groups: nc.suppressed + cm.suppressed,
        },
        test: m.test.clone(),
        periods: m.periods.clone(),
        curves: report::Curves::of(test_y, &t.live_score[n_train..], &an.prob[n_train..]),
        distribution: report::Distribution::of(test_y, &t.live_score[n_train..]),
        thresholds: report::Thresholds {
            objective: rec.objective.to_string(),
            objective_met: rec.objective_met,
            current_mql: an.model.mql,
            current_sql: an.model.sql,
            recommended_mql: rec.mql,
            recommended_sql: rec.sql,
            current_sweep: rec.current_sweep.iter().map(point).collect(),
            recommended_sweep: rec.candidates.iter().map(point).collect(),
            current: rec.current.clone(),
            recommended: rec.recommended.clone(),
            current_mql_metrics: m.test.thresholds.iter().find(|x| x.stage == "mql").cloned(),
        },
        first_model: rec.first_model.clone(),
        labels: Default::default(),
        review: Some(report::Review {
            ranking: rec.ranking.clone(),
            walk: rec.walk.clone(),
            verdict: Some(rec.verdict),
            shift: rec.shift.clone(),
            validated_mql: rec.validated.mql,
            validated_sql: rec.validated.sql,
            deployed: rec.deployed.clone(),
        }),
        segments: report::SegmentsView {
            threshold: seg.threshold,
            handovers: nc.population,
            converted: nc.converted,
            rate: nc.rate,
            tested: nc.groups.len() as u64,
            significant: nc.groups.iter().filter(|g| g.significant).count() as u64,
            worst: nc
                .groups
                .iter()
                .filter(shown)
                .filter(|g| g.lift < 1.0)
                .take(15)
                .map(row)
                .collect(),
            converter_marks: cm
                .groups
                .iter()
                .filter(shown)
                .filter(|g| g.lift > 1.0)
                .take(10)
                .map(row)
                .collect(),
            converter_rate: cm.rate,
            accounts_without_conversion: seg.accounts.len() as u64,
        },
        matrix: seg
            .matrix
            .iter()
            .map(|c| report::MatrixCell {
                fit: c.fit.trim_start_matches("fit ").into(),
                engagement: c.engagement.trim_start_matches("engagement ").into(),
                leads: c.leads,
                rate: c.rate,
            })
            .collect(),
        weights: report::WeightsView {
            pdo: w.scaling.pdo,
            rounding_max: w.rounding_max,
            rules: w
                .implicit
                .iter()
                .chain(&w.explicit)
                .map(|r| report::RuleRow {
                    kind: r.kind.into(),
                    rule: r.rule.clone(),
                    current: r.current,
                    recommended: r.recommended,
                    leads: r.leads,
                    converters: r.converters,
                    coefficient: r.coefficient,
                    odds_ratio: r.coefficient.map(f64::exp),
                    flags: r.flags.clone(),
                })
                .collect(),
            suggestions: w.suggestions.iter().take(15).cloned().collect(),
        },
        rule_stability: m.rule_stability.clone(),
        decay: rec.decay.clone(),
        probability: Some(rec.probability.clone()),
        provenance: report::Provenance {
            version: env!("CARGO_PKG_VERSION").into(),
            inputs: inputs
                .iter()
                .map(|h| report::InputFile {
                    file: h.file.clone(),
                    sha256: h.sha256.clone(),
                })
                .collect(),
            recommended_config_sha256: recommended_sha256,
            settings: format!(
                "--since {} --until {} --test-from {} --snapshot-days {} --horizon-days {} --target {} --period {} --objective {}",
                day(an.since),
                day(an.data_end),
                day(an.test_from),
                m.window.snapshot_days,
                m.window.horizon_days,
                m.window.target,
                m.window.period.name(),
                rec.objective
            ),
        },
    };
    data.labels = shown_labels(&an.ds.spec.labels, &data);
    data
}

/// The labels the page can use: those that differ from their raw name and whose raw name
/// occurs in what the report shows. A label of something else (a lead id, a column the
/// report never names) is left out, so that report-data.json carries nothing the data's
/// aggregates do not.
fn shown_labels(
    labels: &std::collections::BTreeMap<String, String>,
    data: &report::Data,
) -> std::collections::BTreeMap<String, String> {
    let text = serde_json::to_string(data).unwrap_or_default();
    labels
        .iter()
        .filter(|(k, v)| k != v && text.contains(k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The first day of the time `us`, as `YYYY-MM-DD`.
pub fn day(us: i64) -> String {
    timeparse::display_micros(us).chars().take(10).collect()
}
