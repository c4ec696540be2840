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
    server_with(
        chunks,
        el_jefe::server::STALLED_SEND,
        el_jefe::server::BUFFERED_TURNS,
    )
    .await
}

/// The same, letting a client go when a message waits `stalled_send` to be sent, and keeping
/// `buffered_turns` turns for clients a little behind.
async fn server_with(chunks: usize, stalled_send: Duration, buffered_turns: usize) -> Server {
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
        stalled_send,
        scheduler: None,
        buffered_turns,
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
        origin: None,
        providers: Default::default(),
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
                reason.contains("protocol 2.0") && reason.contains(&PROTOCOL.to_string()),
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

/// The server's counters of slow clients, from `/metrics`: (resyncs, let go).
async fn slow_client_counts(addr: SocketAddr) -> (u64, u64) {
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    (
        value("el_jefe_client_resyncs_total "),
        value("el_jefe_clients_dropped_slow_total "),
    )
}

/// What a client reads until its session ends, or until the server lets it go (Some(reason),
/// or an empty reason when it closed with no word because the client could not take one).
async fn read_until_end_or_let_go(client: &mut Client, seen: &mut Vec<Envelope>) -> Option<String> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(60), client.next())
            .await
            .expect("a message within 60 s");
        match message {
            None => return Some(String::new()),
            Some(ServerMessage::Bye { reason }) => return Some(reason),
            Some(ServerMessage::Events { events }) => {
                let end = events.iter().any(|e| e.event.ends_session());
                seen.extend(events.iter().map(|e| (**e).clone()));
                if end {
                    return None;
                }
            }
            Some(_) => {}
        }
    }
}

/// Starts a long session while one client, subscribed before it began, reads nothing; a client
/// at full speed sees it end. Gives the silent client, what it had read, the fast client's
/// events, and the server.
async fn a_session_while_one_client_reads_nothing(
    stalled_send: Duration,
) -> (Client, Vec<Envelope>, Vec<Envelope>, Server) {
    // A small live buffer, so the silent client surely falls out of it.
    let s = server_with(50_000, stalled_send, 16).await;
    let mut silent = Client::connect_with_window(s.addr, 4096).await;
    silent.say_hello(&s.viewer).await;
    silent.subscribe(Vec::new()).await;
    let mut silent_seen = Vec::new();
    silent
        .until(&mut silent_seen, |m| {
            matches!(m, ServerMessage::CaughtUp { .. })
        })
        .await;

    let mut fast = Client::login(s.addr, &s.operator).await;
    fast.subscribe(Vec::new()).await;
    let mut fast_seen = Vec::new();
    fast.until(&mut fast_seen, |m| {
        matches!(m, ServerMessage::CaughtUp { .. })
    })
    .await;
    let (_, command) = start("much to say");
    fast.command(1, command).await;
    // Had the silent client's full socket held anything up, this would never come.
    fast.until(&mut fast_seen, ended).await;
    assert!(fast_seen.len() > 150_000, "{} events", fast_seen.len());
    assert_gapless(&fast_seen);
    (silent, silent_seen, fast_seen, s)
}

/// Reads on, and after each time the server lets the client go, connects again and subscribes
/// from the last event it has, until the session's end. Gives the reasons it was let go.
async fn read_to_the_end_coming_back(
    mut client: Client,
    s: &Server,
    seen: &mut Vec<Envelope>,
) -> Vec<String> {
    let mut reasons = Vec::new();
    while let Some(reason) = read_until_end_or_let_go(&mut client, seen).await {
        reasons.push(reason);
        assert!(reasons.len() < 20, "let go again and again: {reasons:?}");
        let from = seen.last().map(|e| Position {
            session: e.session.clone(),
            seq: e.seq,
        });
        client = Client::connect_with_window(s.addr, 4096).await;
        client.say_hello(&s.viewer).await;
        client.subscribe(from.into_iter().collect()).await;
    }
    reasons
}

/// A client that falls far behind (a full socket) holds up neither the engine nor a client at
/// full speed; reading again, it gets every event once and in order, caught up from the
/// journal (or, had it fallen behind too often, let go with a reason and able to come back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_falls_behind_is_caught_up_from_the_journal_and_slows_nobody() {
    let (slow, mut slow_seen, fast_seen, s) =
        a_session_while_one_client_reads_nothing(el_jefe::server::STALLED_SEND).await;
    let reasons = read_to_the_end_coming_back(slow, &s, &mut slow_seen).await;
    assert!(
        reasons.iter().all(|r| r.contains("too slow")),
        "{reasons:?}"
    );
    assert_gapless(&slow_seen);
    assert!(slow_seen == fast_seen, "the slow client's story differs");
    let (resyncs, _) = slow_client_counts(s.addr).await;
    assert!(resyncs >= 1, "the client never fell behind the live stream");
}

/// A client that takes nothing for `stalled_send` is let go (it holds no task or buffer), is
/// counted in /metrics, and coming back from its position gets the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_let_go_and_can_come_back() {
    let (silent, mut silent_seen, fast_seen, s) =
        a_session_while_one_client_reads_nothing(Duration::from_secs(1)).await;
    // Polls the server's own count; the wait is bounded.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while slow_client_counts(s.addr).await.1 == 0 {
        assert!(std::time::Instant::now() < deadline, "never let go");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reasons = read_to_the_end_coming_back(silent, &s, &mut silent_seen).await;
    assert!(!reasons.is_empty(), "it was let go, so it came back");
    assert_gapless(&silent_seen);
    assert!(
        silent_seen == fast_seen,
        "the story differs after coming back"
    );
}
