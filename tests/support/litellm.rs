//! A real LiteLLM proxy on loopback, speaking Anthropic's Messages API in front of the real
//! OpenAI-compatible server (llama-cpp-python): the translation layer people put between agent
//! tools and local models. scripts/test.sh installs it (scripts/test-litellm.sh) and names its
//! python in EL_JEFE_TEST_LITELLM_PYTHON.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::openai_server::{MODEL_ALIAS, OpenAiServer};

/// The model name clients ask the proxy for.
pub const PROXY_MODEL: &str = "smollm2-local";

pub struct LiteLlm {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
    /// Base URL as ANTHROPIC_BASE_URL would be (no /v1).
    pub url: String,
}

fn proxy_python() -> PathBuf {
    if let Some(p) = std::env::var_os("EL_JEFE_TEST_LITELLM_PYTHON") {
        return PathBuf::from(p);
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".local/share"));
    data.join("el-jefe/test-litellm-venv/bin/python")
}

impl LiteLlm {
    /// A proxy forwarding `PROXY_MODEL` to `backend`.
    pub fn start(backend: &OpenAiServer) -> LiteLlm {
        let python = proxy_python();
        assert!(
            python.exists(),
            "the LiteLLM proxy is not installed ({} is missing): run scripts/test.sh, which \
             installs it with scripts/test-litellm.sh",
            python.display()
        );
        let litellm = python.with_file_name("litellm");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("litellm.yaml");
        std::fs::write(
            &config,
            format!(
                "model_list:\n  - model_name: {PROXY_MODEL}\n    litellm_params:\n      \
                 model: openai/{MODEL_ALIAS}\n      api_base: {}\n      api_key: sk-none\n\
                 litellm_settings:\n  drop_params: true\n  telemetry: false\n",
                backend.url
            ),
        )
        .unwrap();
        let log = dir.path().join("litellm.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(litellm)
            .arg("--config")
            .arg(&config)
            .args(["--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            // Offline: the price table ships with the package, nothing is fetched.
            .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("the LiteLLM proxy starts");
        let mut proxy = LiteLlm {
            child,
            log,
            _dir: dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        proxy.wait_ready(port);
        proxy
    }

    fn wait_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the LiteLLM proxy exited ({status}):\n{}", self.log_tail());
            }
            if alive(port) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the LiteLLM proxy did not come up:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// GET /health/liveliness answers 200 once the proxy serves requests.
fn alive(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "GET /health/liveliness HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

impl Drop for LiteLlm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
