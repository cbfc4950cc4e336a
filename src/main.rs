//! Thin entry point: all work happens in [`leadcal::run`], which returns the exit code.

#![forbid(unsafe_code)]

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(leadcal::run());
}
