//! Engine overhead with journaling on, on a zero-delay scripted provider (no model):
//! a 1,000-step linear plan, a 100-branch fan-out of 199 deltas each (once with deltas as a fast
//! provider delivers them, several already waiting at a time, once strictly one at a time so
//! each is its own event), and four long streams.
//! Reports time per step, deltas delivered per second to a consumer, and peak RSS.
//!
//!     cargo bench --bench engine_overhead

// A benchmark stops at the first thing that goes wrong, saying what.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

// The allocator the product runs with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/engine_settings.rs"]
mod engine_settings;

#[path = "../tests/support/scripted.rs"]
#[allow(dead_code)]
mod scripted;

use std::sync::Arc;
use std::time::{Duration, Instant};

use el_jefe::engine::start_engine;
use el_jefe::session::event::{EngineEvent, Event};
use el_jefe::session::ids::StepId;
use el_jefe::session::plan::{Plan, StepSpec};
use el_jefe::store::Store;
use engine_settings::engine_settings;
use scripted::{Script, ScriptedProvider};

const RUNS: usize = 5;

struct Outcome {
    elapsed: Duration,
    /// Streamed pieces that reached the consumer (several may share one event).
    deltas: u64,
    events: u64,
}

fn plan(steps: usize, linear: bool) -> Plan {
    Plan {
        steps: (0..steps)
            .map(|i| StepSpec {
                id: StepId::new(i.to_string()),
                title: format!("step {i}"),
                agent: "researcher".into(),
                // Plans may not repeat a task.
                task: format!("task {i}"),
                depends_on: if linear && i > 0 {
                    vec![StepId::new((i - 1).to_string())]
                } else {
                    vec![]
                },
            })
            .collect(),
    }
}

/// Runs one session to completion; the clock starts at the command and stops when the consumer
/// sees the session end.
fn run(plan: Plan, deltas_per_step: usize, max_parallel: usize, one_by_one: bool) -> Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sessions")).unwrap();
        // Built once: the provider's cost per piece is a string copy, as a real one's is.
        let mut script = Script::chunks(deltas_per_step, Duration::ZERO);
        script.yield_between = one_by_one;
        let provider = Arc::new(ScriptedProvider::unrecorded(move |_| script.clone()));
        let settings = engine_settings(dir.path().join("ws"), max_parallel);
        let (engine, mut events) = start_engine(settings, provider, store.clone());
        let start = Instant::now();
        let id = engine.start_session_with_plan("bench", plan).unwrap();
        let mut deltas = 0u64;
        let mut events_seen = 0u64;
        let mut buf = Vec::with_capacity(4096);
        'outer: while events.recv_many(&mut buf, 4096).await > 0 {
            for ev in buf.drain(..) {
                let batch = match ev {
                    EngineEvent::Events(batch) => batch,
                    EngineEvent::Rejected { reason, .. } => panic!("{reason}"),
                    _ => continue,
                };
                for env in batch {
                    events_seen += 1;
                    match &env.event {
                        Event::TextDelta { chunks, .. } => deltas += u64::from(*chunks),
                        Event::SessionCompleted => break 'outer,
                        e if e.ends_session() => panic!("session ended: {e:?}"),
                        _ => {}
                    }
                }
            }
        }
        let elapsed = start.elapsed();
        assert_eq!(id.as_str().len(), 32);
        engine.shutdown().await;
        Outcome {
            elapsed,
            deltas,
            events: events_seen,
        }
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// One scenario, run in this process: prints "elapsed_us deltas peak_rss_mib".
fn child(scenario: &str) {
    let o = match scenario {
        "linear" => run(plan(1000, true), 3, 3, false),
        "fanout" => run(plan(100, false), 199, 100, false),
        "fanout-one-by-one" => run(plan(100, false), 199, 100, true),
        "streams" => run(plan(4, false), 250_000, 4, false),
        other => panic!("unknown scenario {other}"),
    };
    println!(
        "{} {} {} {:.1}",
        o.elapsed.as_micros(),
        o.deltas,
        o.events,
        peak_rss_mib()
    );
}

struct Stats {
    elapsed_us: Vec<f64>,
    deltas_per_s: Vec<f64>,
    events_per_s: Vec<f64>,
    peak_rss_mib: f64,
}

/// Each run in a fresh process, so peak memory is the scenario's own.
fn scenario(name: &str, runs: usize) -> Stats {
    let exe = std::env::current_exe().unwrap();
    let mut stats = Stats {
        elapsed_us: vec![],
        deltas_per_s: vec![],
        events_per_s: vec![],
        peak_rss_mib: 0.0,
    };
    for _ in 0..runs {
        let out = std::process::Command::new(&exe)
            .args(["--scenario", name])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let f: Vec<f64> = text
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        stats.elapsed_us.push(f[0]);
        stats.deltas_per_s.push(f[1] / (f[0] / 1e6));
        stats.events_per_s.push(f[2] / (f[0] / 1e6));
        stats.peak_rss_mib = stats.peak_rss_mib.max(f[3]);
    }
    stats
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--scenario") {
        return child(&args[i + 1]);
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not: one quick run then.
    let runs = if args.iter().any(|a| a == "--bench") {
        RUNS
    } else {
        1
    };
    let linear = scenario("linear", runs);
    let fanout = scenario("fanout", runs);
    let one_by_one = scenario("fanout-one-by-one", runs);
    let streams = scenario("streams", runs);
    println!("engine overhead, journaling on, median of {runs} (each run in its own process):");
    for (label, unit, st, scale) in [
        (
            "1,000-step linear plan, 3 deltas/step",
            "us/step",
            &linear,
            1000.0,
        ),
        (
            "100-branch fan-out, 199 deltas/branch",
            "ms total",
            &fanout,
            1000.0,
        ),
        (
            "same, one event per delta (no merging)",
            "ms total",
            &one_by_one,
            1000.0,
        ),
        ("4 streams of 250,000 deltas", "ms total", &streams, 1000.0),
    ] {
        println!(
            "  {label:<40} {:>8.1} {unit:<9} {:>10.0} deltas/s {:>10.0} events/s  peak RSS {:.1} MiB",
            median(st.elapsed_us.clone()) / scale,
            median(st.deltas_per_s.clone()),
            median(st.events_per_s.clone()),
            st.peak_rss_mib
        );
    }
}
