//! A session's own choice of providers, on the real engine with scripted providers named `a`
//! (the configured one) and `b`: everything on the chosen provider and model, one role moved,
//! a resume on what the session started on, and choices the engine cannot honour refused.

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

use el_jefe::provider::Provider;
use el_jefe::provider::routes::Routes;
use el_jefe::session::event::Event;
use el_jefe::session::ids::SessionId;
use el_jefe::session::plan::Plan;
use el_jefe::session::provider_choice::{ProviderChoice, ProviderPick};
use el_jefe::session::session_fold::SessionStatus;
use support::harness::{Harness, settings};
use support::plans::step;
use support::scripted::{Script, ScriptedProvider, task_of};

struct Two {
    h: Harness,
    a: Arc<ScriptedProvider>,
    b: Arc<ScriptedProvider>,
}

/// Provider `a` routes everything; `b` may be chosen. Step `slow` takes an hour on either.
fn two_providers() -> Two {
    let script = |req: &el_jefe::provider::ChatRequest| {
        if task_of(req).contains("slow") {
            Script::text("slowly done", 1, Duration::from_secs(3600))
        } else {
            Script::text("done", 1, Duration::ZERO)
        }
    };
    let a = Arc::new(ScriptedProvider::new(script).named("a"));
    let b = Arc::new(ScriptedProvider::new(script).named("b"));
    let (a_dyn, b_dyn): (Arc<dyn Provider>, Arc<dyn Provider>) = (a.clone(), b.clone());
    let routes = Routes::single(a_dyn.clone()).with_named(BTreeMap::from([
        ("a".to_string(), Ok(a_dyn)),
        ("b".to_string(), Ok(b_dyn)),
        (
            "c".to_string(),
            Err("needs an API key: set C_API_KEY".to_string()),
        ),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&dir, 3);
    Two {
        h: Harness::start_routed(dir, routes, settings),
        a,
        b,
    }
}

fn plan() -> Plan {
    Plan {
        steps: vec![step("1", "researcher", &[]), step("2", "writer", &["1"])],
    }
}

fn pick(text: &str) -> ProviderChoice {
    ProviderChoice::all_on(ProviderPick::parse(text).unwrap())
}

/// (provider, model) of every call the session made, in order.
fn calls(h: &Harness, id: &SessionId) -> Vec<(String, String)> {
    h.log
        .iter()
        .filter(|e| &e.session == id)
        .filter_map(|e| match &e.event {
            Event::CallFinished { call, .. } => Some((call.provider.clone(), call.model.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_chosen_provider_and_model_serve_the_whole_session() {
    let Two { mut h, a, b } = two_providers();
    let engine = h.handle.clone().with_providers(pick("b:big-model"));
    let id = engine.start_session_with_plan("tides", plan()).unwrap();
    let end = h.until_ended(&id).await;
    assert!(matches!(end.event, Event::SessionCompleted), "{end:?}");

    let state = h.state(&id);
    assert_eq!(
        (state.provider.as_str(), state.model.as_str()),
        ("b", "big-model")
    );
    assert_eq!(state.choice, pick("b:big-model"), "recorded in the journal");
    let b_calls = ("b".to_string(), "big-model".to_string());
    assert_eq!(calls(&h, &id), vec![b_calls.clone(), b_calls]);
    assert!(
        a.step_requests().is_empty(),
        "nothing ran on the configured provider"
    );
    assert!(
        b.step_requests()
            .iter()
            .all(|r| r.model.as_deref() == Some("big-model"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_role_moved_to_another_provider_leaves_the_others_where_they_were() {
    let Two { mut h, a, b } = two_providers();
    let mut choice = ProviderChoice::default();
    choice.add_role("writer=b").unwrap();
    let engine = h.handle.clone().with_providers(choice);
    let id = engine.start_session_with_plan("tides", plan()).unwrap();
    h.until_ended(&id).await;

    assert_eq!(
        calls(&h, &id),
        vec![
            ("a".to_string(), "script-1".to_string()),
            ("b".to_string(), "script-1".to_string()),
        ]
    );
    assert!(task_of(&a.step_requests()[0]).ends_with("task-1"));
    assert!(task_of(&b.step_requests()[0]).ends_with("task-2"));
}

#[tokio::test(start_paused = true)]
async fn a_resumed_session_runs_on_the_providers_it_started_on() {
    let Two { mut h, a, b } = two_providers();
    let engine = h.handle.clone().with_providers(pick("b"));
    let plan = Plan {
        steps: vec![step("1", "researcher", &[]), {
            let mut slow = step("2", "writer", &["1"]);
            slow.task = "slow task".into();
            slow
        }],
    };
    let id = engine.start_session_with_plan("tides", plan).unwrap();
    h.until_event(|e| matches!(e, Event::StepStarted { step, .. } if step.as_str() == "2"))
        .await;
    h.handle.interrupt_session(&id).unwrap();
    let end = h.until_ended(&id).await;
    assert!(
        matches!(end.event, Event::SessionInterrupted { .. }),
        "{end:?}"
    );

    // Resumed through the plain handle, which chooses nothing: the journal says `b`.
    h.handle.resume_session(&id).unwrap();
    h.until_event(|e| matches!(e, Event::SessionResumed)).await;
    h.until_ended(&id).await;
    assert_eq!(h.state(&id).status, SessionStatus::Completed);
    assert!(a.step_requests().is_empty());
    let tasks: Vec<String> = b.step_requests().iter().map(task_of).collect();
    assert_eq!(
        tasks,
        [
            "Your task (Step 1): task-1",
            "Your task (Step 2): slow task",
            "Your task (Step 2): slow task"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn choices_the_engine_cannot_honour_are_refused_and_start_nothing() {
    let Two { mut h, .. } = two_providers();
    let refused = [
        (pick("nope"), "no provider named `nope` (known: a, b, c)"),
        (
            pick("c"),
            "provider `c` is not available: needs an API key: set C_API_KEY",
        ),
        (
            {
                let mut choice = ProviderChoice::default();
                choice.add_role("poet=b").unwrap();
                choice
            },
            "no agent role `poet` to put on another provider",
        ),
    ];
    for (choice, why) in refused {
        let engine = h.handle.clone().with_providers(choice);
        let id = engine.start_session_with_plan("tides", plan()).unwrap();
        let rejection = h.next_rejection().await;
        assert!(rejection.contains(why), "{rejection}");
        assert!(
            !h.log.iter().any(|e| e.session == id),
            "nothing started for {id}"
        );
    }
}
