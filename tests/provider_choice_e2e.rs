//! Sessions that choose their providers, on the real binary: `el-jefe serve` on the embedded
//! model with a real OpenAI-compatible server (llama-cpp-python's) configured as `srv`. A
//! schedule `--provider srv` runs on it; a run `--agent-provider writer=srv` moves only the
//! writer; a schedule naming an unknown provider is refused when added.

// Test helpers panic to fail the test, with their message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::time::Duration;

use el_jefe::session::event::Event;
use support::cli::{FIXED_THREE_STEPS, Home, event_type, read_json_lines, stderr, stdout};
use support::model;
use support::openai_server::{MODEL_ALIAS, OpenAiServer};
use support::server_process::free_port;
use support::serving::{Watcher, owner, serve};

const ONE_STEP: &str = r#"
goal = "Tides on {{date}}"

[[steps]]
id = "1"
agent = "researcher"
task = "Name one fact about tides."
"#;

const TWO_STEPS: &str = r#"
goal = "A note on tides"

[[steps]]
id = "1"
agent = "researcher"
task = "Name one fact about tides."

[[steps]]
id = "2"
agent = "writer"
task = "Write one sentence about tides."
depends_on = ["1"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_and_runs_on_a_server_run_on_the_providers_they_choose() {
    let _turn = model::exclusive().await;
    let srv = OpenAiServer::start();
    let home = Home::new(&format!(
        "{FIXED_THREE_STEPS}\n[providers.srv]\nkind = \"openai\"\nbase_url = \"{}\"\n\
         model = \"{MODEL_ALIAS}\"\n",
        srv.url
    ));
    let one = home.dir.path().join("one.toml");
    std::fs::write(&one, ONE_STEP).unwrap();
    let two = home.dir.path().join("two.toml");
    std::fs::write(&two, TWO_STEPS).unwrap();
    let _server = serve(&home, free_port());
    let mut watcher = Watcher::attach(owner(&home)).await;

    // Refused when added, with the server's own list of what it knows.
    let refused = home.run(&[
        "schedule",
        "add",
        "bad",
        "--every",
        "1h",
        "--goal",
        "x",
        "--provider",
        "nope",
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("no provider named `nope` (known: "),
        "{}",
        stderr(&refused)
    );
    let listed = stdout(&home.run(&["schedule", "list"]));
    assert!(!listed.contains("bad"), "{listed}");

    let plan = one.to_str().unwrap();
    let added = home.run(&[
        "schedule",
        "add",
        "onsrv",
        "--every",
        "1h",
        "--plan",
        plan,
        "--provider",
        "srv",
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    let shown = stdout(&home.run(&["schedule", "show", "onsrv"]));
    assert!(shown.contains("runs on:  srv"), "{shown}");
    let fired = home.run(&["schedule", "run-now", "onsrv"]);
    assert!(fired.status.success(), "{}", stderr(&fired));

    let created = watcher
        .until_any(
            |e| matches!(&e.event, Event::SessionCreated { origin: Some(o), .. } if o.schedule == "onsrv"),
            Duration::from_secs(240),
        )
        .await;
    let Event::SessionCreated {
        provider, model, ..
    } = &created.event
    else {
        unreachable!()
    };
    assert_eq!((provider.as_str(), model.as_str()), ("srv", MODEL_ALIAS));
    let end = watcher.until(&created.session, |e| e.ends_session()).await;
    assert!(matches!(end.event, Event::SessionCompleted), "{end:?}");
    let served: Vec<String> = watcher
        .log
        .iter()
        .filter(|e| e.session == created.session)
        .filter_map(|e| match &e.event {
            Event::CallFinished { call, .. } => Some(call.provider.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(served, ["srv"], "the step's call went to the chosen server");

    // A run through the same server with only the writer moved.
    let run = home.run(&[
        "run",
        "--json",
        "--plan",
        two.to_str().unwrap(),
        "--agent-provider",
        "writer=srv",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let calls: Vec<(String, String)> = read_json_lines(&stdout(&run))
        .iter()
        .filter(|v| event_type(v) == "call_finished")
        .map(|v| {
            let event = if v["event"].is_object() {
                &v["event"]
            } else {
                v
            };
            (
                event["step"].as_str().unwrap_or("planner").to_string(),
                event["call"]["provider"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("1".to_string(), "local".to_string()),
            ("2".to_string(), "srv".to_string())
        ]
    );
}
