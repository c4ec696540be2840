//! An API key a server quotes back never reaches an event, a journal, the screen or stdout, on
//! any path an error or a text can take: status errors, JSON error bodies of a 200, mid-stream
//! error events, replies that cannot be decoded, retry notices, tools and the model's own text.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::path::Path;
use std::sync::Arc;

use el_jefe::provider::http::ApiKey;
use el_jefe::provider::{Provider, ProviderEvent, ToolCall, anthropic, openai};
use el_jefe::session::call::CallMode;
use el_jefe::session::event::Event;
use el_jefe::session::ids::StepId;
use el_jefe::session::plan::{Plan, StepSpec};
use el_jefe::session::redact::Redactor;
use serde_json::json;
use support::cli::{Home, stdout};
use support::harness::{Harness, settings as engine_settings};
use support::provider_run::*;
use support::replay_server::{ReplayServer, Reply, capture_path};
use support::scripted::{Script, ScriptedProvider};

const KEY: &str = "sk-test-0123456789abcdefSECRET";

fn quoting_key() -> String {
    format!("key {KEY} is not allowed to use model smollm2")
}

fn openai_with_key(server: &ReplayServer) -> Arc<dyn Provider> {
    let mut s = settings("srv", &format!("{}/v1", server.url));
    s.api_key = Some(ApiKey::new(KEY));
    s.retry.max_retries = 0;
    Arc::new(openai::provider(s).unwrap())
}

fn anthropic_with_key(server: &ReplayServer) -> Arc<dyn Provider> {
    let mut s = settings("claude", &server.url);
    s.api_key = Some(ApiKey::new(KEY));
    s.retry.max_retries = 0;
    Arc::new(anthropic::provider(s).unwrap())
}

/// Every way a provider error can be made, each quoting the key.
fn faults() -> Vec<(&'static str, bool, CallMode, Reply)> {
    let openai_error =
        json!({"error": {"message": quoting_key(), "type": "invalid_request_error"}});
    let anthropic_error =
        json!({"type": "error", "error": {"type": "permission_error", "message": quoting_key()}});
    vec![
        (
            "a status error's JSON body",
            false,
            CallMode::Streaming,
            Reply::json(403, &openai_error.to_string()),
        ),
        (
            "a status error's plain-text body",
            false,
            CallMode::Streaming,
            Reply::new(400)
                .header("content-type", "text/plain")
                .body(quoting_key()),
        ),
        (
            "an HTTP 200 whose JSON body is an error (whole reply)",
            false,
            CallMode::Legacy,
            Reply::json(200, &openai_error.to_string()),
        ),
        (
            "an HTTP 200 whose JSON body is an error (asked to stream)",
            false,
            CallMode::Streaming,
            Reply::json(200, &openai_error.to_string()),
        ),
        (
            "a mid-stream error event",
            false,
            CallMode::Streaming,
            Reply::sse(&[("", &openai_error.to_string())]),
        ),
        (
            "llama.cpp's error: line",
            false,
            CallMode::Streaming,
            Reply::new(200)
                .header("content-type", "text/event-stream")
                .body(format!("error: {openai_error}\n\n"))
                .body("data: [DONE]\n\n"),
        ),
        (
            "a chunk that cannot be decoded",
            false,
            CallMode::Streaming,
            Reply::sse(&[("", &format!("{{\"choices\": [{{\"delta\": \"{KEY}"))]),
        ),
        (
            "an Anthropic error event",
            true,
            CallMode::Streaming,
            Reply::sse(&[("error", &anthropic_error.to_string())]),
        ),
        (
            "an Anthropic whole reply that is an error",
            true,
            CallMode::Legacy,
            Reply::json(200, &anthropic_error.to_string()),
        ),
        (
            "an Anthropic event that cannot be decoded",
            true,
            CallMode::Streaming,
            Reply::sse(&[(
                "message_start",
                &format!("{{\"type\": \"message_start\", {KEY}"),
            )]),
        ),
    ]
}

#[tokio::test]
async fn every_provider_error_path_hides_the_key() {
    for (path, anthropic, mode, reply) in faults() {
        let server = ReplayServer::start(vec![reply]).await;
        let provider = if anthropic {
            anthropic_with_key(&server)
        } else {
            openai_with_key(&server)
        };
        let out = run(&*provider, request(mode)).await;
        let e = failed(&out);
        assert!(
            !e.message.contains(KEY),
            "{path}: the key leaked: {}",
            e.message
        );
        assert!(
            e.message.contains("<redacted>"),
            "{path}: the error lost the server's words: {}",
            e.message
        );
        for notice in &out.notices {
            assert!(!format!("{notice:?}").contains(KEY), "{path}: {notice:?}");
        }
    }
}

#[tokio::test]
async fn a_retry_notice_does_not_quote_the_key() {
    let server = ReplayServer::start(vec![
        Reply::json(
            500,
            &json!({"error": {"message": quoting_key()}}).to_string(),
        ),
        Reply::capture(&capture_path("openai-compat_stream_no_usage.txt")),
    ])
    .await;
    let mut s = settings("srv", &format!("{}/v1", server.url));
    s.api_key = Some(ApiKey::new(KEY));
    let provider = openai::provider(s).unwrap();
    let out = run(&provider, request(CallMode::Streaming)).await;
    finished(&out);
    let notice = out
        .notices
        .iter()
        .find_map(|n| match n {
            ProviderEvent::Retrying(r) => Some(r),
            _ => None,
        })
        .expect("a retry");
    assert!(!notice.error.contains(KEY), "{}", notice.error);
    assert!(notice.error.contains("<redacted>"), "{}", notice.error);
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// No file under `dir` holds the key.
fn assert_no_key_under(dir: &Path) {
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(KEY),
            "the key is in {}",
            file.display()
        );
    }
}

fn one_step(task: &str) -> Plan {
    Plan {
        steps: vec![StepSpec {
            id: StepId::new("1"),
            title: "Look".into(),
            agent: "researcher".into(),
            task: task.into(),
            depends_on: vec![],
        }],
    }
}

#[tokio::test(start_paused = true)]
async fn tool_errors_tool_arguments_and_model_text_are_scrubbed_before_the_journal() {
    // The model names a file after the key (its arguments carry it), the tool's error quotes
    // the path back, and the model repeats it in its answer.
    let provider = Arc::new(ScriptedProvider::new(|req| {
        let called = req.messages.iter().any(|m| !m.tool_calls.is_empty());
        if called {
            Script::text(
                &format!("The key is {KEY} as you asked."),
                3,
                Default::default(),
            )
        } else {
            Script::calls(vec![ToolCall {
                id: "c1".into(),
                name: "read_file".into(),
                arguments: json!({"path": format!("{KEY}.txt")}),
            }])
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let mut s = engine_settings(&dir, 1);
    s.redactor = Redactor::new([KEY]);
    let mut h = Harness::start_with(dir, provider, s);
    let id = h
        .handle
        .start_session_with_plan("find the key", one_step("Read the key file"))
        .unwrap();
    h.until_ended(&id).await;
    let mut saw_tool_error = false;
    for env in &h.log {
        let text = serde_json::to_string(&env.event).unwrap();
        assert!(!text.contains(KEY), "the key is in {text}");
        if let Event::ToolCallFinished { content, .. } = &env.event {
            saw_tool_error = content.contains("<redacted>.txt");
        }
    }
    assert!(saw_tool_error, "the tool's error was not recorded");
    // The step's output file is written by the store's writer thread.
    h.store.flush();
    assert_no_key_under(h.dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_quoted_by_a_200_error_body_reaches_no_output_journal_or_log() {
    for mode in ["legacy", "streaming"] {
        let error = json!({"error": {"message": quoting_key(), "type": "invalid_request_error"}});
        let server = ReplayServer::start(vec![Reply::json(200, &error.to_string())]).await;
        let home = Home::new("[providers.openai]\nmax_retries = 0\n");
        let plan = home.dir.path().join("plan.toml");
        std::fs::write(
            &plan,
            "goal = \"Say hello\"\n[[steps]]\nid = \"1\"\nagent = \"writer\"\ntask = \"Say hello\"\n",
        )
        .unwrap();
        let url = format!("{}/v1", server.url);
        let (out, show, show_json) = tokio::task::spawn_blocking({
            let plan = plan.display().to_string();
            move || {
                let run = |args: &[&str]| {
                    let mut cmd = home.command(args);
                    cmd.env("OPENAI_BASE_URL", &url)
                        .env("OPENAI_API_KEY", KEY)
                        .env("OPENAI_MODEL", "smollm2");
                    cmd.output().unwrap()
                };
                let out = run(&[
                    "run",
                    "--provider",
                    "openai",
                    "--mode",
                    mode,
                    "--plan",
                    &plan,
                ]);
                let listing = stdout(&run(&["sessions", "--json"]));
                let id = listing
                    .split('"')
                    .find(|w| w.starts_with("session_"))
                    .expect("the session is listed")
                    .to_string();
                let show = run(&["show", &id]);
                let show_json = run(&["show", &id, "--json"]);
                assert_no_key_under(home.dir.path());
                (out, show, show_json)
            }
        })
        .await
        .unwrap();
        assert!(!out.status.success(), "{mode}: the step cannot succeed");
        for (what, o) in [("run", &out), ("show", &show), ("show --json", &show_json)] {
            let text = format!("{}{}", stdout(o), String::from_utf8_lossy(&o.stderr));
            assert!(
                !text.contains(KEY),
                "{mode}: {what} printed the key:\n{text}"
            );
        }
        assert!(
            stdout(&out).contains("<redacted>"),
            "{mode}: the error was not shown:\n{}",
            stdout(&out)
        );
    }
}
