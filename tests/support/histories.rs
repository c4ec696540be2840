//! Stores full of finished sessions, written as journals the way the engine writes them, for
//! analytics tests and benchmarks. Every figure follows from the session's number, so a test
//! can say what the statistics must be.
//!
//! Session k (0-based) was created k hours and 30 minutes before `now_ms`. It plans once on
//! `local`, then runs researcher -> analyst -> writer: the researcher on `local`, the analyst
//! and the writer on `srv` (model `big`). Its first token comes after 100 + k ms on `local`
//! and 1,000 ms on `srv`; every answered call streams `tokens` tokens in 2 s after it.
//! Every 10th session's analyst is retried once on `srv` first; every 20th's writer fails
//! over from `srv` to `local` first. The writer hits its token cap when k % 10 < 7. Every
//! 50th session stops once at a budget cap. Steps wait 3 s for a slot on `srv`.

use std::io::Write;
use std::path::Path;

use el_jefe::session::call::{
    CallMode, CallStats, ErrorKind, FailoverNotice, FinishReason, RetryNotice,
};
use el_jefe::session::event::{Envelope, Event};
use el_jefe::session::ids::{SessionId, StepId};
use el_jefe::session::plan::{Plan, PlanSource, StepSpec};

pub const HOUR_MS: i64 = 3_600_000;

pub fn session_id(k: usize) -> SessionId {
    SessionId::parse(&format!("session_20260101_000000_{k:08x}")).unwrap()
}

struct Writer {
    id: SessionId,
    seq: u64,
    at_ms: i64,
    events: Vec<Envelope>,
}

impl Writer {
    fn push(&mut self, advance_ms: i64, event: Event) {
        self.seq += 1;
        self.at_ms += advance_ms;
        self.events.push(Envelope {
            seq: self.seq,
            at_ms: self.at_ms,
            session: self.id.clone(),
            by: None,
            event,
        });
    }
}

fn stats(provider: &str, model: &str, ttft: u64, tokens: u64, finish: FinishReason) -> CallStats {
    CallStats {
        provider: provider.into(),
        model: model.into(),
        mode: CallMode::Streaming,
        input_tokens: 200,
        output_tokens: tokens,
        cache_read_tokens: 0,
        cache_creation_tokens: 0,
        estimated: false,
        ttft_ms: Some(ttft),
        duration_ms: ttft + 2_000,
        finish,
        cost_usd: None,
    }
}

/// The events of session k, with `filler` text deltas per step to make journals as large as
/// real ones.
pub fn session_events(k: usize, now_ms: i64, filler: usize) -> Vec<Envelope> {
    let id = session_id(k);
    let mut w = Writer {
        id,
        seq: 0,
        at_ms: now_ms - k as i64 * HOUR_MS - HOUR_MS / 2,
        events: Vec::new(),
    };
    w.push(
        0,
        Event::SessionCreated {
            goal: format!("goal number {k}"),
            workspace: "/tmp/none".into(),
            mode: CallMode::Streaming,
            provider: "local".into(),
            model: "small".into(),
            max_parallel: 2,
            origin: None,
            choice: Default::default(),
        },
    );
    w.push(0, Event::PlanningStarted { attempt: 1 });
    w.push(
        1_000,
        Event::CallFinished {
            step: None,
            call: stats("local", "small", 100 + k as u64, 50, FinishReason::Stop),
        },
    );
    let spec = |id: &str, agent: &str, deps: &[&str]| StepSpec {
        id: StepId::new(id),
        title: agent.into(),
        agent: agent.into(),
        task: format!("the {agent}'s part"),
        depends_on: deps.iter().map(|d| StepId::new(*d)).collect(),
    };
    w.push(
        0,
        Event::PlanReady {
            plan: Plan {
                steps: vec![
                    spec("1", "researcher", &[]),
                    spec("2", "analyst", &["1"]),
                    spec("3", "writer", &["2"]),
                ],
            },
            source: PlanSource::Model,
        },
    );
    if k.is_multiple_of(50) {
        w.push(
            0,
            Event::BudgetReached {
                scope: el_jefe::session::budget::Scope::Session,
                limit: el_jefe::session::budget::Limit::Tokens,
                reason: "token cap".into(),
            },
        );
    }
    for (step, agent, provider, model) in [
        ("1", "researcher", "local", "small"),
        ("2", "analyst", "srv", "big"),
        ("3", "writer", "srv", "big"),
    ] {
        let step_id = StepId::new(step);
        w.push(
            0,
            Event::StepStarted {
                step: step_id.clone(),
                agent: agent.into(),
                attempt: 1,
                max_tokens: 400,
                continues: false,
            },
        );
        let mut provider = provider;
        let mut model = model;
        if provider == "srv" {
            w.push(
                0,
                Event::CallQueued {
                    step: Some(step_id.clone()),
                    provider: "srv".into(),
                    limit: 1,
                },
            );
            w.push(
                3_000,
                Event::CallDequeued {
                    step: Some(step_id.clone()),
                    waited_ms: 3_000,
                },
            );
        }
        if agent == "analyst" && k.is_multiple_of(10) {
            w.push(
                500,
                Event::CallRetry {
                    step: Some(step_id.clone()),
                    retry: RetryNotice {
                        provider: "srv".into(),
                        retry: 1,
                        max_retries: 2,
                        delay_ms: 500,
                        kind: ErrorKind::Overloaded,
                        error: "503".into(),
                        discarded_text: false,
                    },
                },
            );
        }
        if agent == "writer" && k.is_multiple_of(20) {
            w.push(
                500,
                Event::CallFailover {
                    step: Some(step_id.clone()),
                    failover: FailoverNotice {
                        from: "srv".into(),
                        to: "local".into(),
                        to_model: "small".into(),
                        kind: ErrorKind::Connection,
                        error: "connection refused".into(),
                        discarded_text: false,
                    },
                },
            );
            provider = "local";
            model = "small";
        }
        for i in 0..filler {
            w.push(
                1,
                Event::TextDelta {
                    step: step_id.clone(),
                    text: format!("word{i} "),
                    chunks: 1,
                    parts: Vec::new(),
                },
            );
        }
        let capped = agent == "writer" && k % 10 < 7;
        let (tokens, finish) = if capped {
            (400, FinishReason::Length)
        } else {
            (100, FinishReason::Stop)
        };
        let ttft = if provider == "local" {
            100 + k as u64
        } else {
            1_000
        };
        w.push(
            2_000,
            Event::CallFinished {
                step: Some(step_id.clone()),
                call: stats(provider, model, ttft, tokens, finish),
            },
        );
        w.push(
            0,
            Event::StepCompleted {
                step: step_id,
                output: "done".into(),
                output_file: None,
            },
        );
    }
    w.push(0, Event::SessionCompleted);
    w.events
}

/// Writes sessions `0..count` into `sessions_root` as their journals.
pub fn write_store(sessions_root: &Path, count: usize, now_ms: i64, filler: usize) {
    for k in 0..count {
        let dir = sessions_root.join(session_id(k).as_str());
        std::fs::create_dir_all(&dir).unwrap();
        let mut file =
            std::io::BufWriter::new(std::fs::File::create(dir.join("journal.jsonl")).unwrap());
        for env in session_events(k, now_ms, filler) {
            serde_json::to_writer(&mut file, &env).unwrap();
            file.write_all(b"\n").unwrap();
        }
        file.flush().unwrap();
    }
}
