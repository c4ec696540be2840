//! Calling an HTTP provider the way the engine does and collecting everything it says: shared
//! by the provider tests.

use std::sync::Arc;
use std::time::Duration;

use el_jefe::provider::http::{ApiKey, HttpSettings, RetryPolicy};
use el_jefe::provider::{
    CallControl, ChatMessage, ChatRequest, ErrorKind, Provider, ProviderError, ProviderEvent,
    ToolCall, Usage, anthropic, openai,
};
use el_jefe::session::call::{CallMode, FinishReason};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::replay_server::ReplayServer;

pub fn settings(name: &str, url: &str) -> HttpSettings {
    let mut s = HttpSettings::new(name, url, "smollm2");
    // Short waits: these tests talk over a real socket in real time.
    s.retry = RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
    };
    s.idle_timeout = Duration::from_millis(300);
    s
}

pub fn openai_at(server: &ReplayServer) -> Arc<dyn Provider> {
    Arc::new(openai::provider(settings("srv", &format!("{}/v1", server.url))).unwrap())
}

pub fn anthropic_at(server: &ReplayServer, key: &str) -> Arc<dyn Provider> {
    let mut s = settings("claude", &server.url);
    s.api_key = Some(ApiKey::new(key));
    Arc::new(anthropic::provider(s).unwrap())
}

pub fn request(mode: CallMode) -> ChatRequest {
    let mut r = ChatRequest::new(vec![
        ChatMessage::system("You are brief."),
        ChatMessage::user("Say hello in 5 words."),
    ]);
    r.max_tokens = 16;
    r.temperature = 0.0;
    r.mode = mode;
    r
}

/// Everything a call delivered, and how it ended.
#[derive(Debug, Default)]
pub struct Outcome {
    pub text: String,
    pub pieces: usize,
    pub tools: Vec<ToolCall>,
    pub notices: Vec<ProviderEvent>,
    pub end: Option<Result<(Usage, FinishReason), ProviderError>>,
}

pub async fn run(provider: &dyn Provider, req: ChatRequest) -> Outcome {
    run_with(provider, req, CancellationToken::new()).await
}

pub async fn run_with(
    provider: &dyn Provider,
    req: ChatRequest,
    cancel: CancellationToken,
) -> Outcome {
    let mut stream = provider.stream(req, CallControl::unpausable(cancel));
    let mut out = Outcome::default();
    while let Some(item) = stream.next().await {
        match item {
            Ok(ProviderEvent::Text(t)) => {
                out.text.push_str(&t);
                out.pieces += 1;
            }
            Ok(ProviderEvent::ToolCall(c)) => out.tools.push(c),
            Ok(ProviderEvent::Finished { usage, finish }) => {
                out.end = Some(Ok((usage, finish)));
                break;
            }
            Ok(notice) => out.notices.push(notice),
            Err(e) => {
                out.end = Some(Err(e));
                break;
            }
        }
    }
    out
}

pub fn finished(out: &Outcome) -> (Usage, FinishReason) {
    match &out.end {
        Some(Ok(end)) => *end,
        other => panic!("the call did not finish: {other:?}"),
    }
}

pub fn failed(out: &Outcome) -> &ProviderError {
    match &out.end {
        Some(Err(e)) => e,
        other => panic!("the call did not fail: {other:?}"),
    }
}

pub fn retries(out: &Outcome) -> Vec<(ErrorKind, u64, bool)> {
    out.notices
        .iter()
        .filter_map(|n| match n {
            ProviderEvent::Retrying(r) => Some((r.kind, r.delay_ms, r.discarded_text)),
            _ => None,
        })
        .collect()
}
