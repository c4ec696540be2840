//! A real server the tests start from its virtual environment (scripts/test.sh installs each):
//! the process, its log, waiting until it answers, and stopping it with the test.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The python of a test venv: `env_var` when scripts/test.sh set it, else the venv's place under
/// the user data directory.
pub fn venv_python(env_var: &str, venv: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var) {
        return PathBuf::from(p);
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".local/share"));
    data.join("el-jefe").join(venv).join("bin/python")
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server, killed when dropped; its output goes to a log quoted when it fails.
pub struct ServerProcess {
    child: Child,
    log: PathBuf,
    /// Holds the log and any files the server was started with.
    pub dir: tempfile::TempDir,
    name: &'static str,
}

impl ServerProcess {
    /// Starts `command` with its output in `dir`'s log.
    pub fn spawn(name: &'static str, mut command: Command, dir: tempfile::TempDir) -> Self {
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log).unwrap();
        // Its own process group, so that what it starts (chromedriver's Chromium, a venv's
        // workers) goes with it, even when a failing test unwinds past it.
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        ServerProcess {
            child,
            log,
            dir,
            name,
        }
    }

    /// Polls `GET path` on `port` until it answers 200; fails with the log if the server exits or
    /// `limit` passes.
    pub fn wait_for_ok(&mut self, port: u16, path: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("{} exited ({status}):\n{}", self.name, self.log_tail());
            }
            if answers_ok(port, path) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not come up:\n{}",
                self.name,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The last lines the server wrote.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(group) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `GET path` that gets a 200 answer.
fn answers_ok(port: u16, path: &str) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}
