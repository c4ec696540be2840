//! The engine on a scripted provider with tokio's paused clock: scheduling, context passing,
//! pause, interrupt and resume, planner fallback.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use el_jefe::session::call::CallMode;
use el_jefe::session::event::{Event, InterruptReason};
use el_jefe::session::ids::StepId;
use el_jefe::session::plan::PlanSource;
use el_jefe::session::session_fold::{SessionStatus, StepStatus};
use support::harness::Harness;
use support::scripted::{Script, ScriptedProvider, is_planner, plan_json, task_of};

const TICK: Duration = Duration::from_millis(100);

/// Planner answers with `plan`; each step streams 10 chunks, 100 ms apart (about 1 s per step).
fn provider_with_plan(plan: String) -> Arc<ScriptedProvider> {
    Arc::new(ScriptedProvider::new(move |req| {
        if is_planner(req) {
            Script::text(&plan, 1, Duration::ZERO)
        } else {
            let task = task_of(req);
            let mut s = Script::chunks(10, TICK);
            s.chunks.push(format!("<output of {task}>"));
            s
        }
    }))
}

fn step_is(e: &Event, kind: &str, id: &str) -> bool {
    let wanted = StepId::new(id);
    match (kind, e) {
        ("started", Event::StepStarted { step, .. })
        | ("completed", Event::StepCompleted { step, .. })
        | ("interrupted", Event::StepInterrupted { step, .. })
        | ("delta", Event::TextDelta { step, .. }) => *step == wanted,
        _ => false,
    }
}

#[tokio::test(start_paused = true)]
async fn independent_steps_overlap_and_a_dependent_step_sees_their_outputs() {
    let provider = provider_with_plan(plan_json(&[
        ("a", "researcher", &[]),
        ("b", "researcher", &[]),
        ("c", "writer", &["a", "b"]),
    ]));
    let mut h = Harness::start(provider.clone(), 3);
    let id = h.handle.start_session("parallel goal").unwrap();
    let start = tokio::time::Instant::now();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted, "{:?}", h.events_brief());

    let started_b = h.positions(|e| step_is(e, "started", "b"))[0];
    let completed_a = h.positions(|e| step_is(e, "completed", "a"))[0];
    assert!(
        started_b < completed_a,
        "a and b did not overlap: {:?}",
        h.events_brief()
    );
    // Two rounds of ~1.1 s each, not three.
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_millis(2500), "took {elapsed:?}");

    let requests = provider.step_requests();
    let c = requests
        .iter()
        .find(|r| task_of(r).contains("task-c"))
        .expect("c ran");
    let context = &c.messages[1].content;
    assert!(
        context.contains("<output of Your task (Step a): task-a>"),
        "{context}"
    );
    assert!(
        context.contains("<output of Your task (Step b): task-b>"),
        "{context}"
    );

    let state = h.state(&id);
    let metrics = state.metrics(end.at_ms);
    assert!(metrics.speedup.unwrap() > 1.3, "{metrics:?}");
    assert_eq!(metrics.steps.completed, 3);
    assert_eq!(metrics.totals.api_calls, 4, "three steps and the planner");
    let output_file = state.steps[2].output_file.clone().expect("output written");
    assert!(output_file.starts_with(&state.workspace));
    h.store.flush();
    assert_eq!(
        std::fs::read_to_string(output_file).unwrap(),
        state.steps[2].output
    );
}

#[tokio::test(start_paused = true)]
async fn max_parallel_limits_how_many_steps_run_at_once() {
    let provider = provider_with_plan(plan_json(&[
        ("a", "researcher", &[]),
        ("b", "researcher", &[]),
        ("c", "researcher", &[]),
    ]));
    let mut h = Harness::start(provider, 2);
    let id = h.handle.start_session("limited").unwrap();
    h.until_ended(&id).await;
    let started_c = h.positions(|e| step_is(e, "started", "c"))[0];
    let first_done = h.positions(|e| matches!(e, Event::StepCompleted { .. }))[0];
    assert!(started_c > first_done, "c started before a slot was free");
}

#[tokio::test(start_paused = true)]
async fn pausing_an_agent_holds_it_while_its_sibling_runs_on() {
    let provider = provider_with_plan(plan_json(&[
        ("a", "researcher", &[]),
        ("b", "researcher", &[]),
        ("c", "writer", &["a"]),
    ]));
    let mut h = Harness::start(provider, 3);
    let id = h.handle.start_session("pause one").unwrap();
    h.until(|e| step_is(&e.event, "delta", "a")).await;
    h.handle.pause_step(&id, &"a".into()).unwrap();
    let paused_at = h
        .until(|e| step_is(&e.event, "paused", "a") || matches!(&e.event, Event::StepPaused { .. }))
        .await;
    assert_eq!(
        h.state(&id).step(&"a".into()).unwrap().status,
        StepStatus::Paused
    );

    // b finishes while a stays paused for ten simulated seconds; c (needs a) does not start.
    h.until(|e| step_is(&e.event, "completed", "b")).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    h.take_ready();
    let a_deltas_while_paused = h
        .log
        .iter()
        .filter(|e| e.seq > paused_at.seq && step_is(&e.event, "delta", "a"))
        .count();
    assert!(
        a_deltas_while_paused <= 1,
        "a kept streaming: {a_deltas_while_paused}"
    );
    assert!(h.positions(|e| step_is(e, "started", "c")).is_empty());

    h.handle.resume_step(&id, &"a".into()).unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted);
    let a = h.state(&id).step(&"a".into()).unwrap().clone();
    assert_eq!(
        a.output.matches("w9 ").count(),
        1,
        "the paused call continued, not restarted"
    );
    assert_eq!(a.attempt, 1);
}

#[tokio::test(start_paused = true)]
async fn pausing_a_session_holds_all_agents_and_starts_nothing_new() {
    let provider = provider_with_plan(plan_json(&[
        ("a", "researcher", &[]),
        ("b", "researcher", &[]),
        ("c", "writer", &["a", "b"]),
    ]));
    let mut h = Harness::start(provider, 3);
    let id = h.handle.start_session("pause all").unwrap();
    h.until(|e| step_is(&e.event, "delta", "b")).await;
    h.handle.pause_session(&id).unwrap();
    h.until_event(|e| matches!(e, Event::SessionPaused)).await;
    let state = h.state(&id);
    assert_eq!(state.status, SessionStatus::Paused);
    h.until(|e| {
        step_is(&e.event, "paused", "b")
            || matches!(&e.event, Event::StepPaused { step } if step.as_str() == "b")
    })
    .await;
    let state = h.state(&id);
    assert!(state.live_steps().all(|s| s.status == StepStatus::Paused));
    let seen = h.log.len();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let late_deltas = h
        .take_ready()
        .iter()
        .filter(|env| matches!(env.event, Event::TextDelta { .. }))
        .count();
    assert!(late_deltas <= 2, "{late_deltas} deltas while paused");
    assert!(
        h.log[seen..]
            .iter()
            .all(|e| !matches!(e.event, Event::StepStarted { .. }))
    );

    h.handle.unpause_session(&id).unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted);
}

#[tokio::test(start_paused = true)]
async fn interrupting_one_agent_leaves_its_siblings_running() {
    let provider = provider_with_plan(plan_json(&[
        ("a", "researcher", &[]),
        ("b", "researcher", &[]),
        ("c", "writer", &["a"]),
    ]));
    let mut h = Harness::start(provider, 3);
    let id = h.handle.start_session("interrupt one").unwrap();
    h.until(|e| step_is(&e.event, "delta", "a")).await;
    h.handle.interrupt_step(&id, &"a".into()).unwrap();
    let interrupted = h.until(|e| step_is(&e.event, "interrupted", "a")).await;
    assert_eq!(
        interrupted.event,
        Event::StepInterrupted {
            step: "a".into(),
            forced: false
        }
    );
    let end = h.until_ended(&id).await;
    // b completed; c could not run without a, so the session ends interrupted and resumable.
    assert!(h.state(&id).step(&"b".into()).unwrap().status == StepStatus::Completed);
    assert_eq!(
        end.event,
        Event::SessionInterrupted {
            reason: InterruptReason::User
        }
    );
}

#[tokio::test(start_paused = true)]
async fn session_interrupt_then_resume_reruns_only_what_was_not_done() {
    let plan = plan_json(&[
        ("a", "researcher", &[]),
        ("b", "analyst", &["a"]),
        ("c", "writer", &["b"]),
    ]);
    let provider = provider_with_plan(plan);
    let mut h = Harness::start(provider.clone(), 3);
    let id = h.handle.start_session("resume me").unwrap();
    h.until(|e| step_is(&e.event, "completed", "a")).await;
    h.until(|e| step_is(&e.event, "delta", "b")).await;
    h.handle.interrupt_session(&id).unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(
        end.event,
        Event::SessionInterrupted {
            reason: InterruptReason::User
        }
    );
    let state = h.state(&id);
    assert_eq!(state.status, SessionStatus::Interrupted);
    assert_eq!(
        state.step(&"b".into()).unwrap().status,
        StepStatus::Interrupted
    );
    let before = h.log.len();

    h.handle.resume_session(&id).unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted);
    let restarted: Vec<String> = h.log[before..]
        .iter()
        .filter_map(|e| match &e.event {
            Event::StepStarted { step, attempt, .. } => Some(format!("{step}#{attempt}")),
            _ => None,
        })
        .collect();
    assert_eq!(restarted, ["b#2", "c#1"]);
    let planner_calls = provider
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| is_planner(r))
        .count();
    assert_eq!(planner_calls, 1, "resume does not plan again");
}

#[tokio::test(start_paused = true)]
async fn an_invalid_plan_is_retried_once_with_the_error_then_replaced_by_the_default() {
    let provider = Arc::new(ScriptedProvider::new(|req| {
        if is_planner(req) {
            Script::text(&plan_json(&[("1", "juggler", &[])]), 1, Duration::ZERO)
        } else {
            Script::chunks(2, TICK)
        }
    }));
    let mut h = Harness::start(provider.clone(), 3);
    let id = h.handle.start_session("bad plans").unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted);
    let rejected = h
        .positions(|e| matches!(e, Event::PlanRejected { .. }))
        .len();
    assert_eq!(rejected, 2);
    let warning = h
        .log
        .iter()
        .find_map(|e| match &e.event {
            Event::Warning { message, .. } => Some(message.clone()),
            _ => None,
        })
        .expect("a visible warning");
    assert!(
        warning.contains("juggler") && warning.contains("default"),
        "{warning}"
    );
    let state = h.state(&id);
    assert_eq!(state.plan_source, Some(PlanSource::Default));
    assert_eq!(
        state
            .steps
            .iter()
            .map(|s| s.spec.agent.as_str())
            .collect::<Vec<_>>(),
        ["researcher", "researcher", "analyst", "writer"]
    );
    let requests = provider.requests.lock().unwrap();
    let retry = requests.iter().filter(|r| is_planner(r)).nth(1).unwrap();
    assert!(
        retry
            .messages
            .last()
            .unwrap()
            .content
            .contains("unknown agent role `juggler`")
    );
}

#[tokio::test(start_paused = true)]
async fn a_plan_fixed_on_retry_is_used() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let provider = Arc::new(ScriptedProvider::new(move |req| {
        if is_planner(req) {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let text = if n == 0 {
                "not json".to_string()
            } else {
                plan_json(&[("1", "writer", &[])])
            };
            Script::text(&text, 1, Duration::ZERO)
        } else {
            Script::chunks(2, TICK)
        }
    }));
    let mut h = Harness::start(provider, 3);
    let id = h.handle.start_session("retry").unwrap();
    h.until_ended(&id).await;
    let state = h.state(&id);
    assert_eq!(state.plan_source, Some(PlanSource::Model));
    assert_eq!(state.steps.len(), 1);
    assert_eq!(
        h.positions(|e| matches!(e, Event::PlanRejected { .. }))
            .len(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_step_fails_the_session_with_the_reason_and_it_can_be_resumed() {
    let fail_first = std::sync::atomic::AtomicBool::new(true);
    let provider = Arc::new(ScriptedProvider::new(move |req| {
        if is_planner(req) {
            return Script::text(&plan_json(&[("1", "writer", &[])]), 1, Duration::ZERO);
        }
        let mut s = Script::chunks(3, TICK);
        if fail_first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            s.fail = Some("connection reset".into());
        }
        s
    }));
    let mut h = Harness::start(provider, 3);
    let id = h.handle.start_session("fail").unwrap();
    let end = h.until_ended(&id).await;
    match &end.event {
        Event::SessionFailed { error } => assert!(error.contains("connection reset"), "{error}"),
        other => panic!("expected failure, got {other:?}"),
    }
    assert_eq!(h.state(&id).steps[0].metrics.errors, 1);
    h.handle.resume_session(&id).unwrap();
    assert_eq!(h.until_ended(&id).await.event, Event::SessionCompleted);
}

#[tokio::test(start_paused = true)]
async fn commands_on_unknown_or_finished_sessions_are_rejected_with_a_reason() {
    let provider = provider_with_plan(plan_json(&[("1", "writer", &[])]));
    let mut h = Harness::start(provider, 3);
    let ghost =
        el_jefe::session::ids::SessionId::parse("session_20200101_000000_00000000").unwrap();
    h.handle.pause_session(&ghost).unwrap();
    assert!(h.next_rejection().await.contains("no running session"));
    h.handle.resume_session(&ghost).unwrap();
    assert!(h.next_rejection().await.contains("no session"));
    let id = h.handle.start_session("quick").unwrap();
    h.until_ended(&id).await;
    h.handle.interrupt_session(&id).unwrap();
    assert!(h.next_rejection().await.contains("already completed"));
    h.handle.resume_session(&id).unwrap();
    assert!(h.next_rejection().await.contains("cannot be resumed"));
    h.handle.pause_step(&id, &"1".into()).unwrap();
    assert!(h.next_rejection().await.contains("step 1 is completed"));
    h.handle.start_session("   ").unwrap();
    assert!(h.next_rejection().await.contains("goal is empty"));
}

#[tokio::test(start_paused = true)]
async fn legacy_mode_delivers_each_reply_whole_and_is_recorded() {
    let provider = provider_with_plan(plan_json(&[("1", "writer", &[])]));
    let mut h = Harness::start(provider.clone(), 3);
    h.handle.set_mode(CallMode::Legacy).unwrap();
    let id = h.handle.start_session("legacy").unwrap();
    h.until_ended(&id).await;
    let created_mode = h.log.iter().find_map(|e| match &e.event {
        Event::SessionCreated { mode, .. } => Some(*mode),
        _ => None,
    });
    assert_eq!(created_mode, Some(CallMode::Legacy));
    let call_mode = h.log.iter().find_map(|e| match &e.event {
        Event::CallFinished {
            step: Some(_),
            call,
        } => Some(call.mode),
        _ => None,
    });
    assert_eq!(call_mode, Some(CallMode::Legacy));
    assert!(
        provider
            .step_requests()
            .iter()
            .all(|r| r.mode == CallMode::Legacy)
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_interrupts_running_work_and_journals_it() {
    let provider = provider_with_plan(plan_json(&[("a", "researcher", &[])]));
    let mut h = Harness::start(provider, 3);
    let id = h.handle.start_session("shutdown").unwrap();
    h.until(|e| step_is(&e.event, "delta", "a")).await;
    h.handle.shutdown().await;
    let stored = h.store.load(&id).unwrap();
    assert_eq!(stored.state.status, SessionStatus::Interrupted);
    assert!(!stored.running_elsewhere, "the journal lock is released");
}

#[tokio::test(start_paused = true)]
async fn a_given_plan_runs_without_planning_and_an_invalid_one_is_rejected() {
    use el_jefe::session::plan::{Plan, StepSpec};
    let provider = provider_with_plan(String::from("unused"));
    let mut h = Harness::start(provider.clone(), 3);
    let step = |id: &str, agent: &str, deps: &[&str]| StepSpec {
        id: id.into(),
        title: format!("Step {id}"),
        agent: agent.into(),
        task: format!("task-{id}"),
        depends_on: deps.iter().map(|d| StepId::new(*d)).collect(),
    };
    let plan = Plan {
        steps: vec![step("x", "researcher", &[]), step("y", "writer", &["x"])],
    };
    let id = h.handle.start_session_with_plan("given", plan).unwrap();
    assert_eq!(h.until_ended(&id).await.event, Event::SessionCompleted);
    assert_eq!(h.state(&id).plan_source, Some(PlanSource::Given));
    assert!(
        provider
            .requests
            .lock()
            .unwrap()
            .iter()
            .all(|r| !is_planner(r))
    );

    let cyclic = Plan {
        steps: vec![step("x", "researcher", &["y"]), step("y", "writer", &["x"])],
    };
    h.handle.start_session_with_plan("bad", cyclic).unwrap();
    let reason = h.next_rejection().await;
    assert!(
        reason.contains("invalid plan") && reason.contains("cycle"),
        "{reason}"
    );
}

/// A command issued by a person is answered on its reply channel (not told to every front end)
/// and the events it causes name that person, in the journal too.
#[tokio::test(start_paused = true)]
async fn a_commands_issuer_is_recorded_and_it_gets_the_answer() {
    use el_jefe::engine::request::Issued;
    use el_jefe::session::command::Command;

    let provider = provider_with_plan(plan_json(&[("a", "researcher", &[])]));
    let mut h = Harness::start(provider, 3);
    let id = h.handle.start_session("issuer").unwrap();
    h.until(|e| step_is(&e.event, "delta", "a")).await;

    let (reply, answer) = tokio::sync::oneshot::channel();
    h.handle
        .issue(Issued {
            command: Command::PauseStep {
                session: id.clone(),
                step: "a".into(),
            },
            by: Some("ana".into()),
            reply: Some(reply),
        })
        .unwrap();
    let paused = h
        .until(|e| matches!(&e.event, Event::StepPaused { .. }))
        .await;
    assert_eq!(paused.by.as_deref(), Some("ana"));
    assert_eq!(answer.await.unwrap(), Ok(()));

    let (reply, answer) = tokio::sync::oneshot::channel();
    h.handle
        .issue(Issued {
            command: Command::PauseStep {
                session: id.clone(),
                step: "nope".into(),
            },
            by: Some("ana".into()),
            reply: Some(reply),
        })
        .unwrap();
    let refused = answer.await.unwrap().unwrap_err();
    assert!(refused.contains("nope"), "{refused}");
    assert!(
        h.rejections.is_empty(),
        "told to everyone: {:?}",
        h.rejections
    );

    h.handle.resume_step(&id, &"a".into()).unwrap();
    h.until_ended(&id).await;
    let path = el_jefe::store::paths::journal_path(h.store.root(), &id);
    let journal: Vec<el_jefe::session::event::Envelope> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let recorded: Vec<_> = journal
        .iter()
        .filter(|e| e.by.is_some())
        .map(|e| {
            (
                e.by.clone().unwrap(),
                matches!(e.event, Event::StepPaused { .. }),
            )
        })
        .collect();
    assert_eq!(recorded, [("ana".to_string(), true)]);
    assert!(
        h.log
            .iter()
            .any(|e| e.by.is_none() && matches!(e.event, Event::StepResumed { .. })),
        "a command of this process's user names nobody"
    );
}
