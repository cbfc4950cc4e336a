//! Progress on long runs: on a terminal, each stage shows a spinner or a bar with what it is
//! doing and how far it is (events read, leads replayed, fits), or, where a query runs whole,
//! which of its named parts it is in.
//!
//! Input: the command line's choice ([`show`]: stderr is a terminal and there is no
//! `--quiet`). Output: lines on stderr that redraw in place and are cleared when their step
//! ends. Guarantees: nothing is drawn when not shown, and a step then costs one relaxed atomic
//! load; counts are added per batch (thousands of rows), never per row; nothing here reaches
//! stdout or an output file, so outputs do not depend on it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

static SHOWN: AtomicBool = AtomicBool::new(false);

fn multi() -> &'static MultiProgress {
    static MULTI: OnceLock<MultiProgress> = OnceLock::new();
    MULTI.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10)))
}

/// Show progress from now on (the command line calls this once: a terminal, no `--quiet`).
pub fn show(on: bool) {
    SHOWN.store(on, Ordering::Relaxed);
}

/// A note for the user on stderr, with or without progress shown (an events cache that was
/// ignored, and why); never on stdout or in an output file.
pub fn note(text: &str) {
    if SHOWN.load(Ordering::Relaxed) {
        let _ = multi().println(format!("note: {text}"));
    } else {
        eprintln!("note: {text}");
    }
}

/// One step of a run; its line disappears when the step is dropped.
pub struct Step {
    bar: Option<ProgressBar>,
}

/// Adds to a step's count from where the work is done (a streamed batch, a task).
#[derive(Clone)]
pub struct Counter {
    bar: Option<ProgressBar>,
}

impl Counter {
    /// A counter that shows nothing (for callers without a step).
    pub fn none() -> Counter {
        Counter { bar: None }
    }

    /// `n` more done (call per batch, not per row).
    pub fn add(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }
}

impl Step {
    fn new(bar: impl FnOnce() -> ProgressBar) -> Step {
        if !SHOWN.load(Ordering::Relaxed) {
            return Step { bar: None };
        }
        let bar = multi().add(bar());
        bar.enable_steady_tick(Duration::from_millis(100));
        Step { bar: Some(bar) }
    }

    /// A spinner drawn with `template` (indicatif's keys), saying `what`.
    fn spinning(what: String, template: &str) -> Step {
        Step::new(|| {
            ProgressBar::new_spinner()
                .with_style(
                    ProgressStyle::with_template(template)
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                )
                .with_message(what)
        })
    }

    /// A bar of `total` drawn with `template`, saying `what` (in `{msg}`, or in `{prefix}`
    /// for a step whose message names its part).
    fn filling(what: String, total: u64, template: &str, as_prefix: bool) -> Step {
        Step::new(|| {
            let bar = ProgressBar::new(total.max(1)).with_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            if as_prefix {
                bar.with_prefix(what).with_message("starting")
            } else {
                bar.with_message(what)
            }
        })
    }

    /// A step of unknown length: a spinner, what it does, and the time it has taken.
    pub fn spinner(what: impl Into<String>) -> Step {
        Step::spinning(what.into(), "{spinner} {msg} ({elapsed})")
    }

    /// A step of unknown length that counts what it has done (passes over the data): a
    /// spinner, what it does, the count and the time it has taken.
    pub fn count(what: impl Into<String>, unit: &'static str) -> Step {
        let template = format!("{{spinner}} {{msg}}: {{human_pos}} {unit} ({{elapsed}})");
        Step::spinning(what.into(), &template)
    }

    /// A step that writes a file of unknown size: a spinner, what it writes, the bytes
    /// written and the time it has taken.
    pub fn bytes(what: impl Into<String>) -> Step {
        Step::spinning(what.into(), "{spinner} {msg}: {bytes} ({elapsed})")
    }

    /// A step that reads `total` bytes (files hashed): a bar with the bytes read.
    pub fn bytes_of(what: impl Into<String>, total: u64) -> Step {
        let template = "{msg} [{bar:30}] {bytes} of {total_bytes} ({elapsed})";
        Step::filling(what.into(), total, template, false)
    }

    /// A step over about `total` `unit`s (events, leads): a bar with the count and the rate.
    pub fn bar(what: impl Into<String>, total: u64, unit: &'static str) -> Step {
        let template =
            format!("{{msg}} [{{bar:30}}] {{human_pos}} of ~{{human_len}} {unit} ({{elapsed}})");
        Step::filling(what.into(), total, &template, false)
    }

    /// A step of `total` parts that each take a while but cannot count what they do (a query
    /// the data frame library runs whole): a bar, the part it is in and what that part does.
    /// Start each part with [`Step::part`].
    pub fn parts(what: impl Into<String>, total: u64) -> Step {
        let template = "{prefix}: {msg} [{bar:30}] part {pos} of {len} ({elapsed})";
        Step::filling(what.into(), total, template, true)
    }

    /// Start the next part of a [`Step::parts`] step, saying what it does.
    pub fn part(&self, what: impl Into<String>) {
        if let Some(b) = &self.bar {
            b.set_message(what.into());
            b.inc(1);
        }
    }

    /// A handle that adds to this step's count.
    pub fn counter(&self) -> Counter {
        Counter {
            bar: self.bar.clone(),
        }
    }

    /// Say what the step is doing now.
    pub fn say(&self, what: impl Into<String>) {
        if let Some(b) = &self.bar {
            b.set_message(what.into());
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
            multi().remove(&b);
        }
    }
}
