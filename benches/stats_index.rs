//! `el-jefe stats` over 10,000 sessions with about 2 GB of journals: the goal is an answer in
//! under 2 s once the summary index exists. Measures the first run (every journal read and
//! summarized), then the real binary's later runs, each a whole process.
//!
//!     cargo bench --bench stats_index
//!
//! The store is written to a temporary directory and removed at the end.

// A benchmark stops at the first thing that goes wrong, saying what.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/support/histories.rs"]
#[allow(dead_code)]
mod histories;

use std::process::Command;
use std::time::Instant;

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .unwrap()
        .flatten()
        .map(|e| {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                dir_size(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

fn run_stats(home: &std::path::Path, args: &[&str]) -> f64 {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_el-jefe"))
        .arg("stats")
        .args(args)
        .env("EL_JEFE_DATA_DIR", home.join("data"))
        .env("EL_JEFE_CONFIG_DIR", home.join("config"))
        .env_remove("EL_JEFE_CONFIG")
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seconds
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not: one quick pass then.
    let full = std::env::args().any(|a| a == "--bench");
    let (sessions, filler) = if full { (10_000, 450) } else { (200, 20) };
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    let root = home.path().join("data/sessions");
    let now = chrono::Utc::now().timestamp_millis();
    let started = Instant::now();
    histories::write_store(&root, sessions, now, filler);
    let write_s = started.elapsed().as_secs_f64();
    let size = dir_size(&root);

    let first = run_stats(home.path(), &["--json"]);
    let later: Vec<f64> = (0..3)
        .map(|i| {
            let by = ["role", "provider", "day"][i];
            run_stats(home.path(), &["--json", "--by", by])
        })
        .collect();
    let since = run_stats(home.path(), &["--since", "7d"]);
    let index = dir_size(&root) - size;

    println!(
        "stats over {sessions} sessions, {:.0} MB of journals (written in {write_s:.1} s):",
        size as f64 / 1e6
    );
    println!(
        "  first run, every journal summarized    {first:>7.2} s  (index: {:.1} MB)",
        index as f64 / 1e6
    );
    println!(
        "  later runs (--by role, provider, day)  {}",
        later
            .iter()
            .map(|s| format!("{s:.2} s"))
            .collect::<Vec<_>>()
            .join("  ")
    );
    println!("  --since 7d, as text                    {since:>7.2} s");
}
