//! The web dashboard in a real Chromium, against `el-jefe serve` on the embedded model: signing
//! in with the printed link, starting a plan file, text streaming in, pausing, approving a tool
//! call, another person's pause showing up, replay and fork, the compare and analytics views, a
//! phone-sized screen, and no secret in the page.
//! Screenshots of each state are kept in target/tmp/web-screenshots.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

mod support;

use std::time::Duration;

use fantoccini::Locator;
use support::browser::Browser;
use support::cli::{Home, stdout};
use support::model;
use support::server_process::free_port;
use support::serving::{owner, serve};

/// An agent that must list the workspace's files (a tool call the policy makes wait for
/// approval), and a writer whose long answer gives time to pause it.
const CONFIG: &str = r#"
[planner]
max_tokens = 16
[agents.writer]
max_tokens = 700
min_tokens = 700
tools = []
[tools.policy]
list_files = "ask"
"#;

const LISTER: &str = "---
name: lister
description: Lists the files of the workspace and says what they are
tools: list_files
tool_choice: list_files
max_tokens: 48
temperature: 0
---
You look at the workspace. List its files, then say in one sentence what you found.
";

const PLAN: &str = r#"goal = "Look around and write"
[[steps]]
id = "1"
agent = "lister"
task = "List the files in the workspace and say what they are"
[[steps]]
id = "2"
agent = "writer"
task = "Write a long story about a lighthouse keeper"
"#;

const LONG: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_runs_and_steers_a_plan_from_the_browser() {
    let _turn = model::exclusive().await;
    let home = Home::new(CONFIG);
    std::fs::create_dir_all(home.dir.path().join("config/agents")).unwrap();
    std::fs::write(home.dir.path().join("config/agents/lister.md"), LISTER).unwrap();
    let plan = home.dir.path().join("plan.toml");
    std::fs::write(&plan, PLAN).unwrap();
    let port = free_port();
    let server = serve(&home, port);
    let printed = std::fs::read_to_string(server.dir.path().join("server.log")).unwrap();
    let link = printed
        .split_whitespace()
        .find(|w| w.contains("/?login="))
        .expect("serve prints a sign-in link")
        .to_string();
    let added = stdout(&home.run(&["users", "add", "ana", "--role", "operator"]));
    let ana = added
        .split_whitespace()
        .find(|w| w.starts_with("ej_"))
        .unwrap()
        .to_string();

    let browser = Browser::start(1400, 1000).await;
    let page = &browser.client;
    page.goto(&link).await.unwrap();
    browser.until_text("#link", "owner (admin)", LONG).await;
    let address = page.current_url().await.unwrap();
    assert!(
        !address.as_str().contains("login="),
        "the one-time code left the address bar: {address}"
    );

    // A plan file, as `el-jefe run --plan` takes it.
    page.find(Locator::Css("#plan-file"))
        .await
        .unwrap()
        .send_keys(plan.to_str().unwrap())
        .await
        .unwrap();
    browser
        .until_text("#session-goal", "Look around and write", LONG)
        .await;

    // The writer's text streams into its pane; pausing it shows who paused it.
    browser.until_text(".stream pre", " ", LONG).await;
    browser.screenshot("1-streaming").await;
    let writer_row = "//table[@id='steps']//tr[td[1][starts-with(normalize-space(.), '2')]]";
    browser.click_button(writer_row, "Pause").await;
    browser.until_text("#steps", "paused by owner", LONG).await;
    browser.screenshot("2-step-paused").await;
    browser.click_button(writer_row, "Resume").await;
    browser
        .until_text("#steps", "running (resumed by owner)", LONG)
        .await;

    // Another person pauses the session from the command line: the page shows it at once.
    let session = browser
        .text("#session-facts")
        .await
        .split_whitespace()
        .find(|w| w.starts_with("session_"))
        .expect("the session's id is shown")
        .to_string();
    let paused = home
        .command(&["pause", &session])
        .env("EL_JEFE_SERVER", &owner(&home).url)
        .env("EL_JEFE_TOKEN", &ana)
        .output()
        .unwrap();
    assert!(paused.status.success(), "{paused:?}");
    browser
        .until_text("#session-facts", "paused by ana", LONG)
        .await;
    browser.screenshot("3-paused-by-another").await;
    browser
        .click_button("//*[@id='session-controls']", "Unpause")
        .await;
    browser
        .until_text("#session-facts", "running (unpaused by owner)", LONG)
        .await;

    // The lister's tool call waits for approval; allowing the tool for the session lets the
    // step go on with as many calls of it as it makes.
    browser.until_text("#approvals", "list_files", LONG).await;
    browser.screenshot("4-approval").await;
    browser
        .click_button("//*[@id='approvals']", "Allow for session")
        .await;
    browser
        .until_text(".stream .tools", "allow for session by owner", LONG)
        .await;
    browser
        .until_text("#session-facts", "completed", Duration::from_secs(600))
        .await;
    browser.screenshot("5-completed").await;

    // Replay: the finished run from its first event; stepping and the slider show its moments
    // (the fold of the events up to there), and "Fork here" starts a fork that keeps them.
    browser
        .click_button("//*[@id='session-head']", "Replay")
        .await;
    browser
        .until_text("#replay-where", "event 1 of", LONG)
        .await;
    browser.click_button("//*[@id='replay-bar']", "▶").await;
    browser
        .until_text("#replay-where", "event 2 of", LONG)
        .await;
    page.execute(
        "const s = document.getElementById('replay-pos'); \
         s.value = String(Math.floor(Number(s.max) / 2)); \
         s.dispatchEvent(new Event('input')); return s.value",
        vec![],
    )
    .await
    .unwrap();
    let facts = browser.text("#session-facts").await;
    assert!(
        !facts.contains("completed"),
        "halfway it had not ended: {facts}"
    );
    browser.screenshot("5c-replay-halfway").await;
    browser.click_button("//*[@id='replay-bar']", "End").await;
    browser
        .until_text("#session-facts", "completed", LONG)
        .await;
    browser.click_button("//*[@id='replay-bar']", "Start").await;
    page.execute(
        "const s = document.getElementById('replay-pos'); \
         s.value = String(Math.floor(Number(s.max) / 2)); \
         s.dispatchEvent(new Event('input')); return s.value",
        vec![],
    )
    .await
    .unwrap();
    browser
        .click_button("//*[@id='replay-bar']", "Fork here")
        .await;
    browser
        .until_text("#sessions", "Fork: Look around and write", LONG)
        .await;
    browser.screenshot("5d-forked").await;

    // The fork side by side with its parent: figures per step, a verdict per metric, and the
    // outputs word by word.
    browser
        .until_text("#compare-with", "parent: Look around and write", LONG)
        .await;
    page.execute(
        "const s = document.getElementById('compare-with'); \
         s.value = [...s.options].find((o) => o.text.startsWith('parent:')).value; \
         s.dispatchEvent(new Event('change')); return s.value",
        vec![],
    )
    .await
    .unwrap();
    browser.until_text("#cmp-sides", "a fork", LONG).await;
    browser.until_text("#cmp-steps", "1 · lister", LONG).await;
    browser.until_text("#cmp-verdicts", "tokens", LONG).await;
    browser.screenshot("5e-compare").await;

    // Analytics over this server's sessions: the groups, the days, and what to change.
    browser.click_button("//*[@id='top']", "Analytics").await;
    browser.until_text("#an-summary", "sessions (", LONG).await;
    browser.until_text("#an-groups", "writer", LONG).await;
    browser.until_text("#an-groups", "lister", LONG).await;
    browser
        .until_text("#an-charts", "Sessions a day", LONG)
        .await;
    let recommendations = browser.text("#an-recs").await;
    assert!(!recommendations.trim().is_empty());
    browser.screenshot("5f-analytics").await;
    page.execute(
        "const s = document.getElementById('an-by'); s.value = 'provider'; \
         s.dispatchEvent(new Event('change')); return s.value",
        vec![],
    )
    .await
    .unwrap();
    browser.until_text("#an-groups", "local", LONG).await;
    browser.click_button("//*[@id='analytics']", "Back").await;
    browser
        .until_text("#session-goal", "Look around and write", LONG)
        .await;

    // A schedule added from the command line shows with its next run; pausing it from the page
    // holds it, and the page says so.
    let added = home
        .command(&[
            "schedule",
            "add",
            "nightly",
            "--cron",
            "0 3 * * *",
            "--goal",
            "Nightly digest",
        ])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    browser
        .until_text("#schedules", "cron 0 3 * * *", LONG)
        .await;
    browser.until_text("#schedules", "next ", LONG).await;
    browser
        .click_button("//li[contains(@class,'schedule')]", "Pause")
        .await;
    browser.until_text("#schedules", "paused", LONG).await;
    browser.screenshot("5b-schedule-paused").await;
    let shown = stdout(&home.run(&["schedule", "show", "nightly"]));
    assert!(shown.contains("paused by owner"), "{shown}");

    // Nothing secret in what the page holds.
    let source = page.source().await.unwrap();
    let code = link.rsplit('=').next().unwrap();
    for secret in [owner(&home).token.unwrap().as_str(), ana.as_str(), code] {
        assert!(!source.contains(secret), "a secret is in the page");
    }

    // A phone-sized screen: one column, nothing wider than the screen.
    page.set_window_size(390, 844).await.unwrap();
    let overflow = page
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        )
        .await
        .unwrap();
    browser.screenshot("6-phone").await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page is wider than a phone by {overflow}px"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_and_a_used_link_does_not_sign_in_again() {
    let _turn = model::exclusive().await;
    let home = Home::new(CONFIG);
    let port = free_port();
    let server = serve(&home, port);
    let printed = std::fs::read_to_string(server.dir.path().join("server.log")).unwrap();
    let link = printed
        .split_whitespace()
        .find(|w| w.contains("/?login="))
        .unwrap()
        .to_string();
    let browser = Browser::start(1000, 800).await;
    let page = &browser.client;

    page.goto(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap();
    page.find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys("ej_not-a-token")
        .await
        .unwrap();
    browser.click("button[type=submit]").await;
    browser
        .until_text("#login-problem", "Unknown or revoked token", LONG)
        .await;

    page.goto(&link).await.unwrap();
    browser.until_text("#link", "owner (admin)", LONG).await;
    // The same link in a browser with no cookie: used up.
    page.delete_all_cookies().await.unwrap();
    page.goto(&link).await.unwrap();
    browser
        .until_text("#login-problem", "used already", LONG)
        .await;
}
