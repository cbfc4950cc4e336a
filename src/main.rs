//! Thin entry point: all work happens in [`leadcal::run`], which returns the exit code.

fn main() {
    std::process::exit(leadcal::run());
}
