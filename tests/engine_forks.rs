//! Forks on the real engine with scripted providers: a finished session forked at a step runs
//! only the steps from there on, on the provider the fork chose, with the kept steps' outputs
//! as context and no model call repeated; forks the engine cannot make are refused.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use el_jefe::provider::routes::Routes;
use el_jefe::provider::{ChatRequest, Provider};
use el_jefe::session::event::Event;
use el_jefe::session::fork::ForkPoint;
use el_jefe::session::ids::{SessionId, StepId};
use el_jefe::session::plan::Plan;
use el_jefe::session::provider_choice::{ProviderChoice, ProviderPick};
use el_jefe::session::session_fold::SessionStatus;
use support::harness::{Harness, settings};
use support::plans::step;
use support::scripted::{Script, ScriptedProvider, task_of};

/// Each step answers with its provider's name and its task.
fn answering(name: &'static str) -> Arc<ScriptedProvider> {
    Arc::new(
        ScriptedProvider::new(move |req: &ChatRequest| {
            Script::text(&format!("{name} did {}", task_of(req)), 1, Duration::ZERO)
        })
        .named(name),
    )
}

fn harness(a: &Arc<ScriptedProvider>, b: &Arc<ScriptedProvider>) -> Harness {
    let (a_dyn, b_dyn): (Arc<dyn Provider>, Arc<dyn Provider>) = (a.clone(), b.clone());
    let routes = Routes::single(a_dyn.clone()).with_named(BTreeMap::from([
        ("a".to_string(), Ok(a_dyn)),
        ("b".to_string(), Ok(b_dyn)),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&dir, 3);
    Harness::start_routed(dir, routes, settings)
}

/// researcher -> analyst -> writer, run to the end on `a`.
async fn finished_parent(h: &mut Harness) -> SessionId {
    let plan = Plan {
        steps: vec![
            step("1", "researcher", &[]),
            step("2", "analyst", &["1"]),
            step("3", "writer", &["2"]),
        ],
    };
    let id = h.handle.start_session_with_plan("tides", plan).unwrap();
    let end = h.until_ended(&id).await;
    assert!(matches!(end.event, Event::SessionCompleted), "{end:?}");
    id
}

#[tokio::test(start_paused = true)]
async fn a_fork_at_a_step_runs_only_the_steps_from_there_on_its_chosen_provider() {
    let (a, b) = (answering("a"), answering("b"));
    let mut h = harness(&a, &b);
    let parent = finished_parent(&mut h).await;
    let parent_calls = a.requests.lock().unwrap().len();
    assert_eq!(parent_calls, 3);

    let engine = h
        .handle
        .clone()
        .with_providers(ProviderChoice::all_on(ProviderPick::parse("b").unwrap()));
    let fork = engine
        .fork_session(&parent, ForkPoint::Step { step: "2".into() })
        .unwrap();
    let end = h.until_ended(&fork).await;
    assert!(matches!(end.event, Event::SessionCompleted), "{end:?}");

    // No call repeated on the parent's provider; the fork's provider ran steps 2 and 3 only.
    assert_eq!(a.requests.lock().unwrap().len(), parent_calls);
    let tasks: Vec<String> = b.step_requests().iter().map(task_of).collect();
    assert_eq!(
        tasks,
        ["Your task (Step 2): task-2", "Your task (Step 3): task-3"]
    );
    // Step 2 was given step 1's output from the parent as its context.
    let context: String = b.step_requests()[0]
        .messages
        .iter()
        .map(|m| m.content.clone())
        .collect();
    assert!(
        context.contains("a did Your task (Step 1): task-1"),
        "{context}"
    );

    let state = h.state(&fork);
    assert_eq!(state.status, SessionStatus::Completed);
    let step_2_started = h
        .log
        .iter()
        .find(|e| {
            e.session == parent
                && matches!(&e.event, Event::StepStarted { step, .. } if step.as_str() == "2")
        })
        .unwrap()
        .seq;
    assert_eq!(
        state.forked_from,
        Some((parent.clone(), step_2_started - 1))
    );
    let step = |s: &str| state.step(&StepId::new(s)).unwrap();
    assert!(step("1").inherited && !step("2").inherited && !step("3").inherited);
    assert_eq!(step("1").output, "a did Your task (Step 1): task-1");
    assert!(step("3").output.starts_with("b did"));
    let metrics = state.metrics(0);
    assert_eq!(
        metrics.inherited.api_calls, 1,
        "step 1's call, made in the parent"
    );
    assert_eq!(
        metrics.totals.api_calls, 3,
        "inherited included in the totals"
    );

    // The journal holds the parent's events for step 1 inside one `inherited` event, and no
    // call of the fork's own for it.
    let own_calls: Vec<Option<StepId>> = h
        .log
        .iter()
        .filter(|e| e.session == fork)
        .filter_map(|e| match &e.event {
            Event::CallFinished { step, .. } => Some(step.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(own_calls, [Some(StepId::new("2")), Some(StepId::new("3"))]);
}

#[tokio::test(start_paused = true)]
async fn a_fork_at_the_last_event_has_nothing_to_run_and_completes() {
    let (a, b) = (answering("a"), answering("b"));
    let mut h = harness(&a, &b);
    let parent = finished_parent(&mut h).await;
    let last = h.state(&parent).last_seq;
    let fork = h
        .handle
        .fork_session(&parent, ForkPoint::Event { seq: last })
        .unwrap();
    let end = h.until_ended(&fork).await;
    assert!(matches!(end.event, Event::SessionCompleted), "{end:?}");
    assert_eq!(a.requests.lock().unwrap().len(), 3, "nothing ran again");
    assert!(h.state(&fork).steps.iter().all(|s| s.inherited));
}

#[tokio::test(start_paused = true)]
async fn forks_the_engine_cannot_make_are_refused() {
    let (a, b) = (answering("a"), answering("b"));
    let mut h = harness(&a, &b);
    let parent = finished_parent(&mut h).await;
    h.handle
        .fork_session(&parent, ForkPoint::Event { seq: 9999 })
        .unwrap();
    let refused = h.next_rejection().await;
    assert!(refused.contains("there is no event 9999"), "{refused}");
    let nobody = SessionId::parse("session_20200101_000000_00000000").unwrap();
    h.handle
        .fork_session(&nobody, ForkPoint::Event { seq: 1 })
        .unwrap();
    let refused = h.next_rejection().await;
    assert!(
        refused.contains("session_20200101_000000_00000000"),
        "{refused}"
    );
}
