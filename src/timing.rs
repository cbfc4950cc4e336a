//! Stage timings for benchmarks: with `LEADCAL_TIMINGS=1` in the environment, every [`Stage`]
//! prints its name and wall time to stderr when it ends. Without it, a stage costs one
//! environment lookup and prints nothing, so outputs stay byte-identical.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("LEADCAL_TIMINGS").is_some_and(|v| v != "0"))
}

/// A timed stage; reports when dropped.
pub struct Stage {
    name: &'static str,
    start: Instant,
}

impl Stage {
    pub fn start(name: &'static str) -> Self {
        Stage {
            name,
            start: Instant::now(),
        }
    }
}

impl Stage {
    /// End the stage without reporting it (the work it timed did not happen after all).
    pub fn discard(mut self) {
        self.name = "";
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if enabled() && !self.name.is_empty() {
            eprintln!(
                "timing: {:<24} {:>8.3} s",
                self.name,
                self.start.elapsed().as_secs_f64()
            );
        }
    }
}
