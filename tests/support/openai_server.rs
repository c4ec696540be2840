//! A real OpenAI-compatible server on loopback: llama-cpp-python's, serving the embedded
//! SmolLM2 model. scripts/test.sh installs it (scripts/test-server.sh) and names its python in
//! EL_JEFE_TEST_SERVER_PYTHON.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::model;

pub const MODEL_ALIAS: &str = "smollm2";

pub struct OpenAiServer {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
    /// Base URL with the /v1 prefix, as OPENAI_BASE_URL would be.
    pub url: String,
}

fn server_python() -> PathBuf {
    if let Some(p) = std::env::var_os("EL_JEFE_TEST_SERVER_PYTHON") {
        return PathBuf::from(p);
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".local/share"));
    data.join("el-jefe/test-server-venv/bin/python")
}

impl OpenAiServer {
    pub fn start() -> OpenAiServer {
        let python = server_python();
        assert!(
            python.exists(),
            "the test server is not installed ({} is missing): run scripts/test.sh, which \
             installs llama-cpp-python's server with scripts/test-server.sh",
            python.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(&python)
            .args(["-m", "llama_cpp.server", "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg("--model")
            .arg(model::model_path())
            .args([
                "--model_alias",
                MODEL_ALIAS,
                "--n_ctx",
                "4096",
                "--n_threads",
                "2",
            ])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("the test server starts");
        let mut server = OpenAiServer {
            child,
            log,
            _dir: dir,
            url: format!("http://127.0.0.1:{port}/v1"),
        };
        server.wait_ready(port);
        server
    }

    fn wait_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the test server exited ({status}):\n{}", self.log_tail());
            }
            if models_answer(port) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the test server did not come up:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

/// A GET /v1/models that gets a 200 answer.
fn models_answer(port: u16) -> bool {
    use std::io::Write;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

impl Drop for OpenAiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
