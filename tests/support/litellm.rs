//! A real LiteLLM proxy on loopback, speaking Anthropic's Messages API in front of the real
//! OpenAI-compatible server (llama-cpp-python): the translation layer people put between agent
//! tools and local models. scripts/test.sh installs it (scripts/test-litellm.sh) and names its
//! python in EL_JEFE_TEST_LITELLM_PYTHON.

use std::process::Command;
use std::time::Duration;

use super::openai_server::{MODEL_ALIAS, OpenAiServer};
use super::server_process::{ServerProcess, free_port, venv_python};

/// The model name clients ask the proxy for.
pub const PROXY_MODEL: &str = "smollm2-local";

pub struct LiteLlm {
    _process: ServerProcess,
    /// Base URL as ANTHROPIC_BASE_URL would be (no /v1).
    pub url: String,
}

impl LiteLlm {
    /// A proxy forwarding `PROXY_MODEL` to `backend`.
    pub fn start(backend: &OpenAiServer) -> LiteLlm {
        let python = venv_python("EL_JEFE_TEST_LITELLM_PYTHON", "test-litellm-venv");
        assert!(
            python.exists(),
            "the LiteLLM proxy is not installed ({} is missing): run scripts/test.sh, which \
             installs it with scripts/test-litellm.sh",
            python.display()
        );
        let port = free_port();
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
        let mut command = Command::new(python.with_file_name("litellm"));
        command
            .arg("--config")
            .arg(&config)
            .args(["--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            // Offline: the price table ships with the package, nothing is fetched.
            .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            .env("NO_PROXY", "127.0.0.1,localhost");
        let mut process = ServerProcess::spawn("the LiteLLM proxy", command, dir);
        // GET /health/liveliness answers 200 once the proxy serves requests.
        process.wait_for_ok(port, "/health/liveliness", Duration::from_secs(120));
        LiteLlm {
            _process: process,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}
