//! `el-jefe serve`'s protocol against a real WebSocket client: hello and versions, tokens and
//! roles, bad messages, and subscribing from a position with no gap and no duplicate.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use el_jefe::engine::start_engine;
use el_jefe::protocol::{PROTOCOL, Position, Role, ServerMessage, Version};
use el_jefe::server::people::People;
use el_jefe::server::{ServerSetup, Transport, serve};
use el_jefe::session::command::Command;
use el_jefe::session::event::{Envelope, Event};
use el_jefe::session::ids::SessionId;
use el_jefe::store::Store;
use support::harness::settings;
use support::scripted::{Script, ScriptedProvider, is_planner, plan_json};
use support::ws::Client;
use tempfile::TempDir;

struct Server {
    addr: SocketAddr,
    operator: String,
    viewer: String,
    _dir: TempDir,
}

/// A server on a scripted provider: the plan has three parallel steps of `chunks` deltas each.
async fn server(chunks: usize) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_json(&[
        ("a", "researcher", &[]),
        ("b", "researcher", &[]),
        ("c", "writer", &[]),
    ]);
    let provider = Arc::new(ScriptedProvider::new(move |req| {
        if is_planner(req) {
            Script::text(&plan, 1, Duration::ZERO)
        } else {
            // Each chunk its own event, as from a network stream.
            let mut script = Script::chunks(chunks, Duration::ZERO);
            script.yield_between = true;
            script
        }
    }));
    let store = Store::open(&dir.path().join("sessions")).unwrap();
    let (engine, events) = start_engine(settings(&dir, 3), provider, store.clone());
    let mut people = People::load(&dir.path().join("people.json")).unwrap();
    let operator = people.add("ana", Role::Operator).unwrap();
    let viewer = people.add("vic", Role::Viewer).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let setup = ServerSetup {
        engine,
        events,
        store,
        people,
        mode: el_jefe::session::call::CallMode::Streaming,
        web_logins: el_jefe::server::web_logins::WebLogins::load(&dir.path().join("web.json")),
        roles: vec!["researcher".into(), "writer".into()],
    };
    tokio::spawn(serve(
        listener,
        Transport::Plain,
        setup,
        std::future::pending(),
    ));
    Server {
        addr,
        operator,
        viewer,
        _dir: dir,
    }
}

fn start(goal: &str) -> (SessionId, Command) {
    let created_at = chrono::Local::now();
    let id = SessionId::generate(created_at);
    let command = Command::StartSession {
        id: id.clone(),
        goal: goal.into(),
        created_at,
        plan: None,
        budget: None,
    };
    (id, command)
}

fn ended(message: &ServerMessage) -> bool {
    matches!(message, ServerMessage::Events { events }
        if events.iter().any(|e| e.event.ends_session()))
}

/// Every session's numbers run 1, 2, 3... with nothing missing and nothing twice.
fn assert_gapless(events: &[Envelope]) {
    let mut last: std::collections::HashMap<&SessionId, u64> = Default::default();
    for e in events {
        let at = last.entry(&e.session).or_insert(0);
        assert_eq!(
            e.seq,
            *at + 1,
            "after {} of {} came {}",
            at,
            e.session,
            e.seq
        );
        *at = e.seq;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_refuses_another_major_version_and_bad_tokens() {
    let s = server(3).await;
    let (mut c, answer) =
        Client::hello_with(s.addr, Version { major: 2, minor: 0 }, Some(&s.operator)).await;
    match answer {
        ServerMessage::Bye { reason } => {
            assert!(
                reason.contains("protocol 2.0") && reason.contains("1.0"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.next().await, None, "the connection is closed");

    let (_, answer) = Client::hello_with(s.addr, PROTOCOL, Some("ej_not_a_token")).await;
    assert!(matches!(answer, ServerMessage::Bye { reason } if reason.contains("token")));
    let (_, answer) = Client::hello_with(s.addr, PROTOCOL, None).await;
    assert!(matches!(answer, ServerMessage::Bye { .. }));

    let (_, answer) = Client::hello_with(s.addr, PROTOCOL, Some(&s.viewer)).await;
    match answer {
        ServerMessage::Welcome {
            user,
            role,
            protocol,
            ..
        } => {
            assert_eq!(
                (user.as_str(), role, protocol),
                ("vic", Role::Viewer, PROTOCOL)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_steers_a_viewer_only_watches_and_bad_messages_change_nothing() {
    let s = server(20).await;
    let mut viewer = Client::login(s.addr, &s.viewer).await;
    let mut operator = Client::login(s.addr, &s.operator).await;
    viewer.subscribe(Vec::new()).await;
    let mut seen = Vec::new();
    viewer
        .until(&mut seen, |m| matches!(m, ServerMessage::CaughtUp { .. }))
        .await;

    // Not JSON, an unknown type, a command of no known kind: each answered, nothing changes.
    for bad in [
        "not json",
        r#"{"type": "teleport"}"#,
        r#"{"type": "command", "id": 1, "command": {"command": "explode"}}"#,
    ] {
        operator.send_text(bad).await;
        assert!(
            matches!(operator.next().await, Some(ServerMessage::Error { .. })),
            "{bad}"
        );
    }

    let (id, command) = start("watched work");
    viewer.command(5, command.clone()).await;
    match viewer.next().await {
        Some(ServerMessage::Rejected { id: 5, reason }) => {
            assert!(
                reason.contains("vic") && reason.contains("viewer"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    operator.command(6, command).await;
    assert_eq!(operator.next().await, Some(ServerMessage::Ack { id: 6 }));
    operator
        .command(
            7,
            Command::PauseStep {
                session: SessionId::parse("session_20200101_000000_00000000").unwrap(),
                step: "a".into(),
            },
        )
        .await;
    assert!(matches!(
        operator.next().await,
        Some(ServerMessage::Rejected { id: 7, .. })
    ));

    // The viewer sees the operator's session from its first event to its end, in order.
    viewer.until(&mut seen, ended).await;
    assert!(seen.iter().all(|e| e.session == id));
    assert_gapless(&seen);
    assert_eq!(seen[0].by.as_deref(), Some("ana"), "{:?}", seen[0]);
    assert_eq!(seen.last().unwrap().event, Event::SessionCompleted);
}

/// A client that drops mid-run and subscribes again from the last number it processed misses
/// nothing and gets nothing twice, over thousands of events; a client that starts after the
/// end gets the same history from the journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_again_from_a_position_gives_exactly_the_missed_events() {
    let s = server(2000).await;
    let mut first = Client::login(s.addr, &s.operator).await;
    first.subscribe(Vec::new()).await;
    let mut seen = Vec::new();
    first
        .until(&mut seen, |m| matches!(m, ServerMessage::CaughtUp { .. }))
        .await;
    let (id, command) = start("long work");
    first.command(1, command).await;
    // Leave in the middle of the run, after a thousand events or so.
    let mut count = 0;
    first
        .until(&mut seen, |m| {
            if let ServerMessage::Events { events } = m {
                count += events.len();
            }
            count >= 1000 || ended(m)
        })
        .await;
    assert!(
        !seen.iter().any(|e| e.event.ends_session()),
        "left too late: {count}"
    );
    drop(first);

    let position = seen.last().map_or(0, |e| e.seq);
    let mut second = Client::login(s.addr, &s.operator).await;
    second
        .subscribe(vec![Position {
            session: id.clone(),
            seq: position,
        }])
        .await;
    second.until(&mut seen, ended).await;
    assert!(seen.len() > 6000, "only {} events", seen.len());
    assert_gapless(&seen);

    let mut late = Client::login(s.addr, &s.viewer).await;
    late.subscribe(Vec::new()).await;
    let mut replayed = Vec::new();
    late.until(&mut replayed, |m| {
        matches!(m, ServerMessage::CaughtUp { .. })
    })
    .await;
    assert_eq!(
        replayed, seen,
        "the journal gives the same history as the live stream"
    );
}
