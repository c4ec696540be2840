//! A real Chromium driven through chromedriver (scripts/test-browser.sh installs both), and
//! screenshots of what it showed, kept as test artefacts.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use super::server_process::{ServerProcess, free_port};

/// Where screenshots go: target/tmp/web-screenshots.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// chromedriver, from scripts/test.sh or the PATH.
fn chromedriver() -> PathBuf {
    std::env::var_os("EL_JEFE_TEST_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("chromedriver"))
}

/// A headless Chromium, its driver stopped with it.
pub struct Browser {
    pub client: Client,
    _driver: ServerProcess,
}

impl Browser {
    pub async fn start(width: u32, height: u32) -> Browser {
        let port = free_port();
        let mut command = Command::new(chromedriver());
        command.arg(format!("--port={port}")).stdin(Stdio::null());
        let mut driver =
            ServerProcess::spawn("chromedriver", command, tempfile::tempdir().unwrap());
        driver.wait_for_ok(port, "/status", Duration::from_secs(30));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                            "--disable-dev-shm-usage", format!("--window-size={width},{height}")]}),
        );
        // chromedriver listens on loopback: plain HTTP, no TLS stack needed.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect(
                "chromedriver takes a session (is chromium installed? scripts/test-browser.sh)",
            );
        Browser {
            client,
            _driver: driver,
        }
    }

    /// Waits until an element matching `css` holds `text`; fails with what the page shows.
    pub async fn until_text(&self, css: &str, text: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(found) = self.client.find_all(Locator::Css(css)).await {
                for e in found {
                    if e.text().await.is_ok_and(|t| t.contains(text)) {
                        return;
                    }
                }
            }
            if Instant::now() > deadline {
                let body = self.text("body").await;
                self.screenshot("failed").await;
                panic!("no `{css}` with `{text}` within {limit:?}; the page shows:\n{body}");
            }
            // Polling the page for a condition, as WebDriver waits do.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}`: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click `{css}`: {e}"));
    }

    /// Clicks the button of `scope` whose text is `label`.
    pub async fn click_button(&self, scope: &str, label: &str) {
        let xpath = format!("{scope}//button[normalize-space(text())='{label}']");
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button `{label}` in {scope}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click `{label}`: {e}"));
    }

    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}
