//! The command-line skeleton: help, usage errors, exit codes.

use super::*;

#[test]
fn every_command_has_help_with_an_example() {
    let names = leadcal::cmd::subcommand_names();
    assert!(
        names.len() >= 8 && names.iter().any(|n| n == "sql"),
        "{names:?}"
    );
    for c in &names {
        leadcal(&[c, "--help"]).code(0).stdout_has("Example");
    }
}

#[test]
fn bad_option_values_are_usage_errors_naming_the_allowed_values() {
    for (args, allowed) in [
        (&["evaluate", "--period", "month"][..], "quarter, 3m, 6m"),
        (&["calibrate", "--lang", "fr"][..], "en, de"),
        (&["report", "reports/x", "--lang", "fr"][..], "en, de"),
        (
            &["calibrate", "--objective", "auc"][..],
            "expected volume, f1, precision:0.3",
        ),
        (
            &["segments", "--threshold", "hot"][..],
            "expected sql, mql or a number",
        ),
        (
            &["evaluate", "--since", "2023-13"][..],
            "expected a year (2023), a month",
        ),
    ] {
        leadcal(args)
            .code(2)
            .stderr_has("invalid value")
            .stderr_has(allowed);
    }
}

#[test]
fn report_explains_a_folder_that_is_not_a_run() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().to_str().unwrap();
    leadcal(&["report", p])
        .code(2)
        .stderr_has("report-data.json")
        .stderr_has("expected a run folder written by `leadcal calibrate`");
    std::fs::write(d.path().join("report-data.json"), "{\n  \"schema\": 3\n}\n").unwrap();
    leadcal(&["report", p])
        .code(2)
        .stderr_has("report-data.json: `schema`: invalid type: integer `3`, expected a string");
    // Not JSON at all: the line and column.
    std::fs::write(d.path().join("report-data.json"), "{\n  \"schema\": [\n").unwrap();
    leadcal(&["report", p])
        .code(2)
        .stderr_has("report-data.json: line 3, column 0: not a leadcal run file");
    leadcal(&["report", p, "--lang", "fr"])
        .code(2)
        .stderr_has("possible values: en, de");
}

#[test]
fn unknown_flag_is_a_usage_error() {
    leadcal(&["validate", "--no-such-flag"]).code(2);
}

#[test]
fn validate_defaults_to_the_committed_demo() {
    leadcal(&["validate"])
        .code(0)
        .stdout_has("notebooks-data/demo")
        .stdout_has("Event types")
        .stdout_has("Problems: 0 error(s)");
}
