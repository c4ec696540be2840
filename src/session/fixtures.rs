//! Plans for the unit tests of this folder, in one place.

use super::ids::{SessionId, StepId};
use super::plan::StepSpec;
use super::summary::{CallOutcome, CallRecord, SUMMARY_VERSION, SessionSummary, StepRecord};

/// The built-in roles a plan may use.
pub fn roles() -> Vec<String> {
    ["researcher", "analyst", "writer"]
        .map(String::from)
        .to_vec()
}

/// A step titled "title {id}" with the task "task {id}".
pub fn step(id: &str, agent: &str, deps: &[&str]) -> StepSpec {
    StepSpec {
        id: StepId::new(id),
        title: format!("title {id}"),
        agent: agent.into(),
        task: format!("task {id}"),
        depends_on: deps.iter().map(|d| StepId::new(*d)).collect(),
    }
}

fn call(step: &str, provider: &str, outcome: CallOutcome, tokens: u64) -> CallRecord {
    CallRecord {
        at_ms: 0,
        step: Some(StepId::new(step)),
        role: "writer".into(),
        provider: provider.into(),
        model: "m".into(),
        outcome,
        ttft_ms: Some(500),
        duration_ms: 500 + tokens * 20,
        input_tokens: 100,
        output_tokens: tokens,
        cache_read_tokens: 0,
        estimated: false,
        cost_usd: None,
        hit_token_cap: false,
    }
}

/// Summary of session k: one writer step on `provider` of `tokens` tokens in `busy_ms`, retried
/// `retries` times first.
pub fn writer_session(
    k: u32,
    provider: &str,
    busy_ms: u64,
    tokens: u64,
    retries: usize,
) -> SessionSummary {
    let mut calls: Vec<CallRecord> = (0..retries)
        .map(|_| call("1", provider, CallOutcome::Retried, 0))
        .collect();
    calls.push(call("1", provider, CallOutcome::Ok, tokens));
    for (i, c) in calls.iter_mut().enumerate() {
        c.at_ms = i64::from(k) * 1000 + i as i64;
    }
    SessionSummary {
        version: SUMMARY_VERSION,
        id: SessionId::parse(&format!("session_20261201_000000_{k:08x}")).unwrap(),
        created_at_ms: i64::from(k) * 1000,
        status: "completed".into(),
        goal: "g".into(),
        forked: false,
        max_parallel: 1,
        steps_wall_ms: busy_ms,
        speedup: None,
        budget_hits: 0,
        calls,
        steps: vec![StepRecord {
            id: StepId::new("1"),
            role: "writer".into(),
            status: "completed".into(),
            inherited: false,
            output_tokens: tokens,
            busy_ms,
            attempts: 1,
        }],
        slot_waits: vec![],
    }
}
