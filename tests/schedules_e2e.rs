//! Schedules and triggers as a person uses them, on the real binary and the real model: a
//! schedule every minute on a plan file that outlives a kill -9 of its server, fires and
//! completes; a file dropped in a watched folder starts a session that names it; a webhook with
//! a good signature starts one and a bad signature is refused with nothing started.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::time::Duration;

use el_jefe::schedule::book::RunOutcome;
use el_jefe::schedule::change::ScheduleChange;
use el_jefe::scheduler::Views;
use el_jefe::scheduler::desk::ScheduleDesk;
use el_jefe::scheduler::webhook::sign;
use el_jefe::session::event::{Envelope, Event};
use support::cli::{FIXED_THREE_STEPS, Home, read_json_lines, stderr, stdout};
use support::model;
use support::server_process::free_port;
use support::serving::{Watcher, owner, serve};

/// One short step, so each run is quick on the embedded model.
const PLAN: &str = r#"
goal = "Digest for {{date}}"

[[steps]]
id = "1"
agent = "researcher"
task = "Name one fact about tides."
"#;

const FILE_PLAN: &str = r#"
goal = "Summarise {{file}}"

[[steps]]
id = "1"
agent = "researcher"
task = "Say what a file named {{file}} might hold."
"#;

const HOOK_PLAN: &str = r#"
goal = "Triage issue {{issue.number}}: {{issue.title}}"

[[steps]]
id = "1"
agent = "researcher"
task = "Suggest a label for an issue titled {{issue.title}}."
"#;

fn schedule(home: &Home, args: &[&str]) -> String {
    let mut all = vec!["schedule"];
    all.extend_from_slice(args);
    let out = home.run(&all);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// The session's creation event, once a schedule started one.
async fn started_by(watcher: &mut Watcher, name: &str) -> Envelope {
    let created = watcher
        .until_any(
            |e| matches!(&e.event, Event::SessionCreated { origin: Some(o), .. } if o.schedule == name),
            Duration::from_secs(240),
        )
        .await;
    (*created).clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_survives_a_killed_server_then_fires_every_minute_and_completes() {
    let _turn = model::exclusive().await;
    let home = Home::new(FIXED_THREE_STEPS);
    let plan = home.dir.path().join("digest.toml");
    std::fs::write(&plan, PLAN).unwrap();
    let port = free_port();
    let server = serve(&home, port);
    let added = schedule(
        &home,
        &[
            "add",
            "digest",
            "--every",
            "1m",
            "--plan",
            plan.to_str().unwrap(),
        ],
    );
    assert!(
        added.contains("added schedule digest; first run"),
        "{added}"
    );

    // Killed between firings, with no chance to write anything more.
    drop(server); // SIGKILL
    let _server = serve(&home, port);
    let listed = schedule(&home, &["list"]);
    assert!(
        listed.contains("digest") && listed.contains("every 1m"),
        "{listed}"
    );

    let mut watcher = Watcher::attach(owner(&home)).await;
    let created = started_by(&mut watcher, "digest").await;
    let end = watcher.until(&created.session, |e| e.ends_session()).await;
    assert!(matches!(end.event, Event::SessionCompleted), "{end:?}");
    let Event::SessionCreated { goal, .. } = &created.event else {
        unreachable!()
    };
    assert!(
        goal.starts_with("Digest for 20"),
        "the date was filled in: {goal}"
    );

    let shown = stdout(&home.run(&["show", created.session.as_str()]));
    assert!(
        shown.contains("Started   by schedule digest (every 1m)"),
        "{shown}"
    );
    let history = schedule(&home, &["show", "digest"]);
    assert!(
        history.contains(&format!("started {}", created.session))
            && history.contains(&format!("{} completed", created.session)),
        "{history}"
    );

    // An attached dashboard's list: the run's outcome, then a pause asked from it.
    let desk = &mut watcher.schedules;
    until_schedules(desk, "the run completed", |views| {
        views.iter().any(|v| {
            v.state.spec.name == "digest"
                && v.state
                    .last_run
                    .as_ref()
                    .is_some_and(|r| r.outcome == Some(RunOutcome::Completed))
        })
    })
    .await;
    assert!(desk.ask(ScheduleChange::Pause {
        name: "digest".into()
    }));
    until_schedules(desk, "paused", |views| {
        views
            .iter()
            .any(|v| v.state.spec.name == "digest" && v.state.paused && v.next_due_ms.is_none())
    })
    .await;
    let shown = schedule(&home, &["show", "digest"]);
    assert!(shown.contains("paused by owner"), "{shown}");
}

/// Waits (up to a minute) for the server to send a list of schedules that `wanted` accepts.
async fn until_schedules(desk: &mut ScheduleDesk, what: &str, wanted: impl Fn(&Views) -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        while !wanted(&desk.current()) {
            desk.changed().await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "no list of schedules came {what}: {:?}",
        desk.current()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_file_and_a_signed_webhook_start_sessions_and_a_bad_signature_starts_nothing() {
    let _turn = model::exclusive().await;
    let home = Home::new(FIXED_THREE_STEPS);
    let inbox = home.dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let file_plan = home.dir.path().join("file.toml");
    std::fs::write(&file_plan, FILE_PLAN).unwrap();
    let hook_plan = home.dir.path().join("hook.toml");
    std::fs::write(&hook_plan, HOOK_PLAN).unwrap();
    let port = free_port();
    let _server = serve(&home, port);
    let mut watcher = Watcher::attach(owner(&home)).await;

    schedule(
        &home,
        &[
            "add",
            "inbox",
            "--watch",
            inbox.to_str().unwrap(),
            "--glob",
            "*.csv",
            "--plan",
            file_plan.to_str().unwrap(),
        ],
    );
    // A file the glob leaves out starts nothing; the CSV does.
    std::fs::write(inbox.join("notes.txt"), "ignore me").unwrap();
    std::fs::write(inbox.join("q3.csv"), "region,sales\nnorth,12\n").unwrap();
    let created = started_by(&mut watcher, "inbox").await;
    let Event::SessionCreated { goal, .. } = &created.event else {
        unreachable!()
    };
    let dropped = inbox.join("q3.csv");
    assert_eq!(goal, &format!("Summarise {}", dropped.display()));

    let added = schedule(
        &home,
        &[
            "add",
            "triage",
            "--webhook",
            "--plan",
            hook_plan.to_str().unwrap(),
        ],
    );
    let secret = added
        .split_whitespace()
        .find(|w| w.starts_with("whsec_"))
        .expect("the secret is shown once")
        .to_string();
    let url = format!("http://127.0.0.1:{port}/hooks/triage");
    let body = r#"{"action": "opened", "issue": {"number": 7, "title": "Tides table is wrong"}}"#;
    let client = reqwest::Client::new();
    let post = |signature: Option<String>| {
        let mut request = client.post(&url).body(body);
        if let Some(s) = signature {
            request = request.header("X-Hub-Signature-256", s);
        }
        request.send()
    };
    for bad in [None, Some(sign("not the secret", body.as_bytes()))] {
        let refused = post(bad).await.unwrap();
        assert_eq!(refused.status(), 401);
    }
    let accepted = post(Some(sign(&secret, body.as_bytes()))).await.unwrap();
    assert_eq!(accepted.status(), 202);
    let answer: serde_json::Value = accepted.json().await.unwrap();
    let created = started_by(&mut watcher, "triage").await;
    assert_eq!(answer["started"], created.session.as_str());
    let Event::SessionCreated { goal, .. } = &created.event else {
        unreachable!()
    };
    assert_eq!(goal, "Triage issue 7: Tides table is wrong");

    // Exactly two sessions: the CSV's and the good webhook call's.
    let sessions = read_json_lines(&stdout(&home.run(&["sessions", "--json"])));
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let history = schedule(&home, &["show", "inbox"]);
    assert!(
        history.contains("q3.csv") && !history.contains("notes.txt"),
        "{history}"
    );
}
