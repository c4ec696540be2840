//! The health watch on tokio's paused clock: a provider that goes quiet is flagged as stalled,
//! and the configured action (warn, retry, interrupt) is taken; a paused agent is never flagged.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use el_jefe::session::event::Event;
use el_jefe::session::health::{HealthSettings, StallAction};
use el_jefe::session::ids::StepId;
use el_jefe::session::plan::{Plan, StepSpec};
use el_jefe::session::session_fold::{SessionStatus, StepStatus};
use support::harness::{Harness, settings};
use support::scripted::{Script, ScriptedProvider};

const STALL: Duration = Duration::from_secs(60);

/// The first call says one word and then goes quiet for ten minutes before finishing; later
/// calls answer at once.
fn quiet_first_call() -> Arc<ScriptedProvider> {
    let calls = AtomicUsize::new(0);
    Arc::new(ScriptedProvider::new(move |_| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            let mut s = Script::text("Thinking... done.", 2, Duration::ZERO);
            s.delay = Duration::from_secs(600);
            s
        } else {
            Script::text("A quick answer.", 2, Duration::from_millis(10))
        }
    }))
}

fn one_step() -> Plan {
    Plan {
        steps: vec![StepSpec {
            id: "1".into(),
            title: "Answer".into(),
            agent: "researcher".into(),
            task: "answer".into(),
            depends_on: vec![],
        }],
    }
}

fn watched(provider: Arc<ScriptedProvider>, on_stall: StallAction) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&dir, 3);
    s.health = HealthSettings {
        stall_after: Some(STALL),
        on_stall,
    };
    Harness::start_with(dir, provider, s)
}

fn stalled(e: &Event) -> bool {
    matches!(e, Event::StepStalled { .. })
}

#[tokio::test(start_paused = true)]
async fn a_quiet_agent_is_flagged_once_and_warn_lets_it_finish() {
    let mut h = watched(quiet_first_call(), StallAction::Warn);
    let id = h
        .handle
        .start_session_with_plan("warn", one_step())
        .unwrap();
    let flagged = h.until_event(stalled).await;
    let Event::StepStalled {
        idle_ms, action, ..
    } = &flagged.event
    else {
        unreachable!()
    };
    assert!(
        (60_000..=65_000).contains(idle_ms),
        "flagged within a check period of the limit: {idle_ms}"
    );
    assert_eq!(*action, StallAction::Warn);
    let state = h.state(&id);
    let step = state.step(&"1".into()).unwrap();
    assert!(step.stalled);
    assert_eq!(step.status, StepStatus::Running);
    assert!(
        step.notice
            .as_deref()
            .unwrap()
            .starts_with("stalled: no progress for 1m"),
        "{:?}",
        step.notice
    );

    assert_eq!(h.until_ended(&id).await.event, Event::SessionCompleted);
    assert_eq!(h.positions(stalled).len(), 1, "one flag per stall");
    assert!(!h.state(&id).step(&"1".into()).unwrap().stalled);
}

#[tokio::test(start_paused = true)]
async fn retry_stops_the_quiet_attempt_and_runs_the_step_again() {
    let mut h = watched(quiet_first_call(), StallAction::Retry);
    let id = h
        .handle
        .start_session_with_plan("retry", one_step())
        .unwrap();
    assert_eq!(h.until_ended(&id).await.event, Event::SessionCompleted);
    let story: Vec<String> = h
        .log
        .iter()
        .filter_map(|e| match &e.event {
            Event::StepStarted { attempt, .. } => Some(format!("started #{attempt}")),
            Event::StepStalled { .. } => Some("stalled".into()),
            Event::StepInterrupted { .. } => Some("interrupted".into()),
            Event::StepRequeued { .. } => Some("requeued".into()),
            Event::StepCompleted { .. } => Some("completed".into()),
            _ => None,
        })
        .collect();
    assert_eq!(
        story,
        [
            "started #1",
            "stalled",
            "interrupted",
            "requeued",
            "started #2",
            "completed"
        ]
    );
    assert_eq!(
        h.state(&id).step(&"1".into()).unwrap().output,
        "A quick answer."
    );
    // The journal tells the same story.
    h.store.flush();
    let stored = h.store.load(&id).unwrap();
    assert_eq!(stored.state.status, SessionStatus::Completed);
}

#[tokio::test(start_paused = true)]
async fn interrupt_stops_the_quiet_agent() {
    let mut h = watched(quiet_first_call(), StallAction::Interrupt);
    let id = h
        .handle
        .start_session_with_plan("interrupt", one_step())
        .unwrap();
    let end = h.until_ended(&id).await;
    assert!(matches!(end.event, Event::SessionInterrupted { .. }));
    assert_eq!(h.positions(stalled).len(), 1);
    assert_eq!(
        h.state(&id).step(&"1".into()).unwrap().status,
        StepStatus::Interrupted
    );
}

#[tokio::test(start_paused = true)]
async fn a_paused_agent_is_never_stalled() {
    // Steady text, a chunk a second: never quiet for a minute unless paused.
    let provider = Arc::new(ScriptedProvider::new(|_| {
        Script::chunks(20, Duration::from_secs(1))
    }));
    let mut h = watched(provider, StallAction::Interrupt);
    let id = h
        .handle
        .start_session_with_plan("pause", one_step())
        .unwrap();
    let step = StepId::new("1");
    h.until(|e| matches!(&e.event, Event::TextDelta { .. }))
        .await;
    h.handle.pause_step(&id, &step).unwrap();
    h.until_event(|e| matches!(e, Event::StepPaused { .. }))
        .await;
    // Ten minutes paused.
    tokio::time::sleep(Duration::from_secs(600)).await;
    h.handle.resume_step(&id, &step).unwrap();
    assert_eq!(h.until_ended(&id).await.event, Event::SessionCompleted);
    assert!(h.positions(stalled).is_empty(), "{:?}", h.events_brief());
}
