//! The calibrate run after the analysis: segments beside the fit, the recommended weights and
//! thresholds with their back-test, and every file of the run folder.
//!
//! Input: checked [`Options`] and [`Settings`]. Output: [`Calibration`] (what the console
//! summary prints) and the files written into a staging folder the command commits: metrics,
//! segments, recommendation, changes, the recommended config, the report data, charts and
//! report.html. Guarantees: the recommended config loads back as a model before it is written;
//! the live config is only read.

use polars::prelude::IntoLazy;
use std::path::{Path, PathBuf};

use super::report_data::{day, report_data};
use super::{Analysis, Options, analyse_with, provenance};
use crate::error::{Error, Result};
use crate::progress::Step;
use crate::recommend::{self, Candidate, InputHash, Objective, Recommended, Support};
use crate::report::{self, Lang};
use crate::scoring::config::ScoringModel;
use crate::segments::{self, SegmentSpec, Threshold};

/// What calibrate adds to the analysis options.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub objective: Objective,
    pub lang: Lang,
    /// A first model's points to double the odds.
    pub pdo: f64,
}

/// What a calibrate run computed.
pub struct Calibration {
    pub analysis: Analysis,
    pub segments: segments::Report,
    pub recommended: Recommended,
    /// `changes.md`.
    pub changes: String,
}

/// What calibrate computes beside the fit: nothing of it reads the fitted model.
pub struct Beside {
    /// The segments of the live model's SQL hand-overs.
    pub segments: segments::Report,
    /// The live config's threshold sweep on the training period.
    pub current_sweep: Vec<Candidate>,
    /// The SHA-256 of every input.
    pub inputs: Vec<InputHash>,
    /// Every decay candidate's out-of-time log-loss.
    pub decay: recommend::decay::DecayEvidence,
}

/// The analysis, with the segments, the live config's sweep and the inputs' hashes computed
/// beside the fit.
pub fn analyse(o: &Options) -> Result<(Analysis, Beside)> {
    let horizon = o.label.horizon_days;
    let (an, beside) = analyse_with(o, |p| -> Result<Beside> {
        let segments = segments::compute(
            p.segment_inputs(),
            Threshold::Sql,
            &[],
            &SegmentSpec::default(),
            horizon,
        )?;
        let current_sweep = {
            let _t = crate::timing::Stage::start("recommend: the live config's sweep");
            recommend::current_sweep(
                &p.model,
                &p.table,
                p.since,
                p.test_from,
                p.data_end,
                horizon,
            )?
        };
        let decay = {
            let s = Support::default();
            recommend::decay::evidence(
                &p.model,
                &p.table,
                p.data_end,
                horizon,
                s.min_leads as usize,
                s.min_converters as usize,
            )
        };
        let _p = crate::timing::Stage::start("provenance (SHA-256 of the inputs)");
        let inputs = provenance::inputs(&p.ds, &p.model_path)?;
        Ok(Beside {
            segments,
            current_sweep,
            inputs,
            decay,
        })
    })?;
    Ok((an, beside?))
}

/// The run folder's default name: `reports/<first day>_<last day>` of the window.
pub fn default_dir(an: &Analysis) -> PathBuf {
    PathBuf::from("reports").join(format!("{}_{}", day(an.since), day(an.data_end)))
}

/// The implicit rules whose drift rule stability detected (not a rule that stopped firing, nor
/// a change carried by another rule), with the first day of the drift's period.
fn drifted(an: &Analysis) -> Vec<recommend::walk::Recent> {
    use crate::evaluate::stability::DriftKind;
    an.metrics
        .rule_stability
        .iter()
        .filter(|r| {
            r.drift.detected
                && r.drift.carried_by.is_none()
                && r.drift.kind != Some(DriftKind::StoppedFiring)
        })
        .filter_map(|r| {
            let period = r.drift.since.clone()?;
            let from = crate::evaluate::period_first_day(&period)?;
            let rule = an.model.implicit.iter().position(|x| x.name == r.rule)?;
            let column = an.table.sources.iter().position(
                |s| matches!(s, crate::features::Source::Rule { rule: k, .. } if *k == rule),
            )?;
            Some(recommend::walk::Recent {
                rule: r.rule.clone(),
                period,
                from: from.to_string(),
                column,
                from_us: crate::timeparse::to_micros(from.and_hms_opt(0, 0, 0)?),
            })
        })
        .collect()
}

fn context<'a>(
    an: &'a Analysis,
    objective: Objective,
    horizon_days: i64,
    first_pdo: Option<f64>,
) -> recommend::procedure::Context<'a> {
    recommend::procedure::Context {
        leads: &an.ds.leads,
        live: &an.model,
        table: &an.table,
        objective,
        support: Support::default(),
        horizon_days,
        first_pdo,
    }
}

/// Whether the live model gives every training lead the same score: then there is nothing to
/// calibrate, and calibrate recommends a first model.
pub fn is_first_model(an: &Analysis) -> bool {
    let s = &an.table.scale_score[..an.table.n_train];
    s.first().is_some_and(|a| s.iter().all(|b| b == a))
}

/// The live model's rules no lead in the window matches (renamed event types, another system's
/// values): named in a first model's warning.
pub fn unmatched_rules(an: &Analysis) -> Vec<String> {
    use crate::features::Source;
    let t = &an.table;
    let fired = |j: usize| (0..t.y.len()).any(|i| t.x[[i, j]] != 0.0);
    let mut out: Vec<String> = Vec::new();
    for (j, s) in t.sources.iter().enumerate() {
        if let Source::Rule { rule, .. } = s
            && !fired(j)
        {
            out.push(an.model.implicit[*rule].name.clone());
        }
    }
    let hits = crate::scoring::explicit::explicit_hits(an.ds.leads.clone().lazy(), &an.model)
        .collect()
        .ok();
    if let Some(h) = hits {
        for (r, c) in an.model.explicit.iter().zip(h.columns()) {
            let none = c
                .bool()
                .map(|b| !b.iter().any(|v| v == Some(true)))
                .unwrap_or(false);
            if none {
                out.push(r.name.clone());
            }
        }
    }
    out
}

/// What the walk-forward and the deployed refit read from the analysis.
fn walk_inputs<'a>(
    an: &'a Analysis,
    params: &'a crate::model::LogisticParams,
    objective: Objective,
    horizon_days: i64,
    drifted: Vec<recommend::walk::Recent>,
    first_pdo: Option<f64>,
) -> recommend::walk::Inputs<'a> {
    recommend::walk::Inputs {
        context: context(an, objective, horizon_days, first_pdo),
        params,
        penalty: an.metrics.model.fitted.penalty,
        since: an.since,
        test_from: an.test_from,
        data_end: an.data_end,
        drifted,
    }
}

/// Recommend, and write every file into `out_dir` (a staging folder that will be named `dir`).
pub fn finish(
    mut an: Analysis,
    beside: Beside,
    o: &Options,
    s: &Settings,
    dir: &Path,
    out_dir: &Path,
) -> Result<Calibration> {
    let step = Step::spinner("turning coefficients into points");
    let _w = crate::timing::Stage::start("recommend");
    let _s = crate::timing::Stage::start("recommend: weights");
    let support = Support::default();
    // No live score to calibrate: a first model, its rules selected, on the stated scale.
    let first_pdo = is_first_model(&an).then_some(s.pdo);
    let unmatched = first_pdo.map(|_| unmatched_rules(&an)).unwrap_or_default();
    let objective = match (first_pdo, s.objective) {
        (Some(_), Objective::Volume) => Objective::Share(recommend::thresholds::FIRST_MODEL_SHARE),
        (_, o) => o,
    };
    let (weights, selection) = match first_pdo {
        Some(pdo) => {
            let h = o.label.horizon_days;
            match recommend::procedure::first_model(
                &context(&an, objective, h, first_pdo),
                pdo,
                an.table.n_train,
            )? {
                Some((w, sel)) => (Some(w), Some(sel)),
                None => (None, None),
            }
        }
        None => (
            recommend::weights(
                &an.model,
                &an.table,
                &an.metrics.model.fitted.coefficients(),
                support,
                an.table.n_train,
            ),
            None,
        ),
    };
    drop(_s);
    if first_pdo.is_some() && weights.is_none() {
        return Err(Error::Usage(format!(
            "no first model: the live model gives every lead the same score, and no rule of it improves the prediction of later leads over the base rate ({} rules with enough leads and converters tried on the training period's {} leads); a config with every rule at 0 would hand over everyone. Check that the template's attributes and event types carry information about `{}`, or widen the window with --since",
            recommend::rule_columns(&an.model, &an.table, an.table.n_train, support).len(),
            an.table.n_train,
            an.metrics.window.target
        )));
    }
    let mut weights = weights.ok_or_else(|| {
        Error::Usage("points cannot be scaled: the fitted model gives every training lead the same value; check that the live model's rules match this data (attribute values and event types)".into())
    })?;
    let Beside {
        segments: seg,
        current_sweep,
        inputs,
        decay: decay_evidence,
    } = beside;
    // The decay is chosen first (from the training period's evidence): the written points are
    // fitted under it.
    let decay = recommend::decay::choose(&decay_evidence, &an.model, &mut weights.model);
    step.say("walking forward quarter by quarter: the procedure on the leads mature before each");
    let params = super::fit_params(o);
    let settings = recommend::walk::Settings::default();
    let drifted = drifted(&an);
    let h = o.label.horizon_days;
    let walk = recommend::walk::run(
        &walk_inputs(&an, &params, objective, h, drifted.clone(), first_pdo),
        &settings,
    )?;
    // Under another decay a rule's fires count differently: its column is recomputed before
    // the written points are fitted.
    step.say("the written points: each rule's count under the chosen decay, and the refit on every mature lead");
    let mut under_decay = an.model.clone();
    under_decay.decay = weights.model.decay;
    for (a, b) in under_decay.implicit.iter_mut().zip(&weights.model.implicit) {
        a.decay = b.decay;
    }
    let refeatured = under_decay.implicit != an.model.implicit
        && crate::features::rules_under(&mut an.table, &under_decay) > 0;
    let mut selection = selection;
    let deployed = match first_pdo {
        // A first model's written points: its rules selected on every mature lead (what
        // changes.md then lists).
        Some(pdo) => match recommend::procedure::first_model(
            &context(&an, objective, h, first_pdo),
            pdo,
            an.table.y.len(),
        )? {
            Some((w, sel)) => {
                selection = Some(sel);
                Some(w)
            }
            None => None,
        },
        None => recommend::walk::deploy(
            &walk_inputs(&an, &params, objective, h, drifted, first_pdo),
            &settings,
            &walk,
        )?
        .and_then(|c| recommend::weights(&an.model, &an.table, &c, support, an.table.y.len())),
    };
    // Nothing after the weights reads the design matrix (4.5 GB at 10M leads): free it.
    an.table.x = ndarray::Array2::zeros((0, 0));
    let current = an
        .metrics
        .test
        .thresholds
        .iter()
        .find(|m| m.stage == "sql")
        .cloned()
        .ok_or_else(|| Error::Internal("no SQL threshold metrics".into()))?;
    step.say("replaying the recommended config over the training and test periods");
    let rec = recommend::recommend(
        weights,
        deployed,
        walk,
        decay,
        refeatured,
        objective,
        &recommend::Inputs {
            leads: &an.ds.leads,
            live: &an.model,
            table: &an.table,
            since: an.since,
            test_from: an.test_from,
            data_end: an.data_end,
            horizon_days: o.label.horizon_days,
            test_rows: &an.test.rows,
            test_months: an.test.months,
            draws: &an.test.draws,
            prob: &an.prob,
            current: &current,
            first_pdo,
        },
        current_sweep,
    )?;
    let mut rec = rec;
    if let (Some(pdo), Some(sel)) = (first_pdo, &selection) {
        let pr = &rec.probability;
        let average = pr.written.as_ref().unwrap_or(&pr.recommended).average();
        rec.first_model = Some(recommend::FirstModel {
            pdo,
            considered: sel.considered,
            selected: sel
                .taken
                .iter()
                .map(|t| recommend::SelectedRule {
                    feature: an.table.names[t.column].clone(),
                    gain: t.gain,
                    gain_se: t.gain_se,
                })
                .collect(),
            check_leads: sel.check_leads,
            unmatched,
            all_zero: an.model.all_zero(),
            average_rate: average.map(|a| a.0),
            average_from: average.and_then(|a| a.1),
        });
    }
    drop(_w);
    step.say("writing the run folder: the recommended config");
    let _wr = crate::timing::Stage::start("write: the recommended config");
    let original = std::fs::read_to_string(&an.model_path)
        .map_err(Error::read(&an.model_path, "cannot read"))?;
    let w = &an.metrics.window;
    let (old_mql, old_sql) = (an.model.mql, an.model.sql);
    let mut header = format!(
        "# Recommended by leadcal {} (`leadcal calibrate --objective {}`).\n# Data window: leads created {} .. {}; snapshot {} days, horizon {} days, target `{}`.\n# Objective: {}. SQL {} (was {}), MQL {} (was {}). Every {:.1} points double a lead's odds of converting (PDO).\n# Changes and their reasons: changes.md beside this file.\n",
        env!("CARGO_PKG_VERSION"),
        objective,
        day(an.since),
        day(an.data_end),
        w.snapshot_days,
        w.horizon_days,
        w.target,
        objective.describe(),
        rec.sql,
        old_sql,
        rec.mql,
        old_mql,
        rec.weights.scaling.pdo
    );
    if let Some(g) = rec.decay.first() {
        let overrides: Vec<String> = rec.decay[1..]
            .iter()
            .filter(|c| c.recommended != c.current && c.recommended != g.recommended)
            .map(|c| format!("`{}` {}", c.rule, c.recommended))
            .collect();
        header.push_str(&format!(
            "# Decay chosen by out-of-time likelihood: [decay] {} (was {}){}; evidence in changes.md.\n",
            g.recommended,
            g.current,
            if overrides.is_empty() {
                String::new()
            } else {
                format!("; own settings: {}", overrides.join(", "))
            }
        ));
    }
    header.push_str("# Inputs (SHA-256):\n");
    for h in &inputs {
        header.push_str(&format!("#   {}  {}\n", h.sha256, h.file));
    }
    header.push('\n');
    let config_path = dir.join("recommended-scoring.toml");
    let pr = &rec.probability;
    // The written points' own map when they were refitted on every mature lead.
    let (written_map, leads_read) = match &pr.written {
        Some(m) => (m, "mature leads"),
        None => (&pr.recommended, "training period"),
    };
    let note = |points: f64| {
        written_map.at(points).map(|st| {
            format!(
                "at {} points about {} [{}, {}] of leads convert within {} days ({leads_read}, leadcal)",
                crate::format::points(points),
                crate::format::pct(Some(st.p)),
                crate::format::pct(Some(st.ci[0])),
                crate::format::pct(Some(st.ci[1])),
                pr.horizon_days
            )
        })
    };
    let notes: Vec<(&str, String)> = [("mql", rec.mql), ("sql", rec.sql)]
        .into_iter()
        .filter_map(|(k, v)| note(v).map(|n| (k, n)))
        .collect();
    let text = recommend::write_config_with_notes(&original, &rec.weights.model, &header, &notes)
        .map_err(|m| Error::Output {
        path: config_path.clone(),
        message: m,
    })?;
    // It must load back as a model before it is written.
    ScoringModel::parse(&text, &config_path)
        .map_err(|e| Error::Internal(format!("the recommended config does not load back: {e}")))?;
    crate::output::write_new(&out_dir.join("recommended-scoring.toml"), text.as_bytes())?;
    drop(_wr);
    step.say("writing the run folder: changes.md, the recommendation, metrics and segments");
    let _wr = crate::timing::Stage::start("write: changes, JSON and segments");
    let changes = report::changes::changes_md(&rec, old_mql, old_sql);
    crate::output::write_new(&out_dir.join("changes.md"), changes.as_bytes())?;
    crate::output::write_json(&out_dir.join("recommendation.json"), &rec.file(&inputs))?;
    crate::output::write_json(&out_dir.join("metrics.json"), &an.metrics)?;
    segments::table::write(&seg, out_dir)?;
    crate::output::checkpoint("calibrate: files written");
    drop(_wr);
    step.say("drawing the charts and writing report.html");
    let data = report_data(
        &an,
        &seg,
        &rec,
        &inputs,
        provenance::sha256_bytes(text.as_bytes()),
    );
    crate::output::write_new(&out_dir.join(report::DATA_FILE), data.to_json()?.as_bytes())?;
    report::render(&data, s.lang, out_dir)?;
    crate::output::checkpoint("calibrate: report written");
    Ok(Calibration {
        analysis: an,
        segments: seg,
        recommended: rec,
        changes,
    })
}
