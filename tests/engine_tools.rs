//! Agents that call tools, on a scripted provider with tokio's paused clock: the tool loop,
//! approvals (once, for the session, denied with a reason), interrupt and pause while waiting,
//! policies, the sandbox, and resuming a step from its saved conversation.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use el_jefe::provider::{ChatRequest, ChatRole, ToolCall};
use el_jefe::session::event::{ApprovalDecision, Event, ToolStatus};
use el_jefe::session::ids::{SessionId, StepId};
use el_jefe::session::plan::{Plan, StepSpec};
use el_jefe::session::session_fold::{CANCELLED_TOOL_RESULT, StepStatus};
use el_jefe::tools::{Policy, PolicyBook, ToolLimits, ToolRegistry};
use serde_json::json;
use support::harness::{Harness, settings};
use support::scripted::{Script, ScriptedProvider};

fn call(id: &str, name: &str, args: serde_json::Value) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: args,
    }
}

/// Tool results the request carries, in order.
fn results(req: &ChatRequest) -> Vec<String> {
    req.messages
        .iter()
        .filter(|m| m.role == ChatRole::Tool)
        .map(|m| m.content.clone())
        .collect()
}

/// The first reply calls `first`; every later one answers with "done after N results".
fn provider(first: Vec<ToolCall>) -> Arc<ScriptedProvider> {
    Arc::new(ScriptedProvider::new(move |req| {
        let n = results(req).len();
        if n == 0 {
            Script::calls(first.clone())
        } else {
            Script::text(
                &format!("done after {n} results"),
                1,
                Duration::from_millis(10),
            )
        }
    }))
}

fn one_step(agent: &str) -> Plan {
    Plan {
        steps: vec![StepSpec {
            id: StepId::new("1"),
            title: "Do it".into(),
            agent: agent.into(),
            task: "use the tools".into(),
            depends_on: vec![],
        }],
    }
}

async fn approval(h: &mut Harness) -> String {
    let env = h
        .until_event(|e| matches!(e, Event::ApprovalRequested { .. }))
        .await;
    match &env.event {
        Event::ApprovalRequested { call_id, .. } => call_id.clone(),
        _ => unreachable!(),
    }
}

fn finished(h: &Harness) -> Vec<(String, ToolStatus, String)> {
    h.log
        .iter()
        .filter_map(|e| match &e.event {
            Event::ToolCallFinished {
                tool,
                status,
                content,
                ..
            } => Some((tool.clone(), *status, content.clone())),
            _ => None,
        })
        .collect()
}

/// An engine where writing files asks first: the approval tests need a tool that asks and
/// works on tokio's paused clock (a real process would see its timeout fire at once).
fn asking_harness(p: Arc<ScriptedProvider>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&dir, 1);
    let mut policies = PolicyBook::default();
    policies.set_for_everyone("write_file", Policy::Ask);
    s.tools = Arc::new(ToolRegistry::new(policies, ToolLimits::default()));
    Harness::start_with(dir, p, s)
}

fn write(id: &str, path: &str) -> ToolCall {
    call(id, "write_file", json!({"path": path, "content": "x"}))
}

fn workspace(h: &Harness, id: &SessionId) -> std::path::PathBuf {
    h.state(id).workspace
}

#[tokio::test(start_paused = true)]
async fn an_allowed_tool_runs_and_its_result_goes_back_to_the_model() {
    let p = provider(vec![call(
        "c1",
        "write_file",
        json!({"path": "notes/a.md", "content": "hello"}),
    )]);
    let mut h = Harness::start(p.clone(), 1);
    let id = h
        .handle
        .start_session_with_plan("write", one_step("writer"))
        .unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted, "{:?}", h.events_brief());
    assert_eq!(
        std::fs::read_to_string(workspace(&h, &id).join("notes/a.md")).unwrap(),
        "hello"
    );
    assert_eq!(finished(&h)[0].1, ToolStatus::Ok);
    let requests = p.step_requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].tools.iter().any(|t| t.name == "write_file"));
    assert_eq!(results(&requests[1]), ["Created notes/a.md (5 B)"]);
    let state = h.state(&id);
    let step = state.step(&StepId::new("1")).unwrap();
    assert_eq!(step.output, "done after 1 results");
    assert!(
        step.transcript.contains("▸ write_file notes/a.md"),
        "{}",
        step.transcript
    );
    assert_eq!(step.metrics.tool_calls, 1);
}

/// A real command, so on the real clock.
#[tokio::test]
async fn ask_waits_for_the_user_and_allow_once_runs_it() {
    let p = provider(vec![call(
        "c1",
        "run_command",
        json!({"command": "echo hi > out.txt"}),
    )]);
    let mut h = Harness::start(p.clone(), 1);
    let id = h
        .handle
        .start_session_with_plan("run", one_step("analyst"))
        .unwrap();
    let call_id = approval(&mut h).await;
    assert!(!workspace(&h, &id).join("out.txt").exists());
    let waiting = h.state(&id);
    let w = waiting
        .step(&StepId::new("1"))
        .unwrap()
        .waiting_approval
        .clone();
    assert_eq!(w.unwrap().detail, "echo hi > out.txt");

    h.handle
        .decide_approval(&id, &call_id, ApprovalDecision::AllowOnce)
        .unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted, "{:?}", h.events_brief());
    assert_eq!(
        std::fs::read_to_string(workspace(&h, &id).join("out.txt")).unwrap(),
        "hi\n"
    );
    assert_eq!(finished(&h)[0].1, ToolStatus::Ok);
    assert!(results(&p.step_requests()[1])[0].starts_with("exit 0"));
}

#[tokio::test(start_paused = true)]
async fn allow_for_the_session_stops_asking_for_that_tool() {
    let p = Arc::new(ScriptedProvider::new(|req| match results(req).len() {
        0 => Script::calls(vec![write("c1", "one.txt")]),
        1 => Script::calls(vec![write("c2", "two.txt")]),
        _ => Script::text("all done", 1, Duration::ZERO),
    }));
    let mut h = asking_harness(p.clone());
    let id = h
        .handle
        .start_session_with_plan("twice", one_step("writer"))
        .unwrap();
    let call_id = approval(&mut h).await;
    h.handle
        .decide_approval(&id, &call_id, ApprovalDecision::AllowForSession)
        .unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted, "{:?}", h.events_brief());
    let asked = h.positions(|e| matches!(e, Event::ApprovalRequested { .. }));
    assert_eq!(asked.len(), 1, "asked again: {:?}", h.events_brief());
    assert_eq!(finished(&h).len(), 2);
    assert!(h.state(&id).allowed_tools.contains("write_file"));
}

#[tokio::test(start_paused = true)]
async fn a_denial_with_a_reason_reaches_the_model_and_nothing_runs() {
    let p = provider(vec![write("c1", "data.txt")]);
    let mut h = asking_harness(p.clone());
    let id = h
        .handle
        .start_session_with_plan("deny", one_step("writer"))
        .unwrap();
    let call_id = approval(&mut h).await;
    h.handle
        .decide_approval(
            &id,
            &call_id,
            ApprovalDecision::Deny {
                reason: Some("never delete data".into()),
            },
        )
        .unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted, "{:?}", h.events_brief());
    let (_, status, content) = finished(&h).remove(0);
    assert_eq!(status, ToolStatus::Denied);
    assert!(!workspace(&h, &id).join("data.txt").exists());
    assert_eq!(content, "This tool call was denied: never delete data");
    let second = &p.step_requests()[1];
    let result = second
        .messages
        .iter()
        .find(|m| m.role == ChatRole::Tool)
        .unwrap();
    assert!(result.is_error);
    assert_eq!(result.content, content);
    // Answering again is refused: nothing waits any more.
    h.handle
        .decide_approval(&id, &call_id, ApprovalDecision::AllowOnce)
        .unwrap();
    assert!(h.next_rejection().await.contains("is waiting for approval"));
}

#[tokio::test(start_paused = true)]
async fn interrupt_while_waiting_saves_a_cancelled_result_and_resume_goes_on_from_it() {
    let p = provider(vec![
        call("c1", "list_files", json!({})),
        write("c2", "w.txt"),
    ]);
    let mut h = asking_harness(p.clone());
    let id = h
        .handle
        .start_session_with_plan("stop", one_step("writer"))
        .unwrap();
    approval(&mut h).await;
    h.handle.interrupt_step(&id, &StepId::new("1")).unwrap();
    h.until_ended(&id).await;
    let statuses: Vec<ToolStatus> = finished(&h).iter().map(|f| f.1).collect();
    assert_eq!(statuses, [ToolStatus::Ok, ToolStatus::Cancelled]);
    let state = h.state(&id);
    let step = state.step(&StepId::new("1")).unwrap();
    assert_eq!(step.status, StepStatus::Interrupted);
    assert_eq!(step.waiting_approval, None);
    // The saved conversation: one assistant turn with both calls, then both results.
    let roles: Vec<ChatRole> = step.turns.iter().map(|t| t.role).collect();
    assert_eq!(roles, [ChatRole::Assistant, ChatRole::Tool, ChatRole::Tool]);
    assert_eq!(step.turns[2].content, CANCELLED_TOOL_RESULT);

    h.handle.resume_session(&id).unwrap();
    let started = h
        .until_event(|e| matches!(e, Event::StepStarted { attempt: 2, .. }))
        .await;
    assert!(matches!(
        started.event,
        Event::StepStarted {
            continues: true,
            ..
        }
    ));
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted, "{:?}", h.events_brief());
    // The resumed call went on from the saved turns: no tool ran again.
    let last = p.step_requests().pop().unwrap();
    assert_eq!(results(&last), ["(empty)", CANCELLED_TOOL_RESULT]);
    assert_eq!(p.step_requests().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_paused_agent_holds_its_approved_tool_until_resumed() {
    let p = provider(vec![write("c1", "x.txt")]);
    let mut h = asking_harness(p.clone());
    let id = h
        .handle
        .start_session_with_plan("pause", one_step("writer"))
        .unwrap();
    let call_id = approval(&mut h).await;
    let step = StepId::new("1");
    h.handle.pause_step(&id, &step).unwrap();
    h.until_event(|e| matches!(e, Event::StepPaused { .. }))
        .await;
    h.handle
        .decide_approval(&id, &call_id, ApprovalDecision::AllowOnce)
        .unwrap();
    h.until_event(|e| matches!(e, Event::ApprovalDecided { .. }))
        .await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(
        !workspace(&h, &id).join("x.txt").exists(),
        "ran while paused"
    );
    h.handle.resume_step(&id, &step).unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted, "{:?}", h.events_brief());
    assert!(workspace(&h, &id).join("x.txt").exists());
}

#[tokio::test(start_paused = true)]
async fn the_sandbox_refuses_escapes_and_unknown_tools_are_errors() {
    let p = provider(vec![
        call("c1", "read_file", json!({"path": "../../etc/passwd"})),
        call("c2", "teleport", json!({})),
        call("c3", "read_file", json!({"path": "/etc/passwd"})),
    ]);
    let mut h = Harness::start(p.clone(), 1);
    let id = h
        .handle
        .start_session_with_plan("escape", one_step("analyst"))
        .unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted, "{:?}", h.events_brief());
    let f = finished(&h);
    assert_eq!(f[0].1, ToolStatus::Error);
    assert!(f[0].2.contains("`..` is not allowed"), "{}", f[0].2);
    assert_eq!(f[1].1, ToolStatus::Error);
    assert!(
        f[1].2.starts_with("there is no tool `teleport`"),
        "{}",
        f[1].2
    );
    assert!(
        f[2].2.contains("absolute paths are not allowed"),
        "{}",
        f[2].2
    );
}

#[tokio::test(start_paused = true)]
async fn a_model_repeating_the_same_call_is_asked_to_answer_without_tools() {
    // This model would list the files forever.
    let p = Arc::new(ScriptedProvider::new(|req| {
        if req.tools.is_empty() {
            Script::text("the folder is empty", 1, Duration::ZERO)
        } else {
            Script::calls(vec![call("same", "list_files", json!({}))])
        }
    }));
    let mut h = Harness::start(p.clone(), 1);
    let id = h
        .handle
        .start_session_with_plan("loop", one_step("analyst"))
        .unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted, "{:?}", h.events_brief());
    let requests = p.step_requests();
    // The call, its repeat, then an answer without tools.
    assert_eq!(requests.len(), 3, "{:?}", h.events_brief());
    let last = requests.last().unwrap();
    assert!(last.tools.is_empty());
    assert!(
        last.messages
            .last()
            .unwrap()
            .content
            .contains("already made that tool call")
    );
    let state = h.state(&id);
    assert_eq!(
        state.step(&StepId::new("1")).unwrap().output,
        "the folder is empty"
    );
}

#[tokio::test(start_paused = true)]
async fn a_provider_sparing_with_tools_gets_them_only_for_tasks_that_need_them() {
    let p = Arc::new(
        ScriptedProvider::new(|_| Script::text("done", 1, Duration::from_millis(10)))
            .sparing_with_tools(),
    );
    let step = |id: &str, task: &str| StepSpec {
        id: StepId::new(id),
        title: format!("Step {id}"),
        agent: "writer".into(),
        task: task.into(),
        depends_on: vec![],
    };
    let plan = Plan {
        steps: vec![
            step("1", "Write a haiku about tea"),
            step("2", "Read notes.md and summarise it"),
        ],
    };
    let mut h = Harness::start(p.clone(), 1);
    let id = h.handle.start_session_with_plan("spare", plan).unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(end.event, Event::SessionCompleted, "{:?}", h.events_brief());
    let requests = p.step_requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].tools.is_empty(), "the haiku needs no tools");
    assert!(
        requests[1].tools.iter().any(|t| t.name == "read_file"),
        "reading a file needs them"
    );
}
