//! `el-jefe serve` as a person runs it, on the real model: a headless run on the server that
//! outlives its client, two watchers that see the same story, a server killed and restarted
//! under attached clients, and the refusals that keep it safe.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use el_jefe::session::event::Event;
use el_jefe::session::ids::SessionId;
use support::cli::{FIXED_THREE_STEPS, Home, event_type, stderr, stdout};
use support::model;
use support::server_process::free_port;
use support::serving::{Watcher, owner, serve};

/// 1..=n, the journal's numbering with no gap and no duplicate.
fn assert_complete(seqs: &[u64]) {
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected.as_slice(), "gaps or duplicates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_the_server_outlives_its_killed_client_and_two_watchers_see_the_same_story() {
    let _turn = model::exclusive().await;
    let home = Home::new(FIXED_THREE_STEPS);
    let port = free_port();
    let _server = serve(&home, port);
    let mut first = Watcher::attach(owner(&home)).await;
    let mut second = Watcher::attach(owner(&home)).await;

    // `run` finds the data dir's server by itself.
    let mut run = home.spawn_json(&["run", "--json", "Explain how tides work"]);
    let (started, mut run) = tokio::task::spawn_blocking(move || {
        let started = run.until(|v| event_type(v) == "step_started");
        (started, run)
    })
    .await
    .unwrap();
    let session = SessionId::parse(started.unwrap()["session"].as_str().unwrap()).unwrap();
    run.child.kill().unwrap(); // SIGKILL: the client has no chance to say anything.
    let (status, _, _) = tokio::task::spawn_blocking(move || run.finish())
        .await
        .unwrap();
    assert!(!status.success());

    let done = |e: &Event| e.ends_session();
    let end = first.until(&session, done).await;
    assert!(matches!(end.event, Event::SessionCompleted), "{end:?}");
    second.until(&session, done).await;
    assert_complete(&first.seqs(&session));
    let story = |w: &Watcher| -> Vec<String> {
        w.log
            .iter()
            .filter(|e| e.session == session)
            .map(|e| serde_json::to_string(&**e).unwrap())
            .collect()
    };
    assert_eq!(
        story(&first),
        story(&second),
        "the watchers saw different stories"
    );

    let shown = stdout(&home.run(&["show", session.as_str()]));
    assert!(shown.contains("Status    completed"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_recovers_on_restart_and_attached_clients_resync_by_themselves() {
    let _turn = model::exclusive().await;
    let home = Home::new(FIXED_THREE_STEPS);
    let port = free_port();
    let server = serve(&home, port);
    let mut watcher = Watcher::attach(owner(&home)).await;
    let session = watcher
        .engine
        .start_session("Describe the water cycle")
        .unwrap();
    let first_done = watcher
        .until(&session, |e| matches!(e, Event::StepCompleted { .. }))
        .await;
    let Event::StepCompleted {
        step: done_step, ..
    } = &first_done.event
    else {
        unreachable!()
    };
    let done_step = done_step.clone();
    drop(server); // SIGKILL

    let _server = serve(&home, port);
    // The watcher comes back by itself and gets what recovery wrote.
    watcher
        .until(&session, |e| matches!(e, Event::SessionInterrupted { .. }))
        .await;
    assert_eq!(watcher.links, vec![false, true]);
    watcher.engine.resume_session(&session).unwrap();
    let end = watcher.until(&session, Event::ends_session).await;
    assert!(matches!(end.event, Event::SessionCompleted), "{end:?}");
    assert_complete(&watcher.seqs(&session));
    let starts_of_done = watcher
        .log
        .iter()
        .filter(|e| matches!(&e.event, Event::StepStarted { step, .. } if *step == done_step))
        .count();
    assert_eq!(starts_of_done, 1, "the completed step ran again");
}

#[test]
fn the_server_refuses_what_is_unsafe_and_keeps_tokens_to_itself() {
    let _turn = model::exclusive_blocking();
    let home = Home::new(FIXED_THREE_STEPS);

    let out = home.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--tls-cert"), "{}", stderr(&out));

    let port = free_port();
    let mut server = serve(&home, port);
    let again = home.run(&["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(again.status.code(), Some(2));
    let url = format!("http://127.0.0.1:{port}");
    assert!(stderr(&again).contains(&url), "{}", stderr(&again));

    let added = stdout(&home.run(&["users", "add", "vic", "--role", "viewer"]));
    let vic = added
        .split_whitespace()
        .find(|w| w.starts_with("ej_"))
        .expect("a token")
        .to_string();
    let as_vic = |args: &[&str]| {
        home.command(args)
            .env("EL_JEFE_SERVER", &url)
            .env("EL_JEFE_TOKEN", &vic)
            .output()
            .unwrap()
    };
    let listed = as_vic(&["sessions"]);
    assert_eq!(listed.status.code(), Some(0), "{}", stderr(&listed));
    let steer = as_vic(&["pause", "session_20261130_120000_0a1b2c3d"]);
    assert_eq!(steer.status.code(), Some(1));
    assert!(
        stderr(&steer).contains("needs an operator"),
        "{}",
        stderr(&steer)
    );

    let ran = home.run(&["run", "--json", "Name three rivers"]);
    assert_eq!(ran.status.code(), Some(0), "{}", stderr(&ran));

    home.run(&["users", "revoke", "vic"]);
    let refused = as_vic(&["sessions"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("revoked"), "{}", stderr(&refused));

    let metrics = get(port, "/metrics");
    assert!(
        metrics.contains("el_jefe_sessions{status=\"completed\"} 1"),
        "{metrics}"
    );

    // No token in any log, journal or output the server wrote.
    let owner_token = owner(&home).token.unwrap();
    let mut written = server.log_tail();
    for entry in walk(&home.data()) {
        if entry.file_name().is_some_and(|n| n == "server.json") {
            continue;
        }
        written.push_str(&String::from_utf8_lossy(&std::fs::read(&entry).unwrap()));
    }
    for token in [&owner_token, &vic] {
        assert!(
            !written.contains(token.as_str()),
            "a token was written down"
        );
    }
    server.wait_for_ok(port, "/healthz", std::time::Duration::from_secs(5));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A plain `GET` of the server, its whole answer (headers and body).
fn get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_certificate_it_listens_beyond_loopback_over_tls() {
    let _turn = model::exclusive().await;
    let home = Home::new(FIXED_THREE_STEPS);
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let cert = home.dir.path().join("cert.pem");
    let key = home.dir.path().join("key.pem");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();

    let missing = home.run(&[
        "serve",
        "--listen",
        "0.0.0.0:0",
        "--tls-cert",
        "nowhere.pem",
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("nowhere.pem"),
        "{}",
        stderr(&missing)
    );

    let port = free_port();
    let listen = format!("0.0.0.0:{port}");
    let command = home.command(&[
        "serve",
        "--listen",
        &listen,
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let server = support::server_process::ServerProcess::spawn(
        "el-jefe serve (TLS)",
        command,
        tempfile::tempdir().unwrap(),
    );
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(made.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/healthz");
    let mut answer = None;
    for _ in 0..240 {
        if let Ok(response) = client.get(&url).send().await {
            answer = Some(response.text().await.unwrap());
            break;
        }
        // Polling the port while the model loads; no event says it is up.
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let answer = answer.unwrap_or_else(|| panic!("no TLS answer:\n{}", server.log_tail()));
    assert!(answer.starts_with("ok"), "{answer}");
    // Plain HTTP on the TLS port gets nothing useful.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}
