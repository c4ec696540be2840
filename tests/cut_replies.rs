//! Replies that were cut short or came back empty are failed attempts, retried and then failed
//! with a reason, never answers: llama-cpp-python's `[DONE]` with no finish reason, LiteLLM's
//! empty `end_turn`. And a single-slot server shared by several agents: `max_concurrent` makes
//! them take turns. Real captures from ../shared/captures where they exist.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use el_jefe::provider::http::{ApiKey, HttpSettings};
use el_jefe::provider::{ErrorKind, Provider, ProviderEvent, anthropic, openai};
use el_jefe::session::call::{CallMode, FinishReason};
use el_jefe::session::event::Event;
use el_jefe::session::ids::StepId;
use el_jefe::session::plan::{Plan, StepSpec};
use el_jefe::session::session_fold::{SessionStatus, StepStatus};
use serde_json::json;
use support::harness::{Harness, settings as engine_settings};
use support::provider_run::*;
use support::replay_server::{Part, ReplayServer, Reply, capture_path};
use support::scripted::{Script, ScriptedProvider};

/// What llama-cpp-python sends when a second request cuts a running stream: some text, then
/// `[DONE]` with no finish reason.
fn cut_by_a_second_request() -> Reply {
    Reply::sse(&[
        (
            "",
            r#"{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"#,
        ),
        (
            "",
            r#"{"choices":[{"index":0,"delta":{"content":"Once upon"}}]}"#,
        ),
        (
            "",
            r#"{"choices":[{"index":0,"delta":{"content":" a time"}}]}"#,
        ),
        ("", "[DONE]"),
    ])
}

fn anthropic_at_proxy(server: &ReplayServer) -> anthropic::AnthropicProvider {
    let mut s = settings("litellm", &server.url);
    s.api_key = Some(ApiKey::new("sk-litellm-test-key"));
    anthropic::provider(s).unwrap()
}

#[tokio::test]
async fn done_without_a_finish_reason_is_a_cut_reply_retried_with_its_text_discarded() {
    let server = ReplayServer::start(vec![
        cut_by_a_second_request(),
        Reply::capture(&capture_path("openai-compat_stream_include_usage.txt")),
    ])
    .await;
    let out = run(&*openai_at(&server), request(CallMode::Streaming)).await;
    let (_, finish) = finished(&out);
    assert_eq!(finish, FinishReason::Stop);
    let r = retries(&out);
    assert_eq!(r.len(), 1, "{:?}", out.notices);
    assert_eq!(r[0].0, ErrorKind::StreamCut);
    assert!(r[0].2, "the cut text is thrown away");
}

#[tokio::test]
async fn a_reply_cut_on_every_attempt_fails_with_the_reason() {
    let server = ReplayServer::start(vec![
        cut_by_a_second_request(),
        cut_by_a_second_request(),
        cut_by_a_second_request(),
    ])
    .await;
    let out = run(&*openai_at(&server), request(CallMode::Streaming)).await;
    let e = failed(&out);
    assert_eq!(e.kind, ErrorKind::StreamCut);
    assert!(e.message.contains("cut short"), "{}", e.message);
    assert!(e.message.contains("max_concurrent"), "{}", e.message);
    assert_eq!(
        server.requests().len(),
        3,
        "two retries after the first attempt"
    );
}

#[tokio::test]
async fn a_whole_reply_without_a_finish_reason_is_cut_too() {
    let server = ReplayServer::start(vec![Reply::json(
        200,
        r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"Once"}}]}"#,
    )])
    .await;
    let mut s = settings("srv", &format!("{}/v1", server.url));
    s.retry.max_retries = 0;
    let p = openai::provider(s).unwrap();
    let out = run(&p, request(CallMode::Legacy)).await;
    assert_eq!(failed(&out).kind, ErrorKind::StreamCut);
}

#[tokio::test]
async fn litellms_empty_end_turn_is_a_failed_attempt_then_the_retry_answers() {
    let server = ReplayServer::start(vec![
        Reply::capture(&capture_path("anthropic-compat_stream_cut_by_backend.txt")),
        Reply::capture(&capture_path("anthropic-compat_stream_text.txt")),
    ])
    .await;
    let out = run(&anthropic_at_proxy(&server), request(CallMode::Streaming)).await;
    finished(&out);
    assert!(out.text.starts_with("Hello,"), "{}", out.text);
    let r = retries(&out);
    assert_eq!(r.len(), 1, "{:?}", out.notices);
    assert_eq!(r[0].0, ErrorKind::EmptyReply);
}

#[tokio::test]
async fn litellms_empty_end_turn_on_every_attempt_fails_the_call() {
    let cut = || Reply::capture(&capture_path("anthropic-compat_stream_cut_by_backend.txt"));
    let server = ReplayServer::start(vec![cut(), cut(), cut()]).await;
    let out = run(&anthropic_at_proxy(&server), request(CallMode::Streaming)).await;
    let e = failed(&out);
    assert_eq!(e.kind, ErrorKind::EmptyReply);
    assert!(
        e.message.contains(
            "ended its reply without any text or tool call (finish: stop, usage 0 in / 0 out)"
        ),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn litellms_tool_call_split_into_blocks_with_one_id_is_one_call() {
    let server = ReplayServer::start(vec![Reply::capture(&capture_path(
        "anthropic-compat_stream_tools_forced.txt",
    ))])
    .await;
    let out = run(&anthropic_at_proxy(&server), request(CallMode::Streaming)).await;
    let (_, finish) = finished(&out);
    assert_eq!(finish, FinishReason::ToolCalls);
    assert_eq!(out.tools.len(), 1, "{:?}", out.tools);
    assert_eq!(out.tools[0].name, "get_weather");
    assert_eq!(out.tools[0].arguments, json!({"city": "Paris"}));
    assert_eq!(
        out.tools[0].id,
        "call__0_get_weather_cmpl-208205c3-b016-4007-98a8-bf7888def446"
    );
}

#[tokio::test]
async fn a_whole_reply_with_blocks_sharing_an_id_is_one_call() {
    let server = ReplayServer::start(vec![Reply::json(
        200,
        r#"{"type":"message","content":[
            {"type":"tool_use","id":"t1","name":"get_weather","input":{"city":"Paris"}},
            {"type":"tool_use","id":"t1","name":"get_weather","input":{"units":"C"}},
            {"type":"tool_use","id":"t2","name":"get_time","input":{}}
        ],"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":9}}"#,
    )])
    .await;
    let out = run(&anthropic_at_proxy(&server), request(CallMode::Legacy)).await;
    finished(&out);
    let calls: Vec<(&str, serde_json::Value)> = out
        .tools
        .iter()
        .map(|c| (c.id.as_str(), c.arguments.clone()))
        .collect();
    assert_eq!(
        calls,
        vec![
            ("t1", json!({"city": "Paris", "units": "C"})),
            ("t2", json!({}))
        ]
    );
}

fn step(id: &str, agent: &str, task: &str) -> StepSpec {
    StepSpec {
        id: StepId::new(id),
        title: task.into(),
        agent: agent.into(),
        task: task.into(),
        depends_on: vec![],
    }
}

#[tokio::test(start_paused = true)]
async fn an_empty_answer_fails_the_step_and_the_session_can_be_resumed() {
    let provider = Arc::new(ScriptedProvider::new(|_| {
        Script::text("  \n ", 1, Duration::ZERO)
    }));
    let mut h = Harness::start(provider, 1);
    let plan = Plan {
        steps: vec![step("1", "writer", "Write a haiku")],
    };
    let id = h.handle.start_session_with_plan("haiku", plan).unwrap();
    h.until_ended(&id).await;
    let state = h.state(&id);
    let s = state.step(&StepId::new("1")).unwrap();
    assert_eq!(s.status, StepStatus::Failed);
    assert!(
        s.error.as_deref().unwrap_or("").contains("empty answer"),
        "{:?}",
        s.error
    );
    assert_eq!(state.status, SessionStatus::Failed);
    assert!(state.status.can_resume());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_whose_reply_is_always_cut_fails_with_the_reason_not_a_short_answer() {
    let server = ReplayServer::start(vec![
        cut_by_a_second_request(),
        cut_by_a_second_request(),
        cut_by_a_second_request(),
    ])
    .await;
    let provider: Arc<dyn Provider> = openai_at(&server);
    let mut h = Harness::start(provider, 1);
    let plan = Plan {
        steps: vec![step("1", "writer", "Write a story")],
    };
    let id = h.handle.start_session_with_plan("story", plan).unwrap();
    h.until_ended(&id).await;
    let state = h.state(&id);
    let s = state.step(&StepId::new("1")).unwrap();
    assert_eq!(s.status, StepStatus::Failed);
    assert!(
        s.error.as_deref().unwrap_or("").contains("cut short"),
        "{:?}",
        s.error
    );
    assert!(
        h.positions(|e| matches!(e, Event::StepCompleted { .. }))
            .is_empty(),
        "a cut reply is never a completed step"
    );
    assert_eq!(s.metrics.retries, 2);
}

/// Each reply streams for a while, so a second call would overlap it if it were let through.
fn slow_reply(word: &str) -> Reply {
    let chunk = |text: &str| {
        format!(
            "data: {}\n\n",
            json!({"choices":[{"index":0,"delta":{"content":text}}]})
        )
    };
    Reply::new(200)
        .header("content-type", "text/event-stream")
        .body(chunk(word))
        .then(Part::Pause(Duration::from_millis(150)))
        .body(chunk(" done"))
        .body("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
        .body("data: [DONE]\n\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_max_concurrent_1_calls_take_turns_and_say_they_wait() {
    let server = ReplayServer::start(vec![slow_reply("first"), slow_reply("second")]).await;
    let mut s: HttpSettings = settings("single", &format!("{}/v1", server.url));
    s.max_concurrent = Some(1);
    let p = Arc::new(openai::provider(s).unwrap());
    let (a, b) = tokio::join!(
        run(&*p, request(CallMode::Streaming)),
        run(&*p, request(CallMode::Streaming))
    );
    finished(&a);
    finished(&b);
    let (first, second) = if a.notices.is_empty() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    assert!(first.notices.is_empty(), "{:?}", first.notices);
    match &second.notices[..] {
        [
            ProviderEvent::WaitingForSlot { provider, limit: 1 },
            ProviderEvent::GotSlot { waited_ms },
        ] => {
            assert_eq!(provider, "single");
            assert!(
                *waited_ms >= 100,
                "it waited for the first reply: {waited_ms} ms"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(first.text, "first done");
    assert_eq!(second.text, "second done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_steps_on_a_limited_endpoint_all_complete() {
    let server = ReplayServer::start(vec![slow_reply("one"), slow_reply("two")]).await;
    let mut s: HttpSettings = settings("single", &format!("{}/v1", server.url));
    s.max_concurrent = Some(1);
    let provider: Arc<dyn Provider> = Arc::new(openai::provider(s).unwrap());
    let mut h = Harness::start(provider, 2);
    let plan = Plan {
        steps: vec![
            step("1", "researcher", "Research tides"),
            step("2", "researcher", "Research winds"),
        ],
    };
    let id = h.handle.start_session_with_plan("weather", plan).unwrap();
    h.until_ended(&id).await;
    let state = h.state(&id);
    assert_eq!(
        state.status,
        SessionStatus::Completed,
        "{:?}",
        h.events_brief()
    );
    let queued = h.positions(|e| matches!(e, Event::CallQueued { .. }));
    let dequeued = h.positions(|e| matches!(e, Event::CallDequeued { .. }));
    assert_eq!(
        (queued.len(), dequeued.len()),
        (1, 1),
        "{:?}",
        h.events_brief()
    );
    assert!(queued[0] < dequeued[0]);
    let served = server.timeline();
    assert_eq!(served.len(), 2);
    assert!(
        served[1].request_at >= served[0].last_write_at,
        "the server never had two calls at once: {served:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_step_waiting_for_a_slot_is_shown_as_queued_and_never_flagged_as_stalled() {
    let provider = Arc::new(ScriptedProvider::new(|_| {
        let mut script = Script::text("the answer at last", 3, Duration::from_secs(1));
        script.queued_for = Some(Duration::from_secs(600));
        script
    }));
    let dir = tempfile::tempdir().unwrap();
    let mut es = engine_settings(&dir, 1);
    es.health.stall_after = Some(Duration::from_secs(60));
    let mut h = Harness::start_with(dir, provider, es);
    let plan = Plan {
        steps: vec![step("1", "writer", "Write it")],
    };
    let id = h
        .handle
        .start_session_with_plan("slow queue", plan)
        .unwrap();
    h.until_event(|e| matches!(e, Event::CallQueued { .. }))
        .await;
    let state = h.state(&id);
    let s = state.step(&StepId::new("1")).unwrap();
    assert_eq!(s.queued_on.as_deref(), Some("scripted"));
    assert!(
        s.notice
            .as_deref()
            .unwrap_or("")
            .contains("waiting for a free slot on scripted"),
        "{:?}",
        s.notice
    );
    h.until_ended(&id).await;
    let state = h.state(&id);
    let s = state.step(&StepId::new("1")).unwrap();
    assert_eq!(s.status, StepStatus::Completed);
    assert_eq!(s.queued_on, None);
    assert_eq!(s.metrics.slot_wait_ms_total, 600_000);
    assert!(
        h.positions(|e| matches!(e, Event::StepStalled { .. }))
            .is_empty(),
        "ten minutes in the queue is not a stall: {:?}",
        h.events_brief()
    );
}
