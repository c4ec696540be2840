//! Against a real OpenAI-compatible server (llama-cpp-python's, serving SmolLM2 on loopback):
//! streaming and whole calls, with and without a usage report, `el-jefe providers`, and a whole
//! workflow run headless.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use el_jefe::provider::http::HttpSettings;
use el_jefe::provider::{
    CallControl, ChatMessage, ChatRequest, Provider, ProviderEvent, Usage, openai,
};
use el_jefe::session::call::{CallMode, FinishReason};
use futures::StreamExt;
use support::cli::Home;
use support::openai_server::{MODEL_ALIAS, OpenAiServer};
use tokio_util::sync::CancellationToken;

fn provider(server: &OpenAiServer, stream_usage: bool) -> impl Provider {
    let mut s = HttpSettings::new("llama-cpp-python", &server.url, MODEL_ALIAS);
    s.stream_usage = stream_usage;
    openai::provider(s).unwrap()
}

fn request(mode: CallMode) -> ChatRequest {
    let mut r = ChatRequest::new(vec![
        ChatMessage::system("You are a helpful assistant."),
        ChatMessage::user("Name three colours."),
    ]);
    r.max_tokens = 24;
    r.temperature = 0.0;
    r.mode = mode;
    r
}

async fn call(p: &impl Provider, req: ChatRequest) -> (String, usize, Usage, FinishReason) {
    let mut stream = p.stream(req, CallControl::unpausable(CancellationToken::new()));
    let (mut text, mut pieces) = (String::new(), 0);
    while let Some(item) = stream.next().await {
        match item.expect("the call succeeds") {
            ProviderEvent::Text(t) => {
                text.push_str(&t);
                pieces += 1;
            }
            ProviderEvent::Finished { usage, finish } => return (text, pieces, usage, finish),
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("no end");
}

#[tokio::test]
async fn streaming_and_whole_calls_with_and_without_usage() {
    let _turn = support::model::exclusive().await;
    let server = OpenAiServer::start();

    let (whole, pieces, real, finish) =
        call(&provider(&server, true), request(CallMode::Legacy)).await;
    assert!(!whole.trim().is_empty());
    assert_eq!(pieces, 1);
    assert!(!real.estimated, "a whole reply carries the server's usage");
    assert!(real.input_tokens > 10 && real.output_tokens > 0, "{real:?}");
    assert!(matches!(finish, FinishReason::Stop | FinishReason::Length));

    for stream_usage in [true, false] {
        let (text, pieces, usage, _) = call(
            &provider(&server, stream_usage),
            request(CallMode::Streaming),
        )
        .await;
        // Greedy decoding: the same words streamed as in one piece.
        assert_eq!(text, whole, "stream_usage = {stream_usage}");
        assert!(pieces > 1, "streamed in pieces");
        // This server never reports usage while streaming: ours is an estimate, and the token
        // count (one per chunk) matches what it reports for the same reply in one piece.
        assert!(usage.estimated);
        assert_eq!(usage.output_tokens, real.output_tokens);
    }
}

#[test]
fn the_providers_command_checks_the_real_server() {
    let _turn = support::model::exclusive_blocking();
    let server = OpenAiServer::start();
    let config = |model: &str| {
        format!(
            "provider = \"srv\"\n[providers.srv]\nkind = \"openai\"\nbase_url = \"{}\"\nmodel = \"{model}\"\n",
            server.url
        )
    };
    let out = Home::new(&config(MODEL_ALIAS)).run(&["providers"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("srv (default)  [openai]  model smollm2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok: reachable, authenticated, model `smollm2` listed"),
        "{stdout}"
    );

    let out = Home::new(&config("gpt-5")).run(&["providers"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "FAILED: reachable and authenticated, but no model `gpt-5`; the server has: smollm2"
        ),
        "{stdout}"
    );
}

#[test]
fn a_whole_workflow_runs_headless_on_the_real_server() {
    let _turn = support::model::exclusive_blocking();
    let server = OpenAiServer::start();
    let home = Home::new(&format!(
        r#"
[providers.srv]
kind = "openai"
base_url = "{}"
model = "smollm2"
# llama-cpp-python serves one request at a time and cuts a running stream for a new one; the
# default plan's two researchers take turns.
max_concurrent = 1
[planner]
max_tokens = 16
[agents.researcher]
max_tokens = 40
[agents.analyst]
max_tokens = 40
[agents.writer]
max_tokens = 40
"#,
        server.url
    ));
    let out = home.run(&["--provider", "srv", "run", "Write a haiku about tea"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Workflow Completed"), "{stdout}");

    let sessions = home.run(&["sessions", "--json"]);
    // One JSON object per line, newest first.
    let first = String::from_utf8_lossy(&sessions.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    let listed: serde_json::Value = serde_json::from_str(&first).unwrap();
    let id = listed["id"].as_str().unwrap().to_string();
    let show = home.run(&["show", &id, "--json"]);
    let session: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(session["status"], "completed");
    assert_eq!(session["provider"], "srv");
    assert_eq!(session["model"], "smollm2");
    let steps = session["steps"].as_array().unwrap();
    assert!(!steps.is_empty());
    for step in steps {
        assert_eq!(step["status"], "completed", "{step}");
        assert!(!step["output"].as_str().unwrap().is_empty(), "{step}");
        assert!(step["api_calls"].as_u64().unwrap() >= 1);
    }
    assert_eq!(session["errors"], 0);
}
