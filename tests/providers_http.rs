//! The HTTP providers against a server on loopback replaying real captures (tests/captures,
//! from llama-cpp-python's OpenAI-compatible server) and hand-made protocol data: text, tool
//! calls, usage, every fault PROTOCOLS.md lists, retries, failover and a user's interrupt.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use el_jefe::provider::failover::FailoverProvider;
use el_jefe::provider::{CallControl, ErrorKind, ProviderEvent, ToolCall, anthropic, openai};
use el_jefe::session::call::{CallMode, FinishReason};
use futures::StreamExt;
use serde_json::json;
use support::provider_run::*;
use support::replay_server::{Part, ReplayServer, Reply, capture_path};
use tokio_util::sync::CancellationToken;

// --- OpenAI-compatible: real captures ---------------------------------------------------------

#[tokio::test]
async fn a_recorded_stream_without_usage_is_text_with_estimated_tokens() {
    let server = ReplayServer::start(vec![Reply::capture(&capture_path(
        "openai-compat_stream_no_usage.txt",
    ))])
    .await;
    let out = run(&*openai_at(&server), request(CallMode::Streaming)).await;
    assert_eq!(out.text, "SmolLAM");
    assert_eq!(out.pieces, 5);
    let (usage, finish) = finished(&out);
    assert_eq!(finish, FinishReason::Stop);
    // The server sent no usage: one token per streamed chunk, marked as our own estimate.
    assert!(usage.estimated);
    assert_eq!(usage.output_tokens, 5);
    assert!(usage.input_tokens > 0);
    let sent = &server.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));
    assert_eq!(sent.body["model"], "smollm2");
    assert_eq!(sent.body["max_tokens"], 16);
    assert_eq!(
        sent.body["messages"][0],
        json!({"role": "system", "content": "You are brief."})
    );
    assert!(sent.header("authorization").is_none(), "no key, no header");
}

#[tokio::test]
async fn a_server_that_ignores_include_usage_still_gets_counted_and_a_usage_chunk_is_used() {
    let server = ReplayServer::start(vec![
        Reply::capture(&capture_path("openai-compat_stream_include_usage.txt")),
        Reply::sse(&[
            ("", r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#),
            ("", r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#),
            ("", r#"{"choices":[],"usage":{"prompt_tokens":37,"completion_tokens":1,"total_tokens":38}}"#),
            ("", "[DONE]"),
        ]),
    ])
    .await;
    let p = openai_at(&server);
    let out = run(&*p, request(CallMode::Streaming)).await;
    assert!(finished(&out).0.estimated);
    let out = run(&*p, request(CallMode::Streaming)).await;
    let (usage, _) = finished(&out);
    assert!(!usage.estimated);
    assert_eq!((usage.input_tokens, usage.output_tokens), (37, 1));
}

#[tokio::test]
async fn recorded_tool_calls_split_across_chunks_are_joined() {
    let server = ReplayServer::start(vec![
        Reply::capture(&capture_path("openai-compat_tools_forced_stream.txt")),
        Reply::capture(&capture_path("openai-compat_tools_forced_nonstream.txt")),
    ])
    .await;
    let p = openai_at(&server);
    let expected = vec![ToolCall {
        id: "call__0_get_weather_cmpl-f2bf4d51-7333-48c4-b0e9-d0802d6f4058".into(),
        name: "get_weather".into(),
        arguments: json!({"city": "Paris"}),
    }];
    let out = run(&*p, request(CallMode::Streaming)).await;
    assert_eq!(out.tools, expected);
    assert_eq!(finished(&out).1, FinishReason::ToolCalls);
    assert_eq!(out.text, "");
    // A tool call is a reply: no "empty reply" warning.
    assert!(out.notices.is_empty(), "{:?}", out.notices);

    let out = run(&*p, request(CallMode::Legacy)).await;
    assert_eq!(out.tools.len(), 1);
    assert_eq!(out.tools[0].arguments, json!({"city": "Paris"}));
    assert_eq!(finished(&out).1, FinishReason::ToolCalls);
}

#[tokio::test]
async fn legacy_mode_makes_one_whole_call_with_the_servers_usage() {
    let server = ReplayServer::start(vec![Reply::capture(&capture_path(
        "openai-compat_nonstream.txt",
    ))])
    .await;
    let out = run(&*openai_at(&server), request(CallMode::Legacy)).await;
    assert_eq!(out.text, "SmolLAM");
    assert_eq!(out.pieces, 1);
    let (usage, finish) = finished(&out);
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.estimated),
        (37, 5, false)
    );
    assert_eq!(finish, FinishReason::Stop);
    let sent = &server.requests()[0];
    assert_eq!(sent.body["stream"], false);
    assert!(sent.body.get("stream_options").is_none());
}

#[tokio::test]
async fn a_recorded_length_finish_is_reported() {
    let server = ReplayServer::start(vec![Reply::capture(&capture_path(
        "openai-compat_stream_length_finish.txt",
    ))])
    .await;
    let out = run(&*openai_at(&server), request(CallMode::Streaming)).await;
    assert_eq!(out.text, "In the depths of the ocean, where");
    assert_eq!(finished(&out).1, FinishReason::Length);
}

// --- Anthropic -------------------------------------------------------------------------------

fn anthropic_stream(text_parts: &[&str]) -> Reply {
    let mut events = vec![
        ("message_start", r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"usage":{"input_tokens":21,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":4}}}"#.to_string()),
        ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#.to_string()),
        ("ping", r#"{"type": "ping"}"#.to_string()),
    ];
    for t in text_parts {
        events.push((
            "content_block_delta",
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":t}})
                .to_string(),
        ));
    }
    events.extend([
        ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#.to_string()),
        ("content_block_start", r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"read_file","input":{}}}"#.to_string()),
        ("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#.to_string()),
        ("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"no"}}"#.to_string()),
        ("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"tes.md\"}"}}"#.to_string()),
        ("content_block_stop", r#"{"type":"content_block_stop","index":1}"#.to_string()),
        ("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":17}}"#.to_string()),
        ("message_stop", r#"{"type":"message_stop"}"#.to_string()),
    ]);
    let refs: Vec<(&str, &str)> = events.iter().map(|(n, d)| (*n, d.as_str())).collect();
    Reply::sse(&refs)
}

#[tokio::test]
async fn anthropic_streams_text_and_a_tool_call_with_cumulative_usage() {
    let server = ReplayServer::start(vec![anthropic_stream(&["Hello", " there"])]).await;
    let out = run(
        &*anthropic_at(&server, "sk-ant-secret-123"),
        request(CallMode::Streaming),
    )
    .await;
    assert_eq!(out.text, "Hello there");
    assert_eq!(
        out.tools,
        vec![ToolCall {
            id: "toolu_1".into(),
            name: "read_file".into(),
            arguments: json!({"path": "notes.md"})
        }]
    );
    let (usage, finish) = finished(&out);
    assert_eq!(finish, FinishReason::ToolCalls);
    assert_eq!(
        (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_tokens,
            usage.estimated
        ),
        (21, 17, 4, false)
    );
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-secret-123"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.body["system"], "You are brief.");
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "user", "content": "Say hello in 5 words."}])
    );
    assert_eq!(sent.body["stream"], true);
}

// --- Faults ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_the_call_succeeds() {
    let server = ReplayServer::start(vec![
        Reply::json(
            429,
            r#"{"error":{"message":"Rate limit reached","type":"rate_limit_error"}}"#,
        )
        .header("retry-after-ms", "30"),
        Reply::json(
            429,
            r#"{"error":{"message":"Rate limit reached","type":"rate_limit_error"}}"#,
        )
        .header("retry-after", "0"),
        Reply::capture(&capture_path("openai-compat_stream_no_usage.txt")),
    ])
    .await;
    let out = run(&*openai_at(&server), request(CallMode::Streaming)).await;
    assert_eq!(out.text, "SmolLAM");
    // The server's own waits, not our backoff.
    assert_eq!(
        retries(&out),
        vec![
            (ErrorKind::RateLimited, 30, false),
            (ErrorKind::RateLimited, 0, false)
        ]
    );
    match &out.notices[0] {
        ProviderEvent::Retrying(r) => {
            assert_eq!((r.retry, r.max_retries), (1, 2));
            assert_eq!(
                r.error,
                "srv is rate limiting us (HTTP 429): Rate limit reached"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn overloaded_529_and_a_500_are_retried_with_backoff() {
    let server = ReplayServer::start(vec![
        Reply::json(
            529,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
        Reply::json(
            500,
            r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#,
        ),
        anthropic_stream(&["fine"]),
    ])
    .await;
    let out = run(
        &*anthropic_at(&server, "k-123456789"),
        request(CallMode::Streaming),
    )
    .await;
    assert_eq!(out.text, "fine");
    let r = retries(&out);
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].0, r[1].0), (ErrorKind::Overloaded, ErrorKind::Server));
    // 5 ms, then 10 ms, each less up to a quarter of jitter.
    assert!((3..=5).contains(&r[0].1), "{r:?}");
    assert!((7..=10).contains(&r[1].1), "{r:?}");
}

#[tokio::test]
async fn a_401_is_not_retried_and_says_why_without_the_key() {
    let key = "sk-ant-very-secret-key-0001";
    let server = ReplayServer::start(vec![Reply::json(
        401,
        &format!(r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {key}"}},"request_id":"req_1"}}"#),
    )])
    .await;
    let out = run(&*anthropic_at(&server, key), request(CallMode::Streaming)).await;
    let e = failed(&out);
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(
        e.message
            .starts_with("claude rejected the API key (HTTP 401): invalid x-api-key"),
        "{}",
        e.message
    );
    assert!(!e.message.contains(key), "the key leaked: {}", e.message);
    assert!(retries(&out).is_empty());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_exhausted_quota_is_not_retried() {
    let server = ReplayServer::start(vec![Reply::json(
        429,
        r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
    )])
    .await;
    let out = run(&*openai_at(&server), request(CallMode::Streaming)).await;
    assert_eq!(failed(&out).kind, ErrorKind::QuotaExhausted);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_mid_stream_error_event_fails_the_attempt_and_the_retry_starts_afresh() {
    let cut = Reply::sse(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"usage":{"input_tokens":5,"output_tokens":1}}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Half an ans"}}"#,
        ),
        (
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
    ]);
    let server = ReplayServer::start(vec![cut.clone(), anthropic_stream(&["Whole answer"])]).await;
    let out = run(
        &*anthropic_at(&server, "k-123456789"),
        request(CallMode::Streaming),
    )
    .await;
    // The partial text was delivered, then discarded by the retry's notice.
    assert_eq!(out.text, "Half an ansWhole answer");
    assert_eq!(
        retries(&out),
        vec![(ErrorKind::Overloaded, retries(&out)[0].1, true)]
    );

    let server = ReplayServer::start(vec![cut]).await;
    let mut s = settings("claude", &server.url);
    s.retry.max_retries = 0;
    let p = anthropic::provider(s).unwrap();
    let out = run(&p, request(CallMode::Streaming)).await;
    assert_eq!(failed(&out).message, "claude reported an error: Overloaded");
}

#[tokio::test]
async fn a_stream_cut_before_its_end_marker_is_a_failed_call() {
    let cut = Reply::sse(&[
        (
            "",
            r#"{"choices":[{"index":0,"delta":{"content":"Sm"},"finish_reason":null}]}"#,
        ),
        (
            "",
            r#"{"choices":[{"index":0,"delta":{"content":"ol"},"finish_reason":"stop"}]}"#,
        ),
    ]);
    let server = ReplayServer::start(vec![cut.clone(), cut.clone(), cut]).await;
    let out = run(&*openai_at(&server), request(CallMode::Streaming)).await;
    let e = failed(&out);
    assert_eq!(e.kind, ErrorKind::StreamCut);
    assert_eq!(
        e.message,
        "srv's stream ended before the reply was complete (no end marker)"
    );
    // Retried (twice), never taken for a short answer.
    assert_eq!(retries(&out).len(), 2);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn malformed_json_in_a_chunk_fails_clearly_and_is_not_retried() {
    let server = ReplayServer::start(vec![Reply::sse(&[
        ("", r#"{"choices":[{"index":0,"delta":{"content":"ok"}}]}"#),
        ("", r#"{"choices":[{"index":0,"delta":{"content":"br"#),
        ("", "[DONE]"),
    ])])
    .await;
    let out = run(&*openai_at(&server), request(CallMode::Streaming)).await;
    let e = failed(&out);
    assert_eq!(e.kind, ErrorKind::Malformed);
    assert!(
        e.message
            .starts_with("srv sent a chunk that is not valid JSON"),
        "{}",
        e.message
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_stalled_stream_times_out() {
    let stalled = Reply::sse(&[("", r#"{"choices":[{"index":0,"delta":{"content":"Sm"}}]}"#)])
        .then(Part::Stall);
    let server = ReplayServer::start(vec![stalled]).await;
    let mut s = settings("srv", &format!("{}/v1", server.url));
    s.retry.max_retries = 0;
    let p = openai::provider(s).unwrap();
    let out = run(&p, request(CallMode::Streaming)).await;
    let e = failed(&out);
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert_eq!(
        e.message,
        "srv sent nothing for 0.3 s in the middle of its reply (stalled stream)"
    );
    assert_eq!(out.text, "Sm");
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    // Bind and drop: nothing listens on this port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = settings("srv", &format!("http://127.0.0.1:{port}/v1"));
    s.retry.max_retries = 1;
    let p = openai::provider(s).unwrap();
    let out = run(&p, request(CallMode::Streaming)).await;
    let e = failed(&out);
    assert_eq!(e.kind, ErrorKind::Connection);
    assert!(
        e.message.starts_with("could not connect to srv: "),
        "{}",
        e.message
    );
    assert!(e.message.contains("refused"), "{}", e.message);
    assert_eq!(retries(&out).len(), 1);
}

#[tokio::test]
async fn a_user_interrupt_drops_the_request_at_once() {
    let endless = Reply::sse(&[(
        "",
        r#"{"choices":[{"index":0,"delta":{"content":"Once"}}]}"#,
    )])
    .then(Part::Stall);
    let server = ReplayServer::start(vec![endless]).await;
    let p = openai_at(&server);
    let cancel = CancellationToken::new();
    let mut stream = p.stream(
        request(CallMode::Streaming),
        CallControl::unpausable(cancel.clone()),
    );
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        ProviderEvent::Text("Once".into())
    );
    cancel.cancel();
    match stream.next().await {
        Some(Err(e)) => assert!(e.is_cancelled(), "{e:?}"),
        other => panic!("{other:?}"),
    }
    // The server sees the connection closed: the request is gone, not left running.
    tokio::time::timeout(Duration::from_secs(5), server.client_hung_up())
        .await
        .expect("the connection was not closed");
}

#[tokio::test]
async fn llama_cpp_error_lines_and_empty_replies_are_surfaced() {
    let server = ReplayServer::start(vec![
        Reply::new(200)
            .header("content-type", "text/event-stream")
            .body("error: {\"code\":500,\"message\":\"the context is full\",\"type\":\"server_error\"}\n\n")
            .body("data: [DONE]\n\n"),
        Reply::sse(&[
            ("", r#"{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"#),
            ("", r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#),
            ("", "[DONE]"),
        ]),
    ])
    .await;
    let mut s = settings("srv", &format!("{}/v1", server.url));
    s.retry.max_retries = 0;
    let p = openai::provider(s).unwrap();
    let out = run(&p, request(CallMode::Streaming)).await;
    assert_eq!(
        failed(&out).message,
        "srv reported an error mid-stream: the context is full"
    );
    // A reply with nothing in it is a failed attempt, never an empty answer.
    let out = run(&p, request(CallMode::Streaming)).await;
    assert_eq!(failed(&out).kind, ErrorKind::EmptyReply);
    assert!(
        failed(&out)
            .message
            .contains("without any text or tool call"),
        "{}",
        failed(&out).message
    );
}

#[tokio::test]
async fn a_server_that_refuses_streaming_gets_a_whole_call_instead() {
    let server = ReplayServer::start(vec![
        Reply::json(400, r#"{"error":{"message":"Unsupported value: 'stream' does not support true with this model.","type":"invalid_request_error","param":"stream","code":"unsupported_value"}}"#),
        Reply::capture(&capture_path("openai-compat_nonstream.txt")),
    ])
    .await;
    let out = run(&*openai_at(&server), request(CallMode::Streaming)).await;
    assert_eq!(out.text, "SmolLAM");
    assert!(
        matches!(&out.notices[..], [ProviderEvent::Warning(w)] if w.contains("refused a streaming call")),
        "{:?}",
        out.notices
    );
    let sent = server.requests();
    assert_eq!(
        (
            sent[0].body["stream"].clone(),
            sent[1].body["stream"].clone()
        ),
        (json!(true), json!(false))
    );
}

#[tokio::test]
async fn after_its_retries_a_provider_fails_over_to_the_next() {
    let down = ReplayServer::start(vec![
        Reply::json(503, r#"{"error":{"message":"down for maintenance"}}"#),
        Reply::json(503, r#"{"error":{"message":"down for maintenance"}}"#),
        Reply::json(503, r#"{"error":{"message":"down for maintenance"}}"#),
    ])
    .await;
    let up = ReplayServer::start(vec![Reply::capture(&capture_path(
        "openai-compat_stream_no_usage.txt",
    ))])
    .await;
    let mut backup = settings("backup", &format!("{}/v1", up.url));
    backup.model = "small".into();
    let chain = FailoverProvider::new(vec![
        openai_at(&down),
        Arc::new(openai::provider(backup).unwrap()),
    ]);
    let mut req = request(CallMode::Streaming);
    req.model = Some("big".into());
    let out = run(&chain, req).await;
    assert_eq!(out.text, "SmolLAM");
    assert_eq!(retries(&out).len(), 2);
    match out.notices.last().unwrap() {
        ProviderEvent::FailingOver(f) => {
            assert_eq!(
                (f.from.as_str(), f.to.as_str(), f.to_model.as_str()),
                ("srv", "backup", "small")
            );
            assert_eq!(f.kind, ErrorKind::Server);
            assert!(f.error.contains("down for maintenance"), "{}", f.error);
        }
        other => panic!("{other:?}"),
    }
    // The fallback runs its own model, not the first provider's.
    assert_eq!(up.requests()[0].body["model"], "small");
    assert_eq!(down.requests()[0].body["model"], "big");
}

#[tokio::test]
async fn a_failure_that_will_not_pass_does_not_fail_over() {
    let down =
        ReplayServer::start(vec![Reply::json(401, r#"{"error":{"message":"bad key"}}"#)]).await;
    let up = ReplayServer::start(vec![]).await;
    let chain = FailoverProvider::new(vec![openai_at(&down), openai_at(&up)]);
    let out = run(&chain, request(CallMode::Streaming)).await;
    assert_eq!(failed(&out).kind, ErrorKind::Auth);
    assert!(up.requests().is_empty());
}

// --- Through the engine: what the journal and the metrics record -----------------------------

mod engine_runs {
    use super::*;
    use el_jefe::session::event::Event;
    use el_jefe::session::ids::StepId;
    use el_jefe::session::plan::{Plan, StepSpec};
    use support::harness::Harness;

    fn one_step() -> Plan {
        Plan {
            steps: vec![StepSpec {
                id: StepId::new("1"),
                title: "Greet".into(),
                agent: "writer".into(),
                task: "Say hello.".into(),
                depends_on: vec![],
            }],
        }
    }

    #[tokio::test]
    async fn a_retried_step_is_journaled_and_counted_by_kind() {
        let server = ReplayServer::start(vec![
            Reply::json(
                429,
                r#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
            )
            .header("retry-after-ms", "10"),
            Reply::capture(&capture_path("openai-compat_stream_no_usage.txt")),
        ])
        .await;
        let mut h = Harness::start(openai_at(&server), 1);
        let id = h
            .handle
            .start_session_with_plan("greet", one_step())
            .unwrap();
        assert_eq!(h.until_ended(&id).await.event, Event::SessionCompleted);
        let retry = h
            .log
            .iter()
            .find_map(|e| match &e.event {
                Event::CallRetry { step, retry } => Some((step.clone(), retry.clone())),
                _ => None,
            })
            .expect("a retry event");
        assert_eq!(retry.0, Some(StepId::new("1")));
        assert_eq!(
            (retry.1.kind, retry.1.delay_ms),
            (ErrorKind::RateLimited, 10)
        );
        let state = h.state(&id);
        assert_eq!(state.steps[0].output, "SmolLAM");
        let m = &state.steps[0].metrics;
        assert_eq!((m.api_calls, m.retries, m.errors), (2, 1, 1));
        assert_eq!(m.errors_by_kind.get(&ErrorKind::RateLimited), Some(&1));
        assert!(m.estimated, "the server reported no usage");
        // The journal on disk tells the same story.
        let stored = h.store.load(&id).unwrap();
        assert_eq!(stored.state.steps[0].metrics, *m);
    }

    #[tokio::test]
    async fn a_failover_mid_stream_keeps_only_the_fallbacks_text() {
        let cut = Reply::sse(&[(
            "",
            r#"{"choices":[{"index":0,"delta":{"content":"Broken hal"}}]}"#,
        )]);
        let down = ReplayServer::start(vec![cut]).await;
        let up = ReplayServer::start(vec![Reply::capture(&capture_path(
            "openai-compat_stream_no_usage.txt",
        ))])
        .await;
        let mut first = settings("primary", &format!("{}/v1", down.url));
        first.retry.max_retries = 0;
        let chain = FailoverProvider::new(vec![
            Arc::new(openai::provider(first).unwrap()),
            openai_at(&up),
        ]);
        let mut h = Harness::start(Arc::new(chain), 1);
        let id = h
            .handle
            .start_session_with_plan("greet", one_step())
            .unwrap();
        assert_eq!(h.until_ended(&id).await.event, Event::SessionCompleted);
        let state = h.state(&id);
        assert_eq!(state.steps[0].output, "SmolLAM");
        let m = &state.steps[0].metrics;
        assert_eq!((m.failovers, m.errors), (1, 1));
        assert_eq!(m.errors_by_kind.get(&ErrorKind::StreamCut), Some(&1));
        let finished = h
            .log
            .iter()
            .find_map(|e| match &e.event {
                Event::CallFinished { call, .. } => Some(call.clone()),
                _ => None,
            })
            .unwrap();
        // The call is credited to the provider that answered.
        assert_eq!(finished.provider, "srv");
        assert!(
            state
                .warnings
                .iter()
                .any(|w| w.contains("continuing on srv")),
            "{:?}",
            state.warnings
        );
    }
}

// --- The agent loop over the wire ------------------------------------------------------------

fn one_step_plan(agent: &str) -> el_jefe::session::plan::Plan {
    el_jefe::session::plan::Plan {
        steps: vec![el_jefe::session::plan::StepSpec {
            id: el_jefe::session::ids::StepId::new("1"),
            title: "Look".into(),
            agent: agent.into(),
            task: "Use a tool, then answer".into(),
            depends_on: vec![],
        }],
    }
}

/// The finished tool calls of a run: (tool, status, content).
fn tool_results(h: &support::harness::Harness) -> Vec<(String, ToolStatusE, String)> {
    h.log
        .iter()
        .filter_map(|e| match &e.event {
            EventE::ToolCallFinished {
                tool,
                status,
                content,
                ..
            } => Some((tool.clone(), *status, content.clone())),
            _ => None,
        })
        .collect()
}

use el_jefe::session::event::{Event as EventE, ToolStatus as ToolStatusE};

#[tokio::test]
async fn openai_wire_a_recorded_tool_call_then_its_result_goes_back_as_a_tool_message() {
    let server = ReplayServer::start(vec![
        Reply::capture(&capture_path("openai-compat_tools_forced_stream.txt")),
        Reply::capture(&capture_path("openai-compat_stream_include_usage.txt")),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let s = support::harness::settings(&dir, 1);
    let mut h = support::harness::Harness::start_with(dir, openai_at(&server), s);
    let id = h
        .handle
        .start_session_with_plan("weather", one_step_plan("researcher"))
        .unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(
        end.event,
        EventE::SessionCompleted,
        "{:?}",
        h.events_brief()
    );
    // The recorded call names a tool we do not have: the model is told so, as a tool result.
    let results = tool_results(&h);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].1, ToolStatusE::Error);
    assert!(
        results[0].2.starts_with("there is no tool `get_weather`"),
        "{}",
        results[0].2
    );

    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    let offered: Vec<&str> = sent[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        offered,
        ["read_file", "list_files", "search_files", "fetch_url"]
    );
    let messages = sent[1].body["messages"].as_array().unwrap();
    let call_id = "call__0_get_weather_cmpl-f2bf4d51-7333-48c4-b0e9-d0802d6f4058";
    let assistant = &messages[messages.len() - 2];
    assert_eq!(assistant["role"], "assistant");
    assert_eq!(assistant["tool_calls"][0]["id"], call_id);
    assert_eq!(
        assistant["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    let tool = &messages[messages.len() - 1];
    assert_eq!(tool["role"], "tool");
    assert_eq!(tool["tool_call_id"], call_id);
    assert!(
        tool["content"]
            .as_str()
            .unwrap()
            .contains("no tool `get_weather`")
    );
}

#[tokio::test]
async fn anthropic_wire_tool_use_then_a_tool_result_block_in_the_next_user_turn() {
    let answer = [
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","model":"claude-x","content":[],"usage":{"input_tokens":60,"output_tokens":1}}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"There are no notes yet."}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ];
    let server = ReplayServer::start(vec![
        anthropic_stream(&["Let me look."]),
        Reply::sse(&answer),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let s = support::harness::settings(&dir, 1);
    let mut h = support::harness::Harness::start_with(dir, anthropic_at(&server, "sk-ant-x"), s);
    let id = h
        .handle
        .start_session_with_plan("notes", one_step_plan("writer"))
        .unwrap();
    let end = h.until_ended(&id).await;
    assert_eq!(
        end.event,
        EventE::SessionCompleted,
        "{:?}",
        h.events_brief()
    );
    let results = tool_results(&h);
    assert_eq!(results[0].0, "read_file");
    assert_eq!(results[0].1, ToolStatusE::Error);
    assert_eq!(results[0].2, "`notes.md` does not exist");
    let state = h.state(&id);
    let step = state
        .step(&el_jefe::session::ids::StepId::new("1"))
        .unwrap();
    assert_eq!(step.output, "There are no notes yet.");

    let sent = server.requests();
    let tools: Vec<&str> = sent[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "read_file",
            "write_file",
            "edit_file",
            "list_files",
            "search_files"
        ]
    );
    let messages = sent[1].body["messages"].as_array().unwrap();
    let assistant = &messages[1];
    assert_eq!(assistant["role"], "assistant");
    assert_eq!(
        assistant["content"][0],
        json!({"type": "text", "text": "Let me look."})
    );
    assert_eq!(
        assistant["content"][1],
        json!({"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "notes.md"}})
    );
    let result = &messages[2];
    assert_eq!(result["role"], "user");
    assert_eq!(result["content"][0]["type"], "tool_result");
    assert_eq!(result["content"][0]["tool_use_id"], "toolu_1");
    assert_eq!(result["content"][0]["is_error"], true);
}
