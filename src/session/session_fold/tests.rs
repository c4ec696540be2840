use super::*;
use crate::session::call::{CallStats, FinishReason};
use crate::session::event::InterruptReason;
use crate::session::fixtures::step;
use crate::session::plan::Plan;

struct Log {
    id: SessionId,
    seq: u64,
    events: Vec<Envelope>,
}

impl Log {
    fn new() -> Self {
        Log {
            id: SessionId::parse("session_20260101_000000_00000000").unwrap(),
            seq: 0,
            events: vec![],
        }
    }
    fn push(&mut self, at_ms: i64, event: Event) -> &mut Self {
        self.seq += 1;
        self.events.push(Envelope {
            seq: self.seq,
            at_ms,
            session: self.id.clone(),
            by: None,
            event,
        });
        self
    }
    fn state(&self) -> SessionState {
        SessionState::replay(self.id.clone(), &self.events)
    }
}

fn created() -> Event {
    Event::SessionCreated {
        goal: "g".into(),
        workspace: "/w".into(),
        mode: CallMode::Streaming,
        provider: "local".into(),
        model: "m".into(),
        max_parallel: 3,
        origin: None,
        choice: Default::default(),
    }
}

fn started(step: &str) -> Event {
    Event::StepStarted {
        step: step.into(),
        agent: "x".into(),
        attempt: 1,
        max_tokens: 10,
        continues: false,
    }
}

fn call(output_tokens: u64) -> CallStats {
    CallStats {
        provider: "local".into(),
        model: "m".into(),
        mode: CallMode::Streaming,
        input_tokens: 5,
        output_tokens,
        cache_read_tokens: 0,
        cache_creation_tokens: 0,
        estimated: false,
        ttft_ms: Some(10),
        duration_ms: 1000,
        finish: FinishReason::Stop,
        cost_usd: None,
    }
}

/// researcher -> analyst -> writer, one after another.
fn linear_plan() -> Plan {
    Plan {
        steps: vec![
            step("1", "researcher", &[]),
            step("2", "analyst", &["1"]),
            step("3", "writer", &["2"]),
        ],
    }
}

fn planned() -> Log {
    let mut log = Log::new();
    log.push(0, created()).push(
        100,
        Event::PlanReady {
            plan: linear_plan(),
            source: PlanSource::Model,
        },
    );
    log
}

#[test]
fn a_full_run_folds_to_completed_with_metrics() {
    let mut log = planned();
    log.push(100, started("1"))
        .push(
            150,
            Event::TextDelta {
                step: "1".into(),
                text: "hello ".into(),
                chunks: 1,
                parts: Vec::new(),
            },
        )
        .push(
            160,
            Event::TextDelta {
                step: "1".into(),
                text: "world".into(),
                chunks: 1,
                parts: Vec::new(),
            },
        );
    let mid = log.state();
    assert_eq!(mid.status, SessionStatus::Running);
    assert_eq!(mid.steps[0].status, StepStatus::Running);
    assert_eq!(mid.steps[0].output, "hello world");
    assert!((mid.steps[0].progress() - 0.2).abs() < 1e-9);

    log.push(
        1100,
        Event::CallFinished {
            step: Some("1".into()),
            call: call(7),
        },
    )
    .push(
        1100,
        Event::StepCompleted {
            step: "1".into(),
            output: "hello world".into(),
            output_file: None,
        },
    );
    for (i, id) in ["2", "3"].into_iter().enumerate() {
        let t = 1100 + 1000 * i as i64;
        log.push(t, started(id))
            .push(
                t + 1000,
                Event::CallFinished {
                    step: Some(id.into()),
                    call: call(3),
                },
            )
            .push(
                t + 1000,
                Event::StepCompleted {
                    step: id.into(),
                    output: "done".into(),
                    output_file: None,
                },
            );
    }
    log.push(3100, Event::SessionCompleted);
    let s = log.state();
    assert_eq!(s.status, SessionStatus::Completed);
    let m = s.metrics(99_999);
    assert_eq!(m.wall_ms, 3100);
    assert_eq!(m.step_time_ms, 3000);
    // One step at a time, from 100 to 3100 ms: no parallel gain.
    assert_eq!(m.steps_wall_ms, 3000);
    assert_eq!(m.speedup, Some(1.0));
    assert_eq!(m.steps.completed, 3);
    assert_eq!(m.totals.output_tokens, 13);
    assert_eq!(m.totals.input_tokens, 15);
    assert_eq!(m.totals.api_calls, 3);
    assert_eq!(m.totals.words, 4);
    assert_eq!(s.agent_metrics()["researcher"].output_tokens, 7);
}

#[test]
fn interrupt_marks_live_steps_and_resume_requeues_them_keeping_completed() {
    let mut log = planned();
    log.push(100, started("1"))
        .push(
            200,
            Event::StepCompleted {
                step: "1".into(),
                output: "facts".into(),
                output_file: None,
            },
        )
        .push(200, started("2"))
        .push(300, Event::StepPaused { step: "2".into() })
        .push(
            400,
            Event::SessionInterrupted {
                reason: InterruptReason::Recovered,
            },
        );
    let s = log.state();
    assert_eq!(s.status, SessionStatus::Interrupted);
    assert_eq!(s.steps[1].status, StepStatus::Interrupted);
    assert_eq!(s.steps[1].busy_ms(10_000), 200);
    assert_eq!(s.active_ms(10_000), 400);

    log.push(5000, Event::SessionResumed);
    let s = log.state();
    assert_eq!(s.status, SessionStatus::Running);
    assert_eq!(s.steps[0].status, StepStatus::Completed);
    assert_eq!(s.steps[0].output, "facts");
    assert_eq!(s.steps[1].status, StepStatus::Pending);
    assert_eq!(s.active_ms(5100), 500);
}

#[test]
fn pause_and_unpause_of_a_session_and_a_step() {
    let mut log = planned();
    log.push(100, started("1"))
        .push(110, Event::SessionPaused)
        .push(111, Event::StepPaused { step: "1".into() });
    let s = log.state();
    assert_eq!(s.status, SessionStatus::Paused);
    assert_eq!(s.steps[0].status, StepStatus::Paused);
    log.push(120, Event::StepResumed { step: "1".into() })
        .push(121, Event::SessionUnpaused);
    let s = log.state();
    assert_eq!(s.status, SessionStatus::Running);
    assert_eq!(s.steps[0].status, StepStatus::Running);
}

#[test]
fn a_new_attempt_starts_from_empty_text() {
    let mut log = planned();
    log.push(100, started("1"))
        .push(
            110,
            Event::TextDelta {
                step: "1".into(),
                text: "partial".into(),
                chunks: 1,
                parts: Vec::new(),
            },
        )
        .push(
            120,
            Event::StepInterrupted {
                step: "1".into(),
                forced: false,
            },
        )
        .push(130, Event::SessionResumed)
        .push(
            140,
            Event::StepStarted {
                step: "1".into(),
                agent: "researcher".into(),
                attempt: 2,
                max_tokens: 10,
                continues: false,
            },
        );
    let s = log.state();
    assert_eq!(s.steps[0].attempt, 2);
    assert_eq!(s.steps[0].output, "");
}

#[test]
fn failed_planner_calls_count_as_errors() {
    let mut log = Log::new();
    log.push(0, created()).push(
        5,
        Event::CallFailed {
            step: None,
            error: "boom".into(),
            kind: None,
        },
    );
    let s = log.state();
    assert_eq!(s.planner_metrics.errors, 1);
    assert_eq!(s.agent_metrics()["planner"].errors, 1);
}

#[test]
fn text_a_failed_attempt_had_streamed_is_an_estimate_apart() {
    let delta = |text: &str, chunks| Event::TextDelta {
        step: "1".into(),
        text: text.into(),
        chunks,
        parts: Vec::new(),
    };
    let mut log = planned();
    log.push(100, started("1"))
        .push(150, delta("half an ans", 3))
        .push(
            160,
            Event::CallRetry {
                step: Some("1".into()),
                retry: crate::session::call::RetryNotice {
                    provider: "local".into(),
                    retry: 1,
                    max_retries: 2,
                    delay_ms: 100,
                    kind: crate::session::call::ErrorKind::Connection,
                    error: "connection reset".into(),
                    discarded_text: true,
                },
            },
        )
        .push(300, delta("a whole answer", 4))
        .push(
            400,
            Event::CallFinished {
                step: Some("1".into()),
                call: call(4),
            },
        );
    let m = &log.state().steps[0].metrics;
    assert_eq!(m.failed_output_estimate, 3, "the failed attempt's chunks");
    assert_eq!(m.output_tokens, 4, "only what the provider reported");
    assert_eq!(m.live_chunks, 0);
}
