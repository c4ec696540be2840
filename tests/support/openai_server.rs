//! A real OpenAI-compatible server on loopback: llama-cpp-python's, serving the embedded
//! SmolLM2 model. scripts/test.sh installs it (scripts/test-server.sh) and names its python in
//! EL_JEFE_TEST_SERVER_PYTHON.

use std::process::Command;
use std::time::Duration;

use super::model;
use super::server_process::{ServerProcess, free_port, venv_python};

pub const MODEL_ALIAS: &str = "smollm2";

pub struct OpenAiServer {
    _process: ServerProcess,
    /// Base URL with the /v1 prefix, as OPENAI_BASE_URL would be.
    pub url: String,
}

impl OpenAiServer {
    pub fn start() -> OpenAiServer {
        let python = venv_python("EL_JEFE_TEST_SERVER_PYTHON", "test-server-venv");
        assert!(
            python.exists(),
            "the test server is not installed ({} is missing): run scripts/test.sh, which \
             installs llama-cpp-python's server with scripts/test-server.sh",
            python.display()
        );
        let port = free_port();
        let mut command = Command::new(&python);
        command
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
            ]);
        let mut process =
            ServerProcess::spawn("the test server", command, tempfile::tempdir().unwrap());
        process.wait_for_ok(port, "/v1/models", Duration::from_secs(90));
        OpenAiServer {
            _process: process,
            url: format!("http://127.0.0.1:{port}/v1"),
        }
    }
}
