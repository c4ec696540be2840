//! The plain-text story, event by event: what `tell` makes of a whole session with parallel
//! steps, a tool that asks first, a retry that throws text away, a failure and the end.

// Test helpers panic to fail the test, with their message.
#![allow(clippy::unwrap_used)]

use el_jefe::headless::story::{Told, tell};
use el_jefe::session::call::{CallMode, CallStats, ErrorKind, FinishReason, RetryNotice, ToolCall};
use el_jefe::session::event::{ApprovalDecision, Envelope, Event, ToolStatus};
use el_jefe::session::ids::SessionId;
use el_jefe::session::plan::{Plan, PlanSource, StepSpec};
use el_jefe::session::session_fold::SessionState;
use serde_json::json;

fn spec(id: &str, agent: &str, after: &[&str]) -> StepSpec {
    StepSpec {
        id: id.into(),
        title: format!("{agent} part {id}"),
        agent: agent.into(),
        task: format!("do part {id}"),
        depends_on: after.iter().map(|a| (*a).into()).collect(),
    }
}

fn started(step: &str, agent: &str, attempt: u32) -> Event {
    Event::StepStarted {
        step: step.into(),
        agent: agent.into(),
        attempt,
        max_tokens: 200,
        continues: false,
    }
}

fn delta(step: &str, text: &str) -> Event {
    Event::TextDelta {
        step: step.into(),
        text: text.into(),
        chunks: 1,
        parts: Vec::new(),
    }
}

fn finished_call(step: &str, output_tokens: u64) -> Event {
    Event::CallFinished {
        step: Some(step.into()),
        call: CallStats {
            provider: "local".into(),
            model: "m".into(),
            mode: CallMode::Streaming,
            input_tokens: 100,
            output_tokens,
            cache_read_tokens: 0,
            cache_creation_tokens: 0,
            estimated: false,
            ttft_ms: Some(300),
            duration_ms: 2_000,
            finish: FinishReason::Stop,
            cost_usd: None,
        },
    }
}

/// A session of three steps: two researchers at once, then a writer that fails.
fn session() -> Vec<(i64, Event)> {
    vec![
        (
            0,
            Event::SessionCreated {
                goal: "Compare two bakeries".into(),
                workspace: "/work/bakeries".into(),
                mode: CallMode::Streaming,
                provider: "local".into(),
                model: "SmolLM2".into(),
                max_parallel: 2,
                origin: None,
                choice: Default::default(),
            },
        ),
        (100, Event::PlanningStarted { attempt: 1 }),
        (
            900,
            Event::PlanReady {
                plan: Plan {
                    steps: vec![
                        spec("1", "researcher", &[]),
                        spec("2", "researcher", &[]),
                        spec("3", "writer", &["1", "2"]),
                    ],
                },
                source: PlanSource::Model,
            },
        ),
        (1_000, started("1", "researcher", 1)),
        (1_000, started("2", "researcher", 1)),
        (1_200, delta("1", "North bakery ")),
        (1_300, delta("2", "South bakery ")),
        (
            1_400,
            Event::ToolCallRequested {
                step: "2".into(),
                call: ToolCall {
                    id: "c1".into(),
                    name: "fetch_url".into(),
                    arguments: json!({"url": "https://example.com/south"}),
                },
            },
        ),
        (
            1_400,
            Event::ApprovalRequested {
                step: "2".into(),
                call_id: "c1".into(),
                tool: "fetch_url".into(),
                detail: "https://example.com/south".into(),
            },
        ),
        (
            5_000,
            Event::ApprovalDecided {
                step: "2".into(),
                call_id: "c1".into(),
                tool: "fetch_url".into(),
                decision: ApprovalDecision::AllowOnce,
            },
        ),
        (
            5_600,
            Event::ToolCallFinished {
                step: "2".into(),
                call_id: "c1".into(),
                tool: "fetch_url".into(),
                status: ToolStatus::Ok,
                summary: "https://example.com/south, 1.2 KB".into(),
                content: "page".into(),
                duration_ms: 600,
            },
        ),
        (
            6_000,
            Event::CallRetry {
                step: Some("1".into()),
                retry: RetryNotice {
                    provider: "local".into(),
                    retry: 1,
                    max_retries: 2,
                    delay_ms: 1_500,
                    kind: ErrorKind::StreamCut,
                    error: "the reply was cut short".into(),
                    discarded_text: true,
                },
            },
        ),
        (7_600, delta("1", "has rye.")),
        (8_000, finished_call("1", 40)),
        (
            8_000,
            Event::StepCompleted {
                step: "1".into(),
                output: "North bakery has rye.".into(),
                output_file: Some("/work/bakeries/1-researcher.md".into()),
            },
        ),
        (8_500, delta("2", "sells croissants.")),
        (9_000, finished_call("2", 30)),
        (
            9_000,
            Event::StepCompleted {
                step: "2".into(),
                output: "South bakery sells croissants.".into(),
                output_file: None,
            },
        ),
        (9_100, started("3", "writer", 1)),
        (
            12_000,
            Event::StepFailed {
                step: "3".into(),
                error: "the provider sent an empty reply".into(),
            },
        ),
        (
            12_000,
            Event::SessionFailed {
                error: "step 3 failed".into(),
            },
        ),
    ]
}

fn render(told: &Told) -> String {
    match told {
        Told::Line(line) => format!("line   | {line}"),
        Told::StepHeader { step, line } => format!("header {step} | {line}"),
        Told::Text { step, text } => format!("text   {step} | {text:?}"),
        Told::Restart { step } => format!("restart {step}"),
        Told::StepEnd { step, line } => format!("end    {step} | {line}"),
        Told::Close => "close".into(),
    }
}

#[test]
fn a_whole_session_told_event_by_event() {
    let id = SessionId::parse("session_20260101_000000_00000000").unwrap();
    let mut state = SessionState::new(id.clone());
    let mut out = Vec::new();
    for (seq, (at_ms, event)) in session().into_iter().enumerate() {
        let env = Envelope {
            seq: seq as u64 + 1,
            at_ms,
            session: id.clone(),
            by: None,
            event,
        };
        state.apply(&env);
        let time = format!("00:00:{:02}", at_ms / 1000);
        for told in tell(&state, &env, &time) {
            out.push(render(&told));
        }
    }
    insta::assert_snapshot!(out.join("\n"));
}
