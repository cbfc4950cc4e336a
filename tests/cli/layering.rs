//! The layering of `src/`: every module imports only modules below it, no command imports
//! another command, and inside a folder the files import one way: no circle of `super::`
//! imports between sibling files (docs/ARCHITECTURE.md).

use super::*;

/// Modules from the bottom up. A module may use `crate::X` only for an X of a lower rank
/// (or itself); equal ranks are independent of each other.
const LAYERS: &[&[&str]] = &[
    &["error"],
    &[
        "units",
        "stats",
        "format",
        "timeparse",
        "timing",
        "progress",
        "views",
    ],
    &["output", "saved"],
    &["data", "demo"],
    &["label"],
    &["scoring"],
    &["sql"],
    &["features"],
    &["model"],
    &["evaluate"],
    &["segments"],
    &["recommend"],
    &["report"],
    &["compare"],
    &["pipeline"],
    &["cmd"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every `crate::<name>` a source text names outside comments, with its line number; for
/// `crate::cmd::<name>`, the command too.
fn references(text: &str) -> Vec<(usize, String, Option<String>)> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            let names: Vec<String> = match rest.strip_prefix('{') {
                // `crate::{a, b::c}`: the first segment of each entry.
                Some(group) => group
                    .split(',')
                    .map(|e| ident(e.trim()))
                    .filter(|e| !e.is_empty())
                    .collect(),
                None => vec![ident(rest)],
            };
            for name in names {
                let command = (name == "cmd")
                    .then(|| ident(rest.trim_start_matches("cmd::")))
                    .filter(|c| !c.is_empty());
                out.push((n + 1, name, command));
            }
        }
    }
    out
}

/// What breaks the layering among `files` (path under src/, text).
fn violations(files: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (path, text) in files {
        let module = path.split(['/', '.']).next().unwrap_or_default();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = rank(module) else {
            bad.push(format!(
                "src/{path}: module `{module}` is in no layer of LAYERS"
            ));
            continue;
        };
        let own_command = path
            .strip_prefix("cmd/")
            .map(|p| p.trim_end_matches(".rs").to_string());
        for (line, name, command) in references(text) {
            if name == module {
                if let (Some(own_cmd), Some(other)) = (&own_command, &command)
                    && other != own_cmd
                    && other != "common"
                {
                    bad.push(format!(
                        "src/{path}:{line}: the command `{own_cmd}` imports the command `{other}`"
                    ));
                }
                continue;
            }
            match rank(&name) {
                Some(r) if r < own => {}
                Some(_) => bad.push(format!(
                    "src/{path}:{line}: `{module}` imports `{name}`, which is not below it"
                )),
                None => bad.push(format!("src/{path}:{line}: `crate::{name}` is in no layer")),
            }
        }
    }
    bad
}

fn sources(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, base, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

/// The sibling files a file of `folder` imports: `super::x`, `super::{x, y}` and
/// `crate::<folder>::x` for each `x` in `siblings`, outside comments and the file's tests.
fn sibling_imports(folder: &str, text: &str, siblings: &[String]) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let body = text.split("#[cfg(test)]").next().unwrap_or_default();
    let own_path = format!("crate::{}::", folder.replace('/', "::"));
    let mut out = Vec::new();
    for line in body.lines() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for prefix in ["super::", own_path.as_str()] {
            for (at, _) in line.match_indices(prefix) {
                let rest = &line[at + prefix.len()..];
                let names: Vec<String> = match rest.strip_prefix('{') {
                    Some(group) => group
                        .split('}')
                        .next()
                        .unwrap_or_default()
                        .split(',')
                        .map(|e| ident(e.trim()))
                        .collect(),
                    None => vec![ident(rest)],
                };
                out.extend(names.into_iter().filter(|n| siblings.contains(n)));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every circle of imports between the files of one folder (`mod.rs`, which declares and
/// re-exports the folder, is left out), each as `src/data: a -> b -> a`.
fn import_cycles(files: &[(String, String)]) -> Vec<String> {
    use std::collections::BTreeMap;
    let mut folders: BTreeMap<String, BTreeMap<String, &str>> = BTreeMap::new();
    for (path, text) in files {
        let Some((folder, file)) = path.rsplit_once('/') else {
            continue;
        };
        let name = file.trim_end_matches(".rs");
        if name != "mod" {
            folders
                .entry(folder.to_string())
                .or_default()
                .insert(name.to_string(), text);
        }
    }
    let mut cycles = Vec::new();
    for (folder, members) in &folders {
        let names: Vec<String> = members.keys().cloned().collect();
        let edges: BTreeMap<&str, Vec<String>> = members
            .iter()
            .map(|(n, t)| {
                let mut to = sibling_imports(folder, t, &names);
                to.retain(|x| x != n);
                (n.as_str(), to)
            })
            .collect();
        // Depth-first search; a back edge to a file on the current path closes a circle.
        fn visit<'a>(
            n: &'a str,
            edges: &'a BTreeMap<&'a str, Vec<String>>,
            path: &mut Vec<&'a str>,
            done: &mut std::collections::BTreeSet<&'a str>,
            found: &mut Vec<Vec<&'a str>>,
        ) {
            if let Some(at) = path.iter().position(|p| *p == n) {
                let mut c = path[at..].to_vec();
                c.push(n);
                found.push(c);
                return;
            }
            if !done.insert(n) {
                return;
            }
            path.push(n);
            for m in &edges[n] {
                visit(m, edges, path, done, found);
            }
            path.pop();
        }
        let mut done = std::collections::BTreeSet::new();
        let mut found = Vec::new();
        for n in edges.keys() {
            visit(n, &edges, &mut Vec::new(), &mut done, &mut found);
        }
        for c in found {
            cycles.push(format!("src/{folder}: {}", c.join(" -> ")));
        }
    }
    cycles
}

#[test]
fn files_inside_a_folder_import_one_way() {
    let src = root().join("src");
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    let cycles = import_cycles(&files);
    assert!(
        cycles.is_empty(),
        "files that import each other (move the shared types into a file of their own):\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_cycle_check_finds_a_circle_of_sibling_imports() {
    let f = |p: &str, t: &str| (p.to_string(), t.to_string());
    let cycles = import_cycles(&[
        f("data/mod.rs", "pub mod dataset;\npub use dataset::Count;\n"),
        f(
            "data/dataset.rs",
            "use super::leads::load;\npub struct Count;\n",
        ),
        f(
            "data/leads.rs",
            "use super::{problem::Problem, dataset::Count};\n",
        ),
        f("data/problem.rs", "// super::leads in a comment is fine\n"),
        f("data/spec.rs", "fn f() { crate::data::presets::apply() }\n"),
        f(
            "data/presets.rs",
            "use super::spec::Table;\n#[cfg(test)]\nmod t { use super::*; }\n",
        ),
        f("report/html.rs", "use super::lang::Lang;\n"),
        f(
            "report/lang.rs",
            "#[cfg(test)]\nmod tests { use super::html; }\n",
        ),
    ]);
    assert_eq!(
        cycles,
        [
            "src/data: dataset -> leads -> dataset",
            "src/data: presets -> spec -> presets",
        ],
        "{cycles:#?}"
    );
}

#[test]
fn every_module_imports_only_modules_below_it() {
    let src = root().join("src");
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    assert!(files.len() > 40, "read {} files", files.len());
    let bad = violations(&files);
    assert!(bad.is_empty(), "layering broken:\n{}", bad.join("\n"));
}

#[test]
fn the_layering_check_finds_upward_and_sideways_imports() {
    let f = |p: &str, t: &str| (p.to_string(), t.to_string());
    let bad = violations(&[
        f("error.rs", "use crate::data::problem::Problem;\n"),
        f(
            "evaluate/mod.rs",
            "// crate::report in a comment is fine\nuse crate::segments::Group;\n",
        ),
        f(
            "data/load.rs",
            "fn x() { crate::sql::model_fingerprint(m) }\n",
        ),
        f(
            "cmd/calibrate.rs",
            "use crate::cmd::common::Inputs;\nuse crate::{pipeline, report};\nuse crate::cmd::evaluate as ev;\n",
        ),
        f("stats.rs", "use crate::{format, units};\n"),
        f("model.rs", "use crate::stats::wilson;\n"),
    ]);
    assert_eq!(
        bad,
        [
            "src/error.rs:1: `error` imports `data`, which is not below it",
            "src/evaluate/mod.rs:2: `evaluate` imports `segments`, which is not below it",
            "src/data/load.rs:1: `data` imports `sql`, which is not below it",
            "src/cmd/calibrate.rs:3: the command `calibrate` imports the command `evaluate`",
            "src/stats.rs:1: `stats` imports `format`, which is not below it",
            "src/stats.rs:1: `stats` imports `units`, which is not below it",
        ],
        "{bad:#?}"
    );
}
