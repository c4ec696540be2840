//! The dashboard's frame time and CPU, on synthetic engine events through the real app state
//! and render path (ratatui TestBackend, 160x48):
//!
//! - 50 agents (5 sessions x 10) each streaming 100 tokens/s, a frame every 16 ms;
//! - the same with 1 MB of text already in the focused, full-width stream;
//! - idle: the real event loop with nothing happening.
//!
//!     cargo bench --bench dashboard

// A benchmark stops at the first thing that goes wrong, saying what.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

// The allocator the product runs with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use el_jefe::engine::EngineHandle;
use el_jefe::engine::clock::Clock;
use el_jefe::session::call::CallMode;
use el_jefe::session::event::{EngineEvent, Envelope, Event};
use el_jefe::session::ids::{SessionId, StepId};
use el_jefe::session::plan::{Plan, PlanSource, StepSpec};
use el_jefe::tui::app::{App, Focus};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;
const FRAME: Duration = Duration::from_millis(16);
const TOKENS_PER_SECOND: f64 = 100.0;

struct Agent {
    session: usize,
    step: StepId,
    sent: u64,
}

struct Sim {
    app: App,
    ids: Vec<SessionId>,
    seq: Vec<u64>,
    agents: Vec<Agent>,
}

impl Sim {
    fn new(sessions: usize, agents_each: usize) -> Sim {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        // The receiver is dropped: commands are not part of this measurement.
        let app = App::new(
            EngineHandle::new(tx),
            vec![],
            CallMode::Streaming,
            "bench".into(),
            0,
        );
        let mut sim = Sim {
            app,
            ids: vec![],
            seq: vec![],
            agents: vec![],
        };
        for s in 0..sessions {
            let id =
                SessionId::parse(&format!("session_20260101_0000{s:02}_000000{s:02}")).unwrap();
            sim.ids.push(id);
            sim.seq.push(0);
            sim.send(
                s,
                Event::SessionCreated {
                    goal: format!("benchmark goal {s}"),
                    workspace: "/tmp".into(),
                    mode: CallMode::Streaming,
                    provider: "synthetic".into(),
                    model: "synthetic".into(),
                    max_parallel: agents_each,
                    origin: None,
                    choice: Default::default(),
                },
            );
            let steps = (0..agents_each)
                .map(|i| StepSpec {
                    id: StepId::new(i.to_string()),
                    title: format!("part {i}"),
                    agent: "researcher".into(),
                    task: "t".into(),
                    depends_on: vec![],
                })
                .collect();
            sim.send(
                s,
                Event::PlanReady {
                    plan: Plan { steps },
                    source: PlanSource::Given,
                },
            );
            for i in 0..agents_each {
                let step = StepId::new(i.to_string());
                sim.send(
                    s,
                    Event::StepStarted {
                        step: step.clone(),
                        agent: "researcher".into(),
                        attempt: 1,
                        max_tokens: 100_000,
                        continues: false,
                    },
                );
                sim.agents.push(Agent {
                    session: s,
                    step,
                    sent: 0,
                });
            }
        }
        sim.app.selected = 0;
        sim.app.focus = Focus::Streams;
        sim
    }

    fn send(&mut self, session: usize, event: Event) {
        self.seq[session] += 1;
        self.app
            .on_engine_event(EngineEvent::Events(vec![Arc::new(Envelope {
                seq: self.seq[session],
                at_ms: 0,
                session: self.ids[session].clone(),
                by: None,
                event,
            })]));
    }

    /// Every agent catches up to where 100 tokens/s puts it at `elapsed`, one event per token.
    fn stream_until(&mut self, elapsed: Duration) {
        let due = (elapsed.as_secs_f64() * TOKENS_PER_SECOND) as u64;
        for a in 0..self.agents.len() {
            while self.agents[a].sent < due {
                self.agents[a].sent += 1;
                let n = self.agents[a].sent;
                let text = if n.is_multiple_of(14) {
                    " word\n".to_string()
                } else {
                    format!(" w{n}")
                };
                let (session, step) = (self.agents[a].session, self.agents[a].step.clone());
                self.send(
                    session,
                    Event::TextDelta {
                        step,
                        text,
                        chunks: 1,
                        parts: Vec::new(),
                    },
                );
            }
        }
    }
}

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let Some(close) = stat.rfind(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs frames in real time for `seconds`; returns (p50, p99, max, CPU share of a core).
fn run(mut sim: Sim, seconds: u64) -> (Duration, Duration, Duration, f64) {
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let mut frames = Vec::new();
    let mut next_tick = Duration::from_secs(1);
    let mut next_frame = start;
    while start.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(next_frame.saturating_duration_since(Instant::now()));
        let frame_start = Instant::now();
        sim.stream_until(start.elapsed());
        if start.elapsed() >= next_tick {
            sim.app.tick(0, 1.0);
            next_tick += Duration::from_secs(1);
        }
        terminal
            .draw(|f| el_jefe::tui::ui::render(&mut sim.app, f))
            .unwrap();
        frames.push(frame_start.elapsed());
        next_frame = frame_start + FRAME;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = (cpu_seconds() - cpu_start) / wall;
    frames.sort();
    (
        percentile(&frames, 0.5),
        percentile(&frames, 0.99),
        *frames.last().unwrap(),
        cpu,
    )
}

fn idle_cpu(seconds: u64) -> f64 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (tx, _commands) = tokio::sync::mpsc::unbounded_channel();
        let (_events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let sim = Sim::new(5, 4);
        let mut app = sim.app;
        // Everything finished: a dashboard with history and nothing running.
        for s in &mut app.sessions {
            let id = s.state.id.clone();
            s.state.apply(&Envelope {
                seq: 1000,
                at_ms: 0,
                session: id,
                by: None,
                event: Event::SessionCompleted,
            });
        }
        app.engine = EngineHandle::new(tx);
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
        let clock = Clock::new();
        let input = futures::stream::pending();
        let signals = el_jefe::tui::Signals::new().unwrap();
        let cpu_start = cpu_seconds();
        let wall = Instant::now();
        let _ = tokio::time::timeout(
            Duration::from_secs(seconds),
            el_jefe::tui::main_loop(&mut app, &mut terminal, input, &mut events, &clock, signals),
        )
        .await;
        (cpu_seconds() - cpu_start) / wall.elapsed().as_secs_f64()
    })
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let seconds = if quick { 1 } else { 10 };
    println!("dashboard, {WIDTH}x{HEIGHT} TestBackend, frames every 16 ms for {seconds} s:");

    let (p50, p99, max, cpu) = run(Sim::new(5, 10), seconds);
    println!(
        "  50 agents x 100 tok/s:            frame p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  CPU {:.0} % of a core",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        cpu * 100.0
    );

    let mut big = Sim::new(5, 10);
    let line = "All work and no play makes a long stream of text for the benchmark.\n";
    let megabyte: String = line.repeat(1_048_576 / line.len() + 1);
    let first = big.agents[0].step.clone();
    big.send(
        0,
        Event::TextDelta {
            step: first,
            text: megabyte,
            chunks: 1,
            parts: Vec::new(),
        },
    );
    big.app.expanded = true;
    big.app.sessions[0].selected_step = 0;
    let (p50, p99, max, cpu) = run(big, seconds);
    println!(
        "  same, 1 MB in the focused stream: frame p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  CPU {:.0} % of a core",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        cpu * 100.0
    );

    let idle_seconds = if quick { 2 } else { 10 };
    println!(
        "  idle (real event loop, {idle_seconds} s):        CPU {:.2} % of a core",
        idle_cpu(idle_seconds) * 100.0
    );
}
