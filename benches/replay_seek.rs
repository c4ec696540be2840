//! Replay's seek: the state of a 100,000-event session at any of its events (the goal is
//! under 100 ms), with the time to open the timeline and the memory its saved states take.
//!
//! The session is synthetic but shaped like a real run: 20 steps, four agents at a time, each
//! streaming about 5,000 deltas with tool calls and results in between.
//!
//!     cargo bench --bench replay_seek

// A benchmark stops at the first thing that goes wrong, saying what.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

// The allocator the product runs with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use el_jefe::session::call::{CallMode, CallStats, FinishReason, ToolCall};
use el_jefe::session::event::{Envelope, Event, ToolStatus};
use el_jefe::session::ids::{SessionId, StepId};
use el_jefe::session::plan::{Plan, PlanSource, StepSpec};
use el_jefe::session::replay::Timeline;
use el_jefe::session::session_fold::SessionState;

const STEPS: usize = 20;
const PARALLEL: usize = 4;

struct Journal {
    id: SessionId,
    seq: u64,
    at_ms: i64,
    events: Vec<Envelope>,
}

impl Journal {
    fn push(&mut self, event: Event) {
        self.seq += 1;
        // About 25 events a second across the agents, as a small local model streams.
        self.at_ms += 40;
        self.events.push(Envelope {
            seq: self.seq,
            at_ms: self.at_ms,
            session: self.id.clone(),
            by: None,
            event,
        });
    }
}

/// A session of about `total` events.
fn session(total: usize) -> Vec<Envelope> {
    let id = SessionId::parse("session_20261201_120000_0000beef").unwrap();
    let mut j = Journal {
        id,
        seq: 0,
        at_ms: 1_764_590_400_000,
        events: Vec::with_capacity(total + 100),
    };
    j.push(Event::SessionCreated {
        goal: "a long research report".into(),
        workspace: "/tmp/bench".into(),
        mode: CallMode::Streaming,
        provider: "local".into(),
        model: "m".into(),
        max_parallel: PARALLEL,
        origin: None,
        choice: Default::default(),
    });
    let steps: Vec<StepSpec> = (1..=STEPS)
        .map(|i| StepSpec {
            id: StepId::new(i.to_string()),
            title: format!("part {i}"),
            agent: "researcher".into(),
            task: format!("research part {i}"),
            depends_on: if i > PARALLEL {
                vec![StepId::new((i - PARALLEL).to_string())]
            } else {
                vec![]
            },
        })
        .collect();
    j.push(Event::PlanReady {
        plan: Plan { steps },
        source: PlanSource::Given,
    });
    let deltas_per_wave = total / (STEPS / PARALLEL);
    for wave in 0..STEPS / PARALLEL {
        let ids: Vec<StepId> = (1..=PARALLEL)
            .map(|k| StepId::new((wave * PARALLEL + k).to_string()))
            .collect();
        for step in &ids {
            j.push(Event::StepStarted {
                step: step.clone(),
                agent: "researcher".into(),
                attempt: 1,
                max_tokens: 8192,
                continues: false,
            });
        }
        for d in 0..deltas_per_wave {
            let step = &ids[d % PARALLEL];
            if d % 1000 == 999 {
                let call_id = format!("c{}-{d}", step.as_str());
                j.push(Event::ToolCallRequested {
                    step: step.clone(),
                    call: ToolCall {
                        id: call_id.clone(),
                        name: "fetch".into(),
                        arguments: serde_json::json!({"url": "https://example.org/"}),
                    },
                });
                j.push(Event::ToolCallFinished {
                    step: step.clone(),
                    call_id,
                    tool: "fetch".into(),
                    status: ToolStatus::Ok,
                    summary: "example.org, 1.2 KB".into(),
                    content: "Example Domain. This domain is for use in examples.".into(),
                    duration_ms: 120,
                });
            } else {
                j.push(Event::TextDelta {
                    step: step.clone(),
                    text: format!("word{d} "),
                    chunks: 1,
                    parts: Vec::new(),
                });
            }
        }
        for step in &ids {
            j.push(Event::CallFinished {
                step: Some(step.clone()),
                call: CallStats {
                    provider: "local".into(),
                    model: "m".into(),
                    mode: CallMode::Streaming,
                    input_tokens: 400,
                    output_tokens: (deltas_per_wave / PARALLEL) as u64,
                    cache_read_tokens: 0,
                    cache_creation_tokens: 0,
                    estimated: false,
                    ttft_ms: Some(300),
                    duration_ms: 60_000,
                    finish: FinishReason::Stop,
                    cost_usd: None,
                },
            });
            j.push(Event::StepCompleted {
                step: step.clone(),
                output: String::new(),
                output_file: None,
            });
        }
    }
    j.push(Event::SessionCompleted);
    j.events
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not: one quick pass then.
    let full = std::env::args().any(|a| a == "--bench");
    let total = if full { 100_000 } else { 10_000 };
    let seeks = if full { 400 } else { 40 };
    let events = session(total);
    let count = events.len();
    let id = events[0].session.clone();

    // What pressing R waits for first: reading the journal from disk.
    let path =
        std::env::temp_dir().join(format!("el-jefe-replay-bench-{}.jsonl", std::process::id()));
    let mut lines = Vec::new();
    for env in &events {
        serde_json::to_writer(&mut lines, env).unwrap();
        lines.push(b'\n');
    }
    std::fs::write(&path, &lines).unwrap();
    let read_started = Instant::now();
    let read = el_jefe::store::events_after(&path, 0).unwrap();
    let read_ms = read_started.elapsed().as_secs_f64() * 1000.0;
    std::fs::remove_file(&path).unwrap();
    assert_eq!(read.len(), count, "the journal reads back whole");
    drop(read);

    let fold_started = Instant::now();
    let whole = SessionState::replay(id.clone(), &events);
    let fold_ms = fold_started.elapsed().as_secs_f64() * 1000.0;

    let rss_before = rss_mib();
    let open_started = Instant::now();
    let timeline = Timeline::new(id, events);
    let open_ms = open_started.elapsed().as_secs_f64() * 1000.0;
    let rss_after = rss_mib();
    assert_eq!(
        timeline.state_at(count),
        whole,
        "the timeline ends where the fold does"
    );

    // Positions spread over the whole run, in an order that jumps back and forth.
    let mut positions: Vec<usize> = (0..seeks).map(|i| (i * 7919) % (count + 1)).collect();
    positions.push(count - 1);
    let mut times = Vec::with_capacity(positions.len());
    let mut steps_seen = 0;
    for &n in &positions {
        let started = Instant::now();
        let state = timeline.state_at(n);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        steps_seen += state.steps.len();
    }
    assert!(steps_seen > 0);
    times.sort_by(f64::total_cmp);

    // Stepping forward one event at a time, as playing does.
    let mut state = timeline.state_at(count / 2);
    let step_started = Instant::now();
    let stepped = 1000.min(count - count / 2);
    timeline.advance(&mut state, count / 2, count / 2 + stepped);
    let step_us = step_started.elapsed().as_secs_f64() * 1e6 / stepped as f64;

    println!("replay of a {count}-event session ({STEPS} steps, {PARALLEL} at a time):");
    println!(
        "  reading the journal ({:.1} MB)        {read_ms:>8.1} ms",
        lines.len() as f64 / 1e6
    );
    println!("  fold of the whole journal            {fold_ms:>8.1} ms");
    println!(
        "  opening the timeline (saved states)  {open_ms:>8.1} ms  +{:.1} MiB RSS",
        rss_after - rss_before
    );
    println!(
        "  seek to any event ({} seeks)        median {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );
    println!("  one event forward while playing      {step_us:>8.2} us");
}
