//! The web dashboard under load: a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which scripts/test-browser.sh installs) signed in to `el-jefe serve` and
//! showing one session of 50 agents that each stream 100 tokens/s. The page records how long
//! each frame's work takes (its script, then style and layout; painting is the browser's own)
//! in `window.elJefe.frameTimes`; this reads them when the session ends.
//!
//!     cargo bench --bench web_frames
//!
//! With no chromedriver found (`EL_JEFE_TEST_CHROMEDRIVER` or on the PATH) it says so and
//! measures nothing.

// A benchmark stops at the first thing that goes wrong, saying what.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/support/scripted.rs"]
#[allow(dead_code)]
mod scripted;

#[path = "support/engine_settings.rs"]
mod engine_settings;

#[path = "support/server_child.rs"]
#[allow(dead_code)]
mod server_child;

#[path = "../tests/support/server_process.rs"]
#[allow(dead_code)]
mod server_process;

#[path = "../tests/support/browser.rs"]
#[allow(dead_code)]
mod browser;

use std::time::{Duration, Instant};

use el_jefe::protocol::ServerMessage;
use el_jefe::session::event::Event;
use server_child::{ServerChild, child, connect, next, start_session};

const AGENTS: usize = 50;
/// A token every 10 ms: 100 tokens/s per agent.
const TOKEN_EVERY_MS: u64 = 10;

/// Whether chromedriver can be found, the way tests/support/browser.rs looks for it.
fn chromedriver_found() -> bool {
    if let Some(path) = std::env::var_os("EL_JEFE_TEST_CHROMEDRIVER") {
        return std::path::Path::new(&path).exists();
    }
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join("chromedriver").exists())
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

/// Frame work in ms while 50 agents stream `tokens` tokens each, and the seconds it took.
async fn frames_while_streaming(width: u32, height: u32, tokens: usize) -> (Vec<f64>, f64) {
    let server = ServerChild::start(TOKEN_EVERY_MS, tokens, false);
    let browser = browser::Browser::start(width, height).await;
    let page = &browser.client;
    page.goto(&format!(
        "http://127.0.0.1:{}/?login={}",
        server.port, server.login_code
    ))
    .await
    .unwrap();
    browser
        .until_text("#link", "bench (operator)", Duration::from_secs(30))
        .await;

    let mut watcher = connect(server.port, &server.token).await;
    start_session(&mut watcher, AGENTS).await;
    // The page shows a session started elsewhere as it starts; measure once every agent's
    // pane is there, so the numbers are of streaming, not of building the page.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let panes = page
            .execute("return document.querySelectorAll('.stream').length", vec![])
            .await
            .unwrap();
        if panes.as_u64() == Some(AGENTS as u64) {
            break;
        }
        assert!(Instant::now() < deadline, "the page shows {panes} panes");
        // Polling the page, as WebDriver waits do.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The agents' panes are below the steps table: watch them, as a person following the text
    // would (panes off screen cost the page little).
    page.execute(
        "document.getElementById('streams').scrollIntoView(); \
         window.elJefe.frameTimes = []",
        vec![],
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut scrolled_up = false;
    loop {
        // A reader scrolls the first pane back once it has more than it shows.
        if !scrolled_up {
            scrolled_up = page
                .execute(SCROLL_UP_WHEN_FULL, vec![])
                .await
                .unwrap()
                .as_bool()
                == Some(true);
        }
        if let ServerMessage::Events { events } = next(&mut watcher).await
            && events
                .iter()
                .any(|e| matches!(e.event, Event::SessionCompleted))
        {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let times = page
        .execute("return window.elJefe.frameTimes", vec![])
        .await
        .unwrap();
    assert!(
        scrolled_up,
        "the first pane never had more text than it shows"
    );
    panes_follow_their_text(page).await;
    let shown = browser
        .screenshot(&format!("bench-50-agents-{width}"))
        .await;
    println!("    (the page at the end: {})", shown.display());
    let times: Vec<f64> = serde_json::from_value(times).unwrap();
    (times, seconds)
}

const SCROLL_UP_WHEN_FULL: &str = "const pre = document.querySelector('.stream pre'); \
    if (!pre || pre.scrollHeight < pre.clientHeight + 100) return false; \
    pre.scrollTop = 0; return true";

/// Whether pane `arguments[0]` holds text and is scrolled to its end.
const AT_END: &str = "const pre = document.querySelectorAll('.stream pre')[arguments[0]]; \
    return pre.textContent.length > 0 && pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 24";

/// The numbers mean nothing if the page skipped work it owes: the second pane (on screen)
/// shows the end of its agent's text; the first, which the reader scrolled back, stays where
/// they left it; the last (off screen while it streamed, so given no text) shows the end once
/// brought into view.
async fn panes_follow_their_text(page: &fantoccini::Client) {
    let second = page.execute(AT_END, vec![1.into()]).await.unwrap();
    assert_eq!(
        second.as_bool(),
        Some(true),
        "the second pane is not at its text's end"
    );
    let first = page
        .execute(
            "return document.querySelector('.stream pre').scrollTop",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        first.as_f64(),
        Some(0.0),
        "the pane scrolled back did not stay there"
    );
    page.execute(
        "document.querySelectorAll('.stream')[arguments[0]].scrollIntoView()",
        vec![(AGENTS - 1).into()],
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while page
        .execute(AT_END, vec![(AGENTS - 1).into()])
        .await
        .unwrap()
        .as_bool()
        != Some(true)
    {
        assert!(
            Instant::now() < deadline,
            "the last pane, once in view, is not at its text's end"
        );
        // Polling the page, as WebDriver waits do.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        return child(
            args[i + 1].parse().unwrap(),
            args[i + 2].parse().unwrap(),
            args[i + 3].parse().unwrap(),
        );
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not: one quick pass then.
    let full = args.iter().any(|a| a == "--bench");
    println!("the web dashboard in Chromium, {AGENTS} agents x 100 tokens/s:");
    if !chromedriver_found() {
        println!("  skipped: no chromedriver (scripts/test-browser.sh installs Chromium and it)");
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // 100 tokens/s for 20 s per agent, or 2 s in the quick pass.
    let tokens = if full { 2000 } else { 200 };
    for (width, height, screen) in [(1440, 900, "laptop"), (390, 844, "phone")] {
        let (mut times, seconds) = runtime.block_on(frames_while_streaming(width, height, tokens));
        assert!(!times.is_empty(), "the page drew no frame");
        times.sort_by(f64::total_cmp);
        println!(
            "  {screen} {width}x{height}: {} frames in {seconds:.1} s ({:.1}/s); frame work \
             p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            times.len(),
            times.len() as f64 / seconds,
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&times, 1.0),
        );
    }
}
