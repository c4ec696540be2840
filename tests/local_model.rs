//! The embedded model through the local provider: streaming, token counts, limits, grammar,
//! pause/resume and parallel calls.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::time::Duration;

use el_jefe::provider::{
    CallControl, ChatMessage, ChatRequest, PauseSwitch, Provider, ProviderEvent,
};
use el_jefe::session::call::{CallMode, FinishReason};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use support::model;

fn request(prompt: &str, max_tokens: u32) -> ChatRequest {
    let mut r = ChatRequest::new(vec![
        ChatMessage::system("You are a concise assistant."),
        ChatMessage::user(prompt),
    ]);
    r.max_tokens = max_tokens;
    r.temperature = 0.0;
    r
}

struct Reply {
    pieces: Vec<String>,
    usage: el_jefe::provider::Usage,
    finish: FinishReason,
}

impl Reply {
    fn text(&self) -> String {
        self.pieces.concat()
    }
}

async fn collect(provider: &dyn Provider, req: ChatRequest, control: CallControl) -> Reply {
    let mut stream = provider.stream(req, control);
    let mut pieces = Vec::new();
    while let Some(item) = stream.next().await {
        match item.expect("call failed") {
            ProviderEvent::Text(t) => pieces.push(t),
            ProviderEvent::Finished { usage, finish } => {
                return Reply {
                    pieces,
                    usage,
                    finish,
                };
            }
            other => panic!("the local model does not send {other:?}"),
        }
    }
    panic!("stream ended without Finished");
}

fn control() -> CallControl {
    CallControl::unpausable(CancellationToken::new())
}

#[tokio::test]
async fn streams_token_by_token_and_counts_real_tokens() {
    let _turn = model::exclusive().await;
    let p = model::load(2);
    let reply = collect(&p, request("Name three colors.", 24), control()).await;
    assert!(
        reply.pieces.len() > 3,
        "expected many pieces: {:?}",
        reply.pieces
    );
    assert!(reply.usage.input_tokens > 10, "{:?}", reply.usage);
    assert!(!reply.usage.estimated);
    assert!(reply.usage.output_tokens >= reply.pieces.len() as u64 - 1);
    assert!(reply.usage.output_tokens <= 24);
    assert!(!reply.text().trim().is_empty());
}

#[tokio::test]
async fn max_tokens_stop_strings_and_legacy_mode() {
    let _turn = model::exclusive().await;
    let p = model::load(2);
    let reply = collect(
        &p,
        request("Write a long story about a dragon.", 5),
        control(),
    )
    .await;
    assert_eq!(reply.usage.output_tokens, 5);
    assert_eq!(reply.finish, FinishReason::Length);

    let full = collect(
        &p,
        request("Count from 1 to 10, separated by commas.", 40),
        control(),
    )
    .await
    .text();
    let mut stopped_req = request("Count from 1 to 10, separated by commas.", 40);
    stopped_req.stop = vec!["5".into()];
    let stopped = collect(&p, stopped_req, control()).await;
    assert_eq!(stopped.finish, FinishReason::Stop);
    let cut = full
        .find('5')
        .expect("the model counts past 5 at temperature 0");
    assert_eq!(stopped.text(), full[..cut]);

    let mut legacy = request("Count from 1 to 10, separated by commas.", 40);
    legacy.mode = CallMode::Legacy;
    let reply = collect(&p, legacy, control()).await;
    assert_eq!(reply.pieces.len(), 1, "legacy mode sends the reply whole");
    assert_eq!(reply.text(), full);
}

#[tokio::test]
async fn min_tokens_keeps_a_short_answer_going() {
    let _turn = model::exclusive().await;
    let p = model::load(1);
    let prompt = "Reply with the single word yes.";
    let free = collect(&p, request(prompt, 80), control()).await;
    assert_eq!(free.finish, FinishReason::Stop, "{:?}", free.text());
    assert!(free.usage.output_tokens < 80, "{:?}", free.usage);

    let mut held = request(prompt, 80);
    held.min_tokens = 80;
    let reply = collect(&p, held, control()).await;
    assert_eq!(reply.finish, FinishReason::Length, "{:?}", reply.text());
    assert_eq!(reply.usage.output_tokens, 80);
    // The same greedy start: the minimum only changes how the reply may end.
    let start: String = free.text().chars().take(3).collect();
    assert!(reply.text().starts_with(&start), "{:?}", reply.text());
}

#[tokio::test]
async fn grammar_constrains_the_reply() {
    let _turn = model::exclusive().await;
    let p = model::load(1);
    let mut req = request("Is the sky blue? Answer yes or no.", 20);
    req.grammar = Some(r#"root ::= "{\"answer\": \"" ("yes" | "no") "\"}""#.into());
    let reply = collect(&p, req, control()).await;
    let v: serde_json::Value = serde_json::from_str(&reply.text()).expect("valid JSON");
    assert!(v["answer"] == "yes" || v["answer"] == "no", "{v}");
}

#[tokio::test]
async fn pause_holds_between_tokens_and_resume_continues_the_same_generation() {
    let _turn = model::exclusive().await;
    let p = model::load(1);
    let prompt = "Explain why the sky is blue.";
    let reference = collect(&p, request(prompt, 48), control()).await.text();

    let (switch, signal) = PauseSwitch::new();
    let ctl = CallControl {
        cancel: CancellationToken::new(),
        pause: signal,
    };
    let mut stream = p.stream(request(prompt, 48), ctl);
    let mut text = String::new();
    for _ in 0..5 {
        match stream.next().await.unwrap().unwrap() {
            ProviderEvent::Text(t) => text.push_str(&t),
            other => panic!("unexpected {other:?}"),
        }
    }
    switch.set(true);
    // At most the token already being decoded may still arrive; then nothing while paused.
    let mut after_pause = 0;
    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_millis(300), stream.next()).await
    {
        if let ProviderEvent::Text(t) = item.unwrap() {
            text.push_str(&t);
            after_pause += 1;
        }
    }
    assert!(
        after_pause <= 1,
        "{after_pause} pieces arrived while paused"
    );
    switch.set(false);
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            ProviderEvent::Text(t) => text.push_str(&t),
            ProviderEvent::Finished { .. } => break,
            other => panic!("the local model does not send {other:?}"),
        }
    }
    assert_eq!(text, reference);
}

#[tokio::test]
async fn cancel_ends_a_call_and_frees_its_sequence() {
    let _turn = model::exclusive().await;
    let p = model::load(1);
    let cancel = CancellationToken::new();
    let mut stream = p.stream(
        request("Tell me a long story.", 400),
        CallControl::unpausable(cancel.clone()),
    );
    assert!(matches!(
        stream.next().await,
        Some(Ok(ProviderEvent::Text(_)))
    ));
    cancel.cancel();
    loop {
        match stream.next().await {
            Some(Ok(ProviderEvent::Text(_))) => continue,
            Some(Err(e)) if e.is_cancelled() => break,
            None => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    // The only sequence is free again: a new call is served.
    let reply = collect(&p, request("Say hi.", 8), control()).await;
    assert!(reply.usage.output_tokens > 0);
}

#[tokio::test]
async fn parallel_calls_interleave_instead_of_queueing() {
    let _turn = model::exclusive().await;
    let p = std::sync::Arc::new(model::load(3));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..3 {
        let p = p.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut s = p.stream(
                request(&format!("Write about the number {i}."), 30),
                control(),
            );
            while let Some(item) = s.next().await {
                if let Ok(ProviderEvent::Text(_)) = item {
                    let _ = tx.send(i);
                }
            }
        });
    }
    drop(tx);
    let mut order = Vec::new();
    while let Some(i) = rx.recv().await {
        order.push(i);
    }
    // Interleaving: every call produced text before any one of them finished its 30 tokens.
    let first_of = |i| order.iter().position(|&x| x == i).unwrap();
    let last_of = |i| order.iter().rposition(|&x| x == i).unwrap();
    let latest_start = (0..3).map(first_of).max().unwrap();
    let earliest_end = (0..3).map(last_of).min().unwrap();
    assert!(
        latest_start < earliest_end,
        "calls ran one after another: {order:?}"
    );
}

#[test]
fn a_missing_model_is_a_clear_error_naming_the_setup_command() {
    let _turn = model::exclusive_blocking();
    let mut s = model::settings(1);
    s.model_path = "/nonexistent/SmolLM2-135M-Instruct.Q4_1.gguf".into();
    let err = el_jefe::provider::local::LocalProvider::load(s)
        .err()
        .expect("must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("missing") && msg.contains("scripts/setup.sh"),
        "{msg}"
    );
}

/// Sampling is seeded, so each goal gives the same plan every run. Held to at least 3 steps, the
/// model plans validly for about half of 30 varied goals (the others repeat a task and get the
/// default plan; docs/PERFORMANCE.md); these two are among those it gets right on the first try,
/// so a failure here means the planner's prompt, grammar or sampling broke.
#[tokio::test]
async fn the_planner_gets_a_valid_plan_from_the_model_on_its_first_try() {
    use el_jefe::engine::planner::{PlannerRun, PlannerSettings, run_planner};
    use el_jefe::engine::roles::RoleBook;
    use el_jefe::engine::task::{PlanOutcome, ReportKind, Reporter, TaskKey};
    use el_jefe::session::event::Event;
    use el_jefe::session::ids::SessionId;
    use el_jefe::session::plan::PlanSource;
    use el_jefe::session::plan_validation::validate;

    let _turn = model::exclusive().await;
    let provider = std::sync::Arc::new(model::load(1));
    let roles = RoleBook::built_in();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for goal in [
        "Outline a marketing plan for a local bakery",
        "Compare three note-taking apps for students",
    ] {
        let outcome = run_planner(PlannerRun {
            provider: provider.clone(),
            model: None,
            roles: roles.clone(),
            goal: goal.into(),
            settings: PlannerSettings::default(),
            mode: CallMode::Streaming,
            control: control(),
            reporter: Reporter {
                session: SessionId::parse("session_20260101_000000_00000000").unwrap(),
                task: TaskKey::Planner,
                attempt: 1,
                tx: tx.clone(),
            },
        })
        .await;
        let PlanOutcome::Ready { plan, source } = outcome else {
            panic!("planner interrupted");
        };
        assert_eq!(
            source,
            PlanSource::Model,
            "{goal}: fell back to the default plan"
        );
        assert_eq!(validate(plan.clone(), &roles.names()), Ok(plan.clone()));
        assert!((3..=5).contains(&plan.steps.len()), "{plan:?}");
        let mut rejected = 0;
        while let Ok(report) = rx.try_recv() {
            if let ReportKind::Event(Event::PlanRejected { .. }) = report.kind {
                rejected += 1;
            }
        }
        assert_eq!(rejected, 0);
    }
}

#[tokio::test]
async fn with_tools_the_local_model_calls_one_and_goes_on_from_its_result() {
    let _turn = model::exclusive().await;
    let p = model::load(1);
    let mut req = ChatRequest::new(vec![
        ChatMessage::system("You are an assistant that works on files in a workspace."),
        ChatMessage::user("What files are in the workspace? Call list_files to find out."),
    ]);
    req.max_tokens = 60;
    req.temperature = 0.0;
    req.tools = vec![
        el_jefe::tools::builtin::Builtin::ListFiles.spec(),
        el_jefe::tools::builtin::Builtin::ReadFile.spec(),
    ]
    .into();
    let first = collect_events(&p, req.clone()).await;
    let call = match &first[..] {
        [
            ProviderEvent::ToolCall(call),
            ProviderEvent::Finished { finish, .. },
        ] => {
            assert_eq!(*finish, FinishReason::ToolCalls);
            call.clone()
        }
        other => panic!("expected one tool call: {other:?}"),
    };
    assert_eq!(call.name, "list_files");
    assert!(call.arguments.is_object(), "{call:?}");

    // The result goes back in the action format and the model carries on from it.
    req.messages
        .push(ChatMessage::assistant_with_tools("", vec![call.clone()]));
    req.messages.push(ChatMessage::tool_result(
        &call.id,
        "notes.md  1.2 KB\ntodo.txt  80 B",
        false,
    ));
    let second = collect_events(&p, req).await;
    match second.last() {
        Some(ProviderEvent::Finished { usage, .. }) => assert!(usage.input_tokens > 150),
        other => panic!("no end: {other:?}"),
    }
    let answered = second
        .iter()
        .any(|e| matches!(e, ProviderEvent::Text(t) if !t.trim().is_empty()));
    let called = second
        .iter()
        .any(|e| matches!(e, ProviderEvent::ToolCall(_)));
    assert!(answered ^ called, "either an answer or a call: {second:?}");
    // Whatever it said, none of the format's markers leak into the text.
    assert!(
        !second
            .iter()
            .any(|e| matches!(e, ProviderEvent::Text(t) if t.contains("ANSWER:")))
    );
}

async fn collect_events(provider: &dyn Provider, req: ChatRequest) -> Vec<ProviderEvent> {
    let mut stream = provider.stream(req, control());
    let mut seen = Vec::new();
    while let Some(item) = stream.next().await {
        seen.push(item.expect("call failed"));
    }
    seen
}
